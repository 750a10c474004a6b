"""Metropolis sampler: parallel updates over the lattice's colour classes,
vectorised in torch over a batch of chains, on CPU or CUDA.

Sites of one colour class share no bond, so updating them together is
exactly a sequential sweep in colour order.  For continuous spins the
proposal width adapts towards 50% acceptance during thermalisation only, so
the sampling phase is a fixed Markov chain.
"""

from __future__ import annotations

import numpy as np

from physbreak.lazy import torch
from physbreak.systems import ONModel, SpinModel


class Metropolis:
    """Metropolis sampler over a batch of chains.

    Args:
        model: the spin model (its device is used).
        temperatures: ``(n_chains,)`` temperatures, units of J/k_B.
        seed_sequence: seeds the batch's torch generator.
        step: initial proposal width for continuous spins (radians for XY).
    """

    def __init__(self, model: SpinModel, temperatures, seed_sequence: np.random.SeedSequence,
                 step: float = 1.0):
        self.model = model
        dev = model.device
        t = torch.as_tensor(np.asarray(temperatures, dtype=np.float64), device=dev)
        self.beta = (1.0 / t)[:, None].to(model.coupling_dtype)
        self.generator = torch.Generator(device=dev)
        self.generator.manual_seed(int(seed_sequence.generate_state(1, dtype=np.uint64)[0] >> 1))
        self.step = torch.full((len(t), 1), float(step), dtype=torch.float64, device=dev)
        self.continuous = isinstance(model, ONModel)

    def sweep(self, state: torch.Tensor, adapt: bool = False) -> torch.Tensor:
        """One sweep over all colour classes, in place; with ``adapt`` the
        proposal width moves towards 50% acceptance.  Returns the work done
        per chain in sweeps ``(n_chains,)`` (always 1)."""
        accepted = torch.zeros(state.shape[0], device=state.device)
        for colour in range(len(self.model.colours)):
            accepted += self.update_colour(state, colour)
        self.acceptance = accepted / self.model.n_sites
        if adapt and self.continuous:
            factor = (1.0 + (self.acceptance.to(torch.float64) - 0.5))[:, None]
            self.step = (self.step * factor).clamp(1e-4, np.pi)
        return torch.ones(state.shape[0], device=state.device)

    def update_colour(self, state: torch.Tensor, colour: int) -> torch.Tensor:
        """Propose a move at every site of one colour class and accept each with
        probability ``min(1, exp(-beta dE))``, in place; returns accepted counts
        ``(n_chains,)``."""
        model = self.model
        sites = model.colours[colour]
        old = state.index_select(1, sites)
        new = model.propose(old, self.step, self.generator)
        dE = model.delta_energy(state, colour, old, new)
        u = torch.rand(dE.shape, generator=self.generator, device=dE.device, dtype=dE.dtype)
        accept = u < torch.exp(-self.beta * dE)
        mask = accept.view(accept.shape + (1,) * (old.dim() - 2))
        state.index_copy_(1, sites, torch.where(mask, new, old))
        return accept.sum(1)

    def get_state(self) -> dict:
        return {"torch_generator": self.generator.get_state().numpy(),
                "step": self.step.cpu().numpy()}

    def set_state(self, saved: dict):
        self.generator.set_state(torch.as_tensor(saved["torch_generator"]))
        self.step = torch.as_tensor(saved["step"], device=self.step.device)
