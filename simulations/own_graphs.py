"""Your own graphs end to end: a graph6 file -> graph autoencoders (`physbreak train`,
kind = "decoding") -> `physbreak predict` on graphs the models never saw.

    python simulations/own_graphs.py [--out own_graphs_run] [--epochs 40]

Writes 400 distinct random connected graphs with 5-8 nodes (G(n, p),
relabelled) to ``my_graphs.g6``, trains the plain decoder (``none``) and the
canonical one on 80 % of them, and decodes 50 new graphs (isomorphic to none of
those) from ``new_graphs.g6``.  Prints the fraction each
decoder reconstructs exactly (isomorphic to the input).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np

from physbreak.problems.graphs import canonical_edges


def random_graphs(count: int, rng, seen=frozenset()):
    out, keys = [], set(seen)
    while len(out) < count:
        n = int(rng.integers(5, 9))
        g = nx.gnp_random_graph(n, float(rng.uniform(0.3, 0.6)), seed=int(rng.integers(2**31)))
        key = (n, canonical_edges(n, np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)).tobytes())
        if nx.is_connected(g) and key not in keys:
            keys.add(key)
            out.append(nx.relabel_nodes(g, dict(zip(g.nodes(), rng.permutation(n)))))
    return out, keys


def write(path: Path, graphs):
    with open(path, "wb") as f:
        for g in graphs:
            f.write(nx.to_graph6_bytes(g, nodes=sorted(g.nodes()), header=False))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="own_graphs_run")
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    train, keys = random_graphs(400, rng)
    new, _ = random_graphs(50, rng, keys)  # graphs isomorphic to no training graph
    write(out / "my_graphs.g6", train)
    write(out / "new_graphs.g6", new)
    (out / "decoding.toml").write_text(
        f'kind = "decoding"\noutput = "models"\nbreakers = ["none", "canonical"]\ndatasets = ["my_graphs.g6"]\n'
        f'max_nodes = 8\n[train]\nepochs = {args.epochs}\nbatch_size = 16\n')
    physbreak = [sys.executable, "-m", "physbreak.cli"]
    subprocess.run(physbreak + ["train", "decoding.toml", "--quiet"], cwd=out, check=True)
    for model in ("none", "canonical"):
        result = out / f"new_graphs_{model}.json"
        result.unlink(missing_ok=True)
        result.with_suffix(".g6").unlink(missing_ok=True)
        subprocess.run(physbreak + ["predict", f"models/checkpoints/my_graphs-{model}.pt", "new_graphs.g6",
                                    "--out", result.name], cwd=out, check=True, capture_output=True)
        rows = json.loads(result.read_text())["graphs"]
        print(f"{model:>9}: {100 * np.mean([r['isomorphic'] for r in rows]):.0f} % of {len(rows)} new graphs "
              f"decoded exactly ({result})")
    print(f"report: {out / 'models' / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
