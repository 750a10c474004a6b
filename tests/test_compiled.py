"""The compiled Metropolis kernels (:mod:`physbreak.mc.compiled`,
:mod:`physbreak.mc.checkerboard`) against exact results.

Exact enumeration on small systems (Ising, Potts), the two-spin XY and
Heisenberg dimers (Bessel and Langevin functions), Kaufman's finite-torus
energy for the 2D Ising model and the spin-wave energies at low T.  Averages
must agree within 4 standard errors (binned, so autocorrelation is in the
error): a correct kernel fails one comparison in ~16000.  The running totals
the kernels keep must equal the totals recomputed from the state, and the
chain must not depend on the thread count.
"""

import numba
import numpy as np
import pytest
import torch

from physbreak.analysis import estimate, ising_torus_energy, spin_wave_energy
from physbreak.lattice import build, from_edges
from physbreak.mc import checkerboard, checkerboard_on, compiled
from physbreak.mc.sampling import observed_totals, run_block, streams
from physbreak.systems import Ising, Potts, make_model
from test_samplers_exact import ISING_STATES, POTTS_STATES, exact_averages

SIGMAS = 4.0


def sample(model, sampler, n_therm, n_samples, seed=1, ordered=False):
    """Thermalise and sample through :func:`run_block`; returns the streams and the final
    state, after checking that the last measured totals equal the totals from scratch."""
    state = model.initial_state(sampler.n_chains, torch.Generator().manual_seed(seed), ordered=ordered)
    state = sampler.resident(state)
    run_block(sampler, state, n_therm, 1, adapt=True, measure=False)
    totals, work = run_block(sampler, state, n_samples)
    assert np.allclose(totals[-1], observed_totals(model, state), rtol=0, atol=1e-8)
    return streams(model, totals, work), state


def assert_close(series, exact, name):
    est = estimate(series)
    assert abs(est.mean - exact) < SIGMAS * est.error + 1e-12, (name, est, exact)


def check_exact(model, T, states, n_chains=8, n_samples=3000, seed=5, kernel=compiled):
    sampler = kernel.CompiledMetropolis(model, [T] * n_chains, np.random.SeedSequence(seed))
    rows, _ = sample(model, sampler, 300, n_samples)
    exact = exact_averages(model, states, T)
    m2 = (rows["magnetization"] ** 2).sum(-1)
    assert_close(rows["energy"], exact["e"], "e")
    assert_close(np.sqrt(m2), exact["abs_m"], "|m|")
    assert_close(m2, exact["m2"], "m^2")
    return sampler


def test_ising_4x4_tabulated_kernel():
    model = Ising(build("square", 4))
    sampler = check_exact(model, 2.269, ISING_STATES)
    assert sampler.tabulated


@pytest.mark.parametrize("size, J, T", [((4, 4), 1.0, 2.269), ((4, 4), -1.0, 1.5), ((2, 2, 4), 1.0, 4.5),
                                        ((2, 4, 2), -1.0, 3.0)])
def test_ising_vectorised_checkerboard_exact_enumeration(size, J, T):
    """The SIMD checkerboard kernel, 2D and 3D, ferro- and antiferromagnet (16
    spins: exact enumeration; a size of 2 doubles the bond along that axis, as
    the model does)."""
    model = Ising(build("square" if len(size) == 2 else "cubic", size), J=[J])
    sampler = checkerboard.CompiledMetropolis(model, [T] * 8, np.random.SeedSequence(6))
    rows, _ = sample(model, sampler, 300, 3000)
    exact = exact_averages(model, ISING_STATES, T)
    assert_close(rows["energy"], exact["e"], "e")
    assert_close(rows["abs_magnetization"], exact["abs_m"], "|m|")
    states = torch.as_tensor(ISING_STATES)
    w = np.exp(-(model.energy(states).numpy() - model.energy(states).numpy().min()) / T)
    stag = np.abs(model.staggered_magnetization(states).numpy()).sum(-1)  # (states,)
    assert_close(np.abs(rows["staggered_magnetization"]).sum(-1), w @ stag / w.sum(), "|m_s|")


