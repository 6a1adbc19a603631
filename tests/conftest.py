"""Shared pytest configuration: hypothesis profiles and the `--update-goldens` option.

Profiles: ``dev`` (fast, the default: 20 examples a property, random seeds) and ``ci`` (100
examples, derandomized so CI never flakes; the README's test command runs it).  ``ci`` is loaded when the ``CI`` environment variable is set to a true value;
``HYPOTHESIS_PROFILE`` names a profile explicitly and wins over both.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis import settings

from gspolicy.api import Policies
from gspolicy.schema.model import Record

from support.bundled import shared_policies, shared_registry

# CPU time per test and for the run (the suite's time budget: README, "Contributing")
pytest_plugins = ["support.timing"]

# checked packs are cached across processes (gspolicy._cache): the run, and every process it starts,
# keeps its cache in a folder of its own, never in the user's, and removes it at the end
_CACHE = tempfile.mkdtemp(prefix="gspolicy-test-cache-")
os.environ["GSPOLICY_CACHE"] = _CACHE
os.environ.pop("GSPOLICY_NO_CACHE", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


settings.register_profile("dev", max_examples=20)
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


@pytest.fixture(scope="session")
def bundled() -> Policies:
    """The bundled policy set, loaded once for the run (immutable: tests may share it)."""
    return shared_policies()


@pytest.fixture(scope="session")
def registry() -> tuple[Record, ...]:
    """The example registry's 3,000 households, validated once for the run."""
    return shared_registry()
