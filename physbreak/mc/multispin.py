"""Multi-spin-coded Metropolis for the 2D Ising model: 64 replicas per machine word.

Bit ``r`` of word ``w[i, j]`` is replica ``r``'s spin at site ``(i, j)``
(1 = down).  A checkerboard half-sweep updates all 64 replicas of a site with
a few bitwise operations: with ``x_k = w ^ neighbour_k`` (anti-aligned
bonds), ``n >= 2`` anti-aligned neighbours (``dE <= 0``) flip always, ``n = 1``
(``dE = 4J``) with ``p = exp(-4 beta)`` and ``n = 0`` (``dE = 8J``) with
``p^2``.  The random bits are *independent per replica*: a word whose bits
are 1 with probability ``p`` or ``p^2`` (per bit) is drawn by comparing 64
uniform numbers with the bit's probability one binary digit at a time, most
significant first, stopping as soon as every bit that needs a number is
decided (probabilities exact to 2^-32).  The replicas are therefore
independent Markov chains at the same temperature, not the correlated copies
of the shared-random-number trick.

Two implementations of the same update: :func:`sweeps` (numba, one CPU core:
the words in the packed checkerboard layout of
:class:`physbreak.mc.checkerboard.Layout`, a xoshiro256** generator per word
of a row, each digit drawn for a whole row in one loop that vectorises, until
every word of the row is decided: about 20 digits instead of about 8 per
word, but 8 words per AVX-512 instruction)
and :class:`TorchMultispin` (torch, CPU or CUDA, whose CUDA generator is the
counter-based Philox).
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.lazy import torch
from physbreak.mc.checkerboard import Layout, check_even
from physbreak.mc.rng import seed_states, step

_U = np.uint64
REPLICAS = 64
DIGITS = 32  # binary digits of p used by the comparison


@numba.njit(parallel=True, cache=True)
def energy_magnetization(spins):
    """Per replica: energy per spin ``-sum_<ij> s_i s_j / N`` and magnetisation per spin, ``(R,)`` each,
    of ``(R, L, M)`` +-1 lattices."""
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


def probability_digits(beta: float) -> np.ndarray:
    """The first :data:`DIGITS` binary digits of ``p = exp(-4 beta)`` (row 0)
    and of ``p^2 = exp(-8 beta)`` (row 1), ``(2, DIGITS)`` uint8."""
    bits = np.zeros((2, DIGITS), np.uint8)
    for row, p in enumerate((np.exp(-4.0 * beta), np.exp(-8.0 * beta))):
        for k in range(DIGITS):
            p *= 2.0
            bits[row, k] = p >= 1.0
            p -= bits[row, k]
    return bits


@numba.njit(inline="always")
def _bernoulli(one, two, digits, lanes, accept, open_):
    """Per word ``k`` of a row ``(K,)``: set in ``accept[k]`` the bits of
    ``one[k]`` independently with probability ``p``, of ``two[k]`` (disjoint
    from ``one[k]``) with ``p^2`` (binary ``digits`` rows 0 and 1), nothing
    elsewhere.  Uniform numbers (lane ``k`` of the xoshiro256** ``lanes``
    ``(4, K)``) are compared with the bit's probability digit by digit, a bit
    decided where the digits first differ; a digit is drawn for the whole row
    (a loop that vectorises) until every word is decided.  ``open_``: scratch."""
    K = one.shape[0]
    for k in range(K):
        open_[k] = one[k] | two[k]
    a0, a1, a2, a3 = lanes[0], lanes[1], lanes[2], lanes[3]
    for d in range(digits.shape[1]):
        m1, m2 = _U(0) - _U(digits[0, d]), _U(0) - _U(digits[1, d])  # all ones where the digit is 1
        undecided = _U(0)
        for k in range(K):
            r, a0[k], a1[k], a2[k], a3[k] = step(a0[k], a1[k], a2[k], a3[k])
            target = (one[k] & m1) | (two[k] & m2)
            o = open_[k]
            accept[k] |= o & target & ~r  # uniform digit 0 < probability digit 1: u < p
            o &= ~(r ^ target)  # equal digits: still open
            open_[k] = o
            undecided |= o
        if undecided == _U(0):
            break


@numba.njit(inline="always")
def _row(row, own, up, down, p, lanes, digits, one, two, accept, open_):
    """One packed row of one colour (the layout of :class:`physbreak.mc.checkerboard.Layout`):
    neighbours ``own[k]``, ``own[k -+ 1]`` (``p`` = 0 / 1), ``up[k]``, ``down[k]``."""
    K = row.shape[0]
    for k in range(K):
        kk = k - 1 + 2 * p
        kk = K - 1 if kk < 0 else (0 if kk >= K else kk)
        s = row[k]
        x1, x2, x3, x4 = s ^ own[k], s ^ own[kk], s ^ up[k], s ^ down[k]  # anti-aligned bonds
        always = (x1 & x2) | (x3 & x4) | ((x1 ^ x2) & (x3 ^ x4))  # >= 2 anti-aligned: dE <= 0
        some = x1 | x2 | x3 | x4
        one[k], two[k], accept[k] = some & ~always, ~some, always  # n = 1: p; n = 0: p^2
    _bernoulli(one, two, digits, lanes, accept, open_)
    for k in range(K):
        row[k] ^= accept[k]


@numba.njit(cache=True)
def sweeps(packed, nbr, parity, digits, lanes, n_sweeps):
    """``n_sweeps`` checkerboard sweeps of 64 replicas in place.  packed: ``(2, L, L/2)``
    uint64 words (:class:`~physbreak.mc.checkerboard.Layout`); nbr, parity: the
    layout's; digits: :func:`probability_digits`; lanes: ``(4, L/2)`` uint64 states."""
    R, K = packed.shape[1], packed.shape[2]
    one, two = np.empty(K, _U), np.empty(K, _U)
    accept, open_ = np.empty(K, _U), np.empty(K, _U)
    for _ in range(n_sweeps):
        for c in range(2):
            rows, other = packed[c], packed[1 - c]
            for r in range(R):
                _row(rows[r], other[r], other[nbr[r, 0]], other[nbr[r, 1]], (parity[r] + c) & 1, lanes,
                     digits, one, two, accept, open_)


