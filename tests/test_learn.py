"""The learning stack on the user's own systems: structures and couplings from
files, training, checkpoints, prediction, and the errors bad input gets."""

import json
import pickle
import subprocess
from pathlib import Path

import ase.io
import numpy as np
import pytest
import torch

from conftest import one_line_error, run_cli
from physbreak.learn import load
from physbreak.learn.metrics import evaluate_structures, orbit_rmsd
from physbreak.learn.structure import STRUCTURE_BREAKERS, make_predictor
from physbreak.problems.batio3 import make_dataset
from physbreak.problems.user import held_problem, read_structures, structure_problem


def write_problem_files(problems, folder: Path, ext: str) -> list[Path]:
    """One file per problem: the input, then its first ground-state variant."""
    paths = []
    for k, p in enumerate(problems):
        target = p.parent.copy()
        target.positions = p.parent.positions + p.targets[0]
        path = folder / f"{p.kind}_{k}.{ext}"
        ase.io.write(path, [p.parent, target])
        paths.append(path)
    return paths


def from_files(paths):
    out = []
    for path in paths:
        frames = read_structures(path)
        out.append(structure_problem(frames[0], frames[1:], kind=path.stem.split("_")[0]))
    return out


def same_variants(a, b, decimals=5):
    key = lambda p: {tuple(np.round(t.ravel(), decimals) + 0.0) for t in p.targets}  # noqa: E731
    return key(a) == key(b)


@pytest.fixture(scope="module")
def batio3():
    return make_dataset(["T", "O", "R", "C"], 2, seed=4)


@pytest.fixture(scope="module")
def molecules():
    from physbreak.problems.molecules import problems
    from physbreak.systems import molecules as M

    rng = np.random.default_rng(0)
    return [p for c in (M.family_case("ax3", "NH3"), M.family_case("c4x4", "C4H4")) for p in problems(c, 2, rng)]


def test_files_give_the_generator_problems_and_the_same_training_metrics(batio3, molecules, tmp_path):
    """Built-in problems written to files (extxyz: the frame and 8 decimals of
    the positions kept; CIF for orthogonal cells) come back with the same
    groups, target subgroup and every domain variant; trained with the same
    seed, the metrics agree: groups identical, RMSD and relaxed error to 1e-5 A
    (the files round positions to 1e-8 A, and two-thread training rounds
    differently from run to run: ~1e-6 A after these 6 epochs)."""
    cubic_like = [p for p in batio3 if p.kind in "TC"]
    for ext, problems in (("extxyz", batio3 + molecules), ("cif", cubic_like)):
        back = from_files(write_problem_files(problems, tmp_path, ext))
        for p, q in zip(problems, back):
            assert (len(q.mats), q.target_group, q.target_point_group) == (len(p.mats), p.target_group,
                                                                         p.target_point_group)
            assert same_variants(p, q), (ext, p.kind)
    back = from_files(write_problem_files(batio3 + molecules, tmp_path, "extxyz"))
    rows = []
    for problems in (batio3 + molecules, back):
        model = make_predictor("sbs", problems, seed=3)
        model.fit(problems, epochs=6, progress=False)
        rows.append(evaluate_structures(model, problems, seed=1))
    for a, b in zip(*rows):
        assert (a["group"], a["group_ok"]) == (b["group"], b["group_ok"])
        assert abs(a["rmsd"] - b["rmsd"]) < 1e-5 and abs(a.get("relaxed_error", 0) - b.get("relaxed_error", 0)) < 1e-5


