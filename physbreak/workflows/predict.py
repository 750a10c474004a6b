"""``physbreak predict CHECKPOINT INPUT``: apply any trained predictor.

* a spin model on a ground-state dataset (``.h5`` from ``physbreak
  groundstates``) or on a couplings file (:func:`~physbreak.problems.user.read_couplings`):
  an HDF5 predictions file, one record per problem (``output`` float32,
  ``spins`` int8, energy and the metrics as attributes);
* a structure model on a structure file ``ase.io`` reads and a target group
  (``--target P4mm``; space-group symbol or number, or a point group for
  molecules): the predicted ground state written with ``ase.io`` (the input's
  format, or ``--out`` with any extension ase writes), with its detected
  group; ``--variants all`` writes every domain variant (the orbit of the
  prediction under the input's group);
* a structure model on a ground-state dataset with structure records: an HDF5
  predictions file with the displacements and the metrics;
* a graph model on a graph file (:mod:`physbreak.problems.graph_files`:
  graph6, sparse6, edge list, GML, GraphML, node-link JSON): a JSON file with
  one entry per graph (autoencoders: the decoded edges and whether the decoded
  graph is isomorphic to the input, plus the decoded graphs as graph6;
  classifiers: the class probabilities; colouring models: the colours, q = the
  chromatic number, and the conflicts).

``physbreak analyze`` summarises a predictions file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from physbreak.errors import ConfigError
from physbreak.io.claims import claim
from physbreak.learn.checkpoint import load
from physbreak.learn.metrics import spin_metrics, structure_metrics
from physbreak.problems import store
from physbreak.problems.store import read_problems, read_structures



def _is_hdf5(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == b"\x89HDF\r\n\x1a\n"


def predict_file(checkpoint, data, out=None, split: str | None = None, device="cpu", target=None,
                 variants: str = "one") -> list[tuple[Path, str]]:
    """Predict with ``checkpoint`` on ``data``; returns ``[(file written, what it holds)]``."""
    data = Path(data)
    if not data.is_file():
        raise ConfigError("INPUT", str(data), "an existing file (dataset .h5, structure file, couplings file)")
    if variants not in ("one", "all"):
        raise ConfigError("--variants", variants, "one or all")
    predictor = load(checkpoint, device)
    if predictor.domain in GRAPH_DOMAINS:
        if target is not None or split is not None:
            raise ConfigError("--target" if target is not None else "--split", target or split,
                              "nothing for graph models (they take a graph file)")
        return _predict_graphs(predictor, checkpoint, data, out)
    hdf5 = _is_hdf5(data)
    if predictor.domain == "spin":
        if target is not None:
            raise ConfigError("--target", target, "no target group for spin models (give it to structure models)")
        return [(_predict_spins(predictor, checkpoint, data, out, split, hdf5), "spin predictions")]
    if hdf5:
        return [(_predict_structure_records(predictor, checkpoint, data, out, split), "structure predictions")]
    if split is not None:
        raise ConfigError("--split", split, "only with a dataset .h5 input")
    return _predict_structure_file(predictor, data, out, target, variants)


GRAPH_DOMAINS = ("decoding", "classification", "colouring")


def _predict_graphs(predictor, checkpoint, data: Path, out) -> list[tuple[Path, str]]:
    from physbreak.learn.graph_metrics import decoded_edges
    from physbreak.learn.runner import write_json
    from physbreak.problems.graph_files import read_graphs, write_graph6
    from physbreak.problems.graphs import isomorphic

    graphs = read_graphs(data)
    path = _default_out(data, out, ".json")
    if path.exists():
        raise ConfigError("--out", str(path), "a file that does not exist yet (nothing is overwritten)")
    if predictor.domain == "colouring":
        from physbreak.groundstate.colourings import chromatic_number, conflicts

        for p in graphs:
            p.q = chromatic_number(p.n_nodes, p.edges)
    outputs = predictor.predict(graphs)
    rows, written = [], []
    for p, y in zip(graphs, outputs):
        row = {"label": p.label, "n_nodes": p.n_nodes, "n_edges": p.n_edges}
        if predictor.domain == "decoding":
            e = decoded_edges(y)
            row |= {"decoded_edges": e.tolist(), "isomorphic": bool(isomorphic(p.n_nodes, p.edges, p.n_nodes, e))}
        elif predictor.domain == "classification":
            row |= {"class": int(np.argmax(y)), "probabilities": [float(v) for v in y]}
        else:
            row |= {"q": p.q, "colours": [int(c) for c in y], "conflicts": conflicts(p.edges, y)}
        rows.append(row)
    if predictor.domain == "decoding":
        g6 = write_graph6(path.with_suffix(".g6"), [(p.n_nodes, np.array(r["decoded_edges"]).reshape(-1, 2))
                                                    for p, r in zip(graphs, rows)])
        written.append((g6, "decoded graphs (graph6)"))
    write_json(path, {"checkpoint": str(checkpoint), "input": str(data), "kind": predictor.kind, "graphs": rows})
    return [(path, f"{predictor.domain} predictions")] + written


def _default_out(data: Path, out, suffix: str) -> Path:
    return Path(out) if out else data.with_name(data.stem + "_predictions" + suffix)


def _check_split(records, split, data):
    if split is not None and not records:
        present = sorted({r["split"] for r in store.summary(data)})
        raise ConfigError("--split", split, f"a split present in {str(data)!r}: {', '.join(present) or 'none'}")


def _predict_spins(predictor, checkpoint, data: Path, out, split, hdf5: bool) -> Path:
    if hdf5:
        records = read_problems(data, split)
        _check_split(records, split, data)
        if not records:
            raise ConfigError("INPUT", str(data), "a ground-state file with spin records")
    else:
        from physbreak.problems.user import read_couplings, spin_problem

        records = [("000000", "user", spin_problem(read_couplings(data)))]
    usable = [(n, s, p) for n, s, p in records if not hasattr(predictor, "accepts") or predictor.accepts(p)]
    if not usable:
        raise ConfigError("INPUT", str(data), f"problems on the model's lattice ({len(predictor.bonds)} bonds)")
    outputs = predictor.predict([p for _, _, p in usable])

    def write(f):
        for (name, split_name, p), y in zip(usable, outputs):
            m = spin_metrics(p, y, p.group_arrays())
            g = f["records"].create_group(name)
            g.create_dataset("output", data=np.asarray(y, dtype=np.float32))
            g.create_dataset("spins", data=np.sign(y).astype(np.int8))
            g.attrs.update({"family": p.family, "label": p.label, "split": split_name,
                            "n_sites": p.n_sites, "ground_energy": p.ground.energy,
                            "energy": float(p.energy(np.sign(y))[0]), **m})

    return _write_predictions(_default_out(data, out, ".h5"), predictor, checkpoint, data, "spin", write)


def _write_predictions(out: Path, predictor, checkpoint, data: Path, domain: str, write) -> Path:
    """A predictions file at ``out`` (claimed while it is written), its records from ``write(file)``."""
    with claim(out):
        f = store.create(out, "predictions", json.dumps({"kind": predictor.kind, **predictor.config()}),
                         predictor.seed)
        try:
            f.attrs.update({"checkpoint": str(checkpoint), "dataset": str(data), "domain": domain})
            write(f)
            f.attrs["complete"] = True
        finally:
            f.close()
    return out


def _predict_structure_records(predictor, checkpoint, data: Path, out, split) -> Path:
    records = read_structures(data, split)
    _check_split(records, split, data)
    if not records:
        raise ConfigError("INPUT", str(data), "a ground-state file with structure records")
    outputs = predictor.predict(records)

    def write(f):
        for k, (p, d) in enumerate(zip(records, outputs)):
            m = structure_metrics(p, d)
            g = f["records"].create_group(f"{k:06d}")
            g.create_dataset("displacements", data=d)
            g["displacements"].attrs["units"] = "A"
            g.attrs.update({key: v for key, v in m.items() if v is not None})

    return _write_predictions(_default_out(data, out, ".h5"), predictor, checkpoint, data, "structure", write)


def _predict_structure_file(predictor, data: Path, out, target, variants: str) -> list[tuple[Path, str]]:
    import ase.io

    from physbreak.problems.user import held_problem, read_structures as read_files, subgroup_candidates
    from physbreak.symmetry.operations import SYMPREC, group_name, orbit

    frames = read_files(data)
    if len(frames) != 1:
        raise ConfigError("INPUT", str(data), f"one structure (the file holds {len(frames)} frames)")
    parent = frames[0]
    if target is None:
        names = sorted({n for n, _, _ in subgroup_candidates(parent)})
        raise ConfigError("--target", None, f"a target group for {group_name(parent)}: one of {', '.join(names)}")
    problem = held_problem(parent, target, kind=data.stem)
    out = Path(out) if out else data.with_name(f"{data.stem}_{_safe(problem.target_group)}{data.suffix}")
    try:
        fmt = ase.io.formats.filetype(out, read=False)
        single = ase.io.formats.ioformats[fmt].single
    except (ValueError, KeyError, TypeError):
        raise ConfigError("--out", str(out), "a file name with an extension ase writes (.cif, .extxyz, .vasp, "
                          ".xyz, .traj, ...)") from None
    if out.exists():
        from physbreak.errors import OutputExistsError

        raise OutputExistsError(f"--out = {str(out)!r} exists: choose another --out or remove it")
    d = predictor.predict([problem])[0]
    disps = [d]
    if variants == "all":
        images = orbit(d, problem.mats, problem.perms)
        _, first = np.unique(np.round(images.reshape(len(images), -1), 4) + 0.0, axis=0, return_index=True)
        disps = list(images[np.sort(first)])
    paths = [out] if not single or len(disps) == 1 else \
        [out.with_name(f"{out.stem}_{k}{out.suffix}") for k in range(len(disps))]
    for path in (paths if len(paths) > 1 else []):
        if path.exists():
            from physbreak.errors import OutputExistsError

            raise OutputExistsError(f"--out = {str(path)!r} exists: choose another --out or remove it")
    structures = []
    for x in disps:
        atoms = parent.copy()
        atoms.positions = parent.positions + x
        atoms.info["physbreak_group"] = group_name(atoms, SYMPREC)
        structures.append(atoms)
    tmp = [p.with_name(p.name + ".tmp" + p.suffix) for p in paths]
    try:
        if len(paths) == 1:
            ase.io.write(tmp[0], structures if len(structures) > 1 else structures[0], format=fmt)
        else:
            for t, atoms in zip(tmp, structures):
                ase.io.write(t, atoms, format=fmt)
    except Exception as exc:
        for t in tmp:
            t.unlink(missing_ok=True)
        raise ConfigError("--out", str(out), f"a file ase can write ({type(exc).__name__}: {str(exc)[:100]})") from None
    for t, p in zip(tmp, paths):
        t.replace(p)
    groups = [a.info["physbreak_group"] for a in structures]
    if len(paths) == 1:
        return [(paths[0], f"{len(structures)} structure(s), group {', '.join(dict.fromkeys(groups))}")]
    return [(p, f"group {g}") for p, g in zip(paths, groups)]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_") or "target"


def summarise_predictions(path) -> dict:
    """Spin predictions: per (family, size) count, exact-hit rate, mean gap per
    spin, E/E0, symmetry match.  Structure predictions: per (family, kind) count,
    mean orbit RMSD, target group reached."""
    groups: dict = {}
    with store.open_kind(path, "predictions") as f:
        meta = json.loads(f.attrs["config"])
        domain = str(f.attrs.get("domain", "spin"))
        for g in f["records"].values():
            a = g.attrs
            if domain == "spin":
                groups.setdefault((str(a["family"]), int(a["n_sites"])), []).append(
                    (bool(a["exact"]), float(a["gap"]), float(a["ratio"]), bool(a.get("symmetry", False))))
            else:
                groups.setdefault((str(a["family"]), str(a["kind"])), []).append(
                    (float(a["rmsd"]), bool(a["group_ok"])))
    rows = []
    for key, vals in sorted(groups.items()):
        v = np.array(vals, dtype=float)
        if domain == "spin":
            rows.append({"family": key[0], "n_sites": key[1], "count": len(vals), "exact": v[:, 0].mean(),
                         "gap": v[:, 1].mean(), "ratio": np.nanmean(v[:, 2]), "symmetry": v[:, 3].mean()})
        else:
            rows.append({"family": key[0], "kind": key[1], "count": len(vals), "rmsd": v[:, 0].mean(),
                         "group_ok": v[:, 1].mean()})
    return {"file": str(path), "domain": domain, "model": meta, "rows": rows}


def format_predictions(summary: dict) -> str:
    meta = summary["model"]
    trained = meta.get("info", {}).get("dataset") or meta.get("family", "?")
    lines = [f"{summary['file']}  model: {meta.get('kind', 'spin_gnn')} {meta.get('breaker', meta.get('strategy', ''))} "
             f"(trained on {trained})"]
    if summary["domain"] == "spin":
        lines.append(f"{'family':>12} {'spins':>6} {'count':>6} {'exact':>7} {'gap/N':>8} {'E/E0':>7} {'sym ok':>7}")
        for r in summary["rows"]:
            lines.append(f"{r['family']:>12} {r['n_sites']:>6} {r['count']:>6} {100 * r['exact']:>6.0f}% "
                         f"{r['gap']:>8.3f} {r['ratio']:>7.3f} {100 * r['symmetry']:>6.0f}%")
    else:
        lines.append(f"{'family':>12} {'kind':>10} {'count':>6} {'RMSD (A)':>9} {'group ok':>9}")
        for r in summary["rows"]:
            lines.append(f"{r['family']:>12} {r['kind']:>10} {r['count']:>6} {r['rmsd']:>9.4f} "
                         f"{100 * r['group_ok']:>8.0f}%")
    return "\n".join(lines)
