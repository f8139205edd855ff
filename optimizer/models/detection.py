"""Detection (Morton, Pan & Saeger 2007): minimise the expected maximum evasion probability.

On axis (threat scenario) a with probability weight W_a the evader takes the route P that
maximises his evasion probability, the product over its edges of r_e times (1 - p_j) for
each chosen sensor j watching the edge; a route through a blocking obstacle has value 0.
theta_a >= that maximum; objective min sum_a W_a theta_a.

Cuts (outer approximation, exact at the plan that generated them). For a route P and
plan y^ with value f = f(P, y^), and Q_j = (1 - p_j)^{n_j(P)} for a sensor j watching
n_j(P) edges of P, Weierstrass' product inequality gives, for every plan y:

    theta_a >= f * (1 - sum_{j not in y^} (1 - Q_j) y_j - sum_{(s,t) on P, blocking} x[s,t])

(removing a sensor of y^ only raises P's value, so those terms are dropped). The oracle
(most reliable path with the plan applied) adds cuts until no scenario's value exceeds
its theta.
"""

from __future__ import annotations

import math

import numpy as np
import pulp

from optimizer.attacker import Choice, Effect, Network

TOL = 1e-9  # absolute: below this an evasion probability counts as resolved


class DetectionFamily:
    name = "detection"
    sense = -1.0
    unit = "expected max evasion probability"

    def __init__(self, network: Network, routes_per_round: int):
        self.network = network
        self.k = routes_per_round
        self.axes = list(network.problem.axes.itertuples())
        self.theta: dict[str, pulp.LpVariable] = {}
        self.rounds_routes = 0

    def relevant(self) -> np.ndarray:
        return np.ones(len(self.network.edge_ids), dtype=bool)

    def build(self, master) -> None:
        thetas = master.prob.add_variable_dicts(f"{master.prefix}theta", list(range(len(self.axes))), 0, 1)
        self.theta = {a.axis_id: thetas[i] for i, a in enumerate(self.axes)}

    def objective(self, master) -> pulp.LpAffineExpression:
        return pulp.lpSum(a.weight * self.theta[a.axis_id] for a in self.axes)

    def _add_cut(self, master, axis, route: list[int], choice: Choice, value: float) -> None:
        counts: dict[tuple[str, str], int] = {}
        for e in route:
            for key in self.network.edge_sensors.get(e, ()):
                counts[key] = counts.get(key, 0) + 1
        terms = []
        for key, n in counts.items():
            if key in master.y and key not in choice.sensors:
                q = (1.0 - self.network.detection[key]) ** n
                terms.append((1.0 - q) * master.y[key])
        for option_key, _ in master.route_terms(route):
            if self.network.options[option_key].blocks:
                terms.append(1.0 * master.x[option_key])
        # evasion cut: theta_a >= f(P, y^) (1 - sum (1 - Q_j) y_j - sum blocking x)
        master.add(self.theta[axis.axis_id] >= value * (1 - pulp.lpSum(terms)),
                   f"cut_{self.name}")
        self.rounds_routes += 1

    def separate(self, master, choice: Choice, effect: Effect, values: bool) -> int:
        added = 0
        watched = np.zeros(len(self.network.edge_ids), dtype=bool)
        watched[list(self.network.edge_sensors)] = True
        for axis in self.axes:
            theta = (self.theta[axis.axis_id].varValue or 0.0) if values else -1.0
            penalty = np.zeros(len(self.network.edge_ids))
            for _ in range(self.k):
                shifted = Effect(effect.delay, effect.blocked, effect.log_evasion - penalty,
                                 effect.observed)
                _, route = self.network.most_reliable(shifted, axis.origin, axis.objective)
                if route is None:
                    break
                value = math.exp(float(effect.log_evasion[route].sum()))
                if value <= theta + TOL:
                    break
                self._add_cut(master, axis, route, choice, value)
                added += 1
                used = [e for e in route if watched[e]]
                if not used:
                    break
                penalty[used] += 5.0
        return added

    def evaluate(self, effect: Effect) -> tuple[float, dict[str, float]]:
        per_axis = {}
        for axis in self.axes:
            value, _ = self.network.most_reliable(effect, axis.origin, axis.objective)
            per_axis[axis.axis_id] = value
        return sum(a.weight * per_axis[a.axis_id] for a in self.axes), per_axis
