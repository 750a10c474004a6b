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


def potts_2d_tc(q: int) -> float:
    """Critical temperature of the 2D square-lattice q-state Potts model, ``1/ln(1+sqrt q)``."""
    return float(1.0 / np.log(1.0 + np.sqrt(q)))


def spin_wave_energy(T: float, n: int, dim: int) -> float:
    """Low-temperature energy per spin of the O(n) model on the hypercubic lattice
    to first order in T: ``-dim + (n - 1) T / 2`` (equipartition over the n - 1
    transverse modes); corrections are O(T^2)."""
    return -dim + (n - 1) * T / 2.0
