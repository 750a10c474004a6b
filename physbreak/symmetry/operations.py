"""Point-group operations of structures as Cartesian matrices with the atom
permutations they induce, for breakers, orbit losses and relaxed-equivariance
errors: crystals through spglib, molecules through
:func:`physbreak.symmetry.structures.molecule_point_group`."""

from __future__ import annotations

import numpy as np

# distance tolerance (A) for the structures of these datasets: ground-state
# distortions are >= 0.05 A, prediction errors are judged by the RMSD
SYMPREC = 0.01


def operations(atoms, symprec: float = SYMPREC) -> tuple[np.ndarray, np.ndarray]:
    """``(R (g, 3, 3) Cartesian, perm (g, n_atoms))``: every symmetry operation
    of ``atoms`` and where it sends each atom.  Crystals (any periodic axis):
    space-group operations, ``R @ r_i + t = r_perm[i]`` modulo the lattice.
    Molecules: point-group operations about the centroid, see
    :func:`molecule_operations`."""
    if not any(atoms.pbc):
        return molecule_operations(atoms, symprec)
    from physbreak.symmetry.structures import crystal_space_group

    sym = crystal_space_group(atoms, symprec)
    A = np.asarray(atoms.cell)  # rows are lattice vectors: r = frac @ A
    frac = atoms.get_scaled_positions()
    mats, perms = [], []
    for R, t in zip(sym.rotations, sym.translations):
        image = frac @ R.T + t
        d = image[:, None, :] - frac[None]
        d -= np.rint(d)
        dist = np.linalg.norm(d @ A, axis=-1)
        perms.append(np.argmin(dist, axis=1))
        mats.append(A.T @ R @ np.linalg.inv(A.T))
    return np.array(mats), np.array(perms)


def is_linear(atoms, tol: float = SYMPREC) -> bool:
    """Whether a molecule's atoms lie on one line (within ``tol`` A)."""
    x = atoms.positions - atoms.positions.mean(0)
    return len(x) > 1 and bool(np.linalg.svd(x, compute_uv=False)[1] < tol)


def molecule_operations(atoms, tol: float = SYMPREC) -> tuple[np.ndarray, np.ndarray]:
    """Point-group operations of a molecule, ``(R (g, 3, 3), perm (g, n))`` with
    ``R (r_i - c) = r_perm[i] - c`` within ``tol`` (A), from
    :func:`physbreak.symmetry.structures.molecule_point_group` (linear
    molecules: its finite subgroup D6h or C6v)."""
    from physbreak.symmetry.structures import molecule_point_group

    group = molecule_point_group(atoms.positions, atoms.numbers, tol).group
    return np.asarray(group.realisations["matrix"]), np.asarray(group.realisations["perm"])


def symmetrize(vectors: np.ndarray, mats: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """The group average of per-atom vectors ``(n, 3)`` (positions relative to
    the fixed point, forces, displacements): invariant under every operation."""
    return orbit(vectors, mats, perms).mean(0)


def point_group(atoms, symprec: float = SYMPREC) -> np.ndarray:
    """Distinct Cartesian point-group matrices ``(g, 3, 3)`` of ``atoms``."""
    mats, _ = operations(atoms, symprec)
    return np.unique(np.round(mats, 8) + 0.0, axis=0)


def schoenflies(atoms, symprec: float = SYMPREC) -> str:
    from physbreak.symmetry.point_groups import identify

    return identify(point_group(atoms, symprec))


def orbit(displacements: np.ndarray, mats: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """Images of per-atom vectors ``(n, 3)`` under the operations: ``(g, n, 3)``,
    ``out[k, perm[k, i]] = R_k d_i``."""
    out = np.empty((len(mats),) + displacements.shape)
    for k, (R, p) in enumerate(zip(mats, perms)):
        out[k, p] = displacements @ R.T
    return out


def distinct_images(vectors: np.ndarray, mats: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """The distinct images ``(k, n, 3)`` of per-atom vectors under the operations
    (:func:`orbit`, compared at 1e-8, sorted)."""
    return np.unique(np.round(orbit(vectors, mats, perms), 8) + 0.0, axis=0)


def group_name(atoms, symprec: float = SYMPREC) -> str:
    """Space group (Hermann-Mauguin, spglib) of a crystal, point group
    (Schoenflies; linear: ``Dinfh``/``Cinfv``) of a molecule, at ``symprec`` (A)."""
    if any(atoms.pbc):
        from physbreak.symmetry.structures import crystal_space_group

        return crystal_space_group(atoms, symprec).international
    from physbreak.symmetry.structures import molecule_point_group

    return molecule_point_group(atoms.positions, atoms.numbers, symprec).name
