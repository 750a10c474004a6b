"""Spin glasses: replica overlaps, disorder averages, chi_SG, Binder g and
the correlation length xi_L / L, with Tc from their crossings.

Each disorder instance is one run (a sweep task, ``grid.disorder_samples``)
with two replicas or more per temperature; every sample stores, per replica
pair, the overlap ``q = (1/N) sum_i s_i^a s_i^b`` and ``|q(k_min)|^2`` with
``k_min = 2 pi / L`` along each axis (averaged over axes).  Thermal averages
per instance ``<q^2>``, ``<q^4>``, ``<|q(k)|^2>`` (over samples and pairs),
then disorder averages ``[.]`` over instances::

    chi_SG = N [<q^2>]
    g      = (3 - [<q^4>] / [<q^2>]^2) / 2
    xi_L   = sqrt([<q^2>] / [<|q(k)|^2>] - 1) / (2 sin(k_min / 2))

(the second-moment correlation length, Ballesteros et al. 2000).  ``xi_L / L``
and ``g`` are scale invariant at Tc: the crossings of consecutive sizes
estimate it, each the zero of a straight line fitted to the difference of the
two curves at the :data:`FIT_POINTS` sampled temperatures nearest it (a
jackknife curve is refitted on the same points, so the error exists even
where the curves nearly merge, as ``g`` does in 3D).  Errors are jackknife over
:data:`N_GROUPS` groups of instances (the disorder fluctuation dominates the
thermal one; each instance's runs must be equilibrated -- the report compares
``[<q^2>]`` of the last half of the samples with the last quarter at the
lowest temperature, a shift beyond two errors meaning they are not).
"""

from __future__ import annotations

import numpy as np

from physbreak.analysis.binder import Curve, pair_crossings
from physbreak.analysis.stats import jackknife_error
from physbreak.mc.sampling import overlap_pairs

N_GROUPS = 20
FIT_POINTS = 4  # sampled temperatures per crossing fit


def is_spin_glass(system) -> bool:
    return "overlap" in system.streams


