"""Train and evaluate the e3nn structure network with a symmetry breaker.

| breaker | per-atom input | relaxed-equivariant |
|---|---|---|
| ``none`` | nothing: the network is equivariant and cannot leave the parent's symmetry | equivariant |
| ``sbs`` | the symmetry-breaking set (Xie & Smidt): the vectors whose stabilizer in the parent's point group is the target's point group K (the subgroup itself: a D2h parent has three non-conjugate C2v); its lexicographically first member, on every atom (``1o``; ``2e`` where the target keeps the inversion) | exactly (the set is one orbit of the parent's group) |
| ``sympe`` | a uniformly random member of the symmetry-breaking set (its orbit under the parent's group), redrawn at every call | in distribution |
| ``noise`` | Gaussian features per atom in the breaker irreps, redrawn at every call | in distribution |
| ``baseline`` | lab-frame scalars (:func:`~physbreak.structpred.canonical.lab_features`) and a Cartesian MLP head: not equivariant | no |
| ``canonical`` | the baseline run in a frame built from the input (:func:`~physbreak.structpred.canonical.canonical_frame`) and rotated back: relaxed canonicalization | yes, up to the frame's choice among equivalent ones |

Loss: the squared displacement error to the nearest ground-state variant
(orbit-aware), plus the strain output's distance from zero (the parent's
strain is the ground state's: only the modes relax).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from physbreak.models.e3nn_structure import StructureGraph, StructureNet
from physbreak.relaxed.breakers import breaking_tensors, breaking_vectors
from physbreak.structpred.canonical import N_LAB, canonical_frame, lab_features, rotated
from physbreak.structpred.symmetry import SYMPREC, is_linear, operations, orbit
from physbreak.systems.perovskite_structures import space_group

BREAKERS = ("none", "sbs", "sympe", "noise", "baseline", "canonical")
DETERMINISTIC = {"none": True, "sbs": True, "sympe": False, "noise": False, "baseline": True, "canonical": True}
LAB_FRAME = ("baseline", "canonical")
SPECIES = ["Ba", "Ti", "O"]


def species_of(problems) -> list[str]:
    """The elements of the problems' inputs, in order of first appearance."""
    return list(dict.fromkeys(s for p in problems for s in p.parent.get_chemical_symbols()))


# a vector; an axial vector per site (tilts); a symmetric traceless tensor where the target is centrosymmetric
BREAKER_IRREPS = "1x1o+1x1e+1x2e"
BREAKER_DIM = 11
BREAKER_SLOTS = {"1x1o": slice(0, 3), "1x1e": slice(3, 6), "1x2e": slice(6, 11)}  # columns of each irrep


def breaking_set(mats: np.ndarray, target) -> np.ndarray:
    """The symmetry-breaking set of the subgroup ``target`` of ``mats`` as
    :data:`BREAKER_IRREPS` features ``(n, 11)``, canonical member first (the
    lexicographically smallest, 5 decimals): unit vectors when one has the
    stabilizer ``target`` (:func:`breaking_vectors`), else unit ``2e`` tensors
    (:func:`breaking_tensors`; D4h -> D2h keeps the inversion, so no vector works)."""
    vectors = breaking_vectors(mats, target)
    if len(vectors):
        members = np.concatenate([vectors, np.zeros((len(vectors), 8))], axis=1)
    else:
        tensors = breaking_tensors(mats, np.asarray(target), "2e")
        if len(tensors) == 0:
            raise ValueError(f"neither a vector nor a 2e tensor has stabilizer {target} in this parent's point group")
        members = np.concatenate([np.zeros((len(tensors), 6)), tensors], axis=1)
    members = np.unique(np.round(members, 5) + 0.0, axis=0)
    return members[np.lexsort(members.T[::-1])]


def breaker_irreps_of(problems) -> str:
    """The irreps of :data:`BREAKER_IRREPS` the problems' breaking sets use
    (e.g. ``"1x1o"`` for BaTiO3, ``"1x1e"`` for Glazer tilts, ``"1x1o+1x2e"`` for
    the molecules): the network reads only these, so a breaker costs no more
    than the dataset needs."""
    used, seen = np.zeros(BREAKER_DIM, bool), set()
    for p in problems:
        if p.breakers is not None:
            used |= np.any(p.breakers != 0, axis=(0, 1))
            continue
        key = (np.round(p.mats, 8).tobytes(), np.round(np.asarray(p.target_mats), 8).tobytes())
        if key not in seen:
            seen.add(key)
            used |= np.any(breaking_set(p.mats, p.target_mats) != 0, axis=0)
    return "+".join(ir for ir, cols in BREAKER_SLOTS.items() if used[cols].any()) or BREAKER_IRREPS


