"""Barrier and sensor placement under national budgets against a re-routing attacker.

The Python API returns values; see :func:`optimizer.pipeline.run` for an example
that runs as a doctest on the embedded default.
"""

__version__ = "0.1.0"

from optimizer.config import ScenarioConfig, default_config_path, load_config  # noqa: E402
from optimizer.errors import InputError, PlanStatusError, SolverError  # noqa: E402
from optimizer.pipeline import Prepared, Run, prepare, prepare_problem, run, solve_prepared  # noqa: E402
from optimizer.plan import Plan, SolveReport  # noqa: E402
from optimizer.problem import Problem, problem_from_tables  # noqa: E402
from optimizer.solve import solve_problem  # noqa: E402
from optimizer.solvers import SolverSettings  # noqa: E402

__all__ = ["InputError", "Plan", "PlanStatusError", "Prepared", "Problem", "Run",
           "ScenarioConfig", "SolveReport", "SolverError", "SolverSettings",
           "default_config_path", "load_config", "prepare", "prepare_problem",
           "problem_from_tables", "run", "solve_prepared", "solve_problem"]
