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
        self.log_z = self._solve(np.ones(len(self.run), bool))

    def _log_denominator(self, keep, log_z):
        """``ln sum_k N_k exp(-beta_k E_n - ln Z_k)`` for the kept samples."""
        E = self.data["E"][keep]
        counts = np.bincount(self.run[keep], minlength=len(self.betas))
        terms = np.log(counts)[:, None] - self.betas[:, None] * E[None] - log_z[:, None]
        return logsumexp(terms, axis=0)

    def _solve(self, keep, log_z=None) -> np.ndarray:
        """``ln Z_k`` (``ln Z_0 = 0``): the minimum of the convex MBAR objective
        ``sum_n ln sum_k N_k exp(-beta_k E_n - ln Z_k) + sum_k N_k ln Z_k`` (its
        stationary point is the Ferrenberg-Swendsen equations), by BFGS with the
        exact gradient."""
        from scipy.optimize import minimize

        K = len(self.betas)
        if K == 1:
            return np.zeros(1)
        E = self.data["E"][keep]
        counts = np.bincount(self.run[keep], minlength=K).astype(np.float64)
        shifted = -self.betas[:, None] * (E[None] - E.mean())  # a constant shift of E only moves ln Z
        log_n = np.log(counts)[:, None]

        def objective(free):  # free = ln Z_1..K-1 (shifted energies)
            lz = np.concatenate([[0.0], free])
            terms = log_n + shifted - lz[:, None]
            top = terms.max(0)
            p = np.exp(terms - top)
            total = p.sum(0)
            value = np.sum(top + np.log(total)) + counts @ lz
            grad = counts - (p / total).sum(1)
            return value, grad[1:]

        # the shifted ln Z_k are ln Z_k + beta_k <E> (up to a constant): the start of a jackknife solve
        start = np.zeros(K - 1) if log_z is None else (log_z + self.betas * E.mean() - log_z[0]
                                                       - self.betas[0] * E.mean())[1:]
        res = minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-8 * len(E)})
        lz = np.concatenate([[0.0], res.x]) - self.betas * E.mean()
        return lz - lz[0]

    def averages(self, beta, keep=None, log_z=None) -> dict:
        """``{name: <O>(beta)}``, each ``(len(beta),)``."""
        beta = np.atleast_1d(np.asarray(beta, dtype=np.float64))
        keep = np.ones(len(self.run), bool) if keep is None else keep
        log_z = self.log_z if log_z is None else log_z
        log_w = -beta[:, None] * self.data["E"][keep][None] - self._log_denominator(keep, log_z)[None]
        w = np.exp(log_w - log_w.max(1, keepdims=True))
        w /= w.sum(1, keepdims=True)
        return {k: w @ self.data[k][keep] for k in self.names}

    def estimate(self, fn, beta) -> tuple[np.ndarray, np.ndarray]:
        """``fn(averages) -> (len(beta),)`` and its jackknife error."""
        value = fn(self.averages(beta))
        jk = []
        for b in range(self.n_blocks):
            keep = self.block != b
            jk.append(fn(self.averages(beta, keep, self._solve(keep, self.log_z))))
        jk = np.array(jk)
        n = len(jk)
        return value, np.sqrt((n - 1) / n * np.sum((jk - jk.mean(0)) ** 2, axis=0))
