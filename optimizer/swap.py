"""Swap search: a tabu search over plans, the fast primal heuristic of delay solves.

A delay master (shortest-path interdiction) closes its integrality gap by branching, so on
large instances its plans come late: on the 40x80 grid with R = 10 the masters needed
most of 600 s for a plan of 322, which this search finds in about 3 s. Every plan it
visits is evaluated exactly by the oracle and respects the master's limits, so what it
returns is a true plan value (a lower bound on the optimum), never a bound.

Moves change the plan by one obstacle option; fixed sites and the start plan's sensors
stay as they are:

* add an option on an edge of the attacker's fastest route on some axis, if it fits;
* swap: drop an option and add one on such a route.

A plan better than the current one lengthens the fastest route of some axis, so it holds an
option on that route: only those are added. (Taking them from the routes under the plan
without the dropped option, which is where a single swap improves, was tried: on the 40x80
and 60x120 grids it ended at 321 and 465 against 322 and 468.)

Each iteration evaluates at most ``moves`` of these (sampled when there are more) and makes
the best one even when it is worse than the plan (ties at random); a dropped option may
not come back for a few iterations (tabu), unless it makes a new best plan. The search
ends at its deadline or after ``stall`` iterations without a new best plan. It is seeded,
so a run that ends by stalling is reproducible.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from optimizer.attacker import Choice, Network

RUNS = 3  # runs of the search, each from the start plan with its own seed
STALL = 30  # iterations without a new best plan end a run
MOVES = 300  # moves evaluated per iteration at most
TENURE = (5, 15)  # iterations a dropped option stays out (drawn at random in this range)


@dataclass
class SwapResult:
    choice: Choice
    value: float
    values: dict[str, float]
    iterations: int
    evaluations: int
    improved: bool
    found_at: float = 0.0  # time.perf_counter() when the returned plan was found
    runs: int = 0


def _above(value: float, reference: float) -> bool:
    """``value`` is better than ``reference`` by more than rounding."""
    return value > reference + 1e-9 * max(abs(reference), 1.0)


def _free_options(master) -> dict[str, list[tuple[str, str]]]:
    """The master's obstacle options by site, fixed sites left out (they stay as they are)."""
    fixed_sites = {key[0] for key in master.fixed_keys}
    free = defaultdict(list)
    for key in master.okeys:
        if key[0] not in fixed_sites:
            free[key[0]].append(key)
    return dict(free)


class _Limits:
    """The master's limits on a single-year plan: budgets (per holder, or pooled), limits
    per type; fixed options are sunk cost but count towards the type limits."""

    def __init__(self, master):
        budgets = master.problem.budgets
        self.pooled = master.mode == "pooled"
        self.budget = {None: sum(budgets.values())} if self.pooled else dict(budgets)
        self.per_type = dict(master.problem.max_per_type)
        self.cost, self.country, self.fixed = master.cost, master.country, master.fixed_keys

    def holder(self, key):
        """Whose budget an option spends (None: the pooled budget)."""
        return None if self.pooled else self.country[key]

    def usage(self, keys) -> tuple[dict, dict]:
        spend, count = defaultdict(float), defaultdict(int)
        for key in keys:
            count[key[1]] += 1
            if key not in self.fixed:
                spend[self.holder(key)] += self.cost[key]
        return spend, count

    def fits(self, spend: dict, count: dict, out, into) -> bool:
        """Whether the plan with usage (spend, count) may drop ``out`` and add ``into``."""
        holder = self.holder(into)
        after = spend[holder] + self.cost[into]
        if out is not None and self.holder(out) == holder:
            after -= self.cost[out]
        budget = self.budget.get(holder, 0.0)
        if after > budget + 1e-9 * max(1.0, abs(budget)):
            return False
        limit = self.per_type.get(into[1])
        if limit is None:
            return True
        return count[into[1]] + 1 - (out is not None and out[1] == into[1]) <= limit


def affordable(master) -> float:
    """The most obstacle options a single-year plan can add: per holder (or pooled), its
    budget over its cheapest free option (no limit where an option costs nothing), and at
    most the number of free sites."""
    free = _free_options(master)
    limits = _Limits(master)
    cheapest: dict = {}
    for keys in free.values():
        for key in keys:
            holder = limits.holder(key)
            cheapest[holder] = min(cheapest.get(holder, math.inf), master.cost[key])
    total = 0.0
    for holder, cost in cheapest.items():
        budget = limits.budget.get(holder, 0.0)
        total += math.inf if cost <= 0 else math.floor(budget / cost + 1e-9)
    return min(total, len(free))


