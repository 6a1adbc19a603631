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
previous hash and every column of its content (`HASHED`): the record and outcome by their
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
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from gspolicy.engine.outcome import Outcome, decide_outcome
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.decision import Decision
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.store.anchor import Anchor, Receipt, checkpoint_path, read_anchor
from gspolicy.store.chain import (
    GENESIS,
    SELECT,
    Context,
    Entry,
    Reader,
    canonical_json,
    record_json,
    row_json,
    sha256,
)
from gspolicy.store.db import connect, damaged
from gspolicy.store.recorder import BATCH, NotWritten, Recorder, StoredTexts, stored_texts
from gspolicy.store.replay import ReplayResult, rebuild_policy_set, replay_entry
from gspolicy.store.verify import Problem, VerifyResult, verify_log

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
        self._texts: tuple[PolicySet, StoredTexts] | None = None
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

    def texts_of(self, policy_set: PolicySet) -> StoredTexts:
        if self._texts is None or self._texts[0] is not policy_set:
            self._texts = (policy_set, stored_texts(policy_set))
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
        row = self._conn.execute(SELECT + " WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            head = self.head()
            raise PolicyError(
                [Diagnostic("store/unknown-entry", None, {"id": entry_id, "last": head.id if head else 0})]
            )
        return Reader(self._conn).entry(row)

    @_reading
    def entries(self, household: str | None = None) -> list[Entry]:
        """Every entry (of one household), in order; see `iter_entries` for a whole log."""
        return list(self.iter_entries(household))

    def iter_entries(self, household: str | None = None) -> Iterator[Entry]:
        """The entries (of one household) in order, read as they are needed."""
        reader = Reader(self._conn)
        try:
            if household is None:
                cursor = self._conn.execute(SELECT + " ORDER BY id")
            else:
                cursor = self._conn.execute(SELECT + " WHERE household = ? ORDER BY id", (household,))
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
        return verify_log(self, checkpoint=checkpoint, receipts=receipts)

    # --- replaying --------------------------------------------------------------------------

    @_reading
    def policy_set_of(self, entry: Entry) -> PolicySet:
        """The policy set an entry was decided with, rebuilt from the texts stored in the log."""
        entry.context_data()  # a stored context that cannot be read: the entry is damaged
        key = entry.context
        found = self._rebuilt.get(key)
        if found is None:
            found = self._rebuilt[key] = rebuild_policy_set(self._conn, entry)
        return found

    @_reading
    def replay(self, entry_id: int) -> ReplayResult:
        """Decide entry `entry_id` again from its stored record and packs, as of its date, with
        the explanation; compare its outcome row with the stored one (raises `PolicyError` for an
        unknown entry or one that is not a decision)."""
        return replay_entry(self, entry_id)
