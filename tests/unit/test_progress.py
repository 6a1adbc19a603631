"""The progress line: only on a terminal, only after a second, gone when the run ends."""

from __future__ import annotations

import io

import pytest

from gspolicy.cli import _progress
from gspolicy.cli._progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_count_once_a_second_has_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _Terminal()
    with Progress(out, "households decided") as progress:
        progress.advance(4096)  # within the first second: nothing yet
        assert out.getvalue() == ""
        monkeypatch.setattr(_progress, "DELAY", 0.0)
        progress.advance(4096)
        assert progress.shown is not None
    assert "households decided" in out.getvalue()
    assert "8,192" in out.getvalue()


def test_a_pipe_or_a_file_sees_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_progress, "DELAY", 0.0)
    out = io.StringIO()
    with Progress(out, "households decided") as progress:
        progress.advance(10)
    assert out.getvalue() == ""
    assert progress.done == 10
