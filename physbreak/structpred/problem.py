"""One structure-prediction problem: a symmetric input and its ground states."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class StructureProblem:
    """One symmetric input and its degenerate ground states.

    Attributes:
        kind: input type (BaTiO3: T, O, R, C; molecules: the molecule's name);
        parent: ``ase.Atoms`` input (periodic for crystals);
        targets: ``(k, n_atoms, 3)`` ground-state displacements (A), every variant;
        target_group: the ground state's space group (Hermann-Mauguin) for
            crystals, point group (Schoenflies) for molecules;
        target_point_group: its point group (Schoenflies);
        target_mats: the first variant's point group, ``(k, 3, 3)`` Cartesian: the
            subgroup of the parent's group a symmetry-breaking set must keep;
        mats, perms: the parent's operations (Cartesian matrices, atom permutations);
        family: ``"batio3"``, ``"glazer"`` or ``"molecule"``;
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

    @property
    def periodic(self) -> bool:
        return bool(any(self.parent.pbc))
