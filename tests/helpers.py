"""Seeded tiny instances and an independent brute-force oracle (plain NetworkX only)."""

from __future__ import annotations

import itertools
import math
import random

import networkx as nx
import pandas as pd

from optimizer.problem import Problem


def random_problem(seed: int, *, rows: int = 2, cols: int = 3, n_sites: int = 4,
                   n_sensors: int = 2, n_axes: int = 2, finite_threshold: bool = True) -> Problem:
    """A small grid (source s, sink t) with random sites, sensors, axes and two budget holders."""
    rng = random.Random(seed)
    graph = nx.DiGraph()

    def add(u, v):
        graph.add_edge(u, v, edge_id=f"{u}>{v}", time_min=float(rng.randint(1, 10)),
                       capacity=float(rng.randint(1, 3)), evasion=round(rng.uniform(0.5, 1.0), 3))

    cells = [[f"n{r}_{c}" for c in range(cols)] for r in range(rows)]
    for r in range(rows):
        add("s", cells[r][0])
        add(cells[r][-1], "t")
        for c in range(cols - 1):
            add(cells[r][c], cells[r][c + 1])
    for r in range(rows - 1):
        for c in range(cols):
            add(cells[r][c], cells[r + 1][c])
            add(cells[r + 1][c], cells[r][c])
    inner = [(u, v) for u, v in graph.edges if u != "s" and v != "t"]
    chosen = rng.sample(inner, min(n_sites, len(inner)))
    options, site_edges = [], {}
    for i, (u, v) in enumerate(chosen):
        site = f"o{i}"
        edges = [graph.edges[u, v]["edge_id"]]
        if graph.has_edge(v, u) and rng.random() < 0.5:
            edges.append(graph.edges[v, u]["edge_id"])
        site_edges[site] = tuple(edges)
        country = rng.choice(["A", "B"])
        kinds = rng.sample(["block", "ditch", "teeth"], rng.randint(1, 2))
        for kind in kinds:
            du = float(rng.randint(1, 4))
            options.append({"site_id": site, "type": kind, "cost": float(rng.randint(1, 5)),
                            "delay_unobserved_min": 0.0 if kind == "block" else du,
                            "delay_observed_min": 0.0 if kind == "block" else du + rng.randint(2, 10),
                            "blocks": kind == "block", "country": country})
    sensors, sensor_edges = [], {}
    all_edges = [d["edge_id"] for _, _, d in graph.edges(data=True)]
    for j in range(n_sensors):
        site = f"S{j}"
        country = rng.choice(["A", "B"])
        for kind in rng.sample(["radar", "tower"], rng.randint(1, 2)):
            sensors.append({"site_id": site, "type": kind, "cost": float(rng.randint(1, 4)),
                            "detection_prob": round(rng.uniform(0.2, 0.8), 3),
                            "country": country})
            sensor_edges[(site, kind)] = tuple(rng.sample(all_edges, rng.randint(3, 10)))
    axes = []
    targets = ["t"] + [cells[-1][-1]]
    for a in range(n_axes):
        target = targets[a % len(targets)]
        base = nx.shortest_path_length(graph, "s", target, weight="time_min")
        threshold = base + rng.randint(3, 10) if finite_threshold else math.inf
        axes.append({"axis_id": f"a{a}", "origin": "s", "objective": target,
                     "weight": float(rng.randint(1, 4)), "threshold_min": float(threshold),
                     "country": rng.choice(["A", "B"])})
    return Problem(graph=graph, obstacle_options=pd.DataFrame(options),
                   obstacle_edges=site_edges,
                   sensor_options=pd.DataFrame(sensors, columns=["site_id", "type", "cost",
                                                                  "detection_prob", "country"]),
                   sensor_edges=sensor_edges, axes=pd.DataFrame(axes),
                   budgets={"A": float(rng.randint(2, 8)), "B": float(rng.randint(2, 8))},
                   blocked_time_min=600.0)


def plans(problem: Problem):
    """Every plan: for each site no option or one option (respecting fixed / excluded)."""
    oo, so = problem.obstacle_options, problem.sensor_options
    o_sites = sorted(set(oo["site_id"]) - problem.excluded)
    s_sites = sorted(set(so["site_id"]) - problem.excluded)
    o_choices = [([None] if s not in problem.fixed else [])
                 + list(oo.loc[oo["site_id"] == s, "type"]) for s in o_sites]
    s_choices = [([None] if s not in problem.fixed else [])
                 + list(so.loc[so["site_id"] == s, "type"]) for s in s_sites]
    for o_pick in itertools.product(*o_choices):
        for s_pick in itertools.product(*s_choices):
            yield ({s: t for s, t in zip(o_sites, o_pick, strict=True) if t is not None},
                   {(s, t) for s, t in zip(s_sites, s_pick, strict=True) if t is not None})


