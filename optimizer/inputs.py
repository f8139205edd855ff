"""Read layers and tables named by a scenario file. The only module that reads input files.

Every reader collects problems into a :class:`~optimizer.errors.Problems` instead
of raising on the first one; :func:`load_inputs` raises them all at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry import box

from optimizer.config import LayerRef, ScenarioConfig
from optimizer.errors import Problems

# Road classes understood from OpenStreetMap's `highway` tag (and any class column).
OSM_MAJOR = {"motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link",
             "road_major", "major"}
OSM_MINOR = {"secondary", "tertiary", "unclassified", "residential", "secondary_link",
             "tertiary_link", "track", "service", "living_street", "road_minor", "minor"}

OBSTACLE_COLUMNS = ["type", "applies_to", "cost_eur", "cost_unit", "delay_unobserved_min",
                    "delay_observed_min", "blocks", "basis", "source"]
SENSOR_COLUMNS = ["type", "cost_eur", "range_km", "detection_prob", "basis", "source"]
SPEED_COLUMNS = ["class", "tracked_kmh", "wheeled_kmh", "basis", "source"]


RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".asc")


@dataclass(frozen=True)
class Raster:
    """A single-band raster held in memory, sampled at points (nearest pixel)."""

    array: object
    transform: object
    crs: str
    nodata: float | None

    def sample(self, xs, ys, crs: str):
        """Pixel values at points given in ``crs`` (NaN outside the raster or at nodata)."""
        import numpy as np
        from pyproj import Transformer

        xs, ys = Transformer.from_crs(crs, self.crs, always_xy=True).transform(xs, ys)
        cols, rows = ~self.transform @ (np.asarray(xs), np.asarray(ys))
        rows, cols = np.floor(rows).astype(int), np.floor(cols).astype(int)
        height, width = self.array.shape
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        out = np.full(len(rows), np.nan)
        out[inside] = self.array[rows[inside], cols[inside]]
        if self.nodata is not None:
            out[out == self.nodata] = np.nan
        return out


def _read_raster(ref: LayerRef, config: ScenarioConfig, what: str, problems: Problems,
                 files: dict[str, str]) -> Raster | None:
    import rasterio

    path = config.resolve(ref.path)
    if not path.is_file():
        problems.add(f"{what} ({ref.path})", "file not found", f"check inputs.{what}.path")
        return None
    files[str(ref.path)] = file_digest(path)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                problems.add(f"{what} ({ref.path})", "raster has no CRS",
                             "assign the raster's CRS (e.g. with gdal_edit.py -a_srs)")
                return None
            return Raster(array=src.read(1).astype(float), transform=src.transform,
                          crs=src.crs.to_string(), nodata=src.nodata)
    except rasterio.errors.RasterioError as error:
        problems.add(f"{what} ({ref.path})", f"cannot be read: {error}", "check the file format")
        return None


@dataclass(frozen=True)
class Inputs:
    """All inputs of a scenario, in EPSG:4326 (vectors) and plain tables (catalogues)."""

    countries: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    settlements: gpd.GeoDataFrame
    crossings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame | None
    land_cover: gpd.GeoDataFrame | Raster | None
    obstacle_types: pd.DataFrame
    sensor_types: pd.DataFrame
    terrain_speeds: pd.DataFrame
    files: dict[str, str]
    elevation: Raster | None = None
    sites: gpd.GeoDataFrame | None = None

    @property
    def roads_are_approximate(self) -> bool:
        return self.roads is None


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_vector(ref: LayerRef, config: ScenarioConfig, what: str, problems: Problems,
                 files: dict[str, str]) -> gpd.GeoDataFrame | None:
    path = config.resolve(ref.path)
    where = f"{what} ({ref.path}{':' + ref.layer if ref.layer else ''})"
    if not path.is_file():
        problems.add(where, "file not found", f"check inputs.{what}.path in the scenario file")
        return None
    files[str(ref.path)] = file_digest(path)
    if path.suffix.lower() == ".csv":
        table = pd.read_csv(path)
        missing = [c for c in ("lon", "lat") if c not in table.columns]
        if missing:
            problems.add(where, f"CSV has no column(s) {missing}",
                         "a point CSV needs 'lon' and 'lat' columns in EPSG:4326")
            return None
        bad = table[pd.to_numeric(table["lon"], errors="coerce").isna()
                    | pd.to_numeric(table["lat"], errors="coerce").isna()]
        if len(bad):
            problems.add(where, f"rows {list(bad.index)} have non-numeric lon/lat",
                         "fill lon and lat with decimal degrees")
            return None
        return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                                crs="EPSG:4326")
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
        if ref.layer is not None and ref.layer not in layers:
            problems.add(where, f"layer '{ref.layer}' not found; layers are {layers}",
                         "set 'layer' to one of those")
            return None
        frame = gpd.read_file(path, layer=ref.layer)
    except Exception as error:  # any GDAL read failure becomes an input problem
        problems.add(where, f"cannot be read: {error}", "check the file format")
        return None
    if frame.crs is None:
        problems.add(where, "layer has no CRS", "assign the layer's CRS (e.g. EPSG:4326) in a GIS")
        return None
    if len(frame) == 0:
        problems.add(where, "layer is empty", "point to a layer with features")
        return None
    frame = frame.to_crs("EPSG:4326")
    if config.graph.bbox is not None:
        minx, miny, maxx, maxy = frame.total_bounds
        if not box(minx, miny, maxx, maxy).intersects(box(*config.graph.bbox)):
            problems.add(where, f"layer lies outside the study box {config.graph.bbox} "
                         f"(bounds {[round(v, 3) for v in (minx, miny, maxx, maxy)]})",
                         "the layer's CRS is probably wrong: reproject it or fix its CRS")
            return None
    return frame


def _require_columns(frame: pd.DataFrame, columns: list[str], where: str,
                     problems: Problems) -> bool:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.add(where, f"missing column(s) {missing}",
                     f"add them; expected columns: {columns}")
    return not missing


def _read_named(ref: LayerRef, config: ScenarioConfig, what: str, problems: Problems,
                files: dict[str, str], columns: dict[str, str | None],
                keep_others: bool = False) -> gpd.GeoDataFrame | None:
    """Read a vector layer whose columns the scenario may name: ``columns`` maps each
    canonical name to the configured one (None: the canonical name itself). The layer comes
    back with the canonical names (and only those and its geometry, unless ``keep_others``),
    or None after every missing column is listed."""
    frame = _read_vector(ref, config, what, problems, files)
    if frame is None:
        return None
    named = {canonical: configured or canonical for canonical, configured in columns.items()}
    if not _require_columns(frame, list(named.values()), f"{what} ({ref.path})", problems):
        return None
    frame = frame.rename(columns={v: k for k, v in named.items()})
    return frame if keep_others else frame[[*named, "geometry"]]


def _read_table(path: Path, columns: list[str], what: str, problems: Problems,
                files: dict[str, str], config: ScenarioConfig) -> pd.DataFrame | None:
    full = config.resolve(path)
    if not full.is_file():
        problems.add(f"{what} ({path})", "file not found", f"check inputs.{what} in the scenario file")
        return None
    files[str(path)] = file_digest(full)
    table = pd.read_csv(full)
    if not _require_columns(table, columns, f"{what} ({path})", problems):
        return None
    return table


def _numeric(table: pd.DataFrame, column: str, where: str, id_column: str, problems: Problems,
             *, minimum: float | None = 0.0, maximum: float | None = None,
             strict: bool = False) -> None:
    values = pd.to_numeric(table[column], errors="coerce")
    for idx in table.index[values.isna()]:
        problems.add(f"{where}, column '{column}', id '{table.at[idx, id_column]}'",
                     f"value {table.at[idx, column]!r} is not a number", "enter a number")
    if minimum is not None:
        low = values < minimum if not strict else values <= minimum
        for idx in table.index[low.fillna(False)]:
            sign = ">" if strict else ">="
            problems.add(f"{where}, column '{column}', id '{table.at[idx, id_column]}'",
                         f"value {values[idx]} must be {sign} {minimum}", "correct the value")
    if maximum is not None:
        for idx in table.index[(values > maximum).fillna(False)]:
            problems.add(f"{where}, column '{column}', id '{table.at[idx, id_column]}'",
                         f"value {values[idx]} must be <= {maximum}", "correct the value")
    table[column] = values


def read_catalogues(config: ScenarioConfig, problems: Problems, files: dict[str, str]):
    """Obstacle types, sensor types and terrain speeds, checked value by value."""
    ins = config.inputs
    obstacles = _read_table(ins.obstacle_types, OBSTACLE_COLUMNS, "obstacle_types", problems,
                            files, config)
    if obstacles is not None:
        where = f"obstacle_types ({ins.obstacle_types})"
        for column in ("cost_eur", "delay_unobserved_min", "delay_observed_min"):
            _numeric(obstacles, column, where, "type", problems)
        obstacles["blocks"] = obstacles["blocks"].astype(str).str.lower().isin(["true", "1", "yes"])
        for idx in obstacles.index[~obstacles["cost_unit"].isin(["per_km", "per_site"])]:
            problems.add(f"{where}, column 'cost_unit', id '{obstacles.at[idx, 'type']}'",
                         f"unknown unit {obstacles.at[idx, 'cost_unit']!r}", "use per_km or per_site")
        _duplicates(obstacles, "type", where, problems)
    sensors = _read_table(ins.sensor_types, SENSOR_COLUMNS, "sensor_types", problems, files, config)
    if sensors is not None:
        where = f"sensor_types ({ins.sensor_types})"
        _numeric(sensors, "cost_eur", where, "type", problems)
        _numeric(sensors, "range_km", where, "type", problems, strict=True)
        _numeric(sensors, "detection_prob", where, "type", problems, maximum=0.999999)
        _duplicates(sensors, "type", where, problems)
    speeds = _read_table(ins.terrain_speeds, SPEED_COLUMNS, "terrain_speeds", problems, files,
                         config)
    if speeds is not None:
        where = f"terrain_speeds ({ins.terrain_speeds})"
        for column in ("tracked_kmh", "wheeled_kmh"):
            _numeric(speeds, column, where, "class", problems)
        _duplicates(speeds, "class", where, problems)
    return obstacles, sensors, speeds


def _duplicates(table: pd.DataFrame, column: str, where: str, problems: Problems) -> None:
    for value in table.loc[table[column].duplicated(), column].unique():
        problems.add(f"{where}, column '{column}'", f"duplicate id '{value}'",
                     "make every id unique")


def read_osm_roads(path: Path) -> gpd.GeoDataFrame:
    """Drivable road lines from an OpenStreetMap ``.osm`` or ``.osm.pbf`` extract (GDAL OSM driver).

    Keeps ways whose ``highway`` tag is a road class a column can use (footways, paths,
    cycleways and the like are dropped); ``road_class`` holds the OSM tag.
    """
    frame = gpd.read_file(path, layer="lines")
    if "highway" not in frame.columns:
        frame = frame.assign(highway=None)
    frame = frame[frame["highway"].isin(OSM_MAJOR | OSM_MINOR)]
    return frame.rename(columns={"highway": "road_class"})[["road_class", "geometry"]]


def _read_roads(ref: LayerRef, config: ScenarioConfig, problems: Problems,
                files: dict[str, str]) -> gpd.GeoDataFrame | None:
    path = config.resolve(ref.path)
    name = path.name.lower()
    if name.endswith(".osm") or name.endswith(".osm.pbf"):
        if not path.is_file():
            problems.add(f"roads ({ref.path})", "file not found", "check inputs.roads.path")
            return None
        files[str(ref.path)] = file_digest(path)
        roads = read_osm_roads(path)
    else:
        roads = _read_named(ref, config, "roads", problems, files,
                            {"road_class": ref.class_column})
        if roads is None:
            return None
    roads = roads.explode(index_parts=False)
    roads = roads[roads.geometry.geom_type == "LineString"]
    known = OSM_MAJOR | OSM_MINOR
    roads = roads[roads["road_class"].isin(known)].copy()
    if roads.empty:
        problems.add(f"roads ({ref.path})", "no usable road lines",
                     f"road classes must be among {sorted(known)}")
        return None
    roads["road_class"] = roads["road_class"].map(
        lambda c: "road_major" if c in OSM_MAJOR else "road_minor")
    return roads.reset_index(drop=True)


def load_inputs(config: ScenarioConfig) -> Inputs:
    """Read and check every input the scenario names; raise one error listing all problems."""
    problems = Problems()
    files: dict[str, str] = {}
    ins = config.inputs
    countries = _read_named(ins.countries, config, "countries", problems, files,
                            {"country": ins.countries.country_column})
    if countries is not None:
        known = set(countries["country"])
        g = config.graph
        for code in sorted(set(g.defended + g.hostile) - known):
            problems.add(f"graph.defended/hostile: country '{code}'",
                         f"not in the countries layer (known: {sorted(known)})",
                         "use a code present in the countries layer")
    water = [_read_vector(r, config, "water", problems, files) for r in ins.water]
    rivers = [_read_vector(r, config, "rivers", problems, files) for r in ins.rivers]
    settlements = crossings = None
    if ins.settlements is not None:
        ref = ins.settlements
        settlements = _read_named(ref, config, "settlements", problems, files,
                                  {"name": ref.name_column, "country": ref.country_column,
                                   "population": ref.population_column})
        if settlements is not None:
            _numeric(settlements, "population", f"settlements ({ref.path})", "name", problems)
    if ins.border_crossings is not None:
        ref = ins.border_crossings
        crossings = _read_named(ref, config, "border_crossings", problems, files,
                                {"crossing_id": ref.id_column, "name": ref.name_column,
                                 "country": ref.country_column}, keep_others=True)
    roads = _read_roads(ins.roads, config, problems, files) if ins.roads else None
    land_cover = None
    elevation = (_read_raster(ins.elevation, config, "elevation", problems, files)
                 if ins.elevation is not None else None)
    if ins.land_cover is not None and str(ins.land_cover.path).lower().endswith(RASTER_SUFFIXES):
        land_cover = _read_raster(ins.land_cover, config, "land_cover", problems, files)
        if land_cover is not None and not ins.land_cover.classes:
            problems.add(f"land_cover ({ins.land_cover.path})",
                         "a land-cover raster needs a code -> class mapping",
                         'add classes = { "1" = "forest", "2" = "open", ... } to inputs.land_cover')
            land_cover = None
    elif ins.land_cover is not None:
        land_cover = _read_named(ins.land_cover, config, "land_cover", problems, files,
                                 {"class": ins.land_cover.class_column})
    obstacle_types, sensor_types, terrain_speeds = read_catalogues(config, problems, files)
    sites = None
    if config.candidates.sites is not None:
        ref = config.candidates.sites
        id_column = ref.id_column or "site_id"
        sites = _read_named(ref, config, "candidates.sites", problems, files,
                            {"site_id": id_column, "kind": None}, keep_others=True)
        if sites is not None:
            sites["site_id"] = sites["site_id"].fillna("").astype(str)
            for position in (sites["site_id"].str.strip() == "").to_numpy().nonzero()[0]:
                problems.add(f"candidates.sites ({ref.path}), feature {position + 1}, "
                             f"column '{id_column}'", "value is empty",
                             "give every site an id")
            for column in ("types", "status"):
                if column not in sites.columns:
                    sites[column] = ""
                sites[column] = sites[column].fillna("").astype(str)
            bad = sites[~sites["kind"].isin(["terrain", "road", "bridge", "sensor"])]
            for row in bad.itertuples():
                problems.add(f"candidates.sites ({ref.path}), id '{row.site_id}'",
                             f"unknown kind {row.kind!r}",
                             "use terrain, road, bridge or sensor")
            for dup in sorted(sites.loc[sites["site_id"].duplicated(), "site_id"].unique()):
                problems.add(f"candidates.sites ({ref.path}), id '{dup}'",
                             "duplicate site id", "make site ids unique")
            if not (sites.geometry.geom_type == "Point").all():
                problems.add(f"candidates.sites ({ref.path})", "sites must be points",
                             "give one point per site")
    if problems:
        problems.raise_if_any()
    empty_poly = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    return Inputs(
        countries=countries,
        water=pd.concat(water, ignore_index=True) if water else empty_poly,
        rivers=pd.concat(rivers, ignore_index=True) if rivers else empty_poly,
        settlements=settlements if settlements is not None else gpd.GeoDataFrame(
            {"name": [], "country": [], "population": []}, geometry=[], crs="EPSG:4326"),
        crossings=crossings if crossings is not None else gpd.GeoDataFrame(
            {"crossing_id": [], "name": [], "country": []}, geometry=[], crs="EPSG:4326"),
        roads=roads, land_cover=land_cover, obstacle_types=obstacle_types,
        sensor_types=sensor_types, terrain_speeds=terrain_speeds, files=files,
        elevation=elevation, sites=sites)


def load_graph(path: Path):
    """Reload a graph written by :func:`optimizer.export.save_graph` (exact round trip)."""
    import json

    from optimizer.export import _normalise, frames_to_graph

    nodes = pyogrio.read_dataframe(path, layer="nodes")
    edges = pyogrio.read_dataframe(path, layer="edges")
    meta = pyogrio.read_dataframe(path, layer="graph_meta", read_geometry=False)
    attributes = json.loads(meta.loc[meta["key"] == "attributes", "value"].iloc[0])
    for column in ("label", "land_cover", "road_class"):
        for frame in (nodes, edges):
            if column in frame:
                frame[column] = frame[column].fillna("")
    graph = frames_to_graph(nodes, edges, attributes)
    _normalise(graph)
    return graph


def read_problem(path: Path | str):
    """Read the plain problem format: a folder of CSV files or a GeoPackage with those layers."""
    from optimizer.errors import InputError, Problem
    from optimizer.problem import TABLES, problem_from_tables

    path = Path(path)
    tables: dict[str, pd.DataFrame] = {}
    if path.is_dir():
        for name in TABLES:
            csv = path / f"{name}.csv"
            if csv.is_file():
                try:
                    tables[name] = pd.read_csv(csv, dtype=str, keep_default_na=False,
                                               na_values=[""])
                except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
                    raise InputError([Problem(f"{path.name}/{name}.csv", f"cannot be read: {e}",
                                              "save it as UTF-8 CSV with a header row")]) from None
    elif path.is_file() and path.suffix.lower() == ".gpkg":
        layers = {name for name, _ in pyogrio.list_layers(path)}
        for name in TABLES:
            if name in layers:
                frame = pyogrio.read_dataframe(path, layer=name, read_geometry=False)
                tables[name] = frame.astype(object).where(frame.notna(), None)
    else:
        raise InputError([Problem(str(path), "not a folder of CSV files or a .gpkg file",
                                  "pass a problem folder (nodes.csv, edges.csv, ...) or GeoPackage")])
    return problem_from_tables(tables, source=path.name)


def read_run_layers(gpkg: Path) -> dict:
    """Every layer of a run's plan.gpkg (GeoDataFrames for spatial layers)."""
    out = {}
    for name, geometry_type in pyogrio.list_layers(gpkg):
        if geometry_type is None:
            out[name] = pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False)
        else:
            out[name] = gpd.read_file(gpkg, layer=name)
    return out


def read_json(path: Path) -> dict:
    """A JSON file written by the package (manifests, summaries)."""
    import json

    return json.loads(Path(path).read_text(encoding="utf-8"))
