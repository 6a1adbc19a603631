"""A policy root to write packs into: `policies/` holding the tiny schema of the pack fixtures,
the working folder its parent (so messages name files as `policies/…`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TINY_SCHEMA = (
    Path(__file__).resolve().parents[2] / "fixtures" / "packs" / "good" / "schema" / "household.yaml"
)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty policy root `policies/` (with the tiny schema), the working folder its parent."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies" / "schema").mkdir(parents=True)
    shutil.copy(TINY_SCHEMA, tmp_path / "policies" / "schema" / "household.yaml")
    return Path("policies")
