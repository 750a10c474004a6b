"""Finite groups, lattice groups, graph automorphisms, stabilizers and
structure symmetry, checked by brute force."""


import numpy as np
import pytest

from physbreak.lattice import build, from_edges
from physbreak.symmetry import (POINT_GROUPS, FiniteGroup, SiteValues, SpinHamiltonian, Structure,
                                automorphism_group, breaks_symmetry, canonical_permutation,
                                count_automorphisms, crystal_space_group, direct_product, identify,
                                molecule_point_group, orbit, point_group, potts_group,
                                spin_flip_group, stabilizer_elements)

ORDERS = {"C1": 1, "Ci": 2, "C2": 2, "Cs": 2, "C2h": 4, "D2": 4, "C2v": 4, "D2h": 8, "C4": 4,
          "S4": 4, "C4h": 8, "D4": 8, "C4v": 8, "D2d": 8, "D4h": 16, "C3": 3, "S6": 6, "D3": 6,
          "C3v": 6, "D3d": 12, "C6": 6, "C3h": 6, "C6h": 12, "D6": 12, "C6v": 12, "D3h": 12,
          "D6h": 24, "T": 12, "Th": 24, "O": 24, "Td": 24, "Oh": 48, "I": 60, "Ih": 120}


def check_axioms(group: FiniteGroup):
    """Closure, identity, inverses and associativity by brute force on the Cayley table."""
    t = group.table
    n = group.order
    assert np.all((t >= 0) & (t < n))
    assert np.array_equal(t[0], np.arange(n)) and np.array_equal(t[:, 0], np.arange(n))
    assert all(sorted(row) == list(range(n)) for row in t)  # Latin square: closure + cancellation
    inv = group.inverses
    assert np.all(t[np.arange(n), inv] == 0) and np.all(t[inv, np.arange(n)] == 0)
    rng = np.random.default_rng(0)
    a, b, c = rng.integers(0, n, (3, 200))
    assert np.array_equal(t[t[a, b], c], t[a, t[b, c]])


@pytest.mark.parametrize("name", POINT_GROUPS)
def test_point_groups(name):
    g = point_group(name)
    assert g.order == ORDERS[name]
    m = g.realisations["matrix"]
    assert np.allclose(m @ np.swapaxes(m, 1, 2), np.eye(3))
    check_axioms(g)
    assert identify(m) == name
    # any orientation is recognised
    from physbreak.symmetry.point_groups import rotation
    Q = rotation([0.3, -0.5, 0.8], 1.1)
    assert identify(Q @ m @ Q.T) == name


@pytest.mark.parametrize("kind, size, order", [("square", 4, 8 * 16), ("square", 5, 8 * 25),
                                               ("triangular", 3, 12 * 9), ("honeycomb", 3, 12 * 9),
                                               ("kagome", 2, 12 * 4), ("chain", 6, 12),
                                               ("cubic", 2, 48 * 8)])
def test_lattice_space_groups(kind, size, order):
    lat = build(kind, size)
    g = lat.space_group()
    assert g.order == order
    assert lat.translation_group().order == lat.n_sites // lat.n_basis
    check_axioms(g) if order <= 400 else None
    # every element maps each bond shell onto itself
    for p in g.realisations["perm"]:
        for shell in lat.shells:
            assert {tuple(sorted(b)) for b in p[shell].tolist()} == {tuple(sorted(b)) for b in shell.tolist()}


def test_site_point_groups():
    orders = {"square": 8, "triangular": 12, "honeycomb": 6, "kagome": 4, "cubic": 48}
    for kind, order in orders.items():
        g = build(kind, 4).point_group()
        assert g.order == order and np.all(g.realisations["perm"][:, 0] == 0)


def test_products_subgroups_cosets():
    z2, s3 = spin_flip_group(), potts_group(3)
    assert s3.order == 6 and potts_group(4).order == 24
    g = direct_product(build("square", 3).space_group(), z2)
    assert g.order == 2 * 72
    check_axioms(direct_product(point_group("D4"), z2))
    translations = [k for k in range(g.order) if np.allclose(g.realisations["matrix"][k], np.eye(2))]
    assert g.is_subgroup(translations) and len(translations) == 18
    cosets = g.left_cosets(translations)
    assert len(cosets) == 8 and sorted(sum(cosets, [])) == list(range(g.order))


