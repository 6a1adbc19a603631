"""Where the bundled policies live: inside the installed package, or in a source checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_policies", "bundled_schema_path"]


def bundled_policies() -> Path:
    """The folder of bundled policies.

    An installed wheel carries them as ``gspolicy/policies``; a source checkout (an editable
    install, or ``PYTHONPATH=src``) reads the repository's top-level ``policies/`` folder.
    """
    inside = Path(__file__).resolve().parent / "policies"
    if inside.is_dir():
        return inside
    return Path(__file__).resolve().parents[2] / "policies"


def bundled_schema_path() -> Path:
    return bundled_policies() / "schema" / "household.yaml"
