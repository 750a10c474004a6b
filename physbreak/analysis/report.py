"""``physbreak analyze``: a run file -> table, Binder-crossing Tc and plots."""

from __future__ import annotations


import numpy as np

from physbreak.analysis.binder import binder_crossings, reweighted_curves
from physbreak.analysis.first_order import classify, histogram_analysis
from physbreak.analysis.free_energy import MAX_ANCHOR, entropy
from physbreak.analysis.fss import linear_size
from physbreak.analysis.kt import has_helicity, helicity_rows, kt_analysis
from physbreak.analysis.observables import thermodynamics
from physbreak.analysis.order_modes import order_analysis
from physbreak.analysis.plots import (plot_entropy, plot_helicity, plot_histograms, plot_observables,
                                     plot_structure_factor)
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
    several = [s for s in systems if len(np.unique(s.temperature)) >= 2]
    histograms = {linear_size(s): histogram_analysis(energy_runs(s, discard), 1.0 / s.temperature, s.n_sites)
                  for s in several}
    transition = classify(histograms, len(systems[0].attrs["size"])) if histograms else None
    orders = [order_analysis(s, discard) for s in systems] \
        if order == "auto" and systems and all("modes" in s.streams for s in systems) else None
    kind = transition_kind(systems[0], root, orders[-1]["order_parameter"] if orders else None)
    if transition and kind["name"].startswith("Kosterlitz"):  # smooth energy histograms, but not "continuous"
        transition = {"kind": "Kosterlitz-Thouless (infinite order: no latent heat, no power-law divergence of "
                      "the specific heat; located by the helicity modulus)", "evidence": transition["evidence"]}
    kt = None
    if all(has_helicity(s) for s in systems):
        kt = kt_analysis(systems, discard) if kind["name"].startswith("Kosterlitz") else \
            {"rows": [r for s in systems for r in helicity_rows(s, discard)]}
    entropies = {s.name: entropy(s, discard) for s in several if "log_states_per_spin" in s.attrs}
    unanchored = sorted(k for k, e in entropies.items() if e["anchor"] > MAX_ANCHOR)
    entropies = {k: e for k, e in entropies.items() if k not in unanchored}
    plots = []
    if plots_dir is not None and rows:
        plots = [str(p) for p in plot_observables(rows, plots_dir, binder["tc"] if binder else None)]
        plots += [str(plot_structure_factor(orders, plots_dir))] if orders and any(o["_grid"] for o in orders) else []
        plots += [str(plot_histograms(histograms, plots_dir))] if histograms else []
        plots += [str(plot_entropy(entropies, plots_dir))] if entropies else []
        plots += [str(plot_helicity(kt, plots_dir))] if kt else []
    for o in orders or []:
        o.pop("_grid")
    for r in rows:
        r.pop("binder_jk")
    return {"file": str(path), "complete": bool(root.get("complete", False)), "rows": rows,
            "kind": kind, "binder": binder, "kt": None if kt is None else {k: v for k, v in kt.items() if k != "curves"},
            "transition": transition, "entropy": {k: _entropy_summary(v) for k, v in entropies.items()},
            "entropy_unanchored": unanchored, "order": orders,
            "plots": plots}


def energy_runs(system, discard: int = 0) -> list[dict]:
    """Per chain ``{"E": total energies}`` for the reweighting."""
    E = system.streams["energy"][discard:] * system.n_sites
    return [{"E": E[:, c]} for c in range(E.shape[1])]


def transition_kind(system, root: dict, order_irrep: str | None = None) -> dict:
    """What transition the analysis assumes, and what it cannot do for this model
    (``order_irrep``: the order parameter found by symmetry, when there is one)."""
    import tomllib

    model = str(system.attrs["model"])
    try:
        cfg = tomllib.loads(str(root.get("config", ""))).get("model", {})
    except tomllib.TOMLDecodeError:
        cfg = {}
    J = cfg.get("J", [1.0])
    if cfg.get("disorder", "none") != "none":
        return {"name": "spin glass", "caveat": "one disorder instance per size: Binder crossings of the "
                "magnetisation do not locate a spin-glass transition; run a sweep with grid.disorder_samples "
                "(and replicas >= 2) for disorder averages of the replica overlap, chi_SG, g and xi_L / L"}
    ordered = "the magnetisation" if order_irrep is None else f"the order parameter {order_irrep} (by symmetry)"
    if np.atleast_1d(J)[0] < 0 and not bool(system.attrs.get("antiferromagnetic", False)) and order_irrep is None:
        return {"name": "frustrated antiferromagnet", "caveat": "on a lattice that is not bipartite neither the "
                "magnetisation nor a staggered one is its order parameter: Binder crossings here are not a Tc"}
    if model == "xy" and len(system.attrs["size"]) == 2:
        if has_helicity(system):
            return {"name": "Kosterlitz-Thouless (2D XY)", "caveat": "T_KT comes from the helicity modulus; "
                    "the magnetisation's Binder crossings below are not a Tc (m -> 0 as L^(-eta/2) at every "
                    "T < T_KT)"}
        return {"name": "Kosterlitz-Thouless (2D XY)", "caveat": "the magnetisation's Binder crossings do "
                "not locate a KT transition, and this file holds no helicity modulus (written by an older "
                "version): simulate it again to locate T_KT"}
    return {"name": f"symmetry-breaking transition of {ordered}" if model != "heisenberg" or
            len(system.attrs["size"]) == 3 else "2D Heisenberg (no finite-T transition: Mermin-Wagner)",
            "caveat": None}


