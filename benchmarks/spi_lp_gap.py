"""Why the large shortest-path interdiction grids stay unproven: their integrality gap.

For each grid of ``spi_grids.py``: the unimpeded shortest path, the engine's best plan V
within a short limit (proven or not), the direct dual MILP's LP relaxation, and the fewest
interdictions a *fractional* plan needs to lengthen the shortest path to V + 1 (all data
are integers, so V + 1 is the next value). Any integer plan reaching V + 1 needs more
than R interdictions exactly when V is optimal, and a proof of optimality must show that;
a branch-and-bound proof starts from the LP's figure. The LP is the strongest arc-wise
one: node labels kept in [d(s,i), T - d(i,t)], arcs on no route shorter than T dropped,
each delay capped at what can still matter (T minus the shortest route through the arc).

A second count comes from a time-expanded model (a length-bounded cut, all data integer):
one state (v, l) per node and length l that can still lead to t before T, y(v, l) = 1 when
the attacker can be at v after at most l; an arc's plain copy (v, l + c) >= (u, l) - x
and its delayed copy (v, l + c + d) >= (u, l) hold at every l, y(s, .) = 1, y(t, .) = 0.
It holds every route at once (no separation), and a half interdiction no longer buys half
a delay: the route must be cut. Its LP is the stronger count; its integer program, given
``--integer-limit`` seconds per grid, decides whether the target needs more than R.

``--targets 40x80=323`` asks about a given target instead of V + 1 (say, one above a better
plan found elsewhere).

Run:  python benchmarks/spi_lp_gap.py [--limit 60] [--cases 6] [--integer-limit 0]
                                      [--targets RxC=T,...]
"""

from __future__ import annotations

import math
import time

import networkx as nx
import numpy as np
import pulp
from direct_dual import interdiction_delays, solve_direct_dual
from instances import benchmark_parser, grid_problem
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix
from spi_cover_bound import _quiet_stdout
from spi_grids import add_case_options, chosen_cases, grid_targets, solve_grid

from optimizer import SolverSettings
from optimizer.solvers import solve_milp


def _distances(problem):
    """The axis's origin s and objective t, and every node's unimpeded distance from s and
    to t."""
    graph = problem.graph
    axis = problem.axes.iloc[0]
    s, t = axis.origin, axis.objective
    ds = nx.single_source_dijkstra_path_length(graph, s, weight="time_min")
    dt = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), t, weight="time_min")
    return s, t, ds, dt


def boxed_dual(problem, target: float, integer: bool = False):
    """The direct dual MILP at a target: node labels kept in [d(s,i), target - d(i,t)], arcs
    on no route shorter than the target dropped, each delay capped at target minus the
    shortest route through its arc, and pi_t >= target. Its plans are exactly those whose
    shortest s-t route is at least ``target`` long. Returns the problem (no objective set)
    and the interdiction variables by arc (u, v); None if the target is already met."""
    graph = problem.graph
    s, t, ds, dt = _distances(problem)
    if target <= ds[t]:
        return None
    delays = interdiction_delays(problem)
    nodes = [n for n in graph if n in ds and n in dt and ds[n] + dt[n] < target] + [t]
    prob = pulp.LpProblem("boxed_dual", pulp.LpMinimize)
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
    return prob, x


def fewest_interdictions(problem, target: float, integer: bool = False) -> float | None:
    """Fewest interdictions (LP: x in [0, 1]; ``integer``: x binary) that make every s-t
    route at least ``target`` long; None if even interdicting every arc does not."""
    model = boxed_dual(problem, target, integer)
    if model is None:
        return 0.0
    prob, x = model
    prob += pulp.lpSum(x.values())
    return solve_milp(prob, SolverSettings(), relax=not integer).objective


