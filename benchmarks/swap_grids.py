"""The swap search (optimizer/swap.py) alone on the Israeli-Wood grids: from the empty plan,
with the engine's settings (three seeded runs, each ending after 30 iterations without a
better plan), the plan value it reaches, when it first found that plan (found_s) and when
it stopped (s), with the known optima or best plans beside it. Every value is recomputed by NetworkX on the raw graph.

Run:  python benchmarks/swap_grids.py [--limit 120] [--cases 6] [--runs 3] [--stall 30]
                                      [--first-seed 0] [--grids 40x80,60x120]
"""

from __future__ import annotations

import time

from instances import benchmark_parser, grid_problem
from spi_grids import add_case_options, chosen_cases
from spi_target import interdicted_length

from optimizer import swap
from optimizer.attacker import Choice, Network
from optimizer.models import FAMILIES, Master
from optimizer.phases import evaluate
from optimizer.solve import _relevant_options
from optimizer.swap import swap_search

# proven optima (the engine and the direct MILP, README "Measured") or, for the two
# largest grids, the best plan known (40x80: this search with --first-seed 112 --runs 1
# --stall 60; 60x120: spi_target.py) and the interval of the optimum
KNOWN = {(10, 20, 3): "81 (optimum)", (10, 20, 6): "93 (optimum)", (20, 40, 3): "159 (optimum)",
         (20, 40, 6): "169 (optimum)", (40, 80, 10): "323; optimum in [323, 325]",
         (60, 120, 10): "468 (spi_target.py); optimum in [468, 478]"}


def networkx_length(problem, choice: Choice) -> float:
    """The attacker's shortest s-t length with the plan's delays, by NetworkX."""
    arc = {d["edge_id"]: (u, v) for u, v, d in problem.graph.edges(data=True)}
    return interdicted_length(problem, [arc[problem.obstacle_edges[site][0]]
                                        for site in choice.obstacles])


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--limit", type=float, default=120, help="seconds per grid")
    add_case_options(parser)
    parser.add_argument("--runs", type=int, default=swap.RUNS, help="seeded runs per grid")
    parser.add_argument("--stall", type=int, default=swap.STALL,
                        help="iterations without a better plan that end a run")
    parser.add_argument("--first-seed", type=int, default=0, help="the search's first seed")
    parser.add_argument("--seed", type=int, default=1, help="the grids' seed")
    args = parser.parse_args()
    cases = chosen_cases(parser, args.cases, args.grids)
    print(f"{'grid':>7} {'R':>3} | {'value':>6} {'NetworkX':>8} {'options':>7} "
          f"{'iterations':>10} {'evaluations':>11} {'found_s':>7} {'s':>6} | known")
    for rows, cols, budget in cases:
        problem = grid_problem(rows, cols, budget, seed=args.seed)
        network = Network(problem)
        family = FAMILIES["delay"](network, 8)
        obstacle_keys, sensor_keys = _relevant_options(network, [family])
        master = Master(problem, network, mode="joint", obstacle_keys=obstacle_keys,
                        sensor_keys=sensor_keys)
        stages = [(master, [family])]
        started = time.perf_counter()
        result = swap_search(master, network, family.axes, Choice.empty(),
                             lambda choice, s=stages, n=network: evaluate(s, {"delay": 1.0}, n,
                                                                        [choice]),
                             deadline=started + args.limit, runs=args.runs,
                             stall=args.stall, first_seed=args.first_seed)
        seconds = time.perf_counter() - started
        print(f"{rows:>3}x{cols:<3} {budget:>3} | {result.value * 60:>6.0f} "
              f"{networkx_length(problem, result.choice):>8.0f} "
              f"{len(result.choice.obstacles):>7} {result.iterations:>10} "
              f"{result.evaluations:>11} {result.found_at - started:>7.1f} {seconds:>6.1f} | "
              f"{KNOWN[(rows, cols, budget)]}",
              flush=True)


if __name__ == "__main__":
    main()
