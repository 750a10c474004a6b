import numpy as np
import pytest

from physbreak.errors import InvalidValue
from physbreak.lattice import KINDS, build, from_edges

# coordination numbers of the first two shells on the infinite lattices
COORDINATION = {"chain": (2, 2), "square": (4, 4), "triangular": (6, 6), "honeycomb": (3, 6),
                "kagome": (4, 4), "cubic": (6, 12)}
BIPARTITE = {"chain", "square", "honeycomb", "cubic"}


def degrees(lattice, shell):
    return np.bincount(lattice.bonds(shell).ravel(), minlength=lattice.n_sites)


@pytest.mark.parametrize("kind", KINDS)
def test_periodic_coordination(kind):
    lat = build(kind, 6)
    for shell, z in enumerate(COORDINATION[kind], start=1):
        assert np.all(degrees(lat, shell) == z), (kind, shell)


@pytest.mark.parametrize("kind", KINDS)
def test_shells_have_one_bond_length(kind):
    lat = build(kind, 5, periodic=False)
    lengths = [np.linalg.norm(lat.positions[b[:, 0]] - lat.positions[b[:, 1]], axis=1)
               for b in lat.shells]
    assert all(np.ptp(x) < 1e-9 for x in lengths)
    assert lengths[0][0] < lengths[1][0]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("n_shells", [1, 2])
def test_colouring_is_a_partition_into_independent_sets(kind, periodic, n_shells):
    lat = build(kind, 6, periodic=periodic)
    colours = lat.coloring(n_shells)
    assert sorted(np.concatenate(colours)) == list(range(lat.n_sites))
    label = np.empty(lat.n_sites, int)
    for c, sites in enumerate(colours):
        label[sites] = c
    for s in range(1, n_shells + 1):
        b = lat.bonds(s)
        assert np.all(label[b[:, 0]] != label[b[:, 1]])
    if n_shells == 1:
        assert (len(colours) == 2) == (kind in BIPARTITE)


def test_open_square_bond_count_and_staggered_sign():
    lat = build("square", (5, 3), periodic=False)
    assert lat.n_sites == 15 and len(lat.bonds(1)) == 5 * 2 + 4 * 3
    b = lat.bonds(1)
    assert np.all(lat.sublattice_sign[b[:, 0]] == -lat.sublattice_sign[b[:, 1]])
    assert build("triangular", 6).sublattice_sign is None


def test_graph_from_edges_petersen():
    outer = [(i, (i + 1) % 5) for i in range(5)]
    inner = [(5 + i, 5 + (i + 2) % 5) for i in range(5)]
    spokes = [(i, i + 5) for i in range(5)]
    lat = from_edges(10, outer + inner + spokes)
    assert np.all(degrees(lat, 1) == 3)
    colours = lat.coloring()
    assert len(colours) == 3  # Petersen graph: chromatic number 3
    label = np.empty(10, int)
    for c, sites in enumerate(colours):
        label[sites] = c
    e = lat.bonds(1)
    assert np.all(label[e[:, 0]] != label[e[:, 1]])


@pytest.mark.parametrize("edges, field", [([(0, 5)], "edges"), ([(1, 1)], "edges")])
def test_graph_bad_edges(edges, field):
    with pytest.raises(InvalidValue, match=field):
        from_edges(3, edges)


@pytest.mark.parametrize("kind, size, match", [("hexagonal", 4, "kind"),
                                               ("square", (4, 0), "size"),
                                               ("square", (4, 4, 4), "size"),
                                               ("chain", 1, "size")])
def test_bad_lattices(kind, size, match):
    with pytest.raises(InvalidValue, match=match):
        build(kind, size)
