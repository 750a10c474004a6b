"""Exact enumeration against brute force and against the annealing search."""

import itertools

import numpy as np
import pytest

from physbreak.groundstate import energies, exact_ground_states, search_ground_states
from physbreak.lattice import build


def brute_force(n, bonds, J, h):
    states = 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int8) - 1
    e = energies(states, bonds, J, h)
    best = e.min()
    return best, states[e <= best + 1e-9]


def random_instance(rng, n):
    pairs = [p for p in itertools.combinations(range(n), 2) if rng.random() < 0.35]
    bonds = np.array(pairs or [(0, 1)])
    J = rng.choice([rng.normal(size=len(bonds)), rng.choice([-1.0, 1.0], len(bonds))])
    h = rng.choice([np.zeros(n), 0.5 * rng.normal(size=n), rng.choice([0.0, 1.0], n)])
    return bonds, J, h


@pytest.mark.parametrize("seed", range(12))
def test_enumeration_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 17))
    bonds, J, h = random_instance(rng, n)
    exact = exact_ground_states(n, bonds, J, h, cap=10**6)
    best, states = brute_force(n, bonds, J, h)
    assert exact.energy == pytest.approx(best, abs=1e-9)
    assert exact.degeneracy == len(states)
    assert {tuple(s) for s in exact.states} == {tuple(s) for s in states}


@pytest.mark.parametrize("L, seed", [(4, 0), (4, 1), (5, 2), (5, 3)])
def test_search_finds_the_enumerated_ground_energy(L, seed):
    lat = build("square", L)
    rng = np.random.default_rng(seed)
    J = rng.choice([-1.0, 1.0], len(lat.bonds(1)))
    exact = exact_ground_states(lat.n_sites, lat.bonds(1), J, cap=10**6)
    found = search_ground_states(lat.n_sites, lat.bonds(1), J, restarts=16, sweeps=1000, seed=seed)
    assert found.energy == pytest.approx(exact.energy)
    assert found.agreed >= 1 and not found.exact
    assert {tuple(s) for s in found.states} <= {tuple(s) for s in exact.states}


@pytest.mark.parametrize("shape", [(3, 3), (3, 4), (3, 5), (4, 4), (3, 6)])
def test_triangular_antiferromagnet_degeneracy(shape):
    """Every triangle has exactly one frustrated bond when the torus is
    3-colourable (a side divisible by 3), so E0 = -N; the count is checked
    against brute force."""
    lat = build("triangular", shape)
    n, bonds = lat.n_sites, lat.bonds(1)
    J = -np.ones(len(bonds))
    exact = exact_ground_states(n, bonds, J)
    best, states = brute_force(n, bonds, J, np.zeros(n))
    assert exact.degeneracy == len(states)
    assert exact.energy == best
    if 3 in shape:
        assert exact.energy == -n
    known = {(3, 3): 42, (3, 4): 68, (3, 5): 210, (3, 6): 860}
    if shape in known:
        assert exact.degeneracy == known[shape]


def test_cap_keeps_the_true_count():
    lat = build("triangular", (3, 6))
    g = exact_ground_states(18, lat.bonds(1), -np.ones(54), cap=100)
    assert g.degeneracy == 860 and len(g.states) == 100 and g.truncated


def test_maxcut_of_the_petersen_graph():
    outer = [(i, (i + 1) % 5) for i in range(5)]
    edges = outer + [(5 + i, 5 + (i + 2) % 5) for i in range(5)] + [(i, i + 5) for i in range(5)]
    g = exact_ground_states(10, np.array(edges), -np.ones(15))
    s = g.states[0]
    cut_edges = sum(s[i] != s[j] for i, j in edges)
    assert cut_edges == 12  # max cut of the Petersen graph
    assert g.energy == -(cut_edges - (15 - cut_edges))  # J = -1: cut bonds lower E by 1 each
