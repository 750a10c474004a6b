"""Blocks of samples from any sampler, and the per-sample streams of a run.

Every sampler has ``sweep(state, adapt) -> work (C,)``; the compiled ones
(Metropolis, Wolff) also have ``run(state, n_samples, sweeps_per_sample,
adapt, measure) -> (totals, work)``, which sweeps and measures inside one
compiled call.  :func:`run_block` uses
``run`` where there is one and otherwise sweeps and measures the totals with
the compiled reducer (CPU) or torch (CUDA), so every sampler gives the same
streams.
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.mc.compiled import model_tables, totals


def observed_totals(model, state: torch.Tensor) -> np.ndarray:
    """Per chain ``(C, 1 + 2n)``: total energy (J), magnetisation vector and
    staggered magnetisation vector (sums over sites)."""
    if state.device.type == "cpu":
        tables = model.__dict__.get("_compiled_tables")
        if tables is None:
            tables = model._compiled_tables = model_tables(model)
        return totals(state.numpy(), tables["nbr"], tables["jn"], tables["field"], tables["sign"],
                      tables["vectors"])
    n = model.n_sites
    parts = [model.energy(state)[:, None], model.magnetization(state) * n]
    staggered = model.staggered_magnetization(state)
    parts.append(torch.zeros_like(parts[1]) if staggered is None else staggered * n)
    return torch.cat(parts, 1).cpu().numpy()


def run_block(sampler, state: torch.Tensor, n_samples: int, sweeps_per_sample: int = 1,
              adapt: bool = False, measure: bool = True):
    """``n_samples x sweeps_per_sample`` sweeps in place.  Returns ``(totals
    (n_samples, C, 1 + 2n) or None, work (n_samples, C) in sweeps)``."""
    if hasattr(sampler, "run"):
        return sampler.run(state, n_samples, sweeps_per_sample, adapt, measure)
    n_chains = state.shape[0]
    work = np.zeros((n_samples, n_chains))
    rows = []
    for t in range(n_samples):
        for _ in range(sweeps_per_sample):
            work[t] += sampler.sweep(state, adapt).cpu().numpy()
        if measure:
            rows.append(observed_totals(sampler.model, state))
    return (np.stack(rows) if measure else None), work


def streams(model, totals: np.ndarray, work: np.ndarray) -> dict:
    """The stored streams ``{name: (n_samples, C, ...)}`` float64 of a block:
    energy per spin, magnetisation per spin (vector and norm), staggered
    magnetisation per spin on bipartite lattices, work in sweeps."""
    n, N = model.n_components, model.n_sites
    m = totals[..., 1:1 + n] / N
    out = {"energy": totals[..., 0] / N, "magnetization": m, "abs_magnetization": np.linalg.norm(m, axis=-1),
           "work": work}
    if model.lattice.sublattice_sign is not None:
        out["staggered_magnetization"] = totals[..., 1 + n:] / N
    return out
