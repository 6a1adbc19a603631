"""The ledger from a run: plans made from outcome rows — of a log entry or of an outcome table
written by `gspolicy evaluate --output` — the support column saying why, bad tables refused."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from gspolicy.api import Policies
from gspolicy.cli import main
from gspolicy.engine.outcome import support_parts
from gspolicy.errors import PolicyError
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.store import outcome_table as table_module
from gspolicy.store.ledger import Ledger, PlannedItem, plan_items, read_outcome_table
from gspolicy.store.ledger_tables import OVERDUE_WHERE
from gspolicy.store.log import DecisionLog, Receipt
from gspolicy.tables import file_digest
from unit.store._support import AS_OF, EXAMPLES, dump

from support.cli import split_header

LATER = dt.date(2019, 3, 31)
EARLIER = dt.date(2018, 6, 30)


def _evaluate(policies: Path, out: Path, as_of: dt.date) -> None:
    argv = ["evaluate", str(EXAMPLES), "--as-of", as_of.isoformat(), "--policies", str(policies)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main([*argv, "--output", str(out), "--lang", "en"]) == 0


@pytest.fixture(scope="session")
def tables(shared_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Outcome tables of the 60 example households, written by `gspolicy evaluate --output`: as of
    2018-12-31 as Parquet, JSON Lines and CSV; as of 2019-03-31 and 2018-06-30 as Parquet."""
    folder = tmp_path_factory.mktemp("outcomes")
    for suffix in ("parquet", "jsonl", "csv"):
        _evaluate(shared_root, folder / f"out.{suffix}", AS_OF)
    _evaluate(shared_root, folder / "later.parquet", LATER)
    _evaluate(shared_root, folder / "earlier.parquet", EARLIER)
    return folder


def _copy(tables: Path, name: str, dest: Path) -> Path:
    """A copy of one of `tables` and its manifest in `dest`."""
    shutil.copy(tables / name, dest / name)
    shutil.copy(tables / f"{name}.manifest.json", dest / f"{name}.manifest.json")
    return dest / name


def _rewritten(frame: pl.DataFrame, path: Path, manifest: Path) -> Path:
    """`frame` written to `path` with `manifest` beside it, its output hash made the new file's."""
    if path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    body = json.loads(manifest.read_text(encoding="utf-8"))
    body["output"] = {"file": path.name, "sha256": file_digest(path)}
    path.with_name(path.name + ".manifest.json").write_text(json.dumps(body), encoding="utf-8")
    return path


def _current(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Each household's current plan: its date, county and items (their fields, ids left out)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    rows = conn.execute(
        "SELECT plans.household, planned_on, county, measure, title_zh, title_en, department, department_zh,"
        " department_en, batch, content_zh, content_en, amount, unit, deadline, status"
        " FROM items JOIN plans ON plans.id = items.plan_id WHERE superseded_by IS NULL"
        " ORDER BY plans.household, measure"
    )
    for household, *rest in rows:
        found.setdefault(household, []).append(tuple(rest))
    return found


def _plan(capsys: pytest.CaptureFixture[str], *argv: str, lang: str = "en") -> tuple[int, str, str]:
    code = main(["ledger", "plan", *argv, "--lang", lang])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# --- the support column says why -------------------------------------------------------------------


def test_the_support_column_names_the_rule_or_basis(
    policy_set: PolicySet, records: tuple[Record, ...]
) -> None:
    outcome = Policies(policy_set).decide(records[0], AS_OF)  # 621126-0001: in the buffer
    texts = outcome.to_row()["support"]
    assert "industry_grant=7900 (buffer.campaign)" in texts  # held 7,900 at exit: more than granted
    assert "microcredit=loan, ceiling 50000, term 3 years (batch.industry)" in texts
    assert [support_parts(t) for t in texts] == list(outcome.support)
    assert support_parts("dibao=? (buffer.campaign)") == ("dibao", None, "buffer.campaign")
    for bad in ("industry_grant=5000", "=", "x= (r)", "x=5 r)"):
        with pytest.raises(ValueError, match="not a text of the support column"):
            support_parts(bad)


# --- one planning, from an entry or from a row ------------------------------------------------------


