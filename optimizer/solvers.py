"""Solver choice and honest outcome classification. The only module that knows PuLP's solvers.

HiGHS (highspy) is the default; CBC (``COIN_CMD`` with the ``cbcbox`` binary) the fallback.
The outcome is classified from ``prob.status``, ``prob.sol_status`` and, for HiGHS,
the solver's own record of whether it holds a primal solution (PuLP maps a time limit
with no incumbent to "Optimal / IntegerFeasible", which must not be believed).
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np
import pulp

from optimizer.errors import Problems, SolverError, is_number, is_whole

SOLVERS = {"highs": "HiGHS", "cbc": "COIN_CMD"}
OPTIONS = {"time_limit_s", "gap_rel", "threads", "seed", "msg"}


@dataclass(frozen=True)
class SolverSettings:
    name: str = "highs"
    time_limit_s: float = 300.0
    gap_rel: float = 1e-6
    threads: int = 1
    seed: int = 0
    msg: bool = False

    def __post_init__(self) -> None:
        if self.name not in SOLVERS:
            raise SolverError(f"unknown solver '{self.name}'; known: {sorted(SOLVERS)}")
        problems = Problems()
        if not is_number(self.time_limit_s) or not self.time_limit_s > 0:
            problems.add("solver settings: time_limit_s (--time-limit)",
                         f"{self.time_limit_s!r} is not a positive number of seconds",
                         "give seconds > 0, e.g. 300")
        if not is_number(self.gap_rel) or not 0 <= self.gap_rel < 1:
            problems.add("solver settings: gap_rel (--gap)",
                         f"{self.gap_rel!r} is not a relative gap in [0, 1)",
                         "give e.g. 1e-6 (0: proven exactly)")
        if not is_whole(self.threads) or self.threads < 1:
            problems.add("solver settings: threads (--threads)",
                         f"{self.threads!r} is not a thread count", "give 1 or more")
        if not is_whole(self.seed) or not 0 <= self.seed <= 2**31 - 1:
            problems.add("solver settings: seed", f"{self.seed!r} is not a seed",
                         "give a whole number from 0 to 2147483647")
        problems.raise_if_any()

    @classmethod
    def from_options(cls, name: str, **options: object) -> SolverSettings:
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            raise SolverError(f"unknown solver option(s) {unknown}; known: {sorted(OPTIONS)}")
        return cls(name=name, **options)  # type: ignore[arg-type]

    def record(self) -> dict[str, object]:
        """What a report keeps so that a run can be repeated as it was solved."""
        return {"solver": self.name, "threads": self.threads, "time_limit_s": self.time_limit_s,
                "gap_rel": self.gap_rel, "seed": self.seed}


@dataclass(frozen=True)
class MilpOutcome:
    """One MILP solve. ``objective`` is None whenever the solver holds no solution."""

    status: str  # optimal | feasible | infeasible | unbounded | no_solution
    objective: float | None
    bound: float | None
    runtime_s: float
    termination: str

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


_scheduler_threads: int | None = None  # the thread count HiGHS's scheduler was started with
_banner_shown = False


def _quiet_banner() -> None:
    """HiGHS prints its banner ("Running HiGHS ...") to the process's standard output when
    its first solver object is made, whatever the options; make that first object with the
    output file descriptor pointed at the null device, so that a run's output is the
    program's own."""
    global _banner_shown
    if _banner_shown:
        return
    _banner_shown = True
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output to protect
        highspy.Highs()
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _use_threads(threads: int) -> None:
    """HiGHS runs every solve of a process on one global task scheduler, started with the
    first solve's thread count; a solve asking for another count fails outright ("Not Set",
    no solution). Restart the scheduler whenever the count changes."""
    global _scheduler_threads
    reset = getattr(highspy.Highs, "resetGlobalScheduler", None)  # older highspy: absent
    if _scheduler_threads is not None and _scheduler_threads != threads and reset:
        reset(True)
    _scheduler_threads = threads


class _HiGHS(pulp.HiGHS):
    """PuLP's HiGHS (highspy) that can hand the solver a start: a partial solution (values
    of some columns, e.g. a plan's binaries) that HiGHS completes and uses as its first
    incumbent."""

    def __init__(self, start: dict | None = None, **options):
        super().__init__(**options)
        self.start = start or {}

    def callSolver(self, lp):
        _use_threads(self.threads)
        if self.start:
            index = np.array([var.index for var in self.start], dtype=np.int32)
            value = np.array(list(self.start.values()), dtype=float)
            lp.solverModel.setSolution(len(index), index, value)
        super().callSolver(lp)


