"""`physbreak sweep`: a grid of runs on dask.distributed, robust to killed workers."""

import os
import signal
import subprocess
import sys
import time

import h5py
import psutil
import pytest

from conftest import run_cli
from physbreak.errors import ConfigError
from physbreak.io import read_run
from physbreak.config.sweep import parse

GRID = """kind = "sweep"
output = "{out}"
retries = 1
workers = 2

[lattice]
kind = "square"

[sampler]
algorithm = "metropolis"
thermalization = {thermalization}
samples = {samples}
flush_seconds = 0.05

[grid]
models = [{{kind = "ising"}}, {{kind = "potts", q = 3}}]
sizes = {sizes}
temperatures = [1.0, 1.5, 2.0, 2.5]
seeds = [1, 2, 3]
"""


def write(tmp_path, samples=200, sizes="[4, 6]", thermalization=100):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(GRID.format(out=tmp_path / "out", samples=samples, sizes=sizes, thermalization=thermalization))
    return cfg


def sweep(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "physbreak.cli", "sweep", *map(str, args), "--quiet"],
                          capture_output=True, text=True, timeout=600, **kwargs)


def finished(tmp_path) -> dict:
    """Finished task files and their modification times."""
    folder = tmp_path / "out" / "tasks"
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.h5")} if folder.exists() else {}


