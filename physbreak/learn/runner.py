"""The one benchmark runner: every (dataset, model) pair trained, saved,
evaluated and written atomically, so an interrupted benchmark resumes.

    out/checkpoints/<dataset>-<model>.pt     the trained predictor (:mod:`physbreak.learn.checkpoint`)
    out/results/<dataset>-<model>.json       its evaluation rows and training time

A pair whose result file exists is not trained again.  Under several
processes (:mod:`physbreak.learn.distributed`) every process trains, rank 0
alone saves, evaluates and writes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from physbreak.learn import distributed


@dataclass
class Task:
    """One (dataset, model) pair.

    Attributes:
        dataset, model: names (the file stem is ``dataset-model``).
        data: zero-argument callable returning ``(train, validation, test)``
            problem lists; called only when the pair has not finished (share one
            cached callable between the pairs of a dataset).
        build: ``build(train) -> Predictor`` (untrained).
        fit: keyword arguments of :meth:`Predictor.fit` (epochs, batch_size, lr, seed).
        evaluate: ``evaluate(predictor, test) -> list[dict]`` rows.
        info: extra JSON stored with the result, or ``info(train) -> dict``
            (e.g. the training sizes).
    """

    dataset: str
    model: str
    data: Callable
    build: Callable
    evaluate: Callable
    fit: dict = field(default_factory=dict)
    info: dict | Callable = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.dataset}-{self.model}"


def write_json(path: Path, data) -> None:
    """``data`` as JSON at ``path``, written to a temporary file and renamed."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def run_tasks(tasks: list[Task], out, progress: bool | None = None) -> dict:
    """Run every unfinished task; returns ``{(dataset, model): result}`` for all
    finished ones (including those from earlier runs).  A task whose data has
    no training or test problems is skipped."""
    out = Path(out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(exist_ok=True)
    results = {}
    quiet = True if not distributed.is_main() else None if progress is None else not progress
    for task in tqdm(tasks, desc="benchmark", unit="model", disable=quiet):
        path = out / "results" / f"{task.name}.json"
        if path.exists():
            results[task.dataset, task.model] = json.loads(path.read_text())
            continue
        train, validation, test = task.data()
        if not train or not test:
            continue
        predictor = task.build(train)
        if predictor is None:  # the model does not apply to this dataset
            continue
        start = time.perf_counter()
        predictor.fit(train, validation, progress=progress, desc=task.name, **task.fit)
        seconds = time.perf_counter() - start
        if distributed.is_main():  # one process writes; the others wait for its files
            predictor.info = {**getattr(predictor, "info", {}), "dataset": task.dataset, "model": task.model,
                              "processes": distributed.world_size()}
            predictor.save(out / "checkpoints" / f"{task.name}.pt")
            info = task.info(train) if callable(task.info) else task.info
            write_json(path, {"dataset": task.dataset, "model": task.model, "train_seconds": seconds, **info,
                              "rows": task.evaluate(predictor, test)})
        distributed.barrier()
        results[task.dataset, task.model] = json.loads(path.read_text())
    return results
