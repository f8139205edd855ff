"""The attacker's side: his best routes, corridors and evasion with a plan applied.

Two implementations of the same definitions:

* :class:`Network` works on arrays (scipy.sparse.csgraph) and drives the
  decomposition loops;
* the ``reference_*`` functions use plain NetworkX and verify every plan.

Tests hold the two equal. Definitions, for a plan with chosen obstacles and sensors:

* an obstacle site is *observed* if a chosen sensor watches one of its edges;
* edge delay = sum over chosen obstacles on the edge of the observed or
  unobserved delay; an edge with a blocking obstacle is removed;
* edge evasion = evasion_e * prod over chosen sensors watching e of (1 - p);
* fastest time = shortest path on time + delay; max evasion = the most reliable path;
* corridors = max flow with the edges' capacities (1 = edge-disjoint routes).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra, maximum_flow

from optimizer.problem import Problem

EPS_TIME = 1e-9


@dataclass(frozen=True)
class Choice:
    """A plan as the attacker sees it: obstacle type per site, and chosen sensor options."""

    obstacles: dict[str, str]
    sensors: frozenset[tuple[str, str]]

    @staticmethod
    def empty() -> Choice:
        return Choice({}, frozenset())


@dataclass(frozen=True)
class Effect:
    """Per-edge consequences of a plan (arrays indexed like ``Network.edge_ids``)."""

    delay: np.ndarray
    blocked: np.ndarray
    log_evasion: np.ndarray
    observed: frozenset[str]


@dataclass(frozen=True)
class Layout:
    """The CSR layout of a directed graph's edges, or of a subset of them: edges sorted by
    tail, then head, on the graph's node indices."""

    order: np.ndarray  # the graph's edge index at each CSR position
    tails: np.ndarray  # tail node at each CSR position
    heads: np.ndarray  # head node at each CSR position (the CSR column indices)
    indptr: np.ndarray
    n: int

    @staticmethod
    def of(tail: np.ndarray, head: np.ndarray, n: int, edges: np.ndarray) -> Layout:
        order = edges[np.lexsort((head[edges], tail[edges]))]
        indptr = np.concatenate(([0], np.cumsum(np.bincount(tail[order], minlength=n))))
        return Layout(order, tail[order], head[order], indptr, n)

    def matrix(self, weights: np.ndarray, keep: np.ndarray) -> csr_matrix:
        """The weighted matrix of the layout's edges in ``keep`` (arrays indexed by edge)."""
        data, kept = weights[self.order], keep[self.order]
        if kept.all():
            return csr_matrix((data, self.heads, self.indptr), shape=(self.n, self.n))
        indptr = np.concatenate(([0], np.cumsum(np.bincount(self.tails[kept],
                                                            minlength=self.n))))
        return csr_matrix((data[kept], self.heads[kept], indptr), shape=(self.n, self.n))


