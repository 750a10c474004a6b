"""Large-system physics against exact results (checks 1, 2 and 5 of the
foundation issue).  Tolerances are 3 statistical sigma unless stated."""

import numpy as np
import pytest

from conftest import run_chains
from physbreak.analysis import (ISING_2D_TC, estimate, onsager_energy, spin_wave_energy, tau_int,
                                yang_magnetization)
from physbreak.analysis.stats import bin_length_for, bin_means, jackknife_error, jackknife_samples
from physbreak.lattice import build
from physbreak.mc import Metropolis, Wolff
from physbreak.systems import Ising, make_model


@pytest.fixture(scope="module")
def ising64():
    return Ising(build("square", 64))


@pytest.mark.parametrize("T", [2.0, 3.0])
def test_onsager_energy_and_yang_magnetization_L64(ising64, T):
    sampler = Metropolis(ising64, [T] * 8, np.random.SeedSequence(int(T * 10)))
    e, m = run_chains(ising64, sampler, 500, 1500, ordered=True)
    est = estimate(e)
    assert est.error <= 2e-3
    assert abs(est.mean - onsager_energy(T)) < 3 * est.error, (est, onsager_energy(T))
    if T < ISING_2D_TC:
        m_est = estimate(np.abs(m[..., 0]))
        assert abs(m_est.mean - yang_magnetization(T)) < 3 * m_est.error, m_est


def binder(m):
    """U4 and its jackknife error from (n_samples, n_chains) magnetisations."""
    b = bin_length_for(max(tau_int(m[:, k]) for k in range(m.shape[1])))
    series = [bin_means(m**2, b).ravel(), bin_means(m**4, b).ravel()]
    u, jk = jackknife_samples(lambda m2, m4: 1 - m4 / (3 * m2**2), series)
    return u, jackknife_error(jk)


def test_wolff_and_metropolis_agree_at_tc_L32():
    """The Binder cumulant at Tc from the compiled Metropolis (what simulate runs on
    the CPU; the torch kernel is checked against the exact torus energy in
    tests/test_mc_kernels.py) and from Wolff."""
    from physbreak.mc.compiled import CompiledMetropolis

    model = Ising(build("square", 32))
    T = 2.269
    results = {}
    for alg, n in ((CompiledMetropolis, 6000), (Wolff, 3000)):
        e, m = run_chains(model, alg(model, [T] * 8, np.random.SeedSequence(21)), 1000, n)
        results[alg.__name__] = (estimate(e), binder(m[..., 0]))
    (e1, (u1, du1)), (e2, (u2, du2)) = results.values()
    assert abs(e1.mean - e2.mean) < 3 * np.hypot(e1.error, e2.error)
    assert abs(u1 - u2) < 3 * np.hypot(du1, du2)
    assert du1 < 0.01 and du2 < 0.01  # the comparison has teeth


@pytest.mark.slow  # a long study: tau_int of both samplers at Tc, L = 64 (10-17 s)
def test_wolff_beats_metropolis_autocorrelation_at_tc_L64(ising64):
    """tau_int of |m| in sweep-equivalents: Wolff at least 10x below Metropolis."""
    T = ISING_2D_TC
    taus = {}
    for alg, n in ((Metropolis, 8000), (Wolff, 2000)):
        sampler = alg(ising64, [T] * 4, np.random.SeedSequence(22))
        _, m = run_chains(ising64, sampler, 2000, n)
        absm = np.linalg.norm(m, axis=-1)
        work = 1.0 if alg is Metropolis else sampler.clusters * sampler.mean_cluster / ising64.n_sites
        taus[alg.__name__] = np.mean([tau_int(absm[:, k]) for k in range(4)]) * np.mean(work)
    assert taus["Metropolis"] > 10 * taus["Wolff"], taus


@pytest.mark.parametrize("kind, dim, L", [("xy", 2, 16), ("heisenberg", 3, 8)])
def test_spin_wave_energy_at_low_temperature(kind, dim, L):
    """e = -dim + (n-1) T / 2 + O(T^2); at T = 0.1 the O(T^2) terms are < 0.005."""
    T = 0.1
    model = make_model(kind, build("square" if dim == 2 else "cubic", L))
    sampler = Metropolis(model, [T] * 4, np.random.SeedSequence(23), step=0.3)
    e, _ = run_chains(model, sampler, 500, 500, ordered=True)
    est = estimate(e)
    assert abs(est.mean - spin_wave_energy(T, model.n_components, dim)) < 0.005, est
    assert est.error < 1e-3


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_metropolis_on_cuda_matches_onsager():
    model = Ising(build("square", 64), device="cuda")
    sampler = Metropolis(model, [2.0] * 8, np.random.SeedSequence(30))
    state = model.initial_state(8, __import__("torch").Generator(device="cuda").manual_seed(0),
                                ordered=True)
    for _ in range(500):
        sampler.sweep(state)
    e = []
    for _ in range(1500):
        sampler.sweep(state)
        e.append((model.energy(state) / model.n_sites).cpu().numpy())
    est = estimate(np.array(e))
    assert abs(est.mean - onsager_energy(2.0)) < 3 * est.error
