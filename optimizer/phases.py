"""Master rounds and the phases made of them, for the decomposition loop
(``optimizer.solve``).

A round solves the master, evaluates its plan and every improving plan the solver met on
the way exactly (the oracle), keeps the best, and separates the routes and cuts those plans
violate. The phases: the LP relaxation's cutting loop before the integer rounds
(``relaxation_cuts``), the neighbourhood search that ends a delay solve stopped unproven
(``polish``), and the cheapest-plan phase after a proven optimum (``cheapest``).
"""

from __future__ import annotations

import logging

import numpy as np
import pulp

from optimizer.attacker import Choice, Network
from optimizer.solvers import solve_milp

log = logging.getLogger(__name__)

LP_ROUNDS = 2000  # at most this many rounds of the LP relaxation's cutting loop
LP_SHARE = 0.25  # ... and at most this share of the time limit
# HiGHS branches on pseudocosts from the first node instead of strong branching each
# candidate until it has 8 observations (its default): the masters have many alike binaries,
# and strong branching dominated their solves. Measured on saved SNIP B = 50 masters: 2-3x
# faster each (16.1 s -> 5.1 s, 24.8 s -> 9.2 s); whole solves in README "Measured".
#
# RENS off: HiGHS 1.16 can loop forever, deaf to its time limit, in the presolve
# (HPresolve::strengthenInequalities) of its RENS sub-MIP at the root of a master started
# from the best plan. Found on the embedded default with blocked=1,delay=0.01 (round 5's
# master; saved as tests/data/highs_rens_hang.mps.gz with its start): without RENS that
# master solves in 0.6 s. The masters start from the best plan, so RENS's plans are rarely
# needed (measured in benchmarks/README.md).
MASTER_TUNING = {"mip_pscost_minreliable": 0, "mip_heuristic_run_rens": False}

# A neighbourhood search (``polish``) starts with this many free options.
POLISH_OPTIONS = 300


def evaluate(stages, weights, network, choices) -> tuple[float, dict[str, float]]:
    """Objective of a plan (one choice per year) and each family's value summed over years."""
    total, values = 0.0, {name: 0.0 for name in weights}
    for (_, families), choice in zip(stages, choices, strict=True):
        effect = network.effect(choice)
        for family in families:
            value = family.evaluate(effect)[0]
            values[family.name] += value
            total += weights[family.name] * family.sense * value
    return total, values


def separate(network, stages, choices: list[Choice]) -> int:
    """Add the routes and cuts a plan (one choice per year) violates at the master's values;
    returns how many were added."""
    added = 0
    for (view, families), choice in zip(stages, choices, strict=True):
        effect = network.effect(choice)
        added += sum(f.separate(view, choice, effect, values=True) for f in families)
    return added


def round_plans(master, stages, found: list) -> tuple[list, list]:
    """A master solve's columns and its distinct plans as (solution, choices, build years):
    its final plan first (solution None when the solver reported no incumbents, as CBC),
    then the other improving solutions HiGHS met, newest first. The master's values are
    left at the last one: ``separate_plans`` sets each and restores the final one."""
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


def keep_best(network, stages, weights, plans: list, best, best_value: float,
              best_values: dict, margin: float = 0.0) -> tuple:
    """Evaluate a round's plans exactly and keep the best: a plan replaces the best one
    when its value is more than ``margin`` above it. Returns (best, value, family values)."""
    for _, choices, years in plans:
        value, values = evaluate(stages, weights, network, choices)
        if value > best_value + margin:
            best_value, best, best_values = value, (choices, years), values
    return best, best_value, best_values


def separate_plans(network, stages, solved: list, plans: list) -> list[int]:
    """Separate at each plan of a round (the master's values set to that plan's solution),
    then restore the final plan's values; returns how many were added at each."""
    added = []
    for solution, choices, _ in plans:
        if solution is not None:
            _assign(solved, solution)
        added.append(separate(network, stages, choices))
    if plans[0][0] is not None:
        _assign(solved, plans[0][0])
    return added


def build_years(master, choice: Choice) -> dict:
    """A single-year plan's options as built in year 1 (the master's build variables)."""
    keys = [*choice.obstacles.items(), *choice.sensors]
    return {key: 1 for key in keys if key in master.build[0]}


def start_values(master, years_built: dict) -> dict:
    """A plan as a start for the master: the value of every build variable."""
    return {var: float(years_built.get(key) == year + 1)
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


def polish(master, network, stages, weights, settings, remaining, best, best_value,
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
                                     start=start_values(master, best[1]))
                if not outcome.has_solution:
                    break
                solved, plans = round_plans(master, stages, found)
                before = best_value
                best, best_value, best_values = keep_best(
                    network, stages, weights, plans, best, best_value, best_values,
                    margin=1e-9 * max(abs(best_value), 1.0))
                improved = improved or best_value > before
                log.info("neighbourhood round %d (%d options free): master %s in %.2fs, "
                         "best %.6g", rounds, len(free), outcome.status, outcome.runtime_s,
                         best_value)
                if proven(best_value) or not sum(separate_plans(network, stages, solved,
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


def relaxation_cuts(master, stages, settings, remaining, single,
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


def cheapest(master, network, stages, weights, primary, optimum, best, settings, remaining,
             max_rounds, tol):
    """Minimise spend subject to the objective staying at its proven optimum."""
    floor = optimum - tol * max(abs(optimum), 1e-9) - 1e-9
    master.add(primary >= floor, "optimum_floor")
    master.prob.sense = pulp.LpMaximize
    master.prob.setObjective(-1.0 * master.spend_expression())
    best_spend = spend_of(master, best[0])
    for rounds in range(1, max_rounds + 1):
        if remaining() <= 0:
            return best, "time limit (cheapest plan found so far kept)", rounds
        found: list = []
        outcome = solve_milp(master.prob, settings, time_limit=remaining(), incumbents=found,
                             tuning=MASTER_TUNING, start=start_values(master, best[1]))
        if not outcome.has_solution:
            return best, f"stopped: {outcome.status}", rounds
        # the master's plan and every other plan it met: keep the cheapest that holds the
        # optimum, and separate at each (several plans' routes per master solve)
        solved, plans = round_plans(master, stages, found)
        values = []
        for _, choices_k, years_k in plans:
            values.append(evaluate(stages, weights, network, choices_k)[0])
            spend = spend_of(master, choices_k)
            if values[-1] >= floor and spend < best_spend - 1e-6:
                best, best_spend = (choices_k, years_k), spend
        added = separate_plans(network, stages, solved, plans)
        log.info("cheapest-plan round %d: master %s in %.2fs, %d plans, best spend %.6g, "
                 "%d added", rounds, outcome.status, outcome.runtime_s, len(plans), best_spend,
                 sum(added))
        if added[0] == 0:
            # nothing cuts off the master's own plan: it is the cheapest plan that holds
            # the optimum (the master is a relaxation), if the master was solved to the end
            proven = outcome.status == "optimal" and values[0] >= floor
            return best, "optimal" if proven else "feasible", rounds
    return best, "round limit", max_rounds


def spend_of(master, choices: list[Choice]) -> float:
    """Spend of a plan: everything built by the last year, fixed sites excepted."""
    last = choices[-1]
    keys = [(s, t) for s, t in last.obstacles.items()] + list(last.sensors)
    return sum(master.cost[k] for k in keys if k not in master.fixed_keys)
