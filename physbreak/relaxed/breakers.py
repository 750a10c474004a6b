"""Symmetry breakers: extra inputs ``b`` that let a network leave the symmetry
of its input ``x``.  One vocabulary for every model and config
(:data:`BREAKERS`, :func:`make_breaker`), two ways to call a breaker:

    b = breaker(x, generator=None)      # vector inputs: (batch, breaker.dim) float tensor
    b = breaker.node_features(problem, generator=None, channels=1)   # graphs, structures: (n_nodes, c)

``breaker.rep`` is the representation ``b`` transforms in (None when there is
no ``b``); ``breaker.deterministic`` says whether ``b`` is a function of ``x``;
``breaker.name`` is its config name.

``node_features`` reads the input's symmetry from the problem object, which
provides (duck-typed, see :mod:`physbreak.problems`): ``n_nodes``;
``canonical_features()``, the relaxed-canonical node features ``h(x) b0``;
``feature_orbit(b)``, the images of node features under ``G_x`` (identity
first); ``breaking_set()``, the symmetry-breaking set ``(m, n_nodes, c)``
(canonical member first).

| breaker | b | relaxed-equivariant |
|---|---|---|
| :class:`NoBreaker` | nothing | equivariant, cannot break |
| :class:`RelaxedCanonicalization` | ``rho_b(h(x)) b0`` | exactly |
| :class:`GraphCanonicalization` | ``b0`` relabelled by the canonical labelling | exactly |
| :class:`NoiseInjection` | ``eps`` ~ G-invariant Gaussian | in distribution |
| :class:`SymPE` | ``rho_b(s h(x)) b0``, ``s`` uniform on ``G_x`` | in distribution |
| :class:`SymmetryBreakingSet` | a member of a ``G_x``-orbit with stabilizer K | exactly |
| :class:`LearnedReferenceSet` | learned codes chosen by the input (Top-N) | as a set, not in node order |
| :class:`Unconstrained` | nothing; the model is not equivariant (baseline) | no |

``b0`` must have a free orbit (trivial stabilizer) under the group; a generic
vector does (:func:`generic_vector`): for site fields odd under the spin flip
it is far smaller than the regular representation.
"""

from __future__ import annotations

import numpy as np
import torch

from physbreak.errors import SymmetryError
from physbreak.relaxed.reps import Canonicalizer, Rep


def generic_vector(rep: Rep, seed: int = 0) -> np.ndarray:
    """A vector with a free orbit under ``rep``'s group (checked)."""
    b0 = np.random.default_rng(seed).normal(size=rep.dim)
    if len(rep.fixed_elements(b0, tol=1e-9)) != 1:
        raise ValueError("this representation has no free orbit: choose a larger one for b0")
    return b0


class NoBreaker:
    """No symmetry breaking: the model stays equivariant."""

    name, deterministic, canonicalizes = "none", True, False
    rep = None
    dim = 0

    def __call__(self, x, generator=None):
        return x.new_zeros(x.shape[0], 0)

    def node_features(self, problem, generator=None, channels: int = 0) -> np.ndarray:
        return np.zeros((problem.n_nodes, 0))


class Unconstrained(NoBreaker):
    """No breaker, and no equivariance: the model itself is given non-invariant
    inputs (node indices, lab-frame coordinates).  The baseline that shows what
    relaxed equivariance buys."""

    name = "baseline"


class LearnedReferenceSet(NoBreaker):
    """A learned reference set (Top-N, Vignac & Frossard 2022): the model holds
    ``n_max`` trainable codes and picks, from its invariant input, the ``n`` with
    the highest scores as the initial node states of a decoded set.  The
    codes live in the model (see :class:`~physbreak.learn.decoding.GraphAutoencoder`);
    the output is a function of the input's invariants, with node order set by
    the scores: equivariant as a set, not node by node."""

    name = "reference"


