"""Fast 2D Ising kernels: exact finite-lattice energies, agreement between kernels."""

import itertools

import numpy as np
import pytest
import torch

from physbreak.analysis.exact import ising_torus_energy, ising_torus_log_z, onsager_energy
from physbreak.lattice import build
from physbreak.mc import Metropolis
from physbreak.mc.checkerboard import CheckerboardIsing, CompiledMetropolis, supports
from physbreak.mc.multispin import MultispinIsing, TorchMultispin, _bernoulli, pack, probability_digits, unpack
from physbreak.mc.rng import seed_states
from physbreak.systems import Ising

L = 64
SIGMAS = 4.0  # |z| < 4: a correct kernel fails one comparison in ~16000


def test_kaufman_partition_function_matches_enumeration():
    """4 x 4 torus, all 2^16 states."""
    n = 4
    idx = np.arange(n * n).reshape(n, n)
    bonds = np.array([(idx[i, j], idx[(i + 1) % n, j]) for i, j in itertools.product(range(n), repeat=2)]
                     + [(idx[i, j], idx[i, (j + 1) % n]) for i, j in itertools.product(range(n), repeat=2)])
    S = 1 - 2 * ((np.arange(2**16)[:, None] >> np.arange(16)) & 1)
    E = -(S[:, bonds[:, 0]] * S[:, bonds[:, 1]]).sum(1)
    for T in (1.5, 2.269, 3.0, 5.0):
        w = np.exp(-(E - E.min()) / T)
        assert ising_torus_log_z(n, 1 / T) == pytest.approx(np.log(w.sum()) - E.min() / T, rel=1e-12)
        assert ising_torus_energy(n, T) == pytest.approx((E * w).sum() / w.sum() / 16, abs=1e-8)
    # large L approaches Onsager away from Tc
    assert ising_torus_energy(256, 3.0) == pytest.approx(onsager_energy(3.0), abs=1e-8)


def test_multispin_words_and_bernoulli_masks():
    """Packing round-trips; the random masks set each bit of `one` with
    probability p and of `two` with p^2, independently, and nothing else."""
    words = np.random.default_rng(0).integers(0, 2**64, size=(6, 8), dtype=np.uint64)
    assert np.array_equal(pack(unpack(words)), words)
    beta = 1 / 2.269
    p = np.exp(-4 * beta)
    digits = probability_digits(beta)
    for row, prob in enumerate((p, p * p)):
        assert sum(int(d) * 2.0 ** -(k + 1) for k, d in enumerate(digits[row])) == pytest.approx(prob, abs=2**-31)
    one, two = np.uint64(0x00FF00FF00FF00FF), np.uint64(0x0F000F0000000000)  # disjoint, as in the kernel
    n = 40000
    lanes = seed_states(np.random.SeedSequence(0), n).T.copy()  # one generator per word of a "row"
    masks, scratch = np.zeros(n, np.uint64), np.zeros(n, np.uint64)
    _bernoulli(np.full(n, one), np.full(n, two), digits, lanes, masks, scratch)
    bits = unpack(masks[None])[:, 0] < 0  # (64, n): bit set

    def members(word):
        return unpack(np.array([[word]], dtype=np.uint64))[:, 0, 0] < 0

    in_one, in_two = members(one), members(two)
    assert not bits[~(in_one | in_two)].any()  # nothing outside `one | two`
    for inside, prob in ((in_one, p), (in_two, p * p)):
        rate = bits[inside].mean(1)
        assert np.all(np.abs(rate - prob) < 5 * np.sqrt(prob * (1 - prob) / n))
    pair = (bits[in_one][0] & bits[in_one][1]).mean()  # two bits are independent
    assert pair == pytest.approx(p * p, abs=5 * np.sqrt(p * p / n))


