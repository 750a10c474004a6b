"""The one report writer: ``report.md`` with a table per dataset and a bar
plot of one headline metric per (dataset, model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def fmt(value, kind: str = "f3") -> str:
    """A table cell: ``pct`` (0.93 -> "93 %"), ``sci`` (1.2e-06), ``f3``, ``f4``, ``f1``, ``f0``; None -> "n/a"."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if kind == "pct":
        return f"{100 * value:.0f} %"
    if kind == "sci":
        return f"{value:.1e}"
    digits = int(kind[1:])
    return f"{round(value, digits) + 0.0:.{digits}f}"  # no "-0.000" from round-off


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(r) + " |" for r in rows]


def write_report(out, title: str, preamble: str, sections: list[dict], plot: dict | None = None) -> Path:
    """Write ``out/report.md``.

    Args:
        sections: ``{"title", "text", "header", "rows"}`` each (rows: lists of cells).
        plot: ``{"values": {(dataset, model): float in [0, 1]}, "ylabel", "file"}``,
            drawn as grouped bars into ``out/<file>`` and linked from the report.
    """
    from physbreak.learn import distributed

    out = Path(out)
    if not distributed.is_main():  # rank 0 writes it
        return out / "report.md"
    lines = [f"# {title}", "", preamble, ""]
    for s in sections:
        lines += [f"## {s['title']}", ""] + ([s["text"], ""] if s.get("text") else [])
        lines += markdown_table(s["header"], s["rows"]) + [""]
    if plot and plot["values"]:
        path = bar_plot(plot["values"], plot["ylabel"], out / plot["file"])
        lines += [f"![{plot['ylabel']}]({path.name})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def bar_plot(values: dict, ylabel: str, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    datasets = list(dict.fromkeys(d for d, _ in values))
    models = list(dict.fromkeys(m for _, m in values))
    fig = Figure(figsize=(1.6 + 1.3 * len(datasets), 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / len(models)
    for k, model in enumerate(models):
        ax.bar(np.arange(len(datasets)) + k * width, [values.get((d, model), 0.0) for d in datasets], width,
               label=model)
    ax.set_xticks(np.arange(len(datasets)) + 0.4 - width / 2, datasets)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, ncol=3)
    fig.savefig(path, dpi=120)
    return path


# --- the two domains' tables -----------------------------------------------------------------------

SPIN_HEADER = ["model", "exact-hit (train sizes)", "exact-hit (larger)", "gap/spin", "E/E0", "symmetry ok",
               "relaxed err", "train s"]


def _mean(rows, key, keep=lambda r: True):
    vals = [float(r[key]) for r in rows if key in r and keep(r) and r[key] == r[key]]
    return float(np.mean(vals)) if vals else None


def spin_summary(result: dict) -> dict:
    """Headline numbers of one (family, model) spin result."""
    rows, train_sizes = result["rows"], set(result["train_sizes"])
    errs = [r["relaxed_error"] for r in rows if "relaxed_error" in r]
    return {"exact_train": _mean(rows, "exact", lambda r: r["n_sites"] in train_sizes),
            "exact_larger": _mean(rows, "exact", lambda r: r["n_sites"] not in train_sizes),
            "gap": _mean(rows, "gap"), "ratio": _mean(rows, "ratio"), "symmetry": _mean(rows, "symmetry"),
            "relaxed_error": max(errs) if errs else None, "train_seconds": result["train_seconds"]}


def spin_sections(results: dict) -> tuple[list[dict], dict]:
    """Report sections (one per family) and the exact-hit plot values."""
    sections, plot = [], {}
    for family in dict.fromkeys(f for f, _ in results):
        mine = {m: r for (f, m), r in results.items() if f == family}
        sizes = sorted({row["n_sites"] for r in mine.values() for row in r["rows"]})
        rows = []
        for model, r in mine.items():
            s = spin_summary(r)
            rows.append([model, fmt(s["exact_train"], "pct"), fmt(s["exact_larger"], "pct"), fmt(s["gap"]),
                         fmt(s["ratio"]), fmt(s["symmetry"], "pct"), fmt(s["relaxed_error"], "sci"),
                         fmt(s["train_seconds"], "f1")])
            hits = [v for v in (s["exact_train"], s["exact_larger"]) if v is not None]
            plot[family, model] = float(np.mean(hits)) if hits else 0.0
        sections.append({"title": family, "text": f"train sizes (spins): {next(iter(mine.values()))['train_sizes']}; "
                         f"test sizes: {sizes}", "header": SPIN_HEADER, "rows": rows})
    return sections, plot


def structure_sections(results: dict, intros: dict) -> tuple[list[dict], dict]:
    """Report sections (one per dataset; ``intros[dataset]`` its text) and the group-ok plot values."""
    sections, plot = [], {}
    for name in dict.fromkeys(d for d, _ in results):
        mine = {m: r for (d, m), r in results.items() if d == name}
        first = next(iter(mine.values()))["rows"]
        glazer, energy = any("glazer_ok" in r for r in first), any("energy_mev" in r for r in first)
        irreps = any("irreps_ok" in r for r in first)
        header = ["breaker", "RMSD mean", "RMSD < 0.01 A", "group ok"] + (["irreps ok"] if irreps else []) \
            + (["Glazer ok"] if glazer else [])
        header += (["E < 10 meV", "E median (meV)"] if energy else []) + ["relaxed err", "train s"]
        rows = []
        for breaker, res in mine.items():
            r = res["rows"]
            rel = [x["relaxed_error"] for x in r if "relaxed_error" in x]
            cells = [breaker, fmt(_mean(r, "rmsd"), "f4"), fmt(float(np.mean([x["rmsd"] < 0.01 for x in r])), "pct"),
                     fmt(_mean(r, "group_ok"), "pct")]
            if irreps:
                cells.append(fmt(_mean(r, "irreps_ok"), "pct"))
            if glazer:
                cells.append(fmt(_mean(r, "glazer_ok"), "pct"))
            if energy:
                e = np.array([x["energy_mev"] for x in r])
                cells += [fmt(float(np.mean(e < 10)), "pct"), fmt(float(np.median(e)), "f1")]
            cells += [fmt(max(rel), "sci") if rel else "n/a", fmt(res["train_seconds"], "f0")]
            rows.append(cells)
            plot[name, breaker] = _mean(r, "group_ok") or 0.0
        sections.append({"title": name, "text": intros.get(name, ""), "header": header, "rows": rows})
    return sections, plot


# --- the graph domains' tables ---------------------------------------------------------------------

def _by_breaker(results: dict, dataset: str) -> dict:
    """``{breaker: [result, ...]}`` (one result per seed) of one dataset."""
    out = {}
    for (d, _), r in results.items():
        if d == dataset:
            out.setdefault(r.get("breaker", _), []).append(r)
    return out


def _std(values) -> float | None:
    return float(np.std(values)) if len(values) > 1 else None


def graph_sections(kind: str, results: dict) -> tuple[list[dict], dict, str]:
    """Report sections (one per dataset), plot values and the plot's label for a graph benchmark."""
    sections, plot = [], {}
    for name in dict.fromkeys(d for d, _ in results):
        rows = []
        for breaker, runs in _by_breaker(results, name).items():
            r = [row for res in runs for row in res["rows"]]
            seconds = float(np.mean([res["train_seconds"] for res in runs]))
            if kind == "decoding":
                trained = set(runs[0]["train_sizes"])
                rel = [x["relaxed_error"] for x in r if x.get("relaxed_error") is not None]
                exact = _mean(r, "exact", lambda x: x["n_nodes"] in trained)
                rows.append([breaker, fmt(exact, "pct"), fmt(_mean(r, "exact", lambda x: x["n_nodes"] not in trained), "pct"),
                             fmt(_mean(r, "exact", lambda x: not x["trivial"]), "pct"), fmt(_mean(r, "edge_f1")),
                             fmt(_mean(r, "aut_ok"), "pct"), fmt(max(rel), "sci") if rel else "n/a", fmt(seconds, "f0")])
                plot[name, breaker] = exact or 0.0
            elif kind == "classification":
                per_seed = [_mean(res["rows"], "correct") for res in runs]
                first = runs[0]["rows"]
                per_relabelling = [_mean(first, "correct", lambda x, k=k: x["relabelling"] == k)
                                   for k in sorted({x["relabelling"] for x in first})]
                inv = [x["invariance_error"] for x in r if "invariance_error" in x]
                spread = _std(per_seed)
                rows.append([breaker, fmt(float(np.mean(per_seed)), "pct") + (f" +- {100 * spread:.0f}" if spread is not None else ""),
                             f"{100 * _std(per_relabelling):.1f} %" if _std(per_relabelling) is not None else "n/a",
                             f"{100 * min(per_seed):.0f}-{100 * max(per_seed):.0f} %", fmt(max(inv), "sci") if inv else "n/a",
                             fmt(seconds, "f0")])
                plot[name, breaker] = float(np.mean(per_seed))
            else:
                rows.append([breaker, fmt(_mean(r, "proper"), "pct"),
                             fmt(_mean(r, "proper", lambda x: x["vertex_transitive"]), "pct"),
                             fmt(_mean(r, "conflicts_per_edge")), fmt(_mean(r, "relaxed_ok"), "pct"), fmt(seconds, "f0")])
                plot[name, breaker] = _mean(r, "proper") or 0.0
        sizes = sorted({row["n_nodes"] for res in results.values() if res["dataset"] == name for row in res["rows"]
                        if "n_nodes" in row})
        first = next(res for res in results.values() if res["dataset"] == name)
        text = (f"{first.get('epochs', '?')} epochs; {len(first['rows'])} test rows; "
                f"train sizes (nodes) {first['train_sizes']}"
                + (f"; test sizes {sizes}" if sizes else ""))
        counts = [row["colourings"] for row in first["rows"] if "colourings" in row]
        if counts:
            text += (f"; exact number of proper q-colourings per test graph (backtracking): median "
                     f"{int(np.median(counts))}, from {min(counts)} to {max(counts)}")
        sections.append({"title": name, "text": text, "header": GRAPH_HEADERS[kind], "rows": rows})
    return sections, plot, GRAPH_YLABEL[kind]


GRAPH_HEADERS = {
    "decoding": ["breaker", "exact (train sizes)", "exact (sizes not trained)", "exact (non-trivial)", "edge F1",
                 "Aut ok", "relaxed err", "train s"],
    "classification": ["breaker", "test accuracy (mean +- std over seeds)", "std over relabellings (first seed)",
                       "range over seeds", "invariance err", "train s"],
    "colouring": ["breaker", "proper", "proper (vertex-transitive)", "conflicts/edge", "relaxed ok", "train s"],
}
GRAPH_YLABEL = {"decoding": "exact reconstruction (test, train sizes)", "classification": "test accuracy",
                "colouring": "proper colourings (test)"}
