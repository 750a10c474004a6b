"""Sweep configs (``kind = "sweep"``): a grid of models x sizes x temperatures
x seeds, each point one run config validated by the run schema before any task
runs (``physbreak schema sweep``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from physbreak.config.base import Device, Name, Schema, Seed, read_toml, to_toml, validate
from physbreak.config.run import LATTICES, Length, ModelTable, RunSchema, SamplerTable, Temperature
from physbreak.errors import ConfigError


class SweepLatticeTable(Schema):
    kind: Literal[LATTICES] = Field(description="the lattice of every task")
    periodic: bool = True


class GridTable(Schema):
    models: list[ModelTable] = Field(min_length=1, max_length=64,
                                     description='model tables, e.g. [{kind = "ising"}]')
    sizes: list[Length | Annotated[list[Length], Field(min_length=1, max_length=3)]] = Field(
        min_length=1, max_length=256, description="linear sizes: L or [Lx, Ly, ...]")
    temperatures: list[Temperature] = Field(min_length=1, max_length=10_000, description="units of J/k_B")
    seeds: list[Seed] = Field([0], min_length=1, max_length=10_000)


class SweepSchema(Schema):
    """A grid of spin Monte Carlo runs, one dask task and one HDF5 file each."""

    kind: Literal["sweep"]
    grid: GridTable
    output: Name = Field("sweep", description="folder: tasks/ and index.h5")
    retries: Annotated[int, Field(ge=0, le=100)] = Field(2, description="attempts after a task fails")
    workers: Annotated[int, Field(ge=1, le=4096)] | None = Field(
        None, description="LocalCluster worker processes (default: one per core)")
    lattice: SweepLatticeTable
    sampler: SamplerTable = SamplerTable()
    device: Device = "cpu"


@dataclass(frozen=True)
class Task:
    name: str  # e.g. "ising_L016_T2.2690_s1"
    model: dict
    size: int | list
    temperature: float
    seed: int
    text: str  # the task's run config (TOML)


@dataclass(frozen=True)
class SweepConfig:
    output: Path
    tasks: tuple[Task, ...]
    retries: int
    workers: int | None
    seed: int  # the first grid seed, stored on the index
    device: str = "cpu"
    text: str = ""


def model_label(model: dict) -> str:
    label = str(model.get("kind", "model"))
    if label == "potts":
        label += str(model.get("q", 3))
    if model.get("disorder", "none") != "none":
        label += "-" + str(model["disorder"])
    return label


def task_name(label: str, size, temperature: float, seed: int) -> str:
    size_tag = "x".join(f"{s:03d}" for s in np.atleast_1d(size))
    return f"{label}_L{size_tag}_T{float(temperature):.4f}_s{seed}"


def parse(text: str) -> SweepConfig:
    """Validate a sweep config; every task's run config is validated here, so a
    bad field fails before any task runs."""
    raw = read_toml(text)
    s = validate(SweepSchema, raw)
    models = [m.model_dump(exclude_unset=True) for m in s.grid.models]
    labels = [model_label(m) for m in models]
    if len(set(labels)) != len(labels):
        raise ConfigError("grid.models", labels, "distinct models")
    tables = {"lattice": s.lattice.model_dump(exclude_unset=True), "sampler": s.sampler.model_dump(exclude_unset=True)}
    tasks = []
    for model, label in zip(models, labels):
        for size in s.grid.sizes:
            for T in s.grid.temperatures:
                for seed in s.grid.seeds:
                    run = {"device": s.device} if "device" in s.model_fields_set else {}
                    run.update(seed=seed, lattice=dict(tables["lattice"], sizes=[size]))
                    if "sampler" in s.model_fields_set:
                        run["sampler"] = tables["sampler"]
                    run.update(model=model, temperatures={"values": [T]})
                    validate(RunSchema, run, f"grid ({label}, size {size}, T {T}, seed {seed}):")
                    tasks.append(Task(task_name(label, size, T, seed), dict(model), size, float(T), int(seed),
                                      to_toml(run)))
    if len({t.name for t in tasks}) != len(tasks):
        raise ConfigError("grid", "repeated points", "distinct sizes, temperatures and seeds")
    return SweepConfig(Path(s.output), tuple(tasks), s.retries, s.workers, s.grid.seeds[0], s.device, text)

