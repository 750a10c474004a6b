"""E(3)-equivariant structure network (e3nn): equivariance and its consequence."""

import numpy as np
import pytest
import torch
from e3nn import o3
from e3nn.util.test import assert_equivariant

from physbreak.nn.e3nn_structure import StructureGraph, StructureNet
from physbreak.systems.perovskite import load_parameters
from physbreak.systems.perovskite_structures import supercell_atoms

P = load_parameters()


@pytest.fixture
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def equivariance_error(net, g, breaker) -> float:
    """e3nn's assert_equivariant of ``net`` on graph ``g`` over rotations,
    inversion and translations; ``breaker``: a vector (1o) per atom or None."""
    onehot = torch.nn.functional.one_hot(g.species, 3).double()
    vectors = [] if breaker is None else [breaker]

    def f(pos, species, shift, *vec):
        return net(pos, species, vec[0] if vec else None, g.src, g.dst, shift, g.graph, 1)

    errors = assert_equivariant(f, args_in=[g.pos, onehot, g.shift] + vectors,
                                irreps_in=["cartesian_points", o3.Irreps("3x0e"), o3.Irreps("1o")]
                                + [o3.Irreps("1o")] * len(vectors),
                                irreps_out=[o3.Irreps("1o"), o3.Irreps("0e+2e")])
    return max(float(e.max()) for e in errors.values())


def test_plain_network_is_e3_equivariant_with_parity_and_translations(float64):
    """Check 1 (issue 6): e3nn's assert_equivariant over rotations, inversion and
    translations of a distorted periodic BaTiO3 2x2x2 cell (float64 tolerance)."""
    torch.manual_seed(0)
    net = StructureNet(["Ba", "Ti", "O"])
    atoms = supercell_atoms(P, 0.1 * np.random.default_rng(0).normal(size=(2, 2, 2, 3)))
    g = StructureGraph([atoms], net.species, net.cutoff, dtype=torch.float64)
    assert equivariance_error(net, g, None) < 1e-9


def test_plain_network_cannot_polarise_a_cubic_cell(float64):
    """On cubic BaTiO3 (Pm-3m) the outputs are fixed by the cell's symmetry:
    zero displacement (zero polarisation) and isotropic strain."""
    torch.manual_seed(1)
    net = StructureNet(["Ba", "Ti", "O"])
    g = StructureGraph([supercell_atoms(P, np.zeros((2, 2, 2, 3)))], net.species, net.cutoff, dtype=torch.float64)
    with torch.no_grad():
        disp, strain = net.predict(g)
    assert disp.abs().max() < 1e-10
    iso = torch.trace(strain[0]) / 3
    assert (strain[0] - iso * torch.eye(3)).abs().max() < 1e-10
    assert abs(iso.item()) > 1e-6  # the isotropic part is not forced to vanish


def test_cuequivariance_tensor_products_compute_the_e3nn_network(float64):
    """The same network with cuequivariance's edge tensor products (its pure-torch
    fallback on the CPU): with the same weights, on a distorted cell with a
    breaker vector per atom, the outputs equal e3nn's to 1e-10 in float64, the
    state dict is unchanged (a checkpoint loads under either backend), and
    e3nn's equivariance test still passes."""
    pytest.importorskip("cuequivariance_torch")
    torch.manual_seed(2)
    ref = StructureNet(["Ba", "Ti", "O"], "1x1o")
    cue = StructureNet(["Ba", "Ti", "O"], "1x1o").use_tensor_products("cuequivariance")
    assert sum(type(m).__name__ == "CueTensorProduct" for m in cue.modules()) == 4  # every convolution (3 + output)
    assert cue.state_dict().keys() == ref.state_dict().keys()
    cue.load_state_dict(ref.state_dict())
    atoms = supercell_atoms(P, 0.1 * np.random.default_rng(3).normal(size=(2, 2, 2, 3)))
    g = StructureGraph([atoms], ref.species, ref.cutoff, dtype=torch.float64)
    breaker = torch.randn(len(atoms), 3)
    with torch.no_grad():
        (d0, s0), (d1, s1) = ref.predict(g, breaker), cue.predict(g, breaker)
    assert d0.abs().max() > 1e-3
    assert (d0 - d1).abs().max() < 1e-10 and (s0 - s1).abs().max() < 1e-10
    assert equivariance_error(cue, g, breaker) < 1e-9
