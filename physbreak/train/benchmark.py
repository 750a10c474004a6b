"""``physbreak train CONFIG.toml``: train symmetry-breaking predictors of Ising
ground states on every family of a dataset and write the benchmark report.

Config::

    seed = 0
    device = "cpu"                        # or "cuda"
    output = "groundstates_benchmark"     # folder: checkpoints/, results/, report.md, plots
    dataset = "groundstates.h5"           # made here from the [[family]] tables if missing
    models = ["none", "canonical", "emlp", "noise", "sympe", "baseline"]
    [train]
    epochs = 30
    batch_size = 16
    lr = 3e-3
    hidden = 32
    layers = 12                           # message-passing rounds (weights shared)
    [[family]]                            # as in `physbreak groundstates`; split "train"/"test"
    ...

Each (family, model) is trained on the family's ``train`` records and scored on
its ``test`` records (larger sizes included).  Finished pairs are skipped when
the command is run again, so an interrupted benchmark resumes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from physbreak.config import Section, check_device, device_of, read_toml
from physbreak.errors import ConfigError
from physbreak.groundstate.dataset import DatasetConfig, build_dataset
from physbreak.groundstate.dataset import parse as parse_dataset
from physbreak.io.problems import read_problems
from physbreak.train.evaluate import metrics, relaxed_error
from physbreak.train.spin_models import DETERMINISTIC, STRATEGIES, make_predictor



@dataclass(frozen=True)
class TrainConfig:
    dataset: DatasetConfig
    dataset_path: str
    output: str
    models: tuple[str, ...]
    seed: int = 0
    device: str = "cpu"
    epochs: int = 30
    batch_size: int = 16
    lr: float = 3e-3
    hidden: int = 32
    layers: int = 12
    text: str = ""


def parse(text: str) -> TrainConfig:
    raw = read_toml(text)
    top = Section(raw, "", ("family",), ("seed", "device", "output", "dataset", "models", "train",
                                          "exact_limit"))
    models = top.get("models", list(STRATEGIES))
    models = models if isinstance(models, list) else [models]
    for m in models:
        if m not in STRATEGIES:
            raise ConfigError("models", m, f"a list of {', '.join(STRATEGIES)}")
    tr = Section(top.subtable("train", {}), "train", (), ("epochs", "batch_size", "lr", "hidden", "layers"))
    device = device_of(top)
    ds = parse_dataset(_dataset_toml(raw))
    lr = tr.get("lr", 3e-3)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise ConfigError("train.lr", lr, "a number > 0")
    return TrainConfig(ds, str(top.get("dataset", "groundstates.h5")),
                       str(top.get("output", "groundstates_benchmark")), tuple(models),
                       top.integer("seed", 0, minimum=0), device,
                       tr.integer("epochs", 30, minimum=1), tr.integer("batch_size", 16, minimum=1),
                       float(lr), tr.integer("hidden", 32, minimum=1), tr.integer("layers", 12, minimum=1),
                       text)


def _dataset_toml(raw: dict) -> str:
    """The dataset part of a training config, as its own TOML text."""
    lines = [f"seed = {int(raw.get('seed', 0))}", f"exact_limit = {int(raw.get('exact_limit', 30))}"]
    for fam in raw["family"]:
        lines.append("[[family]]")
        for key, value in fam.items():
            if key != "params":
                lines.append(f"{key} = {json.dumps(value)}")
        if "params" in fam:
            lines.append("[family.params]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in fam["params"].items()]
    return "\n".join(lines) + "\n"


def load(path) -> TrainConfig:
    try:
        return parse(Path(path).read_text())
    except OSError as exc:
        raise ConfigError("CONFIG", str(path), f"a readable TOML file ({exc.strerror})") from None


def _atomic_json(path: Path, data):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def save_checkpoint(path: Path, predictor, strategy: str, cfg: TrainConfig, family: str):
    """``torch.save`` of tensors and a JSON string only (loads with weights_only=True)."""
    hyper = getattr(predictor.net, "hyper", {})
    meta = {"strategy": strategy, "family": family, "hidden": hyper.get("hidden", cfg.hidden),
            "layers": hyper.get("layers", cfg.layers), "train_sites": hyper.get("train_sites"),
            "seed": cfg.seed}
    payload = {"state_dict": predictor.net.state_dict(), "meta": json.dumps(meta)}
    if strategy == "emlp":
        payload["bonds"] = torch.as_tensor(predictor.bonds)
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, example_problem=None, device="cpu"):
    """A predictor from a checkpoint written by :func:`save_checkpoint`."""
    payload = torch.load(path, map_location=device, weights_only=True)
    meta = json.loads(payload["meta"])
    if meta["strategy"] == "emlp":
        from physbreak.groundstate.problems import SpinProblem

        bonds = payload["bonds"].numpy()
        n = int(bonds.max()) + 1
        example_problem = SpinProblem("", "", bonds, np.zeros(len(bonds)), np.zeros(n), None,
                                      np.zeros((0, n), np.int64), np.zeros(0, np.int64))
    predictor = make_predictor(meta["strategy"], [example_problem], meta["hidden"], meta["layers"],
                               device, meta["seed"])
    predictor.net.load_state_dict(payload["state_dict"])
    if hasattr(predictor.net, "hyper"):
        predictor.net.hyper["train_sites"] = meta.get("train_sites")
    return predictor, meta


def evaluate_model(predictor, strategy, problems, seed=0, relaxed_samples=2) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    usable = [p for p in problems if strategy != "emlp" or predictor.accepts(p)]
    outputs = predictor.predict(usable) if usable else []
    for p, y in zip(usable, outputs):
        group = p.symmetry_group()
        arrays = (group.realisations["perm"], group.realisations["sign"])
        row = {"label": p.label, "n_sites": p.n_sites, **metrics(p, y, arrays)}
        if DETERMINISTIC[strategy]:
            moves = predictor.moves if strategy == "emlp" else None
            row["relaxed_error"] = relaxed_error(predictor.predict, p, arrays, rng, relaxed_samples, moves)
        rows.append(row)
    return rows


def run(cfg: TrainConfig, progress: bool | None = None) -> dict:
    """Train and evaluate every (family, model); write results, report and plots."""
    out = Path(cfg.output)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(exist_ok=True)
    check_device(cfg.device)
    data = Path(cfg.dataset_path)
    build_dataset(cfg.dataset, data, resume=True, progress=progress)
    records = read_problems(data)
    families = list(dict.fromkeys(p.family for _, _, p in records))
    pairs = [(f, m) for f in families for m in cfg.models]
    results = {}
    for family, model in tqdm(pairs, desc="benchmark", disable=None if progress is None else not progress):
        path = out / "results" / f"{family}-{model}.json"
        if path.exists():
            results[(family, model)] = json.loads(path.read_text())
            continue
        train_set = [p for _, s, p in records if p.family == family and s == "train"]
        test_set = [p for _, s, p in records if p.family == family and s == "test"]
        if not train_set or not test_set:
            continue
        if model == "emlp" and len({p.bonds.tobytes() for p in train_set}) > 1:
            continue  # the relaxed E-MLP lives on one fixed lattice; this family has several
        torch.manual_seed(cfg.seed)
        predictor = make_predictor(model, train_set, cfg.hidden, cfg.layers, cfg.device, cfg.seed)
        start = time.perf_counter()
        # 10 % of the training records select the epoch (early stopping); none of the test records
        n_val = max(1, len(train_set) // 10)
        predictor.fit(train_set[n_val:], cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed,
                      validation=train_set[:n_val])
        seconds = time.perf_counter() - start
        save_checkpoint(out / "checkpoints" / f"{family}-{model}.pt", predictor, model, cfg, family)
        rows = evaluate_model(predictor, model, test_set, cfg.seed)
        result = {"family": family, "model": model, "train_seconds": seconds,
                  "train_sizes": sorted({p.n_sites for p in train_set}), "rows": rows}
        _atomic_json(path, result)
        results[(family, model)] = result
    from physbreak.train.report import write_report

    write_report(results, out, cfg)
    return results
