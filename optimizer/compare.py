"""Solve every scenario of a scenario file and compare them per scenario and budget holder.

One infeasible, failed or timed-out scenario is a row with its status, never a crash.
Derived views: the Pareto curve of blocked weight against total budget, the gain of joint
over national planning per holder (from scenario pairs that differ only in the mode), and
the marginal value of the next ``marginal_meur`` million EUR per holder (an exact re-solve
with that holder's budget raised).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import pandas as pd

from optimizer.config import ScenarioConfig
from optimizer.errors import InputError
from optimizer.pipeline import Run, prepare, solve_prepared
from optimizer.scenarios import ScenarioSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Comparison:
    """Tables of a comparison (keyed by scenario name and holder) and the runs behind them."""

    rows: pd.DataFrame
    pareto: pd.DataFrame
    joint_vs_national: pd.DataFrame
    runs: dict[str, Run]
    errors: dict[str, str]


def _blocked_by_holder(run: Run) -> dict[str, float]:
    axes = run.plan.axes
    if axes.empty:
        return {}
    blocked = axes[axes["blocked_after"]]
    return blocked.groupby("country")["weight"].sum().to_dict()


def _total_blocked(run: Run) -> float | None:
    axes = run.plan.axes
    return None if axes.empty else float(axes.loc[axes["blocked_after"], "weight"].sum())


def _mode_free_key(config: ScenarioConfig) -> str:
    data = config.model_dump(mode="json", exclude={"name", "description"})
    data["solve"].pop("mode", None)
    return json.dumps(data, sort_keys=True)


def run_comparison(scenario_set: ScenarioSet, *, marginal: bool | None = None,
                   progress=None) -> Comparison:
    """Solve every scenario (graphs reused between scenarios that share them)."""
    marginal = scenario_set.marginal if marginal is None else marginal
    sweep_members = {name for members in scenario_set.sweeps.values() for name, _ in members}
    runs: dict[str, Run] = {}
    errors: dict[str, str] = {}
    graphs: dict = {}
    rows = []
    for name, config in scenario_set.scenarios.items():
        if progress:
            progress(name)
        started = time.perf_counter()
        try:
            prepared = prepare(config, graphs=graphs)
            run = solve_prepared(prepared)
        except InputError as error:
            errors[name] = str(error)
            rows.append({"scenario": name, "mode": config.solve.mode, "holder": "",
                         "status": "input_error", "message": str(error).splitlines()[0]})
            continue
        except Exception as error:  # one failing scenario is a row, not a crash
            log.exception("scenario %s failed", name)
            errors[name] = f"{type(error).__name__}: {error}"
            rows.append({"scenario": name, "mode": config.solve.mode, "holder": "",
                         "status": "error", "message": errors[name]})
            continue
        runs[name] = run
        report = run.plan.report
        by_holder = _blocked_by_holder(run)
        spend = dict(zip(run.plan.budgets.get("holder", []), run.plan.budgets.get("spend_eur", []),
                         strict=True))
        margins = {}
        if marginal and name not in sweep_members and report.status == "optimal":
            margins = _marginal_values(prepared, run, scenario_set.marginal_meur)
        axes_weight = prepared.problem.axes.groupby("country")["weight"].sum().to_dict()
        for holder, budget in sorted(config.budgets.items()):
            rows.append({
                "scenario": name, "mode": config.solve.mode, "holder": holder,
                "status": report.status, "gap": report.gap, "objective": report.objective,
                "blocked_weight_total": _total_blocked(run),
                "blocked_weight": by_holder.get(holder, 0.0) if report.objective is not None
                else None,
                "axes_weight": axes_weight.get(holder, 0.0),
                "budget_eur": float(budget), "spend_eur": spend.get(holder),
                f"marginal_per_{scenario_set.marginal_meur:g}M": margins.get(holder),
                "solve_s": round(time.perf_counter() - started, 2), "message": "",
            })
    table = pd.DataFrame(rows)
    return Comparison(rows=table, pareto=_pareto(scenario_set, runs),
                      joint_vs_national=_joint_vs_national(scenario_set, runs),
                      runs=runs, errors=errors)


def _marginal_values(prepared, run: Run, meur: float) -> dict[str, float]:
    """Extra total blocked weight bought by ``meur`` more million EUR for each holder."""
    base = _total_blocked(run) or 0.0
    out = {}
    for holder, budget in prepared.problem.budgets.items():
        richer = prepared.problem.with_budgets({**prepared.problem.budgets,
                                                holder: budget + meur * 1e6})
        from dataclasses import replace

        more = solve_prepared(replace(prepared, problem=richer))
        if more.plan.report.status == "optimal":
            out[holder] = (_total_blocked(more) or 0.0) - base
    return out


def _pareto(scenario_set: ScenarioSet, runs: dict[str, Run]) -> pd.DataFrame:
    rows = []
    for sweep, members in scenario_set.sweeps.items():
        for name, value in members:
            run = runs.get(name)
            config = scenario_set.scenarios[name]
            rows.append({
                "sweep": sweep, "scenario": name, "value": value, "mode": config.solve.mode,
                "total_budget_eur": sum(config.budgets.values()),
                "status": run.plan.report.status if run else "error",
                "blocked_weight": _total_blocked(run) if run else None,
                "spend_eur": run.plan.spend if run else None,
            })
    return pd.DataFrame(rows)


def _joint_vs_national(scenario_set: ScenarioSet, runs: dict[str, Run]) -> pd.DataFrame:
    groups: dict[str, dict[str, str]] = {}
    for name, config in scenario_set.scenarios.items():
        if name in runs:
            groups.setdefault(_mode_free_key(config), {})[config.solve.mode] = name
    rows = []
    for modes in groups.values():
        if "joint" not in modes or "national" not in modes:
            continue
        joint, national = runs[modes["joint"]], runs[modes["national"]]
        jb, nb = _blocked_by_holder(joint), _blocked_by_holder(national)
        for holder in sorted(scenario_set.scenarios[modes["joint"]].budgets):
            rows.append({"joint_scenario": modes["joint"], "national_scenario": modes["national"],
                         "holder": holder, "blocked_joint": jb.get(holder, 0.0),
                         "blocked_national": nb.get(holder, 0.0),
                         "gain": jb.get(holder, 0.0) - nb.get(holder, 0.0),
                         "total_budget_eur": sum(scenario_set.scenarios[modes["joint"]]
                                                 .budgets.values())})
    return pd.DataFrame(rows)
