"""Data-parallel training with torch.distributed (gloo on the CPU): two
processes give the weights of one after the same steps with the same global
batch, and `physbreak train --nproc 2` writes every file once and resumes."""

from __future__ import annotations

import os
import subprocess

from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from physbreak.learn.structure import StructurePredictor, species_of
from physbreak.problems.batio3 import make_dataset

EPOCHS, BATCH = 3, 6


def _problems():
    return make_dataset("TORC", 3, seed=2)  # 12 problems: two global batches of 6 per epoch


def _train(problems):
    model = StructurePredictor("sbs", seed=4, species=species_of(problems), breaker_irreps="1x1o")
    model.fit(problems, epochs=EPOCHS, batch_size=BATCH, seed=4, progress=False)
    return {k: v.detach().clone() for k, v in model.net.state_dict().items()}


def _rank(rank, world, init, out):
    import torch.distributed as dist

    from physbreak.learn.metrics import evaluate_structures
    from physbreak.learn.runner import Task, run_tasks

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    problems = _problems()
    weights = _train(problems)
    if rank == 0:
        torch.save(weights, out)
    # the benchmark runner under two processes: rank 0 alone writes, a second run trains nothing
    task = Task("batio3", "sbs", lambda: (problems[:4], [], problems[4:6]),
                lambda t: StructurePredictor("sbs", seed=4, species=species_of(t), breaker_irreps="1x1o"),
                lambda p, test: evaluate_structures(p, test, relaxed=False), {"epochs": 1, "batch_size": 4})
    bench = Path(out).parent / "bench"
    first = run_tasks([task], bench, progress=False)
    again = run_tasks([Task("batio3", "sbs", None, None, None)], bench, progress=False)  # nothing is called
    assert first == again and first["batio3", "sbs"]["rows"]
    dist.destroy_process_group()


def test_two_processes_give_the_weights_of_one(tmp_path):
    """In float64, so that the order in which the gradient's terms are summed
    (one process, or two and an all-reduce) changes nothing at 1e-6: in float32
    Adam's normalised steps amplify that round-off (1.8e-4 after these 6 steps)."""
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    try:
        one = _train(_problems())
        initial = _initial()
    finally:
        torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)
    out = tmp_path / "w.pt"
    mp.spawn(_rank, args=(2, f"file://{tmp_path / 'rendezvous'}", str(out)), nprocs=2, join=True)
    two = torch.load(out)
    files = sorted(str(p.relative_to(tmp_path / "bench")) for p in (tmp_path / "bench").rglob("*") if p.is_file())
    assert files == ["checkpoints/batio3-sbs.pt", "results/batio3-sbs.json"]  # written once, by rank 0
    worst = max(float((one[k] - two[k]).norm() / max(float(one[k].norm()), 1e-30)) for k in one)
    moved = max(float((one[k] - v).norm()) for k, v in initial.items())
    assert moved > 1e-3  # training changed the weights
    print(f"relative weight difference, two processes vs one: {worst:.2e}")
    assert worst < 1e-6, worst


def _initial():
    p = _problems()
    return {k: v.detach().clone() for k, v in StructurePredictor("sbs", seed=4, species=species_of(p),
                                                                 breaker_irreps="1x1o").net.state_dict().items()}


CONFIG = ('kind = "structures"\nseed = 1\noutput = "{out}"\nbreakers = ["sbs"]\ndatasets = ["batio3"]\n'
          '[batio3]\nparents = "T"\ntrain = 4\ntest = 2\nepochs = 2\n')


@pytest.mark.slow  # two torchrun launches of the CLI (30 s); the runner's part is in the test above
def test_train_nproc_writes_once_and_resumes(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(CONFIG.format(out=tmp_path / "bench"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(["physbreak", "train", str(cfg), "--nproc", "2", "--quiet"], capture_output=True, text=True,
                       env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("wrote") == 1  # rank 0 alone reports
    files = sorted(p.name for p in (tmp_path / "bench").rglob("*") if p.is_file())
    assert files == ["batio3-sbs.json", "batio3-sbs.pt", "group_ok.png", "report.md"]
    from physbreak.learn import load

    assert load(tmp_path / "bench" / "checkpoints" / "batio3-sbs.pt").info["processes"] == 2
    stamp = (tmp_path / "bench" / "checkpoints" / "batio3-sbs.pt").stat().st_mtime_ns
    r = subprocess.run(["physbreak", "train", str(cfg), "--nproc", "2", "--quiet"], capture_output=True, text=True,
                       env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "bench" / "checkpoints" / "batio3-sbs.pt").stat().st_mtime_ns == stamp  # kept, not retrained


def test_nproc_bad_value():
    r = subprocess.run(["physbreak", "train", "x.toml", "--nproc", "0"], capture_output=True, text=True)
    assert r.returncode == 2 and "--nproc" in r.stderr and len(r.stderr.strip().splitlines()) == 1
