"""Bravais lattices with a basis: chain, square, triangular, honeycomb, kagome,
simple cubic.  Bonds are found geometrically and grouped into shells by length.
"""

from __future__ import annotations

import itertools

import numpy as np

from physbreak.errors import InvalidValue
from physbreak.lattice.lattice import Lattice

_S3 = np.sqrt(3.0)

# name -> (primitive vectors as rows, basis positions as rows), lattice constant 1
_GEOMETRY = {
    "chain": (np.array([[1.0]]), np.array([[0.0]])),
    "square": (np.eye(2), np.zeros((1, 2))),
    "triangular": (np.array([[1.0, 0.0], [0.5, _S3 / 2]]), np.zeros((1, 2))),
    "honeycomb": (np.array([[1.0, 0.0], [0.5, _S3 / 2]]),
                  np.array([[0.0, 0.0], [0.5, _S3 / 6]])),
    "kagome": (np.array([[2.0, 0.0], [1.0, _S3]]),
               np.array([[0.0, 0.0], [1.0, 0.0], [0.5, _S3 / 2]])),
    "cubic": (np.eye(3), np.zeros((1, 3))),
}

KINDS = tuple(_GEOMETRY)


def build(kind: str, size, periodic: bool = True, n_shells: int = 2) -> Lattice:
    """Build a lattice by name.

    Args:
        kind: one of :data:`KINDS`.
        size: linear sizes in unit cells; an int (or a 1-tuple) means the same
            along every axis.
        periodic: periodic (torus) or open boundaries.
        n_shells: how many bond shells to find (1 = nearest neighbours only).

    Site ``i`` is basis site ``i % n_basis`` of unit cell ``i // n_basis``,
    cells numbered in C order over ``size``.
    """
    if kind not in _GEOMETRY:
        raise InvalidValue("kind", kind, f"one of {', '.join(KINDS)}")
    vectors, basis = _GEOMETRY[kind]
    dim = len(vectors)
    size = (size,) if np.isscalar(size) else tuple(size)
    size = size * dim if len(size) == 1 else size
    if len(size) != dim:
        raise InvalidValue("size", list(size), f"{dim} integers for a {kind} lattice")
    for length in size:
        if not isinstance(length, (int, np.integer)) or length < 1:
            raise InvalidValue("size", list(size), "positive integers")
    cells = np.indices(size, dtype=np.int64).reshape(dim, -1).T  # C order
    n_basis = len(basis)
    positions = (cells @ vectors)[:, None, :] + basis[None, :, :]
    shells = _find_shells(size, vectors, basis, cells, periodic, n_shells)
    if periodic and any(np.any(b[:, 0] == b[:, 1]) for b in shells):
        raise InvalidValue("size", list(size),
                          f"sizes large enough that no {kind} bond wraps onto its own site")
    return Lattice(kind, size, positions.reshape(-1, dim), shells, periodic, vectors, n_basis)


def _find_shells(size, vectors, basis, cells, periodic, n_shells):
    """Bonds of the first ``n_shells`` distance shells, each listed once."""
    dim, n_basis = len(vectors), len(basis)
    offsets = []  # (cell offset, basis a, basis b, length)
    for d in itertools.product(range(-2, 3), repeat=dim):
        for a, b in itertools.product(range(n_basis), repeat=2):
            # keep exactly one of each bond pair (d, a, b) ~ (-d, b, a)
            if (tuple(d), a, b) <= (tuple(-x for x in d), b, a):
                continue
            length = np.linalg.norm(np.array(d) @ vectors + basis[b] - basis[a])
            offsets.append((np.array(d), a, b, round(length, 6)))
    lengths = sorted({o[3] for o in offsets})[:n_shells]
    size = np.array(size)
    shells = []
    for length in lengths:
        bonds = []
        for d, a, b, ell in offsets:
            if ell != length:
                continue
            if periodic:  # the cell index at (cell + d) mod size, by rolling the index grid
                i = np.arange(len(cells)) * n_basis + a
                grid = np.arange(len(cells)).reshape(tuple(size))
                j = np.roll(grid, tuple(-d), tuple(range(dim))).ravel() * n_basis + b
            else:
                target = tuple(cells[:, k] + d[k] for k in range(dim))
                inside = np.all([(t >= 0) & (t < n) for t, n in zip(target, size)], axis=0)
                i = np.flatnonzero(inside) * n_basis + a
                j = np.ravel_multi_index(tuple(t[inside] for t in target), tuple(size)) * n_basis + b
            bonds.append(np.stack([i, j], axis=1))
        shells.append(np.concatenate(bonds) if bonds else np.zeros((0, 2), np.int64))
    return tuple(shells)

