"""Cross-checks of a scenario and its inputs; every problem collected, reported once."""

from __future__ import annotations

import shapely

from optimizer.config import ScenarioConfig
from optimizer.errors import InputError, Problems
from optimizer.graph import axis_places
from optimizer.inputs import Inputs, load_inputs
from optimizer.solve import schedule_problems


def check_config(config: ScenarioConfig) -> Problems:
    """Problems visible from the configuration alone."""
    problems = Problems()
    g = config.graph
    for holder in sorted(set(config.budgets) - set(g.defended)):
        problems.add(f"budgets: holder '{holder}'",
                     f"unknown budget holder; defended countries are {g.defended}",
                     "use a country code listed in graph.defended")
    overlap = sorted(set(g.defended) & set(g.hostile))
    if overlap:
        problems.add("graph.defended/hostile", f"{overlap} listed as both", "list each country once")
    ids = [a.id for a in config.axes]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.add(f"axes: id '{dup}'", "duplicate axis id", "give every axis a unique id")
    if not config.axes:
        problems.add("axes", "no threat axes", "add at least one [[axes]] table")
    problems.extend(schedule_problems(set(config.budgets), config.schedule.years,
                                      config.schedule.annual, where="schedule.annual"))
    return problems


def check_scenario(config: ScenarioConfig, inputs: Inputs) -> Problems:
    """Problems that need both the configuration and the loaded inputs."""
    problems = Problems()
    g = config.graph
    obstacle_types = set(inputs.obstacle_types["type"])
    applies = dict(zip(inputs.obstacle_types["type"], inputs.obstacle_types["applies_to"],
                       strict=True))
    cand = config.candidates
    for key, kind in (("terrain_types", "terrain"), ("road_types", "road"),
                      ("bridge_types", "bridge")):
        for name in getattr(cand, key):
            if name not in obstacle_types:
                problems.add(f"candidates.{key}: '{name}'", "not in obstacle_types",
                             f"use one of {sorted(obstacle_types)}")
            elif kind not in str(applies[name]).split():
                problems.add(f"candidates.{key}: '{name}'",
                             f"obstacle type applies to '{applies[name]}', not '{kind}'",
                             "choose a type whose applies_to lists this site kind")
    sensor_types = set(inputs.sensor_types["type"])
    for name in cand.sensor_types:
        if name not in sensor_types:
            problems.add(f"candidates.sensor_types: '{name}'", "not in sensor_types",
                         f"use one of {sorted(sensor_types)}")
    for name in sorted(set(cand.max_per_type) - obstacle_types - sensor_types):
        problems.add(f"candidates.max_per_type: '{name}'", "unknown obstacle or sensor type",
                     "use a type from the catalogues")
    countries = inputs.countries
    for _, role, _, where, lon, lat in axis_places(config, inputs, problems):
        allowed = g.hostile if role == "origin" else g.defended
        inside = [c for c, geom in zip(countries["country"], countries.geometry, strict=True)
                  if shapely.contains_xy(geom, lon, lat)]
        if not inside or inside[0] not in allowed:
            where_is = inside[0] if inside else "no country"
            side = "hostile" if role == "origin" else "defended"
            problems.add(where, f"lies in {where_is}, not in {allowed}",
                         f"an {role} must lie in graph.{side}")
    return problems


def validate(config: ScenarioConfig) -> Inputs:
    """Load every input and cross-check; raise :class:`InputError` listing every problem."""
    problems = check_config(config)
    try:
        inputs = load_inputs(config)
    except InputError as error:
        raise InputError(problems.items + error.problems) from None
    problems.extend(check_scenario(config, inputs))
    problems.raise_if_any()
    return inputs
