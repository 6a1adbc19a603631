"""The policy set a server runs: loaded once, held whole, swapped atomically.

A `Loaded` is one loaded policy set with the content hash of every pack version in it and the
moment it was loaded; a `Holder` keeps the current one and swaps it for a new one on `reload()`
(the server calls it on SIGHUP).  A request reads `holder.current()` once and uses that value
throughout, so a swap in the middle of a request never mixes two sets; a reload that fails keeps
the old set and returns the located problems.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import attrs

from gspolicy.api import Policies
from gspolicy.errors import Diagnostic
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.workspace import PolicyChoice, choose

__all__ = ["Holder", "Loaded"]


def _frozen_hashes(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(sorted(value.items())))


@attrs.frozen
class Loaded:
    """One loaded policy set: the set, the content hash of each pack version in it (keyed
    ``id@version``, sorted), and when it was loaded (UTC)."""

    policy_set: PolicySet
    hashes: Mapping[str, str] = attrs.field(converter=_frozen_hashes)
    loaded_at: dt.datetime

    @classmethod
    def of(cls, policy_set: PolicySet, *, loaded_at: dt.datetime | None = None) -> Loaded:
        """The set with its hashes read from its packs; `loaded_at` defaults to now."""
        return cls(
            policy_set,
            {pack.key: pack.content_hash for pack in policy_set.packs},
            loaded_at or dt.datetime.now(dt.UTC),
        )

    @property
    def set_hash(self) -> str:
        """One hash for the whole set (schema and every pack version): `PolicySet.content_hash`."""
        return self.policy_set.content_hash

    @property
    def policies(self) -> Policies:
        """The set behind the library's API (`Policies.decide`, `.evaluate`, `.evaluate_areas`)."""
        return Policies(self.policy_set)


class Holder:
    """The current `Loaded`, read by every request and swapped whole by `reload`.

    Reading is a single attribute read (atomic in Python); reloads are serialised by a lock so
    that two signals in quick succession load one after the other.
    """

    def __init__(self, choice: PolicyChoice, loaded: Loaded) -> None:
        self._choice = choice
        self._current = loaded
        self._lock = threading.Lock()

    @classmethod
    def load(cls, paths: Sequence[Path] | None = None) -> tuple[Holder | None, list[Diagnostic]]:
        """Load the policy set chosen as the commands choose it (`paths`, else
        ``GSPOLICY_POLICIES``, a local ``policies/``, the bundled set): the holder, or None with
        the problems when it does not load."""
        choice = choose(list(paths) if paths else None)
        policy_set, problems = load_policies(list(choice.roots))
        if policy_set is None:
            return None, [d for d in problems if d.is_error]
        return cls(choice, Loaded.of(policy_set)), problems

    @property
    def choice(self) -> PolicyChoice:
        """The policy roots this holder loads from, and how they were chosen."""
        return self._choice

    def current(self) -> Loaded:
        """The set in use now; read it once per request."""
        return self._current

    def reload(self) -> tuple[Loaded, list[Diagnostic]]:
        """Load the set again from the same roots and swap it in.  On failure the old set stays
        and the errors are returned; the `Loaded` returned is the one current afterwards."""
        with self._lock:
            policy_set, problems = load_policies(list(self._choice.roots))
            if policy_set is None:
                return self._current, [d for d in problems if d.is_error]
            self._current = Loaded.of(policy_set)
            return self._current, problems
