"""Bad input gives one clear error naming every problem, from the API and the CLI."""

import shutil
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from helpers import random_problem, write_tables

from optimizer import InputError, default_config_path, load_config
from optimizer.inputs import read_problem
from optimizer.problem import problem_to_tables
from optimizer.validate import validate

ROOT = default_config_path().parent


@pytest.fixture
def broken_copy(tmp_path):
    shutil.copytree(ROOT / "baltic", tmp_path / "baltic")
    shutil.copyfile(ROOT / "baltic.toml", tmp_path / "baltic.toml")
    return tmp_path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "optimizer", *args], capture_output=True,
                          text=True)


def test_default_validates():
    done = _cli("validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK")


def test_typo_in_a_toml_key_names_the_key(broken_copy):
    path = broken_copy / "baltic.toml"
    path.write_text(path.read_text().replace("cell_km = 5.0", "cel_km = 5.0"))
    with pytest.raises(InputError) as error:
        load_config(path)
    assert "graph.cel_km" in str(error.value) and "unknown key" in str(error.value)
    done = _cli("validate", str(path))
    assert done.returncode == 2
    assert "graph.cel_km" in done.stderr and "Traceback" not in done.stderr


def test_a_comparison_file_and_a_scenario_file_passed_to_the_wrong_command():
    # each kind of file given to the other kind's command names the command to use
    from optimizer.scenarios import load_scenarios

    with pytest.raises(InputError) as error:
        load_config(ROOT / "scenarios.toml")
    assert [p.message for p in error.value.problems] == [
        "a scenario comparison file (it has 'base' or 'scenarios'), not a scenario"]
    assert "optimizer compare" in error.value.problems[0].fix
    with pytest.raises(InputError) as error:
        load_scenarios(ROOT / "baltic.toml")
    assert "optimizer run" in error.value.problems[0].fix
    assert len(error.value.problems) == 1


def test_annual_budgets_of_a_scenario_are_checked_with_the_rest(broken_copy):
    path = broken_copy / "baltic.toml"
    path.write_text(path.read_text() + "\n[schedule]\nyears = 2\n"
                    "annual = { EE = [1.0], XX = [1.0, 2.0] }\n")
    with pytest.raises(InputError) as error:
        validate(load_config(path))
    wheres = [p.where for p in error.value.problems]
    assert wheres == ["schedule.annual: holder 'EE'", "schedule.annual: holder 'XX'"]


