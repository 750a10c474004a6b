"""Order parameters of spin states from the lattice's space group.

A spin state's order is named by the wave vector of its dominant Fourier
component and the irrep of the space group it transforms as.  The spin
components carry their own (spin-rotation or spin-flip) symmetry, so the
lattice operations act on each component as on a scalar field on the sites.

* :func:`stars`: the high-symmetry k-points the torus admits (Gamma, X, M, K,
  R), grouped into stars (orbits under the lattice's point operations), each
  with an orthonormal real basis of the site functions ``cos(k.R)``,
  ``sin(k.R)`` per sublattice (cell vectors ``R``; ``(N, m)``).
* :func:`mode_basis`: all stars' bases side by side; a run with ``modes =
  true`` stores the projections of every spin component on it per sample.
* :func:`star_irreps`: the star's functions split into irreps of the space
  group (physically irreducible, :func:`~physbreak.symmetry.irreps.irreducible_subspaces`
  on the finite group the space group induces there), labelled by the point
  and the Mulliken label of the little co-group's small irrep at the first
  arm (the point operations about the point of highest site symmetry), e.g. ``GM A1`` (ferromagnet), ``M A1`` (Neel on
  the square lattice), ``X A1`` (stripes, two arms), ``K A1`` (120 degrees).
* :func:`structure_factor`: ``S(k)`` on the torus's whole k-grid.

Fractional k-points are in the basis of the reciprocal vectors ``b`` with
``a_i . b_j = 2 pi delta_ij``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from physbreak.errors import InvalidValue
from physbreak.lattice.lattice import Lattice
from physbreak.symmetry.group import FiniteGroup
from physbreak.symmetry.irreps import geometry, irreducible_subspaces, mulliken, orthonormal_columns

_HEX = {"GM": [(0, 0)], "M": [(0.5, 0), (0, 0.5), (0.5, 0.5)], "K": [(2 / 3, 1 / 3), (1 / 3, 2 / 3)]}
POINTS = {  # family -> name -> arms (fractional reciprocal coordinates)
    "chain": {"GM": [(0,)], "X": [(0.5,)]},
    "square": {"GM": [(0, 0)], "X": [(0.5, 0), (0, 0.5)], "M": [(0.5, 0.5)]},
    "triangular": _HEX, "honeycomb": _HEX, "kagome": _HEX,
    "cubic": {"GM": [(0, 0, 0)], "X": [(0.5, 0, 0), (0, 0.5, 0), (0, 0, 0.5)],
              "M": [(0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)], "R": [(0.5, 0.5, 0.5)]},
}


@dataclass
class Star:
    """One star of high-symmetry k-points: its name, arms ``(n_arms, d)`` and
    the real orthonormal site functions ``basis`` ``(N, m)`` spanning them."""

    name: str
    arms: np.ndarray
    basis: np.ndarray
    arm_rows: np.ndarray  # (n_arms, n_basis, m) complex: F_k^H B, the arm k's Bloch components


@dataclass
class OrderIrrep:
    """An irrep of the space group on a star's functions: ``label``, the
    subspace ``W`` ``(m, dim)`` in the star's basis coordinates, and the finite
    group the space group induces on the star (``D`` ``(G, m, m)``, point parts
    ``R`` ``(G, d, d)``, ``translation`` ``(G,)`` bool)."""

    label: str
    star: Star
    W: np.ndarray
    D: np.ndarray
    R: np.ndarray
    translation: np.ndarray

    @property
    def dim(self) -> int:
        return self.W.shape[1]


def _check(lattice: Lattice):
    if lattice.vectors is None or not lattice.periodic or lattice.name not in POINTS:
        raise InvalidValue("lattice", lattice.name, "a periodic " + ", ".join(POINTS) + " lattice (order "
                           "parameters by wave vector need a torus with translations)")


def _cells(lattice: Lattice) -> np.ndarray:
    """``(N, d)`` integer cell coordinates of every site (site i in cell i // n_basis, C order)."""
    cells = np.indices(lattice.size).reshape(len(lattice.size), -1).T
    return np.repeat(cells, lattice.n_basis, axis=0)


def _wrap(k) -> np.ndarray:
    k = np.asarray(k, float) % 1.0
    return np.where(np.isclose(k, 1.0, atol=1e-9), 0.0, k)


def _same(a, b) -> bool:
    return bool(np.allclose(_wrap(np.asarray(a) - np.asarray(b) + 1e-12), 0, atol=1e-7)
                or np.allclose(_wrap(np.asarray(a) - np.asarray(b) + 1e-12), 1, atol=1e-7))


def _k_action(lattice: Lattice, R: np.ndarray) -> np.ndarray:
    """The matrix acting on fractional k-points for the Cartesian point operation ``R``."""
    A = lattice.vectors  # rows a_i; k_cart = 2 pi k_frac @ inv(A).T, and k_cart' = k_cart @ R.T
    return np.linalg.inv(A).T @ R.T @ A.T  # k_frac' = k_frac @ this


def _point_ops(lattice: Lattice):
    """``(perms, mats)``: the point operations ``x -> R (x - c) + c`` about the point ``c``
    of highest site symmetry (a site, a cell centre, a hexagon centre: the candidate
    fractional coordinates 0, 1/2, 1/3, 2/3), as site permutations.  They form a
    group, so their characters on a k-point are those of a genuine representation."""
    from physbreak.lattice.groups import _bond_sets, _holohedry, _is_symmetry, _SiteMatcher

    cached = lattice.__dict__.get("_order_ops")
    if cached is not None:
        return cached
    matcher, bonds, x, holohedry = _SiteMatcher(lattice), _bond_sets(lattice), lattice.positions, _holohedry(lattice)
    best = []
    for frac in itertools.product((0.0, 0.5, 1 / 3, 2 / 3), repeat=lattice.vectors.shape[0]):
        c = np.asarray(frac) @ lattice.vectors
        ops = [(p, R) for R in holohedry if _is_symmetry(lattice, p := matcher((x - c) @ R.T + c), bonds)]
        if len(ops) > len(best):
            best = ops
        if len(best) == len(holohedry):
            break
    lattice.__dict__["_order_ops"] = out = ([p for p, _ in best], [R for _, R in best])
    return out


def _functions(lattice: Lattice, arms: np.ndarray) -> np.ndarray:
    """``(N, n_arms * n_basis)`` complex Bloch functions ``exp(2 pi i k.n) delta_b / sqrt(n_cells)``."""
    n_cells = lattice.n_sites // lattice.n_basis
    phase = np.exp(2j * np.pi * _cells(lattice) @ np.asarray(arms, float).T)  # (N, n_arms)
    sub = np.arange(lattice.n_sites) % lattice.n_basis
    onehot = np.eye(lattice.n_basis)[sub]  # (N, n_basis)
    return (phase[:, :, None] * onehot[:, None, :]).reshape(lattice.n_sites, -1) / np.sqrt(n_cells)


def stars(lattice: Lattice) -> list[Star]:
    """The stars of the high-symmetry points the torus admits (``k_a L_a`` integer)."""
    _check(lattice)
    _, mats = _point_ops(lattice)
    size = np.asarray(lattice.size, float)
    out = []
    for name, arms in POINTS[lattice.name].items():
        left = [np.array(a, float) for a in arms if np.allclose(np.round(np.array(a) * size), np.array(a) * size)]
        while left:
            k0 = left.pop(0)
            orbit = [k0]
            for R in mats:
                image = _wrap(k0 @ _k_action(lattice, R))
                if not any(_same(image, k) for k in orbit):
                    orbit.append(image)
            left = [k for k in left if not any(_same(k, o) for o in orbit)]
            F = _functions(lattice, np.array(orbit))
            B = orthonormal_columns(np.concatenate([F.real, F.imag], 1))
            rows = (F.conj().T @ B).reshape(len(orbit), lattice.n_basis, B.shape[1])
            out.append(Star(name, np.round(np.array(orbit), 12) + 0.0, B, rows))
    return out


def mode_basis(lattice: Lattice) -> tuple[np.ndarray, list[Star]]:
    """``(B (N, M), stars)``: the bases of every star side by side (in the order of :func:`stars`)."""
    found = stars(lattice)
    return np.concatenate([s.basis for s in found], 1), found


def _closure(gens_D: list, gens_R: list, limit: int = 20000):
    """The finite group generated by ``(D, R)`` pairs, closed as block-diagonal
    matrices ``diag(D, R)`` (:meth:`FiniteGroup.generate`): ``(D (G, m, m), R (G, d, d))``."""
    m = gens_D[0].shape[0]
    blocks = [np.block([[D, np.zeros((m, len(R)))], [np.zeros((len(R), m)), R]]) for D, R in zip(gens_D, gens_R)]
    try:
        mats = FiniteGroup.generate({"matrix": blocks}, max_order=limit).realisations["matrix"]
    except ValueError:
        raise InvalidValue("lattice", "space group", f"a group of at most {limit} operations on one star") from None
    return mats[:, :m, :m], mats[:, m:, m:]


def _embed(R: np.ndarray) -> np.ndarray:
    """A 1D or 2D point operation as a 3x3 matrix (z fixed; 1D: y and z fixed)."""
    out = np.eye(3)
    out[:len(R), :len(R)] = R
    return out


def star_irreps(lattice: Lattice, star: Star) -> list[OrderIrrep]:
    """The irreps of the space group on ``star``'s functions, labelled."""
    perms, mats = _point_ops(lattice)
    trans = lattice.translation_group()
    t_perms = [trans.realisations["perm"][g] for g in trans.generators]
    B = star.basis

    def rep(perm):
        inv = np.argsort(perm)
        return B.T @ B[inv]  # (P f)[perm[i]] = f[i]

    d = lattice.vectors.shape[0]
    gens_D = [rep(p) for p in t_perms] + [rep(p) for p in perms]
    gens_R = [np.eye(d) for _ in t_perms] + list(mats)
    D, R = _closure(gens_D, gens_R)
    translation = np.array([np.allclose(r, np.eye(d)) for r in R])
    k0 = star.arms[0]
    F0 = _functions(lattice, k0[None])  # (N, n_basis)
    little = [(p, M) for p, M in zip(perms, mats) if _same(k0 @ _k_action(lattice, M), k0)]
    A = [F0.conj().T @ F0[np.argsort(p)] for p, _ in little]  # small representation on the arm
    geo = geometry(np.array([_embed(M) for _, M in little]), axes=list(np.eye(3)))
    out = []
    for sub in irreducible_subspaces(D):
        U = orthonormal_columns(F0.conj().T @ B @ sub.basis)
        chars = np.array([np.trace(U.conj().T @ a @ U).real for a in A])
        dim = U.shape[1]
        out.append(OrderIrrep(f"{star.name} {mulliken(chars, dim, geo)}", star, sub.basis, D, R, translation))
    return out


def arm_amplitudes(star: Star, coeffs: np.ndarray) -> np.ndarray:
    """Per pair of arms ``{k, -k}``, the norm of the part of ``coeffs`` ``(..., m, n)``
    (star-basis coordinates, n spin components) at those wave vectors: ``(..., n_pairs)``
    (their squares add up to ``|coeffs|^2``)."""
    pairs = []
    for a, k in enumerate(star.arms):
        if not any(_same(k, -star.arms[p]) for p in pairs):
            pairs.append(a)
    out = []
    for a in pairs:
        proj = np.einsum("bm,...mn->...bn", star.arm_rows[a], coeffs)
        both = 1 if _same(star.arms[a], -star.arms[a]) else 2
        out.append(np.sqrt(both * (np.abs(proj) ** 2).sum((-1, -2))))
    return np.stack(out, -1)


def structure_factor(lattice: Lattice, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``S(k)`` on the torus's k-grid for site vectors ``(C, N, n)``: the largest
    eigenvalue of the sublattice matrix ``(1/n_cells) sum_n F_b(k) F_b'(k)^*``
    (for one site per cell, ``(1/N) |sum_i s_i exp(-i k.r_i)|^2`` summed over
    components), averaged over the C states.  Returns ``(k (K, d) fractional, S (K,))``."""
    _check(lattice)
    C, N, n = vectors.shape
    shape = tuple(lattice.size) + (lattice.n_basis, n)
    x = vectors.reshape((C,) + shape)
    axes = tuple(range(1, 1 + len(lattice.size)))
    F = np.fft.fftn(x, axes=axes)  # (C, L1, .., n_basis, n)
    n_cells = N // lattice.n_basis
    M = np.einsum("c...bn,c...an->...ba", F, F.conj()) / (n_cells * C)
    S = np.linalg.eigvalsh(M.reshape((-1,) + M.shape[-2:]))[:, -1]
    k = np.stack(np.meshgrid(*[np.arange(L) / L for L in lattice.size], indexing="ij"), -1).reshape(-1, len(axes))
    return k, S


def name_of(lattice: Lattice, k) -> str | None:
    """The name of the high-symmetry point ``k`` (fractional), or None."""
    for name, arms in POINTS[lattice.name].items():
        if any(_same(k, a) for a in arms):
            return name
    return None


