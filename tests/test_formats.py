"""The formats physbreak hands to other tools: the JSON Schema of every config
kind (editors validate TOML against it) and HDF5 files that HDF5's own
``h5dump`` reads, every kind of them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from conftest import run_cli
from physbreak.config import read_toml

SIMULATIONS = Path(__file__).resolve().parents[1] / "simulations"
KIND_OF = {  # shipped config -> its kind (configs without a `kind` key are runs, datasets or spin training)
    "batio3_phases.toml": "perovskite", "classification_benchmark.toml": "classification",
    "colouring_benchmark.toml": "colouring", "decoding_benchmark.toml": "decoding",
    "groundstates_benchmark.toml": "train", "ising2d_critical.toml": "run", "ising2d_fss.toml": "run",
    "potts3_critical.toml": "run", "structures_benchmark.toml": "structures", "ising3d_critical.toml": "run",
    "potts10_first_order.toml": "run", "triangular_afm_entropy.toml": "run", "xy_kt.toml": "run",
    "ea3d_spin_glass.toml": "sweep",
    "structures_dataset.toml": "dataset", "sweep_example.toml": "sweep", "xy_heisenberg_lowT.toml": "run",
    "isotropy_benchmark.toml": "structures", "j1j2_stripes.toml": "run",
}


def schema(kind: str) -> dict:
    r = run_cli("schema", kind)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_every_shipped_config_validates_against_the_schema_of_its_kind():
    shipped = sorted(p.name for p in SIMULATIONS.glob("*.toml"))
    assert shipped == sorted(KIND_OF), "a config in simulations/ has no kind here"
    any_config = schema("all")
    for name, kind in KIND_OF.items():
        data = read_toml((SIMULATIONS / name).read_text())
        jsonschema.validate(data, schema(kind))
        jsonschema.validate(data, any_config)


@pytest.mark.parametrize("kind, mutate", [
    ("run", lambda c: c["sampler"].update(sample=3)),            # unknown key
    ("run", lambda c: c["lattice"].update(sizes=[0])),           # below the bound
    ("run", lambda c: c.update(output=5)),                       # wrong type
    ("sweep", lambda c: c.update(workers=True)),
    ("perovskite", lambda c: c["dynamics"].update(dt=10.0)),
    ("decoding", lambda c: c["train"].update(lr=2.0)),
])
def test_the_schema_refuses_what_physbreak_refuses(kind, mutate):
    name = next(n for n, k in KIND_OF.items() if k == kind)
    data = read_toml((SIMULATIONS / name).read_text())
    mutate(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema(kind))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """One small file of every kind physbreak writes."""
    folder = tmp_path_factory.mktemp("kinds")
    from physbreak.config import parse
    from physbreak.config.sweep import parse as parse_sweep
    from physbreak.learn.spin import GNNPredictor
    from physbreak.workflows.simulate import simulate
    from physbreak.workflows.sweep import write_index

    run = folder / "run.toml"
    run.write_text('[lattice]\nkind = "square"\nsizes = [4]\n[model]\nkind = "ising"\n[sampler]\n'
                   'thermalization = 5\nsamples = 10\n[temperatures]\nvalues = [2.0]\n')
    assert run_cli("simulate", run, "--out", folder / "run.h5", "--quiet").returncode == 0
    data = folder / "ds.toml"
    data.write_text('[[family]]\nname = "uniform"\nsizes = [3]\ncount = 2\n[[family]]\nname = "glazer"\n'
                    '[family.params]\nsystems = ["a0a0c-"]\n')
    assert run_cli("groundstates", data, "--out", folder / "ds.h5", "--quiet").returncode == 0
    GNNPredictor("canonical", 8, 2, "cpu", 0).save(folder / "gnn.pt")
    r = run_cli("predict", folder / "gnn.pt", folder / "ds.h5", "--out", folder / "predictions.h5")
    assert r.returncode == 0, r.stderr
    md = folder / "md.toml"
    md.write_text('kind = "perovskite"\nsize = 2\n[schedule]\nhigh = 300.0\nlow = 290.0\nequilibration_steps = 2\n'
                  'samples = 2\nsample_every = 1\n')
    assert run_cli("simulate", md, "--out", folder / "md.h5", "--quiet").returncode == 0
    sweep = folder / "sweep.toml"
    sweep.write_text(f'kind = "sweep"\noutput = "{folder / "sweep"}"\n[lattice]\nkind = "square"\n[sampler]\n'
                     'samples = 10\nthermalization = 5\n[grid]\nmodels = [{kind = "ising"}]\nsizes = [4]\n'
                     'temperatures = [2.0, 3.0]\n')
    cfg = parse_sweep(sweep.read_text())
    task = cfg.tasks[0]
    simulate(parse(task.text), out=cfg.output / "tasks" / f"{task.name}.h5", progress=False)
    return {"spin_mc": folder / "run.h5", "groundstates": folder / "ds.h5",
            "predictions": folder / "predictions.h5", "perovskite_md": folder / "md.h5",
            "sweep_index": write_index(cfg)}


@pytest.mark.skipif(shutil.which("h5dump") is None, reason="h5dump (Debian's hdf5-tools) is not installed")
def test_h5dump_reads_every_kind_of_file_with_config_and_seed_at_the_root(files):
    for kind, path in files.items():
        r = subprocess.run(["h5dump", "-H", str(path)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (kind, r.stderr[-2000:])
        root = r.stdout.split('GROUP "', 2)[1]  # the root group's header, up to its first subgroup
        for attr in ("config", "seed", "kind", "physbreak_schema"):
            assert re.search(rf'ATTRIBUTE "{attr}"', root), (kind, attr)
        value = subprocess.run(["h5dump", "-a", "/kind", str(path)], capture_output=True, text=True, timeout=60)
        assert value.returncode == 0 and f'"{kind}"' in value.stdout, (kind, value.stdout[-500:])


def test_small_runs_make_small_files_and_every_dataset_is_summarised(files):
    """Stream chunks are sized to the run (a 4x4 run of 10 samples used to take
    2.6 MB in 64 Ki-row chunks); `analyze` of a dataset lists structure records too."""
    assert files["spin_mc"].stat().st_size < 100_000, files["spin_mc"].stat().st_size
    r = run_cli("analyze", files["groundstates"])
    assert r.returncode == 0 and "glazer" in r.stdout and "structures" in r.stdout and "uniform" in r.stdout, r.stdout
