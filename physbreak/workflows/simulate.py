"""Run a Monte Carlo study from a :class:`~physbreak.config.RunConfig` into HDF5.

Every system size is one batch of chains (temperatures x replicas) in one
tensor.  The run checkpoints (samples, configuration, RNG state) every
``sampler.flush_seconds``; ``resume=True`` continues from the last checkpoint
and gives the same file as an uninterrupted run, bit for bit.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from physbreak import config as config_mod
from physbreak.config import RunConfig
from physbreak.errors import CorruptFileError, OutputExistsError, ResumeError
from physbreak.io import RunWriter, open_file
from physbreak.io.hdf5 import STREAMS
from physbreak.io.claims import claim
from physbreak.lazy import to_numpy, torch
from physbreak.resources import check_memory, use_threads
from physbreak.lattice import build
from physbreak.lattice.order import mode_basis
from physbreak.mc import Metropolis, SwendsenWang, Wolff, checkerboard, checkerboard_on, compiled, triton_ising
from physbreak.mc.sampling import (fourier_phases, mode_projections, overlap_pairs, overlaps, run_block,
                                   run_measured_block, stream_shapes,
                                   streams as sample_streams)
from physbreak.mc.replica_exchange import ReplicaExchange
from physbreak.systems import Ising, SpinModel, make_model


def system_name(size) -> str:
    """HDF5 group name of one size, e.g. ``L064`` or ``L016x008``."""
    return "L" + "x".join(f"{s:03d}" for s in size)


def build_model(cfg: RunConfig, size, index: int) -> SpinModel:
    """The Hamiltonian of system ``index`` (quenched disorder seeded per system)."""
    with config_mod.fields({"shell": "model.J"}, "lattice."):
        lattice = build(cfg.lattice.kind, size, cfg.lattice.periodic, n_shells=max(1, len(cfg.model.J)))
    J = cfg.model.J
    if cfg.model.disorder != "none":
        rng = np.random.default_rng([cfg.model.disorder_seed, index])
        n = len(lattice.bonds(1))
        draw = rng.choice([-1.0, 1.0], n) if cfg.model.disorder == "pm" else rng.standard_normal(n)
        J = J[0] * draw
    with config_mod.fields({"shell": "model.J"}, "model."):
        return make_model(cfg.model.kind, lattice, J, cfg.model.h, cfg.model.q, cfg.device)


def kernel_for(cfg: RunConfig, model) -> str:
    """The fastest kernel for the algorithm, model and device: Metropolis on the
    CPU runs compiled (``"checkerboard"``: the vectorised
    :mod:`physbreak.mc.checkerboard` for the nearest-neighbour Ising model on
    periodic square and cubic lattices of even sizes, ``"checkerboard_on"``:
    :mod:`physbreak.mc.checkerboard_on` for XY and Heisenberg there, ``"compiled"``:
    :mod:`physbreak.mc.compiled` for every other model and lattice), on CUDA
    the fused Triton kernel (``"triton"``, :mod:`physbreak.mc.triton_ising`) for the
    models it supports and torch (``"torch"``) for the rest; cluster algorithms
    run their own kernels."""
    if cfg.sampler.algorithm in ("wolff", "swendsen_wang"):
        return cfg.sampler.algorithm
    if model.device_type != "cpu":
        return "triton" if triton_ising.supports(model) else "torch"
    if checkerboard.supports(model):
        return "checkerboard"
    return "checkerboard_on" if checkerboard_on.supports(model) else "compiled"


SAMPLER_FIELDS = {"device": "device", "h": "model.h", "J": "model.J", "model": "model.kind",
                  "temperatures": "temperatures"}


def _sampler(cfg: RunConfig, model, temperatures, seeds):
    with config_mod.fields(SAMPLER_FIELDS, "sampler."):
        return _sampler_of(cfg, model, temperatures, seeds)


def _sampler_of(cfg: RunConfig, model, temperatures, seeds):
    if cfg.sampler.algorithm == "tempering":
        kernel_seeds, exchange_seeds = seeds.spawn(2)
        inner = _kernel(cfg, model, temperatures, kernel_seeds)
        return ReplicaExchange(inner, model, cfg.temperatures, cfg.sampler.replicas, exchange_seeds)
    return _kernel(cfg, model, temperatures, seeds)


def _kernel(cfg: RunConfig, model, temperatures, seeds):
    kernel = kernel_for(cfg, model)
    if kernel == "wolff":
        return Wolff(model, temperatures, seeds)
    if kernel == "swendsen_wang":
        return SwendsenWang(model, temperatures, seeds)
    if kernel == "checkerboard":
        return checkerboard.CompiledMetropolis(model, temperatures, seeds)
    if kernel == "checkerboard_on":
        return checkerboard_on.CompiledMetropolis(model, temperatures, seeds, step=cfg.sampler.step)
    if kernel == "compiled":
        return compiled.CompiledMetropolis(model, temperatures, seeds, step=cfg.sampler.step)
    if kernel == "triton":
        return triton_ising.TritonMetropolis(model, temperatures, seeds)
    return Metropolis(model, temperatures, seeds, step=cfg.sampler.step)


def simulate(cfg: RunConfig, out=None, resume: bool = False, progress: bool | None = None) -> Path:
    """Run every system of ``cfg`` into ``out`` (default ``cfg.output``).

    Raises:
        OutputExistsError: ``out`` exists and ``resume`` is False.
        ResumeError: resuming a file written from a different config.
    """
    out = Path(out or cfg.output)
    models = preflight(cfg)
    use_threads(cfg.threads)
    with claim(out):
        return _simulate(cfg, out, resume, progress, models)


def preflight(cfg: RunConfig) -> list[SpinModel]:
    """Everything that can refuse ``cfg``, before any file is touched: the device,
    the memory estimate, and every system's model and sampler."""
    config_mod.check_device(cfg.device)
    check_memory(run_memory(cfg), "this run")
    models = [build_model(cfg, size, k) for k, size in enumerate(cfg.lattice.sizes)]
    for model in models:
        _sampler(cfg, model, cfg.temperatures, np.random.SeedSequence(0))
    return models


