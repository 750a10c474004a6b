"""Samplers against exact enumeration on small systems.

Every proposal, local energy change and acceptance rule enters the stationary
distribution, so agreement with exact Boltzmann averages (within 4 sigma of
the statistical error) checks them all at once.
"""

import itertools

import numpy as np
import pytest
import torch

from conftest import run_chains
from physbreak.analysis import estimate
from physbreak.lattice import build
from physbreak.mc import Metropolis, Wolff
from physbreak.systems import Ising, Potts, make_model


def exact_averages(model, states, T):
    """Boltzmann averages of e, |m| and m^2 over every state (brute force)."""
    st = torch.as_tensor(states)
    E = model.energy(st).numpy()
    m = model.magnetization(st).numpy()
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    m2 = (m**2).sum(-1)
    return {"e": w @ E / model.n_sites, "abs_m": w @ np.sqrt(m2), "m2": w @ m2}


def check(model, sampler, exact, n_samples=3000):
    e, m = run_chains(model, sampler, 300, n_samples, seed=1)
    m2 = (m**2).sum(-1)
    for name, series in (("e", e), ("abs_m", np.sqrt(m2)), ("m2", m2)):
        est = estimate(series)
        assert abs(est.mean - exact[name]) < 4 * est.error + 1e-12, (name, est, exact[name])


ISING_STATES = 2 * ((np.arange(2**16)[:, None] >> np.arange(16)) & 1).astype(np.float32) - 1


@pytest.mark.parametrize("algorithm", [Metropolis, Wolff])
def test_ising_4x4_uniform(algorithm):
    model = Ising(build("square", 4))
    T = 2.269
    check(model, algorithm(model, [T] * 8, np.random.SeedSequence(5)),
          exact_averages(model, ISING_STATES, T))


def test_ising_4x4_spin_glass_in_random_field_metropolis():
    lat = build("square", 4)
    rng = np.random.default_rng(3)
    model = Ising(lat, J=rng.normal(size=len(lat.bonds(1))), h=0.3 * rng.normal(size=16))
    T = 1.2
    check(model, Metropolis(model, [T] * 8, np.random.SeedSequence(6)),
          exact_averages(model, ISING_STATES, T))


def test_ising_4x4_spin_glass_wolff():
    lat = build("square", 4)
    model = Ising(lat, J=np.random.default_rng(4).choice([-1.0, 1.0], len(lat.bonds(1))))
    T = 1.5
    check(model, Wolff(model, [T] * 8, np.random.SeedSequence(7)),
          exact_averages(model, ISING_STATES, T))


def test_ising_j1_j2_metropolis_uses_four_colours():
    model = Ising(build("square", 4), J=[1.0, -0.4], h=0.2)
    assert len(model.colours) == 4
    T = 1.8
    check(model, Metropolis(model, [T] * 8, np.random.SeedSequence(8)),
          exact_averages(model, ISING_STATES, T))


POTTS_STATES = np.array(list(itertools.product(range(3), repeat=9)), dtype=np.int64)


@pytest.mark.parametrize("algorithm", [Metropolis, Wolff])
def test_potts3_3x3(algorithm):
    model = Potts(build("square", 3), q=3)
    T = 1.0
    check(model, algorithm(model, [T] * 8, np.random.SeedSequence(9)),
          exact_averages(model, POTTS_STATES, T))


def test_potts3_triangular_in_field_metropolis():
    model = Potts(build("triangular", 3), q=3, J=[-0.7], h=0.4)
    T = 0.8
    check(model, Metropolis(model, [T] * 8, np.random.SeedSequence(10)),
          exact_averages(model, POTTS_STATES, T))


@pytest.mark.parametrize("kind", ["xy", "heisenberg"])
def test_continuous_spins_zero_temperature_never_raise_energy(kind):
    """At T -> 0 Metropolis only accepts downhill moves: a sign error in the
    local energy change would raise the energy."""
    model = make_model(kind, build("square", 6))
    sampler = Metropolis(model, [1e-9] * 4, np.random.SeedSequence(11), step=0.5)
    state = model.initial_state(4, torch.Generator().manual_seed(0))
    energy = model.energy(state)
    for _ in range(20):
        sampler.sweep(state)
        new = model.energy(state)
        assert torch.all(new <= energy + 1e-9)
        energy = new
    assert torch.allclose(state.norm(dim=-1), torch.ones(()).double())


def bond_correlation(kind, K):
    """<S_i.S_j> of one bond of a tree at beta J = K: I1(K)/I0(K) (XY) and the
    Langevin function coth K - 1/K (Heisenberg); odd in K."""
    from scipy.special import iv

    return iv(1, K) / iv(0, K) if kind == "xy" else 1.0 / np.tanh(K) - 1.0 / K


@pytest.mark.parametrize("kind", ["xy", "heisenberg"])
@pytest.mark.parametrize("J", [(1.0,), (1.0, -0.5)])
def test_on_wolff_tree_exact(kind, J):
    """On a tree the bonds are independent: E = -sum_b J_b <S_i.S_j>(beta J_b) exactly.
    The dimer (one coupling: the table-free path) and the open chain 0-1-2 with
    J = 1 and -0.5 (a padded neighbour table, two couplings, one antiferromagnetic)."""
    from physbreak.lattice import from_edges

    edges = [(0, 1)] if len(J) == 1 else [(0, 1), (1, 2)]
    model = make_model(kind, from_edges(len(edges) + 1, edges, shells=list(range(1, len(J) + 1))), J=J)
    T = 0.7
    sampler = Wolff(model, [T] * 16, np.random.SeedSequence(12))
    e, _ = run_chains(model, sampler, 100, 4000)
    est = estimate(e)
    exact = -sum(j * bond_correlation(kind, j / T) for j in J) / model.n_sites
    assert abs(est.mean - exact) < 4 * est.error
