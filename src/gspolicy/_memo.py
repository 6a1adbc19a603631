"""A small bounded, thread-safe memo for results that depend only on a file's bytes.

Reading and checking a pack or a schema is pure: the same bytes (under the same name, against
the same schema) give the same immutable result.  Keeping those results lets a process that
loads a policy set again — the command line run twice in one process, a test suite, `diff`
loading two roots that share most packs — skip the YAML parse and the checks.  The least
recently used entries are dropped past the size given, so memory stays bounded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["Memo"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class Memo(Generic[_K, _V]):
    """A least-recently-used map of at most `size` entries, safe to share between threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: _K, value: _V) -> _V:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
