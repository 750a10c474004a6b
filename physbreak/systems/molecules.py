"""Symmetric molecular saddles and their symmetry-broken ground states (GFN2-xTB).

A *case* is a molecule raised to a higher symmetry, relaxed within that
symmetry to its stationary point (the saddle), and relaxed again from a small
kick that keeps only a subgroup (the ground state):

| family | saddle (input) | ground state | kick |
|---|---|---|---|
| ``ax3`` | planar AX3 (NH3, PH3, AsH3, NF3, PF3, PCl3) | pyramid | A along the three-fold axis |
| ``ax2`` | linear AX2 (H2O, H2S, H2Se, OF2, SCl2, Cl2O) | bent | A off the axis |
| ``c4x4`` | square cyclobutadiene C4X4 (X = H, F, Cl) | rectangle | a rectangular stretch |
| ``raised`` | any ``ase.build.molecule`` made flat, linear or regular | its own symmetry | back towards the original |

Energies come from ``tblite``'s ASE calculator (GFN2-xTB; the optional
``xtb`` extra).  Relaxations keep a symmetry exactly by averaging positions
and forces over the group's operations (:class:`SymmetryConstraint`).
Point groups are found with a distance tolerance (0.01 A) by
:func:`physbreak.symmetry.structures.molecule_point_group`, which also gives
the matrices and atom permutations the breakers and losses need.
Units: Angstrom, eV.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from physbreak.symmetry.operations import SYMPREC, is_linear, molecule_operations, symmetrize

FMAX = 1e-4  # eV/A: forces at a relaxed structure (energy error ~ FMAX^2 / k, negligible)

AX3 = {"NH3": ("N", "H", 1.00), "PH3": ("P", "H", 1.40), "AsH3": ("As", "H", 1.50),
       "NF3": ("N", "F", 1.34), "PF3": ("P", "F", 1.55), "PCl3": ("P", "Cl", 2.00)}
AX2 = {"H2O": ("O", "H", 0.95), "H2S": ("S", "H", 1.33), "H2Se": ("Se", "H", 1.45),
       "OF2": ("O", "F", 1.38), "SCl2": ("S", "Cl", 2.00), "Cl2O": ("O", "Cl", 1.68)}
C4X4 = {"C4H4": ("H", 1.08), "C4F4": ("F", 1.32), "C4Cl4": ("Cl", 1.70)}
FAMILIES = {"ax3": AX3, "ax2": AX2, "c4x4": C4X4}
RAISE = ("flatten", "linearise", "regularise")


def xtb_calculator():
    """tblite's GFN2-xTB ASE calculator, quiet."""
    try:
        from tblite.ase import TBLite
    except ImportError:
        raise ImportError("molecule energies need tblite: pip install 'physbreak[xtb]'") from None
    return TBLite(method="GFN2-xTB", verbosity=0)


def energy(atoms: Atoms) -> float:
    """GFN2-xTB total energy (eV)."""
    atoms = atoms.copy()
    atoms.calc = xtb_calculator()
    with contextlib.redirect_stdout(io.StringIO()):
        return float(atoms.get_potential_energy())


def point_group_name(atoms: Atoms, tol: float = SYMPREC) -> str:
    """Schoenflies name of the point group within ``tol`` (A); linear
    molecules are ``Dinfh`` or ``Cinfv``."""
    from physbreak.symmetry.structures import molecule_point_group

    return molecule_point_group(atoms.positions, atoms.numbers, tol).name


class SymmetryConstraint:
    """ASE constraint keeping the point-group operations ``(mats, perms)``
    (about the centroid ``center``) exact: positions and forces are replaced by
    their group averages."""

    def __init__(self, mats, perms, center):
        self.mats, self.perms, self.center = np.asarray(mats), np.asarray(perms), np.asarray(center)

    def adjust_positions(self, atoms, new):
        new[:] = symmetrize(new - self.center, self.mats, self.perms) + self.center

    def adjust_forces(self, atoms, forces):
        forces[:] = symmetrize(forces, self.mats, self.perms)

    def get_removed_dof(self, atoms):
        return 0

    def todict(self):
        return {"name": "SymmetryConstraint", "kwargs": {}}


