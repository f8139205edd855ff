"""A prototype upper bound, outside the engine, for the grids the engine leaves unproven.

Israeli & Wood's covering view at a target T, with cardinality covers. A plan whose
shortest s-t route is at least T long must, on every route P with c(P) < T,
- interdict at least k_P of P's arcs, k_P being the fewest of them whose delays add up to
  T - c(P) (cover row x(P) >= k_P), and
- add at least T - c(P) of delay on P (knapsack row, each delay capped at T - c(P)).
Both rows hold for every plan that reaches T. If the fewest interdictions satisfying the
rows of the routes found exceed R, no plan reaches T, and with integer data the optimum
is at most T - 1. Routes are found lazily: the fastest routes under the current LP or
integer plan's x as extra length (with a penalty on arcs of the routes found this round,
and delays above theta counted into the length to reach covers with k_P >= 2), and the
attacker's fastest route under each integer plan; an integer plan whose fastest route is
T or longer shows that T is reachable. Targets are bisected between the engine's best plan
and its bound.

Run:  python benchmarks/spi_cover_bound.py [--engine-limit 60] [--target-limit 120]
                                           [--grid-limit 600] [--cases 6]
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np
from direct_dual import interdiction_delays
from instances import benchmark_parser, grid_problem
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from spi_grids import add_case_options, chosen_cases, solve_grid

from optimizer import SolverSettings

MUS = (0.02, 0.05, 0.1, 0.2, 0.5)  # weight of length against x in the separating searches
THETA_SHARES = (1.0, 0.6, 0.4, 0.2)  # theta as shares of the largest delay
PENALTY_REPS = 10  # routes per search, each penalising the arcs of the ones before


@contextlib.contextmanager
def _quiet_stdout():
    """Silence what SciPy's HiGHS prints to the process's stdout (a debug line on some
    integer solutions) so that the table stays readable."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


class CoverBound:
    """Decide targets T for one grid problem: refuted, reached (with a plan) or open."""

    def __init__(self, problem):
        graph = problem.graph
        axis = problem.axes.iloc[0]
        delays = interdiction_delays(problem)
        nodes = {n: i for i, n in enumerate(graph.nodes)}
        edges = list(graph.edges(data=True))
        self.tail = np.array([nodes[u] for u, _, _ in edges])
        self.head = np.array([nodes[v] for _, v, _ in edges])
        self.length = np.array([float(d["time_min"]) for _, _, d in edges])
        self.delay = np.array([float(delays.get(d["edge_id"], 0.0)) for _, _, d in edges])
        self.arc = {(int(u), int(v)): a for a, (u, v) in enumerate(zip(self.tail, self.head, strict=True))}
        self.cols = np.nonzero(self.delay > 0)[0]  # the interdictable arcs, one column each
        self.n, self.s, self.t = len(nodes), nodes[axis.origin], nodes[axis.objective]
        self.budget = int(problem.budgets["X"])
        self.pool: dict[tuple, np.ndarray] = {}
        self.thetas = [share * self.delay.max() for share in THETA_SHARES]

    def fastest(self, weight: np.ndarray) -> tuple[float, np.ndarray]:
        matrix = csr_matrix((weight + 1e-12, (self.tail, self.head)), shape=(self.n, self.n))
        _, pred = dijkstra(matrix, indices=self.s, return_predecessors=True)
        route, v = [], self.t
        while v != self.s:
            route.append(self.arc[int(pred[v]), v])
            v = int(pred[v])
        route = np.array(route[::-1])
        return float(weight[route].sum()), route  # exact: the 1e-12 keeps zero arcs stored

    def cover(self, route: np.ndarray, target: float) -> int:
        """k_P: the fewest arcs of the route whose delays reach target - c(P)."""
        need = target - self.length[route].sum()
        if need <= 0:
            return 0
        reach = np.cumsum(np.sort(self.delay[route])[::-1])
        k = int(np.searchsorted(reach, need - 1e-9)) + 1
        return k if k <= len(route) else self.budget + len(route) + 1  # cannot be reached

    def violated(self, route: np.ndarray, target: float, x: np.ndarray) -> bool:
        need = target - self.length[route].sum()
        if need <= 0:
            return False
        capped = np.minimum(self.delay[route], need) @ x[route]
        return x[route].sum() < self.cover(route, target) - 1e-6 or capped < need - 1e-6

    def separate(self, target: float, x: np.ndarray) -> int:
        added = 0
        for theta in self.thetas:
            stretched = self.length + np.maximum(self.delay - theta, 0.0)
            for mu in MUS:
                penalty = np.zeros(len(x))
                for _ in range(PENALTY_REPS):
                    _, route = self.fastest(mu * stretched + x + penalty)
                    penalty[route] += 1.0
                    key = tuple(sorted(route.tolist()))
                    if key not in self.pool and self.violated(route, target, x):
                        self.pool[key] = route
                        added += 1
        return added

    def solve_rows(self, target: float, integer: bool, limit: float):
        """Fewest interdictions satisfying the pool's rows at the target (LP or integer)."""
        rows, cols, values, lower = [], [], [], []
        position = np.full(len(self.length), -1)
        position[self.cols] = np.arange(len(self.cols))
        for route in self.pool.values():
            need = target - self.length[route].sum()
            inter = route[position[route] >= 0]
            if need <= 0 or not len(inter):
                continue
            for coefficient, bound in ((np.ones(len(inter)), self.cover(route, target)),
                                       (np.minimum(self.delay[inter], need), need)):
                rows += [len(lower)] * len(inter)
                cols += position[inter].tolist()
                values += coefficient.tolist()
                lower.append(bound)
        x = np.zeros(len(self.length))
        if not lower:
            return "optimal", 0.0, x
        matrix = csr_matrix((values, (rows, cols)), shape=(len(lower), len(self.cols)))
        with _quiet_stdout():
            result = milp(np.ones(len(self.cols)),
                          integrality=np.full(len(self.cols), int(integer)),
                          bounds=Bounds(0, 1),
                          constraints=LinearConstraint(matrix, np.array(lower), np.inf),
                          options={"time_limit": max(limit, 1.0)})
        if result.status == 2:
            return "infeasible", None, x
        if result.x is None:
            return "open", None, x
        x[self.cols] = result.x
        return ("optimal" if result.status == 0 else "open"), float(result.fun), x

    def decide(self, target: float, limit: float) -> tuple[str, float | None]:
        """('refuted', fewest) | ('reached', value of a plan) | ('open', None)."""
        deadline = time.perf_counter() + limit
        integer = False
        while time.perf_counter() < deadline:
            status, fewest, x = self.solve_rows(target, integer,
                                                deadline - time.perf_counter())
            if status == "infeasible" or (status == "optimal" and integer
                                          and fewest > self.budget + 0.5):
                return "refuted", fewest
            if status == "open":
                return "open", None
            if integer:
                value, route = self.fastest(self.length + self.delay * x)
                if value >= target - 1e-9:
                    return "reached", value
                key = tuple(sorted(route.tolist()))
                self.pool[key] = route  # its knapsack row cuts this plan off
            if self.separate(target, x) == 0 and not integer:
                integer = True  # the LP has no violated row left: on to integer plans
        return "open", None


