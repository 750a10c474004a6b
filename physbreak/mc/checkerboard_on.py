"""Vectorised Metropolis for the XY and Heisenberg models on a periodic square
or cubic lattice (numba, CPU, SIMD).

The packed layout of :mod:`physbreak.mc.checkerboard`, one packed array per
spin component: ``packed[c, colour, a, r, k]`` (float64) is component ``a`` of
that module's site ``(colour, r, k)``.  A row of one colour is updated in one
branch-free loop over ``k`` that LLVM vectorises, with a xoshiro128** generator
per lane (:func:`physbreak.mc.rng.step32`), and nothing in the loop calls a
transcendental function:

* XY: rotation by ``phi`` with ``tan(phi / 2) = t = w (2u - 1)``, i.e.
  ``cos phi = (1 - t^2) / (1 + t^2)``, ``sin phi = 2t / (1 + t^2)``.  The
  density of ``phi`` is even, so the proposal is symmetric.
* Heisenberg: the proposal of :mod:`physbreak.mc.compiled` (add ``w`` times a
  vector uniform in the unit ball, renormalise), the ball point being the
  first of two uniform cube points that lies inside the ball; when neither
  does (probability ``(1 - pi/6)^2 = 0.23``) the move is null.  The kick is
  still uniform in the ball, so the proposal is still symmetric.
* Acceptance ``u < exp(-x)``, ``x = beta dE``, with ``exp(-x) =
  (exp(-x/256))^256`` and the inner factor a degree-10 Taylor polynomial:
  relative error below 1e-12 on ``[0, 40]`` (:func:`expneg`); beyond 40 every
  31-bit uniform (at least 2^-32) rejects, as with the exact exponential.

``w`` adapts per chain towards 50 % acceptance during thermalisation only.
After every sample the energy, magnetisation, staggered magnetisation, helicity
sums and (XY on the square lattice) vortex count are computed from the packed
state: the columns of :func:`physbreak.mc.compiled.kt_sums`, in its order.  A
plaquette's winding is the signed number of times the shorter arcs of its
edges cross the +x axis (no arctan).  Sweeps update colour 0, then colour 1:
exactly a sequential sweep in that order.

``H = -J sum_<ij> S_i . S_j``, zero field; temperatures in units of J/k_B.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.lazy import to_numpy
from physbreak.mc.checkerboard import Layout, uniform_nearest_neighbour
from physbreak.mc.compiled import ResidentKernel
from physbreak.mc.rng import step32

_U32 = np.uint32

MAX_WIDTH = np.pi  # largest proposal width (XY: t in [-pi, pi], rotations up to 144 degrees)


@numba.njit(inline="always")
def _unit(r):
    """The top 31 bits of a uint32 as a uniform float64 in (0, 1) (a signed 32-bit
    integer: one vector instruction converts it, an unsigned one takes several)."""
    return (np.float64(np.int32(r >> _U32(1))) + 0.5) * (1.0 / 2147483648.0)


@numba.njit(inline="always")
def expneg(x):
    """``exp(-x)`` for ``x`` clipped to ``[0, 40]`` (1 for ``x <= 0``), without a
    transcendental function: ``(exp(-x / 256))^256``, the inner factor the Taylor
    polynomial of degree 10 evaluated by Estrin's scheme (short dependency chains)."""
    z = -min(max(x, 0.0), 40.0) * (1.0 / 256.0)
    z2 = z * z
    z4 = z2 * z2
    z8 = z4 * z4
    p = (1.0 + z) + z2 * (0.5 + z * (1.0 / 6.0)) + z4 * ((1.0 / 24.0 + z * (1.0 / 120.0))
                                                      + z2 * (1.0 / 720.0 + z * (1.0 / 5040.0))) \
        + z8 * (1.0 / 40320.0 + z * (1.0 / 362880.0) + z2 * (1.0 / 3628800.0))
    for _ in range(8):
        p = p * p
    return p


# The row functions index the chain ``(2, n, R, K)`` directly instead of taking row
# views: every numba view costs reference counting, which a row of 32 sites notices.

