"""Route generation shared by the families: batches of distinct violated routes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optimizer.attacker import Effect, Network


def route_batch(network: Network, effect: Effect, origin: str, target: str, *, k: int,
                violated: Callable[[float], bool], penalty: float) -> list[list[int]]:
    """Up to ``k`` routes the plan does not stop, each avoiding the sites of the previous ones.

    The first is the attacker's fastest route under the plan; each next one is the fastest
    after adding ``penalty`` to the interdictable edges already used, so a round covers
    several crossing points of the barrier at once. Only routes whose true time with the
    plan applied is ``violated`` are returned.
    """
    extra = np.zeros(len(network.edge_ids))
    routes: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    for _ in range(k):
        true_time, route = network.fastest(effect, origin, target, extra)
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
    """Edges on some route faster than ``limit`` (minutes) with no plan: d(o,u) + t + d(v,t) < limit."""
    keep = np.ones(len(network.edge_ids), dtype=bool)
    d_from, _ = network.shortest(network.time, keep, origin)
    d_to, _ = network.shortest(network.time, keep, target, reverse=True)
    through = d_from[network.src] + network.time + d_to[network.dst]
    return through < limit
