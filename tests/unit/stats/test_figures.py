"""The reference computation of a statistics pack's figures: properties over generated
households (each with a planted-bug twin showing the property can fail), and the quarter."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy.api import Policies
from gspolicy.engine.outcome import Outcome, decide_outcome
from gspolicy.errors import PolicyError
from gspolicy.pack.load import load_policies
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.stats import Figures, Quarter, figures, parse_quarter
from unit.stats._demo import demo_set

figures_module = importlib.import_module("gspolicy.stats.figures")  # the name `figures` is the function

COUNTIES = ("620521", "621027")
QUARTERS = [Quarter(2018, 3), Quarter(2018, 4), Quarter(2019, 1), Quarter(2019, 2)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    return demo_set(tmp_path_factory.mktemp("stats"))


def _household(number: int, county: str, income: int | None, exited: dt.date | None) -> dict[str, object]:
    data: dict[str, object] = {"id": f"{county}-{number:04d}", "county_code": county}
    if income is not None:
        data["income"] = {"per_capita": income}
    if exited is not None:
        data["registration"] = {"identified_on": "2016-01-01", "exited_on": exited.isoformat()}
    return data


households = st.lists(
    st.tuples(
        st.sampled_from(COUNTIES),
        st.none() | st.integers(2000, 6000),
        st.none() | st.dates(dt.date(2018, 5, 1), dt.date(2019, 8, 31)),
    ),
    max_size=12,
).map(lambda rows: [_household(i, *row) for i, row in enumerate(rows)])


def _pairs(
    policy_set: PolicySet, rows: list[dict[str, object]], quarter: Quarter
) -> list[tuple[Record, Outcome]]:
    policies = Policies(policy_set)
    records = [policies.household(row) for row in rows]
    return [(r, decide_outcome(policy_set, r, quarter.last, exit_pack="demo.exit")) for r in records]


def _income(record: Record) -> int | None:
    income = record.get("income")
    value = income.get("per_capita") if isinstance(income, Record) else None
    return int(value) if isinstance(value, int | Decimal) else None


def _exited(record: Record) -> dt.date | None:
    registration = record.get("registration")
    day = registration.get("exited_on") if isinstance(registration, Record) else None
    return day if isinstance(day, dt.date) else None


# -- the properties, as checks that name what breaks them ----------------------------------------------


def batch_rows_not_members(found: Figures, pairs: Sequence[tuple[Record, Outcome]]) -> list[str]:
    """Households counted in a batch row whose outcome holds no rule of that batch pack."""
    outcomes = {o.record: o for _r, o in pairs}
    wrong = []
    for (batch,), cell in found.tables["s.in_batch"].cells.items():
        for household in cell.households:
            result = outcomes[household].pack(batch)
            if result is None or not any(r.holds == "yes" for r in result.rules):
                wrong.append(f"{household} in {batch}")
    return wrong


def flows_outside(found: Figures, pairs: Sequence[tuple[Record, Outcome]]) -> set[str]:
    """The difference between the households a flow counts and those dated within the quarter."""
    q = found.quarter
    dated = {o.record for r, o in pairs if (d := _exited(r)) is not None and q.first <= d <= q.last}
    return set(found.tables["s.exited"].total.households) ^ dated


def test_a_household_in_a_batch_row_is_a_member_of_that_batch(demo: PolicySet) -> None:
    @settings(max_examples=25, deadline=None)
    @given(households, st.sampled_from(QUARTERS))
    def check(rows: list[dict[str, object]], quarter: Quarter) -> None:
        pairs = _pairs(demo, rows, quarter)
        assert batch_rows_not_members(figures(demo, pairs, quarter), pairs) == []

    check()


def test_planted_every_household_in_every_batch_is_found(
    demo: PolicySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    quarter = QUARTERS[0]
    pairs = _pairs(demo, [_household(1, COUNTIES[0], 5500, None)], quarter)  # no rule holds
    monkeypatch.setattr(
        figures_module, "_memberships", lambda _acc, subject, _ctx, _o: ([p.id for p in subject.batches], [])
    )
    assert batch_rows_not_members(figures(demo, pairs, quarter), pairs) == [
        "620521-0001 in demo.a",
        "620521-0001 in demo.b",
    ]


def test_a_flow_counts_only_dates_inside_the_quarter(demo: PolicySet) -> None:
    @settings(max_examples=25, deadline=None)
    @given(households, st.sampled_from(QUARTERS))
    def check(rows: list[dict[str, object]], quarter: Quarter) -> None:
        pairs = _pairs(demo, rows, quarter)
        found = figures(demo, pairs, quarter)
        assert flows_outside(found, pairs) == set()
        by_county = {key[0]: cell.value for key, cell in found.tables["s.exited"].cells.items()}
        assert sum(by_county.values()) == found.tables["s.exited"].total.value

    check()


def test_planted_a_flow_open_at_the_end_is_found(demo: PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    quarter = QUARTERS[0]
    later = quarter.last + dt.timedelta(days=1)
    pairs = _pairs(demo, [_household(1, COUNTIES[0], 3000, later)], quarter)
    monkeypatch.setattr(
        Quarter, "__contains__", lambda self, day: isinstance(day, dt.date) and self.first <= day
    )
    assert flows_outside(figures(demo, pairs, quarter), pairs) == {"620521-0001"}


def test_the_stock_total_is_the_households_satisfying_the_condition(demo: PolicySet) -> None:
    @settings(max_examples=25, deadline=None)
    @given(households, st.sampled_from(QUARTERS))
    def check(rows: list[dict[str, object]], quarter: Quarter) -> None:
        pairs = _pairs(demo, rows, quarter)
        table = figures(demo, pairs, quarter).tables["s.poor"]
        poor = sorted(o.record for r, o in pairs if (i := _income(r)) is not None and i < 4500)
        assert table.total.households == tuple(poor)
        assert table.total.value == len(poor)
        assert table.undetermined == tuple(sorted(o.record for r, o in pairs if _income(r) is None))
        for (county,), cell in table.cells.items():
            assert cell.value == len(cell.households)
            assert all(h.startswith(county) for h in cell.households)
            assert list(cell.households) == sorted(cell.households)

    check()


def test_batch_rows_add_up_to_at_least_the_total(demo: PolicySet) -> None:
    @settings(max_examples=25, deadline=None)
    @given(households, st.sampled_from(QUARTERS))
    def check(rows: list[dict[str, object]], quarter: Quarter) -> None:
        pairs = _pairs(demo, rows, quarter)
        table = figures(demo, pairs, quarter).tables["s.in_batch"]
        rows_sum = sum(cell.value for cell in table.cells.values())
        in_both = [o.record for r, o in pairs if (i := _income(r)) is not None and i < 4000]
        assert rows_sum == table.total.value + len(in_both)  # demo.b's households are in demo.a too
        assert rows_sum >= table.total.value

    check()


def test_a_sum_adds_the_number_where_its_condition_holds(demo: PolicySet) -> None:
    @settings(max_examples=25, deadline=None)
    @given(households, st.sampled_from(QUARTERS))
    def check(rows: list[dict[str, object]], quarter: Quarter) -> None:
        pairs = _pairs(demo, rows, quarter)
        table = figures(demo, pairs, quarter).tables["s.income"]
        incomes = [i for r, _o in pairs if (i := _income(r)) is not None and i < 5000]
        assert table.total.value == sum(incomes)
        assert table.cells.get((), None) is None or table.cells[()].value == sum(incomes)

    check()


def test_outcomes_decided_on_another_day_are_refused(demo: PolicySet) -> None:
    quarter = QUARTERS[0]
    pairs = _pairs(demo, [_household(1, COUNTIES[0], 3000, None)], QUARTERS[1])
    with pytest.raises(PolicyError) as raised:
        figures(demo, pairs, quarter)
    assert raised.value.diagnostics[0].code == "stats/outcome-date"


# -- quarters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2020Q4", "2020-10-01", "2020-12-31"),
        ("2020Q1", "2020-01-01", "2020-03-31"),
        ("2019Q2", "2019-04-01", "2019-06-30"),
    ],
)
def test_a_quarter_has_its_first_and_last_days(text: str, first: str, last: str) -> None:
    quarter = parse_quarter(text)
    assert (quarter.first.isoformat(), quarter.last.isoformat(), str(quarter)) == (first, last, text)


@settings(max_examples=50, deadline=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
def test_every_day_is_in_exactly_one_quarter(day: dt.date) -> None:
    holding = [n for n in range(1, 5) if day in Quarter(day.year, n)]
    assert holding == [(day.month - 1) // 3 + 1]


@pytest.mark.parametrize("text", ["2020Q5", "2020Q0", "20Q4", "2020-Q4", "q4 2020", "", "0000Q1"])
def test_a_bad_quarter_is_a_located_error(text: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_quarter(text, context=(("option", "--quarter"),))
    found = raised.value.diagnostics[0]
    assert found.code == "stats/bad-quarter"
    assert found.context == (("option", "--quarter"),)
    assert "--quarter" in found.render("en")
    assert "季度" in found.render("zh")


def test_an_indicator_declared_by_two_packs_in_force_is_refused(tmp_path: Path) -> None:
    policy_set = demo_set(tmp_path)
    other = (tmp_path / "demo" / "stats.yaml").read_text(encoding="utf-8").replace("demo.stats", "demo.more")
    (tmp_path / "demo" / "more.yaml").write_text(other, encoding="utf-8")
    policy_set, problems = load_policies([tmp_path])
    assert policy_set is not None, problems
    with pytest.raises(PolicyError) as raised:
        figures(policy_set, [], QUARTERS[0])
    assert raised.value.diagnostics[0].code == "stats/duplicate-indicator"
