"""Route generation shared by the families: batches of distinct violated routes."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pulp

from optimizer.attacker import Effect, Layout, Network


def route_batch(network: Network, effect: Effect, origin: str, target: str, *, k: int,
                violated: Callable[[float], bool], penalty: float,
                within: Layout | None = None) -> list[list[int]]:
    """Up to ``k`` routes the plan does not stop, each avoiding the sites of the previous ones.

    The first is the attacker's fastest route under the plan; each next one is the fastest
    after adding ``penalty`` to the interdictable edges already used, so a round covers
    several crossing points of the barrier at once. Only routes whose true time with the
    plan applied is ``violated`` are returned; routes run on the edges of ``within``, if
    given.
    """
    extra = np.zeros(len(network.edge_ids))
    routes: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    for _ in range(k):
        true_time, route = network.fastest(effect, origin, target, extra, within=within)
        if route is None or not violated(true_time) or tuple(route) in seen:
            break
        routes.append(route)
        seen.add(tuple(route))
        sites = [e for e in route if e in network.edge_sites]
        if not sites:
            break
        extra[sites] += penalty
    return routes


def relevant_edges(network: Network, origin: str, target: str, limit: float) -> np.ndarray:
    """Edges on some route faster than ``limit`` (minutes) with no plan: d(o,u) + t + d(v,t) < limit
    (with a margin of 1e-6 relative, so rounding in the distances never drops such an edge)."""
    keep = np.ones(len(network.edge_ids), dtype=bool)
    d_from, _ = network.shortest(network.time, keep, origin)
    d_to, _ = network.shortest(network.time, keep, target, reverse=True)
    through = d_from[network.src] + network.time + d_to[network.dst]
    return through < limit + 1e-6 * max(1.0, abs(limit))


def fractional_delays(master, network: Network) -> tuple[np.ndarray, np.ndarray]:
    """The master's fractional plan per edge: the delay its levels add (each option's
    unobserved delay times x, the observed extra times z) and the level of blocking options
    (x summed). The LP cutting loops look for violated routes with these as delays."""
    delay = np.zeros(len(network.edge_ids))
    blocking = np.zeros(len(network.edge_ids))
    for key, var in master.x.items():
        level = float(pulp.value(var) or 0.0)
        if level <= 1e-9:
            continue
        option = network.options[key]
        edges = network.site_edges[key[0]]
        if option.blocks:
            np.add.at(blocking, edges, level)
        else:
            np.add.at(delay, edges, option.delay_unobserved_min * level)
        if key in master.z:
            np.add.at(delay, edges, (option.delay_observed_min - option.delay_unobserved_min)
                      * float(pulp.value(master.z[key]) or 0.0))
    return delay, blocking


def lengthened(network: Network, delay: np.ndarray) -> Effect:
    """A plan effect that only adds ``delay`` to the edges (nothing removed, no sensors)."""
    return Effect(delay, np.zeros(len(network.edge_ids), dtype=bool), network.log_evasion,
                  frozenset())


def capped_terms(master, network: Network, route: list[int], *, scale: float, cap: float,
                 block: float) -> list:
    """Right-hand-side terms of a route row: each obstacle option on the route contributes
    its delay (k edges x delay x ``scale``) capped at ``cap``, the observed extra through z,
    and a blocking option ``block``."""
    terms = []
    for option_key, k in master.route_terms(route):
        option = network.options[option_key]
        if option.blocks:
            terms.append(block * master.x[option_key])
            continue
        cu = min(cap, k * option.delay_unobserved_min * scale)
        co = min(cap, k * option.delay_observed_min * scale)
        if cu > 0:
            terms.append(cu * master.x[option_key])
        if option_key in master.z and co > cu:
            terms.append((co - cu) * master.z[option_key])
    return terms


class RouteFamily:
    """What the blocked and delay families share: axes, a pool of routes per axis, route
    rows, warm starts from an earlier pool, and the attacker's fastest times under a plan.
    A family gives each route's row as ``_var(axis) <= _row(master, axis, route)``."""

    def __init__(self, network: Network, routes_per_round: int):
        self.network = network
        self.k = routes_per_round
        self.axes = list(network.problem.axes.itertuples())
        self.pool: dict[str, set[tuple[int, ...]]] = {a.axis_id: set() for a in self.axes}
        self.rounds_routes = 0
        # per axis, the edges its fastest routes are looked for on (all, if absent)
        self.within: dict[str, Layout] = {}

    def _add_route(self, master, axis, route: list[int], rhs=None) -> bool:
        """Add the route's row, the family's axis variable <= ``rhs`` (its ``_row`` if not
        given); False if the route is already in the pool or its row is implied (None)."""
        key = tuple(route)
        if key in self.pool[axis.axis_id]:
            return False
        self.pool[axis.axis_id].add(key)
        rhs = self._row(master, axis, route) if rhs is None else rhs
        if rhs is None:
            return False
        master.add(self._var(axis) <= rhs, f"route_{self.name}")
        self.rounds_routes += 1
        return True

    def _cut_off(self, master, axis, effect: Effect, level: float, tol: float, step: float,
                 reach_limit: float = math.inf) -> int:
        """The LP cutting loops' separation for one axis: up to ``k`` fastest routes under
        the fractional plan's ``effect`` (each next after adding ``step`` to the
        interdictable edges of the previous ones), each added where its row is below the
        axis variable's ``level`` by more than ``tol``; the batch ends at a route already in
        the pool or one whose time under ``effect`` reaches ``reach_limit``."""
        network = self.network
        penalty = np.zeros(len(network.edge_ids))
        added = 0
        for _ in range(self.k):
            reach, route = network.fastest(effect, axis.origin, axis.objective, penalty,
                                           within=self.within.get(axis.axis_id))
            if route is None or reach >= reach_limit or tuple(route) in self.pool[axis.axis_id]:
                break
            rhs = self._row(master, axis, route)
            if rhs is not None and pulp.value(rhs) < level - tol:
                added += self._add_route(master, axis, route, rhs)
            sites = [e for e in route if e in network.edge_sites]
            if not sites:
                break
            penalty[sites] += step
        return added

    def warm(self, master, pool: dict, choice, effect) -> None:
        """Add routes generated by an earlier solve of the same network (always valid)."""
        for axis in self.axes:
            for route in pool.get(axis.axis_id, ()):
                self._add_route(master, axis, list(route))

    def fastest_times(self, effect: Effect) -> dict[str, float]:
        """The attacker's fastest time (minutes) on every axis with the plan applied."""
        return {a.axis_id: self.network.fastest(effect, a.origin, a.objective,
                                                within=self.within.get(a.axis_id))[0]
                for a in self.axes}
