"""Permutation-equivariant networks on dense, padded graph batches.

* :class:`GraphEncoder`: GIN-style message passing, then a permutation-
  invariant readout (a sum over nodes, and a sum over edges of a symmetric
  function of the two end nodes' input and final states): a latent ``(B, latent)``; with a linear head, a graph classifier.
* :class:`SetDecoder`: latent + one code per node -> node states (transformer
  layers without positions, so equivariant in the nodes) -> symmetric edge
  logits ``(B, N, N)``.  With identical codes every node state is identical
  and so is every logit: the decoded graph is empty or complete.
* :class:`ColouringNet`: node x colour states, message passing over the graph
  within each colour and mixing across colours by means: equivariant under
  node relabellings and colour permutations; colour logits ``(B, N, Q)``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class DenseGraphs:
    """A batch padded to its largest graph.

    Attributes:
        adj: ``(B, N, N)`` float 0/1; mask: ``(B, N)`` bool (real nodes);
        x: ``(B, N, c)`` node features; sizes: nodes per graph.
    """

    def __init__(self, problems, features, device="cpu"):
        self.sizes = [p.n_nodes for p in problems]
        n, c = max(self.sizes, default=0), (features[0].shape[-1] if len(features) else 0)
        adj = np.zeros((len(problems), n, n), np.float32)
        x = np.zeros((len(problems), n) + tuple(features[0].shape[1:]) if len(features) else (0, n, c), np.float32)
        mask = np.zeros((len(problems), n), bool)
        for k, (p, f) in enumerate(zip(problems, features)):
            m = p.n_nodes
            adj[k, :m, :m] = p.adjacency()
            x[k, :m] = f
            mask[k, :m] = True
        self.adj = torch.as_tensor(adj, device=device)
        self.x = torch.as_tensor(x, device=device)
        self.mask = torch.as_tensor(mask, device=device)


def mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.SiLU(), nn.Linear(hidden, n_out))


def pair_features(h: torch.Tensor) -> torch.Tensor:
    """``(B, N, N, 2H)``: ``[h_i * h_j, h_i + h_j]``, symmetric in ``i, j``."""
    a, b = h[:, :, None], h[:, None, :]
    return torch.cat([a * b, a + b], dim=-1)


class GraphEncoder(nn.Module):
    """Node features ``(B, N, c)`` -> latent ``(B, latent + bilinear^2)``,
    invariant under relabelling the nodes together with their features.

    The last ``bilinear^2`` entries are the matrix ``U^T A U`` with ``U = u(x)``
    ``(N, bilinear)`` a learned embedding of the input features: a sum over
    edges of ``u_i u_j^T + u_j u_i^T`` that a decoder can read back linearly
    (:class:`SetDecoder`)."""

    def __init__(self, in_channels: int, hidden: int = 64, latent: int = 64, layers: int = 3, bilinear: int = 0):
        super().__init__()
        self.bilinear = bilinear
        self.u = mlp(in_channels, hidden, bilinear) if bilinear else None
        self.w_in = nn.Linear(in_channels, hidden)
        self.layers = nn.ModuleList(mlp(hidden, hidden, hidden) for _ in range(layers))
        self.pair = mlp(4 * hidden, hidden, hidden)
        self.out = mlp(2 * hidden, hidden, latent)

    def forward(self, g: DenseGraphs) -> torch.Tensor:
        m = g.mask[..., None].float()
        h0 = h = self.w_in(g.x) * m
        for layer in self.layers:
            h = (h + layer(h + g.adj @ h)) * m
        pairs = torch.cat([pair_features(h), pair_features(h0)], dim=-1)
        edges = (self.pair(pairs) * g.adj[..., None]).sum((1, 2)) / 2
        z = self.out(torch.cat([h.sum(1), edges], dim=-1))
        if not self.bilinear:
            return z
        u = self.u(g.x) * m
        return torch.cat([z, (u.transpose(1, 2) @ g.adj @ u).flatten(1)], dim=-1)


class SetDecoder(nn.Module):
    """``(latent (B, L), codes (B, N, c), mask (B, N))`` -> edge logits ``(B, N, N)``, symmetric.

    With ``bilinear = k``, the latent's last ``k^2`` entries are read as a
    matrix ``Z`` and ``v_i^T Z v_j`` (``v = v(code)``, learned) is added to the logits."""

    def __init__(self, latent: int = 64, code_channels: int = 12, hidden: int = 64, layers: int = 2, heads: int = 4,
                 bilinear: int = 0):
        super().__init__()
        self.bilinear = bilinear
        self.v = mlp(code_channels, hidden, bilinear) if bilinear else None
        self.w_in = mlp(latent + bilinear ** 2 + code_channels, hidden, hidden)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(hidden, heads, 2 * hidden, dropout=0.0, batch_first=True, norm_first=True)
            for _ in range(layers))
        self.edge = mlp(2 * hidden, hidden, 1)

    def forward(self, z: torch.Tensor, codes: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.w_in(torch.cat([z[:, None].expand(-1, codes.shape[1], -1), codes], dim=-1))
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=~mask)
        logits = self.edge(pair_features(h))[..., 0]
        if self.bilinear:
            k = self.bilinear
            v = self.v(codes)
            logits = logits + v @ z[:, -k * k:].reshape(-1, k, k) @ v.transpose(1, 2)
        return logits


class ColouringNet(nn.Module):
    """Inputs ``(B, N, Q, c)`` per (node, colour) -> logits ``(B, N, Q)``.

    A layer updates ``h_ic`` from itself, the same colour at the neighbours
    (``sum_j A_ij h_jc``), its node's mean over colours and the neighbours'
    means; colours beyond a graph's ``q`` are masked by ``colour_mask (B, Q)``."""

    def __init__(self, in_channels: int, hidden: int = 64, layers: int = 6):
        super().__init__()
        self.w_in = nn.Linear(in_channels, hidden)
        self.layers = nn.ModuleList(mlp(4 * hidden, hidden, hidden) for _ in range(layers))
        self.out = mlp(hidden, hidden, 1)

    def forward(self, x: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor, colour_mask: torch.Tensor,
                rounds: int | None = None) -> torch.Tensor:
        m = (mask[:, :, None] & colour_mask[:, None, :])[..., None].float()
        count = colour_mask.sum(1).clamp(min=1)[:, None, None, None].float()
        h = self.w_in(x) * m
        layers = list(self.layers)
        for k in range(rounds or len(layers)):
            mean = (h.sum(2, keepdim=True) / count).expand_as(h)
            near = torch.einsum("bij,bjch->bich", adj, h)
            near_mean = torch.einsum("bij,bjch->bich", adj, mean)
            h = (h + layers[min(k, len(layers) - 1)](torch.cat([h, near, mean, near_mean], -1))) * m
        logits = self.out(h)[..., 0]
        return logits.masked_fill(~colour_mask[:, None, :], float("-inf"))
