"""The default graph against its definition, and the exact save/load round trip."""

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from optimizer import default_config_path, load_config
from optimizer.cache import cached_graph
from optimizer.export import save_graph
from optimizer.graph import axis_nodes
from optimizer.inputs import load_graph
from optimizer.validate import validate


@pytest.fixture(scope="module")
def default():
    config = load_config(default_config_path())
    inputs = validate(config)
    graph, _ = cached_graph(config, inputs)
    return config, inputs, graph


def _edges(graph, kinds=None):
    rows = [(u, v, d) for u, v, d in graph.edges(data=True) if kinds is None or d["kind"] in kinds]
    return rows, np.array([d["geometry"] for _, _, d in rows])


def test_no_edge_crosses_a_lake(default):
    config, inputs, graph = default
    lakes = shapely.union_all(inputs.water.to_crs(config.graph.crs).geometry.values)
    rows, geoms = _edges(graph)
    crossing = shapely.intersects(geoms, lakes)
    assert not crossing.any(), [rows[i][:2] for i in np.flatnonzero(crossing)[:5]]


def test_rivers_are_crossed_only_at_bridges(default):
    config, inputs, graph = default
    rivers = shapely.union_all(inputs.rivers.to_crs(config.graph.crs).geometry.values)
    rows, geoms = _edges(graph, kinds={"terrain", "road", "connector"})
    crossing = shapely.crosses(geoms, rivers)
    assert not crossing.any(), [rows[i][:2] for i in np.flatnonzero(crossing)[:5]]
    bridges, bgeoms = _edges(graph, kinds={"bridge"})
    assert len(bridges) > 0
    # a bridge straddling a border is split there, so each piece lies within half a bridge
    # length of the river it crosses
    half = config.graph.bridge_length_m / 2
    assert (shapely.distance(bgeoms, rivers) <= half + 1.0).all()


def test_every_edge_has_a_country_and_kind(default):
    config, inputs, graph = default
    known = set(inputs.countries["country"])
    for _, _, d in graph.edges(data=True):
        assert d["country"] in known
        assert d["kind"] in {"terrain", "road", "bridge", "connector", "staging"}


def test_travel_time_is_length_over_speed(default):
    _, _, graph = default
    for _, _, d in graph.edges(data=True):
        assert d["speed_kmh"] > 0
        assert d["time_min"] == pytest.approx(d["length_m"] / 1000 / d["speed_kmh"] * 60,
                                              rel=1e-12)


def test_terrain_edge_length_matches_its_geometry(default):
    _, _, graph = default
    for _, _, d in graph.edges(data=True):
        if d["kind"] == "terrain":
            assert d["length_m"] == pytest.approx(d["geometry"].length)


def test_origins_reach_objectives(default):
    config, _, graph = default
    for axis, (origin, objective) in axis_nodes(config).items():
        assert nx.has_path(graph, origin, objective), axis


def test_cell_size_and_extent(default):
    config, inputs, graph = default
    assert graph.graph["cell_km"] == config.graph.cell_km <= 5
    cells = [(d["x"], d["y"]) for _, d in graph.nodes(data=True) if d["kind"] == "cell"]
    # neighbouring cells are one cell size apart (hexagonal lattice)
    u, v, d = next((u, v, d) for u, v, d in graph.edges(data=True) if d["kind"] == "terrain")
    assert d["length_m"] == pytest.approx(config.graph.cell_km * 1000)
    # the hostile approaches reach at least 50 km beyond the defended border
    countries = inputs.countries.to_crs(config.graph.crs).set_index("country").geometry
    defended = shapely.union_all([countries[c] for c in config.graph.defended])
    hostile_cells = [shapely.Point(x, y) for (x, y), (_, dd) in
                     zip(cells, [(n, dd) for n, dd in graph.nodes(data=True)
                                 if dd["kind"] == "cell"], strict=True)
                     if dd["country"] in config.graph.hostile]
    assert max(defended.distance(p) for p in hostile_cells) >= 50_000


def test_roads_are_labelled_approximate(default):
    _, _, graph = default
    assert graph.graph["roads"] == "approximate, derived from settlements"


def test_round_trip_is_exact(default, tmp_path):
    _, _, graph = default
    path = save_graph(graph, tmp_path / "graph.gpkg")
    again = load_graph(path)
    assert again.graph == graph.graph
    assert list(again.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(again.edges) == list(graph.edges)
    for u, v, d in graph.edges(data=True):
        e = again.edges[u, v]
        assert {k: x for k, x in e.items() if k != "geometry"} == \
            {k: x for k, x in d.items() if k != "geometry"}
        assert e["geometry"].wkb == d["geometry"].wkb


def test_second_build_comes_from_the_cache(default):
    config, inputs, graph = default
    again, from_cache = cached_graph(config, inputs)
    assert from_cache
    assert nx.utils.graphs_equal(again, graph) or (
        list(again.edges(data="time_min")) == list(graph.edges(data="time_min")))


def test_a_broken_or_unwritable_cache_only_costs_a_rebuild(tmp_path, monkeypatch, caplog):
    # the cache only saves time: a corrupt file is rebuilt and replaced, and a cache folder
    # that cannot be written leaves the run going with a warning
    from tiny_world import write_tiny_world

    write_tiny_world(tmp_path / "world")
    config = load_config(tmp_path / "world" / "tiny.toml")
    inputs = validate(config)
    monkeypatch.setenv("OPTIMIZER_CACHE", str(tmp_path / "cache"))
    graph, _ = cached_graph(config, inputs)
    (stored,) = (tmp_path / "cache").glob("graph-*.gpkg")
    stored.write_text("not a GeoPackage")
    again, from_cache = cached_graph(config, inputs)
    assert not from_cache and "unreadable" in caplog.text
    assert list(again.edges(data="time_min")) == list(graph.edges(data="time_min"))
    assert cached_graph(config, inputs)[1]  # the rebuilt graph replaced the broken file
    (tmp_path / "a_file").write_text("x")
    monkeypatch.setenv("OPTIMIZER_CACHE", str(tmp_path / "a_file" / "cache"))
    built, from_cache = cached_graph(config, inputs)
    assert not from_cache and built.number_of_edges() == graph.number_of_edges()
    assert "graph cache not written" in caplog.text


def test_graph_is_finite_and_positive(default):
    _, _, graph = default
    times = np.array([d["time_min"] for _, _, d in graph.edges(data=True)])
    assert np.isfinite(times).all() and (times > 0).all()
    assert not any(math.isnan(d["x"]) for _, d in graph.nodes(data=True))
    assert isinstance(gpd.GeoSeries([d["geometry"] for _, _, d in graph.edges(data=True)]),
                      gpd.GeoSeries)
