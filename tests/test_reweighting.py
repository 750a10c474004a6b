"""Histogram reweighting against direct runs and exact results; finite-size scaling fits."""

import numpy as np
import pytest
import torch

from physbreak.analysis.exact import ISING_2D_TC, ising_torus_energy
from physbreak.analysis.fss import Peak, fss_fit, ising_series, observables, power_law
from physbreak.analysis.reweighting import Reweighting
from physbreak.errors import InvalidValue
from physbreak.lattice import build
from physbreak.mc import Wolff
from physbreak.systems import Ising

SIGMAS = 4.0  # combined standard errors; a correct estimate fails one comparison in ~16000


def wolff_runs(L, T, chains=4, samples=15000, seed=0):
    """Independent Wolff chains at one temperature, one sample per sweep-equivalent."""
    model = Ising(build("square", L))
    sampler = Wolff(model, [T] * chains, np.random.SeedSequence(seed))
    state = model.initial_state(chains, torch.Generator().manual_seed(seed), ordered=True)
    for _ in range(300):
        sampler.sweep(state, adapt=True)
    E, M = [], []
    for _ in range(samples):
        sampler.sweep(state)
        E.append(model.energy(state).numpy())
        M.append(model.magnetization(state)[:, 0].numpy())
    E, M = np.array(E), np.array(M)
    return [ising_series(E[:, c], M[:, c]) for c in range(chains)], model.n_sites


def direct(runs, n_sites, beta):
    """Plain averages of independent chains: values and errors from their spread."""
    per_chain = [observables({k: np.atleast_1d(v.mean()) for k, v in r.items()}, beta, n_sites) for r in runs]
    return {k: (np.mean([p[k] for p in per_chain]), np.std([p[k] for p in per_chain], ddof=1)
                / np.sqrt(len(per_chain))) for k in per_chain[0]}


@pytest.fixture(scope="module")
def l32():
    return {T: wolff_runs(32, T, seed=k) for k, T in enumerate((2.269, 2.24, 2.30))}


@pytest.mark.slow  # a long study: four L = 32 Wolff runs (about 20 s)
def test_single_histogram_from_tc_reproduces_direct_runs(l32):
    """One run at T = 2.269 (L = 32), reweighted to 2.24 and 2.30, against direct
    runs there: e, <|m|>, chi', C and U4 within 4 combined standard errors."""
    runs, n = l32[2.269]
    rw = Reweighting(runs, [1 / 2.269] * len(runs))
    for T in (2.24, 2.30):
        ref = direct(*l32[T], 1 / T)
        for name in ("e", "abs_m", "chi", "heat", "binder"):
            value, error = rw.estimate(lambda av, b=1 / T, k=name: observables(av, np.atleast_1d(b), n)[k], [1 / T])
            combined = np.hypot(error[0], ref[name][1])
            assert abs(value[0] - ref[name][0]) < SIGMAS * combined, (T, name, value[0], ref[name])
        assert rw.estimate(lambda av: observables(av, np.atleast_1d(1 / T), n)["e"], [1 / T])[0][0] == \
            pytest.approx(ising_torus_energy(32, T), abs=5 * ref["e"][1])


def test_multiple_histogram_matches_the_exact_energy_between_runs():
    """Runs at 2.15 and 2.40 (L = 16) combined by Ferrenberg-Swendsen: the
    energy at temperatures between them equals Kaufman's exact value."""
    low, n = wolff_runs(16, 2.15, chains=2, samples=15000, seed=10)
    high, _ = wolff_runs(16, 2.40, chains=2, samples=15000, seed=11)
    rw = Reweighting(low + high, [1 / 2.15] * 2 + [1 / 2.40] * 2)
    temps = np.array([2.2, 2.269, 2.33])
    e, de = rw.estimate(lambda av: av["E"] / n, 1 / temps)
    exact = np.array([ising_torus_energy(16, T) for T in temps])
    assert np.all(np.abs(e - exact) < SIGMAS * de), (e, de, exact)
    # the solved ln Z ratio agrees with Kaufman's exact partition function
    from physbreak.analysis.exact import ising_torus_log_z

    d_exact = ising_torus_log_z(16, 1 / 2.40) - ising_torus_log_z(16, 1 / 2.15)
    assert rw.log_z[2] - rw.log_z[0] == pytest.approx(d_exact, abs=0.05)


