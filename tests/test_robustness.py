"""Scale-out and faults: Dask equals serial, a killed sweep resumes, outputs are deterministic,
and malformed inputs always end in a clear error with the right exit code."""

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import random_problem, write_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_world import write_tiny_world

from optimizer import InputError
from optimizer.cli import main
from optimizer.compare import run_comparison
from optimizer.problem import problem_from_tables, problem_to_tables
from optimizer.scenarios import load_scenarios

SWEEP = """
base = "tiny.toml"
[compare]
marginal = false
[scenarios.announced]
[scenarios.national]
solve = {{ mode = "national" }}
[[sweeps]]
name = "budget"
parameter = "budget_scale"
values = {values}
"""
KEY = ["scenario", "holder", "status", "blocked_weight", "blocked_weight_total", "spend_eur"]


def _scenarios(folder, values="[0.0, 0.05, 0.1, 0.2, 0.5, 1.0]"):
    write_tiny_world(folder)
    path = folder / "scenarios.toml"
    path.write_text(SWEEP.format(values=values))
    return path


def test_dask_local_cluster_equals_serial(tmp_path):
    scenario_set = load_scenarios(_scenarios(tmp_path))
    serial = run_comparison(scenario_set)
    # with dask's default HTTP port (8787) taken, as by another sweep running on the machine
    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # already taken by something else: the same case
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        parallel = run_comparison(scenario_set, workers=2)
    pd.testing.assert_frame_equal(serial.rows[KEY].reset_index(drop=True),
                                  parallel.rows[KEY].reset_index(drop=True))
    assert serial.pareto.equals(parallel.pareto)


def test_workers_times_solver_threads_beyond_the_cores_is_warned(caplog):
    from optimizer.compare import _warn_oversubscribed

    assert not _warn_oversubscribed(2, 1, 2) and not caplog.records
    assert _warn_oversubscribed(2, 2, 2)
    assert "2 workers x 2 solver threads exceed the 2 cores" in caplog.text


def test_killed_sweep_resumes_to_the_same_result(tmp_path):
    path = _scenarios(tmp_path, values=str([round(0.05 * i, 2) for i in range(14)]))
    reference = tmp_path / "reference"
    done = subprocess.run([sys.executable, "-m", "optimizer", "compare", str(path), "--out",
                           str(reference), "--no-pictures"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "compare", str(path), "--out",
                             str(out), "--no-pictures"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        manifest = out / "manifest.json"
        if manifest.exists() and len(json.loads(manifest.read_text())["completed"]) >= 3:
            break  # the manifest is replaced atomically, so it always parses
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # a real kill, mid-sweep
    proc.wait()
    assert not (out / "comparison.csv").exists()
    finished_before = set(json.loads((out / "manifest.json").read_text())["completed"])
    assert 3 <= len(finished_before) < 16
    done = subprocess.run([sys.executable, "-m", "optimizer", "compare", str(path), "--out",
                           str(out), "--no-pictures", "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = pd.read_csv(out / "comparison.csv")
    expected = pd.read_csv(reference / "comparison.csv")
    pd.testing.assert_frame_equal(again[KEY], expected[KEY])
    assert not again.duplicated(["scenario", "holder"]).any()
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") or ".partial-" in p.name]
    assert leftovers == []
    assert sorted(p.name for p in (out / "scenarios").iterdir()) == sorted(
        p.name for p in (reference / "scenarios").iterdir())


def test_same_inputs_give_byte_identical_csv(tmp_path):
    path = write_tiny_world(tmp_path / "w")
    outputs = []
    for name in ("a", "b"):
        done = subprocess.run([sys.executable, "-m", "optimizer", "run", str(path), "--out",
                               str(tmp_path / name), "--no-pictures"],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / name).glob("*.csv")})
    assert outputs[0].keys() == outputs[1].keys() and len(outputs[0]) >= 5
    assert outputs[0] == outputs[1]


def test_scenario_names_cannot_escape_the_output_folder(tmp_path):
    write_tiny_world(tmp_path)
    (tmp_path / "s.toml").write_text('base = "tiny.toml"\n[compare]\nmarginal = false\n'
                                     '[scenarios."../../escape"]\n')
    out = tmp_path / "out" / "cmp"
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "s.toml"), "--out", str(out),
                                       "--no-pictures"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "escape").exists() and not (tmp_path / "out" / "escape").exists()
    written = list((out / "scenarios").iterdir())
    assert len(written) == 1 and written[0].resolve().parent == (out / "scenarios").resolve()
    assert "/" not in written[0].name and written[0].name not in (".", "..")


