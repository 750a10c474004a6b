"""Molecule problems: noisy symmetric inputs near a saddle -> the ground state.

Each case of :mod:`physbreak.systems.molecules` (saddle, ground state) gives
inputs with the saddle's full symmetry (the saddle plus symmetrised noise);
the target is the ground state in the input's frame, and every image of it
under the input's operations is an equally good answer.
"""

from __future__ import annotations

import numpy as np

from physbreak.problems.structure import StructureProblem
from physbreak.symmetry.operations import molecule_operations, orbit
from physbreak.systems.molecules import FAMILIES, family_case, symmetric_inputs

DEFAULT_FAMILIES = ("ax3", "ax2", "c4x4")


def cases(families=DEFAULT_FAMILIES) -> list:
    """Every saddle/ground-state case of the named families."""
    return [family_case(f, name) for f in families for name in FAMILIES[f]]


def problems(case, count: int, rng: np.random.Generator, amplitude: float = 0.03) -> list[StructureProblem]:
    out = []
    mats_kept, _ = case.kept
    for parent in symmetric_inputs(case, count, rng, amplitude):
        mats, perms = molecule_operations(parent)
        targets = np.unique(np.round(orbit(case.ground.positions - case.ground.positions.mean(0), mats, perms)
                                     + parent.positions.mean(0) - parent.positions, 10), axis=0)
        out.append(StructureProblem(case.name, parent, targets, case.ground_group, case.ground_group,
                                    mats_kept, mats, perms, "molecule", case.ground_energy))
    return out


def make_dataset(count: int, seed: int = 0, families=DEFAULT_FAMILIES, solved=None) -> list[StructureProblem]:
    """``count`` problems per molecule of ``families`` (``solved``: cases already computed)."""
    rng = np.random.default_rng(seed)
    return [p for case in (solved or cases(families)) for p in problems(case, count, rng)]
