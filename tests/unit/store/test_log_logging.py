"""The decision log's lines in the library's log (logger `gspolicy`): each batch written, the run
closed with its counts per verdict, a verification and its outcome."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from gspolicy.engine.outcome import decide_outcome
from gspolicy.explain.build import exit_pack_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.store.log import DecisionLog, Receipt
from unit.store._support import AS_OF


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gspolicy.store.log"]


def test_a_recorded_run_is_logged_batch_by_batch_and_when_it_closes(
    log: DecisionLog, policy_set: PolicySet, records: tuple[Record, ...], caplog: pytest.LogCaptureFixture
) -> None:
    exit_pack = exit_pack_of(policy_set)
    chosen = records[:5]
    rows = [decide_outcome(policy_set, r, AS_OF, exit_pack=exit_pack).to_row() for r in chosen]
    run = log.recorder(policy_set, as_of=AS_OF, actor="tester", exit_pack=exit_pack, batch=3)
    with caplog.at_level(logging.DEBUG, logger="gspolicy"):
        got: list[Receipt] = run.add_many(chosen, rows)
        closing = run.finish(command="test")
    verdicts = Counter(row["verdict"] or "none" for row in rows)
    shown = ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items()))
    first, second, closed = _messages(caplog)
    assert first.startswith(f"decision log {log.path}: batch of 3 entries written (1 to 3); ")
    assert second.startswith(f"decision log {log.path}: batch of 2 entries written (4 to 5); ")
    assert closed == f"decision log {log.path}: run closed by entry 6: 5 decisions (entries 1 to 5), {shown}"
    assert [r.entry for r in got] == [1, 2, 3]
    assert closing.entry == 6


def test_a_verification_is_logged_with_the_first_problem(
    db: Path, receipts: list[Receipt], caplog: pytest.LogCaptureFixture
) -> None:
    with DecisionLog.open(db) as log, caplog.at_level(logging.INFO, logger="gspolicy"):
        assert log.verify().ok
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE entries SET recorded_at = '2019-01-01T00:00:00+00:00' WHERE id = 3")
    with DecisionLog.open(db) as log, caplog.at_level(logging.INFO, logger="gspolicy"):
        result = log.verify()
    assert not result.ok
    intact, broken = _messages(caplog)
    assert intact.startswith(f"decision log {db} verified: {len(receipts)} entries, intact; ")
    assert result.problem is not None
    assert broken.startswith(
        f"decision log {db} verified: {len(receipts)} entries, "
        f"first problem `{result.problem.kind}` at entry {result.problem.entry}; "
    )
