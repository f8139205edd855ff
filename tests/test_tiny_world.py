"""The tests' own world end to end: OSM roads, derived roads, square cells, CLI and API."""

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from tiny_world import DATA, write_tiny_world

from optimizer import run
from optimizer.inputs import read_osm_roads


def test_osm_extract_is_read_with_road_classes():
    roads = read_osm_roads(DATA / "tiny.osm")
    assert sorted(roads["road_class"]) == ["primary", "residential"]  # the footway is ignored
    primary = roads[roads["road_class"] == "primary"].geometry.iloc[0]
    assert [tuple(round(c, 6) for c in xy) for xy in primary.coords] == [
        (24.02, 55.0), (24.5, 55.0), (24.98, 55.0)]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    path = write_tiny_world(tmp_path_factory.mktemp("tiny"))
    return path, run(path)


def test_osm_roads_become_classed_edges_with_a_bridge_and_border_split(tiny_run):
    _, result = tiny_run
    graph = result.prepared.graph
    assert graph.graph["roads"] == "file"
    kinds = {(d["kind"], d["road_class"], d["country"]) for _, _, d in graph.edges(data=True)}
    assert ("road", "road_major", "AA") in kinds and ("road", "road_major", "HH") in kinds
    assert ("road", "road_minor", "AA") in kinds
    assert ("bridge", "road_major", "AA") in kinds  # the primary crosses the river at lon 24.4
    # the residential street meets the primary at a junction node
    junction = [n for n, d in graph.nodes(data=True) if d["kind"] == "road"
                and graph.out_degree(n) >= 3]
    assert junction


def test_tiny_plan_is_optimal_and_verified(tiny_run):
    _, result = tiny_run
    plan = result.plan
    assert plan.report.status == "optimal"
    assert plan.axes["verified"].all()
    assert plan.report.family_values["blocked"] == plan.axes.query("blocked_after")["weight"].sum()


