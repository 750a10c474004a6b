"""Training loops and metrics."""

from physbreak.train.fit import exact_hits, fit

__all__ = ["exact_hits", "fit"]