def unpack(words: np.ndarray) -> np.ndarray:
    """``(L, L)`` words -> ``(64, L, L)`` int8 spins +-1."""
    bits = (words[None] >> np.arange(REPLICAS, dtype=np.uint64)[:, None, None]) & np.uint64(1)
    return (1 - 2 * bits.astype(np.int8)).astype(np.int8)


def pack(spins: np.ndarray) -> np.ndarray:
    """``(64, L, L)`` int8 +-1 -> ``(L, L)`` uint64 words."""
    down = (np.asarray(spins) < 0).astype(np.uint64)
    return np.bitwise_or.reduce(down << np.arange(REPLICAS, dtype=np.uint64)[:, None, None], axis=0)


class MultispinIsing:
    """64 independent 2D Ising replicas at one temperature, multi-spin coded (numba, one core).

    Args:
        L: linear size (even); temperature (J/k_B); seed_sequence: seeds the
        generator and the random start; ordered: start all up.
    """

    def __init__(self, L: int, temperature: float, seed_sequence: np.random.SeedSequence, ordered: bool = False):
        check_even(L)
        self.digits = probability_digits(1.0 / temperature)
        self.layout = Layout((L, L))
        self.lanes = seed_states(seed_sequence, L // 2).T.copy()
        start = np.random.default_rng(seed_sequence.spawn(1)[0])
        words = np.zeros((1, L * L), np.uint64) if ordered else \
            start.integers(0, 2**64, size=(1, L * L), dtype=np.uint64)
        self.packed = self.layout.pack(words)[0]

    @property
    def words(self) -> np.ndarray:
        """``(L, L)`` uint64: bit ``r`` is replica ``r``'s spin (1 = down)."""
        words = np.zeros((1, self.layout.rows * self.layout.K * 2), np.uint64)
        self.layout.unpack(self.packed[None], words)
        return words.reshape(self.layout.size)

    def sweep(self, n: int = 1):
        lay = self.layout
        sweeps(self.packed, lay.nbr, lay.parity, self.digits, self.lanes, n)

    def measure(self) -> tuple[np.ndarray, np.ndarray]:
        """``(energy per spin (64,), magnetisation per spin (64,))``."""
        return energy_magnetization(unpack(self.words))


def _random_words(shape, generator, device) -> torch.Tensor:
    """Uniform random int64 words (all 64 bits)."""
    hi = torch.randint(0, 2**32, shape, generator=generator, device=device, dtype=torch.int64)
    lo = torch.randint(0, 2**32, shape, generator=generator, device=device, dtype=torch.int64)
    return (hi << 32) | lo


class TorchMultispin:
    """The multi-spin-coded update in torch: the lattice stays on the device
    as ``(L, L)`` int64 words (64 replicas, 8 bytes per site), random words
    from the device generator (Philox on CUDA: counter-based).  Each
    half-sweep gathers the colour's sites and their four neighbours (flat
    index tables), so only half the lattice is computed, and the digit-by-digit
    comparison continues on the still-undecided words only (compacted every
    :data:`COMPACT_EVERY` digits), as the numba kernel stops per word.

    Args:
        L (even); temperature (J/k_B); seed; device; ordered: start all up.
    """

    COMPACT_EVERY = 4

    def __init__(self, L: int, temperature: float, seed: int = 0, device="cpu", ordered: bool = False):
        check_even(L)
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.digits = probability_digits(1.0 / temperature).tolist()
        self.words = torch.zeros((L, L), dtype=torch.int64, device=self.device) if ordered else \
            _random_words((L, L), self.generator, self.device)
        i, j = np.divmod(np.arange(L * L), L)
        self.sites, self.neighbours = [], []
        for colour in (0, 1):
            on = (i + j) % 2 == colour
            ii, jj = i[on], j[on]
            nbr = np.stack([((ii + di) % L) * L + (jj + dj) % L for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))])
            self.sites.append(torch.as_tensor(np.flatnonzero(on), device=self.device))
            self.neighbours.append(torch.as_tensor(nbr, device=self.device))

    def _bernoulli(self, one: torch.Tensor, two: torch.Tensor) -> torch.Tensor:
        """As :func:`_bernoulli`, on flat tensors of words."""
        accept = torch.zeros_like(one)
        open_, pos = one | two, None  # pos: indices of the words still compared (None: all)
        for k, (d1, d2) in enumerate(zip(*self.digits)):
            if k % self.COMPACT_EVERY == 0 and k:
                keep = (open_ != 0).nonzero().squeeze(1)
                if len(keep) == 0:
                    break
                pos = keep if pos is None else pos[keep]
                open_, one, two = open_[keep], one[keep], two[keep]
            r = _random_words(open_.shape, self.generator, self.device)
            target = (one if d1 else torch.zeros_like(one)) | (two if d2 else torch.zeros_like(two))
            decided = open_ & target & ~r
            if pos is None:
                accept |= decided
            else:
                accept.index_put_((pos,), accept[pos] | decided)
            open_ = open_ & ~(r ^ target)
        return accept

    def sweep(self, n: int = 1):
        w = self.words.view(-1)
        for _ in range(n):
            for sites, neighbours in zip(self.sites, self.neighbours):
                s = w[sites]
                x = s[None] ^ w[neighbours]  # (4, L*L/2) anti-aligned bonds
                two = (x[0] & x[1]) | (x[2] & x[3]) | ((x[0] ^ x[1]) & (x[2] ^ x[3]))
                some = x[0] | x[1] | x[2] | x[3]
                w[sites] = s ^ (two | self._bernoulli(some & ~two, ~some))

    def measure(self) -> tuple[np.ndarray, np.ndarray]:
        """``(energy per spin (64,), magnetisation per spin (64,))``."""
        return energy_magnetization(unpack(self.words.cpu().numpy().view(np.uint64)))
