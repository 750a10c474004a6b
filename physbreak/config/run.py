"""Spin Monte Carlo run configs (``physbreak simulate``): the schema and the
validated, frozen :class:`RunConfig` the workflows run.

See ``simulations/ising2d_critical.toml`` for a commented example; ``physbreak
schema run`` prints the JSON Schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from physbreak.config.base import Count, Device, Name, Schema, Seed, Steps, load_text, read_toml, rule, validate
from physbreak.lattice import KINDS as LATTICES
from physbreak.mc import ALGORITHMS
from physbreak.systems import MODELS

DISORDER = ("none", "pm", "gaussian")
Length = Annotated[int, Field(ge=1, le=100_000)]
Coupling = Annotated[float, Field(ge=-1e6, le=1e6)]
Threads = Annotated[int, Field(ge=0, le=4096, description="worker threads on the CPU, 0: every core; "
                               "the results do not depend on it")]


class LatticeTable(Schema):
    kind: Literal[LATTICES] = Field(description="the lattice")
    sizes: list[Length | Annotated[list[Length], Field(min_length=1, max_length=3)]] = Field(
        min_length=1, max_length=64, description="linear sizes, one per system: L or [Lx, Ly, ...]")
    periodic: bool = Field(True, description="periodic boundaries")


class ModelTable(Schema):
    kind: Literal[MODELS] = Field(description="the spin model")
    J: Coupling | Annotated[list[Coupling], Field(min_length=1, max_length=8)] = Field(
        1.0, description="coupling per bond shell in units of J, J > 0 ferromagnetic: a number or a non-empty list")
    h: Annotated[float, Field(ge=-1e6, le=1e6)] = Field(0.0, description="uniform field, units of J")
    q: Annotated[int, Field(ge=2, le=1024)] = Field(3, description="Potts states")
    disorder: Literal[DISORDER] = Field("none", description="'pm': J1 * (+-1) per bond; 'gaussian': J1 * N(0, 1)")
    disorder_seed: Seed = 0


class SamplerTable(Schema):
    algorithm: Literal[ALGORITHMS] = "metropolis"
    thermalization: Steps = Field(1000, description="sweeps before sampling")
    samples: Count = Field(1000, description="measurements per chain")
    sweeps_per_sample: Count = 1
    replicas: Annotated[int, Field(ge=1, le=100_000)] = Field(1, description="independent chains per temperature")
    step: Annotated[float, Field(gt=0, le=1e3)] = Field(1.0, description="initial proposal width, continuous spins")
    start: Literal["random", "ordered"] = "random"
    flush_seconds: Annotated[float, Field(gt=0, le=86400)] = Field(10.0, description="checkpoint interval, s")
    modes: bool = Field(False, description="store every spin component's Fourier modes at the lattice's "
                        "high-symmetry k-points per sample (stream 'modes'; analyze --order auto names the order "
                        "parameter by its wave vector and irrep)")


Temperature = Annotated[float, Field(gt=0, le=1e6)]


class TemperaturesTable(Schema):
    values: list[Temperature] | None = Field(None, min_length=1, max_length=10_000,
                                             description="temperatures > 0, units of J/k_B")
    start: Temperature | None = None
    stop: Temperature | None = None
    num: Annotated[int, Field(ge=1, le=10_000)] | None = None

    @model_validator(mode="after")
    def _one_form(self):
        if self.values is None:
            for key in ("start", "stop", "num"):
                if getattr(self, key) is None:
                    raise rule(key, None, "required (or give temperatures.values = [...])")
        elif any(getattr(self, k) is not None for k in ("start", "stop", "num")):
            raise rule("values", self.values, "values = [...] or start, stop and num, not both")
        return self

    def grid(self) -> tuple[float, ...]:
        if self.values is not None:
            return tuple(self.values)
        return tuple(float(t) for t in np.linspace(self.start, self.stop, self.num))


class RunSchema(Schema):
    """A spin Monte Carlo study: every size at every temperature."""

    kind: Literal["run"] = Field("run", description="optional: 'run'")
    lattice: LatticeTable
    model: ModelTable
    sampler: SamplerTable = SamplerTable()
    temperatures: TemperaturesTable
    seed: Seed = 0
    device: Device = "cpu"
    threads: Threads = 1
    output: Name = Field("run.h5", description="the HDF5 file written")

    @model_validator(mode="after")
    def _rules(self):
        algorithm = self.sampler.algorithm
        if algorithm in ("wolff", "swendsen_wang") and self.model.h != 0:
            raise rule("model.h", self.model.h, f"0 for algorithm = {algorithm!r} (cluster moves need zero field)")
        if self.sampler.modes and not self.lattice.periodic:
            raise rule("sampler.modes", True, "false for an open lattice (wave vectors need periodic boundaries)")
        if algorithm in ("wolff", "swendsen_wang") and self.model.disorder != "none":
            raise rule("model.disorder", self.model.disorder,
                       f"'none' for algorithm = {algorithm!r} (use metropolis or tempering for disorder)")
        return self


@dataclass(frozen=True)
class LatticeConfig:
    kind: str
    sizes: tuple[tuple[int, ...], ...]  # one linear size per system, e.g. ((8, 8), (16, 16))
    periodic: bool = True


@dataclass(frozen=True)
class ModelConfig:
    kind: str
    J: tuple[float, ...] = (1.0,)  # per bond shell, J > 0 ferromagnetic (units of J)
    h: float = 0.0  # uniform field (units of J)
    q: int = 3  # Potts states
    disorder: str = "none"  # "pm": J1 * (+-1) per bond; "gaussian": J1 * N(0, 1) per bond
    disorder_seed: int = 0


@dataclass(frozen=True)
class SamplerConfig:
    algorithm: str = "metropolis"
    thermalization: int = 1000  # sweeps (sweep-equivalents for Wolff) before sampling
    samples: int = 1000  # measurements per chain
    sweeps_per_sample: int = 1
    replicas: int = 1  # independent chains per temperature
    step: float = 1.0  # initial proposal width for continuous spins
    start: str = "random"  # or "ordered"
    flush_seconds: float = 10.0  # checkpoint interval, wall-clock seconds
    modes: bool = False  # per-sample Fourier modes at the high-symmetry k-points (stream "modes")


@dataclass(frozen=True)
class RunConfig:
    """A whole simulation: every system size at every temperature."""

    lattice: LatticeConfig
    model: ModelConfig
    sampler: SamplerConfig
    temperatures: tuple[float, ...]  # units of J/k_B
    seed: int = 0
    device: str = "cpu"
    output: str = "run.h5"
    text: str = ""  # the TOML text this was parsed from
    threads: int = 1  # worker threads on the CPU, 0: every core

    @property
    def n_chains(self) -> int:
        return len(self.temperatures) * self.sampler.replicas


def load(path) -> RunConfig:
    """Read and validate a TOML run config."""
    return parse(load_text(path))


def parse(text: str) -> RunConfig:
    """Validate a TOML run config given as text."""
    return resolve(validate(RunSchema, read_toml(text)), text)


def resolve(s: RunSchema, text: str = "") -> RunConfig:
    J = s.model.J if isinstance(s.model.J, list) else [s.model.J]
    sizes = tuple(tuple(size) if isinstance(size, list) else (size,) for size in s.lattice.sizes)
    return RunConfig(LatticeConfig(s.lattice.kind, sizes, s.lattice.periodic),
                     ModelConfig(s.model.kind, tuple(float(j) for j in J), float(s.model.h), s.model.q,
                                 s.model.disorder, s.model.disorder_seed),
                     SamplerConfig(**s.sampler.model_dump()), s.temperatures.grid(), s.seed, s.device, s.output, text, s.threads)
