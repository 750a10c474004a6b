"""Data-parallel training over several processes (``torch.distributed``).

``physbreak train CONFIG --nproc N`` starts N processes with ``torchrun``
(or start them yourself: ``torchrun --standalone --nproc-per-node N -m
physbreak train CONFIG``).  Every process builds the same datasets and
models (same seeds), :func:`~physbreak.learn.predictor.fit` wraps the network
in ``DistributedDataParallel`` and gives each process its share of every
global minibatch (``batch[rank::world]``), and rank 0 alone writes
checkpoints, results and the report.  Backends: NCCL on CUDA (one GPU per
process, ``LOCAL_RANK``), gloo on the CPU.  The loss of each share is
weighted by its size, so the averaged gradient is that of the whole
minibatch: with a deterministic breaker the weights after each step are
those of one process (tests/test_distributed.py).  Random breakers (sympe,
noise) draw their own numbers per process: equal in distribution only.
"""

from __future__ import annotations

import os
import subprocess
import sys

import torch
import torch.distributed as dist


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    return rank() == 0


def barrier():
    if active():
        dist.barrier()


def init_from_env(device: str = "cpu") -> bool:
    """Join the process group that ``torchrun`` describes in the environment
    (``WORLD_SIZE`` > 1); NCCL for CUDA devices, gloo otherwise.  Returns
    whether this process is one of several."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or (dist.is_available() and dist.is_initialized()):
        return active()
    cuda = str(device).startswith("cuda")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo")
    return active()


def local_device(device: str) -> str:
    """``device`` for this process: ``cuda`` becomes ``cuda:LOCAL_RANK`` under several processes."""
    if active() and str(device) == "cuda":
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return device


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``physbreak`` with ``argv`` in ``nproc`` processes under ``torchrun``; its exit code."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "physbreak", *argv]
    return subprocess.call(cmd)


class LossModule(torch.nn.Module):
    """The predictor's loss as a module whose only child is its network, so that
    ``DistributedDataParallel`` sees the forward pass (``forward(batch, rng, weight)``)."""

    def __init__(self, predictor):
        super().__init__()
        self.net = predictor.net
        self._predictor = [predictor]  # not a submodule

    def forward(self, batch, rng, weight: float):
        if not batch:  # a share with no problems still takes part in the gradient average
            return sum(p.sum() for p in self.net.parameters()) * 0.0
        return self._predictor[0].loss(batch, rng) * weight


def wrap(predictor, probe: list, rng) -> torch.nn.parallel.DistributedDataParallel:
    """The predictor's :class:`LossModule` in ``DistributedDataParallel``; one
    backward pass on ``probe`` finds whether some weights get no gradient (then
    DDP must look for unused parameters every step)."""
    module = LossModule(predictor)
    module(probe, rng, 1.0).backward()
    unused = any(p.grad is None for p in module.parameters() if p.requires_grad)
    module.zero_grad(set_to_none=True)
    flags = torch.tensor([float(unused)], device=next(module.parameters()).device)
    dist.all_reduce(flags)  # every process must agree
    return torch.nn.parallel.DistributedDataParallel(module, find_unused_parameters=bool(flags.item()))
