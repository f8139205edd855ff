"""Writers for every file the package produces. Atomic: temporary file, then rename."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pyogrio
import shapely

from optimizer.errors import InputError, Problem

NODE_COLUMNS = ["node_id", "kind", "country", "x", "y", "land_cover", "label"]
EDGE_COLUMNS = ["source", "target", "kind", "country", "length_m", "speed_kmh", "time_min",
                "road_class", "capacity"]


def safe_name(name: str) -> str:
    """A scenario name as a folder name that cannot leave the folder it is written in."""
    cleaned = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in name).strip(".")
    return cleaned or "scenario"


def check_output_folder(out_dir: Path | str, option: str = "--out") -> None:
    """Raise :class:`InputError` if results cannot be written to ``out_dir``: checked before
    a solve, so that a long run does not end unwritten. The folder (if it exists; results
    are written into it) and the nearest existing folder above it (where the atomic writers
    make their temporary folders) must take new entries; a probe folder is made and removed
    in each."""
    out_dir = Path(out_dir).absolute()
    where = f"{option} {out_dir}"
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError([Problem(where, "is a file, not a folder", "choose a folder")])
    above = next(p for p in out_dir.parents if p.exists())
    if not above.is_dir():
        raise InputError([Problem(where, f"{above} is a file, so no folder can be made in it",
                                  "choose a folder path that does not run through a file")])
    for folder in ([out_dir] if out_dir.exists() else []) + [above]:
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".probe-", dir=folder))
        except OSError as error:
            raise InputError([Problem(where, f"cannot write in {folder}: {error.strerror}",
                                      "choose a folder you can write to")]) from None


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        yield Path(tmp)
        if os.path.exists(tmp):  # a writer may decide there is nothing to write
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            if os.path.isdir(tmp):
                shutil.rmtree(tmp)
            else:
                os.unlink(tmp)


@contextmanager
def atomic_folder(out_dir: Path):
    """Yield a temporary folder beside ``out_dir``; it replaces ``out_dir`` only on success,
    so a crash or kill never leaves a half-written result folder."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield tmp
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old / "previous")
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_json(path: Path, data: object) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_csv(path: Path, table: pd.DataFrame) -> Path:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    return path


def write_with(path: Path, writer: Callable[[Path], object]) -> Path:
    """Run ``writer(tmp_path)`` and move the result into place atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return path


def graph_to_frames(graph: nx.DiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and edges as GeoDataFrames (the exact inverse of :func:`frames_to_graph`)."""
    crs = graph.graph["crs"]
    nodes = pd.DataFrame([{"node_id": n, **{k: d[k] for k in NODE_COLUMNS[1:]}}
                          for n, d in graph.nodes(data=True)], columns=NODE_COLUMNS)
    nodes = gpd.GeoDataFrame(nodes, geometry=shapely.points(nodes["x"], nodes["y"]), crs=crs)
    rows, geoms = [], []
    for u, v, d in graph.edges(data=True):
        rows.append({"source": u, "target": v, **{k: d[k] for k in EDGE_COLUMNS[2:]}})
        geoms.append(d["geometry"])
    edges = gpd.GeoDataFrame(pd.DataFrame(rows, columns=EDGE_COLUMNS), geometry=geoms, crs=crs)
    return nodes, edges


def frames_to_graph(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame,
                    attributes: dict) -> nx.DiGraph:
    graph = nx.DiGraph(**attributes)
    for row in nodes[NODE_COLUMNS].itertuples(index=False):
        graph.add_node(row.node_id, **{k: getattr(row, k) for k in NODE_COLUMNS[1:]})
    for row, geometry in zip(edges[EDGE_COLUMNS].itertuples(index=False), edges.geometry,
                             strict=True):
        attrs = {k: getattr(row, k) for k in EDGE_COLUMNS[2:]}
        graph.add_edge(row.source, row.target, geometry=geometry, **attrs)
    return graph


def _normalise(graph: nx.DiGraph) -> None:
    """Plain Python types so that a reloaded graph compares equal to the built one."""
    for _, d in graph.nodes(data=True):
        d["x"], d["y"] = float(d["x"]), float(d["y"])
        for key in ("kind", "country", "land_cover", "label"):
            d[key] = "" if d[key] is None or d[key] != d[key] else str(d[key])
    for _, _, d in graph.edges(data=True):
        for key in ("length_m", "speed_kmh", "time_min"):
            d[key] = float(d[key])
        d["capacity"] = int(d["capacity"])
        for key in ("kind", "country", "road_class"):
            d[key] = "" if d[key] is None or d[key] != d[key] else str(d[key])


def save_graph(graph: nx.DiGraph, path: Path) -> Path:
    """Write ``graph.gpkg`` with layers ``nodes``, ``edges`` and ``graph_meta``."""
    nodes, edges = graph_to_frames(graph)
    meta = pd.DataFrame({"key": ["attributes"], "value": [json.dumps(graph.graph, sort_keys=True)]})

    def writer(tmp: Path) -> None:
        pyogrio.write_dataframe(nodes, tmp, layer="nodes", driver="GPKG")
        pyogrio.write_dataframe(edges, tmp, layer="edges", driver="GPKG", append=True)
        pyogrio.write_dataframe(meta, tmp, layer="graph_meta", driver="GPKG", append=True)

    return write_with(Path(path), writer)
