"""Training and inference throughput (structures per second) of the e3nn structure
predictor with each breaker, next to the plain equivariant network in the same
run, on BaTiO3 parent cells (the ratio is what to compare; absolute rates depend
on the machine).  With a CUDA GPU present, every breaker is also trained and
run on it, and the speed-up over the CPU is printed.  Where cuequivariance is
installed, the sbs predictor is run again with cuequivariance's edge tensor
products (``tensor_products = "cuequivariance"``, the same network) on every
device, and its speed relative to e3nn's is printed (with whether
cuequivariance's CUDA kernels, ``cuequivariance-ops-torch``, or its torch
fallback ran).

    python bench/structure_throughput.py [--problems 64] [--epochs 2] [--repeats 3] [--threads 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time

import torch

from physbreak.problems.batio3 import make_dataset
from physbreak.learn.structure import STRUCTURE_BREAKERS as BREAKERS
from physbreak.learn.structure import StructurePredictor, breaker_irreps_of
from physbreak.nn.cue_tensor_product import available


def rates(breaker, device, problems, args, tensor_products="e3nn") -> dict:
    """Best-of-repeats training and inference structures/s of one breaker on one
    device; the breaker reads the irreps the dataset's breaking sets use, as in training."""
    model = StructurePredictor(breaker, seed=0, device=device, breaker_irreps=breaker_irreps_of(problems),
                               tensor_products=tensor_products)
    model.predict(problems)  # warm-up: caches, allocator, CUDA kernels
    train, infer = [], []
    for _ in range(args.repeats):  # best of repeats: the machine's noise is one-sided
        start = time.perf_counter()
        model.fit(problems, epochs=args.epochs, progress=False)
        if device == "cuda":
            torch.cuda.synchronize()
        train.append(args.epochs * len(problems) / (time.perf_counter() - start))
        start = time.perf_counter()
        model.predict(problems)
        infer.append(len(problems) / (time.perf_counter() - start))
    suffix = "" if device == "cpu" else f"_{device}"
    return {"train" + suffix: max(train), "infer" + suffix: max(infer)}


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
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = {}
    for breaker in BREAKERS:
        for device in devices:
            rows.setdefault(breaker, {}).update(rates(breaker, device, problems, args))
    base = rows["none"]
    print(f"structure predictor throughput, {len(problems)} BaTiO3 cells, {args.threads} thread(s)")
    print(f"{'breaker':>8} {'train/s':>9} {'cost':>6} {'infer/s':>9} {'cost':>6}")
    for b, r in rows.items():
        print(f"{b:>8} {r['train']:9.1f} {base['train'] / r['train']:5.2f}x {r['infer']:9.1f} "
              f"{base['infer'] / r['infer']:5.2f}x")
    if "cuda" in devices:
        print(f"CUDA ({torch.cuda.get_device_name()}): speed-up over the CPU")
        for b, r in rows.items():
            print(f"{b:>8} train {r['train_cuda'] / r['train']:6.1f}x  infer {r['infer_cuda'] / r['infer']:6.1f}x")
    if available():
        kernels = importlib.util.find_spec("cuequivariance_ops_torch") is not None
        print(f"cuequivariance tensor products (sbs; {'CUDA kernels' if kernels else 'torch fallback'}), "
              "speed relative to e3nn's in the same run")
        for device in devices:
            cue = rates("sbs", device, problems, args, "cuequivariance")
            rows.setdefault("sbs_cuequivariance", {}).update(cue)
            suffix = "" if device == "cpu" else f"_{device}"
            e3nn = rows["sbs"]
            print(f"{device:>8} train {cue['train' + suffix] / e3nn['train' + suffix]:6.2f}x  "
                  f"infer {cue['infer' + suffix] / e3nn['infer' + suffix]:6.2f}x")
        rows["sbs_cuequivariance"]["cuda_kernels"] = kernels
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
