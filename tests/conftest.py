"""Shared pytest configuration: hypothesis profiles and the `--update-goldens` option.

Profiles: ``dev`` (fast, the default) and ``ci`` (more examples, derandomized so CI never
flakes).  ``ci`` is loaded when the ``CI`` environment variable is set to a true value;
``HYPOTHESIS_PROFILE`` names a profile explicitly and wins over both.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("dev", max_examples=50)
settings.register_profile("ci", derandomize=True, max_examples=100, deadline=None, print_blob=True)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _truthy(os.environ.get("CI")) else "dev")
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the expected files of the golden tests (tests/golden/expected/) from the current output",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files (``pytest --update-goldens``)."""
    return bool(request.config.getoption("--update-goldens"))
