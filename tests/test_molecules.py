"""Molecular saddles and ground states (GFN2-xTB through tblite), point groups
by brute force, and the e3nn predictor on molecules."""

import numpy as np
import pytest
from ase.build import molecule

from physbreak.symmetry.operations import molecule_operations
from physbreak.symmetry.point_groups import identify

pytest.importorskip("tblite")

from physbreak.systems import molecules as M  # noqa: E402


def _random_rotation(seed):
    from scipy.spatial.transform import Rotation

    return Rotation.random(random_state=seed).as_matrix()


@pytest.mark.parametrize("name,group,order", [("NH3", "C3v", 6), ("CH4", "Td", 24), ("C6H6", "D6h", 24),
                                              ("BF3", "D3h", 12), ("C2H4", "D2h", 8), ("H2O", "C2v", 4)])
def test_molecule_operations_find_the_whole_point_group_in_any_orientation(name, group, order):
    atoms = molecule(name)
    atoms.positions = atoms.positions @ _random_rotation(len(name)).T + 3.0
    mats, perms = molecule_operations(atoms)
    assert len(mats) == order and identify(mats) == group
    x = atoms.positions - atoms.positions.mean(0)
    for R, p in zip(mats, perms):  # each operation maps every atom onto an atom of the same element
        assert np.abs(x @ R.T - x[p]).max() < 1e-6
        assert (atoms.numbers[p] == atoms.numbers).all()


def test_linear_and_distorted_point_group_names():
    assert M.point_group_name(molecule("CO2")) == "Dinfh"
    assert M.point_group_name(molecule("HCN")) == "Cinfv"
    nh3 = molecule("NH3")
    nh3.positions[1] += [0.03, 0, 0]  # beyond the 0.01 A tolerance: only a mirror may survive
    assert M.point_group_name(nh3) in ("Cs", "C1")
    nh3.positions[1] -= [0.025, 0, 0]  # 0.005 A: within it
    assert M.point_group_name(nh3) == "C3v"


@pytest.mark.parametrize("family,name,saddle,ground", [("ax3", "NH3", "D3h", "C3v"), ("ax2", "H2O", "Dinfh", "C2v"),
                                                       ("c4x4", "C4H4", "D4h", "D2h")])
def test_saddle_is_a_stationary_point_that_the_kick_lowers(family, name, saddle, ground):
    case = M.family_case(family, name)
    assert (case.saddle_group, case.ground_group) == (saddle, ground)
    atoms = case.saddle.copy()
    atoms.calc = M.xtb_calculator()
    assert np.abs(atoms.get_forces()).max() < 1e-3  # stationary (fmax 1e-4 plus numerical noise)
    assert case.ground_energy < case.saddle_energy - 0.1  # eV: a real barrier, not numerical noise
    # the ground state is a minimum without the symmetry constraint: an unconstrained relaxation stays
    free, e = M.relax(case.ground, np.eye(3)[None], np.arange(len(case.ground))[None])
    assert abs(e - case.ground_energy) < 1e-4
    assert M.point_group_name(free) == ground


def test_raised_ase_molecules_reach_the_same_minimum_as_the_builders():
    flat = M.raised_case("NH3", "flatten")
    built = M.family_case("ax3", "NH3")
    assert flat.saddle_group == "D3h" and flat.ground_group == "C3v"
    assert abs(flat.ground_energy - built.ground_energy) < 1e-5  # eV: one minimum, reached twice
    assert abs(flat.saddle_energy - built.saddle_energy) < 1e-5
    line = M.raised_case("H2O", "linearise")
    assert line.saddle_group == "Dinfh" and line.ground_group == "C2v"
    rect, _ = M.square_c4x4("H", 1.08)
    rect.positions[:, 0] *= 1.1
    assert M.point_group_name(rect) == "D2h"
    assert M.point_group_name(M.raise_symmetry(rect, "regularise")) == "D4h"
    with pytest.raises(ValueError, match="already has that symmetry"):
        M.raised_case("C2H4", "flatten")


def test_breaking_tensor_for_a_centrosymmetric_target_has_exactly_that_stabilizer():
    import torch
    from e3nn import o3

    from physbreak.relaxed.breakers import breaking_tensors, breaking_vectors

    case = M.family_case("c4x4", "C4H4")
    mats, _ = molecule_operations(case.saddle)
    kept = case.kept[0]
    assert len(breaking_vectors(mats, kept)) == 0  # D2h contains the inversion: no vector has it as stabilizer
    members = breaking_tensors(mats, kept, "2e")
    assert len(members) == 2  # the two rectangles
    D = o3.Irrep("2e").D_from_matrix(torch.as_tensor(mats)).numpy()
    for b in members:
        fixed = mats[np.all(np.abs(D @ b - b) < 1e-5, axis=1)]
        assert {tuple(np.round(m, 5).ravel() + 0.0) for m in fixed} == \
            {tuple(np.round(m, 5).ravel() + 0.0) for m in kept}


@pytest.fixture(scope="module")
def small_problems():
    from physbreak.problems.molecules import problems

    rng = np.random.default_rng(0)
    cases = [M.family_case("ax3", "NH3"), M.family_case("c4x4", "C4H4")]
    return [p for c in cases for p in problems(c, 4, rng)]


def test_molecule_problems_hold_every_ground_state_image(small_problems):
    from physbreak.symmetry.operations import orbit

    for p in small_problems:
        assert len(p.targets) == 2  # pyramid up/down; the two rectangles
        images = orbit(p.targets[0] + p.parent.positions - p.parent.positions.mean(0), p.mats, p.perms)
        for t in p.targets:
            assert np.abs(images - (t + p.parent.positions - p.parent.positions.mean(0))).max(axis=(1, 2)).min() < 1e-6


def test_plain_network_keeps_the_saddle_symmetry_and_sbs_breaks_it(small_problems):
    from physbreak.learn.metrics import evaluate_structures as evaluate
    from physbreak.learn.structure import StructurePredictor, species_of

    species = species_of(small_problems)
    plain = StructurePredictor("none", species=species, seed=0)
    rows = evaluate(plain, small_problems, relaxed=False)
    assert {r["group"] for r in rows} <= {"D3h", "D4h"}  # an equivariant network cannot break the symmetry
    sbs = StructurePredictor("sbs", species=species, seed=0)
    sbs.fit(small_problems, epochs=30)
    rows = evaluate(sbs, small_problems)
    assert {r["group"] for r in rows} == {"C3v", "D2h"}  # the breaker's stabilizer is the target group
    assert max(r["relaxed_error"] for r in rows) < 1e-4
    assert all(np.isfinite(r["energy_mev"]) for r in rows)


def test_molecule_family_records_keep_the_xtb_ground_energy(tmp_path):
    from physbreak.workflows.dataset import build_dataset, parse
    from physbreak.problems.store import read_structures

    cfg = parse('[[family]]\nname = "molecules"\ncount = 2\n[family.params]\n'
                'molecules = ["ax2:H2O", "raised:NH3:flatten"]\n')
    problems = read_structures(build_dataset(cfg, tmp_path / "m.h5", progress=False))
    assert [p.kind for p in problems] == ["H2O", "H2O", "NH3 (flatten)", "NH3 (flatten)"]
    assert [p.target_group for p in problems] == ["C2v", "C2v", "C3v", "C3v"]
    for p in problems:  # the stored energy is the xTB energy of the stored ground state
        ground = p.parent.copy()
        ground.positions = p.parent.positions + p.targets[0]
        assert abs(M.energy(ground) - p.ground_energy) < 1e-6
