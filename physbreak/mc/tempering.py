"""Parallel tempering (replica exchange) for Ising Hamiltonians on any graph (numba, CPU).

``H(s) = -sum_b J_b s_i s_j - sum_i h_i s_i``: spin glasses (Edwards-Anderson
+-J or Gaussian), frustrated magnets, anything :func:`~physbreak.lattice.neighbour_table`
describes.  One replica per temperature; each
round is a sequential Metropolis sweep of every replica followed by exchange
attempts between neighbouring temperatures (even pairs, then odd pairs on the
next round), accepted with ``min(1, exp((beta_k - beta_k+1)(E_k - E_k+1)))``
(Hukushima & Nemoto 1996).  The lowest energy ever visited and its
configuration are kept: the ground-state search.

:meth:`ParallelTempering.adapt` tunes the temperature set (ends fixed) until
the exchange acceptance is the same for every pair: gaps in ``beta`` shrink
where acceptance is low and grow where it is high.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.lattice import neighbour_table
from physbreak.mc.rng import seed_states, uniform


@numba.njit(cache=True)
def _energy(s, nbr, jn, h):
    e = 0.0
    for i in range(s.shape[0]):
        local = 0.0
        for k in range(nbr.shape[1]):
            local += jn[i, k] * s[nbr[i, k]]
        e -= s[i] * (0.5 * local + h[i])
    return e


@numba.njit(cache=True)
def _sweep(s, nbr, jn, h, beta, state):
    """One sequential Metropolis sweep in place; returns the energy change."""
    change = 0.0
    for i in range(s.shape[0]):
        local = h[i]
        for k in range(nbr.shape[1]):
            local += jn[i, k] * s[nbr[i, k]]
        dE = 2.0 * s[i] * local
        if dE <= 0.0 or uniform(state) < np.exp(-beta * dE):
            s[i] = -s[i]
            change += dE
    return change


@numba.njit(cache=True)
def _rounds(spins, energy, slot, betas, nbr, jn, h, state, n_rounds, parity, accepted, attempted, best, best_state):
    """spins: (R, N) int8, replica r; energy: (R,); slot: (R,) replica at temperature k."""
    R = spins.shape[0]
    for t in range(n_rounds):
        for k in range(R):
            r = slot[k]
            energy[r] += _sweep(spins[r], nbr, jn, h, betas[k], state)
            if energy[r] < best[0] - 1e-9:
                best[0] = energy[r]
                best_state[:] = spins[r]
        for k in range((parity + t) & 1, R - 1, 2):
            a, b = slot[k], slot[k + 1]
            delta = (betas[k] - betas[k + 1]) * (energy[a] - energy[b])
            attempted[k] += 1
            if delta >= 0.0 or uniform(state) < np.exp(delta):
                slot[k], slot[k + 1] = b, a
                accepted[k] += 1
    return parity + n_rounds


class ParallelTempering:
    """Replica exchange over ``temperatures`` for one Hamiltonian.

    Args:
        n: spins; bonds: ``(n_bonds, 2)``; J: ``(n_bonds,)``; h: ``(n,)`` or None;
        temperatures: ``(R,)`` increasing (J/k_B), R >= 2; seed_sequence.
    """

    def __init__(self, n: int, bonds, J, temperatures, seed_sequence: np.random.SeedSequence, h=None):
        temperatures = np.asarray(temperatures, dtype=np.float64)
        if temperatures.ndim != 1 or len(temperatures) < 2 or np.any(np.diff(temperatures) <= 0) \
                or temperatures[0] <= 0:
            raise ValueError(f"temperatures {temperatures.tolist()}: at least two, positive and increasing")
        self.nbr, self.jn = neighbour_table(n, np.asarray(bonds), np.asarray(J, dtype=np.float64))
        self.h = np.zeros(n) if h is None else np.asarray(h, dtype=np.float64)
        self.betas = 1.0 / temperatures
        R = len(temperatures)
        start, gen = seed_sequence.spawn(2)
        self.state = seed_states(gen, 1)[0]
        self.spins = np.random.default_rng(start).choice(np.array([-1, 1], np.int8), (R, n))
        self.energy = np.array([_energy(s, self.nbr, self.jn, self.h) for s in self.spins])
        self.slot = np.arange(R)
        self.best_energy = np.array([np.inf])
        self.best_state = self.spins[0].copy()
        self.parity = 0
        self.reset_counts()

    @property
    def temperatures(self) -> np.ndarray:
        return 1.0 / self.betas

    def reset_counts(self):
        self.accepted = np.zeros(len(self.betas) - 1, np.int64)
        self.attempted = np.zeros(len(self.betas) - 1, np.int64)

    @property
    def acceptance(self) -> np.ndarray:
        """Exchange acceptance of each neighbouring pair since the last reset ``(R - 1,)``."""
        return self.accepted / np.maximum(self.attempted, 1)

    def run(self, rounds: int):
        """``rounds`` sweeps of every replica, each followed by exchange attempts."""
        self.parity = _rounds(self.spins, self.energy, self.slot, self.betas, self.nbr, self.jn, self.h,
                              self.state, rounds, self.parity, self.accepted, self.attempted,
                              self.best_energy, self.best_state)

    def adapt(self, iterations: int = 20, rounds: int = 200, damping: float = 0.5):
        """Retune the temperatures (ends fixed) towards equal exchange acceptance:
        each gap in beta is scaled by ``((A_k + 0.01) / mean(A + 0.01)) ** damping``
        and the gaps renormalised to the same total."""
        for _ in range(iterations):
            self.reset_counts()
            self.run(rounds)
            a = self.acceptance + 0.01
            gaps = -np.diff(self.betas) * (a / a.mean()) ** damping
            gaps *= (self.betas[0] - self.betas[-1]) / gaps.sum()
            self.betas = self.betas[0] - np.concatenate([[0.0], np.cumsum(gaps)])
        self.reset_counts()

    def energies_by_temperature(self) -> np.ndarray:
        """Current energies ``(R,)`` ordered by temperature."""
        return self.energy[self.slot]


def ground_state(n: int, bonds, J, h=None, temperatures=None, rounds: int = 20000, seed: int = 0,
                 adapt: bool = True) -> tuple[float, np.ndarray]:
    """``(lowest energy, its configuration (n,) int8)`` found by parallel tempering
    (default: 16 temperatures geometric in [0.2, 1.6], tuned by :meth:`~ParallelTempering.adapt`)."""
    temps = np.geomspace(0.2, 1.6, 16) if temperatures is None else temperatures
    pt = ParallelTempering(n, bonds, J, temps, np.random.SeedSequence(seed), h=h)
    if adapt:
        pt.adapt()
    pt.run(rounds)
    return float(pt.best_energy[0]), pt.best_state.copy()
