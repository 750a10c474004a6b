"""Stabilizers, orbits and symmetry breaking, by brute force over the group
(vectorised; see :mod:`physbreak.symmetry.actions` for the objects)."""

from __future__ import annotations

import numpy as np

from physbreak.symmetry.group import FiniteGroup


def stabilizer_elements(group: FiniteGroup, obj) -> np.ndarray:
    """Indices of the elements ``g`` with ``g . obj = obj``."""
    return np.flatnonzero(obj.fixed_mask(group))


def stabilizer(group: FiniteGroup, obj) -> FiniteGroup:
    """The stabilizer ``G_obj`` as a subgroup (``parent_index`` maps into ``group``)."""
    return group.subgroup(stabilizer_elements(group, obj), name=f"Stab({group.name})")


def orbit(group: FiniteGroup, obj) -> list:
    """The distinct images ``g . obj``, one per left coset of the stabilizer
    (the first ``g`` of each coset in index order)."""
    stab = stabilizer_elements(group, obj)
    return [obj.transformed(group, coset[0]) for coset in group.left_cosets(stab)]


def breaks_symmetry(group: FiniteGroup, symmetric, state) -> bool:
    """Whether ``state`` breaks a symmetry of ``symmetric``: some element of
    ``G_symmetric`` does not fix ``state`` (i.e. ``G_symmetric`` is not a
    subset of ``G_state``)."""
    return bool(np.any(symmetric.fixed_mask(group) & ~state.fixed_mask(group)))
