"""The predictor interface and the one training loop.

Every learned model of physbreak — the spin-graph GNN, the relaxed E-MLP, the
e3nn structure network — is a :class:`Predictor`::

    predictor.fit(train, validation=None, epochs=40, batch_size=16, lr=3e-3, progress=None)
    outputs = predictor.predict(problems)        # one array per problem
    predictor.save("model.pt")
    same = physbreak.learn.load("model.pt", device="cpu")

A subclass owns ``net`` (a ``torch.nn.Module`` holding every trainable weight)
and a breaker from :mod:`physbreak.relaxed.breakers`, and provides

* ``loss(batch, rng)``: the orbit-aware loss of a minibatch (a scalar tensor);
* ``predict(problems)``: outputs, per problem (spins ``(n,)``; displacements ``(n, 3)`` A);
* ``score(problems)``: higher is better; picks the epoch on a validation split;
* ``config()`` / ``from_config(config, tensors, device)``: its checkpoint (the
  defaults store the breaker name, ``hyper`` and the seed).
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import torch
from tqdm.auto import tqdm


class Predictor:
    """Base class; see the module docstring.  ``kind`` names the class in checkpoints."""

    kind = ""
    domain = ""  # "spin" or "structure": which metrics apply
    schedule = None  # "cosine": cosine learning-rate decay over the epochs
    default_lr = 3e-3
    breakers: tuple | None = None  # the breaker names this predictor takes (None: not checked here)

    def __init__(self, breaker, device="cpu", seed: int = 0):
        """``breaker``: an object or a name (:func:`~physbreak.relaxed.breakers.make_breaker`)."""
        from physbreak.relaxed.breakers import make_breaker

        breaker = make_breaker(breaker) if isinstance(breaker, str) else breaker
        if self.breakers is not None and breaker.name not in self.breakers:
            raise ValueError(f"breaker {breaker.name!r}: {type(self).__name__} takes one of {', '.join(self.breakers)}")
        self.breaker, self.device, self.seed = breaker, torch.device(device), int(seed)
        self.generator = torch.Generator().manual_seed(self.seed)

    # -- to implement -------------------------------------------------------
    def loss(self, batch, rng: np.random.Generator) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, problems) -> list[np.ndarray]:
        raise NotImplementedError

    def score(self, problems) -> float:
        raise NotImplementedError

    def config(self) -> dict:
        """Default: the breaker's name, ``self.hyper`` (the constructor's keyword
        arguments), the seed and ``self.info``."""
        return {"breaker": self.breaker.name, **self.hyper, "seed": self.seed, "info": getattr(self, "info", {})}

    @classmethod
    def from_config(cls, config: dict, tensors: dict, device) -> "Predictor":
        """Default: the inverse of :meth:`config`."""
        hyper = {k: v for k, v in config.items() if k not in ("breaker", "seed", "info")}
        predictor = cls(config["breaker"], device=device, seed=config["seed"], **hyper)
        predictor.info = config.get("info", {})
        return predictor

    def extra_tensors(self) -> dict:
        return {}

    def prepare(self, problems):
        """Called once with the training problems before the first epoch."""

    # -- shared -------------------------------------------------------------
    def fit(self, problems, validation=None, epochs: int = 40, batch_size: int = 16, lr: float | None = None,
            seed: int | None = None, every: int = 5, progress: bool | None = None, desc: str | None = None):
        """Train on ``problems`` (``lr`` default: the class's ``default_lr``); see :func:`fit`."""
        return fit(self, problems, validation, epochs, batch_size, self.default_lr if lr is None else lr,
                   self.seed if seed is None else seed, every, progress, desc)

    def save(self, path):
        from physbreak.learn.checkpoint import save

        return save(path, self)

    @contextlib.contextmanager
    def prediction_draws(self):
        """Random breakers draw from a stream seeded by ``seed`` afresh for every
        prediction call: the same model (or its reloaded checkpoint) gives the
        same outputs for the same inputs; training draws are unaffected."""
        training, self.generator = self.generator, torch.Generator().manual_seed(self.seed + 1_000_003)
        try:
            yield
        finally:
            self.generator = training


def fit(predictor: Predictor, problems, validation=None, epochs: int = 40, batch_size: int = 16,
        lr: float = 3e-3, seed: int = 0, every: int = 5, progress: bool | None = None,
        desc: str | None = None) -> list[float]:
    """Adam on shuffled minibatches of the predictor's orbit-aware loss.

    With ``validation`` problems, ``predictor.score`` is checked every ``every``
    epochs and at the end, and the weights with the best score are kept (early
    stopping; ties go to the later epoch).  ``predictor.schedule == "cosine"``
    decays the learning rate to zero over ``epochs``.  ``progress``: an epoch
    bar (None: on terminals only; False: never).

    Returns:
        the mean minibatch loss of every epoch.
    """
    from physbreak.learn import distributed

    if not problems:
        raise ValueError("fit needs at least one training problem")
    predictor.prepare(problems)
    net = predictor.net
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs) if predictor.schedule == "cosine" else None
    rng = np.random.default_rng(seed)
    parallel = distributed.active()
    if parallel:  # every process shuffles alike (rng); each draws its own loss randomness
        rank, world = distributed.rank(), distributed.world_size()
        loss_rng = np.random.default_rng([seed, rank])
        ddp = distributed.wrap(predictor, problems[:1], loss_rng)
    best, best_state, history = -np.inf, None, []
    bar = tqdm(range(epochs), desc=desc or type(predictor).__name__, unit="epoch", leave=False,
               disable=True if not distributed.is_main() else None if progress is None else not progress)
    for epoch in bar:
        losses = []
        for chunk in np.array_split(rng.permutation(len(problems)), max(1, len(problems) // batch_size)):
            if parallel:  # this process's share, weighted so the averaged gradient is the whole batch's
                mine = chunk[rank::world]
                loss = ddp([problems[k] for k in mine], loss_rng, len(mine) * world / len(chunk))
            else:
                loss = predictor.loss([problems[k] for k in chunk], rng)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if parallel:
                total = loss.detach().clone()
                torch.distributed.all_reduce(total)
                losses.append(float(total) / world)
            else:
                losses.append(float(loss.detach()))
        if sched is not None:
            sched.step()
        history.append(float(np.mean(losses)))
        bar.set_postfix(loss=f"{history[-1]:.4g}", refresh=False)
        if validation and ((epoch + 1) % every == 0 or epoch + 1 == epochs):
            net.eval()
            rate = predictor.score(validation)
            net.train()
            if rate >= best:
                best, best_state = rate, copy.deepcopy(net.state_dict())
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return history
