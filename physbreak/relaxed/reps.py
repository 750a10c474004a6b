"""Linear representations of finite groups, for networks and their tests.

* :class:`SignedPermRep` — ``(rho(g) x)[perm[g, i]] = sign[g, i] x[i]``: site
  fields (odd under the spin flip), spin configurations, bond couplings,
  per-atom scalars.  Stored as index arrays, so it scales to large lattices.
* :class:`DenseRep` — explicit ``(order, d, d)`` orthogonal matrices: vectors
  under a point group, per-atom displacements (atom permutation x rotation).

Both apply to torch tensors ``(..., d)`` with :meth:`apply`, one element for
the whole batch or one per sample.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from physbreak.errors import InvalidValue
from physbreak.symmetry.group import FiniteGroup


class Rep:
    """A representation of ``group`` on R^dim."""

    group: FiniteGroup
    dim: int

    def matrices(self) -> np.ndarray:
        """Dense ``(order, dim, dim)`` matrices (small representations only)."""
        raise NotImplementedError

    def apply(self, g, x: torch.Tensor) -> torch.Tensor:
        """``rho(g) x`` for ``x`` ``(..., dim)``; ``g`` an int or ``(batch,)`` indices
        matching the first axis of ``x``."""
        raise NotImplementedError

    def fixed_elements(self, x: np.ndarray, tol: float = 1e-6) -> np.ndarray:
        """Indices of the elements with ``rho(g) x = x`` (the stabilizer of ``x``)."""
        x = torch.as_tensor(np.asarray(x, dtype=np.float64))
        images = self.images(x)
        return np.flatnonzero((images - x).abs().amax(-1).numpy() <= tol)

    def images(self, x: torch.Tensor) -> torch.Tensor:
        """``(order, dim)``: ``rho(g) x`` for every element."""
        return self.apply(torch.arange(self.group.order), x.expand(self.group.order, -1))


class SignedPermRep(Rep):
    """Signed permutation representation.

    Args:
        group: the group.
        perm: ``(order, dim)`` int; index ``i`` moves to ``perm[g, i]``.
        sign: ``(order, dim)`` +-1 applied to ``x[i]`` (default all +1).
    """

    def __init__(self, group: FiniteGroup, perm, sign=None):
        self.group = group
        self.perm = np.asarray(perm, dtype=np.int64)
        self.dim = self.perm.shape[1]
        self.sign = np.ones(self.perm.shape) if sign is None else np.broadcast_to(
            np.asarray(sign, dtype=np.float64), self.perm.shape).copy()
        inv = np.argsort(self.perm, axis=1)
        self._gather = torch.as_tensor(inv)
        self._gsign = torch.as_tensor(np.take_along_axis(self.sign, inv, axis=1))

    @property
    def odd(self) -> bool:
        """Whether some element flips a sign (then nonlinearities must be odd)."""
        return bool(np.any(self.sign < 0))

    def apply(self, g, x):
        gather = self._gather[g].to(x.device)
        sign = self._gsign[g].to(device=x.device, dtype=x.dtype)
        if gather.dim() == 1:
            return x[..., gather] * sign
        return torch.gather(x, -1, gather.expand_as(x)) * sign

    def matrices(self):
        m = np.zeros((self.group.order, self.dim, self.dim))
        g = np.arange(self.group.order)[:, None]
        m[g, self.perm, np.arange(self.dim)[None]] = self.sign
        return m


class DenseRep(Rep):
    """Representation by explicit orthogonal matrices ``(order, dim, dim)``."""

    def __init__(self, group: FiniteGroup, matrices):
        self.group = group
        self._m = np.asarray(matrices, dtype=np.float64)
        self.dim = self._m.shape[1]
        self._t = torch.as_tensor(self._m)

    def matrices(self):
        return self._m

    def apply(self, g, x):
        m = self._t[g].to(device=x.device, dtype=x.dtype)
        return (m @ x.unsqueeze(-1)).squeeze(-1)


def direct_sum(*reps: SignedPermRep) -> SignedPermRep:
    """``rep_1 + rep_2 + ...`` acting on the concatenated vector (same group)."""
    offsets = np.cumsum([0] + [r.dim for r in reps[:-1]])
    return SignedPermRep(reps[0].group, np.concatenate([r.perm + o for r, o in zip(reps, offsets)], 1),
                         np.concatenate([r.sign for r in reps], 1))


def site_rep(group: FiniteGroup, odd: bool = True) -> SignedPermRep:
    """One value per site; ``odd`` values flip sign under the ``sign`` realisation."""
    perm = group.realisations["perm"]
    sign = group.realisations["sign"][:, None] if odd and "sign" in group.realisations else None
    return SignedPermRep(group, perm, sign)


def bond_rep(group: FiniteGroup, bonds: np.ndarray) -> SignedPermRep:
    """One value per bond (couplings; even under the spin flip).  The group's
    site permutations must map the bond set onto itself."""
    bonds = np.asarray(bonds)
    n = int(bonds.max()) + 1
    key = {(min(i, j), max(i, j)): b for b, (i, j) in enumerate(bonds.tolist())}
    perms = group.realisations["perm"]
    out = np.empty((group.order, len(bonds)), dtype=np.int64)
    for g in range(group.order):
        mapped = perms[g][bonds]
        try:
            out[g] = [key[(min(i, j), max(i, j))] for i, j in mapped.tolist()]
        except KeyError:
            raise InvalidValue("group", group.name, f"site permutations that map the {len(bonds)} "
                              f"bonds on {n} sites onto themselves") from None
    return SignedPermRep(group, out)


def vector_rep(group: FiniteGroup) -> DenseRep:
    """Cartesian vectors under the group's ``matrix`` realisation."""
    return DenseRep(group, group.realisations["matrix"])


