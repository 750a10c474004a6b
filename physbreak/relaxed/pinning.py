"""Relaxed canonicalization by sequential pinning (multi-start decimation).

An equivariant, odd GNN whose only extra input is a pin per site (``+1`` or
``-1`` fixed, ``0`` free) cannot break the symmetry of an unpinned symmetric
problem, but pins can.  Decoding fixes one spin per forward pass:

1. start from one pinned site: one decoding per orbit of the stabilizer on
   (site, value) pairs;
2. run the network with the current pins, then pin the most decided free site
   (largest ``|y_i|``) next to a pinned one, to ``sign(y_i)``; ties (within
   ``tie``, e.g. sites the remaining symmetry maps onto each other) go to the
   smallest canonical label of the problem (bliss, see
   :func:`~physbreak.relaxed.breakers.canonical_frame`), and a zero output
   takes ``sigma_x``, the canonical frame's flip sign;
3. when every site is pinned, keep the lowest-energy decoding (ties: the
   earliest start in canonical order).

Growing the pinned region from its frontier keeps decisions where the network
has the most information; several starts make the result independent of one
early choice.  Every decision is a function of the problem up to its
stabilizer and moves with relabellings and flips, so the predictor is
relaxed-equivariant exactly like the canonical labelling (tested).  Training
shows the network random pins from a true ground state and scores it against
the ground states consistent with them.
"""

from __future__ import annotations

import numpy as np


def random_pins(states: np.ndarray, distance: np.ndarray, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """Training pins from one ground state: ``(pins (n,), consistent states (k, n))``.

    ``distance``: ``(n, n)`` graph distances.  A fifth of the draws pin
    nothing; the others pin either a ball around a random site (as decoding
    grows them) or ``1 + floor(u^2 n / 2)`` random sites (``u`` uniform).
    """
    n = states.shape[1]
    s = states[rng.integers(len(states))]
    if rng.random() < 0.2:
        where = np.zeros(0, np.int64)
    elif rng.random() < 0.5:
        where = np.flatnonzero(distance[rng.integers(n)] <= rng.integers(0, max(1, distance.max())))
    else:
        where = rng.choice(n, size=1 + int(rng.random() ** 2 * n / 2), replace=False)
    pins = np.zeros(n)
    pins[where] = s[where]
    consistent = states[np.all(states[:, where] == s[where], axis=1)]
    return pins, consistent


def first_pins(sign: float, label: np.ndarray, stab_perm: np.ndarray, stab_sign: np.ndarray
               ) -> list[tuple[int, float]]:
    """The starts of multi-start decoding: one ``(site, value)`` per orbit of
    the stabilizer (generators ``stab_perm (k, n)``, ``stab_sign (k,)``) on
    pinned sites (starts in one orbit lead to images of one decoding, up to
    tie-breaks), the canonically first member of each (smallest label, ``sigma_x`` before
    ``-sigma_x``), in that order."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(label)
    node = np.arange(2 * n)  # node 2 i + (value > 0)
    site, up = node // 2, node % 2
    src = [node] + [node for _ in stab_perm]
    dst = [node] + [2 * perm[site] + np.where(sgn > 0, up, 1 - up) for perm, sgn in zip(stab_perm, stab_sign)]
    graph = coo_matrix((np.ones(len(src) * 2 * n), (np.concatenate(src), np.concatenate(dst))), (2 * n, 2 * n))
    _, orbit = connected_components(graph, directed=False)
    value = np.where(up > 0, 1.0, -1.0)
    order = np.lexsort((value != sign, label[site]))
    first = np.zeros(2 * n, bool)
    first[order[np.unique(orbit[order], return_index=True)[1]]] = True
    return [(int(site[k]), float(value[k])) for k in order if first[k]]


def lowest_first(energies: np.ndarray, tol: float = 1e-9) -> int:
    """Index of the lowest energy; ties (within ``tol``) go to the earliest start."""
    return int(np.flatnonzero(energies <= energies.min() + tol)[0])


def next_sites(decided: np.ndarray, free: np.ndarray, near: np.ndarray, label: np.ndarray,
               tie: float = 1e-4) -> np.ndarray:
    """The next site to pin in each of ``b`` decodings: ``(b,)``.

    The most ``decided`` ``(b, n)`` free site next to a pinned one (any free
    site when there is none), ties within ``tie`` broken by the smallest
    canonical ``label`` ``(b, n)``.  ``free``: ``(b, n)`` bool; ``near``:
    ``(b, n, n)`` bool adjacency.  Each row needs a free site."""
    frontier = free & np.einsum("bi,bij->bj", (~free).astype(np.float32), near.astype(np.float32)).astype(bool)
    frontier = np.where(frontier.any(axis=1, keepdims=True), frontier, free)
    best = np.where(frontier, decided, -np.inf).max(axis=1, keepdims=True)
    ties = frontier & (decided >= best - tie)
    return np.where(ties, label, np.iinfo(np.int64).max).argmin(axis=1)


def choose_pins(y: np.ndarray, pins: np.ndarray, near: np.ndarray, label: np.ndarray, sign: np.ndarray,
                tie: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """The next spin pin of each of ``b`` decodings: ``(sites (b,), values (b,))``.

    For outputs ``y`` and ``pins`` ``(b, n)``: the site of :func:`next_sites`
    with decidedness ``|y_i|``; value ``sign(y_i)``, or ``sign`` (``sigma_x``,
    ``(b,)``) when ``y_i`` is 0."""
    site = next_sites(np.abs(y), pins == 0, near, label, tie)
    at = y[np.arange(len(y)), site]
    return site, np.where(np.abs(at) > tie, np.sign(at), sign)
