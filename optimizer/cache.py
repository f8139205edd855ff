"""Build cache: a graph is rebuilt only when its inputs or settings change."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import networkx as nx

from optimizer import __version__
from optimizer.config import ScenarioConfig
from optimizer.export import _normalise, save_graph
from optimizer.graph import build_graph
from optimizer.inputs import Inputs, load_graph

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """``$OPTIMIZER_CACHE`` or ``~/.cache/optimizer``."""
    return Path(os.environ.get("OPTIMIZER_CACHE", Path.home() / ".cache" / "optimizer"))


def graph_key(config: ScenarioConfig, inputs: Inputs) -> str:
    """Hash of everything the graph depends on: settings, axes, input file contents, version."""
    payload = {
        "version": __version__,
        "graph": config.graph.model_dump(mode="json"),
        "axes": [a.model_dump(mode="json", include={"origin", "objective"}) for a in config.axes],
        "files": inputs.files,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def cached_graph(config: ScenarioConfig, inputs: Inputs, *, use_cache: bool = True
                 ) -> tuple[nx.DiGraph, bool]:
    """The scenario's graph and whether it came from the cache."""
    path = cache_dir() / f"graph-{graph_key(config, inputs)}.gpkg"
    if use_cache and path.is_file():
        try:
            return load_graph(path), True
        except Exception as error:  # noqa: BLE001 - any unreadable cache file: rebuild it
            log.warning("graph cache %s unreadable (%s); rebuilding the graph", path, error)
    graph = build_graph(config, inputs)
    _normalise(graph)
    if use_cache:
        try:
            save_graph(graph, path)
        except OSError as error:  # the cache only saves time: a run goes on without it
            log.warning("graph cache not written (%s); set OPTIMIZER_CACHE to a writable "
                        "folder to reuse graphs across runs", error)
    return graph, False
