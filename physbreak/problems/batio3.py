"""BaTiO3 ground states of symmetric parent cells, from the effective Hamiltonian.

A problem is a centrosymmetric 5-atom BaTiO3 cell (the cubic perovskite
positions) under a homogeneous strain that fixes which polar phase is lowest:

| parent | strain | parent group | ground state | variants |
|---|---|---|---|---|
| ``T`` | ``eta_c - eta_a`` = 6-10 % along a random axis | P4/mmm | P4mm, u along +-c | 2 |
| ``O`` | 4-7 % expansion and 4-8 % shear in a random plane | Cmmm | Amm2, u along a face diagonal | 2 |
| ``R`` | shears of 2-4 % favouring one body diagonal | R-3m | R3m, u along it | 2 |
| ``C`` | isotropic only | Pm-3m | R3m (ZVR's 0 K state) | 8 |
| ``C4`` | isotropic only | Pm-3m | P4mm: the lowest state with u along a cube axis | 6 |
| ``C2`` | isotropic only | Pm-3m | Amm2: the lowest state with u along a face diagonal | 12 |

``C4`` and ``C2`` are the ground states of a cubic cell held in a target
subgroup (the minimum of the same energy with ``u`` constrained to the
subgroup's polar direction): what a user asks for with ``physbreak predict
cubic.cif --target P4mm``.

The ground state minimises the energy per cell of a uniform mode at the
parent's fixed strain, ``kappa2 u^2 + alpha u^4 + gamma (...) + 1/2 u.(K(0) +
B(eta)) u``, from all 26 high-symmetry start directions; every minimum within
1e-8 eV of the lowest is a variant (the orbit of one under the parent's group).
Targets are the atoms' displacements (A) through the soft-mode eigenvector.
ZVR's strongly negative ``gamma`` favours body diagonals, so weakly strained
tetragonal or orthorhombic parents have a monoclinic (Cm) ground state at 0 K;
strains are drawn again until the ground state has the intended group.
The symmetry-breaking set is the target point group's (Xie & Smidt; what
``predict --target`` builds for a user's cell), or with ``breaking =
"isotropy"`` one built from isotropy subgroups
(:func:`~physbreak.problems.isotropy.target_breakers`: Gamma4- along the
ground state's direction, a field of polar vectors on the atoms).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from physbreak.problems.isotropy import perovskite_parent, target_breakers
from physbreak.problems.structure import StructureProblem
from physbreak.symmetry.operations import operations, point_group, schoenflies
from physbreak.systems.perovskite import EffectiveHamiltonian, load_parameters
from physbreak.systems.perovskite_structures import cell_atoms, space_group

STARTS = np.array([v for v in np.ndindex(3, 3, 3) if v != (1, 1, 1)], float) - 1.0  # 26 directions


def _energy_per_cell(p, K0, B):
    def f(u):
        u2 = u @ u
        sq = u * u
        e = p.kappa2 * u2 + p.alpha * u2**2 + p.gamma * 0.5 * (u2**2 - sq @ sq) + 0.5 * u @ (K0 + B) @ u
        g = 2 * p.kappa2 * u + 4 * p.alpha * u2 * u + 2 * p.gamma * u * (u2 - sq) + (K0 + B) @ u
        return e, g
    return f


# polar directions of the cubic subgroups a cubic parent can be held in
DIRECTIONS = {"100": STARTS[np.abs(STARTS).sum(1) == 1], "110": STARTS[np.abs(STARTS).sum(1) == 2],
              "111": STARTS[np.abs(STARTS).sum(1) == 3]}


def ground_state_modes(params, eta, ham=None, directions: str | None = None) -> tuple[float, np.ndarray]:
    """``(energy per cell (eV), variants (k, 3) A)`` of a uniform mode at strain
    ``eta``; with ``directions`` (``"100"``, ``"110"``, ``"111"``) the mode is held
    along one of those directions (the ground state within that subgroup)."""
    import torch
    from scipy.optimize import minimize_scalar

    ham = ham or EffectiveHamiltonian(params, 2)
    K0 = ham.gamma_matrix() - 2 * params.kappa2 * np.eye(3)
    B = ham._coupling(torch.as_tensor(np.asarray(eta, float))[None])[0].numpy()
    f = _energy_per_cell(params, K0, B)
    found = []
    if directions is not None:
        for d in DIRECTIONS[directions]:
            d = d / np.linalg.norm(d)
            res = minimize_scalar(lambda a: f(a * d)[0], bounds=(0.0, 1.0), method="bounded",
                                  options={"xatol": 1e-10})
            found.append((float(res.fun), res.x * d))
    for d in STARTS if directions is None else []:
        res = minimize(f, 0.1 * d / np.linalg.norm(d), jac=True, method="BFGS", options={"gtol": 1e-12})
        found.append((float(res.fun), res.x))
    e0 = min(e for e, _ in found)
    variants = np.unique(np.round([x for e, x in found if e <= e0 + 1e-8], 5) + 0.0, axis=0)
    return e0, variants


def parent_strain(kind: str, rng: np.random.Generator) -> np.ndarray:
    """A random Voigt strain of the given parent type (see the module table),
    strong enough that the ground state has the parent's polar axis."""
    eta = np.zeros(6)
    eta[:3] = rng.uniform(-0.005, 0.01)
    if kind == "T":
        eta[rng.integers(3)] += rng.uniform(0.06, 0.1)
    elif kind == "O":
        c = int(rng.integers(3))
        plane = [k for k in range(3) if k != c]
        eta[plane] += rng.uniform(0.04, 0.07)
        eta[3 + c] = rng.choice([-1, 1]) * rng.uniform(0.04, 0.08)  # shear in the (a, b) plane
    elif kind == "R":
        s = rng.choice([-1, 1], 3)  # the body diagonal s the shears favour
        eta[3:] = np.array([s[1] * s[2], s[0] * s[2], s[0] * s[1]]) * rng.uniform(0.02, 0.04)
    elif kind not in ("C", "C4", "C2"):
        raise ValueError(f"parent kind {kind!r}: one of {', '.join(PARENTS)}")
    return eta


