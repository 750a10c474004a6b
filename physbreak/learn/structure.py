"""The e3nn structure predictor on the learning stack: a symmetric structure
in, per-atom displacements (A) of one symmetry-broken ground state out.

| breaker (:mod:`physbreak.relaxed.breakers`) | per-atom input | relaxed-equivariant |
|---|---|---|
| ``none`` (:class:`NoBreaker`) | nothing: the network is equivariant and cannot leave the input's symmetry | equivariant |
| ``sbs`` (:class:`SymmetryBreakingSet`) | the symmetry-breaking set (Xie & Smidt): the features whose stabilizer in the input's point group is the target's point group K; its canonical member on every atom (``1o``; ``2e`` where the target keeps the inversion; per-atom isotropy-subgroup fields for the perovskite datasets, :mod:`physbreak.problems.isotropy`) | exactly (the set is one orbit of the input's group) |
| ``sympe`` (:class:`SymPE`) | a uniformly random member of the symmetry-breaking set, redrawn at every call | in distribution |
| ``noise`` (:class:`NoiseInjection`) | Gaussian features per atom in the breaker irreps, redrawn at every call | in distribution |
| ``baseline`` (:class:`Unconstrained`) | lab-frame scalars (:func:`lab_features`) and a Cartesian MLP head: not equivariant | no |
| ``canonical`` (:class:`RelaxedCanonicalization`) | the baseline run in a frame built from the input (:func:`~physbreak.relaxed.frames.canonical_frame`) and rotated back | yes, up to the frame's choice among equivalent ones |

Loss: the squared displacement error to the nearest ground-state variant
(orbit-aware), plus the strain output's distance from zero (the parent's
strain is the ground state's: only the modes relax).  Adam with a cosine
learning-rate schedule.
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.learn.predictor import Predictor
from physbreak.nn.e3nn_structure import StructureGraph, StructureNet
from physbreak.relaxed.breakers import (BREAKER_DIM, BREAKER_IRREPS, BREAKER_SLOTS, NoBreaker, NoiseInjection,
                                        Unconstrained, make_breaker)
from physbreak.relaxed.frames import canonical_frame, rotated
from physbreak.relaxed.losses import nearest_target_loss

STRUCTURE_BREAKERS = ("none", "sbs", "sympe", "noise", "baseline", "canonical")
N_LAB = 15  # 6 second moments + 3 cos + 3 sin + 3 centroid-relative coordinates
DEFAULT_HIDDEN = "16x0e+8x0o+8x1o+8x1e+4x2e+4x2o"


def species_of(problems) -> list[str]:
    """The elements of the problems' inputs, in order of first appearance."""
    return list(dict.fromkeys(s for p in problems for s in p.parent.get_chemical_symbols()))


def breaker_irreps_of(problems) -> str:
    """The irreps of :data:`BREAKER_IRREPS` the problems' breaking sets use
    (e.g. ``"1x1o"`` for BaTiO3 and the Glazer tilts, ``"1x1o+1x2e"`` for
    the molecules): the network reads only these, so a breaker costs no more
    than the dataset needs."""
    used = np.zeros(BREAKER_DIM, bool)
    for p in problems:
        used |= np.any(p.breaking_set() != 0, axis=(0, 1))
    return "+".join(ir for ir, cols in BREAKER_SLOTS.items() if used[cols].any()) or BREAKER_IRREPS


def lab_features(g, structures) -> torch.Tensor:
    """``(n_atoms, 15)`` per-atom scalars that are *not* invariant, for a
    :class:`StructureGraph` of ``structures``: the second moments of the
    neighbour vectors in the lab frame (which axis is long), ``cos``/``sin`` of
    ``2 pi`` times the fractional coordinates relative to the first atom
    (crystals: which cell an atom is in) and the position relative to the
    centroid (molecules)."""
    vec = g.pos[g.dst] - g.pos[g.src] + g.shift
    r = vec.norm(dim=1, keepdim=True).clamp(min=1e-9)
    u = vec / r
    w = (1 - r / max(float(r.max()), 1e-9)) ** 2
    pairs = torch.stack([u[:, 0] ** 2, u[:, 1] ** 2, u[:, 2] ** 2, u[:, 0] * u[:, 1], u[:, 1] * u[:, 2],
                         u[:, 2] * u[:, 0]], 1) * w
    moments = torch.zeros(len(g.pos), 6, dtype=vec.dtype, device=vec.device).index_add_(0, g.src, pairs)
    rest = []
    for atoms in structures:
        if any(atoms.pbc):  # relative to the first atom: the features do not move with a translation
            f = 2 * np.pi * (atoms.get_scaled_positions(wrap=False) - atoms.get_scaled_positions(wrap=False)[0])
            rest.append(np.concatenate([np.cos(f), np.sin(f), np.zeros((len(atoms), 3))], 1))
        else:
            rest.append(np.concatenate([np.ones((len(atoms), 3)), np.zeros((len(atoms), 3)),
                                        atoms.positions - atoms.positions.mean(0)], 1))
    rest = torch.as_tensor(np.concatenate(rest), dtype=vec.dtype, device=vec.device)
    return torch.cat([moments, rest], 1)


