"""The main job's summary, computed from outcomes (`gspolicy.engine.outcome.Outcome`), not decisions.

Verdicts, failing criteria, what undetermined decisions lack, the share of households in each batch
per county, and an optional listing — never from explained decisions, so a run explains only the
households it prints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from gspolicy._glossary import group
from gspolicy._i18n import Lang
from gspolicy.engine.outcome import Outcome
from gspolicy.schema.model import Record

if TYPE_CHECKING:
    from gspolicy.explain.summaries import SummaryPlan

__all__ = ["VERDICT_WORDS", "examples", "household_summary"]

VERDICT_WORDS: dict[str | None, tuple[str, str]] = {
    (None if key == "none" else key): (text.zh, text.en) for key, text in group("verdict").items()
}
"""The verdicts in Chinese and English, from the glossary (no verdict: None)."""


def examples(outcomes: Sequence[Outcome], n: int) -> list[Outcome]:
    """Up to `n` outcomes to explain: one of each verdict first, then in order."""
    if n <= 0:
        return []
    picked: list[Outcome] = []
    for verdict in ("pass", "fail", "undetermined", "not_applicable"):
        found = next((o for o in outcomes if o.verdict == verdict), None)
        if found is not None:
            picked.append(found)
    chosen = {id(o) for o in picked}
    rest = [o for o in outcomes if id(o) not in chosen]
    return (picked + rest)[:n]


_LISTS = ("failing", "undetermined", "missing", "rules", "rules_undetermined", "findings")


def household_summary(
    outcomes: Sequence[Outcome],
    lang: Lang,
    *,
    as_of: dt.date,
    plan: SummaryPlan,
    listing: bool = False,
    records_by_id: Mapping[str, Record] | None = None,
    county_names: Mapping[str, str] | None = None,
) -> str:
    """The summary of a run over households (and, with `listing`, one line per household): the
    text `gspolicy.explain.summaries` gives from the outcome table, from the same rows."""
    # Polars only when a summary is made
    import polars as pl  # noqa: PLC0415

    from gspolicy.explain.summaries import exit_settle, table_summary  # noqa: PLC0415

    rows = [o.to_row() for o in outcomes]
    schema = {"id": pl.String(), "verdict": pl.String(), "buffer": pl.String()} | {
        name: pl.List(pl.String()) for name in _LISTS
    }
    table = pl.DataFrame([{k: row[k] for k in schema} for row in rows], schema=schema)
    records = records_by_id or {}
    county = plan.county  # the field of the role `county_code`
    county_of = [str(records[o.record].get(county, "?")) if o.record in records else "?" for o in outcomes]
    return table_summary(
        table,
        lang,
        as_of=as_of,
        plan=plan,
        county_of=county_of,
        settle_of=lambda row: exit_settle(outcomes[row]),
        listing=listing,
        county_names=county_names,
    )
