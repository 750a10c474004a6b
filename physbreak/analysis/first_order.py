"""Is a transition first order?  Energy histograms, the energy cumulant and
the latent heat, from the multiple histogram of each size's runs.

* **Energy histogram** ``P_beta(e)`` reweighted to any beta in the sampled
  range.  At a first-order transition it has two peaks (ordered and
  disordered) whose separating dip deepens with L: the barrier
  ``Delta F = ln(P_max / P_min)`` (the smaller peak over the dip) grows like
  ``2 sigma L^(d-1)`` (interface tension ``sigma``).
* **Equal-weight point**: the beta where the two peaks hold equal weight
  (Borgs & Kotecky); the peak separation there is the latent heat per spin
  ``Delta e`` of that size.  A histogram counts as double-peaked only where
  such a point lies inside the sampled range.
* **Energy cumulant** ``V_L = 1 - <E^4> / (3 <E^2>^2)``: its minimum tends to
  2/3 at a continuous transition and stays below at a first-order one
  (Challa, Landau & Binder 1986).

:func:`classify` calls the transition *first order* when the largest size has
a double peak with a barrier of at least :data:`MIN_BARRIER` that does not
shrink with L, *continuous* when the largest size has no double peak
anywhere in the sampled range, and *undecided* otherwise (a shallow or
shrinking double peak: the sizes may be below the correlation length of a
weak first-order transition, or above that of a continuous one).
"""

from __future__ import annotations

import numpy as np

from physbreak.analysis.reweighting import Reweighting
from physbreak.analysis.stats import jackknife_error

MIN_BARRIER = 0.5  # ln(peak / dip) of the largest size for "first order"
MIN_DIP = 0.1  # ln(peak / dip) for two maxima to count as a double peak at all
MIN_SEPARATION = 4  # bins between the two maxima, at least
BINS = 60


def _histogram(rw: Reweighting, beta: float, edges: np.ndarray, n: int, keep=None, log_z=None) -> np.ndarray:
    """Reweighted density of the energy per spin at ``beta`` on ``edges`` (of a jackknife sample)."""
    E, p = rw.energy_distribution(beta, keep, log_z)
    hist, _ = np.histogram(E / n, edges, weights=p)
    return hist / (hist.sum() * np.diff(edges))


def _two_peaks(h: np.ndarray):
    """``(left peak, dip, right peak)`` bin indices of a double-peaked histogram
    (lightly smoothed), or None: the two highest local maxima and the lowest
    bin between them."""
    s = np.convolve(h, np.array([1.0, 2.0, 1.0]) / 4.0, mode="same")
    top = [k for k in range(1, len(s) - 1) if s[k] >= s[k - 1] and s[k] > s[k + 1] and s[k] > 0]
    if len(top) < 2:
        return None
    a, b = sorted(sorted(top, key=lambda k: s[k])[-2:])
    dip = a + int(np.argmin(s[a:b + 1]))
    if b - a < MIN_SEPARATION or s[dip] > np.exp(-MIN_DIP) * min(s[a], s[b]):
        return None  # neighbouring bins or a shallow dip: noise on one peak
    return a, dip, b, s


def _vertex(centres: np.ndarray, s: np.ndarray, k: int) -> float:
    """The peak position, refined by a parabola through bins ``k - 1, k, k + 1``."""
    y0, y1, y2 = s[k - 1], s[k], s[k + 1]
    denom = y0 - 2 * y1 + y2
    return float(centres[k] + (0.5 * (y0 - y2) / denom if denom < 0 else 0.0) * (centres[1] - centres[0]))


