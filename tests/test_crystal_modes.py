"""Symmetry-mode decomposition of crystals (:mod:`physbreak.symmetry.crystal_modes`).

Against Howard & Stokes, Acta Cryst. B 54, 782 (1998): every Glazer tilt
system of :func:`physbreak.systems.tilts.build` (2x2x2 cubic perovskite
supercell) decomposes into M3+ (in-phase) and/or R4+ (anti-phase) with their
order-parameter directions, amplitudes proportional to the tilt angles for
small tilts, and the isotropy subgroup of the whole distortion equal to the
space group spglib finds for the child.  Secondary modes (M4+, X5+) come
from the second order in the angles: below 5 % of the primary amplitude at
tilts of 2-4 degrees, and shrinking 4x when the angles halve.  The isotropy
subgroups of every direction type of GM4-, M3+ and R4+ in Pm-3m are those of
the published tables (Stokes & Hatch 1988; Howard & Stokes 1998).
"""

import numpy as np
import pytest
from ase import Atoms

from physbreak.errors import SymmetryError
from physbreak.symmetry.crystal_modes import crystal_modes, isotropy_subgroups
from physbreak.systems.tilts import build

A = 3.9
PARENT = Atoms("SrTiO3", scaled_positions=[[.5, .5, .5], [0, 0, 0], [.5, 0, 0], [0, .5, 0], [0, 0, .5]],
               cell=np.eye(3) * A, pbc=True)

# Glazer symbol -> {irrep: direction type} (Howard & Stokes 1998, Table 1)
HOWARD_STOKES = {
    "a0a0c+": {"M3+": "(a,0,0)"}, "a0b+b+": {"M3+": "(a,a,0)"}, "a+a+a+": {"M3+": "(a,a,a)"},
    "a+b+c+": {"M3+": "(a,b,c)"}, "a0a0c-": {"R4+": "(a,0,0)"}, "a0b-b-": {"R4+": "(a,a,0)"},
    "a-a-a-": {"R4+": "(a,a,a)"}, "a0b-c-": {"R4+": "(a,b,0)"}, "a-b-b-": {"R4+": "(a,b,b)"},
    "a-b-c-": {"R4+": "(a,b,c)"}, "a0b+c-": {"M3+": "(a,0,0)", "R4+": "(a,0,0)"},
    "a+b-b-": {"M3+": "(a,0,0)", "R4+": "(a,a,0)"}, "a+b-c-": {"M3+": "(a,0,0)", "R4+": "(a,b,0)"},
    "a+a+c-": {"M3+": "(a,a,0)", "R4+": "(a,0,0)"},
}


def tilted(symbol, scale=1.0):
    letters = list(dict.fromkeys(symbol[::2]))
    return build(symbol, scale * np.array([2.0, 3.0, 4.0])[:len(letters)], a=A)


@pytest.mark.parametrize("symbol", list(HOWARD_STOKES))
def test_glazer_tilts_are_m3_and_r4_modes(symbol):
    result = crystal_modes(PARENT, tilted(symbol))
    assert result.parent_group == "Pm-3m"
    top = result.modes[0].amplitude
    primary = {m.label: m.pattern for m in result.modes if m.amplitude > 0.05 * top}
    assert primary == HOWARD_STOKES[symbol]
    assert result.isotropy == result.child_group
    if len(primary) == 1:
        assert result.modes[0].isotropy == result.child_group
    half = crystal_modes(PARENT, tilted(symbol, 0.5))
    for m in result.modes:  # primary modes linear in the angles, secondary ones quadratic
        h = next(x for x in half.modes if x.label == m.label)
        assert h.amplitude / m.amplitude == pytest.approx(0.5 if m.label in primary else 0.25, rel=0.02)


def test_r4_direction_follows_the_tilt_angles():
    result = crystal_modes(PARENT, build("a-b-c-", [2.0, 3.0, 4.0], a=A))
    (r4,) = [m for m in result.modes if m.label == "R4+"]
    d = np.sort(np.abs(r4.direction))
    assert d / d[-1] == pytest.approx(np.array([2.0, 3.0, 4.0]) / 4.0, rel=0.01)


@pytest.mark.parametrize("label, expected", [
    ("GM4-", {"(a,0,0)": "P4mm", "(a,a,0)": "Amm2", "(a,a,a)": "R3m", "(a,b,0)": "Pm", "(a,b,b)": "Cm",
              "(a,b,c)": "P1"}),
    ("M3+", {"(a,0,0)": "P4/mbm", "(a,a,0)": "I4/mmm", "(a,a,a)": "Im-3", "(a,b,0)": "Immm", "(a,b,b)": "Immm",
             "(a,b,c)": "Immm"}),
    ("R4+", {"(a,0,0)": "I4/mcm", "(a,a,0)": "Imma", "(a,a,a)": "R-3c", "(a,b,0)": "C2/m", "(a,b,b)": "C2/c",
             "(a,b,c)": "P-1"}),
])
def test_isotropy_subgroups_of_the_published_tables(label, expected):
    assert isotropy_subgroups(PARENT, label) == expected


def test_polar_distortion_is_gamma4_minus():
    child = PARENT.repeat((1, 1, 1))
    child.positions[1] += [0.0, 0.0, 0.1]  # Ti up, O apical down: a P4mm polar distortion
    child.positions[4] -= [0.0, 0.0, 0.05]
    result = crystal_modes(PARENT, child)
    assert [m.label for m in result.modes] == ["GM4-"]
    assert result.modes[0].pattern == "(a,0,0)" and result.modes[0].isotropy == "P4mm" == result.child_group


