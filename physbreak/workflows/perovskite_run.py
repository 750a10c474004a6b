"""``physbreak simulate`` for ``kind = "perovskite"`` configs: Langevin NPT runs
of the effective Hamiltonian along cooling and heating schedules, one HDF5 file.

Config::

    kind = "perovskite"
    seed = 1
    output = "batio3_phases.h5"
    device = "cpu"                 # or "cuda"
    material = "BaTiO3_ZVR1995"    # a shipped parameter file or a path to one
    size = 12                      # cells per edge
    # pressure_gpa = -4.8          # default: the material file's
    replicas = 2                   # independent replicas per direction
    [schedule]
    high = 380.0                   # K; cooling runs high -> low, heating low -> high
    low = 100.0
    step = 10.0
    equilibration_steps = 3000     # per temperature
    samples = 100                  # per temperature, every `sample_every` steps
    sample_every = 20
    [dynamics]
    dt = 0.002                     # ps
    friction = 10.0                # 1/ps, local modes
    strain_friction = 1.0          # 1/ps

Cooling replicas start from small random modes, heating replicas from the
rhombohedral state (u along [111]).  After every temperature the samples, the
time-averaged mode field and a checkpoint (fields, velocities, RNG) are
flushed; ``--resume`` continues from the last finished temperature and gives
the same numbers as an uninterrupted run.  Layout: ``docs/hdf5-schema.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from physbreak.config import check_device, fields
from physbreak.config.perovskite import PerovskiteRunConfig
from physbreak.config.perovskite import parse as parse_config
from physbreak.io.claims import claim
from physbreak.io.hdf5 import create_file, open_file
from physbreak.resources import check_memory
from physbreak.errors import ConfigError
from physbreak.systems.perovskite import GPA, EffectiveHamiltonian, load_parameters
from physbreak.dynamics.langevin import Langevin


KIND = "perovskite_md"


def parse(text: str) -> PerovskiteRunConfig:
    """A validated perovskite config; an unknown or malformed material file is refused here."""
    cfg = parse_config(text)
    with fields({}):  # a clear error for an unknown material, before anything is written
        load_parameters(cfg.material)
    return cfg


def _initial_state(cfg, ham, gen):
    R, L = 2 * cfg.replicas, cfg.size
    opts = {"dtype": ham.dtype, "device": ham.device}
    u = 0.01 * torch.randn((R, L, L, L, 3), generator=gen, **opts)
    u[cfg.replicas:] += 0.12 / np.sqrt(3)  # heating replicas start rhombohedral, u || [111]
    eta = torch.zeros((R, 6), **opts)
    return {"u": u, "eta": eta, "vu": torch.zeros_like(u), "veta": torch.zeros_like(eta)}


def _create(path: Path, cfg, temps, ham):
    R, L, S = temps.shape[1], cfg.size, cfg.samples
    n = len(temps)

    def build(f):
        f["temperature"] = temps
        f["direction"] = np.array([-1] * cfg.replicas + [1] * cfg.replicas, np.int8)
        for name, shape in (("polarization", (n, R, S, 3)), ("strain", (n, R, S, 6)), ("mode_rms", (n, R, S)),
                            ("mean_modes", (n, R, L, L, L, 3)), ("mean_strain", (n, R, 6))):
            f.create_dataset(name, shape, dtype="f8", fillvalue=np.nan, chunks=(1,) + shape[1:])

    return create_file(path, {"kind": KIND, "config": cfg.text, "seed": cfg.seed, "material": cfg.material,
                              "size": L, "pressure_gpa": ham.pressure / GPA, "stages_done": 0,
                              "complete": False, "lattice_constant": ham.p.a}, build)


def _checkpoint(f, state, gen):
    g = f.require_group("checkpoint")
    for k in ("u", "eta", "vu", "veta"):
        data = state[k].cpu().numpy()
        if k in g:
            g[k][...] = data
        else:
            g[k] = data
    rng = gen.get_state().numpy()
    if "rng" in g:
        del g["rng"]
    g["rng"] = rng


def run(cfg: PerovskiteRunConfig, out=None, resume: bool = False, progress: bool | None = None) -> Path:
    """Run (or continue) the schedule; returns the HDF5 path."""
    path = Path(out or cfg.output)
    preflight(cfg)
    with claim(path):
        return _run(cfg, path, resume, progress)


def preflight(cfg: PerovskiteRunConfig):
    """Everything that can refuse ``cfg`` before any file is touched: device and memory
    (the material file is read by :func:`parse`)."""
    check_device(cfg.device)
    cells = float(cfg.size) ** 3
    # per replica: modes, velocities, forces, time average, FFT workspace (float64 x 3); the q-space kernel
    check_memory(2 * cfg.replicas * cells * 3 * 8 * 12 + cells * 9 * 16 * 2, "this MD run")


def _run(cfg: PerovskiteRunConfig, path: Path, resume: bool, progress) -> Path:
    with fields({"L": "size"}):
        params = load_parameters(cfg.material)
        ham = EffectiveHamiltonian(params, cfg.size, cfg.pressure_gpa, cfg.device)
    gen = torch.Generator(device=ham.device).manual_seed(cfg.seed)
    md = Langevin(ham, cfg.dt, (cfg.friction, cfg.strain_friction), generator=gen)
    temps = cfg.temperatures
    if path.exists() and not resume:
        raise ConfigError("output", str(path), "a new file (it exists; pass --resume to continue it)")
    if path.exists():
        f = open_file(path, "r+")
        if f.attrs.get("kind") != KIND or f.attrs.get("config") != cfg.text or "checkpoint" not in f \
                or any(k not in f["checkpoint"] for k in ("u", "eta", "vu", "veta", "rng")):
            f.close()
            raise ConfigError("--resume", str(path), "a complete checkpointed file written by this same config")
        g = f["checkpoint"]
        state = {k: torch.as_tensor(g[k][()], device=ham.device) for k in ("u", "eta", "vu", "veta")}
        gen.set_state(torch.as_tensor(g["rng"][()]))
        done = int(f.attrs["stages_done"])
        if not 0 <= done <= len(temps) or tuple(state["u"].shape) != (2 * cfg.replicas,) + (cfg.size,) * 3 + (3,):
            f.close()
            raise ConfigError("--resume", str(path), "an undamaged file: its stage counter or checkpoint does not "
                              "fit this config")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = _create(path, cfg, temps, ham)
        state = _initial_state(cfg, ham, gen)
        _checkpoint(f, state, gen)
        f.flush()
        done = 0
    per_stage = cfg.equilibration_steps + cfg.samples * cfg.sample_every
    bar = tqdm(total=len(temps) * per_stage, initial=done * per_stage, unit="step", desc="perovskite MD",
               disable=None if progress is None else not progress)
    try:
        for k in range(done, len(temps)):
            T = torch.as_tensor(temps[k], dtype=ham.dtype, device=ham.device)
            md.step(state, T, cfg.equilibration_steps)
            bar.update(cfg.equilibration_steps)
            P, eta, rms = [], [], []
            mean_u = torch.zeros_like(state["u"])
            for _ in range(cfg.samples):
                md.step(state, T, cfg.sample_every)
                bar.update(cfg.sample_every)
                P.append(ham.polarization(state["u"], state["eta"]).cpu().numpy())
                eta.append(state["eta"].cpu().numpy().copy())
                rms.append(torch.sqrt((state["u"] ** 2).sum(-1).mean((1, 2, 3))).cpu().numpy())
                mean_u += state["u"] / cfg.samples
            if not np.isfinite(np.stack(P)).all():
                raise ConfigError("dynamics.dt", cfg.dt, f"a smaller time step: the dynamics diverged at "
                                  f"{float(temps[k][0]):g} K (non-finite polarisation); the finished "
                                  "temperatures are kept")
            f["polarization"][k] = np.stack(P, 1)
            f["strain"][k] = np.stack(eta, 1)
            f["mode_rms"][k] = np.stack(rms, 1)
            f["mean_modes"][k] = mean_u.cpu().numpy()
            f["mean_strain"][k] = np.stack(eta, 1).mean(1)
            _checkpoint(f, state, gen)
            f.attrs["stages_done"] = k + 1
            f.flush()
        f.attrs["complete"] = True
    finally:
        bar.close()
        f.close()
    return path
