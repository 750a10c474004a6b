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

import numba
import numpy as np

from physbreak.lazy import is_tensor, to_numpy, torch
from physbreak.mc.compiled import kt_columns, kt_totals, model_tables, totals


def observed_totals(model, state) -> np.ndarray:
    """Per chain ``(C, 1 + 2n + kt_columns)``: total energy (J), magnetisation
    vector and staggered magnetisation vector (sums over sites), then for O(n)
    models the helicity sums and vortex count of :func:`~physbreak.mc.compiled.kt_sums`."""
    tables = model.__dict__.get("_compiled_tables")
    if tables is None:
        tables = model._compiled_tables = model_tables(model)
    if not _on_device(state):
        x = to_numpy(state)
        base = totals(x, tables["nbr"], tables["jn"], tables["field"], tables["sign"], tables["vectors"])
        return np.concatenate([base, kt_totals(x, tables)], 1) if x.ndim == 3 else base
    return device_totals(model, state).cpu().numpy()


def device_totals(model, state):
    """:func:`observed_totals` computed and kept on the state's (CUDA) device."""
    tables = model.__dict__.get("_compiled_tables")
    if tables is None:
        tables = model._compiled_tables = model_tables(model)
    n = model.n_sites
    parts = [model.energy(state)[:, None], model.magnetization(state) * n]
    staggered = model.staggered_magnetization(state)
    parts.append(torch.zeros_like(parts[1]) if staggered is None else staggered * n)
    if state.ndim == 3 and kt_columns(tables):
        parts.append(_kt_torch(state, tables))
    return torch.cat(parts, 1)


def _kt_torch(x, tables):
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


def _on_device(state) -> bool:
    """Whether ``state`` is a tensor on a CUDA device (measured there)."""
    return is_tensor(state) and state.device.type != "cpu"


def run_block(sampler, state, n_samples: int, sweeps_per_sample: int = 1,
              adapt: bool = False, measure: bool = True):
    """``n_samples x sweeps_per_sample`` sweeps in place on ``state`` (a numpy array
    for the compiled kernels, a tensor for torch ones).  Returns ``(totals
    (n_samples, C, 1 + 2n) or None, work (n_samples, C) in sweeps)``."""
    if hasattr(sampler, "run"):
        return sampler.run(state, n_samples, sweeps_per_sample, adapt, measure)
    n_chains = state.shape[0]
    on_device = _on_device(state)  # measure there; one copy to the host per block
    work = torch.zeros((n_samples, n_chains), device=state.device) if on_device else np.zeros((n_samples, n_chains))
    rows = []
    for t in range(n_samples):
        for _ in range(sweeps_per_sample):
            w = sampler.sweep(state, adapt)
            work[t] += w.to(state.device) if on_device else to_numpy(w)
        if measure:
            rows.append(device_totals(sampler.model, state) if on_device else observed_totals(sampler.model, state))
    if on_device:
        return (torch.stack(rows).cpu().numpy() if measure else None), work.cpu().numpy()
    return (np.stack(rows) if measure else None), work


def overlap_pairs(temperature: np.ndarray, replica: np.ndarray) -> np.ndarray:
    """``(P, 2)`` chain indices of the replica pairs whose overlap is measured:
    replicas ``2j`` and ``2j + 1`` at each temperature (an odd last one unpaired)."""
    pairs = []
    for T in dict.fromkeys(np.asarray(temperature).tolist()):
        chains = np.flatnonzero(temperature == T)
        chains = chains[np.argsort(replica[chains], kind="stable")]
        pairs += [(chains[k], chains[k + 1]) for k in range(0, len(chains) - 1, 2)]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def fourier_phases(lattice) -> np.ndarray:
    """``(d, 2, N)``: ``cos`` and ``sin`` of ``k_a . r_i`` for the smallest nonzero
    wave vector along each axis, ``k_a = 2 pi / L_a`` (periodic lattices; ``(0, 2, N)`` otherwise)."""
    if not lattice.periodic or lattice.vectors is None:
        return np.zeros((0, 2, lattice.n_sites))
    recip = 2 * np.pi * np.linalg.inv(lattice.vectors).T  # rows b_a with a_i . b_j = 2 pi delta_ij
    k = recip / np.asarray(lattice.size, dtype=float)[:, None]
    phase = lattice.positions @ k.T  # (N, d)
    return np.ascontiguousarray(np.stack([np.cos(phase.T), np.sin(phase.T)], 1))


