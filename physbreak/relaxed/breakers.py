"""Symmetry breakers: extra inputs ``b`` that let a network leave the symmetry
of its input ``x``.  One interface, interchangeable in every model::

    b = breaker(x, generator=None)      # (batch, breaker.dim) float tensor

``breaker.rep`` is the representation ``b`` transforms in (None when there is
no ``b``); ``breaker.deterministic`` says whether ``b`` is a function of ``x``.

| breaker | b | relaxed-equivariant |
|---|---|---|
| :class:`NoBreaker` | nothing | equivariant, cannot break |
| :class:`RelaxedCanonicalization` | ``rho_b(h(x)) b0`` | exactly |
| :class:`GraphCanonicalization` | ``b0`` relabelled by the canonical labelling | exactly |
| :class:`NoiseInjection` | ``eps`` ~ G-invariant Gaussian | in distribution |
| :class:`SymPE` | ``rho_b(s h(x)) b0``, ``s`` uniform on ``G_x`` | in distribution |
| :class:`SymmetryBreakingSet` | a member of a ``G_x``-orbit with stabilizer K | exactly |

``b0`` must have a free orbit (trivial stabilizer) under the group; a generic
vector does (:func:`generic_vector`): for site fields odd under the spin flip
it is far smaller than the regular representation.
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.relaxed.reps import Canonicalizer, Rep


def generic_vector(rep: Rep, seed: int = 0) -> np.ndarray:
    """A vector with a free orbit under ``rep``'s group (checked)."""
    b0 = np.random.default_rng(seed).normal(size=rep.dim)
    if len(rep.fixed_elements(b0, tol=1e-9)) != 1:
        raise ValueError("this representation has no free orbit: choose a larger one for b0")
    return b0


class NoBreaker:
    """No symmetry breaking: the model stays equivariant."""

    deterministic = True
    rep = None
    dim = 0

    def __call__(self, x, generator=None):
        return x.new_zeros(x.shape[0], 0)


class RelaxedCanonicalization:
    """``b = rho_b(h(x)) b0`` with ``h`` the fixed tie-break canonicalizer of ``x``.

    Args:
        rep_x: representation of the inputs.
        rep_b: representation of ``b`` (same group).
        b0: ``(rep_b.dim,)`` with a free orbit (default: :func:`generic_vector`).
    """

    deterministic = True

    def __init__(self, rep_x: Rep, rep_b: Rep, b0=None):
        self.canon = Canonicalizer(rep_x)
        self.rep = rep_b
        self.dim = rep_b.dim
        self.b0 = torch.as_tensor(generic_vector(rep_b) if b0 is None else np.asarray(b0))

    def elements(self, x, generator=None) -> np.ndarray:
        return self.canon(x)

    def __call__(self, x, generator=None):
        g = torch.as_tensor(self.elements(x, generator))
        b0 = self.b0.to(device=x.device, dtype=x.dtype).expand(len(g), -1)
        return self.rep.apply(g, b0)


def site_b0(n: int) -> np.ndarray:
    """A fixed generic site field of ``n`` values: Gaussian, zero mean on
    average, seeded by ``n`` (so the same for every graph of that size)."""
    b0 = np.random.default_rng(1_000_003 + n).normal(size=n)
    assert len(np.unique(b0)) == n and not np.allclose(np.sort(b0), np.sort(-b0))
    return b0


def canonical_frame(n: int, bonds, J, h, decimals: int = 6) -> tuple[float, np.ndarray]:
    """``(sigma_x, label_x)``: the spin-flip part and the canonical labelling of a
    Hamiltonian on a graph (bliss), the fixed tie-break choosing the field sign
    whose canonical form is smaller (+1 on ties)."""
    from physbreak.symmetry.graphs import canonical_permutation

    bonds, J, h = np.asarray(bonds), np.asarray(J, float), np.asarray(h, float)

    def form(field):
        label = canonical_permutation(n, bonds, field, J, decimals)
        edges = np.sort(label[bonds], axis=1)
        order = np.lexsort((edges[:, 1], edges[:, 0]))
        return (tuple(map(tuple, edges[order])), tuple(np.round(J[order], decimals) + 0.0),
                tuple(np.round(field[np.argsort(label)], decimals) + 0.0)), label

    (form_p, label_p), (form_m, label_m) = form(h), form(-h)
    return (1.0, label_p) if form_p <= form_m else (-1.0, label_m)


