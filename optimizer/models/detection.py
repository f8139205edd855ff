"""Detection (Morton, Pan & Saeger 2007): minimise the expected maximum evasion probability.

On axis (threat scenario) a with probability weight W_a the evader takes the route P that
maximises his evasion probability, the product over its edges of r_e times (1 - p_j) for
each chosen sensor j watching the edge; a route through a blocking obstacle has value 0.
theta_a >= that maximum; objective min sum_a W_a theta_a.

Cuts (outer approximation, exact at the plan that generated them). For a route P and
plan y^ with value f = f(P, y^), and Q_j = (1 - p_j)^{n_j(P)} for a sensor j watching
n_j(P) edges of P, Weierstrass' product inequality gives, for every plan y:

    theta_a >= f * (1 - sum_{j not in y^} (1 - Q_j) y_j - sum_{(s,t) on P, blocking} x[s,t])

(removing a sensor of y^ only raises P's value, so those terms are dropped). Where every
sensor on P has the same p and watches one edge of P, f(P, y) = f0 (1 - p)^n with n the
number of sensors on P, convex in n, and the secant through n = m, m + 1 (m = sensors of
y^ on P) is the stronger, lifted cut

    theta_a >= f * (1 + p (sum_{j in y^} (1 - y_j) - sum_{j not in y^} y_j)) - f (1 + p m) x_P

(SNIP's setting: it stays strong when a later plan moves a sensor of y^ elsewhere). The
oracle (most reliable path with the plan applied) adds cuts until no scenario's value
exceeds its theta. Before the integer rounds, the LP relaxation is tightened by a cutting
loop at fractional plans (``separate_fractional``).
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
        self.pool: dict[str, set[tuple[int, ...]]] = {a.axis_id: set() for a in self.axes}
        self.rounds_routes = 0
        self.by_origin: dict[str, list] = {}
        for axis in self.axes:
            self.by_origin.setdefault(axis.origin, []).append(axis)

    def relevant(self) -> np.ndarray:
        return np.ones(len(self.network.edge_ids), dtype=bool)

    def build(self, master) -> None:
        thetas = master.prob.add_variable_dicts(f"{master.prefix}theta", list(range(len(self.axes))), 0, 1)
        self.theta = {a.axis_id: thetas[i] for i, a in enumerate(self.axes)}

    def objective(self, master) -> pulp.LpAffineExpression:
        return pulp.lpSum(a.weight * self.theta[a.axis_id] for a in self.axes)

    def _sensors_on(self, master, route: list[int]) -> dict[tuple[str, str], int]:
        """Sensor options of the master watching ``route``, with how many of its edges each."""
        counts: dict[tuple[str, str], int] = {}
        for e in route:
            for key in self.network.edge_sensors.get(e, ()):
                if key in master.y:
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def _cut(self, master, route: list[int], base: frozenset, value: float, counts=None):
        """Right-hand side of a cut for ``route`` at the sensors ``base`` (value f(P, base));
        ``counts`` is ``_sensors_on(master, route)`` when the caller has it."""
        counts = self._sensors_on(master, route) if counts is None else counts
        blocking = pulp.lpSum(master.x[key] for key, _ in master.route_terms(route)
                              if self.network.options[key].blocks)
        probs = {self.network.detection[key] for key in counts}
        if len(probs) == 1 and all(n == 1 for n in counts.values()):
            # Every sensor on P has the same p and watches one edge of P: f(P, y) = f0 Q^n
            # with n = sum_j y_j an integer and Q^n convex in n, so the secant through
            # n = m and m + 1 (m = sensors of the base on P) is below f at every plan:
            #   theta_a >= f(P, base) (1 + p (sum_{j in base} (1 - y_j) - sum_{j not} y_j))
            # (the removal terms are lifted: unlike the product cut this one stays strong
            # when a later plan drops a sensor of the base). A blocking obstacle on P removes
            # P; the right-hand side never exceeds f(P, base) (1 + p m), its coefficient.
            (p,) = probs
            on = [key for key in counts if key in base]
            removed = pulp.lpSum(p * (1 - master.y[key]) for key in on)
            added = pulp.lpSum(p * master.y[key] for key in counts if key not in base)
            ceiling = value * (1 + p * len(on))
            return value * (1 + removed - added) - ceiling * blocking
        # evasion cut: theta_a >= f(P, y^) (1 - sum (1 - Q_j) y_j - sum blocking x)
        terms = [(1.0 - (1.0 - self.network.detection[key]) ** n) * master.y[key]
                 for key, n in counts.items() if key not in base]
        return value * (1 - pulp.lpSum(terms) - blocking)

    def _add_cut(self, master, axis, route: list[int], choice: Choice, value: float,
                 rhs=None) -> None:
        self.pool[axis.axis_id].add(tuple(route))
        if rhs is None:
            rhs = self._cut(master, route, choice.sensors, value)
        master.add(self.theta[axis.axis_id] >= rhs, f"cut_{self.name}")
        self.rounds_routes += 1

    def _most_reliable(self, effect: Effect) -> dict[str, tuple[float, list[int] | None]]:
        """Every axis's max evasion probability and route under ``effect``, one shortest-path
        tree per origin (SNIP: 38 origins for 456 scenarios)."""
        found = {}
        for origin, axes in self.by_origin.items():
            tree = self.network.most_reliable_from(effect, origin, {a.objective for a in axes})
            for axis in axes:
                found[axis.axis_id] = tree[axis.objective]
        return found

    def _routes(self, effect: Effect, axis, first: list[int] | None):
        """Up to ``k`` most reliable routes of an axis under ``effect`` (the first given), each
        after making the watched edges of the previous ones less attractive (several
        crossing points a round)."""
        network = self.network
        penalty = np.zeros(len(network.edge_ids))
        for i in range(self.k):
            if i == 0:
                route = first
            else:
                shifted = Effect(effect.delay, effect.blocked, effect.log_evasion - penalty,
                                 effect.observed)
                _, route = network.most_reliable(shifted, axis.origin, axis.objective)
            if route is None:
                return
            yield route
            used = [e for e in route if e in network.edge_sensors]
            if not used:
                return
            penalty[used] += 5.0

    def separate_fractional(self, master) -> int:
        """Cuts violated by a fractional master solution (the LP relaxation's cutting loop).

        Routes are the most reliable under the plan's geometric interpolation (a sensor
        at level y multiplies an edge's evasion by (1 - p)^y); each route's cut is taken
        at the base of its ``round(sum y)`` most-used sensors and added if it cuts off the
        current solution by more than 0.01 % of its value.
        """
        network = self.network
        level = {key: float(pulp.value(var) or 0.0) for key, var in master.y.items()}
        log_ev = network.log_evasion.copy()
        for key, v in level.items():
            if v > 1e-9:
                np.add.at(log_ev, network.sensor_edges[key], v * math.log1p(-network.detection[key]))
        cut_off = np.zeros(len(network.edge_ids))
        for key, var in master.x.items():
            if network.options[key].blocks:
                cut_off[network.site_edges[key[0]]] += float(pulp.value(var) or 0.0)
        effect = Effect(np.zeros(len(network.edge_ids)), cut_off > 1 - 1e-6, log_ev, frozenset())
        first = self._most_reliable(effect)
        added = 0
        for axis in self.axes:
            theta = float(self.theta[axis.axis_id].varValue or 0.0)
            for route in self._routes(effect, axis, first[axis.axis_id][1]):
                counts = self._sensors_on(master, route)
                ranked = sorted(counts, key=lambda k: -level[k])
                used_level = sum(level[k] for k in counts)
                free = math.exp(float(network.log_evasion[route].sum()))  # no sensor
                best = None
                for m in {math.floor(used_level + 1e-9), math.ceil(used_level - 1e-9)}:
                    base = frozenset(ranked[:m])
                    value = free * math.prod((1.0 - network.detection[k]) ** counts[k]
                                             for k in base)
                    rhs = self._cut(master, route, base, value, counts)
                    at_level = pulp.value(rhs)
                    if best is None or at_level > best[0]:
                        best = (at_level, base, value, rhs)
                violation, base, value, rhs = best
                if violation > theta + 1e-4 * max(value, TOL):
                    self._add_cut(master, axis, route, Choice({}, base), value, rhs)
                    added += 1
        return added

    def warm(self, master, pool: dict, choice: Choice, effect: Effect) -> None:
        """Cuts at ``choice`` for routes generated by an earlier solve (always valid)."""
        for axis in self.axes:
            for route in pool.get(axis.axis_id, ()):
                if not effect.blocked[list(route)].any():
                    value = math.exp(float(effect.log_evasion[list(route)].sum()))
                    self._add_cut(master, axis, list(route), choice, value)

    def separate(self, master, choice: Choice, effect: Effect, values: bool) -> int:
        first = self._most_reliable(effect)
        added = 0
        for axis in self.axes:
            theta = (self.theta[axis.axis_id].varValue or 0.0) if values else -1.0
            for route in self._routes(effect, axis, first[axis.axis_id][1]):
                value = math.exp(float(effect.log_evasion[route].sum()))
                if value <= theta + TOL:
                    break
                self._add_cut(master, axis, route, choice, value)
                added += 1
        return added

    def evaluate(self, effect: Effect) -> tuple[float, dict[str, float]]:
        per_axis = {axis_id: value for axis_id, (value, _) in self._most_reliable(effect).items()}
        return sum(a.weight * per_axis[a.axis_id] for a in self.axes), per_axis
