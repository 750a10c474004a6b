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


_PERMS: dict = {}
EXACT_UP_TO = 7  # nodes: every permutation is tried (7! = 5040)


def _all_perms(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every permutation of ``n`` ``(n!, n)`` and the flat indices ``(n!, n^2)`` of ``T[p_i, p_j]``."""
    if n not in _PERMS:
        import itertools

        perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64)
        _PERMS[n] = perms, (perms[:, :, None] * n + perms[:, None, :]).reshape(len(perms), -1)
    return _PERMS[n]


def match_nodes(prob: np.ndarray, adjacency: np.ndarray, starts: int = 3) -> np.ndarray:
    """The node matching that makes a decoded graph agree most with a target:
    ``perm (n,)`` (decoded node ``i`` is target node ``perm[i]``) maximising
    ``sum_ij S_ij T_perm[i] perm[j]``, ``S = 2 P - 1`` (zero diagonal), ``T = 2 A - 1``:
    the edge agreements.  Exact (every permutation) up to :data:`EXACT_UP_TO`
    nodes; beyond, the best of ``starts`` runs of the FAQ graph-matching method
    (``scipy.optimize.quadratic_assignment``, a sequence of
    ``linear_sum_assignment`` steps), started from the assignment of sorted rows
    (node degrees and their edge certainties), the barycentre and random
    doubly-stochastic matrices.  ``prob``, ``adjacency``: ``(n, n)``."""
    from scipy.optimize import linear_sum_assignment, quadratic_assignment

    n = len(prob)
    if n <= 1:
        return np.arange(n)
    S, T = 2 * prob - 1, 2 * adjacency - 1
    np.fill_diagonal(S, 0.0)
    if n <= EXACT_UP_TO:
        perms, flat = _all_perms(n)
        return perms[int(np.argmax(T.ravel()[flat] @ S.ravel()))]
    rows_p, rows_a = -np.sort(-prob, axis=1), -np.sort(-adjacency, axis=1)
    sorted_rows = np.zeros((n, n))
    sorted_rows[np.arange(n), linear_sum_assignment(np.abs(rows_p[:, None] - rows_a[None]).sum(-1))[1]] = 1.0
    best = None
    for k, p0 in enumerate([sorted_rows, "barycenter"] + ["randomized"] * max(0, starts - 2)):
        found = quadratic_assignment(S, T, method="faq", options={"maximize": True, "P0": p0,
                                                                  "rng": np.random.default_rng(k)})
        if best is None or found.fun > best.fun:
            best = found
        if k + 1 >= starts:
            break
    return best.col_ind


def matched_edge_loss(logits: torch.Tensor, adjacency, starts: int = 2) -> torch.Tensor:
    """Binary cross-entropy of edge logits ``(n, n)`` against the target
    adjacency ``(n, n)`` relabelled by :func:`match_nodes` (invariant to the
    decoded graph's node order; ``starts`` FAQ runs beyond 7 nodes)."""
    a = np.asarray(adjacency, dtype=np.float64)
    perm = match_nodes(torch.sigmoid(logits).detach().cpu().numpy().astype(np.float64), a, starts)
    return edge_loss(logits, a[np.ix_(perm, perm)])


def edge_loss(logits: torch.Tensor, adjacency) -> torch.Tensor:
    """Mean binary cross-entropy over the pairs ``i < j``."""
    n = logits.shape[-1]
    i, j = np.triu_indices(n, 1)
    target = torch.as_tensor(np.asarray(adjacency)[i, j], dtype=logits.dtype, device=logits.device)
    if len(i) == 0:
        return logits.sum() * 0.0
    return torch.nn.functional.binary_cross_entropy_with_logits(logits[i, j], target)
