"""Spin flips per second of 2D Ising Metropolis at L = 1024 on one CPU core.

Every kernel next to two baselines measured in the same run: the textbook
numpy checkerboard (np.roll) and a plain scalar C checkerboard
(``bench/c/ising_checkerboard.c``, compiled here with ``cc -O3 -march=native``;
skipped with a note when no C compiler is found).  Kernels: physbreak's torch
colour-class Metropolis (any model, CPU/CUDA), the compiled numba
checkerboard (:mod:`physbreak.mc.checkerboard`), and the multi-spin-coded
kernel with 64 independent replicas per word (:mod:`physbreak.mc.multispin`,
numba and torch).  Goals: compiled >= 3x C, multispin >= 3e9 flips/s.  The
ratios are what matter: absolute rates on shared machines are noise, and a
ratio on one CPU is not a property of the code (the CPU model and its SIMD
extensions are printed).

End to end: ``physbreak simulate`` (the workflow in this process: sweeps,
measurement every sweep, HDF5 output, progress bar off) against the bare
compiled kernel on the same lattice, chains and sweeps, at L = 64 and 1024;
goal: at least 80 % of the kernel's flips/s.

    python bench/mc_throughput.py [--L 1024] [--sweeps 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import torch

from machine import cpu_description
from physbreak.lattice import build
from physbreak.mc import Metropolis
from physbreak.mc.checkerboard import CheckerboardIsing
from physbreak.mc.multispin import REPLICAS, MultispinIsing, TorchMultispin
from physbreak.systems import Ising

T = 2.269
C_SOURCE = Path(__file__).parent / "c" / "ising_checkerboard.c"


def numpy_checkerboard(L: int, sweeps: int) -> float:
    """Baseline: the textbook vectorised checkerboard with np.roll; flips/s."""
    rng = np.random.default_rng(0)
    s = rng.choice(np.array([-1.0, 1.0]), size=(L, L))
    parity = (np.add.outer(np.arange(L), np.arange(L)) % 2).astype(bool)
    start = time.perf_counter()
    for _ in range(sweeps):
        for mask in (~parity, parity):
            nb = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
            accept = mask & (rng.random((L, L)) < np.exp(-2.0 / T * s * nb))
            s[accept] *= -1
    return L * L * sweeps / (time.perf_counter() - start)


def c_checkerboard(binary: Path):
    def run(L: int, sweeps: int) -> float:
        out = subprocess.run([str(binary), str(L), str(sweeps), str(T)], capture_output=True, text=True, check=True)
        return float(out.stdout.split()[0])
    return run


def compile_c(folder: Path) -> Path | None:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None
    binary = folder / "ising_checkerboard"
    subprocess.run([cc, "-O3", "-march=native", "-o", str(binary), str(C_SOURCE), "-lm"], check=True)
    return binary


def torch_metropolis(L: int, sweeps: int) -> float:
    model = Ising(build("square", L))
    sampler = Metropolis(model, [T], np.random.SeedSequence(0))
    state = model.initial_state(1, torch.Generator().manual_seed(0))
    sampler.sweep(state)  # warm-up
    start = time.perf_counter()
    for _ in range(sweeps):
        sampler.sweep(state)
    return L * L * sweeps / (time.perf_counter() - start)


def compiled(L: int, sweeps: int) -> float:
    run = CheckerboardIsing(L, [T], np.random.SeedSequence(0))
    run.sweep(1)  # compile
    start = time.perf_counter()
    run.sweep(sweeps)
    return L * L * sweeps / (time.perf_counter() - start)


def multispin(L: int, sweeps: int) -> float:
    run = MultispinIsing(L, T, np.random.SeedSequence(0))
    run.sweep(1)
    start = time.perf_counter()
    run.sweep(sweeps)
    return REPLICAS * L * L * sweeps / (time.perf_counter() - start)


def torch_multispin(L: int, sweeps: int) -> float:
    run = TorchMultispin(L, T, seed=0)
    run.sweep(1)
    sweeps = max(1, sweeps // 4)
    start = time.perf_counter()
    run.sweep(sweeps)
    return REPLICAS * L * L * sweeps / (time.perf_counter() - start)


E2E = {64: 20000, 1024: 2000}  # L: sweeps (setting up a 10^6-site lattice and its state takes ~0.3 s)


def end_to_end(L: int, sweeps: int, folder: Path) -> tuple[float, float]:
    """(bare kernel flips/s, ``simulate`` flips/s) for 3 chains at T = 2.0, 2.269, 3.0."""
    from physbreak.config import parse
    from physbreak.workflows.simulate import simulate

    temps = [2.0, 2.269, 3.0]
    bare = CheckerboardIsing(L, temps, np.random.SeedSequence(0))
    bare.sweep(1)
    start = time.perf_counter()
    bare.sweep(sweeps)
    bare_rate = len(temps) * L * L * sweeps / (time.perf_counter() - start)
    text = (f'seed = 1\n[lattice]\nkind = "square"\nsizes = [{L}]\n[model]\nkind = "ising"\n'
            f'[sampler]\nthermalization = {sweeps // 5}\nsamples = {sweeps - sweeps // 5}\n'
            f'[temperatures]\nvalues = {temps}\n')
    out = folder / f"e2e_{L}_{sweeps}.h5"
    start = time.perf_counter()
    simulate(parse(text), out, progress=False)
    rate = len(temps) * L * L * sweeps / (time.perf_counter() - start)
    return bare_rate, rate


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--L", type=int, default=1024)
    p.add_argument("--sweeps", type=int, default=20)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        binary = compile_c(Path(tmp))
        kernels = [("numpy checkerboard (baseline)", numpy_checkerboard)]
        kernels += [("scalar C checkerboard (baseline)", c_checkerboard(binary))] if binary else []
        kernels += [("torch Metropolis", torch_metropolis), ("compiled checkerboard", compiled),
                    ("multispin, 64 replicas", multispin), ("torch multispin, 64 replicas", torch_multispin)]
        results = {name: max(fn(args.L, args.sweeps) for _ in range(3)) for name, fn in kernels}
    numpy_rate = results["numpy checkerboard (baseline)"]
    c_rate = results.get("scalar C checkerboard (baseline)")
    print(f"CPU: {cpu_description()}")
    print(f"2D Ising Metropolis, L = {args.L}, T = {T}, 1 thread, best of 3")
    print(f"{'kernel':<34} {'flips/s':>10} {'vs numpy':>9} {'vs C':>7}")
    for name, rate in results.items():
        vs_c = f"{rate / c_rate:6.2f}x" if c_rate else "    n/a"
        print(f"{name:<34} {rate:10.3e} {rate / numpy_rate:8.1f}x {vs_c}")
    if c_rate is None:
        print("no C compiler found: the scalar C baseline was skipped")
    else:
        ratio = results["compiled checkerboard"] / c_rate
        print(f"goal compiled >= 3x C: {ratio:.2f}x {'met' if ratio >= 3 else 'NOT met'}")
    ms = results["multispin, 64 replicas"]
    print(f"goal multispin >= 3e9 flips/s: {ms:.3e} {'met' if ms >= 3e9 else 'NOT met'}")
    e2e = {}
    with tempfile.TemporaryDirectory() as tmp:
        for L, sweeps in E2E.items():
            end_to_end(L, max(10, sweeps // 50), Path(tmp))  # compile and warm the caches
            bare, rate = end_to_end(L, sweeps, Path(tmp))
            e2e[L] = {"kernel": bare, "simulate": rate}
            print(f"end to end, L = {L}, 3 chains, {sweeps} sweeps measured every sweep: kernel {bare:.3e}, "
                  f"simulate {rate:.3e} flips/s = {rate / bare:.0%} (goal >= 80 %: "
                  f"{'met' if rate >= 0.8 * bare else 'NOT met'})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_description(), "L": args.L, "sweeps": args.sweeps, "T": T,
                       "flips_per_second": results, "end_to_end": e2e}, f, indent=1)


if __name__ == "__main__":
    main()
