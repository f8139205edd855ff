"""Delay (shortest-path interdiction, Israeli & Wood 2002): maximise the weighted fastest times.

eta_a (hours, 0 <= eta_a <= C) is the attacker's fastest time on axis a, capped at C
(``blocked_time_h``: the value of a route cut by a blocking obstacle). For every generated
route P:

    eta_a <= c(P)/60 + sum_{(s,t) on P} k (d_u x[s,t] + (d_o - d_u) z[s,t]) / 60
                     + C * sum_{(s,t) on P, blocking} x[s,t]

Objective: max sum_a W_a eta_a. The oracle adds the fastest routes under the plan while
they are faster than the master's eta_a.

Tightening: delays only lengthen routes, so every optimal plan has eta_b >= B_b (the
unimpeded fastest time) and hence eta_a <= U_a = (U - sum_{b != a} W_b B_b) / W_a, with U the
current upper bound. With slack g = U_a - c(P)/60 each route row caps every coefficient at g
(a term reaching g already makes the row slack), a route with g <= 0 is implied by
eta_a <= U_a, and the blocking coefficient C becomes g. The master then contains every
optimal plan, so its bound stays valid, with a much tighter LP relaxation.

Whole minutes: where every edge time, every delay and C are whole minutes (the
Israeli-Wood grids; not the Baltic default), every route's time under any plan is a whole
number of minutes, and so is every eta_a of a plan; the master then also holds
60 eta_a = m_a with m_a integer. Every plan (with its true eta) stays feasible, so the
bound stays valid, and the solver can round its bounds to whole minutes and cut on the
route rows' integrality (600 s: bounds 337 and 477 against 349 and 488 on the 40x80
and 60x120 grids; README "Measured").
"""

from __future__ import annotations

import numpy as np
import pulp

from optimizer.attacker import Choice, Effect, Network
from optimizer.models.routes import (
    RouteFamily,
    capped_terms,
    fractional_delays,
    lengthened,
    route_batch,
)

TOL_H = 1e-7


def whole_minutes(network: Network) -> bool:
    """Whether every edge time, every obstacle delay and the blocked time are whole
    minutes, so that the attacker's fastest time under any plan is whole minutes."""
    values = [np.asarray(network.time, dtype=float), [network.problem.blocked_time_min]]
    values += [[option.delay_unobserved_min, option.delay_observed_min]
               for option in network.options.values()]
    every = np.concatenate([np.asarray(v, dtype=float) for v in values])
    return bool(np.all(np.abs(every - np.round(every)) <= 1e-9))


class DelayFamily(RouteFamily):
    name = "delay"
    sense = 1.0
    unit = "weighted hours"

    def __init__(self, network: Network, routes_per_round: int):
        super().__init__(network, routes_per_round)
        self.cap_h = network.problem.blocked_time_min / 60.0
        self.eta: dict[str, pulp.LpVariable] = {}
        self.upper_h = {a.axis_id: self.cap_h for a in self.axes}
        keep = np.ones(len(network.edge_ids), dtype=bool)
        self.base_h = {}
        for a in self.axes:
            dist, _ = network.shortest(network.time, keep, a.origin)
            self.base_h[a.axis_id] = min(float(dist[network.node_pos[a.objective]]) / 60.0,
                                         self.cap_h)
        self.whole_minutes = whole_minutes(network)

    def relevant(self) -> np.ndarray:
        return np.ones(len(self.network.edge_ids), dtype=bool)

    def build(self, master) -> None:
        etas = master.prob.add_variable_dicts(f"{master.prefix}eta", list(range(len(self.axes))), 0, self.cap_h)
        self.eta = {a.axis_id: etas[i] for i, a in enumerate(self.axes)}
        if self.whole_minutes:
            minutes = master.prob.add_variable_dicts(f"{master.prefix}eta_min",
                                                     list(range(len(self.axes))), 0,
                                                     round(self.cap_h * 60), cat="Integer")
            for i, a in enumerate(self.axes):
                # 60 eta_a = m_a, m_a integer: a plan's fastest time is whole minutes
                master.add(60 * self.eta[a.axis_id] - minutes[i] == 0, "eta_minutes")

    def objective(self, master) -> pulp.LpAffineExpression:
        return pulp.lpSum(a.weight * self.eta[a.axis_id] for a in self.axes)

    def tighten(self, master, upper: float) -> None:
        """Record the bound U: eta_a <= U_a for every axis (valid for every optimal plan)."""
        total_base = sum(a.weight * self.base_h[a.axis_id] for a in self.axes)
        for a in self.axes:
            bound = (upper - (total_base - a.weight * self.base_h[a.axis_id])) / a.weight
            bound = min(self.cap_h, bound + 1e-9)
            if bound < self.upper_h[a.axis_id] - 1e-9:
                self.upper_h[a.axis_id] = bound
                # upper bound row: eta_a <= U_a
                master.add(self.eta[a.axis_id] <= bound, "eta_bound")

    def _row(self, master, axis, route: list[int]):
        """Right-hand side of the route row (None if implied by eta_a <= U_a)."""
        base_h = float(self.network.time[route].sum()) / 60.0
        slack = self.upper_h[axis.axis_id] - base_h
        if slack <= 0:
            return None
        terms = capped_terms(master, self.network, route, scale=1.0 / 60.0, cap=slack,
                             block=slack)
        return base_h + pulp.lpSum(terms)

    def _var(self, axis) -> pulp.LpVariable:
        # route bound: eta_a <= time of route P with the plan's delays (cap if cut)
        return self.eta[axis.axis_id]

    def separate_fractional(self, master) -> int:
        """Routes violated by a fractional master solution (the LP relaxation's cutting
        loop): the fastest routes when each edge's time is lengthened by the fractional
        delays (d_u x + (d_o - d_u) z, and the cap times a blocking x), added where the
        capped route row cuts off the solution."""
        network = self.network
        delay, blocking = fractional_delays(master, network)
        effect = lengthened(network, delay + network.problem.blocked_time_min * blocking)
        added = 0
        for axis in self.axes:
            eta = float(self.eta[axis.axis_id].varValue or 0.0)
            added += self._cut_off(master, axis, effect, eta, 1e-6 * max(eta, 1.0),
                                   network.problem.blocked_time_min)
        return added

    def separate(self, master, choice: Choice, effect: Effect, values: bool) -> int:
        added = 0
        for axis in self.axes:
            target_h = (self.eta[axis.axis_id].varValue or 0.0) if values else self.cap_h
            penalty = self.network.problem.blocked_time_min
            for route in route_batch(self.network, effect, axis.origin, axis.objective, k=self.k,
                                     violated=lambda t, h=target_h: t / 60.0 < h - TOL_H,
                                     penalty=penalty):
                added += self._add_route(master, axis, route)
        return added

    def evaluate(self, effect: Effect) -> tuple[float, dict[str, float]]:
        times = self.fastest_times(effect)
        per_axis = {a.axis_id: min(times[a.axis_id] / 60.0, self.cap_h) for a in self.axes}
        return sum(a.weight * per_axis[a.axis_id] for a in self.axes), per_axis