def test_ising_4x4_spin_glass_in_random_field():
    lat = build("square", 4)
    rng = np.random.default_rng(3)
    model = Ising(lat, J=rng.normal(size=len(lat.bonds(1))), h=0.3 * rng.normal(size=16))
    assert not check_exact(model, 1.2, ISING_STATES).tabulated


def test_ising_j1_j2_four_colours_in_field():
    model = Ising(build("square", 4), J=[1.0, -0.4], h=0.2)
    assert len(model.colours) == 4
    check_exact(model, 1.8, ISING_STATES)


def test_ising_triangular_antiferromagnet_4x4():
    model = Ising(build("triangular", 4), J=[-1.0])
    check_exact(model, 1.0, ISING_STATES)


def test_potts3_3x3():
    check_exact(Potts(build("square", 3), q=3), 1.0, POTTS_STATES)


def test_potts3_triangular_in_field():
    check_exact(Potts(build("triangular", 3), q=3, J=[-0.7], h=0.4), 0.8, POTTS_STATES)


@pytest.mark.parametrize("kind", ["xy", "heisenberg"])
def test_on_dimer_exact(kind):
    """<S1.S2> of two coupled rotors: I1(K)/I0(K) for XY, coth K - 1/K for
    Heisenberg (K = J/T); energy per spin is -<S1.S2>/2."""
    from scipy.special import iv

    model = make_model(kind, from_edges(2, [(0, 1)]))
    T = 0.7
    K = 1 / T
    exact = iv(1, K) / iv(0, K) if kind == "xy" else 1 / np.tanh(K) - 1 / K
    sampler = compiled.CompiledMetropolis(model, [T] * 16, np.random.SeedSequence(12))
    rows, _ = sample(model, sampler, 200, 4000)
    assert_close(-2 * rows["energy"], exact, kind)


@pytest.mark.parametrize("kernel", [compiled, checkerboard_on])
@pytest.mark.parametrize("kind, lattice, L, T", [("xy", "square", 16, 0.05), ("heisenberg", "cubic", 6, 0.05)])
def test_on_spin_wave_energy_at_low_temperature(kernel, kind, lattice, L, T):
    """e = -z/2 + (n - 1) T / 2 to first order in T (equipartition of the spin waves),
    for the neighbour-table kernel and the vectorised checkerboard one."""
    model = make_model(kind, build(lattice, L))
    sampler = kernel.CompiledMetropolis(model, [T] * 4, np.random.SeedSequence(13), step=0.3)
    rows, _ = sample(model, sampler, 300, 1500, ordered=True)
    n, dim = model.n_components, len(model.lattice.size)
    est = estimate(rows["energy"])
    # second-order corrections are O(T^2) ~ 2.5e-3 relative to the T term at T = 0.05
    assert abs(est.mean - spin_wave_energy(T, n, dim)) < SIGMAS * est.error + 0.01 * T, est


@pytest.mark.parametrize("kind, lattice, L", [("xy", "square", 6), ("xy", "cubic", 4), ("heisenberg", "cubic", 4),
                                              ("heisenberg", "square", 6)])
def test_checkerboard_on_measures_what_the_reducers_measure(kind, lattice, L):
    """The vectorised O(n) kernel's totals -- energy, m, staggered m, helicity sums
    and the vortex count by axis crossings -- equal the neighbour-table reducers
    (vortices by arctan) on random states and after sweeps (float64 round-off)."""
    model = make_model(kind, build(lattice, L))
    assert checkerboard_on.supports(model)
    sampler = checkerboard_on.CompiledMetropolis(model, [0.3, 1.0, 5.0], np.random.SeedSequence(3))
    state = sampler.resident(model.initial_array(3, np.random.default_rng(1)))
    assert np.allclose(sampler.totals(state), observed_totals(model, state), rtol=0, atol=1e-10)
    if kind == "xy" and lattice == "square":
        assert observed_totals(model, state)[:, -1].min() > 0  # a random start has vortices to count
    totals, _ = sampler.run(state, 20, 1, adapt=True)
    assert np.allclose(totals[-1], observed_totals(model, state), rtol=0, atol=1e-10)
    assert np.allclose(np.linalg.norm(state, axis=-1), 1.0, atol=1e-12)


