"""Scenario files and comparisons: deep merge, key paths, rows for failures, sweep monotonicity."""

import subprocess
import sys

import pandas as pd
import pytest
from tiny_world import write_tiny_world

from optimizer import InputError
from optimizer.compare import run_comparison
from optimizer.scenarios import deep_merge, load_scenarios

SCENARIOS = """
base = "tiny.toml"
[compare]
marginal_meur = 1.0
[scenarios.announced]
[scenarios.national]
solve = {{ mode = "national" }}
[scenarios.pooled]
solve = {{ mode = "pooled" }}
[scenarios.broken]
candidates = {{ fixed = ["no-such-site"] }}
{extra}
[[sweeps]]
name = "budget"
parameter = "budget_scale"
values = [0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
[[sweeps]]
name = "nat"
parameter = "budget_scale"
values = [0.05, 0.2]
with = {{ solve = {{ mode = "national" }} }}
"""


def _write(tmp_path, extra=""):
    write_tiny_world(tmp_path)
    path = tmp_path / "scenarios.toml"
    path.write_text(SCENARIOS.format(extra=extra))
    return path


def test_deep_merge_replaces_leaves_and_merges_tables():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [3]}}) == {"a": {"b": 1, "c": [3]}, "d": 1}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


def test_unknown_keys_fail_with_their_full_path(tmp_path):
    path = _write(tmp_path, extra="[scenarios.typo]\nsolve = { objectiv = \"delay\" }")
    with pytest.raises(InputError) as error:
        load_scenarios(path)
    assert "[scenarios.typo]" in str(error.value) and "solve.objectiv" in str(error.value)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmp")
    scenario_set = load_scenarios(_write(folder))
    return folder, scenario_set, run_comparison(scenario_set)


def test_failing_scenario_is_a_row_not_a_crash(comparison):
    _, _, result = comparison
    broken = result.rows[result.rows["scenario"] == "broken"]
    assert list(broken["status"]) == ["input_error"]
    assert "no-such-site" in result.errors["broken"]


def test_blocked_weight_never_decreases_along_the_budget_sweep(comparison):
    _, _, result = comparison
    sweep = result.pareto[result.pareto["sweep"] == "budget"].sort_values("total_budget_eur")
    assert (sweep["status"] == "optimal").all()
    assert sweep["blocked_weight"].is_monotonic_increasing
    assert sweep["blocked_weight"].iloc[0] == 0 and sweep["blocked_weight"].iloc[-1] > 0


def test_joint_never_worse_than_national(comparison):
    _, _, result = comparison
    table = result.joint_vs_national
    assert not table.empty
    assert (table["gain"] >= -1e-9).all()


def test_national_rows_carry_each_holders_own_gap(comparison):
    _, _, result = comparison
    national = result.rows[result.rows["scenario"] == "national"]
    assert len(national) and (national["status"] == "optimal").all()
    # each holder's own solve is proven, so each row has its gap (the union has no bound)
    assert national["gap"].notna().all() and (national["gap"] <= 1e-6).all()


def test_rows_have_budget_spend_and_marginal_value(comparison):
    _, _, result = comparison
    row = result.rows[(result.rows["scenario"] == "announced")].iloc[0]
    assert row["spend_eur"] <= row["budget_eur"]
    assert "marginal_value_per_MEUR" in result.rows.columns
    assert pd.notna(row["marginal_value_per_MEUR"])


def test_cli_compare_writes_every_file(comparison, tmp_path):
    folder, _, _ = comparison
    out = tmp_path / "cmp"
    done = subprocess.run([sys.executable, "-m", "optimizer", "compare",
                           str(folder / "scenarios.toml"), "--out", str(out), "--no-marginal"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("comparison.csv", "pareto.csv", "joint_vs_national.csv", "summary.json",
                 "pareto.png", "spend.png"):
        assert (out / name).exists(), name
    assert (out / "scenarios" / "announced" / "plan.gpkg").exists()
    rows = pd.read_csv(out / "comparison.csv")
    assert set(rows["scenario"]) >= {"announced", "national", "pooled", "broken"}
    assert "NaN" not in done.stdout and "total_budget_MEUR" in done.stdout
