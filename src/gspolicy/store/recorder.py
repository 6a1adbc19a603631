"""Recording decisions in a log a batch at a time (`Recorder`), the run's manifest entry last.

Each batch is compressed, chained and written in one transaction, anchored in the checkpoint
before the commit and promoted after.  See `gspolicy.store.log`."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs
import orjson
import zstandard

from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.load import schema_from_text
from gspolicy.schema.model import Record
from gspolicy.store.anchor import Anchor, Checkpoint, Receipt, write_checkpoint
from gspolicy.store.chain import (
    GENESIS,
    INSERT,
    Context,
    canonical_json,
    record_json,
    row_json,
    sha256,
    sha256_bytes,
)
from gspolicy.store.db import write

if TYPE_CHECKING:
    from gspolicy.store.log import DecisionLog

_log = logging.getLogger("gspolicy.store.log")  # the log's own logger (docs/reference/api.md)

__all__ = ["BATCH", "NotWritten", "Recorder", "StoredTexts", "stored_texts"]

BATCH = 4_096
"""Entries a `Recorder` writes per transaction: a commit (two fsyncs and the checkpoint's) costs
as much as a few hundred entries, so batches of thousands make it negligible, while a crash loses
at most one batch that no receipt was handed out for."""

_SAMPLES = 64
"""The fewest entries a compression dictionary is trained on (fewer: compressed without one)."""
_DICTIONARY_BYTES = 32_768
_LEVEL = 3


def _library_version() -> str:
    try:
        return metadata.version("gspolicy")
    except metadata.PackageNotFoundError:
        return "unknown"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@attrs.frozen
class StoredTexts:
    """The stored form of a policy set: every pack's and the schema's text, by hash."""

    packs: tuple[tuple[str, str, str, str], ...]  # (hash, name, content_hash, text)
    schema: tuple[str, str, str]  # (hash, name, text)
    listing: tuple[dict[str, str], ...]


def stored_texts(policy_set: PolicySet) -> StoredTexts:
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
    return StoredTexts(tuple(packs), (sha256(text), schema_name, text), tuple(listing))


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
            h = sha256_bytes(self._dictionary)
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
                    record_hash, outcome_hash = sha256_bytes(p.record), sha256_bytes(p.outcome)
                    kind, note = "decision", None
                else:
                    household = verdict = record_hash = outcome_hash = None
                    kind, note = "run", manifest
                # the hashed columns in sorted order: their canonical JSON without sorting again
                digest = sha256_bytes(
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
            conn.executemany(INSERT, rows)
            # anchor before the commit: a crash from here on leaves a checkpoint that matches
            write_checkpoint(log.checkpoint, Checkpoint(head, receipts[-1].anchor))
        _promote(log, receipts[-1].anchor)
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


def _promote(log: DecisionLog, mine: Anchor) -> None:
    """After the commit: make the committed entry the checkpoint's head, unless a later
    writer has already anchored past it.  A failure here loses nothing: the checkpoint
    already names the entry as pending, which verifies, and the next write anchors it."""
    conn = log.connection
    try:
        with write(conn):
            last = conn.execute("SELECT max(id) FROM entries").fetchone()
            if last is not None and last[0] == mine.id:
                write_checkpoint(log.checkpoint, Checkpoint(mine, None))
    except (OSError, sqlite3.Error, PolicyError):
        pass