def test_ln_z_solve_satisfies_the_ferrenberg_swendsen_equations_from_any_start():
    """The solved ln Z_k satisfy the Ferrenberg-Swendsen equations
    ``Z_k = sum_n exp(-beta_k E_n) / sum_j N_j exp(-beta_j E_n) / Z_j``; started
    from the solution, or 40 off either way, the solver reaches the same
    minimum (the objective is convex)."""
    from scipy.special import logsumexp

    low, _ = wolff_runs(8, 2.15, chains=2, samples=2000, seed=3)
    high, _ = wolff_runs(8, 2.6, chains=2, samples=2000, seed=4)
    betas = np.array([1 / 2.15] * 2 + [1 / 2.6] * 2)
    rw = Reweighting(low + high, betas)
    E, counts = rw.data["E"], np.bincount(rw.run).astype(float)
    log_den = logsumexp(np.log(counts)[:, None] - betas[:, None] * E[None] - rw.log_z[:, None], axis=0)
    log_z = logsumexp(-betas[:, None] * E[None] - log_den[None], axis=1)
    assert np.allclose(log_z - log_z[0], rw.log_z, atol=1e-8)
    keep = np.ones(len(rw.run), bool)
    assert np.allclose(rw._solve(keep, rw.log_z), rw.log_z, atol=1e-8)
    for offset in (40.0, -40.0):
        start = rw.log_z + offset * np.array([0, 0, 1, 1])
        assert np.allclose(rw._solve(keep, start), rw.log_z, atol=1e-7)


@pytest.mark.slow  # shares the study's runs
def test_reweighting_to_the_run_temperature_is_the_plain_average(l32):
    runs, n = l32[2.24]
    rw = Reweighting(runs, [1 / 2.24] * len(runs))
    av = rw.averages([1 / 2.24])
    assert av["E"][0] == pytest.approx(np.mean(np.concatenate([r["E"] for r in runs])), rel=1e-12)


def test_fss_fit_recovers_exponents_of_exact_power_laws():
    """Synthetic peaks with exact exponents and 1% noise: the fit returns them within its errors."""
    rng = np.random.default_rng(0)
    L = np.array([8, 12, 16, 24, 32, 48, 64.0])
    tables = []
    for size in L:
        def noisy(y, r=rng):
            return Peak(0.0, 0.0, y * (1 + 0.01 * r.standard_normal()), 0.01 * y)
        chi = noisy(0.3 * size**1.75)
        chi.beta, chi.beta_error = 1 / ISING_2D_TC - 0.3 / size, 1e-4
        tables.append({"chi": chi, "dlnm": noisy(1.1 * size), "dlnm2": noisy(2.0 * size)})
    fit = fss_fit(L, tables)
    assert abs(fit["gamma_over_nu"].value - 1.75) < 3 * fit["gamma_over_nu"].error
    assert abs(fit["nu"].value - 1.0) < 3 * fit["nu"].error
    assert fit["Tc"].value == pytest.approx(ISING_2D_TC, abs=3 * fit["Tc"].error + 1e-4)
    slope, amplitude = power_law(L, 2 * L**0.5, 0.01 * L)
    assert slope.value == pytest.approx(0.5) and amplitude == pytest.approx(2.0)


def test_fss_fit_from_a_minimum_size_removes_a_correction_to_scaling():
    """chi' peaks 0.3 L^1.75 (1 + 5 / L^2) with 0.5 % noise: the fit over L = 8..64
    is pulled off 7/4 by the small sizes (chi2/dof >> 1); from L >= 24 the
    correction is below the noise and the fit returns 7/4 within its errors."""
    rng = np.random.default_rng(1)
    L = np.array([8, 12, 16, 24, 32, 48, 64.0])
    tables = []
    for size in L:
        def noisy(y, r=rng):
            return Peak(1 / ISING_2D_TC - 0.3 / size, 1e-4, y * (1 + 0.005 * r.standard_normal()), 0.005 * y)
        tables.append({"chi": noisy(0.3 * size**1.75 * (1 + 5 / size**2)), "dlnm": noisy(1.1 * size),
                       "dlnm2": noisy(2.0 * size)})
    full, large = fss_fit(L, tables)["gamma_over_nu"], fss_fit(L, tables, min_size=24)["gamma_over_nu"]
    assert abs(full.value - 1.75) > 5 * full.error and full.chi2_dof > 5
    assert abs(large.value - 1.75) < 3 * large.error and large.chi2_dof < 3
    with pytest.raises(InvalidValue, match="fss-min-size.*at most 32"):
        fss_fit(L, tables, min_size=40)


