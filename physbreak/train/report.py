"""The benchmark report: ``report.md`` and plots from the per-(family, model) results."""

from __future__ import annotations

from pathlib import Path

import numpy as np

COLUMNS = ("exact-hit (train sizes)", "exact-hit (larger)", "gap/spin", "E/E0", "symmetry ok",
           "relaxed err", "train s")


def summarise(result: dict) -> dict:
    rows = result["rows"]
    train_sizes = set(result["train_sizes"])

    def mean(key, keep=lambda r: True):
        vals = [float(r[key]) for r in rows if key in r and keep(r) and r[key] == r[key]]
        return float(np.mean(vals)) if vals else None

    errs = [r["relaxed_error"] for r in rows if "relaxed_error" in r]
    return {"exact_train": mean("exact", lambda r: r["n_sites"] in train_sizes),
            "exact_larger": mean("exact", lambda r: r["n_sites"] not in train_sizes),
            "gap": mean("gap"), "ratio": mean("ratio"), "symmetry": mean("symmetry"),
            "relaxed_error": max(errs) if errs else None, "train_seconds": result["train_seconds"],
            "n_test": len(rows)}


def _fmt(value, pct=False, sci=False):
    if value is None:
        return "n/a"
    if pct:
        return f"{100 * value:.0f} %"
    return f"{value:.1e}" if sci else f"{value:.3f}"


def write_report(results: dict, out: Path, cfg) -> Path:
    summary = {key: summarise(r) for key, r in results.items()}
    families = list(dict.fromkeys(f for f, _ in summary))
    lines = ["# Ground-state prediction benchmark", "",
             f"Models trained for {cfg.epochs} epochs (hidden {cfg.hidden}, {cfg.layers} rounds, "
             f"seed {cfg.seed}) on 90 % of each family's `train` records, the epoch chosen by the "
             "exact-hit rate on the other 10 %, and scored on its `test` records. "
             "Exact-hit: the sign of the output is a ground state. gap/spin: (E - E0)/N. "
             "E/E0: approximation ratio. symmetry ok: the prediction's stabilizer (inside the "
             "input's) is that of a true ground state. relaxed err: max over random relabellings "
             "with flips of min over the input's stabilizer (deterministic models only).", ""]
    for family in families:
        sizes = sorted({r["n_sites"] for (f, _), res in results.items() if f == family for r in res["rows"]})
        train_sizes = next(res["train_sizes"] for (f, _), res in results.items() if f == family)
        lines += [f"## {family}", "", f"train sizes (spins): {train_sizes}; test sizes: {sizes}", "",
                  "| model | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
        for (f, model), s in summary.items():
            if f != family:
                continue
            lines.append(f"| {model} | {_fmt(s['exact_train'], pct=True)} | {_fmt(s['exact_larger'], pct=True)} "
                         f"| {_fmt(s['gap'])} | {_fmt(s['ratio'])} | {_fmt(s['symmetry'], pct=True)} "
                         f"| {_fmt(s['relaxed_error'], sci=True)} | {s['train_seconds']:.1f} |")
        lines.append("")
    plot = _plot(summary, families, out)
    if plot:
        lines += [f"![exact-hit rate]({plot.name})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _plot(summary, families, out: Path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    models = list(dict.fromkeys(m for _, m in summary))
    if not models:
        return None
    fig = Figure(figsize=(1.6 + 1.3 * len(families), 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / len(models)
    for k, model in enumerate(models):
        vals = []
        for f in families:
            s = summary.get((f, model))
            vals.append(0.0 if s is None else np.mean([v for v in (s["exact_train"], s["exact_larger"])
                                                        if v is not None] or [0.0]))
        ax.bar(np.arange(len(families)) + k * width, vals, width, label=model)
    ax.set_xticks(np.arange(len(families)) + 0.4 - width / 2, families)
    ax.set_ylabel("exact-hit rate (test)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, ncol=3)
    path = out / "exact_hit.png"
    fig.savefig(path, dpi=120)
    return path
