"""Obstacle and sensor candidate sites from the graph and the catalogues -> a plain Problem.

Obstacle sites (in defended countries only; a site belongs to the country it lies in):
    ``T:<cell>``  a belt across a terrain cell within ``band_km`` of the hostile border:
                  acts on every terrain or connector edge entering the cell;
                  cost = per-km cost x cell width (``cell_km``);
    ``R:<a>~<b>`` a road block on a road piece within the band (both directions);
                  cost = per-km cost x ``ROAD_BLOCK_KM``;
    ``B:<a>~<b>`` a prepared demolition on a bridge (any bridge in defended territory).
Sensor sites ``S:<cell>``: cells within ``sensor_band_km``, thinned to ``sensor_spacing_km``;
a sensor watches every edge whose midpoint lies within its range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from optimizer.config import ScenarioConfig
from optimizer.errors import Problems
from optimizer.graph import axis_nodes
from optimizer.inputs import Inputs
from optimizer.problem import INF, Problem

ROAD_BLOCK_KM = 0.1  # assumption: a road block spans carriageway and verges, about 100 m


@dataclass(frozen=True)
class Candidates:
    """The problem for the optimiser plus where each site is (for exports and maps)."""

    problem: Problem
    sites: gpd.GeoDataFrame  # site_id, site_kind, country, geometry (EPSG:4326)
    base_time_min: dict[str, float]


def edge_id(u: str, v: str) -> str:
    return f"{u}>{v}"


def _problem_graph(graph: nx.DiGraph) -> nx.DiGraph:
    light = nx.DiGraph()
    light.add_nodes_from((n, {"country": d["country"], "kind": d["kind"]})
                         for n, d in graph.nodes(data=True))
    for u, v, d in graph.edges(data=True):
        light.add_edge(u, v, edge_id=edge_id(u, v), time_min=d["time_min"],
                       capacity=d["capacity"], evasion=1.0)
    return light


def _hostile_distance(graph: nx.DiGraph, hostile: list[str], points: np.ndarray) -> np.ndarray:
    hostile_xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)
                           if d["kind"] == "cell" and d["country"] in hostile])
    if len(hostile_xy) == 0 or len(points) == 0:
        return np.full(len(points), np.inf)
    dist, _ = cKDTree(hostile_xy).query(points)
    return dist


def _option_cost(row: pd.Series, width_km: float) -> float:
    return float(row["cost_eur"]) * (width_km if row["cost_unit"] == "per_km" else 1.0)


def build_candidates(config: ScenarioConfig, graph: nx.DiGraph, inputs: Inputs) -> Candidates:
    """Candidate sites, options, sensor coverage and axes of a scenario as a :class:`Problem`."""
    g, cand = config.graph, config.candidates
    defended = set(g.defended) & set(config.budgets)
    catalogue = inputs.obstacle_types.set_index("type")
    sensors = inputs.sensor_types.set_index("type")
    cell_nodes = [n for n, d in graph.nodes(data=True)
                  if d["kind"] == "cell" and d["country"] in defended]
    cell_xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in cell_nodes])
    cell_depth = _hostile_distance(graph, g.hostile, cell_xy)
    band_m, sensor_band_m = cand.band_km * 1000, cand.sensor_band_km * 1000

    options, obstacle_edges, rows = [], {}, []

    def add_site(site_id, kind, country, point, edges, types, width_km):
        if not edges:
            return
        obstacle_edges[site_id] = tuple(edges)
        rows.append({"site_id": site_id, "site_kind": kind, "country": country,
                     "x": point[0], "y": point[1]})
        for t in types:
            row = catalogue.loc[t]
            options.append({"site_id": site_id, "type": t, "cost": _option_cost(row, width_km),
                            "delay_unobserved_min": float(row["delay_unobserved_min"]),
                            "delay_observed_min": float(row["delay_observed_min"]),
                            "blocks": bool(row["blocks"]), "country": country})

    def terrain_edges(node):
        return [edge_id(u, node) for u, _, d in graph.in_edges(node, data=True)
                if d["kind"] in ("terrain", "connector")]

    for node, xy, depth in zip(cell_nodes, cell_xy, cell_depth, strict=True):
        if depth > band_m or not cand.generate:
            continue
        entering = [edge_id(u, node) for u, _, d in graph.in_edges(node, data=True)
                    if d["kind"] in ("terrain", "connector")]
        add_site(f"T:{node}", "terrain", graph.nodes[node]["country"], xy, entering,
                 cand.terrain_types, g.cell_km)
    seen = set()
    road_edges = [(u, v, d) for u, v, d in graph.edges(data=True)
                  if d["kind"] in ("road", "bridge") and d["country"] in defended]
    mid = np.array([((graph.nodes[u]["x"] + graph.nodes[v]["x"]) / 2,
                     (graph.nodes[u]["y"] + graph.nodes[v]["y"]) / 2) for u, v, _ in road_edges])
    # a road piece is in the band when any of its ends or its middle is
    ends = [np.array([(graph.nodes[e[k]]["x"], graph.nodes[e[k]]["y"]) for e in road_edges])
            for k in (0, 1)]
    depth = (np.minimum.reduce([_hostile_distance(graph, g.hostile, pts)
                                for pts in (mid, *ends)]) if len(mid) else np.array([]))
    for (u, v, d), point, dist in zip(road_edges, mid, depth, strict=True):
        key = tuple(sorted((u, v)))
        if key in seen:
            continue
        seen.add(key)
        both = [edge_id(u, v)] + ([edge_id(v, u)] if graph.has_edge(v, u) else [])
        if not cand.generate:
            continue
        if d["kind"] == "bridge":
            add_site(f"B:{key[0]}~{key[1]}", "bridge", d["country"], point, both,
                     cand.bridge_types, ROAD_BLOCK_KM)
        elif dist <= band_m:
            add_site(f"R:{key[0]}~{key[1]}", "road", d["country"], point, both,
                     cand.road_types, ROAD_BLOCK_KM)

    fixed, excluded = set(cand.fixed), set(cand.excluded)
    if inputs.sites is not None:
        chosen_points = _user_sites(config, graph, inputs, cell_nodes, cell_xy, road_edges, mid,
                                    defended, add_site, terrain_edges, fixed, excluded)
    else:
        chosen_points = []
    # sensor sites: cells in the sensor band, thinned greedily (nearest the border first)
    order = np.argsort(cell_depth, kind="stable")
    chosen: list[int] = []
    spacing = cand.sensor_spacing_km * 1000
    for i in order if cand.generate else []:
        if cell_depth[i] > sensor_band_m:
            break
        if all(np.hypot(*(cell_xy[i] - cell_xy[j])) >= spacing for j in chosen[-400:]):
            chosen.append(int(i))
    edges_all = list(graph.edges())
    edge_mid = np.array([((graph.nodes[u]["x"] + graph.nodes[v]["x"]) / 2,
                          (graph.nodes[u]["y"] + graph.nodes[v]["y"]) / 2) for u, v in edges_all])
    tree = cKDTree(edge_mid)
    sensor_options, sensor_edges = [], {}
    for site_id, point, country, types in (
            [(f"S:{cell_nodes[i]}", cell_xy[i], graph.nodes[cell_nodes[i]]["country"],
              cand.sensor_types) for i in chosen] + chosen_points):
        rows.append({"site_id": site_id, "site_kind": "sensor", "country": country,
                     "x": point[0], "y": point[1]})
        for t in types:
            row = sensors.loc[t]
            watched = tree.query_ball_point(point, float(row["range_km"]) * 1000)
            sensor_edges[(site_id, t)] = tuple(edge_id(*edges_all[k]) for k in sorted(watched))
            sensor_options.append({"site_id": site_id, "type": t, "cost": float(row["cost_eur"]),
                                   "detection_prob": float(row["detection_prob"]),
                                   "country": country})
    problem_graph = _problem_graph(graph)
    axes, base = _axes(config, problem_graph)
    problem = Problem(
        graph=problem_graph,
        obstacle_options=pd.DataFrame(options, columns=["site_id", "type", "cost",
                                                        "delay_unobserved_min",
                                                        "delay_observed_min", "blocks",
                                                        "country"]),
        obstacle_edges=obstacle_edges,
        sensor_options=pd.DataFrame(sensor_options, columns=["site_id", "type", "cost",
                                                             "detection_prob", "country"]),
        sensor_edges=sensor_edges,
        axes=axes,
        budgets={k: float(v) for k, v in config.budgets.items()},
        fixed=frozenset(fixed), excluded=frozenset(excluded),
        max_per_type=dict(cand.max_per_type),
        blocked_time_min=config.solve.blocked_time_h * 60.0,
        notes=(config.data_note,) if config.data_note else (),
    )
    _check_site_ids(problem, config)
    table = pd.DataFrame(rows)
    points = gpd.GeoSeries(shapely.points(table["x"], table["y"]), crs=g.crs).to_crs("EPSG:4326")
    sites = gpd.GeoDataFrame(table[["site_id", "site_kind", "country"]], geometry=points.values,
                             crs="EPSG:4326")
    return Candidates(problem=problem, sites=sites, base_time_min=base)


def _user_sites(config, graph, inputs, cell_nodes, cell_xy, road_edges, road_mid, defended,
                add_site, terrain_edges, fixed, excluded):
    """Snap the user's candidate sites to the graph; return the sensor sites to add."""
    cand = config.candidates
    problems = Problems()
    sites = inputs.sites.to_crs(config.graph.crs)
    limit = cand.snap_km * 1000
    cell_tree = cKDTree(cell_xy) if len(cell_xy) else None
    kinds = {k: np.array([i for i, (_, _, d) in enumerate(road_edges) if d["kind"] == k])
             for k in ("road", "bridge")}
    defaults = {"terrain": cand.terrain_types, "road": cand.road_types,
                "bridge": cand.bridge_types, "sensor": cand.sensor_types}
    sensors = []
    for row in sites.itertuples():
        where = f"candidates.sites, id '{row.site_id}'"
        point = np.array([row.geometry.x, row.geometry.y])
        types = row.types.split() or defaults[row.kind]
        catalogue = inputs.sensor_types if row.kind == "sensor" else inputs.obstacle_types
        applies = dict(zip(catalogue["type"], catalogue.get("applies_to", catalogue["type"]),
                           strict=True))
        wrong = [t for t in types if t not in applies
                 or (row.kind != "sensor" and row.kind not in str(applies[t]).split())]
        if wrong:
            problems.add(where, f"types {wrong} unknown or not applicable to a {row.kind} site",
                         f"use types from the catalogue that apply to '{row.kind}'")
            continue
        if row.status == "fixed":
            fixed.add(row.site_id)
        elif row.status == "excluded":
            excluded.add(row.site_id)
        elif row.status:
            problems.add(where, f"unknown status {row.status!r}", "use fixed, excluded or leave empty")
        if row.kind in ("terrain", "sensor"):
            if cell_tree is None:
                problems.add(where, "no defended cells to snap to", "check graph.defended")
                continue
            dist, k = cell_tree.query(point)
            if dist > limit:
                problems.add(where, f"{dist / 1000:.1f} km from the nearest defended cell "
                             f"(snap limit {cand.snap_km} km): the site is off the graph",
                             "move the site onto defended territory or raise snap_km")
                continue
            node = cell_nodes[k]
            country = graph.nodes[node]["country"]
            if row.kind == "sensor":
                sensors.append((row.site_id, point, country, types))
            else:
                add_site(row.site_id, "terrain", country, point, terrain_edges(node), types,
                         config.graph.cell_km)
            continue
        candidates = kinds[row.kind]
        if len(candidates) == 0:
            problems.add(where, f"no {row.kind} pieces in defended territory to snap to",
                         "check the roads input or the site's kind")
            continue
        dists = np.hypot(*(road_mid[candidates] - point).T)
        best = candidates[int(np.argmin(dists))]
        if dists.min() > limit:
            problems.add(where, f"{dists.min() / 1000:.1f} km from the nearest {row.kind} "
                         f"(snap limit {cand.snap_km} km): the site is off the graph",
                         "move the site onto the road or bridge, or raise snap_km")
            continue
        u, v, d = road_edges[best]
        both = [edge_id(u, v)] + ([edge_id(v, u)] if graph.has_edge(v, u) else [])
        add_site(row.site_id, row.kind, d["country"], road_mid[best], both, types, ROAD_BLOCK_KM)
    problems.raise_if_any()
    return sensors


