"""Structural phase analysis of perovskite MD runs (``physbreak analyze`` on a
``perovskite_md`` file): phases from the sorted polarisation, transition
temperatures on cooling and heating (hysteresis), space groups of averaged
structures, and plots of polarisation and strain against temperature."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from physbreak.analysis.plots import plot_folder
from physbreak.systems.perovskite import load_parameters
from physbreak.systems.perovskite_structures import (DEFAULT_SYMPREC, cell_atoms, phase_label, space_group,
                                                     supercell_atoms)

ORDER = "CTOR"
NAMES = {"C": "cubic", "T": "tetragonal", "O": "orthorhombic", "R": "rhombohedral"}


def _transitions(temps: np.ndarray, labels: list[str]) -> dict:
    """``{"C-T": T, ...}``: midpoint temperatures of the first step along the run
    where the phase changes between neighbours in C, T, O, R."""
    out = {}
    for k in range(1, len(labels)):
        a, b = sorted((ORDER.index(labels[k - 1]), ORDER.index(labels[k])))
        if b == a + 1:
            out.setdefault(f"{ORDER[a]}-{ORDER[b]}", 0.5 * (temps[k - 1] + temps[k]))
    return out


def analyze_perovskite(path, plots=None, threshold: float = 0.08, symprec: float = DEFAULT_SYMPREC) -> dict:
    """Per temperature and replica: sorted |P| (C/m^2, mean over samples), phase,
    space group of the averaged cell; transition temperatures per direction
    (mean over replicas, error = spread / sqrt(n) and half the temperature step
    combined)."""
    with h5py.File(path, "r") as f:
        temps, direction = f["temperature"][()], f["direction"][()]
        done = int(f.attrs["stages_done"])
        P, strain = f["polarization"][:done], f["strain"][:done]
        modes = f["mean_modes"][:done].mean((2, 3, 4))  # (stages, replicas, 3)
        mean_strain = f["mean_strain"][:done]
        params = load_parameters(str(f.attrs["material"]))
    temps = temps[:done]
    p_sorted = np.sort(np.abs(P), axis=-1)[..., ::-1].mean(2)  # (stages, replicas, 3)
    rows, per_replica = [], []
    for r in range(temps.shape[1]):
        labels = [phase_label(p_sorted[k, r], threshold) for k in range(done)]
        groups = [space_group(cell_atoms(params, modes[k, r], mean_strain[k, r]), symprec) for k in range(done)]
        per_replica.append({"direction": "cooling" if direction[r] < 0 else "heating",
                            "transitions": _transitions(temps[:, r], labels)})
        for k in range(done):
            rows.append({"replica": r, "direction": per_replica[-1]["direction"], "T": float(temps[k, r]),
                         "P_sorted": p_sorted[k, r].round(4).tolist(), "phase": labels[k],
                         "space_group": groups[k], "strain": strain[k, r].mean(0).round(5).tolist()})
    step = float(np.abs(np.diff(temps[:, 0])).min()) if done > 1 else 0.0
    summary = {}
    for d in ("cooling", "heating"):
        for key in ("C-T", "T-O", "O-R"):
            vals = [rep["transitions"][key] for rep in per_replica if rep["direction"] == d and key in rep["transitions"]]
            if vals:
                spread = np.std(vals, ddof=1) / np.sqrt(len(vals)) if len(vals) > 1 else 0.0
                summary[f"{d} {key}"] = {"T": float(np.mean(vals)), "err": float(np.hypot(spread, step / 2)),
                                         "replicas": len(vals)}
    phases = _representatives(rows)
    cooling = next((r for r in range(temps.shape[1]) if direction[r] < 0), 0)
    for ph in phases.values():  # the averaged 5-atom cell's symmetry modes against the cubic cell
        k = int(np.flatnonzero(np.isclose(temps[:, cooling], ph["T"]))[0])
        ph.update(_phase_modes(params, modes[k, cooling], mean_strain[k, cooling], symprec))
    result = {"file": str(path), "threshold": threshold, "symprec": symprec, "rows": rows,
              "transitions": summary, "phases": phases}
    if plots:
        result["plots"] = _plot(Path(plots), temps, direction, p_sorted, strain.mean(2))
        result["structures"] = _write_structures(Path(plots), params, result["phases"], path)
    return result


def _phase_modes(params, u, eta, symprec) -> dict:
    """The irreps of Pm-3m in the averaged cell of mode ``u`` ``(3,)`` and strain ``eta``:
    ``{"modes": [{"irrep", "pattern", "amplitude", "isotropy"}], "isotropy"}`` (modes above ``symprec`` A)."""
    from physbreak.symmetry.crystal_modes import crystal_modes

    dec = crystal_modes(cell_atoms(params, np.zeros(3)), cell_atoms(params, u, eta), symprec)
    kept = [{"irrep": m.label, "pattern": m.pattern, "amplitude": round(m.amplitude, 5), "isotropy": m.isotropy}
            for m in dec.modes if m.amplitude > symprec]
    return {"modes": kept, "isotropy": dec.isotropy if kept else "Pm-3m"}


def _write_structures(folder: Path, params, phases: dict, path) -> list[str]:
    """The averaged supercell (extxyz) and 5-atom cell (cif) of the first cooling
    replica in the middle of each phase, via ``ase.io``."""
    import ase.io

    with h5py.File(path, "r") as f:
        temps = f["temperature"][:, 0]
        files = []
        for name, ph in phases.items():
            k = int(np.flatnonzero(np.isclose(temps, ph["T"]))[0])
            u, eta = f["mean_modes"][k, 0], f["mean_strain"][k, 0]
            stem = folder / f"{name}_{ph['T']:.0f}K"
            ase.io.write(f"{stem}_supercell.extxyz", supercell_atoms(params, u, eta))
            ase.io.write(f"{stem}_cell.cif", cell_atoms(params, u.mean((0, 1, 2)), eta))
            files += [f"{stem}_supercell.extxyz", f"{stem}_cell.cif"]
    return files


def _representatives(rows: list[dict]) -> dict:
    """Per phase: the middle temperature of the range where every cooling replica
    shows it, and the space groups of the replicas' averaged structures there."""
    cooling = [r for r in rows if r["direction"] == "cooling"]
    temps = sorted({r["T"] for r in cooling}, reverse=True)
    out = {}
    for phase in ORDER:
        agree = [T for T in temps if all(r["phase"] == phase for r in cooling if r["T"] == T)]
        if agree:
            T = agree[len(agree) // 2]
            out[NAMES[phase]] = {"T": T, "space_groups": [r["space_group"] for r in cooling if r["T"] == T]}
    return out


def _plot(folder: Path, temps, direction, p_sorted, strain) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = plot_folder(folder)
    files = []
    for name, data, ylabel, labels in (
            ("polarization", p_sorted, "|P| sorted (C/m$^2$)", ["|P|$_1$", "|P|$_2$", "|P|$_3$"]),
            ("strain", strain, "strain (Voigt)", ["$\\eta_{xx}$", "$\\eta_{yy}$", "$\\eta_{zz}$",
                                                   "$2\\eta_{yz}$", "$2\\eta_{xz}$", "$2\\eta_{xy}$"])):
        fig, ax = plt.subplots(figsize=(6, 4))
        for r in range(temps.shape[1]):
            style = "-o" if direction[r] < 0 else "--s"
            for c in range(data.shape[-1]):
                ax.plot(temps[:, r], data[:, r, c], style, ms=3, color=f"C{c}",
                        label=f"{labels[c]} {'cooling' if direction[r] < 0 else 'heating'}" if r in (0, temps.shape[1] - 1) else None)
        ax.set_xlabel("T (K)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        out = folder / f"{name}.png"
        fig.savefig(out, dpi=120)
        plt.close(fig)
        files.append(str(out))
    return files


def format_perovskite(result: dict) -> str:
    lines = [f"{'dir':>8} {'rep':>3} {'T (K)':>7}  {'|P|1':>6} {'|P|2':>6} {'|P|3':>6}  phase  space group"]
    for r in result["rows"]:
        p = r["P_sorted"]
        lines.append(f"{r['direction']:>8} {r['replica']:>3} {r['T']:7.1f}  {p[0]:6.3f} {p[1]:6.3f} {p[2]:6.3f}"
                     f"  {r['phase']:>5}  {r['space_group']}")
    lines.append("")
    lines.append("transition temperatures (midpoints of the temperature steps; mean over replicas):")
    for key, t in result["transitions"].items():
        lines.append(f"  {key}: {t['T']:.1f} +- {t['err']:.1f} K ({t['replicas']} replicas)")
    lines.append("averaged structure in the middle of each phase (cooling replicas):")
    for name, ph in result["phases"].items():
        modes = "; ".join(f"{m['irrep']} {m['pattern']} ({m['amplitude']:.3f} A) -> {m['isotropy']}"
                          for m in ph.get("modes", [])) or "no mode above symprec"
        lines.append(f"  {name:>12} at {ph['T']:.0f} K: {', '.join(ph['space_groups'])}; irreps of Pm-3m: {modes}")
    for p in result.get("plots", []):
        lines.append(f"plot: {p}")
    for p in result.get("structures", []):
        lines.append(f"structure: {p}")
    return "\n".join(lines)
