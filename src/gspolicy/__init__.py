"""gspolicy: Gansu poverty-alleviation policy as versioned, tested, explainable code.

This module is the stable facade: it re-exports a small, sorted set of names and holds no
implementation.  Everything else is internal and may change between releases.

    >>> import gspolicy
    >>> policies = gspolicy.load_policies()
    >>> households = gspolicy.load_households("examples/households.jsonl", policies=policies)
    >>> decision = policies.evaluate(households[0], as_of="2018-12-31")
    >>> print(decision.render("zh"))
    >>> outcome = policies.decide(households[0], as_of="2018-12-31")   # no trace, no words: fast
    >>> villages = gspolicy.load_records("examples/registry/villages.jsonl", "village", policies=policies)
    >>> areas = policies.evaluate_areas(households, "2018-12-31", villages=villages)
"""

from gspolicy.api import Policies, load_households, load_policies, load_records
from gspolicy.engine.outcome import Outcome
from gspolicy.errors import Diagnostic, GspolicyError, HouseholdError, PolicyError, Severity
from gspolicy.explain.areas import AreaDecision, AreaResult
from gspolicy.explain.decision import Decision, Detail
from gspolicy.schema.model import Record

__version__ = "0.1.0"

__all__ = [
    "AreaDecision",
    "AreaResult",
    "Decision",
    "Detail",
    "Diagnostic",
    "GspolicyError",
    "HouseholdError",
    "Outcome",
    "Policies",
    "PolicyError",
    "Record",
    "Severity",
    "__version__",
    "load_households",
    "load_policies",
    "load_records",
]