def histogram_analysis(runs: list[dict], betas, n_sites: int, points: int = 101) -> dict:
    """One size: its energy histograms over the sampled range, the equal-weight
    point when they are double-peaked, and the energy cumulant's minimum.

    Args:
        runs: per chain ``{"E": total energies (n,)}``; betas: ``(n_chains,)``.

    Returns:
        ``{"double_peak", "beta", "latent_heat", "latent_heat_err", "barrier", "edges",
        "histogram", "v_min", "v_min_beta"}``; ``beta`` is the equal-weight point (else
        the specific-heat maximum), ``histogram`` the density there; the latent heat's
        error is jackknife over the blocks of every run (each re-solved), None when a
        jackknife sample loses the double peak.
    """
    betas = np.asarray(betas, dtype=np.float64)
    rw = Reweighting([{"E": r["E"], "E2": r["E"] ** 2, "E4": r["E"] ** 4} for r in runs], betas)
    grid = np.linspace(betas.min(), betas.max(), points) if np.ptp(betas) > 0 else betas[:1]
    av = rw.averages(grid)
    v = 1.0 - av["E4"] / (3.0 * av["E2"] ** 2)
    heat = grid**2 * (av["E2"] - av["E"] ** 2) / n_sites
    e_all = np.concatenate([r["E"] for r in runs]) / n_sites
    levels = np.unique(e_all)
    edges = np.linspace(e_all.min(), e_all.max(), min(BINS, max(len(levels), 2)) + 1)
    out = {"v_min": float(v.min()), "v_min_beta": float(grid[np.argmin(v)]), "double_peak": False,
           "beta": float(grid[np.argmax(heat)]), "latent_heat": None, "latent_heat_err": None, "barrier": None,
           "edges": edges}

    def split(beta, keep=None, log_z=None):  # weight below the dip minus weight above, and the peaks
        h = _histogram(rw, beta, edges, n_sites, keep, log_z)
        peaks = _two_peaks(h)
        if peaks is None:
            return None, h, None
        a, dip, b, _ = peaks
        width = np.diff(edges)
        return (h[:dip] * width[:dip]).sum() - (h[dip:] * width[dip:]).sum(), h, peaks

    def equal_weight(lo, hi, flo, keep=None, log_z=None):
        """Bisection of the equal-weight beta in ``[lo, hi]``: ``(beta, peaks)`` (peaks None if lost)."""
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            d = split(mid, keep, log_z)[0]
            if d is None:
                break
            lo, hi, flo = (mid, hi, d) if np.sign(d) == np.sign(flo) else (lo, mid, flo)
        beta = 0.5 * (lo + hi)
        return beta, split(beta, keep, log_z)[2]

    centres = 0.5 * (edges[:-1] + edges[1:])
    found = [(b, *split(b)) for b in grid]
    double = [f for f in found if f[1] is not None]
    if double:
        diffs = np.array([f[1] for f in double])
        bs = np.array([f[0] for f in double])
        change = np.flatnonzero(np.sign(diffs[:-1]) != np.sign(diffs[1:]))
        peaks = None  # two maxima whose weights never balance inside the range: no equal-weight point
        if change.size:
            lo, hi = bs[change[0]], bs[change[0] + 1]
            beta, peaks = equal_weight(lo, hi, diffs[change[0]])
        if peaks is not None:
            a, dip, b, s = peaks
            latent = _vertex(centres, s, b) - _vertex(centres, s, a)
            samples = []  # jackknife: each block left out, ln Z re-solved, the equal-weight point found again
            step = 4 * (grid[1] - grid[0])
            lo, hi = max(beta - step, grid[0]), min(beta + step, grid[-1])
            for keep, log_z in rw.jackknife_samples():
                f_lo, f_hi = split(lo, keep, log_z)[0], split(hi, keep, log_z)[0]
                if f_lo is None or f_hi is None or np.sign(f_lo) == np.sign(f_hi):
                    samples = None
                    break
                _, pk = equal_weight(lo, hi, f_lo, keep, log_z)
                if pk is None:
                    samples = None
                    break
                samples.append(_vertex(centres, pk[3], pk[2]) - _vertex(centres, pk[3], pk[0]))
            out.update(double_peak=True, beta=float(beta), latent_heat=latent,
                       latent_heat_err=None if samples is None else jackknife_error(np.array(samples)),
                       barrier=float(np.log(min(s[a], s[b]) / max(s[dip], 1e-300))))
    out["histogram"] = _histogram(rw, out["beta"], edges, n_sites)
    return out


def classify(per_size: dict, dim: int) -> dict:
    """``{"kind": "first order" | "continuous" | "undecided", "evidence": [str],
    "latent_heat"}`` from :func:`histogram_analysis` of each size ``{L: result}``
    on a ``dim``-dimensional lattice.  ``latent_heat``: with two or more
    double-peaked sizes, ``Delta e(L) = Delta e + a L^-d`` fitted to them
    (the leading finite-size correction at the equal-weight point), else the
    largest size's value, else None."""
    sizes = sorted(per_size)
    evidence = []
    double = [L for L in sizes if per_size[L]["double_peak"]]
    latent = per_size[double[-1]]["latent_heat"] if double else None
    if len(double) >= 2:
        x = np.array(double, dtype=np.float64) ** -dim
        a, latent = np.polyfit(x, [per_size[L]["latent_heat"] for L in double], 1)
        evidence.append(f"latent heat per spin {latent:.4f} (Delta e(L) = Delta e + a L^-{dim} over L = "
                        + ", ".join(f"{L:g}" for L in double) + ")")
    for L in sizes:
        r = per_size[L]
        line = f"L = {L:g}: V_min = {r['v_min']:.5f} (2/3 - V_min = {2 / 3 - r['v_min']:.2e})"
        if r["double_peak"]:
            err = "" if r.get("latent_heat_err") is None else f" +- {r['latent_heat_err']:.4f}"
            line += (f"; double-peaked energy histogram, equal weight at T = {1 / r['beta']:.5f}, latent heat "
                     f"{r['latent_heat']:.4f}{err} per spin, barrier ln(P_max/P_min) = {r['barrier']:.2f}")
        else:
            line += "; single-peaked energy histogram throughout the sampled range"
        evidence.append(line)
    big = per_size[sizes[-1]]
    barriers = [per_size[L]["barrier"] for L in sizes if per_size[L]["double_peak"]]
    if big["double_peak"] and big["barrier"] >= MIN_BARRIER and (len(barriers) < 2 or barriers[-1] >= barriers[-2]):
        kind = "first order"
    elif not big["double_peak"]:
        kind = "continuous"
        evidence.append("(on these sizes: a weak first-order transition looks continuous below its correlation length)")
    else:
        kind = "undecided"
    return {"kind": kind, "evidence": evidence, "latent_heat": None if latent is None else float(latent)}
