"""Relaxed canonicalization around an unconstrained network.

``f(x) = rho_out(h(x)) phi(rho_in(h(x))^-1 x)`` with ``h`` the fixed tie-break
canonicalizer (:class:`~physbreak.relaxed.reps.Canonicalizer`) and ``phi`` any
network: ``rho_in(h(x))^-1 x`` is the canonical form of ``x``, the same for its
whole orbit, and ``f(g x) = g s f(x)`` with ``s`` in ``G_x`` (Kaba et al. 2023).
"""

from __future__ import annotations

import torch
from torch import nn

from physbreak.relaxed.reps import Canonicalizer, Rep


def mlp(d_in: int, d_out: int, hidden: int = 64, depth: int = 2) -> nn.Sequential:
    """A plain MLP with SiLU activations."""
    layers, d = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.SiLU()]
        d = hidden
    return nn.Sequential(*layers, nn.Linear(d, d_out))


class RelaxedCanonicalizationModel(nn.Module):
    """``phi`` applied in the canonical frame of each input.

    Args:
        rep_in, rep_out: representations of inputs and outputs.
        phi: the inner network ``(batch, rep_in.dim) -> (batch, rep_out.dim)``
            (default: :func:`mlp`).
    """

    def __init__(self, rep_in: Rep, rep_out: Rep, phi: nn.Module | None = None):
        super().__init__()
        self.rep_in, self.rep_out = rep_in, rep_out
        self.canon = Canonicalizer(rep_in)
        self.phi = phi if phi is not None else mlp(rep_in.dim, rep_out.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.as_tensor(self.canon(x))
        inverse = torch.as_tensor(self.rep_in.group.inverses[h.numpy()])
        canonical = self.rep_in.apply(inverse, x)
        return self.rep_out.apply(h, self.phi(canonical))
