"""Finite-size scaling of Ising-like transitions from reweighted runs near Tc.

Per size L, one or several runs near Tc are reweighted (:class:`~physbreak.
analysis.reweighting.Reweighting`) over a range of beta, and the peaks of

* ``chi' = beta N (<m^2> - <|m|>^2)``       ~ L^(gamma/nu),
* ``d ln<|m|>/d beta = <E> - <|m| E>/<|m|>``  ~ L^(1/nu),
* ``d ln<m^2>/d beta = <E> - <m^2 E>/<m^2>``  ~ L^(1/nu)

(Ferrenberg & Landau, PRB 44, 5081, 1991) are located with jackknife errors.
Power laws are fitted by weighted least squares in log-log; Tc from the
peak positions ``beta*(L) = beta_c + a L^(-1/nu)``.  The reweighting stays
where the runs sampled energies (:func:`covered_grid`): a peak outside that
range is an error naming the size and the temperature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physbreak.analysis.plots import plot_folder
from physbreak.analysis.reweighting import Reweighting
from physbreak.errors import InvalidValue


def ising_series(energy, magnetization) -> dict:
    """Series for :class:`Reweighting` from total energies ``(n,)`` (J) and
    magnetisations per spin ``(n,)`` (or ``(n, components)``: the norm is used)."""
    E = np.asarray(energy, dtype=np.float64)
    m = np.asarray(magnetization, dtype=np.float64)
    m = np.abs(m) if m.ndim == 1 else np.linalg.norm(m, axis=1)
    return {"E": E, "E2": E**2, "m": m, "m2": m**2, "m4": m**4, "mE": m * E, "m2E": m**2 * E}


def observables(av: dict, beta, n_sites: int) -> dict:
    """Per-spin thermodynamics from reweighted averages (each ``(len(beta),)``)."""
    return {"e": av["E"] / n_sites, "abs_m": av["m"],
            "chi": beta * n_sites * (av["m2"] - av["m"] ** 2),
            "heat": beta**2 * (av["E2"] - av["E"] ** 2) / n_sites,
            "binder": 1.0 - av["m4"] / (3.0 * av["m2"] ** 2),
            "dlnm": av["E"] - av["mE"] / av["m"],
            "dlnm2": av["E"] - av["m2E"] / av["m2"]}


@dataclass
class Peak:
    beta: float
    beta_error: float
    height: float
    height_error: float


def _peak(curve: np.ndarray, grid: np.ndarray) -> tuple[float, float]:
    """Maximum of a sampled curve, refined by a parabola through the top three points."""
    k = int(np.clip(np.argmax(curve), 1, len(grid) - 2))
    y0, y1, y2 = curve[k - 1 : k + 2]
    h = grid[1] - grid[0]
    denom = y0 - 2 * y1 + y2
    shift = 0.5 * (y0 - y2) / denom if denom < 0 else 0.0
    return grid[k] + shift * h, y1 - 0.25 * (y0 - y2) * shift


def peaks(rw: Reweighting, n_sites: int, grid, names=("chi", "dlnm", "dlnm2")) -> dict:
    """``{name: Peak}`` of :func:`observables` over the beta ``grid``; a peak at the
    grid's edge means the grid (or the runs) must move."""
    grid = np.asarray(grid, dtype=np.float64)

    def fn(av):
        obs = observables(av, grid, n_sites)
        return np.concatenate([_peak(obs[n], grid) for n in names])

    value, error = rw.estimate(fn, grid)
    out = {}
    for k, name in enumerate(names):
        beta = value[2 * k]
        if not grid[1] <= beta <= grid[-2]:
            raise InvalidValue("temperatures", f"{name} peak at T = {1 / beta:.4f}, the edge of the range whose "
                              f"energies the runs sampled, T in [{1 / grid[-1]:.4f}, {1 / grid[0]:.4f}]",
                              "runs at temperatures on both sides of every peak")
        out[name] = Peak(beta, error[2 * k], value[2 * k + 1], error[2 * k + 1])
    return out


