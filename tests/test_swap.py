"""The swap search (optimizer.swap): plans within the master's limits, true values, and the
brute-force optimum on small instances; how many options a plan can afford."""

import math
import time
from dataclasses import replace

import pytest
from helpers import brute_force, evaluate, feasible, random_problem

from optimizer import phases
from optimizer.attacker import Choice, Network
from optimizer.models import FAMILIES, Master
from optimizer.solve import _fixed_choice, _relevant_options
from optimizer.swap import affordable, swap_search


def _search(problem, mode="joint", start=None, **options):
    network = Network(problem)
    family = FAMILIES["delay"](network, 4)
    obstacle_keys, sensor_keys = _relevant_options(network, [family])
    master = Master(problem, network, mode=mode, obstacle_keys=obstacle_keys,
                    sensor_keys=sensor_keys)
    stages = [(master, [family])]
    start = _fixed_choice(problem) if start is None else start
    options.setdefault("deadline", time.perf_counter() + 60)
    result = swap_search(master, network, family.axes, start,
                         lambda choice: phases.evaluate(stages, {"delay": 1.0}, network, [choice]),
                         **options)
    return master, start, result


def _per_type(obstacles: dict) -> dict:
    count: dict = {}
    for kind in obstacles.values():
        count[kind] = count.get(kind, 0) + 1
    return count


@pytest.mark.parametrize("mode", ["joint", "pooled"])
@pytest.mark.parametrize("seed", range(8))
def test_plans_stay_within_limits_and_report_their_true_value(seed, mode):
    problem = random_problem(seed, n_sites=6, n_sensors=0)
    if seed % 2:  # a type limit that binds
        kind = problem.obstacle_options["type"].iloc[0]
        problem = replace(problem, max_per_type={kind: 1})
    if seed % 3 == 0:  # a fixed site stays in every plan
        problem = replace(problem, fixed=frozenset({problem.obstacle_options["site_id"].iloc[-1]}))
    before = time.perf_counter()
    _, start, result = _search(problem, mode)
    assert before <= result.found_at <= time.perf_counter()
    obstacles = result.choice.obstacles
    assert feasible(problem, obstacles, set(), mode)
    for kind, limit in problem.max_per_type.items():
        assert _per_type(obstacles).get(kind, 0) <= limit
    assert set(start.obstacles.items()) <= set(obstacles.items())
    truth = evaluate(problem, obstacles, set())["delay"]
    assert result.value == pytest.approx(truth, abs=1e-9)
    assert result.values["delay"] == pytest.approx(truth, abs=1e-9)
    start_value = evaluate(problem, start.obstacles, set())["delay"]
    assert result.value >= start_value - 1e-9
    assert result.improved == (result.value > start_value + 1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_the_start_plans_sensors_stay_paid_for_and_observe(seed):
    # sensors are not moved, but their cost binds the budget and observed obstacles delay
    # by their observed delay in every value the search reports
    problem = random_problem(seed, n_sites=6, n_sensors=2)
    sensor = next(r for r in problem.sensor_options.itertuples()
                  if r.cost <= problem.budgets[r.country])
    start = Choice({}, frozenset({(sensor.site_id, sensor.type)}))
    _, _, result = _search(problem, start=start)
    assert result.choice.sensors == start.sensors
    sensors = set(start.sensors)
    assert feasible(problem, result.choice.obstacles, sensors, "joint")
    assert result.value == pytest.approx(
        evaluate(problem, result.choice.obstacles, sensors)["delay"], abs=1e-9)


@pytest.mark.parametrize("mode", ["joint", "pooled"])
@pytest.mark.parametrize("seed", range(8))
def test_reaches_the_brute_force_optimum_on_small_instances(seed, mode):
    problem = random_problem(seed, rows=3, cols=4, n_sites=7, n_sensors=0)
    _, _, result = _search(problem, mode)
    expected, _ = brute_force(problem, "delay", mode)
    assert result.value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_each_iteration_makes_the_best_move(seed):
    # one option affordable, one run that stops at its first iteration without a new best
    # plan: the first iteration must add the best single option of all (brute force)
    problem = random_problem(seed, rows=4, cols=6, n_sites=30, n_sensors=0, n_axes=1)
    problem = replace(problem, obstacle_options=problem.obstacle_options.assign(cost=1.0),
                      budgets={"A": 1.0, "B": 0.0})
    _, _, result = _search(problem, "pooled", runs=1, stall=1)
    singles = [evaluate(problem, {r.site_id: r.type}, set())["delay"]
               for r in problem.obstacle_options.itertuples()]
    assert len(result.choice.obstacles) == 1
    assert result.value == pytest.approx(max(singles), abs=1e-9)


def test_no_run_or_a_passed_deadline_returns_the_start_plan():
    problem = random_problem(3, rows=3, cols=4, n_sites=7, n_sensors=0)
    for options in ({"runs": 0}, {"deadline": time.perf_counter() - 1}):
        _, start, result = _search(problem, **options)
        assert result.iterations == 0 and result.choice == start and not result.improved


def test_runs_are_counted_and_a_plan_that_meets_the_bound_ends_the_search():
    problem = random_problem(2, rows=3, cols=4, n_sites=7, n_sensors=0)
    expected, _ = brute_force(problem, "delay", "joint")
    _, _, full = _search(problem, runs=4)
    assert full.runs == 4 and full.value == pytest.approx(expected, abs=1e-9)
    _, _, enough = _search(problem, runs=4, enough=lambda value: value >= expected - 1e-9)
    assert enough.runs == 1 and enough.value == pytest.approx(expected, abs=1e-9)
    assert enough.iterations < full.iterations / 4  # stopped at the optimum, not by stalling


def test_affordable_counts_the_options_a_budget_buys():
    problem = random_problem(5, n_sites=6, n_sensors=0)
    costs = problem.obstacle_options
    network = Network(problem)
    for mode in ("joint", "pooled"):
        master = Master(problem, network, mode=mode)
        if mode == "pooled":
            expected = math.floor(sum(problem.budgets.values()) / costs["cost"].min())
        else:
            expected = sum(math.floor(problem.budgets[h] / group["cost"].min())
                           for h, group in costs.groupby("country"))
        assert affordable(master) == min(expected, costs["site_id"].nunique())
    free = replace(problem, obstacle_options=costs.assign(cost=0.0))
    assert affordable(Master(free, Network(free), mode="joint")) == costs["site_id"].nunique()
