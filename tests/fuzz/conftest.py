"""The fuzz suite: small budgets here, the long campaign under ``GSPOLICY_FUZZ=long`` (harness.py)."""

from __future__ import annotations

import pytest

from fuzz.harness import write_report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fuzz searches (Hypothesis tests) belong to the full suite: the quick loop
    (``-m "not slow"``) keeps only the regression tests of what they found."""
    for item in items:
        in_fuzz = "/fuzz/" in item.nodeid.replace("\\", "/") or item.nodeid.startswith("fuzz/")
        if in_fuzz and getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)


def pytest_sessionfinish(session: pytest.Session) -> None:
    write_report()