def anchor_features(n: int, bonds, J, h, anchors: int = 2, decimals: int = 6) -> np.ndarray:
    """Relaxed canonicalization as positional features: ``(n, 2 + 3 anchors)``,
    the canonical site field, a constant, and, for the first ``anchors`` sites
    of the canonical labelling, the parity ``(-1)^d``, ``cos(pi d / 2)`` and
    ``exp(-d)`` of every site's graph distance ``d`` to them; all times
    ``sigma_x`` (odd under the flip).  Size-independent, and relaxed-equivariant
    like the labelling itself."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    sign, label = canonical_frame(n, bonds, J, h, decimals)
    bonds = np.asarray(bonds)
    adj = coo_matrix((np.ones(len(bonds)), (bonds[:, 0], bonds[:, 1])), shape=(n, n))
    order = np.argsort(label)
    dist = shortest_path(adj, directed=False, unweighted=True, indices=order[:anchors])
    dist[~np.isfinite(dist)] = n
    feats = [site_b0(n)[label], np.ones(n)]
    for d in dist:
        feats += [(-1.0) ** d, np.cos(np.pi * d / 2), np.exp(-d)]
    return sign * np.stack(feats, axis=1)


def canonical_site_field(n: int, bonds, J, h, b0=None, decimals: int = 6) -> np.ndarray:
    """``b_i = sigma_x * b0[label_x(i)]`` for one Hamiltonian on any graph (see
    :class:`GraphCanonicalization`); the default ``b0`` (:func:`site_b0`) has
    distinct entries and no relabelling maps it to ``-b0`` (a free orbit)."""
    b0 = site_b0(n) if b0 is None else np.asarray(b0)
    sign, label = canonical_frame(n, bonds, J, h, decimals)
    return sign * b0[label]


class GraphCanonicalization:
    """Relaxed canonicalization for spin Hamiltonians on any graph, with no group
    given: ``h(x)`` is bliss's canonical labelling of the coupling graph (edge
    weights = couplings, vertex colours = fields) and, for the spin flip, the
    field sign whose canonical form is smaller (ties: +1).  ``b_i = sigma_x *
    b0[label_x(i)]``, a site field odd under the flip.  Relaxed-equivariant
    under (automorphisms of the graph) x Z2, with no enumeration of the group.

    Args:
        n_sites: vertices.
        bonds: ``(n_bonds, 2)``; inputs are ``x = [J (n_bonds), h (n_sites)]`` or
            just ``J`` when ``fields`` is False.
        rep_b: representation of ``b`` (a :func:`~physbreak.relaxed.reps.site_rep`), or None.
        decimals: rounding of couplings and fields before comparing them.
    """

    deterministic = True

    def __init__(self, n_sites: int, bonds, rep_b: Rep | None = None, fields: bool = False,
                 b0=None, decimals: int = 6):
        self.n, self.bonds, self.fields, self.decimals = n_sites, np.asarray(bonds), fields, decimals
        self.rep, self.dim = rep_b, n_sites
        self.b0 = site_b0(n_sites) if b0 is None else np.asarray(b0)

    def __call__(self, x, generator=None):
        rows = np.asarray(x.detach().cpu(), dtype=np.float64)
        nb = len(self.bonds)
        out = [canonical_site_field(self.n, self.bonds, row[:nb], row[nb:] if self.fields else np.zeros(self.n),
                                    self.b0, self.decimals) for row in rows]
        return torch.as_tensor(np.array(out), dtype=x.dtype, device=x.device)


class SymPE(RelaxedCanonicalization):
    """Randomised canonicalization (Lawrence et al. 2025): ``b = rho_b(s h(x)) b0``
    with ``s`` uniform on the stabilizer ``G_x``."""

    deterministic = False

    def __init__(self, rep_x: Rep, rep_b: Rep, b0=None, tol: float = 1e-6):
        super().__init__(rep_x, rep_b, b0)
        self.tol = tol

    def elements(self, x, generator=None):
        group = self.canon.rep.group
        h = self.canon(x)
        x = np.asarray(x.detach().cpu(), dtype=np.float64)
        out = []
        for row, hk in zip(x, h):
            stab = self.canon.rep.fixed_elements(row, self.tol)
            pick = int(torch.randint(len(stab), (1,), generator=generator))
            out.append(group.product(int(stab[pick]), int(hk)))
        return np.array(out)


class NoiseInjection:
    """``b = scale * eps`` with ``eps`` standard normal in ``rep_b``: invariant
    in distribution under every orthogonal representation."""

    deterministic = False

    def __init__(self, rep_b: Rep, scale: float = 1.0):
        self.rep, self.dim, self.scale = rep_b, rep_b.dim, scale

    def __call__(self, x, generator=None):
        eps = torch.randn((x.shape[0], self.dim), generator=generator, dtype=x.dtype)
        return self.scale * eps.to(x.device)


def _same_group(a: np.ndarray, b: np.ndarray) -> bool:
    key = lambda m: {tuple(np.round(x, 6).ravel() + 0.0) for x in m}  # noqa: E731
    return key(a) == key(b)


def breaking_vectors(mats: np.ndarray, target) -> np.ndarray:
    """Unit vectors whose stabilizer in the point group ``mats`` ``(g, 3, 3)``
    (Cartesian, proper and improper) is ``target``: a Schoenflies name (every
    subgroup of that type: one orbit of the group per conjugacy class) or the
    subgroup itself as matrices ``(k, 3, 3)`` (just the vectors it fixes).
    Built from the group's own rotation axes and mirror normals: ``(n, 3)``."""
    from physbreak.symmetry.point_groups import identify

    proper = mats * np.sign(np.linalg.det(mats))[:, None, None]
    w, v = np.linalg.eig(proper)
    axes = np.real(np.take_along_axis(v, np.argmin(np.abs(w - 1), axis=1)[:, None, None], 2)[..., 0])
    axes = axes[~np.all(np.isclose(proper, np.eye(3), atol=1e-9), axis=(1, 2))]
    axes = axes / np.linalg.norm(axes, axis=1, keepdims=True)
    axes = np.unique(np.round(np.concatenate([axes, -axes]), 8) + 0.0, axis=0)
    fixed = np.all(np.abs(np.einsum("gij,cj->gci", mats, axes) - axes[None]) < 1e-6, axis=-1)
    if isinstance(target, str):
        keep = [c for c in range(len(axes)) if identify(mats[fixed[:, c]]) == target]
    else:
        keep = [c for c in range(len(axes)) if _same_group(mats[fixed[:, c]], np.asarray(target))]
    return axes[keep].reshape(-1, 3)