def _example():
    import importlib.util

    spec = importlib.util.spec_from_file_location("own_structures", Path(__file__).resolve().parents[1]
                                                  / "simulations" / "own_structures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


knbo3 = _example().perovskite  # a cubic KNbO3-like perovskite, not built in, with a polar P4mm target


@pytest.mark.slow  # trains an e3nn model end to end on a user perovskite (17 s)
def test_train_and_predict_a_perovskite_that_is_not_built_in(tmp_path):
    """Cubic KNbO3-like cells with polar targets, as CIF files: dataset through
    `physbreak groundstates` (family "structures"), training through `physbreak
    train`, prediction on a new cubic CIF through `physbreak predict --target`."""
    rng = np.random.default_rng(0)
    inputs, targets = [], []
    for k, a in enumerate(rng.uniform(3.95, 4.1, 10)):
        ase.io.write(tmp_path / f"in{k}.cif", knbo3(a, False))
        ase.io.write(tmp_path / f"out{k}.cif", knbo3(a, True))
        inputs.append(str(tmp_path / f"in{k}.cif"))
        targets.append(str(tmp_path / f"out{k}.cif"))
    dataset = tmp_path / "knbo3.toml"
    dataset.write_text(f'seed = 1\noutput = "{tmp_path / "knbo3.h5"}"\n'
                       f'[[family]]\nname = "structures"\nsplit = "train"\n[family.params]\n'
                       f'inputs = {json.dumps(inputs[:8])}\ntargets = {json.dumps(targets[:8])}\n'
                       f'[[family]]\nname = "structures"\nsplit = "test"\n[family.params]\n'
                       f'inputs = {json.dumps(inputs[8:])}\ntargets = {json.dumps(targets[8:])}\n')
    r = run_cli("groundstates", dataset)
    assert r.returncode == 0, r.stderr
    cfg = tmp_path / "train.toml"
    cfg.write_text(f'kind = "structures"\noutput = "{tmp_path / "out"}"\nbreakers = ["sbs"]\n'
                   f'datasets = ["{tmp_path / "knbo3.h5"}"]\n[files]\nepochs = 60\n')
    r = run_cli("train", cfg, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "| sbs |" in (tmp_path / "out" / "report.md").read_text() and "%|" not in r.stderr  # no progress bar
    ckpt = tmp_path / "out" / "checkpoints" / "knbo3-sbs.pt"
    new = tmp_path / "new.cif"
    ase.io.write(new, knbo3(4.02, False))
    r = subprocess.run(["physbreak", "predict", str(ckpt), str(new), "--target", "P4mm", "--variants", "all"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    predicted = ase.io.read(tmp_path / "new_P4mm.cif", index=":")
    assert len(predicted) == 6  # +-x, +-y, +-z
    truth = structure_problem(knbo3(4.02, False), knbo3(4.02, True))
    from physbreak.symmetry.operations import group_name

    from physbreak.problems.user import displacement

    for atoms in predicted:
        assert group_name(atoms) == "P4mm"
        assert orbit_rmsd(displacement(knbo3(4.02, False), atoms), truth.targets) < 0.01


@pytest.mark.slow  # trains and reloads every structure breaker (14 s)
def test_every_structure_breaker_reloads_bit_identically(batio3, tmp_path):
    problems = batio3[::2]  # one of each parent kind
    for breaker in STRUCTURE_BREAKERS:
        model = make_predictor(breaker, problems, seed=1)
        model.fit(problems, epochs=1, progress=False)
        model.save(tmp_path / f"{breaker}.pt")
        again = load(tmp_path / f"{breaker}.pt")
        for x, y in zip(model.predict(problems), again.predict(problems)):
            assert np.array_equal(x, y), breaker


def test_target_group_of_an_input_alone(batio3):
    cubic = next(p for p in batio3 if p.kind == "C").parent
    for target, number in (("P4mm", 99), ("Amm2", 38), ("R3m", 160)):
        for given in (target, number, str(number)):
            p = held_problem(cubic, given)
            assert p.target_group == target and len(p.targets) == 0
    from physbreak.errors import SymmetryError

    with pytest.raises(SymmetryError, match="'Pnma' is not a subgroup.*P4mm"):
        held_problem(cubic, "Pnma")


# --- spin couplings from the user's files ----------------------------------------------------------

RING = "bonds = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0]]\nJ = -1.0\nlabel = \"ring\"\n"


def test_couplings_files_in_three_forms_give_the_exact_ground_states(tmp_path):
    import h5py

    from physbreak.problems.user import read_couplings, spin_problem

    (tmp_path / "ring.toml").write_text(RING)
    (tmp_path / "ring.txt").write_text("# i j J\n" + "".join(f"{i} {(i + 1) % 6} -1.0\n" for i in range(6))
                                       + "h 0 0.0\n")
    with h5py.File(tmp_path / "ring.h5", "w") as f:
        f["bonds"] = np.array([[i, (i + 1) % 6] for i in range(6)])
        f["J"] = -np.ones(6)
    for name in ("ring.toml", "ring.txt", "ring.h5"):
        p = spin_problem(read_couplings(tmp_path / name))
        assert p.n_sites == 6 and p.ground.energy == -6.0 and p.ground.degeneracy == 2  # the two Neel states
        assert p.symmetry_group().order == 24  # D6 x Z2
    # given ground states are checked: one Neel state is completed by the enumeration, a wrong state refused
    from physbreak.errors import DataError

    (tmp_path / "given.toml").write_text(RING + "ground_states = [[1, -1, 1, -1, 1, -1]]\n")
    assert spin_problem(read_couplings(tmp_path / "given.toml")).ground.degeneracy == 2
    (tmp_path / "wrong.toml").write_text(RING + "ground_states = [[1, 1, 1, 1, 1, 1]]\n")
    with pytest.raises(DataError, match="above the exact ground energy -6"):
        spin_problem(read_couplings(tmp_path / "wrong.toml"))
    big = spin_problem(read_couplings(tmp_path / "given.toml"), exact_limit=4)  # beyond enumeration: taken as given
    assert not big.ground.exact and big.ground.energy == -6.0


def test_couplings_train_and_predict_end_to_end(tmp_path):
    """Random-coupling 3x3 tori written as files by the user -> dataset -> GNN -> predict on a new file."""
    rng = np.random.default_rng(2)
    from physbreak.lattice import build

    bonds = build("square", 3).bonds(1)
    files = []
    for k in range(14):
        J = rng.choice([-1.0, 1.0], len(bonds))
        (tmp_path / f"c{k}.toml").write_text(f"bonds = {bonds.tolist()}\nJ = {J.tolist()}\n")
        files.append(str(tmp_path / f"c{k}.toml"))
    cfg = tmp_path / "train.toml"
    cfg.write_text(f'output = "{tmp_path / "out"}"\ndataset = "{tmp_path / "user.h5"}"\nmodels = ["canonical"]\n'
                   f'[train]\nepochs = 3\nlayers = 4\n'
                   f'[[family]]\nname = "couplings"\nsplit = "train"\n[family.params]\nfiles = {json.dumps(files[:12])}\n'
                   f'[[family]]\nname = "couplings"\nsplit = "test"\n[family.params]\nfiles = {json.dumps(files[12:])}\n')
    assert run_cli("train", cfg, "--quiet").returncode == 0
    ckpt = tmp_path / "out" / "checkpoints" / "couplings-canonical.pt"
    r = run_cli("predict", ckpt, files[13], "--out", tmp_path / "p.h5")
    assert r.returncode == 0, r.stderr
    import h5py

    with h5py.File(tmp_path / "p.h5") as f:
        rec = f["records/000000"]
        assert rec["spins"].shape == (9,) and set(np.abs(rec["spins"][:])) == {1}
        assert rec.attrs["energy"] >= rec.attrs["ground_energy"] - 1e-9


# --- bad input ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, batio3):
    path = tmp_path_factory.mktemp("ckpt") / "sbs.pt"
    model = make_predictor("sbs", batio3[:2], seed=0)
    model.save(path)
    return path


def test_a_checkpoint_with_a_pickle_payload_is_refused_and_runs_nothing(tmp_path, tiny_checkpoint):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.pt"
    payload = torch.load(tiny_checkpoint, weights_only=True)
    payload["config"] = Payload()
    torch.save(payload, evil)
    cubic = tmp_path / "c.cif"
    ase.io.write(cubic, knbo3(4.0, False))
    one_line_error(run_cli("predict", evil, cubic, "--target", "P4mm"), "refused", "nothing in it was run")
    assert not marker.exists()
    with open(tmp_path / "plain.pt", "wb") as f:  # a bare pickle, not even a torch file
        pickle.dump(Payload(), f)
    one_line_error(run_cli("predict", tmp_path / "plain.pt", cubic, "--target", "P4mm"), "CHECKPOINT")
    assert not marker.exists()


@pytest.mark.parametrize("case", ["not a checkpoint", "truncated", "directory", "dataset file", "bogus device"])
def test_bad_checkpoints_and_devices(tmp_path, tiny_checkpoint, case):
    cubic = tmp_path / "c.cif"
    ase.io.write(cubic, knbo3(4.0, False))
    ckpt = tmp_path / "x.pt"
    args = []
    if case == "not a checkpoint":
        ckpt.write_text("hello")
    elif case == "truncated":
        ckpt.write_bytes(tiny_checkpoint.read_bytes()[:300])
    elif case == "directory":
        ckpt.mkdir()
    elif case == "dataset file":
        import h5py

        with h5py.File(ckpt, "w") as f:
            f.attrs["kind"] = "groundstates"
    else:
        ckpt, args = tiny_checkpoint, ["--device", "bogus"]
    one_line_error(run_cli("predict", ckpt, cubic, "--target", "P4mm", *args),
                   "device" if case == "bogus device" else "CHECKPOINT")
    assert not (tmp_path / "c_P4mm.cif").exists()


def test_bad_structure_inputs_are_one_line_errors_and_nothing_is_overwritten(tmp_path, batio3, tiny_checkpoint):
    cubic = tmp_path / "cubic.cif"
    ase.io.write(cubic, knbo3(4.0, False))
    junk = tmp_path / "junk.cif"
    junk.write_bytes(b"\x00\x01 not a structure \xff")
    one_line_error(run_cli("predict", tiny_checkpoint, junk, "--target", "P4mm"), "junk.cif", "ase")
    one_line_error(run_cli("predict", tiny_checkpoint, cubic, "--target", "Pnma"), "'Pnma'", "not a subgroup", "P4mm")
    one_line_error(run_cli("predict", tiny_checkpoint, cubic), "--target", "P4mm")
    one_line_error(run_cli("predict", tiny_checkpoint, cubic, "--target", "P4mm", "--out", tmp_path / "x.cif"),
                   "'K', 'Nb'", "not known", "Ba")  # elements the model was not trained on
    # an existing output is never overwritten
    out = tmp_path / "cubic_P4mm.cif"
    out.write_text("keep me")
    one_line_error(run_cli("predict", tiny_checkpoint, cubic, "--target", "P4mm"), "exists")
    assert out.read_text() == "keep me"
    # dataset building from the user's files: atom counts, species, subgroup, no symmetry with sbs
    from ase import Atoms

    fewer = tmp_path / "fewer.extxyz"
    ase.io.write(fewer, [knbo3(4.0, False), knbo3(4.0, True)[:4]])
    swapped = tmp_path / "swapped.extxyz"
    other = knbo3(4.0, True)
    other.symbols[1] = "Ti"
    ase.io.write(swapped, [knbo3(4.0, False), other])
    bigger = tmp_path / "bigger.extxyz"  # the "target" is more symmetric than the input
    ase.io.write(bigger, [knbo3(4.0, True), knbo3(4.0, False)])
    rng = np.random.default_rng(0)
    p1 = Atoms("KNbO3", positions=rng.uniform(0, 4, (5, 3)), cell=np.eye(3) * 4.0, pbc=True)
    p1_target = p1.copy()
    p1_target.positions += 0.05
    p1_target.positions[0] += 0.1
    nosym = tmp_path / "nosym.extxyz"
    ase.io.write(nosym, [p1, p1_target])
    for name, fragments in (("fewer", ["4 atoms", "5"]), ("swapped", ["species", "Ti"]),
                            ("bigger", ["not a subgroup", "Pm-3m", "P4mm"])):
        cfg = tmp_path / f"{name}.toml"
        out = tmp_path / f"{name}.h5"
        cfg.write_text(f'output = "{out}"\n[[family]]\nname = "structures"\n[family.params]\n'
                       f'files = ["{tmp_path / (name + ".extxyz")}"]\n')
        one_line_error(run_cli("groundstates", cfg), *fragments)
    cfg = tmp_path / "nosym.toml"
    cfg.write_text(f'output = "{tmp_path / "nosym.h5"}"\n[[family]]\nname = "structures"\n[family.params]\n'
                   f'files = ["{nosym}"]\n')
    assert run_cli("groundstates", cfg).returncode == 0  # a problem with no symmetry is a valid problem ...
    train = tmp_path / "t.toml"
    train.write_text(f'kind = "structures"\noutput = "{tmp_path / "t"}"\nbreakers = ["sbs"]\n'
                     f'datasets = ["{tmp_path / "nosym.h5"}"]\n[files]\ntest_split = "train"\n')
    one_line_error(run_cli("train", train), "no symmetry", "sbs")  # ... but has nothing for sbs to break
    train.write_text(train.read_text().replace('["sbs"]', '["magic"]'))
    one_line_error(run_cli("train", train), "breakers", "'magic'", "sbs")