def test_a_row_plans_as_its_log_entry(
    log: DecisionLog,
    receipts: list[Receipt],
    records: tuple[Record, ...],
    policy_set: PolicySet,
    tables: Path,
    tmp_path: Path,
) -> None:
    """The entry's outcome row, the per-record evaluator's row and the outcome table's row give one
    plan: item for item, in the ledger as in `plan_items`."""
    policies = Policies(policy_set)
    deadlines = {"microcredit": dt.date(2019, 6, 30)}
    ledger = Ledger(log)
    for receipt, record in zip(receipts, records, strict=False):
        entry = log.entry(receipt.entry)
        from_entry = plan_items(entry.outcome_data(), log.policy_set_of(entry), period_days=30)
        row = policies.decide(record, AS_OF).to_row()
        assert plan_items(row, policy_set, period_days=30) == from_entry
        if from_entry:
            ledger.plan(receipt.entry, actor="planner", period_days=30)
    with DecisionLog.open(tmp_path / "table.db") as other:
        Ledger(other).plan_table(
            read_outcome_table(tables / "out.parquet", policy_set, period_days=30), actor="x"
        )
        from_table = _current(other.connection)
    from_entries = _current(log.connection)
    assert from_entries
    for household, items in from_entries.items():
        assert [i[2:] for i in from_table[household]] == [i[2:] for i in items]  # county: none in the table
    first = plan_items(policies.decide(records[0], AS_OF).to_row(), policy_set, deadlines=deadlines)
    kept = {p.measure: p for p in first}["industry_grant"]
    assert kept == PlannedItem(
        "industry_grant",
        kept.title,
        "agriculture",
        kept.department_title,
        "buffer.campaign",
        kept.content,
        "7900",
        "yuan/household",
        None,
    )
    assert kept.content.en.endswith(", kept until 2020-12-31")
    assert kept.content.zh.endswith("，保留至 2020-12-31")
    assert {p.measure: p.deadline for p in first}["microcredit"] == dt.date(2019, 6, 30)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"support": ["industry_grant=5000 (no_such_rule)"]}, "ledger/unknown-grant"),
        (
            {"support": ["skills_training=1400 (buffer.campaign)"], "buffer": "inactive"},
            "ledger/unknown-grant",
        ),
        ({"support": ["industry_grant=5000"]}, "ledger/bad-support"),
        ({"as_of": None}, "ledger/bad-row"),
    ],
)
def test_a_row_that_cannot_be_planned_is_refused(
    policy_set: PolicySet, records: tuple[Record, ...], change: dict[str, Any], code: str
) -> None:
    row = {**Policies(policy_set).decide(records[0], AS_OF).to_row(), **change}
    with pytest.raises(PolicyError) as err:
        plan_items(row, policy_set, where="entry 1")
    (problem,) = err.value.diagnostics
    assert problem.code == code
    assert "entry 1" in problem.message("en")


# --- from an outcome table, on the command line -----------------------------------------------------


