"""Decide targets on the grids with the boxed dual MILP: is there a plan of at most R
interdictions whose shortest s-t route is at least T long?

The model is ``spi_lp_gap.boxed_dual`` (the direct dual MILP with node labels kept in
[d(s,i), T - d(i,t)], arcs on no route shorter than T dropped, delays capped) with the
budget row and no objective: HiGHS stops at the first plan it finds. Three verdicts:
reached (the plan, its shortest route recomputed with NetworkX), refuted (the MILP is
infeasible: no plan of R interdictions reaches T, so the optimum is below T), or open at
the time limit. The default targets are one above the best plans known. On the largest
grid it found a better plan than the engine (README "Measured"); it proves nothing the
engine does not: refuting one above the optimum is as hard here as in every other model.

Run:  python benchmarks/spi_target.py [--targets 40x80=323,60x120=469]
                                      [--limit 600]
      (``--targets 20x40:3=160`` gives the budget R of a grid run with several)
"""

from __future__ import annotations

import time

import networkx as nx
import pulp
from direct_dual import interdiction_delays
from instances import benchmark_parser, grid_problem
from spi_grids import grid_targets
from spi_lp_gap import boxed_dual

from optimizer import SolverSettings
from optimizer.solvers import solve_milp


def interdicted_length(problem, arcs: list[tuple]) -> float:
    """The shortest s-t route with the delays of ``arcs`` added (plain NetworkX)."""
    graph = problem.graph.copy()
    delays = interdiction_delays(problem)
    for u, v in arcs:
        graph[u][v]["time_min"] += delays[graph[u][v]["edge_id"]]
    axis = problem.axes.iloc[0]
    return nx.shortest_path_length(graph, axis.origin, axis.objective, weight="time_min")


def reach_target(problem, target: int, budget: int,
                 time_limit: float) -> tuple[str, list[tuple] | None, float]:
    """(verdict, plan, seconds): "reached" with the arcs of a plan of at most ``budget``
    interdictions whose shortest route is at least ``target``, "refuted" when none exists,
    or "open" when the time limit came first."""
    started = time.perf_counter()
    model = boxed_dual(problem, target, integer=True)
    if model is None:  # the unimpeded shortest route already reaches it
        return "reached", [], time.perf_counter() - started
    prob, x = model
    prob += pulp.lpSum(x.values()) <= budget, "budget"
    prob += pulp.LpAffineExpression()  # no objective: any plan will do
    left = max(time_limit - (time.perf_counter() - started), 1.0)
    outcome = solve_milp(prob, SolverSettings(time_limit_s=left))
    seconds = time.perf_counter() - started
    if outcome.status == "infeasible":
        return "refuted", None, seconds
    if not outcome.has_solution:
        return "open", None, seconds
    return "reached", [arc for arc, var in x.items() if var.varValue > 0.5], seconds


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--targets", default="40x80=323,60x120=469",
                        help="grid[:R]=T items, e.g. 40x80=323,20x40:3=160 (R: the grid's "
                             "last budget in spi_grids.CASES unless given)")
    parser.add_argument("--limit", type=float, default=600, help="seconds per target")
    args = parser.parse_args()
    targets = grid_targets(parser, args.targets, budgets=True)
    print(f"{'grid':>7} {'R':>3} {'T':>5} | {'verdict':>8} {'seconds':>8} | plan value (NetworkX)")
    for (rows, cols, budget), target in targets:
        grid = f"{rows}x{cols}"
        problem = grid_problem(rows, cols, budget, seed=1)
        verdict, plan, seconds = reach_target(problem, target, budget, args.limit)
        value = "" if plan is None else (f"{interdicted_length(problem, plan):.0f} with "
                                         f"{len(plan)} interdictions: "
                                         + " ".join(f"{u}>{v}" for u, v in sorted(plan)))
        print(f"{grid:>7} {budget:>3} {target:>5} | {verdict:>8} {seconds:>8.1f} | {value}",
              flush=True)


if __name__ == "__main__":
    main()
