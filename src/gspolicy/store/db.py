"""The SQLite file behind the decision log and the ledger: connection, transactions, migrations.

One file, WAL journal, no server, Python's standard ``sqlite3``.  Every write runs in a
``BEGIN IMMEDIATE`` transaction (the write lock is taken before anything is read), so concurrent
writers — threads or processes — queue up instead of interleaving; ``busy_timeout`` makes them
wait.  ``synchronous=FULL``: a committed transaction survives a crash of the process *and* of
the machine.

The schema is versioned: ``PRAGMA user_version`` holds the number of migrations applied, the
``migrations`` table says which and when.  Opening a file applies the missing migrations, each
in its own transaction; a file newer than this code is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from gspolicy.errors import Diagnostic, PolicyError

__all__ = ["BUSY_TIMEOUT_MS", "FORMAT_2", "MIGRATIONS", "SCHEMA_VERSION", "connect", "damaged", "write"]

BUSY_TIMEOUT_MS = 60_000
"""How long a writer waits for the lock held by another writer before giving up."""

CACHE_KIB = 65_536
"""SQLite's page cache per connection, at most (64 MiB): the index of entries by household takes
about 40 bytes an entry, and inserts land all over it; with SQLite's default 2 MiB, a log of a
million entries reads and writes back index pages on every batch."""

# Each migration: a name and its statements (no `executescript`: it would commit on its own).
MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "decision log",
        (
            """CREATE TABLE blobs (
                hash TEXT PRIMARY KEY,          -- sha256:<hex> of `text` (UTF-8)
                kind TEXT NOT NULL CHECK (kind IN ('pack', 'schema')),
                name TEXT NOT NULL,             -- the file name as it appears in decisions
                content_hash TEXT,              -- a pack's meaning hash (pack/hash.py)
                text TEXT NOT NULL
            ) STRICT""",
            """CREATE TABLE entries (
                id INTEGER PRIMARY KEY,         -- 1, 2, 3, … : the position in the chain
                prev_hash TEXT NOT NULL,        -- the hash of entry id-1 (the genesis hash for 1)
                hash TEXT NOT NULL UNIQUE,      -- sha256 over the canonical JSON of all the rest
                household TEXT NOT NULL,
                record_hash TEXT NOT NULL,      -- sha256 of `record`
                record TEXT NOT NULL,           -- canonical JSON of the validated record
                decision TEXT NOT NULL,         -- canonical JSON of Decision.to_json()
                verdict TEXT,
                as_of TEXT NOT NULL,
                library_version TEXT NOT NULL,
                recorded_at TEXT NOT NULL,      -- ISO 8601 with offset
                actor TEXT NOT NULL,
                packs TEXT NOT NULL,            -- JSON list: every pack version of the policy set
                schema_hash TEXT NOT NULL
            ) STRICT""",
            "CREATE INDEX entries_household ON entries (household, id)",
        ),
    ),
    (
        "household ledger",
        (
            """CREATE TABLE plans (
                id INTEGER PRIMARY KEY,
                household TEXT NOT NULL,
                entry_id INTEGER NOT NULL REFERENCES entries (id),
                county TEXT,
                planned_on TEXT NOT NULL,       -- the decision's as-of date
                created_at TEXT NOT NULL,
                actor TEXT NOT NULL,
                superseded_by INTEGER REFERENCES plans (id) DEFERRABLE INITIALLY DEFERRED
            ) STRICT""",
            "CREATE UNIQUE INDEX plans_current ON plans (household) WHERE superseded_by IS NULL",
            """CREATE TABLE items (
                id INTEGER PRIMARY KEY,
                plan_id INTEGER NOT NULL REFERENCES plans (id),
                household TEXT NOT NULL,
                measure TEXT NOT NULL,
                title_zh TEXT NOT NULL,
                title_en TEXT NOT NULL,
                department TEXT NOT NULL,
                department_zh TEXT NOT NULL,
                department_en TEXT NOT NULL,
                batch TEXT NOT NULL,            -- the rule (or the buffer basis) that grants it
                content_zh TEXT NOT NULL,
                content_en TEXT NOT NULL,
                amount TEXT,
                unit TEXT,
                deadline TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'superseded')),
                done_on TEXT,
                UNIQUE (plan_id, measure)
            ) STRICT""",
            "CREATE INDEX items_household ON items (household, measure)",
            """CREATE TABLE updates (
                id INTEGER PRIMARY KEY,
                item_id INTEGER NOT NULL REFERENCES items (id),
                status TEXT NOT NULL,
                on_date TEXT NOT NULL,
                by TEXT NOT NULL,
                evidence TEXT,
                recorded_at TEXT NOT NULL
            ) STRICT""",
            "CREATE INDEX updates_item ON updates (item_id, id)",
        ),
    ),
    (
        # no source fixes a deadline for a household's measures: an item planned without one has
        # none (NULL).  SQLite cannot drop a NOT NULL constraint in place, so `items` is rebuilt
        # with the same rows, and `updates` with it (its foreign key names `items`: renaming the old
        # tables first points it at the copy, which is then dropped).
        "ledger items without a deadline",
        (
            "ALTER TABLE updates RENAME TO updates_v2",
            "ALTER TABLE items RENAME TO items_v2",
            """CREATE TABLE items (
                id INTEGER PRIMARY KEY,
                plan_id INTEGER NOT NULL REFERENCES plans (id),
                household TEXT NOT NULL,
                measure TEXT NOT NULL,
                title_zh TEXT NOT NULL,
                title_en TEXT NOT NULL,
                department TEXT NOT NULL,
                department_zh TEXT NOT NULL,
                department_en TEXT NOT NULL,
                batch TEXT NOT NULL,            -- the rule (or the buffer basis) that grants it
                content_zh TEXT NOT NULL,
                content_en TEXT NOT NULL,
                amount TEXT,
                unit TEXT,
                deadline TEXT,                  -- NULL: none was given when planning
                status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'superseded')),
                done_on TEXT,
                UNIQUE (plan_id, measure)
            ) STRICT""",
            """CREATE TABLE updates (
                id INTEGER PRIMARY KEY,
                item_id INTEGER NOT NULL REFERENCES items (id),
                status TEXT NOT NULL,
                on_date TEXT NOT NULL,
                by TEXT NOT NULL,
                evidence TEXT,
                recorded_at TEXT NOT NULL
            ) STRICT""",
            "INSERT INTO items SELECT * FROM items_v2",
            "INSERT INTO updates SELECT * FROM updates_v2",
            "DROP TABLE updates_v2",
            "DROP TABLE items_v2",
            "CREATE INDEX items_household ON items (household, measure)",
            "CREATE INDEX updates_item ON updates (item_id, id)",
        ),
    ),
    (
        # the compact log (format 2): an entry holds the record and its outcome row, compressed,
        # and names its context (packs, schema, actor, library version) by hash; the explained
        # decision is derived again on demand.  A log holding entries of format 1 is refused
        # before this runs (`_refuse_format_1`), so only empty tables are replaced here.
        "compact decision log",
        (
            "DROP TABLE updates",
            "DROP TABLE items",
            "DROP TABLE plans",
            "DROP TABLE entries",
            "DROP TABLE blobs",
            """CREATE TABLE blobs (
                hash TEXT PRIMARY KEY,          -- sha256:<hex> of `text` (UTF-8)
                kind TEXT NOT NULL CHECK (kind IN ('pack', 'schema', 'context')),
                name TEXT NOT NULL,             -- the file name as it appears in decisions
                content_hash TEXT,              -- a pack's meaning hash (pack/hash.py)
                text TEXT NOT NULL
            ) STRICT""",
            """CREATE TABLE dictionaries (
                id INTEGER PRIMARY KEY,
                hash TEXT NOT NULL UNIQUE,      -- sha256:<hex> of `data`
                data BLOB NOT NULL              -- a zstd dictionary trained on a run's first block
            ) STRICT""",
            """CREATE TABLE entries (
                id INTEGER PRIMARY KEY,         -- 1, 2, 3, … : the position in the chain
                prev_hash TEXT NOT NULL,        -- the hash of entry id-1 (the genesis hash for 1)
                hash TEXT NOT NULL,             -- sha256 over the canonical JSON of the columns below
                kind TEXT NOT NULL,             -- `decision` or `run` (a run's manifest)
                household TEXT,
                verdict TEXT,
                as_of TEXT NOT NULL,
                context TEXT NOT NULL,          -- hash of the context blob: packs, schema, actor, version
                record_hash TEXT,               -- sha256 of the record's canonical JSON
                outcome_hash TEXT,              -- sha256 of the outcome row's canonical JSON
                manifest TEXT,                  -- a run: canonical JSON of its manifest
                recorded_at TEXT NOT NULL,      -- ISO 8601 with offset
                -- how the content is stored (outside the hash: verifying decompresses and checks)
                record BLOB,                    -- zstd frame of the record's canonical JSON
                outcome BLOB,                   -- zstd frame of the outcome row's canonical JSON
                dictionary INTEGER REFERENCES dictionaries (id)
            ) STRICT""",
            "CREATE INDEX entries_household ON entries (household, id)",
            """CREATE TABLE plans (
                id INTEGER PRIMARY KEY,
                household TEXT NOT NULL,
                entry_id INTEGER REFERENCES entries (id),  -- planned from a log entry …
                source TEXT,                    -- … or from an outcome table: `<file> sha256:<hex>`
                county TEXT,
                planned_on TEXT NOT NULL,       -- the decision's as-of date
                created_at TEXT NOT NULL,
                actor TEXT NOT NULL,
                superseded_by INTEGER REFERENCES plans (id) DEFERRABLE INITIALLY DEFERRED,
                CHECK ((entry_id IS NULL) != (source IS NULL))
            ) STRICT""",
            "CREATE UNIQUE INDEX plans_current ON plans (household) WHERE superseded_by IS NULL",
            "CREATE INDEX plans_planned_on ON plans (planned_on)",  # one quarter's counts
            """CREATE TABLE items (
                id INTEGER PRIMARY KEY,
                plan_id INTEGER NOT NULL REFERENCES plans (id),
                household TEXT NOT NULL,
                measure TEXT NOT NULL,
                title_zh TEXT NOT NULL,
                title_en TEXT NOT NULL,
                department TEXT NOT NULL,
                department_zh TEXT NOT NULL,
                department_en TEXT NOT NULL,
                batch TEXT NOT NULL,            -- the rule (or the buffer basis) that grants it
                content_zh TEXT NOT NULL,
                content_en TEXT NOT NULL,
                amount TEXT,
                unit TEXT,
                deadline TEXT,                  -- NULL: none was given when planning
                status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'superseded')),
                done_on TEXT,
                UNIQUE (plan_id, measure)
            ) STRICT""",
            "CREATE INDEX items_household ON items (household, measure)",
            # the items that can be overdue, by deadline (`Ledger.overdue` names this condition)
            "CREATE INDEX items_open_deadline ON items (deadline)"
            " WHERE status IN ('open', 'in_progress') AND deadline IS NOT NULL",
            """CREATE TABLE updates (
                id INTEGER PRIMARY KEY,
                item_id INTEGER NOT NULL REFERENCES items (id),
                status TEXT NOT NULL,
                on_date TEXT NOT NULL,
                by TEXT NOT NULL,
                evidence TEXT,
                recorded_at TEXT NOT NULL
            ) STRICT""",
            "CREATE INDEX updates_item ON updates (item_id, id)",
        ),
    ),
)

FORMAT_2 = 4
"""The migration that made the compact log: a file below it holding entries is of format 1."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The number of migrations this code knows: the newest file format it reads and writes."""


