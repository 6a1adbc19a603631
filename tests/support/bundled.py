"""The bundled policy set and the example registry, loaded once for the whole test run.

Tests that only read them share these (through the session fixtures ``bundled`` and
``registry`` of ``tests/conftest.py``, or these functions where a module needs them at import
time, e.g. to build a strategy).  A test that changes packs or records loads its own copy.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from gspolicy.api import Policies, load_households, load_policies
from gspolicy.schema.model import Record

__all__ = ["REGISTRY", "shared_policies", "shared_registry"]

REGISTRY = Path(__file__).resolve().parents[2] / "examples" / "registry"


@cache
def shared_policies() -> Policies:
    """The bundled policy set (loaded once; `Policies` is immutable)."""
    return load_policies()


@cache
def shared_registry() -> tuple[Record, ...]:
    """The 3,000 households of the example registry, validated (once)."""
    return load_households(REGISTRY / "households.jsonl", policies=shared_policies())