def atom_vector_rep(group: FiniteGroup) -> DenseRep:
    """One Cartesian vector per atom (displacements): atom permutation x matrix.
    Component ``3 i + a`` is axis ``a`` of atom ``i``."""
    perms, mats = group.realisations["perm"], group.realisations["matrix"]
    n = perms.shape[1]
    m = np.zeros((group.order, 3 * n, 3 * n))
    for g in range(group.order):
        P = np.zeros((n, n))
        P[perms[g], np.arange(n)] = 1.0
        m[g] = np.kron(P, mats[g])
    return DenseRep(group, m)


def atom_scalar_rep(group: FiniteGroup) -> SignedPermRep:
    """One invariant scalar per atom (species, charges)."""
    return SignedPermRep(group, group.realisations["perm"])


class Canonicalizer:
    """Relaxed canonicalization with a fixed tie-break.

    ``c(x)`` is the lexicographically smallest image ``rho(g) x`` (values
    rounded to ``decimals``); ``g_x`` is the smallest element index reaching
    it, and ``h(x) = g_x^-1``.  Then ``h(g x) = g s h(x)`` for some ``s`` in
    ``G_x``, for every ``g``: ``h`` is relaxed-equivariant by construction.
    """

    def __init__(self, rep: Rep, decimals: int = 6):
        self.rep, self.decimals = rep, decimals

    @cached_property
    def _inverses(self) -> np.ndarray:
        return self.rep.group.inverses

    def minimizer(self, x: np.ndarray) -> int:
        """``g_x``: the first element whose image of ``x`` is lexicographically smallest."""
        images = np.round(self.rep.images(torch.as_tensor(np.asarray(x, np.float64))).numpy(),
                          self.decimals) + 0.0
        cand = np.arange(len(images))
        for col in range(images.shape[1]):
            column = images[cand, col]
            cand = cand[column == column.min()]
            if len(cand) == 1:
                break
        return int(cand[0])

    def __call__(self, x) -> np.ndarray:
        """``h(x)`` for a batch ``x`` ``(batch, dim)``: ``(batch,)`` element indices."""
        x = np.asarray(x.detach().cpu() if torch.is_tensor(x) else x, dtype=np.float64)
        return np.array([self._inverses[self.minimizer(row)] for row in x.reshape(-1, x.shape[-1])])