def test_automorphisms_of_the_4x4_torus_are_those_of_the_4_cube():
    """The 4x4 periodic square lattice is C4 x C4 = Q2 x Q2 = Q4, the 4-cube, whose
    automorphism group has 2^4 4! = 384 elements, three times the 8 L^2 = 128
    lattice symmetries: the extra ones mix the axes with a non-geometric swap."""
    lat = build("square", 4)
    bonds = lat.bonds(1)
    assert count_automorphisms(16, bonds) == 384
    aut = automorphism_group(16, bonds)
    assert aut.order == 384
    cube = from_edges(16, [(i, i ^ (1 << k)) for i in range(16) for k in range(4) if i < i ^ (1 << k)])
    assert count_automorphisms(16, cube.bonds(1)) == 384
    assert count_automorphisms(36, build("square", 6).bonds(1)) == 8 * 36
    space = {tuple(p) for p in lat.space_group().realisations["perm"]}
    assert space < {tuple(p) for p in aut.realisations["perm"]}


def test_weighted_automorphisms_and_canonical_labelling():
    lat = build("square", 4)
    bonds = lat.bonds(1)
    J = np.where(np.arange(len(bonds)) % 2 == 0, 1.0, 2.0)  # Jx != Jy pattern
    aut = automorphism_group(16, bonds, edge_values=J)
    for p in aut.realisations["perm"]:
        assert SpinHamiltonian(16, p[bonds], J, np.zeros(16)).equals(SpinHamiltonian(16, bonds, J, np.zeros(16)))
    # canonical form: the relabelled graph is the same for every relabelling of the input
    rng = np.random.default_rng(1)
    h = rng.normal(size=16).round(1)
    forms = set()
    for _ in range(5):
        sigma = rng.permutation(16)
        b, hh = sigma[bonds], np.empty(16)
        hh[sigma] = h
        lab = canonical_permutation(16, b, hh, J)
        forms.add((tuple(sorted(tuple(sorted(e)) + (j,) for e, j in zip(lab[b].tolist(), J))),
                   tuple(np.round(hh[np.argsort(lab)], 6))))
    assert len(forms) == 1


def planted_hamiltonian(lat, group, rng, n_gens=2):
    """Random couplings and fields symmetrised over the subgroup generated by random elements."""
    gens = rng.integers(1, group.order, n_gens)
    sub = FiniteGroup.generate({k: [group.realisations[k][g] for g in gens] for k in group.realisations})
    bonds = lat.bonds(1)
    key = {tuple(sorted(b)): k for k, b in enumerate(bonds.tolist())}
    J = np.zeros(len(bonds))
    for b in range(len(bonds)):
        if J[b]:
            continue
        value = rng.choice([0.5, 1.0, 1.5, -1.0])
        for p in sub.realisations["perm"]:
            J[key[tuple(sorted(p[bonds[b]].tolist()))]] = value
    h = np.zeros(lat.n_sites)
    done = np.zeros(lat.n_sites, bool)
    for i in range(lat.n_sites):
        if done[i]:
            continue
        value = rng.choice([0.0, 0.3, -0.7])
        images = {}
        for p, s in zip(sub.realisations["perm"], sub.realisations["sign"]):
            images.setdefault(p[i], set()).add(s * value)
        consistent = all(len(v) == 1 for v in images.values())
        for site, vals in images.items():
            h[site] = vals.pop() if consistent else 0.0
            done[site] = True
    return SpinHamiltonian(lat.n_sites, bonds, J, h), sub


@pytest.mark.parametrize("seed", range(6))
def test_stabilizer_of_planted_hamiltonians_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    lat = build("square", 4)
    group = direct_product(lat.space_group(), spin_flip_group())
    H, planted = planted_hamiltonian(lat, group, rng)
    fast = stabilizer_elements(group, H)
    brute = [g for g in range(group.order) if H.transformed(group, g).equals(H)]
    assert list(fast) == brute
    assert group.is_subgroup(fast)
    planted_idx = {group.index_of(planted.element(k)) for k in range(planted.order)}
    assert planted_idx <= set(fast)


def test_states_orbits_and_breaking():
    lat = build("square", 4)
    group = direct_product(lat.space_group(), spin_flip_group())
    ferro = SpinHamiltonian(16, lat.bonds(1), np.ones(32), np.zeros(16))
    neel, up = SiteValues(lat.sublattice_sign), SiteValues(np.ones(16))
    assert len(stabilizer_elements(group, ferro)) == 256
    assert len(stabilizer_elements(group, neel)) == 128 and len(orbit(group, neel)) == 2
    assert len(orbit(group, up)) == 2
    assert breaks_symmetry(group, ferro, up) and breaks_symmetry(group, ferro, neel)
    zero = SiteValues(np.zeros(16))
    assert not breaks_symmetry(group, ferro, zero)
    potts = direct_product(lat.space_group(), potts_group(3))
    state = SiteValues(np.zeros(16, dtype=np.int64), potts=True)
    assert len(orbit(potts, state)) == 3  # the three ordered Potts states
    fixed = [g for g in range(potts.order) if state.transformed(potts, g).equals(state)]
    assert list(stabilizer_elements(potts, state)) == fixed


