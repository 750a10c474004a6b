"""Perovskite Langevin MD configs (``kind = "perovskite"``): the schema and the
validated :class:`PerovskiteRunConfig` (``physbreak schema perovskite``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from physbreak.config.base import Device, Name, Schema, Seed, Steps, read_toml, rule, validate

Kelvin = Annotated[float, Field(gt=0, le=5000)]


class ScheduleTable(Schema):
    high: Kelvin = Field(380.0, description="K; cooling runs high -> low, heating low -> high")
    low: Kelvin = Field(100.0, description="K, below schedule.high")
    step: Kelvin = Field(10.0, description="K between temperatures")
    equilibration_steps: Steps = Field(3000, description="MD steps per temperature before sampling")
    samples: Annotated[int, Field(ge=1, le=10**6)] = Field(100, description="samples per temperature")
    sample_every: Annotated[int, Field(ge=1, le=10**6)] = Field(20, description="MD steps between samples")

    @model_validator(mode="after")
    def _order(self):
        if self.low >= self.high:
            raise rule("low", self.low, f"a temperature below schedule.high = {self.high}")
        if (self.high - self.low) / self.step > 10_000:
            raise rule("step", self.step, "a step giving at most 10000 temperatures")
        return self


class DynamicsTable(Schema):
    dt: Annotated[float, Field(gt=0, le=0.01)] = Field(
        0.002, description="time step, ps, at most 0.01 (the local modes' period is ~0.1 ps)")
    friction: Annotated[float, Field(gt=0, le=1e4)] = Field(10.0, description="1/ps, local modes")
    strain_friction: Annotated[float, Field(gt=0, le=1e4)] = Field(1.0, description="1/ps, strain")


class PerovskiteSchema(Schema):
    """Langevin NPT of a perovskite effective Hamiltonian along cooling and heating schedules."""

    kind: Literal["perovskite"]
    size: Annotated[int, Field(ge=2, le=256)] = Field(description="cells per edge")
    seed: Seed = 0
    output: Name = "perovskite.h5"
    device: Device = "cpu"
    material: Name = Field("BaTiO3_ZVR1995", description="a shipped parameter file or a path to a .toml one")
    pressure_gpa: Annotated[float, Field(ge=-100, le=100)] | None = Field(
        None, description="GPa (default: the material file's)")
    replicas: Annotated[int, Field(ge=1, le=1024)] = Field(1, description="independent replicas per direction")
    schedule: ScheduleTable = ScheduleTable()
    dynamics: DynamicsTable = DynamicsTable()


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


def parse(text: str) -> PerovskiteRunConfig:
    s = validate(PerovskiteSchema, read_toml(text))
    return PerovskiteRunConfig(s.seed, s.output, s.device, s.material, s.size, s.pressure_gpa, s.replicas,
                               **s.schedule.model_dump(), **s.dynamics.model_dump(), text=text)