def _axes(config: ScenarioConfig, graph: nx.DiGraph) -> tuple[pd.DataFrame, dict[str, float]]:
    nodes = axis_nodes(config)
    rows, base = [], {}
    for axis in config.axes:
        origin, objective = nodes[axis.id]
        try:
            t = nx.shortest_path_length(graph, origin, objective, weight="time_min")
        except nx.NetworkXNoPath:
            t = math.inf
        base[axis.id] = float(t)
        if axis.threshold_h is not None:
            threshold = axis.threshold_h * 60.0
        elif axis.required_delay_h is not None:
            threshold = t + axis.required_delay_h * 60.0
        else:
            threshold = INF
        rows.append({"axis_id": axis.id, "origin": origin, "objective": objective,
                     "weight": float(axis.weight), "threshold_min": float(threshold),
                     "country": graph.nodes[objective]["country"]})
    return pd.DataFrame(rows), base


def _check_site_ids(problem: Problem, config: ScenarioConfig) -> None:
    problems = Problems()
    known = set(problem.obstacle_options["site_id"]) | set(problem.sensor_options["site_id"])
    for key in ("fixed", "excluded"):
        for item in getattr(config.candidates, key):
            if item.split(":", 1)[0] not in known and item not in known:
                problems.add(f"candidates.{key}: '{item}'", "not a candidate site id",
                             "use a site id from a run's obstacles/sensors tables "
                             "(optimizer run writes candidates.csv)")
    problems.raise_if_any()
