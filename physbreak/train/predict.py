"""``physbreak predict CHECKPOINT DATA.h5``: predictions and their metrics into HDF5,
and the summary ``physbreak analyze`` prints for such a file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from physbreak.io import problems as store
from physbreak.io.problems import read_problems
from physbreak.train.benchmark import load_checkpoint
from physbreak.train.evaluate import metrics


def predict_file(checkpoint, data, out=None, split: str | None = None, device="cpu") -> Path:
    """Write ``out`` (default ``DATA-stem_predictions.h5``) with one record per problem:
    ``output`` (n_sites,) float32, ``spins`` int8, and the metrics as attributes."""
    data = Path(data)
    out = Path(out) if out else data.with_name(data.stem + "_predictions.h5")
    records = read_problems(data, split)
    predictor, meta = load_checkpoint(checkpoint, records[0][2] if records else None, device)
    usable = [(n, s, p) for n, s, p in records if meta["strategy"] != "emlp" or predictor.accepts(p)]
    outputs = predictor.predict([p for _, _, p in usable]) if usable else []
    f = store.create(out, "predictions", json.dumps(meta), int(meta.get("seed", 0)))
    try:
        f.attrs["checkpoint"] = str(checkpoint)
        f.attrs["dataset"] = str(data)
        for (name, split_name, p), y in zip(usable, outputs):
            group = p.symmetry_group()
            m = metrics(p, y, (group.realisations["perm"], group.realisations["sign"]))
            g = f["records"].create_group(name)
            g.create_dataset("output", data=np.asarray(y, dtype=np.float32))
            g.create_dataset("spins", data=np.sign(y).astype(np.int8))
            g.attrs.update({"family": p.family, "label": p.label, "split": split_name,
                            "n_sites": p.n_sites, "ground_energy": p.ground.energy,
                            "energy": float(p.energy(np.sign(y))[0]), **m})
        f.attrs["complete"] = True
    finally:
        f.close()
    return out


def summarise_predictions(path) -> dict:
    """Per (family, size): count, exact-hit rate, mean gap per spin, mean E/E0, symmetry match."""
    groups: dict = {}
    with store.open_kind(path, "predictions") as f:
        meta = json.loads(f.attrs["config"])
        for g in f["records"].values():
            a = g.attrs
            groups.setdefault((str(a["family"]), int(a["n_sites"])), []).append(
                (bool(a["exact"]), float(a["gap"]), float(a["ratio"]), bool(a.get("symmetry", False))))
    rows = []
    for (family, n), vals in sorted(groups.items()):
        v = np.array(vals, dtype=float)
        rows.append({"family": family, "n_sites": n, "count": len(vals), "exact": v[:, 0].mean(),
                     "gap": v[:, 1].mean(), "ratio": np.nanmean(v[:, 2]), "symmetry": v[:, 3].mean()})
    return {"file": str(path), "model": meta, "rows": rows}


def format_predictions(summary: dict) -> str:
    lines = [f"{summary['file']}  model: {summary['model']['strategy']} (trained on "
             f"{summary['model']['family']})",
             f"{'family':>12} {'spins':>6} {'count':>6} {'exact':>7} {'gap/N':>8} {'E/E0':>7} {'sym ok':>7}"]
    for r in summary["rows"]:
        lines.append(f"{r['family']:>12} {r['n_sites']:>6} {r['count']:>6} {100 * r['exact']:>6.0f}% "
                     f"{r['gap']:>8.3f} {r['ratio']:>7.3f} {100 * r['symmetry']:>6.0f}%")
    return "\n".join(lines)
