"""Plots of each observable against temperature, one curve per system size.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global state).
"""

from __future__ import annotations

from pathlib import Path

from physbreak.errors import InvalidValue

PLOTTED = {"energy": "energy per spin $e$ [J]", "abs_m": r"$\langle|m|\rangle$",
           "susceptibility": r"susceptibility $\chi$", "specific_heat": "specific heat $C$",
           "binder": "Binder cumulant $U_4$"}


def plot_folder(folder) -> Path:
    """``folder`` made if missing; an :class:`InvalidValue` naming ``plots`` if it cannot be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidValue("plots", str(folder), f"a folder that can be made ({exc.strerror})") from None
    return folder


def plot_observables(rows: list[dict], outdir, tc: float | None = None) -> list[Path]:
    """Write one PNG per observable into ``outdir``; returns the paths."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    outdir = plot_folder(outdir)
    systems: dict[str, list[dict]] = {}
    for r in rows:
        systems.setdefault(r["system"], []).append(r)
    paths = []
    for key, label in PLOTTED.items():
        fig = Figure(figsize=(5, 3.6), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for name, rs in sorted(systems.items(), key=lambda kv: kv[1][0]["n_sites"]):
            rs = sorted(rs, key=lambda r: r["temperature"])
            ax.errorbar([r["temperature"] for r in rs], [r[key] for r in rs],
                        yerr=[r[f"{key}_err"] for r in rs], marker="o", ms=3, capsize=2,
                        label="x".join(map(str, rs[0]["size"])))
        if tc is not None:
            ax.axvline(tc, color="k", ls="--", lw=0.8, label=f"$T_c$ = {tc:.4f}")
        ax.set_xlabel("temperature $T$ [J/$k_B$]")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
        path = outdir / f"{key}.png"
        fig.savefig(path, dpi=120)
        paths.append(path)
    return paths


def _line_plot(curves, xlabel: str, ylabel: str, path: Path, log_x: bool = False) -> Path:
    """One PNG with a line per ``(label, x, y)`` of ``curves``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for label, x, y in curves:
        ax.plot(x, y, label=label)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    fig.savefig(path, dpi=120)
    return path


def plot_histograms(per_size: dict, outdir) -> Path:
    """Reweighted energy histograms per size (at the equal-weight point when
    double-peaked, else at the specific-heat maximum) into ``energy_histograms.png``."""
    curves = [(f"L = {L:g}, T = {1 / r['beta']:.4f}", 0.5 * (r["edges"][:-1] + r["edges"][1:]), r["histogram"])
              for L, r in sorted(per_size.items())]
    return _line_plot(curves, "energy per spin $e$ [J]", "$P(e)$ (reweighted)",
                      plot_folder(outdir) / "energy_histograms.png")


def plot_entropy(per_system: dict, outdir) -> Path:
    """Entropy per spin against temperature per system into ``entropy.png``."""
    curves = [(name, e["T"], e["s"]) for name, e in per_system.items()]
    return _line_plot(curves, "temperature $T$ [J/$k_B$]", "entropy per spin $s$ [$k_B$]",
                      plot_folder(outdir) / "entropy.png", log_x=True)
