"""Exact results the simulations are checked against (J = k_B = 1)."""

from __future__ import annotations

import numpy as np
from scipy.special import ellipk

ISING_2D_TC = 2.0 / np.log(1.0 + np.sqrt(2.0))


def onsager_energy(T: float) -> float:
    """Energy per spin of the infinite 2D square-lattice Ising model (Onsager 1944)."""
    b = 1.0 / T
    k = 2.0 * np.sinh(2 * b) / np.cosh(2 * b) ** 2
    # scipy's parameter m = k^2; at Tc K diverges logarithmically while its
    # prefactor vanishes linearly, so keep m just below 1
    K = ellipk(min(k**2, 1.0 - 1e-16))
    return float(-1.0 / np.tanh(2 * b) * (1 + 2 / np.pi * (2 * np.tanh(2 * b) ** 2 - 1) * K))


def yang_magnetization(T: float) -> float:
    """Spontaneous magnetisation of the 2D square-lattice Ising model (Yang 1952); 0 above Tc."""
    if T >= ISING_2D_TC:
        return 0.0
    return float((1.0 - np.sinh(2.0 / T) ** -4) ** 0.125)


def potts_2d_latent_heat(q: int) -> float:
    """Latent heat per spin of the 2D square-lattice q-state Potts model, q > 4
    (Baxter 1973): ``2 (1 + 1/sqrt q) tanh(theta/2) prod_n tanh^2(n theta)``,
    ``cosh theta = sqrt(q) / 2``; 0.696 at q = 10."""
    if q <= 4:
        return 0.0
    theta = np.arccosh(np.sqrt(q) / 2.0)
    n = np.arange(1, int(60 / theta) + 2)
    return float(2.0 * (1.0 + 1.0 / np.sqrt(q)) * np.tanh(theta / 2.0) * np.prod(np.tanh(n * theta) ** 2))


WANNIER_ENTROPY = 0.3230659669  # residual entropy per spin of the triangular Ising antiferromagnet (Wannier 1950)


def potts_2d_tc(q: int) -> float:
    """Critical temperature of the 2D square-lattice q-state Potts model, ``1/ln(1+sqrt q)``."""
    return float(1.0 / np.log(1.0 + np.sqrt(q)))


def spin_wave_energy(T: float, n: int, dim: int) -> float:
    """Low-temperature energy per spin of the O(n) model on the hypercubic lattice
    to first order in T: ``-dim + (n - 1) T / 2`` (equipartition over the n - 1
    transverse modes); corrections are O(T^2)."""
    return -dim + (n - 1) * T / 2.0


def _log_2cosh(x):
    x = np.abs(x)
    return x + np.log1p(np.exp(-2.0 * x))


def _log_2sinh(x):
    """``(log |2 sinh x|, sign)``."""
    a = np.abs(x)
    return a + np.log1p(-np.exp(-2.0 * a)), np.sign(x)


def ising_torus_log_z(L: int, K: float) -> float:
    """``ln Z`` of the ``L x L`` periodic square-lattice Ising model at coupling
    ``K = J / k_B T`` (Kaufman 1949: four products over the Onsager angles)."""
    c = np.cosh(2 * K) / np.tanh(2 * K) - np.cos(np.pi * np.arange(2 * L) / L)
    gamma = np.arccosh(np.maximum(c, 1.0))
    gamma[0] = 2 * K + np.log(np.tanh(K))  # signed
    odd, even = gamma[1::2], gamma[0::2]
    terms = [(np.sum(_log_2cosh(L * odd / 2)), 1.0), (np.sum(_log_2cosh(L * even / 2)), 1.0)]
    for g in (odd, even):
        logs, signs = _log_2sinh(L * g / 2)
        terms.append((np.sum(logs), np.prod(signs)))
    top = max(t for t, _ in terms)
    total = sum(s * np.exp(t - top) for t, s in terms)
    return float(np.log(0.5) + L * L / 2 * np.log(2 * np.sinh(2 * K)) + top + np.log(total))


def ising_torus_energy(L: int, T: float) -> float:
    """Exact energy per spin of the ``L x L`` periodic 2D Ising model (J = 1):
    ``-(1/N) d ln Z / d beta`` from :func:`ising_torus_log_z` by a central
    difference (step 1e-5: truncation ~1e-10, rounding ~1e-12 per spin)."""
    b, h = 1.0 / T, 1e-5
    return -(ising_torus_log_z(L, b + h) - ising_torus_log_z(L, b - h)) / (2 * h) / (L * L)
