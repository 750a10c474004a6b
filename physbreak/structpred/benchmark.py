"""``physbreak train CONFIG.toml`` for ``kind = "structures"`` configs: the e3nn
structure predictor with each breaker on BaTiO3 parent -> ground-state problems.

Config::

    kind = "structures"
    seed = 0
    output = "structures_benchmark"        # folder: results/*.json, report.md
    breakers = ["none", "sbs", "sympe", "noise"]
    parents = "TORC"                       # tetragonal, orthorhombic, rhombohedral, cubic parents
    train_per_parent = 40
    test_per_parent = 10
    epochs = 100

Finished breakers are skipped when the command runs again (resume).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from physbreak.config import Section, read_toml
from physbreak.errors import ConfigError
from physbreak.structpred.batio3 import INTENDED, make_dataset
from physbreak.structpred.train import BREAKERS, evaluate, train


def is_structures_config(text: str) -> bool:
    try:
        return read_toml(text).get("kind") == "structures"
    except ConfigError:
        return False


def parse(text: str) -> dict:
    top = Section(read_toml(text), "", ("kind",), ("seed", "output", "breakers", "parents", "train_per_parent",
                                                    "test_per_parent", "epochs"))
    breakers = top.get("breakers", list(BREAKERS))
    for b in breakers if isinstance(breakers, list) else [breakers]:
        if b not in BREAKERS:
            raise ConfigError("breakers", b, f"a list of {', '.join(BREAKERS)}")
    parents = str(top.get("parents", "TORC"))
    if not parents or any(k not in INTENDED for k in parents):
        raise ConfigError("parents", parents, "letters of T, O, R, C")
    return {"seed": top.integer("seed", 0, minimum=0), "output": str(top.get("output", "structures_benchmark")),
            "breakers": list(breakers) if isinstance(breakers, list) else [breakers], "parents": parents,
            "train": top.integer("train_per_parent", 40, minimum=1), "test": top.integer("test_per_parent", 10, minimum=1),
            "epochs": top.integer("epochs", 100, minimum=1)}


def run(cfg: dict, progress=None) -> Path:
    out = Path(cfg["output"])
    (out / "results").mkdir(parents=True, exist_ok=True)
    train_set = make_dataset(cfg["parents"], cfg["train"], seed=cfg["seed"])
    test_set = make_dataset(cfg["parents"], cfg["test"], seed=cfg["seed"] + 1)
    results = {}
    for breaker in cfg["breakers"]:
        path = out / "results" / f"batio3-{breaker}.json"
        if path.exists():
            results[breaker] = json.loads(path.read_text())
            continue
        model, seconds = train(breaker, train_set, cfg["epochs"], cfg["seed"])
        rows = evaluate(model, test_set, cfg["seed"])
        results[breaker] = {"train_seconds": seconds, "rows": rows}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(results[breaker], indent=1))
        os.replace(tmp, path)
    (out / "report.md").write_text(report(results, cfg))
    return out / "report.md"


def report(results: dict, cfg: dict) -> str:
    lines = ["# Structure prediction benchmark", "",
             f"BaTiO3 parents {cfg['parents']} (effective-Hamiltonian ground states), {cfg['train']} train and "
             f"{cfg['test']} test problems per parent, {cfg['epochs']} epochs, seed {cfg['seed']}. RMSD: orbit-aware "
             "(nearest ground-state variant), Angstrom. group ok: spglib (0.01 A) finds the ground state's space group. "
             "relaxed err: max over test cases of min over the parent's operations of |R^T f(R x) - s f(x)| for a "
             "random rotation or improper rotation R (deterministic breakers only).", "",
             "| breaker | RMSD mean | RMSD < 0.01 A | group ok | relaxed err | train s |", "|---|---|---|---|---|---|"]
    for breaker, res in results.items():
        rows = res["rows"]
        rel = [r["relaxed_error"] for r in rows if "relaxed_error" in r]
        cells = [breaker, f"{np.mean([r['rmsd'] for r in rows]):.4f}",
                 f"{100 * np.mean([r['rmsd'] < 0.01 for r in rows]):.0f} %",
                 f"{100 * np.mean([r['group_ok'] for r in rows]):.0f} %",
                 f"{max(rel):.1e}" if rel else "n/a", f"{res['train_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
