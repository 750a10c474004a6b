"""Symmetry-breaking sets from isotropy subgroups, and the coupled polar + tilt family.

A structure problem's symmetry-breaking set is the orbit, under the input's
operations, of one order-parameter field (:func:`~physbreak.symmetry.crystal_modes.order_parameter_field`:
the parent's irreps along their directions, a polar vector ``1o`` on every
atom); its stabilizer is the isotropy subgroup of those directions, so
nothing is built by hand per dataset:

* :func:`target_breakers`: the irreps and directions come from the
  decomposition of a known ground state (Glazer tilts, BaTiO3), their values
  replaced by generic ones (:func:`~physbreak.symmetry.crystal_modes.generic_direction`:
  the pattern only, no amplitudes); the field's stabilizer is checked against
  the ground state's (brute force over the input's operations);
* :func:`~physbreak.symmetry.crystal_modes.directions_for`: the directions of
  given irreps whose isotropy subgroup is a named target (any phase of the
  parent), used by the ``polar_tilt`` family below.

``polar_tilt`` (:func:`make_problem`): a 2x2x2 cubic perovskite cell distorted
by Gamma4- (polar) and R4+ (anti-phase tilts) along the directions that give
the target (default R3c: both along (a,a,a)).  The amplitudes are set by the
input's strain, as the Glazer inputs carry their tilts in their metric: a
volume strain ``e_v`` (the octahedra's contraction) sets the R4+ amplitude,
``A_R = 20 |e_v|`` A, and a strain along the polar direction ``e_s`` sets
the Gamma4- amplitude, ``A_P = 15 e_s`` A (mode norms over the 40 atoms);
both strains are drawn per record, so test amplitudes are new.
"""

from __future__ import annotations

import numpy as np

from physbreak.errors import SymmetryError
from physbreak.problems.structure import StructureProblem
from physbreak.relaxed.breakers import BREAKER_DIM, BREAKER_SLOTS
from physbreak.symmetry.crystal_modes import (crystal_modes, directions_for, generic_direction, mode_space,
                                              order_parameter_field)
from physbreak.symmetry.operations import SYMPREC, distinct_images, operations, orbit

A0 = 3.9  # pseudo-cubic lattice constant (A)


def cubic_perovskite(elements=("Sr", "Ti", "O"), a: float = A0):
    """The 5-atom cubic ABO3 cell (B at the origin)."""
    from ase import Atoms

    A, B, X = elements
    return Atoms([A, B, X, X, X], scaled_positions=[[0.5, 0.5, 0.5], [0, 0, 0], [0.5, 0, 0], [0, 0.5, 0],
                                                    [0, 0, 0.5]], cell=np.eye(3) * a, pbc=True)


