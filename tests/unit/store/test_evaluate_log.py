"""`gspolicy evaluate … --log DB`: the main job records every household's decision in the log as
it decides them, in batches, and closes the run with its manifest entry (inputs and output)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from gspolicy.cli import main
from gspolicy.store.log import Anchor, DecisionLog, row_json
from gspolicy.tables import COLUMNS, file_digest
from unit.store._support import EXAMPLES

from support.cli import split_header


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--lang", "en"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_the_main_job_records_each_decision_and_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_root: Path
) -> None:
    db, out, receipts = tmp_path / "log.db", tmp_path / "out.parquet", tmp_path / "receipts.jsonl"
    code, _, err = run(
        capsys, "evaluate", str(EXAMPLES), "--as-of", "2018-12-31", "--policies", str(shared_root),
        "--output", str(out), "--log", str(db), "--receipts", str(receipts),
    )  # fmt: skip
    assert code == 0, err
    households = [json.loads(line)["id"] for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    n = len(households)
    assert f"recorded {n} decisions in {db} (the run's manifest is entry {n + 1})" in split_header(err)[1]
    handed = [json.loads(line) for line in receipts.read_text(encoding="utf-8").splitlines()]
    assert [r["entry"] for r in handed] == list(range(1, n + 2))
    table = pl.read_parquet(out)
    with DecisionLog.open(db, create=False) as log:
        result = log.verify(receipts=[Anchor(int(r["entry"]), str(r["hash"])) for r in handed])
        assert result.ok, result.message()
        entries = log.entries()
    # each entry holds the household's row of the outcome table the run wrote
    assert [e.household for e in entries[:-1]] == households == table["id"].to_list()
    for entry, row in zip(entries[:-1], table.select(COLUMNS).iter_rows(named=True), strict=True):
        assert entry.outcome_data() == json.loads(row_json(row))
    manifest = entries[-1].manifest_data()
    assert manifest["command"] == "gspolicy evaluate"
    assert [i["sha256"] for i in manifest["inputs"]] == [file_digest(EXAMPLES)]
    assert [o["sha256"] for o in manifest["outputs"]] == [file_digest(out)]
    assert manifest["entries"] == [1, n]


def test_a_record_with_a_problem_stops_the_run_before_anything_is_recorded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_root: Path
) -> None:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[40])
    broken["members"] = "nobody"
    given = tmp_path / "households.jsonl"
    given.write_text("\n".join([*lines[:40], json.dumps(broken), *lines[41:]]) + "\n", encoding="utf-8")
    db = tmp_path / "log.db"
    argv = ["evaluate", str(given), "--as-of", "2018-12-31", "--policies", str(shared_root), "--log", str(db)]
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert "line 41" in err or ":41" in err
    if db.exists():
        with DecisionLog.open(db, create=False) as log:
            assert log.count() == 0
    # the valid households of the same files, with --skip-invalid
    code, _, err = run(capsys, *argv, "--skip-invalid")
    assert code == 0, err
    with DecisionLog.open(db, create=False) as log:
        assert log.count() == len(lines)  # every valid household, and the run's manifest entry
        assert broken["id"] not in {e.household for e in log.entries()}
        assert log.verify().ok


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--receipts", "r.jsonl"], "--receipts goes with --log"),
        (["--log", "l.db", "--format", "json"], "--log records the household decisions"),
        (["--log", "l.db", "--level", "village"], "--log records the household decisions"),
    ],
)
def test_log_options_given_wrongly_are_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], says: str
) -> None:
    code, out, err = run(capsys, "evaluate", str(EXAMPLES), "--as-of", "2018-12-31", *extra)
    assert (code, out) == (2, "")
    assert says in err
    assert not (Path.cwd() / "l.db").exists()
