"""A retained item ends when its measure's `lapses_when` holds (the bundled education pack: the
preschool waiver lapses when no member is enrolled in preschool), stays while it does not, and
stays — naming what would settle it — while it cannot be told.  The traced interpreter, the
per-record evaluator and the columnar runner say the same; a loan is kept as a loan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gspolicy import Policies

AS_OF = dt.date(2019, 6, 30)  # in the campaign buffer of a household that exited on 2018-11-30


def _household(child: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "L-0001",
        "county_code": "621126",
        "region_class": "west",
        "registration": {
            "category": "general",
            "status": "exited",
            "identified_on": dt.date(2014, 6, 1),
            "exited_on": dt.date(2018, 11, 30),
        },
        "support": [
            {"measure": "preschool_fee_waiver", "amount": 1000, "start": dt.date(2017, 9, 1)},
            {"measure": "microcredit", "amount": 30000, "start": dt.date(2017, 3, 1)},
        ],
        "members": [
            {
                "id": "m1",
                "relation": "head",
                "sex": "male",
                "birth_date": dt.date(1980, 3, 1),
                "enrolled": False,
            },
            {"id": "m2", "relation": "child", "sex": "female", "birth_date": dt.date(2014, 5, 1), **child},
        ],
    }


def _same_everywhere(bundled: Policies, household: dict[str, Any]) -> None:
    explained = bundled.evaluate(household, AS_OF)
    fast = bundled.decide(household, AS_OF)
    assert fast == explained.outcome()
    assert fast.support == explained.support
    assert fast.missing == explained.missing
    (frame,) = bundled.decide_table([household], AS_OF)
    row = frame.to_dicts()[0]
    assert row["support"] == fast.to_row()["support"]
    assert row["missing"] == fast.to_row()["missing"]


def test_the_waiver_is_kept_while_a_member_is_in_preschool(bundled: Policies) -> None:
    household = _household({"enrolled": True, "schooling": "preschool"})
    decision = bundled.evaluate(household, AS_OF)
    assert decision.buffer is not None
    waiver = next(r for r in decision.buffer.retained if r.measure == "preschool_fee_waiver")
    assert (waiver.lapsed, waiver.form, waiver.amount) == ("no", "waiver", "1000")
    assert decision.buffer.ended == ()
    assert "preschool_fee_waiver" in {m for m, _, _ in decision.support}
    _same_everywhere(bundled, household)


def test_the_waiver_ends_when_no_member_is_in_preschool(bundled: Policies) -> None:
    household = _household({"enrolled": True, "schooling": "primary"})
    decision = bundled.evaluate(household, AS_OF)
    assert decision.buffer is not None
    assert [r.measure for r in decision.buffer.ended] == ["preschool_fee_waiver"]
    assert "preschool_fee_waiver" not in {r.measure for r in decision.buffer.retained}
    assert "preschool_fee_waiver" not in {m for m, _, _ in decision.support}
    ended = decision.buffer.ended[0]
    assert any(r.path == "members[1].schooling" and r.value == "primary" for r in ended.readings)
    en, zh = decision.render("en"), decision.render("zh")
    # the measure by its title from the pack, its id beside it
    assert (
        "ended Preschool fee waiver (`preschool_fee_waiver`): held on the exit date (support[0]), "
        "but the measure has lapsed" in en
    )
    assert (
        "已终止 学前教育保教费减免（`preschool_fee_waiver`）：退出之日享受该措施（support[0]），但该措施已终止"
        in zh
    )
    data = decision.to_json()
    assert [r["measure"] for r in data["buffer"]["ended"]] == ["preschool_fee_waiver"]
    _same_everywhere(bundled, household)


def test_a_lapse_that_cannot_be_told_keeps_the_item_and_names_what_would_settle_it(bundled: Policies) -> None:
    household = _household({"enrolled": True})  # the child's school stage is not recorded
    decision = bundled.evaluate(household, AS_OF)
    assert decision.buffer is not None
    waiver = next(r for r in decision.buffer.retained if r.measure == "preschool_fee_waiver")
    assert waiver.lapsed == "undetermined"
    assert "members[1].schooling" in waiver.missing
    assert "members[1].schooling" in decision.missing
    assert "members[1].schooling" in bundled.decide(household, AS_OF).missing
    _same_everywhere(bundled, household)


def test_a_retained_loan_is_what_was_drawn(bundled: Policies) -> None:
    household = _household({"enrolled": True, "schooling": "preschool"})
    support = {m: a for m, a, _ in bundled.decide(household, AS_OF).support}
    assert support["microcredit"] == "loan, drawn 30000"