class SymmetryBreakingSet:
    """Xie & Smidt (2024): from the input's point group ``G_x`` (a dense 3x3
    representation), the set of unit vectors whose stabilizer in ``G_x`` is the
    subgroup named ``target`` (e.g. C4v for a polar tetragonal distortion of a
    cubic cell); the set is built from ``G_x``'s own rotation axes and mirror
    normals, so it moves with ``x``, and one fixed member (the smallest, by a
    tie-break) is returned.

    Args:
        rep_x: representation of the inputs; ``rep_b`` must be ``vector_rep`` of the same group.
        rep_b: 3-vector representation.
        target: Schoenflies symbol of the stabilizer the broken state keeps.
    """

    deterministic = True

    def __init__(self, rep_x: Rep, rep_b: Rep, target: str, tol: float = 1e-6):
        self.rep_x, self.rep, self.dim, self.target, self.tol = rep_x, rep_b, 3, target, tol

    def members(self, x_row: np.ndarray) -> np.ndarray:
        """The symmetry-breaking set of one input: ``(n, 3)`` unit vectors."""
        return breaking_vectors(self.rep.matrices()[self.rep_x.fixed_elements(x_row, self.tol)], self.target)

    def __call__(self, x, generator=None):
        rows = np.asarray(x.detach().cpu(), dtype=np.float64)
        chosen = []
        for row in rows:
            members = np.round(self.members(row), 6) + 0.0
            if len(members) == 0:
                raise ValueError(f"no vector has stabilizer {self.target} in this input's group")
            chosen.append(members[np.lexsort(members.T[::-1])[0]])
        return torch.as_tensor(np.array(chosen), dtype=x.dtype, device=x.device)


def breaking_tensors(mats: np.ndarray, target: np.ndarray, irrep: str) -> np.ndarray:
    """Unit features of an O(3) irrep (e3nn basis, e.g. ``"2e"`` for a symmetric
    traceless tensor) whose stabilizer in the point group ``mats`` ``(g, 3, 3)``
    is exactly the subgroup ``target`` ``(k, 3, 3)``: the orbit under ``mats`` of
    the direction ``target`` fixes and ``mats`` does not, ``(n, 2l+1)``; empty
    when that direction is not unique (or absent) or has a larger stabilizer.
    Needed where no vector works: a centrosymmetric target (D4h -> D2h) fixes
    no vector."""
    import torch
    from e3nn import o3

    def rep(ms):
        return o3.Irrep(irrep).D_from_matrix(torch.as_tensor(np.asarray(ms), dtype=torch.float64)).numpy()

    D, Dk = rep(mats), rep(target)
    P_k, P_g = Dk.mean(0), D.mean(0)  # projectors onto the fixed subspaces
    w, v = np.linalg.eigh((P_k + P_k.T) / 2 - (P_g + P_g.T) / 2)
    fixed = v[:, w > 0.5]
    if fixed.shape[1] != 1:
        return np.zeros((0, D.shape[1]))
    b = fixed[:, 0]
    if sum(np.allclose(M @ b, b, atol=1e-6) for M in D) != len(target):
        return np.zeros((0, D.shape[1]))
    return np.unique(np.round(np.einsum("gij,j->gi", D, b), 5) + 0.0, axis=0)
