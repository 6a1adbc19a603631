"""Pausing the cyclic garbage collector while large acyclic structures are built.

Reading a big YAML document or a record file allocates millions of small objects that all stay
alive; every full collection meanwhile walks all of them again, which made reading take two to
three times as long.  What these readers build holds no reference cycles, so nothing is lost by
collecting once afterwards instead.  Nested and concurrent pauses are counted: the collector comes
back when the last one ends, and only if it was on before the first.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["collector_paused"]


class _Pauses:
    """How many pauses are open, and whether the collector was on before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = False


_PAUSES = _Pauses()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off inside the block."""
    pauses = _PAUSES
    with pauses.lock:
        if pauses.depth == 0:
            pauses.was_enabled = gc.isenabled()
            gc.disable()
        pauses.depth += 1
    try:
        yield
    finally:
        with pauses.lock:
            pauses.depth -= 1
            if pauses.depth == 0 and pauses.was_enabled:
                gc.enable()
