"""``physbreak simulate`` against spinmc on the same studies, one thread each.

Every study runs both codes as whole commands in subprocesses (start-up,
imports, compilation caches and file output included) on one thread, and
prints wall and CPU time of each, their ratio, and the energies per spin of
both side by side.  Before its timed run each physbreak study runs once for
a few sweeps, so that numba's compilation cache holds its kernels (compiled
once per installation, 10-40 s; spinmc comes compiled).  spinmc reports
means only, so a peer's energy is taken to disagree when it differs from physbreak's by more than 4 sqrt(2) physbreak
standard errors (binned), i.e. assuming the peer's error equals ours; a
disagreeing peer is reported, not trusted.

Studies: 2D Ising L = 64 and 256, 3D Ising L = 32, 2D XY L = 64 and 3D
Heisenberg L = 16, each with Metropolis and Wolff, at three temperatures
around the transition, from an ordered start in both codes (a random start
at L = 256 leaves long-lived stripe domains below Tc within the
thermalisation of a short study, in either code; and at L = 256 the
Metropolis autocorrelation time at Tc, ~1e5 sweeps, is far beyond such a
study, so that study leaves Tc out).  For the 2D Ising studies Kaufman's
exact energy of the finite torus is printed too, the arbiter when the two
codes disagree.  Work is matched per temperature: Metropolis sweeps
are sweeps in both codes, measured after every sweep; a spinmc Wolff step is
one cluster, so spinmc runs each temperature with the number of clusters
physbreak built there (physbreak builds a fixed number of clusters per
sweep-equivalent, stored in its checkpoint) and measures once per
sweep-equivalent, as physbreak does.

    pip install -e ".[bench]"
    python bench/peers.py [--scale 1.0] [--only ising2d_64] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np

from machine import cpu_description
from physbreak.analysis.exact import ising_torus_energy

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
       "RAYON_NUM_THREADS": "1"}

# name: (model, lattice, L, temperatures, thermalisation sweeps, samples)
STUDIES = {
    "ising2d_64": ("ising", "square", 64, (2.0, 2.269, 3.0), 4800, 24000),
    "ising2d_256": ("ising", "square", 256, (2.0, 2.5, 3.0), 300, 1500),
    "ising3d_32": ("ising", "cubic", 32, (4.0, 4.5115, 5.0), 600, 3000),
    "xy2d_64": ("xy", "square", 64, (0.7, 0.893, 1.2), 1000, 5000),
    "heisenberg3d_16": ("heisenberg", "cubic", 16, (1.2, 1.443, 2.0), 1000, 5000),
}
ALGORITHMS = ("metropolis", "wolff")


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run ``cmd``; returns (wall s, CPU s of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def physbreak_config(model, lattice, L, temps, therm, samples, algorithm) -> str:
    return textwrap.dedent(f"""\
        seed = 1
        threads = 1
        output = "run.h5"
        [lattice]
        kind = "{lattice}"
        sizes = [{L}]
        [model]
        kind = "{model}"
        [sampler]
        algorithm = "{algorithm}"
        start = "ordered"
        thermalization = {therm}
        samples = {samples}
        flush_seconds = 30.0
        [temperatures]
        values = {list(temps)}
        """)


def run_physbreak(folder: Path, study, algorithm):
    from physbreak.analysis import estimate
    from physbreak.io import read_run

    model, lattice, L, temps, therm, samples = study
    command = [str(Path(sys.executable).parent / "physbreak"), "simulate", "run.toml", "--quiet"]
    (folder / "run.toml").write_text(physbreak_config(model, lattice, L, temps, 1, 10, algorithm))
    timed(command, folder)  # fills the compilation cache
    (folder / "run.h5").unlink()
    (folder / "run.toml").write_text(physbreak_config(model, lattice, L, temps, therm, samples, algorithm))
    wall, cpu, _ = timed(command, folder)
    _, (system,) = read_run(folder / "run.h5")
    energies = [estimate(system.streams["energy"][:, k]) for k in range(len(temps))]
    clusters = None
    if algorithm == "wolff":
        with h5py.File(folder / "run.h5", "r") as f:
            clusters = f[f"systems/{system.name}/checkpoint/clusters"][:]
    return wall, cpu, energies, clusters


SPINMC = """
import sys, rtoml
from spinmc._spinmc import run_from_py
run_from_py(open(sys.argv[1]).read())
"""


def spinmc_params(model, lattice, L, temps, equilibration, measurement, algorithm, every=1) -> dict:
    dim = 3 if lattice == "cubic" else 2
    return {"structure": {"cell": [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]], "positions": [[0.0, 0, 0]]},
            "grid": {"dimensions": [L, L, L if dim == 3 else 1], "sublattices": 1, "spin_magnitudes": [1.0],
                     "periodic_boundary": [True, True, dim == 3]},
            "exchange": [{"strength": 1.0, "neighbor_order": 1}],
            "simulation": {"initial_state": "z" if model == "ising" else "x", "model": model, "algorithm": algorithm,
                           "equilibration_steps": int(equilibration), "measurement_steps": int(measurement),
                           "num_threads": 1, "temperatures": [float(t) for t in temps],
                           "boltzmann_constant": 1.0},
            "output": {"outfile": "result.txt", "energy": True, "heat_capacity": False, "magnetization_abs": True,
                       "susceptibility_abs": False, "group_magnetization": False, "group_susceptibility": False,
                       "group_magnetization_abs": False, "group_susceptibility_abs": False,
                       "progress_bar": False, "stats_interval": int(every)}}


def run_spinmc(folder: Path, study, algorithm, clusters):
    import rtoml

    model, lattice, L, temps, therm, samples = study
    (folder / "spinmc_run.py").write_text(SPINMC)
    if algorithm == "metropolis":
        jobs = [(temps, therm, samples, 1)]
    else:  # one run per temperature with physbreak's number of clusters, measured once per sweep-equivalent
        jobs = [((T,), therm * k, samples * k, k) for T, k in zip(temps, np.asarray(clusters).tolist())]
    wall = cpu = 0.0
    energies = []
    for k, (ts, eq, meas, every) in enumerate(jobs):
        path = folder / f"spinmc_{k}.toml"
        path.write_text(rtoml.dumps(spinmc_params(model, lattice, L, ts, eq, meas, algorithm, every)))
        w, c, _ = timed([sys.executable, "spinmc_run.py", path.name], folder)
        wall, cpu = wall + w, cpu + c
        rows = [line.split() for line in (folder / "result.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
        energies += [float(r[1]) for r in rows]
    return wall, cpu, energies


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="multiply every study's sweeps")
    p.add_argument("--only", nargs="*", default=None, help="studies to run (default: all)")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    print(f"CPU: {cpu_description()}; one thread per code")
    header = (f"{'study':<17} {'algorithm':<10} {'spinmc wall':>11} {'physbreak':>9} {'ratio':>6} "
              f"{'CPU ratio':>9}  energies per spin (physbreak +- error | spinmc [| exact])")
    print(header)
    results, ok = [], True
    for name, study in STUDIES.items():
        if args.only and name not in args.only:
            continue
        model, lattice, L, temps, therm, samples = study
        study = (model, lattice, L, temps, max(1, int(therm * args.scale)), max(10, int(samples * args.scale)))
        for algorithm in ALGORITHMS:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                pb_wall, pb_cpu, pb_e, clusters = run_physbreak(folder, study, algorithm)
                sm_wall, sm_cpu, sm_e = run_spinmc(folder, study, algorithm, clusters)
            agree = [bool(abs(a.mean - b) < 4 * np.sqrt(2) * a.error) for a, b in zip(pb_e, sm_e)]
            ratio = pb_wall / sm_wall
            ok &= ratio <= 0.5 and all(agree)
            exact = [ising_torus_energy(L, T) if (model, lattice) == ("ising", "square") else None for T in temps]
            energies = "  ".join(f"{a.mean:.5f}+-{a.error:.5f}|{b:.5f}{'' if x is None else f'|{x:.5f}'}"
                                 f"{'' if g else ' DISAGREE'}" for a, b, g, x in zip(pb_e, sm_e, agree, exact))
            print(f"{name:<17} {algorithm:<10} {sm_wall:10.2f}s {pb_wall:8.2f}s {ratio:6.2f} "
                  f"{pb_cpu / sm_cpu:9.2f}  {energies}", flush=True)
            results.append({"study": name, "algorithm": algorithm, "temperatures": list(temps),
                            "spinmc_wall_s": sm_wall, "spinmc_cpu_s": sm_cpu, "physbreak_wall_s": pb_wall,
                            "physbreak_cpu_s": pb_cpu, "wall_ratio": ratio,
                            "physbreak_energy": [a.mean for a in pb_e], "physbreak_error": [a.error for a in pb_e],
                            "spinmc_energy": sm_e, "exact_energy": exact, "energies_agree": agree})
    print(f"goal: physbreak wall <= 0.5x spinmc on every study, energies agreeing: {'met' if ok else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": cpu_description(), "scale": args.scale,
                                               "results": results}, indent=1))


if __name__ == "__main__":
    main()
