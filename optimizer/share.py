"""Burden sharing: what each budget holder gains from the joint line, and a fair split of its cost.

The coalition game. Players N are the budget holders. For a coalition S its members plan
jointly (joint mode: their own sites, each national budget binding) for the threat axes
into their own territory:

    v(S) = the largest blocked weight of S's axes S can reach on its own
    c(S) = the spend of S's cheapest plan reaching v(S)

(each a proven optimum of the engine; the others plan alone, and the metrics of that whole
coalition structure are reported too). Joint planning can always reproduce the national
plans, so v is superadditive: v(N) >= sum_i v({i}).

Splits. The Shapley value phi_i = sum_{S not containing i} |S|!(n-|S|-1)!/n! (v(S+i) - v(S))
of the value game (and of the cost game: the fair cost share). An allocation x of v(N) is
in the core when x(S) >= v(S) for every coalition S. When the Shapley split is not, the
least core (the first step of the nucleolus) is the LP

    max eps  s.t.  sum_{i in S} x_i >= v(S) + eps  (S != N, S non-empty),  sum_i x_i = v(N)

whose solution minimises the largest complaint v(S) - x(S).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import pandas as pd
import pulp

from optimizer.attacker import Choice, Network
from optimizer.plan import Plan
from optimizer.problem import Problem
from optimizer.solve import solve_problem
from optimizer.solvers import SolverSettings, solve_milp

Coalition = frozenset


def coalitions(players: list[str]) -> list[frozenset]:
    """Every non-empty coalition, smallest first."""
    return [frozenset(c) for k in range(1, len(players) + 1)
            for c in itertools.combinations(sorted(players), k)]


def shapley(players: list[str], value: dict[frozenset, float]) -> dict[str, float]:
    """Shapley value of a game given on every coalition (the empty one is worth 0)."""
    n = len(players)
    out = {}
    for i in players:
        others = [p for p in players if p != i]
        total = 0.0
        for k in range(n):
            for group in itertools.combinations(others, k):
                s = frozenset(group)
                weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
                total += weight * (value[s | {i}] - value.get(s, 0.0))
        out[i] = total
    return out


def core_violations(players: list[str], value: dict[frozenset, float],
                    allocation: dict[str, float], tol: float = 1e-9) -> dict[frozenset, float]:
    """Coalitions that would do better alone: S -> complaint v(S) - x(S) > 0."""
    out = {}
    for s in coalitions(players):
        complaint = value[s] - sum(allocation[i] for i in s)
        if complaint > tol:
            out[s] = complaint
    return out


def least_core(players: list[str], value: dict[frozenset, float],
               settings: SolverSettings | None = None) -> tuple[dict[str, float], float]:
    """The allocation minimising the largest complaint, and that complaint (-eps)."""
    prob = pulp.LpProblem("least_core", pulp.LpMaximize)
    x = prob.add_variable_dicts("x", list(range(len(players))))
    eps = prob.add_variable("eps")
    index = {p: i for i, p in enumerate(players)}
    prob += eps
    grand = frozenset(players)
    prob += pulp.lpSum(x.values()) == value[grand], "efficiency"
    for k, s in enumerate(coalitions(players)):
        if s != grand:
            # complaint row: x(S) >= v(S) + eps
            prob += pulp.lpSum(x[index[i]] for i in s) >= value[s] + eps, f"coalition_{k}"
    outcome = solve_milp(prob, settings or SolverSettings(gap_rel=0.0))
    if outcome.status != "optimal":
        raise RuntimeError(f"least-core LP ended {outcome.status}")
    return {p: float(x[index[p]].varValue) for p in players}, -float(eps.varValue)


@dataclass(frozen=True)
class ShareResult:
    """Coalition values, fair splits and the attribution of the joint plan."""

    coalitions: pd.DataFrame
    shares: pd.DataFrame
    attribution: pd.DataFrame
    least_core_complaint: float | None
    grand_plan: Plan
    plans: dict[frozenset, Plan]


def coalition_problem(problem: Problem, members: frozenset) -> Problem:
    """The members' own sites, budgets and the axes into their territory."""
    sub = problem.restricted_to(set(members))
    axes = problem.axes[problem.axes["country"].isin(members)].reset_index(drop=True)
    return replace(sub, axes=axes)


def _clean(x: float, digits: int) -> float:
    """Round away summation noise (a transfer of -1.9e-09 EUR is 0 EUR; -0.0 is 0.0)."""
    return round(x, digits) + 0.0


