"""The user's own problems: structures from any file ``ase.io`` reads, spin
Hamiltonians from a couplings file.

Structures (:func:`structure_problem`): a symmetric input plus one or more
ground-state targets, the same atoms in the input's frame (same orientation
and origin; crystals: displacements are taken by minimum image in the input's
cell, so a target's own strain is not learned).  physbreak finds

* the input's group: spglib's space group (crystals), the point group
  (molecules), as Cartesian operations with atom permutations;
* the target's group: the operations of the input that fix the target's
  displacement (checked against the target's own group: a target with
  symmetry its input lacks is refused);
* every domain variant: the orbit of each target under the input's group;
* the symmetry-breaking set of the target's point group inside the input's
  (:func:`~physbreak.relaxed.breakers.breaking_set`).

For prediction an input alone plus a target group is enough
(:func:`held_problem`): the target is found among the isotropy subgroups a
displacement of the input can reach (a space-group symbol or number for
crystals, a Schoenflies name for molecules).

Spin couplings (:func:`read_couplings`), one of three forms::

    # couplings.toml                        # couplings.txt          couplings.h5
    bonds = [[0, 1], [1, 2], [2, 0]]        # i j J (one bond a line) datasets bonds (k, 2),
    J = -1.0                                0 1 -1.0                 J (k,), h (n,) optional;
    h = 0.0             # or one per site   1 2 -1.0                 attrs n_sites, label optional
    n_sites = 3         # optional          h 0 0.5   (field on 0)
    label = "triangle"  # optional
    ground_states = [[1, -1, 1]]            # optional (toml, h5): checked, not searched

``J > 0`` is ferromagnetic (``E = -sum J s_i s_j - sum h s_i``); ground states
come from exact enumeration up to ``exact_limit`` spins, annealing search beyond,
unless given (``ground_states``: +-1 rows of one energy, checked against the
enumeration where it is exact).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from physbreak.errors import DataError, SymmetryError
from physbreak.problems.structure import StructureProblem
from physbreak.symmetry.operations import SYMPREC, group_name, operations, orbit, symmetrize

MAX_SITES = 1_000_000


# --- structures ----------------------------------------------------------------------------------

def read_structures(path, index=":") -> list:
    """Every structure (frame) of a file ``ase.io`` reads (extxyz, cif, POSCAR, xyz, traj, ...)."""
    import ase.io

    path = Path(path)
    if not path.is_file():
        raise DataError(f"structure file {str(path)!r} does not exist (or is not a file)")
    try:
        frames = ase.io.read(path, index=index)
    except Exception as exc:  # ase raises many kinds of errors for unreadable files
        raise DataError(f"structure file {str(path)!r} cannot be read by ase.io "
                        f"({type(exc).__name__}: {str(exc).strip()[:120] or 'no detail'}): give a format ase "
                        "reads (extxyz, cif, POSCAR, xyz, traj)") from None
    frames = frames if isinstance(frames, list) else [frames]
    if not frames or any(len(a) == 0 for a in frames):
        raise DataError(f"structure file {str(path)!r} holds no atoms")
    return frames


def _matched(parent, target, where: str) -> np.ndarray:
    """The target's positions in the parent's atom order (same species required)."""
    if len(target) != len(parent):
        raise DataError(f"{where}: {len(target)} atoms, but the input has {len(parent)}: input and target "
                        "must hold the same atoms")
    ps, ts = parent.get_chemical_symbols(), target.get_chemical_symbols()
    if sorted(ps) != sorted(ts):
        extra = sorted(set(ts) ^ set(ps)) or sorted(set(ps))
        raise DataError(f"{where}: species {_formula(ts)} differ from the input's {_formula(ps)} "
                        f"({', '.join(extra)}): input and target must hold the same atoms")
    if ps == ts:
        return target.positions
    from scipy.optimize import linear_sum_assignment

    out = np.empty_like(parent.positions)
    for s in set(ps):  # the nearest assignment of each species' atoms
        i, j = [k for k, x in enumerate(ps) if x == s], [k for k, x in enumerate(ts) if x == s]
        d = np.linalg.norm(_minimum_image(parent, target.positions[j][None] - parent.positions[i][:, None]), axis=-1)
        rows, cols = linear_sum_assignment(d)
        out[np.array(i)[rows]] = target.positions[np.array(j)[cols]]
    return out


def _formula(symbols) -> str:
    from collections import Counter

    return "".join(f"{s}{n if n > 1 else ''}" for s, n in sorted(Counter(symbols).items()))


def _minimum_image(parent, d: np.ndarray) -> np.ndarray:
    if not any(parent.pbc):
        return d
    A = np.asarray(parent.cell)
    f = d @ np.linalg.inv(A)
    f -= np.rint(f) * parent.pbc
    return f @ A


def displacement(parent, target, where: str = "target") -> np.ndarray:
    """``(n, 3)`` A: the target's atoms minus the input's (minimum image for crystals)."""
    return _minimum_image(parent, _matched(parent, target, where) - parent.positions)


def _distinct(images: np.ndarray, decimals: int = 5) -> np.ndarray:
    """The distinct members of ``(g, n, 3)``, first occurrences in order."""
    _, first = np.unique(np.round(images.reshape(len(images), -1), decimals) + 0.0, axis=0, return_index=True)
    return images[np.sort(first)]


def _mats_set(mats) -> set:
    return {tuple(np.round(m, 6).ravel() + 0.0) for m in mats}


def structure_problem(parent, targets, kind: str = "user", family: str = "user",
                      symprec: float = SYMPREC) -> StructureProblem:
    """A :class:`StructureProblem` from an input structure and its ground-state
    target(s) (``ase.Atoms``); see the module docstring."""
    from physbreak.symmetry.point_groups import identify

    targets = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if not targets:
        raise DataError("a structure problem needs at least one ground-state target")
    mats, perms = operations(parent, symprec)
    disps = [displacement(parent, t, f"target {k}") for k, t in enumerate(targets)]
    first = disps[0]
    fixed = np.abs(orbit(first, mats, perms) - first[None]).max(axis=(1, 2)) < symprec
    target_mats = np.unique(np.round(mats[fixed], 8) + 0.0, axis=0)
    own = targets[0].copy()
    own.positions = parent.positions + first
    own_mats, _ = operations(own, symprec)
    if not _mats_set(own_mats) <= _mats_set(mats):
        raise SymmetryError(f"the target's group {group_name(own, symprec)} is not a subgroup of the input's "
                            f"{group_name(parent, symprec)}: a ground state keeps part of its input's symmetry, "
                            "never adds to it (check that input and target are in the same frame)")
    variants = _distinct(np.concatenate([orbit(d, mats, perms) for d in disps]))
    return StructureProblem(kind, parent, variants, group_name(own, symprec), identify(target_mats), target_mats,
                            mats, perms, family)


def subgroup_candidates(parent, symprec: float = SYMPREC, seed: int = 0) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(group name, target point group (k, 3, 3), example displacement (n, 3))]``:
    the isotropy subgroups a displacement of ``parent`` reaches, one per distinct
    stabilizer, from the stabilizers of the input's rotation axes and mirror
    normals (vectors) and of the tensors built from them (centrosymmetric
    subgroups).  The example is the group average over that stabilizer of a
    random displacement (seeded), scaled to 0.05 A."""
    mats, perms = operations(parent, symprec)
    rng = np.random.default_rng(seed)
    proper = mats * np.sign(np.linalg.det(mats))[:, None, None]
    axes = []
    for R in proper:
        w, v = np.linalg.eig(R)
        if not np.allclose(R, np.eye(3), atol=1e-9):
            axes.append(np.real(v[:, np.argmin(np.abs(w - 1))]))
    axes = [a / np.linalg.norm(a) for a in axes]
    stabilizers, seen = [], set()

    def add(keep):
        key = tuple(np.flatnonzero(keep))
        if keep.any() and key not in seen:
            seen.add(key)
            stabilizers.append(keep)

    for u in axes:
        add(np.all(np.abs(mats @ u - u) < 1e-6, axis=1))
        T = np.outer(u, u)
        add(np.all(np.abs(mats @ T @ mats.transpose(0, 2, 1) - T) < 1e-6, axis=(1, 2)))
        for v in axes:
            if abs(u @ v) < 1e-6:
                T = np.outer(u, u) - np.outer(v, v)
                add(np.all(np.abs(mats @ T @ mats.transpose(0, 2, 1) - T) < 1e-6, axis=(1, 2)))
    out, names = [], set()
    for keep in stabilizers:
        d = symmetrize(rng.normal(size=(len(parent), 3)), mats[keep], perms[keep])
        if any(parent.pbc):
            d -= d.mean(0)  # a uniform shift is a translation, not a distortion
        if np.abs(d).max() < 1e-9:
            continue
        d *= 0.05 / np.abs(d).max()
        moved = parent.copy()
        moved.positions = parent.positions + d
        fixed = np.abs(orbit(d, mats, perms) - d[None]).max(axis=(1, 2)) < 1e-6
        name = group_name(moved, symprec)
        key = (name, tuple(np.flatnonzero(fixed)))
        if key not in names:
            names.add(key)
            out.append((name, np.unique(np.round(mats[fixed], 8) + 0.0, axis=0), d))
    return out


