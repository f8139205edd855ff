"""Static PNG maps of the graph and of a plan (matplotlib, Agg backend, no tiles)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

KIND_STYLE = {
    "terrain": dict(color="#c9d6b8", linewidth=0.2, zorder=1),
    "connector": dict(color="#999999", linewidth=0.4, zorder=2),
    "road": dict(color="#8a5a2b", linewidth=0.9, zorder=3),
    "bridge": dict(color="#d62728", linewidth=2.5, zorder=4),
    "staging": dict(color="#9467bd", linewidth=0.6, zorder=2),
}


def _segments(graph: nx.DiGraph, kind: str):
    seen = set()
    out = []
    for u, v, d in graph.edges(data=True):
        if d["kind"] != kind or (v, u) in seen:
            continue
        seen.add((u, v))
        out.append(list(d["geometry"].coords))
    return out


def draw_graph(ax, graph: nx.DiGraph, *, kinds=KIND_STYLE) -> None:
    for kind, style in kinds.items():
        segments = _segments(graph, kind)
        if segments:
            ax.add_collection(LineCollection(segments, label=kind, **style))
    for role, marker, color in (("origin", "v", "#d62728"), ("objective", "*", "#1f77b4")):
        pts = [(d["x"], d["y"], d["label"]) for _, d in graph.nodes(data=True) if d["kind"] == role]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, s=70, c=color,
                       zorder=6, label=role)
            for x, y, label in pts:
                ax.annotate(label, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.autoscale()
    ax.set_aspect("equal")


def graph_map(graph: nx.DiGraph, path: Path, *, title: str, note: str = "") -> Path:
    """Write a PNG map of the graph by edge kind, with origins and objectives."""
    fig, ax = plt.subplots(figsize=(9, 11), dpi=110)
    draw_graph(ax, graph)
    ax.set_title(title, fontsize=10)
    if note:
        fig.text(0.01, 0.005, note, fontsize=7, color="#444444")
    ax.legend(loc="lower left", fontsize=7)
    ax.set_xlabel(f"x (m, {graph.graph['crs']})")
    ax.set_ylabel("y (m)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