def swap_search(master, network: Network, axes: list, start: Choice,
                evaluate: Callable[[Choice], tuple[float, dict[str, float]]], *,
                deadline: float, runs: int = RUNS, stall: int = STALL,
                moves: int = MOVES, first_seed: int = 0,
                enough: Callable[[float], bool] | None = None) -> SwapResult:
    """Tabu search from ``start`` (a plan within the master's limits) over the master's
    obstacle options, maximising ``evaluate`` (the exact objective): ``runs`` runs with
    seeds ``first_seed``, ``first_seed + 1``, ..., each from ``start`` and ending after
    ``stall`` iterations without a new best plan, all ending at ``deadline`` (a
    ``time.perf_counter`` value) or once ``enough(value)`` holds for the best plan (a
    value that meets a known bound); the best plan of all runs is returned."""
    value, values = evaluate(start)
    best = SwapResult(start, value, values, 0, 1, improved=False, found_at=time.perf_counter())
    iterations, evaluations, made = 0, 1, 0
    enough = enough or (lambda value: False)
    for seed in range(first_seed, first_seed + runs):
        if time.perf_counter() >= deadline or enough(best.value):
            break
        run = _tabu(master, network, axes, start, evaluate, deadline=deadline, stall=stall,
                    moves=moves, seed=seed, enough=enough)
        iterations, evaluations, made = (iterations + run.iterations,
                                         evaluations + run.evaluations, made + 1)
        if _above(run.value, best.value):
            best = run
    return replace(best, iterations=iterations, evaluations=evaluations, runs=made,
                   improved=_above(best.value, value))


def _tabu(master, network: Network, axes: list, start: Choice,
          evaluate: Callable[[Choice], tuple[float, dict[str, float]]], *,
          deadline: float, stall: int, moves: int, seed: int,
          enough: Callable[[float], bool]) -> SwapResult:
    """One run of the tabu search (see the module's docstring)."""
    rng = random.Random(seed)
    limits = _Limits(master)
    types = _free_options(master)
    fixed_sites = {key[0] for key in master.fixed_keys}
    fixed = {s: t for s, t in start.obstacles.items() if s in fixed_sites}
    plan = {s: t for s, t in start.obstacles.items() if s not in fixed_sites}
    sensors = start.sensors

    def choice_of(obstacles: dict) -> Choice:
        return Choice({**fixed, **obstacles}, sensors)

    def route_sites(obstacles: dict) -> set[str]:
        """Free sites on the attacker's fastest route of every axis under the plan."""
        effect = network.effect(choice_of(obstacles))
        sites: set[str] = set()
        for axis in axes:
            _, route = network.fastest(effect, axis.origin, axis.objective)
            for e in route or ():
                sites.update(s for s in network.edge_sites.get(e, ()) if s in types)
        return sites

    evaluations = 1
    value, values = evaluate(choice_of(plan))
    best_plan, best_value, best_values = dict(plan), value, values
    start_value, found_at = value, time.perf_counter()
    tabu: dict[str, int] = {}
    iteration = since_best = 0
    while since_best < stall and time.perf_counter() < deadline and not enough(best_value):
        iteration += 1
        since_best += 1
        spend, count = limits.usage([*{**fixed, **plan}.items(), *sensors])
        candidates = []  # (dropped key or None, added key)
        sites = sorted(route_sites(plan))
        for out in [None, *plan.items()]:
            for site in sites:
                if site in plan and (out is None or site != out[0]):
                    continue
                candidates += [(out, key) for key in types[site]
                               if key != out and limits.fits(spend, count, out, key)]
        rng.shuffle(candidates)
        chosen = None
        for out, into in candidates[:moves]:
            if time.perf_counter() >= deadline:
                break
            trial = {s: t for s, t in plan.items() if out is None or s != out[0]}
            trial[into[0]] = into[1]
            trial_value, trial_values = evaluate(choice_of(trial))
            evaluations += 1
            new_best = _above(trial_value, best_value)
            if tabu.get(into[0], 0) >= iteration and not new_best:
                continue
            if chosen is None or trial_value > chosen[0]:
                chosen = (trial_value, trial_values, trial, out)
        if chosen is None:
            break  # nothing to add or swap
        value, values, plan, out = chosen
        if out is not None:
            tabu[out[0]] = iteration + rng.randint(*TENURE)
        if _above(value, best_value):
            best_plan, best_value, best_values = dict(plan), value, values
            since_best, found_at = 0, time.perf_counter()
    return SwapResult(choice_of(best_plan), best_value, best_values, iteration, evaluations,
                      improved=_above(best_value, start_value),
                      found_at=found_at, runs=1)

