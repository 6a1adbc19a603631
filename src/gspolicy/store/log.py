"""The decision log: every recorded decision, hash-chained, replayable years later.

**Format 2, compact.**  A *decision entry* holds the household record (its canonical JSON) and its
**outcome row** — the row `Outcome.to_row()` gives, the columns of an outcome table — each with its
SHA-256, and stored compressed (zstd, with a dictionary trained on the first block of a run); the
as-of date, the time, and the hash of its **context**: the pack versions and household schema it
was decided with (each stored by hash in the log itself, table ``blobs``, so that it can be
replayed after the files on disk have changed or gone), the exit pack, the actor and the library
version.  The explained decision is not stored: `DecisionLog.replay` derives it again from the
stored record and packs and checks that it gives the stored outcome row.  A *run entry* closes a
batch recorded by `Recorder`: its manifest names the input and output files (size and SHA-256),
the entries of the run and their count per verdict.

**The chain.**  Entry *n* stores the hash of entry *n − 1* (entry 1 stores `GENESIS`), and its
own hash is SHA-256 over the canonical JSON (sorted keys, no whitespace, UTF-8) of its id, that
previous hash and every column of its content (`_HASHED`): the record and outcome by their
hashes, so the hash does not depend on how they are compressed; verifying decompresses each and
checks it.  Changing, deleting, inserting or reordering entries breaks the chain at the first
one touched; `DecisionLog.verify` names it.

**Batches.**  `Recorder` appends entries a batch at a time, each batch in one transaction (group
commit): a crash loses at most the batch in flight, never a committed entry, and a receipt is
handed out only for a committed entry.  A batch that cannot be written (a full disk, a failing
write) is rolled back whole and raises ``store/not-written`` naming its households; the log keeps
the entries before it and still verifies.

**The anchor.**  A chain alone cannot tell a truncated tail from a short log, nor a rewritten
chain from an honest one.  The head is therefore anchored outside the table: in every
`Receipt` handed out (entry id and hash), and in the checkpoint file ``<db>.head``, rewritten
atomically (temporary file, fsync, rename) *inside* each write transaction.  The checkpoint names
the head before the write and the last pending entry; a second short transaction after the
commit promotes it to head.  So a crash at any moment leaves a checkpoint that matches the log,
while a deleted last entry, or an entry appended behind the log's back, does not.

What the chain does *not* prove: who wrote an entry (there is no secret key), nor anything about
a log whose file and checkpoint were rewritten together — only receipts kept elsewhere catch that.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

import attrs
import orjson
import zstandard

from gspolicy._i18n import Lang, Text
from gspolicy.engine.outcome import Outcome, decide_outcome
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import decide
from gspolicy.explain.decision import Decision
from gspolicy.pack.load import check_texts
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.load import schema_from_text
from gspolicy.schema.model import Record
from gspolicy.schema.validate import validate_record
from gspolicy.store.db import connect, damaged, write

_log = logging.getLogger(__name__)

__all__ = [
    "BATCH",
    "GENESIS",
    "Anchor",
    "Context",
    "DecisionLog",
    "Entry",
    "NotWritten",
    "Problem",
    "Receipt",
    "Recorder",
    "ReplayResult",
    "VerifyResult",
    "canonical_json",
    "checkpoint_path",
    "read_anchor",
    "record_json",
    "row_json",
    "sha256",
]

GENESIS = "sha256:" + "0" * (2 * hashlib.sha256().digest_size)
"""The previous hash of the first entry."""

CHECKPOINT_FORMAT = 1

BATCH = 4_096
"""Entries a `Recorder` writes per transaction: a commit (two fsyncs and the checkpoint's) costs
as much as a few hundred entries, so batches of thousands make it negligible, while a crash loses
at most one batch that no receipt was handed out for."""

_SAMPLES = 64
"""The fewest entries a compression dictionary is trained on (fewer: compressed without one)."""
_DICTIONARY_BYTES = 32_768
_LEVEL = 3

_SORTED = orjson.OPT_SORT_KEYS


def canonical_json(value: object) -> str:
    """JSON with sorted keys, no whitespace, non-ASCII kept: one text for one value."""
    return orjson.dumps(value, option=_SORTED).decode("utf-8")


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256_bytes(data: bytes) -> str:
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
    if value == value.to_integral_value():
        plain: int | float = int(value)
    else:
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            return str(value)
        plain = as_float
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


def checkpoint_path(db: Path) -> Path:
    """The checkpoint file of the log `db`: ``<db>.head`` next to it."""
    return db.with_name(db.name + ".head")


def _library_version() -> str:
    try:
        return metadata.version("gspolicy")
    except metadata.PackageNotFoundError:
        return "unknown"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- entries, receipts, anchors ------------------------------------------------------------------

EntryKind = Literal["decision", "run"]

_HASHED = (
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
    return _sha256_bytes(orjson.dumps({k: values[k] for k in _HASHED}, option=_SORTED))


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


def _context_from(text: str) -> Context:
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
        return {name: getattr(self, name) for name in _HASHED}

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
            return _context_from(self.context_text)
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


_STORED = ("id", "prev_hash", "hash", *_HASHED[2:], "record", "outcome", "dictionary")
_SELECT = "SELECT " + ", ".join(_STORED) + " FROM entries"
_INSERT = f"INSERT INTO entries ({', '.join(_STORED)}) VALUES ({', '.join('?' * len(_STORED))})"


@attrs.frozen
class Anchor:
    """An entry id and hash held outside the log (a receipt, or the checkpoint's head)."""

    id: int
    hash: str


@attrs.frozen
class Receipt:
    """What a caller gets for a recorded entry: keep it — it anchors the chain up to it."""

    entry: int
    hash: str
    household: str
    verdict: str | None
    as_of: str
    recorded_at: str
    log: str

    def to_json(self) -> dict[str, object]:
        return {
            "receipt": 1,
            "entry": self.entry,
            "hash": self.hash,
            "household": self.household,
            "verdict": self.verdict,
            "as_of": self.as_of,
            "recorded_at": self.recorded_at,
            "log": self.log,
        }

    @property
    def anchor(self) -> Anchor:
        return Anchor(self.entry, self.hash)


@attrs.frozen
class Checkpoint:
    """The checkpoint file: the committed head and, during a write, the pending entry."""

    head: Anchor | None
    pending: Anchor | None


def _anchor_json(a: Anchor | None) -> dict[str, object] | None:
    return None if a is None else {"id": a.id, "hash": a.hash}


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a reader sees the old or the new file, never a mix."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dirfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


def _write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    data = {
        "checkpoint": CHECKPOINT_FORMAT,
        "head": _anchor_json(checkpoint.head),
        "pending": _anchor_json(checkpoint.pending),
    }
    _write_atomically(path, json.dumps(data, indent=2) + "\n")


def _anchor_from(value: object) -> Anchor | None:
    if value is None:
        return None
    if (
        isinstance(value, Mapping)
        and isinstance(value.get("id"), int)
        and isinstance(value.get("hash"), str)
        and not isinstance(value.get("id"), bool)
    ):
        return Anchor(int(value["id"]), str(value["hash"]))
    raise ValueError("an anchor needs an integer `id` and a text `hash`")


def read_anchor(path: Path) -> Checkpoint | Receipt:
    """Read a checkpoint file or a receipt (JSON); raises `PolicyError` (``store/bad-receipt``)."""

    def bad(reason: str) -> PolicyError:
        return PolicyError([Diagnostic("store/bad-receipt", None, {"path": str(path), "reason": reason})])

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError([Diagnostic("io/not-found", None, {"path": str(path)})]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise bad(str(err)) from None
    if not isinstance(data, dict):
        raise bad("it is not a JSON object")
    try:
        if "checkpoint" in data:
            return Checkpoint(_anchor_from(data.get("head")), _anchor_from(data.get("pending")))
        if "receipt" in data:
            anchor = _anchor_from({"id": data.get("entry"), "hash": data.get("hash")})
            if anchor is None:
                raise bad("it names no entry")
            return Receipt(
                anchor.id,
                anchor.hash,
                str(data.get("household", "")),
                data.get("verdict") if isinstance(data.get("verdict"), str) else None,
                str(data.get("as_of", "")),
                str(data.get("recorded_at", "")),
                str(data.get("log", "")),
            )
    except ValueError as err:
        raise bad(str(err)) from None
    raise bad("it has neither a `checkpoint` nor a `receipt` key")


# --- verification --------------------------------------------------------------------------------

ProblemKind = Literal[
    "edited",
    "deleted",
    "inserted",
    "reordered",
    "truncated",
    "pack-altered",
    "checkpoint-missing",
    "checkpoint-unreadable",
]

_KIND_TEXT: dict[str, tuple[str, str]] = {
    "edited": ("entry {id} was edited: {detail}", "条目 {id} 被修改：{detail}"),
    "deleted": ("entry {id} was deleted: {detail}", "条目 {id} 被删除：{detail}"),
    "inserted": ("entry {id} was inserted: {detail}", "条目 {id} 是插入的：{detail}"),
    "reordered": ("entry {id} is out of order: {detail}", "条目 {id} 的顺序被调换：{detail}"),
    "truncated": ("the log was truncated from entry {id}: {detail}", "日志自条目 {id} 起被截断：{detail}"),
    "pack-altered": (
        "a stored pack or schema of entry {id} was altered: {detail}",
        "条目 {id} 保存的政策包或数据结构被篡改：{detail}",
    ),
    "checkpoint-missing": (
        "the tail of the log from entry {id} is not anchored: {detail}",
        "日志自条目 {id} 起的末尾没有锚定：{detail}",
    ),
    "checkpoint-unreadable": ("the checkpoint cannot be read: {detail}", "无法读取检查点：{detail}"),
}


@attrs.frozen
class Problem:
    """The first bad entry found by `DecisionLog.verify`, and what is wrong with it."""

    kind: ProblemKind
    entry: int
    detail: str

    def message(self, lang: Lang = "en") -> str:
        en, zh = _KIND_TEXT[self.kind]
        return (zh if lang == "zh" else en).format(id=self.entry, detail=self.detail)


@attrs.frozen
class VerifyResult:
    """The outcome of verifying a log: how many entries, the head, the first problem if any."""

    entries: int
    head: Anchor | None
    problem: Problem | None
    anchors: tuple[str, ...]  # which anchors were checked (checkpoint file, receipts)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def message(self, lang: Lang = "en") -> str:
        if self.problem is not None:
            return self.problem.message(lang)
        head = f"{self.head.id} {self.head.hash}" if self.head else "-"
        receipts = sum(a.startswith("receipt ") for a in self.anchors)
        named = [a for a in self.anchors if not a.startswith("receipt ")]
        if receipts:
            named.append(
                f"{receipts} 张回执" if lang == "zh" else f"{receipts} receipt{'s' * (receipts != 1)}"
            )
        checked = ", ".join(named) or ("无" if lang == "zh" else "none")
        if lang == "zh":
            return f"日志完好：{self.entries} 个条目，链头 {head}；已核对锚点：{checked}"
        return f"the log verifies: {self.entries} entries, head {head}; anchors checked: {checked}"


class _Reader:
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
        if row is None or not isinstance(row[1], bytes) or _sha256_bytes(row[1]) != row[0]:
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
        values = dict(zip(_STORED, row, strict=True))
        dictionary = values.pop("dictionary")
        record, outcome = values.pop("record"), values.pop("outcome")
        context = values["context"]
        return Entry(
            **values,
            record=None if record is None else self.text(record, dictionary),
            outcome=None if outcome is None else self.text(outcome, dictionary),
            context_text=self.blob(context) if isinstance(context, str) else None,
        )


def _content_problem(entry: Entry, raw_record: object, raw_outcome: object) -> str | None:
    """What is wrong with an entry's stored record and outcome, or None."""
    if entry.kind == "decision":
        for name, text, raw, digest in (
            ("record", entry.record, raw_record, entry.record_hash),
            ("outcome", entry.outcome, raw_outcome, entry.outcome_hash),
        ):
            if raw is None or text is None:
                return f"its stored {name} is missing or does not decompress"
            if sha256(text) != digest:
                return f"its stored {name} does not give its hash"
    elif entry.kind == "run":
        if raw_record is not None or raw_outcome is not None:
            return "a run entry holds a record"
    else:
        return f"its kind `{entry.kind[:40]}` is not one the log writes"
    return None


def _context_problem(reader: _Reader, entry: Entry, checked: dict[str, str | None]) -> str | None:
    """What is wrong with the context an entry names and the texts it lists, or None."""
    if entry.context in checked:
        return checked[entry.context]
    problem: str | None = None
    if entry.context_text is None:
        problem = f"its stored context `{entry.context}` is missing or changed"
    else:
        try:
            context = _context_from(entry.context_text)
        except ValueError:
            problem = "its stored context is not readable"
        else:
            for h in [p["hash"] for p in context.packs] + [context.schema_hash]:
                if reader.blob(h) is None:
                    problem = f"the stored text `{h}` is missing or changed"
                    break
    checked[entry.context] = problem
    return problem


def _check_anchor(rows: int, hash_of: Callable[[int], str], anchor: Anchor, what: str) -> Problem | None:
    if anchor.id < 1:
        return None
    if anchor.id > rows:
        return Problem("truncated", rows + 1, f"{what} names entry {anchor.id}, the log ends at {rows}")
    if hash_of(anchor.id) != anchor.hash:
        return Problem(
            "edited",
            anchor.id,
            f"its hash differs from the one in {what} (it, or an entry before it, was changed and the "
            "chain rebuilt)",
        )
    return None


def _check_checkpoint(rows: int, hash_of: Callable[[int], str], cp: Checkpoint) -> Problem | None:
    """The log must end at the checkpoint's head, or at its pending entry (a write in flight)."""
    head_id = cp.head.id if cp.head else 0
    if cp.pending is not None and rows == cp.pending.id:
        found = _check_anchor(rows, hash_of, cp.pending, "the checkpoint (pending entry)")
        if found is None:
            return None
    if cp.head is not None:
        found = _check_anchor(rows, hash_of, cp.head, "the checkpoint")
        if found is not None:
            return found
    if rows > head_id:
        return Problem(
            "inserted",
            head_id + 1,
            f"the checkpoint ends the log at entry {head_id}, but the log goes on to entry {rows}",
        )
    return None


# --- replay --------------------------------------------------------------------------------------


@attrs.frozen
class ReplayResult:
    """A stored outcome row next to the one the stored packs give today, with the decision they
    give (explained: the entry's decision derived again)."""

    entry: int
    identical: bool
    differences: tuple[str, ...]  # JSON paths where they differ (at most `_MAX_DIFFERENCES`)
    stored: dict[str, Any]
    replayed: dict[str, Any]
    decision: Decision


_MAX_DIFFERENCES = 16


def _differences(a: object, b: object, path: str = "$", out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if len(out) >= _MAX_DIFFERENCES:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _differences(a.get(key), b.get(key), f"{path}.{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _differences(x, y, f"{path}[{k}]", out)
    elif a != b:
        out.append(path)
    return out


# --- the log -------------------------------------------------------------------------------------


@attrs.frozen
class _Texts:
    """The stored form of a policy set: every pack's and the schema's text, by hash."""

    packs: tuple[tuple[str, str, str, str], ...]  # (hash, name, content_hash, text)
    schema: tuple[str, str, str]  # (hash, name, text)
    listing: tuple[dict[str, str], ...]


def _policy_texts(policy_set: PolicySet) -> _Texts:
    schema = policy_set.schema
    schema_name = schema.source
    try:
        text = Path(schema_name).read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError):
        text = None
    again = schema_from_text(schema_name, text)[0] if text is not None else None
    if text is None or again != schema:
        raise PolicyError([Diagnostic("store/schema-changed", None, {"path": schema_name})])
    packs = []
    listing = []
    for p in sorted(policy_set.packs, key=lambda p: (p.id, p.pack.valid_from)):
        body = p.pack.source.text
        h = sha256(body)
        packs.append((h, p.pack.source.name, p.content_hash, body))
        item: dict[str, str] = {"hash": h, "id": p.id, "version": p.version, "content_hash": p.content_hash}
        if p.pack.approval is not None:  # beside the content hash, when the version names one
            item["approval"] = p.pack.approval.document
        listing.append(item)
    return _Texts(tuple(packs), (sha256(text), schema_name, text), tuple(listing))


_F = TypeVar("_F", bound=Callable[..., Any])


def _reading(method: _F) -> _F:
    """A failure of SQLite while reading the log's content means the file is damaged: raise
    `PolicyError` (``store/damaged``) naming the file, never the driver's exception."""

    @functools.wraps(method)
    def wrapper(self: DecisionLog, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as err:
            raise damaged(self.path, err) from None

    return wrapper  # type: ignore[return-value]


class DecisionLog:
    """A decision log file.  One object per thread (each holds its own SQLite connection);
    any number of threads and processes may write to the same file at once."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.checkpoint = checkpoint_path(path)
        self._conn = conn
        self._texts: tuple[PolicySet, _Texts] | None = None
        self._rebuilt: dict[str, PolicySet] = {}

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> DecisionLog:
        """Open the log at `path` (creating it when `create`); raises `PolicyError`."""
        p = Path(path)
        return cls(p, connect(p, create=create))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection (for the ledger, which lives in the same file)."""
        return self._conn

    def texts_of(self, policy_set: PolicySet) -> _Texts:
        if self._texts is None or self._texts[0] is not policy_set:
            self._texts = (policy_set, _policy_texts(policy_set))
        return self._texts[1]

    # --- writing ----------------------------------------------------------------------------

    def recorder(
        self,
        policy_set: PolicySet,
        *,
        as_of: dt.date,
        actor: str,
        exit_pack: str,
        batch: int = BATCH,
        now: Callable[[], dt.datetime] | None = None,
    ) -> Recorder:
        """A `Recorder` appending decisions made with `policy_set` as of `as_of` in batches."""
        return Recorder(self, policy_set, as_of=as_of, actor=actor, exit_pack=exit_pack, batch=batch, now=now)

    def record(
        self,
        household: Record,
        decision: Decision | Outcome,
        policy_set: PolicySet,
        *,
        actor: str,
        now: dt.datetime | None = None,
    ) -> Receipt:
        """Append one decision to the log (its own batch) and return its receipt.

        The decision (an explained `Decision` or its `Outcome`) must be the one `policy_set`
        gives for `household` as of its date: it is decided again by the per-record evaluator and
        compared (``store/not-the-decision``), so that the log never holds a decision the packs
        did not make.  Raises `PolicyError`; on error nothing is written.
        """
        outcome = decision.outcome() if isinstance(decision, Decision) else decision
        row = outcome.to_row()
        again = decide_outcome(policy_set, household, outcome.as_of, exit_pack=outcome.exit_pack).to_row()
        if again != row:
            raise PolicyError(
                [
                    Diagnostic(
                        "store/not-the-decision",
                        None,
                        {"household": outcome.record, "as_of": outcome.as_of.isoformat()},
                    )
                ]
            )
        recorder = self.recorder(
            policy_set,
            as_of=outcome.as_of,
            actor=actor,
            exit_pack=outcome.exit_pack,
            batch=1,
            now=(lambda: now) if now is not None else None,
        )
        (receipt,) = recorder.add(household, row)
        return receipt

    def _promote(self, mine: Anchor) -> None:
        """After the commit: make the committed entry the checkpoint's head, unless a later
        writer has already anchored past it.  A failure here loses nothing: the checkpoint
        already names the entry as pending, which verifies, and the next write anchors it."""
        try:
            with write(self._conn):
                last = self._conn.execute("SELECT max(id) FROM entries").fetchone()
                if last is not None and last[0] == mine.id:
                    _write_checkpoint(self.checkpoint, Checkpoint(mine, None))
        except (OSError, sqlite3.Error, PolicyError):
            pass

    # --- reading ----------------------------------------------------------------------------

    @_reading
    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM entries").fetchone()[0])

    @_reading
    def head(self) -> Anchor | None:
        row = self._conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
        return Anchor(int(row[0]), str(row[1])) if row else None

    @_reading
    def entry(self, entry_id: int) -> Entry:
        """The stored entry `entry_id`; raises `PolicyError` (``store/unknown-entry``)."""
        row = self._conn.execute(_SELECT + " WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            head = self.head()
            raise PolicyError(
                [Diagnostic("store/unknown-entry", None, {"id": entry_id, "last": head.id if head else 0})]
            )
        return _Reader(self._conn).entry(row)

    @_reading
    def entries(self, household: str | None = None) -> list[Entry]:
        """Every entry (of one household), in order; see `iter_entries` for a whole log."""
        return list(self.iter_entries(household))

    def iter_entries(self, household: str | None = None) -> Iterator[Entry]:
        """The entries (of one household) in order, read as they are needed."""
        reader = _Reader(self._conn)
        try:
            if household is None:
                cursor = self._conn.execute(_SELECT + " ORDER BY id")
            else:
                cursor = self._conn.execute(_SELECT + " WHERE household = ? ORDER BY id", (household,))
            for row in cursor:
                yield reader.entry(row)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as err:
            raise damaged(self.path, err) from None

    # --- verifying --------------------------------------------------------------------------

    @_reading
    def verify(
        self, *, checkpoint: Path | None = None, receipts: Iterable[Receipt | Anchor] = ()
    ) -> VerifyResult:
        """Check the whole chain, every stored record, outcome, context and pack, and the
        anchors: the checkpoint file (`checkpoint`, default ``<db>.head``) and any receipts.
        Names the first bad entry.  Reads the log as a stream (memory stays flat)."""
        started = time.perf_counter()
        cp_path = checkpoint or self.checkpoint
        conn = self._conn
        with write(conn):  # the checkpoint and the length of the log at one moment
            try:
                cp: Checkpoint | Receipt | None = read_anchor(cp_path) if cp_path.exists() else None
                cp_problem = None
            except PolicyError as err:
                cp, cp_problem = None, err.diagnostics[0].message()
            found_rows = conn.execute("SELECT count(*), max(id) FROM entries").fetchone()
        # entries appended after that moment are another writer's: not this verification's
        rows = int(found_rows[0])
        problem, head = self._walk(max(rows, int(found_rows[1] or 0)))

        def hash_of(entry_id: int) -> str:
            row = conn.execute("SELECT hash FROM entries WHERE id = ?", (entry_id,)).fetchone()
            return str(row[0]) if row else ""

        checked: list[str] = []
        found: list[Problem] = [problem] if problem else []
        if cp_problem is not None:
            found.append(Problem("checkpoint-unreadable", rows + 1, cp_problem))
        elif isinstance(cp, Checkpoint):
            checked.append(str(cp_path))
            if (p := _check_checkpoint(rows, hash_of, cp)) is not None:
                found.append(p)
        elif isinstance(cp, Receipt):
            checked.append(str(cp_path))
            if (p := _check_anchor(rows, hash_of, cp.anchor, f"the receipt `{cp_path}`")) is not None:
                found.append(p)
        elif rows:
            found.append(
                Problem(
                    "checkpoint-missing",
                    rows + 1,
                    f"there is no checkpoint file `{cp_path}`; pass one with `--checkpoint`",
                )
            )
        for r in receipts:
            anchor = r.anchor if isinstance(r, Receipt) else r
            checked.append(f"receipt {anchor.id}")
            if (p := _check_anchor(rows, hash_of, anchor, f"the receipt of entry {anchor.id}")) is not None:
                found.append(p)
        # the first bad entry; on a tie, a concrete problem before a missing anchor
        first = min(found, key=lambda p: (p.entry, p.kind.startswith("checkpoint"))) if found else None
        _log.info(
            "decision log %s verified: %d entries, %s; %.3f s",
            self.path,
            rows,
            "intact" if first is None else f"first problem `{first.kind}` at entry {first.entry}",
            time.perf_counter() - started,
        )
        return VerifyResult(rows, head, first, tuple(checked))

    def _walk(self, upto: int) -> tuple[Problem | None, Anchor | None]:
        """Walk entries 1…`upto`: the first problem, and the head."""
        conn = self._conn
        reader = _Reader(conn)
        contexts: dict[str, str | None] = {}
        prev_id, prev_hash = 0, GENESIS
        cursor = conn.execute(_SELECT + " WHERE id <= ? ORDER BY id", (upto,))
        for row in cursor:
            entry = reader.entry(row)
            raw = dict(zip(_STORED, row, strict=True))
            expected = prev_id + 1
            if entry.id < expected:
                return Problem(
                    "inserted", entry.id, f"entry ids must start at 1 and follow on (found {entry.id})"
                ), None
            if entry.id > expected:
                return Problem(
                    "deleted", expected, f"the log jumps from entry {prev_id} to entry {entry.id}"
                ), None
            own_ok = _hashed_ok(entry) and _content_problem(entry, raw["record"], raw["outcome"]) is None
            if not (own_ok and entry.prev_hash == prev_hash):
                kind, where, detail = _locate(conn, entry, own_ok, prev_hash, raw)
                return Problem(kind, where, detail), None
            context = _context_problem(reader, entry, contexts)
            if context is not None:
                return Problem("pack-altered", entry.id, context), None
            prev_id, prev_hash = entry.id, entry.hash
        return None, (Anchor(prev_id, prev_hash) if prev_id else None)

    # --- replaying --------------------------------------------------------------------------

    @_reading
    def policy_set_of(self, entry: Entry) -> PolicySet:
        """The policy set an entry was decided with, rebuilt from the texts stored in the log."""
        context = entry.context_data()
        key = entry.context
        found = self._rebuilt.get(key)
        if found is not None:
            return found

        def failed() -> PolicyError:
            return PolicyError([Diagnostic("store/replay-failed", None, {"id": entry.id})])

        def blob(h: str) -> tuple[str, str]:
            row = self._conn.execute("SELECT name, text FROM blobs WHERE hash = ?", (h,)).fetchone()
            if row is None or "\ufffd" in row[1] or sha256(row[1]) != h:
                raise failed()
            return str(row[0]), str(row[1])

        name, text = blob(context.schema_hash)
        schema, _ = schema_from_text(name, text)
        if schema is None:
            raise failed()
        texts = [blob(item.get("hash", "")) for item in context.packs]
        checked, _problems = check_texts(texts, schema)  # packs importing parameters resolved too
        if checked is None:
            raise failed()
        policy_set = PolicySet(schema, tuple(checked))
        self._rebuilt[key] = policy_set
        return policy_set

    @_reading
    def replay(self, entry_id: int) -> ReplayResult:
        """Decide entry `entry_id` again from its stored record and packs, as of its date, with
        the explanation; compare its outcome row with the stored one (raises `PolicyError` for an
        unknown entry or one that is not a decision)."""
        entry = self.entry(entry_id)
        if entry.kind != "decision":
            raise PolicyError(
                [Diagnostic("store/not-a-decision", None, {"id": entry_id, "kind": entry.kind})]
            )
        policy_set = self.policy_set_of(entry)
        record, problems = validate_record(entry.record_data(), policy_set.schema, file=f"entry {entry_id}")
        if record is None:
            raise PolicyError(problems)
        decision = decide(policy_set, record, entry.as_of_date(), exit_pack=entry.context_data().exit_pack)
        replayed = json.loads(row_json(decision.outcome().to_row()))
        stored = entry.outcome_data()
        diffs = tuple(_differences(stored, replayed))
        return ReplayResult(entry_id, not diffs and stored == replayed, diffs, stored, replayed, decision)


def _hashed_ok(entry: Entry) -> bool:
    try:
        return entry.computed_hash() == entry.hash
    except TypeError:  # a column holding what a hash cannot be taken of (bytes)
        return False


def _locate(
    conn: sqlite3.Connection, entry: Entry, own_ok: bool, prev_hash: str, raw: Mapping[str, Any]
) -> tuple[ProblemKind, int, str]:
    """Classify the break at `entry`, whose own hash or link to the previous entry is wrong."""

    def ids_with_hash(h: object) -> list[int]:
        return [int(r[0]) for r in conn.execute("SELECT id FROM entries WHERE hash = ? ORDER BY id", (h,))]

    holders = ids_with_hash(entry.prev_hash)
    later = [i for i in holders if i > entry.id]
    earlier = [i for i in holders if i < entry.id]
    if later:
        return "reordered", entry.id, f"it chains to entry {later[0]}, which comes after it"
    if earlier and earlier[-1] < entry.id - 1:
        k = earlier[-1]
        return "inserted", k + 1, f"entry {entry.id} chains past it to entry {k}"
    following = conn.execute("SELECT prev_hash FROM entries WHERE id = ?", (entry.id + 1,)).fetchone()
    if following is not None and following[0] == prev_hash:
        return "inserted", entry.id, f"entry {entry.id + 1} chains past it to the entry before it"
    content = _content_problem(entry, raw["record"], raw["outcome"]) if _hashed_ok(entry) else None
    if not own_ok and content is None and entry.prev_hash != prev_hash:
        for shift in range(1, 1 << 10):  # renumbered after a deletion?
            try:
                renumbered = attrs.evolve(entry, id=entry.id + shift).computed_hash()
            except TypeError:
                break
            if renumbered == entry.hash:
                detail = (
                    f"{shift} entr{'y' if shift == 1 else 'ies'} before it are gone and the rest renumbered"
                )
                return "deleted", entry.id, detail
    if content is not None:
        return "edited", entry.id, content
    if not own_ok:
        return "edited", entry.id, "its content does not give its stored hash"
    if entry.id == 1:
        return "edited", entry.id, "it does not chain to the start of the log"
    return "edited", entry.id - 1, f"entry {entry.id} chained to a different version of it"


# --- recording in batches ------------------------------------------------------------------------


class _Pending(NamedTuple):
    household: str
    verdict: str | None
    record: bytes
    outcome: bytes


class NotWritten(PolicyError):
    """A batch that could not be written (``store/not-written``): nothing of it is in the log.
    `written` holds the receipts of the entries the same call wrote before it, which are."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(list(diagnostics))
        self.written: list[Receipt] = []


class Recorder:
    """Appends decisions to a log a batch at a time (see the module doc): `add` the record and
    outcome row of each household; every `batch` entries are written in one transaction and
    their receipts returned; `finish` writes what is left and the run's manifest entry.

    A batch that cannot be written raises `PolicyError` (``store/not-written``) naming its
    households; the recorder is then closed: nothing more is written."""

    def __init__(
        self,
        log: DecisionLog,
        policy_set: PolicySet,
        *,
        as_of: dt.date,
        actor: str,
        exit_pack: str,
        batch: int = BATCH,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if not actor.strip():
            raise PolicyError([Diagnostic("store/missing-actor")])
        if batch < 1:
            raise ValueError("a batch holds at least one entry")
        self.log = log
        self.as_of = as_of.isoformat()
        self.batch = batch
        self._now = now or _now
        self._texts = log.texts_of(policy_set)
        context = Context(self._texts.listing, self._texts.schema[0], exit_pack, actor, _library_version())
        self._context_text = canonical_json(context.to_json())
        self.context = sha256(self._context_text)
        self._pending: list[_Pending] = []
        self._compressor: zstandard.ZstdCompressor | None = None
        self._samples: list[bytes | bytearray | memoryview] | None = []
        self._trained: zstandard.ZstdCompressionDict | None = None
        self._dictionary: bytes | None = None
        self._dictionary_id: int | None = None
        self._stored = False  # the texts and the dictionary are in the log
        self._closed = False
        self.first: int | None = None
        self.last: int | None = None
        self.verdicts: Counter[str] = Counter()
        self.started_at = self._now().isoformat(timespec="microseconds")

    def add(self, record: Record, row: Mapping[str, Any]) -> list[Receipt]:
        """Queue one household's decision; returns the receipts of a batch written by it."""
        self._pending.append(_Pending(str(row["id"]), row.get("verdict"), record_json(record), row_json(row)))
        if len(self._pending) >= self.batch:
            return self.flush()
        return []

    def add_many(self, records: Sequence[Record], rows: Iterable[Mapping[str, Any]]) -> list[Receipt]:
        """Queue many (a block of records and its outcome rows, in order); the receipts of the
        batches written meanwhile (on `NotWritten`, those written before the failure are in its
        `written`)."""
        receipts: list[Receipt] = []
        try:
            for record, row in zip(records, rows, strict=True):
                receipts.extend(self.add(record, row))
        except NotWritten as err:
            err.written[:0] = receipts
            raise
        return receipts

    def flush(self) -> list[Receipt]:
        """Write the queued entries now (one transaction); their receipts."""
        if self._closed:
            raise ValueError("the recorder is closed")
        if not self._pending:
            return []
        pending, self._pending = self._pending, []
        started = time.perf_counter()
        try:
            receipts = self._write(pending)
        except (sqlite3.Error, OSError) as err:
            self._closed = True
            raise self._not_written(pending, err) from None
        except PolicyError:
            self._closed = True
            raise
        if receipts:
            _log.debug(
                "decision log %s: batch of %d entries written (%d to %d); %.3f s",
                self.log.path,
                len(receipts),
                receipts[0].entry,
                receipts[-1].entry,
                time.perf_counter() - started,
            )
        return receipts

    def finish(
        self,
        *,
        command: str,
        inputs: Sequence[Path] = (),
        outputs: Sequence[Path] = (),
    ) -> Receipt:
        """Write what is queued, then the run's manifest entry: the command, the input and output
        files (size and SHA-256), the entries of the run and their count per verdict."""
        self.flush()
        manifest = {
            "command": command,
            "as_of": self.as_of,
            "inputs": [_file_item(p) for p in inputs],
            "outputs": [_file_item(p) for p in outputs],
            "entries": [self.first, self.last] if self.first is not None else None,
            "decisions": sum(self.verdicts.values()),
            "verdicts": dict(sorted(self.verdicts.items())),
            "started_at": self.started_at,
        }
        try:
            (receipt,) = self._write([], manifest=canonical_json(manifest))
        except (sqlite3.Error, OSError) as err:
            self._closed = True
            raise PolicyError(
                [
                    Diagnostic(
                        "store/run-not-closed", None, {"path": str(self.log.path), "reason": _reason(err)}
                    )
                ]
            ) from None
        self._closed = True
        _log.info(
            "decision log %s: run closed by entry %d: %d decisions (entries %s), %s",
            self.log.path,
            receipt.entry,
            manifest["decisions"],
            "none" if self.first is None else f"{self.first} to {self.last}",
            ", ".join(f"{v} {n}" for v, n in sorted(self.verdicts.items())) or "no verdicts",
        )
        return receipt

    def _compress(self, pending: Sequence[_Pending]) -> zstandard.ZstdCompressor:
        """The compressor of a batch: with a dictionary once one could be trained on the run's
        first entries (`_SAMPLES` of them at least), plain before."""
        if self._trained is None and self._samples is not None:
            self._samples += [p.record for p in pending[:_SAMPLES]]
            self._samples += [p.outcome for p in pending[:_SAMPLES]]
            if len(self._samples) >= 2 * _SAMPLES:
                samples, self._samples = self._samples, None  # one attempt
                try:
                    self._trained = zstandard.train_dictionary(_DICTIONARY_BYTES, samples)
                except zstandard.ZstdError:  # too little to learn from: plain compression
                    pass
                else:
                    self._dictionary = self._trained.as_bytes()
                    # digested once, not again for every small frame compressed with it
                    self._trained.precompute_compress(level=_LEVEL)
                    self._compressor = zstandard.ZstdCompressor(dict_data=self._trained)
        if self._compressor is None:
            self._compressor = zstandard.ZstdCompressor(level=_LEVEL)
        return self._compressor

    def _store_texts(self, conn: sqlite3.Connection) -> None:
        """Store the texts of the context (once) and a newly trained dictionary (inside the
        batch's transaction: a failed batch closes the recorder, so nothing is stored twice)."""
        if not self._stored:
            texts = self._texts
            conn.executemany(
                "INSERT OR IGNORE INTO blobs (hash, kind, name, content_hash, text) VALUES (?, 'pack', ?, ?, ?)",
                texts.packs,
            )
            sh, sname, stext = texts.schema
            conn.execute(
                "INSERT OR IGNORE INTO blobs (hash, kind, name, content_hash, text)"
                " VALUES (?, 'schema', ?, NULL, ?)",
                (sh, sname, stext),
            )
            conn.execute(
                "INSERT OR IGNORE INTO blobs (hash, kind, name, content_hash, text)"
                " VALUES (?, 'context', 'context', NULL, ?)",
                (self.context, self._context_text),
            )
            self._stored = True
        if self._dictionary is not None and self._dictionary_id is None:
            h = _sha256_bytes(self._dictionary)
            conn.execute(
                "INSERT OR IGNORE INTO dictionaries (hash, data) VALUES (?, ?)", (h, self._dictionary)
            )
            self._dictionary_id = int(
                conn.execute("SELECT id FROM dictionaries WHERE hash = ?", (h,)).fetchone()[0]
            )

    def _write(self, pending: Sequence[_Pending], *, manifest: str | None = None) -> list[Receipt]:
        log = self.log
        conn = log.connection
        compressor = self._compress(pending) if pending else None
        blobs = (
            [(compressor.compress(p.record), compressor.compress(p.outcome)) for p in pending]
            if compressor is not None
            else []
        )
        when = self._now().isoformat(timespec="microseconds")
        path = str(log.path)
        rows: list[tuple[object, ...]] = []
        receipts: list[Receipt] = []
        with write(conn):
            self._store_texts(conn)
            last = conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
            head = Anchor(int(last[0]), str(last[1])) if last else None
            next_id, prev = (head.id if head else 0) + 1, (head.hash if head else GENESIS)
            items: list[tuple[_Pending | None, tuple[bytes, bytes] | None]] = (
                list(zip(pending, blobs, strict=True)) if pending else [(None, None)]
            )
            household: str | None
            verdict: str | None
            record_hash: str | None
            outcome_hash: str | None
            for p, stored in items:
                if p is not None:
                    household, verdict = p.household, p.verdict
                    record_hash, outcome_hash = _sha256_bytes(p.record), _sha256_bytes(p.outcome)
                    kind, note = "decision", None
                else:
                    household = verdict = record_hash = outcome_hash = None
                    kind, note = "run", manifest
                # the hashed columns in sorted order: their canonical JSON without sorting again
                digest = _sha256_bytes(
                    orjson.dumps(
                        {
                            "as_of": self.as_of,
                            "context": self.context,
                            "household": household,
                            "id": next_id,
                            "kind": kind,
                            "manifest": note,
                            "outcome_hash": outcome_hash,
                            "prev_hash": prev,
                            "record_hash": record_hash,
                            "recorded_at": when,
                            "verdict": verdict,
                        }
                    )
                )
                rows.append(
                    (
                        next_id,
                        prev,
                        digest,
                        kind,
                        household,
                        verdict,
                        self.as_of,
                        self.context,
                        record_hash,
                        outcome_hash,
                        note,
                        when,
                        stored[0] if stored else None,
                        stored[1] if stored else None,
                        self._dictionary_id if stored else None,
                    )
                )
                receipts.append(Receipt(next_id, digest, household or "", verdict, self.as_of, when, path))
                next_id, prev = next_id + 1, digest
            conn.executemany(_INSERT, rows)
            # anchor before the commit: a crash from here on leaves a checkpoint that matches
            _write_checkpoint(log.checkpoint, Checkpoint(head, receipts[-1].anchor))
        log._promote(receipts[-1].anchor)
        if pending:
            if self.first is None:
                self.first = receipts[0].entry
            self.last = receipts[-1].entry
            self.verdicts.update(p.verdict or "none" for p in pending)
        return receipts

    def _not_written(self, pending: Sequence[_Pending], err: BaseException) -> NotWritten:
        households = [p.household for p in pending]
        shown = ", ".join(households[:3]) + (", …" if len(households) > 3 else "")
        return NotWritten(
            [
                Diagnostic(
                    "store/not-written",
                    None,
                    {
                        "path": str(self.log.path),
                        "count": len(households),
                        "households": shown,
                        "first": households[0],
                        "last": households[-1],
                        "reason": _reason(err),
                        "kept": self.last or 0,
                    },
                )
            ]
        )


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return str(err)


def _file_item(path: Path) -> dict[str, object]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"file": str(path), "bytes": path.stat().st_size, "sha256": f"sha256:{digest}"}
