"""Ground states of larger Ising systems by repeated simulated annealing.

Every restart is one chain of a batched :class:`~physbreak.mc.Metropolis`
sampler (colour-class updates on any graph), cooled geometrically from
``t_start`` to ``t_end`` and then quenched at zero temperature; the result
reports the best energy and how many independent restarts reached it.
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.groundstate.enumerate import GroundStates, energies
from physbreak.lattice import from_edges
from physbreak.mc import Metropolis
from physbreak.systems import Ising


def search_ground_states(n: int, bonds, J, h=None, restarts: int = 32, sweeps: int = 2000,
                         t_start: float = 3.0, t_end: float = 0.05, seed: int = 0,
                         cap: int = 256, tol: float = 1e-9) -> GroundStates:
    """Lowest states found by ``restarts`` independent annealing runs.

    ``degeneracy`` counts the distinct lowest states found (a lower bound);
    ``agreed`` the restarts that reached the lowest energy.
    """
    bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    J = np.asarray(J, dtype=np.float64)
    h = np.zeros(n) if h is None else np.asarray(h, dtype=np.float64)
    model = Ising(from_edges(n, bonds), J=J, h=h)
    sampler = Metropolis(model, np.full(restarts, t_start), np.random.SeedSequence(seed))
    state = model.initial_state(restarts, torch.Generator().manual_seed(seed))
    for t in np.geomspace(t_start, t_end, sweeps):
        sampler.beta.fill_(1.0 / t)
        sampler.sweep(state)
    sampler.beta.fill_(1e9)  # zero-temperature quench: only downhill moves
    for _ in range(20):
        sampler.sweep(state)
    s = state.numpy().astype(np.int8)
    e = energies(s, bonds, J, h)
    best = e.min()
    hit = e <= best + tol
    uniq = np.unique(s[hit], axis=0)
    return GroundStates(float(best), len(uniq), uniq[:cap], exact=False, restarts=restarts,
                        agreed=int(hit.sum()))
