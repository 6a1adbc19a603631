"""The `gspolicy log` and `gspolicy ledger` commands, as an officer would run them."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from gspolicy.cli import main
from unit.store._support import EXAMPLES

from support.cli import split_header


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--lang", "en"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture(scope="session")
def cli_template(shared_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log with the example households of county 621126, recorded with the command line once."""
    base = tmp_path_factory.mktemp("cli")
    db = base / "log.db"
    households = base / "households.jsonl"
    lines = [line for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if '"621126-' in line[:20]]
    households.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            [
                "log", "record", str(households), "--as-of", "2018-12-31", "--actor", "张三",
                "--policies", str(shared_root), "--db", str(db), "--format", "json", "--lang", "en",
            ]
        )  # fmt: skip
    header, rest = split_header(err.getvalue())
    n = len(lines)
    assert (code, rest) == (0, f"recorded {n} decisions in {db} (the run's manifest is entry {n + 1})\n")
    assert "(given on the command line)" in header
    receipts = [json.loads(line) for line in out.getvalue().splitlines()]
    # a receipt per decision, then the run's manifest entry's
    assert [r["entry"] for r in receipts] == list(range(1, n + 2))
    assert [r["household"] for r in receipts[:-1]] == [json.loads(line)["id"] for line in lines]
    assert receipts[-1]["household"] == ""
    (base / "receipts.jsonl").write_text(out.getvalue(), encoding="utf-8")
    return db


@pytest.fixture
def recorded(cli_template: Path, tmp_path: Path) -> Path:
    """A copy of `cli_template` (its log, checkpoint and receipts)."""
    for name in ("log.db", "log.db.head", "receipts.jsonl"):
        shutil.copy(cli_template.with_name(name), tmp_path / name)
    return tmp_path / "log.db"


def test_record_verify_show_replay(capsys: pytest.CaptureFixture[str], recorded: Path) -> None:
    db = str(recorded)
    receipts = str(recorded.with_name("receipts.jsonl"))
    code, out, _ = run(capsys, "log", "verify", "--db", db, "--receipt", receipts)
    assert code == 0
    assert "the log verifies: 11 entries" in out
    assert "11 receipts" in out
    code, out, _ = run(capsys, "log", "replay", "3", "--db", db)
    assert (code, out) == (0, "entry 3: the replayed decision is identical to the recorded one\n")
    code, out, _ = run(capsys, "log", "replay", "3", "--db", db, "--explain")
    assert code == 0
    assert out.startswith(
        "entry 3: the replayed decision is identical to the recorded one\n\nHousehold 621126-0003"
    )
    code, out, _ = run(capsys, "log", "show", "1", "--db", db, "--format", "json")
    shown = json.loads(out)
    assert (code, shown["household"], shown["actor"], shown["kind"]) == (0, "621126-0001", "张三", "decision")
    assert shown["outcome"]["id"] == shown["record"]["id"] == "621126-0001"
    # the run's manifest entry ties the entries to the input file
    code, out, _ = run(capsys, "log", "show", "11", "--db", db, "--format", "json")
    manifest = json.loads(out)["manifest"]
    assert manifest["entries"] == [1, 10]
    assert manifest["decisions"] == sum(manifest["verdicts"].values()) == 10
    assert manifest["command"] == "gspolicy log record"
    (given,) = manifest["inputs"]
    assert given["file"].endswith("households.jsonl")
    assert given["bytes"] > 0
    assert given["sha256"].startswith("sha256:")
    code, out, _ = run(capsys, "log", "show", "11", "--db", db)
    assert "the run: entries 1 to 10, 10 decisions" in out
    code, _, err = run(capsys, "log", "replay", "11", "--db", db)
    assert code == 1
    assert "entry `11` is a `run` entry, not a decision" in err


def test_verify_names_the_first_bad_entry(capsys: pytest.CaptureFixture[str], recorded: Path) -> None:
    sqlite3.connect(recorded, isolation_level=None).execute("DELETE FROM entries WHERE id = 4")
    code, out, err = run(capsys, "log", "verify", "--db", str(recorded))
    assert code == 1
    assert out == ""
    assert "entry 4 was deleted" in err