def _replica_energies(run, sweeps: int, every: int) -> np.ndarray:
    """Time-averaged energy per spin of each independent replica."""
    sweep, measure = run
    series = []
    for _ in range(sweeps // every):
        sweep(every)
        series.append(measure())
    return np.mean(series, axis=0)


def _torch_metropolis(T, chains, seed):
    model = Ising(build("square", L))
    sampler = Metropolis(model, [T] * chains, np.random.SeedSequence(seed))
    state = model.initial_state(chains, torch.Generator().manual_seed(seed), ordered=True)

    def sweep(n):
        for _ in range(n):
            sampler.sweep(state)
    return sweep, lambda: (model.energy(state) / model.n_sites).numpy()


def _kernels(T):
    cb = CheckerboardIsing(L, [T] * 16, np.random.SeedSequence(1), ordered=True)
    ms = MultispinIsing(L, T, np.random.SeedSequence(2), ordered=True)
    tm = TorchMultispin(L, T, seed=3, ordered=True)
    return {"checkerboard": ((cb.sweep, lambda: cb.measure()[0]), 4000),
            "multispin": ((ms.sweep, lambda: ms.measure()[0]), 4000),
            "torch multispin": ((tm.sweep, lambda: tm.measure()[0]), 600),
            "torch metropolis": (_torch_metropolis(T, 16, 4), 1500)}


@pytest.mark.parametrize("T", [2.0, 2.269, 3.0])
def test_kernels_agree_with_the_exact_finite_lattice_energy(T):
    """L = 64 torus, ordered start; per kernel independent replicas after a
    thermalisation of half the run: mean and error from the spread over
    replicas, compared with Kaufman's exact energy of the same finite lattice
    (at T = 2.269 it differs from Onsager's infinite-lattice value by 0.009)."""
    torch.set_num_threads(1)
    exact = ising_torus_energy(L, T)
    means = {}
    for name, (run, sweeps) in _kernels(T).items():
        run[0](sweeps // 2)
        e = _replica_energies(run, sweeps // 2, 10)
        means[name] = (e.mean(), e.std(ddof=1) / np.sqrt(len(e)))
        assert abs(means[name][0] - exact) < SIGMAS * means[name][1], (name, means[name], exact)
    names = list(means)
    for a, b in itertools.combinations(names, 2):  # pairwise: the same physics
        (ma, ea), (mb, eb) = means[a], means[b]
        assert abs(ma - mb) < SIGMAS * np.hypot(ea, eb), (a, b)


def test_multispin_replicas_are_independent_chains():
    """Distinct replicas of one word share no random numbers: their energy
    time series are uncorrelated (64 series at T = 3, well above Tc)."""
    ms = MultispinIsing(16, 3.0, np.random.SeedSequence(5))
    ms.sweep(200)
    series = []
    for _ in range(2000):
        ms.sweep(1)
        series.append(ms.measure()[0])
    c = np.corrcoef(np.array(series).T)
    off = c[~np.eye(64, dtype=bool)]
    assert np.abs(off).max() < 0.15 and abs(off.mean()) < 0.01


def test_compiled_path_is_chosen_only_where_it_applies():
    assert supports(Ising(build("square", (8, 6))))
    assert not supports(Ising(build("square", 7)))  # odd: no checkerboard on the torus
    assert not supports(Ising(build("square", 8), h=0.1))
    assert not supports(Ising(build("triangular", 8)))
    assert not supports(Ising(build("square", 8), J=(1.0, 0.5)))
    with pytest.raises(ValueError, match="compiled kernel needs"):
        CompiledMetropolis(Ising(build("square", 7)), [2.0], np.random.SeedSequence(0))
    with pytest.raises(ValueError, match="lattice.size 7"):
        CheckerboardIsing(7, [2.0], np.random.SeedSequence(0))


def test_swendsen_wang_matches_exact_enumeration_and_kaufman():
    """4 x 4 torus: e and <m^2> from 2^16 states; 32 x 32 at Tc: Kaufman's e."""
    from physbreak.mc.swendsen_wang import SwendsenWang

    n = 4
    model = Ising(build("square", n))
    S = 1 - 2 * ((np.arange(2**16)[:, None] >> np.arange(16)) & 1)
    E = -(S[:, model.bonds[:, 0]] * S[:, model.bonds[:, 1]]).sum(1)
    M2 = (S.mean(1)) ** 2
    temps = [1.8, 2.269, 3.0]
    sw = SwendsenWang(model, np.repeat(temps, 16), np.random.SeedSequence(0))
    state = sw.resident(model.initial_state(48, torch.Generator().manual_seed(0)))
    for _ in range(100):
        sw.sweep(state)
    e, m2 = [], []
    for _ in range(3000):
        sw.sweep(state)
        s = torch.as_tensor(state).float()
        e.append((model.energy(s) / 16).numpy())
        m2.append((model.magnetization(s) ** 2).sum(1).numpy())
    e, m2 = np.mean(e, 0).reshape(3, 16), np.mean(m2, 0).reshape(3, 16)
    for k, T in enumerate(temps):
        w = np.exp(-(E - E.min()) / T)
        for est, exact in ((e[k], (E * w).sum() / w.sum() / 16), (m2[k], (M2 * w).sum() / w.sum())):
            assert abs(est.mean() - exact) < SIGMAS * est.std(ddof=1) / 4, (T, est.mean(), exact)
    big = Ising(build("square", 32))
    sw = SwendsenWang(big, [2.269] * 8, np.random.SeedSequence(1))
    state = sw.resident(big.initial_state(8, torch.Generator().manual_seed(1)))
    for _ in range(200):
        sw.sweep(state)
    series = []
    for _ in range(2000):
        sw.sweep(state)
        series.append((big.energy(torch.as_tensor(state).float()) / big.n_sites).numpy())
    per_chain = np.mean(series, 0)
    assert abs(per_chain.mean() - ising_torus_energy(32, 2.269)) < SIGMAS * per_chain.std(ddof=1) / np.sqrt(8)


def test_simulate_records_the_kernel_it_picked(tmp_path):
    """On the CPU the square-lattice Ising run goes through the checkerboard kernel, the
    Potts and the triangular Ising runs through the neighbour-table kernel; the
    checkerboard path reproduces the exact energy of a 4 x 4 torus."""
    from physbreak.config import parse
    from physbreak.io import read_run
    from physbreak.workflows.simulate import simulate

    text = ('seed = 3\n[lattice]\nkind = "square"\nsizes = [4]\n[model]\nkind = "{kind}"\n'
            '[temperatures]\nvalues = [2.5]\n[sampler]\nthermalization = 200\nsamples = 5000\nreplicas = 4\n')
    kernels = {}
    for kind in ("ising", "potts", "triangular"):
        cfg = text.format(kind="ising" if kind == "triangular" else kind)
        if kind == "triangular":
            cfg = cfg.replace('"square"', '"triangular"')
        _, (system,) = read_run(simulate(parse(cfg), tmp_path / f"{kind}.h5", progress=False))
        kernels[kind] = system.attrs["kernel"]
        if kind == "ising":
            from physbreak.analysis import estimate

            e = estimate(system.streams["energy"])  # (samples, chains): binning error
            assert abs(e.mean - ising_torus_energy(4, 2.5)) < SIGMAS * e.error
    assert kernels == {"ising": "checkerboard", "potts": "compiled", "triangular": "compiled"}


def test_wolff_bond_test_with_bounds_decides_as_the_exponential():
    """The O(n) Wolff bond test evaluates exp only between two bounds: on 4e5
    (u, x) pairs, x from 1e-6 to 100, it decides exactly as u < 1 - exp(-x)."""
    import numba

    from physbreak.mc.wolff import _joins

    @numba.njit
    def decide(u, x):
        out = np.empty(u.size, np.bool_)
        for k in range(u.size):
            out[k] = _joins(u[k], x[k])
        return out

    rng = np.random.default_rng(0)
    x = 10.0 ** rng.uniform(-6, 2, 400_000)
    u = rng.random(x.size)
    assert np.array_equal(decide(u, x), u < 1.0 - np.exp(-x))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_unit_vector_is_uniform_on_the_sphere(n):
    """Wolff's reflection axis: unit length, and the first two moments of the uniform
    distribution on S^(n-1), <r> = 0 and <r r^T> = I / n, within 5 standard errors
    of 2e5 draws (n = 2, 3: Marsaglia's disc method; 4: normal deviates)."""
    import numba

    from physbreak.mc.rng import unit_vector

    @numba.njit
    def draw(count, n):
        state = np.array([1, 2, 3, 4], dtype=np.uint64)
        out = np.empty((count, n))
        for k in range(count):
            unit_vector(state, out[k])
        return out

    r = draw(200_000, n)
    assert np.allclose(np.linalg.norm(r, axis=1), 1.0, atol=1e-12)
    second = np.einsum("ka,kb->kab", r, r)
    for values, expected in ((r, np.zeros(n)), (second, np.eye(n) / n)):
        error = values.std(axis=0) / np.sqrt(len(r))
        assert np.all(np.abs(values.mean(axis=0) - expected) < 5 * error + 1e-15)


def test_wolff_log_table_brackets_the_logarithm():
    """The O(n) Wolff bond test decides ``x > -ln v`` against ``lo[b] <= -ln v < hi[b]``
    for the bin ``b`` (the top bits) of the 53-bit uniform ``v``, calling exp only
    inside the bracket: the bracket holds for 1e6 random ``v`` and at both ends of
    every bin, to the last bit."""
    from physbreak.mc.wolff import LOG_BITS, LOG_HI, LOG_LO

    rng = np.random.default_rng(1)
    shift = 53 - LOG_BITS
    first = np.arange(2**LOG_BITS, dtype=np.int64) << shift  # the lowest and highest mantissa of every bin
    m = np.concatenate([first, first + (1 << shift) - 1, rng.integers(0, 2**53, 1_000_000)])
    v, b = (m + 1) * 2.0**-53, m >> shift
    assert np.all(LOG_LO[b] <= -np.log(v)) and np.all(-np.log(v) < LOG_HI[b])
