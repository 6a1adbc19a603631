"""The policy set: every version of every checked pack, and the household schema they are checked
against — what the loader (`gspolicy.pack.load`) gives and every runner reads."""

from __future__ import annotations

import datetime as dt
import hashlib

import attrs

from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Schema

__all__ = ["PolicySet"]


@attrs.frozen
class PolicySet:
    """A loaded, checked set of packs (every version of each) and the household schema.

    Immutable and safe to share between threads.
    """

    schema: Schema
    packs: tuple[CheckedPack, ...]
    _by_id: dict[str, tuple[CheckedPack, ...]] = attrs.field(init=False, repr=False, eq=False)
    _hash: str = attrs.field(init=False, repr=False, eq=False, default="")

    def __attrs_post_init__(self) -> None:
        index: dict[str, list[CheckedPack]] = {}
        for pack in self.packs:
            index.setdefault(pack.id, []).append(pack)
        by_id = {k: tuple(sorted(v, key=lambda p: p.pack.valid_from)) for k, v in sorted(index.items())}
        object.__setattr__(self, "_by_id", by_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def versions(self, pack_id: str) -> tuple[CheckedPack, ...]:
        """Every version of `pack_id`, oldest first."""
        return self._by_id.get(pack_id, ())

    def in_force(self, pack_id: str, as_of: dt.date) -> CheckedPack | None:
        """The version of `pack_id` in force on `as_of` (None when no version is)."""
        for pack in self.versions(pack_id):
            if pack.pack.in_force(as_of):
                return pack
        return None

    @property
    def content_hash(self) -> str:
        """One hash for the whole set: every pack version's content hash and the schema's text
        (what a run can quote to say which policies it ran)."""
        found = self._hash
        if not found:
            parts = [f"schema {self.schema.id}@{self.schema.version} {self.schema.digest}"]
            parts += sorted(f"{p.key} {p.content_hash}" for p in self.packs)
            found = "sha256:" + hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
            object.__setattr__(self, "_hash", found)
        return found

    def all_in_force(self, as_of: dt.date) -> tuple[CheckedPack, ...]:
        """The versions in force on `as_of` of every pack that decides — a pack of `kind:
        parameters` decides nothing (its values reach decisions through the packs importing them),
        nor does one of `kind: invariants` (it checks decisions: `invariants_in_force`) or of
        `kind: statistics` (it counts decided households: `gspolicy.stats`)."""
        found = (self.in_force(pack_id, as_of) for pack_id in self.ids)
        return tuple(
            p for p in found if p is not None and p.kind not in ("parameters", "invariants", "statistics")
        )

    def invariants_in_force(self, as_of: dt.date, subject: str) -> tuple[CheckedPack, ...]:
        """The packs of `kind: invariants` in force on `as_of` for decisions on `subject`: they
        decide nothing themselves (not among `all_in_force`), they check every decision."""
        found = (self.in_force(pack_id, as_of) for pack_id in self.of_kind("invariants", subject))
        return tuple(p for p in found if p is not None)

    def of_kind(self, kind: str, subject: str | None = None) -> tuple[str, ...]:
        """The ids of the packs of role `kind` (``kind:``), deciding on `subject` when it is
        given, in id order: the engine finds packs by role, never by id."""
        return tuple(
            pack_id
            for pack_id, versions in self._by_id.items()
            if versions[0].kind == kind and (subject is None or versions[0].subject == subject)
        )

    def exit_pack(self, subject: str | None = None) -> str | None:
        """The id of the verdict pack (``kind: exit``) deciding on `subject` (default: the
        schema's root record type), or None when the set has none (a set holds at most one)."""
        found = self.of_kind("exit", subject or self.schema.root)
        return found[0] if found else None
