"""The public surface is small, sorted and pinned: any change is a visible diff here."""

import gspolicy

PINNED = [
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


def test_all_is_sorted_and_pinned() -> None:
    assert gspolicy.__all__ == sorted(gspolicy.__all__)
    assert gspolicy.__all__ == PINNED


def test_every_name_exists() -> None:
    for name in gspolicy.__all__:
        assert hasattr(gspolicy, name), name


def test_errors_subclass_builtins() -> None:
    assert issubclass(gspolicy.PolicyError, ValueError)
    assert issubclass(gspolicy.HouseholdError, gspolicy.PolicyError)
    assert issubclass(gspolicy.PolicyError, gspolicy.GspolicyError)