def _same_name(a: str, b: str) -> bool:
    return a.replace(" ", "").replace("_", "").lower() == b.replace(" ", "").replace("_", "").lower()


def held_problem(parent, target, kind: str = "user", symprec: float = SYMPREC) -> StructureProblem:
    """An input with a target group and no known ground state (for prediction).

    Args:
        parent: the symmetric input (``ase.Atoms``).
        target: space-group symbol (``"P4mm"``) or number (``99``) for crystals;
            Schoenflies name (``"C2v"``) for molecules.
    """
    from physbreak.symmetry.point_groups import identify

    wanted = str(target).strip()
    candidates = subgroup_candidates(parent, symprec)
    for name, target_mats, _ in candidates:
        if _same_name(name, wanted) or (wanted.isdigit() and any(parent.pbc) and _number_of(name) == int(wanted)):
            mats, perms = operations(parent, symprec)
            return StructureProblem(kind, parent, np.zeros((0, len(parent), 3)), name, identify(target_mats),
                                    target_mats, mats, perms, "user")
    allowed = sorted({name for name, _, _ in candidates})
    raise SymmetryError(f"target = {wanted!r} is not a subgroup of the input's group {group_name(parent, symprec)} "
                        f"that a displacement reaches: one of {', '.join(allowed) or '(none: the input has no symmetry)'}")


