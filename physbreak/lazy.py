"""torch, imported on first use.

``physbreak simulate`` on the CPU runs compiled numba kernels on numpy arrays
and never needs torch, whose import takes seconds: a short study would spend
most of its time importing it.  Modules on that path import ``torch`` from
here; the first attribute read (``torch.zeros``, ``torch.Tensor``, ...) imports
the real module, and every later read goes straight to it.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np


class _LazyModule:
    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"


torch = _LazyModule("torch")


def is_tensor(x) -> bool:
    """Whether ``x`` is a torch tensor (False without importing torch when it is not loaded)."""
    return "torch" in sys.modules and isinstance(x, sys.modules["torch"].Tensor)


def to_numpy(x) -> np.ndarray:
    """``x`` (a numpy array or a torch tensor on any device) as a numpy array on the host."""
    return x.detach().cpu().numpy() if is_tensor(x) else np.asarray(x)
