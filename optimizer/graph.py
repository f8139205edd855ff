"""Terrain cells + roads + water -> a directed NetworkX graph for a mechanised column.

Nodes
    ``c:<row>:<col>`` terrain cells (hexagonal or square lattice, ``cell_km`` apart),
    ``r:<x>:<y>`` road nodes (settlements, junctions, border points, bridge ends),
    ``o:<place>`` attacker origins and ``t:<place>`` objectives.
Edges (both directions unless said)
    ``terrain`` between neighbouring cells, never through a lake or across a major river;
    ``road`` pieces by road class; ``bridge`` where a road crosses a major river;
    ``connector`` between a road node and its cell; ``staging`` from an origin to the nodes
    around it and from the nodes around an objective to it (one direction, not interdictable).
Every edge carries ``kind``, ``country``, ``length_m``, ``speed_kmh``, ``time_min``
(= length / speed), ``capacity`` (1, or a large number on staging edges) and ``geometry``.
Coordinates are in the projected CRS named in ``graph.graph["crs"]`` (metres).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, box
from shapely.ops import substring

from optimizer.config import GraphConfig, PlaceRef, ScenarioConfig
from optimizer.errors import Problems
from optimizer.inputs import Inputs, Raster
from optimizer.roads import APPROXIMATE_LABEL, derive_roads

STAGING_CAPACITY = 10**6


@dataclass(frozen=True)
class Geography:
    """Projected polygons the graph is built on."""

    region: shapely.Geometry
    defended: shapely.Geometry
    hostile: shapely.Geometry
    water: shapely.Geometry
    rivers: shapely.Geometry
    countries: gpd.GeoDataFrame


def project_geography(inputs: Inputs, config: GraphConfig) -> Geography:
    crs = config.crs
    countries = inputs.countries.to_crs(crs)
    if config.bbox is not None:
        clip = gpd.GeoSeries([box(*config.bbox)], crs="EPSG:4326").to_crs(crs).iloc[0]
        countries = countries.assign(geometry=countries.geometry.intersection(clip))
    countries = countries[~countries.geometry.is_empty].dissolve("country", as_index=False)
    by_code = dict(zip(countries["country"], countries.geometry, strict=True))
    defended = shapely.union_all([by_code[c] for c in config.defended if c in by_code])
    hostile_all = shapely.union_all([by_code[c] for c in config.hostile if c in by_code])
    approach = defended.buffer(config.approach_km * 1000)
    hostile = hostile_all.intersection(approach)
    water = (shapely.union_all(inputs.water.to_crs(crs).geometry.values)
             if len(inputs.water) else shapely.Polygon())
    region = shapely.union_all([defended, hostile])
    rivers = (shapely.union_all(inputs.rivers.to_crs(crs).geometry.values).intersection(region)
              if len(inputs.rivers) else shapely.LineString())
    for geometry in (region, defended, hostile, water, rivers):
        shapely.prepare(geometry)
    return Geography(region=region, defended=defended, hostile=hostile, water=water,
                     rivers=rivers, countries=countries)


def _lattice(bounds, cell_m: float, shape: str):
    """Cell centres and neighbour pairs (index pairs, i < j) of a hex or square lattice."""
    minx, miny, maxx, maxy = bounds
    dy = cell_m * (np.sqrt(3) / 2 if shape == "hex" else 1.0)
    rows = int(np.ceil((maxy - miny) / dy)) + 1
    cols = int(np.ceil((maxx - minx) / cell_m)) + 2
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    r, c = r.ravel(), c.ravel()
    x = minx + c * cell_m + (np.where(r % 2 == 1, cell_m / 2, 0.0) if shape == "hex" else 0.0)
    y = miny + r * dy
    index = -np.ones((rows, cols), dtype=np.int64)
    index[r, c] = np.arange(len(r))
    if shape == "hex":
        offsets_even = [(0, 1), (1, -1), (1, 0)]
        offsets_odd = [(0, 1), (1, 0), (1, 1)]
    else:
        offsets_even = offsets_odd = [(0, 1), (1, -1), (1, 0), (1, 1)]
    pairs = []
    for parity, offsets in ((0, offsets_even), (1, offsets_odd)):
        sel = r % 2 == parity
        for dr, dc in offsets:
            rr, cc = r[sel] + dr, c[sel] + dc
            ok = (rr < rows) & (cc >= 0) & (cc < cols)
            pairs.append(np.column_stack([index[r[sel][ok], c[sel][ok]], index[rr[ok], cc[ok]]]))
    return x, y, r, c, np.vstack(pairs)


def _country_at(points_x, points_y, countries: gpd.GeoDataFrame) -> np.ndarray:
    codes = np.full(len(points_x), "", dtype=object)
    for code, geometry in zip(countries["country"], countries.geometry, strict=True):
        inside = shapely.contains_xy(geometry, points_x, points_y) & (codes == "")
        codes[inside] = code
    missing = np.flatnonzero(codes == "")
    if len(missing):
        pts = shapely.points(points_x[missing], points_y[missing])
        dists = np.column_stack([shapely.distance(pts, g) for g in countries.geometry])
        codes[missing] = countries["country"].to_numpy()[dists.argmin(axis=1)]
    return codes


def _speed_table(inputs: Inputs, vehicle: str) -> dict[str, float]:
    column = f"{vehicle}_kmh"
    return dict(zip(inputs.terrain_speeds["class"], inputs.terrain_speeds[column], strict=True))


def _cell_classes(x, y, countries_at, inputs: Inputs, speeds: dict[str, float], crs: str,
                  codes: dict[str, str] | None = None):
    """Land-cover class per cell: from a raster or polygons if given, else the mixed class of
    its country (also where the land-cover layer has no data)."""
    classes = np.array([f"mixed_{c}" if f"mixed_{c}" in speeds else "mixed"
                        for c in countries_at], dtype=object)
    if isinstance(inputs.land_cover, Raster):
        values = inputs.land_cover.sample(x, y, crs)
        for i, value in enumerate(values):
            if np.isfinite(value):
                name = (codes or {}).get(str(int(value)))
                if name is not None:
                    classes[i] = name
        return classes
    if inputs.land_cover is not None:
        cover = inputs.land_cover.to_crs(crs)
        points = gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=crs)
        joined = gpd.sjoin(points, cover, how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        found = joined["class"].notna().to_numpy()
        classes[found] = joined["class"].to_numpy()[found]
    return classes


def _add_edge(graph: nx.DiGraph, u, v, *, kind, country, length_m, speed_kmh, geometry,
              road_class="", capacity=1, both=True):
    time_min = length_m / 1000.0 / speed_kmh * 60.0
    attrs = dict(kind=kind, country=country, length_m=float(length_m), speed_kmh=float(speed_kmh),
                 time_min=float(time_min), road_class=road_class, capacity=int(capacity))
    graph.add_edge(u, v, geometry=geometry, **attrs)
    if both:
        graph.add_edge(v, u, geometry=geometry.reverse(), **attrs)


def _terrain(graph, geo: Geography, inputs: Inputs, config: GraphConfig, speeds, codes=None):
    cell_m = config.cell_km * 1000
    x, y, r, c, pairs = _lattice(geo.region.bounds, cell_m, config.cell_shape)
    passable = shapely.contains_xy(geo.region, x, y) & ~shapely.contains_xy(geo.water, x, y)
    countries_at = _country_at(x, y, geo.countries)
    classes = _cell_classes(x, y, countries_at, inputs, speeds, config.crs, codes)
    speed = np.array([speeds.get(k, 0.0) for k in classes])
    passable &= speed > 0
    ids = np.array([f"c:{ri}:{ci}" for ri, ci in zip(r, c, strict=True)], dtype=object)
    for i in np.flatnonzero(passable):
        graph.add_node(ids[i], kind="cell", country=countries_at[i], x=float(x[i]),
                       y=float(y[i]), land_cover=classes[i], label="")
    pairs = pairs[passable[pairs[:, 0]] & passable[pairs[:, 1]]]
    segments = shapely.linestrings(np.stack([np.column_stack([x[pairs[:, 0]], y[pairs[:, 0]]]),
                                             np.column_stack([x[pairs[:, 1]], y[pairs[:, 1]]])],
                                            axis=1))
    ok = shapely.covered_by(segments, geo.region) & ~shapely.intersects(segments, geo.water)
    ok &= ~shapely.intersects(segments, geo.rivers)
    if inputs.elevation is not None:
        # slopes steeper than a tracked vehicle climbs make the move impassable
        height = inputs.elevation.sample(x, y, config.crs)
        rise = np.abs(height[pairs[:, 0]] - height[pairs[:, 1]])
        slope = np.degrees(np.arctan2(np.nan_to_num(rise), shapely.length(segments)))
        ok &= slope <= config.max_slope_deg
    pairs, segments = pairs[ok], segments[ok]
    mid = shapely.line_interpolate_point(segments, 0.5, normalized=True)
    mid_country = _country_at(shapely.get_x(mid), shapely.get_y(mid), geo.countries)
    lengths = shapely.length(segments)
    for (i, j), seg, country, length in zip(pairs, segments, mid_country, lengths, strict=True):
        # half the move at each cell's speed: the effective speed is their harmonic mean
        eff = 2.0 / (1.0 / speed[i] + 1.0 / speed[j])
        _add_edge(graph, ids[i], ids[j], kind="terrain", country=country, length_m=length,
                  speed_kmh=eff, geometry=seg)
    return x, y, ids, passable


def _road_pieces(line: LineString, geo: Geography, bridge_m: float):
    """Split a road line at country borders and around river crossings (bridges)."""
    cuts = {0.0, line.length}
    bridges = []
    hits = line.intersection(geo.rivers) if not geo.rivers.is_empty else shapely.Point()
    for point in shapely.get_parts(hits):
        if point.geom_type != "Point":
            continue
        d = line.project(point)
        lo, hi = max(0.0, d - bridge_m / 2), min(line.length, d + bridge_m / 2)
        bridges.append((lo, hi))
        cuts.update((lo, hi))
    border = line.intersection(geo.countries.boundary.union_all())
    for point in shapely.get_parts(border):
        if point.geom_type == "Point":
            cuts.add(line.project(point))
    cuts = sorted(cuts)
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        if hi - lo < 1.0:
            continue
        piece = substring(line, lo, hi)
        is_bridge = any(b_lo - 1e-6 <= lo and hi <= b_hi + 1e-6 for b_lo, b_hi in bridges)
        yield piece, is_bridge


def _road_node(graph, point, country, label=""):
    key = f"r:{round(point[0])}:{round(point[1])}"
    if key not in graph:
        graph.add_node(key, kind="road", country=country, x=float(round(point[0])),
                       y=float(round(point[1])), land_cover="", label=label)
    return key


def _roads(graph, geo: Geography, inputs: Inputs, config: GraphConfig, speeds) -> tuple[str, list]:
    crs = config.crs
    if inputs.roads is not None:
        lines = inputs.roads.to_crs(crs)
        lines = lines[lines.intersects(geo.region)]
        noded = shapely.get_parts(shapely.node(shapely.union_all(lines.geometry.values)))
        tree = shapely.STRtree(lines.geometry.values)
        src = tree.query(shapely.line_interpolate_point(noded, 0.5, normalized=True),
                         predicate="dwithin", distance=1.0)
        cls = np.full(len(noded), "road_minor", dtype=object)
        cls[src[0]] = lines["road_class"].to_numpy()[src[1]]
        roads = gpd.GeoDataFrame({"road_class": cls, "derived": False}, geometry=noded, crs=crs)
        source = "file"
    else:
        roads = derive_roads(inputs.settlements.to_crs(crs), inputs.crossings.to_crs(crs),
                             geo.region, geo.water, geo.defended, geo.hostile, config)
        source = APPROXIMATE_LABEL
    endpoints = []
    detour = config.road_detour_factor if source != "file" else 1.0
    for line, road_class in zip(roads.geometry, roads["road_class"], strict=True):
        if line.length < 1.0:
            continue
        start = end = None
        for piece, is_bridge in _road_pieces(line, geo, config.bridge_length_m):
            mid = piece.interpolate(0.5, normalized=True)
            country = _country_at(np.array([mid.x]), np.array([mid.y]), geo.countries)[0]
            a = _road_node(graph, piece.coords[0], country)
            b = _road_node(graph, piece.coords[-1], country)
            if a == b:
                continue
            start = start or a
            end = b
            _add_edge(graph, a, b, kind="bridge" if is_bridge else "road", country=country,
                      length_m=piece.length * detour, speed_kmh=speeds[road_class],
                      geometry=piece, road_class=road_class)
        if start is not None:
            endpoints += [start, end]
    return source, sorted(set(endpoints))


def _connect_roads(graph, endpoints, cell_x, cell_y, cell_ids, passable, geo, config, speeds):
    """Link each road endpoint (settlement / junction) to the nearest cells on its bank."""
    from scipy.spatial import cKDTree

    live = np.flatnonzero(passable)
    tree = cKDTree(np.column_stack([cell_x[live], cell_y[live]]))
    for node in endpoints:
        data = graph.nodes[node]
        dists, idx = tree.query([data["x"], data["y"]], k=4,
                                distance_upper_bound=config.cell_km * 1000 * 1.5)
        for dist, k in zip(np.atleast_1d(dists), np.atleast_1d(idx), strict=True):
            if not np.isfinite(dist):
                continue
            cell = cell_ids[live[k]]
            seg = LineString([(data["x"], data["y"]), (cell_x[live[k]], cell_y[live[k]])])
            if seg.intersects(geo.rivers) or seg.intersects(geo.water):
                continue
            cls = graph.nodes[cell]["land_cover"]
            speed = speeds[cls]
            length = max(seg.length, 1.0)
            # connector time: the off-road leg plus a fixed delay to leave or join the road
            total_min = length / 1000 / speed * 60 + config.connector_min
            _add_edge(graph, node, cell, kind="connector", country=graph.nodes[cell]["country"],
                      length_m=length, speed_kmh=length / 1000 / (total_min / 60), geometry=seg)
            break


def locate_place(place: PlaceRef, inputs: Inputs) -> tuple[float, float, str] | None:
    """(lon, lat, country) of a place reference, or None if it cannot be found."""
    if place.place is None:
        return place.lon, place.lat, ""
    towns = inputs.settlements
    match = towns[towns["name"].str.casefold() == place.place.casefold()]
    if place.country:
        match = match[match["country"] == place.country]
    if len(match) == 0:
        crossings = inputs.crossings
        match = crossings[crossings["crossing_id"] == place.place]
        if len(match) == 0:
            return None
        row = match.iloc[0]
        return row.geometry.x, row.geometry.y, row["country"]
    row = match.sort_values("population", ascending=False).iloc[0]
    return row.geometry.x, row.geometry.y, row["country"]


def axis_places(config: ScenarioConfig, inputs: Inputs, problems: Problems):
    """(axis, role, place, where, lon, lat) of every axis end that can be found; the others
    are added to ``problems``."""
    for axis in config.axes:
        for role, place in (("origin", axis.origin), ("objective", axis.objective)):
            where = f"axes, id '{axis.id}', {role} '{place.label()}'"
            found = locate_place(place, inputs)
            if found is None:
                problems.add(where, "place not found among settlements or border crossings",
                             "use a settlement name from the settlements layer, or lon/lat")
                continue
            yield axis, role, place, where, found[0], found[1]


def _endpoint_id(prefix: str, place: PlaceRef) -> str:
    return f"{prefix}:{place.label()}"


def _add_axis_endpoints(graph, config: ScenarioConfig, inputs: Inputs, geo: Geography,
                        speeds, problems: Problems):
    """Origins link out to the nodes around them, objectives in from the nodes around them."""
    from scipy.spatial import cKDTree

    g = config.graph
    nodes = [n for n, d in graph.nodes(data=True) if d["kind"] in ("cell", "road")]
    xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes])
    tree = cKDTree(xy)
    for _, role, place, where, lon, lat in axis_places(config, inputs, problems):
        node_id = _endpoint_id("o" if role == "origin" else "t", place)
        if node_id in graph:
            continue
        px, py = _project(lon, lat, g.crs)
        country = _country_at(np.array([px]), np.array([py]), geo.countries)[0]
        expected = g.hostile if role == "origin" else g.defended
        if country not in expected:
            problems.add(where, f"lies in '{country}', not in {expected}",
                         f"an {role} must lie in graph.{'hostile' if role == 'origin' else 'defended'}")
            continue
        near = tree.query_ball_point([px, py], max(g.staging_radius_km * 1000,
                                                   g.cell_km * 1000 * 0.75))
        near = [nodes[k] for k in near if graph.nodes[nodes[k]]["country"] == country]
        if not near:
            problems.add(where, "no graph node within staging_radius_km in its country",
                         "move the place, or raise graph.staging_radius_km")
            continue
        graph.add_node(node_id, kind=role, country=country, x=float(px), y=float(py),
                       land_cover="", label=place.label())
        for n in sorted(near):
            d = graph.nodes[n]
            seg = LineString([(px, py), (d["x"], d["y"])])
            length = max(seg.length, 1.0)
            speed = speeds.get(d["land_cover"], speeds.get("mixed", 5.0)) if d["kind"] == "cell" \
                else speeds["road_minor"]
            if role == "origin":
                _add_edge(graph, node_id, n, kind="staging", country=country, length_m=length,
                          speed_kmh=speed, geometry=seg, capacity=STAGING_CAPACITY, both=False)
            else:
                _add_edge(graph, n, node_id, kind="staging", country=country, length_m=length,
                          speed_kmh=speed, geometry=seg.reverse(), capacity=STAGING_CAPACITY,
                          both=False)


def _project(lon: float, lat: float, crs: str) -> tuple[float, float]:
    point = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(crs).iloc[0]
    return point.x, point.y


def axis_nodes(config: ScenarioConfig) -> dict[str, tuple[str, str]]:
    """Origin and objective node ids of every axis."""
    return {a.id: (_endpoint_id("o", a.origin), _endpoint_id("t", a.objective))
            for a in config.axes}


def build_graph(config: ScenarioConfig, inputs: Inputs) -> nx.DiGraph:
    """Build the terrain and road graph of a scenario.

    Parameters
    ----------
    config
        The validated scenario (``graph`` settings, ``axes``).
    inputs
        Its loaded inputs.

    Returns
    -------
    networkx.DiGraph
        With graph attributes ``crs``, ``cell_km``, ``cell_shape``, ``roads``
        (``"file"`` or the approximate label), ``vehicle`` and ``build_s``.
    """
    started = time.perf_counter()
    g = config.graph
    speeds = _speed_table(inputs, g.vehicle)
    problems = Problems()
    for cls in ("road_major", "road_minor", "mixed"):
        if cls not in speeds or not speeds[cls] > 0:
            problems.add(f"terrain_speeds, class '{cls}'", "missing or not positive",
                         "add a row with a positive speed for this class")
    problems.raise_if_any()
    geo = project_geography(inputs, g)
    graph = nx.DiGraph(crs=g.crs, cell_km=float(g.cell_km), cell_shape=g.cell_shape,
                       vehicle=g.vehicle)
    codes = config.inputs.land_cover.classes if config.inputs.land_cover else None
    cell_x, cell_y, cell_ids, passable = _terrain(graph, geo, inputs, g, speeds, codes)
    roads, endpoints = _roads(graph, geo, inputs, g, speeds)
    _connect_roads(graph, endpoints, cell_x, cell_y, cell_ids, passable, geo, g, speeds)
    _add_axis_endpoints(graph, config, inputs, geo, speeds, problems)
    problems.raise_if_any()
    graph.graph["roads"] = roads
    graph.graph["build_s"] = round(time.perf_counter() - started, 3)
    return graph


def graph_summary(graph: nx.DiGraph) -> pd.DataFrame:
    """Edge counts by kind and country, with node counts by kind."""
    edges = pd.DataFrame([(d["kind"], d["country"]) for _, _, d in graph.edges(data=True)],
                         columns=["kind", "country"])
    table = edges.groupby(["kind", "country"]).size().unstack(fill_value=0)
    return table
