"""The log's chain: canonical JSON and hashes, an entry's hashed and stored columns, `Entry`.

`Reader` reads a stored entry back: it decompresses its record and outcome and reads its context
by hash.  See `gspolicy.store.log` for the format and what the chain proves."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import attrs
import orjson
import zstandard

from gspolicy._i18n import Text
from gspolicy._numbers import decimal_json
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.schema.model import Record

__all__ = [
    "GENESIS",
    "HASHED",
    "INSERT",
    "SELECT",
    "STORED",
    "Context",
    "Entry",
    "EntryKind",
    "Reader",
    "canonical_json",
    "context_from",
    "record_json",
    "row_json",
    "sha256",
    "sha256_bytes",
]

GENESIS = "sha256:" + "0" * (2 * hashlib.sha256().digest_size)
"""The previous hash of the first entry."""

_SORTED = orjson.OPT_SORT_KEYS


def canonical_json(value: object) -> str:
    """JSON with sorted keys, no whitespace, non-ASCII kept: one text for one value."""
    return orjson.dumps(value, option=_SORTED).decode("utf-8")


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


_NUMBERS: dict[Decimal, int | float] = {}
"""Decimals already written (by value): a registry repeats few thousand distinct amounts."""
_NUMBERS_HELD = 65_536


def _number(value: Decimal) -> object:
    """`Record.to_data`'s plain value of a decimal: an integer when whole, else a float when the
    float prints back as the same decimal, else text.  The first two depend only on the value
    (equal decimals give the same), so they are kept; the text keeps the decimal's own digits."""
    found = _NUMBERS.get(value)
    if found is not None:
        return found
    plain = decimal_json(value)
    if isinstance(plain, str):
        return plain  # the decimal's own digits: not kept (equal decimals may differ in text)
    if len(_NUMBERS) >= _NUMBERS_HELD:
        _NUMBERS.clear()
    _NUMBERS[value] = plain
    return plain


def _plain(value: object) -> object:
    """`Record.to_data`'s plain value of what orjson cannot write itself (a nested record's
    fields, a decimal, a set); dates and tuples orjson writes as `to_data` does."""
    kind = type(value)
    if kind is Decimal:
        return _number(value)  # type: ignore[arg-type]
    if kind is Record:
        return value.values_dict()  # type: ignore[attr-defined]
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, Record):
        return value.values_dict()
    if isinstance(value, frozenset):
        return sorted(value)
    raise TypeError(kind.__name__)


def record_json(record: Record) -> bytes:
    """The record's canonical JSON (UTF-8): ``canonical_json(record.to_data())``, written in one
    pass without building the plain data first."""
    return orjson.dumps(record.values_dict(), default=_plain, option=_SORTED)