def test_ledger_commands(capsys: pytest.CaptureFixture[str], recorded: Path, tmp_path: Path) -> None:
    db = str(recorded)
    code, out, _ = run(
        capsys, "ledger", "plan", "1", "--db", db, "--actor", "李四", "--deadline", "microcredit=2019-06-30",
        "--period", "60",
    )  # fmt: skip
    assert code == 0
    assert "planned household 621126-0001 from entry 1: 4 items" in out
    assert "  Poverty-alleviation microcredit (`microcredit`)  " in out  # titled, amounts in words
    assert "loan of up to 50,000 yuan/household, term 3 years" in out
    assert "2019-06-30" in out
    assert "2019-03-01" in out  # the decision's date plus the 60 days given
    code, out, _ = run(
        capsys, "ledger", "update", "621126-0001", "microcredit", "--status", "done", "--on", "2019-01-10",
        "--by", "王五", "--evidence", "凭证 2019-001", "--db", db,
    )  # fmt: skip
    # the measure by its title from the pack, its id beside it
    assert (code, out) == (
        0,
        "household 621126-0001, measure Poverty-alleviation microcredit (`microcredit`): done (2019-01-10)\n",
    )
    card = tmp_path / "card.html"
    code, _, _ = run(
        capsys, "ledger", "card", "621126-0001", "--db", db, "-o", str(card), "--today", "2019-06-01"
    )
    page = card.read_text(encoding="utf-8")
    assert code == 0
    assert "精准扶贫明白卡" in page
    assert "缺资金" in page  # the main cause, labelled from the stored schema
    assert "凭证 2019-001" in page
    code, out, _ = run(capsys, "ledger", "overdue", "--db", db, "--today", "2019-06-01", "--format", "json")
    late = json.loads(out)
    assert code == 0
    assert {(i["household"], i["measure"]) for i in late} == {
        ("621126-0001", "housing_renovation"),
        ("621126-0001", "industry_grant"),
        ("621126-0001", "skills_training"),
    }
    assert all(i["days_overdue"] == 92 for i in late)  # due 2019-03-01: 2018-12-31 + 60 days
    assert all(i["deadline"] == "2019-03-01" for i in late)
    code, out, _ = run(capsys, "ledger", "overdue", "--db", db, "--today", "2019-06-01")
    assert "3 overdue items as of 2019-06-01" in out
    assert "Agriculture and Rural Affairs Bureau (agriculture), county 621126:" in out
    code, out, _ = run(capsys, "ledger", "counts", "--db", db, "--format", "json")
    counts = json.loads(out)
    assert code == 0
    assert sum(r["items"] for r in counts) == 4
    assert sum(r["done"] for r in counts) == 1


def test_a_plan_without_deadlines_has_none(capsys: pytest.CaptureFixture[str], recorded: Path) -> None:
    """No deadline is invented: without `--deadline` or `--period` an item has none, is shown so
    in both languages and is never overdue."""
    db = str(recorded)
    code = main(["ledger", "plan", "1", "--db", db, "--actor", "李四", "--lang", "zh"])
    out = capsys.readouterr().out
    assert code == 0
    items = out.splitlines()[1:]
    assert len(items) == 4
    assert all(line.endswith("  无期限") for line in items)
    card = run(capsys, "ledger", "card", "621126-0001", "--db", db, "--today", "2100-01-01")[1]
    assert card.count("<td class='num'>无期限</td>") == 4
    assert "逾期" not in card
    code, out, _ = run(capsys, "ledger", "overdue", "--db", db, "--today", "2100-01-01", "--format", "json")
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = run(capsys, "ledger", "overdue", "--db", db, "--today", "2100-01-01")
    assert out == "0 overdue items as of 2100-01-01\n"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["log", "verify", "--db", "{tmp}/missing.db"], "store/no-log"),
        (["log", "replay", "99", "--db", "{db}"], "store/unknown-entry"),
        (["ledger", "card", "621126-0009", "--db", "{db}"], "ledger/unknown-household"),
        (
            ["ledger", "update", "621126-0001", "microcredit", "--status", "done", "--on", "2999-01-01", "--by", "x",
             "--evidence", "y", "--db", "{db}"],
            "ledger/future-date",
        ),
        (["ledger", "counts", "--quarter", "Q4", "--db", "{db}"], "ledger/bad-quarter"),
        (["log", "verify", "--db", "{db}", "--receipt", "{tmp}/nothing.jsonl"], "io/not-found"),
    ],
)  # fmt: skip
def test_bad_input_exits_1_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], recorded: Path, tmp_path: Path, argv: list[str], expected: str
) -> None:
    run(capsys, "ledger", "plan", "1", "--db", str(recorded), "--actor", "李四")
    args = [a.format(db=recorded, tmp=tmp_path) for a in argv]
    code, out, err = run(capsys, *args)
    assert code == 1
    assert out == ""
    assert expected in err
    assert not (tmp_path / "missing.db").exists()


def test_usage_problems_exit_2(capsys: pytest.CaptureFixture[str], recorded: Path) -> None:
    assert run(capsys, "log")[0] == 2
    assert (
        run(capsys, "ledger", "plan", "1", "--db", str(recorded), "--actor", "x", "--deadline", "nodate")[0]
        == 2
    )
    assert run(capsys, "log", "replay", "0", "--db", str(recorded))[0] == 2