@dataclass
class Fit:
    value: float
    error: float
    chi2_dof: float


def power_law(L, y, dy, omega: float | None = None) -> tuple[Fit, float]:
    """Weighted fit of ``y = A L^b`` in log-log: ``(b, A)``; with ``omega``,
    ``y = A L^b (1 + c L^-omega)`` (the leading correction to scaling, c free;
    needs >= 4 sizes)."""
    if omega is not None:
        return _corrected_power_law(np.asarray(L, float), np.asarray(y, float), np.asarray(dy, float), omega)
    x, ly, w = np.log(L), np.log(y), (np.asarray(y) / np.asarray(dy)) ** 2
    coef, cov = np.polyfit(x, ly, 1, w=np.sqrt(w), cov="unscaled")
    resid = (ly - np.polyval(coef, x)) ** 2 * w
    dof = max(len(L) - 2, 1)
    return Fit(float(coef[0]), float(np.sqrt(cov[0, 0])), float(resid.sum() / dof)), float(np.exp(coef[1]))


def _corrected_power_law(L, y, dy, omega: float) -> tuple[Fit, float]:
    from scipy.optimize import curve_fit

    if len(L) < 4:
        raise InvalidValue("--fss-omega", omega, f"a fit with >= 4 sizes ({len(L)} fitted): A, the exponent "
                           "and the correction amplitude need a degree of freedom")

    def model(logL, logA, b, c):
        return logA + b * logL + np.log1p(c * np.exp(-omega * logL))

    start = np.polyfit(np.log(L), np.log(y), 1)
    p, cov = curve_fit(model, np.log(L), np.log(y), p0=[start[1], start[0], 0.0], sigma=dy / y,
                       absolute_sigma=True)
    resid = ((np.log(y) - model(np.log(L), *p)) / (dy / y)) ** 2
    return Fit(float(p[1]), float(np.sqrt(cov[1, 1])), float(resid.sum() / max(len(L) - 3, 1))), float(np.exp(p[0]))


def critical_temperature(L, beta_star, dbeta, nu: float) -> Fit:
    """``beta*(L) = beta_c + a L^(-1/nu)``: Tc = 1 / beta_c with its error."""
    x = np.asarray(L, dtype=np.float64) ** (-1.0 / nu)
    coef, cov = np.polyfit(x, beta_star, 1, w=1.0 / np.asarray(dbeta), cov="unscaled")
    resid = ((beta_star - np.polyval(coef, x)) / dbeta) ** 2
    bc, dbc = coef[1], np.sqrt(cov[1, 1])
    return Fit(float(1.0 / bc), float(dbc / bc**2), float(resid.sum() / max(len(L) - 2, 1)))


def fitted(sizes, min_size: float) -> np.ndarray:
    """Which ``sizes`` the fit uses, ``(n_sizes,)`` bool; an InvalidValue unless >= 3."""
    sizes = np.asarray(sizes, dtype=np.float64)
    if (sizes >= min_size).sum() < 3:
        raise InvalidValue("--fss-min-size", min_size, f"at most {np.sort(sizes)[-3]:g}, the third-largest "
                          "size (a finite-size scaling fit needs >= 3 sizes)")
    return sizes >= min_size


