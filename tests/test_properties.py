"""Properties of every plan, over many generated instances (hypothesis)."""

from dataclasses import replace

import pytest
from helpers import evaluate, random_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import solve_problem

fast = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(min_value=0, max_value=10_000)
objectives = st.sampled_from(["blocked", "delay", "detection", "throughput"])


@fast
@given(seed=seeds, objective=objectives, mode=st.sampled_from(["joint", "pooled", "national"]))
def test_budget_never_exceeded(seed, objective, mode):
    problem = random_problem(seed)
    plan = solve_problem(problem, objective_weights={objective: 1.0}, mode=mode)
    if mode == "pooled":
        assert plan.spend <= sum(problem.budgets.values()) + 1e-6
    else:
        for row in plan.budgets.itertuples():
            assert row.spend_eur <= row.budget_eur + 1e-6


@fast
@given(seed=seeds, objective=objectives, scale=st.floats(min_value=1.0, max_value=3.0))
def test_objective_never_worse_when_a_budget_grows(seed, objective, scale):
    problem = random_problem(seed)
    richer = replace(problem, budgets={k: v * scale for k, v in problem.budgets.items()})
    base = solve_problem(problem, objective_weights={objective: 1.0})
    more = solve_problem(richer, objective_weights={objective: 1.0})
    assert more.report.objective >= base.report.objective - 1e-7


@fast
@given(seed=seeds, objective=objectives, shuffle=st.randoms(use_true_random=False))
def test_row_order_is_irrelevant(seed, objective, shuffle):
    problem = random_problem(seed)

    def permuted(frame):
        order = list(frame.index)
        shuffle.shuffle(order)
        return frame.loc[order].reset_index(drop=True)

    shuffled = replace(problem, obstacle_options=permuted(problem.obstacle_options),
                       sensor_options=permuted(problem.sensor_options),
                       axes=permuted(problem.axes))
    a = solve_problem(problem, objective_weights={objective: 1.0})
    b = solve_problem(shuffled, objective_weights={objective: 1.0})
    assert a.report.objective == pytest.approx(b.report.objective, abs=1e-7)
    assert a.spend == pytest.approx(b.spend, abs=1e-7)


@fast
@given(seed=seeds, objective=objectives, data=st.data())
def test_fixed_sites_always_chosen_excluded_never(seed, objective, data):
    problem = random_problem(seed)
    sites = sorted(problem.obstacle_options["site_id"].unique())
    fixed = data.draw(st.sampled_from(sites))
    excluded = data.draw(st.sampled_from([s for s in sites if s != fixed]))
    problem = replace(problem, fixed=frozenset({fixed}), excluded=frozenset({excluded}))
    plan = solve_problem(problem, objective_weights={objective: 1.0})
    chosen = set(plan.obstacles["site_id"])
    assert fixed in chosen and excluded not in chosen
    assert bool(plan.obstacles.set_index("site_id").at[fixed, "fixed"])
    # fixed sites are already built: their cost is not charged to any budget
    assert plan.spend == pytest.approx(
        plan.obstacles.loc[~plan.obstacles["fixed"], "cost_eur"].sum()
        + plan.sensors["cost_eur"].sum())
    truth = evaluate(problem, plan.choice.obstacles, set(plan.choice.sensors))[objective]
    assert plan.report.family_values[objective] == pytest.approx(truth)
