"""Symmetry-breaking predictors of Ising ground states on the learning stack.

| breaker (:mod:`physbreak.relaxed.breakers`) | network | per-site input |
|---|---|---|
| ``none`` (:class:`NoBreaker`) | :class:`SpinGNN` (equivariant, odd) | nothing: cannot break |
| ``canonical`` (:class:`RelaxedCanonicalization`) | :class:`SpinGNN` | sequential pinning: a pin per site, one more per forward pass, ties broken by the canonical labelling (bliss) — :mod:`physbreak.relaxed.pinning` |
| ``noise`` (:class:`NoiseInjection`) | :class:`SpinGNN` | Gaussian noise, redrawn at every call |
| ``sympe`` (:class:`SymPE`) | :class:`SpinGNN` | the relaxed-canonical anchor features (:func:`anchor_features`) moved by ``s`` uniform on ``G_x`` |
| ``baseline`` (:class:`Unconstrained`) | :class:`SpinGNN` with biases and node-index features | none (not equivariant) |

and ``emlp``: the relaxed E-MLP (:class:`LatticeEMLPPredictor`) on one fixed
lattice, with the group canonicalizer's ``h(x) b0``.
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.nn.spin_gnn import GraphBatch, SpinGNN
from physbreak.learn.predictor import Predictor
from physbreak.relaxed.breakers import RelaxedCanonicalization, Unconstrained, make_breaker
from physbreak.relaxed.losses import nearest_target_loss
from physbreak.relaxed.pinning import choose_pins, first_pins, lowest_first, random_pins

GNN_BREAKERS = ("none", "canonical", "noise", "sympe", "baseline")
MODELS = ("none", "canonical", "emlp", "noise", "sympe", "baseline")  # names in `models = [...]`
ANCHOR_CHANNELS = 2 + 3 * 2  # anchor_features with two anchors


def exact_hit_rate(predictor, problems) -> float:
    """Fraction of problems whose predicted spins (sign of the output) are a ground state."""
    from physbreak.learn.metrics import spin_metrics

    hits = [spin_metrics(p, y)["exact"] for p, y in zip(problems, predictor.predict(problems))]
    return float(np.mean(hits)) if hits else 0.0


def pairs_loss(pairs) -> torch.Tensor:
    """Mean orbit-aware loss of ``[(output (n,), targets (k, n))]``."""
    return sum(nearest_target_loss(o[None], torch.as_tensor(t, dtype=o.dtype, device=o.device)[None])
               for o, t in pairs) / len(pairs)


class GNNPredictor(Predictor):
    """A :class:`SpinGNN` over the coupling graph with one breaker (names: :data:`GNN_BREAKERS`)."""

    kind, domain = "spin_gnn", "spin"

    def __init__(self, breaker="canonical", hidden: int = 32, layers: int = 8, device="cpu", seed: int = 0):
        breaker = make_breaker(breaker) if isinstance(breaker, str) else breaker
        if breaker.name not in GNN_BREAKERS:
            raise ValueError(f"breaker {breaker.name!r}: the spin GNN takes one of {', '.join(GNN_BREAKERS)}")
        torch.manual_seed(seed)
        super().__init__(breaker, device, seed)
        self.pinning = type(breaker) is RelaxedCanonicalization
        self.channels = {"none": 0, "baseline": 0, "noise": 1, "canonical": 1}.get(breaker.name, ANCHOR_CHANNELS)
        self.net = SpinGNN(self.channels, hidden, layers,
                           equivariant=not isinstance(breaker, Unconstrained)).to(self.device)
        self.info = {}

    def config(self) -> dict:
        hyper = self.net.hyper
        return {"breaker": self.breaker.name, "hidden": hyper["hidden"], "layers": hyper["layers"],
                "train_sites": hyper.get("train_sites"), "seed": self.seed, "info": self.info}

    @classmethod
    def from_config(cls, config, tensors, device):
        p = cls(config["breaker"], config["hidden"], config["layers"], device, config["seed"])
        p.net.hyper["train_sites"] = config.get("train_sites")
        p.info = config.get("info", {})
        return p

    def prepare(self, problems):
        self.net.hyper["train_sites"] = max(p.n_sites for p in problems)

    def features(self, problem, pins=None) -> np.ndarray:
        if self.pinning:
            return np.zeros((problem.n_sites, 1)) if pins is None else np.asarray(pins, float)[:, None]
        return self.breaker.node_features(problem, self.generator, channels=self.channels)

    def rounds(self, n_sites: int) -> int:
        """Message-passing rounds for a graph of ``n_sites``: the trained number,
        scaled with the linear size beyond the largest training graph."""
        largest = self.net.hyper.get("train_sites") or n_sites
        return int(np.ceil(self.net.layers * max(1.0, np.sqrt(n_sites / largest))))

    def outputs(self, problems, rounds: int | None = None, pins=None):
        pins = pins or [None] * len(problems)
        batch = GraphBatch(problems, [self.features(p, q) for p, q in zip(problems, pins)], self.device)
        return self.net(batch, rounds), batch

    def loss(self, batch, rng) -> torch.Tensor:
        """With pinning, random pins from a ground state and the ground states consistent with them."""
        if self.pinning:
            pins, targets = zip(*(random_pins(p.ground.states.astype(float), p.graph_distances(), rng)
                                  for p in batch))
            pins = list(pins)
        else:
            pins, targets = None, [p.ground.states for p in batch]
        out, graphs = self.outputs(batch, pins=pins)
        return pairs_loss(list(zip(torch.split(out, graphs.sizes), targets)))

    def score(self, problems) -> float:
        return exact_hit_rate(self, problems)

    def _decode(self, problems, rounds: int) -> list[np.ndarray]:
        """Multi-start sequential pinning (:mod:`physbreak.relaxed.pinning`) on
        problems of one size: one decoding per first pin, the lowest energy kept."""
        jobs = [(k, site, value) for k, p in enumerate(problems)
                for site, value in first_pins(*p.canonical_frame(), p.stab_perm, p.stab_sign)]
        batch = GraphBatch([problems[k] for k, _, _ in jobs], [np.zeros((p.n_sites, 1)) for p in problems[:1]]
                           * len(jobs), self.device)
        pins = np.zeros((len(jobs), problems[0].n_sites))
        pins[np.arange(len(jobs)), [site for _, site, _ in jobs]] = [value for _, _, value in jobs]
        owner = np.array([k for k, _, _ in jobs])
        near = np.stack([p.graph_distances() == 1 for p in problems])[owner]
        sign = np.array([p.canonical_frame()[0] for p in problems])[owner]
        label = np.stack([p.canonical_frame()[1] for p in problems])[owner]
        rows = np.arange(len(jobs))
        for _ in range(problems[0].n_sites - 1):
            batch.b = torch.as_tensor(pins.reshape(-1, 1), dtype=torch.float32, device=self.device)
            y = self.net(batch, rounds).reshape(len(jobs), -1).cpu().numpy().astype(np.float64)
            site, value = choose_pins(y, pins, near, label, sign)
            pins[rows, site] = value
        out = []
        for k, p in enumerate(problems):
            mine = np.flatnonzero(owner == k)
            out.append(pins[mine[lowest_first(p.energy(pins[mine]))]])
        return out

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        """Outputs per problem ``(n_sites,)``; problems of one size share a forward
        pass, so a prediction never depends on which other problems are in the call."""
        out = [None] * len(problems)
        with self.prediction_draws():
            for n in sorted({p.n_sites for p in problems}):
                self._predict_size(problems, n, out)
        return out

    def _predict_size(self, problems, n: int, out: list):
        """Fill ``out`` for the problems of ``n`` sites."""
        idx = [k for k, p in enumerate(problems) if p.n_sites == n]
        if self.pinning:
            ys = self._decode([problems[k] for k in idx], self.rounds(n))
        else:
            o, batch = self.outputs([problems[k] for k in idx], self.rounds(n))
            ys = [y.cpu().numpy() for y in torch.split(o, batch.sizes)]
        for k, y in zip(idx, ys):
            out[k] = y


class LatticeEMLPPredictor(Predictor):
    """Relaxed E-MLP for problems sharing one bond list: the group is (graph
    automorphisms of the bonds) x Z2, inputs ``x = [J, h]``, breaker the group
    canonicalizer's ``h(x) b0`` (:class:`RelaxedCanonicalization` on representations)."""

    kind, domain = "spin_emlp", "spin"

    def __init__(self, bonds, hidden: int = 8, layers: int = 2, device="cpu", seed: int = 0):
        from physbreak.nn import RelaxedEMLP
        from physbreak.relaxed.reps import bond_rep, direct_sum, site_rep
        from physbreak.symmetry import automorphism_group, direct_product, spin_flip_group

        torch.manual_seed(seed)
        self.bonds = np.asarray(bonds, dtype=np.int64)
        n = int(self.bonds.max()) + 1
        group = direct_product(automorphism_group(n, self.bonds), spin_flip_group())
        rx = direct_sum(bond_rep(group, self.bonds), site_rep(group, odd=True))
        ry = site_rep(group, odd=True)
        self.rep_x, self.rep_y = rx, ry
        super().__init__(RelaxedCanonicalization(rx, ry), device, seed)
        self.hidden, self.layers = hidden, layers
        self.net = RelaxedEMLP(rx, self.breaker, ry, ry, channels=hidden, depth=layers).to(self.device)
        self._b = {}
        self.info = {}

    def config(self) -> dict:
        return {"hidden": self.hidden, "layers": self.layers, "seed": self.seed, "info": self.info}

    def extra_tensors(self) -> dict:
        return {"bonds": torch.as_tensor(self.bonds)}

    @classmethod
    def from_config(cls, config, tensors, device):
        p = cls(tensors["bonds"].numpy(), config["hidden"], config["layers"], device, config["seed"])
        p.info = config.get("info", {})
        return p

    @property
    def moves(self):
        """The lattice group's elements ``(perms, signs)`` (for relaxed-equivariance tests)."""
        g = self.rep_x.group
        return g.realisations["perm"], g.realisations["sign"]

    def _bond_keys(self, bonds):
        n = int(self.bonds.max()) + 1
        return np.sort(bonds, axis=1) @ np.array([n, 1])

    def accepts(self, problem) -> bool:
        """Same bond set (in any order and orientation) as the lattice."""
        return problem.bonds.shape == self.bonds.shape and np.array_equal(
            np.sort(self._bond_keys(problem.bonds)), np.sort(self._bond_keys(self.bonds)))

    def _couplings(self, problem) -> np.ndarray:
        """The problem's couplings in the lattice's bond order."""
        order = np.argsort(self._bond_keys(problem.bonds))
        where = np.argsort(np.argsort(self._bond_keys(self.bonds)))
        return problem.J[order][where]

    def _inputs(self, problems):
        x = torch.as_tensor(np.stack([np.concatenate([self._couplings(p), p.h]) for p in problems]),
                            dtype=torch.float32, device=self.device)
        missing = [k for k, p in enumerate(problems) if p.key() not in self._b]
        if missing:
            b = self.breaker(x[missing])
            for k, row in zip(missing, b):
                self._b[problems[k].key()] = row
        return x, torch.stack([self._b[p.key()] for p in problems]).float()

    def per_problem(self, problems) -> list[torch.Tensor]:
        x, b = self._inputs(problems)
        return list(self.net(x, b))

    def loss(self, batch, rng) -> torch.Tensor:
        return pairs_loss(list(zip(self.per_problem(batch), (p.ground.states for p in batch))))

    def score(self, problems) -> float:
        return exact_hit_rate(self, problems)

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        bad = [p.label for p in problems if not self.accepts(p)]
        if bad:
            raise ValueError(f"the relaxed E-MLP lives on one fixed lattice ({len(self.bonds)} bonds); "
                             f"{len(bad)} problem(s) have other bonds, e.g. {bad[0]!r}")
        return [o.cpu().numpy() for o in self.per_problem(problems)]


def make_predictor(model: str, train_problems, hidden: int = 32, layers: int = 8, device="cpu", seed: int = 0):
    """The predictor named ``model`` (:data:`MODELS`); the E-MLP is built on the
    first training problem's lattice (None when the problems have several)."""
    if model == "emlp":
        if len({p.bonds.tobytes() for p in train_problems}) > 1:
            return None
        return LatticeEMLPPredictor(train_problems[0].bonds, device=device, seed=seed)
    return GNNPredictor(model, hidden, layers, device, seed)


def train(model, problems, epochs=40, batch_size=16, lr=3e-3, hidden=32, layers=8, device="cpu", seed=0):
    """Build and fit a predictor; returns ``(predictor, seconds)``."""
    import time

    predictor = make_predictor(model, problems, hidden, layers, device, seed)
    start = time.perf_counter()
    predictor.fit(problems, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, progress=False)
    return predictor, time.perf_counter() - start
