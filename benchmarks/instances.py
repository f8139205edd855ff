"""Benchmark instances as plain Problems: SNIP (Pan & Morton) and Israeli-Wood grids."""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

import networkx as nx
import pandas as pd

from optimizer.problem import Problem

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks"
SNIP_FILES = ("intd_arc0.txt", "arcgain0.txt", "Scenarios.txt")


class _Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """A script's docstring as written, and every option with its default."""


def benchmark_parser(doc: str | None) -> argparse.ArgumentParser:
    """The argument parser of every benchmark script: ``--help`` prints the script's
    docstring (what it measures and how to run it) and each option's default."""
    return argparse.ArgumentParser(description=doc, formatter_class=_Help)


CELL_SIZES = ["10", "7.5", "5", "4", "3"]  # km, the Baltic benchmarks' default sizes


def cell_sizes(parser: argparse.ArgumentParser, texts: list[str]) -> list[float]:
    """Cell sizes in km from the command line; every one that is not a positive number is
    named in one error."""
    sizes, wrong = [], []
    for text in texts:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if value > 0 and math.isfinite(value):
            sizes.append(value)
        else:
            wrong.append(f"'{text}'")
    if wrong:
        parser.error(f"not a cell size: {', '.join(wrong)}; give positive km, e.g. 5 7.5")
    return sizes


def missing_snip_files(folder: Path = SHARED / "snip") -> str | None:
    """Why SNIP instance 0 cannot be read from ``folder`` (None when it can)."""
    missing = [name for name in SNIP_FILES if not (folder / name).is_file()]
    if not missing:
        return None
    return (f"SNIP instance 0 not found: {', '.join(missing)} missing in {folder} (the "
            "shared benchmarks folder, ../shared/benchmarks/snip beside the project)")


def snip_problem(budget: int, *, folder: Path = SHARED / "snip", factor: float = 0.1) -> Problem:
    """SNIP instance 0: a sensor on an interdictable arc multiplies its evasion r by ``factor``."""
    intd = [line.split() for line in (folder / "intd_arc0.txt").read_text().splitlines()
            if line.strip()]
    gain = [line.split() for line in (folder / "arcgain0.txt").read_text().splitlines()
            if line.strip()]
    raw = (folder / "Scenarios.txt").read_text().split()  # CR line ends: split on any space
    graph = nx.DiGraph()
    for row in intd + gain:
        u, v, r = row[0], row[1], float(row[2])
        graph.add_edge(u, v, edge_id=f"{u}>{v}", time_min=1.0, capacity=1.0, evasion=r)
    sensors = pd.DataFrame([{"site_id": f"s{u}>{v}", "type": "sensor", "cost": 1.0,
                             "detection_prob": 1.0 - factor, "country": "X"}
                            for u, v, *_ in intd])
    sensor_edges = {(f"s{u}>{v}", "sensor"): (f"{u}>{v}",) for u, v, *_ in intd}
    axes = pd.DataFrame([{"axis_id": f"{raw[i]}-{raw[i + 1]}", "origin": raw[i],
                          "objective": raw[i + 1], "weight": float(raw[i + 2]),
                          "threshold_min": math.inf, "country": "X"}
                         for i in range(0, len(raw), 3)])
    empty = pd.DataFrame(columns=["site_id", "type", "cost", "delay_unobserved_min",
                                  "delay_observed_min", "blocks", "country"])
    return Problem(graph=graph, obstacle_options=empty, obstacle_edges={},
                   sensor_options=sensors, sensor_edges=sensor_edges, axes=axes,
                   budgets={"X": float(budget)})


def grid_problem(rows: int, cols: int, budget: int, seed: int) -> Problem:
    """Israeli-Wood grid: s -> first column, last column -> t, forward horizontal arcs,
    vertical arcs both ways (also in the first and last columns, which no shortest route
    uses: the s and t arcs cost 0); length c ~ U{1..10}, interdiction delay d ~ U{1..100},
    unit cost, budget R. The s and t arcs have length 0 and cannot be interdicted."""
    rng = random.Random(seed)
    graph = nx.DiGraph()
    options, site_edges = [], {}

    def arc(u, v, interdictable):
        eid = f"{u}>{v}"
        c = rng.randint(1, 10) if interdictable else 0
        graph.add_edge(u, v, edge_id=eid, time_min=float(c), capacity=1.0, evasion=1.0)
        if interdictable:
            d = rng.randint(1, 100)
            site_edges[f"x{eid}"] = (eid,)
            options.append({"site_id": f"x{eid}", "type": "delay", "cost": 1.0,
                            "delay_unobserved_min": float(d), "delay_observed_min": float(d),
                            "blocks": False, "country": "X"})

    cell = lambda r, c: f"{r}_{c}"  # noqa: E731
    for r in range(rows):
        arc("s", cell(r, 0), False)
        arc(cell(r, cols - 1), "t", False)
        for c in range(cols - 1):
            arc(cell(r, c), cell(r, c + 1), True)
    for c in range(cols):
        for r in range(rows - 1):
            arc(cell(r, c), cell(r + 1, c), True)
            arc(cell(r + 1, c), cell(r, c), True)
    axes = pd.DataFrame([{"axis_id": "s-t", "origin": "s", "objective": "t", "weight": 1.0,
                          "threshold_min": math.inf, "country": "X"}])
    sensors = pd.DataFrame(columns=["site_id", "type", "cost", "detection_prob", "country"])
    return Problem(graph=graph, obstacle_options=pd.DataFrame(options), obstacle_edges=site_edges,
                   sensor_options=sensors, sensor_edges={}, axes=axes,
                   budgets={"X": float(budget)}, blocked_time_min=1e9)
