"""Plan variables, site rules and budgets shared by every objective.

Variables
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
"""

from __future__ import annotations

from collections import defaultdict

import pulp

from optimizer.attacker import Choice, Network
from optimizer.problem import Problem


class Master:
    """The PuLP master problem; constraint families add to it round by round."""

    def __init__(self, problem: Problem, network: Network, *, mode: str,
                 obstacle_keys: set[tuple[str, str]] | None = None,
                 sensor_keys: set[tuple[str, str]] | None = None):
        self.problem = problem
        self.network = network
        self.prob = pulp.LpProblem("master", pulp.LpMaximize)
        self.constraints: dict[str, pulp.LpConstraint] = {}
        fixed_sites = {f.split(":", 1)[0] for f in problem.fixed}
        fixed_pairs = {tuple(f.split(":", 1)) for f in problem.fixed if ":" in f}
        holders = set(problem.budgets)

        def keep(row, keys):
            if row.site_id in problem.excluded or row.country not in holders:
                return False
            return keys is None or (row.site_id, row.type) in keys or row.site_id in fixed_sites

        okeys = [(r.site_id, r.type) for r in problem.obstacle_options.itertuples()
                 if keep(r, obstacle_keys)]
        skeys = [(r.site_id, r.type) for r in problem.sensor_options.itertuples()
                 if keep(r, sensor_keys)]
        xs = self.prob.add_variable_dicts("x", list(range(len(okeys))), 0, 1, cat="Binary")
        ys = self.prob.add_variable_dicts("y", list(range(len(skeys))), 0, 1, cat="Binary")
        self.x = {k: xs[i] for i, k in enumerate(okeys)}
        self.y = {k: ys[i] for i, k in enumerate(skeys)}
        self.cost = {**{(r.site_id, r.type): float(r.cost)
                        for r in problem.obstacle_options.itertuples()},
                     **{(r.site_id, r.type): float(r.cost)
                        for r in problem.sensor_options.itertuples()}}
        self.country = {**{(r.site_id, r.type): r.country
                           for r in problem.obstacle_options.itertuples()},
                        **{(r.site_id, r.type): r.country
                           for r in problem.sensor_options.itertuples()}}
        self.fixed_keys = set()
        # one type per site
        for name, variables in (("one_obstacle", self.x), ("one_sensor", self.y)):
            by_site = defaultdict(list)
            for (site, _), var in variables.items():
                by_site[site].append(var)
            for site, group in by_site.items():
                if site in fixed_sites and not any(p[0] == site for p in fixed_pairs):
                    self._add(pulp.lpSum(group) == 1, f"fixed_{name}_{len(self.constraints)}")
                    self.fixed_keys |= {k for k in variables if k[0] == site}
                elif len(group) > 1:
                    self._add(pulp.lpSum(group) <= 1, f"{name}_{len(self.constraints)}")
        for pair in fixed_pairs:
            var = self.x.get(pair) or self.y.get(pair)
            if var is not None:
                var.lowBound = 1
                self.fixed_keys.add(pair)
        # observation: z <= x and z <= sum of sensors observing the site
        observers = defaultdict(list)
        for key, sites in network.observes.items():
            if key in self.y:
                for site in sites:
                    observers[site].append(self.y[key])
        self.z = {}
        for key, var in self.x.items():
            option = network.options[key]
            if option.blocks or option.delay_observed_min == option.delay_unobserved_min:
                continue
            if not observers.get(key[0]):
                continue
            z = self.prob.add_variable(f"z_{len(self.z)}", 0, 1)
            self.z[key] = z
            self._add(z <= var, f"obs_x_{len(self.constraints)}")
            self._add(z <= pulp.lpSum(observers[key[0]]), f"obs_y_{len(self.constraints)}")
        self._budgets(mode)
        for kind, limit in problem.max_per_type.items():
            group = [v for (s, t), v in {**self.x, **self.y}.items() if t == kind]
            if group:
                self._add(pulp.lpSum(group) <= limit, f"max_{kind}")

    def _add(self, constraint, name: str) -> None:
        self.prob += constraint, name
        self.constraints[name] = constraint

    def add(self, constraint, prefix: str) -> None:
        """Add a constraint under a fresh name starting with ``prefix``."""
        self._add(constraint, f"{prefix}_{len(self.constraints)}")

    def spend_expression(self, holders: set[str] | None = None):
        """Cost of the non-fixed options (fixed sites are already built: sunk cost)."""
        return pulp.lpSum(self.cost[k] * v for k, v in {**self.x, **self.y}.items()
                          if k not in self.fixed_keys
                          and (holders is None or self.country[k] in holders))

    def _budgets(self, mode: str) -> None:
        budgets = self.problem.budgets
        if mode == "pooled":
            self._add(self.spend_expression() <= sum(budgets.values()), "budget_pooled")
        else:
            for holder, budget in sorted(budgets.items()):
                expr = self.spend_expression({holder})
                self._add(expr <= budget, f"budget_{holder}")

    def choice(self) -> Choice:
        """The plan in the master's current solution (binaries thresholded at 0.5)."""
        obstacles = {s: t for (s, t), v in self.x.items() if (v.varValue or 0.0) > 0.5}
        sensors = frozenset(k for k, v in self.y.items() if (v.varValue or 0.0) > 0.5)
        return Choice(obstacles, sensors)

    def route_terms(self, route: list[int]):
        """Obstacle options on a route with the number of route edges each acts on."""
        counts: dict[str, int] = defaultdict(int)
        for e in route:
            for site in self.network.edge_sites.get(e, ()):
                counts[site] += 1
        terms = []
        for site, k in counts.items():
            for key in self.network.site_types.get(site, ()):
                if key in self.x:
                    terms.append((key, k))
        return terms
