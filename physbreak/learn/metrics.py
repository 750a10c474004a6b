"""The metrics registry: how a prediction is scored, per domain.

Spin ground states (``domain = "spin"``), for a problem with ground energy
``E0`` and a prediction ``s = sign(output)``:

* ``exact``: ``s`` is a spin state (no zeros) with ``E(s) = E0`` (within 1e-6 J);
* ``gap``: ``(E(s) - E0) / N`` (a zero output counts as spin 0);
* ``ratio``: ``E(s) / E0`` (approximation ratio; 1 is optimal);
* ``symmetry``: the stabilizer of ``s`` inside the input's stabilizer ``G_x`` is
  the stabilizer of one of the stored true ground states;
* ``relaxed_error``: ``max_g min_{t in G_x} |g^-1 f(g x) - t f(x)|`` over random
  relabellings-with-flips ``g``: zero for relaxed-equivariant models.

Graphs (``domain`` ``"decoding"``, ``"classification"``, ``"colouring"``): see
:mod:`physbreak.learn.graph_metrics`.

Structures (``domain = "structure"``), for predicted displacements ``d``:

* ``rmsd``: orbit-aware RMSD (A) to the nearest ground-state variant;
* ``group`` / ``group_ok``: the predicted structure's space group (crystals,
  spglib) or point group (molecules) at :data:`SYMPREC`, and whether it is the target's;
* ``energy_mev``: xTB energy above the ground state (molecule problems with a ground energy);
* ``glazer`` / ``glazer_ok``: the Glazer symbol extracted from the prediction (tilt problems);
* ``relaxed_error``: ``min_s max |R^T f(R x) - s f(x)|`` (A) for a random
  rotation or improper rotation ``R`` (deterministic breakers).

:func:`evaluate` applies the domain's metrics to every test problem.
"""

from __future__ import annotations

import numpy as np

from physbreak.symmetry.operations import SYMPREC, is_linear, orbit


# --- spins ---------------------------------------------------------------------------------------

