"""Every network of physbreak: the finite-group E-MLP and its relaxed version,
any network in the canonical frame, the spin-graph GNN (:mod:`.spin_gnn`) and
the e3nn structure network (:mod:`.e3nn_structure`, imported on use: e3nn is heavy)."""

from physbreak.nn.canonicalized import RelaxedCanonicalizationModel, mlp
from physbreak.nn.emlp import EMLP, EquivariantActivation, EquivariantLinear, RelaxedEMLP

__all__ = ["EMLP", "EquivariantActivation", "EquivariantLinear", "RelaxedCanonicalizationModel", "RelaxedEMLP", "mlp"]
