"""Training and inference throughput (structures per second) of the e3nn structure
predictor with each breaker, next to the plain equivariant network in the same
run, on BaTiO3 parent cells (the ratio is what to compare; absolute rates depend
on the machine).

    python bench/structure_throughput.py [--problems 64] [--epochs 2] [--repeats 3] [--threads 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from physbreak.structpred.batio3 import make_dataset
from physbreak.structpred.train import BREAKERS, StructurePredictor


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--problems", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    problems = make_dataset("TORC", max(1, args.problems // 4), seed=0)
    rows = {}
    for breaker in BREAKERS:
        model = StructurePredictor(breaker, seed=0)
        model.predict(problems)  # warm-up: caches, allocator
        train, infer = [], []
        for _ in range(args.repeats):  # best of repeats: the machine's noise is one-sided
            start = time.perf_counter()
            model.fit(problems, args.epochs)
            train.append(args.epochs * len(problems) / (time.perf_counter() - start))
            start = time.perf_counter()
            model.predict(problems)
            infer.append(len(problems) / (time.perf_counter() - start))
        rows[breaker] = {"train": max(train), "infer": max(infer)}
    base = rows["none"]
    print(f"structure predictor throughput, {len(problems)} BaTiO3 cells, {args.threads} thread(s)")
    print(f"{'breaker':>8} {'train/s':>9} {'cost':>6} {'infer/s':>9} {'cost':>6}")
    for b, r in rows.items():
        print(f"{b:>8} {r['train']:9.1f} {base['train'] / r['train']:5.2f}x {r['infer']:9.1f} "
              f"{base['infer'] / r['infer']:5.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
