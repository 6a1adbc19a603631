"""Comparing a rendering with its golden file, or rewriting the file under ``--update-goldens``."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest


def compare_golden(actual: str, expected_path: Path, *, update: bool, what: str) -> None:
    """Fail with a unified diff when `actual` differs from `expected_path` (`what` names the case
    in the message); with `update`, write `actual` there instead."""
    shown = f"{expected_path.parent.parent.name}/{expected_path.parent.name}/{expected_path.name}"
    if update:
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_text(actual, encoding="utf-8")
        return
    if not expected_path.exists():
        pytest.fail(f"no expected file {shown}; run pytest --update-goldens and review it")
    expected = expected_path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=shown.split("/", 1)[1],
                tofile="actual",
            )
        )
        pytest.fail(
            f"{what} changed; if the change is right, run pytest --update-goldens and review the diff:\n{diff}",
            pytrace=False,
        )