def _row_value(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def row_json(row: Mapping[str, Any]) -> bytes:
    """An outcome row's canonical JSON (UTF-8): dates as ISO text, whether the row came from
    `Outcome.to_row()` (text) or from an outcome table (dates)."""
    return orjson.dumps(dict(row), default=_row_value, option=_SORTED)


EntryKind = Literal["decision", "run"]

HASHED = (
    "id",
    "prev_hash",
    "kind",
    "household",
    "verdict",
    "as_of",
    "context",
    "record_hash",
    "outcome_hash",
    "manifest",
    "recorded_at",
)
"""The columns an entry's hash covers (the record and outcome by their hashes)."""


def _entry_hash(values: Mapping[str, object]) -> str:
    return sha256_bytes(orjson.dumps({k: values[k] for k in HASHED}, option=_SORTED))


@attrs.frozen
class Context:
    """What an entry was decided with: stored once per policy set and actor, named by hash."""

    packs: tuple[dict[str, str], ...]  # every pack version: hash, id, version, content_hash[, approval]
    schema_hash: str
    exit_pack: str
    actor: str
    library_version: str

    def to_json(self) -> dict[str, object]:
        return {
            "packs": list(self.packs),
            "schema": self.schema_hash,
            "exit_pack": self.exit_pack,
            "actor": self.actor,
            "library_version": self.library_version,
        }


def context_from(text: str) -> Context:
    """Parse a stored context (raises ValueError when it is not one)."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    packs = data.get("packs")
    keys = {"hash", "id", "version", "content_hash"}
    if not isinstance(packs, list) or not all(
        isinstance(p, dict) and keys <= set(p) and all(isinstance(v, str) for v in p.values()) for p in packs
    ):
        raise ValueError("not a list of pack references")
    fields = [data.get(k) for k in ("schema", "exit_pack", "actor", "library_version")]
    if not all(isinstance(f, str) for f in fields):
        raise ValueError("a field is missing")
    return Context(tuple(packs), *(str(f) for f in fields))


@attrs.frozen
class Entry:
    """One stored entry: its hashed columns as stored, the record and outcome decompressed
    (None for a run entry, or when they cannot be read), and its context's stored text."""

    id: int
    prev_hash: str
    hash: str
    kind: str
    household: str | None
    verdict: str | None
    as_of: str
    context: str
    record_hash: str | None
    outcome_hash: str | None
    manifest: str | None
    recorded_at: str
    record: str | None = None
    outcome: str | None = None
    context_text: str | None = None

    def payload(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in HASHED}

    def computed_hash(self) -> str:
        """The hash the entry's stored content gives (equal to `hash` when untouched)."""
        return _entry_hash(self.payload())

    def damage(self) -> Text | None:
        """What is wrong with the entry as stored, found without the rest of the log: its hashed
        columns that do not give its hash, a record or outcome that is missing, does not
        decompress or does not give its hash (None: nothing)."""
        try:
            if self.computed_hash() != self.hash:
                return Text(zh="条目内容与其哈希不符", en="the entry's content does not give its hash")
        except TypeError:
            return Text(zh="条目的列无法计算哈希", en="a column of the entry cannot be hashed")
        if self.kind != "decision":
            return None
        for name, text, digest in (
            ("record", self.record, self.record_hash),
            ("outcome", self.outcome, self.outcome_hash),
        ):
            if text is None:
                return Text(
                    zh=f"保存的 {name} 缺失或无法解压",
                    en=f"its stored {name} is missing or does not decompress",
                )
            if sha256(text) != digest:
                return Text(zh=f"保存的 {name} 与其哈希不符", en=f"its stored {name} does not give its hash")
        return None

    def record_data(self) -> dict[str, Any]:
        return self._json("record", dict)  # type: ignore[no-any-return]

    def outcome_data(self) -> dict[str, Any]:
        """The outcome row (`Outcome.to_row()`: the columns of an outcome table)."""
        return self._json("outcome", dict)  # type: ignore[no-any-return]

    def manifest_data(self) -> dict[str, Any]:
        return self._json("manifest", dict)  # type: ignore[no-any-return]

    def context_data(self) -> Context:
        if self.context_text is None:
            raise self.damaged("context", Text(zh="找不到保存的上下文", en="its stored context is missing"))
        try:
            return context_from(self.context_text)
        except ValueError as err:
            raise self.damaged("context", Text(zh=f"无法读取：{err}", en=f"unreadable: {err}")) from None

    @property
    def actor(self) -> str:
        return self.context_data().actor

    @property
    def library_version(self) -> str:
        return self.context_data().library_version

    @property
    def schema_hash(self) -> str:
        return self.context_data().schema_hash

    def pack_list(self) -> list[dict[str, str]]:
        return list(self.context_data().packs)

    def as_of_date(self) -> dt.date:
        try:
            return dt.date.fromisoformat(self.as_of)
        except ValueError:
            shown = self.as_of[:40]
            raise self.damaged(
                "as_of", Text(zh=f"`{shown}` 不是日期", en=f"`{shown}` is not a date")
            ) from None

    def _json(self, column: str, kind: type) -> Any:
        text = getattr(self, column)
        if text is None:
            raise self.damaged(column, Text(zh="没有内容或无法解压", en="absent, or it does not decompress"))
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise self.damaged(column, Text(zh="不是 JSON", en="not JSON")) from None
        if not isinstance(data, kind):
            raise self.damaged(column, Text(zh="不是 JSON 对象", en="not a JSON object"))
        return data

    def damaged(self, column: str, problem: Text) -> PolicyError:
        """The error for a stored column that cannot be read (a damaged log)."""
        return PolicyError(
            [Diagnostic("store/damaged-entry", None, {"id": self.id, "column": column, "problem": problem})]
        )


STORED = ("id", "prev_hash", "hash", *HASHED[2:], "record", "outcome", "dictionary")
SELECT = "SELECT " + ", ".join(STORED) + " FROM entries"
INSERT = f"INSERT INTO entries ({', '.join(STORED)}) VALUES ({', '.join('?' * len(STORED))})"


class Reader:
    """Decompresses stored records and outcomes, one decompressor per dictionary, and reads the
    stored contexts and pack texts by hash (each checked against its hash once)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._decompressors: dict[int | None, zstandard.ZstdDecompressor | None] = {}
        self._blobs: dict[str, str | None] = {}

    def text(self, data: object, dictionary: object) -> str | None:
        """The stored text of a compressed column, or None when it cannot be read."""
        if not isinstance(data, bytes):
            return None
        key = dictionary if isinstance(dictionary, int) and not isinstance(dictionary, bool) else None
        if dictionary is not None and key is None:
            return None
        if key not in self._decompressors:
            self._decompressors[key] = self._decompressor(key)
        found = self._decompressors[key]
        if found is None:
            return None
        try:
            return found.decompress(data).decode("utf-8")
        except (zstandard.ZstdError, UnicodeDecodeError, ValueError):
            return None

    def _decompressor(self, key: int | None) -> zstandard.ZstdDecompressor | None:
        if key is None:
            return zstandard.ZstdDecompressor()
        row = self._conn.execute("SELECT hash, data FROM dictionaries WHERE id = ?", (key,)).fetchone()
        if row is None or not isinstance(row[1], bytes) or sha256_bytes(row[1]) != row[0]:
            return None
        try:
            return zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(row[1]))
        except zstandard.ZstdError:
            return None

    def blob(self, h: str) -> str | None:
        """A stored text by its hash, None when it is missing or does not give its hash."""
        if h not in self._blobs:
            row = self._conn.execute("SELECT text FROM blobs WHERE hash = ?", (h,)).fetchone()
            ok = row is not None and isinstance(row[0], str) and sha256(row[0]) == h
            self._blobs[h] = str(row[0]) if ok else None
        return self._blobs[h]

    def entry(self, row: Sequence[Any]) -> Entry:
        values = dict(zip(STORED, row, strict=True))
        dictionary = values.pop("dictionary")
        record, outcome = values.pop("record"), values.pop("outcome")
        context = values["context"]
        return Entry(
            **values,
            record=None if record is None else self.text(record, dictionary),
            outcome=None if outcome is None else self.text(outcome, dictionary),
            context_text=self.blob(context) if isinstance(context, str) else None,
        )
