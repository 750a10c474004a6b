"""The 32 crystallographic point groups and the icosahedral groups, by
Schoenflies name, as groups of 3x3 orthogonal matrices.

Conventions: the principal axis is z; two-fold axes perpendicular to it lie
along x (and, for the hexagonal family, at multiples of 60 degrees from x);
vertical mirrors contain x.  Cubic groups use the cube axes x, y, z and the
three-fold axis [111].  ``I``/``Ih`` use the icosahedron with vertices at
cyclic permutations of ``(0, +-1, +-phi)``.
"""

from __future__ import annotations

import numpy as np

from physbreak.errors import InvalidValue
from physbreak.symmetry.group import FiniteGroup


def rotation(axis, angle: float) -> np.ndarray:
    """Proper rotation by ``angle`` (radians) about ``axis`` (Rodrigues)."""
    n = np.asarray(axis, dtype=float)
    n = n / np.linalg.norm(n)
    K = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def mirror(normal) -> np.ndarray:
    """Reflection through the plane with the given normal."""
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    return np.eye(3) - 2 * np.outer(n, n)


def _cn(n, axis=(0, 0, 1)):
    return rotation(axis, 2 * np.pi / n)


_Z, _X = (0, 0, 1), (1, 0, 0)
INVERSION = -np.eye(3)
_PHI = (1 + 5**0.5) / 2

# name -> generators; orders are checked in the tests against the standard tables
_GENERATORS = {
    "C1": [], "Ci": [INVERSION], "C2": [_cn(2)], "Cs": [mirror(_Z)],
    "C2h": [_cn(2), INVERSION], "D2": [_cn(2), _cn(2, _X)], "C2v": [_cn(2), mirror(_X)],
    "D2h": [_cn(2), _cn(2, _X), INVERSION],
    "C4": [_cn(4)], "S4": [-_cn(4)], "C4h": [_cn(4), INVERSION], "D4": [_cn(4), _cn(2, _X)],
    "C4v": [_cn(4), mirror(_X)], "D2d": [-_cn(4), _cn(2, _X)],
    "D4h": [_cn(4), _cn(2, _X), INVERSION],
    "C3": [_cn(3)], "S6": [_cn(3), INVERSION], "D3": [_cn(3), _cn(2, _X)],
    "C3v": [_cn(3), mirror((0, 1, 0))], "D3d": [_cn(3), _cn(2, _X), INVERSION],
    "C6": [_cn(6)], "C3h": [_cn(3), mirror(_Z)], "C6h": [_cn(6), INVERSION],
    "D6": [_cn(6), _cn(2, _X)], "C6v": [_cn(6), mirror(_X)], "D3h": [_cn(3), mirror(_Z), _cn(2, _X)],
    "D6h": [_cn(6), _cn(2, _X), INVERSION],
    "T": [_cn(2), _cn(3, (1, 1, 1))], "Th": [_cn(2), _cn(3, (1, 1, 1)), INVERSION],
    "O": [_cn(4), _cn(3, (1, 1, 1))], "Td": [-_cn(4), _cn(3, (1, 1, 1))],
    "Oh": [_cn(4), _cn(3, (1, 1, 1)), INVERSION],
    "I": [_cn(5, (0, 1, _PHI)), _cn(3, (1, 1, 1))],
    "Ih": [_cn(5, (0, 1, _PHI)), _cn(3, (1, 1, 1)), INVERSION],
}
ALIASES = {"C3i": "S6", "S2": "Ci", "C1h": "Cs", "D1": "C2", "V": "D2", "Vh": "D2h", "Vd": "D2d"}
NAMES = tuple(_GENERATORS)


def point_group(name: str) -> FiniteGroup:
    """The point group with Schoenflies symbol ``name`` (one of :data:`NAMES`),
    realised by ``"matrix"`` (3x3 orthogonal)."""
    key = ALIASES.get(name, name)
    if key not in _GENERATORS:
        raise InvalidValue("point group", name, f"a Schoenflies symbol: {', '.join(NAMES)}")
    gens = _GENERATORS[key]
    if not gens:
        return FiniteGroup({"matrix": np.eye(3)[None]}, key, generators=[])
    return FiniteGroup.generate({"matrix": gens}, key)


def fingerprint(matrices: np.ndarray) -> tuple:
    """Class-independent signature of a point group: the sorted list of
    (det, rotation angle) of its elements, rounded.  Two point groups with the
    same fingerprint are conjugate in O(3) (true for all finite subgroups
    listed here)."""
    sig = []
    for R in matrices:
        det = int(round(np.linalg.det(R)))
        proper = R * det
        angle = np.degrees(np.arccos(np.clip((np.trace(proper) - 1) / 2, -1, 1)))
        sig.append((det, int(round(angle))))
    return tuple(sorted(sig))


def identify(matrices: np.ndarray) -> str:
    """Schoenflies symbol of a finite group of 3x3 orthogonal matrices (in any
    orientation), or ``"?"`` when it is none of the catalogued groups."""
    fp = fingerprint(matrices)
    for name in NAMES:
        if _fingerprints().get(name) == fp:
            return name
    return "?"


_FP: dict = {}


def _fingerprints() -> dict:
    if not _FP:
        _FP.update({n: fingerprint(point_group(n).realisations["matrix"]) for n in NAMES})
    return _FP
