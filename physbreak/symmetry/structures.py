"""Point groups of molecules and space groups of crystals.

* :func:`molecule_point_group` finds every operation that maps the molecule
  onto itself within ``tol`` (candidate axes through atoms, bond midpoints,
  plane normals and principal axes), closes them into a group of exact atom
  permutations, fits each operation's matrix (orthogonal Procrustes) and names
  the group by its class fingerprint.  Linear molecules are reported as
  ``Cinfv`` / ``Dinfh`` with the finite subgroup C6v / D6h as their operations.
* :func:`crystal_space_group` asks spglib, with ``symprec`` as the tolerance.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from physbreak.symmetry.actions import Structure
from physbreak.symmetry.group import FiniteGroup
from physbreak.symmetry.point_groups import identify, mirror, rotation


@dataclass
class MoleculeSymmetry:
    name: str  # Schoenflies symbol
    group: FiniteGroup  # realisations "matrix" (3x3) and "perm" (atom permutation)
    center: np.ndarray  # (3,) the origin the operations act about, Angstrom


def _candidate_axes(x: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    vecs = [np.eye(3)]
    _, _, vt = np.linalg.svd(x - x.mean(0), full_matrices=True)
    vecs.append(vt)
    vecs.append(x)
    pairs = [(i, j) for i, j in itertools.combinations(range(len(x)), 2) if numbers[i] == numbers[j]]
    if pairs:
        a, b = np.array(pairs).T
        vecs += [x[a] + x[b], x[a] - x[b], np.cross(x[a], x[b])]
    v = np.concatenate(vecs)
    norm = np.linalg.norm(v, axis=1)
    v = v[norm > 1e-6] / norm[norm > 1e-6, None]
    v *= np.where(v[np.arange(len(v)), np.argmax(np.abs(v) > 1e-6, axis=1)] < 0, -1, 1)[:, None]
    return np.unique(np.round(v, 4), axis=0)


def _orthogonal_fit(x: np.ndarray, perm: np.ndarray, det: int) -> np.ndarray:
    """The orthogonal R with determinant ``det`` minimising |R x_i - x_perm(i)|
    (Kabsch); for a planar molecule ``det`` fixes the out-of-plane axis."""
    u, _, vt = np.linalg.svd(x[perm].T @ x)
    d = np.diag([1.0, 1.0, det * np.sign(np.linalg.det(u @ vt))])
    return u @ d @ vt


def molecule_point_group(positions, numbers, tol: float = 0.01) -> MoleculeSymmetry:
    """Point group of a molecule.

    Args:
        positions: ``(n_atoms, 3)`` Angstrom.
        numbers: ``(n_atoms,)`` atomic numbers.
        tol: largest displacement (Angstrom) of an atom under a symmetry operation.
    """
    numbers = np.asarray(numbers)
    weights = numbers.astype(float)
    center = (np.asarray(positions, float) * weights[:, None]).sum(0) / weights.sum()
    x = np.asarray(positions, float) - center
    mol = Structure(x, numbers, tol)
    # in-line: all atoms on one line through the centre
    _, sv, vt = np.linalg.svd(x, full_matrices=True)
    linear = len(x) > 1 and sv[1] < tol
    ops = [-np.eye(3)] + ([] if linear else [op for axis in _candidate_axes(x, numbers)
                                              for op in _axis_operations(axis)])
    if linear:
        name = "Dinfh" if mol.atom_permutation(-np.eye(3)) is not None else "Cinfv"
        group = _linear_group(vt, "D6h" if name == "Dinfh" else "C6v", mol)
        if group is not None:
            return MoleculeSymmetry(name, group, center)
        # off the line by more than tol / 2 somewhere: not linear at this tolerance, search as below
        ops = [-np.eye(3)] + [op for axis in _candidate_axes(x, numbers) for op in _axis_operations(axis)]
    found = [(p, round(np.linalg.det(R))) for p, R in ((mol.atom_permutation(R), R) for R in ops)
             if p is not None]
    # (atom permutation, determinant) is faithful for a non-linear molecule: the
    # only operation fixing every atom of a planar one is the plane mirror (det -1)
    identity = np.arange(len(x))
    closed = FiniteGroup.generate({"perm": [p for p, _ in found] or [identity],
                                   "sign": [d for _, d in found] or [1]})
    perms, dets = closed.realisations["perm"], closed.realisations["sign"]
    mats = _symmetrized(np.array([_orthogonal_fit(x, p, d) for p, d in zip(perms, dets)]), closed.table)
    name = identify(mats)
    group = FiniteGroup({"matrix": mats, "perm": perms}, name, generators=closed.generators)
    return MoleculeSymmetry(name, group, center)


def _axis_operations(axis) -> list[np.ndarray]:
    """The mirror normal to ``axis`` and the proper and improper rotations about it (orders 2-6)."""
    ops = [mirror(axis)]
    for n in range(2, 7):
        ops += [rotation(axis, 2 * np.pi / n), -rotation(axis, np.pi + 2 * np.pi / n)]
    return ops


def _linear_group(vt, name, mol: Structure) -> FiniteGroup | None:
    """The finite subgroup ``name`` of the linear molecule's group, oriented
    with its principal axis along the molecule and a two-fold axis (D6h) or
    mirror (C6v) along the Cartesian axis least parallel to it, made
    perpendicular: molecules on the same line get the same operations."""
    from physbreak.symmetry.point_groups import point_group

    axis = vt[0]
    e1 = np.eye(3)[np.argmin(np.abs(axis))]  # a perpendicular fixed by the geometry alone, not by the SVD
    e1 = e1 - axis * (e1 @ axis)
    e1 /= np.linalg.norm(e1)
    frame = np.stack([e1, np.cross(axis, e1), axis], axis=1)  # z -> molecular axis
    mats = np.array([frame @ R @ frame.T for R in point_group(name).realisations["matrix"]])
    perms = [mol.atom_permutation(R) for R in mats]
    if any(p is None for p in perms):  # an operation moves an atom by more than tol
        return None
    return FiniteGroup({"matrix": mats, "perm": np.array(perms)}, name)


def _symmetrized(mats: np.ndarray, table: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Turn fitted matrices (a representation up to noise) into an exact one:
    ``R_g <- mean_h R_(gh) R_h^T``, re-orthogonalised, a few times."""
    for _ in range(iterations):
        new = np.einsum("ghij,hkj->gik", mats[table], mats) / len(mats)
        u, _, vt = np.linalg.svd(new)
        mats = u @ vt
    return mats


