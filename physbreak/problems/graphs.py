"""Graph problems: a simple undirected graph, its automorphisms and its canonical form.

One value serves the three graph domains: decoding (the graph is its own
target), classification (``target`` is a class index) and colouring (``q``
colours; the proper colourings are the zero-energy ground states of the
q-state Potts antiferromagnet on the graph).

The symmetry of a graph is its automorphism group (bliss, through
:mod:`physbreak.symmetry.graphs`); the canonical labelling gives every node a
canonical rank, identical for isomorphic graphs up to an automorphism.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from physbreak.symmetry.graphs import automorphism_generators, canonical_permutation, graph_distances
from physbreak.symmetry.group import FiniteGroup

CODE_CHANNELS = 12  # rank_codes: 6 frequencies x (sin, cos)


def rank_codes(ranks) -> np.ndarray:
    """``(n, 12)`` positional codes of integer ranks: ``sin, cos(pi r / 2^k)``,
    ``k = 0..5``; distinct for ranks 0..63 and defined for any rank."""
    r = np.asarray(ranks, dtype=np.float64)[:, None]
    angle = np.pi * r / 2.0 ** np.arange(CODE_CHANNELS // 2)[None]
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


def canonical_edges(n: int, edges) -> np.ndarray:
    """``(m, 2)`` the edges of the canonical form (relabelled by bliss, sorted): equal
    arrays <=> isomorphic graphs."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if n == 0 or len(edges) == 0:
        return np.zeros((0, 2), np.int64)
    label = canonical_permutation(n, edges)
    out = np.sort(label[edges], axis=1)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def isomorphic(n_a: int, edges_a, n_b: int, edges_b) -> bool:
    """Same canonical form (bliss)."""
    return n_a == n_b and np.array_equal(canonical_edges(n_a, edges_a), canonical_edges(n_b, edges_b))


def edges_of(adjacency: np.ndarray) -> np.ndarray:
    """``(m, 2)`` edges ``i < j`` of a symmetric 0/1 (or bool) adjacency matrix."""
    i, j = np.nonzero(np.triu(np.asarray(adjacency) > 0, 1))
    return np.stack([i, j], axis=1).astype(np.int64)


