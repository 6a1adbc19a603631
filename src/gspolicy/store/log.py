"""The decision log: every recorded evaluation, hash-chained, replayable years later.

An **entry** holds the household record (canonical JSON and its hash), the decision
(`Decision.to_json()`), the as-of date, the library version, the time, the actor, and the policy
set it was made with: every pack version and the household schema, each **stored by hash** in
the log itself (table ``blobs``), so that the entry can be replayed after the files on disk have
changed or gone.

**The chain.**  Entry *n* stores the hash of entry *n − 1* (entry 1 stores `GENESIS`), and its
own hash is SHA-256 over the canonical JSON (sorted keys, no whitespace, UTF-8) of its id, that
previous hash and every stored column, taken exactly as stored.  Changing, deleting, inserting
or reordering entries breaks the chain at the first one touched; `DecisionLog.verify` names it.

**The anchor.**  A chain alone cannot tell a truncated tail from a short log, nor a rewritten
chain from an honest one.  The head is therefore anchored outside the table: in every
`Receipt` handed out (entry id and hash), and in the checkpoint file ``<db>.head``, rewritten
atomically (temporary file, fsync, rename) *inside* each write transaction.  The checkpoint names
the head before the write and the pending entry; a second short transaction after the commit
promotes the pending entry to head.  So a crash at any moment leaves a checkpoint that matches
the log, while a deleted last entry, or an entry appended behind the log's back, does not.

What the chain does *not* prove: who wrote an entry (there is no secret key), nor anything about
a log whose file and checkpoint were rewritten together — only receipts kept elsewhere catch that.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import decide
from gspolicy.explain.decision import Decision
from gspolicy.pack.load import PolicySet, check_texts
from gspolicy.schema.load import schema_from_text
from gspolicy.schema.model import Record
from gspolicy.schema.records import validate_record
from gspolicy.store.db import connect, damaged, write

__all__ = [
    "GENESIS",
    "Anchor",
    "DecisionLog",
    "Entry",
    "Problem",
    "Receipt",
    "ReplayResult",
    "VerifyResult",
    "canonical_json",
    "checkpoint_path",
    "read_anchor",
    "sha256",
]

GENESIS = "sha256:" + "0" * (2 * hashlib.sha256().digest_size)
"""The previous hash of the first entry."""

CHECKPOINT_FORMAT = 1


def canonical_json(value: object) -> str:
    """JSON with sorted keys, no whitespace, non-ASCII kept: one text for one value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


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


_COLUMNS = (
    "id",
    "prev_hash",
    "household",
    "record_hash",
    "record",
    "decision",
    "verdict",
    "as_of",
    "library_version",
    "recorded_at",
    "actor",
    "packs",
    "schema_hash",
)


@attrs.frozen
class Entry:
    """One stored entry, as stored (JSON columns still as text)."""

    id: int
    prev_hash: str
    hash: str
    household: str
    record_hash: str
    record: str
    decision: str
    verdict: str | None
    as_of: str
    library_version: str
    recorded_at: str
    actor: str
    packs: str
    schema_hash: str

    def payload(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _COLUMNS}

    def computed_hash(self) -> str:
        """The hash the entry's stored content gives (equal to `hash` when untouched)."""
        return sha256(canonical_json(self.payload()))

    def decision_data(self) -> dict[str, Any]:
        return self._json("decision", dict)  # type: ignore[no-any-return]

    def record_data(self) -> dict[str, Any]:
        return self._json("record", dict)  # type: ignore[no-any-return]

    def pack_list(self) -> list[dict[str, str]]:
        packs = self._json("packs", list)
        keys = {"hash", "id", "version", "content_hash"}
        if not all(
            isinstance(p, dict) and keys <= set(p) and all(isinstance(v, str) for v in p.values())
            for p in packs
        ):
            raise self.damaged("packs", Text(zh="不是政策包引用的列表", en="not a list of pack references"))
        return packs  # type: ignore[no-any-return]

    def as_of_date(self) -> dt.date:
        try:
            return dt.date.fromisoformat(self.as_of)
        except ValueError:
            shown = self.as_of[:40]
            raise self.damaged(
                "as_of", Text(zh=f"`{shown}` 不是日期", en=f"`{shown}` is not a date")
            ) from None

    def _json(self, column: str, kind: type) -> Any:
        try:
            data = json.loads(getattr(self, column))
        except (ValueError, RecursionError):
            raise self.damaged(column, Text(zh="不是 JSON", en="not JSON")) from None
        if not isinstance(data, kind):
            what = (
                Text(zh="不是 JSON 对象", en="not a JSON object")
                if kind is dict
                else Text(zh="不是 JSON 列表", en="not a JSON list")
            )
            raise self.damaged(column, what)
        return data

    def damaged(self, column: str, problem: Text) -> PolicyError:
        """The error for a stored column that cannot be read (a damaged log)."""
        return PolicyError(
            [Diagnostic("store/damaged-entry", None, {"id": self.id, "column": column, "problem": problem})]
        )