def test_every_input_problem_is_reported_at_once(broken_copy):
    base = broken_copy / "baltic"
    # 1. missing column
    table = pd.read_csv(base / "obstacle_types.csv").drop(columns="delay_observed_min")
    table.to_csv(base / "obstacle_types.csv", index=False)
    # 2. wrong CRS: degrees labelled as metres
    countries = gpd.read_file(base / "boundaries.gpkg", layer="countries")
    countries.set_crs("EPSG:3035", allow_override=True).to_file(base / "boundaries.gpkg",
                                                               layer="countries")
    # 3. negative cost
    sensors = pd.read_csv(base / "sensor_types.csv")
    sensors.loc[sensors["type"] == "ground_radar", "cost_eur"] = -5
    sensors.to_csv(base / "sensor_types.csv", index=False)
    # 4. unknown country code among the budget holders
    path = broken_copy / "baltic.toml"
    path.write_text(path.read_text().replace("LT = 280_000_000", "LT = 280_000_000\nXX = 1"))
    with pytest.raises(InputError) as error:
        validate(load_config(path))
    text = str(error.value)
    assert "obstacle_types" in text and "delay_observed_min" in text
    assert "countries" in text and "CRS" in text
    assert "sensor_types" in text and "ground_radar" in text and "cost_eur" in text
    assert "holder 'XX'" in text
    assert len(error.value.problems) == 4
    assert all(p.fix for p in error.value.problems)
    done = _cli("validate", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "4 input problem(s)" in done.stderr
    # no other command runs on broken inputs
    done = _cli("run", str(path), "--out", str(broken_copy / "never"))
    assert done.returncode == 2 and not (broken_copy / "never").exists()


def test_unknown_axis_place_and_wrong_side(broken_copy):
    path = broken_copy / "baltic.toml"
    text = path.read_text().replace('place = "Kingisepp", country = "RU"',
                                    'place = "Atlantis", country = "RU"')
    text = text.replace('origin = { place = "Pskov", country = "RU" }\nobjective = { place = "Tartu"',
                        'origin = { place = "Tartu", country = "EE" }\nobjective = { place = "Tartu"')
    path.write_text(text)
    with pytest.raises(InputError) as error:
        validate(load_config(path))
    text = str(error.value)
    assert "Atlantis" in text and "Pskov-Tartu" in text


def _tables(problem):
    return {k: v.copy() for k, v in problem_to_tables(problem).items()}


def _folder(tmp_path, name: str, tables):
    """The tables written as a problem folder ``tmp_path / name``."""
    folder = tmp_path / name
    folder.mkdir()
    write_tables(folder, tables)
    return folder


def test_problem_format_round_trip(tmp_path):
    from optimizer import solve_problem

    problem = random_problem(3)
    folder = _folder(tmp_path, "problem", _tables(problem))
    again = read_problem(folder)
    assert sorted(again.graph.edges) == sorted(problem.graph.edges)
    assert again.obstacle_edges == problem.obstacle_edges
    assert dict(again.sensor_edges) == dict(problem.sensor_edges)
    a, b = solve_problem(problem), solve_problem(again)
    assert a.report.objective == pytest.approx(b.report.objective)


def test_problem_format_lists_every_problem(tmp_path):
    tables = _tables(random_problem(4))
    tables["edges"].loc[0, "target"] = "nowhere"               # dangling edge
    tables["edges"]["time_min"] = tables["edges"]["time_min"].astype(object)
    tables["edges"].loc[1, "time_min"] = "fast"                # non-numeric
    tables["obstacle_options"].loc[0, "cost"] = -3             # negative cost
    tables["axes"].loc[0, "weight"] = float("nan")             # NaN
    tables["budgets"].loc[len(tables["budgets"])] = ["A", 5]   # duplicate holder
    folder = _folder(tmp_path, "bad", tables)
    with pytest.raises(InputError) as error:
        read_problem(folder)
    text = str(error.value)
    for needle in ("nowhere", "dangling", "'fast'", "weight", "duplicate holder"):
        assert needle in text, needle
    done = _cli("validate", "--problem", str(folder))
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_problem_format_negative_cost_is_named(tmp_path):
    tables = _tables(random_problem(4))
    tables["obstacle_options"].loc[0, "cost"] = -3
    site = tables["obstacle_options"].loc[0, "site_id"]
    folder = _folder(tmp_path, "neg", tables)
    with pytest.raises(InputError) as error:
        read_problem(folder)
    assert f"site '{site}'" in str(error.value) and "cost" in str(error.value)


def test_missing_table_is_named(tmp_path):
    (tmp_path / "p").mkdir()
    with pytest.raises(InputError) as error:
        read_problem(tmp_path / "p")
    for name in ("nodes", "edges", "axes", "budgets"):
        assert name in str(error.value)


def test_problem_format_empty_cells_are_named_by_row_and_column(tmp_path):
    """An empty CSV cell is read as missing; pandas 3 keeps it missing through astype(str),
    which once ended in an internal error. Every empty required cell is named instead."""
    tables = _tables(random_problem(4))
    for name, row, column in (("edges", 0, "source"), ("nodes", 2, "node_id"),
                              ("axes", 0, "origin"), ("obstacle_sites", 1, "country"),
                              ("obstacle_sites", 0, "edges"), ("sensor_coverage", 0, "edge_id")):
        tables[name].iat[row, tables[name].columns.get_loc(column)] = ""  # data row row + 1
    folder = _folder(tmp_path, "empty", tables)
    with pytest.raises(InputError) as error:
        read_problem(folder)
    text = str(error.value)
    for where in ("edges, data row 1, column 'source'", "nodes, data row 3, column 'node_id'",
                  "axes, data row 1, column 'origin'",
                  "obstacle_sites, data row 2, column 'country'",
                  "obstacle_sites, data row 1, column 'edges'",
                  "sensor_coverage, data row 1, column 'edge_id'"):
        assert where in text, where
    assert "value is empty" in text and "node 'nan'" not in text
    done = _cli("validate", "--problem", str(folder))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "internal error" not in done.stdout + done.stderr


def test_every_empty_cell_of_a_problem_folder_ends_in_a_named_problem_or_a_default(tmp_path):
    """Each cell of each table emptied in turn: a required cell is named (table, column, and
    row or id); an optional one (capacity, evasion, threshold, status, blocks, axis
    country) takes its default. Never any other exception."""
    base = _tables(random_problem(2))
    optional = {("edges", "capacity"), ("edges", "evasion"), ("axes", "threshold_min"),
                ("axes", "country"), ("obstacle_sites", "status"), ("sensor_sites", "status"),
                ("obstacle_options", "blocks")}
    for name, table in base.items():
        for column in table.columns:
            tables = {k: v.copy().astype(object) for k, v in base.items()}
            tables[name].iat[0, tables[name].columns.get_loc(column)] = ""
            folder = _folder(tmp_path, f"{name}-{column}", tables)
            if (name, column) in optional:
                read_problem(folder)
                continue
            with pytest.raises(InputError) as error:
                read_problem(folder)
            named = [p for p in error.value.problems
                     if f"{name}, " in p.where and f"column '{column}'" in p.where]
            assert named and named[0].message == "value is empty", (name, column, error.value)


def test_layer_columns_named_in_the_scenario(broken_copy):
    """A vector layer's columns go by the names the scenario gives them; a missing one is
    reported with its layer, and every such layer is reported at once."""
    from optimizer.inputs import load_inputs

    base = broken_copy / "baltic"
    places = gpd.read_file(base / "places.gpkg", layer="settlements")
    places.rename(columns={"population": "pop"}).to_file(base / "places.gpkg",
                                                         layer="settlements")
    crossings = pd.read_csv(base / "border_crossings.csv")
    crossings.rename(columns={"name": "nm"}).to_csv(base / "border_crossings.csv", index=False)
    path = broken_copy / "baltic.toml"
    with pytest.raises(InputError) as error:
        load_inputs(load_config(path))
    text = str(error.value)
    assert len(error.value.problems) == 2
    assert "settlements" in text and "'population'" in text
    assert "border_crossings" in text and "'name'" in text
    path.write_text(path.read_text().replace(
        'layer = "settlements" }', 'layer = "settlements", population_column = "pop" }').replace(
        'border_crossings.csv" }', 'border_crossings.csv", name_column = "nm" }'))
    inputs = load_inputs(load_config(path))
    assert list(inputs.settlements.columns) == ["name", "country", "population", "geometry"]
    assert (inputs.settlements["population"] == places["population"].to_numpy()).all()
    assert "name" in inputs.crossings.columns and "nm" not in inputs.crossings.columns
