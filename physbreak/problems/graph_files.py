"""The user's own graphs from files networkx reads.

| suffix | format |
|---|---|
| ``.g6``, ``.graph6`` | graph6, one graph per line (the format of nauty's ``geng`` and of the House of Graphs) |
| ``.s6``, ``.sparse6`` | sparse6, one graph per line |
| ``.edgelist``, ``.txt`` | one edge ``u v`` per line (one graph) |
| ``.adjlist`` | one node and its neighbours per line (one graph) |
| ``.gml``, ``.graphml`` | GML, GraphML (one graph) |
| ``.json`` | node-link JSON (networkx ``node_link_data``; one graph, or a list of them) |

Directed graphs are read as undirected, self-loops and repeated edges dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from physbreak.errors import DataError
from physbreak.problems.graphs import GraphProblem, from_networkx

SUFFIXES = (".g6", ".graph6", ".s6", ".sparse6", ".edgelist", ".txt", ".adjlist", ".gml", ".graphml", ".json")


def _read(path: Path) -> list:
    import networkx as nx

    suffix = path.suffix.lower()
    if suffix in (".g6", ".graph6", ".s6", ".sparse6"):
        reader = nx.from_graph6_bytes if suffix in (".g6", ".graph6") else nx.from_sparse6_bytes
        lines = [ln.strip() for ln in path.read_bytes().splitlines() if ln.strip() and not ln.startswith(b">>")]
        return [reader(ln) for ln in lines]
    if suffix in (".edgelist", ".txt"):
        return [nx.read_edgelist(path, nodetype=str, data=False)]
    if suffix == ".adjlist":
        return [nx.read_adjlist(path, nodetype=str)]
    if suffix == ".gml":
        return [nx.read_gml(path, label=None)]
    if suffix == ".graphml":
        return [nx.read_graphml(path)]
    data = json.loads(path.read_text())
    return [nx.node_link_graph(d, edges="links" if "links" in d else "edges")
            for d in (data if isinstance(data, list) else [data])]


def read_graphs(path, family: str | None = None) -> list[GraphProblem]:
    """Every graph in ``path`` (see the module table), as :class:`GraphProblem` values
    labelled ``"<file>#<k>"``; a :class:`DataError` naming the file otherwise."""
    path = Path(path)
    what = f"GRAPHS = {str(path)!r}"
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{what}: the suffix {path.suffix!r} is not a graph format; allowed: {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise DataError(f"{what} is not an existing file")
    try:
        graphs = _read(path)
    except Exception as exc:  # networkx raises many kinds of errors on malformed files
        raise DataError(f"{what} cannot be read as {path.suffix.lower()} ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:120] if str(exc) else 'malformed'})") from None
    out = []
    for k, g in enumerate(graphs):
        g = g.to_undirected() if g.is_directed() else g
        out.append(from_networkx(g, family or path.stem, f"{path.name}#{k}"))
    if not out or all(p.n_nodes == 0 for p in out):
        raise DataError(f"{what} holds no graph with nodes")
    return [p for p in out if p.n_nodes > 0]


def write_graph6(path, graphs: list[tuple[int, np.ndarray]]) -> Path:
    """``(n, edges)`` graphs to a graph6 file (one per line), written to a
    temporary name and renamed."""
    import os

    import networkx as nx

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        for n, edges in graphs:
            g = nx.Graph()
            g.add_nodes_from(range(n))
            g.add_edges_from(np.asarray(edges).tolist())
            f.write(nx.to_graph6_bytes(g, header=False))
    os.replace(tmp, path)
    return path
