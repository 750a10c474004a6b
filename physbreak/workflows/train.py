"""``physbreak train CONFIG.toml``: train symmetry-breaking predictors on every
dataset of a config, save them, score them, and write the benchmark report.
One runner (:mod:`physbreak.learn.runner`) for every kind of config: spin
ground states and structures here, the graph domains (``kind = "decoding"``,
``"classification"``, ``"colouring"``) in :mod:`physbreak.workflows.train_graphs`.

Spin ground states (the default kind)::

    seed = 0
    device = "cpu"                        # or "cuda"
    output = "groundstates_benchmark"     # folder: checkpoints/, results/, report.md, exact_hit.png
    dataset = "groundstates.h5"           # made here from the [[family]] tables if missing;
                                          # without [[family]] tables: an existing file (your own problems)
    models = ["none", "canonical", "emlp", "noise", "sympe", "baseline"]
    [train]
    epochs = 30
    batch_size = 16
    lr = 3e-3
    hidden = 32
    layers = 12                           # message-passing rounds (weights shared)
    [[family]]                            # as in `physbreak groundstates`; split "train"/"test"
    ...

Each (family, model) is trained on 90 % of the family's ``train`` records (the
other 10 % choose the epoch) and scored on its ``test`` records.

Structures (``kind = "structures"``)::

    kind = "structures"
    seed = 0
    output = "structures_benchmark"        # folder: checkpoints/, results/, report.md, group_ok.png
    device = "cpu"
    tensor_products = "e3nn"               # or "cuequivariance" (same network and weights; pip install cuequivariance-torch)
    breakers = ["none", "sbs", "sympe", "noise", "baseline", "canonical"]
    datasets = ["batio3", "molecules", "glazer", "polar_tilt", "my_structures.h5"]   # built in, or files
    [batio3]                               # strained parent cells -> polar ground states
    parents = "TORC"                       # letters, or a list with "C4" / "C2": cubic held in P4mm / Amm2
    breaking = "point_group"               # or "isotropy": a Gamma4- field from isotropy subgroups
    train = 40                             # problems per parent
    test = 10
    epochs = 100
    [molecules]                            # AX3, AX2, C4X4 saddles -> xTB ground states
    train = 16
    test = 3
    epochs = 300
    [glazer]                               # untilted 2x2x2 cells -> tilt systems
    train = 8
    test = 5
    angles = [3.0, 12.0]
    epochs = 80
    cutoff = 3.5
    [polar_tilt]                           # cubic 2x2x2 cells -> Gamma4- + R4+ phase named by its isotropy subgroup
    target = "R3c"
    train = 40
    test = 20
    [files]                                # options of every dataset given as a file
    epochs = 100
    cutoff = 4.5
    train_split = "train"
    test_split = "test"

Finished (dataset, model) pairs are skipped when the command runs again (resume).
"""

from __future__ import annotations

import contextlib
from functools import cache
from pathlib import Path

from physbreak.config import check_device, read_toml
from physbreak.config.train import BUILT_IN, StructuresConfig, TrainConfig, parse_spins, parse_structures
from physbreak.errors import ConfigError
from physbreak.io.claims import claim
from physbreak.learn.metrics import evaluate_spins, evaluate_structures
from physbreak.learn.report import spin_sections, structure_sections, write_report
from physbreak.learn.runner import Task, run_tasks
from physbreak.problems.store import read_problems, read_structures
from physbreak.workflows.dataset import build_dataset


def parse(text: str) -> TrainConfig | StructuresConfig:
    """A training config of any kind (spin ground states, ``kind = "structures"``, or a graph kind)."""
    from physbreak.config import graphs

    raw = read_toml(text)
    if raw.get("kind") == "structures":
        return parse_structures(raw)
    if raw.get("kind") in graphs.KINDS:
        return graphs.parse(raw)
    if "kind" in raw:
        raise ConfigError("kind", raw["kind"], "one of structures, " + ", ".join(graphs.KINDS)
                          + " (or no kind: spin ground states)")
    return parse_spins(raw, text)


def load(path) -> TrainConfig | StructuresConfig:
    from physbreak.config import load_text

    return parse(load_text(path))


