"""Stabilizer of a 32 x 32 square-lattice Ising Hamiltonian within p4m x Z2
(16384 elements), vectorised, against the element-by-element baseline
(transform, then compare) measured in the same run, on one core.

    python bench/stabilizer.py [--L 32] [--json bench/stabilizer.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from physbreak.lattice import build  # noqa: E402
from physbreak.symmetry import SpinHamiltonian, direct_product, spin_flip_group, stabilizer_elements  # noqa: E402


def hamiltonians(lat, rng):
    bonds = lat.bonds(1)
    n = lat.n_sites
    yield "uniform ferromagnet (stabilizer = whole group)", SpinHamiltonian(n, bonds, np.ones(len(bonds)), np.zeros(n))
    horizontal = np.abs(np.diff(lat.positions[bonds], axis=1)[:, 0, 0]) > 0.5
    J = np.where(horizontal, 1.0, 0.5)  # Jx != Jy: p2mm-like
    yield "Jx != Jy in a staggered field", SpinHamiltonian(n, bonds, J, 0.3 * lat.sublattice_sign)
    yield "random couplings (trivial)", SpinHamiltonian(n, bonds, rng.normal(size=len(bonds)), np.zeros(n))


def baseline(group, H, limit_seconds=20.0):
    """Element by element: transform and compare; extrapolated past the limit."""
    start, fixed = time.perf_counter(), 0
    for g in range(group.order):
        fixed += H.transformed(group, g).equals(H)
        if time.perf_counter() - start > limit_seconds:
            return (time.perf_counter() - start) * group.order / (g + 1), None
    return time.perf_counter() - start, fixed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--L", type=int, default=32)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    lat = build("square", args.L)
    t0 = time.perf_counter()
    group = direct_product(lat.space_group(), spin_flip_group())
    build_s = time.perf_counter() - t0
    print(f"p4m x Z2 on {args.L}x{args.L}: {group.order} elements (built in {build_s:.2f} s, once)")
    print(f"{'Hamiltonian':<48} {'|stab|':>7} {'vectorised':>11} {'baseline':>10} {'speed-up':>9}")
    rows = []
    for name, H in hamiltonians(lat, np.random.default_rng(0)):
        t0 = time.perf_counter()
        stab = stabilizer_elements(group, H)
        fast = time.perf_counter() - t0
        slow, fixed = baseline(group, H)
        if fixed is not None:
            assert fixed == len(stab)
        rows.append({"hamiltonian": name, "stabilizer_order": int(len(stab)), "vectorised_s": fast,
                     "baseline_s": slow, "baseline_extrapolated": fixed is None})
        print(f"{name:<48} {len(stab):>7} {fast:>10.3f}s {slow:>9.2f}s{'*' if fixed is None else ' '}"
              f" {slow / fast:>8.0f}x")
    print("* extrapolated from the first 20 s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"L": args.L, "group_order": group.order, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
