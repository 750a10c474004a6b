"""Bases of equivariant linear maps and biases.

* Signed permutation representations: the maps are spanned by the orbits of
  the group on index pairs ``(i, j)``, with the relative signs fixed by
  ``W[p_out(i), p_in(j)] = s_out(i) s_in(j) W[i, j]``; an orbit whose signs
  contradict themselves carries only zero.  Orbits are found with a
  union-find with parity over the group's *generators* — exact and cheap even
  for large lattices (no dense solve, no loop over all elements).
* Any other pair of representations: the nullspace of the stacked constraints
  ``rho_out(g) W - W rho_in(g) = 0`` over the generators (dense SVD; small
  representations only).

Bases are cached per representation pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from physbreak.relaxed.reps import Rep, SignedPermRep


@dataclass(frozen=True)
class OrbitBasis:
    """``W[i, j] = sign[i, j] * theta[orbit[i, j]]`` (orbit -1: always zero)."""

    orbit: np.ndarray  # (d_out, d_in) int
    sign: np.ndarray  # (d_out, d_in) float +-1
    size: int  # number of free parameters


@dataclass(frozen=True)
class DenseBasis:
    """``W = sum_k theta_k basis[k]``."""

    basis: np.ndarray  # (size, d_out, d_in), orthonormal
    size: int


@numba.njit(cache=True)
def _find(parent, parity, a):
    """Root of ``a`` and the parity of ``a`` relative to it (with path compression)."""
    root, p = a, 0
    while parent[root] != root:
        p ^= parity[root]
        root = parent[root]
    cur, pc = a, p
    while parent[cur] != cur:
        nxt, pn = parent[cur], pc ^ parity[cur]
        parent[cur], parity[cur] = root, pc
        cur, pc = nxt, pn
    return root, p


@numba.njit(cache=True)
def _signed_orbits(n, moves, flips):
    """Union-find with parity over nodes ``0..n-1``; ``moves[k, u]`` is the image
    of node u under generator k and ``flips[k, u]`` (0/1) the sign between them.
    Returns (orbit id or -1 for contradictory orbits, parity, number of orbits)."""
    parent = np.arange(n)
    parity = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=np.bool_)
    for k in range(moves.shape[0]):
        for u in range(n):
            v = moves[k, u]
            ru, pu = _find(parent, parity, u)
            rv, pv = _find(parent, parity, v)
            want = flips[k, u]
            if ru == rv:
                if (pu ^ pv) != want:
                    bad[ru] = True
            else:
                parent[rv] = ru
                parity[rv] = pu ^ pv ^ want
                bad[ru] = bad[ru] or bad[rv]
    label = -np.ones(n, dtype=np.int64)
    out = -np.ones(n, dtype=np.int64)
    sign = np.zeros(n, dtype=np.int64)
    count = 0
    for u in range(n):
        r, p = _find(parent, parity, u)
        if bad[r]:
            continue
        if label[r] < 0:
            label[r] = count
            count += 1
        out[u] = label[r]
        sign[u] = p
    return out, sign, count


def _generators(rep: Rep) -> list[int]:
    return rep.group.generators or list(range(1, rep.group.order))


def orbit_basis(rep_in: SignedPermRep, rep_out: SignedPermRep) -> OrbitBasis:
    d_in, d_out = rep_in.dim, rep_out.dim
    gens = _generators(rep_out)
    moves = np.empty((len(gens), d_out * d_in), dtype=np.int64)
    flips = np.empty_like(moves)
    for k, g in enumerate(gens):
        moves[k] = (rep_out.perm[g][:, None] * d_in + rep_in.perm[g][None, :]).ravel()
        flips[k] = ((rep_out.sign[g][:, None] * rep_in.sign[g][None, :]) < 0).ravel()
    orbit, parity, count = _signed_orbits(d_out * d_in, moves, flips)
    return OrbitBasis(orbit.reshape(d_out, d_in), (1.0 - 2.0 * parity).reshape(d_out, d_in), int(count))


def bias_basis(rep: SignedPermRep) -> OrbitBasis:
    """Invariant vectors ``b[p(i)] = s(i) b[i]`` of a signed permutation representation."""
    gens = _generators(rep)
    moves = rep.perm[gens].astype(np.int64)
    flips = (rep.sign[gens] < 0).astype(np.int64)
    orbit, parity, count = _signed_orbits(rep.dim, moves, flips)
    return OrbitBasis(orbit[:, None], (1.0 - 2.0 * parity)[:, None], int(count))


def nullspace_basis(rep_in: Rep, rep_out: Rep, tol: float = 1e-8) -> DenseBasis:
    """Orthonormal basis of ``{W : rho_out(g) W = W rho_in(g)}`` (row-major vec)."""
    d_in, d_out = rep_in.dim, rep_out.dim
    m_in, m_out = rep_in.matrices(), rep_out.matrices()
    rows = [np.kron(m_out[g], np.eye(d_in)) - np.kron(np.eye(d_out), m_in[g].T) for g in _generators(rep_out)]
    if not rows:
        return DenseBasis(np.eye(d_out * d_in).reshape(-1, d_out, d_in), d_out * d_in)
    _, s, vt = np.linalg.svd(np.concatenate(rows), full_matrices=True)
    rank = int(np.sum(s > tol))
    null = vt[rank:]
    return DenseBasis(null.reshape(-1, d_out, d_in), len(null))


_CACHE: dict = {}


def equivariant_basis(rep_in: Rep, rep_out: Rep):
    """The cached basis of equivariant maps ``rep_in -> rep_out``."""
    key = (id(rep_in), id(rep_out))
    if key not in _CACHE:
        if isinstance(rep_in, SignedPermRep) and isinstance(rep_out, SignedPermRep):
            _CACHE[key] = (orbit_basis(rep_in, rep_out), rep_in, rep_out)  # keep reps alive
        else:
            _CACHE[key] = (nullspace_basis(rep_in, rep_out), rep_in, rep_out)
    return _CACHE[key][0]


class _Trivial(Rep):
    def __init__(self, group):
        self.group, self.dim = group, 1

    def matrices(self):
        return np.ones((self.group.order, 1, 1))


def invariant_basis(rep: Rep):
    """Basis of the vectors fixed by every element (equivariant biases)."""
    if isinstance(rep, SignedPermRep):
        return bias_basis(rep)
    return nullspace_basis(_Trivial(rep.group), rep)
