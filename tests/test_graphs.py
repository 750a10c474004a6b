"""The graph domains: equivariant decoding, graph classification, colouring.

Symmetry claims are checked by brute force over the automorphism group, on
graphs whose stabilizer is partial (neither trivial nor all of S_n).
Tolerances: 1e-5 on probabilities is float32 round-off of sums taken in a
different node order (the outputs themselves are O(1)).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from conftest import one_line_error, run_cli
from physbreak.groundstate.colourings import chromatic_number, conflicts, count_colourings
from physbreak.learn.colouring import ColouringPredictor
from physbreak.learn.decoding import GraphAutoencoder
from physbreak.learn.graph_classification import GraphClassifier
from physbreak.learn.graph_metrics import (decoding_relaxed_error, evaluate_colouring, evaluate_decoding,
                                           same_colouring_up_to_symmetry)
from physbreak.problems import graph_families as gf
from physbreak.problems.graphs import GraphProblem, from_networkx, isomorphic


def partial(n_min=5):
    """Atlas graphs with a stabilizer that is neither trivial nor S_n."""
    return [p for p in gf.atlas(0, n_min, 7) if 1 < p.automorphism_order() < math.factorial(p.n_nodes)]


def test_colouring_counts_match_chromatic_polynomials():
    for n in range(3, 12):  # cycles: (q-1)^n + (-1)^n (q-1)
        p = from_networkx(nx.cycle_graph(n))
        for q in (2, 3, 4):
            assert count_colourings(n, p.edges, q)[0] == (q - 1) ** n + (-1) ** n * (q - 1)
    pet = from_networkx(nx.petersen_graph())
    assert count_colourings(10, pet.edges, 3)[0] == 120 and chromatic_number(10, pet.edges) == 3
    k5 = from_networkx(nx.complete_graph(5))
    assert count_colourings(5, k5.edges, 6)[0] == 720 and count_colourings(5, k5.edges, 4)[0] == 0
    count, one = count_colourings(16, from_networkx(nx.hypercube_graph(4)).edges, 2)
    assert count == 2 and conflicts(from_networkx(nx.hypercube_graph(4)).edges, one) == 0


def test_csl_is_as_published():
    graphs = gf.csl(0)
    assert len(graphs) == 150 and all(p.n_nodes == 41 and p.n_edges == 82 for p in graphs)
    assert all(np.all(np.bincount(p.edges.ravel(), minlength=41) == 4) for p in graphs)  # 4-regular
    first = [next(p for p in graphs if p.target == c) for c in range(10)]
    assert not any(isomorphic(41, a.edges, 41, b.edges) for k, a in enumerate(first) for b in first[k + 1:])
    assert all(isomorphic(41, p.edges, 41, first[p.target].edges) for p in graphs)


def test_plain_decoder_output_is_fixed_by_every_permutation():
    """Why the plain decoder collapses: identical node codes -> identical node states ->
    every edge logit equal, so P[pi][:, pi] = P for every pi: empty or complete."""
    model = GraphAutoencoder("none", max_nodes=7)
    rng = np.random.default_rng(0)
    for p in partial()[:20]:
        y = model.predict([p])[0]
        perm = rng.permutation(p.n_nodes)
        assert np.abs(y[np.ix_(perm, perm)] - y).max() < 1e-6
        off = y[~np.eye(p.n_nodes, dtype=bool)]
        assert off.max() - off.min() < 1e-6


def test_plain_decoder_reconstructs_only_empty_and_complete_graphs():
    graphs = gf.atlas(0, 1, 5)
    model = GraphAutoencoder("none", max_nodes=7)
    model.fit(graphs, epochs=3, batch_size=32, progress=False)
    rows = evaluate_decoding(model, graphs, relaxed_samples=0)
    assert sum(r["exact"] for r in rows if not r["trivial"]) == 0


@pytest.mark.slow  # trains a graph decoder to reconstruction (12 s)
def test_canonical_decoder_reconstructs_held_out_graphs_and_is_relaxed_equivariant():
    """Train on the atlas graphs up to 6 nodes except 20 % of the 6-node ones; the held-out
    ones decode exactly (90 % measured, >= 85 % asserted; with the 7-node graphs too, the
    benchmark reaches 100 %)."""
    rng = np.random.default_rng(0)
    graphs = gf.atlas(0, 1, 6)
    six = [p for p in graphs if p.n_nodes == 6]
    held = set(rng.choice(len(six), 31, replace=False))
    test = [p for k, p in enumerate(six) if k in held]
    train = [p for p in graphs if p.n_nodes < 6] + [p for k, p in enumerate(six) if k not in held]
    model = GraphAutoencoder("canonical", max_nodes=7, seed=0)
    model.fit(train, epochs=60, batch_size=16, progress=False)
    rows = evaluate_decoding(model, test, relaxed_samples=0)
    assert np.mean([r["exact"] for r in rows]) >= 0.85
    for p in partial()[:15]:  # brute force over Aut(x), random relabellings
        assert decoding_relaxed_error(model, p, rng, samples=3) < 1e-5


def test_matched_decoders_are_scored_in_the_input_labelling():
    """A relabelled perfect decoding scores edge F1 1 after matching."""
    class Relabelling:  # a stand-in decoder that returns the input under a random relabelling
        matched, breaker = True, type("B", (), {"deterministic": False})()

        def predict(self, problems):
            out = []
            for p in problems:
                perm = np.random.default_rng(1).permutation(p.n_nodes)
                out.append(p.adjacency()[np.ix_(perm, perm)])
            return out
    rows = evaluate_decoding(Relabelling(), partial()[:30])
    assert all(r["exact"] for r in rows) and np.mean([r["edge_f1"] for r in rows]) > 0.99


def test_plain_mpnn_cannot_tell_csl_classes_apart():
    """1-WL: every CSL graph is 4-regular, so the plain MPNN gives every graph the same
    output, whatever it learned: at most chance."""
    graphs = gf.csl(0)
    train = [p for k, p in enumerate(graphs) if k % 15 < 10]
    test = [p for k, p in enumerate(graphs) if k % 15 >= 10]
    model = GraphClassifier("none", n_classes=10)
    model.fit(train, epochs=2, progress=False)
    out = np.array(model.predict(test))
    assert np.abs(out - out[0]).max() < 1e-5
    assert np.mean(out.argmax(1) == [p.target for p in test]) <= 0.15


def test_canonical_classifier_is_invariant_and_separates_csl():
    graphs = gf.csl(0)
    model = GraphClassifier("canonical", n_classes=10)
    out = np.array(model.predict(graphs))  # untrained: still invariant, and classes differ
    for c in range(10):
        mine = out[[p.target == c for p in graphs]]
        assert np.abs(mine - mine[0]).max() < 1e-5
    assert len({tuple(np.round(out[15 * c], 4)) for c in range(10)}) == 10


def test_plain_colouring_model_colours_vertex_transitive_graphs_with_one_colour():
    """The equivariant model's output is fixed by Aut; on a vertex-transitive graph all
    rows are equal, so every edge is monochromatic."""
    model = ColouringPredictor("none")
    for g in (nx.petersen_graph(), nx.cycle_graph(9), nx.hypercube_graph(3), nx.circulant_graph(11, [1, 3])):
        p = from_networkx(g)
        p.q = chromatic_number(p.n_nodes, p.edges)
        prob, _ = model.probabilities([p])
        prob = prob[0].detach().numpy()
        assert np.abs(prob - prob[0]).max() < 1e-6
        assert np.abs(prob - 1 / p.q).max() < 1e-6  # colour-equivariant too: uniform
    rows = evaluate_colouring(model, gf.colouring_test(0))
    assert not any(r["proper"] for r in rows if r["vertex_transitive"])


def test_canonical_colouring_is_relaxed_equivariant():
    model = ColouringPredictor("canonical")
    rng = np.random.default_rng(0)
    graphs = [p for p in gf.colouring_train(12, 0) if 1 < p.automorphism_order() <= 10_000][:6]
    graphs += [p for p in gf.colouring_test(0) if p.label in ("Petersen", "hypercube Q3", "cycle C9")]
    for p in graphs:
        c = model.predict([p])[0]
        for _ in range(2):
            perm = rng.permutation(p.n_nodes)
            moved = model.predict([p.relabelled(perm)])[0][perm]
            assert same_colouring_up_to_symmetry(p, c, moved)


@pytest.mark.parametrize("make", [lambda: GraphAutoencoder("noise", max_nodes=7),
                                  lambda: GraphAutoencoder("reference", max_nodes=7),
                                  lambda: GraphClassifier("sympe", n_classes=2),
                                  lambda: ColouringPredictor("canonical"), lambda: ColouringPredictor("noise")])
def test_graph_checkpoints_round_trip_bit_identically(tmp_path, make):
    from physbreak.learn import load

    model = make()
    if model.domain == "colouring":
        graphs = gf.colouring_test(0)[:4]
    else:
        graphs = partial()[:6]
        for p in graphs:
            p.target = int(p.n_edges % 2)
    model.fit(graphs, epochs=1, progress=False)
    model.save(tmp_path / "m.pt")
    again = load(tmp_path / "m.pt")
    for a, b in zip(model.predict(graphs), again.predict(graphs)):
        assert np.array_equal(a, b)


def test_graph_bad_inputs_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.g6").write_bytes(b"\x00\xffnot graph6\n")
    (tmp_path / "c.toml").write_text('kind = "decoding"\nbreakers = ["pinning"]\n')
    (tmp_path / "d.toml").write_text('kind = "decoding"\ndatasets = ["qm9"]\n')
    (tmp_path / "e.toml").write_text('kind = "colouring"\ndatasets = ["bad.g6"]\n[train]\nepochs = 1\n'
                                     '[symmetric]\ntrain = 10\n')
    GraphAutoencoder("canonical", max_nodes=7).save(tmp_path / "ae.pt")
    nx.write_graph6(nx.cycle_graph(12), tmp_path / "big.g6", header=False)
    for args, needle in [(("train", "c.toml"), "breakers"), (("train", "d.toml"), "datasets"),
                         (("train", "e.toml"), "bad.g6"), (("predict", "ae.pt", "bad.g6"), "bad.g6"),
                         (("predict", "ae.pt", "big.g6"), "at most 7")]:
        one_line_error(run_cli(*args), needle)
    assert not (tmp_path / "big_predictions.json").exists()


def test_predict_on_a_graph_file(tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)
    ColouringPredictor("canonical").save(tmp_path / "col.pt")
    nx.write_graph6(nx.petersen_graph(), tmp_path / "pet.g6", header=False)
    r = run_cli("predict", "col.pt", "pet.g6")
    assert r.returncode == 0, r.stderr
    out = json.loads((tmp_path / "pet_predictions.json").read_text())["graphs"][0]
    assert out["q"] == 3 and len(out["colours"]) == 10
    assert out["conflicts"] == conflicts(from_networkx(nx.petersen_graph()).edges, out["colours"])


def test_graph_problem_relabelling_keeps_the_canonical_form():
    p = GraphProblem("t", "t", 6, np.array([[0, 1], [1, 2], [2, 0], [3, 4]]))
    q = p.relabelled(np.random.default_rng(0).permutation(6))
    assert np.array_equal(p.canonical_edges(), q.canonical_edges())
    assert p.automorphism_order() == q.automorphism_order() == 12
