"""E-MLP for finite groups (Finzi, Welling & Wilson 2021, specialised to finite
groups) and the relaxed E-MLP.

Features are ``(batch, dim, channels)``: ``channels`` copies of a representation.
A layer maps several input blocks ``(rep_k, c_k)`` to one output block with
weights ``W = sum_basis theta`` (see :mod:`physbreak.nn.basis`), plus an
equivariant bias, then a nonlinearity that keeps equivariance: a pointwise
one (odd, tanh, when some element flips signs; SiLU otherwise) for signed
permutation representations, a norm gate for dense orthogonal ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from physbreak.nn.basis import OrbitBasis, equivariant_basis, invariant_basis
from physbreak.relaxed.reps import Rep, SignedPermRep


class EquivariantLinear(nn.Module):
    """Equivariant linear map from blocks ``[(rep_k, c_k)]`` to ``(rep_out, c_out)``.

    Input: list of ``(batch, rep_k.dim, c_k)``; output ``(batch, rep_out.dim, c_out)``.
    """

    def __init__(self, blocks_in: list[tuple[Rep, int]], rep_out: Rep, c_out: int, bias: bool = True):
        super().__init__()
        self.blocks_in, self.rep_out, self.c_out = blocks_in, rep_out, c_out
        self.bases = [equivariant_basis(rep, rep_out) for rep, _ in blocks_in]
        fan_in = sum(c * rep.dim for rep, c in blocks_in) or 1
        self.weights = nn.ParameterList()
        for (rep, c), basis in zip(blocks_in, self.bases):
            density = self._density(basis, rep.dim)
            std = 1.0 / math.sqrt(max(1.0, fan_in * density))
            self.weights.append(nn.Parameter(torch.randn(basis.size, c_out, c) * std))
        for k, basis in enumerate(self.bases):
            if isinstance(basis, OrbitBasis):
                self.register_buffer(f"orbit{k}", torch.as_tensor(basis.orbit.clip(min=0)))
                self.register_buffer(f"sign{k}", torch.as_tensor(basis.sign * (basis.orbit >= 0)))
            else:
                self.register_buffer(f"dense{k}", torch.as_tensor(basis.basis))
        self.bias_basis = invariant_basis(rep_out) if bias else None
        if self.bias_basis is not None and self.bias_basis.size:
            self.bias = nn.Parameter(torch.zeros(self.bias_basis.size, c_out))
            if isinstance(self.bias_basis, OrbitBasis):
                self.register_buffer("bias_orbit", torch.as_tensor(self.bias_basis.orbit[:, 0].clip(min=0)))
                self.register_buffer("bias_sign", torch.as_tensor(
                    self.bias_basis.sign[:, 0] * (self.bias_basis.orbit[:, 0] >= 0)))
            else:
                self.register_buffer("bias_dense", torch.as_tensor(self.bias_basis.basis[..., 0]))
        else:
            self.bias = None

    @staticmethod
    def _density(basis, d_in):
        """Average fraction of nonzero entries per row, for the weight scale."""
        if isinstance(basis, OrbitBasis):
            return float((basis.orbit >= 0).mean())
        return 1.0

    def weight(self, k: int) -> torch.Tensor:
        """Dense ``(d_out, d_in, c_out, c_in)`` weight of block k."""
        theta = self.weights[k]
        if isinstance(self.bases[k], OrbitBasis):
            orbit, sign = getattr(self, f"orbit{k}"), getattr(self, f"sign{k}")
            return theta[orbit] * sign[..., None, None].to(theta.dtype)
        return torch.einsum("noi,nab->oiab", getattr(self, f"dense{k}").to(theta.dtype), theta)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = 0.0
        for k, x in enumerate(xs):
            if self.bases[k].size and x.shape[1]:
                out = out + torch.einsum("oiab,Bib->Boa", self.weight(k), x.to(self.weights[k].dtype))
        if not torch.is_tensor(out):
            out = xs[0].new_zeros(xs[0].shape[0], self.rep_out.dim, self.c_out)
        if self.bias is not None:
            if hasattr(self, "bias_orbit"):
                b = self.bias[self.bias_orbit] * self.bias_sign[:, None].to(self.bias.dtype)
            else:
                b = torch.einsum("no,na->oa", self.bias_dense.to(self.bias.dtype), self.bias)
            out = out + b
        return out


class EquivariantActivation(nn.Module):
    """tanh (odd) or SiLU pointwise for signed permutation representations; a norm
    gate ``v sigmoid(|v| - beta)`` per channel for dense orthogonal ones."""

    def __init__(self, rep: Rep, channels: int):
        super().__init__()
        self.pointwise = isinstance(rep, SignedPermRep)
        self.odd = self.pointwise and rep.odd
        self.beta = None if self.pointwise else nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        if self.pointwise:
            return torch.tanh(x) if self.odd else nn.functional.silu(x)
        norm = x.norm(dim=1, keepdim=True)
        return x * torch.sigmoid(norm - self.beta)


class EMLP(nn.Module):
    """Equivariant MLP: inputs in ``reps_in`` (one channel each), ``depth`` hidden
    layers of ``channels`` copies of ``rep_hidden``, output in ``rep_out``.

    ``forward(*xs)`` takes ``(batch, rep_k.dim)`` tensors and returns ``(batch, rep_out.dim)``.
    """

    def __init__(self, reps_in: list[Rep], rep_hidden: Rep, rep_out: Rep, channels: int = 16,
                 depth: int = 2):
        super().__init__()
        self.reps_in = reps_in
        layers, blocks = [], [(r, 1) for r in reps_in]
        for _ in range(depth):
            layers.append(EquivariantLinear(blocks, rep_hidden, channels))
            layers.append(EquivariantActivation(rep_hidden, channels))
            blocks = [(rep_hidden, channels)] + [(r, 1) for r in reps_in]  # inputs skip to every layer
        self.layers = nn.ModuleList(layers)
        self.out = EquivariantLinear(blocks, rep_out, 1)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        inputs = [x[..., None] for x in xs]
        h = inputs
        for k in range(0, len(self.layers), 2):
            h = [self.layers[k + 1](self.layers[k](h))] + inputs
        return self.out(h)[..., 0]


class RelaxedEMLP(nn.Module):
    """A network jointly equivariant in ``(x, b)`` with ``b = breaker(x)``:
    relaxed-equivariant when the breaker is (relaxed canonicalization,
    symmetry-breaking sets), and equivariant in distribution for random ones.

    ``forward(x, b=None)``: ``b`` defaults to ``breaker(x)``.
    """

    def __init__(self, rep_x: Rep, breaker, rep_hidden: Rep, rep_out: Rep, channels: int = 16,
                 depth: int = 2):
        super().__init__()
        self.breaker = breaker
        reps = [rep_x] + ([breaker.rep] if breaker.rep is not None else [])
        self.net = EMLP(reps, rep_hidden, rep_out, channels, depth)

    def forward(self, x: torch.Tensor, b: torch.Tensor | None = None, generator=None) -> torch.Tensor:
        if self.breaker.rep is None:
            return self.net(x)
        if b is None:
            b = self.breaker(x, generator)
        return self.net(x, b.to(x.dtype))
