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
    for _u, _v, d in graph.edges(data=True):
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
    for row in problem.axes.itertuples():
        if row.origin in nodes and row.objective in nodes and not nx.has_path(
                graph, row.origin, row.objective):
            problems.add(f"{source}: axes, id '{row.axis_id}'",
                         f"objective '{row.objective}' cannot be reached from origin "
                         f"'{row.origin}' even with no obstacles",
                         "connect the network, or drop the axis")
        if row.origin == row.objective:
            problems.add(f"{source}: axes, id '{row.axis_id}'", "origin equals objective",
                         "give different nodes")
    dup_axes = problem.axes[problem.axes["axis_id"].duplicated()]
    for row in dup_axes.itertuples():
        problems.add(f"{source}: axes, id '{row.axis_id}'", "duplicate axis id", "make ids unique")
    for holder, budget in problem.budgets.items():
        if not (budget >= 0):
            problems.add(f"{source}: budgets, holder '{holder}'", f"budget {budget!r} is negative or not a number",
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


TABLES = {
    "nodes": (["node_id"], False),
    "edges": (["source", "target", "time_min"], False),
    "obstacle_sites": (["site_id", "edges", "country"], True),
    "obstacle_options": (["site_id", "type", "cost", "delay_unobserved_min",
                          "delay_observed_min", "blocks"], True),
    "sensor_sites": (["site_id", "country"], True),
    "sensor_options": (["site_id", "type", "cost", "detection_prob"], True),
    "sensor_coverage": (["site_id", "type", "edge_id"], True),
    "axes": (["axis_id", "origin", "objective", "weight"], False),
    "budgets": (["holder", "budget_eur"], False),
}


def _text(column: pd.Series) -> pd.Series:
    """Cells as strings, a missing cell as "" (pandas 3's ``astype(str)`` keeps NaN)."""
    return column.astype(object).where(column.notna(), "").astype(str)


def _filled(table: pd.DataFrame, columns: list[str], layer: str, problems: Problems) -> None:
    """Required text columns as strings; every empty cell named by its data row."""
    for column in columns:
        table[column] = _text(table[column])
        for position in (table[column].str.strip() == "").to_numpy().nonzero()[0]:
            problems.add(f"{layer}, data row {position + 1}, column '{column}'",
                         "value is empty", f"fill in the {column}")


def _num(table: pd.DataFrame, column: str, layer: str, id_col: str, problems: Problems,
         default: float | None = None) -> None:
    if column not in table.columns:
        if default is None:
            return
        table[column] = default
    raw = table[column]
    values = pd.to_numeric(raw, errors="coerce")
    if default is not None:
        values = values.where(raw.notna() & (raw.astype(str).str.strip() != ""), default)
    bad = values.isna() & ~(raw.isna() & (column == "threshold_min"))
    for idx in table.index[bad]:
        problems.add(f"{layer}, column '{column}', id '{table.at[idx, id_col]}'",
                     "value is empty" if pd.isna(raw[idx]) else f"value {raw[idx]!r} is not a number",
                     "enter a number")
    table[column] = values


def problem_from_tables(tables: dict[str, pd.DataFrame], *, source: str = "problem",
                        blocked_time_min: float = 240.0 * 60) -> Problem:
    """Build a :class:`Problem` from the plain tables; raise one error naming every problem.

    Tables (see README, "Problem format"): ``nodes``, ``edges``, ``obstacle_sites``,
    ``obstacle_options``, ``sensor_sites``, ``sensor_options``, ``sensor_coverage``,
    ``axes``, ``budgets``; the sensor tables and obstacle tables are optional.
    """
    problems = Problems()
    frames = {}
    for name, (columns, optional) in TABLES.items():
        table = tables.get(name)
        if table is None:
            if not optional:
                problems.add(f"{source}: {name}", "table is missing",
                             f"provide {name}.csv (or a '{name}' layer) with columns {columns}")
            frames[name] = pd.DataFrame(columns=columns)
            continue
        table = table.copy()
        table.columns = [str(c).strip() for c in table.columns]
        missing = [c for c in columns if c not in table.columns]
        if missing:
            problems.add(f"{source}: {name}", f"missing column(s) {missing}",
                         f"add them; required columns are {columns}")
            frames[name] = pd.DataFrame(columns=columns)
            continue
        if not optional and table.empty and name in ("nodes", "edges", "axes"):
            problems.add(f"{source}: {name}", "table is empty", "add at least one row")
        for column in table.columns:
            if table[column].dtype == object:
                table[column] = table[column].map(lambda v: v.strip() if isinstance(v, str) else v)
        frames[name] = table
    if problems:
        problems.raise_if_any()
    nodes, edges = frames["nodes"], frames["edges"]
    _filled(nodes, ["node_id"], f"{source}: nodes", problems)
    for dup in sorted(nodes.loc[nodes["node_id"].duplicated(), "node_id"].unique()):
        problems.add(f"{source}: nodes, id '{dup}'", "duplicate node id", "make node ids unique")
    _filled(edges, ["source", "target"], f"{source}: edges", problems)
    if "edge_id" in edges.columns:
        _filled(edges, ["edge_id"], f"{source}: edges", problems)
    else:
        edges["edge_id"] = edges["source"] + "->" + edges["target"]
    _num(edges, "time_min", f"{source}: edges", "edge_id", problems)
    _num(edges, "capacity", f"{source}: edges", "edge_id", problems, default=1.0)
    _num(edges, "evasion", f"{source}: edges", "edge_id", problems, default=1.0)
    known_nodes = set(nodes["node_id"])
    for row in edges.itertuples():
        for end in ("source", "target"):
            if getattr(row, end) and getattr(row, end) not in known_nodes:
                problems.add(f"{source}: edges, id '{row.edge_id}', column '{end}'",
                             f"node '{getattr(row, end)}' is not in nodes (dangling edge)",
                             "add the node to nodes, or fix the edge")
        if row.source == row.target:
            problems.add(f"{source}: edges, id '{row.edge_id}'", "edge is a loop",
                         "remove it")
    pairs = edges["source"] + "->" + edges["target"]
    for pair in sorted(pairs[pairs.duplicated()].unique()):
        problems.add(f"{source}: edges, pair '{pair}'", "parallel edges are not supported",
                     "keep one edge per (source, target); merge or split with a node")
    sites, options = frames["obstacle_sites"], frames["obstacle_options"]
    ssites, soptions, coverage = (frames["sensor_sites"], frames["sensor_options"],
                                  frames["sensor_coverage"])
    for table, layer in ((sites, "obstacle_sites"), (ssites, "sensor_sites")):
        _filled(table, ["site_id", "country"], f"{source}: {layer}", problems)
        for dup in sorted(table.loc[table["site_id"].duplicated(), "site_id"].unique()):
            problems.add(f"{source}: {layer}, id '{dup}'", "duplicate site id",
                         "make site ids unique")
    for table, layer in ((options, "obstacle_options"), (soptions, "sensor_options")):
        _filled(table, ["site_id", "type"], f"{source}: {layer}", problems)
        _num(table, "cost", f"{source}: {layer}", "site_id", problems)
    for column in ("delay_unobserved_min", "delay_observed_min"):
        _num(options, column, f"{source}: obstacle_options", "site_id", problems)
    _num(soptions, "detection_prob", f"{source}: sensor_options", "site_id", problems)
    options["blocks"] = options["blocks"].astype(str).str.strip().str.lower().isin(
        ["true", "1", "yes", "1.0"])
    _filled(sites, ["edges"], f"{source}: obstacle_sites", problems)
    _filled(coverage, ["site_id", "type", "edge_id"], f"{source}: sensor_coverage", problems)
    site_country = dict(zip(sites["site_id"], sites["country"], strict=True))
    ssite_country = dict(zip(ssites["site_id"], ssites["country"], strict=True))
    for table, lookup, layer in ((options, site_country, "obstacle_options"),
                                 (soptions, ssite_country, "sensor_options")):
        for site in sorted(set(table["site_id"]) - set(lookup)):
            problems.add(f"{source}: {layer}, site '{site}'", "site is not in the sites table",
                         "add the site (with its country) to the sites table")
        table["country"] = table["site_id"].map(lookup)
    axes, budgets = frames["axes"], frames["budgets"]
    _filled(axes, ["axis_id", "origin", "objective"], f"{source}: axes", problems)
    _num(axes, "weight", f"{source}: axes", "axis_id", problems)
    if "threshold_min" not in axes.columns:
        axes["threshold_min"] = INF
    raw = axes["threshold_min"]
    empty = raw.isna() | (raw.astype(str).str.strip().isin(["", "inf", "nan"]))
    values = pd.to_numeric(raw.where(~empty, INF), errors="coerce")
    for idx in axes.index[values.isna()]:
        problems.add(f"{source}: axes, column 'threshold_min', id '{axes.at[idx, 'axis_id']}'",
                     f"value {raw[idx]!r} is not a number", "enter minutes or leave empty")
    axes["threshold_min"] = values
    if "country" not in axes.columns:
        axes["country"] = ""
    axes["country"] = _text(axes["country"])
    _filled(budgets, ["holder"], f"{source}: budgets", problems)
    _num(budgets, "budget_eur", f"{source}: budgets", "holder", problems)
    for dup in sorted(budgets.loc[budgets["holder"].duplicated(), "holder"].unique()):
        problems.add(f"{source}: budgets, holder '{dup}'", "duplicate holder",
                     "list each holder once")
    if problems:
        problems.raise_if_any()
    graph = nx.DiGraph()
    for node in nodes["node_id"]:
        graph.add_node(node)
    for row in edges.itertuples():
        graph.add_edge(row.source, row.target, edge_id=row.edge_id, time_min=float(row.time_min),
                       capacity=float(row.capacity), evasion=float(row.evasion))
    obstacle_edges = {row.site_id: tuple(row.edges.split()) for row in sites.itertuples()}
    sensor_edges: dict[tuple[str, str], list[str]] = {}
    for row in coverage.itertuples():
        sensor_edges.setdefault((row.site_id, row.type), []).append(row.edge_id)
    status = {}
    for table in (sites, ssites):
        if "status" in table.columns:
            status.update(zip(table["site_id"], table["status"].fillna("").astype(str).str.lower(),
                              strict=True))
    bad_status = sorted({s for s in status.values() if s not in ("", "fixed", "excluded")})
    if bad_status:
        problems.add(f"{source}: sites, column 'status'", f"unknown values {bad_status}",
                     "use 'fixed', 'excluded' or leave empty")
        problems.raise_if_any()
    problem = Problem(
        graph=graph,
        obstacle_options=options[["site_id", "type", "cost", "delay_unobserved_min",
                                  "delay_observed_min", "blocks", "country"]].reset_index(drop=True),
        obstacle_edges=obstacle_edges,
        sensor_options=soptions[["site_id", "type", "cost", "detection_prob",
                                 "country"]].reset_index(drop=True),
        sensor_edges={k: tuple(v) for k, v in sensor_edges.items()},
        axes=axes[["axis_id", "origin", "objective", "weight", "threshold_min",
                   "country"]].reset_index(drop=True),
        budgets=dict(zip(budgets["holder"], budgets["budget_eur"].astype(float), strict=True)),
        fixed=frozenset(s for s, v in status.items() if v == "fixed"),
        excluded=frozenset(s for s, v in status.items() if v == "excluded"),
        blocked_time_min=blocked_time_min,
    )
    check_problem(problem, source).raise_if_any()
    return problem


def problem_to_tables(problem: Problem) -> dict[str, pd.DataFrame]:
    """The exact inverse of :func:`problem_from_tables` (for writing the plain format)."""
    graph = problem.graph
    nodes = pd.DataFrame({"node_id": list(graph.nodes)})
    edges = pd.DataFrame([{"edge_id": d["edge_id"], "source": u, "target": v,
                           "time_min": d["time_min"], "capacity": d.get("capacity", 1),
                           "evasion": d.get("evasion", 1.0)} for u, v, d in graph.edges(data=True)])
    status = lambda s: "fixed" if s in problem.fixed else ("excluded" if s in problem.excluded else "")  # noqa: E731
    oo = problem.obstacle_options
    sites = oo.drop_duplicates("site_id")[["site_id", "country"]].copy()
    sites["edges"] = sites["site_id"].map(lambda s: " ".join(problem.obstacle_edges[s]))
    sites["status"] = sites["site_id"].map(status)
    so = problem.sensor_options
    ssites = so.drop_duplicates("site_id")[["site_id", "country"]].copy()
    ssites["status"] = ssites["site_id"].map(status)
    coverage = pd.DataFrame([{"site_id": s, "type": t, "edge_id": e}
                             for (s, t), es in problem.sensor_edges.items() for e in es],
                            columns=["site_id", "type", "edge_id"])
    axes = problem.axes.copy()
    axes["threshold_min"] = axes["threshold_min"].map(lambda v: "" if math.isinf(v) else v)
    budgets = pd.DataFrame({"holder": list(problem.budgets),
                            "budget_eur": list(problem.budgets.values())})
    return {"nodes": nodes, "edges": edges, "obstacle_sites": sites[["site_id", "edges", "country",
                                                                     "status"]],
            "obstacle_options": oo.drop(columns="country"), "sensor_sites": ssites,
            "sensor_options": so.drop(columns="country"), "sensor_coverage": coverage,
            "axes": axes, "budgets": budgets}
