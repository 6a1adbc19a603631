"""The fuzz suite: small budgets here, the long campaign under ``GSPOLICY_FUZZ=long`` (harness.py)."""

from __future__ import annotations

import pytest

from fuzz.harness import write_report


def pytest_sessionfinish(session: pytest.Session) -> None:
    write_report()