class StructurePredictor:
    """A :class:`StructureNet` with one of :data:`BREAKERS`; ``breaker_irreps``:
    the part of :data:`BREAKER_IRREPS` the network reads (sbs, sympe, noise;
    :func:`breaker_irreps_of` a dataset)."""

    def __init__(self, breaker: str = "sbs", hidden: str = "16x0e+8x0o+8x1o+8x1e+4x2e+4x2o", layers: int = 2,
                 device="cpu", seed: int = 0, species=SPECIES, cutoff: float = 4.5, breaker_irreps: str = BREAKER_IRREPS):
        if breaker not in BREAKERS:
            raise ValueError(f"breaker {breaker!r}: one of {', '.join(BREAKERS)}")
        parts = breaker_irreps.split("+")
        if not parts or any(ir not in BREAKER_SLOTS for ir in parts):
            raise ValueError(f"breaker_irreps {breaker_irreps!r}: '+'-joined parts of {BREAKER_IRREPS}")
        torch.manual_seed(seed)
        self.breaker, self.device = breaker, torch.device(device)
        self.columns = np.concatenate([np.arange(BREAKER_DIM)[BREAKER_SLOTS[ir]] for ir in BREAKER_SLOTS if ir in parts])
        irreps = {"none": "", "baseline": f"{N_LAB}x0e", "canonical": f"{N_LAB}x0e"}.get(
            breaker, "+".join(ir for ir in BREAKER_SLOTS if ir in parts))
        self.net = StructureNet(species, irreps, hidden, layers, cutoff=cutoff).to(self.device)
        self.head = None
        if breaker in LAB_FRAME:  # a Cartesian head: three numbers per atom, read as a displacement
            self.head = torch.nn.Sequential(torch.nn.Linear(N_LAB + len(species), 64), torch.nn.SiLU(),
                                            torch.nn.Linear(64, 64), torch.nn.SiLU(),
                                            torch.nn.Linear(64, 3)).to(self.device)
        self.generator = torch.Generator().manual_seed(seed)
        self._sets = {}

    def _members(self, group: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The breaking set, canonical member first (cached per parent group and target)."""
        key = (np.round(group, 8).tobytes(), np.round(np.asarray(target), 8).tobytes())
        if key not in self._sets:
            self._sets[key] = breaking_set(group, target)
        return self._sets[key]

    def _features(self, problems, mats=None, targets=None):
        if self.breaker == "none":
            return None
        rows = []
        for k, p in enumerate(problems):
            n = len(p.parent)
            group = p.mats if mats is None else mats[k]
            target = p.target_mats if targets is None else targets[k]
            if self.breaker == "noise":
                rows.append(torch.randn(n, len(self.columns), generator=self.generator, dtype=torch.float64))
                continue
            if p.breakers is not None:
                members = p.breakers
            else:
                members = self._members(group, target)[:, None, :].repeat(n, axis=1)
            pick = int(torch.randint(len(members), (1,), generator=self.generator)) if self.breaker == "sympe" else 0
            rows.append(torch.as_tensor(members[pick][:, self.columns]))
        return torch.cat(rows).to(self.device, torch.float32)

    def outputs(self, problems, structures=None, mats=None, targets=None):
        """``(displacements per problem [(n, 3)], strain tensors (batch, 3, 3))``;
        ``structures``, ``mats``, ``targets`` replace the problems' parents, parent
        groups and target subgroups (for moved inputs)."""
        structures = structures or [p.parent for p in problems]
        if self.breaker not in LAB_FRAME:
            g = StructureGraph(structures, self.net.species, self.net.cutoff, self.device)
            disp, strain = self.net.predict(g, self._features(problems, mats, targets))
            return list(torch.split(disp, [len(s) for s in structures])), strain
        frames = [canonical_frame(s) if self.breaker == "canonical" else np.eye(3) for s in structures]
        structures = [rotated(s, F) for s, F in zip(structures, frames)]
        g = StructureGraph(structures, self.net.species, self.net.cutoff, self.device)
        lab = lab_features(g, structures)
        disp, strain = self.net.predict(g, lab)
        onehot = torch.nn.functional.one_hot(g.species, len(self.net.species)).to(lab.dtype)
        disp = disp + self.head(torch.cat([lab, onehot], 1))
        F = torch.as_tensor(np.array(frames), dtype=disp.dtype, device=disp.device)  # back to the input's frame
        parts = [d @ f for d, f in zip(torch.split(disp, [len(s) for s in structures]), F)]
        return parts, F.transpose(1, 2) @ strain @ F

    def parameters(self):
        return list(self.net.parameters()) + (list(self.head.parameters()) if self.head is not None else [])

    def fit(self, problems, epochs: int = 60, batch_size: int = 16, lr: float = 5e-3, seed: int = 0,
            desc: str | None = None):
        """Adam with a cosine schedule on the orbit-aware loss; a progress bar
        (``desc``) on terminals."""
        from tqdm.auto import tqdm

        opt = torch.optim.Adam(self.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
        rng = np.random.default_rng(seed)
        for _ in tqdm(range(epochs), desc=desc or self.breaker, unit="epoch", disable=None, leave=False):
            for chunk in np.array_split(rng.permutation(len(problems)), max(1, len(problems) // batch_size)):
                batch = [problems[k] for k in chunk]
                disp, strain = self.outputs(batch)
                loss = sum(((d[None] - torch.as_tensor(p.targets, dtype=d.dtype, device=d.device)) ** 2)
                           .mean((1, 2)).min() for d, p in zip(disp, batch)) / len(batch)
                periodic = torch.tensor([p.periodic for p in batch], device=strain.device)
                loss = loss + (strain[periodic] ** 2).sum() / (9 * len(batch))
                opt.zero_grad()
                loss.backward()
                opt.step()
            sched.step()

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        return [d.cpu().double().numpy() for d in self.outputs(problems)[0]]


def orbit_rmsd(pred: np.ndarray, targets: np.ndarray) -> float:
    """``min_k sqrt(mean_i |pred_i - target_k,i|^2)`` (A)."""
    return float(np.sqrt(((pred[None] - targets) ** 2).sum(-1).mean(-1)).min())


def relaxed_error(model: StructurePredictor, problem, rng) -> float:
    """``min_s max |R^T f(R x) - s f(x)|`` (A) for a random rotation-or-improper ``R``:
    the parent is rotated, its breaker recomputed from the rotated structure."""
    from scipy.spatial.transform import Rotation

    R = Rotation.random(random_state=int(rng.integers(2**31))).as_matrix() * rng.choice([-1, 1])
    moved = rotated(problem.parent, R)
    mats, _ = operations(moved)
    with torch.no_grad():
        y = model.outputs([problem])[0][0]
        y_moved = model.outputs([problem], [moved], [mats], [R @ problem.target_mats @ R.T])[0][0]
    y, y_moved = (t.cpu().double().numpy() for t in (y, y_moved))
    allowed = orbit(y, problem.mats, problem.perms)
    return float(np.abs(allowed - (y_moved @ R)[None]).max(axis=(1, 2)).min())


def predicted_group(problem, atoms) -> str:
    """Space group (crystals, spglib) or point group (molecules) of a predicted structure at :data:`SYMPREC`."""
    if problem.periodic:
        return space_group(atoms, SYMPREC)
    from physbreak.systems.molecules import point_group_name

    return point_group_name(atoms, SYMPREC)


def evaluate(model: StructurePredictor, problems, seed: int = 0, relaxed: bool = True) -> list[dict]:
    """Per test problem: orbit RMSD (A), whether the predicted structure has the
    target's group, its energy above the ground state (meV, molecules: xTB)
    and, for deterministic breakers, the relaxed-equivariance error (A; not for
    linear molecules, whose rotation about the axis is a continuous symmetry)."""
    rng = np.random.default_rng(seed)
    rows = []
    for p, d in zip(problems, model.predict(problems)):
        atoms = p.parent.copy()
        atoms.positions = p.parent.positions + d
        row = {"kind": p.kind, "family": p.family, "rmsd": orbit_rmsd(d, p.targets),
               "group": predicted_group(p, atoms)}
        row["group_ok"] = row["group"] == p.target_group
        if p.ground_energy is not None:
            from physbreak.systems.molecules import energy

            row["energy_mev"] = 1000 * (energy(atoms) - p.ground_energy)
        if p.family == "glazer":
            from physbreak.structpred.glazer import glazer_symbol

            row["glazer"] = glazer_symbol(atoms)
            row["glazer_ok"] = row["glazer"] == p.kind
        per_atom_set = p.breakers is not None and model.breaker in ("sbs", "sympe")  # not recomputed when rotated
        if relaxed and DETERMINISTIC[model.breaker] and not per_atom_set and (p.periodic or not is_linear(p.parent)):
            row["relaxed_error"] = relaxed_error(model, p, rng)
        rows.append(row)
    return rows


def train(breaker, problems, epochs=60, seed=0, desc=None, **kwargs):
    """Build and fit a predictor: ``(model, seconds)``."""
    kwargs.setdefault("species", species_of(problems))
    if breaker in ("sbs", "sympe", "noise"):
        kwargs.setdefault("breaker_irreps", breaker_irreps_of(problems))
    model = StructurePredictor(breaker, seed=seed, **kwargs)
    start = time.perf_counter()
    model.fit(problems, epochs, seed=seed, desc=desc)
    return model, time.perf_counter() - start
