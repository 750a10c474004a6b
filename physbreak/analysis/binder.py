"""Critical temperature from the crossings of the Binder cumulant U4(T) of
pairs of sizes.

Each size gives a smooth curve ``U_L(T)`` with jackknife curves
(:class:`Curve`): from a run file, multiple-histogram reweighting of all its
chains on a fine grid *inside the sampled temperature range*
(:func:`reweighted_curves`); from a table of independent points (a sweep),
straight lines between the grid points (:func:`grid_curves`).  Every sign
change of ``U_a - U_b`` on the common range is a crossing (linear
interpolation between fine-grid points), reported with its error and with
``U4*``, the value of the cumulant there (the universal number).  Errors:
the sizes are independent, so the variance of a crossing is the sum of the
jackknife variances over the blocks of each size with the other size's curve
fixed; each jackknife curve is re-solved from scratch, so the error includes
the uncertainty of the whole curve, not only of the points next to the
crossing.  Warnings: several crossings of one pair, a crossing in the first
or last interval of the sampled grid, a jackknife curve that does not cross,
and fewer than :data:`MIN_INDEPENDENT` independent samples at a point.
Tc is the crossing of the largest pair (the one nearest the other pairs'
crossings when it crosses more than once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physbreak.analysis.stats import jackknife_error

MIN_INDEPENDENT = 100  # N / (2 tau) below this: the errors themselves are unreliable
GRID_POINTS = 201  # reweighted temperatures per size


@dataclass
class Curve:
    """U4 of one size on a temperature grid.

    Attributes:
        label: the size as text; n_sites: sites; size: the linear sizes;
        T: ``(G,)`` increasing; value: ``(G,)``; jk: ``(J, G)`` jackknife
        curves; sampled: the temperatures that were run (a crossing in the
        first or last interval between them is flagged).
    """

    label: str
    n_sites: int
    size: list
    T: np.ndarray
    value: np.ndarray
    jk: np.ndarray
    sampled: np.ndarray

    def in_edge_interval(self, t: float) -> bool:
        s = self.sampled
        return bool(len(s) < 3 or t <= s[1] or t >= s[-2])


def roots(T: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Every zero of the piecewise-linear ``d(T)``, ``(n_roots,)`` increasing."""
    s = np.sign(d)
    k = np.flatnonzero((s[:-1] * s[1:] < 0) | ((s[:-1] != 0) & (s[1:] == 0)))
    return T[k] - d[k] * (T[k + 1] - T[k]) / (d[k + 1] - d[k])


def crossing(T: np.ndarray, ua: np.ndarray, ub: np.ndarray) -> float:
    """The first temperature where ``ua(T) = ub(T)`` (linear between grid points); nan if none."""
    r = roots(np.asarray(T, float), np.asarray(ua, float) - np.asarray(ub, float))
    return float(r[0]) if r.size else float("nan")


def _on(grid, curve: Curve, values=None):
    """``values`` (default the curve's; ``(..., G)``) interpolated onto ``grid``."""
    values = curve.value if values is None else values
    return np.apply_along_axis(lambda v: np.interp(grid, curve.T, v), -1, np.atleast_2d(values))


def _line_root(T: np.ndarray, d: np.ndarray) -> float:
    """The zero of the least-squares straight line through ``(T, d)``; nan for a flat line."""
    slope, intercept = np.polyfit(T, d, 1)
    return float(-intercept / slope) if slope != 0.0 else float("nan")


def pair_crossings(a: Curve, b: Curve, window: int | None = None) -> tuple[list[dict], list[str]]:
    """Every crossing of two sizes: ``[{"tc", "tc_err", "u4", "u4_err"}]`` and warnings.

    ``window=None``: the zero of ``U_a - U_b`` linear between grid points (for
    reweighted curves on a fine grid).  ``window=k``: the zero of the
    least-squares straight line through ``U_a - U_b`` at the ``k`` grid points
    nearest the crossing (for curves known only at a few sampled points, where
    a jackknife curve's own piecewise-linear crossing may not exist); every
    jackknife curve is refitted on the same points, so its crossing always
    exists and a poorly determined crossing gets a large error rather than none.
    """
    lo, hi = max(a.T[0], b.T[0]), min(a.T[-1], b.T[-1])
    warnings = []
    if lo >= hi:
        return [], [f"{a.label} / {b.label}: no common temperature range"]
    grid = np.union1d(a.T[(a.T >= lo) & (a.T <= hi)], b.T[(b.T >= lo) & (b.T <= hi)])
    ua, ub = _on(grid, a)[0], _on(grid, b)[0]
    found = roots(grid, ua - ub)
    out = []
    for t0 in found:
        if window is None:
            def at(T, u1, u2, t0=t0):  # the crossing of (u1, u2) nearest t0, and U4 there
                r = roots(T, u1 - u2)
                if r.size == 0:
                    return np.nan, np.nan
                t = r[np.argmin(np.abs(r - t0))]
                return t, 0.5 * (np.interp(t, T, u1) + np.interp(t, T, u2))
        else:
            near = np.sort(np.argsort(np.abs(grid - t0))[:max(2, window)])

            def at(T, u1, u2, near=near):  # the fitted lines' crossing on the points near t0, and U4 there
                t = _line_root(T[near], u1[near] - u2[near])
                return t, 0.5 * (np.polyval(np.polyfit(T[near], u1[near], 1), t)
                                 + np.polyval(np.polyfit(T[near], u2[near], 1), t))

        tc, u4 = at(grid, ua, ub)
        var_t, var_u, failed = 0.0, 0.0, False
        for jk_curves, other, first in ((_on(grid, a, a.jk), ub, True), (_on(grid, b, b.jk), ua, False)):
            samples = np.array([at(grid, c, other) if first else at(grid, other, c) for c in jk_curves])
            if not np.all(np.isfinite(samples)):
                failed = True
                continue
            var_t += jackknife_error(samples[:, 0]) ** 2
            var_u += jackknife_error(samples[:, 1]) ** 2
        if failed:
            warnings.append(f"{a.label} / {b.label}: a jackknife curve does not cross near T = {tc:.5f}; "
                            "its error is unknown (longer runs)")
        out.append({"tc": float(tc), "tc_err": None if failed else float(np.sqrt(var_t)),
                    "u4": float(u4), "u4_err": None if failed else float(np.sqrt(var_u))})
        edge = [c for c in (a, b) if c.in_edge_interval(tc)]
        if edge:
            warnings.append(f"{a.label} / {b.label}: the crossing at T = {tc:.5f} lies in the first or last "
                            f"sampled interval of size {edge[0].label} ([{edge[0].sampled[0]:.4f}, "
                            f"{edge[0].sampled[-1]:.4f}]): add temperatures beyond it")
    if len(found) > 1:
        warnings.append(f"{a.label} / {b.label}: the curves cross {len(found)} times (T = "
                        + ", ".join(f"{t:.5f}" for t in found) + "): noisy or too coarse data")
    return out, warnings