def bisect(bound: CoverBound, best: int, upper: int, target_limit: float,
           grid_limit: float) -> tuple[int, int, list[str]]:
    """Bisect the targets in (best, upper], ``upper`` being known to be unreachable; a target
    left open is passed over (the next ones tried lie above it). Returns the best value a
    plan reached, the least refuted target and the targets tried with their verdicts."""
    started, tried, floor = time.perf_counter(), [], best
    while upper - floor > 1 and time.perf_counter() - started < grid_limit:
        target = (floor + upper) // 2
        left = grid_limit - (time.perf_counter() - started)
        verdict, detail = bound.decide(target, min(target_limit, left))
        tried.append(f"{target} {verdict}")
        if verdict == "refuted":
            upper = target
        elif verdict == "reached":
            best = max(best, int(round(detail)))
            floor = max(floor, best)
        else:
            floor = target
    return best, upper, tried


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--engine-limit", type=float, default=60,
                        help="seconds for the engine's best plan V on each grid")
    parser.add_argument("--target-limit", type=float, default=120,
                        help="seconds for each target the bisection decides")
    parser.add_argument("--grid-limit", type=float, default=600,
                        help="seconds for the whole bisection on each grid")
    add_case_options(parser, grids=False)
    args = parser.parse_args()
    cases = chosen_cases(parser, args.cases, "")
    print(f"{'grid':>7} {'R':>3} | {'engine V':>8} {'bound':>7} {'gap':>6} | "
          f"{'cover bound':>11} {'gap':>6} {'seconds':>7} | targets tried")
    for rows, cols, budget in cases:
        problem = grid_problem(rows, cols, budget, seed=1)
        plan = solve_grid(problem, SolverSettings(time_limit_s=args.engine_limit))
        value = int(round(plan.axes["time_after_min"].iloc[0]))
        engine_bound = plan.report.bound * 60.0  # hours -> minutes
        started = time.perf_counter()
        best, refuted, tried = bisect(CoverBound(problem), value, int(engine_bound + 1e-6) + 1,
                                      args.target_limit, args.grid_limit)
        seconds = time.perf_counter() - started
        assert refuted - 1 >= best, (refuted, best)  # a refuted target above every plan
        print(f"{rows:>3}x{cols:<3} {budget:>3} | {value:>8} {engine_bound:>7.1f} "
              f"{(engine_bound - value) / engine_bound:>6.1%} | {refuted - 1:>11} "
              f"{(refuted - 1 - best) / (refuted - 1):>6.1%} {seconds:>7.1f} | "
              f"{', '.join(tried)}", flush=True)


if __name__ == "__main__":
    main()
