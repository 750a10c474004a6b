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
        them moves with it); per-atom breaking sets are not carried."""
        from physbreak.relaxed.frames import rotated
        from physbreak.symmetry.operations import operations

        moved = rotated(self.parent, R)
        mats, perms = operations(moved)
        return StructureProblem(self.kind, moved, self.targets @ R.T, self.target_group, self.target_point_group,
                                R @ np.asarray(self.target_mats) @ R.T, mats, perms, self.family,
                                self.ground_energy, None)
