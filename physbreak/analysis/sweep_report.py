"""``physbreak analyze OUTPUT/index.h5``: a sweep's finished tasks as one table
per model, the seeds of each (size, temperature) point combined, with Binder
crossings and plots per model; with ``--fss``, finite-size scaling per model
over all the tasks of each size (:func:`sweep_fss`).

Seeds are independent runs of the same point, so a combined value is the mean
over seeds and its error ``sqrt(sum err_s^2) / n_seeds``; the jackknife
samples of U4 are averaged group by group (leaving out group k of every seed),
which keeps the crossing errors of :func:`binder_crossings` valid.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from physbreak.analysis.binder import binder_crossings, grid_curves
from physbreak.analysis.observables import thermodynamics
from physbreak.analysis.fss import linear_size
from physbreak.analysis.plots import plot_observables, plot_spin_glass
from physbreak.analysis.report import usable
from physbreak.analysis.spin_glass import format_spin_glass, is_spin_glass, spin_glass_analysis
from physbreak.errors import CorruptFileError
from physbreak.io import open_file, read_run

COMBINED = ("energy", "abs_m", "susceptibility", "specific_heat", "binder")


def combine_seeds(rows: list[dict]) -> dict:
    """One :func:`thermodynamics` row from the rows of the seeds of one point;
    adds ``seeds`` (how many were combined)."""
    n = len(rows)
    out = dict(rows[0], seeds=n, n_samples=sum(r["n_samples"] for r in rows))
    for key in COMBINED:
        out[key] = float(np.mean([r[key] for r in rows]))
        out[f"{key}_err"] = float(np.sqrt(sum(r[f"{key}_err"] ** 2 for r in rows)) / n)
    for key in ("tau_energy", "tau_abs_m", "work_per_sample"):
        out[key] = float(np.mean([r[key] for r in rows]))
    out["binder_jk"] = np.mean([r["binder_jk"] for r in rows], axis=0)
    return out


def analyze_sweep(index, plots_dir=None, discard: int = 0, order: str = "auto") -> dict:
    """Analyse the finished tasks of a sweep.

    Args:
        index: the sweep's ``index.h5``.
        plots_dir: PNG plots go to ``plots_dir/<model>/`` (None: no plots).
        discard, order: as for :func:`~physbreak.analysis.report.analyze_run`.

    Returns:
        ``{"index", "tasks", "finished", "models": [{"file", "complete", "rows",
        "binder", "plots"} per model]}``, each model's entry shaped like
        :func:`~physbreak.analysis.report.analyze_run`'s result.
    """
    models, done, systems = read_sweep(index)
    keep = {id(s) for s in usable([s for _, s in systems], discard, index)} if systems else set()
    points: dict[tuple, list[dict]] = {}
    glasses: dict[str, dict] = {}
    for model, system in systems:
        if id(system) not in keep:
            continue
        if is_spin_glass(system):
            glasses.setdefault(model, {}).setdefault(linear_size(system), []).append(system)
        for row in thermodynamics(system, order, discard):
            points.setdefault((model, row["system"], row["temperature"]), []).append(row)
    results = []
    for model in dict.fromkeys(models):  # grid order
        rows = sorted((combine_seeds(rs) for (m, _, _), rs in points.items() if m == model),
                      key=lambda r: (r["n_sites"], r["temperature"]))
        glass = spin_glass_analysis(glasses[model], discard) if model in glasses else None
        binder = binder_crossings(grid_curves(rows), rows) if len({r["system"] for r in rows}) >= 2 \
            and glass is None else None
        plots = []
        if plots_dir is not None and rows:
            tc = binder["tc"] if binder else None
            plots = [str(p) for p in plot_observables(rows, Path(plots_dir) / model, tc)]
            plots += [str(p) for p in plot_spin_glass(glass, Path(plots_dir) / model)] if glass else []
        for r in rows:
            r.pop("binder_jk")
        complete = bool(all(d for d, m in zip(done, models) if m == model))
        results.append({"file": f"{index} [{model}]", "complete": complete, "rows": rows,
                        "binder": binder, "plots": plots, "spin_glass": glass,
                        "kind": {"name": "spin glass (disorder averages over the instances: the table's rows "
                                 "average the instances as seeds)", "caveat": None} if glass else None})
    return {"index": str(index), "tasks": len(models), "finished": int(done.sum()), "models": results}


TASK_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def read_sweep(index) -> tuple[np.ndarray, np.ndarray, list]:
    """``(model per task, finished per task, [(model, system) of every finished task])``."""
    index = Path(index)
    with open_file(index) as f:
        names, models, done = f["name"].asstr()[:], f["model"].asstr()[:], f["complete"][:]
    systems = []
    for name, model, finished in zip(names, models, done):
        if not TASK_NAME.fullmatch(name):
            raise CorruptFileError(f"FILE = {str(index)!r} names a task {name!r}: task names are letters, digits, "
                                   "'.', '_' and '-' (a file inside the sweep's tasks/ folder)")
        if finished:
            systems += [(model, s) for s in read_run(index.parent / "tasks" / f"{name}.h5")[1]]
    return models, done, systems


def sweep_fss(index, discard: int = 0, points: int = 161, plots_dir=None, min_size: float = 0.0,
              omega: float | None = None) -> dict:
    """Finite-size scaling per model of a sweep (:func:`~physbreak.analysis.fss.fss_of_sizes`):
    per size one multiple histogram over every finished task, all temperatures
    and seeds; ``{model: result}``, plots in ``plots_dir/<model>/``."""
    from physbreak.analysis.fss import fss_of_sizes, linear_size, system_runs

    per_model: dict[str, dict] = {}
    for model, system in read_sweep(index)[2]:
        runs, betas = system_runs(system, discard)
        entry = per_model.setdefault(model, {}).setdefault(linear_size(system), ([], [], system.n_sites))
        entry[0].extend(runs)
        entry[1].extend(betas)
    return {model: fss_of_sizes({L: (runs, np.asarray(betas), n) for L, (runs, betas, n) in sizes.items()},
                                f"{index} [{model}]", points,
                                None if plots_dir is None else Path(plots_dir) / model, min_size, omega)
            for model, sizes in per_model.items()}


def format_sweep(result: dict) -> str:
    """Human-readable tables of :func:`analyze_sweep`'s result."""
    from physbreak.analysis.report import format_report

    lines = [f"{result['index']}: {result['finished']} of {result['tasks']} tasks finished"]
    for model in result["models"]:
        seeds = sorted({r["seeds"] for r in model["rows"]})
        lines += ["", f"seeds per point: {', '.join(map(str, seeds))}", format_report(model)]
        if model.get("spin_glass"):
            lines += format_spin_glass(model["spin_glass"])
    return "\n".join(lines)
