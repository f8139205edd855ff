"""Coalition games: hand-computed Shapley values and core membership; brute-force coalitions."""

import math

import pytest
from helpers import brute_force, random_problem

from optimizer.share import (
    analyse_sharing,
    coalition_problem,
    coalitions,
    core_violations,
    least_core,
    shapley,
)

P = ["A", "B", "C"]


def game(**values):
    out = {frozenset(): 0.0}
    for key, v in values.items():
        out[frozenset(key)] = float(v)
    return out


def test_majority_game_has_equal_shapley_and_empty_core():
    v = game(A=0, B=0, C=0, AB=1, AC=1, BC=1, ABC=1)
    phi = shapley(P, v)
    assert phi == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    assert core_violations(P, v, phi)  # two players get 2/3 < 1
    allocation, complaint = least_core(P, v)
    assert complaint == pytest.approx(1 / 3)
    assert sum(allocation.values()) == pytest.approx(1)


def test_additive_game_shapley_is_the_standalone_values_and_in_core():
    v = game(A=1, B=2, C=3, AB=3, AC=4, BC=5, ABC=6)
    phi = shapley(P, v)
    assert phi == pytest.approx({"A": 1, "B": 2, "C": 3})
    assert not core_violations(P, v, phi)


def test_hand_computed_asymmetric_game():
    # v(1)=1, v(2)=v(3)=0, v(12)=3, v(13)=2, v(23)=1, v(123)=4
    v = game(A=1, B=0, C=0, AB=3, AC=2, BC=1, ABC=4)
    # phi_A = 1/3*1 + 1/6*3 + 1/6*2 + 1/3*3 = 13/6 ; phi_B = 1/3*0 + 1/6*2 + 1/6*1 + 1/3*2 = 7/6
    phi = shapley(P, v)
    assert phi["A"] == pytest.approx(13 / 6)
    assert phi["B"] == pytest.approx(7 / 6)
    assert phi["C"] == pytest.approx(4 - 13 / 6 - 7 / 6)
    assert not core_violations(P, v, phi)


def test_glove_game_core_is_the_scarce_side():
    # A owns a left glove, B and C a right one: the core gives everything to A
    v = game(A=0, B=0, C=0, AB=1, AC=1, BC=0, ABC=1)
    phi = shapley(P, v)
    assert phi["A"] == pytest.approx(2 / 3)
    assert core_violations(P, v, phi)
    allocation, complaint = least_core(P, v)
    assert allocation["A"] == pytest.approx(1) and complaint == pytest.approx(0)


@pytest.mark.parametrize("seed", range(4))
def test_coalition_values_match_brute_force(seed):
    problem = random_problem(seed + 500, n_axes=3)
    result = analyse_sharing(problem)
    table = result.coalitions.set_index("coalition")
    for s in coalitions(sorted(problem.budgets)):
        sub = coalition_problem(problem, s)
        expected = brute_force(sub, "blocked")[0] if len(sub.axes) else 0.0
        assert table.at["+".join(sorted(s)), "value"] == pytest.approx(expected)
    shares = result.shares
    grand = table.at["+".join(sorted(problem.budgets)), "value"]
    assert shares["shapley_value_share"].sum() == pytest.approx(grand)
    assert shares["fair_cost_eur"].sum() == pytest.approx(
        table.at["+".join(sorted(problem.budgets)), "plan_cost_eur"])
    # joint never worse than the national plans put together (superadditivity)
    singles = sum(table.at[p, "value"] for p in sorted(problem.budgets))
    assert grand >= singles - 1e-9
    assert not math.isnan(shares["transfer_eur"].sum())
    # money to the cent: no summation noise such as -1.9e-09 EUR
    assert (shares["transfer_eur"] == shares["transfer_eur"].round(2)).all()


def test_cli_share_writes_files(tmp_path):
    import subprocess
    import sys

    import pandas as pd
    from tiny_world import write_tiny_world

    path = write_tiny_world(tmp_path / "w")
    out = tmp_path / "share"
    done = subprocess.run([sys.executable, "-m", "optimizer", "share", str(path), "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("coalitions.csv", "shares.csv", "attribution.csv", "shares.png", "report.html"):
        assert (out / name).exists(), name
    shares = pd.read_csv(out / "shares.csv")
    coalitions_table = pd.read_csv(out / "coalitions.csv")
    assert shares["shapley_value_share"].sum() == pytest.approx(coalitions_table["value"].max())


def test_share_tables_round_away_summation_noise():
    from optimizer.share import _clean

    assert str(_clean(-1.86e-09, 2)) == "0.0"  # not -0.0, not -1.86e-09
    assert _clean(-16666.666666, 2) == -16666.67 and _clean(2.0 - 8.88e-16, 9) == 2.0
