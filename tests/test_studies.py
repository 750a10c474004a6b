"""The shipped critical studies, run exactly as a user runs them (checks 3 and 4).
Long studies (about 90 s together on 2 cores): marked ``slow``, run with ``pytest -m slow``."""

import json
import subprocess
from pathlib import Path

import pytest


from physbreak.analysis import ISING_2D_TC, potts_2d_tc

ROOT = Path(__file__).resolve().parents[1]


def run_study(tmp_path, name):
    out = tmp_path / f"{name}.h5"
    cmd = ["physbreak", "simulate", str(ROOT / "simulations" / f"{name}.toml"), "--out", str(out),
           "--quiet"]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    r = subprocess.run(["physbreak", "analyze", str(out), "--json", "--no-plots"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["binder"]


@pytest.mark.slow
def test_ising2d_critical_study_finds_onsager_tc(tmp_path):
    binder = run_study(tmp_path, "ising2d_critical")
    assert abs(binder["tc"] / ISING_2D_TC - 1) < 0.01, binder
    assert 0 < binder["tc_err"] < 0.01


@pytest.mark.slow
def test_potts3_critical_study_finds_exact_tc(tmp_path):
    binder = run_study(tmp_path, "potts3_critical")
    assert abs(binder["tc"] / potts_2d_tc(3) - 1) < 0.02, binder
