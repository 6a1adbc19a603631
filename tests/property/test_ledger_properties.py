"""Properties of the household ledger's reports: on any ledger, the quarterly counts and the
overdue items SQL gives are those a plain recount of the rows in Python gives; the overdue list
streamed as JSON is the text `json.dumps` writes; a support text reads back as written."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy.cli import main
from gspolicy.cli.ledger import _json_list
from gspolicy.engine.outcome import support_parts, support_texts
from gspolicy.store.ledger import Ledger, quarter_of
from gspolicy.store.log import DecisionLog

DEPARTMENTS = ("agriculture", "civil_affairs", "poverty_office")
MEASURES = ("industry_grant", "microcredit", "minimum_living", "skills_training")
BATCHES = ("batch.industry", "batch.security", "buffer.campaign")
COUNTIES = (None, "621126", "622926")
TODAY = dt.date(2019, 6, 1)

days = st.dates(dt.date(2018, 1, 1), dt.date(2019, 12, 31))


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Plans of a few households: each a chain of plans, the last current, each with items whose
    status, deadline, batch and department vary (an item not done of a replaced plan superseded)."""
    plans: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 8))):
        household = f"62{draw(st.sampled_from(['1126', '2926']))}-{n:04d}"
        county = draw(st.sampled_from(COUNTIES))
        chain = sorted(draw(st.lists(days, min_size=1, max_size=3, unique=True)))
        for k, on in enumerate(chain):
            current = k == len(chain) - 1
            items = []
            for measure in draw(st.lists(st.sampled_from(MEASURES), min_size=1, max_size=4, unique=True)):
                status = draw(st.sampled_from(("open", "in_progress", "done")))
                items.append(
                    {
                        "measure": measure,
                        "department": draw(st.sampled_from(DEPARTMENTS)),
                        "batch": draw(st.sampled_from(BATCHES)),
                        "deadline": draw(st.none() | days),
                        "status": status if current or status == "done" else "superseded",
                    }
                )
            plans.append({"household": household, "county": county, "planned_on": on, "items": items})
            plans[-1]["current"] = current
    return plans


def _store(db: Path, plans: list[dict[str, Any]]) -> None:
    with DecisionLog.open(db) as log:
        conn = log.connection
        conn.execute("BEGIN")
        current_ids: dict[str, int] = {}
        for n, plan in enumerate(plans, 1):
            old = current_ids.get(plan["household"])
            if old is not None:  # replaced first: a household has one current plan
                conn.execute("UPDATE plans SET superseded_by = ? WHERE id = ?", (n, old))
            conn.execute(
                "INSERT INTO plans (id, household, source, county, planned_on, created_at, actor)"
                " VALUES (?, ?, 'generated', ?, ?, 'now', 'x')",
                (n, plan["household"], plan["county"], plan["planned_on"].isoformat()),
            )
            current_ids[plan["household"]] = n
            for item in plan["items"]:
                deadline = item["deadline"].isoformat() if item["deadline"] else None
                conn.execute(
                    "INSERT INTO items (plan_id, household, measure, title_zh, title_en, department,"
                    " department_zh, department_en, batch, content_zh, content_en, amount, unit, deadline,"
                    " status, done_on) VALUES (?, ?, ?, 't', 't', ?, ?, ?, ?, 'c', 'c', '1', NULL, ?, ?, ?)",
                    (
                        n,
                        plan["household"],
                        item["measure"],
                        item["department"],
                        f"{item['department']}（中）",
                        f"{item['department']} (en)",
                        item["batch"],
                        deadline,
                        item["status"],
                        "2019-01-01" if item["status"] == "done" else None,
                    ),
                )
        conn.execute("COMMIT")


def _recount(plans: list[dict[str, Any]], quarter: str | None) -> list[tuple[Any, ...]]:
    groups: dict[tuple[str, str, str, str], list[Any]] = defaultdict(lambda: [0, set(), 0])
    for plan in plans:
        q = quarter_of(plan["planned_on"])
        if quarter is not None and q != quarter:
            continue
        for item in plan["items"]:
            if item["status"] == "superseded":
                continue
            group = groups[(q, item["batch"], item["measure"], plan["county"] or "")]
            group[0] += 1
            group[1].add(plan["household"])
            group[2] += item["status"] == "done"
    return [(*key, n, len(h), d) for key, (n, h, d) in sorted(groups.items())]


