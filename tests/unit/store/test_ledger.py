"""The household work ledger: plans from logged decisions, progress, refusals that change
nothing, overdue items, quarterly counts, the household's card."""

from __future__ import annotations

import datetime as dt
import html
import sqlite3
from pathlib import Path

import pytest

from gspolicy.errors import PolicyError
from gspolicy.explain.build import decide
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.store.card import render_card
from gspolicy.store.ledger import NO_DEADLINE, Ledger, quarter_of
from gspolicy.store.log import DecisionLog, Receipt
from unit.store._support import AS_OF, dump

TODAY = dt.date(2019, 6, 1)
PERIOD = 60  # days: a period the planner chooses (the ledger has no default)


def _by_household(receipts: list[Receipt]) -> dict[str, int]:
    return {r.household: r.entry for r in receipts}


@pytest.fixture
def ledger(log: DecisionLog) -> Ledger:
    return Ledger(log)


def test_a_plan_holds_one_item_per_measure_the_decision_grants(
    ledger: Ledger, receipts: list[Receipt], records: tuple[Record, ...], policy_set: PolicySet
) -> None:
    entry = _by_household(receipts)["621126-0001"]  # exited in 2017, in the buffer; main cause: funds
    plan = ledger.plan(entry, actor="planner", deadlines={"microcredit": dt.date(2019, 6, 30)})
    decision = decide(policy_set, records[0], AS_OF)
    assert {i.measure for i in plan.items} == {m for m, _, _ in decision.support}
    by = {i.measure: i for i in plan.items}
    grant = by["microcredit"]
    assert (grant.department, grant.department_title.zh, grant.batch) == (
        "poverty_office",
        "扶贫办",
        "batch.industry",
    )
    # a loan: its ceiling and term, never support of 50,000
    assert (grant.amount, grant.unit, grant.deadline) == (
        "loan, ceiling 50000, term 3 years",
        "yuan/household",
        dt.date(2019, 6, 30),
    )
    assert grant.content.zh == "发展生产脱贫一批"
    kept = by["skills_training"]  # retained by the buffer, defined in the test pack
    assert (kept.batch, kept.department, kept.amount) == ("buffer.campaign", "poverty_office", "1400")
    assert kept.deadline is None  # none given: the ledger invents none
    assert (kept.deadline_text("zh"), kept.deadline_text("en")) == ("无期限", "no deadline")
    assert not kept.overdue(dt.date(2100, 1, 1))
    higher = by["industry_grant"]  # granted 5000 by the rule, held 7900 at exit: not reduced
    assert (higher.amount, higher.batch, higher.department) == ("7900", "buffer.campaign", "agriculture")
    assert plan.county == "621126"
    assert all(i.status == "open" for i in plan.items)


def test_progress_is_recorded_and_kept(ledger: Ledger, receipts: list[Receipt]) -> None:
    ledger.plan(_by_household(receipts)["622926-0001"], actor="planner")
    ledger.update(
        "622926-0001", "minimum_living", status="in_progress", on=dt.date(2019, 1, 5), by="王五", today=TODAY
    )
    item = ledger.update(
        "622926-0001",
        "minimum_living",
        status="done",
        on=dt.date(2019, 2, 1),
        by="王五",
        evidence="凭证 7",
        today=TODAY,
    )
    assert (item.status, item.done_on) == ("done", dt.date(2019, 2, 1))
    history = ledger.updates(item.id)
    assert [(u.status, u.on, u.by, u.evidence) for u in history] == [
        ("in_progress", dt.date(2019, 1, 5), "王五", None),
        ("done", dt.date(2019, 2, 1), "王五", "凭证 7"),
    ]


