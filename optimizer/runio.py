"""Write a finished run to ``results/<name>/`` atomically: the folder appears complete or not at all."""

from __future__ import annotations

import json
import math
import platform
import shutil
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from optimizer import __version__
from optimizer.export import atomic_folder, write_csv, write_json, write_text
from optimizer.pipeline import Run
from optimizer.roads import APPROXIMATE_LABEL

PACKAGES = ["pulp", "highspy", "networkx", "geopandas", "shapely", "pyproj", "pyogrio", "pandas",
            "numpy", "scipy", "matplotlib", "pydantic"]
UNITS = {"blocked": "sum of weights of blocked axes (maximised)",
         "delay": "sum of weight x attacker hours, capped at blocked_time_h (maximised)",
         "detection": "sum of weight x max evasion probability (minimised)",
         "throughput": "sum of weight x open corridors or capacity (minimised)"}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "optimizer": __version__}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def data_note(run: Run) -> str:
    """The data-quality note every output of a run carries."""
    return prepared_note(run.prepared)


def prepared_note(prepared) -> str:
    """Approximate roads, the scenario's own data note, and the cell size."""
    notes = []
    if prepared.graph is not None and prepared.graph.graph.get("roads") == APPROXIMATE_LABEL:
        notes.append(f"APPROXIMATE: roads {APPROXIMATE_LABEL}")
    if prepared.config is not None and prepared.config.data_note:
        notes.append(prepared.config.data_note.strip().rstrip(".;"))
    if prepared.graph is not None:
        notes.append(f"cell size {prepared.graph.graph['cell_km']} km")
    return "; ".join(notes)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _clean(records: list[dict]) -> list[dict]:
    return [{k: _finite(v) for k, v in r.items()} for r in records]


def summary(run: Run) -> dict:
    prepared, plan = run.prepared, run.plan
    report = plan.report
    out = {
        "name": prepared.source,
        "data_note": data_note(run),
        "objective_units": {k: UNITS[k] for k in report.objective_weights},
        "report": report.as_dict(),
        "budgets": _clean(plan.budgets.to_dict("records")) if len(plan.budgets) else [],
        "yearly": _clean(plan.yearly.to_dict("records")) if len(plan.yearly) else [],
        "axes": _clean(plan.axes.to_dict("records")) if len(plan.axes) else [],
        "counts": {"obstacles": len(plan.obstacles), "sensors": len(plan.sensors),
                   "candidate_obstacle_options": len(prepared.problem.obstacle_options),
                   "candidate_sensor_options": len(prepared.problem.sensor_options)},
        "timings_s": run.timings_s,
        "versions": versions(),
        "assumptions": "Numbers tagged 'assumption' in the parameter tables are estimates "
                       "where no public figure was found (see inputs/baltic/ATTRIBUTION.md).",
    }
    if prepared.config is not None:
        out["config"] = prepared.config.model_dump(mode="json")
        out["input_files_sha256"] = prepared.inputs.files
    if prepared.graph is not None:
        g = prepared.graph
        out["graph"] = {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
                        "cell_km": g.graph["cell_km"], "cell_shape": g.graph["cell_shape"],
                        "crs": g.graph["crs"], "roads": g.graph["roads"],
                        "build_s": g.graph["build_s"], "from_cache": prepared.graph_from_cache}
    return out


def _site_points(run: Run, table: pd.DataFrame) -> pd.DataFrame:
    sites = run.prepared.sites
    table = table.copy()
    if sites is not None and len(table):
        where = sites.set_index("site_id").geometry
        table["lon"] = table["site_id"].map(lambda s: round(where[s].x, 6))
        table["lat"] = table["site_id"].map(lambda s: round(where[s].y, 6))
    else:
        table["lon"] = pd.Series(dtype=float)
        table["lat"] = pd.Series(dtype=float)
    table["mgrs"] = mgrs_column(table)
    table["data_note"] = data_note(run)
    return table


def mgrs_column(table: pd.DataFrame) -> pd.Series:
    """Military grid reference (1 m precision) of each row's lon/lat; empty without them."""
    import mgrs

    grid = mgrs.MGRS()
    return pd.Series([grid.toMGRS(lat, lon, MGRSPrecision=5) if pd.notna(lon) else ""
                      for lon, lat in zip(table["lon"], table["lat"], strict=True)],
                     index=table.index, dtype=object)


