"""Metrics of the graph domains (part of the registry in :mod:`physbreak.learn.metrics`).

Decoding (``domain = "decoding"``), for decoded edge probabilities ``P`` (n, n):

* ``exact``: the decoded graph (``P > 0.5``) is isomorphic to the input (same bliss canonical form);
* ``edge_f1``: F1 of the decoded edges against the input's, in the input's
  labelling (the canonical decoder's own; the best graph matching for the others);
* ``aut_ok``: in that labelling, the decoded graph's automorphism group is the input's;
* ``relaxed_error``: ``min_{s in Aut(x)} max |pi^-1 f(pi x) - s f(x)|`` over
  random relabellings ``pi`` (deterministic decoders; graphs with ``|Aut| <= 10^5``).

Classification (``domain = "classification"``): ``correct`` per graph and
relabelling; ``invariance_error``, ``max |f(pi x) - f(x)|`` of the class
probabilities (deterministic models).

Colouring (``domain = "colouring"``): ``colourings``, the exact number of
proper q-colourings of the graph (backtracking; :data:`COUNT_LIMIT` means at
least that many), ``proper`` (no monochromatic edge),
``conflicts_per_edge``, and ``relaxed_ok`` (deterministic models): a
relabelled graph gets the relabelled colouring up to an automorphism and a
colour permutation.
"""

from __future__ import annotations

import numpy as np

from physbreak.groundstate.colourings import conflicts, count_colourings
from physbreak.problems.graphs import GraphProblem, edges_of, isomorphic
from physbreak.relaxed.losses import match_nodes


COUNT_LIMIT = 10**8


def decoded_edges(prob: np.ndarray) -> np.ndarray:
    return edges_of(prob > 0.5)


def edge_f1(decoded: np.ndarray, adjacency: np.ndarray) -> float:
    """F1 of the edges of two 0/1 adjacency matrices in one labelling (1 when both are empty)."""
    i, j = np.triu_indices(len(adjacency), 1)
    d, a = decoded[i, j] > 0.5, adjacency[i, j] > 0.5
    tp, fp, fn = np.sum(d & a), np.sum(d & ~a), np.sum(~d & a)
    return 1.0 if tp + fp + fn == 0 else float(2 * tp / (2 * tp + fp + fn))


def same_automorphisms(problem: GraphProblem, decoded: np.ndarray) -> bool:
    """Aut(decoded) == Aut(input), both on the input's node labels: each group's
    generators fix the other graph."""
    other = GraphProblem(problem.family, "decoded", problem.n_nodes, decoded_edges(decoded))
    return all(other.fixed_by(g) for g in problem.automorphism_generators()) and \
        all(problem.fixed_by(g) for g in other.automorphism_generators())


def decoding_relaxed_error(predictor, problem: GraphProblem, rng, samples: int = 2, max_order: int = 100_000):
    """See the module docstring; None when ``|Aut| > max_order``."""
    if problem.automorphism_order() > max_order:
        return None
    aut = problem.automorphisms(max_order)
    y = predictor.predict([problem])[0]
    allowed = y[aut[:, :, None], aut[:, None, :]]  # (g, n, n): y relabelled by every automorphism
    worst = 0.0
    for _ in range(samples):
        perm = rng.permutation(problem.n_nodes)
        back = predictor.predict([problem.relabelled(perm)])[0][np.ix_(perm, perm)]
        worst = max(worst, float(np.abs(allowed - back[None]).max(axis=(1, 2)).min()))
    return worst


def evaluate_decoding(predictor, problems, seed: int = 0, relaxed_samples: int = 2) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for p, y in zip(problems, predictor.predict(problems)):
        a = p.adjacency()
        if predictor.matched:
            perm = match_nodes(y, a)
            y_in = np.empty_like(y)
            y_in[np.ix_(perm, perm)] = y  # decoded node i is input node perm[i]
        else:
            y_in = y
        row = {"label": p.label, "family": p.family, "n_nodes": p.n_nodes,
               "exact": bool(isomorphic(p.n_nodes, p.edges, p.n_nodes, decoded_edges(y))),
               "edge_f1": edge_f1(y_in, a), "aut_ok": same_automorphisms(p, y_in),
               "trivial": p.n_edges in (0, p.n_nodes * (p.n_nodes - 1) // 2)}
        if predictor.breaker.deterministic:
            row["relaxed_error"] = decoding_relaxed_error(predictor, p, rng, relaxed_samples)
        rows.append(row)
    return rows


def evaluate_classification(predictor, problems, seed: int = 0, relabellings: int = 5) -> list[dict]:
    """One row per (graph, relabelling); relabelling 0 is the graph as given."""
    rng = np.random.default_rng(seed)
    rows = []
    base = predictor.predict(problems)
    for r in range(relabellings):
        perms = [np.arange(p.n_nodes) if r == 0 else rng.permutation(p.n_nodes) for p in problems]
        out = base if r == 0 else predictor.predict([p.relabelled(q) for p, q in zip(problems, perms)])
        for p, y, y0 in zip(problems, out, base):
            row = {"label": p.label, "target": p.target, "relabelling": r, "correct": bool(np.argmax(y) == p.target)}
            if predictor.breaker.deterministic:
                row["invariance_error"] = float(np.abs(y - y0).max())
            rows.append(row)
    return rows


def same_colouring_up_to_symmetry(problem: GraphProblem, a: np.ndarray, b: np.ndarray) -> bool:
    """``b = a`` up to an automorphism of the graph and a permutation of colours
    (colour classes compared as sets of nodes)."""
    def classes(c, perm):
        return sorted(tuple(sorted(perm[np.flatnonzero(c == k)])) for k in np.unique(c))
    target = classes(b, np.arange(problem.n_nodes))
    return any(classes(a, s) == target for s in problem.automorphisms())


def evaluate_colouring(predictor, problems, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for p, c in zip(problems, predictor.predict(problems)):
        bad = conflicts(p.edges, c)
        row = {"label": p.label, "n_nodes": p.n_nodes, "q": p.q, "vertex_transitive": p.is_vertex_transitive(),
               "colourings": count_colourings(p.n_nodes, p.edges, p.q, limit=COUNT_LIMIT)[0],
               "proper": bad == 0, "conflicts_per_edge": bad / max(1, p.n_edges)}
        if predictor.breaker.deterministic and p.automorphism_order() <= 100_000:
            perm = rng.permutation(p.n_nodes)
            moved = predictor.predict([p.relabelled(perm)])[0][perm]  # back on the original labels
            row["relaxed_ok"] = same_colouring_up_to_symmetry(p, c, moved)
        rows.append(row)
    return rows
