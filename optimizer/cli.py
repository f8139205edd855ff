"""The ``optimizer`` command. The only module that talks to the terminal.

Exit codes: 0 success (a plan, optimal or with its gap), 1 internal error, 2 input error
(also a file that cannot be read or written), 3 infeasible, 4 no solution within the limits.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
import traceback
from pathlib import Path

import click

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 1, 2, 3, 4

log = logging.getLogger("optimizer")


def _setup_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(level, logging.DEBUG), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyogrio").setLevel(max(level, logging.WARNING))


def _guard(func):
    """Map library errors to messages and exit codes at the command boundary."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from optimizer.errors import InputError, SolverError

        try:
            return func(*args, **kwargs)
        except InputError as error:
            click.echo(f"input error: {error}", err=True)
            sys.exit(EXIT_INPUT)
        except SolverError as error:
            click.echo(f"solver error: {error}", err=True)
            sys.exit(EXIT_INPUT)
        except OSError as error:  # a file the run reads or writes: a path, a permission, a disk
            click.echo(f"file error: {error}\n(check the path, its permissions and free "
                       "space)", err=True)
            if log.isEnabledFor(logging.DEBUG):
                traceback.print_exc()
            sys.exit(EXIT_INPUT)
        except KeyboardInterrupt:
            click.echo("interrupted; no partial results were written", err=True)
            sys.exit(130)
        except Exception as error:  # the boundary: anything else is our bug
            click.echo(f"internal error: {type(error).__name__}: {error}", err=True)
            if log.isEnabledFor(logging.DEBUG):
                traceback.print_exc()
            else:
                click.echo("(run with -vv for the traceback, and please report it)", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper


config_argument = click.argument("config", required=False, type=click.Path(dir_okay=False))


def _progress(total: int, unit: str):
    """A progress bar on stderr, silent when stderr is not a terminal or with -q."""
    from tqdm import tqdm

    quiet = not sys.stderr.isatty() or not log.isEnabledFor(logging.WARNING)
    return tqdm(total=total, unit=unit, disable=quiet, leave=False, file=sys.stderr)


def _config_path(config: str | None) -> Path:
    from optimizer.config import default_config_path

    return Path(config) if config else default_config_path()


@click.group()
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v, -vv).")
@click.option("-q", "--quiet", count=True, help="Less log output.")
@click.version_option(package_name="optimizer")
def main(verbose: int, quiet: int) -> None:
    """Place obstacles and sensors within national budgets to block mobility corridors.

    CONFIG is a scenario TOML file (default: the embedded Baltic default, inputs/baltic.toml).
    """
    _setup_logging(verbose, quiet)


@main.command()
@config_argument
@click.option("--problem", type=click.Path(exists=False),
              help="Check a plain-format problem (folder of CSV files or .gpkg) instead.")
@_guard
def validate(config: str | None, problem: str | None) -> None:
    """Check the scenario file and every input; list every problem at once."""
    if problem:
        from optimizer.inputs import read_problem

        p = read_problem(problem)
        click.echo(f"OK: {problem}: {p.graph.number_of_nodes()} nodes, "
                   f"{p.graph.number_of_edges()} edges, {len(p.obstacle_options)} obstacle "
                   f"options, {len(p.sensor_options)} sensor options, {len(p.axes)} axes")
        return
    from optimizer.config import load_config
    from optimizer.validate import validate as run_validation

    path = _config_path(config)
    cfg = load_config(path)
    inputs = run_validation(cfg)
    click.echo(f"OK: {path}: {len(inputs.files)} input files, {len(cfg.axes)} threat axes, "
               f"budget holders {sorted(cfg.budgets)}")


@main.command()
@config_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results/graph",
              show_default=True, help="Folder for graph.gpkg and graph.png.")
