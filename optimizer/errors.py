"""Exceptions raised by the package.

They subclass built-ins so that callers' ``except ValueError`` keeps working,
and an :class:`InputError` carries *every* problem found, not just the first.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem with the inputs: where it is, what is wrong and how to fix it."""

    where: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        return f"{text} -> fix: {self.fix}" if self.fix else text


class InputError(ValueError):
    """The scenario file or an input layer is invalid; ``problems`` lists all issues."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} input problem(s):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class SolverError(RuntimeError):
    """The solver could not be set up or run (unknown name, bad option, missing binary)."""


class PlanStatusError(RuntimeError):
    """Raised by ``Plan.raise_for_status`` when a plan is not proven optimal."""


def is_number(value: object) -> bool:
    """A real number for a validator: not a boolean, not NaN (infinity passes)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and not math.isnan(value)


def is_whole(value: object) -> bool:
    """A whole number for a validator: not a boolean."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class Problems:
    """Collector used by validators: add problems, then raise them all at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, where: str, message: str, fix: str = "") -> None:
        self.items.append(Problem(where, message, fix))

    def extend(self, other: Problems) -> None:
        self.items.extend(other.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)
