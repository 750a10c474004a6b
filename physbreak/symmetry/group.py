"""The :class:`FiniteGroup` value: elements, products, inverses, subgroups, cosets.

A group is a list of elements given by one or more faithful *realisations*,
each an array whose first axis runs over the elements:

* ``"matrix"``: ``(order, d, d)`` orthogonal matrices (point groups);
* ``"perm"``: ``(order, n_sites)`` int site permutations, site ``i`` goes to
  ``perm[g, i]`` (lattice groups, graph automorphisms);
* ``"sign"``: ``(order,)`` +-1, the global spin flip Z2;
* ``"potts"``: ``(order, q)`` int permutations of the q Potts states (S_q).

Elements compose through one :meth:`FiniteGroup.product`: ``product(a, b)``
is "first b, then a".  Element 0 is the identity.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from physbreak.errors import InvalidValue

REALISATIONS = ("matrix", "perm", "sign", "potts")


def _compose(kind: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Realisation of "first b, then a" (batched over leading axes)."""
    if kind == "matrix":
        return a @ b
    if kind == "sign":
        return a * b
    return np.take_along_axis(a, b, axis=-1)  # perm, potts: (a o b)[i] = a[b[i]]


def _invert(kind: str, a: np.ndarray) -> np.ndarray:
    if kind == "matrix":
        return np.swapaxes(a, -1, -2)  # orthogonal
    if kind == "sign":
        return a
    inv = np.empty_like(a)
    np.put_along_axis(inv, a, np.broadcast_to(np.arange(a.shape[-1]), a.shape), axis=-1)
    return inv


def _identity(kind: str, example: np.ndarray) -> np.ndarray:
    if kind == "matrix":
        return np.eye(example.shape[-1])
    if kind == "sign":
        return np.ones((), dtype=example.dtype)
    return np.arange(example.shape[-1], dtype=example.dtype)


def _key(kind: str, a: np.ndarray) -> bytes:
    if kind == "matrix":
        return (np.round(np.asarray(a, dtype=np.float64), 6) + 0.0).tobytes()  # + 0.0 turns -0.0 into 0.0
    return np.ascontiguousarray(a).tobytes()


class FiniteGroup:
    """A finite group given by faithful realisations of its elements.

    Args:
        realisations: ``{kind: array}`` with a common first axis (the order);
            element 0 must be the identity.
        name: a label (Schoenflies symbol, ``"p4m x Z2"``, ...).
        generators: indices of a generating set (used by constraint solvers).
    """

    def __init__(self, realisations: dict, name: str = "", generators=None):
        for kind in realisations:
            if kind not in REALISATIONS:
                raise InvalidValue("group realisation", kind, f"one of {', '.join(REALISATIONS)}")
        orders = {len(v) for v in realisations.values()}
        if len(orders) != 1:
            raise InvalidValue("group realisations", sorted(orders), "arrays with one common order")
        self.realisations = {k: np.asarray(v) for k, v in realisations.items()}
        self.name = name
        self.order = orders.pop()
        self.generators = list(range(1, self.order)) if generators is None else list(generators)

    # --- construction -----------------------------------------------------------------
    @classmethod
    def generate(cls, generators: dict, name: str = "", max_order: int = 1_000_000) -> "FiniteGroup":
        """Close a set of generators.

        Args:
            generators: ``{kind: [g1, g2, ...]}``; the i-th generator is the
                tuple of the i-th entries of every kind.
        """
        kinds = list(generators)
        gens = [tuple(np.asarray(generators[k][i]) for k in kinds)
                for i in range(len(generators[kinds[0]]))]
        identity = tuple(_identity(k, np.asarray(generators[k][0])) for k in kinds) if gens else ()
        elements = [identity]
        index = {cls._tuple_key(kinds, identity): 0}
        gen_index = []
        frontier = [0]
        while frontier:
            new = []
            for e in frontier:
                for g in gens:
                    prod = tuple(_compose(k, a, b) for k, a, b in zip(kinds, g, elements[e]))
                    key = cls._tuple_key(kinds, prod)
                    if key not in index:
                        index[key] = len(elements)
                        elements.append(prod)
                        new.append(index[key])
                        if len(elements) > max_order:
                            raise InvalidValue("group generators", name or "given",
                                              f"generators of a finite group of order <= {max_order}")
            frontier = new
        for g in gens:
            gen_index.append(index[cls._tuple_key(kinds, g)])
        reals = {k: np.stack([el[n] for el in elements]) for n, k in enumerate(kinds)}
        group = cls(reals, name, generators=_prune(elements, kinds, sorted(set(gen_index) - {0})))
        group._index = index
        return group

    @staticmethod
    def _tuple_key(kinds, element) -> bytes:
        return b"|".join(_key(k, a) for k, a in zip(kinds, element))

    # --- structure -------------------------------------------------------------------
    def element(self, g: int) -> dict:
        """All realisations of element ``g``."""
        return {k: v[g] for k, v in self.realisations.items()}

    @cached_property
    def _lookup(self) -> dict:
        if hasattr(self, "_index"):
            return self._index
        kinds = list(self.realisations)
        return {self._tuple_key(kinds, tuple(self.realisations[k][g] for k in kinds)): g
                for g in range(self.order)}

    def index_of(self, element: dict) -> int:
        """Index of the element with the given realisations (KeyError if absent)."""
        kinds = list(self.realisations)
        return self._lookup[self._tuple_key(kinds, tuple(np.asarray(element[k]) for k in kinds))]

    def product(self, a: int, b: int) -> int:
        """Index of "first b, then a"."""
        return self.index_of({k: _compose(k, v[a], v[b]) for k, v in self.realisations.items()})

    @cached_property
    def inverses(self) -> np.ndarray:
        """``(order,)`` index of each element's inverse."""
        return np.array([self.index_of({k: _invert(k, v[g]) for k, v in self.realisations.items()})
                         for g in range(self.order)])

    def inverse(self, g: int) -> int:
        return int(self.inverses[g])

    @cached_property
    def table(self) -> np.ndarray:
        """Cayley table ``(order, order)``: ``table[a, b] = product(a, b)``
        (memory order^2; meant for groups of a few thousand elements at most)."""
        return np.array([[self.product(a, b) for b in range(self.order)] for a in range(self.order)])

    def subgroup(self, elements, name: str = "") -> "FiniteGroup":
        """The subgroup made of the given element indices (identity first);
        its ``parent_index`` maps back into this group."""
        elements = [0] + sorted(set(int(e) for e in elements) - {0})
        sub = FiniteGroup({k: v[elements] for k, v in self.realisations.items()}, name)
        sub.parent_index = np.asarray(elements)
        return sub

    def is_subgroup(self, elements) -> bool:
        """Whether the index set is closed under products and contains the identity."""
        s = set(int(e) for e in elements)
        return 0 in s and all(self.product(a, b) in s for a in s for b in s)

    def left_cosets(self, subgroup_elements) -> list[list[int]]:
        """Left cosets ``g H`` of the subgroup with the given element indices."""
        remaining, cosets = set(range(self.order)), []
        while remaining:
            g = min(remaining)
            coset = sorted({self.product(g, h) for h in subgroup_elements})
            cosets.append(coset)
            remaining -= set(coset)
        return cosets

    def __len__(self) -> int:
        return self.order

    def __repr__(self) -> str:
        return f"FiniteGroup({self.name or '?'}, order={self.order}, realisations={list(self.realisations)})"