@click.option("--no-cache", is_flag=True, help="Rebuild even if a cached graph matches.")
@_guard
def graph(config: str | None, out_dir: str, no_cache: bool) -> None:
    """Build the terrain and road graph; write graph.gpkg and graph.png; print its size."""
    from optimizer.cache import cached_graph
    from optimizer.config import load_config
    from optimizer.export import check_output_folder, save_graph
    from optimizer.graph import graph_summary
    from optimizer.report.maps import graph_map
    from optimizer.validate import validate as run_validation

    check_output_folder(out_dir)
    cfg = load_config(_config_path(config))
    inputs = run_validation(cfg)
    started = time.perf_counter()
    g, from_cache = cached_graph(cfg, inputs, use_cache=not no_cache)
    elapsed = time.perf_counter() - started
    out = Path(out_dir)
    save_graph(g, out / "graph.gpkg")
    note = f"roads: {g.graph['roads']}; cell {g.graph['cell_km']} km {g.graph['cell_shape']}"
    graph_map(g, out / "graph.png", title=f"{cfg.name}: terrain and road graph", note=note,
              inputs=inputs)
    click.echo(f"graph {cfg.name}: {g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges; "
               f"cell {g.graph['cell_km']} km ({g.graph['cell_shape']}); roads {g.graph['roads']}")
    source = "loaded from cache" if from_cache else "built"
    click.echo(f"{source} in {elapsed:.2f} s (build time when built: {g.graph['build_s']:.2f} s)")
    click.echo("edges by kind and country:")
    click.echo(graph_summary(g).to_string())
    click.echo(f"wrote {out / 'graph.gpkg'} and {out / 'graph.png'}")


def _weights(objective: str | None, weights: str | None) -> dict[str, float] | None:
    """The objective mix of ``--weights NAME=NUMBER,...`` or ``--objective``; every malformed
    or repeated item is named (the names and values are checked by ``solve_problem``)."""
    if not weights:
        return {objective: 1.0} if objective else None
    from optimizer.errors import Problems

    problems, out = Problems(), {}
    if objective:
        problems.add("--objective/--weights", "both given", "give one of them")
    for item in weights.split(","):
        name, _, value = (part.strip() for part in item.partition("="))
        try:
            number = float(value)
        except ValueError:
            problems.add("--weights", f"'{item}' is not NAME=NUMBER",
                         "e.g. --weights blocked=1,delay=0.01")
            continue
        if name in out:
            problems.add("--weights", f"'{name}' given twice", "give each objective once")
        out[name] = number
    problems.raise_if_any()
    return out


@main.command()
@config_argument
@click.option("--problem", type=click.Path(), help="Solve a plain-format problem instead.")
@click.option("--objective", type=click.Choice(["blocked", "delay", "detection", "throughput"]),
              help="Objective (default: the scenario's [solve] objective).")
@click.option("--weights", help="Combined objectives, e.g. blocked=1,delay=0.01.")
@click.option("--mode", type=click.Choice(["national", "joint", "pooled"]),
              help="Budgets: each country alone, one plan with national budgets, or one "
                   "shared budget (default: the scenario's [solve] mode).")
@click.option("--solver", type=click.Choice(["highs", "cbc"]),
              help="MILP solver (default: the scenario's [solve] solver, HiGHS).")
@click.option("--time-limit", type=float,
              help="Seconds for the whole solve, > 0 (default: the scenario's [solve] "
                   "time_limit_s).")
@click.option("--gap", type=float,
              help="Relative gap in [0, 1) that counts as proven optimal (default: the "
                   "scenario's [solve] gap_rel).")
@click.option("--threads", type=click.IntRange(min=1),
              help="Solver threads (from 2: HiGHS's parallel tree search).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Result folder (default: results/<scenario name>, the name's characters "
                   "other than letters, digits and -_.= replaced by _).")
@click.option("--years", type=int,
              help="Build schedule over N years (annual budgets; 1: one plan).")
