"""Built-in graph datasets.  Every graph is handed out under a random
relabelling (seeded), so no model can read anything from a generator's node order.

* ``atlas``: every graph of *An Atlas of Graphs* (Read & Wilson) that ships
  with networkx, 1 to 7 nodes (1252 graphs; the empty graph on 0 nodes is left out).
* ``trees``, ``regular``, ``grids``, ``molecules``: larger graphs, 8 to 20
  nodes: uniform random labelled trees, random d-regular graphs (d = 3, 4),
  connected fragments of the square grid, and molecule-like graphs (trees of
  maximum degree 4 with one or two 5- or 6-rings closed).
* ``csl``: circulant skip-link graphs (Murphy et al. 2019): the 41-cycle plus
  the chords ``i -> i + R`` for R in 2, 3, 4, 5, 6, 9, 11, 12, 13, 16; 10
  classes, 15 random relabellings each (150 graphs), all 4-regular, so
  1-WL message passing cannot tell them apart.
* ``atlas_bipartite``: atlas graphs with 3-7 nodes, labelled bipartite (1) or not (0).
* colouring sets (``q`` = the chromatic number, found exactly):
  :func:`colouring_train` (random graphs of several kinds) and
  :func:`colouring_test` (cycles, circulants, Petersen, hypercubes, random
  regular: held out, symmetric, mostly vertex-transitive).
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from physbreak.problems.graphs import GraphProblem, from_networkx

CSL_SKIPS = (2, 3, 4, 5, 6, 9, 11, 12, 13, 16)
FAMILIES = ("trees", "regular", "grids", "molecules")


def relabel(problem: GraphProblem, rng: np.random.Generator) -> GraphProblem:
    return problem.relabelled(rng.permutation(problem.n_nodes))


def atlas(seed: int = 0, min_nodes: int = 1, max_nodes: int = 7) -> list[GraphProblem]:
    """The networkx graph atlas, relabelled; ``label`` is ``"G<index>"`` in the atlas."""
    rng = np.random.default_rng(seed)
    out = []
    for k, g in enumerate(nx.graph_atlas_g()):
        if min_nodes <= g.number_of_nodes() <= max_nodes:
            out.append(relabel(from_networkx(g, "atlas", f"G{k}"), rng))
    return out


def _tree(n, rng):
    return nx.random_labeled_tree(n, seed=int(rng.integers(2**31)))


def _regular(n, rng):
    d = 3 if n % 2 == 0 and rng.random() < 0.5 else 4
    while True:
        g = nx.random_regular_graph(d, n, seed=int(rng.integers(2**31)))
        if nx.is_connected(g):
            return g


def _grid(n, rng):
    side = int(np.ceil(np.sqrt(n))) + 2
    grid = nx.grid_2d_graph(side, side)
    nodes = list(grid.nodes())
    chosen = {nodes[int(rng.integers(len(nodes)))]}
    while len(chosen) < n:  # grow a connected fragment one random frontier site at a time
        frontier = sorted({v for u in chosen for v in grid.neighbors(u)} - chosen)
        chosen.add(frontier[int(rng.integers(len(frontier)))])
    return grid.subgraph(chosen).copy()


def _molecule(n, rng):
    while True:
        g = nx.random_labeled_tree(n, seed=int(rng.integers(2**31)))
        if max(d for _, d in g.degree()) > 4:
            continue
        for _ in range(1 + int(rng.integers(2))):
            pairs = [(a, b) for a, lengths in nx.all_pairs_shortest_path_length(g) for b, d in lengths.items()
                     if a < b and d in (4, 5) and g.degree(a) < 4 and g.degree(b) < 4]
            if pairs:
                g.add_edge(*pairs[int(rng.integers(len(pairs)))])
        return g


BUILDERS = {"trees": _tree, "regular": _regular, "grids": _grid, "molecules": _molecule}


def family(name: str, sizes, count: int, seed: int = 0) -> list[GraphProblem]:
    """``count`` graphs of family ``name`` per size in ``sizes``, relabelled."""
    if name not in BUILDERS:
        raise ValueError(f"graph family {name!r} is not known: one of {', '.join(BUILDERS)}")
    rng = np.random.default_rng([seed, FAMILIES.index(name)])
    out = []
    for n in sizes:
        for k in range(count):
            out.append(relabel(from_networkx(BUILDERS[name](int(n), rng), name, f"{name} n={n} #{k}"), rng))
    return out


def csl(seed: int = 0, per_class: int = 15, n: int = 41) -> list[GraphProblem]:
    """The CSL benchmark: ``per_class`` random relabellings of C(n, R) per skip R;
    ``target`` is the index of R in :data:`CSL_SKIPS`."""
    rng = np.random.default_rng(seed)
    out = []
    for cls, skip in enumerate(CSL_SKIPS):
        i = np.arange(n)
        edges = np.concatenate([np.stack([i, (i + 1) % n], 1), np.stack([i, (i + skip) % n], 1)])
        base = GraphProblem("csl", f"CSL R={skip}", n, edges, target=cls)
        out += [relabel(base, rng) for _ in range(per_class)]
    return out


def atlas_bipartite(seed: int = 0) -> list[GraphProblem]:
    """Atlas graphs with 3-7 nodes; ``target`` 1 for bipartite graphs."""
    out = []
    for p, g in zip(atlas(seed, 3, 7), (g for g in nx.graph_atlas_g() if 3 <= g.number_of_nodes() <= 7)):
        p.target = int(nx.is_bipartite(g))
        p.family = "atlas_bipartite"
        out.append(p)
    return out


def _coloured(g, family_name, label, rng):
    from physbreak.groundstate.colourings import chromatic_number

    p = relabel(from_networkx(g, family_name, label), rng)
    p.q = chromatic_number(p.n_nodes, p.edges)
    return p


def colouring_train(count: int = 200, seed: int = 0, sizes=(6, 16)) -> list[GraphProblem]:
    """Random connected graphs for colouring: G(n, p), random trees with chords,
    grid fragments, random regular graphs; ``q`` their chromatic number."""
    rng = np.random.default_rng([seed, 101])
    out = []
    while len(out) < count:
        n = int(rng.integers(sizes[0], sizes[1] + 1))
        kind = ("gnp", "tree", "grid", "regular")[len(out) % 4]
        if kind == "gnp":
            g = nx.gnp_random_graph(n, float(rng.uniform(0.15, 0.4)), seed=int(rng.integers(2**31)))
            if not nx.is_connected(g):
                continue
        elif kind == "tree":
            g = _molecule(n, rng)
        elif kind == "grid":
            g = _grid(n, rng)
        else:
            g = _regular(n + n % 2, rng)
        out.append(_coloured(g, "colouring", f"{kind} n={g.number_of_nodes()}", rng))
    return out


def colouring_test(seed: int = 0) -> list[GraphProblem]:
    """Held-out symmetric graphs: cycles C5-C20, circulants C_n(1, k), the
    Petersen graph, hypercubes Q2-Q4, random 3-regular graphs on 8-20 nodes."""
    rng = np.random.default_rng([seed, 202])
    graphs = [(nx.cycle_graph(n), f"cycle C{n}") for n in range(5, 21)]
    graphs += [(nx.circulant_graph(n, [1, k]), f"circulant C{n}(1,{k})") for n in range(7, 19, 2) for k in (2, 3)]
    graphs += [(nx.petersen_graph(), "Petersen")]
    graphs += [(nx.hypercube_graph(d), f"hypercube Q{d}") for d in (2, 3, 4)]
    graphs += [(_regular_connected(3, n, rng), f"random 3-regular n={n} #{k}") for n in range(8, 21, 2)
               for k in range(2)]
    return [_coloured(g, "colouring_test", label, rng) for g, label in graphs]


def _regular_connected(d, n, rng):
    while True:
        g = nx.random_regular_graph(d, n, seed=int(rng.integers(2**31)))
        if nx.is_connected(g):
            return g
