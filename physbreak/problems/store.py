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
            atoms = Atoms(numbers=g["numbers"][:], positions=g["positions"][:], cell=g["cell"][:], pbc=g["pbc"][:])
            energy = float(a["ground_energy"])
            out.append(StructureProblem(str(a["kind"]), atoms, g["targets"][:], str(a["target_group"]),
                                        str(a["target_point_group"]), g["target_mats"][:], g["mats"][:],
                                        g["perms"][:], str(a["family"]), None if np.isnan(energy) else energy,
                                        g["breakers"][:] if "breakers" in g else None))
    return out


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
            ground = GroundStates(float(a["ground_energy"]), int(a["degeneracy"]), g["ground_states"][:],
                                  bool(a["exact"]), int(a["restarts"]), int(a["agreed"]))
            out.append((name, str(a["split"]), SpinProblem(str(a["family"]), str(a["label"]), g["bonds"][:],
                                                           g["J"][:], g["h"][:], ground,
                                                           g["stab_perm"][:], g["stab_sign"][:])))
    return out
