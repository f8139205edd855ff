"""Plan and SolveReport: what a solve returns, as frozen values keyed by the user's ids."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from optimizer.attacker import Choice
from optimizer.errors import PlanStatusError


@dataclass(frozen=True)
class SolveReport:
    """How a plan was obtained.

    ``status`` is ``optimal`` only when the bound proves it (``gap <= gap_rel``);
    ``feasible`` means a plan was found but a time or round limit stopped the proof
    (``gap`` says how far it may be from optimal); ``infeasible`` and ``no_solution``
    carry no plan and no objective.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    runtime_s: float
    solver: str
    termination: str
    rounds: int
    routes: int
    mode: str
    objective_weights: dict[str, float]
    family_values: dict[str, float] = field(default_factory=dict)
    spend_status: str = "not run"
    parts: dict[str, SolveReport] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)  # the solver settings used

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("status", "objective", "bound", "gap", "runtime_s",
                                              "solver", "termination", "rounds", "routes", "mode",
                                              "objective_weights", "family_values",
                                              "spend_status", "timings_s", "settings")}
        out["parts"] = {k: v.as_dict() for k, v in self.parts.items()}
        return out

    def solver_text(self) -> str:
        """The solver and the settings it ran with, for a person reading the report."""
        s = self.settings
        if not s:
            return self.solver
        threads = f"{s['threads']} thread{'s' if s['threads'] != 1 else ''}"
        return (f"{s['solver']} ({threads}, time limit {s['time_limit_s']:g} s, "
                f"relative gap {s['gap_rel']:g}, seed {s['seed']})")


@dataclass(frozen=True)
class Plan:
    """A placement plan with its per-axis verification and budget use.

    Attributes
    ----------
    obstacles, sensors
        Chosen sites: ``site_id``, ``type``, ``country``, ``cost_eur``, ``fixed``
        (obstacles also ``observed``, ``blocks``, ``delay_min``).
    axes
        Per threat axis: fastest time before/after (min), blocked before/after,
        edge-disjoint corridors open before/after, detection probability before/after,
        and ``verified`` (the NetworkX recomputation agrees with the fast oracle).
    budgets
        Per holder: ``budget_eur``, ``spend_eur``, ``remaining_eur``.
    routes
        Axis -> {"before": nodes, "after": nodes} (the attacker's fastest routes).
    schedule, yearly
        For a build schedule: the year each site is built in, and per year the spend per
        holder and each objective's value with what is built by then (else empty).
    """

    obstacles: pd.DataFrame
    sensors: pd.DataFrame
    axes: pd.DataFrame
    budgets: pd.DataFrame
    routes: dict[str, dict[str, list[str] | None]]
    report: SolveReport
    choice: Choice
    schedule: pd.DataFrame = field(default_factory=pd.DataFrame)
    yearly: pd.DataFrame = field(default_factory=pd.DataFrame)
    route_pool: dict = field(default_factory=dict, repr=False)

    @property
    def status(self) -> str:
        return self.report.status

    def raise_for_status(self) -> Plan:
        """Raise :class:`PlanStatusError` unless the plan is proven optimal."""
        if self.report.status != "optimal":
            raise PlanStatusError(f"plan status is {self.report.status} "
                                  f"(termination: {self.report.termination}, gap: {self.report.gap})")
        return self

    @property
    def spend(self) -> float:
        return float(self.budgets["spend_eur"].sum()) if len(self.budgets) else 0.0