_SELECT = "SELECT " + ", ".join(("id", "prev_hash", "hash", *_COLUMNS[2:])) + " FROM entries"


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(*row)


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


def _locate(rows: Sequence[Entry], i: int, prev_hash: str) -> tuple[ProblemKind, int, str]:
    """Classify the break at rows[i], whose own hash or link to the previous entry is wrong."""
    row = rows[i]
    own_ok = row.computed_hash() == row.hash
    later = {r.hash: k for k, r in enumerate(rows) if k > i}
    earlier = {r.hash: k for k, r in enumerate(rows) if k < i}
    if row.prev_hash in later:
        return (
            "reordered",
            row.id,
            f"it chains to entry {rows[later[row.prev_hash]].id}, which comes after it",
        )
    if row.prev_hash in earlier and earlier[row.prev_hash] < i - 1:
        k = earlier[row.prev_hash]
        return "inserted", rows[k + 1].id, f"entry {row.id} chains past it to entry {rows[k].id}"
    if i + 1 < len(rows) and rows[i + 1].prev_hash == prev_hash:
        return "inserted", row.id, f"entry {rows[i + 1].id} chains past it to the entry before it"
    if not own_ok and row.prev_hash != prev_hash:
        for shift in range(1, min(len(rows), 1 << 10) + 1):  # renumbered after a deletion?
            if attrs.evolve(row, id=row.id + shift).computed_hash() == row.hash:
                detail = (
                    f"{shift} entr{'y' if shift == 1 else 'ies'} before it are gone and the rest renumbered"
                )
                return "deleted", row.id, detail
    if not own_ok:
        return "edited", row.id, "its content does not give its stored hash"
    if i == 0:
        return "edited", row.id, "it does not chain to the start of the log"
    return "edited", rows[i - 1].id, f"entry {row.id} chained to a different version of it"


def _walk(rows: Sequence[Entry], blobs: Mapping[str, tuple[str, str]]) -> Problem | None:
    prev_id, prev_hash = 0, GENESIS
    good_blobs: dict[str, bool] = {}

    def blob_ok(h: str) -> bool:
        if h not in good_blobs:
            found = blobs.get(h)
            good_blobs[h] = found is not None and sha256(found[1]) == h
        return good_blobs[h]

    for i, row in enumerate(rows):
        expected = prev_id + 1
        if row.id < expected:
            return Problem("inserted", row.id, f"entry ids must start at 1 and follow on (found {row.id})")
        if row.id > expected:
            detail = f"the log jumps from entry {prev_id} to entry {row.id}"
            return Problem("deleted", expected, detail)
        own_ok = row.computed_hash() == row.hash and sha256(row.record) == row.record_hash
        if not (own_ok and row.prev_hash == prev_hash):
            kind, where, detail = _locate(rows, i, prev_hash)
            return Problem(kind, where, detail)
        try:
            hashes = [p["hash"] for p in row.pack_list()] + [row.schema_hash]
        except (ValueError, KeyError, TypeError):
            return Problem("edited", row.id, "its list of packs is not readable")
        for h in hashes:
            if not blob_ok(h):
                return Problem("pack-altered", row.id, f"the stored text `{h}` is missing or changed")
        prev_id, prev_hash = row.id, row.hash
    return None


def _check_anchor(rows: Sequence[Entry], anchor: Anchor, what: str) -> Problem | None:
    if anchor.id < 1:
        return None
    if anchor.id > len(rows):
        first = len(rows) + 1
        return Problem("truncated", first, f"{what} names entry {anchor.id}, the log ends at {len(rows)}")
    if rows[anchor.id - 1].hash != anchor.hash:
        return Problem(
            "edited",
            anchor.id,
            f"its hash differs from the one in {what} (it, or an entry before it, was changed and the "
            "chain rebuilt)",
        )
    return None


