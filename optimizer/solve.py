"""The decomposition loop, planning modes and independent verification of every plan.

Loop (covering decomposition / outer approximation, one master for all objectives):

1. seed each family with routes or cuts for the plan of fixed sites only;
2. families that can separate fractional plans (blocked, delay, detection) first tighten the
   master's LP relaxation with a cheap cutting loop of LP solves;
3. solve the master (an upper bound on the true objective: it knows only some routes);
4. apply the master's plan, and every improving plan the solver met on the way, on the
   graph and evaluate every family exactly (the oracle): a lower bound; keep the best plan;
5. stop when bound - best <= gap_rel * |best| (proven optimal), else add the routes
   and cuts those plans violate and go to 3; a time or round limit stops with the gap;
6. a delay solve stopped unproven spends the rest of its time (it keeps 20 % of its limit
   for this) on masters restricted to the options near the attacker's fastest routes under
   its best plan (a neighbourhood search; it improves the plan, never the bound); where
   plans hold few options, half of that time goes first to a tabu search over plans
   (``optimizer.swap``), which finds strong plans where masters are slow to.

With ``prefer_cheaper`` a proven optimum is followed by a second phase that minimises
spend while keeping the objective at its optimum (ties broken by the cheaper plan).
Modes: ``joint`` (one plan, each holder's budget binding), ``pooled`` (one shared
budget), ``national`` (each holder plans alone for the axes into its own territory,
with its own sites and budget; the union of the national plans is then evaluated).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pulp

from optimizer import phases
from optimizer.attacker import Choice, Network
from optimizer.errors import Problems, is_number, is_whole
from optimizer.models import FAMILIES, Master
from optimizer.plan import Plan, SolveReport, family_values_from_axes, plan_tables, schedule_tables
from optimizer.problem import Problem, check_problem
from optimizer.solvers import SolverSettings, relative_gap, solve_milp
from optimizer.swap import affordable, swap_search

log = logging.getLogger(__name__)

MASTER_GAP = 1e-3  # relative gap of the first masters (tightened as the overall gap closes)
# A master that searched for PRIMAL_AFTER_S or more and left the bound where it was (the
# Baltic delay masters from 4 km cells on: their bound is the root LP's from the first round;
# they only lack a plan within the gap) lacked plans, not bounds: the next master spends 30 %
# of HiGHS's effort on primal heuristics (its default: 5 %). Saved Baltic 4 km delay masters
# (gap 1e-3): 47 s -> 9 s and over 256 s -> 22 s. For every master it made SNIP 20-30 %
# slower, and for every stalled master the 20x40 R = 6 grid 2.5 times slower (its masters
# take under 2 s each, but many more rounds).
PRIMAL_TUNING = {**phases.MASTER_TUNING, "mip_heuristic_effort": 0.3}
PRIMAL_AFTER_S = 10.0

# A delay solve that runs out of time keeps this share of its limit for a neighbourhood
# search around its best plan (``phases.polish``, which starts with POLISH_OPTIONS free).
POLISH_SHARE = 0.2
# ... and, if its plans hold at most SWAP_MAX_OPTIONS options, spends half of that first on
# a swap search (a tabu search over plans, ``optimizer.swap``). The limit is an assumption:
# on the grids (plans of 3-10 options) the search alone finds the best plans known in 8 s or
# less (``benchmarks/swap_grids.py``); the Baltic default's plans hold hundreds of options,
# and at 3 km cells one exact evaluation (11 axes) takes about 0.1 s, 30 s per iteration.
SWAP_MAX_OPTIONS = 50
# The search's runs (each from the best plan, with its own seed) go on until its deadline:
# on 40x80, 3 runs in 59 (seeds 100-158) found a plan of 323, the others 322 or below.
SWAP_RUNS = 10**6


def _relevant_options(network: Network, families) -> tuple[set, set]:
    mask = np.zeros(len(network.edge_ids), dtype=bool)
    for family in families:
        mask |= family.relevant()
    uses_delay = any(f.name in ("blocked", "delay") for f in families)
    uses_detection = any(f.name == "detection" for f in families)
    obstacle_keys = set()
    observable = set()
    for key, option in network.options.items():
        edges = network.site_edges.get(key[0])
        if edges is None or not mask[edges].any():
            continue
        if option.blocks or (uses_delay and max(option.delay_unobserved_min,
                                                option.delay_observed_min) > 0):
            obstacle_keys.add(key)
            if uses_delay and option.delay_observed_min > option.delay_unobserved_min:
                observable.add(key[0])
    sensor_keys = set()
    for key, edges in network.sensor_edges.items():
        if uses_detection and len(edges) and mask[edges].any():
            sensor_keys.add(key)
        elif network.observes.get(key, frozenset()) & observable:
            sensor_keys.add(key)
    return obstacle_keys, sensor_keys


def _fixed_choice(problem: Problem) -> Choice:
    obstacles, sensors = {}, set()
    types = problem.obstacle_options.groupby("site_id")["type"].apply(list).to_dict()
    stypes = problem.sensor_options.groupby("site_id")["type"].apply(list).to_dict()
    for item in problem.fixed:
        site, _, kind = item.partition(":")
        if site in types and (kind or len(types[site]) == 1):
            obstacles[site] = kind or types[site][0]
        elif site in stypes and (kind or len(stypes[site]) == 1):
            sensors.add((site, kind or stypes[site][0]))
    return Choice(obstacles, frozenset(sensors))


def _decompose(problem: Problem, network: Network, weights: dict[str, float], mode: str,
               settings: SolverSettings, *, max_rounds: int, routes_per_round: int,
               prefer_cheaper: bool, years: int = 1,
               annual_budgets: dict[str, list[float]] | None = None, carry_over: bool = False,
               warm_pool: dict | None = None):
    started = time.perf_counter()
    if warm_pool and warm_pool.get("graph") != network.fingerprint:
        log.info("warm start ignored: the routes come from another graph")
        warm_pool = None
    warm_routes = warm_pool["routes"] if warm_pool else {}
    probe = [FAMILIES[name](network, routes_per_round) for name in weights]
    obstacle_keys, sensor_keys = _relevant_options(network, probe)
    master = Master(problem, network, mode=mode, obstacle_keys=obstacle_keys,
                    sensor_keys=sensor_keys, years=years, annual_budgets=annual_budgets,
                    carry_over=carry_over)
    # one set of objective families per year (a single year uses the probe families)
    stages = [(view, probe if len(master.views) == 1 else
               [FAMILIES[name](network, routes_per_round) for name in weights])
              for view in master.views]
    seed = _fixed_choice(problem)
    seed_effect = network.effect(seed)
    for view, families in stages:
        for family in families:
            family.build(view)
            if warm_routes:
                family.warm(view, warm_routes.get(family.name, {}), seed, seed_effect)
            family.separate(view, seed, seed_effect, values=False)
    primary = pulp.lpSum(weights[f.name] * f.sense * f.objective(view)
                         for view, families in stages for f in families)
    master.prob.setObjective(primary)

    best_value, best, best_values = -math.inf, None, {}
    upper = math.inf
    rounds, status, termination = 0, "no_solution", "not started"
    tol = settings.gap_rel
    single = probe[0] if len(stages) == 1 and len(probe) == 1 else None

    def remaining() -> float:
        return settings.time_limit_s - (time.perf_counter() - started)

    def proven(value: float) -> bool:  # the bound so far proves a plan of this value optimal
        return upper - value <= tol * max(abs(value), abs(upper), 1e-9) + 1e-9

    # a delay solve keeps the end of its time limit for a neighbourhood search (polish)
    polish = years == 1 and "delay" in weights and bool(master.okeys)
    reserve = POLISH_SHARE * settings.time_limit_s if polish else 0.0
    lp_rounds, relaxed = phases.relaxation_cuts(master, stages, settings, remaining,
                                                single, weights)
    if relaxed is not None:
        upper = relaxed  # the LP relaxation of a master with valid cuts bounds the optimum
    # Early masters are solved loosely (their dual bound is still a valid bound); the master
    # gap tightens with the overall gap and is exact (gap_rel) before optimality is claimed.
    master_gap = max(tol, MASTER_GAP)
    tuning = phases.MASTER_TUNING
    while True:
        rounds += 1
        master_settings = replace(settings, gap_rel=master_gap)
        found: list = []
        start = phases.start_values(master, best[1]) if best is not None else None
        outcome = solve_milp(master.prob, master_settings, time_limit=remaining() - reserve,
                             incumbents=found, tuning=tuning, start=start)
        if outcome.status in ("infeasible", "unbounded"):
            if best is not None:
                # Every route and cut is valid for the true optimum, so a master that was
                # feasible cannot become infeasible: this is numerical trouble.
                status = "feasible"
                termination = f"master reported {outcome.status} after a feasible round " \
                              "(numerical trouble); best plan kept"
            else:
                status, termination = "infeasible", f"master {outcome.status}"
            break
        if not outcome.has_solution:
            status = "feasible" if best is not None else "no_solution"
            termination = f"master: {outcome.termination}"
            if outcome.bound is not None:
                upper = min(upper, outcome.bound)
            break
        if outcome.bound is not None:
            stalled = (outcome.runtime_s >= PRIMAL_AFTER_S
                       and outcome.bound >= upper - 1e-9 * max(abs(upper), 1.0))
            tuning = PRIMAL_TUNING if stalled else phases.MASTER_TUNING  # see PRIMAL_TUNING
            upper = min(upper, outcome.bound)
        # the master's plan and its earlier incumbents: evaluate them (a better plan may be
        # among them) and later separate at them, several plans' cuts per master solve
        solved, plans = phases.round_plans(master, stages, found)
        best, best_value, best_values = phases.keep_best(network, stages, weights, plans, best,
                                                         best_value, best_values)
        if proven(best_value):
            status, termination = "optimal", "bound reached"
            break
        if single is not None and hasattr(single, "tighten") and math.isfinite(upper):
            single.tighten(master, upper / weights[single.name])
        added = sum(phases.separate_plans(network, stages, solved, plans))
        log.info("round %d: master %s (gap %.0e) in %.2fs, bound %.6g, best %.6g, %d added",
                 rounds, outcome.status, master_gap, outcome.runtime_s, upper, best_value, added)
        overall = (upper - best_value) / max(abs(best_value), abs(upper), 1e-9)
        if added == 0 and master_gap > tol:
            master_gap = tol  # nothing to add: only an exact master can close the gap
        elif added == 0:
            status = "feasible"
            termination = f"master stopped early ({outcome.termination})"
            break
        else:
            master_gap = min(master_gap, overall / 10)
            # within a factor 10 of the gap asked for, go straight to it: a last loose
            # master would be solved again in full once it adds nothing
            master_gap = tol if master_gap < 10 * tol else master_gap
        if remaining() <= reserve:
            status, termination = "feasible", "time limit"
            break
        if rounds >= max_rounds:
            status, termination = "feasible", "round limit"
            break

    if polish and status in ("feasible", "no_solution") and remaining() > 1.0 \
            and affordable(master) <= SWAP_MAX_OPTIONS:
        # plans of few options: a tabu search over plans first, seeded runs for half the
        # reserve (or of the time left), until a plan meets the bound
        before = best_value
        delay = next(f for f in probe if f.name == "delay")
        swapped = swap_search(master, network, delay.axes, best[0][-1] if best else seed,
                              lambda choice: phases.evaluate(stages, weights, network, [choice]),
                              deadline=time.perf_counter() + min(remaining(), reserve) / 2,
                              runs=SWAP_RUNS, enough=proven)
        if swapped.value > best_value:
            best = ([swapped.choice], phases.build_years(master, swapped.choice))
            best_value, best_values, status = swapped.value, swapped.values, "feasible"
        came = f"{before:.6g} -> " if math.isfinite(before) else ""
        termination += (f"; swap search: {swapped.runs} runs, {swapped.iterations} "
                        f"iterations, plan value {came}{best_value:.6g}")
        log.info("swap search: %d iterations, %d evaluations, plan value %.6g -> %.6g",
                 swapped.iterations, swapped.evaluations, before, best_value)
    if polish and status == "feasible" and best is not None and remaining() > 1.0:
        before = best_value
        best, best_value, best_values, polished = phases.polish(
            master, network, stages, weights, settings, remaining, best, best_value,
            best_values, proven)
        rounds += polished
        termination += (f"; neighbourhood search: {polished} rounds, plan value "
                        f"{before:.6g} -> {best_value:.6g}")
        if proven(best_value):
            status = "optimal"  # the bound is the main loop's, valid for every plan
            termination += ", bound reached"
    rounds += lp_rounds
    spend_status = "not run"
    if status == "optimal" and prefer_cheaper:
        best, spend_status, extra_rounds = phases.cheapest(
            master, network, stages, weights, primary, best_value, best, settings,
            remaining, max_rounds, tol)
        rounds += extra_rounds
        best_value, best_values = phases.evaluate(stages, weights, network, best[0])
    routes = sum(f.rounds_routes for _, families in stages for f in families)
    pool: dict[str, dict[str, list]] = {}
    for _, families in stages:
        for f in families:
            merged = pool.setdefault(f.name, {})
            for axis_id, routes_of_axis in f.pool.items():
                merged.setdefault(axis_id, set()).update(routes_of_axis)
    pool = {"graph": network.fingerprint,
            "routes": {k: {a: sorted(r) for a, r in v.items()} for k, v in pool.items()}}
    return dict(status=status, termination=termination, pool=pool,
                choice=best[0][-1] if best is not None else None,
                choices=best[0] if best is not None else None,
                build_years=best[1] if best is not None else {},
                value=best_value if best is not None else None,
                bound=upper if math.isfinite(upper) else None, rounds=rounds, routes=routes,
                values=best_values, spend_status=spend_status,
                runtime=time.perf_counter() - started)


def combined_objective(values: dict[str, float], weights: dict[str, float]) -> float:
    sense = {name: FAMILIES[name].sense for name in weights}
    return sum(weights[k] * sense[k] * values[k] for k in weights)


def solve_problem(problem: Problem, *, objective_weights: dict[str, float] | None = None,
                  mode: str = "joint", settings: SolverSettings | None = None,
                  max_rounds: int = 500, routes_per_round: int = 8,
                  prefer_cheaper: bool = True, verify: bool = True, years: int = 1,
                  annual_budgets: dict[str, list[float]] | None = None,
                  carry_over: bool = False, warm_pool: dict | None = None) -> Plan:
    """Solve a planning problem exactly against a re-routing attacker.

    Parameters
    ----------
    problem
        The instance (see :class:`optimizer.problem.Problem`).
    objective_weights
        Objective mix, e.g. ``{"blocked": 1.0}`` (default) or ``{"blocked": 1, "delay": 0.01}``;
        ``detection`` and ``throughput`` are minimised (their weights enter negatively).
    mode
        ``joint``, ``pooled`` or ``national``.
    settings
        Solver name, time limit (whole solve), gap, threads, seed.
    verify
        Recompute every axis with plain NetworkX and refuse to report a plan it disagrees with.
    warm_pool
        Routes generated by an earlier solve of the same network (``plan.route_pool``); they
        are valid constraints whatever the budgets, so a sweep of growing budgets starts
        from them instead of from scratch.
    years, annual_budgets, carry_over
        A build schedule over ``years`` maximising the protection accumulated over the years
        (the objective summed over years, each year with what is built by then); annual
        budgets per holder default to equal shares of ``problem.budgets``.

    Returns
    -------
    Plan
        Chosen sites, per-axis before/after metrics, budget use and a :class:`SolveReport`.
    """
    weights = objective_weights or {"blocked": 1.0}
    problems = _check_arguments(weights, mode, years, settings, max_rounds, routes_per_round)
    if is_whole(years):
        problems.extend(schedule_problems(set(problem.budgets), years, annual_budgets))
    problems.raise_if_any()
    settings = settings or SolverSettings()
    check_problem(problem).raise_if_any()
    annual = _annual_budgets(problem, years, annual_budgets)
    started = time.perf_counter()
    network = Network(problem)
    parts: dict[str, SolveReport] = {}
    if mode == "national":
        choice, status, termination, rounds, routes, choices, build_years = _national(
            problem, weights, settings, max_rounds, routes_per_round, prefer_cheaper, parts,
            years=years, annual=annual, carry_over=carry_over)
        bound = None
        spend_status = "per holder"
        pool: dict = {}
    else:
        result = _decompose(problem, network, weights, mode, settings, max_rounds=max_rounds,
                            routes_per_round=routes_per_round, prefer_cheaper=prefer_cheaper,
                            years=years, annual_budgets=annual, carry_over=carry_over,
                            warm_pool=warm_pool)
        choice, status, termination = result["choice"], result["status"], result["termination"]
        choices, build_years = result["choices"], result["build_years"]
        pool = result["pool"]
        rounds, routes, bound = result["rounds"], result["routes"], result["bound"]
        spend_status = result["spend_status"]
    solve_s = time.perf_counter() - started
    if choice is None:
        report = SolveReport(status=status, objective=None, bound=bound, gap=None,
                             runtime_s=solve_s, solver=settings.name, termination=termination,
                             rounds=rounds, routes=routes, mode=mode, objective_weights=weights,
                             spend_status=spend_status, parts=parts,
                             timings_s={"solve": round(solve_s, 3)},
                             settings=settings.record())
        empty = pd.DataFrame()
        return Plan(empty, empty, empty, empty, {}, report, Choice.empty())
    t0 = time.perf_counter()
    obstacles, sensors, axes, budgets, routes_by_axis = plan_tables(problem, network, choice,
                                                                    verify)
    values = family_values_from_axes(axes, weights, problem.blocked_time_min)
    if annual:
        budgets["budget_eur"] = budgets["holder"].map(lambda h: float(sum(annual[h])))
        budgets["remaining_eur"] = budgets["budget_eur"] - budgets["spend_eur"]
    schedule, yearly = pd.DataFrame(), pd.DataFrame()
    if years > 1:
        schedule, yearly = schedule_tables(problem, network, weights, choices, build_years,
                                           obstacles, sensors)
        # the objective of a schedule is the protection accumulated over the years
        values = {k: float(yearly[k].sum()) for k in weights}
    objective = combined_objective(values, weights)
    if bound is not None and mode != "national":
        bound = max(bound, objective) if status == "optimal" else bound
    report = SolveReport(
        status=status, objective=objective, bound=bound,
        gap=relative_gap(objective, bound) if mode != "national" else None,
        runtime_s=solve_s, solver=settings.name, termination=termination, rounds=rounds,
        routes=routes, mode=mode, objective_weights=weights, family_values=values,
        spend_status=spend_status, parts=parts,
        timings_s={"solve": round(solve_s, 3), "verify": round(time.perf_counter() - t0, 3)},
        settings=settings.record())
    return Plan(obstacles, sensors, axes, budgets, routes_by_axis, report, choice,
                schedule=schedule, yearly=yearly,
                route_pool=pool)


def _check_arguments(weights: dict[str, float], mode: str, years: int,
                     settings: SolverSettings | None, max_rounds: int,
                     routes_per_round: int) -> Problems:
    """Every problem with the arguments of a solve (the names in brackets are the command
    line's)."""
    problems = Problems()
    if settings is not None and not isinstance(settings, SolverSettings):
        problems.add("settings", f"{settings!r} is not a SolverSettings",
                     "pass e.g. SolverSettings(time_limit_s=60)")
    for name, value in (("max_rounds", max_rounds), ("routes_per_round", routes_per_round)):
        if not is_whole(value) or value < 1:
            problems.add(name, f"{value!r} is not a whole number >= 1", "give 1 or more")
    if not isinstance(weights, dict):
        problems.add("objective_weights", f"{weights!r} is not a mapping",
                     "pass e.g. {'blocked': 1.0}")
        return problems
    unknown = sorted(set(weights) - set(FAMILIES))
    if unknown:
        problems.add("objective_weights (--weights)", f"unknown objective(s) {unknown}",
                     f"use {', '.join(sorted(FAMILIES))}, e.g. blocked=1,delay=0.01")
    values = [v for k, v in weights.items() if k not in unknown]
    if any(not is_number(v) or not 0 <= v < math.inf for v in values):
        problems.add("objective_weights (--weights)", f"weights {weights} are not all "
                     "numbers >= 0", "give each objective a weight >= 0")
    elif values and not any(v > 0 for v in values):
        problems.add("objective_weights (--weights)", "no weight is positive",
                     "give at least one objective a weight > 0")
    if mode not in ("joint", "pooled", "national"):
        problems.add("mode (--mode)", f"unknown mode '{mode}'", "use joint, pooled or national")
    if not is_whole(years) or years < 1:
        problems.add("years (--years)", f"{years!r} is not a number of years",
                     "give 1 (one plan) or more (a build schedule)")
    return problems


def schedule_problems(holders: set[str], years: int, annual: dict[str, list[float]] | None,
                      where: str = "annual_budgets") -> Problems:
    """Every problem with annual budgets: each for a known budget holder, one value per
    year, each a number >= 0 (``where`` names them as the caller knows them)."""
    problems = Problems()
    for holder, given in (annual or {}).items():
        if holder not in holders:
            problems.add(f"{where}: holder '{holder}'", "not a budget holder",
                         f"use one of {sorted(holders)}")
        elif years <= 1:
            problems.add(f"{where}: holder '{holder}'", "annual budgets without a schedule",
                         "set years to 2 or more, or leave the annual budgets out")
        elif len(given) != years:
            problems.add(f"{where}: holder '{holder}'",
                         f"{len(given)} annual budget(s) for {years} years",
                         "give one budget per year")
        elif any(not is_number(v) or not 0 <= v < math.inf for v in given):
            problems.add(f"{where}: holder '{holder}'", f"budgets {list(given)} are not all "
                         "numbers >= 0", "give each year a budget >= 0 in EUR")
    return problems


def _annual_budgets(problem: Problem, years: int, annual: dict[str, list[float]] | None):
    if years <= 1:
        return None
    out = {}
    for holder, total in problem.budgets.items():
        given = (annual or {}).get(holder)
        out[holder] = [float(v) for v in given] if given is not None else [total / years] * years
    return out


def _national(problem, weights, settings, max_rounds, routes_per_round, prefer_cheaper, parts,
              *, years=1, annual=None, carry_over=False):
    obstacles, sensors = {}, set()
    statuses, rounds, routes = [], 0, 0
    yearly_choices: list[Choice] = []
    build_years: dict = {}
    for holder in sorted(problem.budgets):
        own_axes = problem.axes[problem.axes["country"] == holder]
        if own_axes.empty:
            continue
        sub = replace(problem.restricted_to({holder}), axes=own_axes.reset_index(drop=True))
        plan = solve_problem(sub, objective_weights=weights, mode="joint", settings=settings,
                             max_rounds=max_rounds, routes_per_round=routes_per_round,
                             prefer_cheaper=prefer_cheaper, verify=False, years=years,
                             annual_budgets={holder: annual[holder]} if annual else None,
                             carry_over=carry_over)
        parts[holder] = plan.report
        statuses.append(plan.report.status)
        rounds += plan.report.rounds
        routes += plan.report.routes
        obstacles.update(plan.choice.obstacles)
        sensors |= set(plan.choice.sensors)
        if not plan.schedule.empty:
            build_years.update({(r.site_id, r.type): int(r.year)
                                for r in plan.schedule.itertuples()})
    order = ["infeasible", "no_solution", "feasible", "optimal"]
    status = min(statuses, key=order.index) if statuses else "optimal"
    if status in ("infeasible", "no_solution"):
        return None, status, "a national solve failed", rounds, routes, None, {}
    termination = "each holder's own plan solved for the axes into its territory"
    for year in range(1, years + 1):
        yearly_choices.append(Choice(
            {s: t for s, t in obstacles.items() if build_years.get((s, t), 1) <= year},
            frozenset(k for k in sensors if build_years.get(k, 1) <= year)))
    choice = Choice(obstacles, frozenset(sensors))
    return choice, status, termination, rounds, routes, yearly_choices or [choice], build_years
