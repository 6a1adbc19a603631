"""Fixtures of the decision-log and ledger tests (helpers in `_support`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gspolicy.pack.load import load_policy_set
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.store.log import DecisionLog, Receipt
from unit.store._support import load_examples, make_policy_root, record_some


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A policy root no test changes (loading one, and the households, takes most of a second)."""
    return make_policy_root(tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="session")
def policy_set(shared_root: Path) -> PolicySet:
    return load_policy_set([shared_root])


@pytest.fixture(scope="session")
def records(policy_set: PolicySet) -> tuple[Record, ...]:
    return load_examples(policy_set)


@pytest.fixture
def policy_root(tmp_path: Path) -> Path:
    """A policy root of the test's own, to change."""
    return make_policy_root(tmp_path)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "log.db"


@pytest.fixture(scope="session")
def template(
    tmp_path_factory: pytest.TempPathFactory, policy_set: PolicySet, records: tuple[Record, ...]
) -> tuple[Path, list[Receipt]]:
    """A log holding eight entries (the first eight example households), made once and copied."""
    db = tmp_path_factory.mktemp("template") / "log.db"
    with DecisionLog.open(db) as log:
        receipts = record_some(log, policy_set, records, 8)
    return db, receipts


@pytest.fixture
def receipts(db: Path, template: tuple[Path, list[Receipt]]) -> list[Receipt]:
    """Eight entries in the test's log (a copy of `template`), and their receipts."""
    source, found = template
    shutil.copy(source, db)
    shutil.copy(source.with_name("log.db.head"), db.with_name("log.db.head"))
    return found


@pytest.fixture
def log(request: pytest.FixtureRequest, db: Path) -> Iterator[DecisionLog]:
    """The test's log: empty, or holding the eight entries when the test also asks for `receipts`."""
    if "receipts" in request.fixturenames:
        request.getfixturevalue("receipts")
    with DecisionLog.open(db) as opened:
        yield opened


@pytest.fixture(autouse=True)
def _close_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every SQLite connection a test opened (raw ones used to tamper with a log included).

    Python 3.13 warns about a connection left to the garbage collector, and the suite turns
    warnings into errors; closing them here keeps tests free to open raw connections inline.
    """
    import contextlib
    import sqlite3

    opened: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect

    def tracking_connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)  # type: ignore[call-overload]  # passes arguments through
        opened.append(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", tracking_connect)
    yield
    for conn in opened:
        with contextlib.suppress(sqlite3.ProgrammingError):  # a thread's own connection, closed there
            conn.close()
