"""Vectorised Metropolis for the 2D and 3D Ising model on a periodic square or
cubic lattice (numba, CPU, SIMD).

The lattice is split by colour (``(sum of the indices) & 1``) and each colour
is packed along the last axis: ``packed[c, r, k]`` is the site of colour ``c``
in row ``r`` (a row: fixed indices on every axis but the last) at last-axis
index ``2k + ((r's index sum + c) & 1)``.  A site's neighbours along the
other axes are then the other colour at the same ``k`` in the neighbouring
rows, and its two neighbours along the row are the other colour at ``k`` and
``k -+ 1``: every load in a row update is contiguous, and the update of a row
is one loop without a branch that LLVM vectorises (16 int32 lanes per
instruction with AVX-512, 8 with AVX2).

Random numbers: xoshiro128** (:func:`physbreak.mc.rng.step32`) per lane, one generator per (chain, row block,
index ``k``), held as ``(4, K)`` uint32 arrays, so lane ``k`` of every row of
a block draws from its own stream and the draws vectorise with the update.  A
site flips when its 31-bit uniform ``u < min(1, exp(-beta dE)) 2^31``, the
threshold chosen from a 7-entry table by comparisons (no gather).  Energy,
magnetisation and staggered magnetisation come out of the same loops (every
bond has one end in colour 1, so the colour-1 pass sums all bonds): a
measurement costs nothing extra.  Sweeps update colour 0, then colour 1:
exactly a sequential sweep in that order.  (Chain, row block) pairs run in
parallel threads; blocks are a function of the lattice size only, so the
chain does not depend on the thread count.

``H = -J sum_<ij> s_i s_j``; temperatures in units of J/k_B.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.lazy import to_numpy
from physbreak.mc.compiled import ResidentKernel, n_blocks
from physbreak.mc.rng import step32

_U32 = np.uint32
LEVELS = np.arange(-6, 7, 2)  # s_i * (sum of neighbours), 2D and 3D


def thresholds(beta_J) -> np.ndarray:
    """``(C, 7)`` uint32 ``min(1, exp(-2 beta J x)) 2^31`` for ``x`` in :data:`LEVELS`."""
    bj = np.atleast_1d(np.asarray(beta_J, dtype=np.float64))
    p = np.minimum(np.exp(-2.0 * bj[:, None] * LEVELS[None]), 1.0)
    return np.floor(p * 2.0**31).astype(np.uint32)


@numba.njit(inline="always")
def _row(row, own, rows, nbr, ns, p, lanes, t):
    """Update one packed row ``row`` ``(K,)`` int8 of one colour; ``own``: the other
    colour's row with the same index, ``rows``: the other colour ``(R, K)``,
    ``nbr``: the neighbouring row indices, ``ns``: scratch ``(K,)`` int32, ``p``:
    the row's parity, ``lanes``: ``(4, K)`` uint32 generators, ``t``: thresholds
    ``(7,)``.  Returns (sum of the new spins, sum of new spin x neighbour sum)."""
    K = row.shape[0]
    if p == 0:  # in-row neighbours at k and k - 1
        ns[0] = np.int32(own[0]) + own[K - 1]
        for k in range(1, K):
            ns[k] = np.int32(own[k]) + own[k - 1]
    else:  # at k and k + 1
        for k in range(K - 1):
            ns[k] = np.int32(own[k]) + own[k + 1]
        ns[K - 1] = np.int32(own[K - 1]) + own[0]
    for q in range(nbr.shape[0]):
        other = rows[nbr[q]]
        for k in range(K):
            ns[k] += other[k]
    a0, a1, a2, a3 = lanes[0], lanes[1], lanes[2], lanes[3]
    t0, t1, t2, t3, t4, t5, t6 = t[0], t[1], t[2], t[3], t[4], t[5], t[6]
    m, b = np.int32(0), np.int32(0)
    for k in range(K):
        s = np.int32(row[k])
        n = ns[k]
        x = s * n
        u, a0[k], a1[k], a2[k], a3[k] = step32(a0[k], a1[k], a2[k], a3[k])
        th = t0 if x == -6 else (t1 if x == -4 else (t2 if x == -2 else (
            t3 if x == 0 else (t4 if x == 2 else (t5 if x == 4 else t6)))))
        new = s - 2 * s * np.int32((u >> _U32(1)) < th)
        row[k] = np.int8(new)
        m += new
        b += new * n
    return m, b


@numba.njit(inline="always")
def _block(packed, colour, lo, hi, nbr, parity, lanes, t):
    """Rows ``lo..hi`` of one colour of one chain: (sum of new spins, bond sum)."""
    rows, other = packed[colour], packed[1 - colour]
    ns = np.empty(rows.shape[1], np.int32)
    m, b = 0, 0
    for r in range(lo, hi):
        dm, db = _row(rows[r], other[r], other, nbr[r], ns, (parity[r] + colour) & 1, lanes, t)
        m += dm
        b += db
    return m, b


@numba.njit(parallel=True, cache=True)
def run(packed, nbr, parity, table, J, sign0, lanes, n_samples, sweeps_per_sample, out):
    """``n_samples x sweeps_per_sample`` sweeps in place.  packed: ``(C, 2, rows, K)``
    int8 (:func:`pack`); nbr: ``(rows, 2(d-1))`` neighbouring rows; parity:
    ``(rows,)`` index sums & 1; table: ``(C, 7)`` :func:`thresholds`; lanes:
    ``(C * B, 4, K)`` uint32 generators for B row blocks per chain; out:
    ``(n_samples, C, 3)`` energy (units of J), magnetisation and staggered
    magnetisation (sign ``sign0`` on colour 0) after each sample."""
    C, R = packed.shape[0], packed.shape[2]
    CB = lanes.shape[0]
    B = CB // C
    sums = np.zeros((CB, 3), np.int64)  # per (chain, block): colour-0 spins, colour-1 spins, bonds
    if B == 1:  # one parallel region for the whole call: chains are independent
        for c in numba.prange(C):
            for i in range(n_samples):
                for _ in range(sweeps_per_sample):
                    sums[c, 0] = _block(packed[c], 0, 0, R, nbr, parity, lanes[c], table[c])[0]
                    sums[c, 1], sums[c, 2] = _block(packed[c], 1, 0, R, nbr, parity, lanes[c], table[c])
                out[i, c, 0] = -J * sums[c, 2]
                out[i, c, 1] = sums[c, 0] + sums[c, 1]
                out[i, c, 2] = sign0 * (sums[c, 0] - sums[c, 1])
        return
    for i in range(n_samples):
        for _ in range(sweeps_per_sample):
            for cb in numba.prange(CB):
                c, b = cb // B, cb % B
                sums[cb, 0] = _block(packed[c], 0, R * b // B, R * (b + 1) // B, nbr, parity, lanes[cb], table[c])[0]
            for cb in numba.prange(CB):
                c, b = cb // B, cb % B
                sums[cb, 1], sums[cb, 2] = _block(packed[c], 1, R * b // B, R * (b + 1) // B, nbr, parity,
                                                  lanes[cb], table[c])
        for c in range(C):
            s = sums[c * B:(c + 1) * B].sum(axis=0)
            out[i, c, 0] = -J * s[2]
            out[i, c, 1] = s[0] + s[1]
            out[i, c, 2] = sign0 * (s[0] - s[1])


@numba.njit(cache=True)
def totals(packed, nbr, parity, J, sign0, out):
    """Energy, magnetisation and staggered magnetisation of every chain from
    scratch, into ``out`` ``(C, 3)`` (the quantities :func:`run` reports)."""
    C, R, K = packed.shape[0], packed.shape[2], packed.shape[3]
    for c in range(C):
        m0, m1, b = 0, 0, 0
        for r in range(R):
            w, own = packed[c, 1, r], packed[c, 0, r]
            shift = 1 if ((parity[r] + 1) & 1) else -1
            for k in range(K):
                n = np.int64(own[k]) + own[(k + shift) % K]
                for q in range(nbr.shape[1]):
                    n += packed[c, 0, nbr[r, q], k]
                b += w[k] * n
                m0 += own[k]
                m1 += w[k]
        out[c, 0] = -J * b
        out[c, 1] = m0 + m1
        out[c, 2] = sign0 * (m0 - m1)


class Layout:
    """The packed layout of a periodic lattice of even ``size`` (d = 2 or 3):
    ``rows`` rows of ``K = size[-1] / 2`` sites per colour, the neighbouring
    rows ``nbr`` ``(rows, 2(d-1))``, the row parities ``(rows,)`` and the row
    blocks per chain that threads share (a function of the size only)."""

    def __init__(self, size):
        self.size = tuple(int(n) for n in size)
        front = self.size[:-1]
        index = np.indices(front).reshape(len(front), -1)  # (d-1, rows)
        self.parity = (index.sum(0) & 1).astype(np.int64)
        flat = np.arange(int(np.prod(front))).reshape(front)
        self.nbr = np.stack([np.roll(flat, shift, axis).ravel()
                             for axis in range(len(front)) for shift in (1, -1)], 1).astype(np.int64)
        self.rows, self.K = len(self.parity), self.size[-1] // 2
        self.blocks = max(1, min(n_blocks(2 * self.rows * self.K), self.rows // 2))  # row blocks per chain

    def lanes(self, seed_sequence: np.random.SeedSequence, n_chains: int) -> np.ndarray:
        """The generators of ``n_chains`` chains: ``(n_chains * blocks, 4, K)`` (:func:`seed_lanes`)."""
        return seed_lanes(seed_sequence, n_chains * self.blocks, self.K)

    def pack(self, spins: np.ndarray) -> np.ndarray:
        """``(C, N)`` site-ordered spins -> ``(C, 2, rows, K)``."""
        packed = np.empty((len(spins), 2, self.rows, self.K), spins.dtype)
        _pack(spins.reshape(len(spins), self.rows, 2 * self.K), packed, self.parity, True)
        return packed

    def unpack(self, packed: np.ndarray, spins: np.ndarray):
        """Write ``(C, 2, rows, K)`` back into the ``(C, N)`` site-ordered ``spins``."""
        _pack(spins.reshape(len(spins), self.rows, 2 * self.K), packed, self.parity, False)


@numba.njit(cache=True)
def _pack(sites, packed, parity, forward):
    """``sites`` ``(C, rows, 2K)`` <-> ``packed`` ``(C, 2, rows, K)`` (``forward``: to packed)."""
    C, R, K = packed.shape[0], packed.shape[2], packed.shape[3]
    for c in range(C):
        for r in range(R):
            p = parity[r]
            for k in range(K):
                if forward:
                    packed[c, 0, r, k] = sites[c, r, 2 * k + p]
                    packed[c, 1, r, k] = sites[c, r, 2 * k + 1 - p]
                else:
                    sites[c, r, 2 * k + p] = packed[c, 0, r, k]
                    sites[c, r, 2 * k + 1 - p] = packed[c, 1, r, k]


def seed_lanes(seed_sequence: np.random.SeedSequence, n: int, K: int) -> np.ndarray:
    """``(n, 4, K)`` uint32 xoshiro128** states, independent and nonzero per lane."""
    lanes = np.stack([child.generate_state(4 * K, dtype=np.uint32).reshape(4, K)
                      for child in seed_sequence.spawn(n)])
    zero = np.all(lanes == 0, axis=1)
    lanes[:, 0][zero] = 1
    return lanes


def check_even(size):
    """A checkerboard on a torus needs even sizes (a ValueError naming the size otherwise)."""
    for L in np.atleast_1d(size):
        if L < 2 or L % 2:
            raise ValueError(f"lattice.size {int(L)}: the checkerboard on a torus needs even sizes >= 2")


class CompiledMetropolis(ResidentKernel):
    """The compiled Metropolis sampler (the interface of
    :class:`physbreak.mc.compiled.CompiledMetropolis`) on this kernel:
    nearest-neighbour Ising with one uniform coupling on a periodic square or
    cubic lattice with even sizes, zero field, CPU (:func:`supports`).  The
    state is packed at the start of every :meth:`run` and unpacked at its end
    (two passes over the lattice per call, not per sweep)."""

    def __init__(self, model, temperatures, seed_sequence: np.random.SeedSequence):
        if not supports(model):
            raise ValueError("the compiled kernel needs a zero-field, uniform nearest-neighbour Ising model "
                             "on a periodic square or cubic lattice with even sizes, on the CPU")
        self.model = model
        self.n_chains = len(np.atleast_1d(temperatures))
        self.layout = Layout(model.lattice.size)
        self.J = float(model.bond_J[0])
        self.table = thresholds(self.J / np.asarray(temperatures, dtype=np.float64))
        self.blocks = self.layout.blocks
        self.rng = self.layout.lanes(seed_sequence, self.n_chains)
        self.sign0 = float(model.lattice.sublattice_sign[0])

    def run(self, state, n_samples: int, sweeps_per_sample: int = 1, adapt: bool = False,
            measure: bool = True) -> np.ndarray | None:
        """As :meth:`physbreak.mc.compiled.CompiledMetropolis.run` (totals ``(n_samples, C, 3)``)."""
        spins = to_numpy(state)  # a CPU tensor shares its memory: updated in place too
        packed = self.layout.pack(spins)
        out = np.zeros((n_samples, self.n_chains, 3))
        lay = self.layout
        run(packed, lay.nbr, lay.parity, self.table, self.J, self.sign0, self.rng, n_samples,
            sweeps_per_sample, out)
        lay.unpack(packed, spins)
        return self._result(out, n_samples, sweeps_per_sample, measure)

    def energy(self, state) -> np.ndarray:
        """Total energy per chain ``(C,)`` (units of J)."""
        out = np.zeros((self.n_chains, 3))
        lay = self.layout
        totals(lay.pack(to_numpy(state)), lay.nbr, lay.parity, self.J, self.sign0, out)
        return out[:, 0]


def uniform_nearest_neighbour(model, min_size: int = 2) -> bool:
    """Whether ``model`` has zero field and one uniform nearest-neighbour coupling on
    a periodic square or cubic lattice whose sizes are even and at least
    ``min_size`` (what the checkerboard kernels run)."""
    lat = model.lattice
    return (lat.name in ("square", "cubic") and lat.periodic
            and len(lat.size) == {"square": 2, "cubic": 3}[lat.name]
            and all(L >= min_size and L % 2 == 0 for L in lat.size) and model.n_shells == 1 and not model.has_field
            and len(model.bond_J) == lat.n_sites * len(lat.size) and bool(np.all(model.bond_J == model.bond_J[0])))


def nearest_neighbour_ising(model, min_size: int = 2) -> bool:
    """:func:`uniform_nearest_neighbour` for the Ising model."""
    from physbreak.systems import Ising

    return isinstance(model, Ising) and uniform_nearest_neighbour(model, min_size)


def supports(model) -> bool:
    """Whether :class:`CompiledMetropolis` can run ``model`` (on the CPU)."""
    return nearest_neighbour_ising(model) and model.device_type == "cpu"


class CheckerboardIsing:
    """``C`` independent 2D Ising chains on an ``L x L`` torus (J = 1) on this
    kernel, for benchmarks and tests.

    Args:
        L: linear size (even); temperatures: ``(C,)`` (J/k_B);
        seed_sequence: seeds the generators; ordered: start all up (else random).
    """

    def __init__(self, L: int, temperatures, seed_sequence: np.random.SeedSequence, ordered: bool = False):
        check_even(L)
        temperatures = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
        self.layout = Layout((L, L))
        self.table = thresholds(1.0 / temperatures)
        self.rng = self.layout.lanes(seed_sequence, len(temperatures))
        start = np.random.default_rng(seed_sequence.spawn(1)[0])
        shape = (len(temperatures), L * L)
        spins = np.ones(shape, np.int8) if ordered else start.choice(np.array([-1, 1], np.int8), shape)
        self.packed = self.layout.pack(spins)
        self.last = np.zeros((1, len(temperatures), 3))

    def sweep(self, n: int = 1):
        lay = self.layout
        run(self.packed, lay.nbr, lay.parity, self.table, 1.0, 1.0, self.rng, 1, n, self.last)

    def measure(self) -> tuple[np.ndarray, np.ndarray]:
        """``(energy per spin (C,), magnetisation per spin (C,))``."""
        out = np.zeros((len(self.packed), 3))
        lay = self.layout
        totals(self.packed, lay.nbr, lay.parity, 1.0, 1.0, out)
        n = lay.rows * lay.K * 2
        return out[:, 0] / n, out[:, 1] / n
