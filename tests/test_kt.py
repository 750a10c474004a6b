"""Helicity modulus, vortices and T_KT (:mod:`physbreak.analysis.kt`).

The stored helicity sums are checked by brute force against finite
differences of the energy under a twist; the measured helicity modulus
against the exact periodic XY chain, ``Upsilon = L T sum_m m^2 I_m(K)^L /
sum_m I_m(K)^L``, and against spin waves at low T (``Upsilon = J (1 - T/4)``
on the square lattice, ``sqrt(3) J (1 - T/6)`` on the triangular one, to
first order in T; the O(T^2) terms are below 2e-4 at T = 0.05).  Averages
within 4 standard errors.  The Weber-Minnhagen fit must recover the
T_KT of exact finite-size curves.
"""

import numpy as np
import pytest
import torch

from physbreak.analysis.kt import StiffnessCurve, helicity_rows, kt_temperature
from physbreak.analysis.report import analyze_run, format_report
from physbreak.config import parse
from physbreak.io import read_run
from physbreak.lattice import build
from physbreak.mc.compiled import kt_totals, model_tables
from physbreak.mc.sampling import _kt_torch
from physbreak.systems import make_model
from physbreak.workflows.simulate import simulate

SIGMAS = 4.0


def _twist_energy(lattice, state, axis, delta):
    """E(delta) with the xy-plane angle of every bond twisted by delta (r_ij . axis)."""
    b = lattice.bonds(1)
    u = lattice.displacements(b[:, 0], b[:, 1])[:, axis]
    xi, xj = state[:, b[:, 0]], state[:, b[:, 1]]
    c, s = np.cos(delta * u), np.sin(delta * u)
    # rotate S_j's xy part by delta u: S_i . R S_j
    rx = c * xj[..., 0] - s * xj[..., 1]
    ry = s * xj[..., 0] + c * xj[..., 1]
    dot = xi[..., 0] * rx + xi[..., 1] * ry
    if state.shape[-1] == 3:
        dot = dot + xi[..., 2] * xj[..., 2]
    return -dot.sum(1)


@pytest.mark.parametrize("kind, lattice, L", [("xy", "square", 6), ("xy", "triangular", 5),
                                              ("heisenberg", "cubic", 4)])
def test_helicity_sums_are_twist_derivatives(kind, lattice, L):
    lat = build(lattice, L, n_shells=1)
    model = make_model(kind, lat)
    state = model.initial_state(3, torch.Generator().manual_seed(2))
    tables = model_tables(model)
    sums = kt_totals(state.numpy(), tables)
    assert np.allclose(_kt_torch(state, tables).numpy(), sums, atol=1e-10)
    h = 1e-4
    for a in range(len(lat.size)):
        e = [_twist_energy(lat, state.numpy(), a, d) for d in (-h, 0.0, h)]
        assert np.allclose((e[2] - 2 * e[1] + e[0]) / h**2, sums[:, 2 * a], atol=1e-4)
        assert np.allclose((e[2] - e[0]) / (2 * h), sums[:, 2 * a + 1], atol=1e-6)


