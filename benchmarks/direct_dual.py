"""The baseline a user would write: the direct single-level dual MILP of shortest-path
interdiction (Israeli & Wood 2002):  max pi_t  s.t.  pi_j - pi_i - d_k x_k <= c_k,
pi_s = 0,  sum_k x_k <= R,  x binary."""

from __future__ import annotations

import pulp

from optimizer.problem import Problem
from optimizer.solvers import SolverSettings, solve_milp


def solve_direct_dual(problem: Problem, settings: SolverSettings, relax: bool = False):
    graph = problem.graph
    axis = problem.axes.iloc[0]
    prob = pulp.LpProblem("direct_dual", pulp.LpMaximize)
    nodes = list(graph.nodes)
    pi = prob.add_variable_dicts("pi", list(range(len(nodes))), lowBound=0)
    index = {n: i for i, n in enumerate(nodes)}
    site_of = {edges[0]: site for site, edges in problem.obstacle_edges.items()}
    options = problem.obstacle_options.set_index("site_id")
    x = prob.add_variable_dicts("x", list(range(len(site_of))), 0, 1, cat="Binary")
    xs = dict(zip(site_of, x.values(), strict=True))
    prob += pi[index[axis.objective]]
    prob += pi[index[axis.origin]] == 0, "origin"
    for k, (u, v, d) in enumerate(graph.edges(data=True)):
        delay = 0.0
        term = 0
        if d["edge_id"] in xs:
            delay = float(options.at[site_of[d["edge_id"]], "delay_unobserved_min"])
            term = delay * xs[d["edge_id"]]
        prob += pi[index[v]] - pi[index[u]] - term <= d["time_min"], f"arc_{k}"
    prob += pulp.lpSum(xs.values()) <= problem.budgets["X"], "budget"
    return solve_milp(prob, settings, relax=relax)
