"""Spin glasses: replica overlaps against exact enumeration, disorder
averages, and a small Edwards-Anderson sweep end to end.

Exact: for two independent replicas of one instance
``<q^2> = (1/N^2) sum_ij <s_i s_j>^2`` and ``<|q(k)|^2> = (1/N^2) sum_ij
<s_i s_j>^2 cos(k.(r_i - r_j))``, with ``<s_i s_j>`` from all 2^16 states of a
4 x 4 +-J torus.  Within 4 standard errors (binned over samples).
"""

import json

import numpy as np
import pytest
import torch

from physbreak.analysis import estimate
from physbreak.analysis.spin_glass import disorder_average
from physbreak.config import parse
from physbreak.io import read_run
from physbreak.lattice import build
from physbreak.mc.sampling import fourier_phases, overlap_pairs, overlaps
from physbreak.workflows.simulate import build_model, simulate
from test_samplers_exact import ISING_STATES

SIGMAS = 4.0


def test_overlaps_brute_force():
    lat = build("cubic", 4, n_shells=1)
    rng = np.random.default_rng(1)
    s = torch.as_tensor(rng.choice([-1, 1], (4, lat.n_sites)).astype(np.int8))
    pairs = overlap_pairs(np.array([1.0, 1.0, 2.0, 2.0]), np.array([0, 1, 0, 1]))
    assert pairs.tolist() == [[0, 1], [2, 3]]
    phases = fourier_phases(lat)
    out = overlaps(s, pairs, phases)
    x = s.numpy().astype(float)
    for p, (a, b) in enumerate(pairs):
        prod = x[a] * x[b]
        k2 = np.mean([abs(np.sum(prod * np.exp(2j * np.pi * lat.positions[:, d] / 4))) ** 2 for d in range(3)])
        assert out[p, 0] == pytest.approx(prod.mean())
        assert out[p, 1] == pytest.approx(k2 / lat.n_sites**2)


def test_overlap_of_a_pm_j_instance_is_exact(tmp_path):
    T = 1.5
    text = ('seed = 3\n[lattice]\nkind = "square"\nsizes = [4]\n[model]\nkind = "ising"\ndisorder = "pm"\n'
            f'disorder_seed = 7\n[temperatures]\nvalues = [{T}]\n[sampler]\nthermalization = 500\n'
            'samples = 20000\nreplicas = 8\n')
    cfg = parse(text)
    (system,) = read_run(simulate(cfg, tmp_path / "sg.h5", progress=False))[1]
    model = build_model(cfg, (4, 4), 0)
    E = model.energy(torch.as_tensor(ISING_STATES)).numpy()
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    corr = np.einsum("s,si,sj->ij", w, ISING_STATES, ISING_STATES)  # <s_i s_j>
    x = model.lattice.positions
    cos = np.mean([np.cos(2 * np.pi * (x[:, None, d] - x[None, :, d]) / 4) for d in range(2)], axis=0)
    exact_q2 = np.sum(corr**2) / 256
    exact_k2 = np.sum(corr**2 * cos) / 256
    q2, k2 = estimate(system.streams["overlap"] ** 2), estimate(system.streams["overlap_k"])
    assert abs(q2.mean - exact_q2) < SIGMAS * q2.error, (q2, exact_q2)
    assert abs(k2.mean - exact_k2) < SIGMAS * k2.error, (k2, exact_k2)
    assert system.attrs["lowest_energy"] == pytest.approx(system.streams["energy"].min())
    assert system.attrs["lowest_energy"] >= E.min() / 16 - 1e-12


def test_disorder_average_formulas():
    T = np.array([1.0, 2.0])
    rng = np.random.default_rng(0)
    inst = [{"T": T, "q2": rng.uniform(0.2, 0.4, 2), "q4": rng.uniform(0.05, 0.1, 2), "k2": rng.uniform(0.05, 0.1, 2),
             "q2_half": np.ones(2), "q2_quarter": np.ones(2), "lowest_energy": -1.5, "n_sites": 64, "size": [4, 4, 4]}
            for _ in range(40)]
    a = disorder_average(inst)
    q2, q4, k2 = (np.mean([i[k] for i in inst], 0) for k in ("q2", "q4", "k2"))
    assert np.allclose(a["chi_sg"], 64 * q2)
    assert np.allclose(a["g"], 0.5 * (3 - q4 / q2**2))
    assert np.allclose(a["xi_over_L"], np.sqrt(q2 / k2 - 1) / (2 * np.sin(np.pi / 4)) / 4)
    assert np.all(a["g_err"] > 0) and a["n_instances"] == 40 and a["lowest_energy_mean"] == -1.5


