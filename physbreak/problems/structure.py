"""One structure-prediction problem: a symmetric input and its ground states."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physbreak.relaxed.breakers import breaking_set


@dataclass
class StructureProblem:
    """One symmetric input and its degenerate ground states.

    Attributes:
        kind: input type (BaTiO3: T, O, R, C; molecules: the molecule's name;
            user files: the file stem);
        parent: ``ase.Atoms`` input (periodic for crystals);
        targets: ``(k, n_atoms, 3)`` ground-state displacements (A), every variant
            (the orbit of one under the input's group); ``(0, n_atoms, 3)`` when
            only the target group is known (prediction);
        target_group: the ground state's space group (Hermann-Mauguin) for
            crystals, point group (Schoenflies) for molecules;
        target_point_group: its point group (Schoenflies);
        target_mats: the first variant's point group, ``(k, 3, 3)`` Cartesian: the
            subgroup of the parent's group a symmetry-breaking set must keep;
        mats, perms: the parent's operations (Cartesian matrices, atom permutations);
        family: ``"batio3"``, ``"glazer"``, ``"molecule"`` or ``"user"``;
        ground_energy: the ground state's energy (eV) where the family has an
            energy model cheap enough to evaluate predictions with (molecules: xTB).
        breakers: ``(m, n_atoms, 11)`` per-atom symmetry-breaking set (irreps
            ``1x1o+1x1e+1x2e``, canonical member first) where it is not one
            uniform feature from the point group (Glazer tilts break translations).
    """

    kind: str
    parent: object
    targets: np.ndarray
    target_group: str
    target_point_group: str
    target_mats: np.ndarray
    mats: np.ndarray
    perms: np.ndarray
    family: str = "batio3"
    ground_energy: float | None = None
    breakers: np.ndarray | None = None

    has_target = True  # breakers read the target subgroup (SymPE draws from the breaking set)

    @property
    def periodic(self) -> bool:
        return bool(any(self.parent.pbc))

    @property
    def n_nodes(self) -> int:
        return len(self.parent)

    def breaking_set(self) -> np.ndarray:
        """``(m, n_atoms, 11)``: the symmetry-breaking set on every atom, canonical member first."""
        if self.breakers is not None:
            return self.breakers
        if len(np.unique(np.round(self.mats, 6), axis=0)) == 1:
            from physbreak.errors import SymmetryError

            raise SymmetryError(f"input {self.kind!r} has no symmetry (point group C1): there is nothing for a "
                                "symmetry-breaking set (breaker sbs or sympe) to break; use none, noise, baseline "
                                "or canonical")
        members = breaking_set(self.mats, self.target_mats)
        return np.repeat(members[:, None, :], len(self.parent), axis=1)

    def rotated(self, R: np.ndarray) -> "StructureProblem":
        """The problem with its input moved by the orthogonal ``R`` (3, 3), its
        operations found again from the moved structure (so a breaker built from
        them moves with it); a per-atom breaking set moves with the atoms
        (``1o`` as a vector, ``1e`` as an axial vector, ``2e`` as a rank-2 tensor)."""
        from physbreak.relaxed.frames import rotated
        from physbreak.symmetry.operations import operations

        moved = rotated(self.parent, R)
        mats, perms = operations(moved)
        return StructureProblem(self.kind, moved, self.targets @ R.T, self.target_group, self.target_point_group,
                                R @ np.asarray(self.target_mats) @ R.T, mats, perms, self.family,
                                self.ground_energy, None if self.breakers is None else _rotate_breakers(self.breakers, R))


def _rotate_breakers(b: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Per-atom breaking features ``(..., 11)`` (``1o + 1e + 2e``, e3nn's component
    order) under the orthogonal ``R``."""
    out = np.array(b, dtype=float)
    out[..., 0:3] = b[..., 0:3] @ R.T
    out[..., 3:6] = np.linalg.det(R) * b[..., 3:6] @ R.T
    if np.any(b[..., 6:11]):
        import torch
        from e3nn import o3

        D = o3.Irreps("1x2e").D_from_matrix(torch.as_tensor(R, dtype=torch.float64)).numpy()
        out[..., 6:11] = b[..., 6:11] @ D.T
    return out