def test_derived_roads_and_square_cells(tmp_path):
    result = run(write_tiny_world(tmp_path, with_osm=False, shape="square"))
    graph = result.prepared.graph
    assert graph.graph["roads"] == "approximate, derived from settlements"
    assert graph.graph["cell_shape"] == "square"
    assert result.plan.report.status == "optimal"


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "optimizer", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_cli_run_on_tiny_world_writes_every_output(tiny_run, tmp_path):
    path, _ = tiny_run
    out = tmp_path / "run"
    done = _cli("run", str(path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "status optimal" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["report"]["status"] == "optimal"
    assert summary["graph"]["cell_km"] == 4.0
    for key in ("bound", "gap", "runtime_s", "solver"):
        assert key in summary["report"]
    settings = summary["report"]["settings"]  # enough to repeat the run as it was solved
    assert settings["solver"] == "highs" and settings["threads"] == 1
    assert settings["time_limit_s"] > 0 and 0 < settings["gap_rel"] < 1e-3
    assert "(1 thread, time limit" in done.stdout
    layers = {name for name, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert {"obstacles", "sensors", "corridors", "budgets"} <= layers
    obstacles = gpd.read_file(out / "plan.gpkg", layer="obstacles")
    assert obstacles.crs.to_epsg() == 4326
    csv = (out / "obstacles.csv").read_text().splitlines()
    assert csv[0].startswith("site_id,type,country,cost_eur") and "lon,lat" in csv[0]
    assert (out / "map.png").stat().st_size > 10_000
    assert not list(tmp_path.glob(".run.partial-*"))


def test_cli_run_with_two_threads_keeps_the_optimum(tiny_run, tmp_path):
    path, result = tiny_run
    done = _cli("run", str(path), "--threads", "2", "--no-pictures", "--out", str(tmp_path / "t"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert summary["report"]["status"] == "optimal"
    assert summary["report"]["objective"] == pytest.approx(result.plan.report.objective)
    assert summary["report"]["settings"]["threads"] == 2 and "(2 threads," in done.stdout
    assert "2 threads" in (tmp_path / "t" / "report.html").read_text()
    bad = _cli("run", str(path), "--threads", "0", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "--threads" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_cli_graph_writes_gpkg_and_png(tiny_run, tmp_path):
    path, _ = tiny_run
    done = _cli("graph", str(path), "--out", str(tmp_path / "g"))
    assert done.returncode == 0, done.stderr
    assert "nodes" in done.stdout and "cell 4.0 km" in done.stdout
    assert {"nodes", "edges"} <= {n for n, _ in pyogrio.list_layers(tmp_path / "g" / "graph.gpkg")}
    assert (tmp_path / "g" / "graph.png").exists()


def test_exports_round_trip(tiny_run, tmp_path):
    from optimizer.runio import export_run, write_run

    _, result = tiny_run
    out = write_run(result, tmp_path / "run", pictures=False)
    csv = pd.read_csv(out / "obstacles.csv").sort_values("site_id").reset_index(drop=True)
    gpkg = gpd.read_file(out / "plan.gpkg", layer="obstacles").sort_values("site_id")
    geojson = gpd.read_file(out / "obstacles.geojson").sort_values("site_id")
    assert geojson.crs.to_epsg() == 4326
    for frame in (gpkg.reset_index(drop=True), geojson.reset_index(drop=True)):
        assert list(frame["site_id"]) == list(csv["site_id"])
        assert list(frame["cost_eur"]) == pytest.approx(list(csv["cost_eur"]))
        assert list(frame.geometry.x) == pytest.approx(list(csv["lon"]), abs=1e-9)
        assert list(frame.geometry.y) == pytest.approx(list(csv["lat"]), abs=1e-9)
    # MGRS references decode back to the site within a few metres
    import mgrs

    grid = mgrs.MGRS()
    for row in csv.itertuples():
        lat, lon = grid.toLatLon(row.mgrs)
        assert abs(lat - row.lat) < 2e-5 and abs(lon - row.lon) < 3e-5
    # re-export without re-solving gives the same CSV
    (out / "obstacles.csv").unlink()
    export_run(out, ["csv", "geojson", "gpkg"])
    again = pd.read_csv(out / "obstacles.csv").sort_values("site_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(again[csv.columns], csv, check_dtype=False)


def _write_raster(path, values, bounds):
    import numpy as np
    import rasterio
    from affine import Affine

    array = np.asarray(values, dtype="float32")
    west, south, east, north = bounds
    transform = Affine((east - west) / array.shape[1], 0, west, 0,
                       -(north - south) / array.shape[0], north)
    with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1],
                       count=1, dtype="float32", crs="EPSG:4326", transform=transform,
                       nodata=-9999) as dst:
        dst.write(array, 1)


def test_land_cover_raster_and_elevation_shape_the_terrain(tmp_path):
    import numpy as np
    import shapely

    from optimizer import load_config
    from optimizer.graph import build_graph
    from optimizer.validate import validate

    path = write_tiny_world(tmp_path)
    bounds = (24.0, 54.7, 25.0, 55.3)
    lon = np.linspace(24.0, 25.0, 200, endpoint=False) + 0.0025
    cover = np.where((lon > 24.1) & (lon < 24.2), 3, 1)[None, :].repeat(120, axis=0)
    _write_raster(tmp_path / "cover.tif", cover, bounds)
    height = np.where(lon < 24.55, 0.0, 5000.0)[None, :].repeat(120, axis=0)
    _write_raster(tmp_path / "dem.tif", height, bounds)
    text = path.read_text().replace(
        'obstacle_types = "obstacle_types.csv"',
        'land_cover = { path = "cover.tif", classes = { "1" = "forest", "3" = "wetland" } }\n'
        'elevation = { path = "dem.tif" }\nobstacle_types = "obstacle_types.csv"')
    path.write_text(text)
    config = load_config(path)
    graph = build_graph(config, validate(config))
    cells = {n: d for n, d in graph.nodes(data=True) if d["kind"] == "cell"}
    lons = gpd.GeoSeries(shapely.points([(d["x"], d["y"]) for d in cells.values()]),
                         crs=config.graph.crs).to_crs("EPSG:4326").x.to_numpy()
    # no cell in the unfrozen bog; forest elsewhere in the defended country
    assert not ((lons > 24.1) & (lons < 24.2)).any()
    aa = [d["land_cover"] for d in cells.values() if d["country"] == "AA"]
    assert set(aa) == {"forest"}
    # no terrain move climbs the 5 km cliff at lon 24.55
    for u, v, d in graph.edges(data=True):
        if d["kind"] == "terrain":
            a, b = lons_of(graph, config, u, v)
            assert (a < 24.55) == (b < 24.55), (u, v)


def lons_of(graph, config, *nodes):
    import shapely

    pts = shapely.points([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    return gpd.GeoSeries(pts, crs=config.graph.crs).to_crs("EPSG:4326").x.tolist()


def test_land_cover_raster_without_classes_is_an_input_error(tmp_path):
    import numpy as np

    from optimizer import InputError, load_config
    from optimizer.validate import validate

    path = write_tiny_world(tmp_path)
    _write_raster(tmp_path / "cover.tif", np.ones((10, 10)), (24.0, 54.7, 25.0, 55.3))
    path.write_text(path.read_text().replace(
        'obstacle_types = "obstacle_types.csv"',
        'land_cover = { path = "cover.tif" }\nobstacle_types = "obstacle_types.csv"'))
    with pytest.raises(InputError, match="code -> class mapping"):
        validate(load_config(path))


def test_user_candidate_sites_are_snapped_and_checked(tmp_path):
    from optimizer import InputError

    path = write_tiny_world(tmp_path)
    sites = gpd.GeoDataFrame(
        {"site_id": ["my-belt", "my-block", "my-bridge", "my-tower"],
         "kind": ["terrain", "road", "bridge", "sensor"],
         "types": ["at_ditch", "concrete_blocks", "", "surveillance_tower"],
         "status": ["", "fixed", "", ""]},
        geometry=gpd.points_from_xy([24.6, 24.6, 24.4, 24.6], [55.1, 55.0, 55.0, 55.1]),
        crs="EPSG:4326")
    sites.to_file(tmp_path / "sites.gpkg", layer="sites")
    text = path.read_text().replace("[candidates]", '[candidates]\ngenerate = false\n'
                                    'sites = { path = "sites.gpkg", layer = "sites" }')
    path.write_text(text)
    result = run(path)
    problem = result.prepared.problem
    assert set(problem.obstacle_options["site_id"]) == {"my-belt", "my-block", "my-bridge"}
    assert set(problem.sensor_options["site_id"]) == {"my-tower"}
    assert problem.fixed == {"my-block"}
    assert "my-block" in set(result.plan.obstacles["site_id"])
    bridge_edges = problem.obstacle_edges["my-bridge"]
    graph = result.prepared.graph
    assert all(graph.edges[e.split(">")[0], e.split(">")[1]]["kind"] == "bridge"
               for e in bridge_edges)
    # a site off the graph and an inapplicable type are named
    sites.loc[len(sites)] = ["far-away", "terrain", "", "", shapely_point(30.0, 50.0)]
    sites.loc[len(sites)] = ["bad-type", "road", "at_ditch", "", shapely_point(24.6, 55.0)]
    sites.to_file(tmp_path / "sites.gpkg", layer="sites")
    with pytest.raises(InputError) as error:
        run(path)
    assert "far-away" in str(error.value) and "off the graph" in str(error.value)
    assert "bad-type" in str(error.value)
    # a site without an id is named by its feature number
    sites.loc[len(sites)] = [None, "terrain", "", "", shapely_point(24.6, 55.1)]
    sites.to_file(tmp_path / "sites.gpkg", layer="sites")
    with pytest.raises(InputError) as error:
        run(path)
    assert f"feature {len(sites)}, column 'site_id': value is empty" in str(error.value)


def shapely_point(x, y):
    from shapely.geometry import Point

    return Point(x, y)
