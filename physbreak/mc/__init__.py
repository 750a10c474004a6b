"""Monte Carlo samplers: :class:`Metropolis` (torch, CPU/CUDA, all spin
models), :class:`Wolff` and :class:`SwendsenWang` (numba, CPU, zero field),
:mod:`~physbreak.mc.tempering` (replica exchange on any Ising graph) and the fast 2D Ising
kernels: :mod:`~physbreak.mc.checkerboard` (compiled single-lattice
Metropolis, the automatic CPU fast path) and :mod:`~physbreak.mc.multispin`
(64 replicas per machine word, numba and torch/CUDA)."""

from physbreak.mc.metropolis import Metropolis
from physbreak.mc.swendsen_wang import SwendsenWang
from physbreak.mc.wolff import Wolff

ALGORITHMS = ("metropolis", "wolff", "swendsen_wang", "tempering")

__all__ = ["ALGORITHMS", "Metropolis", "SwendsenWang", "Wolff"]
