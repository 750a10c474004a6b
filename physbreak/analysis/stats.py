"""Error bars for correlated Monte Carlo time series.

* :func:`tau_int` — integrated autocorrelation time with Sokal's automatic
  window (the smallest W with W >= c * tau(W), c = 6).
* :func:`estimate` — mean, binning error (bins of at least 4 tau_int) and tau.
* :func:`jackknife` — mean and error of a nonlinear function of several
  means (susceptibility, Binder cumulant ...), over bins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation function ``rho(t)`` of a 1-d series (FFT)."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n]
    if acf[0] <= 0:
        return np.ones(1)
    return acf / acf[0]


def tau_int(x: np.ndarray, c: float = 6.0) -> float:
    """Integrated autocorrelation time ``1/2 + sum_t rho(t)``, in samples
    (1/2 for uncorrelated data; the variance of the mean is 2 tau var / n)."""
    rho = autocorrelation(x)
    if len(rho) < 2:
        return 0.5
    taus = 0.5 + np.cumsum(rho[1:])
    window = np.arange(1, len(rho))
    ok = window >= c * taus
    w = int(np.argmax(ok)) if ok.any() else len(taus) - 1
    return float(max(taus[w], 0.5))


@dataclass(frozen=True)
class Estimate:
    mean: float
    error: float
    tau: float  # integrated autocorrelation time, samples


def bin_means(x: np.ndarray, bin_length: int) -> np.ndarray:
    """Means of consecutive bins of ``bin_length`` samples along axis 0 (the
    incomplete tail bin is dropped)."""
    n = (len(x) // bin_length) * bin_length
    return x[:n].reshape((-1, bin_length) + x.shape[1:]).mean(axis=1)


def bin_length_for(tau: float) -> int:
    """Bins of at least 4 tau_int samples are effectively independent."""
    return max(1, int(np.ceil(4 * tau)))


MIN_CHAINS = 4  # independent chains for the spread of their means to bound the error


def estimate(x: np.ndarray) -> Estimate:
    """Mean of series ``x`` ``(n_samples,)`` or ``(n_samples, n_chains)`` (independent
    chains pooled), error from binning, and tau_int averaged over chains.

    With :data:`MIN_CHAINS` or more independent chains the error is the larger
    of the binning error and the spread of the chain means over ``sqrt(C)``:
    near a critical point a slow tail of the autocorrelation escapes the
    windowed tau_int, and binning then underestimates the error (3D Ising,
    L = 8 at Tc, Metropolis: by up to 1.8x against the spread of 16 chains)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    tau = float(np.mean([tau_int(x[:, k]) for k in range(x.shape[1])]))
    bins = bin_means(x, min(bin_length_for(tau), max(1, len(x) // 8))).ravel()
    err = float(bins.std(ddof=1) / np.sqrt(len(bins))) if len(bins) > 1 else float("nan")
    if x.shape[1] >= MIN_CHAINS:
        err = max(err, float(x.mean(0).std(ddof=1) / np.sqrt(x.shape[1])))
    return Estimate(float(x.mean()), err, tau)


def jackknife_samples(fn, series: list[np.ndarray], n_groups: int = 20) -> tuple[float, np.ndarray]:
    """``fn`` of the means of ``series`` (each ``(n_bins,)``, already binned), and its
    ``n_groups`` leave-one-group-out jackknife values."""
    n = min(len(s) for s in series)
    groups = np.array_split(np.arange(n), min(n_groups, n))
    full = fn(*[s[:n].mean() for s in series])
    jk = []
    for g in groups:
        keep = np.ones(n, bool)
        keep[g] = False
        jk.append(fn(*[s[:n][keep].mean() for s in series]))
    return float(full), np.asarray(jk)


def jackknife_error(jk: np.ndarray) -> float:
    """Standard error from leave-one-out jackknife values ``(n_groups, ...)``."""
    n = len(jk)
    return float(np.sqrt((n - 1) / n * np.sum((jk - jk.mean(0)) ** 2, axis=0)))
