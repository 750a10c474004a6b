"""BaTiO3 parent -> ground-state problems, breakers, and the e3nn predictor."""

import numpy as np
import pytest

from physbreak.structpred.batio3 import INTENDED, make_dataset
from physbreak.structpred.symmetry import orbit
from physbreak.structpred.train import StructurePredictor, breaking_vector, evaluate, relaxed_error
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
        v = breaking_vector(p.mats, p.target_mats)
        fixed = np.all(np.abs(p.mats @ v - v) < 1e-6, axis=1)
        assert {tuple(np.round(m, 6).ravel() + 0.0) for m in p.mats[fixed]} == \
            {tuple(np.round(m, 6).ravel() + 0.0) for m in p.target_mats}


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


TINY = """kind = "structures"
breakers = ["none", "sbs"]
parents = "T"
train_per_parent = 4
test_per_parent = 2
epochs = 2
"""


def test_structures_benchmark_cli_writes_report_and_resumes(tmp_path):
    import subprocess

    cfg = tmp_path / "s.toml"
    cfg.write_text(TINY + f'output = "{tmp_path / "out"}"\n')
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
