"""Spin ground-state problems: a Hamiltonian, its symmetry and its ground states.

The symmetry of a problem is its stabilizer in (relabellings of the sites) x
(spin flip): the automorphisms of the coupling graph that keep couplings and
fields (bliss), plus the spin flip when the field vanishes, or a relabelling
combined with the flip when it maps ``h`` to ``-h``.  It is stored as
generators; :meth:`SpinProblem.symmetry_group` enumerates it on demand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physbreak.groundstate.enumerate import GroundStates, energies
from physbreak.symmetry.graphs import automorphism_generators, canonical_permutation
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

    @property
    def n_sites(self) -> int:
        return len(self.h)

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