def _check_checkpoint(rows: Sequence[Entry], cp: Checkpoint) -> Problem | None:
    """The log must end at the checkpoint's head, or at its pending entry (a write in flight)."""
    n = len(rows)
    head_id = cp.head.id if cp.head else 0
    if cp.pending is not None and n == cp.pending.id:
        found = _check_anchor(rows, cp.pending, "the checkpoint (pending entry)")
        if found is None:
            return None
    if cp.head is not None:
        found = _check_anchor(rows, cp.head, "the checkpoint")
        if found is not None:
            return found
    if n > head_id:
        return Problem(
            "inserted",
            head_id + 1,
            f"the checkpoint ends the log at entry {head_id}, but the log goes on to entry {n}",
        )
    return None


# --- replay --------------------------------------------------------------------------------------


@attrs.frozen
class ReplayResult:
    """A stored decision next to the one the stored packs give today."""

    entry: int
    identical: bool
    differences: tuple[str, ...]  # JSON paths where they differ (at most `_MAX_DIFFERENCES`)
    stored: dict[str, Any]
    replayed: dict[str, Any]


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
    listing: str  # the entry's `packs` column


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
    return _Texts(tuple(packs), (sha256(text), schema_name, text), canonical_json(listing))


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

    # --- writing ----------------------------------------------------------------------------

    def record(
        self,
        household: Record,
        decision: Decision,
        policy_set: PolicySet,
        *,
        actor: str,
        now: dt.datetime | None = None,
    ) -> Receipt:
        """Append one evaluation to the log and return its receipt.

        The decision must be the one `policy_set` gives for `household` as of its date: it is
        evaluated again and compared (``store/not-the-decision``), so that the log never holds a
        decision the packs did not make.  Raises `PolicyError`; on error nothing is written.
        """
        if not actor.strip():
            raise PolicyError([Diagnostic("store/missing-actor")])
        decided = decision.to_json()
        if decide(policy_set, household, decision.as_of).to_json() != decided:
            raise PolicyError(
                [
                    Diagnostic(
                        "store/not-the-decision",
                        None,
                        {"household": decision.household, "as_of": decision.as_of.isoformat()},
                    )
                ]
            )
        if self._texts is None or self._texts[0] is not policy_set:
            self._texts = (policy_set, _policy_texts(policy_set))
        texts = self._texts[1]
        record_text = canonical_json(household.to_data())
        when = (now or _now()).isoformat(timespec="microseconds")
        conn = self._conn
        with write(conn):
            for h, name, content_hash, body in texts.packs:
                conn.execute(
                    "INSERT OR IGNORE INTO blobs (hash, kind, name, content_hash, text)"
                    " VALUES (?, 'pack', ?, ?, ?)",
                    (h, name, content_hash, body),
                )
            sh, sname, stext = texts.schema
            conn.execute(
                "INSERT OR IGNORE INTO blobs (hash, kind, name, content_hash, text)"
                " VALUES (?, 'schema', ?, NULL, ?)",
                (sh, sname, stext),
            )
            last = conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
            head = Anchor(int(last[0]), str(last[1])) if last else None
            entry = Entry(
                id=(head.id if head else 0) + 1,
                prev_hash=head.hash if head else GENESIS,
                hash="",
                household=decision.household,
                record_hash=sha256(record_text),
                record=record_text,
                decision=canonical_json(decided),
                verdict=decision.verdict,
                as_of=decision.as_of.isoformat(),
                library_version=_library_version(),
                recorded_at=when,
                actor=actor,
                packs=texts.listing,
                schema_hash=sh,
            )
            entry = attrs.evolve(entry, hash=entry.computed_hash())
            conn.execute(
                f"INSERT INTO entries ({', '.join(('hash', *_COLUMNS))})"
                f" VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                (entry.hash, *(getattr(entry, c) for c in _COLUMNS)),
            )
            # anchor before the commit: a crash from here on leaves a checkpoint that matches
            _write_checkpoint(self.checkpoint, Checkpoint(head, Anchor(entry.id, entry.hash)))
        self._promote(Anchor(entry.id, entry.hash))
        return Receipt(
            entry.id, entry.hash, entry.household, entry.verdict, entry.as_of, when, str(self.path)
        )

    def _promote(self, mine: Anchor) -> None:
        """After the commit: make the committed entry the checkpoint's head, unless a later
        writer has already anchored past it."""
        with write(self._conn):
            last = self._conn.execute("SELECT id FROM entries ORDER BY id DESC LIMIT 1").fetchone()
            if last is not None and int(last[0]) == mine.id:
                _write_checkpoint(self.checkpoint, Checkpoint(mine, None))

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
        return _entry(row)

    @_reading
    def entries(self, household: str | None = None) -> list[Entry]:
        if household is None:
            rows = self._conn.execute(_SELECT + " ORDER BY id").fetchall()
        else:
            rows = self._conn.execute(_SELECT + " WHERE household = ? ORDER BY id", (household,)).fetchall()
        return [_entry(r) for r in rows]

    # --- verifying --------------------------------------------------------------------------

    @_reading
    def verify(
        self, *, checkpoint: Path | None = None, receipts: Iterable[Receipt | Anchor] = ()
    ) -> VerifyResult:
        """Check the whole chain, the stored packs, and the anchors: the checkpoint file
        (`checkpoint`, default ``<db>.head``) and any receipts.  Names the first bad entry."""
        cp_path = checkpoint or self.checkpoint
        with write(self._conn):  # a consistent view of the file and its checkpoint
            try:
                cp: Checkpoint | Receipt | None = read_anchor(cp_path) if cp_path.exists() else None
                cp_problem = None
            except PolicyError as err:
                cp, cp_problem = None, err.diagnostics[0].message()
            rows = [_entry(r) for r in self._conn.execute(_SELECT + " ORDER BY id")]
            blobs = {
                str(h): (str(n), str(t))
                for h, n, t in self._conn.execute("SELECT hash, name, text FROM blobs")
            }
        head = Anchor(rows[-1].id, rows[-1].hash) if rows else None
        checked: list[str] = []
        problem = _walk(rows, blobs)
        found: list[Problem] = [problem] if problem else []
        if cp_problem is not None:
            found.append(Problem("checkpoint-unreadable", len(rows) + 1, cp_problem))
        elif isinstance(cp, Checkpoint):
            checked.append(str(cp_path))
            if (p := _check_checkpoint(rows, cp)) is not None:
                found.append(p)
        elif isinstance(cp, Receipt):
            checked.append(str(cp_path))
            if (p := _check_anchor(rows, cp.anchor, f"the receipt `{cp_path}`")) is not None:
                found.append(p)
        elif rows:
            found.append(
                Problem(
                    "checkpoint-missing",
                    len(rows) + 1,
                    f"there is no checkpoint file `{cp_path}`; pass one with `--checkpoint`",
                )
            )
        for r in receipts:
            anchor = r.anchor if isinstance(r, Receipt) else r
            checked.append(f"receipt {anchor.id}")
            if (p := _check_anchor(rows, anchor, f"the receipt of entry {anchor.id}")) is not None:
                found.append(p)
        # the first bad entry; on a tie, a concrete problem before a missing anchor
        first = min(found, key=lambda p: (p.entry, p.kind.startswith("checkpoint"))) if found else None
        return VerifyResult(len(rows), head, first, tuple(checked))

    # --- replaying --------------------------------------------------------------------------

    @_reading
    def policy_set_of(self, entry: Entry) -> PolicySet:
        """The policy set an entry was decided with, rebuilt from the texts stored in the log."""
        key = entry.packs + entry.schema_hash
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

        name, text = blob(entry.schema_hash)
        schema, _ = schema_from_text(name, text)
        if schema is None:
            raise failed()
        texts = [blob(item.get("hash", "")) for item in entry.pack_list()]
        checked, _problems = check_texts(texts, schema)  # packs importing parameters resolved too
        if checked is None:
            raise failed()
        policy_set = PolicySet(schema, tuple(checked))
        self._rebuilt[key] = policy_set
        return policy_set

    @_reading
    def replay(self, entry_id: int) -> ReplayResult:
        """Evaluate entry `entry_id` again from its stored record and packs, as of its date,
        and compare with the stored decision (raises `PolicyError` for an unknown entry)."""
        entry = self.entry(entry_id)
        policy_set = self.policy_set_of(entry)
        record, problems = validate_record(entry.record_data(), policy_set.schema, file=f"entry {entry_id}")
        if record is None:
            raise PolicyError(problems)
        replayed = decide(policy_set, record, entry.as_of_date()).to_json()
        stored = entry.decision_data()
        diffs = tuple(_differences(stored, replayed))
        return ReplayResult(entry_id, not diffs and stored == replayed, diffs, stored, replayed)
