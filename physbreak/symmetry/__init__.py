"""Finite symmetry groups and how they act on physical objects.

>>> from physbreak.symmetry import point_group, direct_product, spin_flip_group
>>> point_group("Oh").order, point_group("Ih").order
(48, 120)
>>> from physbreak.lattice import build
>>> direct_product(build("square", 4).space_group(), spin_flip_group()).order
256
"""

from physbreak.symmetry.actions import SiteValues, SpinHamiltonian, Structure
from physbreak.symmetry.graphs import automorphism_group, canonical_permutation, count_automorphisms
from physbreak.symmetry.group import FiniteGroup, direct_product, potts_group, spin_flip_group
from physbreak.symmetry.point_groups import NAMES as POINT_GROUPS
from physbreak.symmetry.point_groups import identify, point_group
from physbreak.symmetry.stabilizers import breaks_symmetry, orbit, stabilizer, stabilizer_elements
from physbreak.symmetry.structures import crystal_space_group, molecule_point_group

__all__ = ["POINT_GROUPS", "FiniteGroup", "SiteValues", "SpinHamiltonian", "Structure",
           "automorphism_group", "breaks_symmetry", "canonical_permutation", "count_automorphisms",
           "crystal_space_group", "direct_product", "identify", "molecule_point_group", "orbit",
           "point_group", "potts_group", "spin_flip_group", "stabilizer", "stabilizer_elements"]