class _Networks(torch.nn.Module):
    """The e3nn network and, for lab-frame breakers, the Cartesian head: one module, one state dict."""

    def __init__(self, net: StructureNet, head):
        super().__init__()
        self.net, self.head = net, head


class StructurePredictor(Predictor):
    """A :class:`StructureNet` with one breaker (names: :data:`STRUCTURE_BREAKERS`).

    Args:
        breaker: a breaker object or its name.
        species: element symbols the network knows (one-hot order).
        breaker_irreps: the part of :data:`BREAKER_IRREPS` the network reads
            (sbs, sympe, noise; :func:`breaker_irreps_of` a dataset).
        hidden, layers, cutoff (A): the e3nn network.
        tensor_products: ``"e3nn"`` or ``"cuequivariance"``
            (:meth:`StructureNet.use_tensor_products`; not part of the checkpoint).
    """

    kind, domain, schedule, default_lr = "structure_e3nn", "structure", "cosine", 5e-3

    def __init__(self, breaker="sbs", hidden: str = DEFAULT_HIDDEN, layers: int = 2, device="cpu", seed: int = 0,
                 species=("Ba", "Ti", "O"), cutoff: float = 4.5, breaker_irreps: str = BREAKER_IRREPS,
                 tensor_products: str = "e3nn"):
        breaker = make_breaker(breaker) if isinstance(breaker, str) else breaker
        if breaker.name not in STRUCTURE_BREAKERS:
            raise ValueError(f"breaker {breaker.name!r}: the structure predictor takes one of "
                             f"{', '.join(STRUCTURE_BREAKERS)}")
        parts = breaker_irreps.split("+")
        if not parts or any(ir not in BREAKER_SLOTS for ir in parts):
            raise ValueError(f"breaker_irreps {breaker_irreps!r}: '+'-joined parts of {BREAKER_IRREPS}")
        torch.manual_seed(seed)
        super().__init__(breaker, device, seed)
        # the baseline and relaxed canonicalization read lab-frame features (in the input's own frame)
        self.lab_frame = isinstance(breaker, Unconstrained) or breaker.canonicalizes
        self.breaker_irreps = breaker_irreps
        self.columns = np.concatenate([np.arange(BREAKER_DIM)[BREAKER_SLOTS[ir]] for ir in BREAKER_SLOTS
                                       if ir in parts])
        if self.lab_frame:
            irreps = f"{N_LAB}x0e"
        elif isinstance(breaker, NoBreaker):
            irreps = ""
        else:
            irreps = "+".join(ir for ir in BREAKER_SLOTS if ir in parts)
        net = StructureNet(list(species), irreps, hidden, layers, cutoff=cutoff).use_tensor_products(tensor_products)
        head = None
        if self.lab_frame:  # a Cartesian head: three numbers per atom, read as a displacement
            head = torch.nn.Sequential(torch.nn.Linear(N_LAB + len(species), 64), torch.nn.SiLU(),
                                       torch.nn.Linear(64, 64), torch.nn.SiLU(), torch.nn.Linear(64, 3))
        self.net = _Networks(net, head).to(self.device)
        self.info = {}

    @property
    def species(self) -> list[str]:
        return self.net.net.species

    def config(self) -> dict:
        h = self.net.net.hyper
        return {"breaker": self.breaker.name, "hidden": h["hidden"], "layers": h["layers"], "seed": self.seed,
                "species": h["species"], "cutoff": h["cutoff"], "breaker_irreps": self.breaker_irreps,
                "info": self.info}

    @classmethod
    def from_config(cls, config, tensors, device):
        p = cls(config["breaker"], config["hidden"], config["layers"], device, config["seed"], config["species"],
                config["cutoff"], config["breaker_irreps"])
        p.info = config.get("info", {})
        return p

    def check(self, problems):
        """A :class:`DataError` naming an element the network was not trained on."""
        from physbreak.errors import DataError

        for p in problems:
            unknown = sorted(set(p.parent.get_chemical_symbols()) - set(self.species))
            if unknown:
                raise DataError(f"elements {unknown} are not known to this model (trained on {self.species})")

    def _features(self, problems):
        if isinstance(self.breaker, NoBreaker):  # none (the baseline reads lab_features instead)
            return None
        rows = [self.breaker.node_features(p, self.generator, channels=len(self.columns)) for p in problems]
        rows = [r if isinstance(self.breaker, NoiseInjection) else r[:, self.columns] for r in rows]
        return torch.as_tensor(np.concatenate(rows)).to(self.device, torch.get_default_dtype())

    def outputs(self, problems):
        """``(displacements per problem [(n, 3)], strain tensors (batch, 3, 3))``."""
        structures = [p.parent for p in problems]
        net = self.net.net
        if not self.lab_frame:
            g = StructureGraph(structures, net.species, net.cutoff, self.device)
            disp, strain = net.predict(g, self._features(problems))
            return list(torch.split(disp, [len(s) for s in structures])), strain
        frames = [canonical_frame(s) if not isinstance(self.breaker, Unconstrained) else np.eye(3)
                  for s in structures]
        structures = [rotated(s, F) for s, F in zip(structures, frames)]
        g = StructureGraph(structures, net.species, net.cutoff, self.device)
        lab = lab_features(g, structures)
        disp, strain = net.predict(g, lab)
        onehot = torch.nn.functional.one_hot(g.species, len(net.species)).to(lab.dtype)
        disp = disp + self.net.head(torch.cat([lab, onehot], 1))
        F = torch.as_tensor(np.array(frames), dtype=disp.dtype, device=disp.device)  # back to the input's frame
        parts = [d @ f for d, f in zip(torch.split(disp, [len(s) for s in structures]), F)]
        return parts, F.transpose(1, 2) @ strain @ F

    def loss(self, batch, rng) -> torch.Tensor:
        disp, strain = self.outputs(batch)
        loss = sum(nearest_target_loss(d.reshape(1, -1), torch.as_tensor(p.targets, dtype=d.dtype, device=d.device)
                                       .reshape(1, len(p.targets), -1)) for d, p in zip(disp, batch)) / len(batch)
        periodic = torch.tensor([p.periodic for p in batch], device=strain.device)
        return loss + (strain[periodic] ** 2).sum() / (9 * len(batch))

    def score(self, problems) -> float:
        from physbreak.learn.metrics import orbit_rmsd

        return -float(np.mean([orbit_rmsd(d, p.targets) for p, d in zip(problems, self.predict(problems))]))

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        """Displacements ``(n_atoms, 3)`` A per problem."""
        self.check(problems)
        with self.prediction_draws():
            return [d.cpu().double().numpy() for d in self.outputs(problems)[0]]


def make_predictor(breaker: str, train_problems, device="cpu", seed: int = 0, **kwargs) -> StructurePredictor:
    """A structure predictor sized for ``train_problems`` (their species and breaker irreps)."""
    kwargs.setdefault("species", species_of(train_problems))
    if breaker in ("sbs", "sympe", "noise"):
        kwargs.setdefault("breaker_irreps", breaker_irreps_of(train_problems))
    return StructurePredictor(breaker, device=device, seed=seed, **kwargs)


def train(breaker, problems, epochs=60, seed=0, desc=None, device="cpu", **kwargs):
    """Build and fit a predictor: ``(predictor, seconds)``."""
    import time

    predictor = make_predictor(breaker, problems, device, seed, **kwargs)
    start = time.perf_counter()
    predictor.fit(problems, epochs=epochs, lr=5e-3, batch_size=16, seed=seed, desc=desc)
    return predictor, time.perf_counter() - start
