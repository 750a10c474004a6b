"""Symmetry groups of lattices as site permutations.

An operation ``x -> R x + t`` (R from the Bravais lattice's holohedry) is a
symmetry when it maps every site onto a site of the same torus and every
bond of every shell onto a bond of that shell.  The space group is generated
by the unit translations and the symmetries that move site 0 inside its own
unit cell; its order is ``n_cells x |point group| x (sublattice swaps)``,
e.g. ``8 L^2`` (p4m) on an L x L square torus.

Open lattices have no translations: their point and space groups are the
operations about the centre of the sample.  A graph (``from_edges``) has no
geometry: its space group is its automorphism group (bliss), bond shells kept.
"""

from __future__ import annotations

import itertools

import numpy as np

from physbreak.errors import InvalidValue
from physbreak.lattice.lattice import Lattice
from physbreak.symmetry.group import FiniteGroup
from physbreak.symmetry.point_groups import point_group as named_point_group


def _holohedry(lattice: Lattice) -> np.ndarray:
    """Candidate point operations ``(n, dim, dim)`` of the Bravais lattice."""
    dim = lattice.vectors.shape[0]
    if dim == 1:
        return np.array([[[1.0]], [[-1.0]]])
    if dim == 3:
        return named_point_group("Oh").realisations["matrix"]
    n = 6 if lattice.name in ("triangular", "honeycomb", "kagome") else 4
    ops = []
    for k in range(n):
        c, s = np.cos(2 * np.pi * k / n), np.sin(2 * np.pi * k / n)
        rot = np.array([[c, -s], [s, c]])
        ops += [rot, rot @ np.diag([1.0, -1.0])]
    return np.array(ops)


class _SiteMatcher:
    """Maps Cartesian positions to site indices on the torus (or on the open
    sample), -1 where there is no site."""

    def __init__(self, lattice: Lattice):
        if lattice.vectors is None:
            raise InvalidValue("lattice", lattice.name, "a Bravais lattice with a basis "
                              "(a graph has only its automorphism group: use space_group())")
        self.lattice = lattice
        self.inv = np.linalg.inv(lattice.vectors)
        self.size = np.asarray(lattice.size, dtype=float)
        self.index = {key: i for i, key in enumerate(self._keys(lattice.positions))}

    def _keys(self, positions):
        frac = positions @ self.inv
        if self.lattice.periodic:
            frac = np.mod(frac, self.size)
            frac = np.round(frac * 1e5).astype(np.int64) % np.round(self.size * 1e5).astype(np.int64)
        else:
            frac = np.round(frac * 1e5).astype(np.int64)
        return [tuple(r) for r in frac]

    def __call__(self, positions) -> np.ndarray:
        return np.array([self.index.get(k, -1) for k in self._keys(positions)])


def _is_symmetry(lattice: Lattice, perm: np.ndarray, bond_sets) -> bool:
    if np.any(perm < 0) or len(np.unique(perm)) != len(perm):
        return False
    for shell, bonds in zip(lattice.shells, bond_sets):
        mapped = perm[shell]
        if {tuple(sorted(b)) for b in mapped.tolist()} != bonds:
            return False
    return True


def _bond_sets(lattice):
    return [{tuple(sorted(b)) for b in shell.tolist()} for shell in lattice.shells]


def _cell_moves(lattice: Lattice, matcher: _SiteMatcher):
    """Symmetries x -> R (x - x0) + x_b that send site 0 to a site of cell 0."""
    x = lattice.positions
    bonds = _bond_sets(lattice)
    perms, mats = [], []
    for R, b in itertools.product(_holohedry(lattice), range(lattice.n_basis)):
        perm = matcher((x - x[0]) @ R.T + x[b])
        if _is_symmetry(lattice, perm, bonds):
            perms.append(perm)
            mats.append(R)
    return perms, mats


def _about_centre(lattice: Lattice) -> FiniteGroup:
    """Symmetries of an open sample: point operations about its centre."""
    matcher = _SiteMatcher(lattice)
    x = lattice.positions
    c = x.mean(axis=0)
    bonds = _bond_sets(lattice)
    perms, mats = [], []
    for R in _holohedry(lattice):
        perm = matcher((x - c) @ R.T + c)
        if _is_symmetry(lattice, perm, bonds):
            perms.append(perm)
            mats.append(R)
    return FiniteGroup.generate({"perm": perms[1:] or [perms[0]], "matrix": mats[1:] or [mats[0]]},
                                f"open {lattice.name} point group")


def translation_group(lattice: Lattice) -> FiniteGroup:
    """All lattice translations of the torus, order ``prod(size)``."""
    if not lattice.periodic:
        raise InvalidValue("periodic", False, "true: an open lattice has no translations")
    matcher = _SiteMatcher(lattice)
    shifts = np.array(list(itertools.product(*(range(n) for n in lattice.size))))
    perms = np.array([matcher(lattice.positions + s @ lattice.vectors) for s in shifts])
    dim = len(lattice.size)
    gens = [int(np.ravel_multi_index(tuple(np.eye(dim, dtype=int)[k]), lattice.size)) for k in range(dim)]
    return FiniteGroup({"perm": perms}, f"T{lattice.size}", generators=[g for g in gens if g])


def point_group(lattice: Lattice) -> FiniteGroup:
    """The symmetries that fix site 0 (its site point group, e.g. D4 on the
    square lattice, C6v triangular, C3v honeycomb, Oh cubic); for an open
    lattice, the operations about the centre of the sample."""
    if not lattice.periodic:
        return _about_centre(lattice)
    perms, mats = _cell_moves(lattice, _SiteMatcher(lattice))
    keep = [k for k, p in enumerate(perms) if p[0] == 0]
    return FiniteGroup.generate({"perm": [perms[k] for k in keep], "matrix": [mats[k] for k in keep]},
                                f"{lattice.name} site group")


def space_group(lattice: Lattice) -> FiniteGroup:
    """All symmetries of the periodic lattice: translations and the point
    operations (those that exchange sublattices included).  Open lattices: the
    point group about the centre; graphs: the automorphisms that keep shells."""
    if lattice.vectors is None:
        from physbreak.symmetry.graphs import automorphism_group

        edges = np.concatenate(lattice.shells)
        shell = np.concatenate([np.full(len(b), k) for k, b in enumerate(lattice.shells)])
        return automorphism_group(lattice.n_sites, edges, edge_values=shell)
    if not lattice.periodic:
        return _about_centre(lattice)
    perms, mats = _cell_moves(lattice, _SiteMatcher(lattice))
    trans = translation_group(lattice)
    eye = np.eye(lattice.vectors.shape[0])
    return FiniteGroup.generate(
        {"perm": [trans.realisations["perm"][g] for g in trans.generators] + perms[1:],
         "matrix": [eye for _ in trans.generators] + mats[1:]}, f"{lattice.name} space group")