def test_plan_every_household_of_an_outcome_table(
    capsys: pytest.CaptureFixture[str], tables: Path, shared_root: Path, tmp_path: Path, policy_set: PolicySet
) -> None:
    table = _copy(tables, "out.parquet", tmp_path)
    db = tmp_path / "ledger.db"
    argv = ["--from", str(table), "--db", str(db), "--actor", "李四", "--policies", str(shared_root)]
    code, out, err = _plan(capsys, *argv, "--period", "60")
    _header, rest = split_header(err)
    assert (code, rest) == (0, "")
    granting = pl.read_parquet(table).filter(pl.col("support").list.len() > 0)
    expected = {r["id"]: plan_items(r, policy_set, period_days=60) for r in granting.iter_rows(named=True)}
    items = sum(len(v) for v in expected.values())
    digest = file_digest(table)
    assert out.splitlines() == [
        f"planned from the outcome table {table} {digest}",
        "  households read: 60",
        f"  planned: {granting.height}, with {items} items (0 replacing an earlier plan)",
        "  skipped: 0 (already planned from the same or a later decision)",
        f"  nothing to plan: {60 - granting.height}",
    ]
    conn = sqlite3.connect(db)
    assert {r[0] for r in conn.execute("SELECT DISTINCT source FROM plans")} == {f"{table} {digest}"}
    county = dict(zip(granting["id"].to_list(), granting["county"].to_list(), strict=True))
    assert _current(conn) == {  # each household as `plan_items` plans its row, in its county
        household: [
            (
                "2018-12-31",
                county[household],
                p.measure,
                p.title.zh,
                p.title.en,
                p.department,
                p.department_title.zh,
                p.department_title.en,
                p.batch,
                p.content.zh,
                p.content.en,
                p.amount,
                p.unit,
                "2019-03-01",
                "open",
            )
            for p in planned
        ]
        for household, planned in expected.items()
    }
    before = dump(db)
    code, out, _ = _plan(capsys, *argv, lang="zh")  # the same table again: every household skipped
    assert code == 0
    assert f"  跳过：{granting.height} 户（已有依据同一或更新判定的计划）" in out
    assert dump(db) == before
    card = tmp_path / "card.html"
    assert (
        main(
            [
                "ledger",
                "card",
                "621126-0001",
                "--db",
                str(db),
                "-o",
                str(card),
                "--policies",
                str(shared_root),
            ]
        )
        == 0
    )
    page = card.read_text(encoding="utf-8")
    assert f"依据结果表 {table} {digest}" in page
    assert "保留至 2020-12-31" in page
    capsys.readouterr()


def test_json_lines_and_csv_tables_plan_as_parquet(
    tables: Path, policy_set: PolicySet, tmp_path: Path
) -> None:
    plans = []
    for name in ("out.parquet", "out.jsonl", "out.csv"):
        with DecisionLog.open(tmp_path / f"{name}.db") as log:
            table = read_outcome_table(tables / name, policy_set, period_days=60)
            done = Ledger(log).plan_table(table, actor="x", batch_size=7)
            plans.append((done.planned, done.items, done.nothing, _current(log.connection)))
    assert plans[0] == plans[1] == plans[2]
    assert plans[0][0] > 0


