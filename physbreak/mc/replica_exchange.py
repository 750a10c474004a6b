"""Replica exchange (parallel tempering) on top of any Metropolis kernel, for ``physbreak simulate``.

``sampler.algorithm = "tempering"``: the chains of a system are
``temperatures x replicas``; after every sweep of every chain, configurations
are exchanged between neighbouring temperatures of the same replica (even
pairs, then odd pairs on the next sweep) with probability
``min(1, exp((beta_t - beta_t+1)(E_t - E_t+1)))``.  Chain ``k`` stays at its
temperature, so each stored stream is a time series at one temperature.  Works
for every spin model the Metropolis kernels run (Ising, Potts, XY,
Heisenberg, spin glasses).  The exchange generator (xoshiro256**) is part of
the checkpoint, so runs resume bit for bit.  Fixed temperatures; the adaptive
ladder is :class:`~physbreak.mc.tempering.ParallelTempering`.
"""

from __future__ import annotations

import numba
import numpy as np

from physbreak.errors import InvalidValue
from physbreak.mc.rng import seed_states, uniform
from physbreak.mc.sampling import observed_totals


@numba.njit(cache=True)
def _exchange(energy, beta, n_temps, replicas, parity, state, accepted):
    """Pairs to swap ``(n_pairs, 2)`` chain indices; ``energy``/``beta`` per chain,
    chain ``t * replicas + r``; updates ``energy`` and ``accepted`` ``(n_temps - 1,)``."""
    pairs = np.empty((n_temps * replicas, 2), np.int64)
    n = 0
    for t in range(parity, n_temps - 1, 2):
        for r in range(replicas):
            a, b = t * replicas + r, (t + 1) * replicas + r
            delta = (beta[a] - beta[b]) * (energy[a] - energy[b])
            if delta >= 0.0 or uniform(state) < np.exp(delta):
                pairs[n, 0], pairs[n, 1] = a, b
                energy[a], energy[b] = energy[b], energy[a]
                accepted[t] += 1
                n += 1
    return pairs[:n]


class ReplicaExchange:
    """Wraps a sampler with the Metropolis interface (``sweep``, ``get_state``,
    ``set_state``) over chains ordered temperature-major.

    Args:
        sampler: the per-chain kernel; model: its spin model;
        temperatures: ``(n_temps,)`` monotonic; replicas: chains per temperature;
        seed_sequence: seeds the exchange generator.
    """

    def __init__(self, sampler, model, temperatures, replicas: int, seed_sequence: np.random.SeedSequence):
        temps = np.asarray(temperatures, dtype=np.float64)
        steps = np.diff(temps)
        if len(temps) < 2 or not (np.all(steps > 0) or np.all(steps < 0)):
            raise InvalidValue("temperatures", temps.tolist(),
                              "at least two distinct temperatures in increasing or decreasing order "
                              "for replica exchange (algorithm 'tempering')")
        self.sampler, self.model = sampler, model
        self.n_temps, self.replicas = len(temps), replicas
        self.beta = np.repeat(1.0 / temps, replicas)
        self.rng = seed_states(seed_sequence, 1)
        self.parity = 0
        self.accepted = np.zeros(len(temps) - 1, np.int64)
        self.attempted = np.zeros(len(temps) - 1, np.int64)

    def resident(self, state):
        return self.sampler.resident(state) if hasattr(self.sampler, "resident") else state

    def sweep(self, state, adapt: bool = False):
        work = self.sampler.sweep(state, adapt)
        if hasattr(self.sampler, "energy"):
            energy = self.sampler.energy(state)  # the compiled kernels' running totals
        else:
            energy = observed_totals(self.model, state)[:, 0]
        pairs = _exchange(energy.copy(), self.beta, self.n_temps, self.replicas, self.parity, self.rng[0],
                          self.accepted)
        self.attempted[self.parity::2] += self.replicas
        self.parity ^= 1
        if len(pairs):
            a, b = pairs[:, 0], pairs[:, 1]
            rows_a, rows_b = state[a], state[b]  # fancy indexing copies (numpy and torch)
            state[a], state[b] = rows_b, rows_a
            if hasattr(self.sampler, "swap"):
                self.sampler.swap(pairs[:, 0], pairs[:, 1])
        return work

    @property
    def acceptance(self) -> np.ndarray:
        """Exchange acceptance per neighbouring temperature pair ``(n_temps - 1,)``."""
        return self.accepted / np.maximum(self.attempted, 1)

    def get_state(self) -> dict:
        return {**self.sampler.get_state(), "exchange_xoshiro": self.rng.copy(),
                "exchange_parity": np.array(self.parity)}

    def set_state(self, saved: dict):
        inner = {k: v for k, v in saved.items() if not k.startswith("exchange_")}
        self.sampler.set_state(inner)
        self.rng[...] = saved["exchange_xoshiro"]
        self.parity = int(saved["exchange_parity"])