def run(cfg: TrainConfig | StructuresConfig, progress: bool | None = None) -> Path:
    """Train and evaluate every (dataset, model); write results, checkpoints, report and plot."""
    from physbreak.workflows import train_graphs

    from physbreak.learn import distributed

    check_device(cfg.device)
    if getattr(cfg, "tensor_products", "e3nn") == "cuequivariance":
        from physbreak.nn.cue_tensor_product import available

        if not available():
            raise ConfigError("tensor_products", "cuequivariance", "'e3nn', or install cuequivariance-torch")
    # under several processes rank 0 holds the claim for all of them (it alone writes)
    with claim(cfg.output, "output") if distributed.is_main() else contextlib.nullcontext():
        distributed.barrier()  # the others start once the claim is held
        if isinstance(cfg, train_graphs.GraphsConfig):
            return train_graphs.run(cfg, progress)
        return run_structures(cfg, progress) if isinstance(cfg, StructuresConfig) else run_spins(cfg, progress)


# --- spins ---------------------------------------------------------------------------------------

SPIN_PREAMBLE = ("Models trained for {epochs} epochs (hidden {hidden}, {layers} rounds, seed {seed}) on 90 % of "
                 "each family's `train` records, the epoch chosen by the exact-hit rate on the other 10 %, and "
                 "scored on its `test` records. Exact-hit: the sign of the output is a ground state. gap/spin: "
                 "(E - E0)/N. E/E0: approximation ratio. symmetry ok: the prediction's stabilizer (inside the "
                 "input's) is that of a true ground state. relaxed err: max over random relabellings with flips "
                 "of min over the input's stabilizer (deterministic models only).")