@pytest.mark.parametrize("name, expected", [("H2O", "C2v"), ("NH3", "C3v"), ("CH4", "Td"),
                                            ("C6H6", "D6h"), ("C2H4", "D2h"), ("CO2", "Dinfh"),
                                            ("HCN", "Cinfv"), ("C2H6", "D3d"), ("CH3CH2OH", "Cs"),
                                            ("C60", "Ih")])
def test_molecule_point_groups(name, expected):
    from ase.build import molecule

    m = molecule(name)
    sym = molecule_point_group(m.positions, m.numbers, tol=0.02)
    assert sym.name == expected
    x = m.positions - sym.center
    for R, p in zip(sym.group.realisations["matrix"], sym.group.realisations["perm"]):
        assert np.abs(x @ R.T - x[p]).max() < 0.02
    if expected not in ("Dinfh", "Cinfv"):
        check_axioms(sym.group)


def test_crystal_space_groups_with_tolerance():
    from ase import Atoms

    cubic = Atoms("BaTiO3", scaled_positions=[[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]],
                  cell=np.eye(3) * 4.0, pbc=True)
    assert crystal_space_group(cubic).international == "Pm-3m"
    polar = cubic.copy()
    polar.positions[1, 2] += 0.05  # Ti off-centre along z
    assert crystal_space_group(polar, symprec=1e-3).international == "P4mm"
    assert crystal_space_group(polar, symprec=0.1).international == "Pm-3m"
    stab = [k for k, R in enumerate(point_group("Oh").realisations["matrix"])
            if Structure(polar.positions - polar.positions[1], polar.numbers, 1e-3).atom_permutation(R) is not None]
    assert len(stab) <= 8


def test_stabilizer_with_flip_times_translation_matches_brute_force():
    """Jx != Jy in a staggered field: a one-site translation combined with the
    spin flip is a symmetry, though neither is alone."""
    lat = build("square", 4)
    bonds = lat.bonds(1)
    vertical = np.abs(lat.positions[bonds[:, 0], 0] - lat.positions[bonds[:, 1], 0]) < 0.5
    H = SpinHamiltonian(16, bonds, np.where(vertical, 0.5, 1.0), 0.3 * lat.sublattice_sign)
    group = direct_product(lat.space_group(), spin_flip_group())
    brute = [g for g in range(group.order) if H.transformed(group, g).equals(H)]
    assert list(stabilizer_elements(group, H)) == brute
    assert len(brute) == 64  # p2mm-like point part (4) x 16 translations, half with a flip


def test_open_lattices_and_graphs():
    assert build("square", 4, periodic=False).space_group().order == 8  # D4 about the centre
    assert build("square", (4, 6), periodic=False).point_group().order == 4
    assert build("cubic", 3, periodic=False).space_group().order == 48
    assert build("honeycomb", 2, periodic=False).point_group().order == 4  # the rhombic sample: D2
    with pytest.raises(Exception, match="open lattice has no translations"):
        build("square", 4, periodic=False).translation_group()
    outer = [(i, (i + 1) % 5) for i in range(5)]
    petersen = from_edges(10, outer + [(5 + i, 5 + (i + 2) % 5) for i in range(5)] + [(i, i + 5) for i in range(5)])
    assert petersen.space_group().order == 120  # Aut(Petersen) = S5


@pytest.mark.parametrize("name", ["HCN", "C2H2", "CO2"])
def test_noisy_linear_molecules_get_a_true_group_and_no_error(name):
    """0.005 A noise on a linear molecule: at tol = 0.01 A some draws stay linear,
    others are only Cs, C2v, ...; every answer is a group of operations that map
    each atom onto one of its element within the tolerance (brute force)."""
    from ase.build import molecule

    from physbreak.symmetry.structures import molecule_point_group

    names = set()
    for seed in range(12):
        mol = molecule(name)
        mol.positions += np.random.default_rng(seed).normal(scale=0.005, size=mol.positions.shape)
        found = molecule_point_group(mol.positions, mol.numbers, tol=0.01)
        names.add(found.name)
        x = mol.positions - found.center
        for R, perm in zip(found.group.realisations["matrix"], found.group.realisations["perm"]):
            assert (mol.numbers[perm] == mol.numbers).all()
            assert np.linalg.norm(x @ R.T - x[perm], axis=1).max() < 0.015  # tol, plus the symmetrising fit
    assert names & {"Cinfv", "Dinfh"} and names - {"Cinfv", "Dinfh"}  # both regimes were exercised
