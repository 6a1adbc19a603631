"""Recording a run in batches (`Recorder`): group commit, the chain unchanged in meaning, the
run's manifest entry, compact entries, and what happens when a batch cannot be written."""

from __future__ import annotations

import datetime as dt
import errno
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gspolicy.engine.outcome import decide_outcome
from gspolicy.errors import PolicyError
from gspolicy.explain.build import exit_pack_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.store import recorder as recorder_module
from gspolicy.store.log import GENESIS, DecisionLog, Receipt, Recorder, canonical_json, record_json
from unit.store._support import AS_OF


def rows_of(policy_set: PolicySet, records: tuple[Record, ...]) -> list[dict[str, Any]]:
    exit_pack = exit_pack_of(policy_set)
    return [decide_outcome(policy_set, r, AS_OF, exit_pack=exit_pack).to_row() for r in records]


def recorder(log: DecisionLog, policy_set: PolicySet, batch: int) -> Recorder:
    return log.recorder(
        policy_set, as_of=AS_OF, actor="tester", exit_pack=exit_pack_of(policy_set), batch=batch
    )


def test_the_canonical_record_is_the_plain_datas() -> None:
    """`record_json` writes in one pass what `canonical_json(record.to_data())` writes."""
    from decimal import Decimal

    record = Record(
        "household",
        {
            "id": "x",
            "n": Decimal("2435.21"),
            "whole": Decimal("20.00"),
            "long": Decimal("0.1000000000000000000001"),
            "on": dt.date(2018, 9, 30),
            "codes": frozenset({"b", "a"}),
            "members": (Record("member", {"id": "m", "age": Decimal(3)}),),
            "名": "甘肃",
        },
    )
    assert record_json(record).decode() == canonical_json(record.to_data())


