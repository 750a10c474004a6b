"""xoshiro256** (and the 32-bit xoshiro128**) pseudo-random generators for numba kernels.

The state is a plain ``(n_chains, 4)`` uint64 array, so it is saved in a
checkpoint and restored exactly (bit-for-bit resume).  Reference: Blackman &
Vigna, "Scrambled linear pseudorandom number generators" (2021).
"""

import numba
import numpy as np

_U = np.uint64


def seed_states(seed_sequence: np.random.SeedSequence, n_chains: int) -> np.ndarray:
    """Independent, nonzero ``(n_chains, 4)`` uint64 states from a SeedSequence."""
    states = np.stack([child.generate_state(4, dtype=np.uint64)
                       for child in seed_sequence.spawn(n_chains)])
    states[np.all(states == 0, axis=1), 0] = 1
    return states


@numba.njit(inline="always")
def rotl(x, k):
    """64-bit rotation left by k."""
    return (x << _U(k)) | (x >> _U(64 - k))


@numba.njit(inline="always")
def next_u64(s):
    """Advance state ``s`` (uint64[4]) and return the next 64-bit output."""
    result = rotl(s[1] * _U(5), 7) * _U(9)
    t = s[1] << _U(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result


@numba.njit(inline="always")
def uniform(s):
    """Uniform float64 in [0, 1) with 53 random bits."""
    return float(next_u64(s) >> _U(11)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always")
def randint(s, n):
    """Uniform integer in ``0..n-1``."""
    return min(int(uniform(s) * n), n - 1)


@numba.njit(inline="always")
def normal(s):
    """Standard normal deviate (Box-Muller)."""
    u1 = 1.0 - uniform(s)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * uniform(s))


@numba.njit(inline="always")
def unit_vector(s, r):
    """Fill ``r`` ``(n,)`` with a uniform random unit vector.  n = 2 and 3: Marsaglia
    (Ann. Math. Stat. 43, 645, 1972), from a uniform point ``(x, y)`` of the unit disc,
    ``q = x^2 + y^2``: ``((x^2 - y^2) / q, 2xy / q)`` (the doubled angle) and
    ``(2x sqrt(1 - q), 2y sqrt(1 - q), 1 - 2q)``, no transcendental function; else
    normalised normal deviates."""
    n = r.shape[0]
    if n == 2 or n == 3:
        while True:
            x = 2.0 * uniform(s) - 1.0
            y = 2.0 * uniform(s) - 1.0
            q = x * x + y * y
            if 0.0 < q < 1.0:
                break
        if n == 2:
            r[0] = (x * x - y * y) / q
            r[1] = 2.0 * x * y / q
        else:
            w = 2.0 * np.sqrt(1.0 - q)
            r[0] = x * w
            r[1] = y * w
            r[2] = 1.0 - 2.0 * q
        return
    norm = 0.0
    for a in range(n):
        r[a] = normal(s)
        norm += r[a] * r[a]
    for a in range(n):
        r[a] /= np.sqrt(norm)


@numba.njit(inline="always")
def next_u32(s, buf, have):
    """A uniform 32-bit integer, each 64-bit draw serving two: returns ``(u, buf, have)``
    (``buf``: the draw in use, ``have``: its halves left; start with ``(0, 0)``)."""
    if have == 0:
        buf = next_u64(s)
        have = 2
    return buf & _U(0xFFFFFFFF), buf >> _U(32), have - 1


@numba.njit(inline="always")
def step(a, b, c, d):
    """xoshiro256** on a state held in four scalars (registers in a hot loop):
    returns ``(output, a, b, c, d)``; load and store the state array around the loop."""
    result = rotl(b * _U(5), 7) * _U(9)
    t = b << _U(17)
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 45)
    return result, a, b, c, d


_U32 = np.uint32


@numba.njit(inline="always")
def _rotl32(x, k):
    return _U32((x << _U32(k)) | (x >> _U32(32 - k)))  # numba widens to 64 bits: cast back


@numba.njit(inline="always")
def step32(a, b, c, d):
    """xoshiro128** on four uint32 scalars: ``(32-bit output, a, b, c, d)``; one
    generator per SIMD lane in the vectorised kernels."""
    result = _U32(_rotl32(_U32(b * _U32(5)), 7) * _U32(9))
    t = _U32(b << _U32(9))
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    return result, a, b, c, _rotl32(d, 11)
