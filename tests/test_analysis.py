import numpy as np
import pytest

from physbreak.analysis import crossing, estimate, onsager_energy, tau_int, yang_magnetization
from physbreak.analysis.binder import binder_crossings, grid_curves
from physbreak.analysis.exact import ISING_2D_TC, potts_2d_tc


def ar1(phi, n, chains, seed=0):
    """AR(1) series x_t = phi x_{t-1} + noise: tau_int = (1 + phi) / (2 (1 - phi))."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, chains))
    noise = rng.normal(size=(n, chains))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_tau_int_of_ar1(phi):
    x = ar1(phi, 100_000, 1)
    exact = (1 + phi) / (2 * (1 - phi))
    assert abs(tau_int(x[:, 0]) / exact - 1) < 0.1


def test_error_bar_is_calibrated_on_correlated_data():
    """Over many independent runs, the stated error matches the spread of the means."""
    means, errors = [], []
    for seed in range(60):
        est = estimate(ar1(0.8, 4000, 1, seed))
        means.append(est.mean)
        errors.append(est.error)
    spread = np.std(means, ddof=1)
    assert 0.75 < np.mean(errors) / spread < 1.33
    naive = np.std(ar1(0.8, 4000, 1)) / np.sqrt(4000)  # ignoring correlations: 3x too small
    assert naive < 0.5 * spread


def test_exact_values():
    assert onsager_energy(ISING_2D_TC) == pytest.approx(-np.sqrt(2), abs=1e-6)
    assert onsager_energy(0.1) == pytest.approx(-2.0, abs=1e-9)
    assert yang_magnetization(2.0) == pytest.approx(0.911319, abs=1e-6)
    assert yang_magnetization(2.3) == 0.0
    assert potts_2d_tc(2) == pytest.approx(ISING_2D_TC / 2)  # q = 2 Potts is Ising with J/2


def test_crossing_of_straight_lines_and_none():
    T = np.linspace(1.0, 2.0, 11)
    assert crossing(T, 1 - 0.5 * T, 0.5 - 0.1 * T) == pytest.approx(1.25)
    assert np.isnan(crossing(T, T, T + 1))


def test_no_crossing_is_reported_as_none():
    T = np.linspace(1.0, 2.0, 5)
    rows = [{"system": f"L{L}", "size": [L], "n_sites": L, "temperature": t, "binder": L + t,
             "binder_jk": np.full(20, L + t)} for L in (4, 8) for t in T]
    assert binder_crossings(grid_curves(rows))["tc"] is None


def test_binder_crossings_on_synthetic_scaling_curves():
    """U_L(T) = f((T - Tc) L^(1/nu)) crosses at Tc for every pair of sizes."""
    tc, rng = 1.7, np.random.default_rng(0)
    T = np.linspace(1.6, 1.8, 9)
    rows = []
    for L in (8, 16, 32):
        u = 0.6 - 0.4 * np.tanh((T - tc) * L)
        for t, val in zip(T, u):
            jk = val + 1e-4 * rng.normal(size=20)
            rows.append({"system": f"L{L}", "size": [L, L], "n_sites": L * L, "temperature": t,
                         "binder": val, "binder_jk": jk})
    result = binder_crossings(grid_curves(rows))
    assert len(result["pairs"]) == 2
    assert result["tc"] == pytest.approx(tc, abs=2e-3)
    assert 0 < result["tc_err"] < 0.01
    assert result["u4"] == pytest.approx(0.6, abs=2e-3) and 0 < result["u4_err"] < 0.01
    assert not result["warnings"]


def test_several_crossings_and_edge_crossings_are_reported_and_warned():
    """Curves that cross twice: both crossings listed, a warning names both; Tc of
    crossing in the last sampled interval is flagged; a size with few
    independent samples is flagged."""
    T = np.linspace(1.0, 2.0, 11)
    zero = np.zeros(20)
    curves = {8: 0.5 + 0.0 * T, 16: 0.5 + (T - 1.25) * (T - 1.75), 32: 0.5 + (T - 1.25) * (T - 1.75) + 0.3 * (T - 1.95)}
    rows = [{"system": f"L{L}", "size": [L], "n_sites": L, "temperature": t, "binder": u,
             "binder_jk": u + zero, "n_samples": 1000, "tau_abs_m": 1.0 if L < 32 else 50.0}
            for L, c in curves.items() for t, u in zip(T, c)]
    result = binder_crossings(grid_curves(rows), rows)
    small, large = result["pairs"]
    assert [c["tc"] for c in small["crossings"]] == pytest.approx([1.25, 1.75], abs=0.01)
    assert [c["tc"] for c in large["crossings"]] == pytest.approx([1.95])
    text = "\n".join(result["warnings"])
    assert "cross 2 times" in text and "last sampled interval" in text and "independent samples" in text
    assert result["tc"] == pytest.approx(1.95)
