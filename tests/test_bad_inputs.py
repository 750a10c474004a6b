"""Bad input, every command: one line on stderr, exit 2, no traceback, and no
file that existed before changed or deleted.

The cases are the classes a new user or an attacker tries: wrong types,
NaN / inf, negative, zero and huge values, unknown and missing keys, files
that are not what they claim (text, empty, binary, truncated, a directory, a
crafted HDF5 link), outputs whose folder cannot exist, and devices this
machine does not have.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import one_line_error, run_cli

RUN = """seed = 1
output = "{out}"
[lattice]
kind = "square"
sizes = [4]
[model]
kind = "ising"
[sampler]
thermalization = 5
samples = 20
[temperatures]
values = [2.0, 3.0]
"""

PEROVSKITE = """kind = "perovskite"
size = 2
output = "{out}"
[schedule]
high = 300.0
low = 290.0
step = 10.0
equilibration_steps = 2
samples = 2
sample_every = 1
"""

SWEEP = """kind = "sweep"
output = "{out}"
[lattice]
kind = "square"
[sampler]
thermalization = 5
samples = 10
[grid]
models = [{{kind = "ising"}}]
sizes = [4]
temperatures = [2.0]
"""

DATASET = """seed = 1
output = "{out}"
[[family]]
name = "uniform"
sizes = [3]
count = 2
"""

TRAIN = """output = "{out}"
dataset = "{out}.h5"
models = ["canonical"]
[train]
epochs = 1
[[family]]
name = "uniform"
sizes = [3]
count = 4
"""

STRUCTURES = """kind = "structures"
output = "{out}"
breakers = ["none"]
datasets = ["glazer"]
[glazer]
train = 1
test = 1
epochs = 1
"""

GRAPHS = {"decoding": 'kind = "decoding"\noutput = "{out}"\nbreakers = ["none"]\ndatasets = ["atlas"]\n'
                      '[train]\nepochs = 1\n',
          "classification": 'kind = "classification"\noutput = "{out}"\nbreakers = ["none"]\ndatasets = ["csl"]\n'
                            '[train]\nepochs = 1\n',
          "colouring": 'kind = "colouring"\noutput = "{out}"\nbreakers = ["none"]\n[train]\nepochs = 1\n'
                       '[symmetric]\ntrain = 2\n'}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Valid files of every kind, and files that only pretend to be one."""
    w = tmp_path_factory.mktemp("world")
    (w / "run.toml").write_text(RUN.format(out=w / "run.h5"))
    assert run_cli("simulate", w / "run.toml", "--quiet").returncode == 0
    (w / "ds.toml").write_text(DATASET.format(out=w / "ds.h5"))
    assert run_cli("groundstates", w / "ds.toml", "--quiet").returncode == 0
    from physbreak.learn.spin import GNNPredictor

    GNNPredictor("canonical", 8, 2, "cpu", 0).save(w / "gnn.pt")
    (w / "text.txt").write_text("not a physbreak file\n")
    (w / "empty.h5").write_bytes(b"")
    (w / "binary.toml").write_bytes(bytes(range(256)) * 4)
    (w / "folder.h5").mkdir()
    (w / "blocker").write_text("a file where a folder would be\n")
    (w / "truncated.h5").write_bytes((w / "run.h5").read_bytes()[:2000])
    (w / "truncated.pt").write_bytes((w / "gnn.pt").read_bytes()[:300])
    (w / "bad_material.toml").write_text("name = 'X'\n[lattice]\na = 'four'\n")
    (w / "broken_material.toml").write_text("[lattice\n")
    with h5py.File(w / "linked.h5", "w") as f:  # a run file whose system is an external link elsewhere
        f.attrs.update({"physbreak_schema": 1, "kind": "spin_mc", "config": "", "seed": 0, "complete": True})
        f.create_group("systems")["L004"] = h5py.ExternalLink(str(w / "run.h5"), "/systems/L004")
    shutil.copytree(w / "folder.h5", w / "sweep_evil" / "tasks")
    with h5py.File(w / "sweep_evil" / "index.h5", "w") as f:
        f.attrs.update({"physbreak_schema": 1, "kind": "sweep_index", "config": "", "seed": 0})
        f["name"] = np.array(["../../run"], dtype=h5py.string_dtype())
        for key, value in (("model", "ising"), ("size", "4")):
            f[key] = np.array([value], dtype=h5py.string_dtype())
        f["temperature"], f["seed"], f["complete"] = np.array([2.0]), np.array([0]), np.array([True])
        f.create_group("tasks")
    return w


