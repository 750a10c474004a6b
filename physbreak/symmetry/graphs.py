"""Automorphisms and canonical labelling of coloured graphs with igraph (bliss).

Edge weights are handled by subdividing every edge with a vertex whose colour
encodes the weight (bliss colours vertices only); vertex colours encode site
fields.  Values are compared after rounding to ``decimals``.
"""

from __future__ import annotations

import numpy as np

from physbreak.symmetry.group import FiniteGroup


def _colour_ids(values, decimals):
    """Integer colour per value; equal (rounded) values share a colour, and
    colours are ordered by value so the labelling does not depend on input order."""
    rounded = np.round(np.asarray(values, dtype=float), decimals) + 0.0
    _, ids = np.unique(rounded, return_inverse=True)
    return ids


def _subdivided(n_sites, edges, vertex_values, edge_values, decimals):
    import igraph

    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    vcol = _colour_ids(np.zeros(n_sites) if vertex_values is None else vertex_values, decimals)
    ecol = _colour_ids(np.ones(len(edges)) if edge_values is None else edge_values, decimals)
    mid = n_sites + np.arange(len(edges))
    g = igraph.Graph(n=n_sites + len(edges),
                     edges=np.concatenate([np.stack([edges[:, 0], mid], 1),
                                           np.stack([mid, edges[:, 1]], 1)]).tolist())
    colours = np.concatenate([vcol, vcol.max(initial=0) + 1 + ecol]).tolist()
    return g, colours


def automorphism_group(n_sites: int, edges, vertex_values=None, edge_values=None,
                       decimals: int = 8, max_order: int = 1_000_000) -> FiniteGroup:
    """The automorphisms of a graph that preserve vertex and edge values, as
    site permutations.

    Args:
        n_sites: vertices.
        edges: ``(n_edges, 2)`` int.
        vertex_values: ``(n_sites,)`` vertex colours/fields (None: all equal).
        edge_values: ``(n_edges,)`` edge weights/couplings (None: all equal).
    """
    gens = automorphism_generators(n_sites, edges, vertex_values, edge_values, decimals)
    if not len(gens):
        return FiniteGroup({"perm": np.arange(n_sites)[None]}, "Aut", generators=[])
    return FiniteGroup.generate({"perm": list(gens)}, "Aut", max_order=max_order)


def automorphism_generators(n_sites: int, edges, vertex_values=None, edge_values=None,
                            decimals: int = 8) -> np.ndarray:
    """Generators ``(k, n_sites)`` of the automorphism group (bliss), without
    enumerating the group (k may be 0)."""
    g, colours = _subdivided(n_sites, edges, vertex_values, edge_values, decimals)
    gens = [np.asarray(p)[:n_sites] for p in g.automorphism_group(sh="fl", color=colours)]
    return np.array(gens, dtype=np.int64).reshape(-1, n_sites)


def count_automorphisms(n_sites: int, edges, vertex_values=None, edge_values=None,
                        decimals: int = 8) -> int:
    """Order of the automorphism group (bliss; no enumeration)."""
    g, colours = _subdivided(n_sites, edges, vertex_values, edge_values, decimals)
    return int(g.count_automorphisms(sh="fl", color=colours))


def canonical_permutation(n_sites: int, edges, vertex_values=None, edge_values=None,
                          decimals: int = 8) -> np.ndarray:
    """``(n_sites,)`` canonical labelling: site ``i`` gets label ``perm[i]``.
    Isomorphic coloured graphs get identical relabelled graphs."""
    g, colours = _subdivided(n_sites, edges, vertex_values, edge_values, decimals)
    # igraph returns p with "canonical vertex k = input vertex p[k]"; vertices are
    # ordered by colour there, and site colours precede edge colours, so the
    # sites take the labels 0..n_sites-1
    return np.argsort(np.asarray(g.canonical_permutation(sh="fl", color=colours)))[:n_sites]


def graph_distances(n_sites: int, edges) -> np.ndarray:
    """``(n_sites, n_sites)`` shortest-path lengths in hops (unreachable: ``n_sites``)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    d = shortest_path(coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n_sites, n_sites)).tocsr(),
                      directed=False, unweighted=True)
    d[~np.isfinite(d)] = n_sites
    return d