def _route_lines(run: Run) -> gpd.GeoDataFrame | pd.DataFrame:
    graph = run.prepared.graph
    rows, geoms = [], []
    for axis_id, routes in run.plan.routes.items():
        for when in ("before", "after"):
            nodes = routes.get(when)
            rows.append({"axis_id": axis_id, "when": when,
                         "reachable": nodes is not None, "data_note": data_note(run)})
            if graph is not None and nodes:
                geoms.append(shapely.linestrings([(graph.nodes[n]["x"], graph.nodes[n]["y"])
                                                  for n in nodes]))
            else:
                geoms.append(None)
    table = pd.DataFrame(rows)
    axes = run.plan.axes.set_index("axis_id")
    for column in ("time_before_min", "time_after_min", "blocked_after", "weight"):
        if len(axes):
            table[column] = table["axis_id"].map(axes[column]).map(_finite)
    if graph is None:
        return table
    frame = gpd.GeoDataFrame(table, geometry=geoms, crs=graph.graph["crs"])
    return frame.to_crs("EPSG:4326")


def write_run(run: Run, out_dir: Path | str, *, pictures: bool = True) -> Path:
    """Write every output of a run; an existing folder is replaced only once all is written."""
    with atomic_folder(Path(out_dir)) as tmp:
        _write_all(run, tmp, pictures=pictures)
    return Path(out_dir)


def _write_all(run: Run, folder: Path, *, pictures: bool) -> None:
    plan = run.plan
    obstacles = _site_points(run, plan.obstacles) if len(plan.obstacles.columns) else pd.DataFrame()
    sensors = _site_points(run, plan.sensors) if len(plan.sensors.columns) else pd.DataFrame()
    write_json(folder / "summary.json", json.loads(json.dumps(summary(run), default=_json_default)))
    write_csv(folder / "obstacles.csv", obstacles)
    write_csv(folder / "sensors.csv", sensors)
    write_csv(folder / "axes.csv", plan.axes)
    write_csv(folder / "budgets.csv", plan.budgets)
    if not plan.schedule.empty:
        write_csv(folder / "schedule.csv", _site_points(run, plan.schedule))
        write_csv(folder / "yearly.csv", plan.yearly)
    if run.prepared.sites is not None:
        candidates = run.prepared.sites.copy()
        candidates["lon"] = candidates.geometry.x.round(6)
        candidates["lat"] = candidates.geometry.y.round(6)
        write_csv(folder / "candidates.csv", pd.DataFrame(candidates.drop(columns="geometry")))
    gpkg = folder / "plan.gpkg"
    corridors = _route_lines(run)
    for layer, table in (("obstacles", obstacles), ("sensors", sensors)):
        if len(table.columns):
            frame = (gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"],
                                                                          table["lat"]),
                                      crs="EPSG:4326") if run.prepared.sites is not None
                     else table)
            pyogrio.write_dataframe(frame, gpkg, layer=layer, driver="GPKG",
                                    append=gpkg.exists())
    if len(corridors):
        pyogrio.write_dataframe(corridors, gpkg, layer="corridors", driver="GPKG",
                                append=gpkg.exists())
    if run.prepared.sites is not None:
        write_geojson(folder, gpkg)
    for layer, table in (("budgets", plan.budgets), ("axes", plan.axes)):
        if len(table):
            clean = table.copy()
            for column in clean.columns:
                if clean[column].dtype == float:
                    clean[column] = clean[column].map(_finite)
            pyogrio.write_dataframe(clean, gpkg, layer=layer, driver="GPKG",
                                    append=gpkg.exists())
    if pictures and run.prepared.graph is not None and plan.report.objective is not None:
        from optimizer.report.maps import plan_map

        plan_map(run, folder / "map.png", note=data_note(run))
    if plan.report.objective is not None:
        from optimizer.report.html import run_report

        write_text(folder / "report.html", run_report(run, folder, note=data_note(run)))


def write_geojson(folder: Path, gpkg: Path) -> None:
    """One GeoJSON file (EPSG:4326) per spatial layer of ``plan.gpkg``."""
    from optimizer.export import write_with
    from optimizer.inputs import read_run_layers

    for layer, frame in read_run_layers(gpkg).items():
        if isinstance(frame, gpd.GeoDataFrame):
            write_with(folder / f"{layer}.geojson",
                       lambda tmp, f=frame: pyogrio.write_dataframe(
                           f.to_crs("EPSG:4326"), tmp, driver="GeoJSON"))


