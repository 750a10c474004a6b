"""Order parameters of spin states by symmetry: the stars and irreps of the
lattice's space group (checked by brute force over the whole group of site
permutations), exact ordered states (norm 1 on their irrep, 0 elsewhere, the
right arms and stabilizers), and `physbreak analyze --order auto` of short runs:
ferromagnet at Gamma, Neel at M, J1-J2 stripes at X (two arms), the triangular
Heisenberg antiferromagnet at K."""

from __future__ import annotations

import subprocess
import textwrap

import numpy as np
import pytest
import torch

from physbreak.analysis.order_modes import order_analysis
from physbreak.analysis.report import analyze_run
from physbreak.config.run import load as load_run_config
from physbreak.io import SystemData, read_run
from physbreak.lattice import build
from physbreak.lattice.order import mode_basis, star_irreps, stars, structure_factor
from physbreak.mc.sampling import mode_projections
from physbreak.systems import Ising, ONModel
from physbreak.workflows.simulate import simulate


@pytest.mark.parametrize("kind,L", [("square", 4), ("triangular", 3), ("honeycomb", 3), ("kagome", 2),
                                    ("cubic", 2), ("chain", 4)])
def test_irreps_are_invariant_under_the_whole_space_group(kind, L):
    """Every irrep subspace is mapped into itself by every site permutation of the
    space group (brute force), the irreps of a star span its functions, and the
    characters on each are those of an irreducible representation."""
    lattice = build(kind, L)
    perms = lattice.space_group().realisations["perm"]
    for star in stars(lattice):
        irreps = star_irreps(lattice, star)
        assert sum(ir.dim for ir in irreps) == star.basis.shape[1]
        for ir in irreps:
            V = star.basis @ ir.W  # (N, dim) site functions
            for p in perms:
                moved = np.empty_like(V)
                moved[p] = V  # (P f)[p[i]] = f[i]
                assert np.allclose(V @ (V.T @ moved), moved, atol=1e-9), (kind, ir.label)


def test_star_labels_square_and_triangular():
    square = {(ir.label, ir.dim, len(s.arms)) for s in stars(build("square", 4)) for ir in star_irreps(build("square", 4), s)}
    assert square == {("GM A1", 1, 1), ("X A1", 2, 2), ("M A1", 1, 1)}
    tri = build("triangular", 6)
    labels = {s.name: [(ir.label, ir.dim) for ir in star_irreps(tri, s)] for s in stars(tri)}
    assert labels == {"GM": [("GM A1", 1)], "M": [("M A1", 3)], "K": [("K A1", 2)]}
    assert [s.name for s in stars(build("triangular", 4))] == ["GM", "M"]  # K needs L a multiple of 3


def _exact(kind, L, values, n):
    """A SystemData holding one exact state ``values`` (N, n) at T = 0.1 as 4 identical samples."""
    lattice = build(kind, L)
    model = Ising(lattice) if n == 1 else ONModel(lattice, n)
    B = mode_basis(lattice)[0]
    state = torch.as_tensor(values[None, :, 0] if n == 1 else values[None])
    modes = mode_projections(model, state, B)
    attrs = {"lattice": kind, "size": np.array(lattice.size), "periodic": True, "n_sites": lattice.n_sites,
             "model": "ising" if n == 1 else "o(n)", "n_components": n}
    return SystemData("exact", attrs, np.array([0.1]), np.array([0]), {"modes": np.repeat(modes[None], 4, 0)},
                      state.numpy())


def test_exact_states():
    sq = build("square", 8).positions
    x, y = sq[:, 0], sq[:, 1]
    tri = build("triangular", 6).positions
    theta = tri @ (2 * np.pi * np.array([2 / 3, 1 / 3]) @ np.linalg.inv(build("triangular", 6).vectors).T)
    cases = [
        ("square", np.ones((64, 1)), "GM A1", "(a)", "the whole space group", "the whole space group"),
        ("square", ((-1.0) ** (x + y))[:, None], "M A1", "(a)", "C4v, translations of index 2",
         "the whole space group"),  # a translation with the spin flip
        ("square", ((-1.0) ** y)[:, None], "X A1", "(a,0)", "C2v, translations of index 2",
         "C2v, translations of index 1"),  # the stripes break C4
        ("triangular", np.stack([np.cos(theta), np.sin(theta), 0 * theta], 1), "K A1", "(a)",
         "C3v, translations of index 3", "the whole space group"),  # spin rotations undo translations
    ]
    for kind, values, label, direction, keeps, with_spin in cases:
        system = _exact(kind, 8 if kind == "square" else 6, values, values.shape[1])
        r = order_analysis(system)
        assert r["order_parameter"] == label
        assert r["rows"][0]["power"][label] == pytest.approx(1.0, abs=1e-9)  # a pure state: norm 1
        assert sum(r["rows"][0]["power"].values()) == pytest.approx(1.0, abs=1e-9)  # nothing elsewhere
        assert r["direction"] == direction
        assert r["symmetry"]["lattice_alone"] == keeps
        assert r["symmetry"]["up_to_spin_operations"] == with_spin
        assert r["structure_factor_peak"]["point"] == label.split()[0]


