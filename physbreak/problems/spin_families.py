"""Named generators of ground-state problems.

Each family is a function ``(rng, size, params) -> (label, bonds, J, h)``;
:func:`generate` adds the ground states (exact up to ``exact_limit`` spins,
annealing search beyond) and the stabilizer.  Sizes are linear sizes L for
lattice families and vertex counts for graphs.

| family | Hamiltonian | symmetry left |
|---|---|---|
| ``uniform`` | square L x L torus, J1 (Jx != Jy with probability 1/2), J2, field h | p4m (or less) x Z2 |
| ``frustrated`` | triangular or kagome antiferromagnet | space group x Z2 |
| ``spin_glass`` | Edwards-Anderson +-J or Gaussian on the square torus | Z2 only |
| ``planted`` | random couplings symmetrised over a random subgroup of p4m x Z2 | the subgroup |
| ``maxcut`` | J = -1 on cycles, circulants, Petersen, hypercubes, random 3-regular graphs | Aut(graph) x Z2 |
"""

from __future__ import annotations


import numpy as np

from physbreak.errors import InvalidValue
from physbreak.groundstate import ground_states
from physbreak.problems.spin import SpinProblem, make_problem
from physbreak.lattice import build
from physbreak.symmetry.group import FiniteGroup, direct_product, spin_flip_group


def _uniform(rng, L, p):
    lat = build("square", L)
    nn, nnn = lat.bonds(1), lat.bonds(2)
    J1 = float(rng.choice(p.get("J1", [1.0, -1.0])))
    lo, hi = p.get("J2", [-1.0, 0.3])
    J2 = float(rng.uniform(lo, hi))
    vertical = np.abs(lat.positions[nn[:, 0], 0] - lat.positions[nn[:, 1], 0]) < 0.5
    ratio = 1.0 + (rng.uniform(-1, 1) * p.get("anisotropy", 0.5) if rng.random() < 0.5 else 0.0)
    J = np.concatenate([np.where(vertical, J1 * ratio, J1), np.full(len(nnn), J2)])
    field = p.get("field", 0.5) * rng.uniform(-1, 1) if rng.random() < p.get("field_probability", 0.3) else 0.0
    h = np.full(lat.n_sites, field)
    label = f"square {L}x{L} J1={J1:+.2f} Jy/Jx={ratio:.2f} J2={J2:+.2f} h={field:+.2f}"
    return label, np.concatenate([nn, nnn]), J, h


def _frustrated(rng, L, p):
    kind = str(rng.choice(p.get("lattices", ["triangular", "kagome"])))
    lat = build(kind, L)
    field = p.get("field", 0.0) * rng.uniform(-1, 1)
    return f"{kind} {L}x{L} AFM h={field:+.2f}", lat.bonds(1), -np.ones(len(lat.bonds(1))), \
        np.full(lat.n_sites, field)


def _spin_glass(rng, L, p):
    lat = build("square", L)
    n = len(lat.bonds(1))
    kind = p.get("couplings", "pm")
    J = rng.choice([-1.0, 1.0], n) if kind == "pm" else rng.normal(size=n)
    return f"EA {kind} {L}x{L}", lat.bonds(1), J, np.zeros(lat.n_sites)


def _planted(rng, L, p):
    lat = build("square", L)
    group = direct_product(lat.space_group(), spin_flip_group())
    gens = rng.integers(1, group.order, int(p.get("generators", 2)))
    sub = FiniteGroup.generate({k: [group.realisations[k][g] for g in gens] for k in group.realisations})
    bonds = lat.bonds(1)
    index = {tuple(sorted(b)): k for k, b in enumerate(bonds.tolist())}
    J = np.zeros(len(bonds))
    for b in range(len(bonds)):
        if J[b] == 0:
            value = rng.normal() or 1.0
            for perm in sub.realisations["perm"]:
                J[index[tuple(sorted(perm[bonds[b]].tolist()))]] = value
    h, done = np.zeros(lat.n_sites), np.zeros(lat.n_sites, bool)
    for i in range(lat.n_sites):
        if done[i]:
            continue
        value, images = p.get("field", 0.5) * rng.normal(), {}
        for perm, sign in zip(sub.realisations["perm"], sub.realisations["sign"]):
            images.setdefault(int(perm[i]), set()).add(sign)
        consistent = all(len(v) == 1 for v in images.values())
        for site, signs in images.items():
            h[site] = value * next(iter(signs)) if consistent else 0.0
            done[site] = True
    return f"planted {L}x{L} |H|={sub.order}", bonds, J, h


def _graph(rng, n, p):
    kind = str(rng.choice(p.get("graphs", ["cycle", "circulant", "petersen", "hypercube", "regular"])))
    if kind == "cycle":
        edges = [(i, (i + 1) % n) for i in range(n)]
    elif kind == "circulant":
        k = int(rng.integers(2, max(3, n // 2)))
        edges = sorted({tuple(sorted((i, (i + d) % n))) for i in range(n) for d in (1, k)})
    elif kind == "petersen":
        n = 10
        edges = [(i, (i + 1) % 5) for i in range(5)] + [(5 + i, 5 + (i + 2) % 5) for i in range(5)] \
            + [(i, i + 5) for i in range(5)]
    elif kind == "hypercube":
        d = int(np.clip(round(np.log2(n)), 2, 4))
        n = 2**d
        edges = [(i, i ^ (1 << k)) for i in range(n) for k in range(d) if i < i ^ (1 << k)]
    else:
        edges = _random_regular(rng, n + n % 2, 3)
        n = n + n % 2
    label = f"{kind} n={n}"
    edges = np.array(edges)
    return label, edges, -np.ones(len(edges)), np.zeros(n)


def _random_regular(rng, n, d, tries=1000):
    """A simple random d-regular graph by the pairing model with rejection."""
    for _ in range(tries):
        stubs = rng.permutation(np.repeat(np.arange(n), d)).reshape(-1, 2)
        if np.any(stubs[:, 0] == stubs[:, 1]):
            continue
        e = {tuple(sorted(s)) for s in stubs.tolist()}
        if len(e) == len(stubs):
            return sorted(e)
    raise InvalidValue("sizes", n, f"a size with a simple {d}-regular graph")


FAMILIES = {"uniform": _uniform, "frustrated": _frustrated, "spin_glass": _spin_glass,
            "planted": _planted, "maxcut": _graph}


def generate(family: str, size: int, rng: np.random.Generator, params: dict | None = None,
             exact_limit: int = 30, seed: int = 0) -> SpinProblem:
    """One problem of ``family`` at ``size``, with ground states and symmetry."""
    if family not in FAMILIES:
        raise InvalidValue("name", family, f"one of {', '.join(FAMILIES)}")
    label, bonds, J, h = FAMILIES[family](rng, size, params or {})
    ground = ground_states(len(h), bonds, J, h, exact_limit=exact_limit, seed=seed)
    return make_problem(family, label, bonds, J, h, ground)
