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

from __future__ import annotations

import importlib
import logging as _logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gspolicy.api import Policies, load_households, load_policies, load_records
    from gspolicy.engine.outcome import Outcome
    from gspolicy.errors import Diagnostic, GspolicyError, HouseholdError, PolicyError, Severity
    from gspolicy.explain.areas import AreaDecision, AreaResult
    from gspolicy.explain.decision import Decision, Detail
    from gspolicy.schema.model import Record

__version__ = "0.1.0"

# each name is imported on first use (PEP 562), so that `import gspolicy.cli` for `gspolicy
# --help` does not load the engine: the module each name comes from
_SOURCES = {
    "AreaDecision": "gspolicy.explain.areas",
    "AreaResult": "gspolicy.explain.areas",
    "Decision": "gspolicy.explain.decision",
    "Detail": "gspolicy.explain.decision",
    "Diagnostic": "gspolicy.errors",
    "GspolicyError": "gspolicy.errors",
    "HouseholdError": "gspolicy.errors",
    "Outcome": "gspolicy.engine.outcome",
    "Policies": "gspolicy.api",
    "PolicyError": "gspolicy.errors",
    "Record": "gspolicy.schema.model",
    "Severity": "gspolicy.errors",
    "load_households": "gspolicy.api",
    "load_policies": "gspolicy.api",
    "load_records": "gspolicy.api",
}

# the library's log, logger `gspolicy` (docs/reference/api.md, "Logging"): silent until the
# application configures logging; the root logger is never touched
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

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


def __getattr__(name: str) -> object:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'gspolicy' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