def instance_means(system, discard: int = 0) -> dict:
    """One instance's thermal averages per temperature: ``{"T" (nT,), "q2", "q4",
    "k2", "q2_half", "q2_quarter" (nT,), "lowest_energy", "n_sites", "size"}``."""
    pairs = overlap_pairs(system.temperature, system.replica)
    T_pair = system.temperature[pairs[:, 0]]
    q, k2 = system.streams["overlap"][discard:], system.streams["overlap_k"][discard:]
    T = np.unique(T_pair)
    n = len(q)
    out = {k: np.empty(len(T)) for k in ("q2", "q4", "k2", "q2_half", "q2_quarter")}
    for i, t in enumerate(T):
        cols = T_pair == t
        out["q2"][i] = np.mean(q[:, cols] ** 2)
        out["q4"][i] = np.mean(q[:, cols] ** 4)
        out["k2"][i] = np.mean(k2[:, cols])
        out["q2_half"][i] = np.mean(q[n // 2:, cols] ** 2)
        out["q2_quarter"][i] = np.mean(q[3 * n // 4:, cols] ** 2)
    lowest = system.attrs.get("lowest_energy")
    return {"T": T, **out, "lowest_energy": None if lowest is None else float(lowest),
            "n_sites": system.n_sites, "size": [int(s) for s in system.attrs["size"]]}


def _derived(q2, q4, k2, N, L):
    """chi_SG, g and xi_L / L from disorder-averaged moments (arrays of one shape)."""
    ratio = np.maximum(q2 / k2 - 1.0, 0.0)
    return {"chi_sg": N * q2, "g": 0.5 * (3.0 - q4 / q2**2),
            "xi_over_L": np.sqrt(ratio) / (2.0 * np.sin(np.pi / L)) / L}


def disorder_average(instances: list[dict]) -> dict:
    """Disorder averages of one size over its instances (all on the same
    temperatures): ``{"T", "chi_sg", "g", "xi_over_L"}`` with ``*_err`` and
    ``*_jk`` ``(groups, nT)``, ``"n_instances"``, the equilibration check and the
    lowest energies."""
    T = instances[0]["T"]
    if any(len(i["T"]) != len(T) or not np.allclose(i["T"], T) for i in instances):
        raise ValueError("instances: every instance of a size needs the same temperatures")
    N, size = instances[0]["n_sites"], instances[0]["size"]
    L = float(np.prod(size)) ** (1.0 / len(size))
    m = {k: np.stack([i[k] for i in instances]) for k in ("q2", "q4", "k2", "q2_half", "q2_quarter")}
    groups = np.array_split(np.arange(len(instances)), min(N_GROUPS, len(instances)))
    full = _derived(m["q2"].mean(0), m["q4"].mean(0), m["k2"].mean(0), N, L)
    jk = [_derived(*(np.delete(m[k], g, axis=0).mean(0) for k in ("q2", "q4", "k2")), N, L) for g in groups]
    out = {"T": T, "size": size, "n_sites": N, "L": L, "n_instances": len(instances)}
    for key, value in full.items():
        samples = np.stack([j[key] for j in jk])
        out[key], out[f"{key}_jk"] = value, samples
        out[f"{key}_err"] = np.array([jackknife_error(samples[:, t]) for t in range(len(T))])
    half, quarter = m["q2_half"][:, 0], m["q2_quarter"][:, 0]  # lowest temperature
    shift = quarter.mean() - half.mean()
    out["equilibration"] = {"T": float(T[0]), "q2_last_half": float(half.mean()),
                            "q2_last_quarter": float(quarter.mean()),
                            "shift_err": float(np.std(quarter - half, ddof=1) / np.sqrt(len(half)))
                            if len(half) > 1 else float("nan"), "shift": float(shift)}
    lowest = [i["lowest_energy"] for i in instances if i["lowest_energy"] is not None]
    out["lowest_energy"] = lowest
    out["lowest_energy_mean"] = float(np.mean(lowest)) if lowest else None
    out["lowest_energy_err"] = float(np.std(lowest, ddof=1) / np.sqrt(len(lowest))) if len(lowest) > 1 else None
    return out


def _curve(avg: dict, key: str) -> Curve:
    label = "x".join(map(str, avg["size"]))
    return Curve(label, avg["n_sites"], avg["size"], avg["T"], avg[key], avg[f"{key}_jk"], avg["T"])


def spin_glass_analysis(systems_by_size: dict, discard: int = 0) -> dict:
    """``systems_by_size``: linear size -> the run systems of its instances.
    Returns ``{"sizes": [disorder_average without jk], "xi_crossings",
    "g_crossings": [{"sizes", "crossings"}], "warnings"}``."""
    averages, warnings = [], []
    for L in sorted(systems_by_size):
        avg = disorder_average([instance_means(s, discard) for s in systems_by_size[L]])
        eq = avg["equilibration"]
        if avg["n_instances"] > 1 and abs(eq["shift"]) > 2 * eq["shift_err"]:
            warnings.append(f"size {L:g}: [<q^2>] at T = {eq['T']:.4f} moves from {eq['q2_last_half']:.4f} (last "
                            f"half) to {eq['q2_last_quarter']:.4f} (last quarter): not equilibrated "
                            "(longer runs or more temperatures)")
        if avg["n_instances"] < N_GROUPS:
            warnings.append(f"size {L:g}: {avg['n_instances']} instances: disorder averages need many more")
        averages.append(avg)
    result = {"warnings": warnings}
    for key, name in (("xi_over_L", "xi_crossings"), ("g", "g_crossings")):
        pairs = []
        for a, b in zip(averages[:-1], averages[1:]):
            found, w = pair_crossings(_curve(a, key), _curve(b, key), window=FIT_POINTS)
            warnings += [f"{key}: {x}" for x in w]
            pairs.append({"sizes": [a["size"], b["size"]],
                          "crossings": [{"tc": c["tc"], "tc_err": c["tc_err"], "value": c["u4"],
                                         "value_err": c["u4_err"]} for c in found]})
        result[name] = pairs
    result["sizes"] = [{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in a.items()
                        if not k.endswith("_jk")} for a in averages]
    return result


def format_spin_glass(result: dict) -> list[str]:
    lines = ["spin glass: disorder averages over instances (jackknife errors over instance groups)",
             f"{'size':>10} {'T':>10} {'chi_SG':>10} {'err':>10} {'g':>10} {'err':>10} {'xi_L/L':>10} {'err':>10}"]
    for a in result["sizes"]:
        label = "x".join(map(str, a["size"]))
        for t in range(len(a["T"])):
            lines.append(f"{label:>10} {a['T'][t]:>10.4f} {a['chi_sg'][t]:>10.4g} {a['chi_sg_err'][t]:>10.1e} "
                         f"{a['g'][t]:>10.4f} {a['g_err'][t]:>10.1e} {a['xi_over_L'][t]:>10.4f} "
                         f"{a['xi_over_L_err'][t]:>10.1e}")
    for a in result["sizes"]:
        label = "x".join(map(str, a["size"]))
        e = a["lowest_energy_mean"]
        lines.append(f"{label}: {a['n_instances']} instances" + ("" if e is None else
                     f", lowest energy per spin found: mean {e:.5f} +- {a['lowest_energy_err'] or 0:.5f}"))
    for key, name in (("xi_crossings", "xi_L / L"), ("g_crossings", "g")):
        for p in result[key]:
            sizes = " / ".join("x".join(map(str, s)) for s in p["sizes"])
            found = p["crossings"]
            text = "; ".join(f"Tc = {c['tc']:.4f} +- " + ("?" if c["tc_err"] is None else f"{c['tc_err']:.4f}")
                             + f" ({name} = {c['value']:.4f})" for c in found) or "no crossing inside the grid"
            lines.append(f"{name} crossing {sizes}: {text}")
    lines += [f"warning: {w}" for w in result["warnings"]]
    return lines
