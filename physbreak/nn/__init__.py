"""Network layers: the finite-group E-MLP and its relaxed version."""

from physbreak.nn.emlp import EMLP, EquivariantActivation, EquivariantLinear, RelaxedEMLP

__all__ = ["EMLP", "EquivariantActivation", "EquivariantLinear", "RelaxedEMLP"]
