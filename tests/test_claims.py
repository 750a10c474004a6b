"""Two writers on one output: exactly one writes, the other is told which
process holds it; a reader of a file in progress is told so."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from conftest import one_line_error, run_cli
from physbreak.io import read_run
from physbreak.io.claims import claim, holder, lock_path
from physbreak.errors import OutputBusyError

CONFIG = """seed = 1
[lattice]
kind = "square"
sizes = [16]
[model]
kind = "ising"
[sampler]
thermalization = {thermalization}
samples = {samples}
[temperatures]
values = [2.0, 2.5]
"""

_barrier = None


def _init(barrier):
    global _barrier
    _barrier = barrier
    import torch

    torch.set_num_threads(1)


def _simulate(config, out, wait):
    """``physbreak simulate`` in a worker process, started together with the other worker."""
    if wait:
        _barrier.wait(timeout=60)
    r = run_cli("simulate", config, "--out", out, "--quiet")
    return r.returncode, r.stderr, os.getpid()


@pytest.fixture(scope="module")
def workers():
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: real separate processes
    barrier = ctx.Barrier(2)
    with ctx.Pool(2, initializer=_init, initargs=(barrier,)) as pool:
        yield pool


def test_two_simulate_processes_on_one_output_exactly_one_writes(tmp_path, workers):
    config = tmp_path / "c.toml"
    config.write_text(CONFIG.format(samples=300, thermalization=200_000))  # long enough to overlap
    for trial in range(8):
        out = tmp_path / f"trial{trial}.h5"
        a = workers.apply_async(_simulate, (config, out, True))
        b = workers.apply_async(_simulate, (config, out, True))
        results = [a.get(timeout=120), b.get(timeout=120)]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2], (trial, results)
        (_, _, winner), (_, error, _) = sorted(results)
        assert error.count("\n") == 1 and "Traceback" not in error, error
        assert f"already being written by process {winner}" in error, (trial, error)
        assert not lock_path(out).exists() and not out.with_name(out.name + ".new").exists()
        root, systems = read_run(out)  # the winner's file is whole
        assert root["complete"] and all(len(s.streams["energy"]) == 300 for s in systems)


def test_a_reader_is_told_the_file_is_being_written(tmp_path, workers):
    config, out = tmp_path / "c.toml", tmp_path / "long.h5"
    config.write_text(CONFIG.format(samples=200_000, thermalization=100))
    job = workers.apply_async(_simulate, (config, out, False))
    deadline = time.monotonic() + 60
    while holder(out) is None or not out.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    one_line_error(run_cli("analyze", out, "--no-plots"), "being written by process", holder(out))
    one_line_error(run_cli("simulate", config, "--out", out, "--resume"), "already being written by process")
    with pytest.raises(OutputBusyError, match="already being written"):
        with claim(out):
            pass
    workers.terminate()  # the writer dies mid-run: the kernel drops its claim
    with pytest.raises(Exception):
        job.get(timeout=1)
    deadline = time.monotonic() + 30
    while holder(out) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with claim(out):  # free again
        assert lock_path(out).read_text() == str(os.getpid()) and holder(out) is None  # ours
