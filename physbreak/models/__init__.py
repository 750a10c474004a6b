"""Assembled predictors."""

from physbreak.models.canonicalized import RelaxedCanonicalizationModel, mlp

__all__ = ["RelaxedCanonicalizationModel", "mlp"]
