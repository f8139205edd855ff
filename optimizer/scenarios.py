"""Scenario files: a base configuration, named scenarios deep-merged over it, and sweeps.

```toml
base = "baltic.toml"                  # the base scenario file (relative to this file)

[scenarios.announced]                 # the base as it is
[scenarios.cut20]
budget_scale = 0.8                    # multiply every budget
[scenarios.national]
solve = { mode = "national" }         # any key of the base, deep-merged

[[sweeps]]
name = "budget"
parameter = "budget_scale"            # or a dotted key: "budgets.LV", "solve.mode", ...
values = [0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 1.5]
with = { solve = { mode = "joint" } }   # optional: applied to every point of the sweep
```

Special keys: ``budget_scale`` (multiplies all budgets), ``required_delay_h`` and
``threshold_h`` (set on every axis). Every merged scenario is validated like a base file,
so an unknown key fails with its full path, prefixed by the scenario's name.
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from optimizer.config import ScenarioConfig, config_from_dict
from optimizer.errors import InputError, Problem, Problems, is_number

SPECIAL = {"budget_scale", "required_delay_h", "threshold_h"}
TOP_LEVEL = {"base", "scenarios", "sweeps", "compare"}
SWEEP_KEYS = {"name", "parameter", "values", "with"}
SWEEP_REQUIRED = {"name", "parameter", "values"}
COMPARE_KEYS = {"marginal_meur", "marginal"}


@dataclass(frozen=True)
class ScenarioSet:
    """Resolved scenarios in file order: name -> validated configuration."""

    path: Path
    scenarios: dict[str, ScenarioConfig]
    sweeps: dict[str, list[tuple[str, object]]]  # sweep name -> [(scenario name, value)]
    marginal_meur: float
    marginal: bool


def deep_merge(base: dict, override: dict) -> dict:
    """Tables merge key by key; any other value (lists included) replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_path(data: dict, dotted: str, value: object) -> dict:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return data


def _special_problems(where: str, override: dict) -> list[Problem]:
    out = []
    for key in sorted(SPECIAL & set(override)):
        value = override[key]
        if not is_number(value) or not 0 <= value < math.inf or (key != "budget_scale"
                                                                   and value == 0):
            out.append(Problem(f"{where}.{key}", f"value {value!r} is not a valid number",
                               "budget_scale: a finite number >= 0; required_delay_h / "
                               "threshold_h: finite hours > 0"))
    return out


def _apply_special(data: dict, override: dict) -> dict:
    data = deep_merge(data, {k: v for k, v in override.items() if k not in SPECIAL})
    budgets = data.get("budgets")
    if "budget_scale" in override and isinstance(budgets, dict):
        data["budgets"] = {k: v * float(override["budget_scale"]) if is_number(v) else v
                           for k, v in budgets.items()}
    for key in ("required_delay_h", "threshold_h"):
        if key in override and isinstance(data.get("axes"), list):
            other = "threshold_h" if key == "required_delay_h" else "required_delay_h"
            for axis in data["axes"]:
                if isinstance(axis, dict):
                    axis.pop(other, None)
                    axis[key] = override[key]
    return data


