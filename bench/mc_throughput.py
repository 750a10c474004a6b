"""Spin flips per second of 2D Ising Metropolis at L = 1024 on one CPU core.

Compares physbreak's torch colour-class Metropolis with a plain numpy
checkerboard baseline measured in the same run; prints a table and writes
JSON (``--json FILE``).  The ratio is what matters: absolute times on shared
machines are noise.

    python bench/mc_throughput.py [--L 1024] [--sweeps 20] [--json bench/mc_throughput.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from physbreak.lattice import build
from physbreak.mc import Metropolis
from physbreak.systems import Ising


def numpy_checkerboard(L: int, beta: float, sweeps: int, seed: int = 0) -> float:
    """Baseline: the textbook vectorised checkerboard with np.roll; seconds."""
    rng = np.random.default_rng(seed)
    s = rng.choice(np.array([-1.0, 1.0]), size=(L, L))
    parity = (np.add.outer(np.arange(L), np.arange(L)) % 2).astype(bool)
    masks = [~parity, parity]
    start = time.perf_counter()
    for _ in range(sweeps):
        for mask in masks:
            nb = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
            dE = 2.0 * s * nb
            accept = mask & (rng.random((L, L)) < np.exp(-beta * dE))
            s[accept] *= -1
    return time.perf_counter() - start


def physbreak_metropolis(L: int, beta: float, sweeps: int, seed: int = 0) -> float:
    """physbreak's torch Metropolis on one chain; seconds."""
    model = Ising(build("square", L))
    sampler = Metropolis(model, [1.0 / beta], np.random.SeedSequence(seed))
    state = model.initial_state(1, torch.Generator().manual_seed(seed))
    sampler.sweep(state)  # warm-up
    start = time.perf_counter()
    for _ in range(sweeps):
        sampler.sweep(state)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--L", type=int, default=1024)
    p.add_argument("--sweeps", type=int, default=20)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    beta = 1.0 / 2.269
    flips = args.L**2 * args.sweeps
    results = {}
    for name, fn in [("numpy checkerboard (baseline)", numpy_checkerboard),
                     ("physbreak torch Metropolis", physbreak_metropolis)]:
        seconds = min(fn(args.L, beta, args.sweeps) for _ in range(3))
        results[name] = flips / seconds
    base = results["numpy checkerboard (baseline)"]
    print(f"2D Ising Metropolis, L = {args.L}, {args.sweeps} sweeps, 1 thread, best of 3")
    print(f"{'kernel':<32} {'flips/s':>12} {'vs baseline':>12}")
    for name, rate in results.items():
        print(f"{name:<32} {rate:12.3e} {rate / base:11.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"L": args.L, "sweeps": args.sweeps, "flips_per_second": results,
                       "ratio_to_baseline": {k: v / base for k, v in results.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
