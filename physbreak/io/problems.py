"""HDF5 files of spin ground-state problems (``kind = "groundstates"``) and of
model predictions on them (``kind = "predictions"``).

Layout (schema version 1, see ``docs/hdf5-schema.md``)::

    /                     physbreak_schema, physbreak_version, kind, config, seed, complete
    /records/<000000>/    attrs family, split, label, n_sites, ground_energy, degeneracy,
                                exact, restarts, agreed, done
        bonds (n_bonds, 2) int64   J (n_bonds,) J   h (n_sites,) J
        ground_states (k, n_sites) int8      (k = min(degeneracy, cap))
        stab_perm (g, n_sites) int64, stab_sign (g,) int64   stabilizer generators

Records are written one at a time and flushed; ``done`` is set last, so a
killed run resumes at the first record without it.
"""

from __future__ import annotations

import h5py
import numpy as np

from physbreak import __version__
from physbreak.errors import CorruptFileError, OutputExistsError
from physbreak.groundstate.enumerate import GroundStates
from physbreak.groundstate.problems import SpinProblem
from physbreak.io.hdf5 import SCHEMA_VERSION, open_file


def create(path, kind: str, config_text: str, seed: int) -> h5py.File:
    """A new file of ``kind`` (refuses to overwrite)."""
    try:
        f = h5py.File(path, "x")
    except FileExistsError:
        raise OutputExistsError(f"--out = {str(path)!r} exists: pass --resume to continue it, "
                                "or choose another output file") from None
    f.attrs.update({"physbreak_schema": SCHEMA_VERSION, "physbreak_version": __version__,
                    "kind": kind, "config": config_text, "seed": seed, "complete": False})
    f.create_group("records")
    f.flush()
    return f


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
            if not g.attrs.get("done", False):
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