def load_scenarios(path: Path | str) -> ScenarioSet:
    """Read a scenario file; raise one :class:`InputError` naming every problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), "scenario file not found",
                                  "pass an existing file (default: inputs/scenarios.toml)")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError([Problem(str(path), f"not valid TOML: {error}", "fix the syntax")]) from None
    if "base" not in data and "inputs" in data:
        raise InputError([Problem(
            str(path), "a scenario file (it has 'inputs'), not a scenario comparison file",
            f"solve it with `optimizer run {path}`, or compare scenarios of it with a "
            f"file that says base = \"{path.name}\" (see inputs/scenarios.toml)")])
    problems = Problems()
    for key in sorted(set(data) - TOP_LEVEL):
        problems.add(f"{path.name}: key '{key}'", "unknown key",
                     f"use only {sorted(TOP_LEVEL)} at the top level")
    if "base" not in data:
        problems.add(f"{path.name}: key 'base'", "required key is missing",
                     "name the base scenario file, e.g. base = \"baltic.toml\"")
        problems.raise_if_any()
    base_path = path.parent / data["base"]
    if not base_path.is_file():
        problems.add(f"{path.name}: key 'base'", f"file '{data['base']}' not found",
                     "give a path relative to the scenario file")
        problems.raise_if_any()
    try:
        base = tomllib.loads(base_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError([Problem(str(base_path), f"not valid TOML: {error}",
                                  "fix the syntax")]) from None
    compare = data.get("compare", {})
    if not isinstance(compare, dict):
        problems.add(f"{path.name}: key 'compare'", "must be a table", "write [compare]")
        compare = {}
    for key in sorted(set(compare) - COMPARE_KEYS):
        problems.add(f"{path.name}: key 'compare.{key}'", "unknown key",
                     f"use {sorted(COMPARE_KEYS)}")
    if "marginal_meur" in compare and (not is_number(compare["marginal_meur"])
                                       or compare["marginal_meur"] <= 0):
        problems.add(f"{path.name}: key 'compare.marginal_meur'", "must be a number > 0",
                     "e.g. marginal_meur = 10")
    if "marginal" in compare and not isinstance(compare["marginal"], bool):
        problems.add(f"{path.name}: key 'compare.marginal'", "must be true or false",
                     "e.g. marginal = false")
    raw: dict[str, dict] = {}
    scenario_tables = data.get("scenarios", {})
    if not isinstance(scenario_tables, dict):
        problems.add(f"{path.name}: key 'scenarios'", "must be a table of tables",
                     "write [scenarios.NAME] tables")
        scenario_tables = {}
    for name, override in scenario_tables.items():
        if not isinstance(override, dict):
            problems.add(f"{path.name}: [scenarios.{name}]", "must be a table",
                         "write [scenarios.NAME] with keys of the base file")
            continue
        problems.items.extend(_special_problems(f"{path.name}: [scenarios.{name}]", override))
        raw[name] = override
    sweeps: dict[str, list[tuple[str, object]]] = {}
    sweep_tables = data.get("sweeps", [])
    if not isinstance(sweep_tables, list):
        problems.add(f"{path.name}: key 'sweeps'", "must be an array of tables",
                     "write [[sweeps]] tables")
        sweep_tables = []
    for i, sweep in enumerate(sweep_tables):
        where = f"{path.name}: sweeps[{i}]"
        if not isinstance(sweep, dict):
            problems.add(where, "must be a table", "write [[sweeps]] with name, parameter, values")
            continue
        for key in sorted(set(sweep) - SWEEP_KEYS):
            problems.add(f"{where}.{key}", "unknown key", f"use {sorted(SWEEP_KEYS)}")
        missing = sorted(SWEEP_REQUIRED - set(sweep))
        if missing:
            problems.add(where, f"missing key(s) {missing}", "give name, parameter and values")
            continue
        if not isinstance(sweep["values"], list) or not isinstance(sweep["parameter"], str) \
                or not isinstance(sweep.get("with", {}), dict) or not sweep["parameter"]:
            problems.add(where, "values must be an array, parameter a key name, with a table",
                         'e.g. parameter = "budget_scale", values = [0.5, 1.0]')
            continue
        members = []
        for value in sweep["values"]:
            name = f"{sweep['name']}={value}"
            parameter = sweep["parameter"]
            override = {parameter: value} if parameter in SPECIAL else set_path({}, parameter,
                                                                                  value)
            problems.items.extend(_special_problems(f"{where} value {value!r}", override))
            raw[name] = deep_merge(sweep.get("with", {}), override)
            members.append((name, value))
        sweeps[sweep["name"]] = members
    scenarios: dict[str, ScenarioConfig] = {}
    if problems:
        problems.raise_if_any()
    for name, override in raw.items():
        merged = _apply_special(base, override)
        merged.setdefault("name", name)
        merged["name"] = name
        try:
            scenarios[name] = config_from_dict(merged, base_dir=base_path.parent.resolve(),
                                               source=f"{path.name} [scenarios.{name}]")
        except InputError as error:
            problems.items.extend(error.problems)
    if not scenarios:
        problems.add(path.name, "no scenarios", "add [scenarios.NAME] tables or [[sweeps]]")
    problems.raise_if_any()
    return ScenarioSet(path=path, scenarios=scenarios, sweeps=sweeps,
                       marginal_meur=float(compare.get("marginal_meur", 10.0)),
                       marginal=bool(compare.get("marginal", True)))
