import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _deterministic_threads():
    torch.set_num_threads(2)
    yield


def run_chains(model, sampler, n_therm, n_samples, seed=0, ordered=False):
    """Thermalise and sample; returns (energy per spin, magnetisation vectors),
    shapes (n_samples, n_chains) and (n_samples, n_chains, n_components)."""
    n_chains = len(sampler.beta)
    state = model.initial_state(n_chains, torch.Generator().manual_seed(seed), ordered=ordered)
    for _ in range(n_therm):
        sampler.sweep(state, adapt=True)
    e, m = [], []
    for _ in range(n_samples):
        sampler.sweep(state)
        e.append((model.energy(state) / model.n_sites).numpy())
        m.append(model.magnetization(state).numpy())
    return np.array(e), np.array(m)
