"""Throughput (max-flow interdiction, Wood 1993): minimise the corridors left open.

With the plan's blocked edges removed, the attacker's throughput on axis a is the max
flow (edge capacities; capacity 1 counts edge-disjoint corridors) from origin to
objective, which equals the capacity of a minimum cut of the interdicted graph. Path
form of that cut (nu = edges cut without interdiction):

    f_a = sum_e cap_e nu[a,e],   sum_{e in P} nu[a,e] + sum_{(s,t) on P, blocking} x[s,t] >= 1
    for every route P of axis a;   objective min sum_a W_a f_a

Routes are generated as shortest paths with lengths nu^ + (1 if blocked) while shorter
than 1, a batch per round with the used edges lengthened (nearly disjoint routes).
"""

from __future__ import annotations

import numpy as np
import pulp

from optimizer.attacker import Choice, Effect, Network

TOL = 1e-6


class ThroughputFamily:
    name = "throughput"
    sense = -1.0
    unit = "weighted open corridors"

    def __init__(self, network: Network, routes_per_round: int):
        self.network = network
        self.k = max(routes_per_round, 16)
        self.axes = list(network.problem.axes.itertuples())
        self.nu: dict[str, dict[int, pulp.LpVariable]] = {a.axis_id: {} for a in self.axes}
        self.rounds_routes = 0

    def relevant(self) -> np.ndarray:
        return np.ones(len(self.network.edge_ids), dtype=bool)

    def build(self, master) -> None:
        self.index = {a.axis_id: i for i, a in enumerate(self.axes)}
        flows = master.prob.add_variable_dicts(f"{master.prefix}flow", list(range(len(self.axes))), 0)
        self.flow = {a.axis_id: flows[i] for i, a in enumerate(self.axes)}

    def objective(self, master) -> pulp.LpAffineExpression:
        return pulp.lpSum(a.weight * self.flow[a.axis_id] for a in self.axes)

    def _link_flow(self, master, axis_id: str) -> None:
        # flow_a >= sum_e cap_e nu[a,e] over every nu so far; earlier rows of this kind
        # sum over subsets of these nu (all >= 0) and so stay valid and redundant.
        expr = pulp.lpSum(float(self.network.capacity[e]) * v
                          for e, v in self.nu[axis_id].items())
        master.add(self.flow[axis_id] >= expr, "flow_def")

    def _nu(self, master, axis_id: str, e: int) -> pulp.LpVariable:
        variables = self.nu[axis_id]
        if e not in variables:
            variables[e] = master.prob.add_variable(
                f"{master.prefix}nu_{self.index[axis_id]}_{e}", 0, 1)
        return variables[e]

    def _add_route(self, master, axis, route: list[int]) -> None:
        terms = [self._nu(master, axis.axis_id, e) for e in route]
        for option_key, _ in master.route_terms(route):
            if self.network.options[option_key].blocks:
                terms.append(master.x[option_key])
        # route cut: nu on P's edges plus blocking obstacles on P cover P
        master.add(pulp.lpSum(terms) >= 1, f"route_{self.name}")
        self.rounds_routes += 1

    def separate(self, master, choice: Choice, effect: Effect, values: bool) -> int:
        added = 0
        for axis in self.axes:
            length = effect.blocked.astype(float)
            if values:
                for e, var in self.nu[axis.axis_id].items():
                    length[e] += var.varValue or 0.0
            axis_added = False
            for _ in range(self.k):
                dist, pred = self.network.shortest(length, np.ones_like(effect.blocked),
                                                   axis.origin)
                t = self.network.node_pos[axis.objective]
                if not np.isfinite(dist[t]) or dist[t] >= 1 - TOL:
                    break
                route = self.network.route(pred, axis.origin, axis.objective)
                self._add_route(master, axis, route)
                added += 1
                axis_added = True
                length[route] += 1.0
            if axis_added:
                self._link_flow(master, axis.axis_id)
        return added

    def evaluate(self, effect: Effect) -> tuple[float, dict[str, float]]:
        per_axis = {a.axis_id: float(self.network.corridors(effect, a.origin, a.objective))
                    for a in self.axes}
        return sum(a.weight * per_axis[a.axis_id] for a in self.axes), per_axis
