"""Graph classification on the learning stack: message passing with a breaker's node features.

| breaker | node features | invariant |
|---|---|---|
| ``none`` | a constant: 1-WL message passing (cannot tell regular graphs of one degree apart, e.g. CSL) | exactly |
| ``noise`` | a constant and Gaussian features redrawn at every call (random node initialisation) | in distribution |
| ``sympe`` | the canonical-rank codes moved by a uniformly random automorphism | exactly (an automorphism fixes the graph) |
| ``canonical`` | the positional codes of the canonical ranks (bliss) | exactly |
| ``baseline`` | positional codes of the node indices as given | no |

Network: :class:`~physbreak.nn.graph_nets.GraphEncoder` and a linear head;
loss: cross-entropy; outputs: class probabilities ``(n_classes,)`` per graph.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from physbreak.learn.predictor import Predictor
from physbreak.nn.graph_nets import DenseGraphs, GraphEncoder
from physbreak.problems.graphs import CODE_CHANNELS, rank_codes

CLASSIFIER_BREAKERS = ("none", "noise", "sympe", "canonical", "baseline")


class GraphClassifier(Predictor):
    kind, domain = "graph_classifier", "classification"
    breakers = CLASSIFIER_BREAKERS
    schedule, default_lr = "cosine", 3e-3

    def __init__(self, breaker="canonical", n_classes: int = 2, hidden: int = 64, layers: int = 4,
                 device="cpu", seed: int = 0):
        torch.manual_seed(seed)  # the weights built below
        super().__init__(breaker, device, seed)
        self.hyper = {"n_classes": n_classes, "hidden": hidden, "layers": layers}
        self.net = nn.ModuleDict({"encoder": GraphEncoder(1 + CODE_CHANNELS, hidden, hidden, layers),
                                  "head": nn.Linear(hidden, n_classes)}).to(self.device)
        self.info = {}

    def features(self, problem) -> np.ndarray:
        """``(n, 13)``: a constant and the breaker's codes (zeros for ``none``)."""
        n, name = problem.n_nodes, self.breaker.name
        if name == "none":
            codes = np.zeros((n, CODE_CHANNELS))
        elif name == "baseline":
            codes = rank_codes(np.arange(n))
        else:
            codes = self.breaker.node_features(problem, self.generator, CODE_CHANNELS)
        return np.concatenate([np.ones((n, 1)), codes], axis=1)

    def logits(self, problems) -> torch.Tensor:
        g = DenseGraphs(problems, [self.features(p) for p in problems], self.device)
        return self.net["head"](self.net["encoder"](g))

    def loss(self, batch, rng) -> torch.Tensor:
        target = torch.as_tensor([p.target for p in batch], device=self.device)
        return nn.functional.cross_entropy(self.logits(batch), target)

    def score(self, problems) -> float:
        return float(np.mean([np.argmax(y) == p.target for p, y in zip(problems, self.predict(problems))]))

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        """Class probabilities ``(n_classes,)`` per graph."""
        with self.prediction_draws():
            out = []
            for start in range(0, len(problems), 64):
                out += list(torch.softmax(self.logits(problems[start:start + 64]), -1).double().cpu().numpy())
        return out