@pytest.mark.parametrize("kind, lattice, L", [("xy", "square", 8), ("heisenberg", "cubic", 4), ("xy", "triangular", 6)])
def test_wolff_measures_what_the_reducers_measure(kind, lattice, L):
    """Wolff on O(n) models measures row by row where the vectorised kernel applies
    (square, cubic) and with the neighbour-table reducers elsewhere: both give
    the from-scratch totals after a block (``sample`` checks the last row)."""
    from physbreak.mc import Wolff

    model = make_model(kind, build(lattice, L))
    sampler = Wolff(model, [0.5, 1.0, 3.0], np.random.SeedSequence(4))
    assert (sampler.rows[2] > 0) == (lattice != "triangular")
    rows, _ = sample(model, sampler, 10, 30)
    assert np.all(rows["energy"] < 0)


@pytest.mark.parametrize("lattice, L, J", [("square", 8, 1.0), ("cubic", 4, 1.0), ("cubic", 4, "+-")])
def test_wolff_ising_measures_what_the_reducers_measure(lattice, L, J):
    """Ising Wolff with one J > 0 (clusters grown without marks, the totals summed in
    integers) and with +-J (marked clusters): the from-scratch totals after a block;
    the ferromagnet's clusters flip whole (at T = 0.01 the magnetisation stays +-1)."""
    from physbreak.mc import Wolff

    lat = build(lattice, L)
    if J == "+-":
        J = np.random.default_rng(5).choice([-1.0, 1.0], len(lat.bonds(1)))
    model = Ising(lat, J=J)
    sampler = Wolff(model, [0.01, 2.5, 6.0], np.random.SeedSequence(9))
    rows, _ = sample(model, sampler, 10, 30, ordered=True)
    if np.ndim(J) == 0:
        assert np.allclose(np.abs(rows["magnetization"][:, 0]), 1.0), rows["magnetization"][:, 0]


