"""Compiled Metropolis for the 2D Ising model on an L x L torus (numba, CPU).

One ``int8`` lattice per replica, updated in checkerboard order (all even
sites, then all odd sites: exactly a sequential sweep in that order), one
xoshiro256** generator per replica.  Every site draws a 32-bit uniform
integer ``u`` (each 64-bit draw serves two sites) and flips when
``u < min(1, exp(-beta dE)) 2^32`` from a 9-entry table, without a branch: a
data-dependent branch mispredicts on half the sites near Tc and costs more
than the draw.  Replicas run in parallel threads (``numba.prange``); one
replica uses one core.

``H = -J sum_<ij> s_i s_j`` with ``J = 1``; temperatures in units of J/k_B.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.mc.rng import next_u64, seed_states

_U = np.uint64


def thresholds(beta) -> np.ndarray:
    """``(R, 9)`` uint64 tables ``min(1, exp(-2 beta x)) 2^32`` indexed by
    ``x + 4``, ``x = s * sum(neighbours)`` in ``-4..4`` (``dE = 2x``)."""
    beta = np.atleast_1d(np.asarray(beta, dtype=np.float64))
    x = np.arange(-4, 5)
    p = np.minimum(np.exp(-2.0 * beta[:, None] * x[None]), 1.0)
    return np.where(p >= 1.0, 2.0**32, np.floor(p * 2.0**32)).astype(np.uint64)


@numba.njit(inline="always")
def _colour(s, colour, table, state, buf, have):
    L, M = s.shape
    for i in range(L):
        up = s[i - 1] if i > 0 else s[L - 1]
        down = s[i + 1] if i < L - 1 else s[0]
        row = s[i]
        for j in range((i + colour) & 1, M, 2):
            jl = j - 1 if j > 0 else M - 1
            jr = j + 1 if j < M - 1 else 0
            x = np.int64(row[j]) * (np.int64(up[j]) + down[j] + row[jl] + row[jr])
            if have == 0:
                buf = next_u64(state)
                have = 2
            u = buf & _U(0xFFFFFFFF)
            buf >>= _U(32)
            have -= 1
            row[j] = row[j] * (np.int8(1) - np.int8(2) * np.int8(u < table[x + 4]))
    return buf, have


@numba.njit(parallel=True, cache=True)
def sweeps(spins, table, rng, n_sweeps):
    """``n_sweeps`` checkerboard sweeps in place.  spins: ``(R, L, M)`` int8 +-1
    (L, M even); table: :func:`thresholds` ``(R, 9)``; rng: ``(R, 4)`` uint64 states."""
    for r in numba.prange(spins.shape[0]):
        s, state, t = spins[r], rng[r], table[r]
        buf, have = _U(0), 0
        for _ in range(n_sweeps):
            buf, have = _colour(s, 0, t, state, buf, have)
            buf, have = _colour(s, 1, t, state, buf, have)


@numba.njit(parallel=True, cache=True)
def energy_magnetization(spins):
    """Per replica: energy per spin ``-sum_<ij> s_i s_j / N`` and magnetisation per spin, ``(R,)`` each."""
    R, L, M = spins.shape
    e, m = np.zeros(R), np.zeros(R)
    for r in numba.prange(R):
        bonds, total = 0, 0
        for i in range(L):
            for j in range(M):
                sij = np.int64(spins[r, i, j])
                bonds += sij * (spins[r, (i + 1) % L, j] + spins[r, i, (j + 1) % M])
                total += sij
        e[r], m[r] = -bonds / (L * M), total / (L * M)
    return e, m


def check_even(L: int):
    """A checkerboard on an L x L torus needs an even L >= 2 (a ValueError naming L otherwise)."""
    if L < 2 or L % 2:
        raise ValueError(f"lattice.size {L}: the checkerboard on a torus needs even sizes >= 2")


class CheckerboardIsing:
    """``R`` independent 2D Ising replicas, compiled Metropolis.

    Args:
        L: linear size (even); temperatures: ``(R,)`` (J/k_B);
        seed_sequence: seeds the per-replica generators; ordered: start all up (else random).
    """

    def __init__(self, L: int, temperatures, seed_sequence: np.random.SeedSequence, ordered: bool = False):
        check_even(L)
        temperatures = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
        self.table = thresholds(1.0 / temperatures)
        self.rng = seed_states(seed_sequence, len(temperatures))
        start = np.random.default_rng(seed_sequence.spawn(1)[0])
        shape = (len(temperatures), L, L)
        self.spins = np.ones(shape, np.int8) if ordered else start.choice(np.array([-1, 1], np.int8), shape)

    def sweep(self, n: int = 1):
        sweeps(self.spins, self.table, self.rng, n)

    def measure(self) -> tuple[np.ndarray, np.ndarray]:
        """``(energy per spin (R,), magnetisation per spin (R,))``."""
        return energy_magnetization(self.spins)


class CompiledMetropolis:
    """The :class:`~physbreak.mc.Metropolis` interface (``sweep(state)``,
    ``get_state``/``set_state``) on the compiled kernel, for the samplers'
    fast path (:func:`supports`): nearest-neighbour Ising with one uniform
    coupling on a periodic square lattice with even sizes, zero field, CPU."""

    def __init__(self, model, temperatures, seed_sequence: np.random.SeedSequence):
        if not supports(model):
            raise ValueError("the compiled kernel needs a zero-field, uniform nearest-neighbour Ising model "
                             "on a periodic square lattice with even sizes, on the CPU")
        self.model = model
        self.shape = (len(np.atleast_1d(temperatures)),) + tuple(model.lattice.size)
        self.table = thresholds(float(model.bond_J[0]) / np.asarray(temperatures, dtype=np.float64))
        self.rng = seed_states(seed_sequence, self.shape[0])

    def sweep(self, state, adapt: bool = False):
        """One sweep of every chain, in place on the ``(n_chains, n_sites)`` torch state; work 1 sweep each."""
        import torch

        spins = state.numpy().reshape(self.shape).astype(np.int8)
        sweeps(spins, self.table, self.rng, 1)
        state.copy_(torch.from_numpy(spins.reshape(self.shape[0], -1)))
        return torch.ones(self.shape[0])

    def get_state(self) -> dict:
        return {"xoshiro": self.rng.copy()}

    def set_state(self, saved: dict):
        self.rng[...] = saved["xoshiro"]


def supports(model) -> bool:
    """Whether :class:`CompiledMetropolis` can run ``model``."""
    from physbreak.systems import Ising

    lat = model.lattice
    return (isinstance(model, Ising) and lat.name == "square" and lat.periodic and len(lat.size) == 2
            and all(L >= 4 and L % 2 == 0 for L in lat.size) and model.n_shells == 1 and not model.has_field
            and len(model.bond_J) == 2 * lat.n_sites and bool(np.all(model.bond_J == model.bond_J[0]))
            and model.device.type == "cpu")
