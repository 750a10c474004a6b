"""Irreducible decomposition of real representations of finite groups, and
Mulliken labels of point-group irreps.

:func:`irreducible_subspaces` splits a real orthogonal representation ``D``
``(G, n, n)`` into physically irreducible subspaces (irreducible over the
reals: a pair of complex-conjugate irreps, as of C3, makes one real
two-dimensional subspace) without character tables: a random symmetric
matrix averaged over the group, ``M = (1/G) sum_g D_g H D_g^T``, commutes
with every ``D_g``, so each of its eigenspaces is invariant, and for a
generic ``H`` each is irreducible.  The characters on a subspace identify
its irrep; subspaces with equal characters form an isotypic component.

:func:`mulliken` names a point-group irrep from its characters and the
geometry of the operations (the rules of Mulliken, J. Chem. Phys. 23, 1997,
1955): A/B (symmetric / antisymmetric under the principal rotation), E, T,
G, H by dimension; g/u under inversion; ' / '' under the horizontal mirror
(groups without inversion); 1/2 under a two-fold axis perpendicular to the
principal axis, or else a vertical mirror.  Where two classes of such axes
(or mirrors) exist (D4h, D6h, C4v, ...), C2' (sigma_v) is the class whose
operation swaps the ends of the most bonds, then fixes the most atoms
(square cyclobutadiene: the axes through C-C bond midpoints, so its
rectangular distortion is B1g; XeF4: the axes through the F atoms), except
that a planar C2v molecule takes Mulliken's x axis perpendicular to its
plane (H2O: in-plane modes A1 and B2).  Benzene's literature convention
(C2' through the atoms) differs from this rule: its B1 and B2 labels swap.  Linear molecules (their finite subgroup D6h or C6v)
get Sigma+, Sigma-, Pi, Delta (``Pi_u``, ``Sigma_g+``).  Cubic groups: A1/A2, T1/T2 by the four-fold
rotation (O, Oh) or S4 (Td).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOL = 1e-6


@dataclass
class Subspace:
    """An invariant subspace: ``basis`` ``(n, d)`` orthonormal columns and the
    characters ``(G,)`` of the representation on it."""

    basis: np.ndarray
    characters: np.ndarray

    @property
    def dim(self) -> int:
        return self.basis.shape[1]


def orthonormal_columns(M: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """An orthonormal basis ``(n, r)`` of the column space of ``M`` (singular values
    below ``tol`` times the largest dropped; real or complex)."""
    u, s, _ = np.linalg.svd(M, full_matrices=False)
    return u[:, s > tol * max(s.max(initial=0.0), 1e-300)]


def irreducible_subspaces(D: np.ndarray, seed: int = 0, attempts: int = 8) -> list[Subspace]:
    """Physically irreducible invariant subspaces of the real orthogonal
    representation ``D`` ``(G, n, n)`` (they span the whole space)."""
    G, n, _ = D.shape
    rng = np.random.default_rng(seed)
    for _ in range(attempts):
        H = rng.standard_normal((n, n))
        M = (D @ (H + H.T) @ D.transpose(0, 2, 1)).sum(0) / G
        values, vectors = np.linalg.eigh(0.5 * (M + M.T))
        scale = max(float(np.abs(values).max()), 1.0)
        cuts = np.flatnonzero(np.diff(values) > 1e-7 * scale) + 1
        out = []
        for block in np.split(np.arange(n), cuts):
            V = vectors[:, block]
            chars = np.einsum("ia,gia->g", V, D @ V)
            out.append(Subspace(V, chars))
        if all(round(float(s.characters @ s.characters) / G) in (1, 2) for s in out):
            return out
    raise ValueError("representation: no generic commutant found (is D a representation?)")


def isotypic_components(subspaces: list[Subspace]) -> list[Subspace]:
    """Irreducible subspaces with equal characters merged: one per irrep that occurs."""
    merged: list[list[Subspace]] = []
    for s in subspaces:
        for group in merged:
            if group[0].dim == s.dim and np.allclose(group[0].characters, s.characters, atol=1e-5):
                group.append(s)
                break
        else:
            merged.append([s])
    return [Subspace(np.concatenate([s.basis for s in g], 1), g[0].characters) for g in merged]


# --- the geometry of point-group operations ---------------------------------------------

def _axis(R: np.ndarray) -> np.ndarray:
    """The rotation axis of a proper rotation (unit vector, sign fixed)."""
    w, v = np.linalg.eig(R)
    a = np.real(v[:, np.argmin(np.abs(w - 1))])
    a /= np.linalg.norm(a)
    return a * (1 if a[np.argmax(np.abs(a) > 1e-6)] > 0 else -1)


def _order(R: np.ndarray) -> int:
    """Order of the proper rotation part's angle: 1 for E, n for C_n (2 pi / n)."""
    proper = R * np.sign(np.linalg.det(R))
    angle = np.arccos(np.clip((np.trace(proper) - 1) / 2, -1, 1))
    return 1 if angle < 1e-6 else int(round(2 * np.pi / angle))


