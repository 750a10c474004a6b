"""Langevin MD speed of the perovskite effective Hamiltonian: steps per second
and cell-steps per second for 12^3 .. 32^3 supercells, one replica, on CPU (and
on CUDA when present), with the fitted scaling exponent of the cost with the
number of cells N (FFT: ~N log N, so slightly above 1).

    python bench/perovskite_md.py [--sizes 12 16 24 32] [--steps 50] [--threads 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from physbreak.dynamics.langevin import Langevin
from physbreak.systems.perovskite import EffectiveHamiltonian, load_parameters


def steps_per_second(L: int, steps: int, device: str, repeats: int = 3) -> float:
    ham = EffectiveHamiltonian(load_parameters(), L, device=device)
    gen = torch.Generator(device=ham.device).manual_seed(0)
    u = 0.05 * torch.randn((1, L, L, L, 3), generator=gen, dtype=ham.dtype, device=ham.device)
    state = {"u": u, "eta": torch.zeros((1, 6), dtype=ham.dtype, device=ham.device), "vu": torch.zeros_like(u)}
    state["veta"] = torch.zeros_like(state["eta"])
    md = Langevin(ham, generator=gen)
    T = torch.full((1,), 250.0, dtype=ham.dtype, device=ham.device)
    md.step(state, T, 5)  # warm-up (kernels, caches)
    best = np.inf
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        md.step(state, T, steps)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return steps / best


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[12, 16, 24, 32])
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    result = {}
    print(f"perovskite Langevin MD (float64), {args.threads} CPU thread(s)")
    print(f"{'device':>6} {'L':>4} {'cells':>7} {'steps/s':>9} {'Mcell-steps/s':>14}")
    for device in devices:
        rows = []
        for L in args.sizes:
            rate = steps_per_second(L, args.steps, device)
            rows.append({"L": L, "cells": L**3, "steps_per_s": rate, "cell_steps_per_s": rate * L**3})
            print(f"{device:>6} {L:>4} {L**3:>7} {rate:9.1f} {rate * L**3 / 1e6:14.3f}")
        cells = np.array([r["cells"] for r in rows], float)
        cost = 1 / np.array([r["steps_per_s"] for r in rows])
        exponent = float(np.polyfit(np.log(cells), np.log(cost), 1)[0]) if len(rows) > 1 else float("nan")
        print(f"{device}: cost per step ~ N^{exponent:.2f}")
        result[device] = {"rows": rows, "scaling_exponent": exponent}
    if "cuda" in result:
        for r_cpu, r_gpu in zip(result["cpu"]["rows"], result["cuda"]["rows"]):
            print(f"L={r_cpu['L']}: CUDA {r_gpu['steps_per_s'] / r_cpu['steps_per_s']:.1f}x CPU")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
