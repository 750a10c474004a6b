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


def plot_helicity(kt: dict, outdir) -> Path:
    """The helicity modulus per size against temperature (points with errors,
    reweighted curves as lines) with the line ``2T/pi`` and T_KT, and the
    vortex density beside it where stored, into ``helicity.png``."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = kt["rows"]
    vortices = "vortex_density" in rows[0]
    fig = Figure(figsize=(9 if vortices else 5, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2 if vortices else 1, squeeze=False)[0]
    systems: dict[str, list[dict]] = {}
    for r in rows:
        systems.setdefault(r["system"], []).append(r)
    curves = {c.label: c for c in kt.get("curves", [])}
    for name, rs in sorted(systems.items(), key=lambda kv: np.prod(kv[1][0]["size"])):
        rs = sorted(rs, key=lambda r: r["temperature"])
        label = "x".join(map(str, rs[0]["size"]))
        T = [r["temperature"] for r in rs]
        points = axes[0].errorbar(T, [r["helicity"] for r in rs], yerr=[r["helicity_err"] for r in rs], marker="o",
                                  ms=3, capsize=2, ls="none", label=label)
        if label in curves:
            axes[0].plot(curves[label].T, curves[label].value, color=points[0].get_color(), lw=0.8)
        if vortices:
            axes[1].errorbar(T, [r["vortex_density"] for r in rs], yerr=[r["vortex_density_err"] for r in rs],
                             marker="o", ms=3, capsize=2, label=label)
    T_all = np.array([r["temperature"] for r in rows])
    line = np.linspace(T_all.min(), T_all.max(), 2)
    axes[0].plot(line, 2 * line / np.pi, "k--", lw=0.8, label=r"$2T/\pi$")
    if kt.get("T_kt") is not None:
        axes[0].axvline(kt["T_kt"], color="k", ls=":", lw=0.8, label=f"$T_{{KT}}$ = {kt['T_kt']:.4f}")
    axes[0].set_ylabel(r"helicity modulus $\Upsilon$ [J]")
    if vortices:
        axes[1].set_ylabel("vortex density (per site)")
        axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("temperature $T$ [J/$k_B$]")
        ax.legend(fontsize=7)
    path = plot_folder(outdir) / "helicity.png"
    fig.savefig(path, dpi=120)
    return path


def plot_spin_glass(result: dict, outdir) -> list[Path]:
    """``xi_L / L`` and ``g`` against temperature per size (disorder averages with
    errors) into ``xi_over_L.png`` and ``spin_glass_g.png``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    paths = []
    for key, label, name in (("xi_over_L", r"$\xi_L / L$", "xi_over_L.png"),
                             ("g", "Binder parameter $g$", "spin_glass_g.png")):
        fig = Figure(figsize=(5, 3.6), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for a in result["sizes"]:
            ax.errorbar(a["T"], a[key], yerr=a[f"{key}_err"], marker="o", ms=3, capsize=2,
                        label="x".join(map(str, a["size"])) + f" ({a['n_instances']} instances)")
        ax.set_xlabel("temperature $T$ [J/$k_B$]")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
        path = plot_folder(outdir) / name
        fig.savefig(path, dpi=120)
        paths.append(path)
    return paths


def plot_structure_factor(orders: list[dict], outdir) -> Path:
    """``S(k) / N`` of each 2D system's coldest configurations over the Brillouin
    zone (the torus's k-grid, repeated over the neighbouring zones, Cartesian k),
    the high-symmetry points marked, into ``structure_factor.png``."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = [o for o in orders if o.get("_grid") and len(o["_grid"]["k"][0]) == 2]
    fig = Figure(figsize=(3.6 * max(1, len(shown)), 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    for i, o in enumerate(shown):
        g = o["_grid"]
        recip = 2 * np.pi * np.linalg.inv(g["vectors"]).T
        shifts = np.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)])
        k = (np.asarray(g["k"])[None] + shifts[:, None]).reshape(-1, 2) @ recip
        S = np.tile(np.asarray(g["S"]) / g["n_sites"], len(shifts))
        reach = 1.25 * max(np.linalg.norm(np.asarray(a) @ recip) for arms in g["points"].values() for a in arms)
        keep = np.abs(k).max(1) <= reach
        k, S = k[keep], S[keep]
        ax = fig.add_subplot(1, len(shown), i + 1)
        sc = ax.scatter(k[:, 0], k[:, 1], c=S, s=max(4.0, 600.0 / np.sqrt(len(g["S"]))), marker="s", cmap="viridis")
        for name, arms in g["points"].items():
            for arm in arms:
                c = np.asarray(arm) @ recip
                ax.annotate(name.replace("GM", r"$\Gamma$"), c, color="w", fontsize=7, ha="center")
        ax.set_aspect("equal")
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_title(f"{o['system']}, T = {o['rows'][0]['temperature']:.3g}", fontsize=8)
        ax.set_xlabel("$k_x$")
        ax.set_ylabel("$k_y$")
        fig.colorbar(sc, ax=ax, label="$S(k) / N$", shrink=0.8)
    path = plot_folder(outdir) / "structure_factor.png"
    fig.savefig(path, dpi=120)
    return path
