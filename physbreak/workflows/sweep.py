"""Parameter sweeps on dask.distributed: models x sizes x temperatures x seeds.

Every grid point is one task: a ``physbreak simulate`` run of one model, one
size, one temperature and one seed, written to ``OUTPUT/tasks/<task>.h5``
through ``<task>.h5.part`` (renamed when complete, so a task file is either
whole or absent; an interrupted part resumes from its last checkpoint).
``OUTPUT/index.h5`` merges them: a parameter table and an HDF5 external link
per finished task.  Running the sweep again skips finished tasks.  Tasks that
raise are retried (``retries``) and then reported; the others go on.

The cluster: a :class:`~distributed.LocalCluster` (one single-threaded worker
process per core) by default, or any running scheduler by address
(``--scheduler tcp://host:8786``), e.g. one started by dask-jobqueue on
Slurm or PBS (docs/monte-carlo.md, "Sweeps").
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from physbreak import config as config_mod
from physbreak.config import Section, read_toml
from physbreak.errors import ConfigError, CorruptFileError

RUN_TABLES = ("lattice", "sampler")  # copied into every task's run config
RUN_KEYS = ("device",)


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


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(float(v)) if isinstance(v, float) else str(int(v))


def _toml(tables: dict) -> str:
    """Top-level keys and one level of tables as TOML text."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in tables.items() if not isinstance(v, dict)]
    for name, table in tables.items():
        if isinstance(table, dict):
            lines += ["", f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def model_label(model: dict) -> str:
    label = str(model.get("kind", "model"))
    if label == "potts":
        label += str(model.get("q", 3))
    if model.get("disorder", "none") != "none":
        label += "-" + str(model["disorder"])
    return label


def parse(text: str) -> SweepConfig:
    """Validate a sweep config; every task's run config is parsed here, so a bad
    field fails before any task runs."""
    raw = read_toml(text)
    top = Section(raw, "", required=("kind", "grid"), optional=("output", "retries", "workers") + RUN_TABLES
                  + RUN_KEYS)
    if raw["kind"] != "sweep":
        raise ConfigError("kind", raw["kind"], "'sweep' for physbreak sweep")
    grid = Section(top.subtable("grid"), "grid", ("models", "sizes", "temperatures"), ("seeds",))
    models = grid.list("models")
    if not models or not all(isinstance(m, dict) for m in models):
        raise ConfigError("grid.models", models, "a list of model tables, e.g. [{kind = \"ising\"}]")
    labels = [model_label(m) for m in models]
    if len(set(labels)) != len(labels):
        raise ConfigError("grid.models", labels, "distinct models")
    seeds = grid.list("seeds") if "seeds" in raw["grid"] else [0]
    sizes, temps = grid.list("sizes"), grid.list("temperatures")
    for name, values in (("grid.sizes", sizes), ("grid.temperatures", temps), ("grid.seeds", seeds)):
        if not values:
            raise ConfigError(name, values, "at least one value")
    base = {k: raw[k] for k in RUN_KEYS if k in raw}
    tables = {k: raw[k] for k in RUN_TABLES if k in raw}
    tasks = []
    for model, label in zip(models, labels):
        for size in sizes:
            for T in temps:
                for seed in seeds:
                    run = dict(base, seed=seed, **{k: dict(v) for k, v in tables.items()})
                    run.setdefault("lattice", {})["sizes"] = [size]
                    run["model"] = dict(model)
                    run["temperatures"] = {"values": [T]}
                    text = _toml(run)
                    try:
                        config_mod.parse(text)
                    except ConfigError as exc:
                        raise ConfigError(f"grid ({label}, size {size}, T {T}, seed {seed}): {exc.field}",
                                          exc.value, exc.allowed) from None
                    size_tag = "x".join(f"{s:03d}" for s in np.atleast_1d(size))
                    name = f"{label}_L{size_tag}_T{float(T):.4f}_s{seed}"
                    tasks.append(Task(name, dict(model), size, float(T), int(seed), text))
    if len({t.name for t in tasks}) != len(tasks):
        raise ConfigError("grid", "repeated points", "distinct sizes, temperatures and seeds")
    workers = top.get("workers")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigError("workers", workers, "an integer >= 1 (LocalCluster worker processes)")
    return SweepConfig(Path(top.get("output", "sweep")), tuple(tasks), top.integer("retries", 2, minimum=0),
                       workers)


def run_task(text: str, path: str) -> str:
    """One task on a worker: simulate into ``path + '.part'`` (resuming a part
    left by an interrupted attempt), then rename it to ``path``."""
    import numba
    import torch

    from physbreak.workflows.simulate import simulate

    torch.set_num_threads(1)
    numba.set_num_threads(1)
    part, cfg = Path(path + ".part"), config_mod.parse(text)
    resumed = False
    if part.exists():
        try:
            simulate(cfg, out=part, resume=True, progress=False)
            resumed = True
        except (CorruptFileError, OSError, RuntimeError, KeyError):
            # an attempt killed while HDF5 was writing can leave a part it cannot read, or one whose
            # internal links point past its end (h5py: RuntimeError "addr overflow"); a part holds
            # no finished work, so start the task again
            part.unlink(missing_ok=True)
    if not resumed:
        simulate(cfg, out=part, progress=False)
    os.replace(part, path)
    return path


def write_index(cfg: SweepConfig) -> Path:
    """``OUTPUT/index.h5``: per task its parameters and status, and an external
    link ``/tasks/<name>`` to the finished task's file (written atomically)."""
    import h5py

    from physbreak import __version__
    from physbreak.io.hdf5 import SCHEMA_VERSION

    out = cfg.output / "index.h5"
    tmp = out.with_suffix(".h5.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs.update({"physbreak_schema": SCHEMA_VERSION, "physbreak_version": __version__,
                        "kind": "sweep_index"})
        names = [t.name for t in cfg.tasks]
        done = [(cfg.output / "tasks" / f"{n}.h5").exists() for n in names]
        f["name"] = np.array(names, dtype=h5py.string_dtype())
        f["model"] = np.array([model_label(t.model) for t in cfg.tasks], dtype=h5py.string_dtype())
        f["size"] = np.array([str(t.size) for t in cfg.tasks], dtype=h5py.string_dtype())
        f["temperature"] = np.array([t.temperature for t in cfg.tasks])
        f["seed"] = np.array([t.seed for t in cfg.tasks])
        f["complete"] = np.array(done)
        links = f.create_group("tasks")
        for n, ok in zip(names, done):
            if ok:
                links[n] = h5py.ExternalLink(f"tasks/{n}.h5", "/")
    os.replace(tmp, out)
    return out