@numba.njit(inline="always")
def _neighbour_sum(chain, colour, a, r, rows, p, h):
    """``h[a]`` ``(K,)``: the sum of component ``a`` of the other colour around each
    site of row ``r`` (parity ``p``) of ``colour``: in the row at ``k`` and ``k + 2p - 1``,
    in the neighbouring rows ``rows`` (a tuple of 4; -1 for none: 2D) at ``k``.  One
    loop over the row (short rows pay for every loop's set-up); its two ends, where
    ``k + 2p - 1`` wraps, outside it."""
    K, o, step = chain.shape[3], 1 - colour, 2 * p - 1
    for k in (0, K - 1):
        h[a, k] = chain[o, a, r, k] + chain[o, a, r, (k + step) % K] + chain[o, a, rows[0], k] \
            + chain[o, a, rows[1], k]
        if rows[2] >= 0:
            h[a, k] += chain[o, a, rows[2], k] + chain[o, a, rows[3], k]
    if rows[2] >= 0:
        for k in range(1, K - 1):
            h[a, k] = chain[o, a, r, k] + chain[o, a, r, k + step] + chain[o, a, rows[0], k] \
                + chain[o, a, rows[1], k] + chain[o, a, rows[2], k] + chain[o, a, rows[3], k]
    else:
        for k in range(1, K - 1):
            h[a, k] = chain[o, a, r, k] + chain[o, a, r, k + step] + chain[o, a, rows[0], k] \
                + chain[o, a, rows[1], k]


@numba.njit(inline="always")
def _draw(lanes, k):
    """The next 32-bit output of lane ``k`` of the generators ``lanes`` ``(4, K)``."""
    u, lanes[0, k], lanes[1, k], lanes[2, k], lanes[3, k] = step32(lanes[0, k], lanes[1, k], lanes[2, k],
                                                                   lanes[3, k])
    return u


@numba.njit(inline="always")
def _row_xy(chain, colour, r, h, lanes, w, bj):
    """One XY row ``r`` of ``colour`` in its local fields ``h`` ``(2, K)``; ``bj`` = beta J.
    Returns the accepted moves."""
    flips = 0
    for k in range(chain.shape[3]):
        t = w * (2.0 * _unit(_draw(lanes, k)) - 1.0)
        u = _unit(_draw(lanes, k))
        inv = 1.0 / (1.0 + t * t)
        c, s = (1.0 - t * t) * inv, 2.0 * t * inv
        ox, oy = chain[colour, 0, r, k], chain[colour, 1, r, k]
        nx, ny = c * ox - s * oy, s * ox + c * oy
        ok = u < expneg(-bj * ((nx - ox) * h[0, k] + (ny - oy) * h[1, k]))
        chain[colour, 0, r, k] = nx if ok else ox
        chain[colour, 1, r, k] = ny if ok else oy
        flips += np.int64(ok)
    return flips


@numba.njit(inline="always")
def _cube(lanes, k):
    """A uniform point of ``[-1, 1)^3`` from lane ``k``: ``(x, y, z, inside the unit ball)``."""
    x = 2.0 * _unit(_draw(lanes, k)) - 1.0
    y = 2.0 * _unit(_draw(lanes, k)) - 1.0
    z = 2.0 * _unit(_draw(lanes, k)) - 1.0
    return x, y, z, x * x + y * y + z * z < 1.0


@numba.njit(inline="always")
def _row_heisenberg(chain, colour, r, h, lanes, w, bj):
    """One Heisenberg row ``r`` of ``colour`` in its local fields ``h`` ``(3, K)``;
    ``bj`` = beta J.  Returns the accepted moves."""
    flips = 0
    for k in range(chain.shape[3]):
        p0, p1, p2, first = _cube(lanes, k)
        q0, q1, q2, second = _cube(lanes, k)
        u = _unit(_draw(lanes, k))
        k0, k1, k2 = (p0, p1, p2) if first else (q0, q1, q2)
        ox, oy, oz = chain[colour, 0, r, k], chain[colour, 1, r, k], chain[colour, 2, r, k]
        nx, ny, nz = ox + w * k0, oy + w * k1, oz + w * k2
        inv = 1.0 / np.sqrt(nx * nx + ny * ny + nz * nz)
        nx, ny, nz = nx * inv, ny * inv, nz * inv
        de = (nx - ox) * h[0, k] + (ny - oy) * h[1, k] + (nz - oz) * h[2, k]
        ok = (first | second) & (u < expneg(-bj * de))  # & and |: no branch
        chain[colour, 0, r, k] = nx if ok else ox
        chain[colour, 1, r, k] = ny if ok else oy
        chain[colour, 2, r, k] = nz if ok else oz
        flips += np.int64(ok)
    return flips


