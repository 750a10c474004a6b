"""Spin ground-state problems: a Hamiltonian, its symmetry and its ground states.

The symmetry of a problem is its stabilizer in (relabellings of the sites) x
(spin flip): the automorphisms of the coupling graph that keep couplings and
fields (bliss), plus the spin flip when the field vanishes, or a relabelling
combined with the flip when it maps ``h`` to ``-h``.  It is stored as
generators; :meth:`SpinProblem.symmetry_group` enumerates it on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from physbreak.groundstate.enumerate import GroundStates, energies
from physbreak.symmetry.graphs import automorphism_generators, canonical_permutation, graph_distances
from physbreak.symmetry.group import FiniteGroup


@dataclass
class SpinProblem:
    """One Ising ground-state problem.

    Attributes:
        family, label: generator name and a description (``"square 4x4 J2=-0.7"``).
        bonds: ``(n_bonds, 2)`` int; J: ``(n_bonds,)``; h: ``(n_sites,)`` (units of J).
        ground: the ground states (exact or searched).
        stab_perm, stab_sign: ``(k, n_sites)`` / ``(k,)`` generators of the stabilizer.
    """

    family: str
    label: str
    bonds: np.ndarray
    J: np.ndarray
    h: np.ndarray
    ground: GroundStates
    stab_perm: np.ndarray
    stab_sign: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    has_target = False  # no target subgroup: breakers use the canonical frame

    @property
    def n_sites(self) -> int:
        return len(self.h)

    @property
    def n_nodes(self) -> int:
        return len(self.h)

    def key(self) -> bytes:
        """Content key (bonds, couplings, fields)."""
        return self.bonds.tobytes() + b"|" + self.J.tobytes() + b"|" + self.h.tobytes()

    def _cached(self, name, make):
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def group_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The stabilizer's elements as ``(perms (g, n), signs (g,))``, identity first."""
        def make():
            g = self.symmetry_group()
            return g.realisations["perm"], g.realisations["sign"]
        return self._cached("group", make)

    def canonical_frame(self) -> tuple[float, np.ndarray]:
        """``(sigma_x, label_x)``: flip sign and bliss canonical labelling (:func:`canonical_frame`)."""
        from physbreak.relaxed.breakers import canonical_frame

        return self._cached("frame", lambda: canonical_frame(self.n_sites, self.bonds, self.J, self.h))

    def canonical_features(self) -> np.ndarray:
        """``(n, 8)`` relaxed-canonical anchor features (:func:`anchor_features`)."""
        from physbreak.relaxed.breakers import anchor_features

        return self._cached("anchors", lambda: anchor_features(self.n_sites, self.bonds, self.J, self.h))

    def feature_orbit(self, b: np.ndarray) -> np.ndarray:
        """``(g, n, c)``: site features ``b`` moved by every stabilizer element (identity first)."""
        perm, sign = self.group_arrays()
        out = np.empty((len(perm),) + b.shape)
        out[np.arange(len(perm))[:, None], perm] = sign[:, None, None] * b[None]
        return out

    def graph_distances(self) -> np.ndarray:
        """``(n, n)`` graph distances of the coupling graph (unreachable: n)."""
        return self._cached("distances", lambda: graph_distances(self.n_sites, self.bonds))

    def relabelled(self, perm: np.ndarray, sign: int) -> "SpinProblem":
        """The problem with site i renamed ``perm[i]`` and fields times ``sign``."""
        h = np.empty_like(self.h)
        h[perm] = sign * self.h
        states = np.empty_like(self.ground.states)
        states[:, perm] = sign * self.ground.states
        ground = type(self.ground)(self.ground.energy, self.ground.degeneracy, states,
                                   self.ground.exact, self.ground.restarts, self.ground.agreed)
        inv = np.argsort(perm)
        return SpinProblem(self.family, self.label, perm[self.bonds], self.J, h, ground,
                           perm[self.stab_perm][:, inv] if len(self.stab_perm) else self.stab_perm,
                           self.stab_sign)

    def energy(self, states: np.ndarray) -> np.ndarray:
        """Energies of ``(k, n_sites)`` +-1 states."""
        return energies(np.atleast_2d(states), self.bonds, self.J, self.h)

    def symmetry_group(self, max_order: int = 100_000) -> FiniteGroup:
        """The stabilizer, enumerated (realisations ``perm`` and ``sign``)."""
        if len(self.stab_perm) == 0:
            return FiniteGroup({"perm": np.arange(self.n_sites)[None], "sign": np.ones(1, np.int64)},
                               "trivial", generators=[])
        return FiniteGroup.generate({"perm": list(self.stab_perm), "sign": list(self.stab_sign)},
                                    "Stab", max_order=max_order)


def stabilizer_generators(n: int, bonds, J, h, decimals: int = 8):
    """Generators ``(perm (k, n), sign (k,))`` of the stabilizer of ``(J, h)`` in
    S_n x Z2 (see the module docstring)."""
    perms = list(automorphism_generators(n, bonds, h, J, decimals))
    signs = [1] * len(perms)
    if not np.any(np.round(h, decimals)):
        perms.append(np.arange(n))
        signs.append(-1)
    else:
        a = canonical_permutation(n, bonds, h, J, decimals)
        b = canonical_permutation(n, bonds, -h, J, decimals)
        pi = np.argsort(b)[a]  # site i -> the site of -h with the same canonical label
        mapped = np.sort(pi[bonds], axis=1)
        same_edges = {(i, j, round(float(c), decimals)) for (i, j), c in zip(np.sort(bonds, 1).tolist(), J)}
        if {(i, j, round(float(c), decimals)) for (i, j), c in zip(mapped.tolist(), J)} == same_edges \
                and np.allclose(-h[np.argsort(pi)], h, atol=10.0**-decimals):
            perms.append(pi)
            signs.append(-1)
    return np.array(perms, dtype=np.int64).reshape(-1, n), np.array(signs, dtype=np.int64)


def make_problem(family: str, label: str, bonds, J, h, ground: GroundStates) -> SpinProblem:
    bonds = np.asarray(bonds, dtype=np.int64)
    J, h = np.asarray(J, dtype=np.float64), np.asarray(h, dtype=np.float64)
    perm, sign = stabilizer_generators(len(h), bonds, J, h)
    return SpinProblem(family, label, bonds, J, h, ground, perm, sign)
