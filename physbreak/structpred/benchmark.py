"""``physbreak train CONFIG.toml`` for ``kind = "structures"`` configs: the e3nn
structure predictor with each breaker on three datasets.

Config::

    kind = "structures"
    seed = 0
    output = "structures_benchmark"        # folder: results/*.json, report.md
    device = "cpu"                         # or "cuda", "cuda:N"
    breakers = ["none", "sbs", "sympe", "noise", "baseline", "canonical"]
    datasets = ["batio3", "molecules", "glazer"]

    [batio3]                               # strained parent cells -> polar ground states
    parents = "TORC"                       # tetragonal, orthorhombic, rhombohedral, cubic parents
    train = 40                             # problems per parent
    test = 10
    epochs = 100

    [molecules]                            # AX3, AX2, C4X4 saddles -> xTB ground states
    train = 16                             # inputs per molecule
    test = 3
    epochs = 300

    [glazer]                               # untilted 2x2x2 cells -> tilt systems
    train = 8                              # angle sets per tilt system (uniform in angles)
    test = 5                               # held-out angle sets (other draws)
    angles = [3.0, 12.0]
    epochs = 80
    cutoff = 3.5                           # A: B-O, O-O, A-O and A-B neighbours

Finished (dataset, breaker) pairs are skipped when the command runs again (resume).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from physbreak.config import Section, _number, check_device, device_of, read_toml
from physbreak.errors import ConfigError
from physbreak.structpred.train import BREAKERS, evaluate, train

DATASETS = ("batio3", "molecules", "glazer")
DEFAULTS = {"batio3": {"parents": "TORC", "train": 40, "test": 10, "epochs": 100},
            "molecules": {"train": 16, "test": 3, "epochs": 300},
            "glazer": {"train": 8, "test": 5, "angles": [3.0, 12.0], "epochs": 80, "cutoff": 3.5}}


def is_structures_config(text: str) -> bool:
    try:
        return read_toml(text).get("kind") == "structures"
    except ConfigError:
        return False


def parse(text: str) -> dict:
    raw = read_toml(text)
    top = Section(raw, "", ("kind",), ("seed", "output", "device", "breakers", "datasets") + DATASETS)
    breakers = top.get("breakers", list(BREAKERS))
    breakers = breakers if isinstance(breakers, list) else [breakers]
    for b in breakers:
        if b not in BREAKERS:
            raise ConfigError("breakers", b, f"a list of {', '.join(BREAKERS)}")
    datasets = top.get("datasets", list(DATASETS))
    datasets = datasets if isinstance(datasets, list) else [datasets]
    for d in datasets:
        if d not in DATASETS:
            raise ConfigError("datasets", d, f"a list of {', '.join(DATASETS)}")
    cfg = {"seed": top.integer("seed", 0, minimum=0), "output": str(top.get("output", "structures_benchmark")),
           "device": device_of(top), "breakers": breakers, "datasets": datasets}
    for name, defaults in DEFAULTS.items():
        sec = Section(top.get(name, {}), name, (), tuple(defaults))
        opts = {k: sec.integer(k, v, minimum=1) for k, v in defaults.items() if isinstance(v, int)}
        if name == "batio3":
            opts["parents"] = str(sec.get("parents", "TORC"))
            if not opts["parents"] or any(k not in "TORC" for k in opts["parents"]):
                raise ConfigError("batio3.parents", opts["parents"], "letters of T, O, R, C")
        if name == "glazer":
            angles = sec.get("angles", defaults["angles"])
            if not (isinstance(angles, list) and len(angles) == 2
                    and 0 < _number(angles[0], "glazer.angles") < _number(angles[1], "glazer.angles") < 30):
                raise ConfigError("glazer.angles", angles, "[lo, hi] degrees with 0 < lo < hi < 30")
            opts["angles"] = [float(a) for a in angles]
            opts["cutoff"] = _number(sec.get("cutoff", defaults["cutoff"]), "glazer.cutoff")
        cfg[name] = opts
    return cfg


def datasets(name: str, cfg: dict) -> tuple[list, list]:
    """``(train, test)`` problems of one dataset."""
    opts, seed = cfg[name], cfg["seed"]
    if name == "batio3":
        from physbreak.structpred.batio3 import make_dataset

        return (make_dataset(opts["parents"], opts["train"], seed=seed),
                make_dataset(opts["parents"], opts["test"], seed=seed + 1))
    if name == "molecules":
        from physbreak.structpred.molecules import cases, make_dataset

        solved = cases()
        return make_dataset(opts["train"], seed, solved=solved), make_dataset(opts["test"], seed + 1, solved=solved)
    from physbreak.structpred.glazer import SYSTEMS, make_dataset

    lo, hi = opts["angles"]
    return (make_dataset(opts["train"], seed, SYSTEMS, lo, hi), make_dataset(opts["test"], seed + 1, SYSTEMS, lo, hi))


def run(cfg: dict, progress=None) -> Path:
    check_device(cfg["device"])
    out = Path(cfg["output"])
    (out / "results").mkdir(parents=True, exist_ok=True)
    results = {}
    for name in cfg["datasets"]:
        todo = [b for b in cfg["breakers"] if not (out / "results" / f"{name}-{b}.json").exists()]
        train_set, test_set = datasets(name, cfg) if todo else ([], [])
        extra = {"cutoff": cfg[name]["cutoff"]} if "cutoff" in cfg[name] else {}
        for breaker in cfg["breakers"]:
            path = out / "results" / f"{name}-{breaker}.json"
            if path.exists():
                results[name, breaker] = json.loads(path.read_text())
                continue
            model, seconds = train(breaker, train_set, cfg[name]["epochs"], cfg["seed"], desc=f"{name} {breaker}",
                                   device=cfg["device"], **extra)
            results[name, breaker] = {"train_seconds": seconds, "rows": evaluate(model, test_set, cfg["seed"])}
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(results[name, breaker], indent=1))
            os.replace(tmp, path)
    (out / "report.md").write_text(report(results, cfg))
    return out / "report.md"


INTRO = {
    "batio3": "BaTiO3: strained centrosymmetric parents {parents} -> polar ground states of the effective "
              "Hamiltonian; {train} train and {test} test problems per parent, {epochs} epochs. group ok: spglib "
              "(0.01 A) finds the ground state's space group.",
    "molecules": "Molecules: planar AX3, linear AX2 and square C4X4 saddles (near-saddle inputs: the saddle plus "
                 "symmetrised 0.03 A noise) -> GFN2-xTB ground states; {train} train and {test} test inputs per "
                 "molecule (15 molecules), {epochs} epochs. group ok: point group at 0.01 A; E: xTB energy of the "
                 "prediction above the relaxed ground state.",
    "glazer": "Glazer tilts: untilted 2x2x2 cells with the rigid-tilt metric -> the 14 tilt systems; {train} train "
              "and {test} held-out angle sets per system (angles uniform in {angles} degrees), {epochs} epochs. "
              "group ok: spglib (0.01 A); Glazer ok: symbol extracted from the prediction.",
}


def report(results: dict, cfg: dict) -> str:
    lines = ["# Structure prediction benchmark", "",
             f"Seed {cfg['seed']}. RMSD: orbit-aware (nearest ground-state variant), Angstrom. relaxed err: max over "
             "test cases of min over the input's operations s of |R^T f(R x) - s f(x)| for a random rotation or "
             "improper rotation R (deterministic breakers; not for linear molecules or Glazer cells)."]
    for name in cfg["datasets"]:
        lines += ["", f"## {name}", "", INTRO[name].format(**cfg[name]), ""]
        head = ["breaker", "RMSD mean", "RMSD < 0.01 A", "group ok"]
        head += ["Glazer ok"] if name == "glazer" else []
        head += ["E < 10 meV", "E median (meV)"] if name == "molecules" else []
        head += ["relaxed err", "train s"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for breaker in cfg["breakers"]:
            res = results.get((name, breaker))
            if res is None:
                continue
            rows = res["rows"]
            rel = [r["relaxed_error"] for r in rows if "relaxed_error" in r]
            cells = [breaker, f"{np.mean([r['rmsd'] for r in rows]):.4f}",
                     f"{100 * np.mean([r['rmsd'] < 0.01 for r in rows]):.0f} %",
                     f"{100 * np.mean([r['group_ok'] for r in rows]):.0f} %"]
            if name == "glazer":
                cells.append(f"{100 * np.mean([r['glazer_ok'] for r in rows]):.0f} %")
            if name == "molecules":
                e = np.array([r["energy_mev"] for r in rows])
                cells += [f"{100 * np.mean(e < 10):.0f} %", f"{np.median(e):.1f}"]
            cells += [f"{max(rel):.1e}" if rel else "n/a", f"{res['train_seconds']:.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
