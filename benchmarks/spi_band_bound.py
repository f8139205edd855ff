"""A row-band bound on the large shortest-path interdiction grids (outside the engine).

The rows of a grid split into bands (consecutive rows, the vertical arcs between bands left
out) are arc-disjoint s-t subnetworks. A plan whose shortest s-t route is at least T long
makes every band's own shortest route at least T long with that band's arcs alone, so

    - it interdicts at least count(band) arcs inside each band, count(band) being the fewest
      that reach T in the band (counted by the time-expanded model of ``spi_lp_gap.py``:
      exactly, or its branch-and-bound bound when the band's limit runs out);
    - over any partition of the rows into bands it interdicts at least the sum of their
      counts (the best partition is a DP over row intervals), and
    - the rows  sum of x over the band's arcs >= count(band)  are valid for the whole grid.

Those rows added to the whole grid's time-expanded model raise its count: when its LP (or,
with ``--integer-limit``, its branch-and-bound bound) needs more than R interdictions, no
plan of R reaches T, and with integer data the optimum is at most T - 1.

Run:  python benchmarks/spi_band_bound.py [--targets 40x80=326] [--widest 9]
                                          [--band-limit 60] [--integer-limit 0]
"""

from __future__ import annotations

import dataclasses
import math
import time

from instances import benchmark_parser, grid_problem
from spi_grids import CASES, grid_targets
from spi_lp_gap import time_expanded_interdictions

UNREACHABLE = 10**6  # a band's count when even every interdiction does not reach T


def band_problem(problem, top: int, bottom: int):
    """The grid problem restricted to rows top..bottom (nodes named ``row_col``)."""
    keep = [n for n in problem.graph
            if n in ("s", "t") or top <= int(n.split("_")[0]) <= bottom]
    return dataclasses.replace(problem, graph=problem.graph.subgraph(keep))


def band_counts(problem, rows: int, target: int, widest: int, limit: float) -> dict:
    """A lower bound on count(band) for every band of at most ``widest`` rows: the band's
    own count (exact, or its bound at ``limit`` seconds) or, if larger, the best sum over
    a split of the band into two."""
    least: dict[tuple[int, int], int] = {}
    for width in range(1, widest + 1):
        for top in range(rows - width + 1):
            bottom = top + width - 1
            _, _, bound = time_expanded_interdictions(band_problem(problem, top, bottom),
                                                      target, integer=True, time_limit=limit)
            split = max((least[top, m] + least[m + 1, bottom] for m in range(top, bottom)),
                        default=0)
            own = math.ceil(bound - 1e-6) if math.isfinite(bound) else UNREACHABLE
            least[top, bottom] = max(own, split)
    return least


def partition_bound(least: dict, rows: int) -> int:
    """The best sum of band counts over partitions of the rows into bands."""
    best = [0] * (rows + 1)
    for end in range(1, rows + 1):
        best[end] = max(best[start] + least[start, end - 1]
                        for start in range(end) if (start, end - 1) in least)
    return best[rows]


def band_cuts(problem, least: dict) -> list[tuple[list[str], int]]:
    """The rows  x(band's arcs) >= count(band)  for the bands that need any interdiction."""
    cuts = []
    for (top, bottom), count in least.items():
        if count > 0:
            graph = band_problem(problem, top, bottom).graph
            cuts.append(([e for *_, e in graph.edges(data="edge_id")], count))
    return cuts


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--targets", default="40x80=326",
                        help="grids and targets T to refute, e.g. 40x80=326,60x120=470")
    parser.add_argument("--widest", type=int, default=9, help="widest band, in rows")
    parser.add_argument("--band-limit", type=float, default=60,
                        help="seconds for each band's integer program")
    parser.add_argument("--integer-limit", type=float, default=0,
                        help="seconds for the whole grid's integer program with the band "
                             "rows (0: its LP only)")
    args = parser.parse_args()
    targets = {f"{rows}x{cols}": target
               for (rows, cols, _), target in grid_targets(parser, args.targets)}
    print(f"{'grid':>7} {'R':>3} {'T':>4} | {'bands':>5} {'seconds':>7} {'partition':>9} | "
          f"{'LP':>5} {'+ band rows':>11} {'seconds':>7} | verdict")
    for rows, cols, budget in CASES:
        if f"{rows}x{cols}" not in targets:
            continue
        target = targets[f"{rows}x{cols}"]
        problem = grid_problem(rows, cols, budget, seed=1)
        started = time.perf_counter()
        least = band_counts(problem, rows, target, args.widest, args.band_limit)
        band_s = time.perf_counter() - started
        cuts = band_cuts(problem, least)
        plain = time_expanded_interdictions(problem, target)[2]
        started = time.perf_counter()
        integer = args.integer_limit > 0
        status, _, bound = time_expanded_interdictions(
            problem, target, cuts=tuple(cuts), integer=integer,
            time_limit=args.integer_limit if integer else 600.0)
        whole_s = time.perf_counter() - started
        needs = math.ceil(bound - 1e-6) if math.isfinite(bound) else math.inf  # inf: a band
        # cannot reach T even with every arc interdicted
        if needs > budget:
            verdict = f"needs {needs} > {budget}: no plan reaches {target}, optimum <= {target - 1}"
        elif integer or status == "optimal":
            verdict = f"{'integer' if integer else 'LP'} needs only {needs}: {target} not refuted"
        else:
            verdict = f"LP unsolved at 600 s: {target} open"
        print(f"{rows:>3}x{cols:<3} {budget:>3} {target:>4} | {len(cuts):>5} {band_s:>7.0f} "
              f"{partition_bound(least, rows):>9} | {plain:>5.2f} {bound:>11.2f} {whole_s:>7.0f}"
              f" | {verdict}", flush=True)


if __name__ == "__main__":
    main()
