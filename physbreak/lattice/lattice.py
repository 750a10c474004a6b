"""The :class:`Lattice` value: sites, positions, bonds by shell and colourings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numba
import numpy as np

from physbreak.errors import InvalidValue


@dataclass(frozen=True, eq=False)
class Lattice:
    """A finite set of sites with bonds grouped into shells.

    Attributes:
        name: lattice kind (``"square"``, ``"graph"`` ...).
        size: linear sizes in unit cells, ``(Lx,)``, ``(Lx, Ly)`` or ``(Lx, Ly, Lz)``.
        positions: ``(n_sites, dim)`` float, in units of the lattice constant.
        shells: ``shells[k]`` is the ``(n_bonds_k, 2)`` int array of bonds of
            shell ``k + 1`` (nearest neighbours first); each bond listed once.
        periodic: whether the boundaries wrap around.
        vectors: ``(dim, dim)`` primitive vectors as rows (None for a graph).
        n_basis: sites per unit cell.
    """

    name: str
    size: tuple[int, ...]
    positions: np.ndarray
    shells: tuple[np.ndarray, ...]
    periodic: bool = True
    vectors: np.ndarray | None = None
    n_basis: int = 1
    _colour_cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_sites(self) -> int:
        return len(self.positions)

    def bonds(self, shell: int = 1) -> np.ndarray:
        """Bonds of shell ``shell`` (1 = nearest neighbours): ``(n_bonds, 2)`` int."""
        if not 1 <= shell <= len(self.shells):
            raise InvalidValue("shell", shell,
                              f"this {self.name} lattice has shells 1..{len(self.shells)}")
        return self.shells[shell - 1]

    def coloring(self, n_shells: int = 1) -> list[np.ndarray]:
        """Split the sites into independent sets of the graph formed by shells
        ``1..n_shells``: no bond joins two sites of one set, so all sites of a
        set can be updated in parallel exactly.

        Returns a list of int arrays of site indices (two on bipartite graphs).
        """
        if n_shells not in self._colour_cache:
            edges = np.concatenate([self.bonds(s) for s in range(1, n_shells + 1)])
            self._colour_cache[n_shells] = _colour_graph(self.n_sites, edges)
        return self._colour_cache[n_shells]

    def translation_group(self):
        """Lattice translations as site permutations (order ``prod(size)``)."""
        from physbreak.lattice.groups import translation_group

        return translation_group(self)

    def point_group(self):
        """Symmetries fixing site 0, as site permutations with their matrices."""
        from physbreak.lattice.groups import point_group

        return point_group(self)

    def space_group(self):
        """All symmetries of the periodic lattice (translations x point group,
        plus the operations that swap sublattices), as site permutations."""
        from physbreak.lattice.groups import space_group

        return space_group(self)

    def displacements(self, i, j) -> np.ndarray:
        """``r_j - r_i`` ``(M, dim)`` in lattice constants for site arrays ``i``, ``j``
        ``(M,)``; on a periodic lattice the minimum image in the torus."""
        d = self.positions[np.asarray(j)] - self.positions[np.asarray(i)]
        if self.periodic and self.vectors is not None:
            cell = self.vectors * np.asarray(self.size, dtype=float)[:, None]  # the torus' edges as rows
            f = d @ np.linalg.inv(cell)
            d = (f - np.round(f)) @ cell
        return d

    @property
    def volume_per_site(self) -> float | None:
        """Area (2D) or volume (3D) per site in lattice constants; None for a graph."""
        if self.vectors is None:
            return None
        return float(abs(np.linalg.det(self.vectors))) / self.n_basis

    @cached_property
    def plaquettes(self) -> np.ndarray | None:
        """Elementary plaquettes ``(P, k)``, sites counterclockwise: the squares of a
        square lattice, the up and down triangles of a triangular one (the loops a
        vortex winds around); None for other lattices."""
        if self.name not in ("square", "triangular"):
            return None
        Lx, Ly = self.size
        x, y = np.indices((Lx, Ly)).reshape(2, -1)
        if not self.periodic:
            keep = (x < Lx - 1) & (y < Ly - 1)
            x, y = x[keep], y[keep]

        def site(dx, dy):
            return ((x + dx) % Lx) * Ly + (y + dy) % Ly

        if self.name == "square":
            return np.stack([site(0, 0), site(1, 0), site(1, 1), site(0, 1)], 1)
        up = np.stack([site(0, 0), site(1, 0), site(0, 1)], 1)
        down = np.stack([site(1, 0), site(1, 1), site(0, 1)], 1)
        return np.concatenate([up, down])

    @cached_property
    def sublattice_sign(self) -> np.ndarray | None:
        """``(n_sites,)`` of +-1 for the two sublattices of a bipartite
        nearest-neighbour graph (for the staggered magnetisation), else None.
        Site 0 has sign +1."""
        if self.name in ("chain", "square", "cubic") and (not self.periodic or all(n % 2 == 0 for n in self.size)):
            # the unique 2-colouring, from the index parity (no graph search on 10^6 sites)
            parity = np.indices(self.size).sum(0).ravel() & 1
            return 1.0 - 2.0 * parity
        colours = self.coloring(1)
        if len(colours) != 2:
            return None
        sign = np.ones(self.n_sites)
        sign[colours[1]] = -1.0
        return sign


def _colour_graph(n: int, edges: np.ndarray) -> list[np.ndarray]:
    """Two colours by depth-first search when the graph is bipartite, else a
    greedy colouring in largest-degree-first order (DSatur-like bound
    ``max_degree + 1``); compiled, so a lattice of 10^6 sites takes well under a second."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    src = edges.ravel()  # i0, j0, i1, j1, ...: each site's neighbours in edge order
    dst = edges[:, ::-1].ravel()
    indptr, order = stable_order(n, src)
    colour = _colours(n, indptr, dst[order])
    return [np.flatnonzero(colour == c) for c in range(colour.max() + 1)]


