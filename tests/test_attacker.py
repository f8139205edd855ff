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
