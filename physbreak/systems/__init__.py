"""Hamiltonians.  Spin models: :class:`Ising`, :class:`Potts`, :func:`XY`,
:func:`Heisenberg` (instances of :class:`ONModel`), built by :func:`make_model`."""

from physbreak.systems.spins import XY, Heisenberg, Ising, ONModel, Potts, SpinModel

MODELS = ("ising", "potts", "xy", "heisenberg")


def make_model(kind: str, lattice, J=(1.0,), h=0.0, q: int = 3, device="cpu") -> SpinModel:
    """Build a spin model by name (one of :data:`MODELS`)."""
    from physbreak.errors import InvalidValue

    if kind == "ising":
        return Ising(lattice, J, h, device)
    if kind == "potts":
        return Potts(lattice, q, J, h, device)
    if kind == "xy":
        return XY(lattice, J, h, device)
    if kind == "heisenberg":
        return Heisenberg(lattice, J, h, device)
    raise InvalidValue("kind", kind, f"one of {', '.join(MODELS)}")


__all__ = ["MODELS", "Heisenberg", "Ising", "ONModel", "Potts", "SpinModel", "XY", "make_model"]