def perovskite_parent(atoms):
    """The cubic ABO3 cell of which ``atoms`` (a perovskite supercell listing A, B
    and X in that order of first appearance) is a supercell: its species, and the
    lattice constant of its volume per formula unit."""
    species = list(dict.fromkeys(atoms.get_chemical_symbols()))
    if len(species) != 3 or len(atoms) % 5:
        raise SymmetryError(f"parent: {len(atoms)} atoms of {species}, not an ABO3 perovskite cell")
    return cubic_perovskite(tuple(species), (abs(np.linalg.det(np.asarray(atoms.cell))) / (len(atoms) // 5)) ** (1 / 3))


def _fixing(vectors: np.ndarray, mats, perms, tol: float = 1e-6) -> np.ndarray:
    """``(g,)`` bool: the operations that map the per-atom vectors ``(n, 3)`` onto themselves."""
    images = orbit(vectors, mats, perms)
    scale = max(np.abs(vectors).max(), 1e-300)
    return np.abs(images - vectors[None]).reshape(len(mats), -1).max(1) < tol * scale


def field_breakers(field: np.ndarray, mats, perms, keeps: np.ndarray | None = None) -> np.ndarray:
    """``(m, n_atoms, 11)``: the orbit of the polar field ``(n_atoms, 3)`` under the
    operations in the ``1o`` slot; first the member whose stabilizer is exactly the
    operations ``keeps`` ``(g,)`` bool (default: ``field`` itself).  Raises
    :class:`SymmetryError` when no member has that stabilizer."""
    members = distinct_images(field, mats, perms)
    if keeps is None:
        first = int(np.argmin(np.abs(members - field[None]).reshape(len(members), -1).max(1)))
    else:
        first = next((k for k, m in enumerate(members) if np.array_equal(_fixing(m, mats, perms), keeps)), None)
        if first is None:
            raise SymmetryError(f"target: no image of the isotropy field keeps the ground state's {int(keeps.sum())} "
                                f"of the input's {len(mats)} operations (its orbit has {len(members)} members)")
    members = np.concatenate([members[first:first + 1], np.delete(members, first, axis=0)])
    out = np.zeros(members.shape[:2] + (BREAKER_DIM,))
    out[..., BREAKER_SLOTS["1x1o"]] = members
    return out


def target_breakers(prim, parent, target: np.ndarray, mats, perms, symprec: float = 1e-3) -> np.ndarray:
    """The breaking set of ``parent`` (a supercell of ``prim`` at its ideal sites)
    towards the ground state ``parent + target`` (``(n, 3)`` A): its irreps and
    generic directions -> field -> orbit, led by the member with the ground state's
    stabilizer.  Raises :class:`SymmetryError` when no member has it."""
    child = parent.copy()
    child.positions = parent.positions + target
    decomposition = crystal_modes(prim, child, symprec)
    space = mode_space(prim, decomposition.supercell, symprec)
    items = [(m.label, generic_direction(m.direction)) for m in decomposition.modes
             if space.irrep(m.label).kind in ("arms", "polar", "axial")]
    field = order_parameter_field(prim, parent, items, symprec)
    return field_breakers(field, mats, perms, _fixing(target, mats, perms, 1e-4))


LABELS = ("GM4-", "R4+")


def make_problem(rng: np.random.Generator, target: str = "R3c", volume=(0.01, 0.03), shear=(0.005, 0.02),
                 elements=("Sr", "Ti", "O")) -> StructureProblem:
    """One ``polar_tilt`` record (see the module docstring): strains drawn uniformly
    from ``volume`` and ``shear``."""
    from physbreak.systems.perovskite_structures import space_group

    prim = cubic_perovskite(elements)
    S = 2 * np.eye(3, dtype=int)
    items = directions_for(prim, list(LABELS), target, S)
    polar = np.asarray(items[0][1], float)
    polar /= np.linalg.norm(polar)
    e_v, e_s = rng.uniform(*volume), rng.uniform(*shear)
    strain = -e_v * np.eye(3) + e_s * (np.outer(polar, polar) - np.eye(3) / 3)
    ideal = prim.repeat((2, 2, 2))
    parent = ideal.copy()
    parent.set_cell(np.asarray(ideal.cell) @ (np.eye(3) + strain), scale_atoms=True)
    d = np.zeros((len(parent), 3))
    for (label, direction), amplitude in zip(items, (15 * e_s, 20 * e_v)):
        one = order_parameter_field(prim, ideal, [(label, direction)])  # the mode on these atoms
        one -= one.mean(0)  # no uniform translation (the acoustic part of Gamma4-)
        d += amplitude * one / np.linalg.norm(one) @ (np.eye(3) + strain)
    mats, perms = operations(parent, 1e-5)
    targets = distinct_images(d, mats, perms)
    child = parent.copy()
    child.positions = parent.positions + d
    group = space_group(child, SYMPREC)
    if group != target:
        raise SymmetryError(f"target: the distorted cell has space group {group}, not {target}")
    field = order_parameter_field(prim, parent, items)
    return StructureProblem(f"polar_tilt:{target}", parent, targets, group, "", np.zeros((0, 3, 3)), mats, perms,
                            "polar_tilt", breakers=field_breakers(field, mats, perms))


def make_dataset(count: int, seed: int = 0, target: str = "R3c", volume=(0.01, 0.03), shear=(0.005, 0.02)
                 ) -> list[StructureProblem]:
    """``count`` ``polar_tilt`` records towards ``target``."""
    rng = np.random.default_rng(seed)
    return [make_problem(rng, target, volume, shear) for _ in range(count)]