def test_children_that_do_not_map_are_refused():
    wrong = tilted("a0a0c+")
    wrong.set_cell(wrong.cell * [1.25, 1, 1], scale_atoms=True)
    with pytest.raises(SymmetryError, match="not a supercell"):
        crystal_modes(PARENT, wrong)
    missing = tilted("a0a0c+")
    del missing[-1]
    with pytest.raises(SymmetryError, match="do not map onto the parent"):
        crystal_modes(PARENT, missing)
    with pytest.raises(SymmetryError, match="'Q9' does not occur"):
        isotropy_subgroups(PARENT, "Q9")


def test_labels_use_the_b_site_origin_whatever_the_file_origin():
    a_origin = PARENT.copy()
    a_origin.set_scaled_positions((PARENT.get_scaled_positions() - [0.5, 0.5, 0.5]) % 1.0)
    for symbol in ("a0a0c+", "a-a-a-"):
        assert [m.label for m in crystal_modes(a_origin, tilted(symbol)).modes][:1] == \
            list(HOWARD_STOKES[symbol])


def test_symmetry_command_prints_the_table_and_writes_json(tmp_path):
    import json

    import ase.io

    from conftest import run_cli

    ase.io.write(tmp_path / "parent.cif", PARENT)
    ase.io.write(tmp_path / "pnma.cif", tilted("a+b-b-"))
    r = run_cli("symmetry", tmp_path / "parent.cif", tmp_path / "pnma.cif", "--json", tmp_path / "out.json")
    assert r.returncode == 0, r.stderr
    assert "child" in r.stdout and "Pnma" in r.stdout and "R4+" in r.stdout and "M3+" in r.stdout
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["isotropy"] == data["child_group"] == "Pnma"
    assert [m["irrep"] for m in data["modes"][:2]] == ["R4+", "M3+"]
    r = run_cli("symmetry", tmp_path / "parent.cif", "--irrep", "GM4-")
    assert r.returncode == 0 and "R3m" in r.stdout and "Amm2" in r.stdout


def test_symmetry_command_bad_inputs_are_one_line(tmp_path):
    import ase.io

    from conftest import one_line_error, run_cli

    ase.io.write(tmp_path / "parent.cif", PARENT)
    tetragonal = PARENT.copy()
    tetragonal.positions[1] += [0, 0, 0.1]
    ase.io.write(tmp_path / "p4mm.cif", tetragonal)
    short = tilted("a0a0c+")
    del short[-1]
    ase.io.write(tmp_path / "short.cif", short)
    one_line_error(run_cli("symmetry", tmp_path / "parent.cif", tmp_path / "short.cif"), "do not map onto the parent")
    one_line_error(run_cli("symmetry", tmp_path / "p4mm.cif", tmp_path / "parent.cif"), "not a subgroup", "P4mm")
    one_line_error(run_cli("symmetry", tmp_path / "parent.cif", "--irrep", "Q7+"), "'Q7+' does not occur", "R4+")
    one_line_error(run_cli("symmetry", tmp_path / "parent.cif", tmp_path / "nothing.cif"), "nothing.cif")


@pytest.mark.parametrize("directions, pattern, group", [("100", "(a,0,0)", "P4mm"), ("110", "(a,a,0)", "Amm2"),
                                                        ("111", "(a,a,a)", "R3m")])
def test_batio3_ground_states_are_gamma4_minus(directions, pattern, group):
    """The T, O and R ground states of the effective Hamiltonian (a cubic cell held
    in each polar subgroup) and the per-phase report of `analyze` on MD runs."""
    from physbreak.analysis.structural import _phase_modes
    from physbreak.problems.batio3 import ground_state_modes
    from physbreak.systems.perovskite import load_parameters

    params = load_parameters("BaTiO3_ZVR1995")
    eta = np.zeros(6)
    _, variants = ground_state_modes(params, eta, directions=directions)
    report = _phase_modes(params, variants[0], eta, 0.03)
    assert [(m["irrep"], m["pattern"], m["isotropy"]) for m in report["modes"]] == [("GM4-", pattern, group)]
    assert report["isotropy"] == group


@pytest.mark.parametrize("k", [(0, 0, 0), (0, 0.5, 0), (0.5, 0.5, 0), (0.5, 0.5, 0.5)])
def test_small_irreps_match_spgrep(k):
    """Each irrep found at the first arm of a star has the characters of exactly
    one of spgrep's small irreps of Pm-3m at that k (spgrep builds them
    independently, from the little group)."""
    spgrep = pytest.importorskip("spgrep")
    from physbreak.symmetry.crystal_modes import mode_space

    space = mode_space(PARENT, np.eye(3, dtype=int) * 2)
    irreps, rots, _, mapping = spgrep.get_spacegroup_irreps(np.asarray(PARENT.cell), PARENT.get_scaled_positions(),
                                                            PARENT.numbers, list(k))
    theirs = [np.real([np.trace(m) for m in ir]) for ir in irreps]
    n_cells = len(space.cells)
    found = [ir for ir in space.irreps if np.allclose(ir.arms[0], k)]
    assert found
    for ir in found:
        idx = [next(j for j, mj in enumerate(mapping) if np.array_equal(rots[mj], space.sym.rotations[i // n_cells]))
               for i in ir.little]
        assert sum(np.allclose(c[idx], ir.chars, atol=1e-6) for c in theirs) == 1, ir.label