def _fail(code: str, path: Path, **args: object) -> PolicyError:
    return PolicyError([Diagnostic(code, None, {"path": str(path), **args})])


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """Open (or, with `create`, create) the log file and bring its schema up to date.

    Raises `PolicyError` (``store/no-log``, ``store/not-a-log``, ``store/newer-format``).
    """
    if not create and not path.is_file():
        raise _fail("store/no-log", path)
    try:
        timeout = dt.timedelta(milliseconds=BUSY_TIMEOUT_MS).total_seconds()
        conn = sqlite3.connect(path, isolation_level=None, timeout=timeout)
    except sqlite3.Error as err:
        raise _fail("store/not-a-log", path, reason=str(err)) from None
    # a damaged text (one flipped byte on disk) reads with U+FFFD in its place: an entry's hash
    # then no longer matches, and verifying names it, instead of the read failing
    conn.text_factory = _lenient_text
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _while_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA foreign_keys = ON")
        _while_busy(lambda: _migrate(conn, path))
        _check_tables(conn, path)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as err:
        # (SQLite's own message about a damaged file may not be UTF-8 itself)
        conn.close()
        raise _fail("store/not-a-log", path, reason=_reason(err)) from None
    except PolicyError:
        conn.close()
        raise
    return conn


def _while_busy(step: Callable[[], object]) -> None:
    """Run `step`, again while another connection holds the lock, up to the busy timeout.

    SQLite does not wait on its own in every case: switching a new file to WAL and upgrading a
    read to a write return "database is locked" at once when another connection is doing the
    same (its busy handler is skipped to avoid a deadlock)."""
    deadline = time.monotonic() + dt.timedelta(milliseconds=BUSY_TIMEOUT_MS).total_seconds()
    pause = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as err:
            text = str(err).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


