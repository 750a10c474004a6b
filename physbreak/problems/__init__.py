"""What a learning task is: spin ground-state problems and structure problems,
the built-in families that generate them, the user's own files, and the
ground-state dataset files (:mod:`physbreak.problems.store`)."""

from physbreak.problems.spin import SpinProblem
from physbreak.problems.structure import StructureProblem

__all__ = ["SpinProblem", "StructureProblem"]