def test_wolff_bond_decision_is_the_exact_one():
    """The O(n) Wolff bond decision by the bracket of ``-ln v`` equals ``v > exp(-x)``
    computed directly, on random bits and on ``x`` at every bracket's edges (where
    the one-ulp widening matters) and spread over [0, 12]."""
    from physbreak.mc import wolff

    @numba.njit
    def decide(bits, x, lo, hi, out):
        for k in range(bits.shape[0]):
            out[k] = wolff._bond_joins(bits[k], x[k], lo, hi)

    rng = np.random.default_rng(7)
    edges = np.concatenate([wolff.LOG_LO, wolff.LOG_HI[1:]])
    edges = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, np.inf)])
    x = np.concatenate([rng.uniform(0, 12, 400_000), np.repeat(edges, 50)])
    v_bin = rng.integers(0, 2**wolff.LOG_BITS, len(x))  # half the draws in the bin of exp(-x): the exact path
    inside = rng.random(len(x)) < 0.5
    v_bin[inside] = np.minimum(np.floor(np.exp(-x[inside]) * 2**wolff.LOG_BITS), 2**wolff.LOG_BITS - 1)
    low = rng.integers(0, 2**54, len(x), dtype=np.uint64)
    bits = (v_bin.astype(np.uint64) << np.uint64(54)) | low
    out = np.zeros(len(x), bool)
    decide(bits, x, wolff.LOG_LO, wolff.LOG_HI, out)
    v = ((bits >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * 2.0**-53
    assert np.array_equal(out, v > np.exp(-x))
    assert 0.2 < out.mean() < 0.8


def test_wolff_thermalisation_work_stays_bounded():
    """The number of Wolff clusters per sweep-equivalent is retuned during
    thermalisation, at most doubling or halving per step: a small first cluster
    (which asked for ~N clusters) no longer makes one sweep-equivalent do ~200
    sweeps of work (3D Ising L = 16 near Tc from an ordered start, six seeds)."""
    from physbreak.mc import Wolff

    model = Ising(build("cubic", 16))
    for seed in range(6):
        sampler = Wolff(model, [4.0, 4.5115, 5.0], np.random.SeedSequence(seed))
        state = sampler.resident(model.initial_array(3, np.random.default_rng(0), ordered=True))
        _, work = sampler.run(state, 40, 1, adapt=True, measure=False)
        assert work.max() < 10.0, (seed, work.max(axis=0))


def test_expneg_is_the_exponential():
    """The polynomial exp(-x) of the vectorised kernel: relative error below 1e-12 on
    [0, 40] (the acceptance probabilities are those of the exact exponential), 1 below 0."""
    import numba

    x = np.linspace(-1.0, 40.0, 200001)
    got = numba.njit(lambda v: np.array([checkerboard_on.expneg(t) for t in v]))(x)
    assert np.max(np.abs(got / np.exp(-np.clip(x, 0.0, None)) - 1.0)) < 1e-12


@pytest.mark.parametrize("kind, lattice, L, T", [("xy", "square", 8, 0.9), ("heisenberg", "cubic", 4, 1.4)])
def test_checkerboard_on_agrees_with_the_neighbour_table_kernel(kind, lattice, L, T):
    """Near the transition (where every proposal width matters): energy and |m| of
    the vectorised kernel against the neighbour-table kernel (itself checked against
    the exact dimer), within 4 combined binned errors."""
    model = make_model(kind, build(lattice, L))
    found = []
    for kernel, seed in ((compiled, 21), (checkerboard_on, 22)):
        sampler = kernel.CompiledMetropolis(model, [T] * 8, np.random.SeedSequence(seed))
        rows, _ = sample(model, sampler, 500, 6000)
        found.append([estimate(rows["energy"]), estimate(rows["abs_magnetization"])])
    for a, b in zip(*found):
        assert abs(a.mean - b.mean) < SIGMAS * np.hypot(a.error, b.error), (kind, a, b)


@pytest.mark.parametrize("T", [2.0, 2.269, 3.0])
def test_ising_kaufman_torus_energy_both_kernels(T):
    """L = 16 torus: the checkerboard kernel and the neighbour-table kernel
    against Kaufman's exact finite-lattice energy."""
    model = Ising(build("square", 16))
    exact = ising_torus_energy(16, T)
    for sampler in (checkerboard.CompiledMetropolis(model, [T] * 8, np.random.SeedSequence(14)),
                    compiled.CompiledMetropolis(model, [T] * 8, np.random.SeedSequence(15))):
        rows, _ = sample(model, sampler, 500, 4000, ordered=True)
        assert_close(rows["energy"], exact, type(sampler).__module__)
    

@pytest.mark.parametrize("kind", ["ising", "potts", "heisenberg", "checkerboard", "checkerboard_on"])
def test_blocks_and_threads_do_not_change_the_chain(monkeypatch, kind):
    """With several blocks per colour class, one thread and two give the same chain bit for bit."""
    monkeypatch.setattr(compiled, "BLOCK_SITES", 16)
    model_kind = {"checkerboard": "ising", "checkerboard_on": "heisenberg"}.get(kind, kind)
    model = make_model(model_kind, build("cubic", 6), J=[1.0], h=0.1 if kind in ("potts", "heisenberg") else 0.0)
    assert compiled.n_blocks(model.n_sites) > 1
    kernel = {"checkerboard": checkerboard, "checkerboard_on": checkerboard_on}.get(kind, compiled)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        sampler = kernel.CompiledMetropolis(model, [1.5, 3.0], np.random.SeedSequence(16))
        assert getattr(sampler, "blocks", 2) > 1
        rows, state = sample(model, sampler, 20, 30)
        results.append((rows["energy"], state.copy()))
    numba.set_num_threads(1)
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