def _fixed(states: np.ndarray, perm: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """``(k, order)`` bool: element g fixes state k, i.e. ``s[perm[g]] = sign[g] s``."""
    return np.all(states[:, perm] == sign[None, :, None] * states[:, None, :], axis=-1)


def spin_metrics(problem, output: np.ndarray, group=None) -> dict:
    """exact, gap, ratio and (with ``group = (perms, signs)`` of ``G_x``) symmetry."""
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


def spin_relaxed_error(predict, problem, group, rng, samples: int = 3, moves=None) -> float:
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
        back = sign * predict([problem.relabelled(perm, sign)])[0][perm]
        worst = max(worst, float(np.abs(allowed - back[None]).max(axis=1).min()))
    return worst


def evaluate_spins(predictor, problems, seed: int = 0, relaxed_samples: int = 2) -> list[dict]:
    rng = np.random.default_rng(seed)
    usable = [p for p in problems if not hasattr(predictor, "accepts") or predictor.accepts(p)]
    rows = []
    for p, y in zip(usable, predictor.predict(usable) if usable else []):
        arrays = p.group_arrays()
        row = {"label": p.label, "n_sites": p.n_sites, **spin_metrics(p, y, arrays)}
        if predictor.breaker.deterministic:
            row["relaxed_error"] = spin_relaxed_error(predictor.predict, p, arrays, rng, relaxed_samples,
                                                      getattr(predictor, "moves", None))
        rows.append(row)
    return rows


# --- structures ----------------------------------------------------------------------------------

def orbit_rmsd(pred: np.ndarray, targets: np.ndarray) -> float:
    """``min_k sqrt(mean_i |pred_i - target_k,i|^2)`` (A)."""
    return float(np.sqrt(((pred[None] - targets) ** 2).sum(-1).mean(-1)).min())


def structure_group(atoms) -> str:
    """Space group (crystals, spglib) or point group (molecules) at :data:`SYMPREC`."""
    from physbreak.symmetry.operations import group_name

    return group_name(atoms, SYMPREC)


def structure_relaxed_error(predictor, problem, rng) -> float:
    """``min_s max |R^T f(R x) - s f(x)|`` (A) for a random rotation-or-improper ``R``:
    the input is rotated and its symmetry (so its breaker) found again from the rotated structure."""
    from scipy.spatial.transform import Rotation

    R = Rotation.random(random_state=int(rng.integers(2**31))).as_matrix() * rng.choice([-1, 1])
    y = predictor.predict([problem])[0]
    y_moved = predictor.predict([problem.rotated(R)])[0]
    allowed = orbit(y, problem.mats, problem.perms)
    return float(np.abs(allowed - (y_moved @ R)[None]).max(axis=(1, 2)).min())


def mode_signature(parent, d: np.ndarray, fraction: float = 0.2, floor: float = 1e-3) -> str:
    """The irreps and order-parameter directions of ``parent + d`` (a perovskite
    supercell) with at least ``fraction`` of the largest amplitude and ``floor`` A,
    e.g. ``"GM4- (a,a,a) + R4+ (a,a,a)"`` (:func:`~physbreak.symmetry.crystal_modes.crystal_modes`);
    ``"none"`` for a distortion below ``floor``."""
    from physbreak.errors import SymmetryError
    from physbreak.problems.isotropy import perovskite_parent
    from physbreak.symmetry.crystal_modes import crystal_modes

    child = parent.copy()
    child.positions = parent.positions + d
    try:
        modes = crystal_modes(perovskite_parent(parent), child).modes
    except SymmetryError:
        return "(does not map onto the parent)"
    top = max((m.amplitude for m in modes), default=0.0)
    return " + ".join(sorted(f"{m.label} {m.pattern}" for m in modes
                             if m.amplitude >= max(fraction * top, floor))) or "none"


def structure_metrics(problem, d: np.ndarray) -> dict:
    atoms = problem.parent.copy()
    atoms.positions = problem.parent.positions + d
    row = {"kind": problem.kind, "family": problem.family, "rmsd": orbit_rmsd(d, problem.targets),
           "group": structure_group(atoms)}
    row["group_ok"] = row["group"] == problem.target_group
    if problem.ground_energy is not None:
        from physbreak.systems.molecules import energy

        row["energy_mev"] = 1000 * (energy(atoms) - problem.ground_energy)
    if problem.family in ("batio3", "glazer", "polar_tilt"):
        row["irreps"] = mode_signature(problem.parent, d)
        row["irreps_ok"] = row["irreps"] == mode_signature(problem.parent, problem.targets[0])
    if problem.family == "glazer":
        from physbreak.problems.glazer import glazer_symbol

        row["glazer"] = glazer_symbol(atoms)
        row["glazer_ok"] = row["glazer"] == problem.kind
    return row


def evaluate_structures(predictor, problems, seed: int = 0, relaxed: bool = True) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for p, d in zip(problems, predictor.predict(problems)):
        row = structure_metrics(p, d)
        if relaxed and predictor.breaker.deterministic and (p.periodic or not is_linear(p.parent)):
            row["relaxed_error"] = structure_relaxed_error(predictor, p, rng)
        rows.append(row)
    return rows


def _graph(name):
    def evaluate(predictor, problems, seed=0, **options):
        from physbreak.learn import graph_metrics

        return getattr(graph_metrics, name)(predictor, problems, seed, **options)
    return evaluate


EVALUATORS = {"spin": evaluate_spins, "structure": evaluate_structures, "decoding": _graph("evaluate_decoding"),
              "classification": _graph("evaluate_classification"), "colouring": _graph("evaluate_colouring")}


def evaluate(predictor, problems, seed: int = 0, **options) -> list[dict]:
    """One row of metrics per problem, by the predictor's domain."""
    return EVALUATORS[predictor.domain](predictor, problems, seed, **options)
