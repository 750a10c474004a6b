"""Octahedral tilts of ABO3 perovskites in Glazer notation.

:func:`build` makes the 2x2x2 supercell (40 atoms) of corner-sharing BO6
octahedra for any Glazer symbol (``"a-b+c0"``-style: one letter and one of
``+ - 0`` per pseudo-cubic axis x, y, z; equal letters mean equal angles) and
tilt angles in degrees.  The octahedron at B site ``n`` (integer cell
coordinates) is rotated by the rotation vector ``omega(n)``: about axis
``alpha``, an in-phase (+) tilt alternates in the plane perpendicular to
``alpha`` (sign ``(-1)^(sum_{beta != alpha} n_beta)``), an anti-phase (-) tilt
alternates along all three axes (sign ``(-1)^(n_x + n_y + n_z)``).  Each O,
shared by two octahedra, sits at the average of the two rotated positions; A
cations stay on their ideal sites, as in Howard & Stokes, Acta Cryst. B 54, 782
(1998), whose space groups the tests check.

:func:`extract` inverts it: the rotation of every octahedron (Kabsch fit of
its six B-O vectors), its sign pattern per axis, the Glazer symbol and angles.
"""

from __future__ import annotations

import re

import numpy as np

from physbreak.errors import InvalidValue

_SYMBOL = re.compile(r"^([a-c])([+\-0])([a-c])([+\-0])([a-c])([+\-0])$")
CORNERS = np.array(list(np.ndindex(2, 2, 2)))  # the 8 B sites of the 2x2x2 cell


def parse_glazer(symbol: str) -> tuple[tuple[str, str], ...]:
    """``"a0b+c-"`` -> ``(("a", "0"), ("b", "+"), ("c", "-"))`` (x, y, z)."""
    m = _SYMBOL.match(symbol.replace("⁺", "+").replace("⁻", "-").replace("⁰", "0"))
    if not m:
        raise InvalidValue("glazer", symbol, "three letter+sign pairs, e.g. 'a0b+c-' or 'a-a-a-'")
    return tuple((m.group(2 * k + 1), m.group(2 * k + 2)) for k in range(3))


def tilt_signs(n: np.ndarray, phase: str, axis: int) -> np.ndarray:
    if phase == "0":
        return np.zeros(len(n))
    if phase == "-":
        return (-1.0) ** n.sum(1)
    return (-1.0) ** (n.sum(1) - n[:, axis])