def spend_by_holder(problem: Problem, obstacles: dict, sensors: set) -> dict[str, float]:
    cost = {(r.site_id, r.type): (r.cost, r.country) for r in problem.obstacle_options.itertuples()}
    cost |= {(r.site_id, r.type): (r.cost, r.country) for r in problem.sensor_options.itertuples()}
    out: dict[str, float] = {}
    for key in list(obstacles.items()) + list(sensors):
        if key[0] in problem.fixed:
            continue
        c, country = cost[key]
        out[country] = out.get(country, 0.0) + c
    return out


def feasible(problem: Problem, obstacles: dict, sensors: set, mode: str) -> bool:
    spend = spend_by_holder(problem, obstacles, sensors)
    if any(c not in problem.budgets for c in spend):
        return False
    if mode == "pooled":
        return sum(spend.values()) <= sum(problem.budgets.values()) + 1e-9
    return all(spend.get(h, 0.0) <= b + 1e-9 for h, b in problem.budgets.items())


def evaluate(problem: Problem, obstacles: dict, sensors: set) -> dict[str, float]:
    """Every objective family's value for a plan, computed from the definitions with NetworkX."""
    oo = problem.obstacle_options.set_index(["site_id", "type"])
    so = problem.sensor_options.set_index(["site_id", "type"])
    watched: dict[str, list[float]] = {}
    for key in sensors:
        for e in problem.sensor_edges.get(key, ()):
            watched.setdefault(e, []).append(float(so.at[key, "detection_prob"]))
    observed = {s for s, edges in problem.obstacle_edges.items() if any(e in watched for e in edges)}
    delay: dict[str, float] = {}
    blocked: set[str] = set()
    for site, kind in obstacles.items():
        row = oo.loc[(site, kind)]
        for e in problem.obstacle_edges[site]:
            if row["blocks"]:
                blocked.add(e)
            else:
                d = row["delay_observed_min"] if site in observed else row["delay_unobserved_min"]
                delay[e] = delay.get(e, 0.0) + d
    g = nx.DiGraph()
    g.add_nodes_from(problem.graph.nodes)
    for u, v, d in problem.graph.edges(data=True):
        e = d["edge_id"]
        if e in blocked:
            continue
        evasion = d["evasion"] * math.prod(1 - p for p in watched.get(e, []))
        g.add_edge(u, v, time=d["time_min"] + delay.get(e, 0.0), neglog=-math.log(evasion),
                   capacity=d["capacity"])
    values = {"blocked": 0.0, "delay": 0.0, "detection": 0.0, "throughput": 0.0}
    cap_h = problem.blocked_time_min / 60
    for axis in problem.axes.itertuples():
        reachable = nx.has_path(g, axis.origin, axis.objective)
        t = nx.shortest_path_length(g, axis.origin, axis.objective, weight="time") \
            if reachable else math.inf
        ev = math.exp(-nx.shortest_path_length(g, axis.origin, axis.objective, weight="neglog")) \
            if reachable else 0.0
        flow = nx.maximum_flow_value(g, axis.origin, axis.objective) if reachable else 0.0
        values["blocked"] += axis.weight * (t >= axis.threshold_min)
        values["delay"] += axis.weight * min(t / 60, cap_h)
        values["detection"] += axis.weight * ev
        values["throughput"] += axis.weight * flow
    return values


SENSE = {"blocked": 1, "delay": 1, "detection": -1, "throughput": -1}


def brute_force(problem: Problem, objective: str, mode: str = "joint"):
    """(best value, cheapest spend among optimal plans) by enumeration."""
    best, best_spend = None, None
    for obstacles, sensors in plans(problem):
        if not feasible(problem, obstacles, sensors, mode):
            continue
        value = SENSE[objective] * evaluate(problem, obstacles, sensors)[objective]
        spend = sum(spend_by_holder(problem, obstacles, sensors).values())
        if best is None or value > best + 1e-9:
            best, best_spend = value, spend
        elif abs(value - best) <= 1e-9 and spend < best_spend:
            best_spend = spend
    return SENSE[objective] * best, best_spend


def write_tables(folder, tables) -> None:
    """Write problem tables as the problem-format folder's CSV files."""
    for name, table in tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