def test_bad_runs_are_refused():
    with pytest.raises(ValueError, match="one run per beta"):
        Reweighting([{"E": np.zeros(40)}], [0.4, 0.5])
    with pytest.raises(ValueError, match="including 'E'"):
        Reweighting([{"m": np.zeros(40)}], [0.4])
    with pytest.raises(ValueError, match="fewer than n_blocks"):
        Reweighting([{"E": np.zeros(5)}], [0.4])


@pytest.mark.slow  # a finite-size-scaling study over four sizes (15-25 s)
def test_analyze_fss_on_a_run_file(tmp_path):
    """`physbreak analyze RUN --fss` end to end on a small Wolff run; a file with
    fewer than three sizes gets a clear error."""
    import subprocess
    import sys

    cfg = tmp_path / "fss.toml"
    cfg.write_text('seed = 1\n[lattice]\nkind = "square"\nsizes = [8, 12, 16]\n[model]\nkind = "ising"\n'
                   '[temperatures]\nvalues = [2.3, 2.45, 2.6]\n[sampler]\nalgorithm = "wolff"\n'
                   'thermalization = 200\nsamples = 3000\n')
    run = tmp_path / "fss.h5"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "physbreak.cli", *args], capture_output=True, text=True)

    assert cli("simulate", str(cfg), "--out", str(run), "--quiet").returncode == 0
    r = cli("analyze", str(run), "--fss", "--plots", str(tmp_path / "plots"))
    assert r.returncode == 0, r.stderr
    assert "nu        =" in r.stdout and "gamma/nu  =" in r.stdout and (tmp_path / "plots" / "fss.png").exists()
    nu = float(r.stdout.split("nu        =")[1].split()[0])
    assert 0.7 < nu < 1.3  # three small sizes, 3000 samples: a loose sanity band, not the check of nu
    r = cli("analyze", str(run), "--fss", "--no-plots", "--fss-min-size", "12")  # leaves 2 sizes
    assert r.returncode == 2 and "--fss-min-size = 12.0 is not allowed: at most 8" in r.stderr
    cfg.write_text(cfg.read_text().replace("sizes = [8, 12, 16]", "sizes = [8, 12]"))
    small = tmp_path / "small.h5"
    assert cli("simulate", str(cfg), "--out", str(small), "--quiet").returncode == 0
    r = cli("analyze", str(small), "--fss", "--no-plots")
    assert r.returncode == 2 and "needs >= 3" in r.stderr


def test_fss_refuses_a_peak_outside_the_sampled_energy_range():
    """Runs only well above the chi' peaks (T = 3.4, 3.6): the reweighted range
    stops where the sampled energies end (L = 8: near T = 2.9, while the peak
    lies near T = 2.5), so the peak falls at its edge and the error names the
    size and the temperature.  (On L = 4 the energy histogram is so broad that
    runs at T = 3.2 do cover T = 2.4: coverage depends on the size.)"""
    from physbreak.analysis.fss import covered_grid, fss_of_sizes

    per_size = {}
    for L in (8, 12, 16):
        runs = [wolff_runs(L, T, chains=1, samples=2000, seed=L)[0][0] for T in (3.4, 3.6)]
        per_size[L] = (runs, 1.0 / np.array([3.4, 3.6]), L * L)
    runs, betas, _ = per_size[8]
    grid = covered_grid(Reweighting(runs, betas), runs, betas, 50)
    assert 1 / grid[-1] > 2.75  # the coverage ends well above the L = 8 peak
    with pytest.raises(InvalidValue, match=r"size L = 8: .*peak at T = .*the edge of the range"):
        fss_of_sizes(per_size, "test data")


def test_power_law_with_a_correction_to_scaling():
    """y = 2 L^1.75 (1 + 0.8 L^-0.83): the plain log-log fit is biased, the
    corrected one recovers the exponent; fewer than 4 sizes are refused."""
    L = np.array([8.0, 12, 16, 24, 32, 48])
    y = 2 * L**1.75 * (1 + 0.8 * L**-0.83)
    dy = 1e-4 * y
    plain, corrected = power_law(L, y, dy)[0], power_law(L, y, dy, omega=0.83)[0]
    assert abs(plain.value - 1.75) > 0.02
    assert corrected.value == pytest.approx(1.75, abs=1e-6) and corrected.chi2_dof < 1e-6
    with pytest.raises(InvalidValue, match="fss-omega"):
        power_law(L[:3], y[:3], dy[:3], omega=0.83)
