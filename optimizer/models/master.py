"""Plan variables, site rules and budgets shared by every objective, for one year or a schedule.

Variables (one year)
    x[s,t] in {0,1}   obstacle type t built at site s
    y[j,u] in {0,1}   sensor type u installed at sensor site j
    z[s,t] in [0,1]   obstacle (s,t) built *and* observed (z <= x, z <= sum of y observing s)
Constraints
    sum_t x[s,t] <= 1,  sum_u y[j,u] <= 1                      (one type per site)
    sum_{options of holder c} cost * var <= B_c                  (joint: one knapsack per holder)
    sum_{all options} cost * var <= sum_c B_c                    (pooled)
    sum_{options of type t} var <= m_t                           (limits per type)
    fixed sites: sum_t x[s,t] = 1 (or x[s,t] = 1 for "site:type"); their cost is sunk
    excluded sites: no variable

Build schedule over years 1..Y: b[k,y] in {0,1} builds option k in year y, at most once
(sum_y b[k,y] <= 1, and one type per site over all years); the plan of year y is the
cumulative X[k,y] = sum_{y' <= y} b[k,y'] (what is built stays built); annual knapsacks
sum_k cost_k b[k,y] <= B_{c,y} per holder (or cumulative ones with carry-over). Each year
is a *view* with its own x = X[.,y], y, z and the objective families of that year.
"""

from __future__ import annotations

from collections import defaultdict

import pulp

from optimizer.attacker import Choice, Network
from optimizer.problem import Problem


def route_terms(network: Network, x: dict, route: list[int]):
    """Obstacle options on a route with the number of route edges each acts on."""
    counts: dict[str, int] = defaultdict(int)
    for e in route:
        for site in network.edge_sites.get(e, ()):
            counts[site] += 1
    return [(key, k) for site, k in counts.items()
            for key in network.site_types.get(site, ()) if key in x]


class YearView:
    """Year ``year`` of a schedule as the objective families see it: the plan built so far."""

    def __init__(self, owner: Master, year: int):
        self.owner, self.year = owner, year
        self.prefix = f"y{year}_"
        self.prob, self.network = owner.prob, owner.network
        self.x = {k: pulp.lpSum(owner.build[y][k] for y in range(year + 1)) for k in owner.okeys}
        self.y = {k: pulp.lpSum(owner.build[y][k] for y in range(year + 1)) for k in owner.skeys}
        self.z = owner._observation(self.x, self.y, self.prefix)

    def add(self, constraint, prefix: str) -> None:
        self.owner.add(constraint, f"{self.prefix}{prefix}")

    def route_terms(self, route: list[int]):
        return route_terms(self.network, self.x, route)

    def choice(self) -> Choice:
        return self.owner.choice(self.year)


