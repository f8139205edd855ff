"""PuLP masters of the covering decomposition: plan variables plus one family per objective.

Every family exposes the same small interface used by :mod:`optimizer.solve` and
:mod:`optimizer.phases`:

``build(master)``
    add its variables and seed constraints; return its objective expression;
``evaluate(effect)``
    the family's exact value for a plan, from the attacker oracle;
``separate(master, choice, effect)``
    add the constraints (routes or cuts) the plan violates; return how many.
"""

from optimizer.models.blocked import BlockedFamily
from optimizer.models.delay import DelayFamily
from optimizer.models.detection import DetectionFamily
from optimizer.models.master import Master
from optimizer.models.throughput import ThroughputFamily

FAMILIES = {
    "blocked": BlockedFamily,
    "delay": DelayFamily,
    "detection": DetectionFamily,
    "throughput": ThroughputFamily,
}

__all__ = ["FAMILIES", "Master", "BlockedFamily", "DelayFamily", "DetectionFamily",
           "ThroughputFamily"]
