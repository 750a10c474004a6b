"""Wolff single-cluster updates (CPU, numba), one generator per chain.

* Ising and O(n): the embedding of Wolff (PRL 62, 361, 1989): pick a random
  unit vector ``r`` (for Ising ``r = 1``), grow a cluster over bonds with
  probability ``1 - exp(min(0, -2 beta J (S_i.r)(S_j.r)))`` and reflect it,
  ``S -> S - 2 (S.r) r``.
* Potts: grow over equal-state neighbours with probability
  ``1 - exp(-beta J)`` and move the cluster to another random state.

One call of :meth:`Wolff.sweep` builds a fixed number of clusters per chain,
tuned during thermalisation so that they flip about ``n_sites`` spins (one
sweep-equivalent), and returns the work done in sweeps.  The number is frozen
while sampling: a stopping rule that depends on the cluster sizes ("grow
until N spins flipped") would bias the measurements.  Valid for zero field
only (and ``J >= 0`` for Potts).
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from physbreak.errors import InvalidValue
from physbreak.mc.rng import normal, randint, seed_states, uniform
from physbreak.systems import Ising, ONModel, Potts, SpinModel


@numba.njit(parallel=True, cache=True)
def _on_sweeps(spins, nbr, jn, beta, rng, n_clusters):
    """spins: (C, N, n) float; nbr, jn: (N, z); beta: (C,); rng: (C, 4) uint64;
    n_clusters: (C,) clusters to build.  Returns flipped spins per chain (C,)."""
    n_chains, n_sites, n = spins.shape
    flipped = np.zeros(n_chains, dtype=np.int64)
    for c in numba.prange(n_chains):
        s = spins[c]
        state = rng[c]
        in_cluster = np.zeros(n_sites, dtype=np.int64)
        stack = np.empty(n_sites, dtype=np.int64)
        proj = np.empty(n_sites, dtype=s.dtype)
        r = np.ones(n, dtype=s.dtype)
        for label in range(1, n_clusters[c] + 1):
            if n > 1:
                norm = 0.0
                for a in range(n):
                    r[a] = normal(state)
                    norm += r[a] * r[a]
                for a in range(n):
                    r[a] /= np.sqrt(norm)
            seed = randint(state, n_sites)
            top = 0
            stack[top] = seed
            top += 1
            in_cluster[seed] = label
            while top > 0:
                top -= 1
                i = stack[top]
                p_i = 0.0
                for a in range(n):
                    p_i += s[i, a] * r[a]
                proj[i] = p_i
                for a in range(n):
                    s[i, a] -= 2.0 * p_i * r[a]
                flipped[c] += 1
                for k in range(nbr.shape[1]):
                    j = nbr[i, k]
                    if in_cluster[j] == label or jn[i, k] == 0.0:
                        continue
                    p_j = 0.0
                    for a in range(n):
                        p_j += s[j, a] * r[a]
                    x = 2.0 * beta[c] * jn[i, k] * p_i * p_j
                    if x > 0.0 and uniform(state) < 1.0 - np.exp(-x):
                        in_cluster[j] = label
                        stack[top] = j
                        top += 1
    return flipped


@numba.njit(parallel=True, cache=True)
def _potts_sweeps(spins, q, nbr, jn, beta, rng, n_clusters):
    """spins: (C, N) int64 states; otherwise as :func:`_on_sweeps`."""
    n_chains, n_sites = spins.shape
    flipped = np.zeros(n_chains, dtype=np.int64)
    for c in numba.prange(n_chains):
        s = spins[c]
        state = rng[c]
        in_cluster = np.zeros(n_sites, dtype=np.int64)
        stack = np.empty(n_sites, dtype=np.int64)
        for label in range(1, n_clusters[c] + 1):
            seed = randint(state, n_sites)
            old = s[seed]
            new = (old + 1 + randint(state, q - 1)) % q
            top = 0
            stack[top] = seed
            top += 1
            in_cluster[seed] = label
            while top > 0:
                top -= 1
                i = stack[top]
                s[i] = new
                flipped[c] += 1
                for k in range(nbr.shape[1]):
                    j = nbr[i, k]
                    if in_cluster[j] == label or s[j] != old or jn[i, k] <= 0.0:
                        continue
                    if uniform(state) < 1.0 - np.exp(-beta[c] * jn[i, k]):
                        in_cluster[j] = label
                        stack[top] = j
                        top += 1
    return flipped


class Wolff:
    """Wolff cluster sampler over a batch of chains.

    Args:
        model: an :class:`Ising`, :class:`Potts` or :class:`ONModel` on CPU, zero field.
        temperatures: ``(n_chains,)`` temperatures, units of J/k_B.
        seed_sequence: seeds the per-chain generators.
    """

    def __init__(self, model: SpinModel, temperatures, seed_sequence: np.random.SeedSequence):
        if model.device.type != "cpu":
            raise InvalidValue("device", str(model.device), "'cpu' for Wolff updates (algorithm 'wolff')")
        if model.has_field:
            raise InvalidValue("h", "nonzero", "0 for Wolff updates (algorithm 'wolff'; "
                              "use 'metropolis' in a field)")
        if isinstance(model, Potts) and np.any(model.neighbor_J_np < 0):
            raise InvalidValue("J", "negative", "J >= 0 for Wolff on the Potts model")
        if not isinstance(model, (Ising, Potts, ONModel)):
            raise InvalidValue("model", type(model).__name__, "ising, potts, xy or heisenberg")
        self.model = model
        self.beta = 1.0 / np.asarray(temperatures, dtype=np.float64)
        self.rng = seed_states(seed_sequence, len(self.beta))
        self.clusters = np.ones(len(self.beta), dtype=np.int64)
        self.mean_cluster = np.zeros(len(self.beta))

    def sweep(self, state: torch.Tensor, adapt: bool = False) -> torch.Tensor:
        """Build ``self.clusters`` clusters per chain in place; return the work
        done per chain, in sweeps ``(n_chains,)``.  With ``adapt`` (thermalisation
        only) the number of clusters is retuned to one sweep-equivalent."""
        m = self.model
        spins = state.numpy()
        if isinstance(m, Potts):
            flipped = _potts_sweeps(spins, m.q, m.neighbors_np, m.neighbor_J_np, self.beta,
                                    self.rng, self.clusters)
        else:
            if spins.ndim == 2:
                spins = spins[..., None]
            flipped = _on_sweeps(spins, m.neighbors_np, m.neighbor_J_np, self.beta, self.rng,
                                 self.clusters)
        if adapt:
            size = flipped / self.clusters
            first = self.mean_cluster == 0
            self.mean_cluster = np.where(first, size, 0.9 * self.mean_cluster + 0.1 * size)
            self.clusters = np.maximum(1, np.rint(m.n_sites / self.mean_cluster)).astype(np.int64)
        return torch.as_tensor(flipped / m.n_sites)

    def get_state(self) -> dict:
        return {"xoshiro": self.rng.copy(), "clusters": self.clusters.copy(),
                "mean_cluster": self.mean_cluster.copy()}

    def set_state(self, saved: dict):
        self.rng[...] = saved["xoshiro"]
        self.clusters = np.asarray(saved["clusters"], dtype=np.int64)
        self.mean_cluster = np.asarray(saved["mean_cluster"], dtype=np.float64)