def _late(plans: list[dict[str, Any]], today: dt.date) -> list[tuple[Any, ...]]:
    found = [
        (
            item["department"],
            plan["county"],
            item["deadline"],
            plan["household"],
            item["measure"],
            item["status"],
        )
        for plan in plans
        if plan["current"]
        for item in plan["items"]
        if item["status"] in ("open", "in_progress")
        and item["deadline"] is not None
        and item["deadline"] < today
    ]
    # SQLite sorts a missing county first
    return sorted(found, key=lambda r: (r[0], r[1] is not None, r[1] or "", r[2], r[3], r[4]))


@pytest.mark.slow  # a property over generated ledgers: full suite
@settings(max_examples=40)  # each example a whole ledger on disk and a command run: 40 reach far
@given(ledgers(), st.sampled_from((None, "2018Q1", "2018Q4", "2019Q2", "2019Q4")), days)
def test_counts_and_overdue_are_a_recount_of_the_rows(
    plans: list[dict[str, Any]], quarter: str | None, today: dt.date
) -> None:
    with tempfile.TemporaryDirectory() as place:
        db = Path(place) / "ledger.db"
        _store(db, plans)
        with DecisionLog.open(db, create=False) as log:
            ledger = Ledger(log)
            counts = [
                (r.quarter, r.batch, r.measure, r.county, r.items, r.households, r.done)
                for r in ledger.counts(quarter)
            ]
            assert counts == _recount(plans, quarter)
            late = ledger.overdue(today)
            expected = _late(plans, today)
            assert [
                (i.department, i.county, i.deadline, i.household, i.measure, i.status) for i in late
            ] == expected
            assert ledger.count_overdue(today) == len(expected)
            rows = list(ledger.overdue_rows(today))
            assert [(r.department, r.county, r.household, r.measure, r.status) for r in rows] == [
                (i.department, i.county, i.household, i.measure, i.status) for i in late
            ]
            assert [(r.deadline, r.days_overdue) for r in rows] == [
                (i.deadline_text(), i.days_overdue(today)) for i in late
            ]
        # the command's JSON: the text `json.dumps` writes for the items `overdue` gives
        out = io.StringIO()
        argv = ["ledger", "overdue", "--db", str(db), "--today", today.isoformat(), "--format", "json"]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(argv) == 0
        data = [
            {
                "department": i.department,
                "county": i.county,
                "household": i.household,
                "measure": i.measure,
                "deadline": i.deadline_text(),
                "status": i.status,
                "days_overdue": i.days_overdue(today),
            }
            for i in late
        ]
        assert out.getvalue() == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
values = st.none() | st.integers(-(10**12), 10**12) | texts


@given(st.lists(st.tuples(values, values, values), max_size=4))
def test_the_streamed_json_list_is_json_dumps(objects: list[tuple[Any, Any, Any]]) -> None:
    keys = ("a", "b\u00e9", 'c"')
    expected = json.dumps([dict(zip(keys, o, strict=True)) for o in objects], ensure_ascii=False, indent=2)
    assert "".join(_json_list(iter(objects), keys)) == expected


ids = st.from_regex(r"[a-z][a-z0-9_.]{0,12}", fullmatch=True)
amounts = st.none() | st.sampled_from(
    (
        "5000",
        "0.5",
        "[1000, 3000]",
        "≤ 800",
        "≥ 2",
        "not established",
        "loan, ceiling 50000, term 3 years",
        "loan, drawn 300",
    )
)


@given(st.lists(st.tuples(ids, amounts, ids), max_size=5))
def test_a_support_text_reads_back_as_written(support: list[tuple[str, str | None, str]]) -> None:
    assert [support_parts(t) for t in support_texts(support)] == support