def wait_for(condition, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_grid_expands_to_one_validated_task_per_point(tmp_path):
    cfg = parse(write(tmp_path).read_text())
    assert len(cfg.tasks) == 48 and len({t.name for t in cfg.tasks}) == 48
    assert {t.name for t in cfg.tasks if t.model["kind"] == "potts"} >= {"potts3_L006_T2.5000_s3"}
    bad = write(tmp_path).read_text().replace("temperatures = [1.0,", "temperatures = [-1.0,")
    with pytest.raises(ConfigError, match=r"grid.temperatures\[0\] = -1.0 is not allowed: a number > 0"):
        parse(bad)
    field = write(tmp_path).read_text().replace('"metropolis"', '"wolff"').replace('{kind = "ising"}',
                                                                                   '{kind = "ising", h = 0.5}')
    with pytest.raises(ConfigError, match=r"grid \(ising, size 4, T 1.0, seed 1\): model.h = 0.5 .*zero field"):
        parse(field)  # a rule of the run schema, checked per task
    with pytest.raises(ConfigError, match="kind = 'ising' is not allowed: one of 'sweep'"):
        parse(write(tmp_path).read_text().replace('kind = "sweep"', 'kind = "ising"'))
    with pytest.raises(ConfigError, match="grid.models"):
        parse(write(tmp_path).read_text().replace('{kind = "potts", q = 3}', '{kind = "ising"}'))


@pytest.mark.slow  # kills a dask worker mid-sweep and reruns (27 s)
def test_killed_worker_loses_no_finished_task_and_the_rerun_completes_the_rest(tmp_path):
    """48 tasks on a 2-worker LocalCluster: SIGKILL one worker mid-run, then
    Ctrl-C the whole sweep (SIGINT to its process group, as a terminal does: one
    line says how to continue); every task finished before stays untouched, and
    running the sweep again completes the rest and indexes all 48."""
    cfg = write(tmp_path, samples=1000, sizes="[6, 8]", thermalization=100_000)
    proc = subprocess.Popen([sys.executable, "-m", "physbreak.cli", "sweep", str(cfg), "--quiet"],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def workers():  # forked by the sweep's forkserver
        return [p for p in psutil.Process(proc.pid).children(recursive=True)
                if "forkserver" in " ".join(p.parent().cmdline())]

    try:
        assert wait_for(lambda: len(finished(tmp_path)) >= 3)
        first = workers()
        assert first, "no worker process found"
        first[0].send_signal(signal.SIGKILL)
        before_kill = finished(tmp_path)
        # Ctrl-C once the nanny has restarted the killed worker: that worker must ignore it too
        assert wait_for(lambda: proc.poll() is not None or (
            len(finished(tmp_path)) >= len(before_kill) + 3 and any(p.pid != first[0].pid for p in workers())))
        assert proc.poll() is None, "the sweep should still be running"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        # the worker SIGKILLed above leaks a semaphore, which the stdlib's resource tracker (its own process)
        # reports at exit; everything else on stderr is physbreak's
        lines = [line for line in err.strip().splitlines() if "resource_tracker" not in line and line.strip()]
        assert proc.returncode == 130 and len(lines) == 1, err[-3000:]
        assert "interrupted; finished tasks are kept" in lines[-1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    first = finished(tmp_path)
    assert 0 < len(first) < 48, "the sweep should have been interrupted part-way"
    assert all(first[name] == mtime for name, mtime in before_kill.items())
    for name in first:  # whole files only: written as .part, renamed when complete
        _, systems = read_run(tmp_path / "out" / "tasks" / name)
        assert systems[0].attrs["complete"]
    r = sweep(cfg, "--status")  # lists, runs nothing
    parts = len(list((tmp_path / "out" / "tasks").glob("*.h5.part")))
    assert r.returncode == 0 and finished(tmp_path) == first
    assert f"48 tasks, {len(first)} finished, {parts} started, {48 - len(first) - parts} pending" in r.stdout
    assert r.stdout.count("\n") == 1 + 48 - len(first)
    r = sweep(cfg)
    assert r.returncode == 0, r.stderr
    assert f"{48 - len(first)} tasks run, {len(first)} already finished" in r.stdout
    after = finished(tmp_path)
    assert len(after) == 48 and all(after[n] == first[n] for n in first)
    assert not list((tmp_path / "out" / "tasks").glob("*.part"))
    with h5py.File(tmp_path / "out" / "index.h5") as f:
        assert f["complete"][:].all() and len(f["tasks"]) == 48
        link = f["tasks"]["ising_L008_T2.0000_s1"]
        assert link["systems"]["L008x008"].attrs["complete"]


def test_a_failing_task_is_reported_and_the_others_finish(tmp_path):
    """A task whose output cannot be written fails after its retries; the
    sweep reports it (exit 1) and finishes every other task; once the cause
    is gone, the rerun runs just that task (and one whose part is unreadable)."""
    cfg = write(tmp_path)
    blocked = tmp_path / "out" / "tasks" / "potts3_L004_T1.5000_s2.h5.part"
    blocked.mkdir(parents=True)  # a directory where the task's file must go
    r = sweep(cfg)
    assert r.returncode == 1
    assert "task potts3_L004_T1.5000_s2 failed" in r.stderr and "1 task(s) failed" in r.stderr
    assert len(finished(tmp_path)) == 47
    blocked.rmdir()
    # parts HDF5 cannot read, as an attempt killed mid-write leaves them: started again
    blocked.write_bytes(b"")
    redo = tmp_path / "out" / "tasks" / "ising_L006_T2.5000_s2.h5"
    redo.with_name(redo.name + ".part").write_bytes(redo.read_bytes()[:300])
    redo.unlink()
    r = sweep(cfg)
    assert r.returncode == 0 and "2 tasks run, 46 already finished" in r.stdout, r.stderr
    assert len(finished(tmp_path)) == 48


def test_sweep_on_a_running_scheduler(tmp_path):
    from distributed import LocalCluster

    cfg = tmp_path / "sweep.toml"
    cfg.write_text(write(tmp_path).read_text().replace("sizes = [4, 6]", "sizes = [4]")
                   .replace("seeds = [1, 2, 3]", "seeds = [1]"))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        r = sweep(cfg, "--scheduler", cluster.scheduler_address)
    assert r.returncode == 0, r.stderr
    assert "8 tasks run" in r.stdout and len(finished(tmp_path)) == 8


def test_analyze_combines_the_seeds_of_each_point(tmp_path):
    """`physbreak analyze OUTPUT/index.h5`: per (size, T) the mean over seeds of
    the per-task values, error sqrt(sum err^2) / n_seeds; the combined 2D Ising
    energies agree with the exact finite-torus ones (Kaufman) within 4 errors."""
    import json

    import numpy as np

    from physbreak.analysis.exact import ising_torus_energy
    from physbreak.analysis.report import analyze_run

    cfg = tmp_path / "sweep.toml"
    cfg.write_text(write(tmp_path, samples=2000).read_text()
                   .replace('models = [{kind = "ising"}, {kind = "potts", q = 3}]', 'models = [{kind = "ising"}]')
                   .replace("temperatures = [1.0, 1.5, 2.0, 2.5]", "temperatures = [2.0, 2.6]"))
    assert sweep(cfg).returncode == 0
    r = subprocess.run([sys.executable, "-m", "physbreak.cli", "analyze", str(tmp_path / "out" / "index.h5"),
                        "--json", "--no-plots"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["finished"] == result["tasks"] == 12 and len(result["models"]) == 1
    rows = result["models"][0]["rows"]
    assert [(row["size"], row["temperature"], row["seeds"]) for row in rows] == [
        ([4, 4], 2.0, 3), ([4, 4], 2.6, 3), ([6, 6], 2.0, 3), ([6, 6], 2.6, 3)]
    for row in rows:
        L, T = row["size"][0], row["temperature"]
        tasks = [analyze_run(tmp_path / "out" / "tasks" / f"ising_L{L:03d}_T{T:.4f}_s{seed}.h5")["rows"][0]
                 for seed in (1, 2, 3)]
        assert row["energy"] == pytest.approx(np.mean([t["energy"] for t in tasks]), rel=1e-12)
        assert row["binder_err"] == pytest.approx(np.sqrt(sum(t["binder_err"] ** 2 for t in tasks)) / 3)
        assert abs(row["energy"] - ising_torus_energy(L, T)) < 4 * row["energy_err"], row


def test_fss_over_a_sweep_reweights_every_task_of_a_size_together(tmp_path):
    """`physbreak analyze OUTPUT/index.h5 --fss`: per size one multiple histogram
    over all its tasks (temperatures x seeds); the peaks equal those of a
    Reweighting built by hand from the task files."""
    import json

    import numpy as np

    from physbreak.analysis.fss import peaks, system_runs
    from physbreak.analysis.reweighting import Reweighting

    cfg = tmp_path / "sweep.toml"
    cfg.write_text(write(tmp_path, samples=3000, sizes="[6, 8, 10]").read_text()
                   .replace('algorithm = "metropolis"', 'algorithm = "wolff"')
                   .replace('models = [{kind = "ising"}, {kind = "potts", q = 3}]', 'models = [{kind = "ising"}]')
                   .replace("temperatures = [1.0, 1.5, 2.0, 2.5]", "temperatures = [2.3, 2.45, 2.6]")
                   .replace("seeds = [1, 2, 3]", "seeds = [1, 2]"))
    assert sweep(cfg).returncode == 0
    r = run_cli("analyze", tmp_path / "out" / "index.h5", "--fss", "--json", "--no-plots")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)["ising"]
    assert result["sizes"] == [6.0, 8.0, 10.0]
    assert 0.7 < result["fit"]["nu"]["value"] < 1.3  # small sizes, short runs: a sanity band
    runs, betas = [], []
    for T in (2.3, 2.45, 2.6):
        for seed in (1, 2):
            _, systems = read_run(tmp_path / "out" / "tasks" / f"ising_L008_T{T:.4f}_s{seed}.h5")
            more, b = system_runs(systems[0])
            runs, betas = runs + more, betas + list(b)
    rw = Reweighting(runs, np.array(betas))
    spread = max(float(np.std(run["E"])) for run in runs)
    grid = np.linspace(min(betas) - 1 / spread, max(betas) + 1 / spread, 161)
    chi = peaks(rw, 64, grid)["chi"]
    assert result["peaks"][1]["chi"]["height"] == pytest.approx(chi.height, rel=1e-9)
    assert result["peaks"][1]["chi"]["beta"] == pytest.approx(chi.beta, rel=1e-9)


def test_shipped_examples_parse():
    from pathlib import Path

    from physbreak.config import load

    root = Path(__file__).resolve().parents[1] / "simulations"
    assert len(parse((root / "sweep_example.toml").read_text()).tasks) == 48
    assert load(root / "ising2d_fss.toml").lattice.sizes == ((8,), (12,), (16,), (24,), (32,), (48,), (64,))
