"""Build schedules over years against brute-force enumeration of (type, year) per site."""

import itertools
from dataclasses import replace

import pytest
from helpers import evaluate, random_problem

from optimizer import solve_problem


def _brute_schedule(problem, objective, annual, carry_over):
    oo, so = problem.obstacle_options, problem.sensor_options
    years = len(next(iter(annual.values())))
    sites = [(s, list(oo.loc[oo.site_id == s, "type"]), "o") for s in sorted(set(oo.site_id))]
    sites += [(s, list(so.loc[so.site_id == s, "type"]), "s") for s in sorted(set(so.site_id))]
    cost = {(r.site_id, r.type): (r.cost, r.country) for r in oo.itertuples()}
    cost |= {(r.site_id, r.type): (r.cost, r.country) for r in so.itertuples()}
    choices = [[None] + [(t, y) for t in types for y in range(years)] for _, types, _ in sites]
    sense = 1 if objective in ("blocked", "delay") else -1
    best = None
    for pick in itertools.product(*choices):
        spend = {(h, y): 0.0 for h in annual for y in range(years)}
        for (site, _, _), p in zip(sites, pick, strict=True):
            if p is not None:
                c, h = cost[(site, p[0])]
                spend[(h, p[1])] += c
        ok = True
        for h in annual:
            for y in range(years):
                used = sum(spend[(h, k)] for k in range(y + 1)) if carry_over else spend[(h, y)]
                limit = sum(annual[h][: y + 1]) if carry_over else annual[h][y]
                ok &= used <= limit + 1e-9
        if not ok:
            continue
        total = 0.0
        for y in range(years):
            obstacles = {s: p[0] for (s, _, k), p in zip(sites, pick, strict=True)
                         if p is not None and k == "o" and p[1] <= y}
            sensors = {(s, p[0]) for (s, _, k), p in zip(sites, pick, strict=True)
                       if p is not None and k == "s" and p[1] <= y}
            total += evaluate(problem, obstacles, sensors)[objective]
        if best is None or sense * total > sense * best + 1e-9:
            best = total
    return best


def _instance(seed):
    """Seeds where blocking is reachable and (for 57) carry-over changes the optimum."""
    problem = random_problem(seed, n_sites=3, n_sensors=1)
    problem = replace(problem, budgets={h: b * 1.5 for h, b in problem.budgets.items()})
    return problem, {h: [b * 0.3, b * 0.7] for h, b in problem.budgets.items()}


def test_pinned_instances_are_not_trivial():
    problem, annual = _instance(57)
    assert _brute_schedule(problem, "blocked", annual, False) == 0
    assert _brute_schedule(problem, "blocked", annual, True) == 1
    problem, annual = _instance(49)
    assert _brute_schedule(problem, "blocked", annual, False) == 10


@pytest.mark.parametrize("objective", ["blocked", "delay", "detection"])
@pytest.mark.parametrize("carry_over", [False, True])
@pytest.mark.parametrize("seed", [43, 49, 56, 57, 64])
def test_schedule_matches_brute_force(seed, carry_over, objective):
    problem, annual = _instance(seed)
    plan = solve_problem(problem, objective_weights={objective: 1.0}, years=2,
                         annual_budgets=annual, carry_over=carry_over)
    assert plan.report.status == "optimal"
    expected = _brute_schedule(problem, objective, annual, carry_over)
    assert plan.report.family_values[objective] == pytest.approx(expected, abs=1e-6)
    assert list(plan.yearly["year"]) == [1, 2]
    # what is built stays built, and each year's spend respects its budget
    for holder, amounts in annual.items():
        spent = plan.yearly[f"spend_{holder}_eur"].tolist()
        if carry_over:
            assert spent[0] <= amounts[0] + 1e-6 and sum(spent) <= sum(amounts) + 1e-6
        else:
            assert all(s <= a + 1e-6 for s, a in zip(spent, amounts, strict=True))
    assert set(plan.schedule["year"]) <= {1, 2}


def test_schedule_protection_never_falls_year_on_year():
    problem = random_problem(7, n_sites=4)
    plan = solve_problem(problem, years=3)
    values = plan.yearly["blocked"].tolist()
    assert values == sorted(values)
