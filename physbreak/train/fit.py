"""A minimal full-batch training loop with the orbit-aware loss, and the
exact-hit metric for spin ground states."""

from __future__ import annotations

import torch

from physbreak.relaxed.losses import nearest_target_loss


def fit(model, inputs: torch.Tensor, targets: torch.Tensor, steps: int = 300, lr: float = 1e-2,
        breaker_inputs: torch.Tensor | None = None, seed: int = 0) -> list[float]:
    """Train ``model`` on ``(inputs, targets)`` with Adam and the orbit-aware loss.

    Args:
        model: ``model(x)`` or, with ``breaker_inputs``, ``model(x, b)`` -> ``(batch, d)``.
        inputs: ``(batch, d_in)``.
        targets: ``(batch, n_targets, d)`` degenerate targets of each input.
        breaker_inputs: fixed ``b`` per input (deterministic breakers), or None
            to let a random breaker draw a new ``b`` every step.
    Returns:
        the loss after every step.
    """
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        if breaker_inputs is not None:
            pred = model(inputs, breaker_inputs)
        else:
            try:
                pred = model(inputs, generator=gen)
            except TypeError:
                pred = model(inputs)
        loss = nearest_target_loss(pred, targets)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def exact_hits(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``(batch,)`` bool: ``sign(pred)`` equals one of the target spin states."""
    return (torch.sign(pred)[:, None, :] == torch.sign(targets)).all(-1).any(-1)