def binder_crossings(curves: list[Curve], rows: list[dict] | None = None) -> dict:
    """Crossings of U4 between consecutive sizes, and Tc from the largest pair.

    Args:
        curves: one :class:`Curve` per size (two or more).
        rows: the per-temperature rows of
            :func:`~physbreak.analysis.observables.thermodynamics`, for the
            independent-sample warning.

    Returns:
        ``{"pairs": [{"sizes", "crossings": [...], "tc", "tc_err", "u4", "u4_err"}],
        "tc", "tc_err", "u4", "u4_err", "warnings"}``; ``tc`` is None when the
        largest pair does not cross inside the sampled range.
    """
    curves = sorted(curves, key=lambda c: c.n_sites)
    warnings, pairs = [], []
    few: dict[str, list] = {}
    for r in rows or []:
        indep = r["n_samples"] / max(2.0 * r["tau_abs_m"], 1.0)
        if indep < MIN_INDEPENDENT:
            few.setdefault(r["system"], []).append(f"{r['temperature']:.4f} ({indep:.0f})")
    for system, points in few.items():
        warnings.append(f"{system}: fewer than {MIN_INDEPENDENT} independent samples (N / 2 tau_|m|) at T = "
                        + ", ".join(points) + ": its errors are unreliable (longer runs)")
    for a, b in zip(curves[:-1], curves[1:]):
        found, w = pair_crossings(a, b)
        warnings += w
        pairs.append({"sizes": [a.size, b.size], "crossings": found})
    others = [c["tc"] for p in pairs[:-1] for c in p["crossings"]]
    for p in pairs:
        best = None
        if p["crossings"]:
            ref = np.median(others) if others and p is pairs[-1] else p["crossings"][0]["tc"]
            best = min(p["crossings"], key=lambda c: abs(c["tc"] - ref))
        p.update(best or {"tc": None, "tc_err": None, "u4": None, "u4_err": None})
    last = pairs[-1] if pairs else {"tc": None, "tc_err": None, "u4": None, "u4_err": None}
    return {"pairs": pairs, "tc": last["tc"], "tc_err": last["tc_err"], "u4": last["u4"],
            "u4_err": last["u4_err"], "warnings": warnings}


def grid_curves(rows: list[dict]) -> list[Curve]:
    """One :class:`Curve` per system from per-temperature rows (keys ``binder`` and
    ``binder_jk``): straight lines between the points."""
    by_system: dict[str, list[dict]] = {}
    for r in rows:
        by_system.setdefault(r["system"], []).append(r)
    curves = []
    for name, rs in by_system.items():
        rs = sorted(rs, key=lambda r: r["temperature"])
        T = np.array([r["temperature"] for r in rs])
        curves.append(Curve("x".join(map(str, rs[0]["size"])), rs[0]["n_sites"], rs[0]["size"], T,
                            np.array([r["binder"] for r in rs]), np.stack([r["binder_jk"] for r in rs], axis=1), T))
    return curves


def reweighted_curves(systems, order: str = "auto", discard: int = 0, points: int = GRID_POINTS) -> list[Curve]:
    """One :class:`Curve` per system of a run file: U4 from the multiple
    histogram of all its chains, on ``points`` temperatures spanning the
    sampled ones (no extrapolation beyond them)."""
    from physbreak.analysis.observables import order_parameter
    from physbreak.analysis.reweighting import Reweighting

    curves = []
    for s in systems:
        n = s.n_sites
        E = s.streams["energy"][discard:] * n
        m = np.linalg.norm(order_parameter(s, order)[discard:], axis=-1)
        runs = [{"E": E[:, c], "m2": m[:, c] ** 2, "m4": m[:, c] ** 4} for c in range(E.shape[1])]
        sampled = np.unique(s.temperature)
        T = np.linspace(sampled[0], sampled[-1], points) if len(sampled) > 1 else sampled
        rw = Reweighting(runs, 1.0 / np.asarray(s.temperature, float))
        value, jk = rw.jackknife(lambda av: 1.0 - av["m4"] / (3.0 * av["m2"] ** 2), 1.0 / T)
        size = [int(v) for v in s.attrs["size"]]
        curves.append(Curve("x".join(map(str, size)), n, size, T, value, jk, sampled))
    return curves
