"""Equivariant decoding: graph autoencoders on the learning stack.

The encoder (:class:`~physbreak.nn.graph_nets.GraphEncoder`) reads the graph
with the positional codes of its canonical ranks as node features; relabelling
the graph moves the codes with it up to an automorphism, which fixes the
graph, so the latent ``z`` is exactly permutation-invariant, and it separates
graphs that 1-WL message passing does not (so every decoder below gets the
same, complete, latent).  The decoder
(:class:`~physbreak.nn.graph_nets.SetDecoder`) is permutation-equivariant in
its node codes; ``z`` is fixed by every permutation, so the breaker decides
what the n node codes are:

| breaker | node codes | loss | relaxed-equivariant |
|---|---|---|---|
| ``none`` | identical (zeros): every logit equal, the output is empty or complete | edge BCE | equivariant, cannot break |
| ``noise`` | Gaussian, redrawn at every call (random node initialisation) | after matching | in distribution |
| ``sympe`` | learned codes ``C[:n]`` in a uniformly random order (``s`` uniform in S_n, the decoder input's stabilizer) | after matching | in distribution |
| ``canonical`` | the positional codes of the *input's* canonical ranks: the graph is decoded in the input's canonical frame and comes out in the input's labelling | edge BCE against the input (= its canonical form) | exactly |
| ``reference`` | Top-N: the n of ``max_nodes`` learned reference codes that score highest against ``z``, scaled by their scores | after matching | as a set only |
| ``baseline`` | learned index embeddings ``E[:n]`` | after matching | no |

"After matching": the decoded node order is arbitrary, so the target
adjacency is relabelled by the best graph matching first
(:func:`~physbreak.relaxed.losses.match_nodes`, scipy).  Only the canonical
decoder knows which decoded node is which input node, so only it can be
scored directly (and only it is exactly relaxed-equivariant).

Outputs: edge probabilities ``(n, n)`` per graph.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from physbreak.errors import DataError
from physbreak.learn.predictor import Predictor
from physbreak.nn.graph_nets import DenseGraphs, GraphEncoder, SetDecoder
from physbreak.problems.graphs import CODE_CHANNELS, rank_codes
from physbreak.relaxed.losses import edge_loss, matched_edge_loss

DECODER_BREAKERS = ("none", "noise", "sympe", "canonical", "reference", "baseline")


class AutoencoderNet(nn.Module):
    """Encoder, decoder and the learned codes of the breakers that need them."""

    def __init__(self, hidden: int, latent: int, layers: int, max_nodes: int):
        super().__init__()
        bilinear = max_nodes + 4
        self.encoder = GraphEncoder(CODE_CHANNELS + 1, hidden, latent, layers, bilinear)
        self.decoder = SetDecoder(latent, CODE_CHANNELS, hidden, 2, bilinear=bilinear)
        self.codes = nn.Parameter(torch.randn(max_nodes, CODE_CHANNELS))  # sympe, reference, baseline
        self.score = nn.Linear(latent, CODE_CHANNELS)  # reference: z -> query


def encoder_features(problem) -> np.ndarray:
    """``(n, 13)``: a constant and the canonical-rank codes."""
    return np.concatenate([np.ones((problem.n_nodes, 1)), problem.canonical_features()], axis=1)


class GraphAutoencoder(Predictor):
    """A graph autoencoder whose decoder breaks the symmetry with one breaker (:data:`DECODER_BREAKERS`).

    Args:
        max_nodes: the largest graph it encodes and decodes (size of the learned code tables).
    """

    kind, domain = "graph_autoencoder", "decoding"
    breakers = DECODER_BREAKERS
    schedule, default_lr = "cosine", 3e-3

    def __init__(self, breaker="canonical", hidden: int = 64, latent: int = 64, layers: int = 3,
                 max_nodes: int = 20, device="cpu", seed: int = 0):
        torch.manual_seed(seed)  # the weights built below
        super().__init__(breaker, device, seed)
        self.hyper = {"hidden": hidden, "latent": latent, "layers": layers, "max_nodes": max_nodes}
        self.net = AutoencoderNet(hidden, latent, layers, max_nodes).to(self.device)
        self.matched = self.breaker.name not in ("none", "canonical")
        self.info = {}

    def check_sizes(self, problems):
        big = [p for p in problems if p.n_nodes > self.hyper["max_nodes"]]
        if big:
            raise DataError(f"graph {big[0].label!r} has {big[0].n_nodes} nodes: this decoder takes at most "
                            f"{self.hyper['max_nodes']} (max_nodes when it was trained)")

    def _codes(self, problem, z: torch.Tensor) -> torch.Tensor:
        """``(n, 12)`` node codes of one graph (see the module table)."""
        n, name = problem.n_nodes, self.breaker.name
        if name == "none":
            return torch.zeros(n, CODE_CHANNELS, device=self.device)
        if name == "noise":
            return torch.as_tensor(self.breaker.node_features(problem, self.generator, CODE_CHANNELS),
                                   dtype=torch.float32, device=self.device)
        if name == "canonical":
            return torch.as_tensor(rank_codes(problem.canonical_labelling()), dtype=torch.float32, device=self.device)
        codes = self.net.codes
        if name == "baseline":
            return codes[:n]
        if name == "sympe":
            return codes[:n][torch.randperm(n, generator=self.generator).to(self.device)]
        score = codes @ self.net.score(z[:self.hyper["latent"]])  # reference (Top-N)
        top = torch.topk(score, n).indices
        return codes[top] * torch.sigmoid(score[top])[:, None]

    def logits(self, problems) -> list[torch.Tensor]:
        """Edge logits ``(n, n)`` per graph."""
        self.check_sizes(problems)
        g = DenseGraphs(problems, [encoder_features(p) for p in problems], self.device)
        z = self.net.encoder(g)
        codes = torch.zeros(len(problems), g.adj.shape[1], CODE_CHANNELS, device=self.device)
        for k, p in enumerate(problems):
            codes[k, :p.n_nodes] = self._codes(p, z[k])
        out = self.net.decoder(z, codes, g.mask)
        return [out[k, :p.n_nodes, :p.n_nodes] for k, p in enumerate(problems)]

    def loss(self, batch, rng) -> torch.Tensor:
        losses = [matched_edge_loss(lg, p.adjacency()) if self.matched
                  else edge_loss(lg, p.adjacency()) for p, lg in zip(batch, self.logits(batch))]
        return sum(losses) / len(losses)

    def score(self, problems) -> float:
        from physbreak.learn.graph_metrics import decoded_edges
        from physbreak.problems.graphs import isomorphic

        out = self.predict(problems)
        return float(np.mean([isomorphic(p.n_nodes, p.edges, p.n_nodes, decoded_edges(y))
                              for p, y in zip(problems, out)]))

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        """Edge probabilities ``(n, n)`` per graph (zero diagonal), batched by size
        so that a prediction does not depend on the other graphs of the call."""
        out = [None] * len(problems)
        with self.prediction_draws():
            for n in sorted({p.n_nodes for p in problems}):
                idx = [k for k, p in enumerate(problems) if p.n_nodes == n]
                for k, lg in zip(idx, self.logits([problems[k] for k in idx])):
                    y = torch.sigmoid(lg).double().cpu().numpy()
                    np.fill_diagonal(y, 0.0)
                    out[k] = (y + y.T) / 2
        return out
