"""A progress line on stderr for long runs: shown only when stderr is a terminal and the run has
taken more than a second (a short run, a pipe or a log file sees nothing); drawn by rich."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, TextIO

__all__ = ["Progress"]

DELAY = 1.0
"""Seconds a run takes before its progress is shown."""


class Progress:
    """Counts households as blocks of them are decided (`advance`)."""

    def __init__(self, out: TextIO, label: str) -> None:
        self.out = out
        self.label = label
        self.started = time.monotonic()
        self.done = 0
        self.shown: Any = None  # rich's live display, once shown
        self.task: Any = None
        self.enabled = bool(getattr(out, "isatty", lambda: False)())

    def advance(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        if self.shown is None:
            if time.monotonic() - self.started < DELAY:
                return
            from rich.console import Console  # noqa: PLC0415  # only when shown
            from rich.progress import Progress as Bar  # noqa: PLC0415
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn  # noqa: PLC0415

            console = Console(file=self.out, force_terminal=True)
            self.shown = Bar(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.shown.start()
            self.task = self.shown.add_task(self.label, total=None)
        self.shown.update(self.task, completed=self.done)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.shown is not None:
            self.shown.stop()
