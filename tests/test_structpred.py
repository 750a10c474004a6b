"""BaTiO3 parent -> ground-state problems, breakers, and the e3nn predictor."""

import numpy as np
import pytest

from physbreak.problems.batio3 import INTENDED, make_dataset
from physbreak.symmetry.operations import orbit
from physbreak.learn.metrics import evaluate_structures as evaluate
from physbreak.learn.metrics import structure_relaxed_error as relaxed_error
from physbreak.learn.structure import STRUCTURE_BREAKERS as BREAKERS
from physbreak.learn.structure import StructurePredictor, breaker_irreps_of
from physbreak.problems.glazer import SYSTEMS as GLAZER_SYSTEMS
from physbreak.relaxed.breakers import breaking_set
from physbreak.systems.perovskite_structures import space_group

PARENT = {"T": "P4/mmm", "O": "Cmmm", "R": "R-3m", "C": "Pm-3m"}


@pytest.fixture(scope="module")
def problems():
    return make_dataset("TORC", 3, seed=5)


def test_parents_and_ground_states_have_the_stated_groups(problems):
    for p in problems:
        assert space_group(p.parent, 1e-3) == PARENT[p.kind]
        assert p.target_group == INTENDED[p.kind]
        assert len(p.targets) == (8 if p.kind == "C" else 2)
        # the variants are one orbit of the parent's group: every operation maps a variant to a variant
        images = orbit(p.targets[0], p.mats, p.perms).reshape(len(p.mats), -1)
        stored = {tuple(np.round(t.ravel(), 5)) for t in p.targets}
        assert {tuple(np.round(i, 5)) for i in images} == stored


def test_breaking_vector_is_fixed_exactly_by_the_target_subgroup(problems):
    for p in problems:
        v = breaking_set(p.mats, p.target_mats)[0][:3]  # a vector: the polar targets have no inversion
        fixed = np.all(np.abs(p.mats @ v - v) < 1e-6, axis=1)
        assert {tuple(np.round(m, 6).ravel() + 0.0) for m in p.mats[fixed]} == \
            {tuple(np.round(m, 6).ravel() + 0.0) for m in p.target_mats}


def test_isotropy_breaking_set_is_fixed_exactly_by_the_ground_state_group():
    """The per-atom breaking set built from isotropy subgroups (Gamma4- along the
    ground state's direction): its first member is fixed by exactly the
    operations fixing the first ground state (brute force), and the set is one
    orbit as large as the set of variants."""
    for p in make_dataset("TORC", 1, seed=5, breaking="isotropy"):
        b = p.breakers[0][:, :3]
        fixes_b = [np.abs(b @ R.T - b[q]).max() < 1e-9 for R, q in zip(p.mats, p.perms)]
        fixes_t = [np.abs(img - p.targets[0]).max() < 1e-6 for img in orbit(p.targets[0], p.mats, p.perms)]
        assert fixes_b == fixes_t and len(p.breakers) == len(p.targets)


def test_breaker_reads_only_the_irreps_the_dataset_uses(problems):
    """BaTiO3's breaking sets are vectors: the network reads a 1o input (the
    full 1o+1e+2e input would only add zero columns)."""
    assert breaker_irreps_of(problems) == "1x1o"
    narrow, full = StructurePredictor("sbs", breaker_irreps="1x1o"), StructurePredictor("sbs")
    p = problems[0]
    f_narrow, f_full = narrow._features([p]), full._features([p])
    assert f_narrow.shape == (len(p.parent), 3) and f_full.shape == (len(p.parent), 11)
    assert np.allclose(f_narrow.numpy(), f_full[:, :3].numpy()) and not f_full[:, 3:].any()
    assert StructurePredictor("noise", breaker_irreps="1x1e")._features([p]).shape == (len(p.parent), 3)
    with pytest.raises(ValueError, match="breaker_irreps '1x3o'"):
        StructurePredictor("sbs", breaker_irreps="1x3o")


def test_plain_network_cannot_displace_a_centrosymmetric_parent(problems):
    """Every parent contains the inversion, which fixes each atom of the cell:
    an equivariant network's displacements vanish, so no ground state is reached."""
    model = StructurePredictor("none", seed=0)
    for p, d in zip(problems, model.predict(problems)):
        assert np.abs(d).max() < 1e-5
    assert not any(r["group_ok"] for r in evaluate(model, problems, relaxed=False))


