"""Training throughput (graphs per second) of every ground-state predictor on
4x4 uniform J1-J2 problems, next to the plain equivariant GNN measured in the
same run (the ratio is what to compare; absolute rates depend on the machine).

    python bench/train_throughput.py [--problems 64] [--epochs 2] [--json FILE]
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
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    problems = [generate("uniform", 4, rng) for _ in range(args.problems)]
    rates = {}
    for strategy in STRATEGIES:
        model = make_predictor(strategy, problems, hidden=32, layers=12)
        model.fit(problems[:16], epochs=1, progress=False)  # warm-up: caches, first-call costs
        start = time.perf_counter()
        model.fit(problems, epochs=args.epochs, progress=False)
        rates[strategy] = args.problems * args.epochs / (time.perf_counter() - start)
    base = rates["none"]
    print(f"training throughput, 4x4 J1-J2 problems, 1 thread, {args.epochs} epochs of {args.problems}")
    print(f"{'model':<12} {'graphs/s':>10} {'vs none':>8}")
    for name, rate in rates.items():
        print(f"{name:<12} {rate:>10.1f} {rate / base:>7.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"graphs_per_second": rates}, f, indent=1)


if __name__ == "__main__":
    main()
