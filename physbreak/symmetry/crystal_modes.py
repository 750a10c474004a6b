"""Symmetry-mode decomposition of a crystal distortion (ISODISTORT-like,
offline): a parent structure and a distorted child (the same atoms, the
child possibly a supercell, strained) -> the irreps of the parent space
group at the k-points the supercell admits, each with its amplitude,
order-parameter direction and isotropy subgroup.

How: the child's cell fixes the supercell matrix ``S`` (child cell = ``S``
parent cell, up to strain); the child's atoms are matched to the ideal
supercell sites (best origin, one atom per site), giving the displacements
``u`` (Angstrom, in the ideal supercell's metric; their mean, a rigid shift,
removed).  The parent's space-group operations times the supercell's
translations act on ``u`` as a real representation of a finite group; its
irreducible subspaces (:mod:`physbreak.symmetry.irreps`) are the modes.  A
mode's k-star is read from its Fourier content; its label from the
characters of the little co-group of the star's first arm on the arm's
component: ``k-point + number + parity``.  For the cubic perovskite (Pm-3m,
origin at the B site) the points are GM (0,0,0), X (0,1/2,0), M (1/2,1/2,0)
and R (1/2,1/2,1/2), the numbers those of ISOTROPY and Howard & Stokes
(1998): Oh irreps A1, A2, E, T1, T2 -> 1..5, D4h irreps A1, B1, A2, B2, E ->
1..5 (C2' along the cubic axes), + / - even / odd under inversion through
the B site; other parents get the Mulliken label of the little co-group and
the k-vector.  The labels read the little group's operations with their
translations dropped: exact for symmorphic parents with the origin at the
site of full symmetry (the perovskite's B site).

The direction in the irrep space: for a star of several arms (M3+, X5+,
...) the amplitude on each arm (arms in ISOTROPY's order); for
a single arm with a vector-like small irrep (GM4-, R4+, ...) the components
in the basis where the little co-group acts as on polar (R) or axial
(det R R) vectors.  Both are reported as a pattern ``(a,a,0)``: equal
magnitudes share a letter, groups ordered by size, zeros last.  The
isotropy subgroup of a mode is spglib's space group of the ideal supercell
displaced along that mode alone.  Strain is split into the irreps of the
parent point group (GM1+, GM3+, GM5+ in Oh).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from physbreak.errors import SymmetryError
from physbreak.symmetry.irreps import (geometry, irreducible_subspaces, isotypic_components, mulliken,
                                      orthonormal_columns)

MIN_FRACTION = 1e-3  # modes below this fraction of the largest amplitude are round-off
_OH = {"A1": 1, "A2": 2, "E": 3, "T1": 4, "T2": 5}
_D4H = {"A1": 1, "B1": 2, "A2": 3, "B2": 4, "E": 5}
# ISOTROPY's arms of the cubic stars, in order
ARMS = {"GM": [(0, 0, 0)], "X": [(0, .5, 0), (0, 0, .5), (.5, 0, 0)],
        "M": [(.5, .5, 0), (0, .5, .5), (.5, 0, .5)], "R": [(.5, .5, .5)]}


@dataclass
class CrystalMode:
    label: str
    k: list  # the star's arms (fractional, parent reciprocal basis)
    dim: int  # of the full irrep
    amplitude: float  # Angstrom
    direction: list  # order-parameter components (arms, or the small irrep's vector basis)
    pattern: str  # e.g. "(a,a,0)"
    isotropy: str  # Hermann-Mauguin symbol of the isotropy subgroup


@dataclass
class CrystalDecomposition:
    parent_group: str
    child_group: str
    supercell: list  # S, rows
    modes: list
    strain: list  # [{"irrep", "amplitude"}]
    total: float
    isotropy: str  # the isotropy subgroup of the whole distortion (spglib)

    def as_dict(self) -> dict:
        return {"parent_group": self.parent_group, "child_group": self.child_group, "supercell": self.supercell,
                "total_amplitude": self.total, "strain": self.strain, "isotropy": self.isotropy,
                "modes": [{"irrep": m.label, "k": m.k, "dim": m.dim, "amplitude": m.amplitude,
                           "direction": m.direction, "pattern": m.pattern, "isotropy": m.isotropy}
                          for m in self.modes]}


def _space_group(cell, frac, numbers, symprec=1e-3) -> str:
    from ase import Atoms

    from physbreak.symmetry.structures import crystal_space_group

    return crystal_space_group(Atoms(numbers=numbers, scaled_positions=frac, cell=cell, pbc=True),
                               symprec).international


def supercell_matrix(parent_cell, child_cell, tol: float = 0.15) -> np.ndarray:
    S = np.asarray(child_cell) @ np.linalg.inv(np.asarray(parent_cell))
    R = np.rint(S)
    if np.abs(S - R).max() > tol or abs(np.linalg.det(R)) < 0.5:
        raise SymmetryError(f"child: its cell is not a supercell of the parent's (child = S parent with S = "
                            f"{np.round(S, 3).tolist()}, not near an integer matrix)")
    return R.astype(int)


def _cells(S: np.ndarray) -> np.ndarray:
    """The ``|det S|`` parent cells (integer rows) inside the supercell ``S``."""
    inv = np.linalg.inv(S)
    span = int(np.abs(S).sum(0).max())
    out = {}
    for n in itertools.product(range(-span, span + 1), repeat=3):
        f = np.array(n) @ inv
        key = tuple(np.round(f - np.floor(f + 1e-9), 6))
        if key not in out or np.abs(n).sum() < np.abs(out[key]).sum():
            out[key] = n
    cells = np.array(sorted(out.values()))
    if len(cells) != round(abs(np.linalg.det(S))):
        raise SymmetryError(f"child: supercell S = {S.tolist()} could not be enumerated")
    return cells


def _match(child_frac, ideal_frac, child_numbers, ideal_numbers, metric) -> tuple[np.ndarray, np.ndarray]:
    """Child atom -> ideal site (a bijection within each species) and the
    displacements ``(n, 3)`` fractional, with the origin shift that minimises them."""
    from scipy.optimize import linear_sum_assignment

    best = None
    for j in np.flatnonzero(ideal_numbers == child_numbers[0]):
        shift = child_frac[0] - ideal_frac[j]
        f = child_frac - shift
        site = np.empty(len(f), int)
        disp = np.empty_like(f)
        for z in np.unique(child_numbers):
            a, b = np.flatnonzero(child_numbers == z), np.flatnonzero(ideal_numbers == z)
            if len(a) != len(b):
                return None, None
            d = f[a][:, None] - ideal_frac[b][None]
            d -= np.rint(d)
            cost = np.linalg.norm(d @ metric, axis=-1)
            r, c = linear_sum_assignment(cost)
            site[a[r]] = b[c]
            disp[a[r]] = d[r, c]
        d = disp - disp.mean(0)
        rms = float(np.sqrt(((d @ metric) ** 2).sum(1).mean()))
        if best is None or rms < best[0]:
            best = (rms, site, d)
    return best[1], best[2]


def _label(k_arm, chars, little_mats, cubic_perovskite, axes) -> str:
    geo = geometry(little_mats, axes=axes)
    identity = next(i for i, R in enumerate(little_mats) if np.allclose(R, np.eye(3)))
    name = mulliken(chars, int(round(chars[identity])), geo)
    point = next((p for p, arms in ARMS.items() if tuple(_wrap(k_arm)) in {tuple(_wrap(a)) for a in arms}), None)
    if cubic_perovskite and point is not None:
        base, parity = name[:-1], name[-1]
        table = _OH if point in ("GM", "R") else _D4H
        if base in table:
            return f"{point}{table[base]}{'+' if parity == 'g' else '-'}"
    return f"k={tuple(float(v) for v in k_arm)} {name}"


def _magnitude_groups(values, tol: float = 0.0) -> list:
    """``[[magnitude, positions], ...]`` of the components of ``values``: below ``max(5 %
    of the largest, tol)`` left out (zero), within ``max(3 %, tol)`` of each other one group."""
    mags = np.abs(np.asarray(values, float))
    top = mags.max() if mags.size else 0.0
    groups = []
    for i, m in enumerate(mags):
        if m < max(0.05 * top, tol):
            continue
        for g in groups:
            if abs(g[0] - m) < max(0.03 * top, tol):
                g[1].append(i)
                break
        else:
            groups.append([m, [i]])
    return groups


def direction_pattern(values, tol: float = 0.0) -> str:
    """``(a,a,0)``-style pattern of direction components (zeros and equal ones as
    :func:`_magnitude_groups` finds them)."""
    letters = []
    for g in sorted(_magnitude_groups(values, tol), key=lambda g: (len(g[1]), -g[0])):
        letters += [chr(ord("a") + len({x for x in letters}))] * len(g[1])
    letters += ["0"] * (len(np.atleast_1d(values)) - len(letters))
    return "(" + ",".join(letters) + ")"


def _reference(R_cart: np.ndarray, kind: str) -> np.ndarray:
    return R_cart if kind == "polar" else np.linalg.det(R_cart) * R_cart


@dataclass
class Irrep:
    """One irrep of the parent space group on the supercell's displacements:
    its label, the star's arms, the isotypic subspace ``basis`` ``(3N, m d)`` and
    its irreducible copies, the little co-group of the first arm (operation
    indices) with the small irrep's characters, and ``kind`` ("arms": one
    dimension per arm; "polar" / "axial": a vector-like small irrep of one
    arm; None: another)."""

    label: str
    arms: list
    dim: int
    basis: np.ndarray
    copies: list
    little: list
    chars: np.ndarray
    kind: str | None


class ModeSpace:
    """The displacement representation of a parent crystal's supercell ``S``
    under the parent space group (times the supercell's translations), split
    into labelled irreps.

    Args:
        parent: ``ase.Atoms`` (periodic); S: ``(3, 3)`` integer supercell matrix
        (supercell rows = S @ parent rows); symprec: spglib's tolerance (A).
    """

    def __init__(self, parent, S, symprec: float = 1e-3):
        from physbreak.symmetry.modes import displacement_representation
        from physbreak.symmetry.structures import crystal_space_group

        self.sym = sym = crystal_space_group(parent, symprec)
        if sym.international == "Pm-3m":
            parent = b_site_origin(parent)
        self.P = P = np.asarray(parent.cell)
        self.S = S = np.asarray(S, int)
        self.sym = sym = crystal_space_group(parent, symprec)
        self.symprec = symprec
        self.cells = cells = _cells(S)
        xs = parent.get_scaled_positions(wrap=True)
        # ideal supercell sites: index (cell c, basis s) -> c * n_basis + s
        self.ideal_parent = ideal_parent = (cells[:, None, :] + xs[None]).reshape(-1, 3)
        Sinv = np.linalg.inv(S)
        frac = ideal_parent @ Sinv
        self.frac = frac - np.floor(frac + 1e-9)
        self.numbers = np.tile(parent.numbers, len(cells))
        self.metric = S @ P  # ideal supercell, rows
        key = {tuple(np.round(f, 5) % 1.0): i for i, f in enumerate(self.frac)}
        mats, perms = [], []
        for R, t in zip(sym.rotations, sym.translations):
            R_cart = P.T @ R @ np.linalg.inv(P.T)
            for n in cells:
                image = (ideal_parent @ R.T + t + n) @ Sinv
                image -= np.floor(image + 1e-9)
                perm = np.array([key.get(tuple(np.round(f, 5) % 1.0), -1) for f in image])
                if np.any(perm < 0):
                    raise SymmetryError("parent: its space-group operations do not map the supercell onto itself")
                mats.append(R_cart)
                perms.append(perm)
        self.mats, self.perms = np.array(mats), np.array(perms)
        self.D = D = displacement_representation(self.mats, self.perms)
        self.subspaces = irreducible_subspaces(D)
        zero = int(np.flatnonzero(~cells.any(1))[0])
        pure = [i for i in range(len(mats)) if np.allclose(mats[i], np.eye(3))]
        self._shifts = np.array([cells[i % len(cells)] + sym.translations[i // len(cells)] for i in pure])
        self._Dpure = D[pure]
        m = range(int(round(abs(np.linalg.det(S)))) + 1)
        ks = sorted({tuple(_wrap(np.linalg.solve(S, np.array(v, float)))) for v in itertools.product(m, repeat=3)})
        self.cubic = cubic = sym.international == "Pm-3m"
        axes = list(np.eye(3)) if cubic else None
        ops0 = [i for i in range(len(mats)) if i % len(cells) == zero]
        ident = next(i for i in ops0 if np.allclose(mats[i], np.eye(3)))
        self.irreps = []
        for comp in isotypic_components(self.subspaces):
            star = [k for k in ks if np.linalg.norm(self.k_part(comp.basis, k)) > 1e-6]
            point = next((p for p, arms in ARMS.items() if cubic and {tuple(_wrap(a)) for a in arms} == set(star)),
                         None)
            arms = [np.array(a, float) for a in (ARMS[point] if point else star)]
            k0 = arms[0]
            copies = [s for s in self.subspaces if np.allclose(s.characters, comp.characters, atol=1e-5)]
            V0 = orthonormal_columns(self.k_part(copies[0].basis, k0))
            little = [i for i in ops0
                      if np.allclose(_wrap(k0 @ np.linalg.inv(sym.rotations[i // len(cells)])), _wrap(k0))]
            chars = np.array([np.trace(V0.T @ D[i] @ V0) for i in little])
            Rs = self.mats[little]
            kind = "arms" if len(arms) > 1 and V0.shape[1] == 1 else \
                "polar" if np.allclose(chars, [np.trace(R) for R in Rs], atol=1e-5) else \
                "axial" if np.allclose(chars, [np.linalg.det(R) * np.trace(R) for R in Rs], atol=1e-5) else None
            self.irreps.append(Irrep(_label(k0, chars, Rs, cubic, axes), arms, int(round(comp.characters[ident])),
                                     comp.basis, copies, little, chars, kind))

    def k_part(self, vec, k):
        """The +-k Fourier component of displacement vectors ``vec`` ``(3N, ...)``."""
        weights = np.cos(2 * np.pi * self._shifts @ np.asarray(k, float))
        return np.tensordot(weights, self._Dpure, 1) @ vec / len(self._Dpure)

    def _frame(self, irrep: Irrep, copy) -> np.ndarray:
        """``(3N, D)``: the copy's basis in the canonical coordinates of the irrep's
        directions (one column per arm, or the vector-like small irrep's x, y, z)."""
        if irrep.kind == "arms":
            cols = [orthonormal_columns(self.k_part(copy.basis, a))[:, 0] for a in irrep.arms]
            return np.stack(cols, 1)
        V = orthonormal_columns(self.k_part(copy.basis, irrep.arms[0]))
        if irrep.kind in ("polar", "axial") and V.shape[1] == 3:
            X = np.random.default_rng(0).standard_normal((3, 3))
            T = sum(_reference(self.mats[i], irrep.kind) @ X @ (V.T @ self.D[i] @ V).T for i in irrep.little)
            u, _, vt = np.linalg.svd(T)  # an intertwiner of irreducible reps is a multiple of an orthogonal map
            return V @ (u @ vt).T
        return V

    def direction(self, irrep: Irrep, w: np.ndarray) -> list:
        """The order-parameter direction of ``w`` (in the irrep's subspace): per arm the
        amplitude (signed in the arms frame when the irrep occurs once, the largest
        positive), or the canonical components; the dominant one over the copies."""
        if irrep.kind == "arms" and len(irrep.copies) == 1:
            v = self._frame(irrep, irrep.copies[0]).T @ w
            return (v * np.sign(v[np.argmax(np.abs(v))])).tolist()
        if len(irrep.arms) > 1:
            return [float(np.linalg.norm(self.k_part(w, a))) for a in irrep.arms]
        M = np.array([self._frame(irrep, c).T @ w for c in irrep.copies])
        _, sv, vt = np.linalg.svd(M)
        v = vt[0] * sv[0]
        return (v * np.sign(v[np.argmax(np.abs(v))])).tolist()

    def displacement(self, irrep: Irrep, direction) -> np.ndarray:
        """``(N, 3)``: the first copy's displacements along ``direction`` (canonical coordinates)."""
        return (self._frame(irrep, irrep.copies[0]) @ np.asarray(direction, float)).reshape(-1, 3)

    def isotropy(self, w, scaled: bool = True) -> str:
        """spglib's space group of the ideal supercell displaced along ``w`` ``(N, 3)``:
        scaled by :func:`probe` (exact patterns), or as given when its largest atomic
        displacement exceeds 2 symprec (measured ones: noise below symprec is ignored as
        spglib ignores it in the child)."""
        w = np.asarray(w).reshape(-1, 3)
        if not scaled and np.linalg.norm(w, axis=1).max() > 2 * self.symprec:
            return _space_group(self.metric, self.frac + w @ np.linalg.inv(self.metric), self.numbers, self.symprec)
        return _isotropy(self.metric, self.frac, self.numbers, w, self.symprec)

    def irrep(self, label: str) -> Irrep:
        found = [r for r in self.irreps if r.label == label]
        if not found:
            raise SymmetryError(f"irrep: {label!r} does not occur in this supercell's displacements; these do: "
                                + ", ".join(sorted({r.label for r in self.irreps})))
        return found[0]


def b_site_origin(parent):
    """The cubic perovskite with its origin on the B cation (the site with six
    nearest neighbours, the octahedron's centre), the origin of the labels."""
    frac = parent.get_scaled_positions(wrap=True)
    cell = np.asarray(parent.cell)
    images = np.array(list(itertools.product((-1, 0, 1), repeat=3)), float)
    for i in range(len(parent)):
        d = (frac - frac[i])[:, None, :] + images[None]
        dist = np.linalg.norm(d.reshape(-1, 3) @ cell, axis=1)
        dist = dist[dist > 1e-6]
        if dist.size and np.sum(np.isclose(dist, dist.min(), rtol=1e-3)) == 6:
            moved = parent.copy()
            moved.set_scaled_positions((frac - frac[i]) % 1.0)
            return moved
    return parent


_SPACES: dict = {}


def mode_space(parent, S, symprec: float = 1e-3) -> ModeSpace:
    """:class:`ModeSpace` of ``parent`` in supercell ``S``, kept for reuse (the last 8)."""
    key = (np.asarray(parent.cell).tobytes(), parent.get_scaled_positions().tobytes(), parent.numbers.tobytes(),
           np.asarray(S, int).tobytes(), symprec)
    if key not in _SPACES:
        if len(_SPACES) >= 8:
            _SPACES.pop(next(iter(_SPACES)))
        _SPACES[key] = ModeSpace(parent, S, symprec)
    return _SPACES[key]


def crystal_modes(parent, child, symprec: float = 1e-3) -> CrystalDecomposition:
    """Decompose ``parent -> child`` (``ase.Atoms``, periodic) into irreps of the
    parent's space group.  Raises :class:`SymmetryError` when the child's cell
    or atoms do not map onto the parent."""
    P = np.asarray(parent.cell)
    S = supercell_matrix(P, np.asarray(child.cell))
    n_ideal = len(parent) * round(abs(np.linalg.det(S)))
    if len(child) != n_ideal:
        raise SymmetryError(f"child: {len(child)} atoms, but the parent's {len(parent)} in the supercell "
                            f"{S.tolist()} are {n_ideal}: the child's atoms do not map onto the parent")
    space = mode_space(parent, S, symprec)
    site, disp = _match(child.get_scaled_positions(wrap=True), space.frac, child.numbers, space.numbers,
                        space.metric)
    if site is None or np.linalg.norm(disp @ space.metric, axis=1).max() > 1.0:
        raise SymmetryError("child: its atoms do not map onto the parent's sites (elements differ, or an atom is "
                            "more than 1 A from every site of its element)")
    u = np.zeros((len(space.frac), 3))
    u[site] = disp @ space.metric  # Cartesian, per ideal site
    x = u.ravel()
    amplitudes = [float(np.linalg.norm(r.basis.T @ x)) for r in space.irreps]
    top = max(amplitudes) if amplitudes else 0.0
    modes = []
    for irrep, amp in zip(space.irreps, amplitudes):
        if amp < MIN_FRACTION * max(top, 1e-12):
            continue
        w = irrep.basis @ (irrep.basis.T @ x)
        direction = space.direction(irrep, w)
        modes.append(CrystalMode(irrep.label, [a.tolist() for a in irrep.arms], irrep.dim, amp, direction,
                                 direction_pattern(direction, symprec), space.isotropy(w, scaled=False)))
    modes.sort(key=lambda m: -m.amplitude)
    child_group = _space_group(np.asarray(child.cell), child.get_scaled_positions(), child.numbers, symprec)
    _check_subgroup(child, space, u, child_group, symprec)
    return CrystalDecomposition(space.sym.international, child_group, S.tolist(), modes,
                                _strain(P, S, np.asarray(child.cell), space.sym, space.cubic), float(np.linalg.norm(x)),
                                _space_group(space.metric, space.frac + u @ np.linalg.inv(space.metric),
                                             space.numbers, symprec))


DIRECTIONS = {3: {"(a,0,0)": (1, 0, 0), "(a,a,0)": (1, 1, 0), "(a,a,a)": (1, 1, 1), "(a,b,0)": (1, 0.6, 0),
                  "(a,b,b)": (0.6, 1, 1), "(a,b,c)": (1, 0.6, 0.3)}}


def isotropy_subgroups(parent, label: str, S=((2, 0, 0), (0, 2, 0), (0, 0, 2)), symprec: float = 1e-3) -> dict:
    """Every direction type of a three-dimensional irrep ``label`` of the parent's
    space group (in supercell ``S``) and its isotropy subgroup: ``{pattern:
    Hermann-Mauguin symbol}``."""
    space = mode_space(parent, S, symprec)
    irrep = space.irrep(label)
    if irrep.dim not in DIRECTIONS:
        raise SymmetryError(f"irrep: {label!r} has dimension {irrep.dim}; direction types are enumerated for "
                            "three-dimensional irreps")
    out = {}
    for pattern, d in DIRECTIONS[irrep.dim].items():
        w = space.displacement(irrep, d)
        out[pattern] = space.isotropy(w)
    return out


def _wrap(k):
    k = np.asarray(k, float)
    return np.round(k - np.floor(k + 1e-9), 6)


def _check_subgroup(child, space, u, child_group, symprec):
    """The child's symmetry must be that of its distortion of the parent (a subgroup
    of the parent's): the parent's operations (times the supercell translations)
    that fix ``u`` within ``symprec`` against the child's own operations in the same cell."""
    from physbreak.symmetry.structures import crystal_space_group

    moved = (space.D @ u.ravel()).reshape(len(space.D), -1, 3) - u[None]
    kept = int(np.sum(np.linalg.norm(moved, axis=-1).max(-1) < symprec))
    found = len(crystal_space_group(child, symprec).rotations)
    if found > kept:
        raise SymmetryError(f"child: its space group {child_group} ({found} operations in its cell) is not a subgroup "
                            f"of the parent's {space.sym.international} as distorted ({kept}): the child is not a "
                            "distortion of this parent (another parent, or another setting)")


def probe(symprec: float) -> float:
    """The largest atomic displacement (A) a pattern is scaled to before spglib
    names its group: well above ``symprec``, so components below the tolerance
    in the pattern stay below it."""
    return max(0.05, 10.0 * symprec)


def _isotropy(metric, frac, numbers, w, symprec) -> str:
    """spglib's space group of the ideal supercell displaced along ``w`` alone (scaled by :func:`probe`)."""
    scale = probe(symprec) / max(np.linalg.norm(w, axis=1).max(), 1e-12)
    moved = frac + (w * scale) @ np.linalg.inv(metric)
    return _space_group(metric, moved, numbers, symprec)


def _strain(P, S, child_cell, sym, cubic) -> list:
    """The child's strain (against the ideal supercell) split into irreps of the parent point group."""
    F = np.linalg.solve(S @ P, child_cell)  # child rows = ideal rows @ F
    eps = 0.5 * (F + F.T) - np.eye(3)
    basis = []
    for a, b in [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]:
        E = np.zeros((3, 3))
        E[a, b] = E[b, a] = 1.0 if a == b else np.sqrt(0.5)
        basis.append(E)
    basis = np.array(basis)
    Rs = np.array([P.T @ R @ np.linalg.inv(P.T) for R in sym.rotations])
    Rs = np.unique(np.round(Rs, 8) + 0.0, axis=0)
    D = np.array([[[np.sum(basis[i] * (R @ basis[j] @ R.T)) for j in range(6)] for i in range(6)] for R in Rs])
    v = np.array([np.sum(basis[i] * eps) for i in range(6)])
    geo = geometry(Rs, axes=list(np.eye(3)) if cubic else None)
    out = []
    for comp in isotypic_components(irreducible_subspaces(D)):
        amp = float(np.linalg.norm(comp.basis.T @ v))
        if amp < 1e-6:
            continue
        identity = next(i for i, R in enumerate(Rs) if np.allclose(R, np.eye(3)))
        name = mulliken(comp.characters, int(round(comp.characters[identity])), geo)
        if cubic and name.rstrip("gu") in _OH:
            name = f"GM{_OH[name.rstrip('gu')]}{'+' if name.endswith('g') else '-'}"
        out.append({"irrep": name, "amplitude": amp})
    return out


GENERIC = (1.0, 0.7, 0.45)  # the values of a direction's distinct magnitudes, largest first


def generic_direction(direction, tol: float = 0.0) -> np.ndarray:
    """``direction`` with its pattern kept (zeros, equal and distinct magnitudes, signs,
    as :func:`direction_pattern` groups them) and its values replaced by fixed ones
    (:data:`GENERIC`): it has the same isotropy subgroup and says nothing of the amplitudes."""
    v = np.asarray(direction, float)
    out = np.zeros_like(v)
    for rank, (_, positions) in enumerate(sorted(_magnitude_groups(v, tol), key=lambda g: -g[0])):
        out[positions] = np.sign(v[positions]) * GENERIC[min(rank, len(GENERIC) - 1)]
    return out


def order_parameter_field(parent, atoms, items, symprec: float = 1e-3) -> np.ndarray:
    """``(len(atoms), 3)``: the order-parameter field of ``items`` (``[(irrep label,
    direction in the irrep's canonical coordinates)]``) on the atoms of ``atoms``, a
    supercell of ``parent`` at its ideal positions (strain allowed), Cartesian in the
    frame of ``atoms``' cell: each irrep's mode (its first copy) along its direction,
    unit norm, summed.  Its stabilizer in the parent's space group is the isotropy
    subgroup of the directions taken together.  Raises :class:`SymmetryError` when
    ``atoms`` do not map onto the parent's sites or a label does not occur."""
    S = supercell_matrix(np.asarray(parent.cell), np.asarray(atoms.cell))
    space = mode_space(parent, S, symprec)
    u = np.zeros((len(space.frac), 3))
    for label, direction in items:
        w = space.displacement(space.irrep(label), direction)
        u += w / max(np.linalg.norm(w), 1e-300)
    if len(atoms) != len(space.frac):
        raise SymmetryError(f"atoms: {len(atoms)} atoms, but the parent in the supercell {S.tolist()} has "
                            f"{len(space.frac)}")
    site, disp = _match(atoms.get_scaled_positions(wrap=True), space.frac, atoms.numbers, space.numbers,
                        space.metric)
    if site is None or np.linalg.norm(disp @ space.metric, axis=1).max() > 0.1:
        raise SymmetryError("atoms: they are not at the parent's ideal sites (the field lives on the ideal supercell)")
    return u[site] @ np.linalg.inv(space.metric) @ np.asarray(atoms.cell)


def field_isotropy(parent, S, items, symprec: float = 1e-3) -> str:
    """The isotropy subgroup (Hermann-Mauguin) of ``items`` taken together in supercell ``S``."""
    space = mode_space(parent, S, symprec)
    modes = [space.displacement(space.irrep(label), d) for label, d in items]
    return space.isotropy(sum(w / np.linalg.norm(w) for w in modes))


def directions_for(parent, labels, target: str, S=((2, 0, 0), (0, 2, 0), (0, 0, 2)), symprec: float = 1e-3) -> list:
    """The first combination of direction types (:data:`DIRECTIONS`, simplest first)
    of the three-dimensional irreps ``labels`` whose isotropy subgroup is ``target``:
    ``[(label, direction)]``.  Raises :class:`SymmetryError` when none is."""
    space = mode_space(parent, S, symprec)
    for label in labels:
        if space.irrep(label).dim not in DIRECTIONS:
            raise SymmetryError(f"irrep: {label!r} has dimension {space.irrep(label).dim}; direction types are "
                                "enumerated for three-dimensional irreps")
    found = {}
    for combo in itertools.product(*[list(DIRECTIONS[3].items()) for _ in labels]):
        items = [(label, d) for label, (_, d) in zip(labels, combo)]
        group = field_isotropy(parent, S, items, symprec)
        found["+".join(f"{label} {p}" for label, (p, _) in zip(labels, combo))] = group
        if group == target:
            return items
    raise SymmetryError(f"target: no direction types of {' + '.join(labels)} have isotropy subgroup {target!r}; "
                        "they give " + ", ".join(sorted(set(found.values()))))
