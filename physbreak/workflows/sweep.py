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
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from physbreak import config as config_mod
from physbreak.config import check_device
from physbreak.config.sweep import SweepConfig, model_label
from physbreak.errors import CorruptFileError


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
                        "kind": "sweep_index", "config": cfg.text, "seed": cfg.seed})
        names = [t.name for t in cfg.tasks]
        done = [(cfg.output / "tasks" / f"{n}.h5").exists() for n in names]
        f["name"] = np.array(names, dtype=h5py.string_dtype())
        f["model"] = np.array([model_label(t.model) for t in cfg.tasks], dtype=h5py.string_dtype())
        f["size"] = np.array([str(t.size) for t in cfg.tasks], dtype=h5py.string_dtype())
        f["temperature"] = np.array([t.temperature for t in cfg.tasks])
        f["seed"] = np.array([t.seed for t in cfg.tasks])
        f["instance"] = np.array([t.instance for t in cfg.tasks])
        f["complete"] = np.array(done)
        links = f.create_group("tasks")
        for n, ok in zip(names, done):
            if ok:
                links[n] = h5py.ExternalLink(f"tasks/{n}.h5", "/")
    os.replace(tmp, out)
    return out


@contextmanager
def _sigint_ignored():
    """SIGINT ignored inside (in the main thread), so processes started here ignore it too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _connect(Client, address: str):
    """A client of the scheduler at ``address``; a bad or unreachable address is a ConfigError."""
    from physbreak.errors import ConfigError

    try:
        return Client(address, timeout="10s")
    except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ConfigError("--scheduler", address, f"the address of a running dask scheduler, e.g. "
                          f"tcp://host:8786 ({reason})") from None


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
    from physbreak.io.claims import claim

    check_device(cfg.device)
    with claim(cfg.output, "output"):
        return _run_sweep(cfg, scheduler, progress)


def _run_sweep(cfg: SweepConfig, scheduler, progress) -> dict:
    import importlib

    import dask

    importlib.import_module("distributed")  # its config defaults first: leaving dask.config.set must keep them

    paths = {t.name: str(cfg.output / "tasks" / f"{t.name}.h5") for t in cfg.tasks}
    todo = [t for t in cfg.tasks if not Path(paths[t.name]).exists()]
    result = {"done": 0, "skipped": len(cfg.tasks) - len(todo), "failed": {}}
    if todo:
        with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
            _run_tasks(cfg, scheduler, progress, todo, paths, result)
    result["index"] = str(write_index(cfg))
    return result


def _run_tasks(cfg: SweepConfig, scheduler, progress, todo, paths, result):
    """Submit ``todo`` and wait.  Local workers are forked from a forkserver that
    starts with SIGINT ignored, so every worker -- also one its nanny restarts
    after a crash -- ignores Ctrl-C: it reaches this process only, which stops them.
    Worker logs are silenced: a task's failure comes back through its future."""
    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    if scheduler:
        client = _connect(Client, scheduler)
    else:
        with _sigint_ignored():
            cluster = LocalCluster(n_workers=cfg.workers or os.cpu_count(), threads_per_worker=1,
                                   processes=True, dashboard_address=None, silence_logs=logging.CRITICAL)
        client = Client(cluster)
    (cfg.output / "tasks").mkdir(parents=True, exist_ok=True)
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
    except KeyboardInterrupt:
        logging.getLogger("distributed").setLevel(logging.CRITICAL)  # closing connections mid-task is expected
        raise
    finally:
        client.close()
        if not scheduler:
            cluster.close()
