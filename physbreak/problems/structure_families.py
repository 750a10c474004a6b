"""Structure families for ``physbreak groundstates``: each record is one
symmetric input with its ground states (:class:`~physbreak.problems.structure.StructureProblem`).

| family | cases (``params``) | one record |
|---|---|---|
| ``batio3`` | ``parents`` (default ``"TORC"``) | a strained parent cell of that kind (:mod:`.batio3`) |
| ``glazer`` | ``systems`` (default all 14 tilted), ``angles = [lo, hi]`` degrees (default ``[3, 12]``) | that tilt system at angles drawn uniformly per distinct letter, unequal ones >= 2 degrees apart (:mod:`.glazer`) |
| ``polar_tilt`` | ``target`` (default ``"R3c"``), ``volume`` and ``shear`` strain ranges | a 2x2x2 cubic perovskite cell -> Gamma4- + R4+ along the directions of that isotropy subgroup (:mod:`.isotropy`) |
| ``molecules`` | ``molecules``: ``"family:name"`` (``ax3:NH3``) or ``"raised:name:how"`` (``raised:SO2:linearise``); default every ax3, ax2 and c4x4 molecule | a noisy symmetric input near that saddle (:mod:`.molecules`) |
| ``structures`` | ``files``: structure files ase reads, the input first and one or more ground-state targets after it (extxyz, traj); or ``inputs`` and ``targets`` (one file, or a list of files, per input) | the user's own problem (:func:`~physbreak.problems.user.structure_problem`) |
| ``couplings`` | ``files``: spin couplings files (``.toml``, ``.txt``, ``.h5``; :func:`~physbreak.problems.user.read_couplings`) | a spin problem with exact or searched ground states |

``count`` records are made per case (the user's families: one per file).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from physbreak.errors import InvalidValue, SymmetryError

STRUCTURE_FAMILIES = ("batio3", "glazer", "polar_tilt", "molecules", "structures")
CASE_FAMILIES = STRUCTURE_FAMILIES + ("couplings",)  # families of cases rather than sizes


def _files(params: dict, key: str) -> list[str]:
    from pathlib import Path

    files = params.get(key, [])
    files = files if isinstance(files, list) else [files]
    for f in files:
        if not isinstance(f, str) or not Path(f).is_file():
            raise InvalidValue(f"params.{key}", f, "existing files (paths relative to the working directory)")
    return files


def cases(name: str, params: dict) -> list[str]:
    """The cases of a family (each gets ``count`` records), its params checked."""
    if name == "couplings":
        files = _files(params, "files")
        if not files or set(params) - {"files"}:
            raise InvalidValue("params", sorted(params), "files = [couplings files]")
        return files
    if name == "structures":
        if "files" in params:
            if set(params) != {"files"} or not _files(params, "files"):
                raise InvalidValue("params", sorted(params), "files = [...] alone, or inputs and targets")
            return [f"file:{k}" for k in range(len(params["files"]))]
        inputs, targets = _files(params, "inputs"), params.get("targets")
        if not inputs or not isinstance(targets, list) or len(targets) != len(inputs) or set(params) != {"inputs",
                                                                                                          "targets"}:
            raise InvalidValue("params", sorted(params), "files = [...], or inputs = [...] with one targets "
                              "entry (a file or a list of files) per input")
        for t in targets:
            _files({"targets": t}, "targets")
        return [f"pair:{k}" for k in range(len(inputs))]
    from physbreak.problems.batio3 import PARENTS

    if name == "batio3":
        parents = params.get("parents", "TORC")
        kinds = list(parents) if isinstance(parents, str) else parents
        if not isinstance(kinds, list) or not kinds or any(k not in PARENTS for k in kinds):
            raise InvalidValue("params.parents", parents, f"letters of TORC, or a list of {', '.join(PARENTS)}")
        return kinds
    if name == "glazer":
        from physbreak.problems.glazer import SYSTEMS

        systems = list(params.get("systems", SYSTEMS))
        bad = [s for s in systems if s not in SYSTEMS]
        if bad:
            raise InvalidValue("params.systems", bad, f"tilted Glazer systems: {', '.join(SYSTEMS)}")
        return systems
    if name == "polar_tilt":
        from physbreak.problems.isotropy import LABELS, cubic_perovskite
        from physbreak.symmetry.crystal_modes import directions_for

        target = params.get("target", "R3c")
        try:
            directions_for(cubic_perovskite(), list(LABELS), str(target))
        except SymmetryError as exc:
            raise InvalidValue("params.target", target, str(exc).split("; ", 1)[-1]) from None
        return [str(target)]
    if name == "molecules":
        from physbreak.systems.molecules import FAMILIES, RAISE

        out = list(params.get("molecules", [f"{f}:{m}" for f, table in FAMILIES.items() for m in table]))
        for entry in out:
            parts = str(entry).split(":")
            ok = (len(parts) == 2 and parts[0] in FAMILIES and parts[1] in FAMILIES[parts[0]]) or \
                (len(parts) == 3 and parts[0] == "raised" and parts[2] in RAISE)
            if not ok:
                raise InvalidValue("params.molecules", entry,
                                  f"'family:name' ({', '.join(FAMILIES)}) or 'raised:<ase name>:<{'|'.join(RAISE)}>'")
        return out
    raise InvalidValue("name", name, f"one of {', '.join(STRUCTURE_FAMILIES)}")


@lru_cache(maxsize=None)
def _molecule_case(entry: str):
    from physbreak.systems.molecules import family_case, raised_case

    parts = entry.split(":")
    return raised_case(parts[1], parts[2]) if parts[0] == "raised" else family_case(*parts)


def generate(name: str, case: str, rng: np.random.Generator, params: dict):
    """One :class:`StructureProblem` of ``case`` (from :func:`cases`)."""
    if name == "structures":
        from pathlib import Path

        from physbreak.problems.user import read_structures, structure_problem

        how, k = case.split(":")
        if how == "file":
            frames = read_structures(params["files"][int(k)])
            if len(frames) < 2:
                from physbreak.errors import DataError

                raise DataError(f"structure file {params['files'][int(k)]!r} holds {len(frames)} frame: the input "
                                "first, then one or more ground-state targets")
            return structure_problem(frames[0], frames[1:], kind=Path(params["files"][int(k)]).stem, family="structures")
        path = params["inputs"][int(k)]
        targets = params["targets"][int(k)]
        targets = [t for f in (targets if isinstance(targets, list) else [targets]) for t in read_structures(f)]
        return structure_problem(read_structures(path)[0], targets, kind=Path(path).stem, family="structures")
    if name == "batio3":
        from physbreak.problems.batio3 import make_problem

        return make_problem(case, rng)
    if name == "polar_tilt":
        from physbreak.problems.isotropy import make_problem

        return make_problem(rng, case, params.get("volume", (0.01, 0.03)), params.get("shear", (0.005, 0.02)))
    if name == "glazer":
        from physbreak.problems.glazer import draw_angles, make_problem

        return make_problem(case, draw_angles(case, rng, *params.get("angles", [3.0, 12.0])))
    from physbreak.problems.molecules import problems

    return problems(_molecule_case(case), 1, rng)[0]
