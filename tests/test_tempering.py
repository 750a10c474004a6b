"""Parallel tempering: exact ground states of small spin glasses, exact thermal averages."""

import numpy as np
import pytest

from physbreak.groundstate.enumerate import energies, exact_ground_states
from physbreak.problems.spin_families import _spin_glass
from physbreak.mc.tempering import ParallelTempering, ground_state


def test_finds_the_exact_ground_state_of_every_small_ea_instance():
    """EA +-J and Gaussian on 4x4 and 5x5 tori (N <= 25): the lowest energy
    visited equals the Gray-code enumeration's, and the returned state has it."""
    rng = np.random.default_rng(0)
    for k in range(16):
        L = (4, 5)[k % 2]
        _, bonds, J, h = _spin_glass(rng, L, {"couplings": ("pm", "gaussian")[(k // 2) % 2]})
        exact = exact_ground_states(L * L, bonds, J).energy
        e, state = ground_state(L * L, bonds, J, rounds=2000, seed=k)
        assert e == pytest.approx(exact, abs=1e-9), k
        assert energies(state[None], bonds, J, h)[0] == pytest.approx(e, abs=1e-9)


def test_every_temperature_samples_the_boltzmann_distribution():
    """3x3 +-J torus (512 states): the mean energy at each temperature of the
    ladder equals the exact Boltzmann average (exchange moves keep detailed
    balance).  Tolerance 5 standard errors from 40 bins."""
    rng = np.random.default_rng(3)
    _, bonds, J, h = _spin_glass(rng, 3, {})
    S = 1 - 2 * ((np.arange(2**9)[:, None] >> np.arange(9)) & 1)
    E = energies(S, bonds, J, h)
    temps = np.array([0.5, 0.8, 1.2, 2.0, 3.5])
    pt = ParallelTempering(9, bonds, J, temps, np.random.SeedSequence(1))
    pt.run(2000)
    samples = []
    for _ in range(40000):
        pt.run(1)
        samples.append(pt.energies_by_temperature().copy())
    bins = np.array(samples).reshape(40, -1, len(temps)).mean(1)
    for k, T in enumerate(temps):
        w = np.exp(-(E - E.min()) / T)
        exact = (E * w).sum() / w.sum()
        err = bins[:, k].std(ddof=1) / np.sqrt(len(bins))
        assert abs(bins[:, k].mean() - exact) < 5 * err + 1e-9, (T, bins[:, k].mean(), exact)
    assert np.all(pt.acceptance > 0)


def test_adapt_equalises_the_exchange_acceptance():
    rng = np.random.default_rng(4)
    _, bonds, J, _ = _spin_glass(rng, 8, {})
    temps = np.geomspace(0.3, 3.0, 10)
    pt = ParallelTempering(64, bonds, J, temps, np.random.SeedSequence(2))
    pt.run(3000)
    before = pt.acceptance.copy()
    pt.adapt(iterations=30, rounds=300)
    pt.run(3000)
    after = pt.acceptance
    assert pt.temperatures[0] == pytest.approx(0.3) and pt.temperatures[-1] == pytest.approx(3.0)
    assert np.all(np.diff(pt.temperatures) > 0)
    assert after.std() < 0.5 * before.std()


def test_bad_temperatures_are_refused():
    with pytest.raises(ValueError, match="temperatures"):
        ParallelTempering(4, [[0, 1]], [1.0], [1.0, 0.5], np.random.SeedSequence(0))


def test_simulate_with_tempering_samples_the_exact_boltzmann_energy(tmp_path):
    """`sampler.algorithm = "tempering"` on a 3x3 EA +-J torus through `simulate`:
    the stored energy stream at every temperature equals the exact Boltzmann
    average of that disorder instance (4 binning standard errors); decreasing
    order is allowed, unordered temperatures are refused."""
    from physbreak.analysis import estimate
    from physbreak.config import parse
    from physbreak.errors import ConfigError
    from physbreak.io import read_run
    from physbreak.workflows.simulate import build_model, simulate

    text = ('seed = 5\n[lattice]\nkind = "square"\nsizes = [3]\n[model]\nkind = "ising"\ndisorder = "pm"\n'
            '[temperatures]\nvalues = [0.4, 0.7, 1.0, 1.6, 2.5]\n'
            '[sampler]\nalgorithm = "tempering"\nthermalization = 500\nsamples = 20000\nreplicas = 2\n')
    cfg = parse(text)
    model = build_model(cfg, cfg.lattice.sizes[0], 0)
    S = 1 - 2 * ((np.arange(2**9)[:, None] >> np.arange(9)) & 1)
    E = energies(S, model.bonds, model.bond_J, np.zeros(9)) / 9
    _, (system,) = read_run(simulate(cfg, tmp_path / "pt.h5", progress=False))
    assert system.attrs["algorithm"] == "tempering"
    for k, T in enumerate(cfg.temperatures):
        chains = np.flatnonzero(system.temperature == T)
        est = estimate(system.streams["energy"][:, chains])
        w = np.exp(-(E - E.min()) * 9 / T)
        exact = (E * w).sum() / w.sum()
        assert abs(est.mean - exact) < 4 * est.error + 1e-12, (T, est, exact)
    with pytest.raises(ConfigError, match="increasing or decreasing order"):
        simulate(parse(text.replace("[0.4, 0.7, 1.0, 1.6, 2.5]", "[0.4, 1.6, 1.0]")), tmp_path / "bad.h5")
    assert not (tmp_path / "bad.h5").exists()
