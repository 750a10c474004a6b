"""A message-passing network over the coupling graph of an Ising Hamiltonian.

Node inputs are odd under the spin flip (the field ``h_i`` and the breaker's
site features ``b_i``); bond inputs are even (the coupling ``J_ij``).  A layer

    v_i <- tanh(W_self v_i + sum_j phi(J_ij) * (W_msg v_j) + W_in x_i)

has no biases and odd activations, so the whole network is permutation-
equivariant and odd: with zero field and no breaker every output is exactly 0.
The non-equivariant baseline (``equivariant=False``) adds biases and
node-index features, breaking both symmetries.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


class GraphBatch:
    """Disjoint union of problems: ``n_nodes`` total nodes, directed edges both ways.

    Attributes:
        src, dst: ``(2 n_bonds,)`` int64; J: ``(2 n_bonds,)`` couplings (units of J);
        h: ``(n_nodes,)`` fields; b: ``(n_nodes, c_b)`` breaker features;
        index: ``(n_nodes,)`` node index within its graph; graph: ``(n_nodes,)`` graph id;
        sizes: nodes per graph.
    """

    def __init__(self, problems, breaker_features, device="cpu"):
        src, dst, J, h, b, index, graph, offset = [], [], [], [], [], [], [], 0
        for k, (p, feats) in enumerate(zip(problems, breaker_features)):
            src += [p.bonds[:, 0] + offset, p.bonds[:, 1] + offset]
            dst += [p.bonds[:, 1] + offset, p.bonds[:, 0] + offset]
            J += [p.J, p.J]
            h.append(p.h)
            b.append(feats)
            index.append(torch.arange(p.n_sites))
            graph.append(torch.full((p.n_sites,), k))
            offset += p.n_sites
        def cat(xs, dtype):
            return torch.as_tensor(np.concatenate([np.asarray(x) for x in xs]), dtype=dtype, device=device)

        self.src, self.dst = cat(src, torch.int64), cat(dst, torch.int64)
        self.J, self.h = cat(J, torch.float32), cat(h, torch.float32)
        self.b = torch.cat([torch.as_tensor(x, dtype=torch.float32) for x in b]).to(device)
        self.index, self.graph = cat(index, torch.int64), cat(graph, torch.int64)
        self.sizes = [p.n_sites for p in problems]


class SpinGNN(nn.Module):
    """Args:
        breaker_channels: site features from the symmetry breaker (0 for none).
        hidden: channels per node; layers: message-passing rounds (weights shared).
        equivariant: False for the baseline with biases and index features.
    """

    def __init__(self, breaker_channels: int = 1, hidden: int = 32, layers: int = 8,
                 equivariant: bool = True, index_features: int = 8):
        super().__init__()
        self.layers, self.equivariant = layers, equivariant
        self.index_features = 0 if equivariant else index_features
        n_in = 1 + breaker_channels + self.index_features
        self.w_in = nn.Linear(n_in, hidden, bias=not equivariant)
        self.w_self = nn.Linear(hidden, hidden, bias=False)
        self.w_msg = nn.Linear(hidden, hidden, bias=False)
        self.phi = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.w_out = nn.Linear(hidden, 1, bias=not equivariant)
        self.hyper = {"breaker_channels": breaker_channels, "hidden": hidden, "layers": layers,
                      "equivariant": equivariant, "index_features": index_features}

    def _index_encoding(self, index: torch.Tensor) -> torch.Tensor:
        k = torch.arange(self.index_features // 2, device=index.device)
        angle = index[:, None].float() / (10.0 ** (k[None] / max(1, len(k)))) * math.pi / 4
        return torch.cat([angle.sin(), angle.cos()], 1)

    def forward(self, g: GraphBatch, rounds: int | None = None) -> torch.Tensor:
        """Outputs ``(n_nodes,)`` in (-1, 1) after ``rounds`` (default ``layers``) rounds."""
        x = torch.cat([g.h[:, None], g.b], 1)
        if not self.equivariant:
            x = torch.cat([x, self._index_encoding(g.index)], 1)
        inject = self.w_in(x)
        weight = self.phi(g.J[:, None])
        v = torch.zeros_like(inject)
        for _ in range(rounds or self.layers):
            msg = weight * self.w_msg(v)[g.src]
            agg = torch.zeros_like(v).index_add_(0, g.dst, msg)
            v = torch.tanh(self.w_self(v) + agg + inject)
        return torch.tanh(self.w_out(v))[:, 0]
