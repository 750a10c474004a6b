"""Vectorised Metropolis for the XY and Heisenberg models on a periodic square
or cubic lattice (numba, CPU, SIMD).

The packed layout of :mod:`physbreak.mc.checkerboard`, one packed array per
spin component: ``packed[c, colour, a, r, k]`` (float64) is component ``a`` of
that module's site ``(colour, r, k)``.  A colour is updated in chunks of
whole rows (:data:`CHUNK` sites, whatever the row length: rows of 8 sites
would leave the vector units idle), each chunk in one branch-free loop that
LLVM vectorises, with a xoshiro128** generator per site of a chunk
(:func:`physbreak.mc.rng.step32`), after one pass that gathers the chunk's
local fields (:func:`_fields`); nothing in the loops calls a transcendental
function:

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
sums and (XY on the square lattice) vortex count of the packed state are
known: the columns of :func:`physbreak.mc.compiled.kt_sums`, in its order,
summed during the sample's last sweep from the fields the update gathers anyway
(every bond has one end of colour 1: ``E = -J sum_(colour 1) S_i . h_i``); the
vortices take one pass of their own.  A
plaquette's winding is the signed number of times the shorter arcs of its
edges cross the +x axis (no arctan).  Sweeps update colour 0, then colour 1:
exactly a sequential sweep in that order.

``H = -J sum_<ij> S_i . S_j``, zero field; temperatures in units of J/k_B.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.lazy import to_numpy
from physbreak.mc.checkerboard import Layout, seed_lanes, uniform_nearest_neighbour
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


CHUNK = 256  # sites of one colour per update loop: long vector loops whatever the row length


@numba.njit(cache=True)
def chunk_rows(K: int) -> int:
    """Rows of ``K`` sites per chunk: the update loops run over ``chunk_rows(K) * K`` sites."""
    return max(1, CHUNK // K)


# The kernels work on one chunk of whole rows of one colour at a time, through one
# flat view ``(2, n, R K)`` of the chain and one view per chunk and component; the
# loops index those views by the loop counter only (a computed index costs numba's
# negative-index check, which stops LLVM vectorising) and touch at most 8 arrays
# each (LLVM's limit on the run-time checks that two arrays do not overlap).

@numba.njit(inline="always")
def _cyclic(src, start, count, dst):
    """``dst[i] = src[(start + i) mod len(src)]`` for ``i < count``, ``0 <= start < len(src)``."""
    n1 = min(count, src.shape[0] - start)
    head, tail = src[start:start + n1], src[:count - n1]
    for i in range(n1):
        dst[i] = head[i]
    for i in range(count - n1):
        dst[n1 + i] = tail[i]


@numba.njit(inline="always")
def _fields(flat, colour, r0, r1, nbr, parity, wraps, h, parts, split, nb, odd):
    """Local fields of the rows ``r0..r1`` of ``colour`` from the other colour of the
    flat chain ``(2, n, R K)``: ``h[a, i]``, the sum of component ``a`` over the 2d
    neighbours of the chunk's site ``i``.  With ``split``, per axis and for components
    0 and 1 the sum and the difference (+axis minus -axis) of the two neighbours:
    ``parts[axis, 0 | 1, component, i]``.  Scratch: ``nb`` ``(2d, chunk)``, the
    neighbours at -axis and +axis of each axis, ``odd`` ``(chunk,)``.

    A row's neighbours along an axis of the rows are the rows ``stride`` away (the
    stride: the row that follows row 0 along it), wrapped round the axis; a cyclic
    shift of the whole colour by ``stride`` rows finds them but where an inner axis
    wraps, and those rows (:func:`wrap_rows` ``wraps``) are then copied from the
    neighbour table ``nbr``.  In the
    row, site ``k`` of parity ``p`` has its neighbours at ``k + p - 1`` and ``k + p``,
    wrapped round the row."""
    o, R, K = 1 - colour, parity.shape[0], flat.shape[2] // parity.shape[0]
    T, lo, count, d = R * K, r0 * K, (r1 - r0) * K, nbr.shape[1] // 2 + 1
    for r in range(r0, r1):
        p = np.float64((parity[r] + colour) & 1)
        for k in range(K):
            odd[(r - r0) * K + k] = p
    for a in range(flat.shape[1]):
        src = flat[o, a]
        here = src[lo:lo + count]
        for slot in range(2 * d - 2):
            rows = nbr[0, slot | 1] * (2 * (slot & 1) - 1)  # -stride, +stride
            _cyclic(src, (lo + rows * K) % T, count, nb[slot])
            r = wraps[slot, r0]
            while r < r1:
                start, base = nbr[r, slot] * K, (r - r0) * K
                for k in range(K):
                    nb[slot, base + k] = src[start + k]
                r = wraps[slot, r + 1]
        minus, plus = nb[2 * d - 2], nb[2 * d - 1]
        _cyclic(src, (lo + T - 1) % T, count, minus)
        _cyclic(src, (lo + 1) % T, count, plus)
        for i in range(count):  # products with 0 and 1 rather than a select, which would not vectorise
            minus[i] = odd[i] * here[i] + (1.0 - odd[i]) * minus[i]
            plus[i] = odd[i] * plus[i] + (1.0 - odd[i]) * here[i]
        for r in range(r0, r1):  # the neighbour that wraps round the row
            base = (r - r0) * K
            if odd[base] > 0.5:
                plus[base + K - 1] = src[r * K]
            else:
                minus[base] = src[r * K + K - 1]
        if d == 3:
            for i in range(count):
                h[a, i] = nb[0, i] + nb[1, i] + nb[2, i] + nb[3, i] + nb[4, i] + nb[5, i]
        else:
            for i in range(count):
                h[a, i] = nb[0, i] + nb[1, i] + nb[2, i] + nb[3, i]
        if split and a < 2:
            for axis in range(d):
                for i in range(count):
                    parts[axis, 0, a, i] = nb[2 * axis + 1, i] + nb[2 * axis, i]
                    parts[axis, 1, a, i] = nb[2 * axis + 1, i] - nb[2 * axis, i]


@numba.njit(error_model="numpy", fastmath={"contract"})
def _update_xy(flat, colour, lo, count, h, lanes, w, bj):
    """XY Metropolis on sites ``lo .. lo + count`` of ``colour`` of ``flat`` in their
    fields ``h`` ``(2, >= count)``, lane ``m`` of ``lanes`` ``(4, >= count)`` drawing
    for site ``lo + m``; ``bj`` = beta J.  Returns the accepted moves."""
    x, y = flat[colour, 0, lo:lo + count], flat[colour, 1, lo:lo + count]
    flips = 0
    for m in range(count):
        s0, s1, s2, s3 = lanes[0, m], lanes[1, m], lanes[2, m], lanes[3, m]
        r0, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        r1, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        lanes[0, m], lanes[1, m], lanes[2, m], lanes[3, m] = s0, s1, s2, s3
        t = w * (2.0 * _unit(r0) - 1.0)
        inv = 1.0 / (1.0 + t * t)
        c, s = (1.0 - t * t) * inv, 2.0 * t * inv
        ox, oy = x[m], y[m]
        nx, ny = c * ox - s * oy, s * ox + c * oy
        ok = _unit(r1) < expneg(-bj * ((nx - ox) * h[0, m] + (ny - oy) * h[1, m]))
        x[m] = nx if ok else ox
        y[m] = ny if ok else oy
        flips += np.int64(ok)
    return flips


@numba.njit(inline="always")
def _cube(r0, r1, r2):
    """Three 32-bit draws as a uniform point of ``[-1, 1)^3``: ``(x, y, z, inside the unit ball)``."""
    x, y, z = 2.0 * _unit(r0) - 1.0, 2.0 * _unit(r1) - 1.0, 2.0 * _unit(r2) - 1.0
    return x, y, z, x * x + y * y + z * z < 1.0


@numba.njit(error_model="numpy", fastmath={"contract"})
def _update_heisenberg(flat, colour, lo, count, h, lanes, w, bj):
    """Heisenberg Metropolis on sites ``lo .. lo + count`` of ``colour`` (as
    :func:`_update_xy`, fields ``h`` ``(3, >= count)``).  Returns the accepted moves."""
    x, y, z = flat[colour, 0, lo:lo + count], flat[colour, 1, lo:lo + count], flat[colour, 2, lo:lo + count]
    flips = 0
    for m in range(count):
        s0, s1, s2, s3 = lanes[0, m], lanes[1, m], lanes[2, m], lanes[3, m]
        r0, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        r1, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        r2, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        r3, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        r4, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        r5, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        r6, s0, s1, s2, s3 = step32(s0, s1, s2, s3)
        lanes[0, m], lanes[1, m], lanes[2, m], lanes[3, m] = s0, s1, s2, s3
        p0, p1, p2, first = _cube(r0, r1, r2)
        q0, q1, q2, second = _cube(r3, r4, r5)
        k0, k1, k2 = (p0, p1, p2) if first else (q0, q1, q2)
        ox, oy, oz = x[m], y[m], z[m]
        nx, ny, nz = ox + w * k0, oy + w * k1, oz + w * k2
        inv = 1.0 / np.sqrt(nx * nx + ny * ny + nz * nz)
        nx, ny, nz = nx * inv, ny * inv, nz * inv
        de = (nx - ox) * h[0, m] + (ny - oy) * h[1, m] + (nz - oz) * h[2, m]
        ok = (first | second) & (_unit(r6) < expneg(-bj * de))  # & and |: no branch
        x[m] = nx if ok else ox
        y[m] = ny if ok else oy
        z[m] = nz if ok else oz
        flips += np.int64(ok)
    return flips


@numba.njit(fastmath={"reassoc", "contract"})  # sums in any order: the reductions vectorise
def _tally(flat, colour, lo, count, h, parts, acc):
    """Add the sites ``lo .. lo + count`` of ``colour`` of ``flat`` to a chain's
    running sums ``acc`` ``(1 + 2n + 2d,)`` = ``[sum S . h, m of colour 1 (n), m of
    colour 0 (n), per axis the two helicity sums]``: colour 1 (with its fields ``h``
    and ``parts`` of :func:`_fields`) to all but ``m`` of colour 0, colour 0 to that
    only.  Every bond has one end of colour 1, so these are the energy and helicity
    sums of the whole chain."""
    n = flat.shape[1]
    for a in range(n):
        v, m, e = flat[colour, a, lo:lo + count], 0.0, 0.0
        for i in range(count):
            m += v[i]
        acc[1 + (1 - colour) * n + a] += m
        if colour == 1:
            for i in range(count):
                e += v[i] * h[a, i]
            acc[0] += e
    if colour == 0:
        return
    x, y = flat[1, 0, lo:lo + count], flat[1, 1, lo:lo + count]
    for axis in range(parts.shape[0]):
        c, s = 0.0, 0.0
        for i in range(count):
            c += x[i] * parts[axis, 0, 0, i] + y[i] * parts[axis, 0, 1, i]
            s += x[i] * parts[axis, 1, 1, i] - y[i] * parts[axis, 1, 0, i]
        acc[1 + 2 * n + 2 * axis] += c
        acc[2 + 2 * n + 2 * axis] += s


@numba.njit(inline="always")
def _scratch(n, nbr, size):
    """The arrays :func:`_fields` fills for a chunk of ``size`` sites: ``h``, ``parts``,
    ``nb``, ``odd``."""
    return np.empty((n, size)), np.empty((nbr.shape[1] // 2 + 1, 2, 2, size)), np.empty((nbr.shape[1] + 2, size)), \
        np.empty(size)


# no zero-division branch (numba's default error model) so that the loops vectorise; a * b + c as one FMA
@numba.njit(error_model="numpy", fastmath={"contract"})
def _block(flat, colour, lo, hi, nbr, parity, wraps, lanes, w, bj, measure, acc):
    """Rows ``lo..hi`` of one colour of one flat chain ``(2, n, R K)``, in chunks of
    :func:`chunk_rows` rows with one generator per site of a chunk (``lanes`` ``(4,
    chunk)``); with ``measure``, their sums into ``acc`` (:func:`_tally`).  Returns
    the accepted moves."""
    n, K, size = flat.shape[1], flat.shape[2] // parity.shape[0], lanes.shape[1]
    h, parts, nb, odd = _scratch(n, nbr, size)
    flips = 0
    for r0 in range(lo, hi, size // K):
        r1 = min(r0 + size // K, hi)
        _fields(flat, colour, r0, r1, nbr, parity, wraps, h, parts, measure and colour == 1, nb, odd)
        if n == 2:
            flips += _update_xy(flat, colour, r0 * K, (r1 - r0) * K, h, lanes, w, bj)
        else:
            flips += _update_heisenberg(flat, colour, r0 * K, (r1 - r0) * K, h, lanes, w, bj)
        if measure:
            _tally(flat, colour, r0 * K, (r1 - r0) * K, h, parts, acc)
    return flips


@numba.njit(inline="always")
def _finish(acc, n, J, out):
    """A chain's totals ``out`` (:func:`site_totals`, the vortex count aside) from its
    sums ``acc`` of :func:`_tally`."""
    out[0] = -J * acc[0]
    for a in range(n):
        out[1 + a] = acc[1 + n + a] + acc[1 + a]
        out[1 + n + a] = acc[1 + n + a] - acc[1 + a]
    for j in range(1 + 2 * n, acc.shape[0]):
        out[j] = J * acc[j]


@numba.njit(inline="always")
def _full_row(chain, r, parity_r, row):
    """Components 0 and 1 of row ``r`` of the packed chain ``(2, n, R, K)`` in site
    order into ``row`` ``(2, 2K + 1)`` (the last entry repeats the first: the torus closes)."""
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
def _windings(low, high, L):
    """The number of plaquettes between two neighbouring rows ``(2, L + 1)`` whose
    spins wind by +-2 pi."""
    count = 0
    for j in range(L):  # corners (r, j), (r + 1, j), (r + 1, j + 1), (r, j + 1)
        wind = _crossing(low[0, j], low[1, j], high[0, j], high[1, j]) \
            + _crossing(high[0, j], high[1, j], high[0, j + 1], high[1, j + 1]) \
            + _crossing(high[0, j + 1], high[1, j + 1], low[0, j + 1], low[1, j + 1]) \
            + _crossing(low[0, j + 1], low[1, j + 1], low[0, j], low[1, j])
        count += abs(wind)
    return count


@numba.njit
def _vortices(chain, nbr, parity):
    """The number of plaquettes of the packed square-lattice chain ``(2, n, R, K)``
    whose spins wind by +-2 pi."""
    R, L = chain.shape[2], 2 * chain.shape[3]
    low, high = np.empty((2, L + 1)), np.empty((2, L + 1))
    count = 0
    _full_row(chain, 0, parity[0], high)
    for r in range(R):  # rows r (low) and r + 1 (high); row r + 1 is row 0 at the end
        low, high = high, low
        up = nbr[r, 1]
        _full_row(chain, up, parity[up], high)
        count += _windings(low, high, L)
    return count


@numba.njit(cache=True)
def _pack_all(state, parity, out):
    """The chains ``state`` ``(C, N, n)`` in site order into the packed ``out`` ``(C, 2, n, R, K)``."""
    n, R, K = out.shape[2], out.shape[3], out.shape[4]
    for c in range(state.shape[0]):
        for r in range(R):
            base = 2 * K * r
            for colour in range(2):
                p = (parity[r] + colour) & 1
                for a in range(n):
                    for k in range(K):
                        out[c, colour, a, r, k] = state[c, base + 2 * k + p, a]


@numba.njit(inline="always")
def _bonds(here, there, acc, axis):
    """Add the bonds between the rows ``here`` and ``there`` ``(n, L)`` (the sites one
    step along ``axis``) to the sums ``acc`` of :func:`site_totals`: ``acc[0]`` the
    dot products, ``acc[1 + 2 axis]`` their xy parts, ``acc[2 + 2 axis]`` the xy cross products."""
    x, y, u, v = here[0], here[1], there[0], there[1]
    dot, cross, z = 0.0, 0.0, 0.0
    for k in range(x.shape[0]):
        dot += x[k] * u[k] + y[k] * v[k]
        cross += x[k] * v[k] - y[k] * u[k]
    if here.shape[0] == 3:
        w, t = here[2], there[2]
        for k in range(w.shape[0]):
            z += w[k] * t[k]
    acc[0] += dot + z
    acc[1 + 2 * axis] += dot
    acc[2 + 2 * axis] += cross


@numba.njit(fastmath={"reassoc", "contract"}, cache=True)  # sums in any order: the reductions vectorise
def site_totals(s, L, nbr, parity, J, vortices, out):
    """Totals of one site-ordered chain ``s`` ``(N, n)`` on the periodic square or
    cubic lattice with rows of ``L`` sites (the last axis) into ``out``: energy (J),
    magnetisation ``(n,)``, staggered magnetisation ``(n,)`` (+ on the colour of
    site 0), per axis the two helicity sums of :func:`~physbreak.mc.compiled.kt_sums`
    (units of J), and with ``vortices`` the number of plaquettes winding by +-2 pi:
    the sums that the sweeps of :func:`run` take as they go.  ``nbr``, ``parity``:
    the rows' neighbouring rows and parities of the :class:`~physbreak.mc.checkerboard.Layout`.
    The chain is first copied component by component into rows of ``L + 1`` sites
    (the last repeats the first) so that every sum runs over contiguous memory."""
    n, R, d = s.shape[1], s.shape[0] // L, nbr.shape[1] // 2 + 1
    rows = np.empty((n, R, L + 1))
    for r in range(R):
        site = s[r * L:(r + 1) * L]
        for a in range(n):
            row = rows[a, r]
            for k in range(L):
                row[k] = site[k, a]
            row[L] = row[0]
    acc = np.zeros(1 + 2 * d)
    m, even = np.zeros(n), np.zeros(n)
    for r in range(R):
        here = rows[:, r, :L]
        for axis in range(d - 1):
            _bonds(here, rows[:, nbr[r, 2 * axis + 1], :L], acc, axis)
        _bonds(here, rows[:, r, 1:], acc, d - 1)
        for a in range(n):
            row, first = here[a], here[a, parity[r]::2]  # first: the sites of colour 0
            total, part = 0.0, 0.0
            for k in range(L):
                total += row[k]
            for k in range(first.shape[0]):
                part += first[k]
            m[a] += total
            even[a] += part
    out[0] = -J * acc[0]
    for axis in range(d):
        out[1 + 2 * n + 2 * axis] = J * acc[1 + 2 * axis]
        out[2 + 2 * n + 2 * axis] = J * acc[2 + 2 * axis]
    for a in range(n):
        out[1 + a] = m[a]
        out[1 + n + a] = 2.0 * even[a] - m[a]
    if vortices:
        count = 0
        for r in range(R):
            count += _windings(rows[:2, r], rows[:2, nbr[r, 1]], L)
        out[1 + 2 * n + 2 * d] = count


@numba.njit(parallel=True, cache=True)
def run(packed, nbr, parity, wraps, J, widths, adapt, beta, lanes, vortices, n_samples, sweeps_per_sample, out):
    """``n_samples x sweeps_per_sample`` sweeps in place.  packed: ``(C, 2, n, rows, K)``
    float64; nbr, parity: :class:`~physbreak.mc.checkerboard.Layout`; wraps: :func:`wrap_rows`; widths: ``(C,)``
    proposal widths (adapted with ``adapt``); lanes: ``(C * B, 4, chunk_rows(K) K)``
    uint32 for B row blocks per chain; out: ``(n_samples or 0, C, 1 + 2n + 2d (+ 1 with
    vortices))``: :func:`site_totals` after each sample, summed during its last sweep."""
    C, n, R, K = packed.shape[0], packed.shape[2], packed.shape[3], packed.shape[4]
    flat = packed.reshape((C, 2, n, R * K))
    CB = lanes.shape[0]
    B = CB // C
    flips = np.zeros(CB, np.int64)
    acc = np.zeros((CB, 1 + 2 * n + nbr.shape[1] + 2))
    for t in range(n_samples):
        for sweep in range(sweeps_per_sample):
            measured = out.shape[0] > 0 and sweep == sweeps_per_sample - 1
            flips[:] = 0
            acc[:] = 0.0
            for colour in range(2):
                for cb in numba.prange(CB):
                    c, b = cb // B, cb % B
                    flips[cb] += _block(flat[c], colour, R * b // B, R * (b + 1) // B, nbr, parity, wraps, lanes[cb],
                                        widths[c], beta[c] * J, measured, acc[cb])
            if adapt:
                for c in range(C):
                    rate = flips[c * B:(c + 1) * B].sum() / (2 * R * K)
                    widths[c] = min(max(widths[c] * (1.0 + (rate - 0.5)), 1e-4), MAX_WIDTH)
        if out.shape[0]:
            for c in numba.prange(C):
                _finish(acc[c * B:(c + 1) * B].sum(axis=0), n, J, out[t, c])
                if vortices:
                    out[t, c, acc.shape[1]] = _vortices(packed[c], nbr, parity)


def wrap_rows(nbr: np.ndarray) -> np.ndarray:
    """For the neighbour rows ``nbr`` ``(R, slots)`` of a
    :class:`~physbreak.mc.checkerboard.Layout`: ``(slots, R + 1)``, entry ``[slot, r]``
    the first row ``>= r`` whose neighbour in ``slot`` is not the cyclic shift of the
    rows by that axis' stride (an inner axis wraps there; :func:`_fields`), ``R`` where
    none is."""
    R = len(nbr)
    rows, out = np.arange(R), np.full((nbr.shape[1], R + 1), R, np.int64)
    for slot in range(nbr.shape[1]):
        stride = nbr[0, slot | 1] * (2 * (slot & 1) - 1)  # -stride, +stride
        wrapped = np.append(np.flatnonzero(nbr[:, slot] != (rows + stride) % R), R)
        out[slot] = wrapped[np.searchsorted(wrapped, np.arange(R + 1))]
    return out


def supports(model) -> bool:
    """Whether :class:`CompiledMetropolis` runs ``model``: XY or Heisenberg, zero field,
    one uniform nearest-neighbour coupling on a periodic square or cubic lattice of
    even sizes of at least 4 (so the two neighbours along an axis differ), CPU."""
    from physbreak.systems import ONModel

    return isinstance(model, ONModel) and model.n_components in (2, 3) and model.device_type == "cpu" \
        and uniform_nearest_neighbour(model, min_size=4)


def has_vortices(model) -> bool:
    """Whether :func:`site_totals` counts vortices for ``model``: XY on the square lattice."""
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
        self.wraps = wrap_rows(self.layout.nbr)
        self.blocks = self.layout.blocks
        self.rng = seed_lanes(seed_sequence, self.n_chains * self.blocks, chunk_rows(self.layout.K) * self.layout.K)
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
        run(packed, lay.nbr, lay.parity, self.wraps, self.J, self.step, adapt, self.beta, self.rng, self.vortices,
            n_samples, sweeps_per_sample, out)
        component = np.empty(state.shape[:2])
        for a in range(state.shape[2]):
            lay.unpack(np.ascontiguousarray(packed[:, :, a]), component)
            state[..., a] = component
        return self._result(out, n_samples, sweeps_per_sample, measure)

    def totals(self, state) -> np.ndarray:
        """:func:`site_totals` of every chain ``(C, columns)``."""
        state, lay = to_numpy(state), self.layout
        out = np.zeros((self.n_chains, self.columns))
        for c in range(self.n_chains):
            site_totals(state[c], lay.size[-1], lay.nbr, lay.parity, self.J, self.vortices, out[c])
        return out

    def energy(self, state) -> np.ndarray:
        """Total energy per chain ``(C,)`` (units of J)."""
        return self.totals(state)[:, 0]

    def get_state(self) -> dict:
        return {**super().get_state(), "step": self.step.copy()}

    def set_state(self, saved: dict):
        super().set_state(saved)
        self.step = np.asarray(saved["step"], dtype=np.float64).copy()