@click.option("--no-pictures", is_flag=True, help="Skip the PNG map.")
@click.option("--no-cache", is_flag=True, help="Rebuild the graph even if cached.")
@_guard
def run(config, problem, objective, weights, mode, solver, time_limit, gap, threads, out_dir,
        years, no_pictures, no_cache) -> None:
    """Solve the main job and write the plan (summary.json, plan.gpkg, CSV, map, report)."""
    from dataclasses import replace

    from optimizer.export import check_output_folder, safe_name
    from optimizer.pipeline import prepare, prepare_problem, solve_options, solve_prepared
    from optimizer.runio import write_run

    if out_dir:  # before any work; the default folder needs the scenario's name first
        check_output_folder(out_dir)
    bar = _progress(total=3, unit="stage")
    bar.set_description("preparing")
    prepared = prepare_problem(problem) if problem else prepare(_config_path(config),
                                                                use_cache=not no_cache)
    if out_dir:
        out = Path(out_dir)
    else:
        name = prepared.config.name if prepared.config else Path(problem).stem
        out = Path("results") / safe_name(name)
        check_output_folder(out)  # before the solve, which may take minutes
    bar.update()
    bar.set_description("solving")
    base = solve_options(prepared.config)["settings"]
    settings = replace(base, name=solver or base.name,
                       time_limit_s=time_limit if time_limit is not None else base.time_limit_s,
                       gap_rel=gap if gap is not None else base.gap_rel,
                       threads=threads or base.threads)
    result = solve_prepared(prepared, objective_weights=_weights(objective, weights), mode=mode,
                            settings=settings, years=years)
    bar.update()
    bar.set_description("writing")
    t = time.perf_counter()
    write_run(result, out, pictures=not no_pictures)
    bar.update()
    bar.close()
    _print_run(result, out, time.perf_counter() - t)
    status = result.plan.report.status
    if status == "infeasible":
        sys.exit(EXIT_INFEASIBLE)
    if status == "no_solution":
        sys.exit(EXIT_NO_SOLUTION)


@main.command()
@click.argument("scenarios", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results/compare",
              show_default=True, help="Result folder.")
@click.option("--no-marginal", is_flag=True, help="Skip the marginal-value re-solves.")
@click.option("--no-pictures", is_flag=True, help="Skip the PNG maps and charts.")
@click.option("--resume", is_flag=True, help="Skip scenarios an interrupted run finished.")
@click.option("--workers", type=int, help="Solve on a local Dask cluster of N >= 1 workers.")
@click.option("--scheduler", help="Solve on an existing Dask cluster (scheduler address).")
@click.option("--memory-limit", help="Memory bound per Dask worker, e.g. 4GB.")
@_guard
def compare(scenarios, out_dir, no_marginal, no_pictures, resume, workers, scheduler,
            memory_limit) -> None:
    """Solve every scenario of a scenario file and compare them (comparison.csv, charts)."""
    from optimizer.compare import run_comparison
    from optimizer.export import check_output_folder
    from optimizer.runio import write_comparison
    from optimizer.scenarios import load_scenarios

    check_output_folder(out_dir)
    path = Path(scenarios) if scenarios else _config_path(None).parent / "scenarios.toml"
    scenario_set = load_scenarios(path)
    bar = _progress(total=len(scenario_set.scenarios), unit="scenario")
    first = next(iter(scenario_set.scenarios))

    def progress(name: str) -> None:
        if name != first:
            bar.update()
        bar.set_description(name)
        log.info("scenario %s", name)

    comparison = run_comparison(scenario_set, marginal=False if no_marginal else None,
                                progress=progress, out_dir=Path(out_dir), resume=resume,
                                workers=workers, scheduler=scheduler, memory_limit=memory_limit,
                                pictures=not no_pictures)
    bar.update()
    bar.close()
    out = write_comparison(comparison, scenario_set, out_dir, pictures=not no_pictures)
    columns = [c for c in ("scenario", "holder", "status", "gap", "blocked_weight",
                           "blocked_weight_total", "budget_eur", "spend_eur")
               if c in comparison.rows]
    click.echo(_meur_table(comparison.rows[columns]))
    if not comparison.joint_vs_national.empty:
        click.echo("\njoint vs national (blocked weight per holder):")
        click.echo(_meur_table(comparison.joint_vs_national))
    click.echo(f"wrote {out}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--format", "formats", default="gpkg,geojson,csv", show_default=True,
              help="Comma-separated: gpkg, geojson, csv.")
