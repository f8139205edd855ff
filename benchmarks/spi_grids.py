"""Shortest-path interdiction grids (Israeli & Wood 2002): the engine vs the direct dual MILP.

Same instances (seeded), same solver, one run, side by side. Prints time to proven
optimality or the gap at the limit, and the speed-up where both finish.

Run:  python benchmarks/spi_grids.py [--engine-limit 600] [--direct-limit 120] [--solver highs]
                                     [--threads 1] [--grids 40x80,60x120]

``--threads`` applies to both sides (HiGHS searches a MIP's tree in parallel from 2 on).
"""

from __future__ import annotations

import argparse
import time

from direct_dual import solve_direct_dual
from instances import benchmark_parser, grid_problem

from optimizer import SolverSettings, solve_problem

CASES = [(10, 20, 3), (10, 20, 6), (20, 40, 3), (20, 40, 6), (40, 80, 10), (60, 120, 10)]


def add_case_options(parser: argparse.ArgumentParser, *, grids: bool = True) -> None:
    """The grid scripts' ``--cases`` (the first CASES to run) and, with ``grids``,
    ``--grids`` (only these of them); read them back with :func:`chosen_cases`."""
    parser.add_argument("--cases", type=int, default=len(CASES),
                        help=f"run the first CASES of {CASES} (rows, columns, R)")
    if grids:
        parser.add_argument("--grids", default="",
                            help="only these of the first CASES, e.g. 40x80")


def chosen_cases(parser: argparse.ArgumentParser, count: int,
                 grids: str) -> list[tuple[int, int, int]]:
    """The first ``count`` CASES, only those named in ``grids`` ("40x80,60x120") if any; a
    name that is not among them stops the script with an error naming it (not an empty
    table)."""
    if not 1 <= count <= len(CASES):
        parser.error(f"--cases {count}: give 1 to {len(CASES)} (the first CASES to run)")
    first = CASES[:count]
    names = [f"{rows}x{cols}" for rows, cols, _ in first]
    only = [g.strip() for g in grids.split(",") if g.strip()]
    wrong = [g for g in only if g not in names]
    if wrong:
        parser.error(f"--grids: {', '.join(wrong)} not among the grids of the first {count} "
                     f"cases ({', '.join(dict.fromkeys(names))}); raise --cases or fix the "
                     "name")
    return [case for case, name in zip(first, names, strict=True) if not only or name in only]


def grid_targets(parser: argparse.ArgumentParser, text: str, *,
                 budgets: bool = False) -> list[tuple[tuple[int, int, int], int]]:
    """``--targets`` items ``GRID=T`` ("40x80=323,60x120=469"), with ``budgets`` also
    ``GRID:R=T`` ("20x40:3=160"), as ((rows, cols, R), T); R is the grid's last budget in
    CASES unless given. Every malformed item or unknown grid is named in one error."""
    last = {f"{rows}x{cols}": (rows, cols, budget) for rows, cols, budget in CASES}
    form = "GRID=T or GRID:R=T" if budgets else "GRID=T"
    wrong, targets = [], []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        head, equals, target = item.partition("=")
        grid, colon, given = (part.strip() for part in head.partition(":"))
        if grid not in last:
            wrong.append(f"'{item}': unknown grid '{grid}'")
        elif not equals or not target.strip().isdigit():
            wrong.append(f"'{item}': T must be a whole number of minutes ({form})")
        elif colon and not budgets:
            wrong.append(f"'{item}': this script takes no budget R ({form})")
        elif colon and not given.isdigit():
            wrong.append(f"'{item}': R must be a whole number ({form})")
        else:
            rows, cols, budget = last[grid]
            targets.append(((rows, cols, int(given) if colon else budget), int(target)))
    if wrong:
        parser.error(f"--targets: {'; '.join(wrong)}. Items are {form}, separated by commas; "
                     f"grids: {', '.join(last)}")
    return targets


def solve_grid(problem, settings: SolverSettings):
    """The engine on a grid as every grid benchmark runs it: the delay objective alone,
    without the cheapest-plan phase (the grids have unit costs and one budget)."""
    return solve_problem(problem, objective_weights={"delay": 1.0}, prefer_cheaper=False,
                         settings=settings)


def _fmt(status, seconds, gap):
    if status == "optimal":
        return f"optimal {seconds:7.2f} s"
    return f"{status} gap {gap:.1%} at {seconds:.0f} s" if gap is not None else status


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--engine-limit", type=float, default=600,
                        help="seconds for the engine on each grid")
    parser.add_argument("--direct-limit", type=float, default=120,
                        help="seconds for the direct dual MILP on each grid")
    parser.add_argument("--solver", default="highs", choices=["highs", "cbc"],
                        help="MILP solver of both sides")
    parser.add_argument("--seed", type=int, default=1, help="the grids' seed")
    add_case_options(parser)
    parser.add_argument("--threads", type=int, default=1, help="threads of both sides")
    args = parser.parse_args()
    cases = chosen_cases(parser, args.cases, args.grids)
    print(f"threads: {args.threads}")
    print(f"{'grid':>7} {'arcs':>6} {'R':>3} | {'engine':>28} {'value':>6} {'bound':>7} "
          f"{'rounds':>6} | {'direct dual MILP':>28} {'value':>6} {'bound':>7} | {'speed-up':>8}")
    for rows, cols, budget in cases:
        problem = grid_problem(rows, cols, budget, seed=args.seed)
        t = time.perf_counter()
        plan = solve_grid(problem, SolverSettings(name=args.solver,
                                                  time_limit_s=args.engine_limit,
                                                  threads=args.threads))
        engine_s = time.perf_counter() - t
        engine_value = plan.axes["time_after_min"].iloc[0]
        t = time.perf_counter()
        direct = solve_direct_dual(problem, SolverSettings(name=args.solver,
                                                           time_limit_s=args.direct_limit,
                                                           threads=args.threads))
        direct_s = time.perf_counter() - t
        direct_gap = (abs(direct.bound - direct.objective) / max(abs(direct.bound), 1e-9)
                      if direct.objective is not None and direct.bound is not None else None)
        both = plan.report.status == "optimal" and direct.status == "optimal"
        if both:
            assert abs(engine_value - direct.objective) < 1e-6, (engine_value, direct.objective)
        ratio = f"{direct_s / engine_s:7.1f}x" if both else "-"
        direct_value = f"{direct.objective:6.0f}" if direct.objective is not None else "-"
        # the engine's bound in minutes (its objective is the attacker's time in hours)
        bound = plan.report.bound
        engine_bound = f"{bound * 60:7.2f}" if bound is not None else "-"
        direct_bound = f"{direct.bound:7.2f}" if direct.bound is not None else "-"
        print(f"{rows:>3}x{cols:<3} {problem.graph.number_of_edges():>6} {budget:>3} | "
              f"{_fmt(plan.report.status, engine_s, plan.report.gap):>28} {engine_value:>6.0f} "
              f"{engine_bound:>7} {plan.report.rounds:>6} | "
              f"{_fmt(direct.status, direct_s, direct_gap):>28} {direct_value} "
              f"{direct_bound:>7} | {ratio:>8}", flush=True)


if __name__ == "__main__":
    main()
