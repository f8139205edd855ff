"""Rebuild the embedded Baltic default under inputs/baltic/ from ../shared/data/baltic.

Run from the project root:  python scripts/build_default_inputs.py [SHARED_DATA_DIR]

Geodata are copied (clipped to the study box, columns renamed) with their
attribution; parameter tables are copied verbatim; the obstacle, sensor and
terrain catalogues are *computed* from named rows of those tables so every
default number keeps its basis and source.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "inputs" / "baltic"
BBOX = (20.5, 53.5, 29.5, 60.0)


def _param(tables: dict[str, pd.DataFrame], name: str) -> tuple[float, str, str]:
    for file, table in tables.items():
        row = table[table["name"] == name]
        if len(row):
            r = row.iloc[0]
            note = r["source"] if isinstance(r["source"], str) else "no source note"
            return float(r["value"]), str(r["basis"]), f"{file}:{name} ({note})"
    raise KeyError(name)


def _catalogues(tables: dict[str, pd.DataFrame]) -> None:
    p = lambda n: _param(tables, n)  # noqa: E731
    obstacles = []

    def obstacle(kind, applies_to, cost_name, cost_unit, du_name, do_name, blocks=False,
                 cost_scale=1.0, cost_note=""):
        cost, cb, cs = p(cost_name)
        du, dub, dus = p(du_name)
        do, dob, dos = p(do_name)
        bases = {cb, dub, dob}
        obstacles.append({
            "type": kind, "applies_to": applies_to, "cost_eur": round(cost * cost_scale, 2),
            "cost_unit": cost_unit, "delay_unobserved_min": du, "delay_observed_min": do,
            "blocks": blocks, "basis": "+".join(sorted(bases)),
            "source": f"cost {cs}{cost_note}; delays {dus}, {dos}",
        })

    obstacle("at_ditch", "terrain", "at_ditch_cost_per_km_eur", "per_km",
             "delay_at_ditch_unobserved_min", "delay_at_ditch_covered_min")
    obstacle("dragons_teeth", "terrain road", "dragons_teeth_cost_per_km_eur", "per_km",
             "delay_dragons_teeth_unobserved_min", "delay_dragons_teeth_covered_min")
    obstacle("wire", "terrain", "wire_obstacle_cost_per_km_eur", "per_km",
             "delay_wire_unobserved_min", "delay_wire_covered_min")
    obstacle("concrete_blocks", "road", "concrete_block_unit_cost_eur", "per_km",
             "delay_concrete_blocks_unobserved_min", "delay_concrete_blocks_covered_min",
             cost_scale=1000 / 3, cost_note=" x (1000 m / 3 m per block)")
    obstacle("bridge_demolition", "bridge", "bridge_demolition_prep_cost_eur", "per_site",
             "delay_blown_bridge_gt18m_min", "delay_blown_bridge_gt18m_min", blocks=True,
             cost_note="; blocks: gap wider than the 18 m AVLB span (avlb_span_m)")
    # Complex belt: ditch + dragon's teeth + wire on the same line; cost is their sum,
    # the unobserved delay their sum (assumption: additive), the observed delay is sourced.
    parts = ("at_ditch_cost_per_km_eur", "dragons_teeth_cost_per_km_eur",
             "wire_obstacle_cost_per_km_eur")
    unobserved = ("delay_at_ditch_unobserved_min", "delay_dragons_teeth_unobserved_min",
                  "delay_wire_unobserved_min")
    observed, ob, os_ = p("delay_complex_belt_covered_min")
    obstacles.append({
        "type": "complex_belt", "applies_to": "terrain road",
        "cost_eur": sum(p(n)[0] for n in parts), "cost_unit": "per_km",
        "delay_unobserved_min": sum(p(n)[0] for n in unobserved),
        "delay_observed_min": observed, "basis": f"derived+assumption+{ob}",
        "source": f"cost = sum of {', '.join(parts)}; unobserved delay = sum of "
                  f"{', '.join(unobserved)} (assumption: additive); observed {os_}",
    })
    pd.DataFrame(obstacles).to_csv(OUT / "obstacle_types.csv", index=False)

    sensors = []

    def sensor(kind, cost_name, range_name, range_scale, detection, det_note):
        cost, cb, cs = p(cost_name)
        rng, rb, rs = p(range_name)
        sensors.append({
            "type": kind, "cost_eur": cost, "range_km": round(rng * range_scale, 3),
            "detection_prob": detection, "basis": f"{cb}+{rb}+assumption",
            "source": f"cost {cs}; range {rs}; detection_prob per covered edge: {det_note}",
        })

    sensor("surveillance_tower", "tower_ast_unit_cost_eur", "tower_ift_range_km", 1.0, 0.5,
           "assumption (no public figure)")
    sensor("ground_radar", "gsr_long_unit_cost_eur", "gsr_long_tracked_vehicle_range_km", 1.0,
           0.5, "assumption (no public figure)")
    sensor("eoir_camera", "eoir_cooled_unit_cost_eur", "eoir_cooled_person_range_km", 1.0, 0.4,
           "assumption (no public figure)")
    sensor("bunker", "bunker_unit_cost_eur", "tower_ast_human_range_km", 1.0, 0.3,
           "assumption; a manned position observes about as far as a tower sees a person")
    pd.DataFrame(sensors).to_csv(OUT / "sensor_types.csv", index=False)

    speeds = []

    def speed(cls, tracked_name, wheeled_name):
        t, tb, ts = p(tracked_name)
        w, wb, ws = p(wheeled_name)
        speeds.append({"class": cls, "tracked_kmh": t, "wheeled_kmh": w,
                       "basis": "+".join(sorted({tb, wb})), "source": f"{ts}; {ws}"})

    speed("road_major", "speed_tracked_paved_kmh", "speed_wheeled_paved_kmh")
    speed("road_minor", "speed_tracked_unpaved_kmh", "speed_wheeled_unpaved_kmh")
    speed("open", "speed_tracked_open_dry_kmh", "speed_wheeled_open_dry_kmh")
    speed("open_wet", "speed_tracked_open_wet_kmh", "speed_wheeled_open_wet_kmh")
    speed("forest", "speed_tracked_forest_kmh", "speed_wheeled_forest_kmh")
    speed("wetland", "speed_any_bog_unfrozen_kmh", "speed_any_bog_unfrozen_kmh")
    speed("water", "speed_any_lake_river_kmh", "speed_any_lake_river_kmh")
    # Default mixed class per country: time-weighted (harmonic) mean of forest and open
    # over the forest share; wetland is routed around (unfrozen bog is impassable).
    open_t = speeds[2]["tracked_kmh"]
    open_w = speeds[2]["wheeled_kmh"]
    forest_t = speeds[4]["tracked_kmh"]
    forest_w = speeds[4]["wheeled_kmh"]
    shares = {c: p(f"forest_share_{c}") for c in ("EE", "LV", "LT")}
    mean_share = sum(v[0] for v in shares.values()) / len(shares)
    for cls, (share, src) in {**{f"mixed_{c}": (v[0], v[2]) for c, v in shares.items()},
                              "mixed": (mean_share, "mean of forest_share_EE/LV/LT")}.items():
        speeds.append({
            "class": cls,
            "tracked_kmh": round(1 / (share / forest_t + (1 - share) / open_t), 3),
            "wheeled_kmh": round(1 / (share / forest_w + (1 - share) / open_w), 3),
            "basis": "derived+assumption",
            "source": f"harmonic mean of forest and open speeds at forest share {share:.3f} ({src})",
        })
    pd.DataFrame(speeds).to_csv(OUT / "terrain_speeds.csv", index=False)


def main(shared: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    clip = box(*BBOX)
    countries = gpd.read_file(shared / "boundaries.gpkg", layer="countries")
    countries = countries[["iso_a2", "name", "geometry"]].rename(columns={"iso_a2": "country"})
    countries = gpd.clip(countries, clip).explode(index_parts=False).dissolve("country",
                                                                                as_index=False)
    countries.to_file(OUT / "boundaries.gpkg", layer="countries", driver="GPKG")

    lakes = pd.concat([gpd.read_file(shared / "lakes.gpkg", layer=name)[["name", "geometry"]]
                       for name in ("lakes_ne10m", "lakes_ne10m_europe")], ignore_index=True)
    lakes = gpd.clip(gpd.GeoDataFrame(lakes, crs="EPSG:4326"), clip)
    lakes.to_file(OUT / "hydro.gpkg", layer="lakes", driver="GPKG")
    rivers = gpd.read_file(shared / "rivers.gpkg", layer="rivers_ne10m")[["name", "geometry"]]
    gpd.clip(rivers, clip).to_file(OUT / "hydro.gpkg", layer="major_rivers", driver="GPKG")

    places = gpd.read_file(shared / "places.gpkg", layer="geonames_cities1000")
    places = places.rename(columns={"countrycode": "country"})[
        ["geonameid", "name", "country", "population", "geometry"]]
    places.to_file(OUT / "places.gpkg", layer="settlements", driver="GPKG")

    shutil.copyfile(shared / "border_crossings.csv", OUT / "border_crossings.csv")
    (OUT / "parameters").mkdir(exist_ok=True)
    tables = {}
    for csv in sorted((shared / "parameters").glob("*.csv")):
        shutil.copyfile(csv, OUT / "parameters" / csv.name)
        tables[f"parameters/{csv.name}"] = pd.read_csv(csv)
    _catalogues(tables)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "baltic")
