"""Blocked corridors: maximise the total weight of threat axes the attacker cannot use in time.

An axis a (weight W_a, threshold T_a) is blocked when every route from its origin to its
objective crosses a blocking obstacle or takes at least T_a with the plan's delays.
Covering decomposition (Israeli & Wood 2002): for each generated route P with base time
c(P) < T_a and slack g = T_a - c(P),

    w_a <= sum_{(s,t) on P, blocking} x[s,t]
         + sum_{(s,t) on P, delaying} min(1, k d_u / g) x[s,t]
         + sum_{(s,t) on P, delaying} (min(1, k d_o / g) - min(1, k d_u / g)) z[s,t]

(k = edges of P the site acts on; d_u / d_o unobserved / observed delay; each term is
capped at 1, which keeps the constraint valid because w_a <= 1). For T_a = inf only the
blocking terms remain. The oracle (shortest paths with the plan applied) adds every
route still faster than T_a, in batches, until none is left; then the master's w are
exact and its bound is the optimum. Before the integer rounds, an LP cutting loop adds the
routes a fractional plan lets through (``separate_fractional``): at 3 km cells it halves
the blocked solve (README "Measured").
"""

from __future__ import annotations

import math

import numpy as np
import pulp

from optimizer.attacker import Choice, Effect, Network
from optimizer.models.routes import (
    RouteFamily,
    capped_terms,
    fractional_delays,
    lengthened,
    relevant_edges,
    route_batch,
)


class BlockedFamily(RouteFamily):
    name = "blocked"
    sense = 1.0
    unit = "weight"

    def __init__(self, network: Network, routes_per_round: int):
        super().__init__(network, routes_per_round)
        self.w: dict[str, pulp.LpVariable] = {}
        # Only routes faster than an axis's threshold matter, and delays only lengthen
        # routes: edges on no route that fast without a plan are on none with any plan, so
        # each axis's routes are looked for on the rest (about 1 % of the Baltic graph's
        # edges at 3 km cells), which gives the same routes, times below the threshold and
        # verdicts as the whole graph.
        self.axis_edges = {a.axis_id: relevant_edges(network, a.origin, a.objective,
                                                     a.threshold_min)
                           for a in self.axes}
        self.within = {axis_id: network.within(mask)
                       for axis_id, mask in self.axis_edges.items() if not mask.all()}

    def relevant(self) -> np.ndarray:
        return np.logical_or.reduce(list(self.axis_edges.values()))

    def build(self, master) -> None:
        ws = master.prob.add_variable_dicts(f"{master.prefix}w", list(range(len(self.axes))), 0, 1, cat="Binary")
        self.w = {a.axis_id: ws[i] for i, a in enumerate(self.axes)}

    def objective(self, master) -> pulp.LpAffineExpression:
        return pulp.lpSum(a.weight * self.w[a.axis_id] for a in self.axes)

    def _row(self, master, axis, route: list[int]) -> pulp.LpAffineExpression:
        """Right-hand side of the route cover: blocking and capped delay contributions."""
        slack = axis.threshold_min - float(self.network.time[route].sum())
        if math.isfinite(slack):
            terms = capped_terms(master, self.network, route, scale=1.0 / slack, cap=1.0,
                                 block=1.0)
        else:  # physically cut: only blocking obstacles count
            terms = [master.x[key] for key, _ in master.route_terms(route)
                     if self.network.options[key].blocks]
        return pulp.lpSum(terms)

    def _var(self, axis) -> pulp.LpVariable:
        return self.w[axis.axis_id]  # route cover: w_a <= the route's row

    def separate_fractional(self, master) -> int:
        """Routes whose rows a fractional master solution violates (the LP relaxation's
        cutting loop): candidates are the fastest routes when each edge is lengthened by the
        fractional delays (a blocking option by the axis's threshold times its level), so a
        candidate faster than the threshold has a row below 1 (a delay term d x / g is at
        least its capped term); each is added only if its row cuts off the solution."""
        network = self.network
        delay, blocking = fractional_delays(master, network)
        added = 0
        for axis in self.axes:
            w = float(self.w[axis.axis_id].varValue or 0.0)
            if w <= 1e-6:
                continue
            barrier = axis.threshold_min if math.isfinite(axis.threshold_min) \
                else network.problem.blocked_time_min
            effect = lengthened(network, delay + barrier * blocking)
            # a route at the threshold with the fractional delays has a row of at least 1
            # before capping, and so has every later one (none is shorter); below it, the
            # route's own time is below the threshold: its row is valid
            added += self._cut_off(master, axis, effect, w, 1e-6, barrier,
                                   reach_limit=axis.threshold_min)
        return added

    def separate(self, master, choice: Choice, effect: Effect, values: bool) -> int:
        added = 0
        for axis in self.axes:
            if values and (self.w[axis.axis_id].varValue or 0.0) < 0.5:
                continue
            penalty = axis.threshold_min if math.isfinite(axis.threshold_min) else 1e6
            for route in route_batch(self.network, effect, axis.origin, axis.objective,
                                     k=self.k, violated=lambda t, a=axis: t < a.threshold_min,
                                     penalty=penalty, within=self.within.get(axis.axis_id)):
                added += self._add_route(master, axis, route)
        return added

    def evaluate(self, effect: Effect) -> tuple[float, dict[str, float]]:
        times = self.fastest_times(effect)
        per_axis = {a.axis_id: float(times[a.axis_id] >= a.threshold_min) for a in self.axes}
        value = sum(a.weight * per_axis[a.axis_id] for a in self.axes)
        return value, per_axis
