"""The villages and counties of a streamed ``gspolicy evaluate`` run, a county at a time.

They are decided from what was kept of each household (the fields the areas' packs read), a part
— a county and its villages — at a time, and the parts joined as deciding every area at once
gives them."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from gspolicy._i18n import Lang, Text
from gspolicy.cli._progress import Progress
from gspolicy.explain.area_reads import AreaReads
from gspolicy.explain.areas import AreaDecision, AreaResult, decide_areas
from gspolicy.explain.gather import gathering_order
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record, Schema

if TYPE_CHECKING:  # Polars is imported only when a table is decided
    import polars as pl


__all__ = ["StreamedAreas", "streamed_areas"]


@attrs.frozen
class StreamedAreas:
    """The area files of a streamed run (village and county records) and what their packs read
    of each household."""

    records: Mapping[str, tuple[Record, ...]]
    reads: AreaReads


def streamed_areas(
    args: argparse.Namespace,
    lang: Lang,
    policy_set: PolicySet,
    as_of: dt.date,
    areas: StreamedAreas,
    kept_parts: list[pl.DataFrame],
) -> tuple[AreaResult, Callable[[str, Sequence[str]], dict[str, AreaDecision]]]:
    """The villages and counties of a streamed run, from what was kept of each household: every
    area's outcome by the per-record evaluator, and a function explaining the areas of a level
    named by code (deciding again only the parts that hold them)."""
    import polars as pl  # noqa: PLC0415

    from gspolicy.columnar.registry import records_of_kept  # noqa: PLC0415
    from gspolicy.columnar.runner import derived_column, lacks_column  # noqa: PLC0415

    reads = areas.reads
    schema = policy_set.schema
    kept = pl.concat(kept_parts) if kept_parts else _nothing_kept(reads)
    kept_parts.clear()
    packs = {k: v for k, v in (("village", args.village_pack), ("county", args.county_pack)) if v}
    parts = _area_partitions(schema, areas.records, kept)

    def decided(
        mask: pl.Expr | None,
        records: Mapping[str, Sequence[Record]],
        explain: Callable[[str, str], bool],
        step: Callable[[], None] | None = None,
    ) -> AreaResult:
        # one partition at a time (a county, its villages and their households): only its
        # households are held as records
        chosen = kept.filter(mask) if mask is not None else kept
        households = records_of_kept(schema, reads.paths, chosen)
        columns = {
            pf: (chosen[derived_column(*pf)].to_list(), chosen[lacks_column(*pf)].to_list())
            for pf in reads.derive
        }

        def fields(index: int) -> Mapping[tuple[str, str], tuple[bool | None, tuple[str, ...]]]:
            return {pf: (values[index], tuple(lacks[index])) for pf, (values, lacks) in columns.items()}

        return decide_areas(
            policy_set,
            {"household": households, **records},
            as_of,
            packs=packs,
            item_fields={"household": fields},
            decided_one=step,
            explain=explain,
        )

    progress = Progress(sys.stderr, "已判定村县数" if lang == "zh" else "villages and counties decided")
    with progress:
        results = [
            decided(mask, records, lambda _level, _code: False, lambda: progress.advance(1))
            for mask, records in parts
        ]

    def explained(level: str, codes: Sequence[str]) -> dict[str, AreaDecision]:
        wanted = set(codes)
        key = schema.records[level].key or ""
        found: dict[str, AreaDecision] = {}
        for mask, records in parts:
            if any(str(r.get(key)) in wanted for r in records.get(level, ())):
                result = decided(mask, records, lambda lv, code: lv == level and code in wanted)
                found.update((a.code, a) for a in (*result.villages, *result.counties))
        return found

    return _joined_areas(schema, as_of, areas.records, kept, results), explained


def _nothing_kept(reads: AreaReads) -> pl.DataFrame:
    """No household kept: an empty frame of the kept and derived columns."""
    import polars as pl  # noqa: PLC0415

    from gspolicy.columnar.runner import derived_schema  # noqa: PLC0415

    schema: dict[str, pl.DataType] = {".".join(p): pl.String() for p in reads.paths}
    return pl.DataFrame(schema={**schema, **derived_schema(reads.derive)})


def _area_partitions(
    schema: Schema, areas: Mapping[str, Sequence[Record]], kept: pl.DataFrame
) -> list[tuple[pl.Expr | None, dict[str, list[Record]]]]:
    """The areas split by the type that gathers every other (a county with its villages), each
    with the households any of its areas gathers (a household whose village lies in another
    county belongs to both); one part of everything when the areas are not shaped so."""
    import polars as pl  # noqa: PLC0415

    root = schema.root
    whole: list[tuple[pl.Expr | None, dict[str, list[Record]]]] = [
        (None, {k: list(v) for k, v in areas.items()})
    ]
    gathered_by: dict[str, dict[str, str]] = {}  # holder -> gathered type -> by field
    for holder in areas:
        for field in schema.records[holder].fields.values():
            if field.gather is not None:
                gathered_by.setdefault(holder, {})[field.gather.records] = field.gather.by
    tops = [t for t in areas if not any(t in g for h, g in gathered_by.items() if h != t)]
    if len(tops) != 1:
        return whole
    top = tops[0]
    top_key = schema.records[top].key
    others = [t for t in areas if t != top]
    if top_key is None or any(t not in gathered_by.get(top, {}) for t in others):
        return whole
    if any(root not in gathered_by.get(t, {}) for t in areas) or any(
        schema.records[t].key is None for t in others
    ):
        return whole
    # the part of each area: a top area its key, another the top it belongs to
    part_of: dict[str, dict[str, str | None]] = {}
    for t in others:
        key = schema.records[t].key
        assert key is not None
        by = gathered_by[top][t]
        part_of[t] = {str(r.get(key)): _text_or_none(r.get(by)) for r in areas[t]}
    parts: dict[str | None, dict[str, list[Record]]] = {}
    for t, given in areas.items():
        for r in given:
            part = str(r.get(top_key)) if t == top else part_of[t][str(r.get(schema.records[t].key or ""))]
            parts.setdefault(part, {k: [] for k in areas})[t].append(r)
    columns = kept.columns
    out: list[tuple[pl.Expr | None, dict[str, list[Record]]]] = []
    for part, chosen in parts.items():
        tests: list[pl.Expr] = []
        for t in areas:
            by = gathered_by[t][root]
            if by not in columns:
                return whole
            if t == top:
                tests.append(pl.col(by).is_null() if part is None else pl.col(by) == part)
            else:
                codes = [code for code, p in part_of[t].items() if p == part]
                tests.append(pl.col(by).cast(pl.String).is_in(codes))
        out.append((pl.any_horizontal(tests).fill_null(False), chosen))
    return out


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _joined_areas(
    schema: Schema,
    as_of: dt.date,
    areas: Mapping[str, Sequence[Record]],
    kept: pl.DataFrame,
    results: Sequence[AreaResult],
) -> AreaResult:
    """The results of the parts as one, as deciding every area at once gives it: the areas in
    the order of their files, each problem once, and the records no given area gathers."""
    order = {
        t: {str(r.get(schema.records[t].key or "")): i for i, r in enumerate(records)}
        for t, records in areas.items()
    }
    villages = sorted(
        (a for r in results for a in r.villages), key=lambda a: order.get("village", {}).get(a.code, 0)
    )
    counties = sorted(
        (a for r in results for a in r.counties), key=lambda a: order.get("county", {}).get(a.code, 0)
    )
    outcomes = {
        level: tuple(
            sorted(
                (a for r in results for a in r.outcomes.get(level, ())),
                key=lambda a: order.get(a.level, {}).get(a.code, 0),
            )
        )
        for level in sorted({lv for r in results for lv in r.outcomes})
    }
    problems: list[Text] = []
    for r in results:
        problems.extend(p for p in r.problems if p not in problems)
    root = schema.root
    root_key = schema.records[root].key
    orphans: dict[str, set[str]] = {}
    for holder in gathering_order(schema, [root, *areas]):
        keys = {str(r.get(schema.records[holder].key or "")) for r in areas.get(holder, ())}
        for field in schema.records[holder].fields.values():
            if field.gather is None:
                continue
            by, gathered = field.gather.by, field.gather.records
            if gathered == root:
                if root_key is None or by not in kept.columns:
                    continue
                values = kept[by].to_list()
                ids = kept[root_key].to_list()
                found = {str(i) for i, v in zip(ids, values, strict=True) if v not in keys}
            else:
                found = {
                    str(r.get(schema.records[gathered].key or ""))
                    for r in areas.get(gathered, ())
                    if r.get(by) not in keys
                }
            if found:
                orphans.setdefault(f"{gathered}/{holder}", set()).update(found)
    return AreaResult(
        as_of,
        tuple(villages),
        tuple(counties),
        tuple(problems),
        {k: tuple(sorted(v)) for k, v in sorted(orphans.items())},
        outcomes,
    )
