"""gspolicy: Gansu poverty-alleviation policy as versioned, tested, explainable code.

This module is the stable facade: it re-exports a small, sorted set of names and holds no
implementation.  Everything else is internal and may change between releases.
"""

from gspolicy.errors import Diagnostic, GspolicyError, HouseholdError, PolicyError, Severity

__version__ = "0.1.0"

__all__ = [
    "Diagnostic",
    "GspolicyError",
    "HouseholdError",
    "PolicyError",
    "Severity",
    "__version__",
]