@numba.njit(cache=True)
def stable_order(n, src):
    """Counting sort of ``src`` (values ``0..n-1``): ``(indptr (n + 1,), order)``
    with ``order`` the stable argsort of ``src`` and ``src[order]`` equal to
    ``v`` on ``indptr[v]:indptr[v + 1]`` (a CSR index in one pass)."""
    indptr = np.zeros(n + 1, np.int64)
    for v in src:
        indptr[v + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    fill = indptr[:-1].copy()
    order = np.empty(len(src), np.int64)
    for e in range(len(src)):
        order[fill[src[e]]] = e
        fill[src[e]] += 1
    return indptr, order


@numba.njit(cache=True)
def padded_table(n, indptr, dst, weight):
    """CSR rows -> a padded table ``(n, z_max)`` of ``dst`` and one of ``weight``
    (float64); padding points at the row's own index with weight 0."""
    z = 1
    for v in range(n):
        z = max(z, indptr[v + 1] - indptr[v])
    table = np.empty((n, z), np.int64)
    weights = np.zeros((n, z))
    for v in range(n):
        for k in range(z):
            p = indptr[v] + k
            if p < indptr[v + 1]:
                table[v, k] = dst[p]
                weights[v, k] = weight[p]
            else:
                table[v, k] = v
    return table, weights


@numba.njit(cache=True)
def _colours(n, indptr, neighbours):
    colour = -np.ones(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    bipartite = True
    for root in range(n):
        if colour[root] >= 0:
            continue
        colour[root] = 0
        stack[0] = root
        top = 1
        while top > 0 and bipartite:
            top -= 1
            i = stack[top]
            for p in range(indptr[i], indptr[i + 1]):
                j = neighbours[p]
                if colour[j] < 0:
                    colour[j] = 1 - colour[i]
                    stack[top] = j
                    top += 1
                elif colour[j] == colour[i]:
                    bipartite = False
                    break
        if not bipartite:
            break
    if not bipartite:
        colour[:] = -1
        degree = indptr[1:] - indptr[:-1]
        used = np.zeros(degree.max() + 2, dtype=np.int64)  # used[c] == i + 1: colour c taken next to site i
        for i in np.argsort(-degree, kind="mergesort"):
            for p in range(indptr[i], indptr[i + 1]):
                if colour[neighbours[p]] >= 0:
                    used[colour[neighbours[p]]] = i + 1
            c = 0
            while used[c] == i + 1:
                c += 1
            colour[i] = c
    return colour


def from_edges(n_sites: int, edges, positions=None, shells=None) -> Lattice:
    """A lattice from an arbitrary graph.

    Args:
        n_sites: number of vertices.
        edges: ``(n_edges, 2)`` int, each undirected edge once.
        positions: optional ``(n_sites, dim)`` coordinates (default: on a circle).
        shells: optional ``(n_edges,)`` int shell label (1, 2, ...) per edge;
            all edges are nearest neighbours by default.
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if n_sites < 1:
        raise InvalidValue("n_sites", n_sites, "a positive integer")
    if edges.size and (edges.min() < 0 or edges.max() >= n_sites):
        raise InvalidValue("edges", "index out of range", f"site indices in 0..{n_sites - 1}")
    if np.any(edges[:, 0] == edges[:, 1]):
        raise InvalidValue("edges", "a self-loop", "edges between two distinct sites")
    if positions is None:
        angle = 2 * np.pi * np.arange(n_sites) / n_sites
        positions = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    labels = np.ones(len(edges), dtype=np.int64) if shells is None else np.asarray(shells)
    groups = tuple(edges[labels == s] for s in range(1, int(labels.max(initial=1)) + 1))
    return Lattice("graph", (n_sites,), np.asarray(positions, dtype=float), groups, periodic=False)


def neighbour_table(n: int, bonds: np.ndarray, J: np.ndarray):
    """Padded ``(n, z)`` neighbours and couplings (padding: self, coupling 0)."""
    bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    src = np.concatenate([bonds[:, 0], bonds[:, 1]])
    dst = np.concatenate([bonds[:, 1], bonds[:, 0]])
    cpl = np.concatenate([J, J]).astype(np.float64)
    deg = np.bincount(src, minlength=n)
    z = max(int(deg.max(initial=0)), 1)
    nbr = np.tile(np.arange(n)[:, None], (1, z))
    jn = np.zeros((n, z))
    order = np.argsort(src, kind="stable")
    slot = np.arange(len(src)) - np.repeat(np.cumsum(deg) - deg, deg)
    nbr[src[order], slot] = dst[order]
    jn[src[order], slot] = cpl[order]
    return nbr, jn