@pytest.mark.parametrize(("args", "named"), [
    (["run", "--time-limit", "-5", "--gap", "2"], ["--time-limit): -5.0", "--gap): 2.0"]),
    (["run", "--time-limit", "nan"], ["--time-limit): nan"]),
    (["run", "--time-limit", "0"], ["--time-limit): 0.0"]),
    (["run", "--years", "0", "--weights", "foo=1,blocked=-1"],
     ["--years): 0", "unknown objective(s) ['foo']", "not all numbers >= 0"]),
    (["run", "--weights", "blocked=0"], ["no weight is positive"]),
    (["share", "--budget-scale", "-1"], ["--budget-scale"]),
])
def test_bad_command_line_values_are_input_errors_naming_each(tmp_path, args, named):
    # each bad value is named with its option and the run stops with exit code 2 before
    # writing anything (it used to run on, or end in an internal error)
    write_tiny_world(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [*args, str(tmp_path / "tiny.toml"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    for text in named:
        assert text in result.output
    assert not out.exists()


@pytest.mark.parametrize("command", [["run"], ["share"], ["graph"], ["compare"]])
def test_an_output_folder_below_a_file_is_refused_before_any_work(tmp_path, command):
    # checked first: a long solve must not end in an output folder it cannot write
    write_tiny_world(tmp_path)
    (tmp_path / "a_file").write_text("x")
    scenario = _scenarios(tmp_path, values="[1.0]") if command == ["compare"] \
        else tmp_path / "tiny.toml"
    result = CliRunner().invoke(main, [*command, str(scenario), "--out",
                                       str(tmp_path / "a_file" / "out")])
    assert result.exit_code == 2, result.output
    assert "a_file is a file, so no folder can be made in it" in result.output
    assert "internal error" not in result.output


def test_bad_cluster_options_are_named_before_any_solve(tmp_path):
    path = _scenarios(tmp_path, values="[1.0]")
    with pytest.raises(InputError) as raised:
        run_comparison(load_scenarios(path), out_dir=tmp_path / "out", workers=-2,
                       memory_limit="lots")
    assert [p.where for p in raised.value.problems] == ["workers (--workers)",
                                                        "memory_limit (--memory-limit)"]
    assert not (tmp_path / "out").exists()


def test_a_scenario_name_cannot_move_the_default_output_folder(tmp_path, monkeypatch):
    # `optimizer run` without --out writes to results/<name>; a name with path parts stays
    # one folder inside results/
    write_tiny_world(tmp_path)
    path = tmp_path / "tiny.toml"
    path.write_text(path.read_text().replace('name = "tiny"', 'name = "../../escaped"'))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", str(path), "--no-pictures"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["_.._escaped"]
    assert not (tmp_path.parent / "escaped").exists()


# -- fuzzing -----------------------------------------------------------------------------------
BASE_TABLES = problem_to_tables(random_problem(2))
GARBAGE = st.sampled_from(["", "nan", "-1", "abc", "1e400", "-0", " ", "None", "inf", "1,5",
                           "<b>x</b>", "999999999999", "s", "t", "o0", "A"])


@st.composite
def broken_tables(draw):
    tables = {k: v.copy().astype(object) for k, v in BASE_TABLES.items()}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(tables)))
        table = tables[name]
        action = draw(st.sampled_from(["drop_column", "garbage", "drop_table", "duplicate",
                                       "empty"]))
        if action == "drop_column" and len(table.columns):
            tables[name] = table.drop(columns=draw(st.sampled_from(list(table.columns))))
        elif action == "garbage" and len(table) and len(table.columns):
            row = draw(st.integers(0, len(table) - 1))
            column = draw(st.sampled_from(list(table.columns)))
            table.iat[row, list(table.columns).index(column)] = draw(GARBAGE)
        elif action == "drop_table":
            tables.pop(name)
        elif action == "duplicate" and len(table):
            tables[name] = pd.concat([table, table.iloc[:1]], ignore_index=True)
        elif action == "empty":
            tables[name] = table.iloc[0:0]
    return tables


FUZZ_COUNT = {"problem": 0, "problem_errors": 0, "scenario": 0, "scenario_errors": 0}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=broken_tables())
def test_malformed_problem_tables_give_clear_errors(tables):
    FUZZ_COUNT["problem"] += 1
    try:
        problem = problem_from_tables(tables)
    except InputError as error:
        FUZZ_COUNT["problem_errors"] += 1
        assert error.problems and all(p.where and p.message for p in error.problems)
        return
    assert problem.graph.number_of_edges() >= 0  # accepted: a valid instance


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=broken_tables())
def test_malformed_problem_folder_exit_code_and_no_traceback(tmp_path_factory, tables):
    folder = tmp_path_factory.mktemp("p")
    write_tables(folder, tables)
    result = CliRunner().invoke(main, ["validate", "--problem", str(folder)])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output


SCENARIO_KEYS = st.sampled_from(["solve", "budgets", "graph", "candidates", "axes", "name",
                                 "budget_scale", "required_delay_h", "threshold_h", "schedule",
                                 "sovle", "budget", "inputs", "weights"])
VALUES = st.recursive(
    st.one_of(st.integers(-5, 10**9), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=6), st.booleans()),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(
                                   ["mode", "objective", "EE", "LV", "cell_km", "years",
                                    "time_limit_s", "x", "band_km"]), children, max_size=3)),
    max_leaves=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=st.dictionaries(SCENARIO_KEYS, VALUES, max_size=3),
       top=st.dictionaries(st.sampled_from(["compare", "sweeps", "extra"]), VALUES, max_size=1))
def test_malformed_scenario_files_give_clear_errors(tmp_path_factory, overrides, top):
    import tomli_w

    folder = tmp_path_factory.mktemp("s")
    write_tiny_world(folder)
    data = {"base": "tiny.toml", "scenarios": {"fuzzed": overrides}, **top}
    (folder / "s.toml").write_text(tomli_w.dumps(data))
    FUZZ_COUNT["scenario"] += 1
    try:
        load_scenarios(folder / "s.toml")
    except InputError as error:
        FUZZ_COUNT["scenario_errors"] += 1
        assert error.problems
    except (TypeError, ValueError, AttributeError, KeyError) as error:  # pragma: no cover
        pytest.fail(f"unclear error {type(error).__name__}: {error}")


def test_report_fuzz_counts():
    """Runs last in this module: records how many malformed inputs were tried."""
    print(f"\nfuzz counts: {FUZZ_COUNT}")
    assert FUZZ_COUNT["problem"] >= 300 or FUZZ_COUNT["problem"] == 0
    assert not math.isnan(FUZZ_COUNT["scenario"])
