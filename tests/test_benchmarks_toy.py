"""Published answers of the PyomoGallery network-interdiction toys, and the networkx min cut."""

import math
import random
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from optimizer import problem_from_tables, solve_problem

DATA = Path(__file__).parent / "data" / "pyomogallery"


def _toy(kind: str, attacks: int):
    arcs = pd.read_csv(DATA / kind / "sample_arcs_data.csv")
    nodes = pd.read_csv(DATA / kind / "sample_nodes_data.csv").rename(columns={"Node": "node_id"})
    value = "Capacity" if kind == "max_flow" else "Cost"
    edges = pd.DataFrame({"edge_id": arcs.StartNode + "-" + arcs.EndNode,
                          "source": arcs.StartNode, "target": arcs.EndNode,
                          "time_min": arcs[value] if kind == "shortest_path" else 1.0,
                          "capacity": arcs[value] if kind == "max_flow" else 1.0})
    attackable = edges[arcs["Attackable"] == 1]
    sites = pd.DataFrame({"site_id": "x_" + attackable.edge_id, "edges": attackable.edge_id,
                          "country": "D"})
    options = pd.DataFrame({"site_id": sites.site_id, "type": "destroy", "cost": 1.0,
                            "delay_unobserved_min": 0.0, "delay_observed_min": 0.0,
                            "blocks": True})
    axes = pd.DataFrame({"axis_id": ["a"], "origin": ["Start"], "objective": ["End"],
                         "weight": [1.0]})
    return problem_from_tables({"nodes": nodes[["node_id"]], "edges": edges,
                                "obstacle_sites": sites, "obstacle_options": options,
                                "axes": axes,
                                "budgets": pd.DataFrame({"holder": ["D"], "budget_eur": [attacks]})},
                               blocked_time_min=10_000)


@pytest.mark.parametrize("attacks,expected", [(0, 80), (1, 10), (2, 0)])
def test_max_flow_interdiction_toy(attacks, expected):
    plan = solve_problem(_toy("max_flow", attacks), objective_weights={"throughput": 1.0})
    assert plan.report.status == "optimal"
    assert plan.report.family_values["throughput"] == expected
    assert int(plan.axes["corridors_after"].iloc[0]) == expected


@pytest.mark.parametrize("attacks,expected", [(0, 5), (1, 17), (2, math.inf)])
def test_shortest_path_interdiction_toy(attacks, expected):
    plan = solve_problem(_toy("shortest_path", attacks), objective_weights={"delay": 1.0})
    assert plan.report.status == "optimal"
    assert plan.axes["time_after_min"].iloc[0] == expected
    if math.isinf(expected):
        assert plan.routes["a"]["after"] is None  # Start and End disconnected


def _cut_instance(seed: int, rows: int = 4, cols: int = 6):
    rng = random.Random(seed)
    g = nx.DiGraph()
    nodes = ["s", "t"] + [f"{r}_{c}" for r in range(rows) for c in range(cols)]
    edges, sites = [], []
    for r in range(rows):
        edges += [("s", f"{r}_0"), (f"{r}_{cols - 1}", "t")]
        edges += [(f"{r}_{c}", f"{r}_{c + 1}") for c in range(cols - 1)]
    for r in range(rows - 1):
        for c in range(cols):
            edges += [(f"{r}_{c}", f"{r + 1}_{c}"), (f"{r + 1}_{c}", f"{r}_{c}")]
    table = []
    for u, v in edges:
        eid = f"{u}>{v}"
        cost = float(rng.randint(1, 20))
        interdictable = u != "s" and v != "t"
        table.append({"edge_id": eid, "source": u, "target": v, "time_min": 1.0})
        g.add_edge(u, v, capacity=cost if interdictable else math.inf)
        if interdictable:
            sites.append({"site_id": f"x{eid}", "edges": eid, "country": "D", "cost": cost})
    sites = pd.DataFrame(sites)
    options = sites[["site_id", "cost"]].assign(type="cut", delay_unobserved_min=0.0,
                                                 delay_observed_min=0.0, blocks=True)
    problem = problem_from_tables({
        "nodes": pd.DataFrame({"node_id": nodes}), "edges": pd.DataFrame(table),
        "obstacle_sites": sites[["site_id", "edges", "country"]], "obstacle_options": options,
        "axes": pd.DataFrame({"axis_id": ["a"], "origin": ["s"], "objective": ["t"],
                              "weight": [1.0]}),
        "budgets": pd.DataFrame({"holder": ["D"], "budget_eur": [1e9]})})
    return problem, g


@pytest.mark.parametrize("seed", range(6))
def test_block_everything_at_least_cost_equals_networkx_min_cut(seed):
    problem, g = _cut_instance(seed)
    plan = solve_problem(problem, objective_weights={"blocked": 1.0}, prefer_cheaper=True)
    assert plan.report.status == "optimal" and plan.report.spend_status == "optimal"
    assert bool(plan.axes["blocked_after"].iloc[0])
    assert plan.spend == pytest.approx(nx.minimum_cut_value(g, "s", "t"))


