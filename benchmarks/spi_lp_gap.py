"""Why the large shortest-path interdiction grids stay unproven: their integrality gap.

For each grid of ``spi_grids.py``: the unimpeded shortest path, the engine's best plan V
within a short limit (proven or not), the direct dual MILP's LP relaxation, and the fewest
interdictions a *fractional* plan needs to lengthen the shortest path to V + 1 (all data
are integers, so V + 1 is the next value). Any integer plan reaching V + 1 needs more
than R interdictions exactly when V is optimal, and a proof of optimality must show that;
a branch-and-bound proof starts from the LP's figure. The LP is the strongest arc-wise
one: node labels kept in [d(s,i), T - d(i,t)], arcs on no route shorter than T dropped,
each delay capped at what can still matter (T minus the shortest route through the arc).

Run:  python benchmarks/spi_lp_gap.py [--limit 60] [--cases 6]
"""

from __future__ import annotations

import argparse

import networkx as nx
import pulp
from direct_dual import interdiction_delays, solve_direct_dual
from instances import grid_problem
from spi_grids import CASES, solve_grid

from optimizer import SolverSettings
from optimizer.solvers import solve_milp


def fewest_interdictions(problem, target: float, integer: bool = False) -> float | None:
    """Fewest interdictions (LP: x in [0, 1]; ``integer``: x binary) that make every s-t
    route at least ``target`` long; None if even interdicting every arc does not."""
    graph = problem.graph
    axis = problem.axes.iloc[0]
    s, t = axis.origin, axis.objective
    ds = nx.single_source_dijkstra_path_length(graph, s, weight="time_min")
    dt = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), t, weight="time_min")
    if target <= ds[t]:
        return 0.0
    delays = interdiction_delays(problem)
    nodes = [n for n in graph if n in ds and n in dt and ds[n] + dt[n] < target] + [t]
    prob = pulp.LpProblem("fewest", pulp.LpMinimize)
    pi = {n: prob.add_variable(f"pi_{i}", ds[n], target - dt[n]) for i, n in enumerate(nodes)}
    x = {}
    for u, v, d in graph.edges(data=True):
        through = ds.get(u, float("inf")) + d["time_min"] + dt.get(v, float("inf"))
        if through >= target:
            continue  # implied by the label bounds
        term = 0
        if d["edge_id"] in delays:
            x[u, v] = prob.add_variable(f"x_{len(x)}", 0, 1,
                                        cat="Binary" if integer else "Continuous")
            term = min(delays[d["edge_id"]], target - through) * x[u, v]
        prob += pi[v] - pi[u] - term <= d["time_min"]
    prob += pi[s] == 0
    prob += pi[t] >= target
    prob += pulp.lpSum(x.values())
    return solve_milp(prob, SolverSettings(), relax=not integer).objective


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=60)
    parser.add_argument("--cases", type=int, default=len(CASES))
    args = parser.parse_args()
    print(f"{'grid':>7} {'R':>3} {'unimpeded':>9} {'best V':>6} {'status':>8} {'direct LP':>9} | "
          f"{'fewest interdictions to reach V+1':>34}")
    for rows, cols, budget in CASES[: args.cases]:
        problem = grid_problem(rows, cols, budget, seed=1)
        plan = solve_grid(problem, SolverSettings(time_limit_s=args.limit))
        value = float(plan.axes["time_after_min"].iloc[0])
        unimpeded = float(plan.axes["time_before_min"].iloc[0])
        relaxed = solve_direct_dual(problem, SolverSettings(), relax=True).objective
        fractional = fewest_interdictions(problem, value + 1)
        integer = f"> {budget}" if plan.report.status == "optimal" else f"> {budget} if V optimal"
        print(f"{rows:>3}x{cols:<3} {budget:>3} {unimpeded:>9.0f} {value:>6.0f} "
              f"{plan.report.status:>8} {relaxed:>9.1f} | LP {fractional:5.2f}, integer {integer}",
              flush=True)


if __name__ == "__main__":
    main()