def test_breakers_leave_the_parent_symmetry_and_sbs_is_relaxed_equivariant(problems):
    rng = np.random.default_rng(0)
    sbs, noise = StructurePredictor("sbs", seed=1), StructurePredictor("noise", seed=1)
    for p in problems:
        assert np.abs(sbs.predict([p])[0]).max() > 1e-4
        assert np.abs(noise.predict([p])[0]).max() > 1e-4
        # relaxed equivariance holds for any weights: R^T f(R x) = s f(x), s in the parent's group
        assert relaxed_error(sbs, p, rng) < 1e-4


def test_relaxed_canonicalization_is_relaxed_equivariant_and_the_baseline_is_not(problems):
    """The same lab-frame network, run in the input's own frame (canonical) or
    in the lab frame (baseline): only the first survives random rotations."""
    rng = np.random.default_rng(1)
    canonical, baseline = StructurePredictor("canonical", seed=2), StructurePredictor("baseline", seed=2)
    errors = [relaxed_error(baseline, p, rng) for p in problems]
    for p in problems:
        assert np.abs(canonical.predict([p])[0]).max() > 1e-4  # it breaks the symmetry
        assert relaxed_error(canonical, p, rng) < 1e-4
    assert max(errors) > 1e-2


TINY = """kind = "structures"
breakers = ["none", "sbs"]
datasets = ["batio3"]
[batio3]
parents = "T"
train = 4
test = 2
epochs = 2
"""


