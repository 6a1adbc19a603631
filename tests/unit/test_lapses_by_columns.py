"""A retained item's `lapses_when` computed by columns (`lapses_by_columns`) gives every household
the row the per-record evaluator gives it: lapsed items end, undetermined ones say what they lack.
Held on registry households whose buffer retains items of measures that may lapse, their members'
school stage, enrolment and dropping out drawn anew (missing too); a planted twin that reads a
lapsed item as kept is caught."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy import Outcome
from gspolicy.columnar import retained
from gspolicy.columnar.run import Lapses, lapses_by_columns, plan_run
from gspolicy.lang.values import Value
from gspolicy.schema.model import Record

from support.bundled import shared_policies, shared_registry

POLICIES = shared_policies()
DAY = dt.date(2018, 12, 31)
RUN = plan_run(POLICIES.policy_set, "household", DAY)
LAPSING = frozenset(RUN.lapses.index) if RUN.lapses is not None else frozenset()


def _base() -> list[Record]:
    """Registry households whose buffer is active and holds items of a measure that may lapse."""
    held = [
        h
        for h in shared_registry()
        if any(item.get("measure") in LAPSING for item in h.get("support") or ()) and h.get("members")
    ][:60]
    table = next(POLICIES.decide_table(held, DAY))
    active = set(table.filter(pl.col("buffer") == "active")["id"].to_list())
    return [h for h in held if h.get("id") in active][:6]


BASE = _base()


def _typed(outcome: Outcome) -> dict[str, Any]:
    row = outcome.to_row()
    row["as_of"] = dt.date.fromisoformat(row["as_of"])
    if row["buffer_until"] is not None:
        row["buffer_until"] = dt.date.fromisoformat(row["buffer_until"])
    return row


@contextmanager
def _counted(reads: list[int], twin: bool = False) -> Iterator[None]:
    """Counts the lapses computed by columns; `twin`: a planted bug reading a lapsed item as kept."""

    def spy(lapses: Lapses, frames: Any, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], Value]:
        out = lapses_by_columns(lapses, frames, pairs)
        reads.append(len(out))
        return {k: (False if twin and v is True else v) for k, v in out.items()}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retained, "lapses_by_columns", spy)
        yield


def _alike(households: Sequence[Record], twin: bool = False) -> tuple[bool, int]:
    reads: list[int] = []
    with _counted(reads, twin):
        rows = next(POLICIES.decide_table(list(households), DAY)).to_dicts()
    return rows == [_typed(POLICIES.decide(h, DAY)) for h in households], sum(reads)


def test_every_bundled_lapses_when_lowers() -> None:
    declared = {m for p in POLICIES.policy_set.packs for m in p.lapses if p.subject == "household"}
    assert declared == LAPSING
    assert len(BASE) >= 4


_STAGES = ["preschool", "senior_secondary", "secondary_vocational", "higher_vocational", "primary"]


@st.composite
def _households(draw: st.DrawFn) -> list[Record]:
    out = []
    for household in BASE:
        data = household.to_data()
        for member in data["members"]:
            for field, values in (
                ("schooling", _STAGES),
                ("enrolled", [True, False]),
                ("dropped_out", [False, True]),
            ):
                value = draw(st.sampled_from([None, *values]))
                if value is None:
                    member.pop(field, None)  # missing: whether the item lapsed may be undetermined
                else:
                    member[field] = value
        out.append(POLICIES.household(data))
    return out


@settings(max_examples=8, deadline=None)
@given(_households())
def test_lapsing_retained_items_decide_alike_by_columns_and_by_records(households: list[Record]) -> None:
    alike, by_columns = _alike(households)
    assert alike
    assert by_columns > 0  # the lapses were computed by columns, not read on the records


def test_a_planted_twin_keeping_lapsed_items_is_caught() -> None:
    alike, by_columns = _alike(BASE)
    assert alike
    assert by_columns > 0
    twin_alike, _ = _alike(BASE, twin=True)
    assert not twin_alike
