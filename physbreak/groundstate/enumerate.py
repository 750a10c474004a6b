"""Exact ground states of Ising Hamiltonians by Gray-code enumeration (numba).

``H(s) = -sum_b J_b s_i s_j - sum_i h_i s_i`` over all ``2^N`` states, one
spin flip per step (Gray code), so each state costs ``O(degree)``.  With zero
field the last spin is fixed and the count doubled (global flip symmetry).
Practical up to about 30 spins (2^29 states in a few seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from physbreak.errors import InvalidValue
from physbreak.lattice import neighbour_table

MAX_SPINS = 34


@dataclass
class GroundStates:
    """Ground energy, exact degeneracy and (up to ``cap``) the ground states."""

    energy: float  # units of J
    degeneracy: int  # exact count of ground states
    states: np.ndarray  # (min(degeneracy, cap), n_sites) int8, +-1
    exact: bool = True  # False for a heuristic search
    restarts: int = 0  # search only: independent restarts
    agreed: int = 0  # search only: restarts that reached the best energy

    @property
    def truncated(self) -> bool:
        return len(self.states) < self.degeneracy


def energies(states: np.ndarray, bonds: np.ndarray, J: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Energies of ``(k, n)`` +-1 states."""
    s = np.asarray(states, dtype=np.float64)
    return -(s[:, bonds[:, 0]] * s[:, bonds[:, 1]] * J).sum(1) - s @ h


@numba.njit(cache=True)
def _gray(n_free, n, nbr, jn, h, e0, cap, tol):
    s = np.ones(n, dtype=np.int8)
    e = e0
    best = e0
    count = 1
    found = np.empty((cap, n), dtype=np.int8)
    found[0] = s
    stored = 1
    for k in range(1, 1 << n_free):
        i = 0
        while not (k >> i) & 1:
            i += 1
        local = h[i]
        for a in range(nbr.shape[1]):
            local += jn[i, a] * s[nbr[i, a]]
        e += 2.0 * s[i] * local
        s[i] = -s[i]
        if e < best - tol:
            best = e
            count = 1
            found[0] = s
            stored = 1
        elif e <= best + tol:
            count += 1
            if stored < cap:
                found[stored] = s
                stored += 1
    return best, count, found[:stored]


def exact_ground_states(n: int, bonds, J, h=None, cap: int = 256, tol: float = 1e-9) -> GroundStates:
    """All ground states of an Ising Hamiltonian by exhaustive enumeration.

    Args:
        n: spins (at most :data:`MAX_SPINS`).
        bonds: ``(n_bonds, 2)`` int; J: ``(n_bonds,)``; h: ``(n,)`` or None.
        cap: at most this many ground states are returned (the count is exact).
        tol: energies within ``tol`` (units of J) count as degenerate.
    """
    if not 1 <= n <= MAX_SPINS:
        raise InvalidValue("n_sites", n, f"1..{MAX_SPINS} for exact enumeration (use search_ground_states)")
    bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    J = np.asarray(J, dtype=np.float64)
    h = np.zeros(n) if h is None else np.asarray(h, dtype=np.float64)
    nbr, jn = neighbour_table(n, bonds, J)
    e0 = float(-J.sum() - h.sum())
    symmetric = not np.any(h)
    n_free = n - 1 if symmetric else n
    best, count, states = _gray(n_free, n, nbr, jn, h, e0, cap, tol)
    if symmetric:  # the flipped copies (spin n-1 = -1)
        count *= 2
        states = np.concatenate([states, -states])[:cap]
    order = np.lexsort(states.T[::-1])
    return GroundStates(float(best), int(count), states[order])