def _interdicted_length(graph, delay: dict, chosen: set) -> float:
    """Shortest s-t path when the arcs in ``chosen`` carry their delays."""
    def weight(u, v, d):
        return d["time_min"] + (delay[d["edge_id"]] if (u, v) in chosen else 0)
    return nx.shortest_path_length(graph, "s", "t", weight=weight)


def _delays(problem) -> dict[str, float]:
    """Each interdictable arc's delay, by edge id."""
    options = problem.obstacle_options
    return {problem.obstacle_edges[s][0]: d for s, d in zip(
        options.site_id, options.delay_unobserved_min, strict=True)}


def _brute_force_reach(problem, most: int) -> dict[int, float]:
    """The longest shortest s-t path with k interdictions, for every k up to ``most``."""
    import itertools
    delay = _delays(problem)
    arcs = [(u, v) for u, v, e in problem.graph.edges(data="edge_id") if e in delay]
    return {k: max(_interdicted_length(problem.graph, delay, set(c))
                   for c in itertools.combinations(arcs, k))
            for k in range(min(most, len(arcs)) + 1)}


@pytest.mark.parametrize("seed", [1, 2])
def test_fewest_interdictions_model_of_the_grid_gap_benchmark_matches_brute_force(seed):
    # benchmarks/spi_lp_gap.py explains the unproven grids with this model (labels bounded,
    # arcs pruned and delays capped at the target): it must count interdictions exactly
    import sys
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from instances import grid_problem
    from spi_lp_gap import fewest_interdictions

    problem = grid_problem(3, 4, 1, seed=seed)
    reach = _brute_force_reach(problem, 2)
    base = reach[0]
    for target in range(int(base), int(reach[2]) + 1):
        exact = min(k for k in reach if reach[k] >= target)
        assert fewest_interdictions(problem, target, integer=True) == pytest.approx(exact)
        assert fewest_interdictions(problem, target) <= exact + 1e-9
    assert fewest_interdictions(problem, reach[2] + 1, integer=True) > 2 - 1e-9