def analyse_sharing(problem: Problem, *, settings: SolverSettings | None = None,
                    objective: str = "blocked") -> ShareResult:
    """Solve every coalition, split value and cost fairly, attribute the joint plan."""
    players = sorted(problem.budgets)
    settings = settings or SolverSettings()
    value, cost, plans, rows = {}, {}, {}, []
    network_full = Network(problem)
    for s in coalitions(players):
        sub = coalition_problem(problem, s)
        plan = solve_problem(sub, objective_weights={objective: 1.0}, mode="joint",
                             settings=settings, verify=False)
        plans[s] = plan
        ok = plan.report.status == "optimal"
        value[s] = plan.report.family_values.get(objective, 0.0) if ok else math.nan
        cost[s] = plan.spend if ok else math.nan
        rows.append({"coalition": "+".join(sorted(s)), "size": len(s), "value": value[s],
                     "plan_cost_eur": cost[s], "status": plan.report.status,
                     "gap": plan.report.gap})
    for row, s in zip(rows, coalitions(players), strict=True):
        # the coalition structure: S jointly, every other holder alone (singletons solved above)
        structure = plans[s].choice
        for other in sorted(set(players) - s):
            structure = _union(structure, plans[frozenset({other})].choice)
        row["structure_blocked_weight"] = _blocked_weight(network_full, structure)
    grand = frozenset(players)
    phi = shapley(players, value)
    fair_cost = shapley(players, cost)
    violations = core_violations(players, value, phi)
    complaint, nucleolus = None, {}
    if violations:
        nucleolus, complaint = least_core(players, value)
    grand_plan = plans[grand]
    spend = grand_plan.budgets.set_index("holder")["spend_eur"].to_dict()
    shares = pd.DataFrame([{
        "country": p, "shapley_value_share": _clean(phi[p], 9),
        "standalone_value": value[frozenset({p})],
        "gain_from_cooperation": _clean(phi[p] - value[frozenset({p})], 9),
        "fair_cost_eur": _clean(fair_cost[p], 2), "actual_spend_eur": spend.get(p, 0.0),
        # positive: the country should pay this much to the others; negative: receive it
        "transfer_eur": _clean(fair_cost[p] - spend.get(p, 0.0), 2),
        "in_core": not violations,
        "least_core_share": _clean(nucleolus[p] if nucleolus else phi[p], 9),
    } for p in players])
    return ShareResult(coalitions=pd.DataFrame(rows), shares=shares,
                       attribution=_attribution(problem, network_full, grand_plan, players),
                       least_core_complaint=complaint, grand_plan=grand_plan, plans=plans)


def _union(a: Choice, b: Choice) -> Choice:
    return Choice({**b.obstacles, **a.obstacles}, a.sensors | b.sensors)


def _axis_blocked(network: Network, choice: Choice) -> dict[str, bool]:
    effect = network.effect(choice)
    return {a.axis_id: network.fastest(effect, a.origin, a.objective)[0] >= a.threshold_min
            for a in network.problem.axes.itertuples()}


def _blocked_weight(network: Network, choice: Choice) -> float:
    blocked = _axis_blocked(network, choice)
    return float(sum(a.weight for a in network.problem.axes.itertuples() if blocked[a.axis_id]))


def _attribution(problem: Problem, network: Network, plan: Plan, players: list[str]):
    """Per country: what it pays for, which axes depend on its sites, and how much of its
    own protection rests on sites on other countries' territory."""
    choice = plan.choice
    country_of = {**dict(zip(problem.obstacle_options["site_id"],
                             problem.obstacle_options["country"], strict=True)),
                  **dict(zip(problem.sensor_options["site_id"],
                             problem.sensor_options["country"], strict=True))}
    full = _axis_blocked(network, choice)
    weights = dict(zip(problem.axes["axis_id"], problem.axes["weight"], strict=True))
    axis_country = dict(zip(problem.axes["axis_id"], problem.axes["country"], strict=True))
    rows = []
    for p in players:
        without = Choice({s: t for s, t in choice.obstacles.items() if country_of[s] != p},
                         frozenset(k for k in choice.sensors if country_of[k[0]] != p))
        only_own = Choice({s: t for s, t in choice.obstacles.items() if country_of[s] == p},
                          frozenset(k for k in choice.sensors if country_of[k[0]] == p))
        lost = _axis_blocked(network, without)
        own = _axis_blocked(network, only_own)
        protects = [a for a in full if full[a] and not lost[a]]
        mine = [a for a in full if axis_country[a] == p and full[a]]
        foreign = [a for a in mine if not own[a]]
        rows.append({
            "country": p,
            "sites_paid": sum(country_of[s] == p for s in choice.obstacles)
            + sum(country_of[k[0]] == p for k in choice.sensors),
            "spend_eur": float(plan.budgets.set_index("holder").at[p, "spend_eur"]),
            "axes_depending_on_its_sites": " ".join(sorted(protects)),
            "weight_depending_on_its_sites": sum(weights[a] for a in protects),
            "own_axes_blocked_weight": sum(weights[a] for a in mine),
            "own_protection_from_foreign_sites": sum(weights[a] for a in foreign),
        })
    return pd.DataFrame(rows)
