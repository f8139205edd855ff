"""Solver choice and honest outcome classification. The only module that knows PuLP's solvers.

HiGHS (highspy) is the default, each solve run in a worker process that is killed if it
overruns its time limit (:mod:`optimizer.highs_worker`); CBC (``COIN_CMD`` with the
``cbcbox`` binary) the fallback.
The outcome is classified from ``prob.status``, ``prob.sol_status`` and, for HiGHS,
the solver's own record of whether it holds a primal solution (PuLP maps a time limit
with no incumbent to "Optimal / IntegerFeasible", which must not be believed).
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import pickle
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import highspy
import numpy as np
import pulp

from optimizer import highs_worker
from optimizer.errors import Problems, SolverError, is_number, is_whole

log = logging.getLogger(__name__)

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


ISOLATED = True  # HiGHS solves in a worker process; False: in this one (no overrun guard)


def overrun_allowance(time_limit: float) -> float:
    """How long past its time limit a HiGHS solve may run before it is stopped: HiGHS
    checks its clock between steps, so a legitimate solve ends a little late; a hung one
    (see :mod:`optimizer.highs_worker`) never ends."""
    return 10.0 + 0.1 * time_limit


class _Overran(Exception):
    """A HiGHS solve ran past its time limit and allowance and its worker was killed."""


class _Worker:
    """A child process (optimizer/highs_worker.py) that runs HiGHS solves for one thread
    of this process, so that a solve that does not stop can be killed."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        try:
            self.process = subprocess.Popen([sys.executable, highs_worker.__file__],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as error:
            raise SolverError(f"could not start HiGHS's worker process ({error}); set "
                              "optimizer.solvers.ISOLATED = False to solve in this "
                              "process") from None
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(self.process.stdout, self.messages),
                         daemon=True).start()

    @staticmethod
    def _read(stream, messages: queue.Queue) -> None:
        try:
            while True:
                messages.put(pickle.load(stream))
        except (EOFError, OSError, pickle.UnpicklingError, ValueError):
            messages.put(("gone", None))

    def solve(self, job: dict, seconds: float, found: list | None) -> dict:
        """Run ``job``; append each improving solution to ``found`` as it arrives. Raises
        :class:`_Overran` when no answer came within ``seconds``."""
        deadline = time.monotonic() + seconds
        try:
            pickle.dump(job, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.flush()
            while True:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    raise _Overran()
                try:  # short waits keep Ctrl-C prompt while the worker solves
                    kind, payload = self.messages.get(timeout=min(wait, 0.25))
                except queue.Empty:
                    continue
                if kind == "incumbent":
                    if found is not None:
                        found.append(payload)
                elif kind == "done":
                    return payload
                elif kind == "error":
                    raise SolverError(f"HiGHS failed: {payload}")
                else:
                    code = self.process.wait()
                    raise SolverError(f"HiGHS's worker process ended unexpectedly (exit code "
                                      f"{code}) during a solve")
        except BrokenPipeError:
            self.stop()
            raise SolverError("HiGHS's worker process ended unexpectedly") from None
        except BaseException:  # overrun, Ctrl-C, anything else: never leave a solve running
            self.stop()
            raise

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


_local = threading.local()  # this thread's worker
_workers: list[_Worker] = []


def _worker() -> _Worker:
    worker = getattr(_local, "worker", None)
    if worker is None or not worker.alive():
        if worker is not None and worker.owner == os.getpid():
            worker.stop()
        _workers[:] = [other for other in _workers if other.alive()]
        worker = _local.worker = _Worker()
        _workers.append(worker)
    return worker


def worker_peak_mb() -> float:
    """The largest peak resident memory (MB) of this process's live HiGHS workers (Linux's
    VmHWM; 0 where it cannot be read): the engine's own peak no longer includes HiGHS's."""
    peak = 0.0
    for worker in _workers:
        if worker.alive():
            try:
                status = Path(f"/proc/{worker.process.pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peak = max(peak, int(match.group(1)) / 1024)
    return peak


@atexit.register
def _stop_workers() -> None:
    for worker in _workers:
        if worker.owner == os.getpid():
            worker.stop()


class _Solved:
    """What PuLP and :func:`_classify_highs` read of a solver object, for a model solved
    in the worker; everything else (options, status names) is the local object's."""

    def __init__(self, model: highspy.Highs, result: dict) -> None:
        self._model, self._result = model, result

    def getModelStatus(self) -> highspy.HighsModelStatus:  # noqa: N802 (highspy's names)
        return highspy.HighsModelStatus(self._result["status"])

    def getObjectiveValue(self) -> float:  # noqa: N802
        return self._result["objective"]

    def getSolution(self) -> SimpleNamespace:  # noqa: N802
        return SimpleNamespace(**{name: self._result[name].tolist() for name in
                                  ("col_value", "col_dual", "row_value", "row_dual")})

    def getInfo(self) -> SimpleNamespace:  # noqa: N802
        return SimpleNamespace(**self._result["info"])

    def __getattr__(self, name: str):
        return getattr(self._model, name)


class _HiGHS(pulp.HiGHS):
    """PuLP's HiGHS (highspy), solved in a worker process (:class:`_Worker`) that is
    killed if it overruns its time limit. It can hand the solver a start: a partial
    solution (values of some columns, e.g. a plan's binaries) that HiGHS completes and
    uses as its first incumbent; and ``found`` (a list) receives every improving solution,
    as column arrays indexed by ``var.index``."""

    def __init__(self, start: dict | None = None, found: list | None = None, **options):
        super().__init__(**options)
        self.start = start or {}
        self.found = found

    def buildSolverModel(self, lp):  # noqa: N802 (PuLP's name)
        # PuLP adds columns and rows to the solver one call at a time; build the arrays
        # once instead (the worker needs them anyway), numbering variables and constraints
        # as PuLP does, for its findSolutionValues
        self.model = model_arrays(lp, self.mip)
        if not ISOLATED:
            highs_worker.load(lp.solverModel, self.model)

    def callSolver(self, lp):  # noqa: N802 (PuLP's name)
        start = None
        if self.start:
            start = (np.array([var.index for var in self.start], dtype=np.int32),
                     np.array(list(self.start.values()), dtype=float))
        if not ISOLATED:
            highs_worker.prepare(lp.solverModel, start, self.found.append
                                 if self.found is not None else None)
            lp.solverModel.run()
            return
        names = {"output_flag", "mip_rel_gap", "mip_abs_gap", "threads", "time_limit",
                 *self.optionsDict}
        job = {"model": self.model,
               "options": {name: lp.solverModel.getOptionValue(name)[1] for name in names},
               "start": start, "incumbents": self.found is not None}
        limit = float(self.timeLimit) if self.timeLimit is not None else math.inf
        result = _worker().solve(job, limit + overrun_allowance(limit), self.found)
        lp.solverModel = _Solved(lp.solverModel, result)


def model_arrays(lp: pulp.LpProblem, mip: bool = True) -> dict:
    """``lp`` as HiGHS's arrays (a minimisation, the matrix row-wise), numbering its
    variables (``var.index``) and constraints (``constraint.index``) in PuLP's order."""
    inf = highspy.kHighsInf
    sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0  # PuLP hands HiGHS a minimisation
    variables = lp.variables()
    for i, var in enumerate(variables):
        var.index = i
    objective = lp.objective
    cost = np.array([sign * objective.get(var, 0.0) for var in variables], dtype=float)
    lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    integrality = np.array([int(mip and v.cat == pulp.LpInteger) for v in variables],
                           dtype=np.int32)
    starts, index, value, row_lower, row_upper = [0], [], [], [], []
    for i, constraint in enumerate(lp._constraints.values()):
        constraint.index = i
        for var, coefficient in constraint.items():
            if coefficient != 0:
                index.append(var.index)
                value.append(coefficient)
        starts.append(len(index))
        low, high = constraint.getLb(), constraint.getUb()
        row_lower.append(-inf if low is None else low)
        row_upper.append(inf if high is None else high)
    return {"col_cost": cost, "col_lower": lower, "col_upper": upper,
            "integrality": integrality, "row_lower": np.array(row_lower, dtype=float),
            "row_upper": np.array(row_upper, dtype=float),
            "start": np.array(starts, dtype=np.int32), "index": np.array(index, dtype=np.int32),
            "value": np.array(value, dtype=float)}


def _highs(settings: SolverSettings, time_limit: float, start: dict | None = None, **extra):
    _quiet_banner()  # PuLP builds the model in a local solver object
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
        solver = _highs(settings, limit, start=None if relax else start, mip=not relax,
                        found=None if relax else incumbents, **extra)
    else:
        fd, log_path = tempfile.mkstemp(prefix="cbc-", suffix=".log")
        os.close(fd)
        solver = _cbc(settings, limit, log_path, mip=not relax)
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as error:
        raise SolverError(f"{settings.name} failed: {error}") from None
    except _Overran:
        return _overran(prob, limit, time.perf_counter() - started, incumbents)
    runtime = time.perf_counter() - started
    status, sol_status = prob.status, prob.sol_status
    if settings.name == "highs":

        def again(**options) -> MilpOutcome:
            """Solve once more in the time left, with other options, and classify that."""
            left = max(limit - (time.perf_counter() - started), 0.01)
            try:
                prob.solve(_highs(settings, left, **options))
            except _Overran:
                return _overran(prob, limit, time.perf_counter() - started, incumbents)
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
            outcome = again(mip=True, found=incumbents, **extra)
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


def _overran(prob, limit: float, runtime: float, found: list | None) -> MilpOutcome:
    """The outcome of a HiGHS solve that was killed past its time limit: its last
    improving solution (if any came) without a bound."""
    termination = (f"HiGHS ran {runtime - limit:.0f} s past its {limit:.1f} s time limit "
                   "without stopping and was killed")
    log.warning("%s; its best solution so far is kept, without a bound", termination)
    if not found:
        return MilpOutcome("no_solution", None, None, runtime, termination)
    for var in prob.variables():
        var.varValue = float(found[-1][var.index])
    objective = pulp.value(prob.objective)
    return MilpOutcome("feasible", float(objective) if objective is not None else 0.0, None,
                       runtime, termination)


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
