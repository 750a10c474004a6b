"""``physbreak symmetry PARENT [CHILD]``: the symmetry-mode decomposition of a
distortion (crystals: irreps of the parent space group, molecules: of its
point group) or, with ``--irrep``, the isotropy subgroups of every direction
of one irrep of a crystal parent.  Any file ``ase.io`` reads; the first frame
of each."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from physbreak.errors import DataError


def _read(path):
    from physbreak.problems.user import read_structures

    return read_structures(path)[0]


def symmetry_report(parent_path, child_path=None, irrep: str | None = None, supercell=(2, 2, 2),
                    symprec: float = 1e-3) -> dict:
    """The decomposition (``child_path``) or the isotropy subgroups (``irrep``) as a JSON-ready dict."""
    parent = _read(parent_path)
    periodic = bool(np.any(parent.pbc))
    if child_path is None and irrep is None:
        raise DataError("give a CHILD structure to decompose, or --irrep LABEL to list isotropy subgroups")
    if irrep is not None:
        if not periodic:
            raise DataError(f"--irrep {irrep}: isotropy subgroups are listed for crystal parents; "
                            f"{str(parent_path)!r} is a molecule (no periodic axis)")
        from physbreak.symmetry.crystal_modes import isotropy_subgroups

        S = np.diag(supercell)
        return {"parent": str(parent_path), "irrep": irrep, "supercell": S.tolist(),
                "isotropy_subgroups": isotropy_subgroups(parent, irrep, S, symprec)}
    child = _read(child_path)
    if bool(np.any(child.pbc)) != periodic:
        raise DataError(f"CHILD = {str(child_path)!r} is {'periodic' if np.any(child.pbc) else 'a molecule'} but "
                        f"PARENT is {'periodic' if periodic else 'a molecule'}: give two crystals or two molecules")
    if periodic:
        from physbreak.symmetry.crystal_modes import crystal_modes

        result = crystal_modes(parent, child, symprec).as_dict()
    else:
        from physbreak.symmetry.modes import molecule_modes

        result = molecule_modes(parent, child).as_dict()
    return {"parent": str(parent_path), "child": str(child_path), "kind": "crystal" if periodic else "molecule",
            **result}


def format_symmetry(result: dict) -> str:
    if "isotropy_subgroups" in result:
        lines = [f"{result['parent']}: isotropy subgroups of {result['irrep']} (supercell {result['supercell']})",
                 f"{'direction':>10}  isotropy subgroup"]
        lines += [f"{d:>10}  {g}" for d, g in result["isotropy_subgroups"].items()]
        return "\n".join(lines)
    lines = [f"parent {result['parent']}: {result['parent_group']}; child {result['child']}: {result['child_group']}"]
    if result["kind"] == "crystal":
        lines[0] += f"; supercell {result['supercell']}; isotropy of the distortion {result['isotropy']}"
        lines.append(f"{'irrep':>8} {'dim':>4} {'amplitude':>10}  {'pattern':>9}  {'isotropy':>10}  direction")
        for m in result["modes"]:
            d = ", ".join(f"{x:.4f}" for x in m["direction"])
            lines.append(f"{m['irrep']:>8} {m['dim']:>4} {m['amplitude']:>10.4f}  {m['pattern']:>9}  "
                         f"{m['isotropy']:>10}  ({d})")
        if result["strain"]:
            lines.append("strain: " + ", ".join(f"{s['irrep']} {s['amplitude']:.5f}" for s in result["strain"]))
    else:
        lines.append(f"{'irrep':>8} {'dim':>4} {'amplitude':>10}  {'isotropy':>10}")
        lines += [f"{m['irrep']:>8} {m['dim']:>4} {m['amplitude']:>10.4f}  {m['isotropy']:>10}" for m in result["modes"]]
    lines.append(f"total amplitude {result['total_amplitude']:.4f} A (amplitudes: root of the summed squared "
                 "atomic displacements, A)")
    return "\n".join(lines)


def write_json(result: dict, path) -> Path:
    path = Path(path)
    try:
        path.write_text(json.dumps(result, indent=1))
    except OSError as exc:
        raise DataError(f"--json {str(path)!r}: cannot be written ({exc.strerror})") from None
    return path