@dataclass
class CrystalSymmetry:
    number: int  # International Tables space-group number
    international: str  # Hermann-Mauguin symbol, e.g. "Pm-3m"
    point_group: str  # Hermann-Mauguin point group, e.g. "m-3m"
    rotations: np.ndarray  # (n_ops, 3, 3) int, fractional coordinates
    translations: np.ndarray  # (n_ops, 3) fractional
    symprec: float  # Angstrom


def crystal_space_group(atoms, symprec: float = 1e-3) -> CrystalSymmetry:
    """Space group of an ``ase.Atoms`` crystal with spglib.

    ``symprec`` (Angstrom) is spglib's distance tolerance: atoms displaced by
    less than it count as on their symmetric positions.
    """
    import warnings

    import spglib

    cell = (np.asarray(atoms.cell), atoms.get_scaled_positions(), atoms.numbers)
    with warnings.catch_warnings():  # spglib warns about its error-handling switch
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            data = spglib.get_symmetry_dataset(cell, symprec=symprec)
        except Exception:  # spglib's newer error handling raises instead of returning None
            data = None
    if data is None:
        from physbreak.errors import InvalidValue

        raise InvalidValue("symprec", symprec, "a tolerance at which spglib finds the symmetry")
    return CrystalSymmetry(int(data.number), data.international, data.pointgroup,
                           np.asarray(data.rotations), np.asarray(data.translations), symprec)


def cell_site_group(scaled_positions, numbers, name: str = "Oh", origin=(0.0, 0.0, 0.0),
                    cell=None, tol: float = 1e-6) -> FiniteGroup:
    """The operations of point group ``name`` about ``origin`` that map a
    periodic cell onto itself, with the atom permutation each induces (atoms
    matched modulo lattice vectors).

    Args:
        scaled_positions: ``(n_atoms, 3)`` fractional coordinates.
        numbers: ``(n_atoms,)`` atomic numbers.
        cell: ``(3, 3)`` lattice vectors as rows (default: the unit cube); the
            point operations act on Cartesian coordinates.
    """
    from physbreak.symmetry.point_groups import point_group

    frac = np.asarray(scaled_positions, float) - np.asarray(origin, float)
    cell = np.eye(3) if cell is None else np.asarray(cell, float)
    numbers = np.asarray(numbers)
    mats, perms = [], []
    for R in point_group(name).realisations["matrix"]:
        moved = ((frac @ cell) @ R.T) @ np.linalg.inv(cell)
        diff = moved[:, None, :] - frac[None, :, :]
        dist = np.abs(diff - np.round(diff)).max(-1)
        dist[numbers[:, None] != numbers[None, :]] = np.inf
        perm = np.argmin(dist, axis=1)
        if np.all(dist[np.arange(len(perm)), perm] < tol) and len(set(perm.tolist())) == len(perm):
            mats.append(R)
            perms.append(perm)
    return FiniteGroup.generate({"matrix": mats[1:] or [np.eye(3)], "perm": perms[1:] or [perms[0]]},
                                name if len(mats) == point_group(name).order else "")
