"""``physbreak groundstates CONFIG.toml``: generate a ground-state dataset.

Config::

    seed = 7
    output = "groundstates.h5"
    exact_limit = 30            # exact enumeration up to this many spins, search beyond

    [[family]]
    name = "uniform"            # uniform, frustrated, spin_glass, planted, maxcut
    split = "train"             # free label, used to select records when training
    sizes = [4]                 # linear sizes (lattices) or vertex counts (maxcut)
    count = 100                 # problems per size
    [family.params]             # family-specific, see physbreak.problems.spin_families
    J2 = [-1.0, 0.3]

    [[family]]
    name = "molecules"          # structure families: batio3, glazer, molecules (no sizes)
    count = 16                  # problems per case, see physbreak.problems.structure_families
    [family.params]
    molecules = ["ax3:NH3", "ax2:H2O", "c4x4:C4H4", "raised:SO2:linearise"]

Every record is seeded by ``(seed, family entry, size, index)``: a resumed run
produces the same file as an uninterrupted one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from physbreak.config import Section, fields
from physbreak.errors import ConfigError
from physbreak.problems.spin_families import FAMILIES, generate
from physbreak.problems import store
from physbreak.problems.structure_families import CASE_FAMILIES
from physbreak.problems.structure_families import cases as structure_cases
from physbreak.problems.structure_families import generate as generate_structure

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class FamilySpec:
    name: str
    split: str
    sizes: tuple[int, ...]
    count: int
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetConfig:
    families: tuple[FamilySpec, ...]
    seed: int = 0
    output: str = "groundstates.h5"
    exact_limit: int = 30
    text: str = ""


def parse(text: str) -> DatasetConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("CONFIG", "invalid TOML", f"valid TOML ({exc})") from None
    top = Section(raw, "", ("family",), ("seed", "output", "exact_limit"))
    if not isinstance(raw["family"], list) or not raw["family"]:
        raise ConfigError("family", raw["family"], "one or more [[family]] tables")
    specs = []
    for k, table in enumerate(raw["family"]):
        structure = isinstance(table, dict) and table.get("name") in CASE_FAMILIES
        sec = Section(table, f"family[{k}]", ("name",) if structure else ("name", "sizes", "count"),
                      ("split", "params", "count"))
        name = sec.choice("name", tuple(FAMILIES) + CASE_FAMILIES)
        sizes = [] if structure else sec.list("sizes")
        if not structure and (not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 2 for s in sizes)):
            raise ConfigError(f"family[{k}].sizes", sizes, "integers >= 2")
        params = sec.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"family[{k}].params", params, "a table")
        if structure:
            with fields({}, f"family[{k}]."):
                structure_cases(name, params)  # checks the params now, not halfway through the run
        specs.append(FamilySpec(name, str(sec.get("split", "train")), tuple(sizes),
                                sec.integer("count", 1, minimum=1), params))
    return DatasetConfig(tuple(specs), top.integer("seed", 0, minimum=0),
                         str(top.get("output", "groundstates.h5")),
                         top.integer("exact_limit", 30, minimum=2), text)


def load(path) -> DatasetConfig:
    try:
        return parse(Path(path).read_text())
    except OSError as exc:
        raise ConfigError("CONFIG", str(path), f"a readable TOML file ({exc.strerror})") from None


def jobs(cfg: DatasetConfig):
    """``(record index, spec, size or structure case, SeedSequence)`` for every record, in order."""
    k = 0
    for e, spec in enumerate(cfg.families):
        for c, size in enumerate(spec.sizes or structure_cases(spec.name, spec.params)):
            for i in range(spec.count):
                key = size if spec.sizes else c  # spin families: the size; structure families: the case
                yield k, spec, size, np.random.SeedSequence(cfg.seed, spawn_key=(e, key, i))
                k += 1


def build_dataset(cfg: DatasetConfig, out=None, resume: bool = False, progress: bool | None = None) -> Path:
    """Generate every record of ``cfg`` into ``out`` (default ``cfg.output``)."""
    out = Path(out or cfg.output)
    if resume and out.exists():
        f = store.open_kind(out, "groundstates", "r+")
        if f.attrs["config"] != cfg.text:
            f.close()
            from physbreak.errors import ResumeError

            raise ResumeError(f"--out = {str(out)!r} was made from a different config: resume with "
                              "the same config or write a new file")
    else:
        f = store.create(out, "groundstates", cfg.text, cfg.seed)
    try:
        todo = list(jobs(cfg))
        start = store.done_records(f)
        for k, spec, size, ss in tqdm(todo[start:], initial=start, total=len(todo), unit="problem",
                                      desc=out.name, disable=None if progress is None else not progress):
            rng = np.random.default_rng(ss)
            if spec.name == "couplings":  # the user's spin Hamiltonians
                from physbreak.problems.user import read_couplings, spin_problem

                problem = spin_problem(read_couplings(size), cfg.exact_limit, seed=int(ss.generate_state(1)[0]),
                                       family="couplings")
                store.write_problem(f, k, problem, spec.split)
                continue
            if spec.name in CASE_FAMILIES:
                store.write_structure(f, k, generate_structure(spec.name, size, rng, spec.params), spec.split)
                continue
            with fields({}, "family."):
                problem = generate(spec.name, size, rng, spec.params, cfg.exact_limit,
                                   seed=int(ss.generate_state(1)[0]))
            store.write_problem(f, k, problem, spec.split)
        f.attrs["complete"] = True
    finally:
        f.close()
    return out
