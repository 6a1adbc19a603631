"""Fixtures shared by the unit tests of several folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gspolicy._resources import bundled_policies


@pytest.fixture
def full_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty policy root `policies/` holding the bundled household schema (its income and
    registration records marked `keeps_retention`), the working folder its parent."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies" / "schema").mkdir(parents=True)
    shutil.copy(bundled_policies() / "schema" / "household.yaml", tmp_path / "policies" / "schema")
    return Path("policies")