def _highs(settings: SolverSettings, time_limit: float, start: dict | None = None, **extra):
    _quiet_banner()
    if extra.get("mip", True) and settings.threads > 1:
        # HiGHS searches a MIP's tree with several workers only with parallel "on" (for an
        # LP the option would switch to its parallel dual simplex, usually slower: LPs keep
        # HiGHS's default). Measured in README "Measured".
        extra.setdefault("parallel", "on")
    # Tight feasibility tolerances: detection cuts carry coefficients near 1e-8.
    return _HiGHS(start=start, msg=settings.msg, timeLimit=max(time_limit, 0.01),
                  gapRel=settings.gap_rel, threads=settings.threads, random_seed=settings.seed,
                  mip_feasibility_tolerance=1e-9, primal_feasibility_tolerance=1e-9, **extra)


def _cbc(settings: SolverSettings, time_limit: float, log_path: str, mip: bool = True):
    available = pulp.getSolver("COIN_CMD", msg=False)
    if not available.available():
        raise SolverError("CBC is not available: install it with `pip install pulp[cbc]`")
    return pulp.getSolver("COIN_CMD", mip=mip, msg=settings.msg, timeLimit=max(time_limit, 1),
                          gapRel=settings.gap_rel, threads=settings.threads, logPath=log_path,
                          options=[f"randomCbcSeed {settings.seed + 1}"])


def solve_milp(prob: pulp.LpProblem, settings: SolverSettings, *,
               time_limit: float | None = None, relax: bool = False,
               incumbents: list | None = None, tuning: dict | None = None,
               start: dict | None = None) -> MilpOutcome:
    """Solve ``prob`` (its LP relaxation if ``relax``) and classify the outcome from every
    status PuLP and the solver give. With HiGHS, ``incumbents`` (a list) receives every
    improving solution found on the way, as column arrays indexed by ``var.index``, and
    ``tuning`` holds extra HiGHS options for a MIP solve and ``start`` values of some
    columns ({variable: value}, e.g. a known plan) for HiGHS to complete into its first
    incumbent (other solvers and LP solves ignore both)."""
    limit = settings.time_limit_s if time_limit is None else time_limit
    maximise = prob.sense == pulp.LpMaximize
    started = time.perf_counter()
    log_path = None
    if settings.name == "highs":
        extra = dict(tuning or {}) if not relax else {}
        if incumbents is not None and not relax:
            extra.update(callbackTuple=(_keep_incumbent, incumbents), callbacksToActivate=[
                highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution])
        solver = _highs(settings, limit, start=None if relax else start, mip=not relax,
                        **extra)
    else:
        fd, log_path = tempfile.mkstemp(prefix="cbc-", suffix=".log")
        os.close(fd)
        solver = _cbc(settings, limit, log_path, mip=not relax)
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as error:
        raise SolverError(f"{settings.name} failed: {error}") from None
    runtime = time.perf_counter() - started
    status, sol_status = prob.status, prob.sol_status
    if settings.name == "highs":

        def again(**options) -> MilpOutcome:
            """Solve once more in the time left, with other options, and classify that."""
            left = max(limit - (time.perf_counter() - started), 0.01)
            prob.solve(_highs(settings, left, **options))
            return _classify_highs(prob, prob.status, prob.sol_status, maximise,
                                   time.perf_counter() - started, relax)

        outcome = _classify_highs(prob, status, sol_status, maximise, runtime, relax)
        if outcome.status == "infeasible":
            # HiGHS's presolve can misjudge badly scaled rows; confirm without it.
            outcome = again(mip=not relax, presolve="off")
        elif start and not relax and not _consistent(prob, outcome, settings.gap_rel,
                                                     maximise):
            # HiGHS 1.16 can misplace a start's objective in its presolved space and then
            # claim the start optimal against a bound it never proved (saved case:
            # tests/data/highs_start_offset.mps): solve again without the start.
            outcome = again(mip=True, **extra)
        if outcome.has_solution and not _consistent(prob, outcome, settings.gap_rel, maximise):
            # never pass on a proof, or a bound, that the solution contradicts
            outcome = MilpOutcome("feasible", outcome.objective, None, outcome.runtime_s,
                                  f"{outcome.termination} (bound disagrees with the solution)")
    else:
        outcome = _classify_cbc(prob, status, sol_status, maximise, runtime, log_path)
        Path(log_path).unlink(missing_ok=True)
    return outcome