def test_a_run_is_written_in_batches_with_one_chain(
    log: DecisionLog, policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    records = records * 2
    rows = rows_of(policy_set, records)
    run = recorder(log, policy_set, batch=16)
    got: list[Receipt] = []
    for record, row in zip(records, rows, strict=True):
        got.extend(run.add(record, row))
        # nothing is written, and no receipt handed out, before its batch is full
        assert log.count() == len(got) == 16 * (len(got) // 16)
    got.extend(run.flush())
    closing = run.finish(command="test", inputs=[])
    assert [r.entry for r in got] == list(range(1, len(records) + 1))
    assert closing.entry == len(records) + 1
    result = log.verify(receipts=[*got, closing])
    assert result.ok, result.message()
    entries = log.entries()
    assert entries[0].prev_hash == GENESIS
    for entry, record, row in zip(entries[:-1], records, rows, strict=True):
        assert entry.record_data() == json.loads(canonical_json(record.to_data()))
        assert entry.outcome_data() == json.loads(canonical_json(row))
        assert entry.verdict == row["verdict"]
    manifest = entries[-1].manifest_data()
    assert entries[-1].kind == "run"
    assert manifest["entries"] == [1, len(records)]
    assert manifest["decisions"] == len(records)
    counted: dict[str, int] = {}
    for row in rows:
        counted[row["verdict"] or "none"] = counted.get(row["verdict"] or "none", 0) + 1
    assert manifest["verdicts"] == counted
    # a dictionary was trained once enough entries were seen (four batches of 16), stored once
    used = [r[0] for r in log.connection.execute("SELECT dictionary FROM entries WHERE kind = 'decision'")]
    assert used[:48] == [None] * 48
    assert len(set(used[48:])) == 1
    assert used[-1] is not None
    for entry in entries[:-1]:  # every entry replays: the traced interpreter gives the same row
        assert log.replay(entry.id).identical, entry.id


def test_entries_are_compact(tmp_path: Path, policy_set: PolicySet, records: tuple[Record, ...]) -> None:
    """The bundled example households take well under 2 KB an entry, the file included."""
    db = tmp_path / "size.db"
    rows = rows_of(policy_set, records)
    with DecisionLog.open(db) as log:
        pages = log.connection.execute("PRAGMA page_count").fetchone()[0]
        run = recorder(log, policy_set, batch=len(records) * 4)
        for _ in range(4):
            run.add_many(records, rows)
        run.flush()
        conn = log.connection
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        grown = (conn.execute("PRAGMA page_count").fetchone()[0] - pages) * size
        texts = sum(len(e.record or "") + len(e.outcome or "") for e in log.entries())
    per_entry = grown / (4 * len(records))
    assert per_entry <= 2048
    assert grown < texts / 2  # compressed: less than half the texts' size


def test_concurrent_recorders_interleave_whole_batches(
    db: Path, policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    rows = rows_of(policy_set, records)
    got: list[list[Receipt]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with DecisionLog.open(db) as opened:
                run = recorder(opened, policy_set, batch=10)
                mine = run.add_many(records, rows) + run.flush()
                mine.append(run.finish(command="test"))
            got.append(mine)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    everything = [r for mine in got for r in mine]
    with DecisionLog.open(db, create=False) as opened:
        result = opened.verify(receipts=everything)
        assert result.ok, result.message()
        assert opened.count() == 3 * (len(records) + 1)
    assert sorted(r.entry for r in everything) == list(range(1, 3 * (len(records) + 1) + 1))
    for mine in got:  # a batch's entries are consecutive: a transaction each
        ids = [r.entry for r in mine[:-1]]
        for start in range(0, len(ids), 10):
            chunk = ids[start : start + 10]
            assert chunk == list(range(chunk[0], chunk[0] + len(chunk)))


def _failing_after(calls: int, real: Callable[..., None]) -> Callable[..., None]:
    state = {"n": 0}

    def write(*args: object) -> None:
        state["n"] += 1
        if state["n"] > calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(*args)

    return write


def test_a_failing_write_loses_the_batch_whole_and_says_which(
    monkeypatch: pytest.MonkeyPatch, log: DecisionLog, policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    """The checkpoint cannot be written (a full disk) in the third batch: that batch is rolled
    back, the error names its households, the two before stay with their receipts, and the log
    verifies."""
    rows = rows_of(policy_set, records)
    # each batch writes the checkpoint twice (inside the transaction, then the promotion)
    monkeypatch.setattr(
        recorder_module, "write_checkpoint", _failing_after(4, recorder_module.write_checkpoint)
    )
    run = recorder(log, policy_set, batch=10)
    got: list[Receipt] = []

    def record_all() -> None:
        for record, row in zip(records, rows, strict=True):
            got.extend(run.add(record, row))

    with pytest.raises(PolicyError) as err:
        record_all()
    (problem,) = err.value.diagnostics
    args = dict(problem.args)
    assert problem.code == "store/not-written"
    assert args["count"] == "10"
    assert args["first"] == records[20]["id"]
    assert args["last"] == records[29]["id"]
    assert args["kept"] == "20"
    assert "No space left on device" in err.value.render("en")
    assert [r.entry for r in got] == list(range(1, 21))
    monkeypatch.undo()
    assert log.count() == 20
    result = log.verify(receipts=got)
    assert result.ok, result.message()
    with pytest.raises(ValueError, match="closed"):
        run.flush()


def test_a_full_database_loses_the_batch_whole_and_says_which(
    log: DecisionLog, policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    """SQLite reports the disk full (the file may not grow) partway through a run."""
    rows = rows_of(policy_set, records)
    conn = log.connection
    run = recorder(log, policy_set, batch=10)
    got = run.add_many(records[:10], rows[:10])
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(PolicyError) as err:
        got += run.add_many(records[10:], rows[10:])
    (problem,) = err.value.diagnostics
    args = dict(problem.args)
    assert problem.code == "store/not-written"
    assert args["kept"] == str(got[-1].entry)
    assert "full" in str(args["reason"])
    conn.execute(f"PRAGMA max_page_count = {2**30}")
    assert log.count() == got[-1].entry
    result = log.verify(receipts=got)
    assert result.ok, result.message()


def test_the_command_line_says_what_was_not_recorded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_root: Path
) -> None:
    from gspolicy.cli import main
    from unit.store._support import EXAMPLES

    monkeypatch.setattr(
        recorder_module, "write_checkpoint", _failing_after(2, recorder_module.write_checkpoint)
    )
    db = tmp_path / "log.db"
    argv = [
        "log",
        "record",
        str(EXAMPLES),
        "--as-of",
        "2018-12-31",
        "--actor",
        "a",
        "--policies",
        str(shared_root),
        "--batch",
        "10",
    ]
    code = main([*argv, "--db", str(db), "--format", "json", "--lang", "en"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    receipts = [json.loads(line) for line in out.splitlines()]
    assert [r["entry"] for r in receipts] == list(range(1, 11))
    assert "store/not-written" in err
    assert "50 households of the run were not recorded; the 10 recorded have receipts" in err
    with DecisionLog.open(db, create=False) as opened:
        assert opened.count() == 10
        assert opened.verify().ok


def test_a_closed_log_file_is_never_half_written(
    tmp_path: Path, policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    """A batch is one transaction: another connection sees all of it or none of it."""
    db = tmp_path / "log.db"
    rows = rows_of(policy_set, records)
    seen: list[int] = []
    with DecisionLog.open(db) as opened:
        run = recorder(opened, policy_set, batch=25)
        for record, row in zip(records, rows, strict=True):
            run.add(record, row)
            other = sqlite3.connect(db)
            try:
                seen.append(other.execute("SELECT count(*) FROM entries").fetchone()[0])
            finally:
                other.close()
        run.flush()
    assert set(seen) <= {0, 25, 50}