# no zero-division branch (numba's default error model) so that the rows vectorise; a * b + c as one FMA
@numba.njit(error_model="numpy", fastmath={"contract"})
def _block(chain, colour, lo, hi, nbr, parity, lanes, w, bj, h):
    """Rows ``lo..hi`` of one colour of one chain ``(2, n, R, K)``; ``h``: scratch
    ``(n, K)``.  Returns the accepted moves."""
    n = chain.shape[1]
    three = nbr.shape[1] == 4
    flips = 0
    for r in range(lo, hi):
        p = (parity[r] + colour) & 1
        rows = (nbr[r, 0], nbr[r, 1], nbr[r, 2] if three else -1, nbr[r, 3] if three else -1)
        for a in range(n):
            _neighbour_sum(chain, colour, a, r, rows, p, h)
        if n == 2:
            flips += _row_xy(chain, colour, r, h, lanes, w, bj)
        else:
            flips += _row_heisenberg(chain, colour, r, h, lanes, w, bj)
    return flips


@numba.njit(inline="always")
def _bond_sums(chain, r, src, k0, k1, shift, acc):
    """Add the bonds of the colour-1 sites ``k0..k1`` of row ``r`` with their colour-0
    neighbours at ``k + shift`` of row ``src`` to ``acc``: ``[sum of S_i . S_j,
    sum of x_i x_j + y_i y_j, sum of x_i y_j - y_i x_j]``."""
    n = chain.shape[1]
    dot, c, sn = 0.0, 0.0, 0.0
    for k in range(k0, k1):
        xi, yi, xj, yj = chain[1, 0, r, k], chain[1, 1, r, k], chain[0, 0, src, k + shift], chain[0, 1, src, k + shift]
        c += xi * xj + yi * yj
        sn += xi * yj - yi * xj
        if n == 3:
            dot += chain[1, 2, r, k] * chain[0, 2, src, k + shift]
    acc[0] += dot + c
    acc[1] += c
    acc[2] += sn


@numba.njit(inline="always")
def _full_row(chain, r, parity_r, row):
    """Components 0 and 1 of row ``r`` in site order into ``row`` ``(2, 2K + 1)``
    (the last entry repeats the first: the torus closes)."""
    K = chain.shape[3]
    for colour in range(2):
        p = (parity_r + colour) & 1
        for k in range(K):
            row[0, 2 * k + p] = chain[colour, 0, r, k]
            row[1, 2 * k + p] = chain[colour, 1, r, k]
    row[0, 2 * K], row[1, 2 * K] = row[0, 0], row[1, 0]


@numba.njit(inline="always")
def _crossing(px, py, qx, qy):
    """+1 (-1) when the shorter arc from p to q crosses the +x axis counterclockwise
    (clockwise); ``&`` rather than ``and``, which would branch."""
    cross = px * qy - py * qx
    return np.int64((py < 0.0) & (qy >= 0.0) & (cross > 0.0)) - np.int64((qy < 0.0) & (py >= 0.0) & (cross < 0.0))


@numba.njit(inline="always")
def pack_chain(s, parity, out):
    """One chain ``s`` ``(N, n)`` in site order into the packed ``out`` ``(2, n, R, K)``."""
    n, R, K = out.shape[1], out.shape[2], out.shape[3]
    for r in range(R):
        base = 2 * K * r
        for colour in range(2):
            p = (parity[r] + colour) & 1
            for a in range(n):
                for k in range(K):
                    out[colour, a, r, k] = s[base + 2 * k + p, a]


@numba.njit(cache=True)
def _pack_all(state, parity, out):
    for c in range(state.shape[0]):
        pack_chain(state[c], parity, out[c])


