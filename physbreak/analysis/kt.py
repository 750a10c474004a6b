"""Kosterlitz-Thouless analysis: helicity modulus, T_KT and vortex density.

Helicity modulus (spin stiffness) per unit area of an O(n) model, for a twist
of the spins' xy-plane angle along lattice axis ``a``, from the stored
helicity sums ``H_a = sum_<ij> J (r_ij.a)^2 (S_i.S_j)_xy`` and
``I_a = sum_<ij> J (r_ij.a) (S_i x S_j)_z``::

    Upsilon = (1 / d) sum_a (<H_a> - beta <I_a^2>) / (N v)

(``v``: area per site; ``<I_a> = 0`` by symmetry and is not subtracted).  In
the thermodynamic limit it jumps from ``2 T_KT / pi`` to 0 (Nelson &
Kosterlitz 1977).  At finite size the RG flow at ``T_KT`` gives

    Upsilon_L(T_KT) = (2 T_KT / pi) (1 + 1 / (2 ln L + C))

(Weber & Minnhagen 1988): T_KT is the temperature where this form, ``C``
free, fits all sizes best (the minimum over T of the fit's chi^2).  Each
size's curve ``Upsilon_L(T)`` comes from multiple-histogram reweighting of
its runs inside the sampled range; errors are jackknife over blocks of each
size (sizes are independent: variances add).  Each size's crossing
``T*(L)`` of ``Upsilon_L = 2T/pi`` is reported too; it tends to T_KT from
above, slowly (``~ 1 / ln^2 L``), so it is not T_KT itself.

Limits: the form drops higher orders in ``1 / ln L`` -- with sizes up to
L = 64 expect about 1 % systematic error (Hasenbusch 2005 needed L up to
2048 for 0.8929(1)); it needs three sizes or more for a meaningful chi^2,
and a temperature range that brackets T_KT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physbreak.analysis.binder import GRID_POINTS, roots
from physbreak.analysis.stats import estimate, jackknife_error

C_GRID = np.concatenate([np.linspace(0.02, 2.0, 100), np.geomspace(2.0, 200.0, 200)])  # 2 ln L_min + C
MAX_CHI2_DOF = 3.0


def has_helicity(system) -> bool:
    return "helicity" in system.streams


def _series(system, discard: int):
    """Per sample and chain ``(E, sum_a H_a, sum_a I_a^2)`` ``(S, C)`` each, and the
    normalisation ``d N v``."""
    h = system.streams["helicity"][discard:]  # (S, C, d, 2)
    d = h.shape[2]
    volume = float(system.attrs.get("volume_per_site", 1.0))
    return (system.streams["energy"][discard:] * system.n_sites, h[..., 0].sum(-1), (h[..., 1] ** 2).sum(-1),
            d * system.n_sites * volume)


def helicity_rows(system, discard: int = 0) -> list[dict]:
    """Per temperature: the helicity modulus and the vortex density with errors."""
    _, H, I2, norm = _series(system, discard)
    vortices = system.streams.get("vortex_density")
    rows = []
    for T in np.unique(system.temperature):
        chains = np.flatnonzero(system.temperature == T)
        y = estimate((H[:, chains] - I2[:, chains] / T) / norm)
        row = {"system": system.name, "size": [int(s) for s in system.attrs["size"]], "temperature": float(T),
               "helicity": y.mean, "helicity_err": y.error, "tau_helicity": y.tau}
        if vortices is not None:
            v = estimate(vortices[discard:, chains])
            row.update(vortex_density=v.mean, vortex_density_err=v.error)
        rows.append(row)
    return rows


@dataclass
class StiffnessCurve:
    """Upsilon of one size on a temperature grid: ``T`` ``(G,)``, ``value`` ``(G,)``,
    ``jk`` ``(J, G)`` jackknife curves, ``sampled`` the run temperatures."""

    label: str
    L: float
    T: np.ndarray
    value: np.ndarray
    jk: np.ndarray
    sampled: np.ndarray

    @property
    def error(self) -> np.ndarray:
        n = len(self.jk)
        return np.sqrt((n - 1) / n * np.sum((self.jk - self.jk.mean(0)) ** 2, axis=0))


def stiffness_curves(systems, discard: int = 0, points: int = GRID_POINTS) -> list[StiffnessCurve]:
    """One :class:`StiffnessCurve` per system: multiple histogram of its chains
    on ``points`` temperatures spanning the sampled ones."""
    from physbreak.analysis.reweighting import Reweighting

    curves = []
    for s in systems:
        E, H, I2, norm = _series(s, discard)
        sampled = np.unique(s.temperature)
        T = np.linspace(sampled[0], sampled[-1], points) if len(sampled) > 1 else sampled
        rw = Reweighting([{"E": E[:, c], "H": H[:, c], "I2": I2[:, c]} for c in range(E.shape[1])],
                         1.0 / np.asarray(s.temperature, float))
        value, jk = rw.jackknife(lambda av: (av["H"] - av["I2"] / T) / norm, 1.0 / T)
        size = [int(v) for v in s.attrs["size"]]
        curves.append(StiffnessCurve("x".join(map(str, size)), float(np.prod(size)) ** (1 / len(size)), T,
                                     value, jk, sampled))
    return sorted(curves, key=lambda c: c.L)


def _fit(T, L, values, sigma):
    """The Weber-Minnhagen fit at every grid temperature: ``(chi^2 (G,), C (G,))``
    minimised over :data:`C_GRID`.  ``values``, ``sigma`` ``(n_L, G)``."""
    a = 2.0 * T / np.pi  # (G,)
    C = C_GRID - 2.0 * np.log(L.min())  # 2 ln L + C > 0 for every size
    model = a[None, :, None] * (1.0 + 1.0 / (2.0 * np.log(L)[:, None, None] + C[None, None, :]))
    chi2 = (((values[:, :, None] - model) / sigma[:, :, None]) ** 2).sum(0)  # (G, n_C)
    best = chi2.argmin(1)
    return chi2[np.arange(len(T)), best], C[best]


def _minimum(T, chi2) -> float:
    """The grid minimum of ``chi2(T)`` refined by a parabola through its neighbours."""
    k = int(np.argmin(chi2))
    if 0 < k < len(T) - 1:
        y0, y1, y2 = chi2[k - 1:k + 2]
        den = y0 - 2.0 * y1 + y2
        if den > 0:
            return float(T[k] + 0.5 * (y0 - y2) / den * (T[k + 1] - T[k]))
    return float(T[k])


def kt_temperature(curves: list[StiffnessCurve]) -> dict:
    """T_KT from the Weber-Minnhagen fit over all sizes, with jackknife errors,
    and each size's crossing of ``Upsilon = 2T/pi``.

    Returns:
        ``{"T_kt", "T_kt_err", "C", "chi2_dof", "crossings": [{"size", "T", "T_err"}],
        "warnings"}``; ``T_kt`` is None with fewer than two sizes.
    """
    warnings = []
    crossings = []
    for c in curves:
        found = roots(c.T, c.value - 2.0 * c.T / np.pi)
        if not found.size:
            crossings.append({"size": c.label, "T": None, "T_err": None})
            continue
        jk = [roots(c.T, v - 2.0 * c.T / np.pi) for v in c.jk]
        ok = all(r.size for r in jk)
        crossings.append({"size": c.label, "T": float(found[0]),
                          "T_err": jackknife_error(np.array([r[0] for r in jk])) if ok else None})
    out = {"T_kt": None, "T_kt_err": None, "C": None, "chi2_dof": None, "crossings": crossings,
           "warnings": warnings}
    if len(curves) < 2:
        warnings.append("one size only: T_KT needs the helicity modulus of two or more sizes")
        return out
    lo, hi = max(c.T[0] for c in curves), min(c.T[-1] for c in curves)
    if lo >= hi:
        warnings.append("the sizes share no temperature range")
        return out
    T = np.linspace(lo, hi, GRID_POINTS)
    L = np.array([c.L for c in curves])
    values = np.stack([np.interp(T, c.T, c.value) for c in curves])
    sigma = np.stack([np.maximum(np.interp(T, c.T, c.error), 1e-12) for c in curves])
    chi2, C = _fit(T, L, values, sigma)
    t_kt = _minimum(T, chi2)
    var = 0.0
    for k, c in enumerate(curves):  # leave one block of one size out, the others fixed
        samples = []
        for v in c.jk:
            vals = values.copy()
            vals[k] = np.interp(T, c.T, v)
            samples.append(_minimum(T, _fit(T, L, vals, sigma)[0]))
        var += jackknife_error(np.array(samples)) ** 2
    dof = max(len(curves) - 1, 1)
    k = int(np.argmin(np.abs(T - t_kt)))
    out.update(T_kt=t_kt, T_kt_err=float(np.sqrt(var)), C=float(C[k]), chi2_dof=float(chi2[k] / dof))
    if len(curves) < 3:
        warnings.append("two sizes: the fit has one degree of freedom; use three or more sizes")
    if t_kt <= T[1] or t_kt >= T[-2]:
        warnings.append(f"T_KT = {t_kt:.4f} is at the edge of the common temperature range [{lo:.4f}, {hi:.4f}]: "
                        "add temperatures beyond it")
    if chi2[k] / dof > MAX_CHI2_DOF:
        warnings.append(f"the KT finite-size form fits poorly (chi2/dof = {chi2[k] / dof:.1f}): sizes too small, "
                        "runs too short, or not a KT transition")
    return out


def kt_analysis(systems, discard: int = 0) -> dict:
    """Per-temperature helicity rows, the curves and :func:`kt_temperature`."""
    rows = [r for s in systems for r in helicity_rows(s, discard)]
    several = [s for s in systems if len(np.unique(s.temperature)) >= 2]
    curves = stiffness_curves(several, discard) if several else []
    result = kt_temperature(curves) if curves else {"T_kt": None, "T_kt_err": None, "C": None, "chi2_dof": None,
                                                    "crossings": [], "warnings": ["one temperature per size"]}
    return {"rows": rows, "curves": curves, **result}
