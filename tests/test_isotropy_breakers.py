"""Breaking sets from isotropy subgroups: the direction enumeration for a named
target, the coupled polar + anti-phase-tilt family (Gamma4- + R4+ -> R3c), its
breaking sets checked by brute force over the input's operations, and the
structure predictor trained on them."""

from __future__ import annotations

import numpy as np
import pytest

from physbreak.errors import SymmetryError
from physbreak.learn.metrics import evaluate_structures, mode_signature
from physbreak.problems.isotropy import (cubic_perovskite, field_breakers, make_dataset, perovskite_parent)
from physbreak.symmetry.crystal_modes import directions_for, generic_direction
from physbreak.symmetry.operations import orbit
from physbreak.systems.perovskite_structures import space_group


def test_directions_for_named_targets():
    prim = cubic_perovskite()
    assert directions_for(prim, ["GM4-", "R4+"], "R3c") == [("GM4-", (1, 1, 1)), ("R4+", (1, 1, 1))]
    assert directions_for(prim, ["GM4-", "R4+"], "I4cm") == [("GM4-", (1, 0, 0)), ("R4+", (1, 0, 0))]
    assert directions_for(prim, ["R4+"], "I4/mcm") == [("R4+", (1, 0, 0))]
    with pytest.raises(SymmetryError, match="Imm2"):
        directions_for(prim, ["GM4-", "R4+"], "Imm2")


def test_generic_direction_keeps_the_pattern_only():
    assert generic_direction([0.31, -0.31, 0.12]).tolist() == [1.0, -1.0, 0.7]
    assert generic_direction([0.02, 0.5, 0.0]).tolist() == [0.0, 1.0, 0.0]
    assert generic_direction([0.2, 0.5, 0.35]).tolist() == [0.45, 1.0, 0.7]


@pytest.fixture(scope="module")
def coupled():
    return make_dataset(6, seed=3)


def test_coupled_family_reaches_r3c_with_an_exact_breaking_set(coupled):
    for p in coupled:
        assert space_group(p.parent, 1e-3) == "R-3m" and p.target_group == "R3c"
        child = p.parent.copy()
        child.positions += p.targets[0]
        assert space_group(child, 1e-3) == "R3c"
        assert mode_signature(p.parent, p.targets[0]) == "GM4- (a,a,a) + R4+ (a,a,a)"
        b = p.breakers[0][:, :3]
        fixes_b = [np.abs(b @ R.T - b[q]).max() < 1e-9 for R, q in zip(p.mats, p.perms)]
        fixes_t = [np.abs(img - p.targets[0]).max() < 1e-6 for img in orbit(p.targets[0], p.mats, p.perms)]
        assert fixes_b == fixes_t and 0 < sum(fixes_b) < len(p.mats)
        assert len(p.breakers) == len(p.targets) == len(p.mats) // sum(fixes_b)
    amplitudes = [np.linalg.norm(p.targets[0]) for p in coupled]
    assert len(set(np.round(amplitudes, 6))) == len(coupled)  # every record its own amplitudes


def test_field_breakers_refuse_a_stabilizer_no_member_has(coupled):
    p = coupled[0]
    with pytest.raises(SymmetryError, match="no image"):
        field_breakers(p.breakers[0][:, :3], p.mats, p.perms, np.ones(len(p.mats), bool))


def test_perovskite_parent_of_a_supercell():
    prim = perovskite_parent(cubic_perovskite(("Ba", "Ti", "O"), 4.0).repeat((2, 2, 2)))
    assert prim.get_chemical_symbols() == ["Ba", "Ti", "O", "O", "O"]
    assert np.allclose(prim.cell.lengths(), 4.0)
    with pytest.raises(SymmetryError, match="ABO3"):
        perovskite_parent(cubic_perovskite()[:4])


@pytest.mark.slow
def test_sbs_from_isotropy_subgroups_reaches_r3c():
    """The e3nn predictor with the isotropy breaking set, on held-out amplitudes."""
    from physbreak.learn.structure import train

    model, _ = train("sbs", make_dataset(40, seed=0), epochs=80, cutoff=3.5)
    rows = evaluate_structures(model, make_dataset(20, seed=1), relaxed=False)
    assert np.mean([r["group_ok"] for r in rows]) >= 0.9
    assert np.mean([r["irreps_ok"] for r in rows]) >= 0.9


def test_polar_tilt_groundstates_family(tmp_path):
    import subprocess

    from physbreak.problems.store import read_structures

    cfg = tmp_path / "d.toml"
    cfg.write_text('seed = 1\n[[family]]\nname = "polar_tilt"\ncount = 1\n[family.params]\ntarget = "I4cm"\n')
    out = tmp_path / "d.h5"
    r = subprocess.run(["physbreak", "groundstates", str(cfg), "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    problems = read_structures(out)
    assert [p.target_group for p in problems] == ["I4cm"] and problems[0].breakers.shape[1:] == (40, 11)
    from physbreak.errors import InvalidValue
    from physbreak.problems.structure_families import cases

    with pytest.raises(InvalidValue, match="params.target.*'Imm2'"):
        cases("polar_tilt", {"target": "Imm2"})
