"""A fused Triton kernel for 2D and 3D Ising Metropolis on the GPU.

One launch updates one colour of the checkerboard of every chain: each
program takes ``4 BLOCK`` sites of that colour (a flat index over chains x
sites of the colour), loads each spin and its 2d neighbours (int8,
periodic), draws counter-based Philox uniforms (``tl.rand4x``: four per call,
one per site; key = the run's seed plus the launch count, counter = the
lane's flat index, so no generator state lives on the device and a run is
reproducible), and flips with probability ``min(1, exp(-2 beta J s h_loc))``,
all in registers.
Sites of one colour share no bond, so a launch per colour is exactly a
sequential sweep in colour order.  Energies and magnetisations are reduced
on the device (torch) after each sample and copied to the host once per
block of samples.

On CUDA :func:`physbreak.workflows.simulate.kernel_for` picks it for the
models it supports (:func:`supports`: nearest-neighbour Ising with one
uniform coupling and no field on a periodic square or cubic lattice with
even sizes of at least 4).  On the CPU it runs under Triton's interpreter
(``TRITON_INTERPRET=1``), which is how the tests check it against the exact
finite-torus energy and the compiled CPU kernels.
"""

from __future__ import annotations

import os
import numpy as np

from physbreak.lazy import torch
from physbreak.mc.checkerboard import nearest_neighbour_ising

BLOCK = 256  # lanes per program on a GPU (four sites each)
INTERPRETER_BLOCK = 1 << 14  # the interpreter runs programs one after another: few, large ones


def available() -> bool:
    """Whether Triton imports (it needs a CUDA device, or ``TRITON_INTERPRET=1``)."""
    import importlib.util

    return importlib.util.find_spec("triton") is not None


def interpreted() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def supports(model) -> bool:
    """Whether :class:`TritonMetropolis` runs ``model``: CUDA with Triton (or the
    interpreter on the CPU) and a model :func:`nearest_neighbour_ising` accepts."""
    on_device = model.device_type == "cuda" or interpreted()
    return on_device and nearest_neighbour_ising(model, min_size=4) and available()


def _kernel():
    """The jitted kernel, imported on first use (so ``TRITON_INTERPRET`` is read then)."""
    from physbreak.mc.triton_kernels import colour_update

    return colour_update


class TritonMetropolis:
    """Metropolis over a batch of chains on the fused kernel; the interface of the
    compiled samplers (``resident``, ``sweep``, ``run``, ``get_state`` / ``set_state``).

    Args:
        model: an Ising model :func:`supports` accepts; temperatures ``(C,)`` (J/k_B);
        seed_sequence: the run's Philox key.
    """

    def __init__(self, model, temperatures, seed_sequence: np.random.SeedSequence):
        if not supports(model):
            raise ValueError("the Triton kernel needs Triton, a CUDA device (or TRITON_INTERPRET=1) and a "
                             "zero-field, uniform nearest-neighbour Ising model on a periodic square or cubic "
                             "lattice with even sizes")
        self.model = model
        dev = model.device
        self.beta = torch.as_tensor(1.0 / np.asarray(temperatures, dtype=np.float64), dtype=torch.float32,
                                    device=dev)
        self.n_chains = len(self.beta)
        self.J = float(model.bond_J[0])
        self.size = tuple(int(L) for L in model.lattice.size)
        self.key = int(seed_sequence.generate_state(1, dtype=np.uint32)[0]) & 0x3FFFFFFF
        self.launches = 0  # Philox keys used so far: the generator's whole state
        total = self.n_chains * (model.n_sites // 2)
        quarter = (total + 3) // 4
        self.block = min(INTERPRETER_BLOCK, 1 << max(0, quarter - 1).bit_length()) if interpreted() else BLOCK

    def resident(self, state: torch.Tensor) -> torch.Tensor:
        """The state as the kernel keeps it: int8 ``(C, N)``, contiguous, on the model's device."""
        return torch.as_tensor(state).to(device=self.model.device, dtype=torch.int8).contiguous()

    def _sweep(self, state: torch.Tensor):
        sizes = self.size + (1,) * (3 - len(self.size))
        half = self.model.n_sites // 2
        total = self.n_chains * half
        grid = ((total + 4 * self.block - 1) // (4 * self.block),)
        kernel = _kernel()
        for colour in (0, 1):
            kernel[grid](state, self.beta, self.key + self.launches, colour, self.J, *sizes, half, total,
                         D3=len(self.size) == 3, BLOCK=self.block)
            self.launches += 1

    def sweep(self, state: torch.Tensor, adapt: bool = False) -> torch.Tensor:
        self._sweep(state)
        return torch.ones(self.n_chains, device=state.device)

    def totals(self, state: torch.Tensor) -> torch.Tensor:
        """``(C, 3)`` on the device: total energy (J), magnetisation and staggered magnetisation (sums)."""
        s = state.view((self.n_chains,) + self.size).to(torch.float32)
        bonds = sum((s * torch.roll(s, 1, dims=1 + a)).sum(tuple(range(1, 1 + len(self.size))))
                    for a in range(len(self.size)))
        sign = torch.as_tensor(self.model.lattice.sublattice_sign, device=s.device, dtype=torch.float32)
        flat = s.reshape(self.n_chains, -1)
        return torch.stack([-self.J * bonds, flat.sum(1), (flat * sign).sum(1)], 1).to(torch.float64)

    def run(self, state, n_samples: int, sweeps_per_sample: int = 1, adapt: bool = False, measure: bool = True):
        """``n_samples x sweeps_per_sample`` sweeps; the totals after every sample
        ``(n_samples, C, 3)`` (copied to the host once) and the work in sweeps."""
        rows = []
        for _ in range(n_samples):
            for _ in range(sweeps_per_sample):
                self._sweep(state)
            if measure:
                rows.append(self.totals(state))
        out = torch.stack(rows).cpu().numpy() if measure else None
        return out, np.full((n_samples, self.n_chains), float(sweeps_per_sample))

    def get_state(self) -> dict:
        return {"philox_key": np.array([self.key, self.launches], dtype=np.int64)}

    def set_state(self, saved: dict):
        self.key, self.launches = (int(v) for v in saved["philox_key"])