def _number_of(symbol: str) -> int | None:
    """International Tables number of a Hermann-Mauguin short symbol (spglib's table)."""
    import spglib

    for hall in range(1, 531):
        t = spglib.get_spacegroup_type(hall)
        if t is not None and _same_name(t.international_short, symbol):
            return int(t.number)
    return None


# --- spin couplings ------------------------------------------------------------------------------

def read_couplings(path) -> dict:
    """``{"bonds" (k, 2), "J" (k,), "h" (n,), "label"}`` from a couplings file
    (``.toml``, ``.h5``/``.hdf5``, anything else as text); see the module docstring."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"couplings file {str(path)!r} does not exist (or is not a file)")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            raw = _toml(path)
        elif suffix in (".h5", ".hdf5"):
            raw = _hdf5(path)
        else:
            raw = _text(path)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"couplings file {str(path)!r} cannot be read ({type(exc).__name__}: "
                        f"{str(exc).strip()[:120]})") from None
    return _checked(raw, str(path))


def _toml(path):
    import tomllib

    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"couplings file {str(path)!r} is not valid TOML ({exc})") from None
    unknown = set(raw) - {"bonds", "J", "h", "n_sites", "label", "ground_states"}
    if unknown:
        raise DataError(f"couplings file {str(path)!r}: unknown keys {sorted(unknown)}; allowed: bonds, J, h, "
                        "n_sites, label, ground_states")
    if "bonds" not in raw:
        raise DataError(f"couplings file {str(path)!r}: bonds is required (a list of [i, j] site pairs)")
    return raw


def _hdf5(path):
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError:
        raise DataError(f"couplings file {str(path)!r} is not an HDF5 file") from None
    with f:
        if "bonds" not in f:
            raise DataError(f"couplings file {str(path)!r}: no dataset 'bonds' (k, 2)")
        raw = {"bonds": f["bonds"][()].tolist(), "J": f["J"][()].tolist() if "J" in f else 1.0}
        for key in ("h", "ground_states"):
            if key in f:
                raw[key] = f[key][()].tolist()
        for key in ("n_sites", "label"):
            if key in f.attrs:
                raw[key] = f.attrs[key].item() if hasattr(f.attrs[key], "item") else f.attrs[key]
    return raw


def _text(path):
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise DataError(f"couplings file {str(path)!r} is not text: give lines 'i j J' and 'h i value', "
                        "or a .toml or .h5 file") from None
    bonds, J, fields = [], [], {}
    for k, line in enumerate(lines, 1):
        parts = line.split("#")[0].split()
        if not parts:
            continue
        try:
            if parts[0] == "h" and len(parts) == 3:
                fields[int(parts[1])] = float(parts[2])
            elif len(parts) == 3:
                bonds.append([int(parts[0]), int(parts[1])])
                J.append(float(parts[2]))
            else:
                raise ValueError
        except ValueError:
            raise DataError(f"couplings file {str(path)!r} line {k}: {line.strip()!r} is not allowed: "
                            "'i j J' (a bond) or 'h i value' (a field)") from None
    n = max([max(b) for b in bonds] + list(fields) + [-1]) + 1
    h = np.zeros(max(n, 0))
    for i, v in fields.items():
        if i < 0:
            raise DataError(f"couplings file {str(path)!r}: field on site {i}: sites are >= 0")
        h[i] = v
    return {"bonds": bonds, "J": J, "h": h.tolist()}


def _checked(raw: dict, where: str) -> dict:
    try:
        bonds = np.asarray(raw["bonds"], dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{where}: bonds = {raw['bonds']!r:.80} is not allowed: a list of [i, j] site pairs") from None
    if bonds.size == 0 or bonds.ndim != 2 or bonds.shape[1] != 2 or np.any(bonds != np.round(bonds)):
        raise DataError(f"{where}: bonds of shape {bonds.shape} are not allowed: a non-empty list of [i, j] "
                        "integer site pairs")
    bonds = bonds.astype(np.int64)
    n = int(raw.get("n_sites", bonds.max() + 1)) if not isinstance(raw.get("n_sites"), bool) else -1
    if not 2 <= n <= MAX_SITES:
        raise DataError(f"{where}: n_sites = {raw.get('n_sites', n)!r} is not allowed: 2 to {MAX_SITES} sites")
    if bonds.min() < 0 or bonds.max() >= n:
        raise DataError(f"{where}: a bond to site {int(bonds.max() if bonds.max() >= n else bonds.min())} is not "
                        f"allowed: sites are 0 to {n - 1}")
    if np.any(bonds[:, 0] == bonds[:, 1]):
        raise DataError(f"{where}: a bond from a site to itself ({int(bonds[bonds[:, 0] == bonds[:, 1]][0, 0])}) "
                        "is not allowed")
    key = np.sort(bonds, axis=1)
    if len(np.unique(key, axis=0)) != len(key):
        raise DataError(f"{where}: a bond is listed twice: give each pair once (add the couplings)")
    J = _values(raw.get("J", 1.0), len(bonds), "J", "one per bond", where)
    h = _values(raw.get("h", 0.0), n, "h", "one per site", where)
    label = str(raw.get("label", Path(where).stem))
    out = {"bonds": bonds, "J": J, "h": h, "label": label}
    if "ground_states" in raw:
        try:
            states = np.asarray(raw["ground_states"], dtype=float)
        except (TypeError, ValueError):
            states = np.zeros((0, 0))
        if states.ndim != 2 or states.shape[1] != n or len(states) == 0 or not np.all(np.abs(states) == 1):
            raise DataError(f"{where}: ground_states of shape {states.shape} are not allowed: rows of {n} "
                            "values +1 or -1")
        out["ground_states"] = np.unique(states.astype(np.int8), axis=0)
    return out


def _values(value, n: int, name: str, what: str, where: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {name} = {value!r:.80} is not allowed: numbers, {what} or one for all") from None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise DataError(f"{where}: {name} with {arr.size} values is not allowed: {n} finite numbers ({what}) "
                        "or one for all")
    return arr


def spin_problem(couplings: dict, exact_limit: int = 30, seed: int = 0, family: str = "user"):
    """A :class:`~physbreak.problems.spin.SpinProblem` of the couplings with its
    ground states (exact up to ``exact_limit`` spins, searched beyond) and symmetry."""
    from physbreak.groundstate import GroundStates, energies, ground_states
    from physbreak.problems.spin import make_problem

    n, c = len(couplings["h"]), couplings
    given = c.get("ground_states")
    if given is None:
        gs = ground_states(n, c["bonds"], c["J"], c["h"], exact_limit, seed=seed)
    else:
        e = energies(given, c["bonds"], c["J"], c["h"])
        if np.ptp(e) > 1e-9:
            raise DataError(f"{c['label']}: the given ground_states have different energies ({e.min():g} to "
                            f"{e.max():g} J): ground states share one energy")
        if n <= exact_limit:  # checked, and completed by the enumeration
            gs = ground_states(n, c["bonds"], c["J"], c["h"], exact_limit)
            if e[0] > gs.energy + 1e-9:
                raise DataError(f"{c['label']}: the given ground_states have E = {e[0]:g} J, above the exact "
                                f"ground energy {gs.energy:g} J")
        else:
            gs = GroundStates(float(e[0]), len(given), given, exact=False)
    return make_problem(family, couplings["label"], couplings["bonds"], couplings["J"], couplings["h"], gs)
