"""The decision log: recording, the hash chain, every kind of tampering, anchors, replay, format."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import sqlite3
from pathlib import Path

import attrs
import pytest
import zstandard

from gspolicy.errors import PolicyError
from gspolicy.explain.build import decide
from gspolicy.pack.load import load_policy_set
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.store.db import MIGRATIONS, SCHEMA_VERSION
from gspolicy.store.log import (
    GENESIS,
    Anchor,
    DecisionLog,
    Entry,
    Receipt,
    canonical_json,
    row_json,
    sha256,
)
from unit.store._support import AS_OF, dump, record_some


def raw(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db, isolation_level=None)


def stored(db: Path, entry_id: int) -> Entry:
    with DecisionLog.open(db, create=False) as log:
        return log.entry(entry_id)


def stored_row(db: Path, entry_id: int) -> dict[str, object]:
    """Every stored column of an entry, as stored (the record and outcome compressed)."""
    conn = raw(db)
    try:
        cursor = conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,))
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))
    finally:
        conn.close()


def insert_row(db: Path, row: dict[str, object]) -> None:
    conn = raw(db)
    try:
        conn.execute(
            f"INSERT INTO entries ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
    finally:
        conn.close()


def rehashed(db: Path, entry_id: int, **changes: object) -> dict[str, object]:
    """Entry `entry_id`'s stored row with `changes` to its hashed columns and its hash recomputed
    (an attacker who knows the hashing scheme)."""
    entry = attrs.evolve(stored(db, entry_id), **changes)  # type: ignore[arg-type]
    row = stored_row(db, entry_id)
    row.update(changes)
    row["hash"] = entry.computed_hash()
    return row


# --- recording -----------------------------------------------------------------------------------


def test_an_entry_stores_what_the_issue_asks(
    log: DecisionLog, receipts: list[Receipt], records: tuple[Record, ...], policy_set: PolicySet
) -> None:
    entry = log.entry(3)
    assert entry.household == records[2]["id"] == receipts[2].household
    assert entry.kind == "decision"
    assert entry.record is not None
    assert entry.outcome is not None
    assert entry.record_hash == sha256(entry.record)
    assert entry.outcome_hash == sha256(entry.outcome)
    assert entry.record_data() == json.loads(canonical_json(records[2].to_data()))
    # the outcome row, from which the explained decision is derived again on demand
    decision = decide(policy_set, records[2], AS_OF)
    assert entry.outcome_data() == json.loads(row_json(decision.outcome().to_row()))
    assert entry.verdict == decision.verdict
    assert entry.as_of == "2018-12-31"
    assert entry.actor == "tester"
    assert entry.library_version
    assert dt.datetime.fromisoformat(entry.recorded_at).tzinfo is not None
    # every pack version of the policy set, stored by hash in the log itself
    listed = {(p["id"], p["version"], p["content_hash"]) for p in entry.pack_list()}
    assert listed == {(p.id, p.version, p.content_hash) for p in policy_set.packs}
    texts = dict(log.connection.execute("SELECT hash, text FROM blobs").fetchall())
    for p in entry.pack_list():
        assert sha256(texts[p["hash"]]) == p["hash"]
    assert "schema:" in texts[entry.schema_hash]
    # the record and the outcome are stored compressed, outside the hash (their hashes are in it)
    row = stored_row(log.path, 3)
    assert isinstance(row["record"], bytes)
    assert isinstance(row["outcome"], bytes)
    assert len(row["record"]) < len(entry.record.encode())
    assert zstandard.ZstdDecompressor().decompress(row["outcome"]).decode() == entry.outcome


def test_entries_are_chained_and_receipts_match(log: DecisionLog, receipts: list[Receipt]) -> None:
    entries = log.entries()
    assert [e.id for e in entries] == list(range(1, 9))
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    for entry, receipt in zip(entries, receipts, strict=True):
        assert entry.hash == entry.computed_hash() == receipt.hash
        assert entry.id == receipt.entry


def test_a_clean_log_verifies_with_its_checkpoint_and_receipts(
    log: DecisionLog, receipts: list[Receipt]
) -> None:
    result = log.verify(receipts=receipts)
    assert result.ok, result.message()
    assert result.entries == 8
    assert result.head == Anchor(8, receipts[-1].hash)
    assert str(log.checkpoint) in result.anchors
    checkpoint = json.loads(log.checkpoint.read_text(encoding="utf-8"))
    assert checkpoint["head"] == {"id": 8, "hash": receipts[-1].hash}
    assert checkpoint["pending"] is None


def test_packs_are_stored_once(log: DecisionLog, receipts: list[Receipt], policy_set: PolicySet) -> None:
    blobs = log.connection.execute("SELECT kind, count(*) FROM blobs GROUP BY kind").fetchall()
    assert dict(blobs) == {"pack": len(policy_set.packs), "schema": 1, "context": 1}


def test_a_decision_the_packs_did_not_make_is_refused(
    log: DecisionLog, policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    decision = decide(policy_set, records[0], AS_OF)
    forged = attrs.evolve(decision.outcome(), verdict="pass")
    with pytest.raises(PolicyError) as err:
        log.record(records[0], forged, policy_set, actor="tester")
    assert err.value.diagnostics[0].code == "store/not-the-decision"
    with pytest.raises(PolicyError) as err:
        log.record(records[1], decision, policy_set, actor="tester")  # another household's decision
    assert err.value.diagnostics[0].code == "store/not-the-decision"
    with pytest.raises(PolicyError) as err:
        log.record(records[0], decision, policy_set, actor="  ")
    assert err.value.diagnostics[0].code == "store/missing-actor"
    assert log.count() == 0
    assert not log.checkpoint.exists()


# --- tampering ----------------------------------------------------------------------------------


def _problem(db: Path, **kwargs: object) -> tuple[str, int]:
    with DecisionLog.open(db, create=False) as log:
        result = log.verify(**kwargs)  # type: ignore[arg-type]
    assert not result.ok
    assert result.problem is not None
    if not result.problem.kind.startswith("checkpoint"):
        assert str(result.problem.entry) in result.message()
    return result.problem.kind, result.problem.entry


def test_an_edited_field_is_detected(db: Path, receipts: list[Receipt]) -> None:
    raw(db).execute("UPDATE entries SET recorded_at = '2019-01-01T00:00:00+00:00' WHERE id = 3")
    assert _problem(db) == ("edited", 3)


def _compressed(text: str) -> bytes:
    return zstandard.ZstdCompressor().compress(text.encode())


def test_an_edited_outcome_is_detected(db: Path, receipts: list[Receipt]) -> None:
    """The outcome is outside the entry's hash, its own hash inside: an edit is found on
    decompressing it."""
    text = stored(db, 5).outcome
    assert text is not None
    changed = text.replace('"verdict":', '"verdict_":')
    assert changed != text
    raw(db).execute("UPDATE entries SET outcome = ? WHERE id = 5", (_compressed(changed),))
    assert _problem(db) == ("edited", 5)


def test_an_edited_record_is_detected(db: Path, receipts: list[Receipt]) -> None:
    text = stored(db, 6).record
    assert text is not None
    raw(db).execute(
        "UPDATE entries SET record = ? WHERE id = 6", (_compressed(text.replace("true", "false")),)
    )
    assert _problem(db) == ("edited", 6)


def test_a_stored_record_that_does_not_decompress_is_detected(db: Path, receipts: list[Receipt]) -> None:
    raw(db).execute("UPDATE entries SET record = substr(record, 1, 12) WHERE id = 2")
    assert _problem(db) == ("edited", 2)


def test_an_altered_context_is_detected(db: Path, receipts: list[Receipt]) -> None:
    raw(db).execute("UPDATE blobs SET text = replace(text, 'tester', 'someone') WHERE kind = 'context'")
    assert _problem(db) == ("pack-altered", 1)


def test_an_edit_with_its_hash_recomputed_is_detected(db: Path, receipts: list[Receipt]) -> None:
    entry = attrs.evolve(stored(db, 4), verdict="pass")
    raw(db).execute("UPDATE entries SET verdict = 'pass', hash = ? WHERE id = 4", (entry.computed_hash(),))
    assert _problem(db) == ("edited", 4)


def test_a_swapped_record_with_its_hash_is_detected(db: Path, receipts: list[Receipt]) -> None:
    """Another entry's record with its hash, the entry's hash recomputed: the chain breaks."""
    other = stored_row(db, 2)
    row = rehashed(db, 4, record_hash=other["record_hash"])
    raw(db).execute(
        "UPDATE entries SET record = ?, record_hash = ?, hash = ? WHERE id = 4",
        (other["record"], row["record_hash"], row["hash"]),
    )
    assert _problem(db) == ("edited", 4)


def test_an_edited_head_is_detected_by_the_checkpoint(db: Path, receipts: list[Receipt]) -> None:
    row = rehashed(db, 8, recorded_at="2019-01-01T00:00:00+00:00")
    raw(db).execute(
        "UPDATE entries SET recorded_at = ?, hash = ? WHERE id = 8", (row["recorded_at"], row["hash"])
    )
    assert _problem(db) == ("edited", 8)


def test_a_deleted_entry_is_detected(db: Path, receipts: list[Receipt]) -> None:
    raw(db).execute("DELETE FROM entries WHERE id = 3")
    assert _problem(db) == ("deleted", 3)


def test_a_deleted_entry_with_the_rest_renumbered_is_detected(db: Path, receipts: list[Receipt]) -> None:
    conn = raw(db)
    conn.execute("DELETE FROM entries WHERE id = 3")
    conn.execute("UPDATE entries SET id = -id WHERE id > 3")
    conn.execute("UPDATE entries SET id = -id - 1 WHERE id < 0")
    assert _problem(db) == ("deleted", 3)


def _insert_forged(db: Path, at: int) -> None:
    """Insert a well-formed entry at position `at`, hashed and chained to the one before it, and
    renumber the entries after it (an attacker who knows the hashing scheme)."""
    before = stored(db, at - 1)
    forged = rehashed(db, 1, id=at, prev_hash=before.hash, recorded_at="2019-01-01T00:00:00+00:00")
    conn = raw(db)
    conn.execute("UPDATE entries SET id = -id WHERE id >= ?", (at,))
    conn.execute("UPDATE entries SET id = -id + 1 WHERE id < 0")
    conn.close()
    insert_row(db, forged)


def test_an_inserted_entry_is_detected(db: Path, receipts: list[Receipt]) -> None:
    _insert_forged(db, 3)
    assert _problem(db) == ("inserted", 3)


def test_an_inserted_entry_with_a_bad_hash_is_detected(db: Path, receipts: list[Receipt]) -> None:
    _insert_forged(db, 3)
    raw(db).execute("UPDATE entries SET hash = 'sha256:beef' WHERE id = 3")
    assert _problem(db) == ("inserted", 3)


def test_an_entry_appended_behind_the_logs_back_is_detected(db: Path, receipts: list[Receipt]) -> None:
    head = stored(db, 8)
    insert_row(db, rehashed(db, 2, id=9, prev_hash=head.hash))
    assert _problem(db) == ("inserted", 9)


def test_reordered_entries_are_detected(db: Path, receipts: list[Receipt]) -> None:
    conn = raw(db)
    conn.execute("UPDATE entries SET id = -2 WHERE id = 2")
    conn.execute("UPDATE entries SET id = 2 WHERE id = 3")
    conn.execute("UPDATE entries SET id = 3 WHERE id = -2")
    assert _problem(db) == ("reordered", 2)


def test_a_truncated_tail_is_detected_by_the_checkpoint(db: Path, receipts: list[Receipt]) -> None:
    raw(db).execute("DELETE FROM entries WHERE id >= 7")
    assert _problem(db) == ("truncated", 7)


def test_a_truncated_tail_is_detected_by_a_receipt(db: Path, receipts: list[Receipt]) -> None:
    """Without the checkpoint, a receipt still anchors the chain up to its entry."""
    raw(db).execute("DELETE FROM entries WHERE id = 8")
    (db.parent / "log.db.head").unlink()
    assert _problem(db, receipts=receipts[-1:]) == ("truncated", 8)


def test_a_missing_checkpoint_fails_verification(db: Path, receipts: list[Receipt]) -> None:
    (db.parent / "log.db.head").unlink()
    assert _problem(db)[0] == "checkpoint-missing"


def test_an_altered_stored_pack_is_detected(db: Path, receipts: list[Receipt]) -> None:
    raw(db).execute("UPDATE blobs SET text = text || '# changed' WHERE kind = 'pack'")
    assert _problem(db) == ("pack-altered", 1)


def test_a_rewritten_log_and_checkpoint_are_caught_only_by_a_receipt(
    tmp_path: Path, db: Path, receipts: list[Receipt], policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    """The documented limit: someone who rewrites the file and the checkpoint together passes
    `verify` without receipts; a receipt kept elsewhere catches it."""
    db.unlink()
    (db.parent / "log.db.head").unlink()
    for suffix in ("-wal", "-shm"):
        (db.parent / f"log.db{suffix}").unlink(missing_ok=True)
    with DecisionLog.open(db) as forged:
        record_some(forged, policy_set, records[1:], 8)
        assert forged.verify().ok
        result = forged.verify(receipts=receipts[:1])
    assert result.problem is not None
    assert (result.problem.kind, result.problem.entry) == ("edited", 1)


# --- crash windows ---------------------------------------------------------------------------------


def _checkpoint(db: Path, head: Anchor | None, pending: Anchor | None) -> None:
    data = {
        "checkpoint": 1,
        "head": None if head is None else {"id": head.id, "hash": head.hash},
        "pending": None if pending is None else {"id": pending.id, "hash": pending.hash},
    }
    (db.parent / "log.db.head").write_text(json.dumps(data), encoding="utf-8")


def test_a_crash_between_commit_and_promotion_verifies(db: Path, receipts: list[Receipt]) -> None:
    _checkpoint(db, receipts[6].anchor, receipts[7].anchor)  # committed, not promoted
    with DecisionLog.open(db, create=False) as log:
        assert log.verify().ok


def test_a_crash_before_the_commit_verifies(db: Path, receipts: list[Receipt]) -> None:
    _checkpoint(db, receipts[7].anchor, Anchor(9, "sha256:" + "1" * 64))  # anchored, never committed
    with DecisionLog.open(db, create=False) as log:
        assert log.verify().ok


def test_a_malformed_checkpoint_fails_clearly(db: Path, receipts: list[Receipt]) -> None:
    (db.parent / "log.db.head").write_text("{not json", encoding="utf-8")
    assert _problem(db)[0] == "checkpoint-unreadable"


# --- replay --------------------------------------------------------------------------------------


def test_replay_is_identical_after_the_pack_file_on_disk_changed(
    policy_root: Path, log: DecisionLog, records: tuple[Record, ...]
) -> None:
    own = load_policy_set([policy_root])
    receipts = record_some(log, own, records, 3)
    pack = policy_root / "batches" / "household.yaml"
    text = pack.read_text(encoding="utf-8")
    edited = text.replace("amount: {value: 5000,", "amount: {value: 9999,").replace(
        '"lack_of_funds", "lack_of_skills"', '"lack_of_skills"'
    )
    assert edited != text
    pack.write_text(edited, encoding="utf-8")
    # the packs on disk now decide differently …
    changed = load_policy_set([policy_root])
    first = log.entry(1)
    again = json.loads(row_json(decide(changed, records[0], AS_OF).outcome().to_row()))
    assert again != first.outcome_data()
    # … but every entry replays identically from the texts stored in the log
    for receipt in receipts:
        result = log.replay(receipt.entry)
        assert result.identical, result.differences
        assert result.replayed == result.stored
    # even with the pack folder gone
    shutil.rmtree(policy_root)
    assert log.replay(1).identical


def test_replay_reports_where_a_decision_differs(db: Path, receipts: list[Receipt]) -> None:
    data = stored(db, 1).outcome_data()
    data["verdict"] = "pass"
    text = canonical_json(data)
    row = rehashed(db, 1, outcome_hash=sha256(text))
    raw(db).execute(
        "UPDATE entries SET outcome = ?, outcome_hash = ?, hash = ? WHERE id = 1",
        (_compressed(text), row["outcome_hash"], row["hash"]),
    )
    with DecisionLog.open(db, create=False) as log:
        result = log.replay(1)
        assert not result.identical
        assert result.differences == ("$.verdict",)
        # the decision derived again is the packs' own, explained
        assert result.decision.verdict == result.replayed["verdict"] != "pass"


def test_replay_of_an_unknown_entry_is_refused(log: DecisionLog, receipts: list[Receipt]) -> None:
    with pytest.raises(PolicyError) as err:
        log.replay(99)
    assert err.value.diagnostics[0].code == "store/unknown-entry"
    assert "1 to 8" in err.value.render("en")


# --- the file format ------------------------------------------------------------------------------


def test_the_file_is_wal_and_versioned(log: DecisionLog) -> None:
    conn = log.connection
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    applied = conn.execute("SELECT version, name FROM migrations ORDER BY version").fetchall()
    assert applied == [(n + 1, name) for n, (name, _) in enumerate(MIGRATIONS)]


def test_an_older_file_is_migrated_and_keeps_its_entries(
    db: Path, policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    """A file made when only the first migration existed opens with the ledger tables added."""
    conn = raw(db)
    conn.execute(
        "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT"
    )
    for statement in MIGRATIONS[0][1]:
        conn.execute(statement)
    conn.execute("INSERT INTO migrations VALUES (1, ?, '2019-01-01T00:00:00+00:00')", (MIGRATIONS[0][0],))
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with DecisionLog.open(db) as log:
        record_some(log, policy_set, records, 2)
        assert log.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert log.connection.execute("SELECT count(*) FROM plans").fetchone()[0] == 0
        assert log.verify().ok


def test_a_log_of_format_1_holding_entries_is_refused_and_left_as_it_is(db: Path) -> None:
    """Format 1 entries cannot be rewritten without changing their hashes (and so every receipt
    handed out): opening such a log says so plainly and changes nothing."""
    conn = raw(db)
    conn.execute(
        "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT"
    )
    for number in (1, 2, 3):
        for statement in MIGRATIONS[number - 1][1]:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO migrations VALUES (?, ?, '2019-01-01T00:00:00+00:00')",
            (number, MIGRATIONS[number - 1][0]),
        )
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO entries VALUES (1, ?, 'sha256:x', 'h', 'sha256:r', '{}', '{}', 'pass', '2018-12-31', '0.1',"
        " '2019-01-01T00:00:00+00:00', 'a', '[]', 'sha256:s')",
        (GENESIS,),
    )
    conn.close()
    before = dump(db)
    with pytest.raises(PolicyError) as err:
        DecisionLog.open(db)
    assert err.value.diagnostics[0].code == "store/old-format"
    message = err.value.render("en")
    assert "format 1" in message
    assert "1 entries" in message
    assert "record the households again" in message
    assert "格式" in err.value.render("zh")
    assert dump(db) == before
    # and `gspolicy log verify` says it plainly (exit 1, no traceback)
    from gspolicy.cli import main

    assert main(["log", "verify", "--db", str(db), "--lang", "en"]) == 1
    assert dump(db) == before


def test_a_newer_file_is_refused(db: Path) -> None:
    raw(db).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(PolicyError) as err:
        DecisionLog.open(db)
    assert err.value.diagnostics[0].code == "store/newer-format"


def test_other_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database\n" * 100, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        DecisionLog.open(text)
    assert err.value.diagnostics[0].code == "store/not-a-log"
    other = tmp_path / "other.db"
    raw(other).execute("CREATE TABLE t (x)")
    with pytest.raises(PolicyError) as err:
        DecisionLog.open(other)
    assert err.value.diagnostics[0].code == "store/not-a-log"
    with pytest.raises(PolicyError) as err:
        DecisionLog.open(tmp_path / "missing.db", create=False)
    assert err.value.diagnostics[0].code == "store/no-log"
    assert not (tmp_path / "missing.db").exists()
