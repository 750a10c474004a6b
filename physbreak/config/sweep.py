"""Sweep configs (``kind = "sweep"``): a grid of models x sizes x temperatures
x seeds, each point one run config validated by the run schema before any task
runs (``physbreak schema sweep``).  A disordered model (spin glass) runs one
task per disorder instance instead (``grid.disorder_samples``), each with
every temperature of the grid."""

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
    disorder_samples: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        1, description="disorder instances per (model, size, seed) of a disordered model: one task each, "
        "running every temperature of the grid (instance i draws its couplings with disorder_seed + i)")


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
    instance: int = -1  # disorder instance (disordered models; then ``temperature`` is the lowest of the task)


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


def task_name(label: str, size, temperature: float, seed: int, instance: int = -1) -> str:
    size_tag = "x".join(f"{s:03d}" for s in np.atleast_1d(size))
    if instance >= 0:
        return f"{label}_L{size_tag}_d{instance:06d}_s{seed}"
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
    disordered = [m.get("disorder", "none") != "none" for m in models]
    if s.grid.disorder_samples > 1 and not any(disordered):
        raise ConfigError("grid.disorder_samples", s.grid.disorder_samples,
                          "1 unless a model of grid.models has disorder = 'pm' or 'gaussian'")
    tasks = []

    def task(model, label, size, temps, seed, instance=-1):
        run = {"device": s.device} if "device" in s.model_fields_set else {}
        run.update(seed=seed, lattice=dict(tables["lattice"], sizes=[size]))
        if "sampler" in s.model_fields_set:
            run["sampler"] = tables["sampler"]
        if instance >= 0:
            model = dict(model, disorder_seed=int(model.get("disorder_seed", 0)) + instance)
        run.update(model=model, temperatures={"values": temps})
        where = f"instance {instance}" if instance >= 0 else f"T {temps[0]}"
        validate(RunSchema, run, f"grid ({label}, size {size}, {where}, seed {seed}):")
        tasks.append(Task(task_name(label, size, temps[0], seed, instance), dict(model), size, float(min(temps)),
                          int(seed), to_toml(run), instance))

    for model, label, dis in zip(models, labels, disordered):
        for size in s.grid.sizes:
            for seed in s.grid.seeds:
                if dis:  # every temperature in one task per instance: replica exchange, and an instance's curve
                    for instance in range(s.grid.disorder_samples):
                        task(model, label, size, sorted(s.grid.temperatures), seed, instance)
                else:
                    for T in s.grid.temperatures:
                        task(model, label, size, [T], seed)
    if len({t.name for t in tasks}) != len(tasks):
        raise ConfigError("grid", "repeated points", "distinct sizes, temperatures and seeds")
    return SweepConfig(Path(s.output), tuple(tasks), s.retries, s.workers, s.grid.seeds[0], s.device, text)