PARENTS = ("T", "O", "R", "C", "C4", "C2")
INTENDED = {"T": "P4mm", "O": "Amm2", "R": "R3m", "C": "R3m", "C4": "P4mm", "C2": "Amm2"}
HELD = {"C4": "100", "C2": "110"}  # cubic parents held in a subgroup: the mode's direction


BREAKING = ("point_group", "isotropy")


def make_problem(kind: str, rng: np.random.Generator, params=None, ham=None, tries: int = 200,
                 breaking: str = "point_group") -> StructureProblem:
    """A parent of ``kind`` whose ground state has the intended group (strains are
    drawn again until it does: a weak strain leaves the monoclinic Cm state lowest).
    ``breaking``: the symmetry-breaking set, ``"point_group"`` (one vector per cell
    from the target's point group, :func:`~physbreak.relaxed.breakers.breaking_set`,
    what ``physbreak predict --target`` builds for a user's cell) or ``"isotropy"``
    (a per-atom Gamma4- field, :func:`~physbreak.problems.isotropy.target_breakers`)."""
    params = params or load_parameters()
    for _ in range(tries):
        eta = parent_strain(kind, rng)
        _, modes = ground_state_modes(params, eta, ham, HELD.get(kind))
        best = cell_atoms(params, modes[0], eta)
        if space_group(best, 1e-3) == INTENDED[kind]:
            break
    else:
        raise RuntimeError(f"no {kind} parent with a {INTENDED[kind]} ground state in {tries} draws")
    parent = cell_atoms(params, np.zeros(3), eta)
    targets = np.stack([cell_atoms(params, u, eta).positions - parent.positions for u in modes])
    mats, perms = operations(parent)
    return StructureProblem(kind, parent, targets, space_group(best, 1e-3), schoenflies(best, 1e-3),
                            point_group(best, 1e-3), mats, perms,
                            breakers=target_breakers(perovskite_parent(parent), parent, targets[0], mats, perms)
                            if breaking == "isotropy" else None)


def make_dataset(kinds, count: int, seed: int = 0, breaking: str = "point_group") -> list[StructureProblem]:
    """``count`` problems of each parent kind (``breaking``: see :func:`make_problem`)."""
    params = load_parameters()
    ham = EffectiveHamiltonian(params, 2)
    rng = np.random.default_rng(seed)
    return [make_problem(k, rng, params, ham, breaking=breaking) for k in kinds for _ in range(count)]
