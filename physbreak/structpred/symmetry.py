"""Point-group operations of crystal structures as Cartesian matrices with the
atom permutations they induce (spglib), for breakers, orbit losses and
relaxed-equivariance errors."""

from __future__ import annotations

import numpy as np

# spglib distance tolerance (A) for the structures of these datasets: ground-state
# polar displacements are >= 0.05 A, prediction errors are judged by the RMSD
SYMPREC = 0.01


def operations(atoms, symprec: float = SYMPREC) -> tuple[np.ndarray, np.ndarray]:
    """``(R (g, 3, 3) Cartesian, perm (g, n_atoms))``: every space-group
    operation of ``atoms`` (within a lattice translation) and where it sends each
    atom (``R @ r_i + t = r_perm[i]`` modulo the lattice)."""
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
