"""``physbreak analyze``: a run file -> table, Binder-crossing Tc and plots."""

from __future__ import annotations


from physbreak.analysis.binder import binder_crossings, reweighted_curves
from physbreak.analysis.observables import thermodynamics
from physbreak.analysis.plots import plot_observables
from physbreak.errors import InvalidValue
from physbreak.io import read_run

# (key, header, format spec); every column is 10 characters wide
COLUMNS = [("system", "system", ">"), ("temperature", "T", ".4f"), ("n_samples", "samples", "d"),
           ("energy", "e", ".5f"), ("energy_err", "err", ".1e"), ("abs_m", "<|m|>", ".5f"),
           ("abs_m_err", "err", ".1e"), ("susceptibility", "chi", ".4g"),
           ("specific_heat", "C", ".4f"), ("binder", "U4", ".4f"), ("binder_err", "err", ".1e"),
           ("tau_abs_m", "tau|m|", ".2f")]


def usable(systems: list, discard: int, path) -> list:
    """The systems with at least 2 samples per chain after ``discard``; an
    :class:`InvalidValue` when there are none (``discard`` too large, or no samples yet)."""
    if discard < 0:
        raise InvalidValue("discard", discard, "an integer >= 0")
    keep = [s for s in systems if s.streams["energy"].shape[0] >= discard + 2]
    if not keep:
        most = max((s.streams["energy"].shape[0] for s in systems), default=0)
        raise InvalidValue("discard", discard, f"fewer than {most - 1} samples: {str(path)!r} holds at most {most} "
                           "per chain, and the analysis needs 2 or more after the discarded ones")
    return keep


def analyze_run(path, plots_dir=None, discard: int = 0, order: str = "auto") -> dict:
    """Analyse a Monte Carlo run file.

    Args:
        path: the HDF5 file written by ``simulate``.
        plots_dir: where to write PNG plots (None: no plots).
        discard: samples dropped from the start of every chain.
        order: order parameter, ``"auto"``, ``"magnetization"`` or ``"staggered"``.

    Returns:
        ``{"file", "complete", "rows": [...], "binder": {"pairs", "tc", "tc_err", "u4",
        "u4_err", "warnings"} (:func:`~physbreak.analysis.binder.binder_crossings`), "plots"}``.
    """
    root, systems = read_run(path)
    systems = usable(systems, discard, path)
    rows = [r for s in systems for r in thermodynamics(s, order, discard)]
    binder = binder_crossings(reweighted_curves(systems, order, discard), rows) if len(systems) >= 2 else None
    plots = []
    if plots_dir is not None and rows:
        plots = [str(p) for p in plot_observables(rows, plots_dir, binder["tc"] if binder else None)]
    for r in rows:
        r.pop("binder_jk")
    return {"file": str(path), "complete": bool(root.get("complete", False)), "rows": rows,
            "binder": binder, "plots": plots}


def format_report(result: dict) -> str:
    """Human-readable table of :func:`analyze_run`'s result."""
    lines = [f"{result['file']}" + ("" if result["complete"] else "  (incomplete run)")]
    lines.append(" ".join(f"{header:>10}" for _, header, _ in COLUMNS))
    for r in result["rows"]:
        lines.append(" ".join(f"{r[key]:>10{spec.lstrip('>')}}" for key, _, spec in COLUMNS))
    b = result["binder"]
    if b:
        for p in b["pairs"]:
            sizes = " / ".join("x".join(map(str, s)) for s in p["sizes"])
            found = p["crossings"]
            lines.append(f"Binder crossing {sizes}: " + ("; ".join(_tc(c) for c in found) if found else _tc(p)))
        lines.append(f"Tc (largest pair): {_tc(b)}")
        lines += [f"warning: {w}" for w in b["warnings"]]
    for p in result["plots"]:
        lines.append(f"plot: {p}")
    return "\n".join(lines)


def _tc(result: dict) -> str:
    if result["tc"] is None:
        return "no crossing inside the temperature grid"
    err = "?" if result["tc_err"] is None else f"{result['tc_err']:.5f}"
    u_err = "?" if result["u4_err"] is None else f"{result['u4_err']:.4f}"
    return f"Tc = {result['tc']:.5f} +- {err}, U4* = {result['u4']:.4f} +- {u_err}"
