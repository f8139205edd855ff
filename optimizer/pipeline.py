"""The main job as values: config -> validated inputs -> graph -> candidates -> plan."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx

from optimizer.cache import cached_graph, graph_key
from optimizer.candidates import Candidates, build_candidates
from optimizer.config import ScenarioConfig, load_config
from optimizer.inputs import Inputs, read_problem
from optimizer.plan import Plan
from optimizer.problem import Problem
from optimizer.solve import solve_problem
from optimizer.solvers import SolverSettings
from optimizer.validate import validate


@dataclass(frozen=True)
class Prepared:
    """Everything a solve needs, reusable across scenarios that share the graph."""

    config: ScenarioConfig | None
    inputs: Inputs | None
    graph: nx.DiGraph | None
    problem: Problem
    sites: gpd.GeoDataFrame | None
    graph_from_cache: bool
    timings_s: dict[str, float] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Run:
    """A finished run: the plan and what it was made from."""

    prepared: Prepared
    plan: Plan
    timings_s: dict[str, float]


def prepare(config: ScenarioConfig | Path | str, *, use_cache: bool = True,
            graphs: dict | None = None) -> Prepared:
    """Validate inputs, build (or reload) the graph and generate candidate sites.

    ``graphs`` (a dict) keeps built graphs in memory for scenarios that share them.

    Examples
    --------
    >>> from optimizer import default_config_path, prepare
    >>> prepared = prepare(default_config_path())
    >>> prepared.graph.graph["cell_km"]
    5.0
    """
    if not isinstance(config, ScenarioConfig):
        config = load_config(config)
    timings = {}
    t = time.perf_counter()
    inputs = validate(config)
    timings["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    key = graph_key(config, inputs)
    if graphs is not None and key in graphs:
        graph, from_cache = graphs[key], True  # shared in memory between scenarios
    else:
        graph, from_cache = cached_graph(config, inputs, use_cache=use_cache)
        if graphs is not None:
            graphs[key] = graph
    timings["graph"] = time.perf_counter() - t
    t = time.perf_counter()
    candidates: Candidates = build_candidates(config, graph, inputs)
    timings["candidates"] = time.perf_counter() - t
    return Prepared(config=config, inputs=inputs, graph=graph, problem=candidates.problem,
                    sites=candidates.sites, graph_from_cache=from_cache,
                    timings_s={k: round(v, 3) for k, v in timings.items()},
                    source=str(config.name))


def prepare_problem(path: Path | str) -> Prepared:
    """Read a plain-format problem (folder of CSV files or GeoPackage)."""
    t = time.perf_counter()
    problem = read_problem(path)
    return Prepared(config=None, inputs=None, graph=None, problem=problem, sites=None,
                    graph_from_cache=False,
                    timings_s={"read_problem": round(time.perf_counter() - t, 3)},
                    source=str(path))


def solve_options(config: ScenarioConfig | None, **overrides) -> dict:
    """Keyword arguments of :func:`optimizer.solve.solve_problem` for a scenario's [solve]
    and [schedule] tables; ``overrides`` that are not None win."""
    cfg = config.solve if config is not None else None
    schedule = config.schedule if config is not None else None
    options = dict(
        objective_weights=cfg.objective_weights() if cfg else {"blocked": 1.0},
        mode=cfg.mode if cfg else "joint",
        settings=SolverSettings(name=cfg.solver, time_limit_s=cfg.time_limit_s,
                                gap_rel=cfg.gap_rel, threads=cfg.threads, seed=cfg.seed)
        if cfg else SolverSettings(),
        max_rounds=cfg.max_rounds if cfg else 500,
        routes_per_round=cfg.routes_per_round if cfg else 8,
        prefer_cheaper=cfg.prefer_cheaper if cfg else True,
        years=schedule.years if schedule else 1,
        annual_budgets=(schedule.annual or None) if schedule else None,
        carry_over=schedule.carry_over if schedule else False,
    )
    options.update({k: v for k, v in overrides.items() if v is not None})
    return options


def solve_prepared(prepared: Prepared, *, objective_weights: dict[str, float] | None = None,
                   mode: str | None = None, settings: SolverSettings | None = None,
                   max_rounds: int | None = None, routes_per_round: int | None = None,
                   prefer_cheaper: bool | None = None, years: int | None = None) -> Run:
    """Solve a prepared scenario; unset options come from its configuration's [solve] table."""
    options = solve_options(prepared.config, objective_weights=objective_weights, mode=mode,
                            settings=settings, max_rounds=max_rounds,
                            routes_per_round=routes_per_round, prefer_cheaper=prefer_cheaper,
                            years=years)
    t = time.perf_counter()
    plan = solve_problem(prepared.problem, **options)
    timings = dict(prepared.timings_s)
    timings["solve_and_verify"] = round(time.perf_counter() - t, 3)
    return Run(prepared=prepared, plan=plan, timings_s=timings)


def run(config: ScenarioConfig | Path | str, **options) -> Run:
    """Prepare and solve a scenario file in one call (options as :func:`solve_prepared`).

    Examples
    --------
    >>> from optimizer import default_config_path, run
    >>> result = run(default_config_path())
    >>> result.plan.report.status
    'optimal'
    >>> bool(result.plan.axes["verified"].all())
    True
    """
    use_cache = options.pop("use_cache", True)
    return solve_prepared(prepare(config, use_cache=use_cache), **options)
