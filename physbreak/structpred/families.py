"""Structure families for ``physbreak groundstates``: each record is one
symmetric input with its ground states (:class:`~physbreak.structpred.problem.StructureProblem`).

| family | cases (``params``) | one record |
|---|---|---|
| ``batio3`` | ``parents`` (default ``"TORC"``) | a strained parent cell of that kind (:mod:`.batio3`) |
| ``glazer`` | ``systems`` (default all 14 tilted), ``angles = [lo, hi]`` degrees (default ``[3, 12]``) | that tilt system at angles drawn uniformly per distinct letter, unequal ones >= 2 degrees apart (:mod:`.glazer`) |
| ``molecules`` | ``molecules``: ``"family:name"`` (``ax3:NH3``) or ``"raised:name:how"`` (``raised:SO2:linearise``); default every ax3, ax2 and c4x4 molecule | a noisy symmetric input near that saddle (:mod:`.molecules`) |

``count`` records are made per case.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from physbreak.errors import ConfigError

STRUCTURE_FAMILIES = ("batio3", "glazer", "molecules")


def cases(name: str, params: dict) -> list[str]:
    if name == "batio3":
        parents = str(params.get("parents", "TORC"))
        if not parents or any(k not in "TORC" for k in parents):
            raise ConfigError("family.params.parents", parents, "letters of T, O, R, C")
        return list(parents)
    if name == "glazer":
        from physbreak.structpred.glazer import SYSTEMS

        systems = list(params.get("systems", SYSTEMS))
        bad = [s for s in systems if s not in SYSTEMS]
        if bad:
            raise ConfigError("family.params.systems", bad, f"tilted Glazer systems: {', '.join(SYSTEMS)}")
        return systems
    if name == "molecules":
        from physbreak.systems.molecules import FAMILIES, RAISE

        out = list(params.get("molecules", [f"{f}:{m}" for f, table in FAMILIES.items() for m in table]))
        for entry in out:
            parts = str(entry).split(":")
            ok = (len(parts) == 2 and parts[0] in FAMILIES and parts[1] in FAMILIES[parts[0]]) or \
                (len(parts) == 3 and parts[0] == "raised" and parts[2] in RAISE)
            if not ok:
                raise ConfigError("family.params.molecules", entry,
                                  f"'family:name' ({', '.join(FAMILIES)}) or 'raised:<ase name>:<{'|'.join(RAISE)}>'")
        return out
    raise ConfigError("family.name", name, f"one of {', '.join(STRUCTURE_FAMILIES)}")


@lru_cache(maxsize=None)
def _molecule_case(entry: str):
    from physbreak.systems.molecules import family_case, raised_case

    parts = entry.split(":")
    return raised_case(parts[1], parts[2]) if parts[0] == "raised" else family_case(*parts)


def generate(name: str, case: str, rng: np.random.Generator, params: dict):
    """One :class:`StructureProblem` of ``case`` (from :func:`cases`)."""
    if name == "batio3":
        from physbreak.structpred.batio3 import make_problem

        return make_problem(case, rng)
    if name == "glazer":
        from physbreak.structpred.glazer import draw_angles, make_problem

        return make_problem(case, draw_angles(case, rng, *params.get("angles", [3.0, 12.0])))
    from physbreak.structpred.molecules import problems

    return problems(_molecule_case(case), 1, rng)[0]
