"""How group elements act on physical objects, and which elements fix them.

Objects:

* :class:`SiteValues` — one value (or vector) per site: an Ising/Potts
  configuration or a site field.  ``perm`` moves values with their sites,
  ``sign`` multiplies odd values, ``potts`` relabels Potts states.
* :class:`SpinHamiltonian` — couplings on bonds and fields on sites.
* :class:`Structure` — atoms (positions, species) under 3x3 matrices about the
  origin; the induced atom permutation is found by matching.

Each object implements ``transformed(group, g)`` and ``fixed_mask(group)``
(a vectorised ``(order,)`` bool: which elements leave it unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physbreak.errors import InvalidValue
from physbreak.symmetry.group import FiniteGroup

_CHUNK = 1 << 22  # elements x sites handled per vectorised block


def _chunks(order: int, width: int):
    step = max(1, _CHUNK // max(width, 1))
    for start in range(0, order, step):
        yield slice(start, min(order, start + step))


def _distinct_rows(a: np.ndarray):
    """Indices of the first occurrence of each distinct row of an int array,
    and the map from every row to its representative.  Rows are keyed by a
    few columns (a permutation is usually fixed by a handful of images), and
    the grouping is confirmed on the full rows, falling back to a full sort."""
    cols = np.random.default_rng(0).choice(a.shape[1], min(8, a.shape[1]), replace=False)
    key = np.zeros(len(a), dtype=np.int64)
    with np.errstate(over="ignore"):
        for c in cols:
            key = key * np.int64(a.shape[1] + 1) + a[:, c]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = np.ravel(inverse)
    if not np.array_equal(a[first[inverse]], a):
        _, first, inverse = np.unique(a, axis=0, return_index=True, return_inverse=True)
        inverse = np.ravel(inverse)
    return first, inverse


def _sign(group: FiniteGroup, g) -> np.ndarray:
    s = group.realisations.get("sign")
    return np.ones(np.shape(g)) if s is None else s[g]


def _perm(group: FiniteGroup, g) -> np.ndarray | None:
    return group.realisations.get("perm", None)[g] if "perm" in group.realisations else None


@dataclass(frozen=True)
class SiteValues:
    """Values on sites, ``(n_sites,)`` or ``(n_sites, k)``.

    Args:
        values: the values.
        odd: values change sign under the spin flip (Ising spins, fields).
        potts: values are Potts states relabelled by the ``potts`` realisation.
        tol: absolute tolerance of comparisons.
    """

    values: np.ndarray
    odd: bool = True
    potts: bool = False
    tol: float = 1e-8

    def transformed(self, group: FiniteGroup, g: int) -> "SiteValues":
        v = np.asarray(self.values)
        if self.potts and "potts" in group.realisations:
            v = group.realisations["potts"][g][v]
        elif self.odd:
            v = v * _sign(group, g)
        perm = _perm(group, g)
        if perm is not None:
            out = np.empty_like(v)
            out[perm] = v
            v = out
        return SiteValues(v, self.odd, self.potts, self.tol)

    def fixed_mask(self, group: FiniteGroup) -> np.ndarray:
        v = np.asarray(self.values)
        flat = v.reshape(len(v), -1)
        mask = np.ones(group.order, bool)
        perms = group.realisations.get("perm")
        for sl in _chunks(group.order, flat.size):
            g = np.arange(group.order)[sl]
            # g.v = v  <=>  v[perm[i]] = op(v[i]) for every site i
            moved = flat[perms[sl]] if perms is not None else np.broadcast_to(flat, (len(g),) + flat.shape)
            if self.potts and "potts" in group.realisations:
                relabelled = group.realisations["potts"][sl][:, flat.astype(np.int64)[..., 0]][..., None]
            elif self.odd:
                relabelled = _sign(group, g)[:, None, None] * flat[None]
            else:
                relabelled = np.broadcast_to(flat, moved.shape)
            mask[sl] = np.all(np.abs(moved - relabelled) <= self.tol, axis=(1, 2))
        return mask

    def equals(self, other: "SiteValues") -> bool:
        return np.allclose(self.values, other.values, atol=self.tol, rtol=0)


@dataclass(frozen=True)
class SpinHamiltonian:
    """``H = -sum_b J_b s_i s_j - sum_i h_i s_i`` as an object the group acts on.

    Args:
        n_sites: number of sites.
        bonds: ``(n_bonds, 2)`` int.
        J: ``(n_bonds,)`` couplings.
        h: ``(n_sites,)`` fields (odd under the spin flip).
    """

    n_sites: int
    bonds: np.ndarray
    J: np.ndarray
    h: np.ndarray
    tol: float = 1e-8

    @classmethod
    def from_model(cls, model) -> "SpinHamiltonian":
        """From a :class:`~physbreak.systems.SpinModel`."""
        return cls(model.n_sites, model.bonds, model.bond_J, model.field_np)

    def _pair_keys(self, i, j):
        return np.minimum(i, j) * self.n_sites + np.maximum(i, j)

    def _coupling_table(self):
        """Sorted pair keys and their summed couplings (duplicate bonds add up)."""
        keys = self._pair_keys(self.bonds[:, 0], self.bonds[:, 1])
        uniq, inv = np.unique(keys, return_inverse=True)
        return uniq, np.bincount(inv, weights=self.J, minlength=len(uniq))

    def transformed(self, group: FiniteGroup, g: int) -> "SpinHamiltonian":
        perm = _perm(group, g)
        bonds, h = self.bonds, np.asarray(self.h) * _sign(group, g)
        if perm is not None:
            bonds = perm[bonds]
            out = np.empty_like(h)
            out[perm] = h
            h = out
        return SpinHamiltonian(self.n_sites, bonds, self.J, h, self.tol)

    def fixed_mask(self, group: FiniteGroup) -> np.ndarray:
        mask = SiteValues(np.asarray(self.h, dtype=float), odd=True, tol=self.tol).fixed_mask(group)
        perms = group.realisations.get("perm")
        if perms is None:
            return mask
        keys, J = self._coupling_table()
        i, j = np.divmod(keys, self.n_sites)
        # couplings ignore the spin flip: test each distinct permutation once
        first, inverse = _distinct_rows(perms)
        ok = np.zeros(len(first), bool)  # test a permutation if any of its elements fixes the field
        np.logical_or.at(ok, inverse, mask)
        lookup = self._lookup(keys, J)
        i, j = i.astype(np.int32), j.astype(np.int32)
        for sl in _chunks(len(first), len(keys)):
            cand = np.flatnonzero(ok[sl]) + sl.start
            if cand.size == 0:
                continue
            p = perms[first[cand]].astype(np.int32)
            ok[cand] = np.all(np.abs(lookup(p[:, i], p[:, j]) - J[None]) <= self.tol, axis=1)
        return mask & ok[inverse]

    def _lookup(self, keys, J):
        """A vectorised ``(i, j) -> J_ij`` (NaN where there is no bond): a dense
        table up to 4096 sites, a binary search beyond."""
        n = self.n_sites
        if n <= 4096:
            table = np.full(n * n, np.nan)
            table[keys] = J
            return lambda a, b: table[np.minimum(a, b) * np.int32(n) + np.maximum(a, b)]

        def search(a, b):
            mapped = np.minimum(a, b) * n + np.maximum(a, b)
            pos = np.clip(np.searchsorted(keys, mapped), 0, len(keys) - 1)
            return np.where(keys[pos] == mapped, J[pos], np.nan)
        return search

    def equals(self, other: "SpinHamiltonian") -> bool:
        a, b = self._coupling_table(), other._coupling_table()
        return (np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1], atol=self.tol)
                and np.allclose(self.h, other.h, atol=self.tol))


@dataclass(frozen=True)
class Structure:
    """Atoms under point operations about the origin.

    Args:
        positions: ``(n_atoms, 3)`` float, Angstrom.
        numbers: ``(n_atoms,)`` atomic numbers (species).
        tol: distance tolerance for matching atoms, Angstrom.
    """

    positions: np.ndarray
    numbers: np.ndarray
    tol: float = 1e-3

    def atom_permutation(self, R: np.ndarray) -> np.ndarray | None:
        """Atom ``i`` goes to ``perm[i]`` under ``x -> R x``; None if R is no symmetry."""
        moved = self.positions @ np.asarray(R).T
        d = np.linalg.norm(moved[:, None, :] - self.positions[None, :, :], axis=-1)
        d[self.numbers[:, None] != self.numbers[None, :]] = np.inf
        perm = np.argmin(d, axis=1)
        if np.any(d[np.arange(len(perm)), perm] > self.tol) or len(set(perm.tolist())) != len(perm):
            return None
        return perm

    def transformed(self, group: FiniteGroup, g: int) -> "Structure":
        R = group.realisations["matrix"][g]
        return Structure(self.positions @ R.T, self.numbers, self.tol)

    def fixed_mask(self, group: FiniteGroup) -> np.ndarray:
        if "matrix" not in group.realisations:
            raise InvalidValue("group", group.name, "a group realised by 3x3 matrices")
        return np.array([self.atom_permutation(R) is not None for R in group.realisations["matrix"]])

    def equals(self, other: "Structure") -> bool:
        return Structure(other.positions, other.numbers, self.tol).atom_permutation(np.eye(3)) is not None \
            and len(other.positions) == len(self.positions)
