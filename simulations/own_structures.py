"""Your own structures, end to end: CIF files in, a trained symmetry-breaking
predictor, and the ground state of a new cubic input out.

The system is not built in: cubic KNbO3-like perovskites (lattice constant a)
whose ground state is a polar P4mm distortion that grows with a.  The script
writes the inputs and targets as CIF files, makes a dataset from them
(`physbreak groundstates`, family "structures"), trains the e3nn network with
the symmetry-breaking-set breaker and the plain equivariant one (`physbreak
train`), and predicts every domain variant of a new cubic cell (`physbreak
predict --target P4mm --variants all`), printing each variant's space group
and its orbit-aware RMSD to the true distortion.

    python simulations/own_structures.py [--out own_structures] [--epochs 60]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms


def perovskite(a: float, polar: bool) -> Atoms:
    """KNbO3 in the cubic cell of edge ``a`` (A); ``polar``: the P4mm distortion along z."""
    frac = np.array([[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    atoms = Atoms("KNbO3", scaled_positions=frac, cell=np.eye(3) * a, pbc=True)
    if polar:
        u = 0.4 * (a - 3.8)
        atoms.positions += np.array([[0, 0, 0.2 * u], [0, 0, u], [0, 0, -0.6 * u], [0, 0, -0.3 * u], [0, 0, -0.3 * u]])
    return atoms


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="own_structures")
    p.add_argument("--epochs", type=int, default=60)
    args = p.parse_args()
    out = Path(args.out)
    (out / "files").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    inputs, targets = [], []
    for k, a in enumerate(rng.uniform(3.95, 4.1, 12)):
        for name, polar, where in ((f"in{k}.cif", False, inputs), (f"out{k}.cif", True, targets)):
            ase.io.write(out / "files" / name, perovskite(a, polar))
            where.append(str(out / "files" / name))
    dataset = out / "dataset.toml"
    dataset.write_text(f'seed = 1\noutput = "{out / "knbo3.h5"}"\n'
                       f'[[family]]\nname = "structures"\nsplit = "train"\n[family.params]\n'
                       f'inputs = {json.dumps(inputs[:9])}\ntargets = {json.dumps(targets[:9])}\n'
                       f'[[family]]\nname = "structures"\nsplit = "test"\n[family.params]\n'
                       f'inputs = {json.dumps(inputs[9:])}\ntargets = {json.dumps(targets[9:])}\n')
    training = out / "train.toml"
    training.write_text(f'kind = "structures"\noutput = "{out / "models"}"\nbreakers = ["sbs", "none"]\n'
                        f'datasets = ["{out / "knbo3.h5"}"]\n[files]\nepochs = {args.epochs}\n')
    new = out / "new_cubic.cif"
    ase.io.write(new, perovskite(4.03, False))
    for old in out.glob("new_cubic_P4mm*"):
        old.unlink()
    for command in (["physbreak", "groundstates", str(dataset), "--resume"], ["physbreak", "train", str(training)],
                    ["physbreak", "predict", str(out / "models/checkpoints/knbo3-sbs.pt"), str(new), "--target",
                     "P4mm", "--variants", "all"]):
        subprocess.run(command, check=True)
    from physbreak.learn.metrics import orbit_rmsd
    from physbreak.problems.user import displacement, structure_problem
    from physbreak.symmetry.operations import group_name

    truth = structure_problem(perovskite(4.03, False), perovskite(4.03, True))
    print(f"\n{'variant':>8} {'space group':>12} {'RMSD (A)':>9}")
    for k, atoms in enumerate(ase.io.read(out / "new_cubic_P4mm.cif", index=":")):
        rmsd = orbit_rmsd(displacement(perovskite(4.03, False), atoms), truth.targets)
        print(f"{k:>8} {group_name(atoms):>12} {rmsd:>9.4f}")
    print(f"\nreport: {out / 'models' / 'report.md'}")


if __name__ == "__main__":
    main()