@pytest.mark.parametrize("lattice", ["square", "triangular"])
def test_one_vortex_on_an_open_lattice(lattice):
    lat = build(lattice, 7, periodic=False, n_shells=1)
    model = make_model("xy", lat)
    centre = lat.positions[lat.plaquettes[len(lat.plaquettes) // 2]].mean(0)  # inside a plaquette
    angle = np.arctan2(*(lat.positions - centre).T[::-1])
    tables = model_tables(model)
    for winding, count in ((1, 1), (-1, 1), (0, 0)):
        x = np.stack([np.cos(winding * angle), np.sin(winding * angle)], 1)[None]
        assert kt_totals(x, tables)[0, -1] == count
        assert _kt_torch(torch.as_tensor(x), tables)[0, -1].item() == count


def _simulate(tmp_path, lattice, L, T, algorithm, samples, extra=""):
    text = (f'seed = 9\n[lattice]\nkind = "{lattice}"\nsizes = [{L}]\n[model]\nkind = "xy"\n'
            f'[temperatures]\nvalues = {T}\n[sampler]\nalgorithm = "{algorithm}"\nthermalization = 500\n'
            f'samples = {samples}\nreplicas = 4\n{extra}')
    path = simulate(parse(text), tmp_path / f"{lattice}_{algorithm}.h5", progress=False)
    return read_run(path)[1][0]


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_helicity_of_the_periodic_xy_chain_is_exact(tmp_path, algorithm):
    from scipy.special import iv

    L, T = 8, 0.7
    m = np.arange(-20, 21)
    w = iv(m, 1 / T) ** L
    exact = L * T * np.sum(m**2 * w) / np.sum(w)
    (row,) = helicity_rows(_simulate(tmp_path, "chain", L, [T], algorithm, 20000))
    assert abs(row["helicity"] - exact) < SIGMAS * row["helicity_err"], (row, exact)


@pytest.mark.parametrize("lattice, L, zero, slope", [("square", 8, 1.0, 0.25), ("triangular", 6, np.sqrt(3), np.sqrt(3) / 6)])
def test_helicity_spin_waves_at_low_temperature(tmp_path, lattice, L, zero, slope):
    T = 0.05
    system = _simulate(tmp_path, lattice, L, [T], "metropolis", 2000, 'start = "ordered"\nstep = 0.3\n')
    (row,) = helicity_rows(system)
    assert abs(row["helicity"] - (zero - slope * T)) < SIGMAS * row["helicity_err"] + 2e-4, row
    assert row["vortex_density"] == 0.0


def test_weber_minnhagen_fit_recovers_t_kt():
    """Exact finite-size curves through (2 T_KT/pi)(1 + 1/(2 ln L + C)) at T_KT,
    with a slope in T, and small jackknife noise."""
    rng = np.random.default_rng(0)
    t_kt, C = 0.9, 1.3
    T = np.linspace(0.85, 0.97, 121)
    curves = []
    for L in (8, 16, 32, 64):
        value = 2 * t_kt / np.pi * (1 + 1 / (2 * np.log(L) + C)) - (0.5 + 0.02 * np.log(L)) * (T - t_kt) * 4
        jk = value + 1e-3 * rng.standard_normal((20, 1)) / np.sqrt(20)
        curves.append(StiffnessCurve(f"{L}x{L}", float(L), T, value, jk, T[::20]))
    result = kt_temperature(curves)
    assert result["T_kt"] == pytest.approx(t_kt, abs=2e-3)
    assert result["C"] == pytest.approx(C, abs=0.3)
    assert [c["T"] for c in result["crossings"]] == sorted([c["T"] for c in result["crossings"]], reverse=True)


def test_analyze_names_kt_and_reports_t_kt(tmp_path):
    text = ('seed = 2\n[lattice]\nkind = "square"\nsizes = [4, 8, 16]\n[model]\nkind = "xy"\n'
            '[temperatures]\nvalues = [0.8, 0.9, 1.0, 1.1]\n[sampler]\nalgorithm = "wolff"\n'
            'thermalization = 300\nsamples = 1500\nreplicas = 2\n')
    result = analyze_run(simulate(parse(text), tmp_path / "xy.h5", progress=False), plots_dir=tmp_path / "plots")
    assert result["kind"]["name"].startswith("Kosterlitz-Thouless")
    assert result["transition"]["kind"].startswith("Kosterlitz-Thouless")
    kt = result["kt"]
    assert 0.8 < kt["T_kt"] < 1.0 and kt["T_kt_err"] > 0
    assert len(kt["rows"]) == 12 and all(r["vortex_density"] > 0 for r in kt["rows"])
    text = format_report(result)
    assert "T_KT" in text and "Upsilon = 2T/pi at 16x16" in text
    assert (tmp_path / "plots" / "helicity.png").is_file()
