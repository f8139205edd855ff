"""The fast array oracle equals the plain NetworkX reference on random plans."""

import math
import random

import pytest
from helpers import evaluate, plans, random_problem

from optimizer.attacker import Choice, Network, reference_metrics


@pytest.mark.parametrize("seed", range(10))
def test_fast_oracle_equals_reference(seed):
    problem = random_problem(seed, rows=3, cols=4, n_sites=6)
    network = Network(problem)
    rng = random.Random(seed)
    all_plans = list(plans(problem))
    for obstacles, sensors in rng.sample(all_plans, min(15, len(all_plans))):
        choice = Choice(obstacles, frozenset(sensors))
        effect = network.effect(choice)
        for axis in problem.axes.itertuples():
            ref = reference_metrics(problem, choice, axis.origin, axis.objective)
            t, route = network.fastest(effect, axis.origin, axis.objective)
            ev, _ = network.most_reliable(effect, axis.origin, axis.objective)
            flow = network.corridors(effect, axis.origin, axis.objective)
            assert (math.isinf(t) and math.isinf(ref["time_min"])) or t == pytest.approx(
                ref["time_min"])
            assert ev == pytest.approx(ref["evasion"])
            assert flow == ref["corridors"]
        # and both equal the definitions evaluated independently in the test helpers
        values = evaluate(problem, obstacles, sensors)
        fast_blocked = sum(a.weight * (network.fastest(effect, a.origin, a.objective)[0]
                                       >= a.threshold_min) for a in problem.axes.itertuples())
        assert fast_blocked == pytest.approx(values["blocked"])


@pytest.mark.parametrize("seed", range(10))
def test_routes_within_the_relevant_edges_decide_like_the_whole_graph(seed):
    """The blocked family looks for each axis's routes only on the edges of routes faster
    than its threshold without a plan: with any plan, a route faster than the threshold is
    found there with the same time, and where none exists none is found there either."""
    from optimizer.models.blocked import BlockedFamily

    problem = random_problem(seed, rows=3, cols=4, n_sites=6)
    network = Network(problem)
    family = BlockedFamily(network, 4)
    assert family.within, "the relevant edges leave some edges out"
    rng = random.Random(seed)
    all_plans = list(plans(problem))
    for obstacles, sensors in rng.sample(all_plans, min(15, len(all_plans))):
        effect = network.effect(Choice(obstacles, frozenset(sensors)))
        for axis in problem.axes.itertuples():
            whole, _ = network.fastest(effect, axis.origin, axis.objective)
            restricted, route = network.fastest(effect, axis.origin, axis.objective,
                                                within=family.within.get(axis.axis_id))
            if whole < axis.threshold_min:
                assert restricted == pytest.approx(whole)
                assert all(family.axis_edges[axis.axis_id][route])
            else:
                assert restricted >= axis.threshold_min
    with pytest.raises(ValueError):
        network.shortest(network.time, ~effect.blocked, "s", reverse=True,
                         within=next(iter(family.within.values())))


@pytest.mark.parametrize("seed", range(5))
def test_most_reliable_routes_from_one_tree_equal_one_call_per_target(seed):
    problem = random_problem(seed, rows=3, cols=4, n_sites=6)
    network = Network(problem)
    rng = random.Random(seed)
    targets = sorted(network.nodes)
    for obstacles, sensors in rng.sample(list(plans(problem)), 5):
        effect = network.effect(Choice(obstacles, frozenset(sensors)))
        tree = network.most_reliable_from(effect, "s", targets)
        for target in targets:
            ref = reference_metrics(problem, Choice(obstacles, frozenset(sensors)), "s", target,
                                    with_corridors=False)
            assert tree[target][0] == pytest.approx(ref["evasion"])
            assert tree[target] == network.most_reliable(effect, "s", target)
