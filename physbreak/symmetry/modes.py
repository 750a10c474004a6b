"""Symmetry-mode decomposition of a molecular distortion: which irreps of the
parent's point group the displacement from a symmetric parent (a saddle) to a
distorted child transforms as.

The child's atoms must be the parent's, in the same order.  The child is
moved onto the parent (centres of atomic number, then the best rotation,
Kabsch), so rigid translations and rotations that do not change the shape
drop out; the displacement ``u`` ``(n, 3)`` (Angstrom) is then split with the
projectors of the isotypic components of the displacement representation
``D(g) u = R_g u_{g^-1(i)}`` (:mod:`physbreak.symmetry.irreps`).  Each
component is reported with its Mulliken label, its amplitude ``|P u|``
(Angstrom, the root of the summed squared atomic displacements) and its
isotropy group: the operations that leave that component unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physbreak.errors import SymmetryError
from physbreak.symmetry.irreps import geometry, irreducible_subspaces, isotypic_components, mulliken
from physbreak.symmetry.point_groups import identify

MIN_AMPLITUDE = 1e-4  # Angstrom: smaller components are round-off


@dataclass
class Mode:
    label: str  # Mulliken
    dim: int  # of the irrep
    amplitude: float  # Angstrom
    isotropy: str  # Schoenflies name of the operations fixing this component
    displacement: np.ndarray  # (n, 3) Angstrom: the component


@dataclass
class Decomposition:
    parent_group: str
    child_group: str
    modes: list  # [Mode], largest amplitude first
    total: float  # |u|, Angstrom

    def as_dict(self) -> dict:
        return {"parent_group": self.parent_group, "child_group": self.child_group, "total_amplitude": self.total,
                "modes": [{"irrep": m.label, "dim": m.dim, "amplitude": m.amplitude, "isotropy": m.isotropy}
                          for m in self.modes]}


def displacement_representation(mats: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """``(G, 3n, 3n)``: ``(D_g u)_{perm_g(i)} = R_g u_i`` on per-atom vectors flattened atom-major."""
    G, n = perms.shape
    D = np.zeros((G, 3 * n, 3 * n))
    for k, (R, p) in enumerate(zip(mats, perms)):
        for i in range(n):
            D[k, 3 * p[i]:3 * p[i] + 3, 3 * i:3 * i + 3] = R
    return D


def _aligned_displacement(parent, child, centre) -> np.ndarray:
    if len(child) != len(parent) or np.any(child.numbers != parent.numbers):
        raise SymmetryError(f"child: its atoms ({child.get_chemical_formula()}, in file order) do not map onto the "
                            f"parent's ({parent.get_chemical_formula()}): give the same atoms in the same order")
    w = parent.numbers.astype(float)
    x = parent.positions - centre
    y = child.positions - (child.positions * w[:, None]).sum(0) / w.sum()
    u, _, vt = np.linalg.svd((x * w[:, None]).T @ y)  # rotation taking y onto x (Kabsch, weighted)
    d = np.sign(np.linalg.det(u @ vt))
    R = u @ np.diag([1.0, 1.0, d]) @ vt
    return y @ R.T - x


def molecule_modes(parent, child, tol: float = 0.01) -> Decomposition:
    """Decompose the distortion ``parent -> child`` (``ase.Atoms``, molecules) into
    irreps of the parent's point group (found within ``tol`` Angstrom)."""
    from physbreak.symmetry.structures import molecule_point_group

    sym = molecule_point_group(parent.positions, parent.numbers, tol)
    mats = np.asarray(sym.group.realisations["matrix"])
    perms = np.asarray(sym.group.realisations["perm"])
    u = _aligned_displacement(parent, child, sym.center).ravel()
    D = displacement_representation(mats, perms)
    geo = geometry(mats, perms, parent.positions - sym.center, parent.numbers)
    linear = sym.name in ("Dinfh", "Cinfv")
    modes = []
    for comp in isotypic_components(irreducible_subspaces(D)):
        part = comp.basis @ (comp.basis.T @ u)
        amplitude = float(np.linalg.norm(part))
        if amplitude < MIN_AMPLITUDE:
            continue
        dim = int(round(comp.characters[_identity(mats)]))  # the irrep's dimension
        fixed = np.array([np.allclose(Dg @ part, part, atol=1e-6 * max(amplitude, 1.0)) for Dg in D])
        isotropy = sym.name if fixed.all() else identify(mats[fixed])
        modes.append(Mode(mulliken(comp.characters, dim, geo, linear), dim, amplitude, isotropy, part.reshape(-1, 3)))
    modes.sort(key=lambda m: -m.amplitude)
    kept = [np.allclose(Dg @ u, u, atol=1e-6 * max(np.linalg.norm(u), 1.0)) for Dg in D]
    child_group = identify(mats[kept])
    own = molecule_point_group(child.positions, child.numbers, tol).group.order
    if own > sum(kept):
        raise SymmetryError(f"child: its point group ({own} operations) is not a subgroup of the parent's "
                            f"{sym.name} as distorted ({sum(kept)}): the child is not a distortion of this parent")
    return Decomposition(sym.name, child_group, modes, float(np.linalg.norm(u)))


def _identity(mats) -> int:
    return int(next(i for i, m in enumerate(mats) if np.allclose(m, np.eye(3))))
