"""A child process that solves HiGHS models for :mod:`optimizer.solvers`.

HiGHS honours its time limit almost everywhere, but not everywhere: HiGHS 1.16 looped
for ever in the presolve of a RENS sub-MIP (saved case: tests/data/highs_rens_hang.mps.gz),
where neither the time limit nor an interrupt callback reaches it. A solve in this
process can be killed when it overruns, which a solve in the engine's own process cannot.

Run by path (``python .../highs_worker.py``) so that it imports only highspy and numpy,
not the package. Protocol: pickled messages on standard input and on the file descriptor
that was standard output (HiGHS's own log goes to standard error instead):

- in: ``{"model": {arrays}, "options": {...}, "start": (index, value) | None,
  "incumbents": bool}``, one per solve;
- out: ``("incumbent", array)`` for every improving MIP solution as HiGHS finds it
  (so that a killed solve still hands back its best plan), then ``("done", {...})``
  or ``("error", text)``.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading

import highspy
import numpy as np


def load(highs: highspy.Highs, model: dict) -> None:
    """Pass ``model`` (as built by ``optimizer.solvers.model_arrays``: a minimisation, the
    matrix row-wise) to ``highs``."""
    status = highs.passModel(
        len(model["col_cost"]), len(model["row_lower"]), len(model["value"]),
        int(highspy.MatrixFormat.kRowwise), int(highspy.ObjSense.kMinimize), 0.0,
        model["col_cost"], model["col_lower"], model["col_upper"], model["row_lower"],
        model["row_upper"],
        model["start"], model["index"], model["value"], model["integrality"])
    if status == highspy.HighsStatus.kError:
        raise ValueError("HiGHS refused the model")


class _Scheduler:
    """HiGHS runs every solve of a process on one global task scheduler, started with the
    first solve's thread count; a solve asking for another count fails outright ("Not Set",
    no solution). Restart the scheduler whenever the count changes."""

    threads: int | None = None

    @classmethod
    def use(cls, threads: int) -> None:
        reset = getattr(highspy.Highs, "resetGlobalScheduler", None)  # older highspy: absent
        if cls.threads is not None and cls.threads != threads and reset:
            reset(True)
        cls.threads = threads


def prepare(highs: highspy.Highs, start: tuple | None, keep) -> None:
    """Ready ``highs`` (model and options set) to run: its thread scheduler, its start
    (column indices and values) and ``keep``, called with each improving MIP solution."""
    _Scheduler.use(int(highs.getOptionValue("threads")[1]))
    if keep is not None:
        def improving(kind, message, data_out, data_in, user) -> None:
            keep(np.array(data_out.mip_solution, dtype=float))

        highs.setCallback(improving, None)
        highs.startCallback(highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution)
    if start is not None:
        index, value = start
        highs.setSolution(len(index), index, value)


def solve(job: dict, send) -> dict:
    """Solve one job; ``send`` passes each improving MIP solution on at once."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    load(highs, job["model"])
    for name, value in job["options"].items():
        highs.setOptionValue(name, value)
    prepare(highs, job["start"], (lambda found: send(("incumbent", found)))
            if job["incumbents"] else None)
    highs.run()
    solution, info = highs.getSolution(), highs.getInfo()
    return {"status": int(highs.getModelStatus()), "objective": highs.getObjectiveValue(),
            **{name: np.asarray(getattr(solution, name))
               for name in ("col_value", "col_dual", "row_value", "row_dual")},
            "info": {name: getattr(info, name)
                     for name in ("primal_solution_status", "mip_dual_bound", "mip_gap")}}


def _die_with_parent() -> None:
    """Linux: be killed when the engine's process ends, even mid-solve (best effort)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve() -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine decides when a solve stops
    out = os.fdopen(os.dup(1), "wb")
    with open(os.devnull, "wb") as null:  # HiGHS's banner, printed by its first object
        os.dup2(null.fileno(), 1)
        highspy.Highs()
    os.dup2(2, 1)  # HiGHS's log (msg=True) to standard error, never into the protocol
    lock = threading.Lock()

    def send(message) -> None:
        with lock:
            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

    source = sys.stdin.buffer
    while True:
        try:
            job = pickle.load(source)
        except EOFError:
            return
        try:
            send(("done", solve(job, send)))
        except Exception as error:  # reported to the engine, which raises SolverError
            send(("error", f"{type(error).__name__}: {error}"))


if __name__ == "__main__":
    serve()