def test_edwards_anderson_sweep_end_to_end(tmp_path):
    """A small 3D +-J study through the sweep machinery: 12 instances of L = 4
    and 6, tempering with two replicas; analyze reports chi_SG, g and xi_L / L
    per size with errors, crossings, and each instance's lowest energy."""
    import subprocess
    import sys

    from conftest import run_cli

    cfg = tmp_path / "sweep.toml"
    cfg.write_text(f'kind = "sweep"\noutput = "{tmp_path / "out"}"\nworkers = 2\n[lattice]\nkind = "cubic"\n'
                   '[sampler]\nalgorithm = "tempering"\nthermalization = 300\nsamples = 300\nreplicas = 2\n'
                   '[grid]\nmodels = [{kind = "ising", disorder = "pm"}]\nsizes = [4, 6]\n'
                   'temperatures = [0.9, 1.1, 1.3, 1.6, 2.0]\nseeds = [1]\ndisorder_samples = 12\n')
    r = subprocess.run([sys.executable, "-m", "physbreak.cli", "sweep", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = run_cli("analyze", tmp_path / "out" / "index.h5", "--json", "--no-plots")
    assert r.returncode == 0, r.stderr
    (model,) = json.loads(r.stdout)["models"]
    glass = model["spin_glass"]
    assert [a["n_instances"] for a in glass["sizes"]] == [12, 12]
    for a in glass["sizes"]:
        assert len(a["lowest_energy"]) == 12 and all(-3.0 <= e < -1.0 for e in a["lowest_energy"])
        assert a["xi_over_L"][0] > a["xi_over_L"][-1] and all(e > 0 for e in a["chi_sg_err"])
        assert a["chi_sg"][0] > a["chi_sg"][-1]
    assert len(glass["xi_crossings"]) == 1 and model["binder"] is None
    text = run_cli("analyze", tmp_path / "out" / "index.h5", "--no-plots").stdout
    assert "xi_L / L crossing 4x4x4 / 6x6x6" in text and "lowest energy per spin found" in text


def test_windowed_crossing_exists_where_a_jackknife_curve_does_not_cross():
    """Two straight lines crossing at T = 1.1, between grid points: the window
    fit recovers 1.1 exactly.  One jackknife curve of ``b`` is shifted so that
    its piecewise-linear difference never changes sign on the grid: the
    interpolating estimator then has no error, the windowed one has one."""
    from physbreak.analysis.binder import Curve, pair_crossings

    T = np.array([0.95, 1.0, 1.05, 1.12, 1.2, 1.3])
    ua, ub = 1.0 + 0.5 * (T - 1.1), 1.0 + 0.8 * (T - 1.1)
    jk_a = np.stack([ua + 1e-4 * np.cos(j + T) for j in range(10)])
    jk_b = np.stack([ub + 1e-4 * np.sin(j * T) for j in range(10)])
    jk_b[3] = 1.012 + 0.45 * (T - 1.1)  # its line crosses a's at T = 1.34, beyond the grid
    a, b = Curve("4", 64, [4], T, ua, jk_a, T), Curve("6", 216, [6], T, ub, jk_b, T)
    (plain,), warnings = pair_crossings(a, b)
    assert plain["tc_err"] is None and any("does not cross" in w for w in warnings)
    (fit,), warnings = pair_crossings(a, b, window=4)
    assert fit["tc"] == pytest.approx(1.1, abs=1e-12) and fit["u4"] == pytest.approx(1.0, abs=1e-12)
    assert 0.1 < fit["tc_err"] < 0.5  # the odd curve's crossing, 0.24 away, dominates the error
    assert not any("does not cross" in w for w in warnings)
