"""Langevin dynamics of local modes ``u`` and homogeneous strain ``eta`` (NPT:
the strain is a dynamical variable under the Hamiltonian's pressure term).

BAOAB splitting (Leimkuhler & Matthews 2013) per replica at its own
temperature: half kick, half drift, exact Ornstein-Uhlenbeck step, half drift,
force, half kick.  Units: eV, Angstrom, amu, ps, K.
"""

from __future__ import annotations

import numpy as np
import torch

KB = 8.617333262e-5  # eV / K
EV = 9648.5332  # 1 eV in amu A^2 / ps^2


def mode_mass(params) -> float:
    """Mass of the local mode (amu): ``sum_k m_k xi_k^2`` over Ba, Ti, O_par and two O_perp."""
    from ase.data import atomic_masses, atomic_numbers

    m = {k: atomic_masses[atomic_numbers[k]] for k in ("Ba", "Ti", "O")}
    xi = params.xi
    return float(m["Ba"] * xi["Ba"] ** 2 + m["Ti"] * xi["Ti"] ** 2
                 + m["O"] * (xi["O_par"] ** 2 + 2 * xi["O_perp"] ** 2))


class Langevin:
    """BAOAB integrator for an :class:`~physbreak.systems.perovskite.EffectiveHamiltonian`.

    Args:
        ham: the Hamiltonian (its device and dtype are used).
        dt: time step (ps).
        friction: ``(modes, strain)`` friction rates (1/ps).
        strain_mass: fictitious mass of the strain per cell (amu A^2).
        generator: torch.Generator on the Hamiltonian's device.
    """

    def __init__(self, ham, dt: float = 0.002, friction=(10.0, 1.0), strain_mass: float = 200.0,
                 generator: torch.Generator | None = None):
        self.ham, self.dt = ham, dt
        self.m_u = mode_mass(ham.p)
        self.m_eta = strain_mass * ham.N
        self.c1 = [float(np.exp(-g * dt)) for g in friction]
        self.gen = generator

    def _noise(self, like):
        return torch.randn(like.shape, generator=self.gen, dtype=like.dtype, device=like.device)

    def step(self, state: dict, T: torch.Tensor, n: int = 1) -> dict:
        """Advance ``state`` (``u, eta, vu, veta``, and the cached forces ``fu, feta``)
        by ``n`` steps at temperatures ``T`` (batch,) K, in place; returns it."""
        u, eta, vu, veta = state["u"], state["eta"], state["vu"], state["veta"]
        if "fu" not in state:
            _, state["fu"], state["feta"] = self.ham.energy_forces(u, eta)
        h = 0.5 * self.dt
        kT = (KB * T).to(u.dtype)
        su = torch.sqrt(kT * EV / self.m_u * (1 - self.c1[0] ** 2))[:, None, None, None, None]
        se = torch.sqrt(kT * EV / self.m_eta * (1 - self.c1[1] ** 2))[:, None]
        for _ in range(n):
            vu += h * EV / self.m_u * state["fu"]
            veta += h * EV / self.m_eta * state["feta"]
            u += h * vu
            eta += h * veta
            vu.mul_(self.c1[0]).add_(su * self._noise(vu))
            veta.mul_(self.c1[1]).add_(se * self._noise(veta))
            u += h * vu
            eta += h * veta
            _, state["fu"], state["feta"] = self.ham.energy_forces(u, eta)
            vu += h * EV / self.m_u * state["fu"]
            veta += h * EV / self.m_eta * state["feta"]
        return state

    def kinetic_temperature(self, state) -> torch.Tensor:
        """Instantaneous temperature of the local modes (batch,) K."""
        ke = 0.5 * self.m_u * (state["vu"] ** 2).sum((1, 2, 3, 4)) / EV
        return 2 * ke / (3 * self.ham.N * KB)
