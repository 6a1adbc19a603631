"""`Policies.decide_table`: the outcome table, chunked, equal to `decide` row for row."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import polars as pl
import pytest

from gspolicy import HouseholdError, Outcome, Policies, PolicyError
from gspolicy.columnar.runner import table_schema

from support.bundled import shared_registry

DAY = dt.date(2018, 12, 31)


def _typed(outcome: Outcome) -> dict[str, Any]:
    row = outcome.to_row()
    row["as_of"] = dt.date.fromisoformat(row["as_of"])
    if row["buffer_until"] is not None:
        row["buffer_until"] = dt.date.fromisoformat(row["buffer_until"])
    return row


@pytest.mark.slow
@pytest.mark.parametrize("day", [DAY, dt.date(2020, 6, 30)])
def test_every_row_equals_decide_on_the_example_registry(bundled: Policies, day: dt.date) -> None:
    households = shared_registry()
    frames = list(bundled.decide_table(households, day))
    assert len(frames) == 1
    rows = frames[0].to_dicts()
    assert len(rows) == len(households)
    wrong = [r["id"] for r, h in zip(rows, households, strict=True) if r != _typed(bundled.decide(h, day))]
    assert wrong == []
    # the registry exercises what the table composes: retained history, undetermined, failing
    table = frames[0]
    assert table.filter(pl.col("buffer") == "active").height > 0
    assert table.filter(pl.col("verdict") == "undetermined").height > 0
    assert table.filter(pl.col("failing").list.len() > 0).height > 0


def test_the_schema_is_typed_and_names_every_pack_in_force(bundled: Policies) -> None:
    frame = next(bundled.decide_table(shared_registry()[:3], DAY))
    keys = [p.key for p in bundled.policy_set.all_in_force(DAY) if p.subject == "household"]
    assert frame.schema == pl.Schema(table_schema(keys))
    assert frame["as_of"].to_list() == [DAY] * 3


def test_chunks_keep_order_and_size(bundled: Policies) -> None:
    households = shared_registry()[:20]
    frames = list(bundled.decide_table(households, DAY, chunk_size=7))
    assert [f.height for f in frames] == [7, 7, 6]
    whole = next(bundled.decide_table(households, DAY))
    assert pl.concat(frames).equals(whole)
    assert whole["id"].to_list() == [h.get("id") for h in households]
    assert whole.to_dicts() == [_typed(bundled.decide(h, DAY)) for h in households]


def test_plain_data_is_validated(bundled: Policies) -> None:
    good = {"id": "620000-0001", "size": 2}
    frame = next(bundled.decide_table([good], "2018-12-31"))
    assert frame.to_dicts() == [_typed(bundled.decide(good, DAY))]
    with pytest.raises(HouseholdError, match="size"):
        list(bundled.decide_table([good, {"id": "620000-0002", "size": "two"}], DAY))


def test_nothing_in_gives_nothing_out(bundled: Policies) -> None:
    assert list(bundled.decide_table([], DAY)) == []


@pytest.mark.parametrize("size", [0, -1, True, 2.5, "100", 10**9])
def test_a_bad_chunk_size_is_refused(bundled: Policies, size: object) -> None:
    with pytest.raises(PolicyError) as caught:
        list(bundled.decide_table(shared_registry()[:1], DAY, chunk_size=size))  # type: ignore[arg-type]
    assert [d.code for d in caught.value.diagnostics] == ["api/bad-chunk-size"]


def test_an_unknown_exit_pack_is_refused(bundled: Policies) -> None:
    with pytest.raises(PolicyError) as caught:
        list(bundled.decide_table(shared_registry()[:1], DAY, exit_pack="exit_criteria.houshold"))
    assert [d.code for d in caught.value.diagnostics] == ["api/unknown-pack"]


def test_no_bundled_pack_is_decided_record_by_record(bundled: Policies) -> None:
    for day in (dt.date(2016, 6, 30), DAY, dt.date(2021, 6, 30)):
        assert bundled.columnar_report(day) == ()


def test_a_pack_that_cannot_be_lowered_is_reported_and_still_decided(bundled: Policies) -> None:
    """The area packs divide (a share of households), which the runner leaves to the per-record
    evaluator: the report names each with the reason."""
    report = bundled.columnar_report(DAY, "village")
    assert report
    assert all("division" in reason for _key, reason in report)


def test_the_command_line_does_not_import_polars() -> None:
    code = "import sys, gspolicy, gspolicy.cli; print('polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("short", [None, 100])
def test_retained_history_of_every_kind_equals_decide(
    bundled: Policies, short: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Households whose buffer retains history items, also with two items of one measure (their
    order then decides the support), an item without amount, two amounts of a measure; and (with
    `short`) every amount from 100 read from the record, as amounts of more than ten digits
    are: every row as `decide` gives it."""
    if short is not None:
        from decimal import Decimal

        from gspolicy.columnar import retained

        monkeypatch.setattr(retained, "SHORT_AMOUNT", Decimal(short))
    households = [h for h in shared_registry() if h.get("support") and h["registration"].get("exited_on")][
        :40
    ]
    assert households
    table = next(bundled.decide_table(households, DAY))
    active = table.filter(pl.col("buffer") == "active")["id"].to_list()
    assert len(active) >= 10
    picked = [h for h in households if h.get("id") in set(active)][:4]
    changed = []
    for n, household in enumerate(picked):
        data = household.to_data()
        items = data["support"]
        if n == 0:
            items.append(dict(items[0]))  # the same measure twice
        elif n == 1:
            items[0].pop("amount", None)
        elif n == 2:
            items.append(dict(items[-1], amount=items[-1].get("amount", 0) + 1))  # two amounts
        changed.append(data)
    records = [*(bundled.household(d) for d in changed), *households]
    rows = next(bundled.decide_table(records, DAY)).to_dicts()
    assert rows == [_typed(bundled.decide(h, DAY)) for h in records]


@pytest.mark.slow
def test_derived_item_fields_equal_the_per_record_evaluator(bundled: Policies) -> None:
    """What an area's item takes from a household (its exit verdict, whether an identification
    rule applies, what each lacks when missing), by columns, equals the per-record evaluator's
    on every household of the example registry; a pack not in force gives missing, lacking it."""
    from gspolicy.columnar.runner import decide_frame, derived_column, lacks_column
    from gspolicy.engine.compiled import lower
    from gspolicy.engine.outcome import derived_lacks, derived_value

    households = shared_registry()
    policy_set = bundled.policy_set
    derive = [
        ("exit_criteria.household", "verdict"),
        ("identification.household", "any_rule"),
        ("no.such_pack", "verdict"),
    ]
    table, _report = decide_frame(
        policy_set, households, DAY, exit_pack="exit_criteria.household", derive=derive
    )
    packs = {p.id: p for p in policy_set.all_in_force(DAY)}
    seen: set[object] = set()
    for pack, form in derive:
        got = zip(
            table[derived_column(pack, form)].to_list(),
            table[lacks_column(pack, form)].to_list(),
            strict=True,
        )
        for household, (value, lacks) in zip(households, got, strict=True):
            values = lower(packs[pack], DAY).run(household) if pack in packs else None
            want = derived_value(values, form)
            assert (value, lacks) == (want, list(derived_lacks(values, pack)) if want is None else []), (
                household.get("id")
            )
            seen.add(value)
    assert seen == {True, False, None}