def classes(mats: np.ndarray) -> list[np.ndarray]:
    """Conjugacy classes as index arrays."""
    flat = mats.reshape(len(mats), -1)
    seen, out = set(), []
    for i, g in enumerate(mats):
        if i in seen:
            continue
        conj = (mats @ g @ mats.transpose(0, 2, 1)).reshape(len(mats), -1)
        members = sorted(set(np.argmin(((conj[:, None] - flat[None]) ** 2).sum(-1), axis=1).tolist()))
        seen.update(members)
        out.append(np.array(members))
    return out


@dataclass
class Geometry:
    """What the labels read from a point group's operations: the principal
    axis and order, and representative operations (indices) of the classes
    the rules use (None where absent)."""

    n: int
    axis: np.ndarray | None
    rotation: int | None  # C_n about the principal axis
    inversion: int | None
    horizontal: int | None  # sigma_h
    secondary: int | None  # C2' (or sigma_v when there is no C2')
    cubic: bool
    four: int | None  # C4 (O, Oh) or S4 (Td): T1 / T2
    dihedral2: list | None  # D2-like: the C2 about z, y, x


def geometry(mats: np.ndarray, perms: np.ndarray | None = None, positions=None, numbers=None,
             axes=None) -> Geometry:
    """:class:`Geometry` of a point group ``(G, 3, 3)``; when two classes qualify as
    C2' / sigma_v, ``axes`` (unit vectors: a crystal's cell axes) choose the class
    along them, else ``perms``, ``positions`` and ``numbers`` (a molecule) by bonds and atoms."""
    det = np.array([round(float(np.linalg.det(m))) for m in mats])
    orders = np.array([_order(m) for m in mats])
    proper = np.flatnonzero((det > 0) & (orders > 1))
    inversion = next((i for i, m in enumerate(mats) if np.allclose(m, -np.eye(3), atol=1e-6)), None)
    n = int(orders[proper].max()) if proper.size else 1
    axes_n = {tuple(np.round(_axis(mats[i]), 5)) for i in proper if orders[i] == n}
    cubic = n >= 3 and len(axes_n) > 1
    if n == 2 and len(axes_n) == 3:  # D2, D2h: no principal axis; the C2 nearest z, y, x
        c2 = [i for i in proper if orders[i] == 2]
        pick = [max(c2, key=lambda i: abs(_axis(mats[i])[k])) for k in (2, 1, 0)]
        return Geometry(2, _axis(mats[pick[0]]), pick[0], inversion, None, None, False, None, pick)
    if cubic:
        four = next((i for i in range(len(mats)) if orders[i] == 4 and det[i] > 0), None)
        if four is None:
            four = next((i for i in range(len(mats)) if orders[i] == 4), None)  # S4 of Td
        return Geometry(n, None, None, inversion, None, None, True, four, None)
    axis = None if n == 1 else np.array(next(iter(axes_n)))
    rotation = None
    if axis is not None:
        turns = [i for i in proper if orders[i] == n and np.allclose(np.abs(_axis(mats[i]) @ axis), 1, atol=1e-5)]
        rotation = min(turns, key=lambda i: np.arccos(np.clip((np.trace(mats[i]) - 1) / 2, -1, 1)))
    mirrors = [i for i in range(len(mats)) if det[i] < 0 and np.isclose(np.trace(mats[i]), 1, atol=1e-6)]
    horizontal = vertical_candidates = None
    if axis is None and mirrors:  # Cs: the mirror is sigma_h
        horizontal = mirrors[0]
    elif axis is not None:
        normal = {i: _axis(-mats[i]) for i in mirrors}
        horizontal = next((i for i in mirrors if abs(normal[i] @ axis) > 1 - 1e-5), None)
        vertical_candidates = [i for i in mirrors if abs(normal[i] @ axis) < 1e-5]
    secondary = None
    if axis is not None:
        c2p = [i for i in proper if orders[i] == 2 and abs(_axis(mats[i]) @ axis) < 1e-5]
        pool = c2p or vertical_candidates or []
        if pool:
            secondary = _secondary(mats, pool, perms, positions, numbers, axes)
    return Geometry(n, axis, rotation, inversion, horizontal, secondary, False, None, None)


