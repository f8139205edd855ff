"""Road lines for the graph: real roads when given, else an approximate network.

The approximate network is a Gabriel graph over the real settlements (the
proximity graph whose links have no other settlement inside their diametral
circle, which looks much like a road skeleton), limited to a maximum link
length, kept out of water and the sea, and allowed to cross the hostile border
only through the real border crossings. It is *not* surveyed road geometry and
every output says so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import Delaunay, cKDTree
from shapely.geometry import LineString

from optimizer.config import GraphConfig

APPROXIMATE_LABEL = "approximate, derived from settlements"


def merge_settlements(points: gpd.GeoDataFrame, merge_m: float) -> gpd.GeoDataFrame:
    """Keep the most populous settlement of every cluster closer than ``merge_m`` (metres)."""
    points = points.sort_values(["population", "name"], ascending=[False, True])
    kept: list[int] = []
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    taken = np.zeros(len(points), dtype=bool)
    tree = cKDTree(xy)
    for i in range(len(points)):
        if taken[i]:
            continue
        kept.append(i)
        taken[tree.query_ball_point(xy[i], merge_m)] = True
    return points.iloc[kept].reset_index(drop=True)


def _gabriel_pairs(xy: np.ndarray) -> list[tuple[int, int]]:
    if len(xy) < 3:
        return [(0, 1)] if len(xy) == 2 else []
    tri = Delaunay(xy)
    pairs = set()
    for simplex in tri.simplices:
        for a, b in ((0, 1), (1, 2), (0, 2)):
            i, j = sorted((int(simplex[a]), int(simplex[b])))
            pairs.add((i, j))
    tree = cKDTree(xy)
    gabriel = []
    for i, j in sorted(pairs):
        centre = (xy[i] + xy[j]) / 2
        radius = np.linalg.norm(xy[i] - xy[j]) / 2
        inside = [k for k in tree.query_ball_point(centre, radius * (1 - 1e-9)) if k not in (i, j)]
        if not inside:
            gabriel.append((i, j))
    return gabriel


def derive_roads(settlements: gpd.GeoDataFrame, crossings: gpd.GeoDataFrame,
                 region: shapely.Geometry, water: shapely.Geometry,
                 defended: shapely.Geometry, hostile: shapely.Geometry,
                 config: GraphConfig) -> gpd.GeoDataFrame:
    """An approximate road network (projected CRS) from settlements and border crossings.

    Returns lines with ``road_class`` (``road_major`` / ``road_minor``) and ``derived=True``.
    """
    inside = settlements[shapely.contains_xy(region, settlements.geometry.x,
                                             settlements.geometry.y)]
    towns = merge_settlements(inside, merge_m=3000.0)
    towns = towns.assign(is_crossing=False, label=towns["name"])
    gates = crossings.assign(population=np.inf, is_crossing=True,
                             label=crossings["crossing_id"])
    nodes = pd.concat([towns[["label", "population", "is_crossing", "geometry"]],
                       gates[["label", "population", "is_crossing", "geometry"]]],
                      ignore_index=True)
    xy = np.column_stack([nodes.geometry.x, nodes.geometry.y])
    max_m = config.road_max_link_km * 1000
    pairs = {p for p in _gabriel_pairs(xy) if np.linalg.norm(xy[p[0]] - xy[p[1]]) <= max_m}
    # Every crossing links to its nearest settlements on each side, whatever the proximity graph.
    side_d = shapely.contains_xy(defended, xy[:, 0], xy[:, 1])
    side_h = shapely.contains_xy(hostile, xy[:, 0], xy[:, 1])
    for g in np.flatnonzero(nodes["is_crossing"].to_numpy()):
        for side in (side_d, side_h):
            candidates = np.flatnonzero(side & ~nodes["is_crossing"].to_numpy())
            if len(candidates) == 0:
                continue
            dist = np.linalg.norm(xy[candidates] - xy[g], axis=1)
            for k in candidates[np.argsort(dist)[: config.crossing_links]]:
                pairs.add(tuple(sorted((int(g), int(k)))))
    lines, classes = [], []
    crossing_flag = nodes["is_crossing"].to_numpy()
    population = nodes["population"].to_numpy(dtype=float)
    shapely.prepare(region)
    shapely.prepare(hostile)
    shapely.prepare(defended)
    for i, j in sorted(pairs):
        line = LineString([xy[i], xy[j]])
        via_gate = bool(crossing_flag[i] or crossing_flag[j])
        if water is not None and line.intersects(water):
            continue
        if not via_gate:
            # Stay on land, and never cross the defended/hostile border outside a crossing.
            if not shapely.covered_by(line, region):
                continue
            if line.intersects(defended) and line.intersects(hostile):
                continue
        lines.append(line)
        major = min(population[i], population[j]) >= config.road_major_population
        classes.append("road_major" if major else "road_minor")
    return gpd.GeoDataFrame({"road_class": classes, "derived": True}, geometry=lines,
                            crs=settlements.crs)