def _consistent(prob, outcome: MilpOutcome, gap_rel: float, maximise: bool) -> bool:
    """Whether a solve's solution value and bound agree: the bound is not beaten by the
    solution, and an optimum is within the gap HiGHS stops at (``gap_rel`` relative to
    the objective without its constant, which PuLP keeps from HiGHS, or 1e-6 absolute)."""
    if outcome.objective is None or outcome.bound is None:
        return True
    constant = prob.objective.constant if prob.objective is not None else 0.0
    scale = max(abs(outcome.objective - constant), abs(outcome.bound - constant))
    slack = 2.0 * max(1e-6, gap_rel * scale) + 1e-9 * max(1.0, abs(outcome.objective))
    excess = (outcome.bound - outcome.objective) * (1.0 if maximise else -1.0)
    if excess < -slack:
        return False  # the solution beats the bound
    return outcome.status != "optimal" or excess <= slack


def _keep_incumbent(kind, message, data_out, data_in, found: list) -> None:
    found.append(np.array(data_out.mip_solution, dtype=float))


def _classify_highs(prob, status, sol_status, maximise, runtime, relax=False) -> MilpOutcome:
    model = prob.solverModel
    info = model.getInfo()
    termination = model.modelStatusToString(model.getModelStatus())
    has_primal = info.primal_solution_status == 2
    sign = -1.0 if maximise else 1.0  # PuLP hands HiGHS a negated maximisation
    if status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        return MilpOutcome("infeasible", None, None, runtime, termination)
    if status == pulp.LpStatusUnbounded:
        return MilpOutcome("unbounded", None, None, runtime, termination)
    if not has_primal or sol_status == pulp.LpSolutionNoSolutionFound:
        return MilpOutcome("no_solution", None, _bound(info, sign, prob), runtime, termination)
    objective = pulp.value(prob.objective)
    objective = float(objective) if objective is not None else 0.0
    proven = status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal
    bound = _bound(info, sign, prob) if _is_mip(prob) and not relax else objective
    if bound is None:
        bound = objective if proven else None
    return MilpOutcome("optimal" if proven else "feasible", objective, bound, runtime,
                       termination)


def _is_mip(prob) -> bool:
    return any(v.cat == pulp.LpInteger for v in prob.variables())


def _bound(info, sign, prob) -> float | None:
    value = info.mip_dual_bound
    if value is None or not math.isfinite(value):
        return None
    # PuLP does not pass the objective's constant to HiGHS; add it back.
    constant = prob.objective.constant if prob.objective is not None else 0.0
    return sign * value + constant


def _classify_cbc(prob, status, sol_status, maximise, runtime, log_path) -> MilpOutcome:
    text = Path(log_path).read_text(errors="replace") if log_path else ""
    termination = "optimal" if "Optimal solution found" in text else (
        "time limit" if "Stopped on time" in text else "see log")
    if status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        return MilpOutcome("infeasible", None, None, runtime, termination)
    if status == pulp.LpStatusUnbounded:
        return MilpOutcome("unbounded", None, None, runtime, termination)
    if status != pulp.LpStatusOptimal or sol_status not in (pulp.LpSolutionOptimal,
                                                            pulp.LpSolutionIntegerFeasible):
        return MilpOutcome("no_solution", None, None, runtime, termination)
    objective = float(pulp.value(prob.objective) or 0.0)
    if sol_status == pulp.LpSolutionOptimal and termination != "time limit":
        return MilpOutcome("optimal", objective, objective, runtime, termination)
    bound = None
    match = re.search(r"best possible\s+(-?[\d.eE+-]+)", text) or re.search(
        r"Lower bound:\s+(-?[\d.eE+-]+)", text)
    if match:
        raw = float(match.group(1))
        bound = -raw if maximise else raw  # CBC minimises the negated objective
    return MilpOutcome("feasible", objective, bound, runtime, termination)


def relative_gap(primal: float | None, bound: float | None) -> float | None:
    """|bound - primal| / max(|primal|, |bound|) (0 when both are 0); None if either is unknown."""
    if primal is None or bound is None:
        return None
    scale = max(abs(primal), abs(bound))
    return abs(bound - primal) / scale if scale > 0 else 0.0
