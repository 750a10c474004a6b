"""An E(3)-equivariant message-passing network for structures (e3nn).

Nodes are atoms with a one-hot species (``0e``) and optional symmetry-breaker
features (any irreps, e.g. ``1x1o`` for a breaking vector); edges carry the
spherical harmonics (l <= ``lmax``) of the relative vector and a smooth radial
basis inside ``cutoff`` (Angstrom).  Layers are e3nn's gated point
convolutions (``e3nn.nn.models.v2106``, no torch_scatter needed).  Outputs:

* ``displacement`` ``(n_atoms, 3)`` (``1o``, Angstrom),
* ``strain`` ``(n_graphs, 3, 3)`` symmetric (``0e + 2e`` averaged over the atoms,
  mapped to a tensor with e3nn's ``ReducedTensorProducts("ij=ji")``).

Neighbour lists with periodic boundaries come from ``ase.neighborlist``.
Without a breaker the network is equivariant: a structure's output is fixed by
its own symmetry, so a cubic cell gets zero displacement and isotropic strain.
"""

from __future__ import annotations

import numpy as np
import torch
from e3nn import o3
from e3nn.math import soft_one_hot_linspace
from e3nn.nn.models.v2106.gate_points_message_passing import MessagePassing


class StructureGraph:
    """A batch of structures as one graph.

    Attributes:
        pos: ``(n, 3)`` Cartesian positions (A); species: ``(n,)`` indices;
        src, dst: ``(e,)`` edges; shift: ``(e, 3)`` Cartesian lattice shift of the
        edge (``vec = pos[dst] - pos[src] + shift``); graph: ``(n,)`` structure index;
        n_graphs.
    """

    def __init__(self, structures, species: list[str], cutoff: float, device="cpu", dtype=None):
        from ase.neighborlist import neighbor_list

        dtype = torch.get_default_dtype() if dtype is None else dtype  # the network's (float32 unless set)
        pos, spec, src, dst, shift, graph, offset = [], [], [], [], [], [], 0
        for k, atoms in enumerate(structures):
            i, j, S = neighbor_list("ijS", atoms, cutoff)
            pos.append(atoms.positions)
            spec.append([species.index(s) for s in atoms.get_chemical_symbols()])
            src.append(i + offset)
            dst.append(j + offset)
            shift.append(S @ np.asarray(atoms.cell))
            graph.append(np.full(len(atoms), k))
            offset += len(atoms)
        def t(x, dt):
            return torch.as_tensor(np.concatenate(x), dtype=dt, device=device)

        self.pos, self.shift = t(pos, dtype), t(shift, dtype)
        self.species, self.src, self.dst = t(spec, torch.int64), t(src, torch.int64), t(dst, torch.int64)
        self.graph, self.n_graphs = t(graph, torch.int64), len(structures)


class StructureNet(torch.nn.Module):
    """Args:
        species: element symbols, in one-hot order.
        breaker_irreps: irreps of per-atom breaker features ("" for none).
        hidden: irreps of the hidden features; layers: message-passing layers.
        lmax: spherical-harmonics order of the edges; cutoff (A); n_basis: radial functions.
    """

    def __init__(self, species, breaker_irreps: str = "", hidden: str = "16x0e+8x0o+8x1o+8x1e+4x2e+4x2o",
                 layers: int = 3, lmax: int = 2, cutoff: float = 4.5, n_basis: int = 10, neighbors: float = 12.0):
        super().__init__()
        self.species, self.cutoff, self.n_basis = list(species), cutoff, n_basis
        self.irreps_breaker = o3.Irreps(breaker_irreps) if breaker_irreps else o3.Irreps("")
        self.irreps_in = o3.Irreps(f"{len(self.species)}x0e") + self.irreps_breaker
        self.irreps_sh = o3.Irreps.spherical_harmonics(lmax)
        self.irreps_out = o3.Irreps("1x1o+1x0e+1x2e")
        self.mp = MessagePassing([self.irreps_in] + [o3.Irreps(hidden)] * layers + [self.irreps_out],
                                 "1x0e", self.irreps_sh, [n_basis, 32], neighbors)
        self.strain_basis = o3.ReducedTensorProducts("ij=ji", i="1o")  # 0e + 2e <-> symmetric 3x3
        self.hyper = {"species": self.species, "breaker_irreps": breaker_irreps, "hidden": hidden,
                      "layers": layers, "lmax": lmax, "cutoff": cutoff, "n_basis": n_basis, "neighbors": neighbors}

    def use_tensor_products(self, backend: str):
        """Compute the edge tensor products with ``backend``: ``"e3nn"`` (as built)
        or ``"cuequivariance"`` (:mod:`physbreak.nn.cue_tensor_product`: the same
        function with the same weights, so a checkpoint loads under either)."""
        from physbreak.nn.cue_tensor_product import BACKENDS, CueTensorProduct

        if backend not in BACKENDS:
            raise ValueError(f"tensor products {backend!r}: one of {', '.join(BACKENDS)}")
        if backend == "cuequivariance":
            for conv in [m for m in self.mp.modules() if isinstance(getattr(m, "tp", None), o3.TensorProduct)]:
                conv.tp = CueTensorProduct(conv.tp)
        return self

    def forward(self, pos, species_onehot, breaker, src, dst, shift, graph, n_graphs: int):
        """``(displacement (n, 3) 1o, strain (n_graphs, 6) in irreps 0e + 2e)``."""
        vec = pos[dst] - pos[src] + shift
        sh = o3.spherical_harmonics(self.irreps_sh, vec, normalize=True, normalization="component")
        length = vec.norm(dim=1)
        radial = soft_one_hot_linspace(length, 0.0, self.cutoff, self.n_basis, basis="smooth_finite",
                                       cutoff=True).mul(self.n_basis**0.5)
        x = torch.cat([species_onehot, breaker], dim=1) if breaker is not None and breaker.numel() else species_onehot
        attr = torch.ones(len(pos), 1, dtype=pos.dtype, device=pos.device)
        out = self.mp(x, attr, src, dst, sh, radial)
        disp = out[:, :3]
        pooled = torch.zeros(n_graphs, 6, dtype=out.dtype, device=out.device).index_add_(0, graph, out[:, 3:])
        return disp, pooled / torch.bincount(graph, minlength=n_graphs).clamp(min=1)[:, None].to(out.dtype)

    def strain_tensor(self, strain_irreps: torch.Tensor) -> torch.Tensor:
        """``(n_graphs, 6)`` 0e + 2e -> symmetric ``(n_graphs, 3, 3)``."""
        Q = self.strain_basis.change_of_basis.to(strain_irreps.dtype).to(strain_irreps.device)  # (6, 3, 3)
        return torch.einsum("kij,nk->nij", Q, strain_irreps)

    def predict(self, g: StructureGraph, breaker=None):
        """``(displacement (n, 3), strain tensor (n_graphs, 3, 3))`` for a :class:`StructureGraph`."""
        onehot = torch.nn.functional.one_hot(g.species, len(self.species)).to(g.pos.dtype)
        disp, strain = self(g.pos, onehot, breaker, g.src, g.dst, g.shift, g.graph, g.n_graphs)
        return disp, self.strain_tensor(strain)
