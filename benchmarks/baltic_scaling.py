"""The default Baltic scenario at several cell sizes: graph size, candidate sites, rounds of
route generation, time to proven optimality and peak memory, for the blocked and delay
objectives; plus the end-to-end default run broken down by stage.

Run:  python benchmarks/baltic_scaling.py [CELL_KM ...] [--threads N] [--limit SECONDS]
                                          [--objectives blocked delay]
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from instances import CELL_SIZES, benchmark_parser, cell_sizes

from optimizer import default_config_path, load_config, prepare, solve_prepared, solvers
from optimizer.runio import write_run


def peak_mb() -> float:
    """This process's peak resident memory plus its HiGHS worker's (each its own peak)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + solvers.worker_peak_mb()


def main(sizes: list[float], threads: int, limit: float | None, objectives: list[str]) -> None:
    base = load_config(default_config_path())
    solve = {"threads": threads} | ({"time_limit_s": limit} if limit is not None else {})
    base = base.model_copy(update={"solve": base.solve.model_copy(update=solve)})
    print(f"threads: {threads}, time limit: {base.solve.time_limit_s:g} s")
    print(f"{'cell_km':>7} {'nodes':>7} {'edges':>7} {'obst.opt':>8} {'sens.opt':>8} | "
          f"{'objective':>9} {'status':>8} {'value':>8} {'gap':>6} {'rounds':>6} {'routes':>6} "
          f"{'solve_s':>7} {'peak_MB':>7}")
    for size in sizes:
        config = base.model_copy(update={"graph": base.graph.model_copy(update={"cell_km": size})})
        prepared = prepare(config)
        g, p = prepared.graph, prepared.problem
        for objective in objectives:
            t = time.perf_counter()
            result = solve_prepared(prepared, objective_weights={objective: 1.0})
            seconds = time.perf_counter() - t
            report = result.plan.report
            gap = ("-" if report.gap is None else f"{report.gap:.2%}" if report.gap >= 1e-4
                   else f"{report.gap:.1e}")
            print(f"{size:>7.1f} {g.number_of_nodes():>7,} {g.number_of_edges():>7,} "
                  f"{len(p.obstacle_options):>8,} {len(p.sensor_options):>8,} | {objective:>9} "
                  f"{report.status:>8} {report.family_values[objective]:>8.2f} {gap:>6} "
                  f"{report.rounds:>6} {report.routes:>6} {seconds:>7.1f} {peak_mb():>7.0f}",
                  flush=True)
            if report.status != "optimal":  # how it stopped, and what the search added
                print(f"{'':>7} stopped: {report.termination}", flush=True)
    # end to end on the default, graph from the cache (built above)
    t0 = time.perf_counter()
    prepared = prepare(base)
    result = solve_prepared(prepared)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        write_run(result, Path(folder) / "run")
    t2 = time.perf_counter()
    stages = {**result.timings_s, "write_outputs": round(t2 - t1, 2)}
    print(f"\nend-to-end default run ({'graph from cache' if prepared.graph_from_cache else 'graph built'}): "
          f"{t2 - t0:.1f} s; stages {stages}")


if __name__ == "__main__":
    parser = benchmark_parser(__doc__)
    parser.add_argument("sizes", nargs="*", default=CELL_SIZES, metavar="CELL_KM",
                        help="terrain cell sizes in km")
    parser.add_argument("--threads", type=int, default=1, help="HiGHS threads per solve")
    parser.add_argument("--limit", type=float, default=None,
                        help="solver time limit in seconds; if not given, the default "
                             "scenario's own (300)")
    parser.add_argument("--objectives", nargs="+", default=["blocked", "delay"],
                        choices=["blocked", "delay"], help="objectives solved at each size")
    args = parser.parse_args()
    main(cell_sizes(parser, args.sizes), args.threads, args.limit, args.objectives)