def _secondary(mats, pool, perms, positions, numbers, axes=None) -> int:
    """The C2' (sigma_v) representative: of the classes in ``pool``, the one along
    ``axes``, else the one whose operation swaps the ends of the most bonds, then
    fixes the most atoms."""
    groups = [[i for i in c if i in pool] for c in classes(mats)]
    groups = [g for g in groups if g]
    if len(groups) > 1 and axes is not None:
        def along(i):
            R = mats[i]
            a = _axis(R) if np.linalg.det(R) > 0 else _axis(-R)  # the C2 axis or the mirror normal
            return max(abs(float(a @ e)) for e in axes)
        return int(max((g for g in groups), key=lambda g: along(g[0]))[0])
    if len(groups) == 1 or perms is None:
        return int(groups[0][0])
    x = np.asarray(positions, float)
    if len(mats) == 4 and np.linalg.svd(x, compute_uv=False)[2] < 1e-3 * max(1.0, np.abs(x).max()):
        # planar C2v (H2O): Mulliken puts x perpendicular to the plane, so sigma_v(xz) is the
        # mirror that is not the molecular plane (in-plane modes are A1 and B2)
        return int(next(g[0] for g in groups if not np.allclose(mats[g[0]] @ x.T, x.T, atol=1e-3)))
    from ase.data import covalent_radii

    r = covalent_radii[np.asarray(numbers)]
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    bonded = (d < 1.2 * (r[:, None] + r[None])) & (d > 0)

    def score(i):
        p = perms[i]
        swapped = sum(bonded[a, p[a]] and p[p[a]] == a for a in range(len(p))) // 2
        return swapped, int(np.sum(p == np.arange(len(p))))

    return int(max((g[0] for g in groups), key=score))


def mulliken(characters: np.ndarray, dim: int, geo: Geometry, linear: bool = False) -> str:
    """The Mulliken label of the irrep with ``characters`` ``(G,)`` and dimension ``dim``."""
    def sign(i):
        return None if i is None else (1 if characters[i] / dim > 0 else -1)

    g_u = "" if geo.inversion is None else ("g" if sign(geo.inversion) > 0 else "u")
    if geo.cubic:
        letter = {1: "A", 2: "E", 3: "T", 4: "G", 5: "H"}[dim]
        number = "" if geo.four is None or dim == 2 else ("1" if sign(geo.four) > 0 else "2")
        return letter + number + g_u
    if geo.dihedral2 is not None:
        signs = [sign(i) for i in geo.dihedral2]
        if all(s > 0 for s in signs):
            return "A" + g_u
        return "B" + str(1 + signs.index(1)) + g_u if 1 in signs else "B" + g_u
    prime = ""
    if geo.horizontal is not None and geo.inversion is None:
        prime = "'" if sign(geo.horizontal) > 0 else "''"
    if dim == 1:
        letter = "A" if geo.rotation is None or sign(geo.rotation) > 0 else "B"
        number = "" if geo.secondary is None else ("1" if sign(geo.secondary) > 0 else "2")
        if linear:
            return ("Sigma" + (f"_{g_u}" if g_u else "") + ("+" if number != "2" else "-")) if letter == "A" \
                else "Phi" + (f"_{g_u}" if g_u else "")
        return letter + number + prime + g_u
    if dim == 2:
        k = int(round(np.degrees(np.arccos(np.clip(characters[geo.rotation] / 2, -1, 1))) * geo.n / 360))
        if linear:
            return {1: "Pi", 2: "Delta"}.get(k, "Phi") + (f"_{g_u}" if g_u else "")
        return "E" + (str(k) if geo.n >= 5 else "") + prime + g_u
    return {3: "T", 4: "G", 5: "H"}.get(dim, f"d{dim}") + prime + g_u