@pytest.mark.parametrize(
    ("household", "measure", "kwargs", "codes"),
    [
        ("621126-9999", "microcredit", {}, {"ledger/unknown-household"}),
        ("621126-0001", "education_aid", {}, {"ledger/unknown-measure"}),
        ("621126-0001", "microcredit", {"on": dt.date(2019, 6, 2)}, {"ledger/future-date"}),
        ("621126-0001", "microcredit", {"on": dt.date(2018, 1, 1)}, {"ledger/before-plan"}),
        ("621126-0001", "microcredit", {"status": "finished"}, {"ledger/bad-status"}),
        ("621126-0001", "microcredit", {"by": " "}, {"ledger/missing-actor"}),
        ("621126-0001", "microcredit", {"evidence": None}, {"ledger/missing-evidence"}),
        (
            "621126-0001",
            "microcrdit",
            {"evidence": None},
            {"ledger/unknown-measure", "ledger/missing-evidence"},
        ),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(
    db: Path,
    ledger: Ledger,
    receipts: list[Receipt],
    household: str,
    measure: str,
    kwargs: dict[str, object],
    codes: set[str],
) -> None:
    ledger.plan(_by_household(receipts)["621126-0001"], actor="planner")
    before = dump(db)
    args: dict[str, object] = {
        "status": "done",
        "on": dt.date(2019, 1, 10),
        "by": "王五",
        "evidence": "凭证 1",
    }
    args.update(kwargs)
    with pytest.raises(PolicyError) as err:
        ledger.update(household, measure, today=TODAY, **args)  # type: ignore[arg-type]
    assert {d.code for d in err.value.diagnostics} == codes
    assert dump(db) == before


def test_a_done_item_is_not_done_twice(db: Path, ledger: Ledger, receipts: list[Receipt]) -> None:
    ledger.plan(_by_household(receipts)["621126-0001"], actor="planner")
    ledger.update(
        "621126-0001",
        "microcredit",
        status="done",
        on=dt.date(2019, 1, 10),
        by="王五",
        evidence="x",
        today=TODAY,
    )
    before = dump(db)
    with pytest.raises(PolicyError) as err:
        ledger.update(
            "621126-0001",
            "microcredit",
            status="done",
            on=dt.date(2019, 2, 1),
            by="王五",
            evidence="y",
            today=TODAY,
        )
    assert err.value.diagnostics[0].code == "ledger/already-done"
    assert dump(db) == before


def test_bad_plans_are_refused_and_change_nothing(db: Path, ledger: Ledger, receipts: list[Receipt]) -> None:
    entry = _by_household(receipts)["621126-0001"]
    ledger.plan(entry, actor="planner")
    before = dump(db)
    cases = [
        (lambda: ledger.plan(entry, actor="planner"), "ledger/already-planned"),
        (lambda: ledger.plan(99, actor="planner"), "store/unknown-entry"),
        (
            lambda: ledger.plan(2, actor="planner", deadlines={"no_such": TODAY}),
            "ledger/unknown-deadline-measure",
        ),
        (
            lambda: ledger.plan(3, actor="planner", deadlines={"minimum_living": dt.date(2017, 1, 1)}),
            "ledger/bad-deadline",
        ),
        (lambda: ledger.plan(2, actor=""), "ledger/missing-actor"),
    ]
    for run, code in cases:
        with pytest.raises(PolicyError) as err:
            run()
        assert err.value.diagnostics[0].code == code
    assert dump(db) == before


def test_a_later_decision_supersedes_the_plan(
    ledger: Ledger,
    log: DecisionLog,
    receipts: list[Receipt],
    records: tuple[Record, ...],
    policy_set: PolicySet,
) -> None:
    first = ledger.plan(_by_household(receipts)["621126-0001"], actor="planner")
    ledger.update(
        "621126-0001",
        "microcredit",
        status="done",
        on=dt.date(2019, 1, 10),
        by="王五",
        evidence="x",
        today=TODAY,
    )
    later = log.record(
        records[0], decide(policy_set, records[0], dt.date(2019, 3, 31)), policy_set, actor="tester"
    )
    second = ledger.plan(later.entry, actor="planner")
    assert second.id != first.id
    assert ledger.current_plan("621126-0001") == second
    states = dict(
        log.connection.execute("SELECT measure, status FROM items WHERE plan_id = ?", (first.id,)).fetchall()
    )
    assert states["microcredit"] == "done"
    assert {s for m, s in states.items() if m != "microcredit"} == {"superseded"}
    with pytest.raises(PolicyError) as err:  # an older decision cannot replace a newer plan
        ledger.plan(_by_household(receipts)["621126-0001"], actor="planner")
    assert err.value.diagnostics[0].code == "ledger/already-planned"


def _plan_all(ledger: Ledger, receipts: list[Receipt], period_days: int | None = None) -> list[str]:
    """Plan every household whose decision grants a measure; return the households planned."""
    planned = []
    for r in receipts:
        decision = ledger.log.entry(r.entry).outcome_data()
        if decision["support"]:
            ledger.plan(r.entry, actor="planner", period_days=period_days)
            planned.append(r.household)
    return planned


def test_overdue_items_are_listed_per_department_and_county(ledger: Ledger, receipts: list[Receipt]) -> None:
    granting = [r for r in receipts if ledger.log.entry(r.entry).outcome_data()["support"]]
    _plan_all(ledger, granting[:-1], period_days=PERIOD)
    last = granting[-1].household  # planned without a period: its items have no deadline
    assert last not in ("621126-0001", "622926-0001")
    assert all(i.deadline is None for i in ledger.plan(granting[-1].entry, actor="planner").items)
    ledger.update(
        "621126-0001",
        "microcredit",
        status="done",
        on=dt.date(2019, 1, 10),
        by="王五",
        evidence="x",
        today=TODAY,
    )
    ledger.update(
        "622926-0001", "minimum_living", status="in_progress", on=dt.date(2019, 1, 10), by="王五", today=TODAY
    )
    deadline = AS_OF + dt.timedelta(days=PERIOD)
    assert ledger.overdue(deadline) == []  # due that day, not yet overdue
    late = ledger.overdue(TODAY)
    keys = [(i.department, i.county or "", i.deadline, i.household, i.measure) for i in late]
    assert keys == sorted(keys)
    assert ("621126-0001", "microcredit") not in {(i.household, i.measure) for i in late}
    assert ("622926-0001", "minimum_living") in {(i.household, i.measure) for i in late}
    assert last not in {i.household for i in ledger.overdue(dt.date(2100, 1, 1))}  # never overdue
    conn = ledger.log.connection
    expected = conn.execute(
        "SELECT count(*) FROM items JOIN plans ON plans.id = items.plan_id"
        " WHERE superseded_by IS NULL AND status IN ('open', 'in_progress') AND deadline < ?",
        (TODAY.isoformat(),),
    ).fetchone()[0]
    assert len(late) == expected > 0


def test_quarterly_counts_match_the_ledgers_rows(
    ledger: Ledger,
    log: DecisionLog,
    receipts: list[Receipt],
    records: tuple[Record, ...],
    policy_set: PolicySet,
) -> None:
    _plan_all(ledger, receipts)
    for record in records[8:14]:  # a second quarter
        r = log.record(record, decide(policy_set, record, dt.date(2019, 2, 15)), policy_set, actor="tester")
        _plan_all(ledger, [r])
    ledger.update(
        "621126-0001",
        "microcredit",
        status="done",
        on=dt.date(2019, 1, 10),
        by="王五",
        evidence="x",
        today=TODAY,
    )
    rows = ledger.counts()
    assert {r.quarter for r in rows} == {"2018Q4", "2019Q1"}
    # the same counts, straight from the rows with SQL
    conn = sqlite3.connect(log.path)
    direct = conn.execute(
        """SELECT substr(p.planned_on, 1, 4) || 'Q' || ((CAST(substr(p.planned_on, 6, 2) AS INTEGER) + 2) / 3),
                  i.batch, i.measure, coalesce(p.county, ''), count(*), count(DISTINCT i.household),
                  sum(i.status = 'done')
           FROM items i JOIN plans p ON p.id = i.plan_id WHERE i.status != 'superseded'
           GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"""
    ).fetchall()
    conn.close()
    assert [(r.quarter, r.batch, r.measure, r.county, r.items, r.households, r.done) for r in rows] == direct
    assert sum(r.done for r in rows) == 1
    assert ledger.counts("2019Q1") == [r for r in rows if r.quarter == "2019Q1"]
    with pytest.raises(PolicyError) as err:
        ledger.counts("2019-Q1")
    assert err.value.diagnostics[0].code == "ledger/bad-quarter"


def test_quarter_of() -> None:
    assert [quarter_of(dt.date(2018, m, 1)) for m in (1, 3, 4, 6, 7, 9, 10, 12)] == [
        "2018Q1",
        "2018Q1",
        "2018Q2",
        "2018Q2",
        "2018Q3",
        "2018Q3",
        "2018Q4",
        "2018Q4",
    ]


def test_the_card_of_an_example_household(ledger: Ledger, log: DecisionLog, receipts: list[Receipt]) -> None:
    plan = ledger.plan(
        _by_household(receipts)["621126-0001"],
        actor="planner <script>",
        deadlines={"skills_training": dt.date(2019, 3, 31)},
    )
    ledger.update(
        "621126-0001",
        "microcredit",
        status="done",
        on=dt.date(2019, 1, 10),
        by="王五",
        evidence="凭证 <1> & 2",
        today=TODAY,
    )
    plan = ledger.require_plan("621126-0001")
    updates = {i.id: ledger.updates(i.id) for i in plan.items}
    entry = log.entry(plan.entry)
    record, schema = entry.record_data(), log.policy_set_of(entry).schema
    page = render_card(
        plan, updates, record=record, schema=schema, today=TODAY, labels={"lack_of_funds": "缺资金"}
    )
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert "精准扶贫明白卡" in page
    for item in plan.items:
        assert html.escape(item.title.zh) in page
        assert item.deadline_text("zh") in page
    assert page.count(f"<td class='num'>{NO_DEADLINE.zh}</td>") == len(plan.items) - 1
    for text in ("扶贫小额信贷", "扶贫办", "农业农村局", "缺资金", "已完成", "未开始（逾期）"):
        assert text in page
    assert "凭证 &lt;1&gt; &amp; 2" in page  # escaped
    assert "<script>" not in page
    assert plan.entry_hash in page
    assert "@media print" in page
    assert "http" not in page.lower().replace('lang="zh-cn"', "")  # no external assets
    assert page.count('<tr class="overdue">') == sum(1 for i in plan.items if i.overdue(TODAY))