def _entropy_summary(e: dict) -> dict:
    return {"T_min": e["T_min"], "residual_entropy": e["residual"], "residual_entropy_err": e["residual_err"],
            "anchor": e["anchor"], "warnings": e["warnings"],
            "curve": {k: np.asarray(e[k]).tolist() for k in ("T", "f", "f_err", "s", "s_err")}}


def format_report(result: dict) -> str:
    """Human-readable table of :func:`analyze_run`'s result."""
    lines = [f"{result['file']}" + ("" if result["complete"] else "  (incomplete run)")]
    lines.append(" ".join(f"{header:>10}" for _, header, _ in COLUMNS))
    for r in result["rows"]:
        lines.append(" ".join(f"{r[key]:>10{spec.lstrip('>')}}" for key, _, spec in COLUMNS))
    kind = result.get("kind")
    if kind:
        lines.append(f"transition analysed: {kind['name']}" + (f" ({kind['caveat']})" if kind["caveat"] else ""))
    b = result["binder"]
    if b:
        for p in b["pairs"]:
            sizes = " / ".join("x".join(map(str, s)) for s in p["sizes"])
            found = p["crossings"]
            lines.append(f"Binder crossing {sizes}: " + ("; ".join(_tc(c) for c in found) if found else _tc(p)))
        lines.append(f"Tc (largest pair): {_tc(b)}")
        lines += [f"warning: {w}" for w in b["warnings"]]
    t = result.get("transition")
    if t:
        lines.append(f"kind of transition: {t['kind']}")
        lines += [f"  {e}" for e in t["evidence"]]
    lines += _kt_lines(result.get("kt"))
    lines += _order_lines(result.get("order"))
    for name, e in result.get("entropy", {}).items():
        lines.append(f"{name}: entropy per spin at T = {e['T_min']:.4g} (the coldest run): "
                     f"{e['residual_entropy']:.5f} +- {e['residual_entropy_err']:.5f}  "
                     f"(anchor at T = inf, beta|e - e_inf| of the hottest run {e['anchor']:.1e})")
        lines += [f"warning: {w}" for w in e["warnings"]]
    if result.get("entropy_unanchored"):
        lines.append("entropy and free energy: not anchored for " + ", ".join(result["entropy_unanchored"])
                     + f" (the hottest run needs beta |e - e_inf| <= {MAX_ANCHOR}: add a high temperature)")
    for p in result["plots"]:
        lines.append(f"plot: {p}")
    return "\n".join(lines)


def _order_lines(orders: list | None) -> list[str]:
    lines = []
    for o in orders or []:
        arms = " ".join("(" + ",".join(f"{x:.3g}" for x in a) + ")" for a in o["arms"])
        lines.append(f"{o['system']}: order parameter {o['order_parameter']} (star {o['star']}: {len(o['arms'])} "
                     f"arm(s) {arms}; dimension {o['dim']} per spin component), direction {o['direction']}")
        lines.append(f"  ordered state (T = {o['rows'][0]['temperature']:.4g}) keeps "
                     f"{o['symmetry']['lattice_alone']}; up to a global spin flip or rotation "
                     f"{o['symmetry']['up_to_spin_operations']}")
        p = o["structure_factor_peak"]
        if p:
            where = p["point"] or "no high-symmetry point: incommensurate order?"
            lines.append(f"  S(k) peak at k = ({', '.join(f'{x:.4g}' for x in p['k'])}) [{where}], S/N = "
                         f"{p['S_over_N']:.3f}")
        lines.append("  dominant irrep per temperature: " + ", ".join(
            f"T = {r['temperature']:.4g}: {r['dominant']} ({r['power'][r['dominant']]:.3f})" for r in o["rows"]))
    return lines


def _kt_lines(kt: dict | None) -> list[str]:
    if not kt:
        return []
    vortices = "vortex_density" in kt["rows"][0]
    lines = ["helicity modulus (spin stiffness per unit area, J):",
             f"{'system':>10} {'T':>10} {'Upsilon':>10} {'err':>10}" + (f" {'vortices':>10} {'err':>10}"
                                                                     if vortices else "")]
    for r in kt["rows"]:
        line = f"{r['system']:>10} {r['temperature']:>10.4f} {r['helicity']:>10.5f} {r['helicity_err']:>10.1e}"
        if vortices:
            line += f" {r['vortex_density']:>10.5f} {r['vortex_density_err']:>10.1e}"
        lines.append(line)
    if "T_kt" not in kt:
        return lines
    for c in kt["crossings"]:
        lines.append(f"Upsilon = 2T/pi at {c['size']}: " + ("no crossing inside the temperature grid" if c["T"] is None
                     else f"T* = {c['T']:.5f} +- " + ("?" if c["T_err"] is None else f"{c['T_err']:.5f}")))
    if kt["T_kt"] is not None:
        lines.append(f"T_KT (Weber-Minnhagen fit of Upsilon_L = (2T/pi)(1 + 1/(2 ln L + C)) over all sizes): "
                     f"{kt['T_kt']:.5f} +- {kt['T_kt_err']:.5f} (statistical; the form's truncation adds about "
                     f"1 % at L <= 64), C = {kt['C']:.3f}, chi2/dof = {kt['chi2_dof']:.2f}")
    lines += [f"warning: {w}" for w in kt["warnings"]]
    return lines


def _tc(result: dict) -> str:
    if result["tc"] is None:
        return "no crossing inside the temperature grid"
    err = "?" if result["tc_err"] is None else f"{result['tc_err']:.5f}"
    u_err = "?" if result["u4_err"] is None else f"{result['u4_err']:.4f}"
    return f"Tc = {result['tc']:.5f} +- {err}, U4* = {result['u4']:.4f} +- {u_err}"
