"""Solve every scenario of a scenario file and compare them per scenario and budget holder.

One infeasible, failed or timed-out scenario is a row with its status, never a crash.
Derived views: the Pareto curve of blocked weight against total budget, the gain of joint
over national planning per holder (scenario pairs that differ only in the mode), and the
marginal value per million EUR of the next ``marginal_meur`` million per holder (an exact
re-solve with that holder's budget raised).

Execution is serial, or on Dask (a local cluster of ``workers`` processes, or an existing
scheduler): scenarios sharing a graph and candidate sites share one problem, sent to the
workers once; each task gets only its scenario's budgets, axes and solve options.
With an output folder, each scenario's outputs and the manifest are written atomically
as soon as the scenario finishes, so an interrupted comparison resumes (``resume=True``)
without solving finished scenarios again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from optimizer.config import ScenarioConfig
from optimizer.errors import InputError, Problems, is_whole
from optimizer.errors import Problem as InputProblem
from optimizer.export import safe_name
from optimizer.pipeline import Prepared, Run, prepare, solve_options
from optimizer.plan import Plan
from optimizer.scenarios import ScenarioSet
from optimizer.solve import solve_problem

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
DELTA_FIELDS = ("budgets", "axes", "fixed", "excluded", "max_per_type", "blocked_time_min")


@dataclass(frozen=True)
class Comparison:
    """Tables of a comparison (keyed by scenario name and holder) and the runs behind them."""

    rows: pd.DataFrame
    pareto: pd.DataFrame
    joint_vs_national: pd.DataFrame
    records: dict[str, dict]
    runs: dict[str, Run]
    errors: dict[str, str]


def _blocked_by_holder(plan: Plan) -> dict[str, float]:
    axes = plan.axes
    if axes.empty:
        return {}
    return {k: float(v) for k, v in
            axes[axes["blocked_after"]].groupby("country")["weight"].sum().items()}


def _total_blocked(plan: Plan) -> float | None:
    axes = plan.axes
    return None if axes.empty else float(axes.loc[axes["blocked_after"], "weight"].sum())


def _solve_task(base, delta: dict, options: dict, marginal_meur: float | None,
                warm: tuple | None = None):
    """Run on a worker (or locally): (plan, marginal values), or (None, error message).

    ``warm`` is the (budgets, plan, error) result of the previous member of the same sweep:
    its routes seed this solve when every budget grew (routes are valid whatever the budget).
    """
    try:
        return _solve(base, delta, options, marginal_meur, warm)
    except Exception as error:  # one failing scenario is a row, not a crash
        log.exception("scenario solve failed")
        return None, f"{type(error).__name__}: {error}"


def _solve(base, delta, options, marginal_meur, warm):
    problem = replace(base, **delta)
    pool = None
    if warm is not None and warm[0] is not None:
        previous_budgets, previous_plan = warm[2], warm[0]
        if all(problem.budgets.get(h, 0.0) >= b for h, b in previous_budgets.items()):
            pool = previous_plan.route_pool
    plan = solve_problem(problem, **options, warm_pool=pool)
    margins = {}
    if marginal_meur and plan.report.status == "optimal":
        total = _total_blocked(plan) or 0.0
        for holder, budget in problem.budgets.items():
            richer = problem.with_budgets({**problem.budgets, holder: budget + marginal_meur * 1e6})
            more = solve_problem(richer, **options, warm_pool=plan.route_pool)
            if more.report.status == "optimal":
                margins[holder] = ((_total_blocked(more) or 0.0) - total) / marginal_meur
    return plan, margins, dict(problem.budgets)


def _record(name: str, config: ScenarioConfig, prepared: Prepared, plan: Plan,
            margins: dict, column: str) -> dict:
    report = plan.report
    by_holder = _blocked_by_holder(plan)
    spend = dict(zip(plan.budgets.get("holder", []), plan.budgets.get("spend_eur", []),
                     strict=True))
    axes_weight = prepared.problem.axes.groupby("country")["weight"].sum().to_dict()
    rows = []
    for holder, budget in sorted(config.budgets.items()):
        # national: each holder's own solve has its status and gap (the union has no bound)
        own = report.parts.get(holder, report) if report.mode == "national" else report
        rows.append({
            "scenario": name, "mode": config.solve.mode, "holder": holder,
            "status": own.status, "gap": own.gap, "objective": report.objective,
            "blocked_weight_total": _total_blocked(plan),
            "blocked_weight": by_holder.get(holder, 0.0) if report.objective is not None else None,
            "axes_weight": float(axes_weight.get(holder, 0.0)),
            "budget_eur": float(budget), "spend_eur": spend.get(holder),
            column: margins.get(holder), "message": "",
        })
    return {"name": name, "mode": config.solve.mode, "status": report.status,
            "rows": rows, "blocked_by_holder": by_holder, "total_blocked": _total_blocked(plan),
            "spend": plan.spend, "total_budget": float(sum(config.budgets.values()))}


def _error_record(name: str, config: ScenarioConfig, status: str, message: str) -> dict:
    return {"name": name, "mode": config.solve.mode, "status": status,
            "rows": [{"scenario": name, "mode": config.solve.mode, "holder": "",
                      "status": status, "message": message.splitlines()[0]}],
            "blocked_by_holder": {}, "total_blocked": None, "spend": None,
            "total_budget": float(sum(config.budgets.values())), "message": message}


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_manifest(out_dir: Path, scenario_set: ScenarioSet) -> dict[str, dict]:
    """Finished scenarios of an interrupted comparison in ``out_dir`` (for ``resume``)."""
    from optimizer.inputs import read_json

    path = out_dir / MANIFEST
    if not path.is_file():
        return {}
    manifest = read_json(path)
    if manifest.get("scenario_file_sha256") != _file_hash(scenario_set.path):
        raise InputError([InputProblem(str(path), "the scenario file changed since this "
                                       "comparison was interrupted",
                                       "rerun without --resume (or restore the file)")])
    return {name: rec for name, rec in manifest.get("completed", {}).items()
            if name in scenario_set.scenarios}


def run_comparison(scenario_set: ScenarioSet, *, marginal: bool | None = None,
                   progress=None, out_dir: Path | None = None, resume: bool = False,
                   workers: int | None = None, scheduler: str | None = None,
                   memory_limit: str | None = None, pictures: bool = True) -> Comparison:
    """Solve every scenario; optionally write each as it finishes and resume from a manifest."""
    from optimizer.export import write_json
    from optimizer.runio import clean_partials, write_run

    _check_cluster(workers, memory_limit).raise_if_any()
    marginal = scenario_set.marginal if marginal is None else marginal
    sweep_members = {name for members in scenario_set.sweeps.values() for name, _ in members}
    column = "marginal_value_per_MEUR"
    records: dict[str, dict] = {}
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        clean_partials(out_dir)
        if resume:
            records.update(load_manifest(out_dir, scenario_set))
        else:  # a fresh comparison: nothing of an earlier one may survive in the folder
            (out_dir / MANIFEST).unlink(missing_ok=True)
            shutil.rmtree(out_dir / "scenarios", ignore_errors=True)
    manifest_path = out_dir / MANIFEST if out_dir is not None else None

    def finished(name: str, record: dict, run: Run | None) -> None:
        records[name] = record
        if out_dir is None:
            return
        if run is not None:
            write_run(run, out_dir / "scenarios" / safe_name(name), pictures=pictures)
        write_json(manifest_path, {"scenario_file": scenario_set.path.name,
                                   "scenario_file_sha256": _file_hash(scenario_set.path),
                                   "completed": records})

    runs: dict[str, Run] = {}
    graphs: dict = {}
    todo: list[tuple[str, ScenarioConfig, Prepared]] = []
    for name, config in scenario_set.scenarios.items():
        if name in records:
            continue
        try:
            todo.append((name, config, prepare(config, graphs=graphs)))
        except InputError as error:
            finished(name, _error_record(name, config, "input_error", str(error)), None)
    tasks = [(name, config, prepared, solve_options(config),
              scenario_set.marginal_meur if marginal and name not in sweep_members else None)
             for name, config, prepared in todo]

    sweep_of = {m: sweep for sweep, members in scenario_set.sweeps.items() for m, _ in members}

    def complete(name, config, prepared, plan, margins):
        run = Run(prepared=prepared, plan=plan, timings_s=dict(prepared.timings_s))
        runs[name] = run
        finished(name, _record(name, config, prepared, plan, margins, column), run)
        if progress:
            progress(name)

    if workers and not scheduler and tasks:
        _warn_oversubscribed(workers, max(t[3]["settings"].threads for t in tasks),
                             os.cpu_count() or 1)
    if workers or scheduler:
        _run_dask(tasks, sweep_of, complete, finished, workers, scheduler, memory_limit)
    else:
        previous: dict[str, tuple] = {}  # sweep -> result of its last member
        for name, config, prepared, options, meur in tasks:
            sweep = sweep_of.get(name)
            warm = previous.get(sweep) if sweep else None
            result = _solve_task(prepared.problem, {}, options, meur, warm)
            if sweep:
                previous[sweep] = result
            _finish(name, config, prepared, result, complete, finished)
    ordered = {n: records[n] for n in scenario_set.scenarios if n in records}
    rows = pd.DataFrame([row for rec in ordered.values() for row in rec["rows"]])
    errors = {n: r.get("message", "") for n, r in ordered.items() if r["status"] in
              ("input_error", "error")}
    return Comparison(rows=rows, pareto=_pareto(scenario_set, ordered),
                      joint_vs_national=_joint_vs_national(scenario_set, ordered),
                      records=ordered, runs=runs, errors=errors)


def _check_cluster(workers: int | None, memory_limit: str | None) -> Problems:
    """Every problem with the Dask options, found before any scenario is solved."""
    problems = Problems()
    if workers is not None and (not is_whole(workers) or workers < 1):
        problems.add("workers (--workers)", f"{workers!r} is not a number of worker processes",
                     "give 1 or more, or leave it out to solve in this process")
    if memory_limit is not None and memory_limit != "auto":
        from dask.utils import parse_bytes

        try:
            size = parse_bytes(memory_limit)
        except (ValueError, TypeError):
            size = 0
        if not size > 0:
            problems.add("memory_limit (--memory-limit)",
                         f"'{memory_limit}' is not a memory size", "give e.g. 4GB, 512MB or auto")
    return problems


def _warn_oversubscribed(workers: int, threads: int, cores: int) -> bool:
    """Warn when the local workers' solver threads exceed the machine's cores (each worker
    solves with its scenario's ``threads``): they would then slow each other down."""
    if workers * threads <= cores:
        return False
    log.warning("%d workers x %d solver threads exceed the %d cores of this machine; the "
                "solves will compete for them: use fewer workers or threads = 1 in [solve]",
                workers, threads, cores)
    return True


def _same_sites(a, b) -> bool:
    """Same graph, sites, options and coverage: only the DELTA_FIELDS may differ."""
    return (a.obstacle_edges == b.obstacle_edges and a.sensor_edges == b.sensor_edges
            and a.obstacle_options.equals(b.obstacle_options)
            and a.sensor_options.equals(b.sensor_options)
            and list(a.graph.edges(data="time_min")) == list(b.graph.edges(data="time_min")))


def _finish(name, config, prepared, result, complete, finished) -> None:
    plan, second = result[0], result[1]
    if plan is None:
        finished(name, _error_record(name, config, "error", second), None)
    else:
        complete(name, config, prepared, plan, second)


def _run_dask(tasks, sweep_of, complete, finished, workers, scheduler, memory_limit) -> None:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        # no dashboard, and the scheduler's HTTP server (which dask starts even without one)
        # on a free local port: its default, 8787, is taken by any other cluster running
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0",
                               scheduler_kwargs={"dashboard": False},
                               memory_limit=memory_limit or "auto")
        client = Client(cluster)
    try:
        bases: list[tuple[object, object]] = []  # (base problem, its future on the workers)
        futures = {}
        previous: dict[str, object] = {}  # sweep -> future of its last member
        for name, config, prepared, options, meur in tasks:
            problem = prepared.problem
            match = next((f for b, f in bases if _same_sites(b, problem)), None)
            if match is None:
                # each base problem (graph, sites, coverage) goes to the workers once
                match = client.scatter(problem, broadcast=True)
                bases.append((problem, match))
            delta = {f: getattr(problem, f) for f in DELTA_FIELDS}
            sweep = sweep_of.get(name)
            # a sweep is a chain (each member warm-starts from the previous, as in a serial
            # run, so the results are identical); sweeps and named scenarios run in parallel
            future = client.submit(_solve_task, match, delta, options, meur,
                                   previous.get(sweep) if sweep else None,
                                   key=f"scenario-{safe_name(name)}-{len(futures)}", pure=False)
            if sweep:
                previous[sweep] = future
            futures[future] = (name, config, prepared)
        for future in as_completed(futures):
            name, config, prepared = futures[future]
            try:
                result = future.result()
            except Exception as error:  # a worker crash is a row
                result = (None, f"{type(error).__name__}: {error}")
            _finish(name, config, prepared, result, complete, finished)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _pareto(scenario_set: ScenarioSet, records: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for sweep, members in scenario_set.sweeps.items():
        for name, value in members:
            rec = records.get(name)
            config = scenario_set.scenarios[name]
            rows.append({
                "sweep": sweep, "scenario": name, "value": value, "mode": config.solve.mode,
                "total_budget_eur": float(sum(config.budgets.values())),
                "status": rec["status"] if rec else "not run",
                "blocked_weight": rec["total_blocked"] if rec else None,
                "spend_eur": rec["spend"] if rec else None,
            })
    return pd.DataFrame(rows)


def _mode_free_key(config: ScenarioConfig) -> str:
    data = config.model_dump(mode="json", exclude={"name", "description"})
    data["solve"].pop("mode", None)
    return json.dumps(data, sort_keys=True)


def _joint_vs_national(scenario_set: ScenarioSet, records: dict[str, dict]) -> pd.DataFrame:
    groups: dict[str, dict[str, str]] = {}
    for name, config in scenario_set.scenarios.items():
        rec = records.get(name)
        if rec and rec["total_blocked"] is not None:
            groups.setdefault(_mode_free_key(config), {}).setdefault(config.solve.mode, name)
    rows = []
    for modes in groups.values():
        if "joint" not in modes or "national" not in modes:
            continue
        joint, national = records[modes["joint"]], records[modes["national"]]
        for holder in sorted(scenario_set.scenarios[modes["joint"]].budgets):
            jb = joint["blocked_by_holder"].get(holder, 0.0)
            nb = national["blocked_by_holder"].get(holder, 0.0)
            rows.append({"joint_scenario": modes["joint"], "national_scenario": modes["national"],
                         "holder": holder, "blocked_joint": jb, "blocked_national": nb,
                         "gain": jb - nb, "total_budget_eur": joint["total_budget"]})
    return pd.DataFrame(rows)

