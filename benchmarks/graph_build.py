"""Build the default Baltic graph at several cell sizes; print nodes, edges and build time.

Run:  python benchmarks/graph_build.py [CELL_KM ...]
"""

from __future__ import annotations

import time

from instances import CELL_SIZES, benchmark_parser, cell_sizes

from optimizer import default_config_path, load_config
from optimizer.graph import build_graph
from optimizer.validate import validate


def main(sizes: list[float]) -> None:
    base = load_config(default_config_path())
    inputs = validate(base)
    print(f"{'cell_km':>8} {'nodes':>8} {'edges':>8} {'cells':>8} {'build_s':>8}")
    for size in sizes:
        config = base.model_copy(update={"graph": base.graph.model_copy(update={"cell_km": size})})
        started = time.perf_counter()
        graph = build_graph(config, inputs)
        elapsed = time.perf_counter() - started
        cells = sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "cell")
        print(f"{size:>8.1f} {graph.number_of_nodes():>8,} {graph.number_of_edges():>8,} "
              f"{cells:>8,} {elapsed:>8.2f}")


if __name__ == "__main__":
    parser = benchmark_parser(__doc__)
    parser.add_argument("sizes", nargs="*", default=CELL_SIZES, metavar="CELL_KM",
                        help="terrain cell sizes in km")
    args = parser.parse_args()
    main(cell_sizes(parser, args.sizes))