@dataclass(eq=False)
class GraphProblem:
    """One graph.

    Attributes:
        family, label: dataset name and a description (``"atlas G123"``, ``"CSL R=5"``).
        n_nodes: nodes; edges: ``(m, 2)`` int64, ``i < j``, no loops or repeats.
        target: class index (classification) or -1.
        q: colours (colouring) or 0.
    """

    family: str
    label: str
    n_nodes: int
    edges: np.ndarray
    target: int = -1
    q: int = 0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    has_target = False  # breakers use the canonical frame

    def __post_init__(self):
        e = np.sort(np.asarray(self.edges, dtype=np.int64).reshape(-1, 2), axis=1)
        e = np.unique(e[e[:, 0] != e[:, 1]], axis=0) if len(e) else e
        self.edges = e

    def _cached(self, name, make):
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def key(self) -> bytes:
        return np.int64(self.n_nodes).tobytes() + self.edges.tobytes()

    def adjacency(self) -> np.ndarray:
        """``(n, n)`` float 0/1, symmetric, zero diagonal."""
        a = np.zeros((self.n_nodes, self.n_nodes))
        if len(self.edges):
            a[self.edges[:, 0], self.edges[:, 1]] = a[self.edges[:, 1], self.edges[:, 0]] = 1.0
        return a

    def canonical_labelling(self) -> np.ndarray:
        """``(n,)`` canonical rank of every node (bliss): relabelled by it, isomorphic
        graphs coincide."""
        return self._cached("label", lambda: canonical_permutation(self.n_nodes, self.edges)
                            if self.n_nodes else np.zeros(0, np.int64))

    def canonical_edges(self) -> np.ndarray:
        """The canonical form's edges (:func:`canonical_edges`)."""
        return self._cached("form", lambda: canonical_edges(self.n_nodes, self.edges))

    def canonical_adjacency(self) -> np.ndarray:
        """``(n, n)``: the adjacency in canonical order (node ``label[i]`` is node ``i``)."""
        a = np.zeros((self.n_nodes, self.n_nodes))
        e = self.canonical_edges()
        a[e[:, 0], e[:, 1]] = a[e[:, 1], e[:, 0]] = 1.0
        return a

    def automorphism_generators(self) -> np.ndarray:
        """``(k, n)`` generators of Aut (bliss; ``k`` may be 0)."""
        return self._cached("gens", lambda: automorphism_generators(self.n_nodes, self.edges)
                            if self.n_nodes else np.zeros((0, 0), np.int64))

    def automorphisms(self, max_order: int = 100_000) -> np.ndarray:
        """``(g, n)`` every automorphism, identity first (:class:`FiniteGroup`
        raises beyond ``max_order``)."""
        def make():
            gens = self.automorphism_generators()
            if not len(gens):
                return np.arange(self.n_nodes)[None]
            return FiniteGroup.generate({"perm": list(gens)}, "Aut", max_order=max_order).realisations["perm"]
        return self._cached("aut", make)

    def automorphism_order(self) -> int:
        """``|Aut|`` (bliss, no enumeration)."""
        from physbreak.symmetry.graphs import count_automorphisms

        return self._cached("order", lambda: count_automorphisms(self.n_nodes, self.edges) if self.n_nodes else 1)

    def is_vertex_transitive(self) -> bool:
        """One orbit of Aut on the nodes."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n, gens = self.n_nodes, self.automorphism_generators()
        if n <= 1:
            return True
        src = np.concatenate([np.arange(n)] * max(1, len(gens)))
        dst = np.concatenate(list(gens)) if len(gens) else np.arange(n)
        return connected_components(coo_matrix((np.ones(len(src)), (src, dst)), (n, n)), directed=False)[0] == 1

    def fixed_by(self, perm: np.ndarray) -> bool:
        """``perm`` (node i -> perm[i]) is an automorphism."""
        if not len(self.edges):
            return True
        moved = np.sort(perm[self.edges], axis=1)
        return np.array_equal(moved[np.lexsort((moved[:, 1], moved[:, 0]))], self.edges)

    # --- what breakers read (see physbreak.relaxed.breakers) ------------------------------------
    def canonical_features(self) -> np.ndarray:
        """``(n, 12)`` positional codes of the canonical ranks (:func:`rank_codes`)."""
        return self._cached("codes", lambda: rank_codes(self.canonical_labelling()))

    def feature_orbit(self, b: np.ndarray) -> np.ndarray:
        """``(g, n, c)``: node features ``b`` moved by every automorphism (identity first)."""
        perm = self.automorphisms()
        out = np.empty((len(perm),) + b.shape)
        out[np.arange(len(perm))[:, None], perm] = b[None]
        return out

    def graph_distances(self) -> np.ndarray:
        """``(n, n)`` shortest-path lengths (unreachable: n)."""
        return self._cached("distances", lambda: graph_distances(self.n_nodes, self.edges))

    def relabelled(self, perm: np.ndarray) -> "GraphProblem":
        """The same graph with node ``i`` renamed ``perm[i]``."""
        return GraphProblem(self.family, self.label, self.n_nodes, np.asarray(perm)[self.edges], self.target, self.q)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    @property
    def density(self) -> float:
        return self.n_edges / max(1, math.comb(self.n_nodes, 2))


def from_networkx(graph, family: str = "graphs", label: str = "", target: int = -1, q: int = 0) -> GraphProblem:
    """A :class:`GraphProblem` from a networkx graph (nodes relabelled 0..n-1 in their order)."""
    index = {v: k for k, v in enumerate(graph.nodes())}
    edges = np.array([(index[a], index[b]) for a, b in graph.edges() if a != b], dtype=np.int64).reshape(-1, 2)
    return GraphProblem(family, label or f"n={len(index)}", len(index), edges, target, q)
