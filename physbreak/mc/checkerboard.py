"""Compiled Metropolis for the 2D Ising model on an L x L torus (numba, CPU).

One ``int8`` lattice per replica, updated in checkerboard order (all even
sites, then all odd sites: exactly a sequential sweep in that order), one
xoshiro256** generator per replica.  Every site draws a 32-bit uniform
integer ``u`` (each 64-bit draw serves two sites) and flips when
``u < min(1, exp(-beta dE)) 2^32`` from a 9-entry table, without a branch: a
data-dependent branch mispredicts on half the sites near Tc and costs more
than the draw.  Energy, magnetisation and staggered magnetisation are
measured by one pass that vectorises (cheaper than running totals in the
sweep).  (Replica, row block) pairs run in
parallel threads (``numba.prange``): rows of one colour share no bond, and
each block has its own generator, so the chain does not depend on the
thread count.

``H = -J sum_<ij> s_i s_j`` with ``J = 1``; temperatures in units of J/k_B.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.mc.compiled import ResidentKernel, n_blocks
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
def _colour(s, colour, lo, hi, table, state):
    """Rows ``lo..hi`` of one colour class."""
    L, M = s.shape
    buf, have = _U(0), 0
    for i in range(lo, hi):
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


@numba.njit(inline="always")
def torus_totals(s, J, sign0, out):
    """Energy (units of J), magnetisation and staggered magnetisation (sign ``sign0``
    on even sites) of one ``(L, M)`` torus, into ``out`` ``(3,)``: one pass that
    vectorises (no modulo inside a row)."""
    L, M = s.shape
    bonds, m, stag = 0, 0, 0
    for i in range(L):
        row, down = s[i], s[i + 1] if i < L - 1 else s[0]
        b, mm, st = 0, 0, 0
        for j in range(M - 1):
            b += np.int64(row[j]) * (np.int64(down[j]) + row[j + 1])
            mm += row[j]
            st += np.int64(row[j]) * (1 - 2 * (j & 1))
        b += np.int64(row[M - 1]) * (np.int64(down[M - 1]) + row[0])
        mm += row[M - 1]
        st += np.int64(row[M - 1]) * (1 - 2 * ((M - 1) & 1))
        bonds += b
        m += mm
        stag += st * (1 - 2 * (i & 1))
    out[0], out[1], out[2] = -J * bonds, m, sign0 * stag


@numba.njit(parallel=True, cache=True)
def run(spins, table, J, sign0, rng, n_samples, sweeps_per_sample, out):
    """``n_samples x sweeps_per_sample`` checkerboard sweeps in place.  spins:
    ``(R, L, M)`` int8 +-1 (L, M even); table: :func:`thresholds` ``(R, 9)`` of ``beta J``; rng:
    ``(R * B, 4)`` uint64 states, B row blocks per replica; out: ``(n_samples or 0, R, 3)``
    totals after each sample (:func:`torus_totals`)."""
    R, L = spins.shape[0], spins.shape[1]
    RB = rng.shape[0]
    B = RB // R
    if B == 1:  # one parallel region for the whole call: replicas are independent
        for r in numba.prange(R):
            for t in range(n_samples):
                for _ in range(sweeps_per_sample):
                    _colour(spins[r], 0, 0, L, table[r], rng[r])
                    _colour(spins[r], 1, 0, L, table[r], rng[r])
                if out.shape[0]:
                    torus_totals(spins[r], J, sign0, out[t, r])
        return
    for t in range(n_samples):
        for _ in range(sweeps_per_sample):
            for colour in range(2):
                for rb in numba.prange(RB):
                    b = rb % B
                    _colour(spins[rb // B], colour, L * b // B, L * (b + 1) // B, table[rb // B], rng[rb])
        if out.shape[0]:
            for r in numba.prange(R):
                torus_totals(spins[r], J, sign0, out[t, r])


def sweeps(spins, table, rng, n_sweeps):
    """``n_sweeps`` sweeps in place, one generator per replica (``rng`` ``(R, 4)``)."""
    run(spins, table, 1.0, 1.0, rng, 1, n_sweeps, np.zeros((0, len(spins), 3)))


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


class CompiledMetropolis(ResidentKernel):
    """The compiled Metropolis sampler (the interface of
    :class:`physbreak.mc.compiled.CompiledMetropolis`) on this kernel:
    nearest-neighbour Ising with one uniform coupling on a periodic square
    lattice with even sizes, zero field, CPU (:func:`supports`).  Row blocks
    of one lattice run in parallel threads (:func:`~physbreak.mc.compiled.n_blocks`)."""

    def __init__(self, model, temperatures, seed_sequence: np.random.SeedSequence):
        if not supports(model):
            raise ValueError("the compiled kernel needs a zero-field, uniform nearest-neighbour Ising model "
                             "on a periodic square lattice with even sizes, on the CPU")
        self.model = model
        self.n_chains = len(np.atleast_1d(temperatures))
        self.shape = (self.n_chains,) + tuple(model.lattice.size)
        self.J = float(model.bond_J[0])
        self.table = thresholds(self.J / np.asarray(temperatures, dtype=np.float64))
        self.blocks = max(1, min(n_blocks(model.n_sites), self.shape[1] // 2))
        self.rng = seed_states(seed_sequence, self.n_chains * self.blocks)
        self.sign0 = float(model.lattice.sublattice_sign[0])

    def run(self, state, n_samples: int, sweeps_per_sample: int = 1, adapt: bool = False,
            measure: bool = True) -> np.ndarray | None:
        """As :meth:`physbreak.mc.compiled.CompiledMetropolis.run` (totals ``(n_samples, C, 3)``)."""
        out = np.zeros((n_samples if measure else 0, self.n_chains, 3))
        run(state.numpy().reshape(self.shape), self.table, self.J, self.sign0, self.rng, n_samples,
            sweeps_per_sample, out)
        return self._result(out, n_samples, sweeps_per_sample, measure)

    def energy(self, state) -> np.ndarray:
        """Total energy per chain ``(C,)`` (units of J)."""
        out = np.zeros((1, self.n_chains, 3))
        run(state.numpy().reshape(self.shape), self.table, self.J, self.sign0, self.rng, 1, 0, out)
        return out[0, :, 0]


def supports(model) -> bool:
    """Whether :class:`CompiledMetropolis` can run ``model``."""
    from physbreak.systems import Ising

    lat = model.lattice
    return (isinstance(model, Ising) and lat.name == "square" and lat.periodic and len(lat.size) == 2
            and all(L >= 4 and L % 2 == 0 for L in lat.size) and model.n_shells == 1 and not model.has_field
            and len(model.bond_J) == 2 * lat.n_sites and bool(np.all(model.bond_J == model.bond_J[0]))
            and model.device.type == "cpu")
