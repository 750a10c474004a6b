"""Two ``physbreak simulate`` processes started together on one machine, each
against the same run alone: with the default thread pools (one thread per
run) neither oversubscribes the machine.  Goal on a 2-core machine: each of
the two takes at most 1.3x the time of one alone.

    python bench/shared_machine.py [--sweeps 20000] [--threads N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from machine import cpu_description

PHYSBREAK = str(Path(sys.executable).parent / "physbreak")


def config(folder: Path, name: str, sweeps: int, threads: int | None) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(f"""\
        seed = 1
        output = "{name}.h5"
        {'' if threads is None else f'threads = {threads}'}
        [lattice]
        kind = "triangular"
        sizes = [64]
        [model]
        kind = "ising"
        [sampler]
        thermalization = {sweeps // 5}
        samples = {sweeps}
        [temperatures]
        values = [3.0, 3.641, 4.5]
        """))
    return path


def run_together(folder: Path, names: list[str], sweeps: int, threads) -> list[float]:
    """Start one process per name at once; the wall time of each."""
    cmds = [[PHYSBREAK, "simulate", str(config(folder, n, sweeps, threads)), "--quiet"] for n in names]
    start = time.perf_counter()
    procs = [subprocess.Popen(c, cwd=folder, stdout=subprocess.DEVNULL) for c in cmds]
    times = []
    for p in procs:
        p.wait()
        if p.returncode:
            raise RuntimeError(f"physbreak simulate failed with exit {p.returncode}")
        times.append(time.perf_counter() - start)
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sweeps", type=int, default=20000)
    p.add_argument("--threads", type=int, default=None, help="threads per run (default: the config default)")
    args = p.parse_args()
    print(f"CPU: {cpu_description()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_together(folder, ["warm"], 100, args.threads)  # numba's cache
        (alone,) = run_together(folder, ["alone"], args.sweeps, args.threads)
        pair = run_together(folder, ["a", "b"], args.sweeps, args.threads)
    ratios = [t / alone for t in pair]
    print(f"triangular Ising L = 64, 3 chains, {args.sweeps} samples; threads per run: "
          f"{'default' if args.threads is None else args.threads}")
    print(f"one alone: {alone:.2f} s; two together: {pair[0]:.2f} s and {pair[1]:.2f} s "
          f"= {ratios[0]:.2f}x and {ratios[1]:.2f}x (goal <= 1.3x: {'met' if max(ratios) <= 1.3 else 'NOT met'})")


if __name__ == "__main__":
    main()
