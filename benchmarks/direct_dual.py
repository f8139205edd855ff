"""The baseline a user would write: the direct single-level dual MILP of shortest-path
interdiction (Israeli & Wood 2002):  max pi_t  s.t.  pi_j - pi_i - d_k x_k <= c_k,
pi_s = 0,  sum_k x_k <= R,  x binary."""

from __future__ import annotations

import pulp

from optimizer.problem import Problem
from optimizer.solvers import SolverSettings, solve_milp


def interdiction_delays(problem: Problem) -> dict[str, float]:
    """The delay d_k of every interdictable arc, by edge id (one site per arc)."""
    delay = problem.obstacle_options.set_index("site_id")["delay_unobserved_min"]
    return {edges[0]: float(delay[site]) for site, edges in problem.obstacle_edges.items()}


def solve_direct_dual(problem: Problem, settings: SolverSettings, relax: bool = False):
    graph = problem.graph
    axis = problem.axes.iloc[0]
    prob = pulp.LpProblem("direct_dual", pulp.LpMaximize)
    nodes = list(graph.nodes)
    pi = prob.add_variable_dicts("pi", list(range(len(nodes))), lowBound=0)
    index = {n: i for i, n in enumerate(nodes)}
    delays = interdiction_delays(problem)
    x = prob.add_variable_dicts("x", list(range(len(delays))), 0, 1, cat="Binary")
    xs = dict(zip(delays, x.values(), strict=True))
    prob += pi[index[axis.objective]]
    prob += pi[index[axis.origin]] == 0, "origin"
    for k, (u, v, d) in enumerate(graph.edges(data=True)):
        term = 0
        if d["edge_id"] in xs:
            term = delays[d["edge_id"]] * xs[d["edge_id"]]
        prob += pi[index[v]] - pi[index[u]] - term <= d["time_min"], f"arc_{k}"
    prob += pulp.lpSum(xs.values()) <= problem.budgets["X"], "budget"
    return solve_milp(prob, settings, relax=relax)
