"""SNIP sensor placement (Pan & Morton 2008, instance 0, q = 0.1 r) through the engine's
detection objective, against the published optima.

Run:  python benchmarks/snip.py [--budgets 0 30 50 70 90] [--limit 600] [--gap 1e-5]
                                [--threads 1 2] [--seeds 0 1 2]

With several thread counts or seeds, every budget is solved once per pair, side by side
(HiGHS searches a master's tree in parallel from 2 threads on; its random seed changes the
search, and with it the time).
"""

from __future__ import annotations

import itertools
import time
import tracemalloc

from instances import benchmark_parser, missing_snip_files, snip_problem

from optimizer import SolverSettings, solve_problem

PUBLISHED = {0: 0.421832, 30: 0.216429, 50: 0.182439, 70: 0.150108, 90: 0.121485}
GUROBI = "72-295 s (Gurobi 8.1.1, 4 threads, Benders branch-and-cut)"


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--budgets", type=int, nargs="*", default=[0, 30, 50, 70, 90],
                        help="sensor budgets (published optima for 0, 30, 50, 70, 90)")
    parser.add_argument("--limit", type=float, default=600, help="seconds per solve")
    parser.add_argument("--gap", type=float, default=1e-5,
                        help="relative gap at which a solve is proven optimal")
    parser.add_argument("--solver", default="highs", choices=["highs", "cbc"], help="MILP solver")
    parser.add_argument("--threads", type=int, nargs="*", default=[1],
                        help="HiGHS thread counts (each budget is solved with each)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0],
                        help="HiGHS random seeds (the engine's default is 0)")
    parser.add_argument("--routes-per-round", type=int, default=2,
                        help="cuts per scenario and round (the engine's routes_per_round)")
    args = parser.parse_args()
    if (missing := missing_snip_files()) is not None:
        parser.error(missing)
    print(f"published solve times: {GUROBI}")
    print(f"{'B':>3} {'status':>9} {'objective':>10} {'bound':>10} {'gap':>8} {'published':>10} "
          f"{'rel.err':>8} {'rounds':>6} {'cuts':>6} {'threads':>7} {'seed':>4} {'time_s':>8}")
    for budget in args.budgets:
        problem = snip_problem(budget)
        for threads, seed in itertools.product(args.threads, args.seeds):
            t = time.perf_counter()
            plan = solve_problem(problem, objective_weights={"detection": 1.0},
                                 prefer_cheaper=False,
                                 routes_per_round=args.routes_per_round, max_rounds=5000,
                                 settings=SolverSettings(name=args.solver,
                                                         time_limit_s=args.limit,
                                                         gap_rel=args.gap, threads=threads,
                                                         seed=seed))
            seconds = time.perf_counter() - t
            value = plan.report.family_values["detection"]
            bound = -plan.report.bound if plan.report.bound is not None else float("nan")
            known = PUBLISHED.get(budget)  # None: no published optimum for this budget
            published = f"{known:>10.6f}" if known else f"{'-':>10}"
            error = f"{abs(value - known) / known:>8.1e}" if known else f"{'-':>8}"
            print(f"{budget:>3} {plan.report.status:>9} {value:>10.6f} {bound:>10.6f} "
                  f"{plan.report.gap or 0:>8.1e} {published} {error} "
                  f"{plan.report.rounds:>6} {plan.report.routes:>6} {threads:>7} {seed:>4} "
                  f"{seconds:>8.1f}", flush=True)


if __name__ == "__main__":
    tracemalloc.stop()
    main()