def sweep_status(cfg: SweepConfig) -> str:
    """What a sweep has done: per task finished (its file), started (a part
    left by an interrupted or running attempt) or pending; the unfinished listed."""
    folder = cfg.output / "tasks"
    state = {t.name: "finished" if (folder / f"{t.name}.h5").exists() else
             "started" if (folder / f"{t.name}.h5.part").exists() else "pending" for t in cfg.tasks}
    counts = {k: sum(v == k for v in state.values()) for k in ("finished", "started", "pending")}
    lines = [f"{cfg.output}: {len(cfg.tasks)} tasks, " + ", ".join(f"{n} {k}" for k, n in counts.items())]
    lines += [f"  {kind:8} {name}" for name, kind in state.items() if kind != "finished"]
    return "\n".join(lines)


def run_sweep(cfg: SweepConfig, scheduler: str | None = None, progress: bool | None = None) -> dict:
    """Run the unfinished tasks; ``{"index": path, "done": n, "skipped": n, "failed": {name: error}}``."""
    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    (cfg.output / "tasks").mkdir(parents=True, exist_ok=True)
    paths = {t.name: str(cfg.output / "tasks" / f"{t.name}.h5") for t in cfg.tasks}
    todo = [t for t in cfg.tasks if not Path(paths[t.name]).exists()]
    result = {"done": 0, "skipped": len(cfg.tasks) - len(todo), "failed": {}}
    if todo:
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=cfg.workers or os.cpu_count(), threads_per_worker=1,
                                   processes=True, dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        try:
            futures = [client.submit(run_task, t.text, paths[t.name], key=f"physbreak-{t.name}",
                                     retries=cfg.retries, pure=False) for t in todo]
            names = {f.key: t.name for f, t in zip(futures, todo)}
            with tqdm(total=len(cfg.tasks), initial=result["skipped"], unit="task", desc=cfg.output.name,
                      disable=None if progress is None else not progress) as bar:
                for future in as_completed(futures):
                    if future.status == "finished":
                        result["done"] += 1
                    else:
                        result["failed"][names[future.key]] = repr(future.exception())
                    bar.update(1)
        finally:
            client.close()
            if not scheduler:
                cluster.close()
    result["index"] = str(write_index(cfg))
    return result