def run_spins(cfg: TrainConfig, progress=None) -> Path:
    from physbreak.learn.spin import make_predictor

    data = Path(cfg.dataset_path)
    if cfg.dataset is not None:
        data.parent.mkdir(parents=True, exist_ok=True)
        build_dataset(cfg.dataset, data, resume=True, progress=progress)
    elif not data.is_file():
        raise ConfigError("dataset", str(data), "an existing ground-state file (`physbreak groundstates`), or "
                          "[[family]] tables to make it")
    records = read_problems(data)
    if not records:
        raise ConfigError("dataset", str(data), "a ground-state file with spin records")
    tasks = []
    for family in dict.fromkeys(p.family for _, _, p in records):
        train = [p for _, s, p in records if p.family == family and s == "train"]
        test = [p for _, s, p in records if p.family == family and s == "test"]
        n_val = max(1, len(train) // 10)  # choose the epoch; none of the test records
        split = (lambda train=train, test=test, n_val=n_val: (train[n_val:], train[:n_val], test))
        for model in cfg.models:
            tasks.append(Task(family, model, split,
                              build=lambda t, model=model: make_predictor(model, t, cfg.hidden, cfg.layers,
                                                                          cfg.device, cfg.seed),
                              evaluate=lambda p, test: evaluate_spins(p, test, cfg.seed),
                              fit={"epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr,
                                   "seed": cfg.seed},
                              info={"train_sizes": sorted({p.n_sites for p in train})}))
    results = run_tasks(tasks, cfg.output, progress)
    sections, plot = spin_sections(results)
    return write_report(cfg.output, "Ground-state prediction benchmark",
                        SPIN_PREAMBLE.format(epochs=cfg.epochs, hidden=cfg.hidden, layers=cfg.layers, seed=cfg.seed),
                        sections, {"values": plot, "ylabel": "exact-hit rate (test)", "file": "exact_hit.png"})


# --- structures ----------------------------------------------------------------------------------

INTRO = {
    "batio3": "BaTiO3: strained centrosymmetric parents {parents} -> polar ground states of the effective "
              "Hamiltonian; {train} train and {test} test problems per parent, {epochs} epochs. group ok: spglib "
              "(0.01 A) finds the ground state's space group.",
    "molecules": "Molecules: planar AX3, linear AX2 and square C4X4 saddles (near-saddle inputs: the saddle plus "
                 "symmetrised 0.03 A noise) -> GFN2-xTB ground states; {train} train and {test} test inputs per "
                 "molecule (15 molecules), {epochs} epochs. group ok: point group at 0.01 A; E: xTB energy of the "
                 "prediction above the relaxed ground state.",
    "glazer": "Glazer tilts: untilted 2x2x2 cells with the rigid-tilt metric -> the 14 tilt systems; {train} train "
              "and {test} held-out angle sets per system (angles uniform in {angles} degrees), {epochs} epochs. "
              "group ok: spglib (0.01 A); Glazer ok: symbol extracted from the prediction.",
    "polar_tilt": "Coupled polar + anti-phase tilt: 2x2x2 cubic perovskite cells strained by the amplitudes -> "
                  "Gamma4- + R4+ along the directions whose isotropy subgroup is {target} (found by enumeration), "
                  "targets built from the modes; {train} train and {test} test problems (volume strain uniform in "
                  "{volume}, polar-axis strain in {shear}), {epochs} epochs; breaking sets from isotropy subgroups "
                  "alone. group ok: spglib (0.01 A).",
    "files": "Structures from {name}: its `{train_split}` records train, its `{test_split}` records test; "
             "{epochs} epochs.",
}
STRUCTURE_PREAMBLE = ("Seed {seed}. RMSD: orbit-aware (nearest ground-state variant), Angstrom. relaxed err: max "
                      "over test cases of min over the input's operations s of |R^T f(R x) - s f(x)| for a random "
                      "rotation or improper rotation R (deterministic breakers; not for linear molecules).")


def structure_data(name: str, cfg: StructuresConfig) -> tuple[list, list]:
    """``(train, test)`` problems of one dataset: built in, or the splits of a groundstates file."""
    seed = cfg.seed
    if name not in BUILT_IN:
        opts = cfg.options["files"]
        if not Path(name).is_file():
            raise ConfigError("datasets", name, "an existing .h5 file written by `physbreak groundstates`")
        train, test = read_structures(name, opts["train_split"]), read_structures(name, opts["test_split"])
        if not train or not test:
            raise ConfigError("datasets", name, f"a file with structure records in splits "
                              f"{opts['train_split']!r} and {opts['test_split']!r}")
        return train, test
    opts = cfg.options[name]
    if name == "batio3":
        from physbreak.problems.batio3 import make_dataset

        return tuple(make_dataset(opts["parents"], opts[k], seed + i, opts["breaking"])
                     for i, k in enumerate(("train", "test")))
    if name == "molecules":
        from physbreak.problems.molecules import cases, make_dataset

        solved = cases()
        return make_dataset(opts["train"], seed, solved=solved), make_dataset(opts["test"], seed + 1, solved=solved)
    if name == "polar_tilt":
        from physbreak.errors import SymmetryError
        from physbreak.problems.isotropy import make_dataset

        try:
            return tuple(make_dataset(opts[k], seed + i, opts["target"], opts["volume"], opts["shear"])
                         for i, k in enumerate(("train", "test")))
        except SymmetryError as exc:
            raise ConfigError("polar_tilt.target", opts["target"], str(exc).split(": ", 1)[-1]) from None
    from physbreak.problems.glazer import SYSTEMS, make_dataset

    lo, hi = opts["angles"]
    return make_dataset(opts["train"], seed, SYSTEMS, lo, hi), make_dataset(opts["test"], seed + 1, SYSTEMS, lo, hi)


def run_structures(cfg: StructuresConfig, progress=None) -> Path:
    from physbreak.learn.structure import make_predictor

    tasks = []
    for name in cfg.datasets:
        opts = cfg.options.get(name, cfg.options["files"])
        label = name if name in BUILT_IN else Path(name).stem
        data = cache(lambda name=name: (lambda tr, te: (tr, [], te))(*structure_data(name, cfg)))
        extra = {"cutoff": opts["cutoff"]} if "cutoff" in opts else {}
        for breaker in cfg.breakers:
            tasks.append(Task(label, breaker, data,
                              build=lambda t, breaker=breaker, extra=extra: make_predictor(
                                  breaker, t, cfg.device, cfg.seed, tensor_products=cfg.tensor_products,
                                  **extra),
                              evaluate=lambda p, test: evaluate_structures(p, test, cfg.seed),
                              fit={"epochs": opts["epochs"], "lr": 5e-3, "batch_size": 16, "seed": cfg.seed}))
    results = run_tasks(tasks, cfg.output, progress)
    intros = {}
    for name in cfg.datasets:
        if name in BUILT_IN:
            opts = dict(cfg.options[name])
            if name == "batio3":
                opts["parents"] = "".join(opts["parents"]) if all(len(k) == 1 for k in opts["parents"]) \
                    else ", ".join(opts["parents"])
            intros[name] = INTRO[name].format(**opts)
        else:
            intros[Path(name).stem] = INTRO["files"].format(name=name, **cfg.options["files"])
    sections, plot = structure_sections(results, intros)
    return write_report(cfg.output, "Structure prediction benchmark", STRUCTURE_PREAMBLE.format(seed=cfg.seed),
                        sections, {"values": plot, "ylabel": "target group reached (test)", "file": "group_ok.png"})
