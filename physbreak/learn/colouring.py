"""Graph colouring on the learning stack: a proper q-colouring is a zero-energy
ground state of the q-state Potts antiferromagnet on the graph, and the
symmetry to break is (graph automorphisms) x (colour permutations S_q).

The network (:class:`~physbreak.nn.graph_nets.ColouringNet`) is equivariant
under both; its inputs per (node, colour) come from the breaker:

| breaker | inputs | relaxed-equivariant |
|---|---|---|
| ``none`` | a constant: on a vertex-transitive graph every node gets the same colour, every edge conflicts | equivariant, cannot break |
| ``noise`` | Gaussian per (node, colour), redrawn at every call | in distribution |
| ``sympe`` | canonical-rank codes moved by a random automorphism, and colour codes moved by a random colour permutation | in distribution |
| ``canonical`` | sequential pinning (:mod:`physbreak.relaxed.pinning`): one colour fixed per forward pass, on the most decided free node next to a coloured one, ties to the smallest canonical label, colour ties to the lowest colour; one decoding per orbit of Aut on the first node, the fewest conflicts kept | exactly |
| ``baseline`` | codes of the node indices as given and fixed colour codes | no |

Loss: the Potts energy of the soft colouring, ``mean over edges of sum_c
p_ic p_jc`` (zero exactly for proper colourings, so no target is singled
out); with pins, pinned nodes are clamped to their colour and the pins are
drawn from a proper colouring (found by backtracking) as the pinning decoder
grows them.  Outputs: colours ``(n,)`` int per graph.
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.groundstate.colourings import conflicts, count_colourings
from physbreak.learn.predictor import Predictor
from physbreak.nn.graph_nets import ColouringNet
from physbreak.problems.graphs import CODE_CHANNELS, rank_codes
from physbreak.relaxed.breakers import RelaxedCanonicalization
from physbreak.relaxed.pinning import next_sites, random_pins

COLOURING_BREAKERS = ("none", "noise", "sympe", "canonical", "baseline")
MAX_COLOURS = 8


def colour_codes(q: int) -> np.ndarray:
    """``(q, 8)`` one-hot codes of the colours 0..q-1."""
    return np.eye(MAX_COLOURS)[:q]


class ColouringPredictor(Predictor):
    kind, domain = "graph_colouring", "colouring"
    breakers = COLOURING_BREAKERS
    schedule, default_lr = "cosine", 3e-3

    def __init__(self, breaker="canonical", hidden: int = 48, layers: int = 6, device="cpu", seed: int = 0):
        torch.manual_seed(seed)  # the weights built below
        super().__init__(breaker, device, seed)
        self.pinning = type(self.breaker) is RelaxedCanonicalization
        self.hyper = {"hidden": hidden, "layers": layers}
        self.channels = {"none": 1, "noise": 2, "canonical": 3}.get(self.breaker.name, 1 + CODE_CHANNELS + MAX_COLOURS)
        self.net = ColouringNet(self.channels, hidden, layers).to(self.device)
        self.info = {}

    def check(self, problems):
        bad = [p for p in problems if not 1 <= p.q <= MAX_COLOURS]
        if bad:
            raise ValueError(f"graph {bad[0].label!r} asks for q = {bad[0].q} colours: 1 to {MAX_COLOURS}")

    def inputs(self, problem, pins=None) -> np.ndarray:
        """``(n, q, channels)`` per (node, colour); ``pins`` ``(n,)``: colour + 1, 0 free."""
        n, q, name = problem.n_nodes, problem.q, self.breaker.name
        one = np.ones((n, q, 1))
        if self.pinning:
            pins = np.zeros(n) if pins is None else np.asarray(pins)
            mine = (pins[:, None] - 1 == np.arange(q)[None]).astype(float)[..., None]
            return np.concatenate([one, mine, np.broadcast_to((pins > 0)[:, None, None], (n, q, 1))], -1)
        if name == "none":
            return one
        if name == "noise":
            return np.concatenate([one, self.breaker.node_features(problem, self.generator, q)[..., None]], -1)
        if name == "baseline":
            nodes, colours = rank_codes(np.arange(n)), colour_codes(q)
        else:  # sympe: a random automorphism (from the breaker) and a random colour permutation
            nodes = self.breaker.node_features(problem, self.generator, CODE_CHANNELS)
            colours = colour_codes(q)[torch.randperm(q, generator=self.generator).numpy()]
        return np.concatenate([one, np.broadcast_to(nodes[:, None], (n, q, CODE_CHANNELS)),
                               np.broadcast_to(colours[None], (n, q, MAX_COLOURS))], -1)

    def _batch(self, problems, inputs):
        b, n, q = len(problems), max(p.n_nodes for p in problems), max(p.q for p in problems)
        x = np.zeros((b, n, q, self.channels), np.float32)
        adj = np.zeros((b, n, n), np.float32)
        mask, cmask = np.zeros((b, n), bool), np.zeros((b, q), bool)
        for k, (p, f) in enumerate(zip(problems, inputs)):
            x[k, :p.n_nodes, :p.q] = f
            adj[k, :p.n_nodes, :p.n_nodes] = p.adjacency()
            mask[k, :p.n_nodes], cmask[k, :p.q] = True, True
        t = lambda a: torch.as_tensor(a, device=self.device)  # noqa: E731
        return t(x), t(adj), t(mask), t(cmask)

    def probabilities(self, problems, pins=None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(probs (B, N, Q), adj (B, N, N))``."""
        pins = pins or [None] * len(problems)
        x, adj, mask, cmask = self._batch(problems, [self.inputs(p, s) for p, s in zip(problems, pins)])
        logits = self.net(x, adj, mask, cmask)
        return torch.softmax(logits, -1).nan_to_num(0.0), adj

    def proper(self, problem) -> np.ndarray:
        """One proper colouring (backtracking), cached on the problem."""
        return problem._cached(f"colouring{problem.q}", lambda: count_colourings(problem.n_nodes, problem.edges,
                                                                                 problem.q, limit=1)[1])

    def loss(self, batch, rng) -> torch.Tensor:
        self.check(batch)
        pins = None
        if self.pinning:
            pins = []
            for p in batch:
                c = rng.permutation(p.q)[self.proper(p)] + 1.0
                pins.append(random_pins(c[None], p.graph_distances(), rng)[0])
        prob, adj = self.probabilities(batch, pins)
        if pins is not None:
            fixed = torch.zeros_like(prob)
            for k, s in enumerate(pins):
                where = np.flatnonzero(s)
                fixed[k, where, (s[where] - 1).astype(int)] = 1.0
            pinned = fixed.sum(-1, keepdim=True) > 0
            prob = torch.where(pinned, fixed, prob)
        same = torch.einsum("bic,bjc->bij", prob, prob) * adj
        return (same.sum((1, 2)) / adj.sum((1, 2)).clamp(min=1)).mean()

    def score(self, problems) -> float:
        return float(np.mean([conflicts(p.edges, c) == 0 for p, c in zip(problems, self.predict(problems))]))

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        """Colours ``(n,)`` per graph."""
        self.check(problems)
        with self.prediction_draws():
            if self.pinning:
                return [self._decode(p) for p in problems]
            out = []
            for start in range(0, len(problems), 64):
                chunk = problems[start:start + 64]
                prob, _ = self.probabilities(chunk)
                out += [prob[k, :p.n_nodes, :p.q].argmax(-1).cpu().numpy() for k, p in enumerate(chunk)]
            return out

    def _decode(self, problem) -> np.ndarray:
        """Sequential pinning from the first node of every Aut-orbit (see the module table)."""
        n, label = problem.n_nodes, problem.canonical_labelling()
        starts = first_of_orbits(problem)
        pins = np.zeros((len(starts), n))
        pins[np.arange(len(starts)), starts] = 1.0  # colour 0
        near = np.broadcast_to(problem.adjacency() > 0, (len(starts), n, n))
        labels = np.broadcast_to(label, (len(starts), n))
        for _ in range(n - 1):
            prob, _ = self.probabilities([problem] * len(starts), list(pins))
            prob = prob[:, :n, :problem.q].double().cpu().numpy()
            site = next_sites(prob.max(-1), pins == 0, near, labels)
            rows = np.arange(len(starts))
            at = prob[rows, site]  # colour ties (unused colours are symmetric) go to the lowest colour
            pins[rows, site] = np.argmax(at >= at.max(-1, keepdims=True) - 1e-4, axis=-1) + 1
        bad = [conflicts(problem.edges, s - 1) for s in pins]
        return (pins[int(np.argmin(bad))] - 1).astype(np.int64)


def first_of_orbits(problem) -> np.ndarray:
    """The node of smallest canonical label in every orbit of Aut on the nodes, in canonical order."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n, gens, label = problem.n_nodes, problem.automorphism_generators(), problem.canonical_labelling()
    src = np.concatenate([np.arange(n)] * (1 + len(gens)))
    dst = np.concatenate([np.arange(n)] + list(gens))
    _, orbit = connected_components(coo_matrix((np.ones(len(src)), (src, dst)), (n, n)), directed=False)
    order = np.argsort(label)
    return order[np.sort(np.unique(orbit[order], return_index=True)[1])]