def test_a_county_column_is_used(
    tables: Path, policy_set: PolicySet, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frame = pl.read_parquet(tables / "out.parquet")
    counties = frame.with_columns(pl.col("id").str.slice(0, 6).alias("county"))
    path = _rewritten(counties, tmp_path / "counties.parquet", tables / "out.parquet.manifest.json")
    with DecisionLog.open(tmp_path / "l.db") as log:
        with caplog.at_level(logging.INFO, logger="gspolicy"):
            done = Ledger(log).plan_table(read_outcome_table(path, policy_set), actor="x")
        # the library's log says what was planned (docs/reference/api.md, "Logging")
        (logged,) = [r.getMessage() for r in caplog.records if r.name == "gspolicy.store.ledger"]
        assert logged.startswith(
            f"ledger planned from {done.source}: {done.rows} households read, {done.planned} planned "
            f"({done.superseded} replacing a plan), {done.items} items, {done.skipped} skipped, "
            f"{done.nothing} with nothing to plan; "
        )
        plan = Ledger(log).require_plan("622926-0001")
        assert plan.county == "622926"
        assert plan.entry is None
        assert plan.source == f"{path} {file_digest(path)}"
        assert {r.county for r in Ledger(log).counts()} >= {"621126", "622926"}


def test_a_later_table_supersedes_and_an_earlier_one_is_skipped(
    log: DecisionLog, receipts: list[Receipt], tables: Path, policy_set: PolicySet
) -> None:
    ledger = Ledger(log)
    ledger.plan(receipts[0].entry, actor="planner")  # 621126-0001 from its log entry, 2018-12-31
    ledger.update(
        "621126-0001", "microcredit", status="done", on=dt.date(2019, 1, 10), by="王五", evidence="x",
        today=dt.date(2019, 6, 1),
    )  # fmt: skip
    first = ledger.require_plan("621126-0001")
    same = ledger.plan_table(read_outcome_table(tables / "out.parquet", policy_set), actor="x")
    assert same.skipped == 1  # the entry's decision has the table's date: the same decision
    assert ledger.require_plan("621126-0001") == first
    later = ledger.plan_table(read_outcome_table(tables / "later.parquet", policy_set), actor="x")
    assert later.superseded == same.planned + 1
    assert later.skipped == 0
    states = dict(
        log.connection.execute("SELECT measure, status FROM items WHERE plan_id = ?", (first.id,)).fetchall()
    )
    assert states.pop("microcredit") == "done"
    assert set(states.values()) == {"superseded"}
    plan = ledger.require_plan("621126-0001")
    assert (plan.planned_on, plan.entry) == (LATER, None)
    earlier = ledger.plan_table(read_outcome_table(tables / "earlier.parquet", policy_set), actor="x")
    assert (earlier.planned, earlier.skipped) == (0, earlier.rows - earlier.nothing)
    with pytest.raises(PolicyError) as err:  # an entry older than the table's plan
        ledger.plan(receipts[0].entry, actor="planner")
    (problem,) = err.value.diagnostics
    assert problem.code == "ledger/already-planned"
    assert "later.parquet" in problem.message("en")
    assert "（判定日期 2019-03-31）" in problem.message("zh")


def test_a_failure_part_way_keeps_the_batches_committed(
    tables: Path, policy_set: PolicySet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = table_module._write_batch

    def failing_at(n: int) -> Any:
        calls: list[int] = []

        def write(*args: Any) -> dict[str, int]:
            calls.append(1)
            if len(calls) == n:
                raise sqlite3.OperationalError("database or disk is full")
            return real(*args)

        return write

    table = read_outcome_table(tables / "out.parquet", policy_set)
    monkeypatch.setattr(table_module, "_write_batch", failing_at(3))
    with DecisionLog.open(tmp_path / "l.db") as log:
        ledger = Ledger(log)
        with pytest.raises(PolicyError) as err:
            ledger.plan_table(table, actor="x", batch_size=10)
        (problem,) = err.value.diagnostics
        assert problem.code == "ledger/partly-planned"
        assert "the first 20 rows were committed" in problem.message("en")
        assert "database or disk is full" in problem.message("en")
        planned = log.connection.execute("SELECT count(*) FROM plans").fetchone()[0]
        first_20 = pl.read_parquet(tables / "out.parquet").head(20)
        assert planned == first_20.filter(pl.col("support").list.len() > 0).height
        monkeypatch.setattr(table_module, "_write_batch", real)
        again = ledger.plan_table(table, actor="x", batch_size=10)  # the rest; the first are skipped
        assert again.skipped == planned
    monkeypatch.setattr(table_module, "_write_batch", failing_at(1))
    with DecisionLog.open(tmp_path / "fresh.db") as other:
        with pytest.raises(PolicyError) as err:
            Ledger(other).plan_table(table, actor="x", batch_size=10)
        assert err.value.diagnostics[0].code == "ledger/not-planned"
        assert other.connection.execute("SELECT count(*) FROM plans").fetchone()[0] == 0


def _bad(tables: Path, tmp: Path, case: str) -> tuple[Path, list[str]]:
    """The outcome table of a bad case and the extra arguments it is planned with."""
    if case == "missing":
        return tmp / "none.parquet", []
    if case == "excel":
        (tmp / "out.xlsx").write_bytes(b"PK\x03\x04")
        return tmp / "out.xlsx", []
    if case == "not-parquet":
        (tmp / "out.parquet").write_bytes(b"PAR1 this is not Parquet")
        return tmp / "out.parquet", []
    if case == "not-an-outcome-table":
        return _rewritten(
            pl.DataFrame({"id": ["a"]}), tmp / "x.parquet", tables / "out.parquet.manifest.json"
        ), []
    if case == "no-manifest":
        shutil.copy(tables / "out.csv", tmp / "out.csv")
        return tmp / "out.csv", []
    table = _copy(tables, "out.csv", tmp)
    manifest = tmp / "out.csv.manifest.json"
    if case == "bad-manifest":
        manifest.write_text("{not json", encoding="utf-8")
    elif case == "changed":
        with table.open("a", encoding="utf-8") as handle:
            handle.write("\n")
    elif case == "newer-format":
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["format"] += 1
        manifest.write_text(json.dumps(data), encoding="utf-8")
    elif case == "other-packs":
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["packs"][0]["content_hash"] = "sha256:" + "0" * 64
        manifest.write_text(json.dumps(data), encoding="utf-8")
    elif case == "empty-id":
        frame = pl.read_csv(table, infer_schema=False).with_columns(
            pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("id")).alias("id")
        )
        return _rewritten(frame, tmp / "ids.csv", manifest), []
    elif case == "old-support":
        frame = pl.read_csv(table, infer_schema=False).with_columns(
            pl.col("support").str.replace_all(r" \([^)]*\)", "")
        )
        return _rewritten(frame, tmp / "old.csv", manifest), []
    elif case == "unknown-deadline":
        return table, ["--deadline", "industry_grnt=2019-06-30"]
    elif case == "early-deadline":
        return table, ["--deadline", "industry_grant=2018-01-01"]
    elif case == "no-actor":
        return table, ["--actor", " "]
    return table, []


@pytest.mark.parametrize(
    ("case", "code", "said"),
    [
        ("missing", "io/not-found", "none.parquet"),
        ("excel", "ledger/table-format", "`.xlsx`"),
        ("not-parquet", "ledger/unreadable-table", "out.parquet"),
        ("not-an-outcome-table", "ledger/not-an-outcome-table", "`as_of`, `support`, `rules`"),
        ("no-manifest", "ledger/no-manifest", "out.csv.manifest.json"),
        ("bad-manifest", "ledger/bad-manifest", "out.csv.manifest.json"),
        (
            "newer-format",
            "ledger/bad-manifest",
            "it is of format `2`, and this gspolicy reads formats 1 up to 1",
        ),
        ("changed", "ledger/manifest-mismatch", "out.csv"),
        ("other-packs", "ledger/policy-mismatch", "holds that version with content hash"),
        ("empty-id", "ledger/empty-cells", "1 row(s) have no `id`"),
        ("old-support", "ledger/bad-support", "is not `measure=amount (why)`"),
        ("unknown-deadline", "ledger/unknown-deadline-measure", "did you mean `industry_grant`"),
        ("early-deadline", "ledger/bad-deadline", "2018-12-31"),
        ("no-actor", "ledger/missing-actor", "ledger/missing-actor"),
    ],
)
def test_a_bad_table_is_refused_and_nothing_written(
    capsys: pytest.CaptureFixture[str],
    tables: Path,
    shared_root: Path,
    tmp_path: Path,
    case: str,
    code: str,
    said: str,
) -> None:
    table, more = _bad(tables, tmp_path, case)
    db = tmp_path / "ledger.db"
    argv = ["--from", str(table), "--db", str(db), "--actor", "x", "--policies", str(shared_root), *more]
    status, out, err = _plan(capsys, *argv)
    assert (status, out) == (1, "")
    assert code in err
    assert said in err
    assert not db.exists()


def test_an_empty_table_plans_nothing(
    capsys: pytest.CaptureFixture[str], shared_root: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "none.jsonl"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "out.parquet"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(
            [
                "evaluate",
                str(empty),
                "--as-of",
                "2018-12-31",
                "--policies",
                str(shared_root),
                "--output",
                str(out),
            ]
        )
    db = tmp_path / "l.db"
    code, text, _ = _plan(
        capsys, "--from", str(out), "--db", str(db), "--actor", "x", "--policies", str(shared_root)
    )
    assert code == 0
    assert "  households read: 0" in text


# --- the queries the reports run use the indexes ----------------------------------------------------


def test_reports_read_through_their_indexes(log: DecisionLog) -> None:
    conn = log.connection
    day = ("2019-06-01",)

    def plan(query: str, args: tuple[str, ...]) -> str:
        return " ".join(str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + query, args))

    assert "items_open_deadline" in plan("SELECT count(*) FROM items" + OVERDUE_WHERE, day)
    overdue = "SELECT items.id FROM items JOIN plans ON plans.id = items.plan_id" + OVERDUE_WHERE
    assert "items_open_deadline" in plan(overdue, day)
    quarter = "SELECT count(*) FROM items JOIN plans ON plans.id = items.plan_id WHERE plans.planned_on >= ? AND plans.planned_on < ?"
    assert "plans_planned_on" in plan(quarter, ("2018-10-01", "2019-01-01"))
