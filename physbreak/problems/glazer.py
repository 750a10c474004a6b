"""Glazer tilt problems: an untilted 2x2x2 perovskite cell -> its tilted structure.

The input is the ideal (untilted) 2x2x2 ABO3 cell with the lattice
parameters rigid octahedra give under the tilts, ``a_x = a0 cos(beta)
cos(gamma)``, ``a_y = a0 cos(alpha) cos(gamma)``, ``a_z = a0 cos(alpha)
cos(beta)``: the metric carries the tilt magnitudes, and its symmetry the
equalities between them.  Whether a tilt is in-phase (+) or anti-phase (-)
cannot be read from a homogeneous metric; it is the symmetry-breaking set's
job: it is built from isotropy subgroups alone
(:func:`~physbreak.problems.isotropy.target_breakers`): the tilted
structure's irreps of the cubic parent (M3+, R4+) and their order-parameter
directions give a field of polar vectors on the atoms whose stabilizer in
the input's space group is the tilt system's space group.  Targets are the tilted structure
(:func:`~physbreak.systems.tilts.build`, mapped affinely into the contracted
cell) and every domain variant of it under the input's operations.
"""

from __future__ import annotations

import numpy as np

from physbreak.problems.isotropy import perovskite_parent, target_breakers
from physbreak.problems.structure import StructureProblem
from physbreak.symmetry.operations import SYMPREC, distinct_images, operations
from physbreak.systems.perovskite_structures import space_group
from physbreak.systems.tilts import build, extract, parse_glazer

# the 14 tilted systems of Howard & Stokes (1998) with distinct space groups
SYSTEMS = ("a0a0c+", "a0b+b+", "a+a+a+", "a+b+c+", "a0a0c-", "a0b-b-", "a-a-a-", "a0b-c-", "a-b-b-",
           "a-b-c-", "a0b+c-", "a+b-b-", "a+b-c-", "a+a+c-")
A0 = 3.9  # pseudo-cubic lattice constant (A)


def per_axis(symbol: str, angles) -> np.ndarray:
    """Tilt angle per axis (degrees) from one angle per distinct letter (0 for untilted axes)."""
    pairs = parse_glazer(symbol)
    letters = list(dict.fromkeys(letter for letter, _ in pairs))
    return np.array([0.0 if ph == "0" else float(angles[letters.index(letter)]) for letter, ph in pairs])


def contraction(angles_deg) -> np.ndarray:
    """Rigid-octahedron lattice-parameter factors ``(3,)`` for tilts ``(alpha, beta, gamma)`` (degrees)."""
    c = np.cos(np.radians(angles_deg))
    return np.array([c[1] * c[2], c[0] * c[2], c[0] * c[1]])


def _in_cell(atoms, scale):
    out = atoms.copy()
    out.set_cell(np.diag(2 * A0 * scale), scale_atoms=True)
    return out


def make_problem(symbol: str, angles) -> StructureProblem:
    """The problem of one tilt system at ``angles`` (one per distinct letter, degrees)."""
    axes = per_axis(symbol, angles)
    scale = contraction(axes)
    parent = _in_cell(build("a0a0a0", [0.0], A0), scale)
    tilted = _in_cell(build(symbol, axes, A0), scale)
    mats, perms = operations(parent, 1e-5)  # exact input: small tilts contract the cell by less than SYMPREC
    d = tilted.positions - parent.positions
    d -= np.rint(d @ np.linalg.inv(np.asarray(parent.cell))) @ np.asarray(parent.cell)
    targets = distinct_images(d, mats, perms)
    breakers = target_breakers(perovskite_parent(parent), parent, d, mats, perms)
    group = space_group(tilted, SYMPREC)
    return StructureProblem(symbol, parent, targets, group, "", np.zeros((0, 3, 3)), mats, perms, "glazer",
                            breakers=breakers)


def glazer_symbol(atoms, symprec: float = SYMPREC) -> str:
    """The Glazer symbol of a (predicted) 2x2x2 structure: the phase of each
    axis (+, - or 0) from :func:`~physbreak.systems.tilts.extract` on the
    structure mapped to the cubic metric; equal letters for axes a symmetry
    operation of the structure (at ``symprec`` A) maps onto each other, as in
    Howard & Stokes' classification (equal by symmetry, not by coincidence)."""
    from physbreak.symmetry.operations import point_group

    phases = extract(_in_cell(atoms, np.ones(3)))[0][1::2]
    mats = point_group(atoms, symprec)
    letters = []
    for ax in range(3):
        same = next((k for k in range(ax) if phases[k] == phases[ax] and np.any(np.abs(mats[:, ax, k]) > 0.99)), None)
        letters.append(letters[same] if same is not None else "abc"[ax])
    return "".join(letter + ph for letter, ph in zip(letters, phases))


MIN_GAP = 2.0  # degrees between unequal tilts: closer ones are equal within the 0.01 A symmetry tolerance


def draw_angles(symbol: str, rng: np.random.Generator, lo: float = 3.0, hi: float = 12.0) -> np.ndarray:
    """Angles (one per distinct letter, degrees) uniform in ``[lo, hi]``, tilts
    with different letters at least :data:`MIN_GAP` apart."""
    n = len(dict.fromkeys(symbol[::2]))
    tilted = [k for k, letter in enumerate(dict.fromkeys(symbol[::2]))
              if any(ph != "0" for lt, ph in parse_glazer(symbol) if lt == letter)]
    for _ in range(1000):
        angles = rng.uniform(lo, hi, n)
        gaps = [abs(angles[i] - angles[j]) for i in tilted for j in tilted if i < j]
        if all(g >= MIN_GAP for g in gaps):
            return angles
    raise ValueError(f"angles = [{lo}, {hi}] is too narrow for {len(tilted)} tilts {MIN_GAP} degrees apart")


def make_dataset(count: int, seed: int = 0, systems=SYSTEMS, lo: float = 3.0, hi: float = 12.0
                 ) -> list[StructureProblem]:
    """``count`` problems per tilt system at angles from :func:`draw_angles`."""
    rng = np.random.default_rng(seed)
    return [make_problem(s, draw_angles(s, rng, lo, hi)) for s in systems for _ in range(count)]
