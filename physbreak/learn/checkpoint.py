"""One checkpoint format for every predictor.

A checkpoint is a ``torch.save`` of a dict holding tensors and strings only::

    format  "physbreak-checkpoint"     version 1
    kind    the predictor class (:data:`PREDICTOR_KINDS`)
    config  JSON: everything the class needs to rebuild itself (hyperparameters,
            breaker name, species, training sizes, seed)
    state_dict                         the network's weights
    tensors                            extra tensors (e.g. the E-MLP's lattice bonds)

It is loaded with ``torch.load(weights_only=True)``, which refuses any pickled
object other than tensors and plain containers, so loading a file runs no code
from it.  Files are written to a temporary name and renamed.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import torch

from physbreak.errors import CheckpointError, DeviceError

FORMAT, VERSION = "physbreak-checkpoint", 1

# kind -> "module:class"; imported on load so that reading a checkpoint needs no registration step
PREDICTOR_KINDS = {
    "spin_gnn": "physbreak.learn.spin:GNNPredictor",
    "spin_emlp": "physbreak.learn.spin:LatticeEMLPPredictor",
    "structure_e3nn": "physbreak.learn.structure:StructurePredictor",
    "graph_autoencoder": "physbreak.learn.decoding:GraphAutoencoder",
    "graph_classifier": "physbreak.learn.graph_classification:GraphClassifier",
    "graph_colouring": "physbreak.learn.colouring:ColouringPredictor",
}


def save(path, predictor) -> Path:
    """Write ``predictor`` (a :class:`~physbreak.learn.predictor.Predictor`) to ``path``."""
    path = Path(path)
    payload = {"format": FORMAT, "version": VERSION, "kind": predictor.kind,
               "config": json.dumps(predictor.config()), "state_dict": predictor.net.state_dict(),
               "tensors": predictor.extra_tensors()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def check_device(device) -> torch.device:
    """``device`` as a ``torch.device``; a :class:`DeviceError` for a name torch
    does not know or a CUDA device this machine does not have."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceError(f"device = {device!r} is not allowed: 'cpu', 'cuda' or 'cuda:N'") from None
    if dev.type not in ("cpu", "cuda"):
        raise DeviceError(f"device = {device!r} is not allowed: 'cpu', 'cuda' or 'cuda:N'")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device = {device!r} is not allowed: 'cpu' (no CUDA device is available)")
    return dev


def read(path) -> dict:
    """The payload of a checkpoint file, validated; a :class:`CheckpointError` otherwise."""
    path = Path(path)
    what = f"CHECKPOINT = {str(path)!r}"
    if not path.is_file():
        raise CheckpointError(f"{what} is not allowed: an existing checkpoint file (.pt from `physbreak train`)")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04" and magic[:1] != b"\x80":  # neither torch's zip format nor a pickle
        raise CheckpointError(f"{what} is not a checkpoint (neither a torch file nor a pickle): pass a .pt file "
                              "written by `physbreak train`")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported (global|operand)[^.\n]*", str(exc))
        raise CheckpointError(f"{what} is refused: it holds more than tensors "
                              f"({found.group(0)[:120] if found else 'a pickled object'}); nothing in it was run") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError, AttributeError) as exc:
        raise CheckpointError(f"{what} is not a readable checkpoint ({type(exc).__name__}): "
                              "pass a .pt file written by `physbreak train`") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{what} is not a physbreak checkpoint (no format = {FORMAT!r}): "
                              "pass a .pt file written by `physbreak train`")
    if not isinstance(payload.get("version", 0), int) or payload.get("version", 0) > VERSION:
        raise CheckpointError(f"{what} has checkpoint version {payload['version']}: this physbreak reads "
                              f"<= {VERSION}; upgrade physbreak")
    if not isinstance(payload.get("kind"), str) or payload["kind"] not in PREDICTOR_KINDS:
        raise CheckpointError(f"{what} holds kind {payload.get('kind')!r}: one of {', '.join(PREDICTOR_KINDS)}")
    return payload


def predictor_class(kind: str):
    import importlib

    module, name = PREDICTOR_KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def load(path, device="cpu"):
    """The predictor stored at ``path``, on ``device``, ready to predict."""
    dev = check_device(device)
    payload = read(path)
    cls = predictor_class(payload["kind"])
    try:
        config = json.loads(payload["config"])
        predictor = cls.from_config(config, payload.get("tensors", {}), dev)
        predictor.net.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
        raise CheckpointError(f"CHECKPOINT = {str(path)!r} does not match its kind {payload['kind']!r} "
                              f"({type(exc).__name__}: {str(exc)[:160]})") from None
    predictor.net.eval()
    return predictor
