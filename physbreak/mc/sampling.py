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

from physbreak.mc.compiled import kt_columns, kt_totals, model_tables, totals


def observed_totals(model, state: torch.Tensor) -> np.ndarray:
    """Per chain ``(C, 1 + 2n + kt_columns)``: total energy (J), magnetisation
    vector and staggered magnetisation vector (sums over sites), then for O(n)
    models the helicity sums and vortex count of :func:`~physbreak.mc.compiled.kt_sums`."""
    tables = model.__dict__.get("_compiled_tables")
    if tables is None:
        tables = model._compiled_tables = model_tables(model)
    if state.device.type == "cpu":
        x = state.numpy()
        base = totals(x, tables["nbr"], tables["jn"], tables["field"], tables["sign"], tables["vectors"])
        return np.concatenate([base, kt_totals(x, tables)], 1) if x.ndim == 3 else base
    n = model.n_sites
    parts = [model.energy(state)[:, None], model.magnetization(state) * n]
    staggered = model.staggered_magnetization(state)
    parts.append(torch.zeros_like(parts[1]) if staggered is None else staggered * n)
    if state.ndim == 3 and kt_columns(tables):
        parts.append(_kt_torch(state, tables))
    return torch.cat(parts, 1).cpu().numpy()


def _kt_torch(x: torch.Tensor, tables) -> torch.Tensor:
    """:func:`~physbreak.mc.compiled.kt_sums` on the state's device ``(C, kt_columns)``."""
    dev = x.device
    nbr = torch.as_tensor(tables["nbr"], device=dev, dtype=torch.long)
    J = torch.as_tensor(tables["jn"], device=dev) * 0.5
    proj = torch.as_tensor(tables["proj"], device=dev)
    xi, xj = x[:, :, None, :2], x[:, nbr, :2]  # (C, N, 1, 2), (C, N, z, 2)
    c = (xi * xj).sum(-1) * J
    sn = (xi[..., 0] * xj[..., 1] - xi[..., 1] * xj[..., 0]) * J
    sums = torch.stack([torch.einsum("cnz,nza->ca", c, proj**2), torch.einsum("cnz,nza->ca", sn, proj)], -1)
    parts = [sums.reshape(len(x), -1)]
    if tables["plaq"].shape[0]:
        theta = torch.atan2(x[..., 1], x[..., 0])
        plaq = torch.as_tensor(tables["plaq"], device=dev)
        dt = theta[:, plaq.roll(-1, 1)] - theta[:, plaq]
        w = (dt - 2 * torch.pi * torch.round(dt / (2 * torch.pi))).sum(-1)
        parts.append(torch.round(w / (2 * torch.pi)).abs().sum(1, keepdim=True))
    return torch.cat(parts, 1)


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


def stream_shapes(model, n_chains: int) -> dict:
    """The per-sample shape ``(n_chains, ...)`` of every stream :func:`streams` gives."""
    n = model.n_components
    shapes = {"energy": (n_chains,), "magnetization": (n_chains, n), "abs_magnetization": (n_chains,),
              "work": (n_chains,)}
    if model.lattice.sublattice_sign is not None:
        shapes["staggered_magnetization"] = (n_chains, n)
    tables = model_tables(model) if n > 1 else None
    if tables is not None and tables["proj"].shape[2]:
        shapes["helicity"] = (n_chains, tables["proj"].shape[2], 2)
    if tables is not None and tables["plaq"].shape[0]:
        shapes["vortex_density"] = (n_chains,)
    return shapes


def streams(model, totals: np.ndarray, work: np.ndarray) -> dict:
    """The stored streams ``{name: (n_samples, C, ...)}`` float64 of a block:
    energy per spin, magnetisation per spin (vector and norm), staggered
    magnetisation per spin on bipartite lattices, work in sweeps; for O(n)
    models on lattices with a geometry the helicity sums ``(n_samples, C, d, 2)``
    (per axis: the twist's second and first energy derivative, totals in J) and
    for XY on square and triangular lattices the vortex density (vortices plus
    antivortices per site)."""
    n, N = model.n_components, model.n_sites
    m = totals[..., 1:1 + n] / N
    out = {"energy": totals[..., 0] / N, "magnetization": m, "abs_magnetization": np.linalg.norm(m, axis=-1),
           "work": work}
    if model.lattice.sublattice_sign is not None:
        out["staggered_magnetization"] = totals[..., 1 + n:1 + 2 * n] / N
    extra = totals[..., 1 + 2 * n:]
    if extra.shape[-1] >= 2:
        d = extra.shape[-1] // 2
        out["helicity"] = extra[..., :2 * d].reshape(extra.shape[:-1] + (d, 2))
    if extra.shape[-1] % 2:
        out["vortex_density"] = extra[..., -1] / N
    return out