def digests(folder: Path) -> dict:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def mutate(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (template, old line, new line, fragments the error names)
CONFIG_CASES = []


def bad(template, old, new, *fragments):
    CONFIG_CASES.append((template, old, new, fragments))


# --- run configs -----------------------------------------------------------------------------------
for value in ('"hexagon"', "3", "true", "[]"):
    bad("run", 'kind = "square"', f"kind = {value}", "lattice.kind")
for value in ("[]", "[0]", "[-4]", "[4.5]", '["4"]', "[1000000]", "[[4, 4, 4, 4]]", "4", "[true]", "[[]]"):
    bad("run", "sizes = [4]", f"sizes = {value}", "lattice.sizes")
for value in ('"yes"', "1"):
    bad("run", 'kind = "square"', f'kind = "square"\nperiodic = {value}', "lattice.periodic")
for value in ('"clock"', "1", "nan"):
    bad("run", 'kind = "ising"', f"kind = {value}", "model.kind")
for value in ("-1", "2.5", '"all"', "true", "100000"):
    bad("run", "seed = 1", f"seed = 1\nthreads = {value}", "threads")
for value in ("[]", '"x"', "nan", "inf", "-inf", "[1.0, nan]", "1e30", "[true]", "[[1.0]]", "{a = 1}"):
    bad("run", 'kind = "ising"', f'kind = "ising"\nJ = {value}', "model.J")
for value in ("nan", "inf", '"0"', "1e30", "[0.0]"):
    bad("run", 'kind = "ising"', f'kind = "ising"\nh = {value}', "model.h")
for value in ("1", "0", "1000000000000", "2.5", '"3"', "-3"):
    bad("run", 'kind = "ising"', f'kind = "potts"\nq = {value}', "model.q")
for value in ('"bimodal"', "1"):
    bad("run", 'kind = "ising"', f'kind = "ising"\ndisorder = {value}', "model.disorder")
for value in ("-1", "1.5", '"x"'):
    bad("run", 'kind = "ising"', f'kind = "ising"\ndisorder_seed = {value}', "model.disorder_seed")
for key, values in {"algorithm": ('"gibbs"', "1"), "thermalization": ("-1", "1.5", "nan", '"5"'),
                    "samples": ("0", "-1", "nan", "inf", "1e3", "true", "[20]"),
                    "sweeps_per_sample": ("0", "-2", "0.5"), "replicas": ("0", "1000000000", "-1"),
                    "step": ("0", "-1", "nan", "inf", '"big"'), "start": ('"hot"', "0"),
                    "flush_seconds": ("-1", "0", "nan", "inf", "1e9")}.items():
    for value in values:
        line = {"samples": "samples = 20", "thermalization": "thermalization = 5"}.get(key, "samples = 20")
        bad("run", line, f"{line}\n{key} = {value}" if line.split()[0] != key else f"{key} = {value}",
            f"sampler.{key}")
for value in ("[]", "[0]", "[-1.0]", "[nan]", "[inf]", '["1"]', "1.0", "[[2.0]]"):
    bad("run", "values = [2.0, 3.0]", f"values = {value}", "temperatures")
bad("run", "values = [2.0, 3.0]", "start = 1.0\nstop = 2.0", "temperatures.num")
bad("run", "values = [2.0, 3.0]", "start = 1.0\nstop = 2.0\nnum = 0", "temperatures.num")
bad("run", "values = [2.0, 3.0]", "values = [2.0]\nnum = 3", "temperatures.values")
for value in ("-1", '"x"', "[1]", "1.5", "1979-05-27", "true", "nan"):
    bad("run", "seed = 1", f"seed = {value}", "seed")
for value in ('"tpu"', '"cuda"', '"cuda:7"', "5", '"CPU"'):
    bad("run", "seed = 1", f"seed = 1\ndevice = {value}", "device")
for value in ("5", '""', "true", "[1]"):
    bad("run", 'output = "', f'output = {value}\nx = "', "output")
for section, anchor in (("", "seed = 1"), ("lattice.", 'kind = "square"'), ("model.", 'kind = "ising"'),
                        ("sampler.", "samples = 20"), ("temperatures.", "values = [2.0, 3.0]")):
    bad("run", anchor, f"{anchor}\nfoo = 1", f"{section}foo", "not a known field")
for line, field in (('kind = "square"', "lattice.kind"), ("sizes = [4]", "lattice.sizes"),
                    ('kind = "ising"', "model.kind"), ("values = [2.0, 3.0]", "temperatures")):
    bad("run", line, "", field)
for table in ("[lattice]", "[model]", "[temperatures]"):
    bad("run", table, "[other]", table[1:-1], "required")
for extra, field in (("h = 0.5", "model.h"), ('disorder = "pm"', "model.disorder")):
    for algorithm in ("wolff", "swendsen_wang"):  # cluster moves: zero field, no disorder
        bad("run", 'kind = "ising"\n[sampler]', f'kind = "ising"\n{extra}\n[sampler]\nalgorithm = "{algorithm}"',
            field, algorithm)
bad("run", "sizes = [4]", "sizes = [100000]", "needs about", "GiB")  # 10^10 spins
bad("run", 'kind = "square"\nsizes = [4]', 'kind = "cubic"\nsizes = [1000]', "needs about")
bad("run", "sizes = [4]\n[model]\nkind = \"ising\"\n[sampler]",
    "sizes = [1000]\n[model]\nkind = \"ising\"\n[sampler]\nreplicas = 100000", "needs about")  # 2e11 spins
bad("run", "[lattice]", "[lattice]\n[lattice]", "CONFIG", "TOML")
bad("run", "seed = 1", "seed = = 1", "TOML")

# --- perovskite ------------------------------------------------------------------------------------
for key, values in {"pressure_gpa": ("nan", "inf", '"x"', "1e9", "true"), "size": ("1", "1000", '"x"', "0", "2.5"),
                    "replicas": ("0", "-1", "100000"), "material": ('"nosuch"', "5", '"missing.toml"'),
                    "seed": ("-1", "[1]"), "device": ('"cuda"', '"gpu"'), "bogus": ("1",)}.items():
    for value in values:
        bad("perovskite", "size = 2", f"size = {value}" if key == "size" else f"size = 2\n{key} = {value}",
            key if key != "bogus" else "bogus")
for key, values in {"dt": ("10.0", "0", "-1", "nan", "inf"), "friction": ("0", "-1", "nan"),
                    "strain_friction": ("0", "inf")}.items():
    for value in values:
        bad("perovskite", "[schedule]", f"[dynamics]\n{key} = {value}\n[schedule]", f"dynamics.{key}")
for key, values in {"low": ("400.0", "-1", "nan"), "step": ("0", "-5", "1e-9"), "samples": ("0",),
                    "sample_every": ("0",), "equilibration_steps": ("-1", "1.5"), "high": ("inf",)}.items():
    for value in values:
        old = {"low": "low = 290.0", "step": "step = 10.0", "samples": "samples = 2", "sample_every": "sample_every = 1",
               "equilibration_steps": "equilibration_steps = 2", "high": "high = 300.0"}[key]
        bad("perovskite", old, f"{key} = {value}", f"schedule.{key}")

# --- sweeps ----------------------------------------------------------------------------------------
for key, value, field in (("workers", "true", "workers"), ("workers", "0", "workers"), ("workers", '"2"', "workers"),
                          ("retries", "-1", "retries"), ("device", '"cuda"', "device"), ("bogus", "1", "bogus"),
                          ("output", "5", "output")):
    if key == "output":  # the template's output line becomes an unknown key after it
        bad("sweep", 'output = "', f'output = {value}\nx = "', field)
    else:
        bad("sweep", 'kind = "sweep"', f'kind = "sweep"\n{key} = {value}', field)
for old, new, field in (('models = [{kind = "ising"}]', "models = []", "grid.models"),
                        ('models = [{kind = "ising"}]', "models = [1]", "grid.models"),
                        ('models = [{kind = "ising"}]', 'models = [{kind = "ising"}, {kind = "ising"}]', "grid.models"),
                        ('models = [{kind = "ising"}]', 'models = [{kind = "ising", q = "x"}]', "grid.models[0].q"),
                        ('models = [{kind = "ising"}]', 'models = [{kind = "ising", bogus = 1}]', "bogus"),
                        ("sizes = [4]", "sizes = []", "grid.sizes"), ("sizes = [4]", "sizes = [0]", "grid.sizes"),
                        ("temperatures = [2.0]", "temperatures = [nan]", "grid.temperatures"),
                        ("temperatures = [2.0]", "temperatures = [2.0]\nseeds = [-1]", "grid.seeds"),
                        ("temperatures = [2.0]", "temperatures = [2.0, 2.0]", "grid"),
                        ('kind = "sweep"', 'kind = "run"', "kind"), ('kind = "square"', 'kind = "cube"', "lattice.kind"),
                        ('[lattice]\nkind = "square"', "", "lattice"),
                        ("samples = 10", 'samples = 10\nalgorithm = "wolff"\n[model]', "model")):
    bad("sweep", old, new, field)

# --- ground-state datasets -------------------------------------------------------------------------
for old, new, field in (('name = "uniform"', 'name = "nosuch"', "family[0].name"),
                        ("sizes = [3]", "sizes = [1]", "family[0].sizes"), ("sizes = [3]", "sizes = []", "sizes"),
                        ("sizes = [3]", "", "family[0].sizes"), ("count = 2", "count = 0", "family[0].count"),
                        ("count = 2", "count = 2\n[family.params]\nbogus = 1", "family[0].params.bogus"),
                        ("count = 2", "count = 2\n[family.params]\nJ2 = [1.0]", "family[0].params.J2"),
                        ("count = 2", "count = 2\n[family.params]\nJ2 = [nan, 1.0]", "family[0].params.J2"),
                        ("count = 2", 'count = 2\nsplit = ""', "family[0].split"),
                        ("seed = 1", "seed = 1\nexact_limit = 100", "exact_limit"),
                        ('name = "uniform"', 'name = "glazer"', "family[0].sizes"),
                        ('name = "uniform"\nsizes = [3]\ncount = 2',
                         'name = "couplings"\n[family.params]\nfiles = ["nope.toml"]', "family[0].params.files"),
                        ('name = "uniform"\nsizes = [3]\ncount = 2',
                         'name = "molecules"\n[family.params]\nmolecules = ["ax3:XX"]', "family[0].params.molecules"),
                        ("[[family]]", "family = 3\n[x]", "family"), ("seed = 1", "seed = 1979-05-27", "seed")):
    bad("dataset", old, new, field)

# --- training configs ------------------------------------------------------------------------------
for old, new, field in (('models = ["canonical"]', 'models = ["x"]', "models"),
                        ('models = ["canonical"]', "models = []", "models"),
                        ("epochs = 1", "epochs = 0", "train.epochs"),
                        ("epochs = 1", "epochs = 1\nlr = nan", "train.lr"),
                        ("epochs = 1", "epochs = 1\nlr = inf", "train.lr"),
                        ("epochs = 1", "epochs = 1\nlr = 0", "train.lr"),
                        ("epochs = 1", "epochs = 1\nlr = 5.0", "train.lr"),
                        ("epochs = 1", "epochs = 1\nbatch_size = true", "train.batch_size"),
                        ("epochs = 1", "epochs = 1\nmomentum = 0.9", "train.momentum"),
                        ('output = "', 'seed = "x"\noutput = "', "seed"),
                        ('output = "', 'seed = [1]\noutput = "', "seed"),
                        ('output = "', "seed = 1979-05-27\noutput = \"", "seed"),
                        ('[[family]]\nname = "uniform"\nsizes = [3]\ncount = 4', "family = 3", "family"),
                        ('dataset = "', "dataset = 5\nx = \"", "dataset"),
                        ('name = "uniform"', 'name = "uniform"\nbogus = 1', "family[0].bogus"),
                        ("count = 4", "count = 4\n[family.params]\nfield = inf", "family[0].params.field"),
                        ('output = "', 'device = "cuda"\noutput = "', "device")):
    bad("train", old, new, field)
for old, new, field in (('breakers = ["none"]', 'breakers = ["pinning"]', "breakers"),
                        ('datasets = ["glazer"]', 'datasets = ["qm9"]', "datasets"),
                        ('datasets = ["glazer"]', "datasets = []", "datasets"),
                        ("epochs = 1", "epochs = 1\nangles = [12.0, 3.0]", "glazer.angles"),
                        ("epochs = 1", "epochs = 1\ncutoff = 100.0", "glazer.cutoff"),
                        ("epochs = 1", "epochs = 1\ncutoff = nan", "glazer.cutoff"),
                        ("[glazer]", '[batio3]\nparents = "XYZ"\n[glazer]', "batio3.parents"),
                        ("[glazer]", "[molecules]\ntrain = 0\n[glazer]", "molecules.train"),
                        ("[glazer]", "[files]\nbogus = 1\n[glazer]", "files.bogus"),
                        ('kind = "structures"', 'kind = "crystals"', "kind")):
    bad("structures", old, new, field)
for kind in GRAPHS:
    for old, new, field in (('breakers = ["none"]', 'breakers = ["pinning"]', "breakers"),
                            ("epochs = 1", "epochs = 1\nlr = nan", "train.lr"),
                            ("epochs = 1", "epochs = -1", "train.epochs"),
                            ('output = "', 'max_nodes = 0\noutput = "', "max_nodes"),
                            ('output = "', 'relabellings = 0\noutput = "', "relabellings"),
                            ('output = "', 'bogus = 0\noutput = "', "bogus")):
        bad(kind, old, new, field)
bad("decoding", 'datasets = ["atlas"]', 'datasets = ["families"]\nmax_nodes = 10', "families.test_sizes")
bad("decoding", 'datasets = ["atlas"]', 'datasets = ["atlas"]\n[atlas]\ntest_fraction = 1.0', "atlas.test_fraction")
bad("classification", 'datasets = ["csl"]', 'datasets = ["csl"]\n[csl]\ntrain_per_class = 15', "csl.train_per_class")
bad("classification", 'datasets = ["csl"]', 'datasets = ["my.g6"]', "datasets")
bad("colouring", "train = 2", "train = 0", "symmetric.train")

COMMAND = {"run": "simulate", "perovskite": "simulate", "sweep": "sweep", "dataset": "groundstates",
           "train": "train", "structures": "train", "decoding": "train", "classification": "train",
           "colouring": "train"}
TEMPLATES = {"run": RUN, "perovskite": PEROVSKITE, "sweep": SWEEP, "dataset": DATASET, "train": TRAIN,
             "structures": STRUCTURES, **GRAPHS}


@pytest.mark.parametrize("kind, old, new, fragments", CONFIG_CASES,
                         ids=[f"{c[0]}:{c[2][:40]}" for c in CONFIG_CASES])
def test_bad_config_is_one_line_and_writes_nothing(tmp_path, world, kind, old, new, fragments):
    before = digests(world)
    out = tmp_path / "out"
    cfg = tmp_path / "c.toml"
    cfg.write_text(mutate(TEMPLATES[kind].format(out=out), old, new))
    one_line_error(run_cli(COMMAND[kind], cfg, "--quiet"), *fragments)
    assert not any(out.parent.glob("out*")), list(out.parent.glob("out*"))  # nothing written
    assert digests(world) == before


# (command line with {w} for the world folder and {t} for a fresh folder, fragments)
FILE_CASES = [
    # configs that are not TOML text
    ("simulate {w}/binary.toml", ["binary"]), ("simulate {w}/nosuch.toml", ["CONFIG", "readable"]),
    ("simulate {w}/folder.h5", ["CONFIG"]), ("simulate {w}/empty.h5", ["lattice"]),
    ("groundstates {w}/binary.toml", ["binary"]), ("train {w}/binary.toml", ["binary"]),
    ("sweep {w}/binary.toml", ["binary"]), ("train {w}/text.txt", ["TOML"]),
    # outputs that cannot be written, or exist
    ("simulate {w}/run.toml --out {w}/blocker/x.h5", ["--out", "blocker"]),
    ("simulate {w}/run.toml --out {w}/run.h5", ["exists"]),
    ("simulate {w}/run.toml --out {t}/x.h5 --threads -1", ["--threads", ">= 0"]),
    ("simulate {w}/run.toml --out {t}/x.h5 --threads two", ["--threads", "'two'"]),
    ("simulate {w}/run.toml --out {w}/folder.h5", ["folder.h5"]),
    ("groundstates {w}/ds.toml --out {w}/blocker/x.h5", ["blocker"]),
    ("groundstates {w}/ds.toml --out {w}/ds.h5", ["exists"]),
    ("predict {w}/gnn.pt {w}/ds.h5 --out {w}/blocker/p.h5", ["blocker"]),
    ("predict {w}/gnn.pt {w}/ds.h5 --out {w}/run.h5", ["exists"]),
    ("analyze {w}/run.h5 --plots {w}/blocker/plots", ["--plots", "blocker"]),
    # resuming something that is not a run of this config
    ("simulate {w}/run.toml --out {w}/text.txt --resume", ["text.txt"]),
    ("simulate {w}/run.toml --out {w}/empty.h5 --resume", ["empty.h5"]),
    ("simulate {w}/run.toml --out {w}/truncated.h5 --resume", ["truncated.h5"]),
    ("simulate {w}/run.toml --out {w}/ds.h5 --resume", ["ds.h5"]),
    ("groundstates {w}/ds.toml --out {w}/run.h5 --resume", ["run.h5"]),
    ("groundstates {w}/ds.toml --out {w}/text.txt --resume", ["text.txt"]),
    # predict with anything but a checkpoint
    ("predict {w}/run.h5 {w}/ds.h5", ["CHECKPOINT"]), ("predict {w}/ds.h5 {w}/ds.h5", ["CHECKPOINT"]),
    ("predict {w}/text.txt {w}/ds.h5", ["CHECKPOINT"]), ("predict {w}/empty.h5 {w}/ds.h5", ["CHECKPOINT"]),
    ("predict {w}/folder.h5 {w}/ds.h5", ["CHECKPOINT"]), ("predict {w}/truncated.pt {w}/ds.h5", ["CHECKPOINT"]),
    ("predict {w}/nosuch.pt {w}/ds.h5", ["CHECKPOINT"]),
    ("predict {w}/gnn.pt {w}/ds.h5 --device cuda", ["device", "cuda"]),
    ("predict {w}/gnn.pt {w}/ds.h5 --device bogus", ["device", "bogus"]),
    ("predict {w}/gnn.pt {w}/ds.h5 --device cuda:3", ["device"]),
    ("predict {w}/gnn.pt {w}/ds.h5 --split nosuch --out {t}/p.h5", ["--split", "nosuch", "train"]),
    ("predict {w}/gnn.pt {w}/ds.h5 --target P4mm --out {t}/p.h5", ["--target"]),
    ("predict {w}/gnn.pt {w}/text.txt --out {t}/p.h5", ["text.txt"]),
    ("predict {w}/gnn.pt {w}/nosuch.h5", ["INPUT"]), ("predict {w}/gnn.pt {w}/folder.h5", ["INPUT"]),
    ("predict {w}/gnn.pt {w}/run.h5 --out {t}/p.h5", ["run.h5"]),
    ("predict {w}/gnn.pt {w}/truncated.h5 --out {t}/p.h5", ["truncated.h5"]),
    ("predict {w}/gnn.pt {w}/ds.h5 --variants some", ["--variants"]),
    # analyze anything
    ("analyze {w}/nosuch.h5", ["FILE", "exist"]), ("analyze {w}/text.txt", ["FILE"]),
    ("analyze {w}/empty.h5", ["FILE"]), ("analyze {w}/folder.h5", ["FILE"]),
    ("analyze {w}/truncated.h5", ["FILE"]), ("analyze {w}/binary.toml", ["FILE"]),
    ("analyze {w}/run.h5 --discard -1", ["--discard"]),
    ("analyze {w}/run.h5 --discard 20 --no-plots", ["--discard", "20"]),
    ("analyze {w}/run.h5 --discard 1000 --no-plots", ["--discard", "1000"]),
    ("analyze {w}/run.h5 --order staggered --no-plots", ["--order", "staggered"]),
    ("analyze {w}/run.h5 --fss --no-plots", ["fss"]),
    ("analyze {w}/run.h5 --fss-min-size -3 --fss --no-plots", ["--fss-min-size"]),
    ("analyze {w}/linked.h5 --no-plots", ["link"]),
    ("analyze {w}/sweep_evil/index.h5 --no-plots", ["../../run"]),
    # perovskite resume and materials
    ("simulate {t}/p.toml --out {w}/text.txt --resume", ["text.txt"]),
    ("simulate {t}/p.toml --out {w}/empty.h5 --resume", ["empty.h5"]),
    ("simulate {t}/p.toml --out {w}/folder.h5 --resume", ["folder.h5"]),
    ("simulate {t}/p.toml --out {w}/truncated.h5 --resume", ["truncated.h5"]),
    ("simulate {t}/p.toml --out {w}/run.h5 --resume", ["--resume"]),
    ("simulate {t}/bad_material.toml", ["material", "short_range"]),
    ("simulate {t}/broken_material.toml", ["material", "TOML"]),
    ("simulate {t}/p.toml --out {w}/blocker/p.h5", ["blocker"]),
    # sweep schedulers and odd commands
    ("sweep {t}/s.toml --scheduler notanaddress", ["--scheduler", "notanaddress"]),
    ("schema nosuch", ["KIND", "nosuch"]),
    ("demo --steps 0", ["--steps"]),
]


@pytest.mark.parametrize("line, fragments", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_files_and_options_are_one_line_and_change_nothing(tmp_path, world, line, fragments):
    (tmp_path / "p.toml").write_text(PEROVSKITE.format(out=tmp_path / "p.h5"))
    for name in ("bad", "broken"):
        material = f'size = 2\nmaterial = "{world}/{name}_material.toml"'
        (tmp_path / f"{name}_material.toml").write_text(PEROVSKITE.format(out=tmp_path / "p.h5").replace("size = 2",
                                                                                                         material))
    (tmp_path / "s.toml").write_text(SWEEP.format(out=tmp_path / "sw"))
    before = digests(world)
    args = line.format(w=world, t=tmp_path).split()
    one_line_error(run_cli(*args), *fragments)
    assert digests(world) == before
    assert not (tmp_path / "p.h5").exists() and not (tmp_path / "sw").exists()


def test_the_cases_cover_every_command_and_are_many():
    commands = {COMMAND[c[0]] for c in CONFIG_CASES} | {c[0].split()[0] for c in FILE_CASES}
    assert commands >= {"simulate", "analyze", "groundstates", "train", "predict", "sweep", "demo", "schema"}
    assert len(CONFIG_CASES) + len(FILE_CASES) >= 250, len(CONFIG_CASES) + len(FILE_CASES)
