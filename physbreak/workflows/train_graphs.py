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

from functools import cache
from pathlib import Path

import numpy as np

from physbreak.config.graphs import BUILT_IN, GraphsConfig
from physbreak.errors import ConfigError, DataError
from physbreak.learn.graph_metrics import evaluate_classification, evaluate_colouring, evaluate_decoding
from physbreak.learn.report import graph_sections, write_report
from physbreak.learn.runner import Task, run_tasks
from physbreak.problems import graph_families as gf
from physbreak.problems.graph_files import read_graphs


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