def relax(atoms: Atoms, mats=None, perms=None, fmax: float = FMAX, steps: int = 2000) -> tuple[Atoms, float]:
    """BFGS relaxation keeping the operations ``(mats, perms)`` (default: all of
    the start's).  Returns ``(relaxed atoms, energy eV)``."""
    from ase.optimize import BFGS

    if mats is None:
        mats, perms = molecule_operations(atoms)
    out = atoms.copy()
    constraint = SymmetryConstraint(mats, perms, out.positions.mean(0))
    start = out.positions.copy()
    constraint.adjust_positions(out, start)  # start from the group average
    out.positions = start
    out.set_constraint(constraint)
    out.calc = xtb_calculator()
    with contextlib.redirect_stdout(io.StringIO()):
        converged = BFGS(out, logfile=None, maxstep=0.1).run(fmax=fmax, steps=steps)
        e = float(out.get_potential_energy())
    if not converged:
        raise RuntimeError(f"relaxation of {out.get_chemical_formula()} did not reach fmax={fmax} eV/A "
                           f"in {steps} steps")
    out.set_constraint()
    out.calc = None
    return out, e


def planar_ax3(a: str, x: str, d: float) -> tuple[Atoms, np.ndarray]:
    """Planar AX3 (D3h) with bond ``d`` (A) in the xy plane, and its kick (A along z)."""
    ang = 2 * np.pi * np.arange(3) / 3
    pos = np.vstack([[0, 0, 0], d * np.c_[np.cos(ang), np.sin(ang), np.zeros(3)]])
    kick = np.zeros((4, 3))
    kick[0, 2] = 0.1
    return Atoms(a + x * 3, pos), kick


def linear_ax2(a: str, x: str, d: float) -> tuple[Atoms, np.ndarray]:
    """Linear X-A-X (D_inf_h) along z, and its kick (A along x)."""
    kick = np.zeros((3, 3))
    kick[0, 0] = 0.1
    return Atoms(a + x * 2, [[0, 0, 0], [0, 0, -d], [0, 0, d]]), kick


def square_c4x4(x: str, d: float, side: float = 1.45) -> tuple[Atoms, np.ndarray]:
    """Square cyclobutadiene C4X4 (D4h) in the xy plane, C-X bond ``d``, and its
    kick (a rectangular stretch along x)."""
    ang = np.pi / 4 + np.pi / 2 * np.arange(4)
    u = np.c_[np.cos(ang), np.sin(ang), np.zeros(4)]
    pos = np.vstack([u * side / 2**0.5, u * (side / 2**0.5 + d)])
    kick = np.zeros((8, 3))
    kick[:, 0] = 0.05 * np.sign(pos[:, 0])
    return Atoms("C4" + x * 4, pos), kick


def raise_symmetry(atoms: Atoms, how: str) -> Atoms:
    """A more symmetric version of ``atoms`` (centred at the centroid):

    * ``flatten``: project onto the best-fit plane through the centroid (a
      pyramid becomes planar);
    * ``linearise``: project onto the line through the two atoms farthest
      apart (a bent molecule becomes linear);
    * ``regularise``: average over the four-fold rotation about that plane's
      normal (a rectangle becomes a square), atoms matched by element and distance.
    """
    from scipy.optimize import linear_sum_assignment

    x = atoms.positions - atoms.positions.mean(0)
    out = atoms.copy()
    normal = np.linalg.svd(x)[2][-1]  # the direction of least spread: normal of the best-fit plane
    if how == "flatten":
        out.positions = x - np.outer(x @ normal, normal)
    elif how == "linearise":
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        i, j = np.unravel_index(np.argmax(d), d.shape)
        axis = (x[j] - x[i]) / d[i, j]
        out.positions = np.outer(x @ axis, axis)
    elif how == "regularise":
        from physbreak.symmetry.point_groups import rotation

        images = [x]
        for k in (1, 2, 3):
            y = x @ rotation(normal, k * np.pi / 2).T
            cost = np.linalg.norm(y[:, None] - x[None], axis=-1)
            cost[atoms.numbers[:, None] != atoms.numbers[None, :]] = 1e6
            rows, cols = linear_sum_assignment(cost)
            moved = np.empty_like(x)
            moved[cols] = y[rows]
            images.append(moved)
        out.positions = np.mean(images, axis=0)
    else:
        raise ValueError(f"how = {how!r}: one of {', '.join(RAISE)}")
    return out


@dataclass
class MoleculeCase:
    """A symmetric saddle and its ground state, in the saddle's frame.

    Attributes: name; saddle, ground (``ase.Atoms``, same atom order, common
    centroid); saddle_energy, ground_energy (eV); saddle_group, ground_group
    (Schoenflies); kept: ``(mats, perms)`` of the saddle's
    operations the kick keeps (the ground state's symmetry).
    """

    name: str
    saddle: Atoms
    ground: Atoms
    saddle_energy: float
    ground_energy: float
    saddle_group: str
    ground_group: str
    kept: tuple


