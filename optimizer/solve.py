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

from optimizer.attacker import Choice, Network, ReferenceAttacker
from optimizer.models import FAMILIES, Master
from optimizer.plan import Plan, SolveReport
from optimizer.problem import Problem, check_problem
from optimizer.solvers import SolverSettings, relative_gap, solve_milp
from optimizer.swap import affordable, swap_search

log = logging.getLogger(__name__)


class VerificationError(RuntimeError):
    """The independent recomputation disagrees with the engine: a bug, never an input error."""


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


def _evaluate(stages, weights, network, choices) -> tuple[float, dict[str, float]]:
    """Objective of a plan (one choice per year) and each family's value summed over years."""
    total, values = 0.0, {name: 0.0 for name in weights}
    for (_, families), choice in zip(stages, choices, strict=True):
        effect = network.effect(choice)
        for family in families:
            value = family.evaluate(effect)[0]
            values[family.name] += value
            total += weights[family.name] * family.sense * value
    return total, values


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

    # a delay solve keeps the end of its time limit for a neighbourhood search (_polish)
    polish = years == 1 and "delay" in weights and bool(master.okeys)
    reserve = POLISH_SHARE * settings.time_limit_s if polish else 0.0
    lp_rounds, relaxed = _relaxation_cuts(master, stages, settings, remaining,
                                          single, weights)
    if relaxed is not None:
        upper = relaxed  # the LP relaxation of a master with valid cuts bounds the optimum
    # Early masters are solved loosely (their dual bound is still a valid bound); the master
    # gap tightens with the overall gap and is exact (gap_rel) before optimality is claimed.
    master_gap = max(tol, MASTER_GAP)
    tuning = MASTER_TUNING
    while True:
        rounds += 1
        master_settings = replace(settings, gap_rel=master_gap)
        found: list = []
        outcome = solve_milp(master.prob, master_settings, time_limit=remaining() - reserve,
                             incumbents=found, tuning=tuning,
                             start=_start(master, best[1]) if best is not None else None)
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
            tuning = PRIMAL_TUNING if stalled else MASTER_TUNING  # see PRIMAL_TUNING
            upper = min(upper, outcome.bound)
        # the master's plan and its earlier incumbents: evaluate them (a better plan may be
        # among them) and later separate at them, several plans' cuts per master solve
        solved, plans = _round_plans(master, stages, found)
        best, best_value, best_values = _keep_best(network, stages, weights, plans, best,
                                                   best_value, best_values)
        if proven(best_value):
            status, termination = "optimal", "bound reached"
            break
        if single is not None and hasattr(single, "tighten") and math.isfinite(upper):
            single.tighten(master, upper / weights[single.name])
        added = sum(_separate_plans(network, stages, solved, plans))
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
                              lambda choice: _evaluate(stages, weights, network, [choice]),
                              deadline=time.perf_counter() + min(remaining(), reserve) / 2,
                              runs=SWAP_RUNS, enough=proven)
        if swapped.value > best_value:
            best = ([swapped.choice], _build_years(master, swapped.choice))
            best_value, best_values, status = swapped.value, swapped.values, "feasible"
        came = f"{before:.6g} -> " if math.isfinite(before) else ""
        termination += (f"; swap search: {swapped.runs} runs, {swapped.iterations} "
                        f"iterations, plan value {came}{best_value:.6g}")
        log.info("swap search: %d iterations, %d evaluations, plan value %.6g -> %.6g",
                 swapped.iterations, swapped.evaluations, before, best_value)
    if polish and status == "feasible" and best is not None and remaining() > 1.0:
        before = best_value
        best, best_value, best_values, polished = _polish(
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
        best, spend_status, extra_rounds = _cheapest(
            master, network, stages, weights, primary, best_value, best, settings,
            remaining, max_rounds, tol)
        rounds += extra_rounds
        best_value, best_values = _evaluate(stages, weights, network, best[0])
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


def _separate(network, stages, choices: list[Choice]) -> int:
    """Add the routes and cuts a plan (one choice per year) violates at the master's values;
    returns how many were added."""
    added = 0
    for (view, families), choice in zip(stages, choices, strict=True):
        effect = network.effect(choice)
        added += sum(f.separate(view, choice, effect, values=True) for f in families)
    return added


def _round_plans(master, stages, found: list) -> tuple[list, list]:
    """A master solve's columns and its distinct plans as (solution, choices, build years):
    its final plan first (solution None when the solver reported no incumbents, as CBC),
    then the other improving solutions HiGHS met, newest first. The master's values are
    left at the last one: ``_separate_plans`` sets each and restores the final one."""
    solved = list(master.prob.variables())  # this solve's columns (separation adds more)
    choices = [view.choice() for view, _ in stages]
    plans = [(_solution(solved) if found else None, choices, master.build_years())]
    seen = {_plan_key(choices)}
    for solution in reversed(found):
        _assign(solved, solution)
        choices_k = [view.choice() for view, _ in stages]
        if _plan_key(choices_k) not in seen:
            seen.add(_plan_key(choices_k))
            plans.append((solution, choices_k, master.build_years()))
    return solved, plans


def _keep_best(network, stages, weights, plans: list, best, best_value: float,
               best_values: dict, margin: float = 0.0) -> tuple:
    """Evaluate a round's plans exactly and keep the best: a plan replaces the best one
    when its value is more than ``margin`` above it. Returns (best, value, family values)."""
    for _, choices, years in plans:
        value, values = _evaluate(stages, weights, network, choices)
        if value > best_value + margin:
            best_value, best, best_values = value, (choices, years), values
    return best, best_value, best_values


def _separate_plans(network, stages, solved: list, plans: list) -> list[int]:
    """Separate at each plan of a round (the master's values set to that plan's solution),
    then restore the final plan's values; returns how many were added at each."""
    added = []
    for solution, choices, _ in plans:
        if solution is not None:
            _assign(solved, solution)
        added.append(_separate(network, stages, choices))
    if plans[0][0] is not None:
        _assign(solved, plans[0][0])
    return added


def _build_years(master, choice: Choice) -> dict:
    """A single-year plan's options as built in year 1 (the master's build variables)."""
    keys = [*choice.obstacles.items(), *choice.sensors]
    return {key: 1 for key in keys if key in master.build[0]}


def _start(master, build_years: dict) -> dict:
    """A plan as a start for the master: the value of every build variable."""
    return {var: float(build_years.get(key) == year + 1)
            for year, group in enumerate(master.build) for key, var in group.items()}


def _solution(variables: list) -> np.ndarray:
    values = np.zeros(len(variables))
    for v in variables:
        values[v.index] = v.varValue or 0.0
    return values


def _assign(variables: list, solution: np.ndarray) -> None:
    for v in variables:
        v.varValue = float(solution[v.index])


def _plan_key(choices: list[Choice]) -> tuple:
    return tuple((tuple(sorted(c.obstacles.items())), tuple(sorted(c.sensors)))
                 for c in choices)


LP_ROUNDS = 2000  # at most this many rounds of the LP relaxation's cutting loop
LP_SHARE = 0.25  # ... and at most this share of the time limit
MASTER_GAP = 1e-3  # relative gap of the first masters (tightened as the overall gap closes)
# HiGHS branches on pseudocosts from the first node instead of strong branching each
# candidate until it has 8 observations (its default): the masters have many alike binaries,
# and strong branching dominated their solves. Measured on saved SNIP B = 50 masters: 2-3x
# faster each (16.1 s -> 5.1 s, 24.8 s -> 9.2 s); whole solves in README "Measured".
MASTER_TUNING = {"mip_pscost_minreliable": 0}
# A master that searched for PRIMAL_AFTER_S or more and left the bound where it was (the
# Baltic delay masters from 4 km cells on: their bound is the root LP's from the first round;
# they only lack a plan within the gap) lacked plans, not bounds: the next master spends 30 %
# of HiGHS's effort on primal heuristics (its default: 5 %). Saved Baltic 4 km delay masters
# (gap 1e-3): 47 s -> 9 s and over 256 s -> 22 s. For every master it made SNIP 20-30 %
# slower, and for every stalled master the 20x40 R = 6 grid 2.5 times slower (its masters
# take under 2 s each, but many more rounds).
PRIMAL_TUNING = {**MASTER_TUNING, "mip_heuristic_effort": 0.3}
PRIMAL_AFTER_S = 10.0


# A delay solve that runs out of time keeps this share of its limit for a neighbourhood
# search around its best plan (``_polish``), and starts with this many free options.
POLISH_SHARE = 0.2
POLISH_OPTIONS = 300
# ... and, if its plans hold at most SWAP_MAX_OPTIONS options, spends half of that first on
# a swap search (a tabu search over plans, ``optimizer.swap``). The limit is an assumption:
# on the grids (plans of 3-10 options) the search alone finds the best plans known in 8 s or
# less (``benchmarks/swap_grids.py``); the Baltic default's plans hold hundreds of options,
# and at 3 km cells one exact evaluation (11 axes) takes about 0.1 s, 30 s per iteration.
SWAP_MAX_OPTIONS = 50
# The search's runs (each from the best plan, with its own seed) go on until its deadline:
# on 40x80, 3 runs in 59 (seeds 100-158) found a plan of 323, the others 322 or below.
SWAP_RUNS = 10**6


def _near_options(network: Network, family, choice: Choice, keys: list, size: int) -> set:
    """The ``size`` obstacle options closest to the attacker's fastest routes under the plan:
    each scored by the least slack, over the axes, of its edges, the slack of an edge being
    the fastest time through it minus the fastest time (with the plan's delays applied)."""
    effect = network.effect(choice)
    weights = network.time + effect.delay
    keep = ~effect.blocked
    slack = np.full(len(network.edge_ids), np.inf)
    for axis in family.axes:
        d_from, _ = network.shortest(weights, keep, axis.origin)
        fastest = d_from[network.node_pos[axis.objective]]
        if not np.isfinite(fastest):
            continue
        d_to, _ = network.shortest(weights, keep, axis.objective, reverse=True)
        slack = np.minimum(slack, d_from[network.src] + weights + d_to[network.dst] - fastest)
    score = {key: float(slack[network.site_edges[key[0]]].min(initial=np.inf)) for key in keys}
    return set(sorted(keys, key=lambda key: (score[key], key))[:size])


def _polish(master, network, stages, weights, settings, remaining, best, best_value,
            best_values, proven) -> tuple:
    """Neighbourhood search around the best plan of a delay solve that ran out of time.

    The master is solved with every obstacle option fixed at 0 but the best plan's and the
    ``POLISH_OPTIONS`` options nearest the attacker's fastest routes under it, with route
    generation as in the main loop (every route added is valid for the whole master). Each
    better plan moves the neighbourhood to it; a neighbourhood that gives nothing better is
    doubled once more, then the search stops. Restricted masters bound only their
    neighbourhood, so no bound is taken from them; ``proven(value)`` says when a plan's
    value meets the main loop's bound, which ends the search. Returns the best plan, its
    value and family values, and the rounds run."""
    _, families = stages[0]
    family = next(f for f in families if f.name == "delay")
    keys, build = list(master.okeys), master.build[0]
    size, rounds = POLISH_OPTIONS, 0
    while remaining() > 1.0 and not proven(best_value):
        free = _near_options(network, family, best[0][-1], keys, size) | set(best[1])
        fixed = {build[key]: build[key].upBound for key in keys
                 if key not in free and not build[key].lowBound}
        for var in fixed:
            var.upBound = 0
        improved = False
        try:
            while remaining() > 1.0:
                rounds += 1
                found: list = []
                outcome = solve_milp(master.prob, settings, time_limit=remaining(),
                                     incumbents=found, tuning=MASTER_TUNING,
                                     start=_start(master, best[1]))
                if not outcome.has_solution:
                    break
                solved, plans = _round_plans(master, stages, found)
                before = best_value
                best, best_value, best_values = _keep_best(
                    network, stages, weights, plans, best, best_value, best_values,
                    margin=1e-9 * max(abs(best_value), 1.0))
                improved = improved or best_value > before
                log.info("neighbourhood round %d (%d options free): master %s in %.2fs, "
                         "best %.6g", rounds, len(free), outcome.status, outcome.runtime_s,
                         best_value)
                if proven(best_value) or not sum(_separate_plans(network, stages, solved,
                                                                  plans)):
                    break  # optimal, or the neighbourhood's best plan (within the gap)
        finally:
            for var, upper in fixed.items():
                var.upBound = upper
        if not improved:
            if size >= len(keys) or size > POLISH_OPTIONS:
                break
            size *= 2
    return best, best_value, best_values, rounds


def _relaxation_cuts(master, stages, settings, remaining, single,
                     weights) -> tuple[int, float | None]:
    """Cutting loop on the master's LP relaxation, for families that separate fractional
    plans: cheap LP solves add the cuts a fractional plan violates, so the MIP rounds
    start from a much tighter master. Stops when nothing is violated or its round or time
    allowance is spent, not when the bound stalls: the routes it keeps adding at a still
    bound are the ones the integer masters would otherwise find one expensive round at a
    time (Baltic delay at 4 km cells: stopped at a stall after 10 LP rounds, the integer
    masters took 34-111 s each and reached 589.42 in 300 s; run on to 75 LP rounds, 18 s
    more, they reach 599.05, within 0.04 % of the bound). The two largest grids pay for it
    (60x120: the loop runs to its allowance; gap 5.9 % against 4.7 % at 600 s; README
    "Measured"). Returns the rounds run and the tightest LP bound (None if none was solved)."""
    fractional = [(view, f) for view, families in stages for f in families
                  if hasattr(f, "separate_fractional")]
    if not fractional:
        return 0, None
    allowance = remaining() - min(LP_SHARE * settings.time_limit_s, 0.5 * remaining())
    lowest: float | None = None  # the tightest LP bound so far
    rounds = 0
    while rounds < LP_ROUNDS and remaining() > allowance:
        outcome = solve_milp(master.prob, settings, time_limit=remaining() - allowance,
                             relax=True)
        if outcome.status != "optimal":
            break
        rounds += 1
        lowest = outcome.objective if lowest is None else min(lowest, outcome.objective)
        if single is not None and hasattr(single, "tighten"):
            # the LP bound is a valid upper bound on the optimum: tighten the route rows
            single.tighten(master, outcome.objective / weights[single.name])
        added = sum(f.separate_fractional(view) for view, f in fractional)
        log.info("LP round %d: bound %.6g in %.2fs, %d cuts added", rounds, outcome.objective,
                 outcome.runtime_s, added)
        if added == 0:
            break
    return rounds, lowest


def _cheapest(master, network, stages, weights, primary, optimum, best, settings, remaining,
              max_rounds, tol):
    """Minimise spend subject to the objective staying at its proven optimum."""
    floor = optimum - tol * max(abs(optimum), 1e-9) - 1e-9
    master.add(primary >= floor, "optimum_floor")
    master.prob.sense = pulp.LpMaximize
    master.prob.setObjective(-1.0 * master.spend_expression())
    best_spend = _spend(master, best[0])
    for rounds in range(1, max_rounds + 1):
        if remaining() <= 0:
            return best, "time limit (cheapest plan found so far kept)", rounds
        found: list = []
        outcome = solve_milp(master.prob, settings, time_limit=remaining(), incumbents=found,
                             tuning=MASTER_TUNING, start=_start(master, best[1]))
        if not outcome.has_solution:
            return best, f"stopped: {outcome.status}", rounds
        # the master's plan and every other plan it met: keep the cheapest that holds the
        # optimum, and separate at each (several plans' routes per master solve)
        solved, plans = _round_plans(master, stages, found)
        values = []
        for _, choices_k, years_k in plans:
            values.append(_evaluate(stages, weights, network, choices_k)[0])
            spend = _spend(master, choices_k)
            if values[-1] >= floor and spend < best_spend - 1e-6:
                best, best_spend = (choices_k, years_k), spend
        added = _separate_plans(network, stages, solved, plans)
        log.info("cheapest-plan round %d: master %s in %.2fs, %d plans, best spend %.6g, "
                 "%d added", rounds, outcome.status, outcome.runtime_s, len(plans), best_spend,
                 sum(added))
        if added[0] == 0:
            # nothing cuts off the master's own plan: it is the cheapest plan that holds
            # the optimum (the master is a relaxation), if the master was solved to the end
            proven = outcome.status == "optimal" and values[0] >= floor
            return best, "optimal" if proven else "feasible", rounds
    return best, "round limit", max_rounds


def _spend(master, choices: list[Choice]) -> float:
    """Spend of a plan: everything built by the last year, fixed sites excepted."""
    last = choices[-1]
    keys = [(s, t) for s, t in last.obstacles.items()] + list(last.sensors)
    return sum(master.cost[k] for k in keys if k not in master.fixed_keys)


def _plan_tables(problem: Problem, network: Network, choice: Choice, verify: bool):
    empty = Choice.empty()
    before, after = network.effect(empty), network.effect(choice)
    fixed_sites = {f.split(":", 1)[0] for f in problem.fixed}
    options = problem.obstacle_options.set_index(["site_id", "type"])
    obstacles = []
    for site, kind in sorted(choice.obstacles.items()):
        row = options.loc[(site, kind)]
        observed = site in after.observed
        obstacles.append({
            "site_id": site, "type": kind, "country": row["country"],
            "cost_eur": float(row["cost"]), "fixed": site in fixed_sites,
            "observed": observed, "blocks": bool(row["blocks"]),
            "delay_min": float(row["delay_observed_min"] if observed
                               else row["delay_unobserved_min"]),
        })
    sensor_rows = problem.sensor_options.set_index(["site_id", "type"])
    sensors = [{"site_id": s, "type": t, "country": sensor_rows.at[(s, t), "country"],
                "cost_eur": float(sensor_rows.at[(s, t), "cost"]), "fixed": s in fixed_sites}
               for s, t in sorted(choice.sensors)]
    axes, routes = [], {}
    reference = ReferenceAttacker(problem, choice) if verify else None
    node_route = lambda r, o: None if r is None else [o] + [network.nodes[network.dst[e]]  # noqa: E731
                                                            for e in r]
    for axis in problem.axes.itertuples():
        t0, r0 = network.fastest(before, axis.origin, axis.objective)
        t1, r1 = network.fastest(after, axis.origin, axis.objective)
        ev0, _ = network.most_reliable(before, axis.origin, axis.objective)
        ev1, _ = network.most_reliable(after, axis.origin, axis.objective)
        row = {
            "axis_id": axis.axis_id, "origin": axis.origin, "objective": axis.objective,
            "country": axis.country, "weight": float(axis.weight),
            "threshold_min": float(axis.threshold_min),
            "time_before_min": t0, "time_after_min": t1,
            "blocked_before": bool(t0 >= axis.threshold_min),
            "blocked_after": bool(t1 >= axis.threshold_min),
            "corridors_before": network.corridors(before, axis.origin, axis.objective),
            "corridors_after": network.corridors(after, axis.origin, axis.objective),
            "detection_before": 1.0 - ev0, "detection_after": 1.0 - ev1,
        }
        if verify:
            ref = reference.metrics(axis.origin, axis.objective, with_corridors=False)
            same_time = (math.isinf(ref["time_min"]) and math.isinf(t1)) or math.isclose(
                ref["time_min"], t1, rel_tol=1e-9, abs_tol=1e-6)
            same_ev = math.isclose(ref["evasion"], ev1, rel_tol=1e-9, abs_tol=1e-12)
            if not (same_time and same_ev):
                raise VerificationError(
                    f"axis {axis.axis_id}: NetworkX gives time {ref['time_min']} and evasion "
                    f"{ref['evasion']}, the fast oracle {t1} and {ev1}")
            row["time_after_min"] = ref["time_min"]
            row["route_after_ref"] = ref["route"]
            row["verified"] = True
        axes.append(row)
        routes[axis.axis_id] = {"before": node_route(r0, axis.origin),
                                "after": row.pop("route_after_ref", None)
                                if verify else node_route(r1, axis.origin)}
    budgets = []
    spend: dict[str, float] = {}
    for item in obstacles + sensors:
        if not item["fixed"]:
            spend[item["country"]] = spend.get(item["country"], 0.0) + item["cost_eur"]
    for holder, budget in sorted(problem.budgets.items()):
        used = spend.get(holder, 0.0)
        budgets.append({"holder": holder, "budget_eur": float(budget), "spend_eur": used,
                        "remaining_eur": float(budget) - used})
    columns_o = ["site_id", "type", "country", "cost_eur", "fixed", "observed", "blocks",
                 "delay_min"]
    columns_s = ["site_id", "type", "country", "cost_eur", "fixed"]
    return (pd.DataFrame(obstacles, columns=columns_o), pd.DataFrame(sensors, columns=columns_s),
            pd.DataFrame(axes), pd.DataFrame(budgets), routes)


def family_values_from_axes(axes: pd.DataFrame, weights: dict[str, float],
                            blocked_time_min: float) -> dict[str, float]:
    """Each objective family's value recomputed from the verified per-axis table."""
    w = axes["weight"]
    values = {
        "blocked": float((w * axes["blocked_after"].astype(float)).sum()),
        "delay": float((w * np.minimum(axes["time_after_min"], blocked_time_min) / 60.0).sum()),
        "detection": float((w * (1.0 - axes["detection_after"])).sum()),
        "throughput": float((w * axes["corridors_after"]).sum()),
    }
    return {k: values[k] for k in weights}


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
    unknown = sorted(set(weights) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown objective(s) {unknown}; known: {sorted(FAMILIES)}")
    if mode not in ("joint", "pooled", "national"):
        raise ValueError(f"unknown mode '{mode}'; use joint, pooled or national")
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
    obstacles, sensors, axes, budgets, routes_by_axis = _plan_tables(problem, network, choice,
                                                                     verify)
    values = family_values_from_axes(axes, weights, problem.blocked_time_min)
    if annual:
        budgets["budget_eur"] = budgets["holder"].map(lambda h: float(sum(annual[h])))
        budgets["remaining_eur"] = budgets["budget_eur"] - budgets["spend_eur"]
    schedule, yearly = pd.DataFrame(), pd.DataFrame()
    if years > 1:
        schedule, yearly = _schedule_tables(problem, network, weights, choices, build_years,
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


def _annual_budgets(problem: Problem, years: int, annual: dict[str, list[float]] | None):
    if years <= 1:
        return None
    out = {}
    for holder, total in problem.budgets.items():
        given = (annual or {}).get(holder)
        if given is not None and len(given) != years:
            raise ValueError(f"annual budget of '{holder}' has {len(given)} values, "
                             f"expected {years} (one per year)")
        out[holder] = [float(v) for v in given] if given is not None else [total / years] * years
    return out


def _schedule_tables(problem, network, weights, choices, build_years, obstacles, sensors):
    """Year each chosen site is built in; per year spend per holder and objective values."""
    built = pd.concat([obstacles.assign(kind="obstacle"), sensors.assign(kind="sensor")],
                      ignore_index=True)
    built["year"] = [build_years.get((r.site_id, r.type), 1) for r in built.itertuples()]
    rows = []
    for year, choice in enumerate(choices, start=1):
        _, _, axes, _, _ = _plan_tables(problem, network, choice, verify=False)
        row = {"year": year, **family_values_from_axes(axes, weights, problem.blocked_time_min)}
        this_year = built[(built["year"] == year) & ~built["fixed"]]
        for holder in sorted(problem.budgets):
            row[f"spend_{holder}_eur"] = float(
                this_year.loc[this_year["country"] == holder, "cost_eur"].sum())
        rows.append(row)
    columns = ["site_id", "type", "kind", "country", "cost_eur", "fixed", "year"]
    return built[columns].sort_values(["year", "site_id"]).reset_index(drop=True), \
        pd.DataFrame(rows)


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
