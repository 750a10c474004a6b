"""Exact proper colourings: the zero-energy ground states of the q-state Potts
antiferromagnet ``E = sum_<ij> delta(s_i, s_j)`` on a graph.

Backtracking (numba) over nodes in breadth-first order, with the colours of
already-coloured neighbours excluded: counts every proper q-colouring (up to a
cap), lists them (up to another), and gives the chromatic number.
"""

from __future__ import annotations

import numba
import numpy as np


def _csr(n: int, edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(order, ptr, nbr)``: breadth-first node order and the earlier-ordered
    neighbours of each position (CSR, in position indices)."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    adj = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    order, seen = [], np.zeros(n, bool)
    for start in np.argsort([-len(a) for a in adj], kind="stable"):
        if seen[start]:
            continue
        queue, seen[start] = [start], True
        while queue:
            u = queue.pop(0)
            order.append(u)
            for v in sorted(adj[u], key=lambda v: -len(adj[v])):
                if not seen[v]:
                    seen[v] = True
                    queue.append(v)
    pos = np.empty(n, np.int64)
    pos[np.array(order, dtype=np.int64)] = np.arange(n)
    ptr, nbr = [0], []
    for u in order:
        nbr += sorted(int(pos[v]) for v in adj[u] if pos[v] < pos[u])
        ptr.append(len(nbr))
    return np.array(order, np.int64), np.array(ptr, np.int64), np.array(nbr, np.int64)


@numba.njit(cache=True)
def _search(ptr, nbr, q, limit, out):  # pragma: no cover - compiled
    """Count proper colourings in position order (up to ``limit``); the first
    ``len(out)`` found are written to the rows of ``out``."""
    n = len(ptr) - 1
    colour = -np.ones(n, np.int64)
    count = 0
    k = 0
    while k >= 0:
        c = colour[k] + 1
        while c < q:
            ok = True
            for e in range(ptr[k], ptr[k + 1]):
                if colour[nbr[e]] == c:
                    ok = False
                    break
            if ok:
                break
            c += 1
        if c == q:
            colour[k] = -1
            k -= 1
            continue
        colour[k] = c
        if k == n - 1:
            if count < out.shape[0]:
                out[count] = colour
            count += 1
            if count >= limit:
                return count
        else:
            k += 1
    return count


def count_colourings(n: int, edges, q: int, limit: int = 10**9) -> tuple[int, np.ndarray | None]:
    """``(count, one)``: the number of proper q-colourings (``limit`` if there
    are at least that many) and one of them ``(n,)`` (None if none)."""
    if n == 0:
        return 1, np.zeros(0, np.int64)
    count, states = enumerate_colourings(n, edges, q, store=1, limit=limit)
    return count, (states[0] if count else None)


def enumerate_colourings(n: int, edges, q: int, store: int = 10_000, limit: int = 10**9
                         ) -> tuple[int, np.ndarray]:
    """``(count, states (min(count, store), n))``: the number of proper
    q-colourings (``limit`` if at least that many) and the first ``store`` of
    them in backtracking order (all of them when ``count <= store``)."""
    order, ptr, nbr = _csr(n, edges)
    out = np.zeros((max(1, int(store)), n), np.int64)
    count = int(_search(ptr, nbr, int(q), int(limit), out))
    states = np.empty((min(count, len(out)), n), np.int64)
    states[:, order] = out[:len(states)]
    return count, states


def chromatic_number(n: int, edges) -> int:
    """The least ``q`` with a proper q-colouring (exact)."""
    if n == 0:
        return 0
    q = 1
    while count_colourings(n, edges, q, limit=1)[0] == 0:
        q += 1
    return q


def conflicts(edges, colours) -> int:
    """Monochromatic edges: the Potts antiferromagnet's energy ``sum delta(s_i, s_j)``."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    colours = np.asarray(colours)
    return int(np.sum(colours[edges[:, 0]] == colours[edges[:, 1]]))