def _into_mirror_plane(kick, mats, atoms):
    """A linear molecule's bend, rotated about its axis into the nearest
    vertical mirror plane of the finite subgroup that stands for its
    continuous group (any bend plane is equivalent; only those the stored
    operations contain keep a C2v)."""
    from physbreak.symmetry.point_groups import rotation

    x = atoms.positions - atoms.positions.mean(0)
    axis = x[np.argmax(np.linalg.norm(x, axis=1))]
    axis /= np.linalg.norm(axis)
    k = kick[np.argmax(np.linalg.norm(np.cross(kick, axis), axis=1))]
    k = k - axis * (k @ axis)
    best = None
    for R in mats:  # vertical mirrors: det -1, fixing the axis; their plane contains cross(axis, normal)
        if np.linalg.det(R) < 0 and np.allclose(R @ axis, axis, atol=1e-6) and not np.allclose(R, np.eye(3) - 2 * np.outer(axis, axis), atol=1e-6):
            normal = np.linalg.eigh((R + R.T) / 2)[1][:, 0]  # the eigenvalue -1 of a reflection
            u = np.cross(axis, normal)
            angle = np.arctan2(np.cross(k, u) @ axis, k @ u)
            if best is None or abs(angle) < abs(best):
                best = angle
    return kick @ rotation(axis, best).T


def solve_case(name: str, start: Atoms, kick: np.ndarray) -> MoleculeCase:
    """Relax ``start`` within its own symmetry (the saddle), then from
    ``saddle + kick`` within the operations the kick keeps (the ground state)."""
    mats, perms = molecule_operations(start)
    if is_linear(start):
        kick = _into_mirror_plane(kick, mats, start)
    saddle, e_saddle = relax(start, mats, perms)
    c = saddle.positions.mean(0)
    keep = [k for k, (R, p) in enumerate(zip(mats, perms)) if np.abs(kick[p] - kick @ R.T).max() < 1e-5]
    kicked = saddle.copy()
    kicked.positions += kick
    ground, e_ground = relax(kicked, mats[keep], perms[keep])
    ground.positions += c - ground.positions.mean(0)
    case = MoleculeCase(name, saddle, ground, e_saddle, e_ground, point_group_name(saddle),
                        point_group_name(ground), (mats[keep], perms[keep]))
    if case.ground_group == case.saddle_group:
        raise ValueError(f"{name}: the {case.saddle_group} stationary point is a minimum (the kicked "
                         "relaxation returns to it), so its symmetry does not break")
    return case


def family_case(family: str, name: str) -> MoleculeCase:
    """The case of one member of :data:`FAMILIES` (e.g. ``("ax3", "NH3")``)."""
    table = FAMILIES.get(family)
    if table is None:
        raise ValueError(f"molecule family {family!r}: one of {', '.join(FAMILIES)}")
    if name not in table:
        raise ValueError(f"{family} molecule {name!r}: one of {', '.join(table)}")
    if family == "ax3":
        start, kick = planar_ax3(*table[name])
    elif family == "ax2":
        start, kick = linear_ax2(*table[name])
    else:
        start, kick = square_c4x4(*table[name])
    return solve_case(name, start, kick)


def raised_case(name: str, how: str) -> MoleculeCase:
    """``ase.build.molecule(name)`` raised by ``how`` (:func:`raise_symmetry`), the
    kick pointing back to the original (small), so the ground state keeps the
    original's symmetry."""
    from ase.build import molecule

    original = molecule(name)
    original.positions -= original.positions.mean(0)
    start = raise_symmetry(original, how)
    kick = original.positions - start.positions
    if np.abs(kick).max() < SYMPREC:
        raise ValueError(f"{name}: {how} leaves it unchanged (it already has that symmetry)")
    kick *= 0.1 / np.abs(kick).max()
    return solve_case(f"{name} ({how})", start, kick)


def symmetric_inputs(case: MoleculeCase, count: int, rng: np.random.Generator, amplitude: float = 0.03):
    """``count`` inputs with the saddle's symmetry near the saddle: the saddle
    plus Gaussian noise (``amplitude`` A) averaged over its operations."""
    mats, perms = molecule_operations(case.saddle)
    out = []
    for _ in range(count):
        atoms = case.saddle.copy()
        atoms.positions += symmetrize(rng.normal(0, amplitude, atoms.positions.shape), mats, perms)
        out.append(atoms)
    return out

