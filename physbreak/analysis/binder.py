"""Critical temperature from the crossings of the Binder cumulant U4(T) of
pairs of sizes.

For each pair the difference ``U_a(T) - U_b(T)`` is fitted locally around its
sign change (see :func:`crossing`); the error comes from repeating this for
every jackknife sample.  The
estimate of Tc is the crossing of the two largest sizes; the spread of the
crossings of smaller pairs shows the finite-size drift.
"""

from __future__ import annotations

import numpy as np

from physbreak.analysis.stats import jackknife_error


def crossing(T: np.ndarray, ua: np.ndarray, ub: np.ndarray, window: int = 2) -> float:
    """Temperature where ``ua(T) = ub(T)``, nan if the curves do not cross
    inside the grid.

    The difference is fitted by a quadratic through the ``window`` grid points
    on either side of its first sign change (a straight line when only two
    points exist); a local fit keeps the smooth part of U4 near Tc and ignores
    the steep tails far from it.
    """
    d = ua - ub
    change = np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))
    if change.size == 0:
        return float("nan")
    k = int(change[0])
    lo, hi = max(0, k - window + 1), min(len(T), k + window + 1)
    t, y = T[lo:hi], d[lo:hi]
    poly = np.polynomial.Polynomial.fit(t, y, min(2, len(t) - 1))
    roots = poly.roots()
    real = roots[np.abs(roots.imag) < 1e-12].real
    real = real[(real >= T[k]) & (real <= T[k + 1])]
    if real.size == 0:  # fall back to the straight line between the bracketing points
        return float(T[k] - d[k] * (T[k + 1] - T[k]) / (d[k + 1] - d[k]))
    return float(real[0])


def binder_crossings(rows: list[dict]) -> dict:
    """Crossings of U4 between consecutive sizes, and Tc from the largest pair.

    Args:
        rows: the output of :func:`~physbreak.analysis.observables.thermodynamics`
            for three or more systems (same temperature grid).

    Returns:
        ``{"pairs": [{"sizes", "tc", "tc_err"}], "tc", "tc_err"}``; ``tc`` is None
        when the curves do not cross inside the grid (``tc_err`` is None when
        a jackknife sample does not cross).
    """
    by_system: dict[str, list[dict]] = {}
    for r in rows:
        by_system.setdefault(r["system"], []).append(r)
    systems = sorted(by_system, key=lambda s: by_system[s][0]["n_sites"])
    pairs = []
    for a, b in zip(systems[:-1], systems[1:]):
        ra = sorted(by_system[a], key=lambda r: r["temperature"])
        rb = sorted(by_system[b], key=lambda r: r["temperature"])
        T = np.array([r["temperature"] for r in ra])
        if not np.allclose(T, [r["temperature"] for r in rb]):
            continue
        ua, ub = (np.array([r["binder"] for r in rs]) for rs in (ra, rb))
        tc = crossing(T, ua, ub)
        ja, jb = (np.stack([r["binder_jk"] for r in rs], axis=1) for rs in (ra, rb))
        jk = np.array([crossing(T, x, y) for x, y in zip(ja, jb)])
        err = jackknife_error(jk) if np.all(np.isfinite(jk)) else None
        pairs.append({"sizes": [ra[0]["size"], rb[0]["size"]],
                      "tc": tc if np.isfinite(tc) else None, "tc_err": err})
    last = pairs[-1] if pairs else {"tc": None, "tc_err": None}
    return {"pairs": pairs, "tc": last["tc"], "tc_err": last["tc_err"]}
