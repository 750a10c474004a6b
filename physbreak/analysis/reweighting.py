"""Single and multiple histogram reweighting (Ferrenberg & Swendsen 1988, 1989).

Samples from runs at inverse temperatures ``beta_k`` give averages at any
nearby ``beta``: each sample ``n`` (total energy ``E_n``) gets the weight

    w_n(beta) = exp(-beta E_n) / sum_k N_k exp(-beta_k E_n - ln Z_k),

with the ``ln Z_k`` solved self-consistently (one run: the ordinary single
histogram ``exp(-(beta - beta_0) E_n)``).  Working on the samples themselves
rather than on binned histograms keeps every observable exact to the sample
(no bin width) and costs nothing for the sizes used here.  Error bars:
jackknife over ``n_blocks`` contiguous blocks of every run, left out together,
with the ``ln Z_k`` re-solved for each jackknife sample; blocks must be long
compared with the autocorrelation time.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

CHUNK = 8  # inverse temperatures reweighted together


_SOLVED: dict = {}  # energies' digest -> {"all": ln Z_k, block: ln Z_k without it}
MAX_SOLVED = 16


def _solutions(E, sizes, betas, n_blocks) -> dict:
    """The ``ln Z_k`` solutions of one set of runs, shared by every
    :class:`Reweighting` of the same energies (the observables do not enter the
    solve), so the analyses of one file solve each jackknife sample once."""
    import hashlib

    h = hashlib.blake2b(np.ascontiguousarray(E).tobytes(), digest_size=16)
    h.update(np.asarray(sizes, np.int64).tobytes())
    h.update(np.asarray(betas, np.float64).tobytes())
    key = (h.hexdigest(), n_blocks)
    if key not in _SOLVED:
        if len(_SOLVED) >= MAX_SOLVED:
            _SOLVED.pop(next(iter(_SOLVED)))
        _SOLVED[key] = {}
    return _SOLVED[key]


class Reweighting:
    """Args:
        runs: one dict per run of equally long series ``(n_k,)``; key ``"E"`` is the
            total energy (units of J), the others any observables (products
            included: pass ``E**2``, ``m * E`` ... as their own series).
        betas: ``(K,)`` inverse temperatures of the runs.
        n_blocks: jackknife blocks per run.
    """

    def __init__(self, runs: list[dict], betas, n_blocks: int = 20):
        betas = np.atleast_1d(np.asarray(betas, dtype=np.float64))
        if len(runs) != len(betas):
            raise ValueError(f"runs: {len(runs)} given for {len(betas)} betas; one run per beta")
        names = set(runs[0])
        if "E" not in names or any(set(r) != names for r in runs):
            raise ValueError(f"runs: every run needs the same series including 'E'; got {[sorted(r) for r in runs]}")
        self.betas, self.names = betas, sorted(names)
        self.data = {k: np.concatenate([np.asarray(r[k], dtype=np.float64) for r in runs]) for k in self.names}
        sizes = np.array([len(r["E"]) for r in runs])
        if np.any(sizes < n_blocks):
            raise ValueError(f"runs: {sizes.min()} samples in a run, fewer than n_blocks = {n_blocks}")
        self.run = np.repeat(np.arange(len(runs)), sizes)
        self.block = np.concatenate([np.arange(n) * n_blocks // n for n in sizes])
        self.n_blocks = n_blocks
        self._solved = _solutions(self.data["E"], sizes, betas, n_blocks)
        if "all" not in self._solved:
            self._solved["all"] = self._solve(np.ones(len(self.run), bool))
        self.log_z = self._solved["all"]

    def _reduce(self, keep):
        """The kept samples grouped by energy (discrete spins repeat energies, so
        this shrinks every sum from samples to distinct energies, exactly):
        ``(energies (U,), multiplicity (U,), {name: sum per energy (U,)}, runs' counts (K,))``;
        the grouping of all samples is kept."""
        if keep.all() and getattr(self, "_all", None) is not None:
            return self._all
        E, inverse = np.unique(self.data["E"][keep], return_inverse=True)
        mult = np.bincount(inverse, minlength=len(E)).astype(np.float64)
        sums = {k: np.bincount(inverse, self.data[k][keep], minlength=len(E)) for k in self.names}
        reduced = E, mult, sums, np.bincount(self.run[keep], minlength=len(self.betas)).astype(np.float64)
        if keep.all():
            self._all = reduced
        return reduced

    def _log_denominator(self, reduced, log_z):
        """``ln sum_k N_k exp(-beta_k E - ln Z_k)`` at each distinct energy."""
        E, _, _, counts = reduced
        terms = np.log(counts)[:, None] - self.betas[:, None] * E[None] - log_z[:, None]
        return logsumexp(terms, axis=0)

    def _solve(self, keep, log_z=None) -> np.ndarray:
        """``ln Z_k`` (``ln Z_0 = 0``): the minimum of the convex MBAR objective
        ``sum_n ln sum_k N_k exp(-beta_k E_n - ln Z_k) + sum_k N_k ln Z_k`` (its
        stationary point is the Ferrenberg-Swendsen equations), by Newton's
        method with the exact Hessian, damped (Levenberg-Marquardt) where a full
        step would not decrease it (a jackknife solve starts from ``log_z``, the
        full solution, and takes one or two full steps)."""
        K = len(self.betas)
        if K == 1:
            return np.zeros(1)
        E, mult, _, counts = self._reduce(keep)
        mean = mult @ E / mult.sum()
        shifted = -self.betas[:, None] * (E[None] - mean)  # a constant shift of E only moves ln Z
        log_n = np.log(counts)[:, None]

        def objective(free, derivatives=True):  # free = ln Z_1..K-1 (shifted energies)
            lz = np.concatenate([[0.0], free])
            terms = log_n + shifted - lz[:, None]
            top = terms.max(0)
            p = np.exp(terms - top)
            total = p.sum(0)
            value = mult @ (top + np.log(total)) + counts @ lz
            if not derivatives:
                return value
            w = p / total  # (K, U): each energy's posterior over the runs
            wm = w * mult
            grad = counts - wm.sum(1)
            hess = np.diag(wm.sum(1)) - wm @ w.T
            return value, grad[1:], hess[1:, 1:]

        # the shifted ln Z_k are ln Z_k + beta_k <E> (up to a constant): the start of a jackknife solve
        free = np.zeros(K - 1) if log_z is None else (log_z + self.betas * mean - log_z[0]
                                                      - self.betas[0] * mean)[1:]
        tol, near = 1e-9 * mult.sum(), 1e-5 * mult.sum()
        mu = 0.0  # Levenberg-Marquardt damping: 0 near the minimum (Newton), grown far from it
        for _ in range(500):
            value, grad, hess = objective(free)
            if not (np.isfinite(value) and np.all(np.isfinite(hess))) or np.max(np.abs(grad)) < tol:
                break  # converged, or runs without overlap (the minimum is at infinity)
            while mu < 1e30:
                step = -np.linalg.lstsq(hess + mu * np.eye(K - 1), grad, rcond=None)[0]
                decrement = -(grad @ step)
                if decrement <= 1e-6 and np.max(np.abs(grad)) < near:
                    break  # the quadratic regime: the decrease is below round-off
                if decrement > 1e-6 and objective(free + step, False) <= value - 1e-4 * decrement:
                    break
                mu = max(10.0 * mu, 1e-3 * float(np.max(np.diag(hess))), 1e-3)
            else:
                break
            free = free + step
            mu = 0.0 if mu < 1e-6 else 0.1 * mu
        lz = np.concatenate([[0.0], free]) - self.betas * mean
        return lz - lz[0]

    def _full_log_denominator(self) -> np.ndarray:
        """:meth:`_log_denominator` of all samples at the solved ``ln Z_k`` (kept)."""
        if getattr(self, "_den_all", None) is None:
            self._den_all = self._log_denominator(self._reduce(np.ones(len(self.run), bool)), self.log_z)
        return self._den_all

    def averages(self, beta, keep=None, log_z=None) -> dict:
        """``{name: <O>(beta)}``, each ``(len(beta),)``, and ``"log_Z"``: ``ln Z(beta)``
        relative to the first run's (``ln Z(beta_0) = 0``)."""
        beta = np.atleast_1d(np.asarray(beta, dtype=np.float64))
        keep = np.ones(len(self.run), bool) if keep is None else keep
        full = log_z is None and keep.all()
        log_z = self.log_z if log_z is None else log_z
        reduced = self._reduce(keep)
        E, mult, sums, _ = reduced
        log_den = self._full_log_denominator() if full else self._log_denominator(reduced, log_z)
        series = np.stack([sums[k] for k in self.names], 1)  # (U, names)
        out = np.empty((len(beta), len(self.names)))
        log_partition = np.empty(len(beta))
        for lo in range(0, len(beta), CHUNK):  # a few betas at a time: the weights stay small
            log_w = -beta[lo:lo + CHUNK, None] * E[None] - log_den[None]
            top = log_w.max(1, keepdims=True)
            w = np.exp(log_w - top)
            norm = w @ mult
            out[lo:lo + CHUNK] = (w @ series) / norm[:, None]
            log_partition[lo:lo + CHUNK] = np.log(norm) + top[:, 0]
        return {**{k: out[:, i] for i, k in enumerate(self.names)}, "log_Z": log_partition}

    def energy_distribution(self, beta: float, keep=None, log_z=None) -> tuple[np.ndarray, np.ndarray]:
        """The distinct sampled total energies ``(U,)`` and their probability at
        ``beta`` ``(U,)`` (sums to 1): the reweighted energy histogram (of the
        ``keep`` samples with their ``log_z``, for a jackknife sample)."""
        if keep is None:
            reduced = self._reduce(np.ones(len(self.run), bool))
            log_den = self._full_log_denominator()
        else:
            reduced = self._reduce(keep)
            log_den = self._log_denominator(reduced, log_z)
        E, mult = reduced[0], reduced[1]
        log_w = -float(beta) * E - log_den
        p = np.exp(log_w - log_w.max()) * mult
        return E, p / p.sum()

    def effective_samples(self, beta) -> np.ndarray:
        """Kish's effective number of samples ``(sum w)^2 / sum w^2`` of the
        weights at each ``beta`` ``(len(beta),)``: how many samples an average
        there rests on (a run's own length at its own beta, few far away)."""
        _, mult = self._reduce(np.ones(len(self.run), bool))[:2]
        out = []
        for b in np.atleast_1d(np.asarray(beta, dtype=np.float64)):
            p = self.energy_distribution(b)[1]
            out.append(1.0 / np.sum(p**2 / mult))  # p = mult w / sum(mult w)
        return np.array(out)

    def jackknife_samples(self):
        """``(keep mask, ln Z_k)`` of each leave-one-block-out sample (solved once, shared)."""
        for b in range(self.n_blocks):
            keep = self.block != b
            if b not in self._solved:
                self._solved[b] = self._solve(keep, self.log_z)
            yield keep, self._solved[b]

    def jackknife(self, fn, beta) -> tuple[np.ndarray, np.ndarray]:
        """``fn(averages)`` and its leave-one-block-out values ``(n_blocks, ...)``,
        the ``ln Z_k`` re-solved for each."""
        value = fn(self.averages(beta))
        jk = [fn(self.averages(beta, keep, log_z)) for keep, log_z in self.jackknife_samples()]
        return value, np.array(jk)

    def estimate(self, fn, beta) -> tuple[np.ndarray, np.ndarray]:
        """``fn(averages) -> (len(beta),)`` and its jackknife error."""
        value, jk = self.jackknife(fn, beta)
        n = len(jk)
        return value, np.sqrt((n - 1) / n * np.sum((jk - jk.mean(0)) ** 2, axis=0))
