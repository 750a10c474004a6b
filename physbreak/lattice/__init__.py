"""Lattices: sites, positions, bond shells and colourings for parallel updates.

>>> from physbreak.lattice import build
>>> lat = build("square", (8, 8))
>>> lat.n_sites, len(lat.bonds(1)), len(lat.coloring())
(64, 128, 2)
"""

from physbreak.lattice.builders import KINDS, build
from physbreak.lattice.lattice import Lattice, from_edges, neighbour_table

__all__ = ["KINDS", "Lattice", "build", "from_edges", "neighbour_table"]