class Master:
    """The PuLP master problem; constraint families add to it round by round."""

    prefix = ""

    def __init__(self, problem: Problem, network: Network, *, mode: str,
                 obstacle_keys: set[tuple[str, str]] | None = None,
                 sensor_keys: set[tuple[str, str]] | None = None,
                 years: int = 1, annual_budgets: dict[str, list[float]] | None = None,
                 carry_over: bool = False):
        self.problem = problem
        self.network = network
        self.years = years
        self.mode = mode
        self.prob = pulp.LpProblem("master", pulp.LpMaximize)
        self.constraints: dict[str, pulp.LpConstraint] = {}
        fixed_sites = {f.split(":", 1)[0] for f in problem.fixed}
        fixed_pairs = {tuple(f.split(":", 1)) for f in problem.fixed if ":" in f}
        holders = set(problem.budgets)

        def keep(row, keys):
            if row.site_id in problem.excluded or row.country not in holders:
                return False
            return keys is None or (row.site_id, row.type) in keys or row.site_id in fixed_sites

        self.okeys = [(r.site_id, r.type) for r in problem.obstacle_options.itertuples()
                      if keep(r, obstacle_keys)]
        self.skeys = [(r.site_id, r.type) for r in problem.sensor_options.itertuples()
                      if keep(r, sensor_keys)]
        self.build = []
        for year in range(years):
            tag = "" if years == 1 else f"b{year}_"
            xs = self.prob.add_variable_dicts(f"{tag}x", list(range(len(self.okeys))), 0, 1,
                                              cat="Binary")
            ys = self.prob.add_variable_dicts(f"{tag}y", list(range(len(self.skeys))), 0, 1,
                                              cat="Binary")
            self.build.append({**{k: xs[i] for i, k in enumerate(self.okeys)},
                               **{k: ys[i] for i, k in enumerate(self.skeys)}})
        self.cost = {**{(r.site_id, r.type): float(r.cost)
                        for r in problem.obstacle_options.itertuples()},
                     **{(r.site_id, r.type): float(r.cost)
                        for r in problem.sensor_options.itertuples()}}
        self.country = {**{(r.site_id, r.type): r.country
                           for r in problem.obstacle_options.itertuples()},
                        **{(r.site_id, r.type): r.country
                           for r in problem.sensor_options.itertuples()}}
        self.fixed_keys = set()
        # built at most once over the years, one type per site
        ever = {k: pulp.lpSum(self.build[y][k] for y in range(years))
                for k in self.okeys + self.skeys}
        if years > 1:
            for expr in ever.values():
                self._add(expr <= 1, f"once_{len(self.constraints)}")
        for name, keys in (("one_obstacle", self.okeys), ("one_sensor", self.skeys)):
            by_site = defaultdict(list)
            for key in keys:
                by_site[key[0]].append(key)
            for site, group in by_site.items():
                if site in fixed_sites and not any(p[0] == site for p in fixed_pairs):
                    # already built (before year 1): sunk cost
                    self._add(pulp.lpSum(self.build[0][k] for k in group) == 1,
                              f"fixed_{name}_{len(self.constraints)}")
                    self.fixed_keys |= set(group)
                elif len(group) > 1:
                    self._add(pulp.lpSum(ever[k] for k in group) <= 1,
                              f"{name}_{len(self.constraints)}")
        for pair in fixed_pairs:
            if pair in self.build[0]:
                self.build[0][pair].lowBound = 1
                self.fixed_keys.add(pair)
        self._budgets(mode, annual_budgets, carry_over)
        for kind, limit in problem.max_per_type.items():
            group = [ever[k] for k in ever if k[1] == kind]
            if group:
                self._add(pulp.lpSum(group) <= limit, f"max_{kind}")
        if years == 1:
            self.x = {k: self.build[0][k] for k in self.okeys}
            self.y = {k: self.build[0][k] for k in self.skeys}
            self.z = self._observation(self.x, self.y, "")
            self.views = [self]
        else:
            self.views = [YearView(self, year) for year in range(years)]

    def _observation(self, x: dict, y: dict, prefix: str) -> dict:
        """z <= x and z <= sum of sensors observing the site (where observation matters)."""
        observers = defaultdict(list)
        for key, sites in self.network.observes.items():
            if key in y:
                for site in sites:
                    observers[site].append(y[key])
        z = {}
        for key, var in x.items():
            option = self.network.options[key]
            if option.blocks or option.delay_observed_min == option.delay_unobserved_min:
                continue
            if not observers.get(key[0]):
                continue
            zk = self.prob.add_variable(f"{prefix}z_{len(z)}", 0, 1)
            z[key] = zk
            self._add(zk <= var, f"{prefix}obs_x_{len(self.constraints)}")
            self._add(zk <= pulp.lpSum(observers[key[0]]), f"{prefix}obs_y_{len(self.constraints)}")
        return z

    def _add(self, constraint, name: str) -> None:
        self.prob += constraint, name
        self.constraints[name] = constraint

    def add(self, constraint, prefix: str) -> None:
        """Add a constraint under a fresh name starting with ``prefix``."""
        self._add(constraint, f"{prefix}_{len(self.constraints)}")

    def spend_expression(self, holders: set[str] | None = None, years=None):
        """Cost of the non-fixed options (fixed sites are already built: sunk cost)."""
        years = range(self.years) if years is None else years
        return pulp.lpSum(self.cost[k] * self.build[y][k] for y in years for k in self.build[y]
                          if k not in self.fixed_keys
                          and (holders is None or self.country[k] in holders))

    def _budgets(self, mode: str, annual: dict[str, list[float]] | None, carry_over: bool) -> None:
        budgets = self.problem.budgets
        if self.years == 1:
            if mode == "pooled":
                self._add(self.spend_expression() <= sum(budgets.values()), "budget_pooled")
            else:
                for holder, budget in sorted(budgets.items()):
                    self._add(self.spend_expression({holder}) <= budget, f"budget_{holder}")
            return
        groups = ([(None, [sum(annual[h][y] for h in annual) for y in range(self.years)])]
                  if mode == "pooled" else [({h}, annual[h]) for h in sorted(annual)])
        for holders, amounts in groups:
            label = "pooled" if holders is None else next(iter(holders))
            for year in range(self.years):
                years = range(year + 1) if carry_over else [year]
                limit = sum(amounts[y] for y in years)
                self._add(self.spend_expression(holders, years) <= limit,
                          f"budget_{label}_year{year + 1}")

    def choice(self, year: int | None = None) -> Choice:
        """The plan built by ``year`` (default: the last) in the master's current solution."""
        year = self.years - 1 if year is None else year
        built = {k for y in range(year + 1) for k, v in self.build[y].items()
                 if (v.varValue or 0.0) > 0.5}
        obstacles = {s: t for (s, t) in self.okeys if (s, t) in built}
        sensors = frozenset(k for k in self.skeys if k in built)
        return Choice(obstacles, sensors)

    def build_years(self) -> dict[tuple[str, str], int]:
        """Option -> year it is built in (1-based) in the current solution."""
        return {k: y + 1 for y in range(self.years) for k, v in self.build[y].items()
                if (v.varValue or 0.0) > 0.5}

    def route_terms(self, route: list[int]):
        return route_terms(self.network, self.x, route)