class Network:
    """Array form of a problem's graph with fast shortest paths and max flows."""

    def __init__(self, problem: Problem):
        graph = problem.graph
        self.problem = problem
        self.nodes = list(graph.nodes)
        self.node_pos = {n: i for i, n in enumerate(self.nodes)}
        edges = list(graph.edges(data=True))
        self.edge_ids = [d["edge_id"] for _, _, d in edges]
        self.edge_pos = {e: i for i, e in enumerate(self.edge_ids)}
        # identifies the edge indexing, so routes (edge-index tuples) are reused only on it
        self.fingerprint = hashlib.sha256("\n".join(self.edge_ids).encode()).hexdigest()
        self.src = np.array([self.node_pos[u] for u, _, _ in edges], dtype=np.int64)
        self.dst = np.array([self.node_pos[v] for _, v, _ in edges], dtype=np.int64)
        self.time = np.array([float(d["time_min"]) for _, _, d in edges])
        self.capacity = np.array([d.get("capacity", 1) for _, _, d in edges], dtype=np.int64)
        self.log_evasion = np.array([math.log(d.get("evasion", 1.0)) for _, _, d in edges])
        self.pair_edge = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(self.src, self.dst,
                                                                                strict=True))}
        # the CSR layout of the graph and of its reverse, built once: each shortest-path call
        # only reorders its weights (a DiGraph has no parallel edges, so no entries merge)
        every = np.arange(len(self.edge_ids))
        self._layout = {reverse: Layout.of(tail, head, len(self.nodes), every)
                        for reverse, (tail, head) in ((False, (self.src, self.dst)),
                                                      (True, (self.dst, self.src)))}
        self.site_edges = {s: np.array([self.edge_pos[e] for e in es], dtype=np.int64)
                           for s, es in problem.obstacle_edges.items()}
        self.sensor_edges = {k: np.array([self.edge_pos[e] for e in es], dtype=np.int64)
                             for k, es in problem.sensor_edges.items()}
        observes: dict[tuple[str, str], set[str]] = {}
        edge_sites: dict[int, list[str]] = {}
        for site, idx in self.site_edges.items():
            for e in idx:
                edge_sites.setdefault(int(e), []).append(site)
        self.edge_sites = {e: tuple(sites) for e, sites in edge_sites.items()}
        for key, idx in self.sensor_edges.items():
            observes[key] = {s for e in idx for s in edge_sites.get(int(e), ())}
        self.site_types: dict[str, list[tuple[str, str]]] = {}
        for row in problem.obstacle_options.itertuples():
            self.site_types.setdefault(row.site_id, []).append((row.site_id, row.type))
        self.edge_sensors: dict[int, list[tuple[str, str]]] = {}
        for key, idx in self.sensor_edges.items():
            for e in idx:
                self.edge_sensors.setdefault(int(e), []).append(key)
        self.observes = {k: frozenset(v) for k, v in observes.items()}
        self.options = {(r.site_id, r.type): r for r in problem.obstacle_options.itertuples()}
        self.detection = {(r.site_id, r.type): float(r.detection_prob)
                          for r in problem.sensor_options.itertuples()}

    # -- plan effects -------------------------------------------------------------------------
    def effect(self, choice: Choice) -> Effect:
        n = len(self.edge_ids)
        observed = set()
        log_ev = self.log_evasion.copy()
        for key in choice.sensors:
            observed |= self.observes.get(key, frozenset())
            p = self.detection[key]
            np.add.at(log_ev, self.sensor_edges.get(key, np.array([], dtype=np.int64)),
                      math.log1p(-p))
        delay = np.zeros(n)
        blocked = np.zeros(n, dtype=bool)
        for site, kind in choice.obstacles.items():
            option = self.options[(site, kind)]
            idx = self.site_edges[site]
            if option.blocks:
                blocked[idx] = True
            else:
                d = option.delay_observed_min if site in observed else option.delay_unobserved_min
                np.add.at(delay, idx, d)
        return Effect(delay=delay, blocked=blocked, log_evasion=log_ev, observed=frozenset(observed))

    # -- shortest paths -----------------------------------------------------------------------
    def within(self, mask: np.ndarray) -> Layout:
        """The layout of the edges in ``mask``, for shortest paths that ignore the rest."""
        return Layout.of(self.src, self.dst, len(self.nodes), np.flatnonzero(mask))

    def shortest(self, weights: np.ndarray, keep: np.ndarray, origin: str,
                 *, reverse: bool = False, within: Layout | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Distances and predecessors from ``origin`` (to it, if ``reverse``), on the edges
        in ``keep`` (and in the forward layout ``within``, if given)."""
        if within is not None and reverse:
            raise ValueError("a restricted layout is forward only")
        layout = self._layout[reverse] if within is None else within
        matrix = layout.matrix(np.maximum(weights, EPS_TIME), keep)
        dist, pred = dijkstra(matrix, indices=self.node_pos[origin], return_predecessors=True)
        return dist, pred

    def route(self, pred: np.ndarray, origin: str, target: str) -> list[int] | None:
        """Edge indices of the path to ``target`` encoded in ``pred`` (None if unreachable)."""
        o, t = self.node_pos[origin], self.node_pos[target]
        if t != o and pred[t] < 0:
            return None
        path = []
        node = t
        while node != o:
            prev = int(pred[node])
            path.append(self.pair_edge[(prev, node)])
            node = prev
        return path[::-1]

    def fastest(self, effect: Effect, origin: str, target: str,
                extra: np.ndarray | None = None, *, within: Layout | None = None
                ) -> tuple[float, list[int] | None]:
        """Fastest time and route with the plan applied (``extra`` added to the weights the
        route is chosen by, not to its time), on the edges of ``within`` if given."""
        weights = self.time + effect.delay + (extra if extra is not None else 0.0)
        dist, pred = self.shortest(weights, ~effect.blocked, origin, within=within)
        t = self.node_pos[target]
        if not np.isfinite(dist[t]):
            return math.inf, None
        route = self.route(pred, origin, target)
        return float((self.time + effect.delay)[route].sum()), route

    def most_reliable(self, effect: Effect, origin: str, target: str
                      ) -> tuple[float, list[int] | None]:
        """Max evasion probability and its route (0, None if every route is cut)."""
        return self.most_reliable_from(effect, origin, [target])[target]

    def most_reliable_from(self, effect: Effect, origin: str, targets
                           ) -> dict[str, tuple[float, list[int] | None]]:
        """:meth:`most_reliable` to each of ``targets``, from one shortest-path tree."""
        dist, pred = self.shortest(-effect.log_evasion, ~effect.blocked, origin)
        found: dict[str, tuple[float, list[int] | None]] = {}
        for target in targets:
            if not np.isfinite(dist[self.node_pos[target]]):
                found[target] = (0.0, None)
                continue
            route = self.route(pred, origin, target)
            found[target] = (float(math.exp(effect.log_evasion[route].sum())), route)
        return found

    def corridors(self, effect: Effect, origin: str, target: str) -> int:
        keep = ~effect.blocked & (self.capacity > 0)
        n = len(self.nodes)
        matrix = csr_matrix((self.capacity[keep].astype(np.int32),
                             (self.src[keep], self.dst[keep])), shape=(n, n))
        return int(maximum_flow(matrix, self.node_pos[origin], self.node_pos[target]).flow_value)


# -- the plain NetworkX reference -------------------------------------------------------------
def _reference_effect(problem: Problem, choice: Choice):
    sensors = problem.sensor_options.set_index(["site_id", "type"])
    edge_sites: dict[str, list[str]] = {}
    for site, edges in problem.obstacle_edges.items():
        for e in edges:
            edge_sites.setdefault(e, []).append(site)
    observed = set()
    factor: dict[str, float] = {}
    for key in choice.sensors:
        for e in problem.sensor_edges.get(key, ()):
            observed.update(edge_sites.get(e, ()))
            factor[e] = factor.get(e, 1.0) * (1.0 - float(sensors.at[key, "detection_prob"]))
    options = problem.obstacle_options.set_index(["site_id", "type"])
    delay: dict[str, float] = {}
    blocked: set[str] = set()
    for site, kind in choice.obstacles.items():
        row = options.loc[(site, kind)]
        for e in problem.obstacle_edges[site]:
            if bool(row["blocks"]):
                blocked.add(e)
            else:
                d = row["delay_observed_min"] if site in observed else row["delay_unobserved_min"]
                delay[e] = delay.get(e, 0.0) + float(d)
    return delay, blocked, factor


class ReferenceAttacker:
    """The attacker by plain NetworkX on the graph with a plan applied (built once per plan)."""

    def __init__(self, problem: Problem, choice: Choice):
        delay, blocked, factor = _reference_effect(problem, choice)
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(problem.graph.nodes)
        for u, v, d in problem.graph.edges(data=True):
            e = d["edge_id"]
            if e in blocked:
                continue
            evasion = d.get("evasion", 1.0) * factor.get(e, 1.0)
            self.graph.add_edge(u, v, time=d["time_min"] + delay.get(e, 0.0),
                                neglog=-math.log(evasion), capacity=d.get("capacity", 1))

    def metrics(self, origin: str, target: str, *, with_corridors: bool = True) -> dict:
        """Fastest time and its node route, max evasion and (optionally) corridor count."""
        graph = self.graph
        try:
            time, route = nx.single_source_dijkstra(graph, origin, target, weight="time")
        except nx.NetworkXNoPath:
            time, route = math.inf, None
        try:
            evasion = math.exp(-nx.shortest_path_length(graph, origin, target, weight="neglog"))
        except nx.NetworkXNoPath:
            evasion = 0.0
        corridors = None
        if with_corridors:
            corridors = int(nx.maximum_flow_value(graph, origin, target, capacity="capacity")) \
                if route is not None else 0
        return {"time_min": float(time), "route": route, "evasion": evasion,
                "corridors": corridors}


def reference_metrics(problem: Problem, choice: Choice, origin: str, target: str, *,
                      with_corridors: bool = True) -> dict:
    """:meth:`ReferenceAttacker.metrics` for one axis."""
    return ReferenceAttacker(problem, choice).metrics(origin, target,
                                                      with_corridors=with_corridors)
