"""Spin Hamiltonians: the local energy change equals the change of the total
energy, for every model, lattice, coupling and field kind."""

import numpy as np
import pytest
import torch

from physbreak.errors import InvalidValue
from physbreak.lattice import build
from physbreak.systems import make_model

CASES = [
    ("ising", "square", [1.0, -0.5], 0.3),
    ("ising", "triangular", "glass", "sites"),
    ("potts", "kagome", [-1.0], 0.4),
    ("potts", "honeycomb", [1.0, 0.5], "sites"),
    ("xy", "square", [1.0, 0.3], 0.2),
    ("heisenberg", "cubic", "glass", "sites"),
    ("heisenberg", "chain", [-1.0, 0.5], 0.0),
]


@pytest.mark.parametrize("kind, lattice, J, h", CASES)
def test_delta_energy_matches_total_energy_difference(kind, lattice, J, h):
    rng = np.random.default_rng(0)
    lat = build(lattice, 4, periodic=lattice != "chain", n_shells=2)
    if J == "glass":
        J = rng.normal(size=len(lat.bonds(1)))
    if h == "sites":
        h = rng.normal(size=lat.n_sites)
    model = make_model(kind, lat, J=J, h=h, q=4)
    gen = torch.Generator().manual_seed(1)
    state = model.initial_state(3, gen)
    step = torch.full((3, 1), 0.7, dtype=torch.float64)
    for colour, sites in enumerate(model.colours):
        old = state.index_select(1, sites)
        new = model.propose(old, step, gen)
        dE = model.delta_energy(state, colour, old, new).double()
        after = state.clone()
        after[:, sites] = new
        assert torch.allclose(model.energy(after) - model.energy(state), dE.sum(1), atol=1e-4)
        for k in range(min(3, len(sites))):  # and each single-site move alone
            one = state.clone()
            one[:, sites[k]] = new[:, k]
            assert torch.allclose(model.energy(one) - model.energy(state), dE[:, k], atol=1e-5)


def test_energy_of_ordered_states():
    lat = build("square", 6)
    assert make_model("ising", lat, h=0.5).energy(torch.ones(1, 36)).item() == -2 * 36 - 0.5 * 36
    potts = make_model("potts", lat, q=5)
    assert potts.energy(torch.zeros(1, 36, dtype=torch.int64)).item() == -72
    heis = make_model("heisenberg", build("cubic", 4))
    up = heis.initial_state(2, torch.Generator(), ordered=True)
    assert torch.allclose(heis.energy(up), torch.full((2,), -3.0 * 64, dtype=torch.float64))
    assert torch.allclose(heis.magnetization(up), torch.tensor([[1.0, 0, 0]] * 2, dtype=torch.float64))
    neel = torch.as_tensor(lat.sublattice_sign, dtype=torch.float32)[None]
    ising = make_model("ising", lat)
    assert ising.staggered_magnetization(neel).item() == 1.0 and ising.energy(neel).item() == 72


@pytest.mark.parametrize("kwargs, field", [({"kind": "clock"}, "kind"),
                                           ({"kind": "potts", "q": 1}, "q"),
                                           ({"kind": "ising", "J": np.ones(7)}, "J")])
def test_bad_models(kwargs, field):
    with pytest.raises(InvalidValue, match=field):
        make_model(lattice=build("square", 4), **kwargs)


@pytest.mark.parametrize("q", [2, 3, 4, 10])
def test_potts_order_parameter_is_the_simplex_vector(q):
    """q - 1 components; |m| = 1 when ordered, (q rho - 1)/(q - 1) along e_k for a
    fraction rho in state k (whatever the other states), dot products -1/(q-1)."""
    from physbreak.systems import Potts

    model = Potts(build("square", 4), q=q)
    assert model.n_components == q - 1
    ordered = torch.zeros(1, 16, dtype=torch.int64)
    assert float(model.magnetization(ordered).norm()) == pytest.approx(1.0)
    v = model.order_vectors(torch.arange(q)[None])[0].numpy()
    assert np.allclose(v @ v.T, (q * np.eye(q) - 1) / (q - 1))
    state = torch.tensor([[0] * 12 + [1 + k % (q - 1) for k in range(4)]])
    rho = 12 / 16
    assert float(model.magnetization(state) @ torch.as_tensor(v[0])) == pytest.approx((q * rho - 1) / (q - 1))