@numba.njit(parallel=True, cache=True)
def _overlaps(s, pairs, phases, out):
    N = s.shape[1]
    for p in numba.prange(pairs.shape[0]):
        a, b = pairs[p, 0], pairs[p, 1]
        q = 0.0
        for i in range(N):
            q += np.float64(s[a, i] * s[b, i])
        k2 = 0.0
        for d in range(phases.shape[0]):
            re, im = 0.0, 0.0
            for i in range(N):
                x = np.float64(s[a, i] * s[b, i])
                re += x * phases[d, 0, i]
                im += x * phases[d, 1, i]
            k2 += re * re + im * im
        out[p, 0] = q / N
        out[p, 1] = k2 / max(phases.shape[0], 1) / (N * N)


def overlaps(state, pairs: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """``(P, 2)``: the overlap ``q = (1/N) sum_i s_i^a s_i^b`` of each pair of Ising
    chains and ``|q(k_min)|^2`` averaged over the axes of :func:`fourier_phases`."""
    out = np.zeros((len(pairs), 2))
    _overlaps(np.ascontiguousarray(to_numpy(state)), pairs, phases, out)
    return out


def mode_projections(model, state, basis: np.ndarray) -> np.ndarray:
    """``(C, M, n)``: each spin component's projection on the orthonormal site
    functions ``basis`` ``(N, M)`` float64, over ``sqrt(N)``: a state made of one
    function has norm 1 (:func:`~physbreak.lattice.order.mode_basis`)."""
    v = model.order_array(to_numpy(state))
    return np.einsum("cnk,nm->cmk", v, basis) / np.sqrt(model.n_sites)


def run_measured_block(sampler, state, n_samples: int, sweeps_per_sample: int, reducers: dict):
    """:func:`run_block` applying every reducer ``name -> f(state) -> array`` after each
    sample too: ``(totals, work, {name: (n_samples, ...)})``."""
    rows, works, out = [], [], {k: [] for k in reducers}
    for _ in range(n_samples):
        totals, work = run_block(sampler, state, 1, sweeps_per_sample)
        rows.append(totals[0])
        works.append(work[0])
        for k, f in reducers.items():
            out[k].append(f(state))
    return np.stack(rows), np.stack(works), {k: np.stack(v) for k, v in out.items()}


def stream_shapes(model, n_chains: int, n_pairs: int = 0, n_modes: int = 0) -> dict:
    """The per-sample shape ``(n_chains, ...)`` of every stream :func:`streams` gives
    (``n_pairs``: replica pairs with measured overlaps; ``n_modes``: site functions
    the spins are projected on)."""
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
    if n_pairs:
        shapes.update(overlap=(n_pairs,), overlap_k=(n_pairs,))
    if n_modes:
        shapes["modes"] = (n_chains, n_modes, n)
    return shapes


def streams(model, totals: np.ndarray, work: np.ndarray, measured: dict | None = None) -> dict:
    """The stored streams ``{name: (n_samples, C, ...)}`` float64 of a block:
    energy per spin, magnetisation per spin (vector and norm), staggered
    magnetisation per spin on bipartite lattices, work in sweeps; for O(n)
    models on lattices with a geometry the helicity sums ``(n_samples, C, d, 2)``
    (per axis: the twist's second and first energy derivative, totals in J) and
    for XY on square and triangular lattices the vortex density (vortices plus
    antivortices per site); from ``measured`` (:func:`run_measured_block`), the
    replica overlap ``q`` and ``|q(k_min)|^2`` per pair (``"overlap"`` ``(n_samples,
    P, 2)``, spin glasses) and the ``"modes"`` projections ``(n_samples, C, M, n)``."""
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
    measured = measured or {}
    if "overlap" in measured:
        out.update(overlap=measured["overlap"][..., 0], overlap_k=measured["overlap"][..., 1])
    if "modes" in measured:
        out["modes"] = measured["modes"]
    return out