def fss_fit(sizes, peak_tables: list[dict], min_size: float = 0.0, omega: float | None = None) -> dict:
    """nu (from d ln<|m|>/d beta and d ln<m^2>/d beta peaks, the mean of the
    two), gamma/nu (chi' peaks) and Tc (chi' peak positions), each a :class:`Fit`,
    from the sizes ``L >= min_size`` (corrections to scaling grow at small L),
    the peak heights with a correction ``(1 + c L^-omega)`` when ``omega`` is given.

    Raises:
        InvalidValue: fewer than 3 sizes are ``>= min_size``.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    keep = fitted(sizes, min_size)
    sizes = sizes[keep]
    peak_tables = [t for t, k in zip(peak_tables, keep) if k]

    def column(name, attr):
        return np.array([getattr(t[name], attr) for t in peak_tables])

    inv_nu = [power_law(sizes, column(n, "height"), column(n, "height_error"), omega)[0] for n in ("dlnm", "dlnm2")]
    nus = [Fit(1.0 / f.value, f.error / f.value**2, f.chi2_dof) for f in inv_nu]
    nu = Fit(float(np.mean([f.value for f in nus])), float(max(f.error for f in nus)),
             float(np.mean([f.chi2_dof for f in nus])))
    gamma_nu = power_law(sizes, column("chi", "height"), column("chi", "height_error"), omega)[0]
    tc = critical_temperature(sizes, column("chi", "beta"), column("chi", "beta_error"), nu.value)
    return {"nu": nu, "nu_dlnm": nus[0], "nu_dlnm2": nus[1], "gamma_over_nu": gamma_nu, "Tc": tc}


def system_runs(system, discard: int = 0) -> tuple[list[dict], np.ndarray]:
    """Every chain of one system of a run file as a :class:`Reweighting` run:
    ``(runs, betas)``."""
    n = system.n_sites
    energy, mag = system.streams["energy"][discard:], system.streams["magnetization"][discard:]
    runs = [ising_series(energy[:, c] * n, mag[:, c]) for c in range(len(system.temperature))]
    return runs, 1.0 / np.asarray(system.temperature, dtype=np.float64)


def linear_size(system) -> float:
    """``L`` of a system: ``(prod size)^(1/d)``."""
    return float(np.prod(system.attrs["size"])) ** (1.0 / len(system.attrs["size"]))


def analyze_fss(path, discard: int = 0, points: int = 161, plots=None, min_size: float = 0.0,
                omega: float | None = None) -> dict:
    """Peaks of every size of a run file (multiple histogram over all its
    chains) and the :func:`fss_fit` of the sizes ``>= min_size``; PNG plots in
    ``plots`` when given."""
    from physbreak.io import read_run

    _, systems = read_run(path)
    return fss_of_sizes({linear_size(s): (*system_runs(s, discard), s.n_sites) for s in systems},
                        f"{str(path)!r}", points, plots, min_size, omega)


def fss_of_sizes(per_size: dict, source: str, points: int = 161, plots=None, min_size: float = 0.0,
                 omega: float | None = None) -> dict:
    """:func:`analyze_fss` of ``{L: (runs, betas, n_sites)}`` (``source`` names
    the data in errors): per size one multiple histogram over all its runs.

    Raises:
        InvalidValue: fewer than 3 sizes, or a ``min_size`` leaving fewer.
    """
    from tqdm.auto import tqdm

    if len(per_size) < 3:
        raise InvalidValue("--fss", f"{source} with {len(per_size)} sizes",
                          "data with >= 3 sizes (a finite-size scaling fit needs >= 3)")
    sizes = sorted(per_size)
    used = fitted(sizes, min_size)  # a bad min_size fails before the reweighting
    tables, curves = [], []
    for L in tqdm(sizes, desc="reweighting", unit="size", disable=None, leave=False):
        runs, betas, n_sites = per_size[L]
        rw = Reweighting(runs, betas)
        grid = covered_grid(rw, runs, betas, points)
        try:
            tables.append(peaks(rw, n_sites, grid))
        except InvalidValue as exc:
            raise InvalidValue("temperatures", f"size L = {L:g}: {exc.value}", exc.allowed) from None
        curves.append((grid, observables(rw.averages(grid), grid, n_sites)))
    fit = fss_fit(sizes, tables, min_size, omega)
    result = {"sizes": sizes, "peaks": tables, "fit": fit, "fitted": used.tolist()}
    if plots is not None:
        result["plots"] = _plot(plots, sizes, tables, curves, fit, result["fitted"])
    return result


COVERAGE = 0.005  # energy quantiles that bound the sampled range, each side
MIN_EFFECTIVE = 0.1  # effective samples, as a fraction of the mean run length


def covered_grid(rw: Reweighting, runs: list[dict], betas, points: int) -> np.ndarray:
    """``points`` inverse temperatures the runs cover: the sampled betas
    widened by up to ``1 / sigma_E`` on each side, cut where the reweighted
    mean energy leaves the energy range the runs sampled (the
    :data:`COVERAGE` and ``1 - COVERAGE`` quantiles of their samples) or the
    averages rest on fewer effective samples than :data:`MIN_EFFECTIVE` of a
    run (:meth:`Reweighting.effective_samples`).  Beyond it the reweighted
    averages rest on a few extreme samples."""
    energies = np.concatenate([r["E"] for r in runs])
    lo, hi = np.quantile(energies, [COVERAGE, 1.0 - COVERAGE])
    spread = max(float(np.std(r["E"])) for r in runs)
    wide = np.linspace(betas.min() - 1.0 / spread, betas.max() + 1.0 / spread, 4 * points)
    mean = rw.averages(wide)["E"]
    inside = (mean >= lo) & (mean <= hi) & (rw.effective_samples(wide) >= MIN_EFFECTIVE * len(energies) / len(runs))
    inside |= (wide >= betas.min()) & (wide <= betas.max())  # the sampled range itself always counts
    k = np.flatnonzero(inside)
    return np.linspace(wide[k[0]], wide[k[-1]], points)


def _plot(folder, sizes, tables, curves, fit, fitted) -> list[str]:

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = plot_folder(folder)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for L, (grid, obs) in zip(sizes, curves):
        a.plot(1.0 / grid, obs["chi"], label=f"L = {L:g}")
    a.set(xlabel="T", ylabel="chi' (reweighted)", yscale="log")
    a.legend()
    L, used = np.asarray(sizes), np.asarray(fitted)
    for name, label, exponent in (("chi", "chi' peak", fit["gamma_over_nu"].value),
                                  ("dlnm", "d ln<|m|>/d beta peak", 1.0 / fit["nu_dlnm"].value)):
        y = np.array([t[name].height for t in tables])
        dy = np.array([t[name].height_error for t in tables])
        points = b.errorbar(L[used], y[used], dy[used], fmt="o", label=f"{label}: slope {exponent:.3f}")
        if not used.all():  # sizes left out of the fit: open markers
            b.errorbar(L[~used], y[~used], dy[~used], fmt="o", mfc="none", color=points[0].get_color())
        b.plot(L, y[-1] * (L / L[-1]) ** exponent, "--", color="grey")
    title = "finite-size scaling" + ("" if used.all() else f" (fit: L >= {L[used].min():g}, open: not fitted)")
    b.set(xlabel="L", xscale="log", yscale="log", title=title)
    b.legend()
    fig.tight_layout()
    path = folder / "fss.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [str(path)]


def format_fss(result: dict) -> str:
    lines = [f"{'L':>5} {'T*(chi)':>16} {'chi peak':>18} {'dln|m|/dbeta peak':>20}"]
    for L, t, fitted in zip(result["sizes"], result["peaks"], result["fitted"]):
        c, d = t["chi"], t["dlnm"]
        lines.append(f"{L:5g} {1 / c.beta:9.5f}({c.beta_error / c.beta**2 * 1e5:4.0f}e-5) "
                     f"{c.height:10.3f} +- {c.height_error:5.3f} {d.height:12.3f} +- {d.height_error:5.3f}"
                     + ("" if fitted else "   (not fitted)"))
    f = result["fit"]
    lines += ["", f"nu        = {f['nu'].value:.4f} +- {f['nu'].error:.4f}  (d ln<|m|>: {f['nu_dlnm'].value:.4f}, "
              f"d ln<m^2>: {f['nu_dlnm2'].value:.4f}; chi2/dof {f['nu'].chi2_dof:.2f})",
              f"gamma/nu  = {f['gamma_over_nu'].value:.4f} +- {f['gamma_over_nu'].error:.4f}  "
              f"(chi2/dof {f['gamma_over_nu'].chi2_dof:.2f})",
              f"Tc        = {f['Tc'].value:.5f} +- {f['Tc'].error:.5f}  (from chi' peak positions)"]
    return "\n".join(lines)
