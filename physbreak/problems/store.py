"""HDF5 files of spin ground-state problems (``kind = "groundstates"``) and of
model predictions on them (``kind = "predictions"``).

Layout (schema version 1, see ``docs/hdf5-schema.md``)::

    /                     physbreak_schema, physbreak_version, kind, config, seed, complete
    /records/<000000>/    attrs family, split, label, n_sites, ground_energy, degeneracy,
                                exact, restarts, agreed, done
        bonds (n_bonds, 2) int64   J (n_bonds,) J   h (n_sites,) J
        ground_states (k, n_sites) int8      (k = min(degeneracy, cap))
        stab_perm (g, n_sites) int64, stab_sign (g,) int64   stabilizer generators

Structure records (families batio3, glazer, molecules) have ``record =
"structure"`` and hold the input, its operations and the ground states::

    /records/<000000>/    attrs record, family, split, kind, target_group, target_point_group,
                                ground_energy (eV, NaN where not computed), done
        numbers (n,) int64   positions (n, 3) A   cell (3, 3) A   pbc (3,) bool     the input
        targets (k, n, 3) A          displacement of every ground-state variant
        mats (g, 3, 3), perms (g, n) int64     the input's operations (Cartesian, atom permutation)
        target_mats (h, 3, 3)                  the ground state's point group
        breakers (m, n, 11)                    per-atom symmetry-breaking set, where stored

Records are written one at a time and flushed; ``done`` is set last, so a
killed run resumes at the first record without it.
"""

from __future__ import annotations

import h5py
import numpy as np

from physbreak.errors import CorruptFileError
from physbreak.groundstate.enumerate import GroundStates
from physbreak.problems.spin import SpinProblem
from physbreak.io.hdf5 import create_file, open_file


def create(path, kind: str, config_text: str, seed: int) -> h5py.File:
    """A new file of ``kind`` (refuses to overwrite)."""
    return create_file(path, {"kind": kind, "config": config_text, "seed": seed, "complete": False},
                       lambda f: f.create_group("records"))


def open_kind(path, kind: str, mode: str = "r") -> h5py.File:
    """Open an existing file, checking its ``kind``."""
    f = open_file(path, mode)
    if f.attrs.get("kind") != kind:
        found = f.attrs.get("kind")
        f.close()
        raise CorruptFileError(f"FILE = {str(path)!r} holds kind {found!r}: expected a {kind!r} file")
    return f


def write_problem(f: h5py.File, index: int, problem: SpinProblem, split: str):
    name = f"{index:06d}"
    if name in f["records"]:
        del f["records"][name]  # an unfinished record from a killed run
    g = f["records"].create_group(name)
    gs = problem.ground
    for key, value in {"bonds": problem.bonds, "J": problem.J, "h": problem.h,
                       "ground_states": gs.states.astype(np.int8), "stab_perm": problem.stab_perm,
                       "stab_sign": problem.stab_sign}.items():
        g.create_dataset(key, data=value)
    g["J"].attrs["units"] = g["h"].attrs["units"] = "J"
    g.attrs.update({"family": problem.family, "split": split, "label": problem.label,
                    "n_sites": problem.n_sites, "ground_energy": gs.energy, "degeneracy": gs.degeneracy,
                    "exact": gs.exact, "restarts": gs.restarts, "agreed": gs.agreed})
    g.attrs["done"] = True
    f.flush()


def write_structure(f: h5py.File, index: int, problem, split: str):
    """Write one :class:`~physbreak.problems.structure.StructureProblem` record."""
    name = f"{index:06d}"
    if name in f["records"]:
        del f["records"][name]
    g = f["records"].create_group(name)
    atoms = problem.parent
    data = {"numbers": atoms.numbers, "positions": atoms.positions, "cell": np.asarray(atoms.cell),
            "pbc": atoms.pbc, "targets": problem.targets, "mats": problem.mats, "perms": problem.perms,
            "target_mats": problem.target_mats}
    if problem.breakers is not None:
        data["breakers"] = problem.breakers
    for key, value in data.items():
        g.create_dataset(key, data=value)
    for key in ("positions", "cell", "targets"):
        g[key].attrs["units"] = "A"
    g.attrs.update({"record": "structure", "family": problem.family, "split": split, "kind": problem.kind,
                    "target_group": problem.target_group, "target_point_group": problem.target_point_group,
                    "ground_energy": np.nan if problem.ground_energy is None else problem.ground_energy})
    g.attrs["done"] = True
    f.flush()


