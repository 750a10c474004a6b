"""Exact and searched ground states of Ising Hamiltonians."""

from physbreak.groundstate.enumerate import (MAX_SPINS, GroundStates, energies, exact_ground_states)
from physbreak.groundstate.search import search_ground_states


def ground_states(n: int, bonds, J, h=None, exact_limit: int = 30, seed: int = 0, cap: int = 256):
    """Exact enumeration up to ``exact_limit`` spins, annealing search beyond."""
    if n <= exact_limit:
        return exact_ground_states(n, bonds, J, h, cap=cap)
    return search_ground_states(n, bonds, J, h, seed=seed, cap=cap)


__all__ = ["MAX_SPINS", "GroundStates", "energies", "exact_ground_states", "ground_states",
           "search_ground_states"]
