"""Atoms of an ABO3 perovskite from effective-Hamiltonian variables.

The local mode ``u_i`` of cell ``i`` is Ti-centred: it moves the cell's Ti by
``xi_Ti u_i``, each of its six O by ``xi_O u_i / 2`` (an O is shared by two
cells; ``xi_O_par`` along the Ti-O bond, ``xi_O_perp`` across it) and each of
its eight A (Ba) by ``xi_Ba u_i / 8``.  The homogeneous strain ``eta`` deforms
the supercell, ``cell = (I + eta) a L``.  Structures are ``ase.Atoms``, so
``ase.io.write`` gives extxyz, cif, and every other format ase knows;
:func:`space_group` asks spglib.
"""

from __future__ import annotations

import numpy as np

# fractional positions in the cubic cell: A at the corner, B at the centre, O on the faces
A_SITE, B_SITE = np.zeros(3), np.full(3, 0.5)
O_SITES = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])  # O_z, O_y, O_x: bond along z, y, x
O_BOND = np.array([2, 1, 0])

# symprec (Angstrom) for averaged structures, matched to the phase threshold of
# phase_label: a polarisation component of 0.08 C/m^2 in BaTiO3 is u = 0.031 A and moves
# Ti (the largest eigenvector entry, 0.76) by 0.023 A. Finite-size fluctuations of a 12^3
# cell's 4 ps average (|P| ~ 0.03 C/m^2 in the cubic phase) stay below it; polar
# displacements of the ordered phases (~0.25 C/m^2, Ti ~0.07 A) are far above it.
DEFAULT_SYMPREC = 0.03


def _voigt_matrix(eta) -> np.ndarray:
    e1, e2, e3, e4, e5, e6 = np.asarray(eta, float)
    return np.array([[e1, e6 / 2, e5 / 2], [e6 / 2, e2, e4 / 2], [e5 / 2, e4 / 2, e3]])


def supercell_atoms(params, u, eta=None, elements=("Ba", "Ti", "O")):
    """``ase.Atoms`` of an ``L^3`` supercell (5 L^3 atoms) from modes ``u`` ``(L, L, L, 3)`` (A)
    and Voigt strain ``eta`` ``(6,)``."""
    from ase import Atoms

    u = np.asarray(u, float)
    L = u.shape[0]
    xi = params.xi
    grid = np.stack(np.meshgrid(*[np.arange(L)] * 3, indexing="ij"), -1).reshape(-1, 3)
    flat = u.reshape(-1, 3)

    def at(shift):
        return np.roll(u, shift=tuple(-np.asarray(shift)), axis=(0, 1, 2)).reshape(-1, 3)

    # A at corner (0,0,0) of cell i touches cells i - (a, b, c), a, b, c in {0, 1}
    a_disp = sum(at(-np.array(s)) for s in np.ndindex(2, 2, 2)) * xi["Ba"] / 8
    b_disp = xi["Ti"] * flat
    frac, disp, symbols = [grid + A_SITE, grid + B_SITE], [a_disp, b_disp], [elements[0], elements[1]]
    for site, axis in zip(O_SITES, O_BOND):
        below = np.zeros(3, int)
        below[axis] = -1
        pair = (flat + at(below)) / 2  # the two cells sharing this O
        weights = np.full(3, xi["O_perp"])
        weights[axis] = xi["O_par"]
        frac.append(grid + site)
        disp.append(pair * weights)
        symbols.append(elements[2])
    strain = np.eye(3) + (np.zeros((3, 3)) if eta is None else _voigt_matrix(eta))
    positions = np.concatenate([(f * params.a + d) for f, d in zip(frac, disp)]) @ strain.T
    names = [s for s, f in zip(symbols, frac) for _ in range(len(f))]
    return Atoms(names, positions=positions, cell=strain @ np.eye(3) * params.a * L, pbc=True)


def cell_atoms(params, u, eta=None):
    """The 5-atom cell of a homogeneous mode ``u`` ``(3,)`` (e.g. a supercell average)."""
    return supercell_atoms(params, np.asarray(u, float).reshape(1, 1, 1, 3), eta)


def space_group(atoms, symprec: float = DEFAULT_SYMPREC) -> str:
    """Hermann-Mauguin symbol of the space group (spglib, ``symprec`` in A)."""
    from physbreak.symmetry.structures import crystal_space_group

    return crystal_space_group(atoms, symprec).international


def phase_label(p_sorted, threshold: float = 0.08) -> str:
    """Phase from the sorted polarisation magnitudes ``|P|_1 >= |P|_2 >= |P|_3``
    (C/m^2): how many exceed ``threshold`` — C(ubic), T(etragonal), O(rthorhombic), R(hombohedral)."""
    return "CTOR"[int(np.sum(np.asarray(p_sorted) > threshold))]
