"""Barrier and sensor placement under national budgets against a re-routing attacker."""

__version__ = "0.1.0"