@numba.njit(cache=True, fastmath={"reassoc"})  # sums in any order: the reductions vectorise
def measure(chain, nbr, parity, J, vortices, out):
    """Totals of one chain ``(2, n, R, K)`` into ``out``: energy (J), magnetisation
    ``(n,)``, staggered magnetisation ``(n,)`` (+ on colour 0, the colour of site 0),
    per axis the two helicity sums of :func:`~physbreak.mc.compiled.kt_sums`, and
    with ``vortices`` the number of plaquettes winding by +-2 pi."""
    n, R, K = chain.shape[1], chain.shape[2], chain.shape[3]
    d = nbr.shape[1] // 2 + 1
    out[:] = 0.0
    for a in range(n):
        s0, s1 = 0.0, 0.0
        for r in range(R):
            for k in range(K):
                s0 += chain[0, a, r, k]
                s1 += chain[1, a, r, k]
        out[1 + a] = s0 + s1
        out[1 + n + a] = s0 - s1
    acc = np.zeros(3)
    e = 0.0
    for r in range(R):
        p = (parity[r] + 1) & 1  # colour 1: every bond has one end there
        for axis in range(d):
            for side in range(2):  # the neighbour at -axis, then at +axis
                acc[:] = 0.0
                if axis < d - 1:
                    _bond_sums(chain, r, nbr[r, 2 * axis + side], 0, K, 0, acc)
                else:  # in the row: at k - 1 and k (p = 0), at k and k + 1 (p = 1)
                    shift = side - 1 if p == 0 else side
                    if shift == 0:
                        _bond_sums(chain, r, r, 0, K, 0, acc)
                    elif shift == 1:
                        _bond_sums(chain, r, r, 0, K - 1, 1, acc)
                        _bond_sums(chain, r, r, K - 1, K, 1 - K, acc)
                    else:
                        _bond_sums(chain, r, r, 1, K, -1, acc)
                        _bond_sums(chain, r, r, 0, 1, K - 1, acc)
                e += acc[0]
                out[1 + 2 * n + 2 * axis] += J * acc[1]
                out[1 + 2 * n + 2 * axis + 1] += J * (2.0 * side - 1.0) * acc[2]  # bond j -> i: the opposite
    out[0] = -J * e
    if vortices:
        L = 2 * K
        low, high = np.empty((2, L + 1)), np.empty((2, L + 1))
        count = 0
        _full_row(chain, 0, parity[0], high)
        for r in range(R):  # rows r (low) and r + 1 (high); row r + 1 is row 0 at the end
            low, high = high, low
            up = nbr[r, 1]
            _full_row(chain, up, parity[up], high)
            for j in range(L):  # corners (r, j), (r + 1, j), (r + 1, j + 1), (r, j + 1)
                wind = _crossing(low[0, j], low[1, j], high[0, j], high[1, j]) \
                    + _crossing(high[0, j], high[1, j], high[0, j + 1], high[1, j + 1]) \
                    + _crossing(high[0, j + 1], high[1, j + 1], low[0, j + 1], low[1, j + 1]) \
                    + _crossing(low[0, j + 1], low[1, j + 1], low[0, j], low[1, j])
                count += abs(wind)
        out[1 + 2 * n + 2 * d] = count


@numba.njit(parallel=True, cache=True)
def run(packed, nbr, parity, J, widths, adapt, beta, lanes, vortices, n_samples, sweeps_per_sample, out):
    """``n_samples x sweeps_per_sample`` sweeps in place.  packed: ``(C, 2, n, rows, K)``
    float64; nbr, parity: :class:`~physbreak.mc.checkerboard.Layout`; widths: ``(C,)``
    proposal widths (adapted with ``adapt``); lanes: ``(C * B, 4, K)`` uint32 for B
    row blocks per chain; out: ``(n_samples or 0, C, 1 + 2n + 2d (+ 1 with vortices))``
    :func:`measure` after each sample."""
    C, n, R, K = packed.shape[0], packed.shape[2], packed.shape[3], packed.shape[4]
    CB = lanes.shape[0]
    B = CB // C
    flips = np.zeros(CB, np.int64)
    for t in range(n_samples):
        for _ in range(sweeps_per_sample):
            flips[:] = 0
            for colour in range(2):
                for cb in numba.prange(CB):
                    c, b = cb // B, cb % B
                    h = np.empty((n, K))
                    flips[cb] += _block(packed[c], colour, R * b // B, R * (b + 1) // B, nbr, parity, lanes[cb],
                                        widths[c], beta[c] * J, h)
            if adapt:
                for c in range(C):
                    rate = flips[c * B:(c + 1) * B].sum() / (2 * R * K)
                    widths[c] = min(max(widths[c] * (1.0 + (rate - 0.5)), 1e-4), MAX_WIDTH)
        if out.shape[0]:
            for c in numba.prange(C):
                measure(packed[c], nbr, parity, J, vortices, out[t, c])


