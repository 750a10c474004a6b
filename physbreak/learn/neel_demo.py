"""Demo: learning the symmetry-broken ground state of bipartite antiferromagnets.

Inputs are Ising couplings on the bonds of a cycle C_n or an L x L torus,
``J_b = -1 + u_b`` with ``u_b`` uniform in ``[-a, a]`` (a < 1, so every bond
stays antiferromagnetic) plus the exactly uniform case ``a = 0``; the ground
states are the two Neel states.  The group is the lattice's space group x
the spin flip Z2, which fixes every zero-field input: an equivariant network
must answer the symmetric ``m = 0``.  Each strategy is trained with the
orbit-aware loss and scored by the exact-hit rate on fresh inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from physbreak.lattice import build
from physbreak.learn.predictor import Predictor
from physbreak.nn import RelaxedCanonicalizationModel, RelaxedEMLP
from physbreak.relaxed import (NoBreaker, NoiseInjection, RelaxedCanonicalization, SymPE, bond_rep,
                               nearest_target_loss, site_rep)
from physbreak.symmetry import direct_product, spin_flip_group

STRATEGIES = ("none", "relaxed_canonicalization", "relaxed_emlp", "noise", "sympe")


@dataclass
class NeelTask:
    name: str
    rep_x: object  # bond representation (couplings)
    rep_y: object  # site representation, odd under the flip
    x_train: torch.Tensor
    x_test: torch.Tensor
    targets_train: torch.Tensor  # (n, 2, n_sites): the two Neel states
    targets_test: torch.Tensor


def neel_task(kind: str, size: int, n_train: int = 32, n_test: int = 32, disorder: float = 0.3,
              seed: int = 0) -> NeelTask:
    """The task on ``build(kind, size)`` (kind ``"chain"`` is the cycle C_size)."""
    lat = build(kind, size)
    group = direct_product(lat.space_group(), spin_flip_group())
    bonds = lat.bonds(1)
    rng = np.random.default_rng(seed)

    def inputs(n):
        u = rng.uniform(-disorder, disorder, size=(n, len(bonds)))
        u[0] = 0.0  # the exactly symmetric input is always included
        return torch.as_tensor(-1.0 + u, dtype=torch.float32)

    neel = torch.as_tensor(lat.sublattice_sign, dtype=torch.float32)
    pair = torch.stack([neel, -neel])
    name = f"C{size}" if kind == "chain" else f"{kind} {size}x{size}"
    return NeelTask(name, bond_rep(group, bonds), site_rep(group, odd=True), inputs(n_train),
                    inputs(n_test), pair.expand(n_train, -1, -1), pair.expand(n_test, -1, -1))


def build_model(strategy: str, task: NeelTask, channels: int = 8, seed: int = 0):
    torch.manual_seed(seed)
    rx, ry = task.rep_x, task.rep_y
    if strategy == "none":
        return RelaxedEMLP(rx, NoBreaker(), ry, ry, channels)
    if strategy == "relaxed_canonicalization":
        return RelaxedCanonicalizationModel(rx, ry)
    breaker = {"relaxed_emlp": lambda: RelaxedCanonicalization(rx, ry),
               "noise": lambda: NoiseInjection(ry),
               "sympe": lambda: SymPE(rx, ry)}[strategy]()
    return RelaxedEMLP(rx, breaker, ry, ry, channels)


@torch.no_grad()
def exact_hits(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``(batch,)`` bool: ``sign(pred)`` equals one of the target spin states."""
    return (torch.sign(pred)[:, None, :] == torch.sign(targets)).all(-1).any(-1)


class VectorPredictor(Predictor):
    """A vector-input model ``model(x[, b])`` on the learning stack: the
    problems are row indices of ``inputs`` ``(batch, d_in)`` with degenerate
    ``targets`` ``(batch, k, d)``; ``breaker_inputs``: a fixed ``b`` per row
    (deterministic breakers), or None to let a random breaker draw ``b`` at every step."""

    def __init__(self, model, inputs, targets, breaker_inputs=None, seed: int = 0):
        super().__init__(getattr(model, "breaker", NoBreaker()), "cpu", seed)
        self.net, self.inputs, self.targets, self.b = model, inputs, targets, breaker_inputs

    def loss(self, batch, rng):
        idx = torch.as_tensor(np.asarray(batch))
        if self.b is not None:
            pred = self.net(self.inputs[idx], self.b[idx])
        else:
            try:
                pred = self.net(self.inputs[idx], generator=self.generator)
            except TypeError:
                pred = self.net(self.inputs[idx])
        return nearest_target_loss(pred, self.targets[idx])


def evaluate(strategy: str, task: NeelTask, steps: int = 200, seed: int = 0) -> dict:
    """Train one strategy on one task (full-batch Adam, ``steps`` steps); exact-hit rate on the test inputs."""
    model = build_model(strategy, task, seed=seed)
    fixed_b = None
    if strategy == "relaxed_emlp":  # deterministic: compute b once
        fixed_b = model.breaker(task.x_train).float()
    n = len(task.x_train)
    losses = VectorPredictor(model, task.x_train, task.targets_train, fixed_b, seed).fit(
        list(range(n)), epochs=steps, batch_size=n, lr=1e-2, progress=False)
    with torch.no_grad():
        gen = torch.Generator().manual_seed(seed + 1)
        if strategy in ("noise", "sympe"):
            pred = model(task.x_test, generator=gen)
        else:
            pred = model(task.x_test)
    return {"task": task.name, "strategy": strategy, "final_loss": losses[-1],
            "exact_test": float(exact_hits(pred, task.targets_test).float().mean()),
            "symmetric_input_output_norm": float(pred[0].abs().max())}


def run(tasks=(("chain", 4), ("chain", 6), ("chain", 8), ("chain", 10), ("chain", 12),
               ("square", 4), ("square", 6), ("square", 8)), strategies=STRATEGIES,
        steps: int = 200, seed: int = 0) -> list[dict]:
    """Every strategy on every task."""
    rows = []
    for kind, size in tasks:
        task = neel_task(kind, size, seed=seed)
        rows += [evaluate(s, task, steps, seed) for s in strategies]
    return rows
