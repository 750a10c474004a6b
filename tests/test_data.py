"""The shipped reference data and models (data/README.md): a part of each is
regenerated from its command and seed and compared with the file."""

import json
import re
from pathlib import Path

import ase.io
import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def _first_records_config(text: str, output: Path) -> str:
    """The config with one record per family case (a record's seed does not depend on the counts)."""
    text = re.sub(r"(?m)^count = \d+", "count = 1", text)
    return re.sub(r'(?m)^output = ".*"', f'output = "{output}"', text)


@pytest.mark.parametrize("name", ["groundstates_reference", "structures_reference"])
def test_reference_datasets_regenerate(name, tmp_path):
    from physbreak.workflows.dataset import build_dataset, jobs, parse

    text = (DATA / "configs" / f"{name}.toml").read_text()
    small = parse(_first_records_config(text, tmp_path / "small.h5"))
    build_dataset(small, progress=False)
    shipped = {tuple(ss.spawn_key): k for k, _, _, ss in jobs(parse(text))}
    with h5py.File(tmp_path / "small.h5") as new, h5py.File(DATA / "datasets" / f"{name}.h5") as old:
        assert old.attrs["complete"] and old.attrs["config"] == text
        for k, _, _, ss in jobs(small):
            a, b = new["records"][f"{k:06d}"], old["records"][f"{shipped[tuple(ss.spawn_key)]:06d}"]
            assert set(a) == set(b) and a.attrs["family"] == b.attrs["family"]
            for key in a:  # integers exactly; floats to 1e-6 (xTB relaxations differ by ~1e-7 A between thread counts)
                x, y = a[key][()], b[key][()]
                assert x.shape == y.shape and (np.array_equal(x, y) if x.dtype.kind in "iub"
                                               else np.allclose(x, y, rtol=0, atol=1e-6)), (name, k, key)


def test_shipped_models_reproduce_their_results():
    """Each checkpoint, re-evaluated on the first test problems regenerated from
    its config's seed, gives the scores stored next to it."""
    from physbreak.learn import load
    from physbreak.learn.metrics import evaluate_spins, evaluate_structures
    from physbreak.problems.batio3 import make_dataset
    from physbreak.problems.store import read_problems

    batio3 = load(DATA / "models/batio3/checkpoints/batio3-sbs.pt")
    stored = json.loads((DATA / "models/batio3/results/batio3-sbs.json").read_text())["rows"]
    test = make_dataset(["T", "O"], 6, seed=1)  # the first two parents of the config's test set (seed + 1)
    for row, again in zip(stored, evaluate_structures(batio3, test, seed=0)):
        assert row["kind"] == again["kind"] and row["group"] == again["group"]
        assert abs(row["rmsd"] - again["rmsd"]) < 1e-7  # A; threads may round the last bits differently
    j1j2 = load(DATA / "models/j1j2/checkpoints/uniform-canonical.pt")
    stored = json.loads((DATA / "models/j1j2/results/uniform-canonical.json").read_text())["rows"]
    test = [p for _, s, p in read_problems(DATA / "models/j1j2/uniform.h5", "test")][:8]
    for row, again in zip(stored, evaluate_spins(j1j2, test, seed=0)):
        assert (row["label"], row["exact"]) == (again["label"], again["exact"])
        assert abs(row["gap"] - again["gap"]) < 1e-9


@pytest.mark.parametrize("target, directions", [("P4mm", "100"), ("Amm2", "110"), ("R3m", "111")])
def test_shipped_batio3_model_predicts_the_ground_state_of_a_cubic_cif(tmp_path, target, directions):
    """`physbreak predict` on a cubic BaTiO3 CIF: every written structure has the
    target's space group and lies within 0.01 A (orbit-aware RMSD) of the
    effective Hamiltonian's lowest state with that symmetry."""
    from physbreak.learn.metrics import orbit_rmsd
    from physbreak.problems.batio3 import ground_state_modes
    from physbreak.problems.user import displacement
    from physbreak.symmetry.operations import group_name
    from physbreak.systems.perovskite import load_parameters
    from physbreak.systems.perovskite_structures import cell_atoms

    params = load_parameters()
    cubic = cell_atoms(params, np.zeros(3), np.zeros(6))
    ase.io.write(tmp_path / "cubic.cif", cubic)
    _, modes = ground_state_modes(params, np.zeros(6), directions=directions)
    truth = np.stack([cell_atoms(params, u, np.zeros(6)).positions - cubic.positions for u in modes])
    from physbreak.cli import main

    assert main(["predict", str(DATA / "models/batio3/checkpoints/batio3-sbs.pt"), str(tmp_path / "cubic.cif"),
                 "--target", target, "--variants", "all"]) == 0
    predicted = ase.io.read(tmp_path / f"cubic_{target}.cif", index=":")
    assert len(predicted) == len(modes)  # every domain variant
    for atoms in predicted:
        assert group_name(atoms) == target
        assert orbit_rmsd(displacement(cubic, atoms), truth) < 0.01


def test_shipped_batio3_model_on_a_structure_dataset(tmp_path, capsys):
    """A structures dataset in, a predictions file out, summarised by `physbreak analyze`."""
    from physbreak.cli import main

    cfg = tmp_path / "b.toml"
    cfg.write_text(f'seed = 3\noutput = "{tmp_path / "b.h5"}"\n[[family]]\nname = "batio3"\ncount = 1\n'
                   '[family.params]\nparents = "TR"\n')
    assert main(["groundstates", str(cfg), "--quiet"]) == 0
    ckpt = DATA / "models/batio3/checkpoints/batio3-sbs.pt"
    assert main(["predict", str(ckpt), str(tmp_path / "b.h5"), "--out", str(tmp_path / "p.h5")]) == 0
    capsys.readouterr()
    assert main(["analyze", str(tmp_path / "p.h5"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["kind"] for r in rows] == ["R", "T"] and all(r["group_ok"] == 1.0 and r["rmsd"] < 0.01 for r in rows)
