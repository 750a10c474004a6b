"""Thermodynamic observables of a run, per system and temperature, with errors.

For the order parameter ``m`` (per spin; the magnetisation, or the staggered
one for antiferromagnets) and energy per spin ``e``, with N sites::

    chi = N (<m^2> - <|m|>^2) / T        susceptibility
    C   = N (<e^2> - <e>^2) / T^2        specific heat per spin
    U4  = 1 - <m^4> / (3 <m^2>^2)        Binder cumulant

Means carry binning errors; chi, C and U4 carry jackknife errors over bins of
at least 4 tau_int.  Replicas at one temperature are pooled.
"""

from __future__ import annotations

import numpy as np

from physbreak.analysis.stats import (bin_length_for, bin_means, estimate, jackknife_error,
                                      jackknife_samples)
from physbreak.errors import InvalidValue
from physbreak.io import SystemData

N_GROUPS = 20  # jackknife groups, shared by every (system, temperature)


def order_parameter(system: SystemData, which: str = "auto") -> np.ndarray:
    """Order-parameter vectors ``(n_samples, n_chains, n_components)``.

    ``which``: ``"magnetization"``, ``"staggered"`` or ``"auto"``: for runs stored with
    ``sampler.modes = true``, the dominant irrep's order parameter
    (:func:`~physbreak.analysis.order_modes.order_vectors`); otherwise staggered when
    the stored config is antiferromagnetic on a bipartite lattice.
    """
    afm = bool(system.attrs.get("antiferromagnetic", False))
    if which == "auto" and "modes" in system.streams:
        from physbreak.analysis.order_modes import order_vectors

        return order_vectors(system)
    if which == "auto":
        which = "staggered" if afm else "magnetization"
    if which not in ("magnetization", "staggered"):
        raise InvalidValue("order", which, "auto, magnetization or staggered")
    if which == "staggered" and not afm:
        raise InvalidValue("order", which, f"auto or magnetization for system {system.name}: it is not an "
                           "antiferromagnet on a bipartite lattice, so the staggered magnetisation is not "
                           "its order parameter")
    key = "staggered_magnetization" if which == "staggered" else "magnetization"
    if key not in system.streams:
        raise InvalidValue("order", which, f"an order parameter stored for system {system.name}")
    return system.streams[key]


def thermodynamics(system: SystemData, which: str = "auto", discard: int = 0) -> list[dict]:
    """One row per temperature: means, errors, tau_int, and jackknife values
    of U4 (key ``binder_jk``, ``(N_GROUPS,)``) for crossing analyses.

    Args:
        discard: samples dropped from the start of every chain (extra thermalisation).
    """
    N = system.n_sites
    e_all = system.streams["energy"][discard:]
    m_vec = order_parameter(system, which)[discard:]
    m_all = np.linalg.norm(m_vec, axis=-1)
    work = system.streams["work"][discard:]
    rows = []
    for T in np.unique(system.temperature):
        chains = np.flatnonzero(system.temperature == T)
        e, m = e_all[:, chains], m_all[:, chains]
        e_est, m_est = estimate(e), estimate(m)
        b = min(bin_length_for(max(e_est.tau, m_est.tau)), max(1, len(e) // N_GROUPS))
        series = [bin_means(x, b).ravel() for x in (e, e**2, m, m**2, m**4)]
        chi, chi_jk = jackknife_samples(lambda e1, e2, m1, m2, m4: N * (m2 - m1**2) / T, series, N_GROUPS)
        c, c_jk = jackknife_samples(lambda e1, e2, m1, m2, m4: N * (e2 - e1**2) / T**2, series, N_GROUPS)
        u, u_jk = jackknife_samples(lambda e1, e2, m1, m2, m4: 1 - m4 / (3 * m2**2), series, N_GROUPS)
        rows.append({
            "system": system.name, "size": [int(s) for s in system.attrs["size"]], "n_sites": N,
            "temperature": float(T), "n_samples": int(e.size),
            "energy": e_est.mean, "energy_err": e_est.error, "tau_energy": e_est.tau,
            "abs_m": m_est.mean, "abs_m_err": m_est.error, "tau_abs_m": m_est.tau,
            "susceptibility": chi, "susceptibility_err": jackknife_error(chi_jk),
            "specific_heat": c, "specific_heat_err": jackknife_error(c_jk),
            "binder": u, "binder_err": jackknife_error(u_jk), "binder_jk": u_jk,
            "work_per_sample": float(work[:, chains].mean()),
        })
    return rows