def read_structures(path, split: str | None = None, families=None) -> list:
    """The structure records of a ground-state file as ``StructureProblem`` objects, filtered."""
    from ase import Atoms

    from physbreak.problems.structure import StructureProblem

    out = []
    with open_kind(path, "groundstates") as f:
        for g in f["records"].values():
            a = g.attrs
            if not a.get("done", False) or a.get("record") != "structure":
                continue
            if (split is not None and a["split"] != split) or (families is not None and a["family"] not in families):
                continue
            n = len(g["numbers"])
            shapes = {"positions": (n, 3), "cell": (3, 3), "pbc": (3,)}
            if any(g[k].shape != s for k, s in shapes.items()) or g["targets"].shape[1:] != (n, 3) \
                    or g["perms"].shape[1:] != (n,) or not all(np.array_equal(np.sort(p), np.arange(n))
                                                               for p in g["perms"][:]) \
                    or not np.isfinite(g["positions"][:]).all() or not np.isfinite(g["targets"][:]).all():
                raise CorruptFileError(f"FILE = {str(path)!r}: record {g.name} is damaged (shapes, atom "
                                       "permutations or positions); regenerate it with `physbreak groundstates`")
            atoms = Atoms(numbers=g["numbers"][:], positions=g["positions"][:], cell=g["cell"][:], pbc=g["pbc"][:])
            energy = float(a["ground_energy"])
            out.append(StructureProblem(str(a["kind"]), atoms, g["targets"][:], str(a["target_group"]),
                                        str(a["target_point_group"]), g["target_mats"][:], g["mats"][:],
                                        g["perms"][:], str(a["family"]), None if np.isnan(energy) else energy,
                                        g["breakers"][:] if "breakers" in g else None))
    return out


def summary(path) -> list[dict]:
    """One row per (family, split, size) of the finished records: spin records by
    number of sites (with mean degeneracy and the exact fraction), structure
    records by kind."""
    groups: dict = {}
    with open_kind(path, "groundstates") as f:
        for g in f["records"].values():
            a = g.attrs
            if not a.get("done", False):
                continue
            structure = a.get("record") == "structure"
            key = (str(a["family"]), str(a["split"]), str(a["kind"]) if structure else int(a["n_sites"]))
            groups.setdefault(key, []).append(a if structure else (float(a["degeneracy"]), bool(a["exact"])))
    rows = []
    for (family, split, size), items in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        row = {"family": family, "split": split, "count": len(items)}
        if isinstance(size, str):
            row["kind"] = size
        else:
            row |= {"n_sites": size, "degeneracy": float(np.mean([d for d, _ in items])),
                    "exact": float(np.mean([e for _, e in items]))}
        rows.append(row)
    return rows


def done_records(f: h5py.File) -> int:
    """Number of leading records that are complete."""
    n = 0
    while f"{n:06d}" in f["records"] and f["records"][f"{n:06d}"].attrs.get("done", False):
        n += 1
    return n


def read_problems(path, split: str | None = None, families=None) -> list[tuple[str, str, SpinProblem]]:
    """``[(record name, split, problem)]`` of a ground-state file, filtered."""
    out = []
    with open_kind(path, "groundstates") as f:
        for name, g in f["records"].items():
            if not g.attrs.get("done", False) or g.attrs.get("record") == "structure":
                continue
            if split is not None and g.attrs["split"] != split:
                continue
            if families is not None and g.attrs["family"] not in families:
                continue
            a = g.attrs
            data = {k: g[k][:] for k in ("bonds", "J", "h", "ground_states", "stab_perm", "stab_sign")}
            _check_spin_record(path, name, **data)
            ground = GroundStates(float(a["ground_energy"]), int(a["degeneracy"]), data["ground_states"],
                                  bool(a["exact"]), int(a["restarts"]), int(a["agreed"]))
            out.append((name, str(a["split"]), SpinProblem(str(a["family"]), str(a["label"]), data["bonds"],
                                                           data["J"], data["h"], ground,
                                                           data["stab_perm"], data["stab_sign"])))
    return out


def _check_spin_record(path, name, bonds, J, h, ground_states, stab_perm, stab_sign):
    """A damaged record (indices out of range, wrong shapes, non-finite values) is a CorruptFileError."""
    n = len(h)
    ok = (bonds.ndim == 2 and bonds.shape[1:] == (2,) and J.shape == (len(bonds),)
          and ((bonds >= 0) & (bonds < n)).all() and np.isfinite(J).all() and np.isfinite(h).all()
          and ground_states.ndim == 2 and ground_states.shape[1] == n and np.isin(ground_states, (-1, 1)).all()
          and stab_perm.ndim == 2 and stab_perm.shape[1] == n and stab_sign.shape == (len(stab_perm),)
          and np.isin(stab_sign, (-1, 1)).all()
          and all(np.array_equal(np.sort(p), np.arange(n)) for p in stab_perm))
    if not ok:
        raise CorruptFileError(f"FILE = {str(path)!r}: record {name} is damaged (indices, shapes or values "
                               "out of range); regenerate it with `physbreak groundstates`")