@pytest.mark.slow  # the structures benchmark through the CLI, killed and resumed (18-21 s)
def test_structures_benchmark_cli_writes_report_and_resumes(tmp_path):
    import subprocess

    cfg = tmp_path / "s.toml"
    cfg.write_text(f'output = "{tmp_path / "out"}"\n' + TINY)
    r = subprocess.run(["physbreak", "train", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| none |" in report and "| sbs |" in report
    done = (tmp_path / "out" / "results" / "batio3-sbs.json").stat().st_mtime_ns
    r = subprocess.run(["physbreak", "train", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 0 and (tmp_path / "out" / "results" / "batio3-sbs.json").stat().st_mtime_ns == done
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace('"sbs"', '"magic"'))
    r = subprocess.run(["physbreak", "train", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "breakers" in r.stderr and "'magic'" in r.stderr


@pytest.mark.parametrize("symbol", GLAZER_SYSTEMS)
def test_glazer_breaker_stabilizer_is_the_tilt_system_group(symbol):
    """Brute force over the input's space group: the operations fixing the
    breaker (built from isotropy subgroups: the M3+ / R4+ field, polar vectors on
    the atoms) are exactly those fixing the tilted structure, and the stored
    targets are one orbit."""
    from physbreak.problems.glazer import make_problem, per_axis
    from physbreak.systems.tilts import build

    n = len(dict.fromkeys(symbol[::2]))
    p = make_problem(symbol, [8.0, 5.0, 11.0][:n])
    assert p.target_group == space_group(build(symbol, per_axis(symbol, [8.0, 5.0, 11.0][:n])), 1e-3)
    assert not p.breakers[..., 3:].any()  # only the 1o slot
    b = p.breakers[0][:, :3]
    fixes_b = [np.abs(b @ R.T - b[q]).max() < 1e-6 for R, q in zip(p.mats, p.perms)]
    built = p.parent.copy()
    built.positions = build(symbol, per_axis(symbol, [8.0, 5.0, 11.0][:n])).positions * np.diag(p.parent.cell) / 7.8
    d = built.positions - p.parent.positions
    d -= np.rint(d / np.diag(p.parent.cell)) * np.diag(p.parent.cell)
    fixes_d = [np.abs(img - d).max() < 1e-6 for img in orbit(d, p.mats, p.perms)]
    assert fixes_b == fixes_d and sum(fixes_b) < len(p.mats)
    assert len(p.targets) == len(p.breakers) == len(p.mats) // sum(fixes_b)
    assert np.abs(p.targets - d).max(axis=(1, 2)).min() < 1e-6


def test_plain_network_cannot_tilt_and_sbs_gives_the_tilt_system():
    from physbreak.problems.glazer import make_problem
    from physbreak.learn.structure import species_of

    problems = [make_problem("a0a0c-", [0.0, 9.0]), make_problem("a+b-b-", [7.0, 10.0])]
    plain = StructurePredictor("none", species=species_of(problems), cutoff=3.5)
    assert all(set(r["glazer"][1::2]) == {"0"} for r in evaluate(plain, problems, relaxed=False))  # no tilt
    sbs = StructurePredictor("sbs", species=species_of(problems), cutoff=3.5)
    sbs.fit(problems, epochs=40)
    rows = evaluate(sbs, problems, relaxed=False)
    assert [r["glazer"] for r in rows] == ["a0a0c-", "a+b-b-"]


STRUCTURE_DATASET = """seed = 5
[[family]]
name = "glazer"
count = 1
[family.params]
systems = ["a0a0c-", "a+b-b-"]
[[family]]
name = "batio3"
split = "test"
count = 2
[family.params]
parents = "T"
[[family]]
name = "uniform"
sizes = [3]
count = 1
"""


@pytest.mark.slow  # builds every structure family, killed and resumed (11 s)
def test_groundstates_writes_structure_families_and_resumes(tmp_path):
    import subprocess

    import h5py

    from physbreak.problems.store import read_problems, read_structures

    cfg = tmp_path / "d.toml"
    cfg.write_text(STRUCTURE_DATASET)
    out = tmp_path / "d.h5"
    r = subprocess.run(["physbreak", "groundstates", str(cfg), "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    problems = read_structures(out)
    assert [p.kind for p in problems] == ["a0a0c-", "a+b-b-", "T", "T"]
    assert [p.target_group for p in problems] == ["I4/mcm", "Pnma", "P4mm", "P4mm"]
    assert len(read_structures(out, split="test")) == 2 and len(read_problems(out)) == 1
    glazer = problems[1]
    assert glazer.breakers.shape == (8, 40, 11) and glazer.targets.shape == (8, 40, 3)
    # a record is exactly what the generator makes
    from physbreak.problems.glazer import draw_angles, make_problem

    ss = np.random.SeedSequence(5, spawn_key=(0, 1, 0))
    again = make_problem("a+b-b-", draw_angles("a+b-b-", np.random.default_rng(ss)))
    assert np.allclose(again.targets, glazer.targets) and np.allclose(again.parent.cell, glazer.parent.cell)
    # kill-and-resume: an unfinished last record is rewritten, the rest kept
    with h5py.File(out, "r+") as f:
        before = f["records/000002/targets"][:]
        f["records/000004"].attrs["done"] = False
        del f["records/000003"]
        f["records/000002"].attrs["done"] = False
    r = subprocess.run(["physbreak", "groundstates", str(cfg), "--out", str(out), "--resume"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f:
        assert np.array_equal(f["records/000002/targets"][:], before) and f.attrs["complete"]
    bad = tmp_path / "bad.toml"
    bad.write_text(STRUCTURE_DATASET.replace('"a0a0c-"', '"a0a0z-"'))
    r = subprocess.run(["physbreak", "groundstates", str(bad), "--out", str(tmp_path / "x.h5")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "family[0].params.systems" in r.stderr and "a0a0z-" in r.stderr


def test_shipped_structure_configs_parse():
    from pathlib import Path

    from physbreak.workflows.dataset import load
    from physbreak.workflows.train import parse

    root = Path(__file__).resolve().parents[1] / "simulations"
    cfg = parse((root / "structures_benchmark.toml").read_text())
    assert set(cfg.breakers) == set(BREAKERS) and list(cfg.datasets) == ["molecules", "glazer", "batio3"]
    assert [f.name for f in load(root / "structures_dataset.toml").families] == ["molecules", "glazer", "batio3"]


def test_structures_config_device(tmp_path):
    """`device` in a structures config: validated when parsed; CUDA asked for
    where there is none is refused before anything is written."""
    import torch

    from physbreak.errors import ConfigError
    from physbreak.workflows.train import parse, run

    text = f'kind = "structures"\noutput = "{tmp_path / "out"}"\nbreakers = ["none"]\ndatasets = ["batio3"]\n'
    assert parse(text).device == "cpu"
    with pytest.raises(ConfigError, match="device = 'tpu' is not allowed"):
        parse(text + 'device = "tpu"\n')
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            run(parse(text + 'device = "cuda"\n'))
        assert not (tmp_path / "out").exists()
