"""An interrupted run (SIGKILL) leaves a readable file, and --resume gives
the same file as an uninterrupted run, bit for bit."""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from physbreak.io import read_run

CONFIGS = {
    "ising-metropolis": ('kind = "square"\nsizes = [12, 24]', 'kind = "ising"', "metropolis"),
    "potts-wolff": ('kind = "square"\nsizes = [12, 24]', 'kind = "potts"\nq = 3', "wolff"),
    "xy-metropolis": ('kind = "triangular"\nsizes = [9, 12]', 'kind = "xy"', "metropolis"),
    "ising-swendsen_wang": ('kind = "honeycomb"\nsizes = [8, 12]', 'kind = "ising"', "swendsen_wang"),
    "glass-tempering": ('kind = "square"\nsizes = [6, 9]', 'kind = "ising"\ndisorder = "pm"', "tempering"),
}


LONGER = {"ising-metropolis": 20}  # sweeps per sample where the kernel is so fast that the run could end
# before the test sees its second system started and kills it


def write_config(path, name, samples, sweeps_per_sample=1):
    lattice, model, algorithm = CONFIGS[name]
    path.write_text(f"""seed = 7
[lattice]
{lattice}
[model]
{model}
[temperatures]
values = [0.9, 1.1, 2.0]
[sampler]
algorithm = "{algorithm}"
thermalization = 50
samples = {samples}
sweeps_per_sample = {sweeps_per_sample}
replicas = 2
flush_seconds = 0.02
""")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "physbreak.cli", *args], capture_output=True,
                          text=True, timeout=300)


def progress(path):
    """(samples done in the last started system, systems started), read without
    locking while the writer runs; a read that catches the writer mid-update
    (any error) just counts as no progress yet."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            groups = list(f["systems"].values())
            return int(groups[-1].attrs["samples_done"]) if groups else 0, len(groups)
    except Exception:
        return 0, 0


def all_datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
        attrs = {name: dict(g.attrs) for name, g in f["systems"].items()}
    return out, attrs


SLOW = {"xy-metropolis", "ising-swendsen_wang"}  # the same checkpoint path as the others: slow-marked for time


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CONFIGS])
def test_sigkill_then_resume_is_bit_identical(tmp_path, name):
    cfg = tmp_path / "run.toml"
    write_config(cfg, name, samples=1500, sweeps_per_sample=LONGER.get(name, 1))
    reference, killed = tmp_path / "reference.h5", tmp_path / "killed.h5"
    assert cli("simulate", str(cfg), "--out", str(reference), "--quiet").returncode == 0

    proc = subprocess.Popen([sys.executable, "-m", "physbreak.cli", "simulate", str(cfg),
                             "--out", str(killed), "--quiet"])
    deadline = time.time() + 120
    while time.time() < deadline:
        done, started = progress(killed)
        if started == 2 and done >= 1:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done, started = progress(killed)
    assert started == 2 and done >= 1  # killed inside the second system

    root, systems = read_run(killed)  # the killed file is readable
    assert not root["complete"]
    assert len(systems) == 2 and systems[1].streams["energy"].shape[0] < 1500

    if name == next(iter(CONFIGS)):  # no --resume: refused (the same code path for every kernel)
        assert cli("simulate", str(cfg), "--out", str(killed)).returncode == 2
    assert cli("simulate", str(cfg), "--out", str(killed), "--resume", "--quiet").returncode == 0
    (ref_data, ref_attrs), (res_data, res_attrs) = all_datasets(reference), all_datasets(killed)
    assert ref_data.keys() == res_data.keys()
    for key in ref_data:
        assert np.array_equal(ref_data[key], res_data[key]), key
    assert ref_attrs.keys() == res_attrs.keys()
    for name, attrs in ref_attrs.items():
        assert attrs.keys() == res_attrs[name].keys()
        assert all(np.array_equal(v, res_attrs[name][k]) for k, v in attrs.items()), name
    with h5py.File(killed) as f:
        assert f.attrs["complete"]


def test_resume_refuses_a_different_config(tmp_path):
    cfg = tmp_path / "run.toml"
    write_config(cfg, "ising-metropolis", samples=20)
    out = tmp_path / "run.h5"
    assert cli("simulate", str(cfg), "--out", str(out), "--quiet").returncode == 0
    cfg.write_text(cfg.read_text().replace("seed = 7", "seed = 8"))
    r = cli("simulate", str(cfg), "--out", str(out), "--resume", "--quiet")
    assert r.returncode == 2 and "seed = 8" in r.stderr and "stored" in r.stderr
