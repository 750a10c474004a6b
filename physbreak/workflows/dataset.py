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

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from physbreak.config import fields, load_text
from physbreak.config.dataset import DatasetConfig, parse  # noqa: F401  (DatasetConfig: the workflow's input)
from physbreak.problems.spin_families import generate
from physbreak.io.claims import claim
from physbreak.problems import store
from physbreak.problems.structure_families import CASE_FAMILIES
from physbreak.problems.structure_families import cases as structure_cases
from physbreak.problems.structure_families import generate as generate_structure


def load(path) -> DatasetConfig:
    return parse(load_text(path))


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
    with claim(out):
        return _build(cfg, out, resume, progress)


def _build(cfg: DatasetConfig, out: Path, resume: bool, progress) -> Path:
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
