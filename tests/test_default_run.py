"""`optimizer run` on the embedded default: proven optimal, verified, every output written."""

import json
import subprocess
import sys

import pandas as pd
import pyogrio
import pytest


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("default") / "run"
    done = subprocess.run([sys.executable, "-m", "optimizer", "run", "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_default_is_proven_optimal_and_verified(default_run):
    out, stdout = default_run
    summary = json.loads((out / "summary.json").read_text())
    report = summary["report"]
    assert report["status"] == "optimal" and report["gap"] <= 1e-6
    axes = pd.read_csv(out / "axes.csv")
    assert axes["verified"].all()
    # the objective is the attacker recomputation: weights of axes whose fastest route is too slow
    recomputed = axes.loc[axes["time_after_min"] >= axes["threshold_min"], "weight"].sum()
    assert report["objective"] == pytest.approx(recomputed)
    assert "status optimal" in stdout and "APPROXIMATE" in stdout
    # the output is the program's own: HiGHS's banner ("Running HiGHS ...") is kept out
    assert stdout.startswith("status optimal"), stdout[:200]


def test_default_outputs_and_budgets(default_run):
    out, _ = default_run
    summary = json.loads((out / "summary.json").read_text())
    assert "APPROXIMATE" in summary["data_note"] and summary["graph"]["cell_km"] == 5.0
    assert ".;" not in summary["data_note"]  # the parts join cleanly
    assert set(summary["input_files_sha256"]) and summary["versions"]["pulp"]
    budgets = pd.read_csv(out / "budgets.csv")
    assert (budgets["spend_eur"] <= budgets["budget_eur"] + 1e-6).all()
    assert set(budgets["holder"]) == {"EE", "LV", "LT"}
    obstacles = pd.read_csv(out / "obstacles.csv")
    assert {"site_id", "type", "country", "cost_eur", "lon", "lat"} <= set(obstacles.columns)
    assert obstacles["data_note"].str.contains("APPROXIMATE").all()
    assert obstacles["lon"].between(20.5, 29.5).all() and obstacles["lat"].between(53.5, 60).all()
    layers = {name for name, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert {"obstacles", "sensors", "corridors", "budgets"} <= layers


def test_readme_python_api_block_runs_as_written():
    """The README's "Python API" block, executed as it stands, on the embedded default."""
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    names: dict = {}
    exec(compile(block, "README.md (Python API)", "exec"), names)  # noqa: S102
    assert names["plan"].report.status == "optimal"
    assert names["national"].plan.report.status == "optimal"
    assert names["delay"].plan.report.status in {"optimal", "feasible"}
    assert names["delay"].plan.report.objective > 0
