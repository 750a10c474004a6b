"""Free energy and entropy per spin against temperature, from the multiple
histogram of one system's runs, anchored at infinite temperature.

The multiple histogram (:class:`~physbreak.analysis.reweighting.Reweighting`)
gives ``ln Z(beta)`` up to one constant.  At beta = 0 every configuration has
the same weight, ``ln Z = N ln g`` (``g``: the states of one spin, or the
area of its sphere for continuous spins) and ``<E> = N e_inf``; from there
to the hottest run ``d ln Z / d beta = -<E>`` is integrated by the trapezoid
rule, exact when ``<E>`` is linear in beta (its leading high-temperature
behaviour, ``e_inf - beta var_inf``).  Then per spin

    f = -ln Z / (beta N),    s = ln Z / N + beta e,

with jackknife errors (each jackknife sample re-solves ``ln Z_k`` and
re-anchors).  At the coldest run ``s`` estimates the residual entropy when
the excitations are frozen out there.  The anchor needs a hottest run with
``beta |e - e_inf|`` small: its size is reported (``physbreak analyze``
reports no entropy above :data:`MAX_ANCHOR`); the chain of runs needs overlapping energy histograms
from the hottest run to the coldest (the effective samples between runs are
checked: :data:`MIN_OVERLAP`).
"""

from __future__ import annotations

import numpy as np

from physbreak.analysis.reweighting import Reweighting
from physbreak.errors import InvalidValue

MAX_ANCHOR = 0.02  # beta |e - e_inf| of the hottest run: the trapezoid's reach
MIN_OVERLAP = 20.0  # effective samples midway between neighbouring runs


def entropy(system, discard: int = 0, points: int = 101) -> dict:
    """Free energy and entropy per spin of one system of a run file.

    Returns:
        ``{"T": (G,), "f", "f_err", "s", "s_err", "e": (G,) each, "residual",
        "residual_err", "T_min", "anchor", "warnings"}``; ``T`` spans the
        sampled temperatures (log-spaced).

    Raises:
        InvalidValue: the file has no infinite-temperature anchor (written
        before it was stored) or fewer than two temperatures.
    """
    if "log_states_per_spin" not in system.attrs:
        raise InvalidValue("FILE", system.name, "a run file written by this version of physbreak simulate "
                           "(it stores the infinite-temperature anchor of the entropy): run it again")
    n = system.n_sites
    log_g, e_inf = float(system.attrs["log_states_per_spin"]), float(system.attrs["infinite_t_energy"])
    betas = 1.0 / np.asarray(system.temperature, dtype=np.float64)
    if len(np.unique(betas)) < 2:
        raise InvalidValue("temperatures", f"system {system.name}: one temperature",
                           "runs from a high temperature down to the range of interest")
    E = system.streams["energy"][discard:] * n
    rw = Reweighting([{"E": E[:, c]} for c in range(E.shape[1])], betas)
    hot = betas.min()
    T = np.geomspace(1.0 / betas.max(), 1.0 / hot, points)
    grid = np.append(1.0 / T, hot)

    def fn(av):
        e = av["E"] / n
        log_z0 = n * log_g - hot * 0.5 * (e_inf + e[-1]) * n  # trapezoid from beta = 0 to the hottest run
        log_z = (av["log_Z"] - av["log_Z"][-1] + log_z0)[:-1] / n
        return np.concatenate([-log_z / grid[:-1], log_z + grid[:-1] * e[:-1], e[:-1]])

    value, error = rw.estimate(fn, grid)
    G = len(T)
    e_hot = float(rw.averages([hot])["E"][0]) / n
    anchor = hot * abs(e_hot - e_inf)
    warnings = []
    sampled = np.unique(betas)
    mid = 0.5 * (sampled[:-1] + sampled[1:])
    thin = mid[rw.effective_samples(mid) < MIN_OVERLAP]
    if thin.size:
        warnings.append(f"{system.name}: the energy histograms of neighbouring runs barely overlap near T = "
                        + ", ".join(f"{1 / b:.3g}" for b in thin) + ": add temperatures there")
    return {"T": T, "f": value[:G], "f_err": error[:G], "s": value[G:2 * G], "s_err": error[G:2 * G],
            "e": value[2 * G:], "residual": float(value[G]), "residual_err": float(error[G]),
            "T_min": float(T[0]), "anchor": anchor, "warnings": warnings}