def supports(model) -> bool:
    """Whether :class:`CompiledMetropolis` runs ``model``: XY or Heisenberg, zero field,
    one uniform nearest-neighbour coupling on a periodic square or cubic lattice of
    even sizes of at least 4 (so the two neighbours along an axis differ), CPU."""
    from physbreak.systems import ONModel

    return isinstance(model, ONModel) and model.n_components in (2, 3) and model.device_type == "cpu" \
        and uniform_nearest_neighbour(model, min_size=4)


def has_vortices(model) -> bool:
    """Whether :func:`measure` counts vortices for ``model``: XY on the square lattice."""
    return model.n_components == 2 and len(model.lattice.size) == 2


class CompiledMetropolis(ResidentKernel):
    """The compiled Metropolis sampler (the interface of
    :class:`physbreak.mc.compiled.CompiledMetropolis`) on this kernel for the
    models :func:`supports` accepts.  The state ``(C, N, n)`` float64 is packed at
    the start of every :meth:`run` and unpacked at its end.

    Args:
        model: the XY or Heisenberg model; temperatures: ``(C,)`` (J/k_B);
        seed_sequence: seeds the generators; step: initial proposal width.
    """

    dtype = np.float64

    def __init__(self, model, temperatures, seed_sequence: np.random.SeedSequence, step: float = 1.0):
        if not supports(model):
            raise ValueError("the compiled O(n) kernel needs a zero-field XY or Heisenberg model with one uniform "
                             "nearest-neighbour coupling on a periodic square or cubic lattice with even sizes "
                             ">= 4, on the CPU")
        self.model = model
        self.beta = 1.0 / np.asarray(temperatures, dtype=np.float64)
        self.n_chains = len(self.beta)
        self.layout = Layout(model.lattice.size)
        self.blocks = self.layout.blocks
        self.rng = self.layout.lanes(seed_sequence, self.n_chains)
        self.J = float(model.bond_J[0])
        self.step = np.full(self.n_chains, min(float(step), MAX_WIDTH))
        self.vortices = has_vortices(model)
        self.columns = 1 + 2 * model.n_components + 2 * len(model.lattice.size) + int(self.vortices)

    def _pack(self, state: np.ndarray) -> np.ndarray:
        lay = self.layout
        packed = np.empty((len(state), 2, state.shape[2], lay.rows, lay.K))
        _pack_all(state, lay.parity, packed)
        return packed

    def run(self, state, n_samples: int, sweeps_per_sample: int = 1, adapt: bool = False,
            measure: bool = True) -> np.ndarray | None:
        """As :meth:`physbreak.mc.compiled.CompiledMetropolis.run` (totals
        ``(n_samples, C, 1 + 2n + kt_columns)``)."""
        state = to_numpy(state)  # a CPU tensor shares its memory: updated in place too
        packed = self._pack(state)
        out = np.zeros((n_samples if measure else 0, self.n_chains, self.columns))
        lay = self.layout
        run(packed, lay.nbr, lay.parity, self.J, self.step, adapt, self.beta, self.rng, self.vortices,
            n_samples, sweeps_per_sample, out)
        component = np.empty(state.shape[:2])
        for a in range(state.shape[2]):
            lay.unpack(np.ascontiguousarray(packed[:, :, a]), component)
            state[..., a] = component
        return self._result(out, n_samples, sweeps_per_sample, measure)

    def totals(self, state) -> np.ndarray:
        """:func:`measure` of every chain ``(C, columns)``."""
        packed, lay = self._pack(to_numpy(state)), self.layout
        out = np.zeros((self.n_chains, self.columns))
        for c in range(self.n_chains):
            measure(packed[c], lay.nbr, lay.parity, self.J, self.vortices, out[c])
        return out

    def energy(self, state) -> np.ndarray:
        """Total energy per chain ``(C,)`` (units of J)."""
        return self.totals(state)[:, 0]

    def get_state(self) -> dict:
        return {**super().get_state(), "step": self.step.copy()}

    def set_state(self, saved: dict):
        super().set_state(saved)
        self.step = np.asarray(saved["step"], dtype=np.float64).copy()
