"""The learning stack: one predictor interface, one training loop, one
checkpoint format, one metrics registry, one benchmark runner, one report.

>>> from physbreak.learn.spin import GNNPredictor            # spin ground states on any graph
>>> from physbreak.learn.structure import StructurePredictor # e3nn, crystals and molecules
>>> model = GNNPredictor("canonical")                        # a breaker name or object (physbreak.relaxed)
>>> model.fit(train, validation, epochs=40)                  # doctest: +SKIP
>>> model.save("model.pt"); same = load("model.pt")          # doctest: +SKIP
"""

from physbreak.learn.checkpoint import load, save
from physbreak.learn.predictor import Predictor, fit
from physbreak.learn.runner import Task, run_tasks

__all__ = ["Predictor", "Task", "fit", "load", "run_tasks", "save"]
