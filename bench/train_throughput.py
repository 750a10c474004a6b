"""Training throughput (graphs per second) of every ground-state predictor on
4x4 uniform J1-J2 problems, next to the plain equivariant GNN measured in the
same run (the ratio is what to compare; absolute rates depend on the machine).
With ``--devices cpu cuda`` every predictor is measured on each device and the
speed-up over the CPU is printed.

    python bench/train_throughput.py [--problems 64] [--epochs 2] [--devices cpu] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from physbreak.problems.spin_families import generate
from physbreak.learn.spin import MODELS as STRATEGIES
from physbreak.learn.spin import make_predictor


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--problems", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--devices", nargs="+", default=["cpu"])
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    problems = [generate("uniform", 4, rng) for _ in range(args.problems)]
    rates = {}
    for device in args.devices:
        for strategy in STRATEGIES:
            model = make_predictor(strategy, problems, hidden=32, layers=12, device=device)
            model.fit(problems[:16], epochs=1, progress=False)  # warm-up: caches, first-call costs
            start = time.perf_counter()
            model.fit(problems, epochs=args.epochs, progress=False)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            rates[strategy, device] = args.problems * args.epochs / (time.perf_counter() - start)
    print(f"training throughput, 4x4 J1-J2 problems, 1 CPU thread, {args.epochs} epochs of {args.problems}")
    print(f"{'model':<12} " + " ".join(f"{d + ' graphs/s':>18}" for d in args.devices) + f" {'vs none':>8}"
          + (f" {'vs cpu':>8}" if len(args.devices) > 1 else ""))
    for strategy in STRATEGIES:
        first = args.devices[0]
        cells = " ".join(f"{rates[strategy, d]:>18.1f}" for d in args.devices)
        extra = f" {rates[strategy, args.devices[-1]] / rates[strategy, first]:>7.2f}x" if len(args.devices) > 1 else ""
        print(f"{strategy:<12} {cells} {rates[strategy, first] / rates['none', first]:>7.2f}x{extra}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"graphs_per_second": {f"{m}@{d}": r for (m, d), r in rates.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