def _prune(elements, kinds, gens: list[int]) -> list[int]:
    """Drop generators already generated by the earlier ones (small groups only:
    constraint solvers take one equation block per generator)."""
    if len(elements) > 512 or len(gens) <= 2:
        return gens
    kept: list[int] = []
    reached = {FiniteGroup._tuple_key(kinds, elements[0])}
    for g in gens:
        if FiniteGroup._tuple_key(kinds, elements[g]) in reached:
            continue
        kept.append(g)
        frontier, reached = [elements[0]], {FiniteGroup._tuple_key(kinds, elements[0])}
        while frontier:
            new = []
            for e in frontier:
                for k in kept:
                    prod = tuple(_compose(kind, a, b) for kind, a, b in zip(kinds, elements[k], e))
                    key = FiniteGroup._tuple_key(kinds, prod)
                    if key not in reached:
                        reached.add(key)
                        new.append(prod)
            frontier = new
    return kept


def direct_product(a: FiniteGroup, b: FiniteGroup, name: str = "") -> FiniteGroup:
    """``a x b``; element ``i * b.order + j`` is ``(a_i, b_j)``.  The two groups
    must use different realisation kinds (e.g. a lattice group and Z2)."""
    clash = set(a.realisations) & set(b.realisations)
    if clash:
        raise InvalidValue("direct_product", sorted(clash), "groups realised by different kinds")
    reals = {k: np.repeat(v, b.order, axis=0) for k, v in a.realisations.items()}
    reals.update({k: np.tile(v, (a.order,) + (1,) * (v.ndim - 1)) for k, v in b.realisations.items()})
    gens = [g * b.order for g in a.generators] + list(b.generators)
    return FiniteGroup(reals, name or f"{a.name} x {b.name}", generators=gens)


def spin_flip_group() -> FiniteGroup:
    """Z2 = {1, -1} acting on Ising spins by a global sign."""
    return FiniteGroup({"sign": np.array([1, -1])}, "Z2", generators=[1])


def potts_group(q: int) -> FiniteGroup:
    """S_q permuting the q Potts states (order q!)."""
    gens = [np.roll(np.arange(q), 1), np.r_[1, 0, np.arange(2, q)]]  # a q-cycle and a swap
    return FiniteGroup.generate({"potts": gens}, f"S{q}")