_TABLES = tuple(
    statement.split()[2]
    for _name, statements in MIGRATIONS
    for statement in statements
    if statement.lstrip().startswith("CREATE TABLE")
)


def _check_tables(conn: sqlite3.Connection, path: Path) -> None:
    """Every table the migrations made is there (a dropped table is damage, said plainly)."""
    present = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    for table in _TABLES:
        if table not in present:
            raise _fail("store/damaged", path, reason=f"the table `{table}` is missing")


def damaged(path: Path, err: sqlite3.Error | UnicodeDecodeError) -> PolicyError:
    """A read that failed on the file's content: the log is damaged (never an internal error)."""
    return _fail("store/damaged", path, reason=_reason(err))


def _reason(err: Exception) -> str:
    if isinstance(err, UnicodeDecodeError):
        return "SQLite reports damage in a form that is not even text"
    return str(err)


def _version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    # what the file holds, read from one snapshot: another connection may be migrating it
    conn.execute("BEGIN")
    try:
        found = _version(conn)
        query = "SELECT count(*) FROM sqlite_schema WHERE name = 'migrations'"
        has_tables = conn.execute(query).fetchone()[0]
        others = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    finally:
        conn.execute("COMMIT")
    if found < 0:
        raise _fail("store/damaged", path, reason=f"its format number {found} is not one gspolicy ever wrote")
    if found > SCHEMA_VERSION:
        raise _fail("store/newer-format", path, found=found, known=SCHEMA_VERSION)
    if found == SCHEMA_VERSION:
        return
    if found == 0 and not has_tables and others:
        raise _fail("store/not-a-log", path, reason="it holds other tables")
    with write(conn):
        found = _version(conn)  # another process may have migrated meanwhile
        if 0 < found < FORMAT_2:
            _refuse_format_1(conn, path)
        if found == 0:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL) STRICT"
            )
        for number in range(found + 1, SCHEMA_VERSION + 1):
            name, statements = MIGRATIONS[number - 1]
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
            )
            conn.execute(f"PRAGMA user_version = {number}")


def _refuse_format_1(conn: sqlite3.Connection, path: Path) -> None:
    """A log of format 1 (each entry holding its whole explained decision) that holds entries
    cannot be turned into the compact format without changing every entry's hash, which would
    break the receipts handed out: it is refused, saying so, and left as it is."""
    count = int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])
    if count:
        raise _fail("store/old-format", path, count=count)


def _file_of(conn: sqlite3.Connection) -> Path:
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file)
    return Path("?")


@contextlib.contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception.

    Raises `PolicyError` (``store/busy``) when another writer holds the lock for longer than
    `BUSY_TIMEOUT_MS`.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        raise _fail("store/busy", _file_of(conn), reason=str(err)) from None
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