class RelaxedCanonicalization:
    """``b = rho_b(h(x)) b0`` with ``h`` the fixed tie-break canonicalizer of ``x``.

    On a problem (``node_features``), ``h(x) b0`` is the problem's own
    canonical features (bliss's canonical labelling for graphs); a model may
    instead realise the canonical frame its own way (sequential pinning for
    spin GNNs, the input's principal frame for structures):
    ``canonicalizes`` says so.

    Args:
        rep_x: representation of the inputs (vector inputs only).
        rep_b: representation of ``b`` (same group).
        b0: ``(rep_b.dim,)`` with a free orbit (default: :func:`generic_vector`).
    """

    name, deterministic, canonicalizes = "canonical", True, True

    def __init__(self, rep_x: Rep | None = None, rep_b: Rep | None = None, b0=None):
        self.canon = Canonicalizer(rep_x) if rep_x is not None else None
        self.rep = rep_b
        self.dim = rep_b.dim if rep_b is not None else None
        self.b0 = None if rep_b is None else torch.as_tensor(generic_vector(rep_b) if b0 is None else np.asarray(b0))

    def members(self, problem) -> np.ndarray:
        """``(m, n_nodes, c)``: the canonical features moved by every element of ``G_x`` (identity first)."""
        return problem.feature_orbit(problem.canonical_features())

    def node_features(self, problem, generator=None, channels: int = 0) -> np.ndarray:
        return problem.canonical_features()

    def elements(self, x, generator=None) -> np.ndarray:
        if self.canon is None:
            raise ValueError(f"{type(self).__name__} was built without representations: "
                             "call node_features(problem) or pass rep_x and rep_b")
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
    with ``s`` uniform on the stabilizer ``G_x``.  On a problem: a uniformly
    random member of ``base.members(problem)``, the ``G_x``-orbit of a
    deterministic breaker's features (``base``: the canonical features by
    default; :class:`SymmetryBreakingSet` for structures with a target group)."""

    name, deterministic, canonicalizes = "sympe", False, False

    def __init__(self, rep_x: Rep | None = None, rep_b: Rep | None = None, b0=None, tol: float = 1e-6,
                 base=None):
        super().__init__(rep_x, rep_b, b0)
        self.tol, self.base = tol, base

    def node_features(self, problem, generator=None, channels: int = 0) -> np.ndarray:
        base = self.base or (SymmetryBreakingSet() if problem.has_target else RelaxedCanonicalization())
        members = base.members(problem)
        return members[int(torch.randint(len(members), (1,), generator=generator))]

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

    name, deterministic, canonicalizes = "noise", False, False

    def __init__(self, rep_b: Rep | None = None, scale: float = 1.0):
        self.rep, self.dim, self.scale = rep_b, None if rep_b is None else rep_b.dim, scale

    def __call__(self, x, generator=None):
        eps = torch.randn((x.shape[0], self.dim), generator=generator, dtype=x.dtype)
        return self.scale * eps.to(x.device)

    def node_features(self, problem, generator=None, channels: int = 1) -> np.ndarray:
        """``(n_nodes, channels)`` standard normal (float64) times ``scale``: the
        network reads them in invariant-in-distribution irreps (scalars, or
        e3nn irreps with an orthonormal basis)."""
        return self.scale * torch.randn(problem.n_nodes, channels, generator=generator, dtype=torch.float64).numpy()


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

    On a problem (``node_features``), the set is the problem's own
    ``breaking_set()`` (for structures: :func:`breaking_set` of the input's
    point group and the target's, or per-atom sets where translations break).

    Args:
        rep_x: representation of the inputs; ``rep_b`` must be ``vector_rep`` of the same group.
        rep_b: 3-vector representation.
        target: Schoenflies symbol of the stabilizer the broken state keeps.
    """

    name, deterministic, canonicalizes = "sbs", True, False

    def __init__(self, rep_x: Rep | None = None, rep_b: Rep | None = None, target: str | None = None,
                 tol: float = 1e-6):
        self.rep_x, self.rep, self.dim, self.target, self.tol = rep_x, rep_b, 3, target, tol

    def members(self, x_row) -> np.ndarray:
        """The symmetry-breaking set of one input: ``(n, 3)`` unit vectors for a
        vector input row; ``(m, n_nodes, c)`` for a problem."""
        if hasattr(x_row, "breaking_set"):
            return x_row.breaking_set()
        return breaking_vectors(self.rep.matrices()[self.rep_x.fixed_elements(x_row, self.tol)], self.target)

    def node_features(self, problem, generator=None, channels: int = 0) -> np.ndarray:
        return problem.breaking_set()[0]

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


# a vector; an axial vector per site (tilts); a symmetric traceless tensor where the target is centrosymmetric
BREAKER_IRREPS = "1x1o+1x1e+1x2e"
BREAKER_DIM = 11
BREAKER_SLOTS = {"1x1o": slice(0, 3), "1x1e": slice(3, 6), "1x2e": slice(6, 11)}  # columns of each irrep
_SETS: dict = {}


def breaking_set(mats: np.ndarray, target) -> np.ndarray:
    """The symmetry-breaking set of the subgroup ``target`` ``(k, 3, 3)`` of the
    point group ``mats`` as :data:`BREAKER_IRREPS` features ``(n, 11)``, canonical
    member first (the lexicographically smallest, 5 decimals): unit vectors when
    one has the stabilizer ``target`` (:func:`breaking_vectors`), else unit ``2e``
    tensors (:func:`breaking_tensors`; D4h -> D2h keeps the inversion, so no
    vector works).  A ValueError when neither exists.  Cached per group pair."""
    key = (np.round(mats, 8).tobytes(), np.round(np.asarray(target), 8).tobytes())
    if key in _SETS:
        return _SETS[key]
    vectors = breaking_vectors(mats, target)
    if len(vectors):
        members = np.concatenate([vectors, np.zeros((len(vectors), 8))], axis=1)
    else:
        tensors = breaking_tensors(mats, np.asarray(target), "2e")
        if len(tensors) == 0:
            raise SymmetryError(f"neither a vector nor a 2e tensor has the target group ({len(target)} operations) "
                             f"as its stabilizer in this input's point group ({len(mats)} operations)")
        members = np.concatenate([np.zeros((len(tensors), 6)), tensors], axis=1)
    members = np.unique(np.round(members, 5) + 0.0, axis=0)
    _SETS[key] = members[np.lexsort(members.T[::-1])]
    return _SETS[key]


BREAKERS = {"none": NoBreaker, "canonical": RelaxedCanonicalization, "sbs": SymmetryBreakingSet,
            "noise": NoiseInjection, "sympe": SymPE, "reference": LearnedReferenceSet, "baseline": Unconstrained}


def make_breaker(name: str):
    """The breaker called ``name`` in configs (:data:`BREAKERS`), with defaults."""
    if name not in BREAKERS:
        raise ValueError(f"breaker {name!r} is not known: one of {', '.join(BREAKERS)}")
    return BREAKERS[name]()