@_guard
def export(run_dir, formats) -> None:
    """Re-export a finished run (from its plan.gpkg) without re-solving."""
    from optimizer.runio import export_run

    for path in export_run(run_dir, [f.strip() for f in formats.split(",") if f.strip()]):
        click.echo(f"wrote {path}")


@main.command()
@config_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results/share",
              show_default=True, help="Result folder.")
@click.option("--budget-scale", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Scale every budget (e.g. 0.03 to see where budgets bind).")
@click.option("--no-pictures", is_flag=True, help="Skip the chart.")
@_guard
def share(config, out_dir, budget_scale, no_pictures) -> None:
    """Coalition values, Shapley shares, core check and side payments of the joint plan."""
    from optimizer.export import check_output_folder
    from optimizer.pipeline import prepare, solve_options
    from optimizer.runio import prepared_note, write_share
    from optimizer.share import analyse_sharing

    check_output_folder(out_dir)
    prepared = prepare(_config_path(config))
    problem = prepared.problem.with_budgets({h: b * budget_scale
                                             for h, b in prepared.problem.budgets.items()})
    result = analyse_sharing(problem, objective=prepared.config.solve.objective,
                             settings=solve_options(prepared.config)["settings"])
    note = prepared_note(prepared)
    out = write_share(result, out_dir, note=note, pictures=not no_pictures)
    click.echo(result.coalitions.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    click.echo(result.shares.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    click.echo(result.attribution.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    if note:
        click.echo(f"NOTE: {note}")
    click.echo(f"wrote {out}")


def _meur_table(frame) -> str:
    """``frame`` as text with every ``*_eur`` column in millions (``*_MEUR``), two decimals
    and empty cells as "-"."""
    money = [c for c in frame.columns if c.endswith("_eur")]
    frame = frame.assign(**{c: frame[c] / 1e6 for c in money}).rename(
        columns={c: c[:-len("_eur")] + "_MEUR" for c in money})
    return frame.to_string(index=False, float_format=lambda v: f"{v:,.2f}", na_rep="-")


def _fmt(value, digits=6) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _print_run(result, out: Path, write_s: float) -> None:
    from optimizer.runio import data_note

    plan, report = result.plan, result.plan.report
    click.echo(f"status {report.status} ({report.termination}); mode {report.mode}; "
               f"solver {report.solver_text()}")
    click.echo(f"objective {_fmt(report.objective)}  bound {_fmt(report.bound)}  "
               f"gap {_fmt(report.gap, 3)}  rounds {report.rounds}  routes/cuts {report.routes}")
    for name, value in report.family_values.items():
        click.echo(f"  {name}: {value:.6g}")
    if len(plan.budgets):
        click.echo(_meur_table(plan.budgets[["holder", "budget_eur", "spend_eur"]]))
    if not plan.yearly.empty:
        click.echo("build schedule (objective with what is built by each year):")
        click.echo(plan.yearly.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    if len(plan.axes):
        table = plan.axes.assign(
            before_h=plan.axes["time_before_min"] / 60, after_h=plan.axes["time_after_min"] / 60)
        columns = ["axis_id", "weight", "before_h", "after_h", "blocked_after",
                   "corridors_before", "corridors_after", "detection_after"]
        click.echo(table[columns].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    stages = ", ".join(f"{stage.replace('_', ' ')} {seconds:.2f}"
                       for stage, seconds in {**result.timings_s, "write": write_s}.items())
    click.echo(f"{len(plan.obstacles)} obstacles, {len(plan.sensors)} sensors; "
               f"seconds by stage: {stages}")
    note = data_note(result)
    if note:
        click.echo(f"NOTE: {note}")
    click.echo(f"wrote {out}")