def test_structure_factor_brute_force():
    lattice = build("honeycomb", 3)
    v = np.random.default_rng(0).standard_normal((2, lattice.n_sites, 3))
    k, S = structure_factor(lattice, v)
    cells = np.repeat(np.indices((3, 3)).reshape(2, -1).T, 2, axis=0)
    sub = np.arange(lattice.n_sites) % 2
    for i in (0, 4, 7):
        F = np.exp(-2j * np.pi * cells @ k[i])[None, :, None] * v  # (C, N, n)
        Fb = np.stack([F[:, sub == b].sum(1) for b in (0, 1)], 1)  # (C, 2, n)
        M = np.einsum("cbn,can->ba", Fb, Fb.conj()) / (9 * 2)
        assert S[i] == pytest.approx(np.linalg.eigvalsh(M)[-1])


RUN = """
output = "{name}.h5"
seed = 3
[lattice]
kind = "{kind}"
sizes = [{L}]
[model]
kind = "{model}"
J = {J}
[sampler]
thermalization = 1500
samples = 300
replicas = 2
modes = true
[temperatures]
values = [{T}, 5.0]
"""

STUDIES = [("fm", "square", 8, "ising", "1.0", 0.8, "GM A1", "(a)"),
           ("neel", "square", 8, "ising", "-1.0", 0.8, "M A1", "(a)"),
           ("stripes", "square", 8, "ising", "[-1.0, -1.0]", 0.8, "X A1", "(a,0)"),
           ("triangular", "triangular", 6, "heisenberg", "-1.0", 0.1, "K A1", "(a)")]


@pytest.mark.parametrize("name,kind,L,model,J,T,label,direction", STUDIES)
def test_short_runs_find_their_order(tmp_path, name, kind, L, model, J, T, label, direction):
    path = tmp_path / f"{name}.toml"
    path.write_text(RUN.format(name=name, kind=kind, L=L, model=model, J=J, T=T))
    out = simulate(load_run_config(path), tmp_path / f"{name}.h5", progress=False)
    result = analyze_run(out, discard=50)
    order = result["order"][0]
    assert order["order_parameter"] == label
    assert order["direction"] == direction
    assert order["structure_factor_peak"]["point"] == label.split()[0]
    assert [r["dominant"] for r in order["rows"]][0] == label
    cold = [r for r in result["rows"] if r["temperature"] == T][0]
    assert cold["abs_m"] > 0.8  # the symmetry-chosen order parameter is the ordered one
    if name == "stripes":
        assert len(order["arms"]) == 2


def test_analyze_cli_names_the_order(tmp_path):
    path = tmp_path / "neel.toml"
    path.write_text(RUN.format(name="neel", kind="square", L=4, model="ising", J="-1.0", T=0.8))
    subprocess.run(["physbreak", "simulate", str(path), "--out", str(tmp_path / "neel.h5")], check=True,
                   capture_output=True)
    text = subprocess.run(["physbreak", "analyze", str(tmp_path / "neel.h5"), "--plots", str(tmp_path / "p")],
                          check=True, capture_output=True, text=True).stdout
    assert "order parameter M A1" in text and "C4v, translations of index 2" in text
    assert (tmp_path / "p" / "structure_factor.png").stat().st_size > 1000


def test_modes_on_an_open_lattice_is_refused(tmp_path):
    path = tmp_path / "open.toml"
    path.write_text(textwrap.dedent(RUN.format(name="o", kind="square", L=4, model="ising", J="1.0", T=1.0))
                    .replace('[lattice]\n', '[lattice]\nperiodic = false\n'))
    r = subprocess.run(["physbreak", "simulate", str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "sampler.modes" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_read_back_keeps_modes(tmp_path):
    path = tmp_path / "fm.toml"
    path.write_text(RUN.format(name="fm", kind="chain", L=8, model="ising", J="1.0", T=0.5))
    out = simulate(load_run_config(path), tmp_path / "fm.h5", progress=False)
    _, (system,) = read_run(out)
    assert system.streams["modes"].shape == (300, 4, 2, 1)  # GM and X of the chain, one component
