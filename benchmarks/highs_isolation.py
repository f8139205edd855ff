"""What solving HiGHS in a worker process costs: each case solved by the engine with its
HiGHS solves in the worker (the default, which kills a solve that overruns its time limit)
and in the engine's own process, alternately, on the same instance.

Run:  python benchmarks/highs_isolation.py [--cases grid-10x20 grid-20x40 default
                                            delay-5km snip-70] [--repeats 2]

Columns: the number of HiGHS solves (LP and MILP), the time of each side (best of the
repeats), the difference per solve, and the objective of each side (they must agree).
"""

from __future__ import annotations

import time

from instances import benchmark_parser, grid_problem, missing_snip_files, snip_problem
from spi_grids import solve_grid

from optimizer import (
    SolverSettings,
    default_config_path,
    load_config,
    prepare,
    solve_prepared,
    solve_problem,
    solvers,
)


def _grid(rows: int, cols: int):
    problem = grid_problem(rows, cols, 6, seed=1)
    return lambda: solve_grid(problem, SolverSettings(time_limit_s=600)).report.objective


def _baltic(objective: str | None, cell_km: float | None = None):
    config = load_config(default_config_path())
    if cell_km is not None:
        config = config.model_copy(update={"graph": config.graph.model_copy(
            update={"cell_km": cell_km})})
    prepared = prepare(config)
    weights = {objective: 1.0} if objective else None
    return lambda: solve_prepared(prepared, objective_weights=weights).plan.report.objective


def _snip(budget: int):  # as benchmarks/snip.py solves it
    problem = snip_problem(budget)
    return lambda: solve_problem(problem, objective_weights={"detection": 1.0},
                                 prefer_cheaper=False, max_rounds=5000, routes_per_round=2,
                                 settings=SolverSettings(time_limit_s=600, gap_rel=1e-5)
                                 ).report.objective


CASES = {"grid-10x20": lambda: _grid(10, 20), "grid-20x40": lambda: _grid(20, 40),
         "default": lambda: _baltic(None), "delay-5km": lambda: _baltic("delay", 5.0),
         "snip-70": lambda: _snip(70)}


def _measure(run) -> tuple[float, int, float]:
    """Seconds, HiGHS solves (every one passes ``_HiGHS.callSolver``) and the objective."""
    solves = 0
    original = solvers._HiGHS.callSolver

    def counted(self, lp):
        nonlocal solves
        solves += 1
        return original(self, lp)

    solvers._HiGHS.callSolver = counted
    try:
        started = time.perf_counter()
        value = run()
        return time.perf_counter() - started, solves, value
    finally:
        solvers._HiGHS.callSolver = original


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--cases", nargs="*", default=["grid-10x20", "grid-20x40", "default"],
                        choices=sorted(CASES), help="instances to solve")
    parser.add_argument("--repeats", type=int, default=2, help="solves per side and case")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats {args.repeats}: give 1 or more")
    if "snip-70" in args.cases and (missing := missing_snip_files()) is not None:
        parser.error(missing)
    print(f"{'case':>11} {'solves':>6} | {'worker_s':>8} {'in-process_s':>12} "
          f"{'diff/solve_ms':>13} | {'worker value':>12} {'in-process':>12}")
    for name in args.cases:
        run = CASES[name]()
        times: dict[bool, list[float]] = {True: [], False: []}
        values: dict[bool, float] = {}
        solves = 0
        for _ in range(args.repeats):
            for isolated in (True, False):
                solvers.ISOLATED = isolated
                seconds, solves, values[isolated] = _measure(run)
                times[isolated].append(seconds)
        solvers.ISOLATED = True
        worker, local = min(times[True]), min(times[False])
        print(f"{name:>11} {solves:>6} | {worker:>8.2f} {local:>12.2f} "
              f"{1000 * (worker - local) / max(solves, 1):>13.1f} | {values[True]:>12.6g} "
              f"{values[False]:>12.6g}", flush=True)


if __name__ == "__main__":
    main()
