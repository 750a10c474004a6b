"""Ground-state datasets, predictors and their CLI (symmetry-breaking GNNs)."""

import json
import subprocess

import h5py
import numpy as np
import pytest
import torch

from physbreak.workflows.dataset import build_dataset, parse
from physbreak.problems.spin_families import generate
from physbreak.problems.store import read_problems
from physbreak.symmetry import SpinHamiltonian, count_automorphisms
from physbreak.learn import load
from physbreak.learn.metrics import evaluate_spins, spin_relaxed_error
from physbreak.learn.spin import train

SMALL = """seed = 3
[[family]]
name = "maxcut"
sizes = [8, 10]
count = 6
[[family]]
name = "uniform"
split = "test"
sizes = [4]
count = 4
[family.params]
field_probability = 0.0
"""


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("gs") / "small.h5"
    build_dataset(parse(SMALL), path, progress=False)
    return path


def test_dataset_records_and_resume(small_dataset, tmp_path):
    records = read_problems(small_dataset)
    assert len(records) == 16
    assert {s for _, s, _ in records} == {"train", "test"}
    # kill-like: drop the last three records, resume, compare with the full file
    partial = tmp_path / "partial.h5"
    partial.write_bytes(small_dataset.read_bytes())
    with h5py.File(partial, "r+") as f:
        for name in ("000013", "000014", "000015"):
            del f["records"][name]
        f["records/000012"].attrs["done"] = False
        f.attrs["complete"] = False
    build_dataset(parse(SMALL), partial, resume=True, progress=False)
    a, b = read_problems(small_dataset), read_problems(partial)
    for (na, _, pa), (nb, _, pb) in zip(a, b):
        assert na == nb and np.array_equal(pa.J, pb.J) and np.array_equal(pa.ground.states, pb.ground.states)
        assert np.array_equal(pa.stab_perm, pb.stab_perm)


@pytest.mark.parametrize("family, size", [("uniform", 4), ("planted", 4), ("maxcut", 10),
                                          ("frustrated", 3), ("spin_glass", 4)])
def test_stabilizer_generators_generate_the_full_stabilizer(family, size):
    rng = np.random.default_rng(11)
    p = generate(family, size, rng)
    group = p.symmetry_group()
    H = SpinHamiltonian(p.n_sites, p.bonds, p.J, p.h)
    for perm, sign in zip(group.realisations["perm"], group.realisations["sign"]):
        h = np.empty(p.n_sites)
        h[perm] = sign * p.h
        assert SpinHamiltonian(p.n_sites, perm[p.bonds], p.J, h).equals(H)
    aut = count_automorphisms(p.n_sites, p.bonds, p.h, p.J)
    assert group.order in (aut, 2 * aut)
    # every stored ground state is a ground state, and the orbit is closed under the stabilizer
    assert np.allclose(p.energy(p.ground.states), p.ground.energy)


@pytest.mark.parametrize("family", ["uniform", "planted", "maxcut"])
def test_plain_model_cannot_break_zero_field_symmetry(family):
    """Exact-hit 0, and why: its outputs are fixed by the input's stabilizer,
    which contains the spin flip, so they vanish."""
    rng = np.random.default_rng(5)
    problems = [generate(family, 4 if family != "maxcut" else 10, rng,
                         {"field_probability": 0.0, "field": 0.0}) for _ in range(6)]
    model, _ = train("none", problems, epochs=3)
    rows = evaluate_spins(model, problems)
    assert all(not r["exact"] for r in rows)
    for p, y in zip(problems, model.predict(problems)):
        group = p.symmetry_group()
        for perm, sign in zip(group.realisations["perm"], group.realisations["sign"]):
            moved = np.empty_like(y)
            moved[perm] = sign * y
            assert np.allclose(moved, y)
        assert np.all(y == 0)


def test_canonical_model_breaks_and_is_relaxed_equivariant():
    rng = np.random.default_rng(6)
    problems = [generate("maxcut", 10, rng, {"graphs": ["cycle", "petersen", "circulant"]}) for _ in range(12)]
    model, _ = train("canonical", problems, epochs=30, layers=8)
    rows = evaluate_spins(model, problems, relaxed_samples=3)
    assert max(r["relaxed_error"] for r in rows) < 1e-5
    assert np.mean([r["exact"] for r in rows]) > 0.5
    baseline, _ = train("baseline", problems, epochs=3)
    errs = [spin_relaxed_error(baseline.predict, p, p.group_arrays(), np.random.default_rng(0)) for p in problems[:3]]
    assert max(errs) > 1e-3  # the non-equivariant baseline is not relaxed-equivariant


