"""Orbit-aware losses: the distance to the *nearest* symmetry-related target.

Training against a degenerate ground state with a plain loss makes every model
learn the orbit average, the symmetric (wrong) answer.
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.relaxed.reps import Rep


def nearest_target_loss(pred: torch.Tensor, targets: torch.Tensor, mask=None) -> torch.Tensor:
    """Mean over the batch of ``min_k mean_i (pred_i - targets_k,i)^2``.

    Args:
        pred: ``(batch, d)``.
        targets: ``(batch, n_targets, d)`` degenerate targets (pad by repeating).
        mask: optional ``(batch, n_targets)`` bool, False for padding.
    """
    d = ((pred[:, None, :] - targets) ** 2).mean(-1)
    if mask is not None:
        d = d.masked_fill(~mask, float("inf"))
    return d.min(dim=1).values.mean()


def orbit_targets(rep_x: Rep, rep_y: Rep, x: np.ndarray, y: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """The distinct images ``rho_y(s) y`` for ``s`` in the stabilizer of ``x``:
    ``(n, d_y)``, the orbit a prediction is compared with."""
    stab = rep_x.fixed_elements(x, tol)
    imgs = rep_y.apply(torch.as_tensor(stab), torch.as_tensor(np.asarray(y, np.float64)).expand(len(stab), -1))
    return np.unique(np.round(imgs.numpy(), 9) + 0.0, axis=0)


def orbit_loss(pred: torch.Tensor, x, y, rep_x: Rep, rep_y: Rep) -> torch.Tensor:
    """``min_{s in G_x} |pred - rho_y(s) y|^2`` averaged over the batch (one
    target ``y`` per input; its orbit under ``G_x`` is built here)."""
    orbits = [torch.as_tensor(orbit_targets(rep_x, rep_y, xi, yi), dtype=pred.dtype)
              for xi, yi in zip(np.asarray(x), np.asarray(y))]
    n = max(len(o) for o in orbits)
    targets = torch.stack([torch.cat([o, o[:1].expand(n - len(o), -1)]) for o in orbits])
    return nearest_target_loss(pred, targets.to(pred.device))
