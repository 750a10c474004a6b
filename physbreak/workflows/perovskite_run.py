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

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch
from tqdm.auto import tqdm

from physbreak.config import Section, check_device, device_of, fields, positive_number, read_toml
from physbreak.io.hdf5 import create_file
from physbreak.errors import ConfigError
from physbreak.systems.perovskite import GPA, EffectiveHamiltonian, load_parameters
from physbreak.dynamics.langevin import Langevin


KIND = "perovskite_md"


@dataclass(frozen=True)
class PerovskiteRunConfig:
    seed: int
    output: str
    device: str
    material: str
    size: int
    pressure_gpa: float | None
    replicas: int
    high: float
    low: float
    step: float
    equilibration_steps: int
    samples: int
    sample_every: int
    dt: float
    friction: float
    strain_friction: float
    text: str = ""

    @property
    def temperatures(self) -> np.ndarray:
        """``(n_stages, 2 replicas)`` K: cooling replicas first, then heating."""
        cool = np.arange(self.high, self.low - 1e-9, -self.step)
        return np.concatenate([np.repeat(cool[:, None], self.replicas, 1),
                               np.repeat(cool[::-1, None], self.replicas, 1)], 1)


def _positive(sec: Section, key: str, default: float) -> float:
    return positive_number(sec.get(key, default), f"{sec.name}.{key}" if sec.name else key)


def parse(text: str) -> PerovskiteRunConfig:
    raw = read_toml(text)
    top = Section(raw, "", ("kind", "size"), ("seed", "output", "device", "material", "pressure_gpa",
                                               "replicas", "schedule", "dynamics"))
    if top.get("kind") != "perovskite":
        raise ConfigError("kind", top.get("kind"), "'perovskite'")
    device = device_of(top)
    material = str(top.get("material", "BaTiO3_ZVR1995"))
    with fields({}):  # a clear error for an unknown material, before anything is written
        load_parameters(material)
    pressure = top.get("pressure_gpa", None)
    if pressure is not None and (isinstance(pressure, bool) or not isinstance(pressure, (int, float))):
        raise ConfigError("pressure_gpa", pressure, "a number (GPa)")
    sch = Section(top.subtable("schedule", {}), "schedule", (),
                  ("high", "low", "step", "equilibration_steps", "samples", "sample_every"))
    dyn = Section(top.subtable("dynamics", {}), "dynamics", (), ("dt", "friction", "strain_friction"))
    high, low = _positive(sch, "high", 380.0), _positive(sch, "low", 100.0)
    if low >= high:
        raise ConfigError("schedule.low", low, f"a temperature below schedule.high = {high}")
    return PerovskiteRunConfig(
        top.integer("seed", 0, minimum=0), str(top.get("output", "perovskite.h5")), device, material,
        top.integer("size", 12, minimum=2), None if pressure is None else float(pressure),
        top.integer("replicas", 1, minimum=1), high, low, _positive(sch, "step", 10.0),
        sch.integer("equilibration_steps", 3000, minimum=0), sch.integer("samples", 100, minimum=1),
        sch.integer("sample_every", 20, minimum=1), _positive(dyn, "dt", 0.002),
        _positive(dyn, "friction", 10.0), _positive(dyn, "strain_friction", 1.0), text)


def is_perovskite_config(text: str) -> bool:
    try:
        return read_toml(text).get("kind") == "perovskite"
    except ConfigError:
        return False


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
    check_device(cfg.device)
    with fields({"L": "size"}):
        params = load_parameters(cfg.material)
        ham = EffectiveHamiltonian(params, cfg.size, cfg.pressure_gpa, cfg.device)
    gen = torch.Generator(device=ham.device).manual_seed(cfg.seed)
    md = Langevin(ham, cfg.dt, (cfg.friction, cfg.strain_friction), generator=gen)
    temps = cfg.temperatures
    if path.exists() and not resume:
        raise ConfigError("output", str(path), "a new file (it exists; pass --resume to continue it)")
    if path.exists():
        f = h5py.File(path, "r+")
        if f.attrs.get("kind") != KIND or f.attrs.get("config") != cfg.text:
            f.close()
            raise ConfigError("--resume", str(path), "a file written by this same config")
        g = f["checkpoint"]
        state = {k: torch.as_tensor(g[k][()], device=ham.device) for k in ("u", "eta", "vu", "veta")}
        gen.set_state(torch.as_tensor(g["rng"][()]))
        done = int(f.attrs["stages_done"])
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