def test_checkpoint_round_trip_and_predict_cli(small_dataset, tmp_path):
    problems = [p for _, _, p in read_problems(small_dataset)]
    for strategy in ("canonical", "emlp", "none", "noise", "sympe", "baseline"):
        train_set = problems if strategy != "emlp" else [p for p in problems if p.family == "uniform"]
        model, _ = train(strategy, train_set, epochs=2, layers=4)
        ckpt = tmp_path / f"{strategy}.pt"
        model.save(ckpt)
        torch.load(ckpt, weights_only=True)  # safe loading works
        again = load(ckpt)
        assert again.kind == model.kind and again.breaker.name == model.breaker.name
        a, b = model.predict(train_set), again.predict(train_set)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))  # bit-identical, random breakers included
    out = tmp_path / "pred.h5"
    r = subprocess.run(["physbreak", "predict", str(tmp_path / "canonical.pt"), str(small_dataset),
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["physbreak", "analyze", str(out), "--json"], capture_output=True, text=True)
    summary = json.loads(r.stdout)
    assert sum(row["count"] for row in summary["rows"]) == 16
    r = subprocess.run(["physbreak", "analyze", str(small_dataset)], capture_output=True, text=True)
    assert r.returncode == 0 and "maxcut" in r.stdout


@pytest.mark.parametrize("command, text, fragments", [
    ("groundstates", SMALL.replace('name = "maxcut"', 'name = "ladder"'), ["family[0].name", "'ladder'", "maxcut"]),
    ("groundstates", SMALL.replace("count = 6", "count = 0"), ["family[0].count", "0", ">= 1"]),
    ("groundstates", "seed = 1\n", ["family", "required"]),
    ("train", 'models = ["gnn"]\n' + SMALL, ["models", "'gnn'", "canonical"]),
])
def test_bad_dataset_and_training_configs(tmp_path, capsys, command, text, fragments):
    from physbreak.cli import main

    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    code = main([command, str(cfg)] + (["--out", str(tmp_path / "x.h5")] if command == "groundstates" else []))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert not (tmp_path / "x.h5").exists()


def test_choose_pins_grows_from_the_frontier_and_breaks_ties_canonically():
    from physbreak.relaxed.pinning import choose_pins, first_pins, lowest_first

    ring = np.zeros((6, 6), bool)
    for i in range(6):
        ring[i, (i + 1) % 6] = ring[(i + 1) % 6, i] = True
    label = np.array([[5, 4, 3, 2, 1, 0]])
    # site 3 is the most decided overall but not next to the pin at 0: 1 and 5 tie, 5 has label 0
    y = np.array([[1.0, -0.5, 0.1, 0.99, 0.2, 0.5]])
    pins = np.array([[1.0, 0, 0, 0, 0, 0]])
    site, value = choose_pins(y, pins, ring[None], label, np.array([-1.0]))
    assert site[0] == 5 and value[0] == 1.0
    # a zero output takes the frame's flip sign; with no pin, every free site is a candidate
    site, value = choose_pins(np.zeros((1, 6)), np.zeros((1, 6)), ring[None], label, np.array([-1.0]))
    assert site[0] == 5 and value[0] == -1.0
    none = np.zeros((0, 6), np.int64), np.zeros(0, np.int64)
    assert first_pins(-1.0, label[0], *none)[:3] == [(5, -1.0), (5, 1.0), (4, -1.0)]
    # rotations and the flip of the ring: one orbit of (site, value), one start
    rotation = np.array([[1, 2, 3, 4, 5, 0]]), np.array([1])
    assert first_pins(-1.0, label[0], *rotation) == [(5, -1.0), (5, 1.0)]
    assert first_pins(-1.0, label[0], np.array([[1, 2, 3, 4, 5, 0], list(range(6))]), np.array([1, -1])) \
        == [(5, -1.0)]
    assert lowest_first(np.array([-3.0, -4.0, -4.0 + 1e-12])) == 1


def test_pinning_decoder_breaks_j1j2_symmetry_and_is_relaxed_equivariant():
    """Zero-field J1-J2 tori (ferro, Neel, stripe: stabilizer p4m x Z2 or less):
    the plain GNN outputs 0, the pinned decoder a ground state, and relabelling
    the input moves the prediction by the relabelling times a stabilizer element."""
    rng = np.random.default_rng(8)
    problems = [generate("uniform", 4, rng, {"field_probability": 0.0, "anisotropy": 0.0}) for _ in range(24)]
    model, _ = train("canonical", problems[:16], epochs=25, layers=6)
    rows = evaluate_spins(model, problems[16:], relaxed_samples=4)
    assert max(r["relaxed_error"] for r in rows) < 1e-5
    assert np.mean([r["exact"] for r in rows]) >= 0.75
