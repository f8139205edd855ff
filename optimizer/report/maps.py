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


def draw_context(ax, inputs, crs: str) -> None:
    """Country outlines, lakes and major rivers under the network."""
    if inputs is None:
        return
    inputs.countries.to_crs(crs).boundary.plot(ax=ax, color="#555555", linewidth=0.7, zorder=0)
    if len(inputs.water):
        inputs.water.to_crs(crs).plot(ax=ax, color="#a6cee3", zorder=0)
    if len(inputs.rivers):
        inputs.rivers.to_crs(crs).plot(ax=ax, color="#1f78b4", linewidth=0.8, zorder=0)


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


def _frame(ax, graph: nx.DiGraph) -> None:
    """Fix the view to the graph's extent (context layers extend beyond it)."""
    xs = [d["x"] for _, d in graph.nodes(data=True)]
    ys = [d["y"] for _, d in graph.nodes(data=True)]
    pad = 10_000
    ax.set_xlim(min(xs) - pad, max(xs) + pad)
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    ax.set_autoscale_on(False)


def graph_map(graph: nx.DiGraph, path: Path, *, title: str, note: str = "", inputs=None) -> Path:
    """Write a PNG map of the graph by edge kind, with origins and objectives."""
    fig, ax = plt.subplots(figsize=(9, 11), dpi=110)
    draw_graph(ax, graph)
    _frame(ax, graph)
    draw_context(ax, inputs, graph.graph["crs"])
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


def plan_map(run, path: Path, *, note: str = "") -> Path:
    """Static map of a plan: roads, obstacles by type, sensors with range, routes before/after."""
    graph = run.prepared.graph
    plan = run.plan
    sites = run.prepared.sites.to_crs(graph.graph["crs"]).set_index("site_id")
    fig, ax = plt.subplots(figsize=(9, 11), dpi=110)
    draw_graph(ax, graph, kinds={k: v for k, v in KIND_STYLE.items()
                                 if k in ("road", "bridge")})
    _frame(ax, graph)
    draw_context(ax, run.prepared.inputs, graph.graph["crs"])
    for axis_id, routes in plan.routes.items():
        for when, style in (("before", dict(color="#ff7f0e", linewidth=1.2, linestyle="--")),
                            ("after", dict(color="#d62728", linewidth=1.6))):
            nodes = routes.get(when)
            if nodes:
                xy = [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes]
                ax.plot(*zip(*xy, strict=True), zorder=5, **style,
                        label=f"route {when}" if axis_id == next(iter(plan.routes)) else None)
    markers = {"at_ditch": "s", "complex_belt": "D", "concrete_blocks": "^",
               "bridge_demolition": "X", "dragons_teeth": "P", "wire": "|"}
    for kind, group in plan.obstacles.groupby("type"):
        pts = sites.loc[group["site_id"]].geometry
        ax.scatter(pts.x, pts.y, marker=markers.get(kind, "o"), s=28, zorder=7,
                   label=f"{kind} ({len(group)})", edgecolors="black", linewidths=0.4)
    sensor_types = run.prepared.inputs.sensor_types.set_index("type") \
        if run.prepared.inputs is not None else None
    for kind, group in plan.sensors.groupby("type"):
        pts = sites.loc[group["site_id"]].geometry
        ax.scatter(pts.x, pts.y, marker="o", s=22, zorder=8, facecolors="white",
                   edgecolors="#1f77b4", label=f"{kind} ({len(group)})")
        if sensor_types is not None and kind in sensor_types.index:
            radius = float(sensor_types.at[kind, "range_km"]) * 1000
            for p in pts:
                ax.add_patch(plt.Circle((p.x, p.y), radius, fill=False, color="#1f77b4",
                                        alpha=0.25, linewidth=0.6))
    report = plan.report
    ax.set_title(f"{run.prepared.source}: {report.mode} plan, {report.status}, "
                 f"objective {report.objective:g}, spend {plan.spend / 1e6:,.1f} M EUR",
                 fontsize=9)
    ax.legend(loc="lower left", fontsize=6, ncol=2)
    ax.set_xlabel(f"x (m, {graph.graph['crs']})")
    ax.set_ylabel("y (m)")
    if note:
        fig.text(0.01, 0.005, note, fontsize=6, color="#444444", wrap=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
