"""Measuring and asserting (relaxed) equivariance, in the spirit of
``e3nn.util.test.assert_equivariant``.

``f`` maps a batch ``(batch, d_in)`` to ``(batch, d_out)``; errors are the
largest absolute deviation over all group elements (or the given ones).
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.relaxed.reps import Rep


def _elements(rep: Rep, elements):
    return np.arange(rep.group.order) if elements is None else np.asarray(elements)


@torch.no_grad()
def equivariance_error(f, rep_in: Rep, rep_out: Rep, x, elements=None) -> float:
    """``max_g |f(rho_in(g) x) - rho_out(g) f(x)|`` for one input ``x`` ``(d_in,)``."""
    g = torch.as_tensor(_elements(rep_in, elements))
    x = torch.as_tensor(x)[None]
    fx = f(x).expand(len(g), -1)
    return float((f(rep_in.apply(g, x.expand(len(g), -1))) - rep_out.apply(g, fx)).abs().max())


@torch.no_grad()
def relaxed_equivariance_error(f, rep_in: Rep, rep_out: Rep, x, elements=None,
                               tol: float = 1e-6) -> float:
    """``max_g min_{s in G_x} |rho_out(g)^-1 f(rho_in(g) x) - rho_out(s) f(x)|``:
    zero exactly when ``f(g x) = g s f(x)`` for some ``s`` in ``G_x``, i.e. ``f``
    is relaxed-equivariant at ``x`` (Kaba & Ravanbakhsh 2023)."""
    stab = rep_in.fixed_elements(np.asarray(x, np.float64), tol)
    g = torch.as_tensor(_elements(rep_in, elements))
    x = torch.as_tensor(x)[None]
    fx = f(x)
    allowed = rep_out.apply(torch.as_tensor(stab), fx.expand(len(stab), -1))
    allowed = torch.unique(torch.round(allowed, decimals=9), dim=0)  # the orbit of f(x) under G_x
    back = rep_out.apply(torch.as_tensor(rep_in.group.inverses[g.numpy()]),
                         f(rep_in.apply(g, x.expand(len(g), -1))))
    worst = 0.0
    for chunk in back.split(256):
        dev = (chunk[:, None, :] - allowed[None]).abs().amax(-1).min(1).values.max()
        worst = max(worst, float(dev))
    return worst


@torch.no_grad()
def joint_equivariance_error(F, rep_x: Rep, rep_b: Rep, rep_out: Rep, x, b, elements=None) -> float:
    """``max_g |F(rho_x(g) x, rho_b(g) b) - rho_out(g) F(x, b)|`` (noise injection)."""
    g = torch.as_tensor(_elements(rep_x, elements))
    x, b = torch.as_tensor(x)[None], torch.as_tensor(b)[None]
    n = len(g)
    lhs = F(rep_x.apply(g, x.expand(n, -1)), rep_b.apply(g, b.expand(n, -1)))
    return float((lhs - rep_out.apply(g, F(x, b).expand(n, -1))).abs().max())


def output_stabilizer(rep_out: Rep, y, tol: float = 1e-5) -> np.ndarray:
    """Element indices fixing the output ``y`` ``(d_out,)``."""
    return rep_out.fixed_elements(np.asarray(torch.as_tensor(y).detach().cpu(), np.float64), tol)


def assert_equivariant(f, rep_in: Rep, rep_out: Rep, x, tol: float = 1e-5, elements=None) -> float:
    """Raise AssertionError unless ``f`` is equivariant at ``x`` within ``tol``."""
    err = equivariance_error(f, rep_in, rep_out, x, elements)
    assert err <= tol, f"equivariance error {err:.3g} > {tol:g}"
    return err


def assert_relaxed_equivariant(f, rep_in: Rep, rep_out: Rep, x, tol: float = 1e-5,
                               elements=None) -> float:
    """Raise AssertionError unless ``f`` is relaxed-equivariant at ``x`` within ``tol``."""
    err = relaxed_equivariance_error(f, rep_in, rep_out, x, elements)
    assert err <= tol, f"relaxed equivariance error {err:.3g} > {tol:g}"
    return err
