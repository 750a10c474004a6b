"""Irreducible decomposition and Mulliken labels (:mod:`physbreak.symmetry.irreps`)
and molecular symmetry modes (:mod:`physbreak.symmetry.modes`).

The engine is checked against textbook decompositions of the full 3N
displacement representation (SF6 in Oh, NH3 in C3v, H2O in C2v, XeF4 in
D4h); the modes against the named distortions of the issue (planar ->
pyramidal NH3: A2'', square -> rectangular cyclobutadiene: B1g, linear ->
bent H2O: Pi_u), with the isotropy group of the whole distortion checked
against the child's own point group found independently.
"""

from collections import Counter

import numpy as np
import pytest
from ase import Atoms

from physbreak.errors import SymmetryError
from physbreak.symmetry.irreps import geometry, irreducible_subspaces, isotypic_components, mulliken
from physbreak.symmetry.modes import displacement_representation, molecule_modes
from physbreak.symmetry.structures import molecule_point_group

ANGLES3 = 2 * np.pi * np.arange(3) / 3


def nh3(z_n=0.0, z_h=0.0, d=1.01):
    return Atoms("NH3", positions=[[0, 0, z_n]] + [[d * np.cos(a), d * np.sin(a), z_h] for a in ANGLES3])


def c4h4(stretch=1.0):
    corners = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], float) * 0.725
    corners[:, 0] *= stretch
    corners[:, 1] /= stretch
    h = corners + 1.08 * corners / np.linalg.norm(corners, axis=1, keepdims=True)
    return Atoms("C4H4", positions=np.c_[np.r_[corners, h], np.zeros(8)])


def water(bend=0.0):
    return Atoms("OH2", positions=[[0, 0, bend / 3], [0.96, 0, -bend], [-0.96, 0, -bend]])


def full_decomposition(atoms) -> Counter:
    sym = molecule_point_group(atoms.positions, atoms.numbers)
    mats, perms = np.asarray(sym.group.realisations["matrix"]), np.asarray(sym.group.realisations["perm"])
    D = displacement_representation(mats, perms)
    geo = geometry(mats, perms, atoms.positions - sym.center, atoms.numbers)
    identity = next(i for i, m in enumerate(mats) if np.allclose(m, np.eye(3)))
    out = Counter()
    for comp in isotypic_components(irreducible_subspaces(D)):
        dim = int(round(comp.characters[identity]))
        out[mulliken(comp.characters, dim, geo)] += comp.dim // dim
    return out


@pytest.mark.parametrize("atoms, expected", [
    (Atoms("SF6", positions=[[0, 0, 0], [1.56, 0, 0], [-1.56, 0, 0], [0, 1.56, 0], [0, -1.56, 0], [0, 0, 1.56],
                             [0, 0, -1.56]]),
     {"A1g": 1, "Eg": 1, "T1g": 1, "T2g": 1, "T1u": 3, "T2u": 1}),
    (nh3(0.38, 0.0), {"A1": 3, "A2": 1, "E": 4}),
    (water(0.5), {"A1": 3, "A2": 1, "B1": 2, "B2": 3}),
    (Atoms("XeF4", positions=[[0, 0, 0], [1.95, 0, 0], [-1.95, 0, 0], [0, 1.95, 0], [0, -1.95, 0]]),
     {"A1g": 1, "A2g": 1, "B1g": 1, "B2g": 1, "Eg": 1, "A2u": 2, "B2u": 1, "Eu": 3}),
])
def test_full_displacement_representations(atoms, expected):
    assert full_decomposition(atoms) == Counter(expected)


@pytest.mark.parametrize("parent, child, label, group", [
    (nh3(), nh3(0.12, -0.25, 0.95), "A2''", "C3v"),
    (c4h4(), c4h4(1.05), "B1g", "D2h"),
    (water(), water(0.3), "Pi_u", "C2v"),
])
def test_named_distortions(parent, child, label, group):
    result = molecule_modes(parent, child)
    top = result.modes[0]
    assert top.label == label and top.isotropy == group
    assert result.child_group == group == molecule_point_group(child.positions, child.numbers).name
    assert sum(m.amplitude**2 for m in result.modes) == pytest.approx(result.total**2)
    assert all(m.amplitude < 0.5 * top.amplitude for m in result.modes[1:])


def test_rigid_motion_is_no_distortion():
    parent = nh3(0.3, 0.0)
    R = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    moved = Atoms("NH3", positions=parent.positions @ R.T + [1.0, 2.0, 3.0])
    assert molecule_modes(parent, moved).modes == []


def test_atoms_that_do_not_map_are_refused():
    with pytest.raises(SymmetryError, match="do not map onto the parent"):
        molecule_modes(nh3(), water())
