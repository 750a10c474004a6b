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
| ``canonical`` | sequential pinning (:mod:`physbreak.relaxed.pinning`): one colour fixed per forward pass, on the most decided free node next to a coloured one, ties to the smallest canonical label, colour ties to the lowest colour; colours a coloured neighbour already has are masked (the feasibility mask of autoregressive decoders), so "most decided" favours the most constrained node; one decoding from every node as the first, the fewest conflicts kept (ties: the first start in canonical order) | exactly |
| ``baseline`` | codes of the node indices as given and fixed colour codes | no |

Loss: the Potts energy of the soft colouring, ``mean over edges of sum_c
p_ic p_jc`` (zero exactly for proper colourings, so no target is singled
out).  With pins (``canonical``): pins drawn from one of the graph's proper
colourings (enumerated by backtracking) as the decoder grows them, and the
cross-entropy against the colour marginals of the colourings consistent with
them.  Outputs: colours ``(n,)`` int per graph.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from physbreak.groundstate.colourings import conflicts, enumerate_colourings
from physbreak.learn.predictor import Predictor
from physbreak.nn.graph_nets import ColouringNet
from physbreak.problems.graphs import CODE_CHANNELS, rank_codes
from physbreak.relaxed.breakers import RelaxedCanonicalization
from physbreak.relaxed.pinning import next_sites, random_pins

COLOURING_BREAKERS = ("none", "noise", "sympe", "canonical", "baseline")
MAX_COLOURS = 8
STORED = 20_000  # proper colourings kept per training graph for the pinning loss


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

    def _batch(self, problems, inputs, dtype=np.float32):
        b, n, q = len(problems), max(p.n_nodes for p in problems), max(p.q for p in problems)
        x = np.zeros((b, n, q, self.channels), dtype)
        adj = np.zeros((b, n, n), dtype)
        mask, cmask = np.zeros((b, n), bool), np.zeros((b, q), bool)
        for k, (p, f) in enumerate(zip(problems, inputs)):
            x[k, :p.n_nodes, :p.q] = f
            adj[k, :p.n_nodes, :p.n_nodes] = p.adjacency()
            mask[k, :p.n_nodes], cmask[k, :p.q] = True, True
        t = lambda a: torch.as_tensor(a, device=self.device)  # noqa: E731
        return t(x), t(adj), t(mask), t(cmask)

    def probabilities(self, problems, pins=None, net=None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(probs (B, N, Q), adj (B, N, N))`` from ``net`` (default: the trained
        one; a float64 copy gives float64 probabilities)."""
        net = net or self.net
        pins = pins or [None] * len(problems)
        dtype = np.float64 if next(net.parameters()).dtype == torch.float64 else np.float32
        x, adj, mask, cmask = self._batch(problems, [self.inputs(p, s) for p, s in zip(problems, pins)], dtype)
        logits = net(x, adj, mask, cmask)
        return torch.softmax(logits, -1).nan_to_num(0.0), adj

    def colourings(self, problem) -> np.ndarray:
        """``(k, n)`` proper colourings of the problem (all, or the first
        :data:`STORED` found by backtracking), cached on the problem."""
        return problem._cached(f"colourings{problem.q}", lambda: enumerate_colourings(
            problem.n_nodes, problem.edges, problem.q, store=STORED)[1])

    def loss(self, batch, rng) -> torch.Tensor:
        """Without pins: the soft Potts energy.  With pins (drawn from a proper
        colouring, colours permuted at random): the cross-entropy of the free
        nodes' outputs against the colour marginals of the stored proper
        colourings consistent with the pins, so the most decided node is the most
        forced one and its likeliest colour keeps a completion possible."""
        self.check(batch)
        if not self.pinning:
            prob, adj = self.probabilities(batch)
            same = torch.einsum("bic,bjc->bij", prob, prob) * adj
            return (same.sum((1, 2)) / adj.sum((1, 2)).clamp(min=1)).mean()
        pins, marginals = [], []
        for p in batch:
            states = rng.permutation(p.q)[self.colourings(p)] + 1.0
            pin, consistent = random_pins(states, p.graph_distances(), rng)
            pins.append(pin)
            marginals.append((consistent[:, :, None] - 1 == np.arange(p.q)).mean(0))
        prob, _ = self.probabilities(batch, pins)
        target = torch.zeros_like(prob)
        free = torch.zeros(prob.shape[:2], dtype=torch.bool, device=self.device)
        for k, (p, pin, m) in enumerate(zip(batch, pins, marginals)):
            target[k, :p.n_nodes, :p.q] = torch.as_tensor(m, dtype=prob.dtype)
            free[k, :p.n_nodes] = torch.as_tensor(pin == 0)
        ce = -(target * prob.clamp(min=1e-12).log()).sum(-1)
        return (ce * free).sum() / free.sum().clamp(min=1)

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
        """Sequential pinning from every node in turn (see the module table).  Starts
        in one orbit of Aut are not images of one decoding, since the canonical
        labels break later ties; a relabelling moves starts and labels
        together, so the kept decoding moves with it (relaxed-equivariant)."""
        n, label = problem.n_nodes, problem.canonical_labelling()
        starts = np.argsort(label)  # every node, in canonical order
        pins = np.zeros((len(starts), n))
        pins[np.arange(len(starts)), starts] = 1.0  # colour 0
        near = np.broadcast_to(problem.adjacency() > 0, (len(starts), n, n))
        labels = np.broadcast_to(label, (len(starts), n))
        adj = problem.adjacency()
        # float64: a relabelled graph sums in another order, and float32 round-off (1e-7)
        # could move a near-tie across the tie tolerance; in float64 it cannot in practice
        net = copy.deepcopy(self.net).double()
        for _ in range(n - 1):
            prob, _ = self.probabilities([problem] * len(starts), list(pins), net)
            prob = prob[:, :n, :problem.q].double().cpu().numpy()
            # the feasibility mask: a colour a coloured neighbour has is not offered (unless all are)
            onehot = (pins[:, :, None] - 1 == np.arange(problem.q)).astype(float)
            taken = np.einsum("ij,bjc->bic", adj, onehot) > 0
            free_colours = np.where(taken.all(-1, keepdims=True), prob, np.where(taken, 0.0, prob))
            free_colours /= np.maximum(free_colours.sum(-1, keepdims=True), 1e-300)
            site = next_sites(free_colours.max(-1), pins == 0, near, labels)
            rows = np.arange(len(starts))
            at = free_colours[rows, site]  # colour ties (unused colours are symmetric) go to the lowest colour
            pins[rows, site] = np.argmax(at >= at.max(-1, keepdims=True) - 1e-4, axis=-1) + 1
        bad = [conflicts(problem.edges, s - 1) for s in pins]
        return (pins[int(np.argmin(bad))] - 1).astype(np.int64)
