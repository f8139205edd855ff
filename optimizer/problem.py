"""The plain planning problem: tables keyed by the user's ids, no geometry.

This is the contract between the geography side (graph, candidates) and the
models. The same tables are the plain problem format read from a folder of
CSV files (see README, "Problem format").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from optimizer.errors import Problems

INF = math.inf


@dataclass(frozen=True)
class Problem:
    """A network interdiction instance.

    Attributes
    ----------
    graph
        Directed graph; each edge has ``edge_id``, ``time_min``, ``capacity`` and
        ``evasion`` (probability of traversing it undetected with no sensor).
    obstacle_options
        One row per (``site_id``, ``type``): ``cost``, ``delay_unobserved_min``,
        ``delay_observed_min``, ``blocks``, ``country``.
    obstacle_edges
        ``site_id`` -> edge ids the obstacle acts on.
    sensor_options
        One row per (``site_id``, ``type``): ``cost``, ``detection_prob``, ``country``.
    sensor_edges
        (``site_id``, ``type``) -> edge ids the sensor watches; it observes every
        obstacle site with at least one watched edge.
    axes
        ``axis_id``, ``origin``, ``objective``, ``weight``, ``threshold_min``
        (``inf`` = physically cut), ``country`` (of the objective).
    budgets
        Holder (country) -> budget in EUR.
    fixed, excluded
        Site ids already built / never to be used.
    max_per_type
        Type -> largest number of sites of that type.
    """

    graph: nx.DiGraph
    obstacle_options: pd.DataFrame
    obstacle_edges: dict[str, tuple[str, ...]]
    sensor_options: pd.DataFrame
    sensor_edges: dict[tuple[str, str], tuple[str, ...]]
    axes: pd.DataFrame
    budgets: dict[str, float]
    fixed: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    max_per_type: dict[str, int] = field(default_factory=dict)
    blocked_time_min: float = 240.0 * 60
    notes: tuple[str, ...] = ()

    def edge_index(self) -> dict[str, tuple[str, str]]:
        return {d["edge_id"]: (u, v) for u, v, d in self.graph.edges(data=True)}

    def with_budgets(self, budgets: dict[str, float]) -> Problem:
        from dataclasses import replace

        return replace(self, budgets=dict(budgets))

    def restricted_to(self, holders: set[str]) -> Problem:
        """Only the sites of ``holders`` stay available (others excluded), their budgets only."""
        from dataclasses import replace

        keep_o = self.obstacle_options[self.obstacle_options["country"].isin(holders)]
        keep_s = self.sensor_options[self.sensor_options["country"].isin(holders)]
        return replace(
            self, obstacle_options=keep_o.reset_index(drop=True),
            sensor_options=keep_s.reset_index(drop=True),
            budgets={h: b for h, b in self.budgets.items() if h in holders},
            fixed=frozenset(s for s in self.fixed if s in set(keep_o["site_id"]) | set(keep_s["site_id"])))


def check_problem(problem: Problem, source: str = "problem") -> Problems:
    """Every structural problem of an instance (ids, references, numbers)."""
    problems = Problems()
    graph = problem.graph
    edge_ids = set()
    for u, v, d in graph.edges(data=True):
        eid = d.get("edge_id")
        if eid in edge_ids:
            problems.add(f"{source}: edges, id '{eid}'", "duplicate edge id", "make edge ids unique")
        edge_ids.add(eid)
        t = d.get("time_min")
        if not isinstance(t, (int, float)) or not np.isfinite(t) or t < 0:
            problems.add(f"{source}: edges, id '{eid}', column 'time_min'",
                         f"value {t!r} is not a finite number >= 0", "enter a travel time in minutes")
        ev = d.get("evasion", 1.0)
        if not (0 < ev <= 1):
            problems.add(f"{source}: edges, id '{eid}', column 'evasion'",
                         f"value {ev!r} outside (0, 1]", "enter a probability in (0, 1]")
        cap = d.get("capacity", 1)
        if not (cap >= 0):
            problems.add(f"{source}: edges, id '{eid}', column 'capacity'",
                         f"value {cap!r} is negative", "enter a capacity >= 0")
    oo = problem.obstacle_options
    for site in sorted(set(oo["site_id"]) - set(problem.obstacle_edges)):
        problems.add(f"{source}: obstacle_options, site '{site}'", "site has no edges",
                     "list the site in obstacle_sites with its edge ids")
    for site, edges in problem.obstacle_edges.items():
        missing = [e for e in edges if e not in edge_ids]
        if missing:
            problems.add(f"{source}: obstacle_sites, id '{site}'",
                         f"edge ids {missing[:5]} not in the edges table", "use existing edge ids")
    for (site, kind), edges in problem.sensor_edges.items():
        missing = [e for e in edges if e not in edge_ids]
        if missing:
            problems.add(f"{source}: sensor_coverage, site '{site}' type '{kind}'",
                         f"edge ids {missing[:5]} not in the edges table", "use existing edge ids")
    for table, name in ((oo, "obstacle_options"), (problem.sensor_options, "sensor_options")):
        dup = table[table.duplicated(["site_id", "type"])]
        for row in dup.itertuples():
            problems.add(f"{source}: {name}, site '{row.site_id}' type '{row.type}'",
                         "duplicate option", "list each (site_id, type) once")
        for row in table[~(table["cost"] >= 0)].itertuples():
            problems.add(f"{source}: {name}, site '{row.site_id}' type '{row.type}', column 'cost'",
                         f"value {row.cost!r} is negative or not a number", "enter a cost >= 0")
    for row in oo[~((oo["delay_unobserved_min"] >= 0) & (oo["delay_observed_min"] >= 0))].itertuples():
        problems.add(f"{source}: obstacle_options, site '{row.site_id}' type '{row.type}'",
                     "delays must be numbers >= 0", "enter delays in minutes")
    so = problem.sensor_options
    for row in so[~((so["detection_prob"] >= 0) & (so["detection_prob"] < 1))].itertuples():
        problems.add(f"{source}: sensor_options, site '{row.site_id}' type '{row.type}'",
                     f"detection_prob {row.detection_prob!r} outside [0, 1)",
                     "enter a probability below 1")
    nodes = set(graph.nodes)
    for row in problem.axes.itertuples():
        for role in ("origin", "objective"):
            node = getattr(row, role)
            if node not in nodes:
                problems.add(f"{source}: axes, id '{row.axis_id}', column '{role}'",
                             f"node '{node}' not in the graph", "use a node id from nodes")
        if not (row.weight > 0):
            problems.add(f"{source}: axes, id '{row.axis_id}', column 'weight'",
                         f"value {row.weight!r} must be > 0", "enter a positive weight")
        if not (row.threshold_min > 0):
            problems.add(f"{source}: axes, id '{row.axis_id}', column 'threshold_min'",
                         f"value {row.threshold_min!r} must be > 0 (empty = infinite)",
                         "enter minutes, or leave empty for 'physically cut'")
    dup_axes = problem.axes[problem.axes["axis_id"].duplicated()]
    for row in dup_axes.itertuples():
        problems.add(f"{source}: axes, id '{row.axis_id}'", "duplicate axis id", "make ids unique")
    for holder, budget in problem.budgets.items():
        if not (budget >= 0):
            problems.add(f"{source}: budgets, holder '{holder}'", f"budget {budget!r} is negative",
                         "enter a budget >= 0")
    holders = set(problem.budgets)
    for table, name in ((oo, "obstacle_options"), (so, "sensor_options")):
        for country in sorted(set(table["country"]) - holders):
            problems.add(f"{source}: {name}, country '{country}'",
                         "no budget for this country: its sites can never be chosen",
                         "add the country to budgets, or drop its sites")
    known_sites = set(oo["site_id"]) | set(so["site_id"])
    for site in sorted((problem.fixed | problem.excluded) - known_sites):
        problems.add(f"{source}: site '{site}'", "fixed/excluded site is not a candidate",
                     "use a site id from the site tables")
    for site in sorted(problem.fixed & problem.excluded):
        problems.add(f"{source}: site '{site}'", "both fixed and excluded", "choose one")
    return problems