def time_expanded_interdictions(problem, target: int, *, integer: bool = False,
                                time_limit: float = 600.0,
                                cuts: tuple = ()) -> tuple[str, float | None, float]:
    """Fewest interdictions that make every s-t route at least ``target`` long, in the
    time-expanded model (module docstring): (status, value, bound); the value is None
    when no integer plan was found, the bound is the LP's or the branch-and-bound's (0 when
    the time limit came before either).
    ``cuts``: extra rows (edge ids, least number of them interdicted) known to be valid."""
    graph = problem.graph
    s, t, ds, dt = _distances(problem)
    delays = interdiction_delays(problem)
    if any(float(v) != int(v) for v in [target, *delays.values(),
                                        *(c for *_, c in graph.edges(data="time_min"))]):
        raise ValueError("the time-expanded model needs integer lengths, delays and target")
    if target <= ds[t]:
        return "optimal", 0.0, 0.0

    def last(n):  # the longest l at which n can still lead to t before the target
        return target - 1 - dt[n]

    first, state = {}, 0  # node -> index of its state (n, ds(n)); its states run to last(n)
    for n in graph:
        if n in ds and n in dt and ds[n] <= last(n):
            first[n] = state
            state += int(last(n) - ds[n]) + 1
    rows, cols, values = [], [], []

    def add(upper, lower, cut=None):  # one row per pair: y[upper] - y[lower] (+ x[cut]) >= 0
        start, m = (rows[-1] + 1 if rows else 0), len(upper)
        terms = [upper, lower] + ([np.full(m, cut)] if cut is not None else [])
        rows.extend(np.repeat(np.arange(start, start + m), len(terms)).tolist())
        cols.extend(np.column_stack(terms).ravel().tolist())
        values.extend(np.tile([1, -1, 1][:len(terms)], m).tolist())

    for n, i in first.items():  # reachable by l is reachable by l + 1
        idx = i + np.arange(int(last(n) - ds[n]) + 1)
        add(idx[1:], idx[:-1])
    interdictable = [e for *_, e in graph.edges(data="edge_id") if e in delays]
    column = {e: state + i for i, e in enumerate(interdictable)}
    for u, v, data in graph.edges(data=True):
        if u not in first or v not in first:
            continue
        c, e = int(data["time_min"]), data["edge_id"]
        copies = [(c, column.get(e))] + ([(c + int(delays[e]), None)] if e in delays else [])
        for step, cut in copies:  # states (u, l) -> (v, l + step) inside both ranges
            low, high = int(max(ds[u], ds[v] - step)), int(min(last(u), last(v) - step))
            if low <= high:
                ls = np.arange(low, high + 1)
                add(first[v] + ls + step - int(ds[v]), first[u] + ls - int(ds[u]), cut)
    n_vars = state + len(interdictable)
    lower, upper = np.zeros(n_vars), np.ones(n_vars)
    lower[first[s]:first[s] + int(last(s)) + 1] = 1
    upper[first[t]:first[t] + int(last(t) - ds[t]) + 1] = 0
    cost = np.zeros(n_vars)
    cost[state:] = 1
    integrality = np.zeros(n_vars)
    integrality[state:] = int(integer)
    least = [0] * (rows[-1] + 1)
    for edges, count in cuts:  # sum of x over the edges >= count
        members = [column[e] for e in edges if e in column]
        rows.extend([len(least)] * len(members))
        cols.extend(members)
        values.extend([1] * len(members))
        least.append(count)
    matrix = csr_matrix((values, (rows, cols)), shape=(len(least), n_vars))
    with _quiet_stdout():
        result = milp(cost, integrality=integrality, bounds=Bounds(lower, upper),
                      constraints=LinearConstraint(matrix, least, np.inf),
                      options={"time_limit": time_limit})
    if result.status == 2:
        return "infeasible", None, np.inf  # even every interdiction does not reach it
    bound = result.fun if not integer or result.status == 0 else result.mip_dual_bound
    status = "optimal" if result.status == 0 else "time limit"
    return status, result.fun, (0.0 if bound is None else bound)  # 0: stopped before any bound


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--limit", type=float, default=60,
                        help="seconds for the engine's best plan V on each grid")
    add_case_options(parser, grids=False)
    parser.add_argument("--integer-limit", type=float, default=0,
                        help="seconds for the time-expanded integer program per grid (0: skip)")
    parser.add_argument("--targets", default="",
                        help="targets instead of V + 1, e.g. 40x80=323,60x120=464")
    args = parser.parse_args()
    cases = chosen_cases(parser, args.cases, "")
    targets = {f"{rows}x{cols}": target
               for (rows, cols, _), target in grid_targets(parser, args.targets)}
    print(f"{'grid':>7} {'R':>3} {'unimpeded':>9} {'best V':>6} {'status':>8} {'direct LP':>9} | "
          f"T: fewest interdictions to reach T (V + 1 unless given): arc-wise LP, "
          f"time-expanded LP (s)" + (", time-expanded integer" if args.integer_limit else ""))
    for rows, cols, budget in cases:
        problem = grid_problem(rows, cols, budget, seed=1)
        plan = solve_grid(problem, SolverSettings(time_limit_s=args.limit))
        value = float(plan.axes["time_after_min"].iloc[0])
        unimpeded = float(plan.axes["time_before_min"].iloc[0])
        relaxed = solve_direct_dual(problem, SolverSettings(), relax=True).objective
        target = int(targets.get(f"{rows}x{cols}", value + 1))
        fractional = fewest_interdictions(problem, target)
        started = time.perf_counter()
        expanded = time_expanded_interdictions(problem, target)[2]
        line = (f"{rows:>3}x{cols:<3} {budget:>3} {unimpeded:>9.0f} {value:>6.0f} "
                f"{plan.report.status:>8} {relaxed:>9.1f} | {target}: arc-wise {fractional:5.2f}, "
                f"time-expanded {expanded:5.2f} ({time.perf_counter() - started:.1f} s)")
        if args.integer_limit:
            started = time.perf_counter()
            status, count, bound = time_expanded_interdictions(problem, target, integer=True,
                                                         time_limit=args.integer_limit)
            spent = time.perf_counter() - started
            if status == "optimal":
                verdict = (f"needs {count:.0f}: no plan reaches T" if count > budget else
                           f"needs {count:.0f}: a plan reaches T")
                line += f", integer {verdict} ({spent:.1f} s)"
            else:
                line += (f", integer: at least {math.ceil(bound - 1e-6)}, best plan found "
                         f"{'none' if count is None else f'{count:.0f}'} at the "
                         f"{args.integer_limit:.0f} s limit")
        print(line, flush=True)


if __name__ == "__main__":
    main()
