"""Symmetry-breaking predictors of Ising ground states, one per strategy, with
a common interface: ``fit(problems)`` and ``predict(problems) -> [(n_sites,)]``.

| strategy | network | breaker features ``b_i`` |
|---|---|---|
| ``none`` | :class:`SpinGNN` (equivariant, odd) | none: cannot break |
| ``canonical`` | :class:`SpinGNN` | relaxed canonicalization by sequential pinning: a pin per site, one more per forward pass, ties broken by the canonical labelling (bliss) — :mod:`physbreak.train.pinning` |
| ``noise`` | :class:`SpinGNN` | Gaussian noise, redrawn at every call |
| ``sympe`` | :class:`SpinGNN` | canonical-frame features (:func:`anchor_features`: canonical site field, distances to the first canonical sites) moved by ``s`` uniform on ``G_x`` |
| ``baseline`` | :class:`SpinGNN` with biases and node-index features | none (not equivariant) |
| ``emlp`` | relaxed E-MLP on one fixed lattice (all problems share the bonds) | ``h(x) b0``, ``h`` the group canonicalizer |
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from physbreak.models.spin_gnn import GraphBatch, SpinGNN
from physbreak.relaxed.breakers import RelaxedCanonicalization, anchor_features, canonical_frame
from physbreak.relaxed.losses import nearest_target_loss
from physbreak.train.pinning import choose_pins, first_pins, lowest_first, random_pins

STRATEGIES = ("none", "canonical", "emlp", "noise", "sympe", "baseline")
ANCHOR_CHANNELS = 2 + 3 * 2  # anchor_features with two anchors
DETERMINISTIC = {"none": True, "canonical": True, "emlp": True, "noise": False, "sympe": False,
                 "baseline": True}


def _key(problem) -> bytes:
    """Content key of a problem (ids of temporary objects are reused)."""
    return problem.bonds.tobytes() + b"|" + problem.J.tobytes() + b"|" + problem.h.tobytes()


def _group_arrays(problem, cache):
    key = _key(problem)
    if key not in cache:
        g = problem.symmetry_group()
        cache[key] = (g.realisations["perm"], g.realisations["sign"])
    return cache[key]


def exact_hit_rate(model, problems) -> float:
    """Fraction of problems whose predicted spins (sign of the output) are a ground state."""
    from physbreak.train.evaluate import metrics

    hits = [metrics(p, y)["exact"] for p, y in zip(problems, model.predict(problems))]
    return float(np.mean(hits)) if hits else 0.0


def fit_orbit_loss(model, problems, epochs: int, batch_size: int, lr: float, seed: int,
                   validation=None, every: int = 5):
    """Adam on minibatches with the orbit-aware loss: each problem's output is
    compared with the nearest of its stored ground states.  ``model`` provides
    ``net`` and ``training_outputs(problems, rng) -> [(output (n,), targets (k, n))]``.  With
    ``validation`` problems, the weights with the best validation exact-hit
    rate (checked every ``every`` epochs) are kept (early stopping)."""
    opt = torch.optim.Adam(model.net.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    best, best_state = -1.0, None
    for epoch in range(epochs):
        for chunk in np.array_split(rng.permutation(len(problems)), max(1, len(problems) // batch_size)):
            pairs = model.training_outputs([problems[k] for k in chunk], rng)
            loss = sum(nearest_target_loss(o[None], torch.as_tensor(t, dtype=o.dtype, device=o.device)[None])
                       for o, t in pairs) / len(pairs)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if validation and ((epoch + 1) % every == 0 or epoch + 1 == epochs):
            rate = exact_hit_rate(model, validation)
            if rate >= best:
                best, best_state = rate, copy.deepcopy(model.net.state_dict())
    if best_state is not None:
        model.net.load_state_dict(best_state)


class GNNPredictor:
    """A :class:`SpinGNN` with one of the breakers above."""

    def __init__(self, strategy: str, hidden: int = 32, layers: int = 8, device="cpu", seed: int = 0):
        torch.manual_seed(seed)
        self.strategy, self.device = strategy, torch.device(device)
        channels = {"none": 0, "baseline": 0, "noise": 1, "canonical": 1}.get(strategy, ANCHOR_CHANNELS)
        self.net = SpinGNN(channels, hidden, layers, equivariant=strategy != "baseline").to(self.device)
        self.generator = torch.Generator().manual_seed(seed)
        self._canon, self._frames, self._distances, self._groups = {}, {}, {}, {}

    def features(self, problem, pins=None) -> np.ndarray:
        n = problem.n_sites
        if self.strategy == "canonical":
            return np.zeros((n, 1)) if pins is None else np.asarray(pins, float)[:, None]
        if self.strategy in ("none", "baseline"):
            return np.zeros((n, 0))
        if self.strategy == "noise":
            return torch.randn(n, 1, generator=self.generator).numpy()
        key = _key(problem)
        if key not in self._canon:
            self._canon[key] = anchor_features(n, problem.bonds, problem.J, problem.h)
        b = self._canon[key]
        if self.strategy == "sympe":
            perm, sign = _group_arrays(problem, self._groups)
            g = int(torch.randint(len(perm), (1,), generator=self.generator))
            moved = np.empty_like(b)
            moved[perm[g]] = sign[g] * b
            b = moved
        return b

    def rounds(self, n_sites: int) -> int:
        """Message-passing rounds for a graph of ``n_sites``: the trained number,
        scaled with the linear size beyond the largest training graph."""
        largest = self.net.hyper.get("train_sites") or n_sites
        return int(np.ceil(self.net.layers * max(1.0, np.sqrt(n_sites / largest))))

    def outputs(self, problems, rounds: int | None = None, pins=None) -> torch.Tensor:
        pins = pins or [None] * len(problems)
        batch = GraphBatch(problems, [self.features(p, q) for p, q in zip(problems, pins)], self.device)
        return self.net(batch, rounds), batch

    def training_outputs(self, problems, rng) -> list[tuple[torch.Tensor, np.ndarray]]:
        """``(output, targets)`` per problem; with pinning, random pins from a
        ground state and the ground states consistent with them."""
        if self.strategy == "canonical":
            pins, targets = zip(*(random_pins(p.ground.states.astype(float), self._distance(p), rng)
                                  for p in problems))
        else:
            pins, targets = None, [p.ground.states for p in problems]
        out, batch = self.outputs(problems, pins=list(pins) if pins else None)
        return list(zip(torch.split(out, batch.sizes), targets))

    def _distance(self, problem) -> np.ndarray:
        """``(n, n)`` graph distances (unreachable: n)."""
        key = _key(problem)
        if key not in self._distances:
            from scipy.sparse import coo_matrix
            from scipy.sparse.csgraph import shortest_path

            n, b = problem.n_sites, problem.bonds
            d = shortest_path(coo_matrix((np.ones(len(b)), (b[:, 0], b[:, 1])), shape=(n, n)).tocsr(),
                              directed=False, unweighted=True)
            d[~np.isfinite(d)] = n
            self._distances[key] = d
        return self._distances[key]

    def _frame(self, problem):
        key = _key(problem)
        if key not in self._frames:
            self._frames[key] = canonical_frame(problem.n_sites, problem.bonds, problem.J, problem.h)
        return self._frames[key]

    def _decode(self, problems, rounds: int) -> list[np.ndarray]:
        """Multi-start sequential pinning (:mod:`physbreak.train.pinning`) on
        problems of one size: one decoding per first pin, the lowest energy kept."""
        jobs = [(k, site, value) for k, p in enumerate(problems)
                for site, value in first_pins(*self._frame(p), p.stab_perm, p.stab_sign)]
        batch = GraphBatch([problems[k] for k, _, _ in jobs], [np.zeros((p.n_sites, 1)) for p in problems[:1]]
                           * len(jobs), self.device)
        pins = np.zeros((len(jobs), problems[0].n_sites))
        pins[np.arange(len(jobs)), [site for _, site, _ in jobs]] = [value for _, _, value in jobs]
        owner = np.array([k for k, _, _ in jobs])
        near = np.stack([self._distance(p) == 1 for p in problems])[owner]
        sign = np.array([self._frame(p)[0] for p in problems])[owner]
        label = np.stack([self._frame(p)[1] for p in problems])[owner]
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

    def fit(self, problems, epochs: int = 40, batch_size: int = 16, lr: float = 3e-3, seed: int = 0,
            validation=None):
        self.net.hyper["train_sites"] = max(p.n_sites for p in problems)
        fit_orbit_loss(self, problems, epochs, batch_size, lr, seed, validation)

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        """Outputs per problem; problems of one size share a forward pass, so a
        prediction never depends on which other problems are in the call."""
        out = [None] * len(problems)
        for n in sorted({p.n_sites for p in problems}):
            idx = [k for k, p in enumerate(problems) if p.n_sites == n]
            if self.strategy == "canonical":
                ys = self._decode([problems[k] for k in idx], self.rounds(n))
            else:
                o, batch = self.outputs([problems[k] for k in idx], self.rounds(n))
                ys = [y.cpu().numpy() for y in torch.split(o, batch.sizes)]
            for k, y in zip(idx, ys):
                out[k] = y
        return out


class LatticeEMLPPredictor:
    """Relaxed E-MLP for problems sharing one bond list: the group is (graph
    automorphisms of the bonds) x Z2, inputs ``x = [J, h]``."""

    def __init__(self, example_problem, hidden: int = 8, layers: int = 2, device="cpu", seed: int = 0):
        from physbreak.nn import RelaxedEMLP
        from physbreak.relaxed.reps import bond_rep, direct_sum, site_rep
        from physbreak.symmetry import automorphism_group, direct_product, spin_flip_group

        torch.manual_seed(seed)
        self.bonds = example_problem.bonds
        n = example_problem.n_sites
        group = direct_product(automorphism_group(n, self.bonds), spin_flip_group())
        rx = direct_sum(bond_rep(group, self.bonds), site_rep(group, odd=True))
        ry = site_rep(group, odd=True)
        self.rep_x, self.rep_y = rx, ry
        self.device = torch.device(device)
        self.net = RelaxedEMLP(rx, RelaxedCanonicalization(rx, ry), ry, ry, channels=hidden,
                               depth=layers).to(self.device)
        self._b = {}

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
        missing = [k for k, p in enumerate(problems) if _key(p) not in self._b]
        if missing:
            b = self.net.breaker(x[missing])
            for k, row in zip(missing, b):
                self._b[_key(problems[k])] = row
        return x, torch.stack([self._b[_key(p)] for p in problems]).float()

    def per_problem(self, problems) -> list[torch.Tensor]:
        x, b = self._inputs(problems)
        return list(self.net(x, b))

    def training_outputs(self, problems, rng) -> list[tuple[torch.Tensor, np.ndarray]]:
        return list(zip(self.per_problem(problems), (p.ground.states for p in problems)))

    def fit(self, problems, epochs: int = 40, batch_size: int = 16, lr: float = 3e-3, seed: int = 0,
            validation=None):
        fit_orbit_loss(self, problems, epochs, batch_size, lr, seed, validation)

    @torch.no_grad()
    def predict(self, problems) -> list[np.ndarray]:
        return [o.cpu().numpy() for o in self.per_problem(problems)]


def make_predictor(strategy: str, train_problems, hidden: int, layers: int, device="cpu", seed: int = 0):
    if strategy == "emlp":
        return LatticeEMLPPredictor(train_problems[0], device=device, seed=seed)
    return GNNPredictor(strategy, hidden, layers, device, seed)


def train(strategy, problems, epochs=40, batch_size=16, lr=3e-3, hidden=32, layers=8, device="cpu", seed=0):
    """Build and fit a predictor; returns ``(predictor, seconds)``."""
    model = make_predictor(strategy, problems, hidden, layers, device, seed)
    start = time.perf_counter()
    model.fit(problems, epochs, batch_size, lr, seed)
    return model, time.perf_counter() - start
