"""Swendsen-Wang multi-cluster updates for ferromagnetic Ising models on any lattice (numba, CPU).

Each sweep puts a bond between aligned neighbours with probability
``1 - exp(-2 beta J)``, finds the clusters (union-find with path halving) and
flips each cluster with probability 1/2 (Swendsen & Wang, PRL 58, 86, 1987).
Every spin is updated once per sweep, so the work is one sweep.  Valid for
zero field and ``J >= 0``; chains run in parallel threads.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.errors import InvalidValue
from physbreak.lazy import to_numpy
from physbreak.mc.rng import next_u64, seed_states, uniform
from physbreak.systems import Ising


@numba.njit(inline="always")
def _root(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@numba.njit(parallel=True, cache=True)
def sweeps(spins, bonds, J, beta, rng, n_sweeps):
    """spins: ``(C, N)`` int8 +-1; bonds: ``(B, 2)``; J: ``(B,)`` >= 0; beta: ``(C,)``;
    rng: ``(C, 4)`` uint64.  ``n_sweeps`` Swendsen-Wang sweeps in place."""
    n_chains, n = spins.shape
    for c in numba.prange(n_chains):
        s, state = spins[c], rng[c]
        parent = np.empty(n, np.int64)
        flip = np.empty(n, np.int8)
        p = 1.0 - np.exp(-2.0 * beta[c] * J)
        for _ in range(n_sweeps):
            for i in range(n):
                parent[i] = i
            for b in range(bonds.shape[0]):
                i, j = bonds[b, 0], bonds[b, 1]
                if s[i] == s[j] and uniform(state) < p[b]:
                    ri, rj = _root(parent, i), _root(parent, j)
                    if ri != rj:
                        parent[max(ri, rj)] = min(ri, rj)
            for i in range(n):  # a root is its cluster's smallest index: its flip is drawn first
                r = _root(parent, i)
                if r == i:
                    flip[i] = 1 - 2 * np.int8(next_u64(state) >> np.uint64(63))
                s[i] *= flip[r]


class SwendsenWang:
    """Swendsen-Wang sampler over a batch of chains, with the
    :class:`~physbreak.mc.Metropolis` interface.

    Args:
        model: an :class:`Ising` model on the CPU, zero field, ``J >= 0``.
        temperatures: ``(n_chains,)`` (J/k_B); seed_sequence.
    """

    def __init__(self, model, temperatures, seed_sequence: np.random.SeedSequence):
        if not isinstance(model, Ising):
            raise InvalidValue("model", type(model).__name__,
                               "Ising for Swendsen-Wang updates (algorithm 'swendsen_wang')")
        if model.device_type != "cpu":
            raise InvalidValue("device", str(model.device),
                               "'cpu' for Swendsen-Wang updates (algorithm 'swendsen_wang')")
        if model.has_field:
            raise InvalidValue("h", "nonzero", "0 for Swendsen-Wang updates (algorithm 'swendsen_wang')")
        if np.any(model.bond_J < 0):
            raise InvalidValue("J", "negative", "J >= 0 for Swendsen-Wang (no frustration)")
        self.model = model
        self.bonds = np.ascontiguousarray(model.bonds, dtype=np.int64)
        self.J = np.asarray(model.bond_J, dtype=np.float64)
        self.beta = 1.0 / np.asarray(temperatures, dtype=np.float64)
        self.rng = seed_states(seed_sequence, len(self.beta))

    def resident(self, state) -> np.ndarray:
        """The state (an array or a tensor) as this sampler keeps it across sweeps:
        a numpy array of ``int8`` +-1."""
        return np.ascontiguousarray(to_numpy(state), dtype=np.int8)

    def sweep(self, state: np.ndarray, adapt: bool = False) -> np.ndarray:
        """One sweep in place on the resident state (see :meth:`resident`)."""
        sweeps(to_numpy(state), self.bonds, self.J, self.beta, self.rng, 1)  # a CPU tensor: in place too
        return np.ones(len(self.beta))

    def get_state(self) -> dict:
        return {"xoshiro": self.rng.copy()}

    def set_state(self, saved: dict):
        self.rng[...] = saved["xoshiro"]