def _rotation(omega: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation matrices ``(k, 3, 3)`` of rotation vectors ``(k, 3)`` (radians)."""
    theta = np.linalg.norm(omega, axis=1)[:, None, None]
    k = np.where(theta[..., 0] > 0, omega / np.where(theta[..., 0] > 0, theta[..., 0], 1), 0)
    K = np.zeros((len(omega), 3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    K -= K.transpose(0, 2, 1)
    return np.eye(3) + np.sin(theta) * K + (1 - np.cos(theta)) * K @ K


def build(symbol: str, angles_deg, a: float = 3.9, elements=("Sr", "Ti", "O")):
    """``ase.Atoms`` of the 2x2x2 supercell (cubic cell ``2a``) for a Glazer tilt system.

    Args:
        symbol: e.g. ``"a-a-c+"``.
        angles_deg: tilt angle per axis (x, y, z) in degrees, or one per distinct letter
            in order of appearance; ignored for ``0`` axes.
        a: pseudo-cubic lattice constant (Angstrom).
    """
    from ase import Atoms

    pairs = parse_glazer(symbol)
    angles = np.atleast_1d(np.asarray(angles_deg, float))
    letters = list(dict.fromkeys(letter for letter, _ in pairs))
    if len(angles) == len(letters) and len(angles) != 3:
        angles = np.array([angles[letters.index(letter)] for letter, _ in pairs])
    if len(angles) != 3:
        raise InvalidValue("angles", angles_deg.tolist() if hasattr(angles_deg, "tolist") else angles_deg,
                          "three angles (x, y, z) or one per distinct letter")
    for i in range(3):
        for j in range(i):
            if pairs[i][0] == pairs[j][0] and pairs[i][1] != "0" and pairs[j][1] != "0" \
                    and not np.isclose(angles[i], angles[j]):
                raise InvalidValue("angles", angles.tolist(), f"equal angles for the equal letters of {symbol}")
    omega = np.stack([tilt_signs(CORNERS, phase, ax) * np.radians(angles[ax]) for ax, (_, phase) in enumerate(pairs)], 1)
    R = _rotation(omega)
    B = CORNERS * a
    O, seen = [], {}
    for i, n in enumerate(CORNERS):
        for ax in range(3):
            for side in (1, -1):
                e = np.zeros(3)
                e[ax] = side * a / 2
                site = tuple(((n * 2 + np.sign(e) * (np.abs(e) > 0)) % 4).astype(int))
                seen.setdefault(site, []).append(B[i] + R[i] @ e)
    for site, (g0, g1) in sorted(seen.items()):
        # the two octahedra's guesses, one of them possibly a periodic image away
        O.append(g0 + ((g1 - g0 + a) % (2 * a) - a) / 2)
    A = B + a / 2
    symbols = [elements[0]] * 8 + [elements[1]] * 8 + [elements[2]] * len(O)
    return Atoms(symbols, positions=np.concatenate([A, B, np.array(O)]), cell=np.eye(3) * 2 * a, pbc=True)


def _kabsch(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Rotation R minimising |R P_i - Q_i| (rows are vectors)."""
    U, _, Vt = np.linalg.svd(Q.T @ P)
    d = np.sign(np.linalg.det(U @ Vt))
    return U @ np.diag([1, 1, d]) @ Vt


def octahedron_rotations(atoms, b_element: str = "Ti", o_element: str = "O") -> tuple[np.ndarray, np.ndarray]:
    """``(cells (8, 3) int, omega (8, 3) radians)``: each B site's cell in the
    2x2x2 grid and the rotation vector of its octahedron."""
    cell = np.asarray(atoms.cell)
    sym = np.array(atoms.get_chemical_symbols())
    B, O = atoms.positions[sym == b_element], atoms.positions[sym == o_element]
    if len(B) != 8 or len(O) != 24:
        raise InvalidValue("structure", atoms.get_chemical_formula(), "a 2x2x2 ABO3 supercell (8 B, 24 O)")
    a = np.linalg.norm(cell, axis=1) / 2
    frac_B = np.linalg.solve(cell.T, B.T).T
    cells = np.rint(frac_B * 2).astype(int) % 2
    omegas = []
    for b in B:
        d = O - b
        d -= np.rint(np.linalg.solve(cell.T, d.T).T) @ cell  # minimum image
        six = d[np.argsort(np.linalg.norm(d, axis=1))[:6]]
        ideal = np.zeros_like(six)
        for k, v in enumerate(six):
            ax = int(np.argmax(np.abs(v)))
            ideal[k, ax] = np.sign(v[ax]) * a[ax] / 2
        R = _kabsch(ideal, six)
        angle = np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1))
        axis = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
        omegas.append(axis / (2 * np.sin(angle)) * angle if angle > 1e-12 else np.zeros(3))
    return cells, np.array(omegas)


def extract(atoms, tol_deg: float = 0.5, b_element: str = "Ti", o_element: str = "O"
            ) -> tuple[str, np.ndarray]:
    """``(glazer symbol, angles (3,) degrees)`` of a 2x2x2 tilted perovskite.

    The phase of each axis is the sign pattern (+ or -) the octahedra's rotation
    components project onto most (second-order cross terms of combined tilts
    project onto neither); an axis whose projection is below ``tol_deg`` is
    untilted.  The angles are then refined by least squares so that
    :func:`build` reproduces the O positions; equal angles share a letter."""
    from scipy.optimize import least_squares

    cells, omega = octahedron_rotations(atoms, b_element, o_element)
    phases, start = [], []
    for ax in range(3):
        w = np.degrees(omega[:, ax])
        proj = {ph: float(np.mean(w * tilt_signs(cells, ph, ax))) for ph in "+-"}
        best = max(proj, key=lambda ph: abs(proj[ph]))
        phases.append(best if abs(proj[best]) >= tol_deg else "0")
        start.append(proj[best] if phases[-1] != "0" else 0.0)
    sym = np.array(atoms.get_chemical_symbols())
    target = atoms.positions[sym == o_element]
    cell = np.asarray(atoms.cell)
    free = [ax for ax in range(3) if phases[ax] != "0"]
    symbol = "".join(letter + ph for letter, ph in zip("abc", phases))

    def residual(x):
        angles = np.zeros(3)
        angles[free] = x[:-1]
        model = build(symbol, angles, x[-1]).positions[-24:]
        d = model[:, None, :] - target[None]
        d -= np.rint(np.einsum("mti,ij->mtj", d, np.linalg.inv(cell))) @ cell
        return np.sort(np.linalg.norm(d, axis=-1), axis=1)[:, 0]

    a0 = float(np.mean(np.linalg.norm(cell, axis=1)) / 2)
    fit = least_squares(residual, np.array([start[ax] for ax in free] + [a0]), xtol=1e-12, ftol=1e-12)
    angles = np.zeros(3)
    angles[free] = np.abs(fit.x[:-1])
    letters = []
    for ax in range(3):
        same = next((k for k in range(ax) if abs(angles[k] - angles[ax]) < tol_deg), None)
        letters.append(letters[same] if same is not None else "abc"[ax])
    return "".join(letter + ph for letter, ph in zip(letters, phases)), angles
