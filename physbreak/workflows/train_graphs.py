"""``physbreak train`` for the graph domains: ``kind = "decoding"``,
``"classification"`` or ``"colouring"``.  Same runner, checkpoints and report
as the spin and structure benchmarks.

Decoding (graph autoencoders)::

    kind = "decoding"
    output = "decoding_benchmark"
    breakers = ["none", "noise", "sympe", "canonical", "reference", "baseline"]
    datasets = ["atlas", "families", "my_graphs.g6"]   # built in, or a graph file (80 % train, 20 % test)
    max_nodes = 20                          # the largest graph a decoder takes
    [train]
    epochs = 50
    batch_size = 32
    lr = 3e-3
    hidden = 64
    latent = 64
    [atlas]
    test_fraction = 0.2                     # of the 6- and 7-node graphs, held out
    [families]                              # trees, regular, grids, molecules
    train_sizes = [8, 16]                   # inclusive range
    test_sizes = [8, 20]                    # sizes above train_sizes: not trained on
    train_per_size = 10                     # per family and size
    test_per_size = 2

Classification::

    kind = "classification"
    breakers = ["none", "noise", "sympe", "canonical", "baseline"]
    datasets = ["csl", "atlas_bipartite"]
    seeds = 5                               # models (and splits) per breaker
    relabellings = 5                        # random relabellings of every test graph
    [train]
    epochs = 60                             # every dataset table may set its own `epochs`
    hidden = 32
    [csl]
    train_per_class = 10                    # of 15; the rest test
    [atlas_bipartite]
    test_fraction = 0.2
    epochs = 20

Colouring (q = the chromatic number of each graph)::

    kind = "colouring"
    breakers = ["none", "noise", "sympe", "canonical", "baseline"]
    datasets = ["symmetric", "my_graphs.g6"]   # held-out symmetric graphs, or your own (test only)
    [train]
    epochs = 80
    [symmetric]
    train = 200                             # random training graphs, 6-16 nodes
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from physbreak.config import Section, _number, device_of
from physbreak.errors import ConfigError, DataError
from physbreak.learn.colouring import COLOURING_BREAKERS
from physbreak.learn.decoding import DECODER_BREAKERS
from physbreak.learn.graph_classification import CLASSIFIER_BREAKERS
from physbreak.learn.graph_metrics import evaluate_classification, evaluate_colouring, evaluate_decoding
from physbreak.learn.report import graph_sections, write_report
from physbreak.learn.runner import Task, run_tasks
from physbreak.problems import graph_families as gf
from physbreak.problems.graph_files import SUFFIXES, read_graphs

KINDS = ("decoding", "classification", "colouring")
BREAKERS = {"decoding": DECODER_BREAKERS, "classification": CLASSIFIER_BREAKERS, "colouring": COLOURING_BREAKERS}
BUILT_IN = {"decoding": ("atlas", "families"), "classification": ("csl", "atlas_bipartite"),
            "colouring": ("symmetric",)}
TRAIN = {"decoding": {"epochs": 50, "batch_size": 32, "lr": 3e-3, "hidden": 64, "latent": 64},
         "classification": {"epochs": 60, "batch_size": 16, "lr": 3e-3, "hidden": 32},
         "colouring": {"epochs": 80, "batch_size": 16, "lr": 3e-3, "hidden": 48}}
OPTIONS = {"atlas": {"test_fraction": 0.2},
           "families": {"train_sizes": [8, 16], "test_sizes": [8, 20], "train_per_size": 10, "test_per_size": 2},
           "csl": {"train_per_class": 10}, "atlas_bipartite": {"test_fraction": 0.2},
           "symmetric": {"train": 200}}
# every dataset table also takes `epochs` (default: train.epochs)


@dataclass(frozen=True)
class GraphsConfig:
    kind: str
    output: str
    breakers: tuple[str, ...]
    datasets: tuple[str, ...]
    train: dict
    options: dict = field(default_factory=dict)
    seed: int = 0
    seeds: int = 1
    relabellings: int = 5
    max_nodes: int = 20
    device: str = "cpu"


def _fraction(value, name):
    x = _number(value, name)
    if not 0 < x < 1:
        raise ConfigError(name, value, "a fraction in (0, 1)")
    return x


def _range(value, name, low=1, high=64):
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                for v in value) and low <= value[0] <= value[1] <= high):
        raise ConfigError(name, value, f"[lo, hi] integers with {low} <= lo <= hi <= {high}")
    return [int(v) for v in value]


def parse(raw: dict) -> GraphsConfig:
    kind = raw["kind"]
    top = Section(raw, "", ("kind",), ("seed", "output", "device", "breakers", "datasets", "train", "max_nodes",
                                       "seeds", "relabellings") + BUILT_IN[kind])
    breakers = tuple(top.names("breakers", BREAKERS[kind], BREAKERS[kind]))
    allowed = f"{', '.join(BUILT_IN[kind])} or a graph file ({', '.join(SUFFIXES)})"
    can_read = kind != "classification"  # user graphs carry no class labels
    datasets = tuple(top.names("datasets", BUILT_IN[kind], allowed if can_read else ", ".join(BUILT_IN[kind]),
                               lambda v: isinstance(v, str) and (v in BUILT_IN[kind] or (
                                   can_read and Path(v).suffix.lower() in SUFFIXES))))
    defaults = TRAIN[kind]
    tr = Section(top.subtable("train", {}), "train", (), tuple(defaults))
    train = {}
    for key, value in defaults.items():
        if key == "lr":
            lr = _number(tr.get(key, value), "train.lr")
            if not 0 < lr <= 1:
                raise ConfigError("train.lr", tr.get(key), "a number in (0, 1]")
            train[key] = lr
        else:
            train[key] = tr.integer(key, value, minimum=1)
    options = {}
    for name in BUILT_IN[kind]:
        sec = Section(top.get(name, {}), name, (), tuple(OPTIONS[name]) + ("epochs",))
        opts = {"epochs": sec.integer("epochs", train["epochs"], minimum=1)}
        for key, value in OPTIONS[name].items():
            if key == "test_fraction":
                opts[key] = _fraction(sec.get(key, value), f"{name}.{key}")
            elif key.endswith("_sizes"):
                opts[key] = _range(sec.get(key, value), f"{name}.{key}", 3, 64)
            else:
                opts[key] = sec.integer(key, value, minimum=1)
        options[name] = opts
    if kind == "classification" and options["csl"]["train_per_class"] >= 15:
        raise ConfigError("csl.train_per_class", options["csl"]["train_per_class"], "an integer in [1, 14]")
    max_nodes = top.integer("max_nodes", 20, minimum=1)
    if kind == "decoding" and "families" in datasets and options["families"]["test_sizes"][1] > max_nodes:
        raise ConfigError("families.test_sizes", options["families"]["test_sizes"],
                          f"sizes up to max_nodes = {max_nodes}")
    output = top.get("output", f"{kind}_benchmark")
    if not isinstance(output, str) or not output:
        raise ConfigError("output", output, "a folder name")
    return GraphsConfig(kind, output, breakers, datasets, train, options, top.integer("seed", 0, minimum=0),
                        top.integer("seeds", 5 if kind == "classification" else 1, minimum=1),
                        top.integer("relabellings", 5, minimum=1), max_nodes, device_of(top))


# --- data ------------------------------------------------------------------------------------------

def _split(problems, fraction, rng):
    idx = rng.permutation(len(problems))
    k = max(1, int(round(fraction * len(problems))))
    return [problems[i] for i in idx[k:]], [problems[i] for i in idx[:k]]


def data(cfg: GraphsConfig, name: str, seed: int) -> tuple[list, list, list]:
    """``(train, validation, test)`` graphs of one dataset."""
    rng = np.random.default_rng([seed, 7])
    opts = cfg.options.get(name, {})
    if name == "atlas":
        graphs = gf.atlas(seed)
        small, big = [p for p in graphs if p.n_nodes < 6], [p for p in graphs if p.n_nodes >= 6]
        train, test = _split(big, opts["test_fraction"], rng)
        train = small + train
    elif name == "families":
        lo, hi = opts["train_sizes"]
        train = [p for f in gf.FAMILIES for p in gf.family(f, range(lo, hi + 1), opts["train_per_size"], seed)]
        test = [p for f in gf.FAMILIES for p in gf.family(f, range(opts["test_sizes"][0], opts["test_sizes"][1] + 1),
                                                          opts["test_per_size"], seed + 1)]
        seen = {p.canonical_edges().tobytes() + bytes([p.n_nodes]) for p in train}
        test = [p for p in test if p.canonical_edges().tobytes() + bytes([p.n_nodes]) not in seen]
    elif name == "csl":
        graphs = gf.csl(seed)
        by_class = [[p for p in graphs if p.target == c] for c in range(len(gf.CSL_SKIPS))]
        k = opts["train_per_class"]
        train = [p for c in by_class for p in c[:k]]
        test = [p for c in by_class for p in c[k:]]
    elif name == "atlas_bipartite":
        train, test = _split(gf.atlas_bipartite(seed), opts["test_fraction"], rng)
    elif name == "symmetric":
        train, test = gf.colouring_train(opts["train"], seed), gf.colouring_test(seed)
    else:
        return _file_data(cfg, name, rng)
    order = rng.permutation(len(train))
    train = [train[i] for i in order]
    n_val = max(1, len(train) // 10)
    return train[n_val:], train[:n_val], test


def _file_data(cfg: GraphsConfig, name: str, rng) -> tuple[list, list, list]:
    """A graph file: decoding trains on 80 % and tests on 20 %; colouring tests
    on every graph, training on the built-in random graphs."""
    from physbreak.groundstate.colourings import chromatic_number

    try:
        graphs = read_graphs(name)
    except DataError as exc:
        raise ConfigError("datasets", name, f"a readable graph file: {exc}") from None
    if cfg.kind == "colouring":
        for p in graphs:
            p.q = chromatic_number(p.n_nodes, p.edges)
        train = gf.colouring_train(cfg.options["symmetric"]["train"], cfg.seed)
        return train[len(train) // 10:], train[:len(train) // 10], graphs
    big = [p for p in graphs if p.n_nodes > cfg.max_nodes]
    if big:
        raise ConfigError("datasets", name, f"graphs of at most max_nodes = {cfg.max_nodes} nodes "
                          f"({big[0].label} has {big[0].n_nodes})")
    if len(graphs) < 3:
        raise ConfigError("datasets", name, "a file of at least 3 graphs (80 % train, 20 % test)")
    train, test = _split(graphs, 0.2, rng)
    n_val = max(1, len(train) // 10)
    return train[n_val:], train[:n_val], test


# --- run -------------------------------------------------------------------------------------------

def _build(cfg: GraphsConfig, breaker: str, seed: int, n_classes: int):
    t = cfg.train
    if cfg.kind == "decoding":
        from physbreak.learn.decoding import GraphAutoencoder

        return GraphAutoencoder(breaker, t["hidden"], t["latent"], 3, cfg.max_nodes, cfg.device, seed)
    if cfg.kind == "classification":
        from physbreak.learn.graph_classification import GraphClassifier

        return GraphClassifier(breaker, n_classes, t["hidden"], 4, cfg.device, seed)
    from physbreak.learn.colouring import ColouringPredictor

    return ColouringPredictor(breaker, t["hidden"], 6, cfg.device, seed)


EVALUATE = {"decoding": evaluate_decoding, "classification": evaluate_classification,
            "colouring": evaluate_colouring}
TITLES = {"decoding": "Graph autoencoder benchmark (equivariant decoding)",
          "classification": "Graph classification benchmark", "colouring": "Graph colouring benchmark"}
PREAMBLE = {
    "decoding": "Seed {seed}, max_nodes {max_nodes}. exact: the decoded graph (P > 0.5) is "
                "isomorphic to the input (bliss canonical form); non-trivial: graphs other than the empty and "
                "complete ones; edge F1 and Aut ok in the input's labelling (the best graph matching for decoders "
                "that do not know it); relaxed err: max over test graphs and random relabellings of min over "
                "Aut(x) (deterministic decoders).",
    "classification": "{seeds} seeds (a model and a split each); accuracy on the test graphs "
                      "as given and under {relabellings} random relabellings each: mean +- spread over seeds, and "
                      "the spread over relabellings; invariance err: max |f(pi x) - f(x)| of the class probabilities.",
    "colouring": "Seed {seed}; q = the chromatic number of every graph (exact, backtracking). "
                 "proper: no monochromatic edge; conflicts/edge: the Potts antiferromagnet's energy per edge; "
                 "relaxed ok: a relabelled graph gets the relabelled colouring up to an automorphism and a colour "
                 "permutation (deterministic models).",
}


def run(cfg: GraphsConfig, progress=None) -> Path:
    tasks = []
    for name in cfg.datasets:
        label = name if name in BUILT_IN[cfg.kind] else Path(name).stem
        for s in range(cfg.seeds):
            seed = cfg.seed + s
            split = cache(lambda name=name, seed=seed: data(cfg, name, seed))
            n_classes = len(gf.CSL_SKIPS) if name == "csl" else 2
            epochs = cfg.options.get(name, {}).get("epochs", cfg.train["epochs"])
            for breaker in cfg.breakers:
                model = breaker if cfg.seeds == 1 else f"{breaker}-seed{seed}"
                options = {"relabellings": cfg.relabellings} if cfg.kind == "classification" else {}
                tasks.append(Task(label, model, split,
                                  build=lambda t, b=breaker, seed=seed, k=n_classes: _build(cfg, b, seed, k),
                                  evaluate=lambda p, test, seed=seed, options=options: EVALUATE[cfg.kind](
                                      p, test, seed, **options),
                                  fit={"epochs": epochs, "batch_size": cfg.train["batch_size"], "lr": cfg.train["lr"],
                                       "seed": seed},
                                  info=lambda train, b=breaker, seed=seed, epochs=epochs: {
                                      "breaker": b, "seed": seed, "epochs": epochs,
                                      "train_sizes": sorted({p.n_nodes for p in train})}))
    results = run_tasks(tasks, cfg.output, progress)
    sections, plot, ylabel = graph_sections(cfg.kind, results)
    text = PREAMBLE[cfg.kind].format(seed=cfg.seed, seeds=cfg.seeds, relabellings=cfg.relabellings,
                                     max_nodes=cfg.max_nodes, **cfg.train)
    return write_report(cfg.output, TITLES[cfg.kind], text, sections,
                        {"values": plot, "ylabel": ylabel, "file": f"{cfg.kind}.png"})
