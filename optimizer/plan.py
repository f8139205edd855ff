"""Plan and SolveReport: what a solve returns, as frozen values keyed by the user's ids,
and the plan's tables, each axis recomputed by the plain NetworkX attacker."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.attacker import Choice, Network, ReferenceAttacker
from optimizer.errors import PlanStatusError
from optimizer.problem import Problem


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


class VerificationError(RuntimeError):
    """The independent recomputation disagrees with the engine: a bug, never an input error."""


def plan_tables(problem: Problem, network: Network, choice: Choice, verify: bool):
    """A plan's tables: obstacles, sensors, per-axis metrics before and after (each axis
    recomputed by the NetworkX reference if ``verify``, which must agree with the fast
    oracle), budget use, and the attacker's fastest routes before and after."""
    empty = Choice.empty()
    before, after = network.effect(empty), network.effect(choice)
    fixed_sites = {f.split(":", 1)[0] for f in problem.fixed}
    options = problem.obstacle_options.set_index(["site_id", "type"])
    obstacles = []
    for site, kind in sorted(choice.obstacles.items()):
        row = options.loc[(site, kind)]
        observed = site in after.observed
        obstacles.append({
            "site_id": site, "type": kind, "country": row["country"],
            "cost_eur": float(row["cost"]), "fixed": site in fixed_sites,
            "observed": observed, "blocks": bool(row["blocks"]),
            "delay_min": float(row["delay_observed_min"] if observed
                               else row["delay_unobserved_min"]),
        })
    sensor_rows = problem.sensor_options.set_index(["site_id", "type"])
    sensors = [{"site_id": s, "type": t, "country": sensor_rows.at[(s, t), "country"],
                "cost_eur": float(sensor_rows.at[(s, t), "cost"]), "fixed": s in fixed_sites}
               for s, t in sorted(choice.sensors)]
    axes, routes = [], {}
    reference = ReferenceAttacker(problem, choice) if verify else None
    node_route = lambda r, o: None if r is None else [o] + [network.nodes[network.dst[e]]  # noqa: E731
                                                            for e in r]
    for axis in problem.axes.itertuples():
        t0, r0 = network.fastest(before, axis.origin, axis.objective)
        t1, r1 = network.fastest(after, axis.origin, axis.objective)
        ev0, _ = network.most_reliable(before, axis.origin, axis.objective)
        ev1, _ = network.most_reliable(after, axis.origin, axis.objective)
        row = {
            "axis_id": axis.axis_id, "origin": axis.origin, "objective": axis.objective,
            "country": axis.country, "weight": float(axis.weight),
            "threshold_min": float(axis.threshold_min),
            "time_before_min": t0, "time_after_min": t1,
            "blocked_before": bool(t0 >= axis.threshold_min),
            "blocked_after": bool(t1 >= axis.threshold_min),
            "corridors_before": network.corridors(before, axis.origin, axis.objective),
            "corridors_after": network.corridors(after, axis.origin, axis.objective),
            "detection_before": 1.0 - ev0, "detection_after": 1.0 - ev1,
        }
        if verify:
            ref = reference.metrics(axis.origin, axis.objective, with_corridors=False)
            same_time = (math.isinf(ref["time_min"]) and math.isinf(t1)) or math.isclose(
                ref["time_min"], t1, rel_tol=1e-9, abs_tol=1e-6)
            same_ev = math.isclose(ref["evasion"], ev1, rel_tol=1e-9, abs_tol=1e-12)
            if not (same_time and same_ev):
                raise VerificationError(
                    f"axis {axis.axis_id}: NetworkX gives time {ref['time_min']} and evasion "
                    f"{ref['evasion']}, the fast oracle {t1} and {ev1}")
            row["time_after_min"] = ref["time_min"]
            row["route_after_ref"] = ref["route"]
            row["verified"] = True
        axes.append(row)
        routes[axis.axis_id] = {"before": node_route(r0, axis.origin),
                                "after": row.pop("route_after_ref", None)
                                if verify else node_route(r1, axis.origin)}
    budgets = []
    spend: dict[str, float] = {}
    for item in obstacles + sensors:
        if not item["fixed"]:
            spend[item["country"]] = spend.get(item["country"], 0.0) + item["cost_eur"]
    for holder, budget in sorted(problem.budgets.items()):
        used = spend.get(holder, 0.0)
        budgets.append({"holder": holder, "budget_eur": float(budget), "spend_eur": used,
                        "remaining_eur": float(budget) - used})
    columns_o = ["site_id", "type", "country", "cost_eur", "fixed", "observed", "blocks",
                 "delay_min"]
    columns_s = ["site_id", "type", "country", "cost_eur", "fixed"]
    return (pd.DataFrame(obstacles, columns=columns_o), pd.DataFrame(sensors, columns=columns_s),
            pd.DataFrame(axes), pd.DataFrame(budgets), routes)


def family_values_from_axes(axes: pd.DataFrame, weights: dict[str, float],
                            blocked_time_min: float) -> dict[str, float]:
    """Each objective family's value recomputed from the verified per-axis table."""
    w = axes["weight"]
    values = {
        "blocked": float((w * axes["blocked_after"].astype(float)).sum()),
        "delay": float((w * np.minimum(axes["time_after_min"], blocked_time_min) / 60.0).sum()),
        "detection": float((w * (1.0 - axes["detection_after"])).sum()),
        "throughput": float((w * axes["corridors_after"]).sum()),
    }
    return {k: values[k] for k in weights}


def schedule_tables(problem, network, weights, choices, build_years, obstacles, sensors):
    """Year each chosen site is built in; per year spend per holder and objective values."""
    built = pd.concat([obstacles.assign(kind="obstacle"), sensors.assign(kind="sensor")],
                      ignore_index=True)
    built["year"] = [build_years.get((r.site_id, r.type), 1) for r in built.itertuples()]
    rows = []
    for year, choice in enumerate(choices, start=1):
        _, _, axes, _, _ = plan_tables(problem, network, choice, verify=False)
        row = {"year": year, **family_values_from_axes(axes, weights, problem.blocked_time_min)}
        this_year = built[(built["year"] == year) & ~built["fixed"]]
        for holder in sorted(problem.budgets):
            row[f"spend_{holder}_eur"] = float(
                this_year.loc[this_year["country"] == holder, "cost_eur"].sum())
        rows.append(row)
    columns = ["site_id", "type", "kind", "country", "cost_eur", "fixed", "year"]
    return built[columns].sort_values(["year", "site_id"]).reset_index(drop=True), \
        pd.DataFrame(rows)
