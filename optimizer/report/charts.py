"""PNG charts of a comparison: Pareto curve, spend per holder, marginal value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def _save(fig, path: Path, *, note: str = "") -> Path:
    if note:  # wrapped to the figure's width, below the axes
        text = textwrap.fill(note, 150)
        fig.text(0.01, 0.01, text, fontsize=6, color="#444444", va="bottom")
        fig.tight_layout(rect=(0, 0.025 * (text.count("\n") + 1) + 0.01, 1, 1))
    else:
        fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def pareto_chart(pareto: pd.DataFrame, path: Path, *, note: str = "") -> Path | None:
    if pareto.empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for (sweep, mode), group in pareto.groupby(["sweep", "mode"]):
        ok = group[group["status"].isin(["optimal", "feasible"])].sort_values("total_budget_eur")
        ax.plot(ok["total_budget_eur"] / 1e6, ok["blocked_weight"], marker="o",
                label=f"{sweep} ({mode})")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("total budget (M EUR, symlog)")
    ax.set_ylabel("blocked weight")
    ax.set_title("Pareto curve: blocked weight against budget")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path, note=note)


def spend_chart(rows: pd.DataFrame, path: Path, *, scenarios: list[str]) -> Path | None:
    table = rows[rows["scenario"].isin(scenarios) & rows["holder"].ne("")]
    if table.empty or "spend_eur" not in table:
        return None
    pivot = table.pivot_table(index="scenario", columns="holder", values="spend_eur",
                              aggfunc="sum").reindex(scenarios) / 1e6
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    pivot.plot.bar(stacked=True, ax=ax)
    ax.set_ylabel("spend (M EUR)")
    ax.set_title("Spend per holder")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def marginal_chart(rows: pd.DataFrame, path: Path, *, column: str,
                   scenarios: list[str]) -> Path | None:
    if column not in rows:
        return None
    table = rows[rows["scenario"].isin(scenarios) & rows[column].notna()]
    if table.empty:
        return None
    pivot = table.pivot_table(index="scenario", columns="holder", values=column).reindex(
        [s for s in scenarios if s in set(table["scenario"])])
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    pivot.plot.bar(ax=ax)
    if not pivot.fillna(0).to_numpy().any():  # bars of height 0 are invisible: say so
        ax.text(0.5, 0.5, "0 for every holder and scenario:\nthe next increment blocks no more weight",
                transform=ax.transAxes, ha="center", va="center", fontsize=10, color="#444444")
    ax.set_ylabel(f"extra blocked weight ({column.replace('_', ' ')})")
    ax.set_title("Marginal value of the next budget increment, per holder")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def shares_chart(shares: pd.DataFrame, path: Path) -> Path | None:
    """Shapley share of value next to standalone value; fair cost next to actual spend."""
    if shares.empty:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4), dpi=110)
    shares.set_index("country")[["standalone_value", "shapley_value_share"]].plot.bar(ax=left)
    left.set_title("Blocked weight: alone vs Shapley share")
    left.grid(axis="y", alpha=0.3)
    (shares.set_index("country")[["actual_spend_eur", "fair_cost_eur"]] / 1e6).plot.bar(ax=right)
    right.set_title("Cost (M EUR): actual spend vs fair share")
    right.grid(axis="y", alpha=0.3)
    return _save(fig, path)