def export_run(run_dir: Path | str, formats: list[str]) -> list[Path]:
    """Re-export a finished run from its plan.gpkg without re-solving."""
    from optimizer.errors import InputError, Problem
    from optimizer.export import write_with
    from optimizer.inputs import read_run_layers

    run_dir = Path(run_dir)
    gpkg = run_dir / "plan.gpkg"
    if not gpkg.is_file():
        raise InputError([Problem(str(run_dir), "no plan.gpkg in this folder",
                                  "pass a folder written by `optimizer run`")])
    unknown = sorted(set(formats) - {"gpkg", "geojson", "csv"})
    if unknown:
        raise InputError([Problem("--format", f"unknown format(s) {unknown}",
                                  "use gpkg, geojson and/or csv")])
    layers = read_run_layers(gpkg)
    written = []
    if "geojson" in formats:
        write_geojson(run_dir, gpkg)
        written += [run_dir / f"{k}.geojson" for k, v in layers.items()
                    if isinstance(v, gpd.GeoDataFrame)]
    if "csv" in formats:
        for layer in ("obstacles", "sensors", "budgets", "axes"):
            if layer in layers:
                frame = pd.DataFrame(layers[layer].drop(columns="geometry", errors="ignore"))
                written.append(write_csv(run_dir / f"{layer}.csv", frame))
    if "gpkg" in formats:
        def writer(tmp: Path) -> None:
            for i, (layer, frame) in enumerate(layers.items()):
                pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG", append=i > 0)

        written.append(write_with(gpkg, writer))
    return written


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def clean_partials(folder: Path) -> None:
    """Remove temporary files and folders an interrupted write left behind."""
    for path in sorted(Path(folder).rglob(".*"), key=lambda p: len(p.parts), reverse=True):
        if ".partial-" in path.name or ".old-" in path.name or (
                path.name.startswith(".") and path.suffix in (".csv", ".json", ".gpkg",
                                                              ".png", ".html", ".geojson")):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()


def write_comparison(comparison, scenario_set, out_dir: Path | str, *,
                     pictures: bool = True) -> Path:
    """comparison.csv, pareto.csv, joint_vs_national.csv, charts, report.html and summary.json
    in ``out_dir`` (each file atomic). Scenario outputs are written by ``run_comparison``
    as each scenario finishes (``scenarios/<name>/``)."""
    from optimizer.report.charts import marginal_chart, pareto_chart, spend_chart
    from optimizer.report.html import comparison_report

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / "comparison.csv", comparison.rows)
    write_csv(out_dir / "pareto.csv", comparison.pareto)
    write_csv(out_dir / "joint_vs_national.csv", comparison.joint_vs_national)
    named = [n for n in scenario_set.scenarios
             if n not in {m for ms in scenario_set.sweeps.values() for m, _ in ms}]
    note = next((data_note(r) for r in comparison.runs.values()), "")
    if pictures:
        from optimizer.export import write_with

        for name, draw in (
                ("pareto", lambda t: pareto_chart(comparison.pareto, t, note=note)),
                ("spend", lambda t: spend_chart(comparison.rows, t, scenarios=named)),
                ("marginal", lambda t: marginal_chart(comparison.rows, t,
                                                      column="marginal_value_per_MEUR",
                                                      scenarios=named))):
            write_with(out_dir / f"{name}.png", draw)
    write_text(out_dir / "report.html", comparison_report(comparison, out_dir, note=note))
    write_json(out_dir / "summary.json", {
        "scenario_file": scenario_set.path.name, "data_note": note,
        "scenarios": {n: {k: v for k, v in r.items() if k != "rows"}
                      for n, r in comparison.records.items()},
        "versions": versions()})
    return out_dir


def write_share(result, out_dir: Path | str, *, note: str = "", pictures: bool = True) -> Path:
    """coalitions.csv, shares.csv, attribution.csv, shares.png and report.html, atomically."""
    from optimizer.report.charts import shares_chart
    from optimizer.report.html import share_report

    with atomic_folder(Path(out_dir)) as tmp:
        write_csv(tmp / "coalitions.csv", result.coalitions)
        write_csv(tmp / "shares.csv", result.shares)
        write_csv(tmp / "attribution.csv", result.attribution)
        if pictures:
            shares_chart(result.shares, tmp / "shares.png")
        write_text(tmp / "report.html", share_report(result, tmp, note=note))
        write_json(tmp / "summary.json", {
            "data_note": note, "least_core_complaint": result.least_core_complaint,
            "grand_plan": result.grand_plan.report.as_dict(), "versions": versions()})
    return Path(out_dir)
