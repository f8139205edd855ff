"""A tiny two-country world written to a folder: the tests' own scenario data."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, Polygon, box

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

TOML = """
name = "tiny"
data_note = "Synthetic test world."
[inputs]
countries = {{ path = "countries.gpkg", layer = "countries" }}
water = [{{ path = "hydro.gpkg", layer = "lakes" }}]
rivers = [{{ path = "hydro.gpkg", layer = "rivers" }}]
settlements = {{ path = "places.gpkg", layer = "settlements" }}
border_crossings = {{ path = "crossings.csv" }}
{roads}
obstacle_types = "obstacle_types.csv"
sensor_types = "sensor_types.csv"
terrain_speeds = "terrain_speeds.csv"

[graph]
crs = "EPSG:3035"
cell_km = 4.0
cell_shape = "{shape}"
defended = ["AA"]
hostile = ["HH"]
approach_km = 30.0
staging_radius_km = 6.0

[budgets]
AA = 20_000_000

[candidates]
band_km = 12.0
terrain_types = ["at_ditch", "complex_belt"]
road_types = ["concrete_blocks", "complex_belt"]
bridge_types = ["bridge_demolition"]
sensor_types = ["surveillance_tower"]
sensor_spacing_km = 8.0
sensor_band_km = 10.0

[solve]
objective = "blocked"
time_limit_s = 120

[[axes]]
id = "east-west"
origin = {{ lon = 24.9, lat = 55.0 }}
objective = {{ place = "Westtown" }}
weight = 2
required_delay_h = 3

[[axes]]
id = "east-north"
origin = {{ lon = 24.9, lat = 55.15 }}
objective = {{ place = "Northtown" }}
weight = 1
required_delay_h = 3
"""


def write_tiny_world(folder: Path, *, with_osm: bool = True, shape: str = "hex") -> Path:
    """Countries AA (west, defended) and HH (east, hostile) split at lon 24.7; a lake and a river."""
    folder.mkdir(parents=True, exist_ok=True)
    west = box(24.0, 54.7, 24.7, 55.3)
    east = box(24.7, 54.7, 25.0, 55.3)
    gpd.GeoDataFrame({"country": ["AA", "HH"]}, geometry=[west, east], crs="EPSG:4326").to_file(
        folder / "countries.gpkg", layer="countries")
    lake = Polygon([(24.25, 55.12), (24.35, 55.12), (24.35, 55.2), (24.25, 55.2)])
    gpd.GeoDataFrame({"name": ["Test lake"]}, geometry=[lake], crs="EPSG:4326").to_file(
        folder / "hydro.gpkg", layer="lakes")
    river = LineString([(24.4, 54.7), (24.4, 55.3)])
    gpd.GeoDataFrame({"name": ["Test river"]}, geometry=[river], crs="EPSG:4326").to_file(
        folder / "hydro.gpkg", layer="rivers")
    towns = gpd.GeoDataFrame(
        {"name": ["Westtown", "Northtown", "Midtown", "Easttown", "Southtown"],
         "country": ["AA", "AA", "AA", "HH", "HH"],
         "population": [50000, 8000, 12000, 30000, 5000]},
        geometry=gpd.points_from_xy([24.05, 24.45, 24.55, 24.9, 24.85],
                                    [55.0, 55.22, 54.95, 55.0, 54.8]), crs="EPSG:4326")
    towns.to_file(folder / "places.gpkg", layer="settlements")
    (folder / "crossings.csv").write_text(
        "crossing_id,name,country,lon,lat\nAA-GATE,Gate <b>one</b>,AA,24.7,55.0\n")
    for name in ("obstacle_types.csv", "sensor_types.csv", "terrain_speeds.csv"):
        shutil.copyfile(ROOT / "inputs" / "baltic" / name, folder / name)
    roads = ""
    if with_osm:
        shutil.copyfile(DATA / "tiny.osm", folder / "roads.osm")
        roads = 'roads = { path = "roads.osm" }'
    path = folder / "tiny.toml"
    path.write_text(TOML.format(roads=roads, shape=shape))
    return path
