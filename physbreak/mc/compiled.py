"""Compiled Metropolis for every spin model on any lattice (numba, CPU).

The CPU Metropolis path of ``physbreak simulate`` for Ising, Potts, XY and
Heisenberg models on every lattice, through the model's colour classes and
padded neighbour table (sites of one class share no bond, so updating them in
any order is exactly a sequential sweep in colour order).  The state stays
resident in its compact form across sweeps: Ising ``int8`` +-1 ``(C, N)``,
Potts ``int16`` ``(C, N)``, O(n) ``float64`` ``(C, N, n)``.

Each chain's totals -- energy, magnetisation vector and staggered
magnetisation vector -- are updated inside the sweep from every accepted
move's change, so a measurement costs nothing per site; they are part of the
sampler state, so a resumed run continues bit for bit.

Random numbers: xoshiro256** per (chain, block).  Each colour class is split
into :func:`n_blocks` contiguous blocks, a function of the lattice size only,
so the chain is the same whatever the thread count; worker threads take
(chain, block) pairs, so one large lattice uses every thread too.

Ising with one coupling on every bond, no padding and no field compares a
32-bit uniform integer with a tabulated ``min(1, exp(-beta dE)) 2^32``
without a branch; every other case computes ``dE`` in float64 and accepts
with ``dE <= 0 or u < exp(-beta dE)``.  O(n) proposals add ``step`` times a
vector uniform in the unit disk (XY) or ball (Heisenberg) and renormalise:
symmetric, since the kick's distribution is rotation invariant; ``step``
adapts per chain towards 50 % acceptance during thermalisation only.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.lazy import to_numpy
from physbreak.mc.rng import next_u32, seed_states, step, uniform
from physbreak.systems import Ising, ONModel, Potts

_U = np.uint64
BLOCK_SITES = 1 << 15  # sites per block of a colour class, at least


def n_blocks(n_sites: int) -> int:
    """Blocks per colour class: 1 up to 64 Ki sites, at most 32."""
    return int(max(1, min(32, n_sites // (2 * BLOCK_SITES))))


# --- one block of one colour class of one chain --------------------------------

@numba.njit(inline="always")
def _ising_table(s, sites, lo, hi, nbr, table, rng, acc, sign, J):
    z = nbr.shape[1]
    buf, have = _U(0), 0
    de, dm, dms, flips = 0, 0, 0, 0
    for p in range(lo, hi):
        i = sites[p]
        x = 0
        for k in range(z):
            x += s[nbr[i, k]]
        si = np.int64(s[i])
        x *= si
        u, buf, have = next_u32(rng, buf, have)
        flip = np.int64(u < table[x + z])
        s[i] = si * (1 - 2 * flip)
        flips += flip
        de += x * flip
        dm -= si * flip
        dms -= si * flip * sign[i]
    acc[0] += 2.0 * J * de
    acc[1] += 2.0 * dm
    acc[2] += 2.0 * dms
    return flips


@numba.njit(inline="always")
def _ising_float(s, sites, lo, hi, nbr, jn, field, beta, rng, acc, sign):
    flips = 0
    for p in range(lo, hi):
        i = sites[p]
        h = field[i]
        for k in range(nbr.shape[1]):
            h += jn[i, k] * s[nbr[i, k]]
        si = np.int64(s[i])
        de = 2.0 * si * h
        if de <= 0.0 or uniform(rng) < np.exp(-beta * de):
            s[i] = -si
            flips += 1
            acc[0] += de
            acc[1] -= 2.0 * si
            acc[2] -= 2.0 * si * sign[i]
    return flips


@numba.njit(inline="always")
def _potts(s, sites, lo, hi, nbr, jn, field, beta, rng, acc, sign, vectors):
    q = vectors.shape[0]
    flips = 0
    for p in range(lo, hi):
        i = sites[p]
        old = s[i]
        new = (old + 1 + min(int(uniform(rng) * (q - 1)), q - 2)) % q
        de = field[i] * (np.int64(old == 0) - np.int64(new == 0))
        for k in range(nbr.shape[1]):
            v = s[nbr[i, k]]
            de += jn[i, k] * (np.int64(v == old) - np.int64(v == new))
        if de <= 0.0 or uniform(rng) < np.exp(-beta * de):
            s[i] = new
            flips += 1
            acc[0] += de
            n = vectors.shape[1]
            for a in range(n):
                d = vectors[new, a] - vectors[old, a]
                acc[1 + a] += d
                acc[1 + n + a] += d * sign[i]
    return flips


@numba.njit(inline="always")
def _draw(a, b, c, d):
    """Uniform float64 in [-1, 1) from a generator held in scalars: ``(x, a, b, c, d)``."""
    r, a, b, c, d = step(a, b, c, d)
    return float(r >> _U(11)) * (2.0 / 9007199254740992.0) - 1.0, a, b, c, d


@numba.njit(inline="always")
def _on(s, sites, lo, hi, nbr, jn, field, beta, rng, acc, sign, width):
    """XY (``s`` ``(N, 2)``) or Heisenberg (``(N, 3)``): the proposal adds ``width``
    times a vector uniform in the unit disk (ball) and renormalises, a symmetric
    proposal (the kick's distribution is rotation invariant) with no
    transcendental function.  Components, generator and totals are held in
    scalars across the block."""
    three = s.shape[1] == 3
    a, b, c, d = rng[0], rng[1], rng[2], rng[3]
    flips = 0
    e, m0, m1, m2, s0, s1, s2 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for p in range(lo, hi):
        i = sites[p]
        while True:  # uniform in the unit disk / ball by rejection
            k0, a, b, c, d = _draw(a, b, c, d)
            k1, a, b, c, d = _draw(a, b, c, d)
            k2 = 0.0
            if three:
                k2, a, b, c, d = _draw(a, b, c, d)
            if k0 * k0 + k1 * k1 + k2 * k2 < 1.0:
                break
        o0, o1 = s[i, 0], s[i, 1]
        o2 = s[i, 2] if three else 0.0
        n0, n1, n2 = o0 + width * k0, o1 + width * k1, o2 + width * k2
        norm = np.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
        n0, n1, n2 = n0 / norm, n1 / norm, n2 / norm
        h0, h1, h2 = field[i], 0.0, 0.0
        for k in range(nbr.shape[1]):
            j, J = nbr[i, k], jn[i, k]
            h0 += J * s[j, 0]
            h1 += J * s[j, 1]
            if three:
                h2 += J * s[j, 2]
        d0, d1, d2 = n0 - o0, n1 - o1, n2 - o2
        de = -(d0 * h0 + d1 * h1 + d2 * h2)
        accept = de <= 0.0
        if not accept:
            u, a, b, c, d = _draw(a, b, c, d)
            accept = 0.5 * (u + 1.0) < np.exp(-beta * de)
        if accept:
            flips += 1
            e += de
            m0, m1, m2 = m0 + d0, m1 + d1, m2 + d2
            s0, s1, s2 = s0 + d0 * sign[i], s1 + d1 * sign[i], s2 + d2 * sign[i]
            s[i, 0], s[i, 1] = n0, n1
            if three:
                s[i, 2] = n2
    rng[0], rng[1], rng[2], rng[3] = a, b, c, d
    n = 3 if three else 2
    acc[0] += e
    acc[1] += m0
    acc[2] += m1
    acc[1 + n] += s0
    acc[2 + n] += s1
    if three:
        acc[3] += m2
        acc[6] += s2
    return flips


# --- drivers: samples x sweeps x colours, (chain, block) pairs in parallel --------

@numba.njit(inline="always")
def _bounds(offsets, colour, b, B):
    lo0, hi0 = offsets[colour], offsets[colour + 1]
    return lo0 + (hi0 - lo0) * b // B, lo0 + (hi0 - lo0) * (b + 1) // B


@numba.njit(inline="always")
def _record(acc, C, out, t):
    B = acc.shape[0] // C
    for c in range(C):
        for k in range(acc.shape[1]):
            total = 0.0
            for b in range(B):
                total += acc[c * B + b, k]
            out[t, c, k] = total


ISING_TABLE, ISING_FLOAT, POTTS = 0, 1, 2


@numba.njit(parallel=True, cache=True)
def _run_discrete(kind, s, sites, offsets, nbr, jn, field, table, J, vectors, beta, sign, rng, acc,
                  n_samples, sweeps_per_sample, out):
    """Ising (``kind`` :data:`ISING_TABLE` or :data:`ISING_FLOAT`) or Potts (:data:`POTTS`) chains
    ``s`` ``(C, N)``: samples x sweeps x colours, (chain, block) pairs in parallel."""
    C, CB = s.shape[0], rng.shape[0]
    B = CB // C
    for t in range(n_samples):
        for _ in range(sweeps_per_sample):
            for colour in range(offsets.size - 1):
                for cb in numba.prange(CB):
                    c = cb // B
                    lo, hi = _bounds(offsets, colour, cb % B, B)
                    if kind == ISING_TABLE:
                        _ising_table(s[c], sites, lo, hi, nbr, table[c], rng[cb], acc[cb], sign, J)
                    elif kind == ISING_FLOAT:
                        _ising_float(s[c], sites, lo, hi, nbr, jn, field, beta[c], rng[cb], acc[cb], sign)
                    else:
                        _potts(s[c], sites, lo, hi, nbr, jn, field, beta[c], rng[cb], acc[cb], sign, vectors)
        if out.shape[0]:
            _record(acc, C, out, t)


@numba.njit(parallel=True, cache=True)
def _run_on(s, sites, offsets, nbr, jn, field, widths, adapt, beta, sign, rng, acc,
            n_samples, sweeps_per_sample, out, proj, plaq):
    """O(n) chains ``s`` ``(C, N, n)``; ``out`` ``(n_samples or 0, C, 1 + 2n + kt_columns)``:
    the running totals, then :func:`kt_sums` after every sample."""
    C, N, CB = s.shape[0], s.shape[1], rng.shape[0]
    B = CB // C
    flips = np.zeros(CB, np.int64)
    base = acc.shape[1]
    theta = np.zeros((C, N if plaq.shape[0] else 0))
    for t in range(n_samples):
        for _ in range(sweeps_per_sample):
            flips[:] = 0
            for colour in range(offsets.size - 1):
                for cb in numba.prange(CB):
                    c = cb // B
                    lo, hi = _bounds(offsets, colour, cb % B, B)
                    flips[cb] += _on(s[c], sites, lo, hi, nbr, jn, field, beta[c], rng[cb], acc[cb],
                                     sign, widths[c])
            if adapt:
                for c in range(C):
                    rate = flips[c * B:(c + 1) * B].sum() / N
                    widths[c] = min(max(widths[c] * (1.0 + (rate - 0.5)), 1e-4), np.pi)
        if out.shape[0]:
            _record(acc, C, out, t)
            if out.shape[2] > base:
                for c in numba.prange(C):
                    kt_sums(s[c], nbr, jn, proj, plaq, theta[c], out[t, c, base:])


# --- totals from scratch (any state dtype) ---------------------------------------

def totals(s, nbr, jn, field, sign, vectors) -> np.ndarray:
    """Per chain ``(C, 1 + 2n)`` float64: total energy, magnetisation vector and
    staggered magnetisation vector (units of J and of one spin).  ``s``: Ising
    ``(C, N)`` +-1, Potts ``(C, N)`` states (``vectors`` ``(q, q - 1)`` their order
    vectors; empty otherwise), or O(n) ``(C, N, n)``."""
    if vectors.shape[0]:
        return _potts_totals(s, nbr, jn, field, sign, vectors)
    if s.ndim == 2:
        return _ising_totals(s, nbr, jn, field, sign)
    return _spin_totals(s, nbr, jn, field, sign)


@numba.njit(inline="always")
def chain_totals(x, nbr, jn, field, sign, out):
    """Totals of one chain ``x`` ``(N, n)`` (Ising and O(n)) into ``out`` ``(1 + 2n,)``."""
    N, n = x.shape
    e = 0.0
    out[:] = 0.0
    for i in range(N):
        e -= field[i] * x[i, 0]
        for k in range(nbr.shape[1]):
            dot = 0.0
            for a in range(n):
                dot += x[i, a] * x[nbr[i, k], a]
            e -= 0.5 * jn[i, k] * dot
        for a in range(n):
            out[1 + a] += x[i, a]
            out[1 + n + a] += x[i, a] * sign[i]
    out[0] = e


@numba.njit(inline="always")
def ising_chain_totals(x, nbr, jn, field, sign, out):
    """Totals of one Ising chain ``x`` ``(N,)`` +-1 into ``out`` ``(3,)``."""
    e, m, ms = 0.0, 0.0, 0.0
    for i in range(x.shape[0]):
        h = 0.0
        for k in range(nbr.shape[1]):
            h += jn[i, k] * x[nbr[i, k]]
        si = np.float64(x[i])
        e -= si * (0.5 * h + field[i])
        m += si
        ms += si * sign[i]
    out[0], out[1], out[2] = e, m, ms


@numba.njit(inline="always")
def ising_one_j_totals(x, nbr, J, sign, out):
    """:func:`ising_chain_totals` for one coupling ``J`` on every bond and zero field:
    the bond and spin sums in integers, the couplings and fields never read."""
    bonds, m, ms = 0, 0, 0.0
    for i in range(x.shape[0]):
        h = 0
        for k in range(nbr.shape[1]):
            h += x[_U(nbr[i, k])]  # unsigned: no negative-index check
        si = np.int64(x[i])
        bonds += si * h
        m += si
        ms += si * sign[i]
    out[0], out[1], out[2] = -0.5 * J * bonds, m, ms


@numba.njit(inline="always")
def potts_chain_totals(x, nbr, jn, field, sign, vectors, out):
    """Totals of one Potts chain ``x`` ``(N,)`` into ``out`` ``(1 + 2n,)`` (``n = q - 1``)."""
    e = 0.0
    out[:] = 0.0
    n = vectors.shape[1]
    for i in range(x.shape[0]):
        state = int(x[i])
        e -= field[i] * (state == 0)
        for k in range(nbr.shape[1]):
            e -= 0.5 * jn[i, k] * (x[nbr[i, k]] == state)
        for a in range(n):
            out[1 + a] += vectors[state, a]
            out[1 + n + a] += vectors[state, a] * sign[i]
    out[0] = e


@numba.njit(cache=True)
def _spin_totals(s, nbr, jn, field, sign):
    out = np.zeros((s.shape[0], 1 + 2 * s.shape[2]))
    for c in range(s.shape[0]):
        chain_totals(s[c], nbr, jn, field, sign, out[c])
    return out


@numba.njit(cache=True)
def _ising_totals(s, nbr, jn, field, sign):
    out = np.zeros((s.shape[0], 3))
    for c in range(s.shape[0]):
        ising_chain_totals(s[c], nbr, jn, field, sign, out[c])
    return out


@numba.njit(cache=True)
def _potts_totals(s, nbr, jn, field, sign, vectors):
    out = np.zeros((s.shape[0], 1 + 2 * vectors.shape[1]))
    for c in range(s.shape[0]):
        potts_chain_totals(s[c], nbr, jn, field, sign, vectors, out[c])
    return out


def model_tables(model) -> dict:
    """The numba-facing arrays of a :class:`~physbreak.systems.SpinModel`:
    neighbours ``(N, z)`` int32, couplings ``(N, z)``, field ``(N,)``,
    sublattice sign ``(N,)`` (zeros off bipartite lattices), Potts vectors,
    and for O(n) models the bond projections ``proj`` ``(N, z, d)`` and the
    plaquettes ``plaq`` ``(P, k)`` of :func:`kt_columns` (empty when they do not apply)."""
    sign = model.lattice.sublattice_sign
    vectors = model.vectors_np if isinstance(model, Potts) else np.zeros((0, 2))
    nbr = np.ascontiguousarray(model.neighbors_np, dtype=np.int32)
    proj, plaq = np.zeros((model.n_sites, nbr.shape[1], 0)), np.zeros((0, 4), np.int64)
    lattice = model.lattice
    if isinstance(model, ONModel) and lattice.vectors is not None:
        i = np.repeat(np.arange(model.n_sites), nbr.shape[1])
        proj = lattice.displacements(i, nbr.ravel()).reshape(nbr.shape + (-1,))
        if model.n_components == 2 and lattice.plaquettes is not None:
            plaq = np.ascontiguousarray(lattice.plaquettes, dtype=np.int64)
    return {"nbr": nbr,
            "jn": np.ascontiguousarray(model.neighbor_J_np, dtype=np.float64),
            "field": model.field_np.astype(np.float64),
            "sign": np.zeros(model.n_sites) if sign is None else np.asarray(sign, dtype=np.float64),
            "vectors": np.ascontiguousarray(vectors, dtype=np.float64),
            "proj": np.ascontiguousarray(proj, dtype=np.float64), "plaq": plaq}


def kt_columns(tables) -> int:
    """Columns that :func:`kt_sums` appends to an O(n) model's totals: ``2 d``
    helicity sums on a periodic or open lattice in ``d`` dimensions, one vortex
    count for the XY model on a lattice with plaquettes; 0 otherwise."""
    return 2 * tables["proj"].shape[2] + (1 if tables["plaq"].shape[0] else 0)


@numba.njit(inline="always")
def kt_sums(x, nbr, jn, proj, plaq, theta, out):
    """The helicity sums and vortex count of one O(n) chain ``x`` ``(N, n)`` into
    ``out`` ``(kt_columns,)``: for each axis ``a``
    ``sum_<ij> J_ij (r_ij.a)^2 (x_i x_j + y_i y_j)`` and
    ``sum_<ij> J_ij (r_ij.a) (x_i y_j - y_i x_j)`` (the second and first derivative
    of the energy under a twist of the spins' xy-plane angle by ``r.a`` per
    lattice constant; units of J), then the number of plaquettes whose angle
    winds by +-2 pi (vortices and antivortices; ``theta`` ``(N,)`` scratch)."""
    d = proj.shape[2]
    for a in range(2 * d):
        out[a] = 0.0
    for i in range(x.shape[0]):
        for k in range(nbr.shape[1]):
            j, J = nbr[i, k], 0.5 * jn[i, k]  # each bond is in the table twice
            if J == 0.0:
                continue
            c = x[i, 0] * x[j, 0] + x[i, 1] * x[j, 1]
            sn = x[i, 0] * x[j, 1] - x[i, 1] * x[j, 0]
            for a in range(d):
                u = proj[i, k, a]
                out[2 * a] += J * u * u * c
                out[2 * a + 1] += J * u * sn
    if plaq.shape[0]:
        for i in range(x.shape[0]):
            theta[i] = np.arctan2(x[i, 1], x[i, 0])
        count = 0
        K = plaq.shape[1]
        for p in range(plaq.shape[0]):
            w = 0.0
            for k in range(K):
                dt = theta[plaq[p, (k + 1) % K]] - theta[plaq[p, k]]
                w += dt - 2.0 * np.pi * np.round(dt / (2.0 * np.pi))
            count += abs(np.round(w / (2.0 * np.pi)))
        out[2 * d] = count


@numba.njit(parallel=True, cache=True)
def _kt_totals(s, nbr, jn, proj, plaq, out):
    theta = np.zeros((s.shape[0], s.shape[1] if plaq.shape[0] else 0))
    for c in numba.prange(s.shape[0]):
        kt_sums(s[c], nbr, jn, proj, plaq, theta[c], out[c])


def kt_totals(s: np.ndarray, tables) -> np.ndarray:
    """:func:`kt_sums` of every chain of ``s`` ``(C, N, n)``: ``(C, kt_columns)``."""
    out = np.zeros((s.shape[0], kt_columns(tables)))
    if out.shape[1]:
        _kt_totals(s, tables["nbr"], tables["jn"], tables["proj"], tables["plaq"], out)
    return out


def ising_thresholds(beta, J: float, z: int) -> np.ndarray:
    """``(C, 2z + 1)`` uint64 ``min(1, exp(-2 beta J x)) 2^32`` for ``x = s_i sum_j s_j``
    in ``-z..z`` (index ``x + z``)."""
    x = np.arange(-z, z + 1)
    p = np.minimum(np.exp(-2.0 * J * np.asarray(beta, dtype=np.float64)[:, None] * x[None]), 1.0)
    return np.where(p >= 1.0, 2.0**32, np.floor(p * 2.0**32)).astype(np.uint64)


class ResidentKernel:
    """What the compiled samplers share: the resident state (:attr:`dtype`) and
    the checkpointed generators.  Subclasses set ``model``, ``n_chains``,
    ``rng`` and ``run``."""

    dtype = np.int8

    def resident(self, state):
        """``state`` (an array or a tensor) as this sampler keeps it across sweeps: a
        numpy array of :attr:`dtype`."""
        return np.ascontiguousarray(to_numpy(state), dtype=self.dtype)

    def sweep(self, state, adapt: bool = False):
        """One sweep in place on the resident state; work 1 sweep per chain ``(C,)``."""
        self.run(state, 1, 1, adapt, measure=False)
        return np.ones(self.n_chains)

    def _result(self, out, n_samples, sweeps_per_sample, measure):
        return (out if measure else None), np.full((n_samples, self.n_chains), float(sweeps_per_sample))

    def get_state(self) -> dict:
        return {"xoshiro": self.rng.copy()}

    def set_state(self, saved: dict):
        self.rng[...] = saved["xoshiro"]


class CompiledMetropolis(ResidentKernel):
    """The Metropolis sampler of :mod:`physbreak.mc` on the compiled kernels:
    :meth:`run` takes ``n_samples`` samples of ``sweeps_per_sample`` sweeps
    each and returns each chain's totals after every sample and the work.

    Args:
        model: an Ising, Potts or O(n) model on the CPU.
        temperatures: ``(C,)`` (J/k_B); seed_sequence: seeds the generators;
        step: initial proposal width of continuous spins.
    """

    def __init__(self, model, temperatures, seed_sequence: np.random.SeedSequence, step: float = 1.0):
        if model.device_type != "cpu":
            raise ValueError("the compiled Metropolis kernels run on the CPU")
        kinds = {Ising: ("ising", np.int8), Potts: ("potts", np.int16), ONModel: ("on", np.float64)}
        match = [v for cls, v in kinds.items() if isinstance(model, cls)]
        if not match:
            raise ValueError(f"no compiled Metropolis kernel for {type(model).__name__}")
        (self.kind, self.dtype), = match
        self.model = model
        self.beta = 1.0 / np.asarray(temperatures, dtype=np.float64)
        self.n_chains = len(self.beta)
        self.tables = model_tables(model)
        colours = model.colours_np
        self.sites = np.concatenate(colours).astype(np.int32)
        self.offsets = np.cumsum([0] + [len(c) for c in colours]).astype(np.int64)
        self.blocks = n_blocks(model.n_sites)
        self.rng = seed_states(seed_sequence, self.n_chains * self.blocks)
        self.step = np.full(self.n_chains, float(step))
        self.acc = None
        jn = self.tables["jn"]
        self.J = float(jn.flat[0]) if jn.size else 0.0
        self.tabulated = self.kind == "ising" and not model.has_field and jn.size > 0 and bool(np.all(jn == self.J))
        self.table = ising_thresholds(self.beta, self.J, jn.shape[1]) if self.tabulated else \
            np.zeros((self.n_chains, 1), np.uint64)

    def run(self, state, n_samples: int, sweeps_per_sample: int = 1, adapt: bool = False,
            measure: bool = True) -> np.ndarray | None:
        """``n_samples x sweeps_per_sample`` sweeps in place on the resident ``state``;
        returns ``(totals after each sample (n_samples, C, 1 + 2n + kt_columns) or
        None without measure, work (n_samples, C) in sweeps)``."""
        spins = self._spins(state)
        t = self.tables
        out = np.zeros((n_samples if measure else 0, self.n_chains, self.acc.shape[1] + kt_columns(t)))
        common = (self.sites, self.offsets, t["nbr"], t["jn"], t["field"])
        tail = (self.beta, t["sign"], self.rng, self.acc, n_samples, sweeps_per_sample, out)
        if self.kind == "on":
            _run_on(spins, *common, self.step, adapt and self.model.n_components > 1, *tail, t["proj"], t["plaq"])
        else:
            kind = POTTS if self.kind == "potts" else ISING_TABLE if self.tabulated else ISING_FLOAT
            _run_discrete(kind, spins, *common, self.table, self.J, t["vectors"], *tail)
        return self._result(out, n_samples, sweeps_per_sample, measure)

    def _spins(self, state) -> np.ndarray:
        """The state's array; the running totals ``acc`` ``(C * blocks, 1 + 2n)`` start
        (block 0 of each chain) from the state's totals."""
        spins = to_numpy(state)  # a CPU tensor shares its memory: updated in place too
        if self.acc is None:
            t = self.tables
            self.acc = np.zeros((self.n_chains * self.blocks, 1 + 2 * self.model.n_components))
            self.acc[::self.blocks] = totals(spins, t["nbr"], t["jn"], t["field"], t["sign"], t["vectors"])
        return spins

    def energy(self, state) -> np.ndarray:
        """Total energy per chain ``(C,)`` (units of J), from the running totals."""
        self._spins(state)
        return self.acc[:, 0].reshape(self.n_chains, self.blocks).sum(1)

    def swap(self, a: np.ndarray, b: np.ndarray):
        """Chains ``a[k]`` and ``b[k]`` exchanged their configurations (replica exchange)."""
        acc = self.acc.reshape(self.n_chains, self.blocks, -1)
        acc[a], acc[b] = acc[b].copy(), acc[a].copy()

    def get_state(self) -> dict:
        return {**super().get_state(), "step": self.step.copy(), "totals": self.acc.copy()}

    def set_state(self, saved: dict):
        super().set_state(saved)
        self.step = np.asarray(saved["step"], dtype=np.float64).copy()
        self.acc = np.asarray(saved["totals"], dtype=np.float64).copy()
