"""Properties of the decision log: any single tampering — an edited column, a deleted entry, two
entries swapped, a truncated tail — fails verification and names the entry touched."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy.pack.load import load_policy_set
from gspolicy.store.log import DecisionLog
from unit.store._support import load_examples, make_policy_root, record_some

N = 6
COLUMNS = (
    "prev_hash",
    "hash",
    "kind",
    "household",
    "verdict",
    "as_of",
    "context",
    "record_hash",
    "outcome_hash",
    "manifest",
    "recorded_at",
    "record",
    "outcome",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("log-properties")
    policy_set = load_policy_set([make_policy_root(base)])
    db = base / "log.db"
    with DecisionLog.open(db) as log:
        record_some(log, policy_set, load_examples(policy_set), N)
    return db


tamperings = st.one_of(
    st.tuples(st.just("edit"), st.integers(1, N), st.sampled_from(COLUMNS)),
    st.tuples(st.just("delete"), st.integers(1, N - 1), st.none()),
    st.tuples(st.just("swap"), st.integers(1, N - 1), st.none()),
    st.tuples(st.just("truncate"), st.integers(1, N), st.none()),
)


def _tamper(db: Path, how: str, k: int, column: str | None) -> tuple[set[str], int]:
    """Apply one tampering; return the kinds verify may report and the entry it must name."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        if how == "edit":
            assert column is not None
            if column in ("record", "outcome"):  # compressed: its last byte changed
                (data,) = conn.execute(f"SELECT {column} FROM entries WHERE id = ?", (k,)).fetchone()
                changed = data[:-1] + bytes([data[-1] ^ 0x5A])
                conn.execute(f"UPDATE entries SET {column} = ? WHERE id = ?", (changed, k))
            else:
                conn.execute(
                    f"UPDATE entries SET {column} = CASE WHEN {column} IS NULL OR {column} = 'pass' THEN 'fail'"
                    f" ELSE {column} || 'x' END WHERE id = ?",
                    (k,),
                )
            return {"edited"}, k
        if how == "delete":
            conn.execute("DELETE FROM entries WHERE id = ?", (k,))
            return {"deleted"}, k
        if how == "swap":
            conn.execute("UPDATE entries SET id = -1 WHERE id = ?", (k,))
            conn.execute("UPDATE entries SET id = ? WHERE id = ?", (k, k + 1))
            conn.execute("UPDATE entries SET id = ? WHERE id = -1", (k + 1,))
            return {"reordered"}, k
        conn.execute("DELETE FROM entries WHERE id >= ?", (k,))
        return {"truncated"}, k
    finally:
        conn.close()


@settings(max_examples=40, deadline=None)
@given(tamperings)
def test_any_single_tampering_is_detected_and_located(
    template: Path, tampering: tuple[str, int, str | None]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "log.db"
        shutil.copy(template, db)
        shutil.copy(template.with_name("log.db.head"), Path(tmp) / "log.db.head")
        with DecisionLog.open(db, create=False) as log:
            assert log.verify().ok
        kinds, entry = _tamper(db, *tampering)
        with DecisionLog.open(db, create=False) as log:
            result = log.verify()
        assert result.problem is not None, tampering
        assert result.problem.kind in kinds, (tampering, result.message())
        assert result.problem.entry == entry, (tampering, result.message())