def _binding_grid(rows: int, cols: int, seed: int):
    """A small Israeli-Wood grid (benchmarks/instances.py, R = 1) with delays cut to 1..7, so
    that an interdicted arc still carries routes and the counts are not all 1; puts
    benchmarks/ on the import path."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from instances import grid_problem

    problem = grid_problem(rows, cols, 1, seed=seed)
    options = problem.obstacle_options
    options["delay_unobserved_min"] = options["delay_unobserved_min"] % 7 + 1
    return problem


@pytest.mark.parametrize("seed", [1, 2])
def test_time_expanded_count_of_the_grid_gap_benchmark_matches_brute_force(seed):
    # benchmarks/spi_lp_gap.py's second count, a length-bounded cut over (node, length)
    # states; small delays (1..7), so that an interdicted arc still carries routes
    problem = _binding_grid(3, 4, seed)
    from spi_lp_gap import time_expanded_interdictions

    reach = _brute_force_reach(problem, 3)
    assert reach[3] > reach[1]  # the delays bind: the counts below are not all 1
    for target in range(int(reach[0]), int(reach[3]) + 1):
        exact = min(k for k in reach if reach[k] >= target)
        assert time_expanded_interdictions(problem, target, integer=True)[:2] == (
            "optimal", pytest.approx(exact))
        assert time_expanded_interdictions(problem, target)[2] <= exact + 1e-9
    status, count, _ = time_expanded_interdictions(problem, reach[3] + 1, integer=True)
    assert status == "infeasible" or count > 3 + 1e-9


@pytest.mark.parametrize("seed", [1, 2])
def test_band_bound_of_the_grids_is_valid_against_brute_force(seed):
    # benchmarks/spi_band_bound.py: each band's count is the band's own brute-force count,
    # and neither the partition bound nor the band rows may ask for more interdictions
    # than the whole grid needs (its brute-force count), at every target
    problem = _binding_grid(5, 3, seed)
    from spi_band_bound import band_counts, band_cuts, band_problem, partition_bound
    from spi_lp_gap import time_expanded_interdictions

    reach = _brute_force_reach(problem, 3)
    bands = {(a, b): _brute_force_reach(band_problem(problem, a, b), 3)
             for a in range(5) for b in range(a, min(a + 3, 5))}
    bound_used = False
    for target in range(int(reach[0]), int(reach[3]) + 1):
        exact = min(k for k in reach if reach[k] >= target)
        least = band_counts(problem, 5, target, 3, 60)
        for band, count in least.items():  # its own count, or more than brute force tried
            own = min((k for k, reached in bands[band].items() if reached >= target),
                      default=max(bands[band]) + 1)
            assert count == own or count > max(bands[band]) == own - 1, (target, band)
        assert partition_bound(least, 5) <= exact
        cuts = tuple(band_cuts(problem, least))
        # each row covers every arc inside its band, the vertical ones too (a band's plans
        # may interdict them; a row without them would be stronger than valid)
        for arcs, count in cuts:
            rows = {int(n.split("_")[0]) for e in arcs for n in e.split(">") if "_" in n}
            top, bottom = min(rows), max(rows)
            inside = {e for u, v, e in problem.graph.edges(data="edge_id")
                      if all(n in "st" or top <= int(n.split("_")[0]) <= bottom for n in (u, v))}
            assert set(arcs) == inside and least[top, bottom] == count
        assert time_expanded_interdictions(problem, target, integer=True, cuts=cuts)[:2] == (
            "optimal", pytest.approx(exact))
        assert time_expanded_interdictions(problem, target, cuts=cuts)[2] <= exact + 1e-9
        bound_used |= partition_bound(least, 5) > 0
    assert bound_used  # the bands needed interdictions at some target
    assert partition_bound({(0, 0): 2, (1, 1): 2, (0, 1): 3}, 2) == 4  # disjoint bands add up


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cover_bound_prototype_decides_every_target_like_brute_force(seed):
    # benchmarks/spi_cover_bound.py refutes targets with cover and knapsack rows: every
    # target must be refuted exactly when no plan of R interdictions reaches it
    import sys
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from instances import grid_problem
    from spi_cover_bound import CoverBound, bisect

    for budget in (1, 2):
        problem = grid_problem(3, 4, budget, seed=seed)
        reach = _brute_force_reach(problem, budget)
        optimum, base = reach[budget], reach[0]
        bound = CoverBound(problem)
        for target in range(int(base) + 1, int(optimum) + 4):
            verdict, detail = bound.decide(target, limit=60)
            if target <= optimum:
                assert verdict == "reached" and target <= detail <= optimum
            else:
                assert verdict == "refuted" and (detail is None or detail > budget)
        best, upper, _ = bisect(CoverBound(problem), int(base), int(optimum) + 50, 60, 120)
        assert (best, upper) == (optimum, optimum + 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_target_milp_decides_every_target_like_brute_force(seed):
    # benchmarks/spi_target.py: a target is reached (by a plan within the budget whose
    # shortest route, recomputed with NetworkX, is that long) exactly when brute force
    # reaches it, and refuted otherwise; small delays, so that plans need several arcs
    problem = _binding_grid(3, 4, seed)
    from spi_target import interdicted_length, reach_target

    reach = _brute_force_reach(problem, 3)
    assert reach[3] > reach[1]
    delay = _delays(problem)
    for budget in (1, 2, 3):
        for target in range(int(reach[0]), int(reach[budget]) + 3):
            verdict, plan, _ = reach_target(problem, target, budget, 60)
            if target <= reach[budget]:
                assert verdict == "reached", (budget, target)
                assert len(plan) <= budget
                length = _interdicted_length(problem.graph, delay, set(plan))
                assert target <= length <= reach[budget]
                assert interdicted_length(problem, plan) == length  # the script's own value
            else:
                assert (verdict, plan) == ("refuted", None), (budget, target)


def test_benchmark_arguments_name_every_problem_before_any_solve(capsys):
    # the benchmark scripts refuse bad --grids, --targets, --cases and cell sizes up front,
    # each problem named in one message (not an empty table, a traceback, or a solve first)
    import sys
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from instances import benchmark_parser, cell_sizes
    from spi_grids import chosen_cases, grid_targets

    parser = benchmark_parser("doc")

    def refused(call) -> str:
        with pytest.raises(SystemExit) as stopped:
            call()
        assert stopped.value.code == 2
        return capsys.readouterr().err

    assert grid_targets(parser, "40x80=323, 20x40:3=160", budgets=True) == [
        ((40, 80, 10), 323), ((20, 40, 3), 160)]
    message = refused(lambda: grid_targets(parser, "foo,40x80=abc,20x40:x=3,40x80:3=5"))
    for part in ("'foo': unknown grid", "'40x80=abc': T must be", "'20x40:x=3'",
                 "'40x80:3=5': this script takes no budget"):
        assert part in message
    assert chosen_cases(parser, 6, "40x80") == [(40, 80, 10)]
    message = refused(lambda: chosen_cases(parser, 2, "50x50,40x80"))
    assert "50x50, 40x80 not among the grids of the first 2 cases (10x20)" in message
    assert "--cases 0: give 1 to 6" in refused(lambda: chosen_cases(parser, 0, ""))
    assert cell_sizes(parser, ["5", "7.5"]) == [5.0, 7.5]
    assert "'0', 'x', 'inf'" in refused(lambda: cell_sizes(parser, ["0", "x", "5", "inf"]))
