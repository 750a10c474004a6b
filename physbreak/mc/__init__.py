"""Monte Carlo samplers: :class:`Metropolis` (torch, CPU/CUDA, all spin
models) and :class:`Wolff` (numba, CPU, zero field)."""

from physbreak.mc.metropolis import Metropolis
from physbreak.mc.wolff import Wolff

ALGORITHMS = ("metropolis", "wolff")

__all__ = ["ALGORITHMS", "Metropolis", "Wolff"]