def run_memory(cfg: RunConfig) -> int:
    """Bytes the largest system of ``cfg`` needs: states, neighbour tables, one sample row per stream."""
    chains = cfg.n_chains
    components = {"ising": 1, "potts": 1, "xy": 2, "heisenberg": 3}[cfg.model.kind]
    shells = max(1, len(cfg.model.J))
    largest = 0
    for size in cfg.lattice.sizes:
        per_cell = {"honeycomb": 2, "kagome": 3}.get(cfg.lattice.kind, 1)
        dim = {"chain": 1, "cubic": 3}.get(cfg.lattice.kind, 2)
        sites = per_cell * int(np.prod(size * dim if len(size) == 1 else size, dtype=np.float64))
        state = sites * chains * components * 4 * 3  # float32 state, proposal and workspace
        tables = sites * 12 * shells * 8 * 3  # neighbour indices, bonds and colour slots (int64)
        largest = max(largest, state + tables)
    return int(largest)


def _simulate(cfg: RunConfig, out: Path, resume: bool, progress, models: list[SpinModel]) -> Path:
    if resume and out.exists():
        _check_same_config(out, cfg)
    elif out.exists():
        raise OutputExistsError(f"--out = {str(out)!r} exists: pass --resume to continue it, "
                                "or choose another output file")
    else:
        resume = False
    writer = RunWriter(out, cfg.text, cfg.seed, resume=resume)
    s = cfg.sampler
    steps = s.thermalization + s.samples * s.sweeps_per_sample
    total = sum(m.n_sites for m in models) * steps
    bar = tqdm(total=total, unit="site-sweep", unit_scale=True, desc=out.name,
               disable=None if progress is None else not progress)
    complete = False
    try:
        for index, model in enumerate(models):
            _run_system(cfg, index, model, writer, bar)
        complete = True
    finally:
        bar.close()
        writer.close(complete=complete)
    return out


def _run_system(cfg: RunConfig, index: int, model: SpinModel, writer: RunWriter, bar):
    s = cfg.sampler
    temps = np.repeat(np.asarray(cfg.temperatures), s.replicas)
    replica = np.tile(np.arange(s.replicas), len(cfg.temperatures))
    pairs = overlap_pairs(temps, replica) if cfg.model.disorder != "none" and isinstance(model, Ising) else \
        np.zeros((0, 2), np.int64)
    phases = fourier_phases(model.lattice)
    reducers = {}
    if len(pairs):
        reducers["overlap"] = lambda st: overlaps(st, pairs, phases)
    modes = mode_basis(model.lattice)[0] if s.modes else None
    if modes is not None:
        reducers["modes"] = lambda st: mode_projections(model, st, modes)
    streams = stream_shapes(model, len(temps), len(pairs), 0 if modes is None else modes.shape[1])
    group = writer.system(system_name(model.lattice.size), {
        "lattice": cfg.lattice.kind, "size": np.asarray(model.lattice.size), "n_sites": model.n_sites,
        "periodic": cfg.lattice.periodic, "model": cfg.model.kind,
        "algorithm": s.algorithm, "kernel": kernel_for(cfg, model), "n_components": model.n_components,
        "antiferromagnetic": bool(cfg.model.J[0] < 0 and model.lattice.sublattice_sign is not None),
        **dict(zip(("log_states_per_spin", "infinite_t_energy"), model.infinite_temperature())),
        **({} if model.lattice.volume_per_site is None else {"volume_per_site": model.lattice.volume_per_site})},
        {"temperature": temps, "replica": replica}, streams, s.samples)
    steps_per_site = s.thermalization + s.samples * s.sweeps_per_sample
    if group.attrs["complete"]:
        bar.update(model.n_sites * steps_per_site)
        return
    seeds = np.random.SeedSequence(cfg.seed, spawn_key=(index,))
    init_seed, sampler_seed = seeds.spawn(2)
    sampler = _sampler(cfg, model, temps, sampler_seed)
    therm, done = int(group.attrs["thermalization_done"]), int(group.attrs["samples_done"])
    one = model.initial_array(1, np.random.default_rng(0), ordered=True)
    _check_counters(writer.path, group, therm, done, s, (len(temps),) + one.shape[1:])
    if "checkpoint" in group:
        state = resident(sampler, group["configuration"][:])
        _restore(writer.path, group, sampler)
    else:
        start = model.initial_array(len(temps), np.random.default_rng(init_seed), ordered=s.start == "ordered")
        state = resident(sampler, start)
    bar.update(model.n_sites * (therm + done * s.sweeps_per_sample))
    blocks = BlockSizer()
    last_flush = time.monotonic()

    def due():
        return time.monotonic() - last_flush >= s.flush_seconds

    while therm < s.thermalization:
        n = blocks.size(s.thermalization - therm)
        run_block(sampler, state, n, 1, adapt=True, measure=False)
        blocks.done(n)
        therm += n
        bar.update(model.n_sites * n)
        if due() or therm == s.thermalization:
            writer.checkpoint(group, {}, to_numpy(state), sampler.get_state(), therm)
            last_flush = time.monotonic()
    rows = []
    while done + sum(len(r["energy"]) for r in rows) < s.samples:
        pending = sum(len(r["energy"]) for r in rows)
        n = blocks.size(s.samples - done - pending)
        if reducers:
            rows.append(sample_streams(model, *run_measured_block(sampler, state, n, s.sweeps_per_sample, reducers)))
        else:
            rows.append(sample_streams(model, *run_block(sampler, state, n, s.sweeps_per_sample)))
        blocks.done(n)
        bar.update(model.n_sites * s.sweeps_per_sample * n)
        if due() or done + pending + n == s.samples:
            stacked = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
            writer.checkpoint(group, stacked, to_numpy(state), sampler.get_state(), therm)
            done += pending + n
            rows = []
            last_flush = time.monotonic()
    group.attrs["lowest_energy"] = float(group["energy"][:done].min())  # per spin, over every sample
    writer.finish_system(group)


