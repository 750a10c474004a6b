"""Metrics of predicted spin ground states.

For a problem with ground energy ``E0`` and a prediction ``s = sign(output)``:

* ``exact``: ``s`` is a spin state (no zeros) with ``E(s) = E0`` (within 1e-6 J);
* ``gap``: ``(E(s) - E0) / N`` (a zero output counts as spin 0);
* ``ratio``: ``E(s) / E0`` (approximation ratio; 1 is optimal);
* ``symmetry``: the stabilizer of ``s`` inside the input's stabilizer ``G_x`` is
  the stabilizer of one of the stored true ground states;
* ``relaxed_error``: ``max_g min_{t in G_x} |g^-1 f(g x) - t f(x)|`` over random
  relabellings-with-flips ``g``: zero for relaxed-equivariant models.
"""

from __future__ import annotations

import numpy as np

from physbreak.groundstate.problems import SpinProblem


def _fixed(states: np.ndarray, perm: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """``(k, order)`` bool: element g fixes state k, i.e. ``s[perm[g]] = sign[g] s``."""
    return np.all(states[:, perm] == sign[None, :, None] * states[:, None, :], axis=-1)


def metrics(problem: SpinProblem, output: np.ndarray, group=None) -> dict:
    s = np.sign(output)
    e = float(problem.energy(s)[0])
    e0 = problem.ground.energy
    exact = bool(np.all(np.abs(s) == 1) and e <= e0 + 1e-6)
    out = {"exact": exact, "gap": (e - e0) / problem.n_sites, "ratio": e / e0 if e0 < 0 else float("nan")}
    if group is not None:
        perm, sign = group
        mine = _fixed(s[None], perm, sign)[0]
        truth = _fixed(problem.ground.states.astype(float), perm, sign)
        out["symmetry"] = bool(np.any(np.all(truth == mine[None], axis=1)))
    return out


def relabelled(problem: SpinProblem, perm: np.ndarray, sign: int) -> SpinProblem:
    """The problem with site i renamed ``perm[i]`` and fields times ``sign``."""
    h = np.empty_like(problem.h)
    h[perm] = sign * problem.h
    states = np.empty_like(problem.ground.states)
    states[:, perm] = sign * problem.ground.states
    ground = type(problem.ground)(problem.ground.energy, problem.ground.degeneracy, states,
                                  problem.ground.exact, problem.ground.restarts, problem.ground.agreed)
    inv = np.argsort(perm)
    return SpinProblem(problem.family, problem.label, perm[problem.bonds], problem.J, h, ground,
                       perm[problem.stab_perm][:, inv] if len(problem.stab_perm) else problem.stab_perm,
                       problem.stab_sign)


def relaxed_error(predict, problem: SpinProblem, group, rng, samples: int = 3, moves=None) -> float:
    """Largest ``min_t |g^-1 f(g x) - t f(x)|`` over ``samples`` random ``g``:
    random relabellings with a random flip, or elements drawn from ``moves``
    ``(perms (k, n), signs (k,))`` for models defined on one fixed lattice."""
    perm_g, sign_g = group
    y = predict([problem])[0]
    allowed = np.empty((len(perm_g), len(y)))
    allowed[np.arange(len(perm_g))[:, None], perm_g] = sign_g[:, None] * y[None]
    worst = 0.0
    for _ in range(samples):
        if moves is None:
            perm, sign = rng.permutation(problem.n_sites), int(rng.choice([-1, 1]))
        else:
            k = int(rng.integers(len(moves[0])))
            perm, sign = moves[0][k], int(moves[1][k])
        back = sign * predict([relabelled(problem, perm, sign)])[0][perm]
        worst = max(worst, float(np.abs(allowed - back[None]).max(axis=1).min()))
    return worst