def resident(sampler, state: np.ndarray):
    """``state`` in the form ``sampler`` keeps across sweeps: numpy arrays of compact
    dtypes for the compiled kernels, tensors on the device for torch ones."""
    if hasattr(sampler, "resident"):
        return sampler.resident(state)
    return torch.as_tensor(state, device=sampler.model.device).to(sampler.model.state_dtype)


def _restore(path, group, sampler):
    saved = {k: v[()] for k, v in group["checkpoint"].items()}
    try:
        sampler.set_state(saved)
    except (KeyError, ValueError) as e:
        raise ResumeError(f"--out = {str(path)!r}: system {group.name} was checkpointed by another kernel "
                          f"(sampler state {sorted(saved)}): resume it with the physbreak version that "
                          "wrote it, or start a new output file") from e


class BlockSizer:
    """Samples per compiled call: grown (at most 8x per call, from the time the
    last call took) until a call takes about :attr:`SECONDS`, so the Python
    loop, the progress bar and the flush check cost nothing against the
    sweeps.  Block sizes do not change the results."""

    SECONDS = 0.25

    def __init__(self):
        self.n, self.start = 1, time.perf_counter()

    def size(self, left: int) -> int:
        self.start = time.perf_counter()
        return max(1, min(self.n, left))

    def done(self, n: int):
        elapsed = time.perf_counter() - self.start
        if n == self.n and elapsed < self.SECONDS / 2:
            self.n = n * int(min(8.0, self.SECONDS / max(elapsed, 1e-9)))


def _check_counters(path, group, therm: int, done: int, s, state_shape: tuple):
    """A resumed system's counters and state must be those a run of this config can
    have written; a damaged file would otherwise resume into nonsense (or forever)."""
    ok = 0 <= therm <= s.thermalization and 0 <= done <= s.samples \
        and all(group[k].shape[0] >= done for k in STREAMS if k in group)
    if ok and "checkpoint" in group:
        ok = "configuration" in group and tuple(group["configuration"].shape) == tuple(state_shape)
    if not ok:
        raise CorruptFileError(f"FILE = {str(path)!r}: system {group.name} has counters or a state this config "
                               "cannot have written (the file is damaged): start a new output file")


def _check_same_config(path: Path, cfg: RunConfig):
    with open_file(path) as f:
        if f.attrs.get("kind") != "spin_mc":
            raise ResumeError(f"--out = {str(path)!r} is not a Monte Carlo run file: cannot resume it")
        stored = f.attrs["config"]
    old = config_mod.parse(stored)
    for section in ("lattice", "model", "sampler"):
        a, b = getattr(old, section), getattr(cfg, section)
        for key in a.__dataclass_fields__:
            if key != "flush_seconds" and getattr(a, key) != getattr(b, key):
                raise ResumeError(f"{section}.{key} = {getattr(b, key)!r} differs from "
                                  f"{getattr(a, key)!r} stored in {str(path)!r}: resume with the "
                                  "same config or write a new file")
    for key in ("temperatures", "seed", "device"):
        if getattr(old, key) != getattr(cfg, key):
            raise ResumeError(f"{key} = {getattr(cfg, key)!r} differs from {getattr(old, key)!r} "
                              f"stored in {str(path)!r}: resume with the same config or write a new file")
