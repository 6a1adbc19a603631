"""Deciding many records at once into an outcome table (`decide_frame`, `decide_frames`): one row
per record with the columns of `Outcome.to_row()`, built by columns.

Each pack's part of a row (`row_part`) is decoded once per distinct set of that pack's values and
spread over the rows that have it; the parts are joined by columns as `Outcome.to_row` joins them,
then the retained support (`gspolicy.columnar.retained`) and the findings
(`gspolicy.columnar.findings`) are added.  No silent difference: a pack whose plan did not lower,
and a record the columns cannot hold exactly (``__fallback``), are decided by the per-record
evaluator.  The run itself — planning, the compact result, decoding it into `Outcome`s
(`decide_columnar`) — is `gspolicy.columnar.run`, re-exported here.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import polars as pl

from gspolicy.columnar.findings import with_findings
from gspolicy.columnar.frames import Frames
from gspolicy.columnar.plan import PackPlan
from gspolicy.columnar.polars_backend import Result
from gspolicy.columnar.retained import with_retained
from gspolicy.columnar.run import (
    ColumnarError,
    Decoder,
    Run,
    RunReport,
    decide_columnar,
    one_type,
    outcome_of_row,
    plan_packs,
    plan_run,
    values_by_columns,
)
from gspolicy.columnar.texts import (
    concat_texts,
    granted_text,
    joined_texts,
    split_texts,
    support_by_columns,
)
from gspolicy.engine.compiled import lower
from gspolicy.engine.invariants import checks_for
from gspolicy.engine.outcome import buffer_missing, buffer_result_of, decide_outcome, pack_result_of, row_part
from gspolicy.engine.verdicts import derived_lacks, derived_value
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record

__all__ = [
    "ColumnarError",
    "Run",
    "RunReport",
    "chunks",
    "counts_text",
    "decide_columnar",
    "decide_frame",
    "decide_frames",
    "derived_column",
    "derived_schema",
    "lacks_column",
    "pack_parts",
    "plan_packs",
    "plan_run",
    "table_schema",
    "values_by_columns",
    "verdict_counts",
]

_log = logging.getLogger(__name__)

_LISTS = ("failing", "undetermined", "missing", "rules", "rules_undetermined", "support", "findings")


def table_schema(pack_keys: Sequence[str]) -> dict[str, pl.DataType]:
    """The columns of a decided table: those of `Outcome.to_row()`, typed (dates as dates; the
    verdict of each pack in force as a field of the struct ``packs``)."""
    return {
        "id": pl.String(),
        "as_of": pl.Date(),
        "verdict": pl.String(),
        **{name: pl.List(pl.String()) for name in _LISTS},
        "buffer": pl.String(),
        "buffer_until": pl.Date(),
        "packs": pl.Struct({key: pl.String() for key in pack_keys}),
    }


def _typed_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["as_of"] = dt.date.fromisoformat(row["as_of"])
    until = row["buffer_until"]
    out["buffer_until"] = dt.date.fromisoformat(until) if until is not None else None
    return out


_PART = {
    "verdict": pl.String(),
    "failing": pl.List(pl.String()),
    "undetermined": pl.List(pl.String()),
    "missing": pl.List(pl.String()),
    "rules": pl.List(pl.String()),
    "rules_undetermined": pl.List(pl.String()),
    "granted": pl.List(pl.String()),
    "buffer": pl.String(),
    "basis": pl.String(),
}


def pack_parts(
    policy_set: PolicySet, run: Run, result: Result, index: int, exit_pack: str, forms: Sequence[str] = ()
) -> pl.DataFrame:
    """What pack `index` adds to every row (`_PART`), decoded once per distinct set of its values:
    the rows a join then spreads it over differ only in what the parts do not read.  No record
    is read: what a buffer retains is not part of a part (see `with_retained`).  `forms`: the
    derived fields of an area's item this pack gives (`derived_value`), each with what it lacks
    when missing, as columns ``derived|FORM`` and ``lacks|FORM``."""
    plan = run.plans[index]
    table = result.table
    prefix = f"{index}|"
    mine = [c for c in table.columns if c.startswith(prefix)]
    key = [c for c in mine if not c.startswith(f"{prefix}bu|") and not c.endswith("|sel")]
    grouped = (
        table.lazy()
        .group_by(key, maintain_order=True)
        .agg(pl.col("__row"))
        .with_row_index("__group")
        .collect(engine="in-memory")
    )
    first = grouped["__row"].list.first().to_list()
    decoder = Decoder(run, Result(table.select(["__row", "__fallback", *mine])[first], result.width))
    nothing = Record(run.record_type, {})  # the status and basis of a buffer read no item
    parts: dict[str, list[Any]] = {name: [] for name in _PART}
    derived: dict[str, list[bool | None]] = {form: [] for form in forms}
    lacks: dict[str, list[tuple[str, ...]]] = {form: [] for form in forms}
    # a signature decoded in an earlier block of this run is not decoded again
    signatures = grouped.select(key).rows()
    # (the bits of an item field depend on the block's longest list: `width` is part of the key)
    context = ("part", index, plan.pack.id == exit_pack, tuple(forms), result.width, tuple(key))
    for group in range(len(first)):
        memo_key = (context, _hashable(signatures[group]))
        found = run.decoded.get(memo_key)
        if found is None:
            found = run.decoded.put(
                memo_key, _decoded_part(policy_set, plan, decoder, nothing, group, index, exit_pack, forms)
            )
        row, row_derived, row_lacks = found
        for name, value in zip(_PART, row, strict=True):
            parts[name].append(value)
        for form, value, lack in zip(forms, row_derived, row_lacks, strict=True):
            derived[form].append(value)
            lacks[form].append(lack)
    by_group = _frame_of_parts(parts).with_columns(
        *(pl.Series(f"derived|{form}", derived[form], dtype=pl.Boolean()) for form in forms),
        *(joined_texts(f"lacks|{form}", lacks[form]) for form in forms),
    )
    group_of = (
        grouped.lazy().select("__group", "__row").explode("__row").sort("__row").collect(engine="in-memory")
    )
    return by_group[group_of["__group"]]


def _hashable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row of a part's signature as a key (a list value, the items a buffer retains, as a tuple)."""
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)


def _decoded_part(
    policy_set: PolicySet,
    plan: PackPlan,
    decoder: Decoder,
    nothing: Record,
    group: int,
    index: int,
    exit_pack: str,
    forms: Sequence[str],
) -> tuple[tuple[Any, ...], tuple[bool | None, ...], tuple[tuple[str, ...], ...]]:
    """The part (`_PART`, in order) of one signature, its derived fields and what they lack."""
    values = decoder.pack_values(index, plan, nothing, group)
    derived = tuple(derived_value(values, form) for form in forms)
    lacks = tuple(derived_lacks(values, plan.pack.id) if value is None else () for value in derived)
    pack = pack_result_of(values)
    part = row_part(pack, exit_pack=plan.pack.id == exit_pack)
    buffer = buffer_result_of(values, policy_set)
    row = (
        pack.verdict,
        list(part.failing),
        list(part.undetermined),
        sorted(part.missing | set(buffer_missing(buffer) if buffer else ())),
        list(part.rules),
        list(part.rules_undetermined),
        granted_text(part.granted),
        buffer.status if buffer is not None else None,
        buffer.basis if buffer is not None else None,
    )
    return row, derived, lacks


def _frame_of_parts(parts: Mapping[str, list[Any]]) -> pl.DataFrame:
    """The parts as a frame of `_PART` columns, each list as one text (`joined_texts`)."""
    return pl.DataFrame(
        [
            joined_texts(name, parts[name])
            if isinstance(dtype, pl.List)
            else pl.Series(name, parts[name], dtype=dtype)
            for name, dtype in _PART.items()
        ]
    )


def decide_frame(
    policy_set: PolicySet,
    records: Sequence[Record],
    as_of: dt.date,
    *,
    exit_pack: str,
    derive: Sequence[tuple[str, str]] = (),
) -> tuple[pl.DataFrame, RunReport]:
    """One row per record with the columns of `Outcome.to_row()` (typed: `table_schema`), in the
    records' order; and what was decided record by record instead (see `decide_frames`)."""
    record_type = one_type(records) if records else "household"
    run = plan_run(policy_set, record_type, as_of)
    if not records:
        schema = {**table_schema([p.key for p in run.packs]), **derived_schema(derive)}
        return pl.DataFrame(schema=schema), RunReport(0, run.fallback_packs, 0)
    spec = policy_set.schema.records.get(record_type)
    id_key = spec.key if spec is not None and spec.key is not None else "id"
    ids = pl.Series("id", [str(r.get(id_key, "?")) for r in records], dtype=pl.String())
    return decide_frames(
        policy_set, run, run.frames(records), ids, records.__getitem__, exit_pack=exit_pack, derive=derive
    )


def decide_frames(
    policy_set: PolicySet,
    run: Run,
    frames: Frames,
    ids: pl.Series,
    record_of: Callable[[int], Record],
    *,
    exit_pack: str,
    derive: Sequence[tuple[str, str]] = (),
    records_of: Callable[[Sequence[int]], None] | None = None,
) -> tuple[pl.DataFrame, RunReport]:
    """One row per row of `frames` (their records' `ids`), as `decide_frame` gives it; and for
    each ``(pack, form)`` of `derive` the derived field of an area's item it gives
    (`derived_value`, column `derived_column`) and what that lacks when missing (`lacks_column`).

    Each pack's part of a row (`row_part`) is decoded once per distinct set of that pack's
    values and spread over the rows that have it; the parts are joined by columns as
    `Outcome.to_row` joins them.  A record is read (`record_of` its row) only where a row is
    decided whole, record by record — when the record did not fit the columns, and every row
    when a pack did not lower — and for the rare retained items the columns cannot show;
    `records_of` (when given) is told the rows whose records will be read, all at once, so that
    it can build them together."""
    as_of = run.as_of
    schema = {**table_schema([p.key for p in run.packs]), **derived_schema(derive)}
    n = frames.height
    if not n:
        return pl.DataFrame(schema=schema), RunReport(0, run.fallback_packs, 0)
    started = time.perf_counter()
    result = run.table(frames)
    table = result.table
    buffer_index = next(
        (i for i, p in sorted(enumerate(run.plans), key=lambda x: x[1].pack.id) if p.buffer is not None), None
    )
    per_record = bool(run.fallback_packs) or not run.plans
    own = pl.lit(True) if per_record else pl.col("__fallback")
    whole = table.select(own.alias("own"))["own"].to_list()
    parts = {
        i: pack_parts(
            policy_set, run, result, i, exit_pack, [form for pack, form in derive if pack == plan.pack.id]
        )
        for i, plan in enumerate(run.plans)
        if not per_record
    }
    if parts:
        exit_index = next((i for i, p in enumerate(run.plans) if p.pack.id == exit_pack), None)
        columns: dict[str, pl.Series] = {
            "id": ids,
            "as_of": pl.Series("as_of", [as_of] * n, dtype=pl.Date()),
        }
        frame = pl.DataFrame(columns)
        part_cols = {f"{name}{i}": part[name] for i, part in parts.items() for name in part.columns}
        frame = frame.with_columns(**part_cols)
        basis_column = frame[f"basis{buffer_index}"] if buffer_index is not None else None
        ordered = sorted(parts)
        empty = pl.lit([], dtype=pl.List(pl.String()))
        until: pl.Expr = pl.lit(None, dtype=pl.Date())
        buffer: pl.Expr = pl.lit(None, dtype=pl.String())
        if buffer_index is not None:
            buffer = pl.col(f"buffer{buffer_index}")
            plan = run.plans[buffer_index]
            assert plan.buffer is not None
            for basis in plan.buffer[2]:
                day = table[f"{buffer_index}|bu|{basis}"]
                chosen = (buffer == "active") & (pl.col(f"basis{buffer_index}") == basis)
                until = pl.when(chosen).then(pl.lit(day)).otherwise(until)

        def joined(name: str) -> pl.Expr:
            return split_texts(concat_texts([f"{name}{i}" for i in ordered]))

        def of_exit(name: str) -> pl.Expr:
            return (
                split_texts(pl.col(f"{name}{exit_index}").fill_null("")) if exit_index is not None else empty
            )

        frame = frame.select(
            "id",
            "as_of",
            (pl.col(f"verdict{exit_index}") if exit_index is not None else pl.lit(None, pl.String())).alias(
                "verdict"
            ),
            of_exit("failing").alias("failing"),
            of_exit("undetermined").alias("undetermined"),
            joined("missing").list.unique().list.sort().alias("missing"),
            joined("rules").alias("rules"),
            joined("rules_undetermined").alias("rules_undetermined"),
            concat_texts([f"granted{i}" for i in ordered]).alias("support"),
            buffer.alias("buffer"),
            until.cast(pl.Date()).alias("buffer_until"),
            pl.struct([pl.col(f"verdict{i}").alias(run.plans[i].pack.key) for i in ordered]).alias("packs"),
            *_derived_columns(run, derive),
        )
        granted = frame["support"]
        frame = frame.with_columns(support_by_columns(granted))
        if buffer_index is not None:
            assert basis_column is not None
            frame = with_retained(
                policy_set,
                run,
                result,
                frames,
                buffer_index,
                frame,
                granted,
                basis_column,
                record_of,
                records_of,
            )
        frame = with_findings(checks_for(policy_set, run.record_type, as_of), frame, exit_pack)
    else:
        frame = pl.DataFrame(schema=schema)
    replaced: list[int] = [row for row, w in enumerate(whole) if w]
    if replaced:
        rows = table[replaced]
        decoder = Decoder(run, Result(rows, result.width))
        fallback = decoder.columns["__fallback"]
        outcomes = [
            decide_outcome(policy_set, record_of(row), as_of, exit_pack=exit_pack)
            if fallback[i]
            else outcome_of_row(policy_set, run, decoder, record_of(row), i, exit_pack=exit_pack)
            for i, row in enumerate(replaced)
        ]
        rows_out = [_typed_row(o.to_row()) for o in outcomes]
        if derive:
            for i, row in enumerate(replaced):
                rows_out[i].update(_derived_of_record(run, record_of(row), derive))
        decided = pl.DataFrame(rows_out, schema=schema)
        if frame.height:
            keep = pl.Series([not w for w in whole], dtype=pl.Boolean())
            frame = (
                pl.concat(
                    [
                        frame.with_row_index("__row").filter(keep).select(["__row", *schema]),
                        decided.with_columns(pl.Series("__row", replaced, dtype=pl.UInt32)).select(
                            ["__row", *schema]
                        ),
                    ]
                )
                .sort("__row")
                .drop("__row")
            )
        else:
            frame = decided
    report = RunReport(n, run.fallback_packs, sum(1 for f in table["__fallback"].to_list() if f))
    frame = frame.select(list(schema))
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug(
            "decided %d %s records by columns as of %s: %s; %d of %d packs lowered, %d records "
            "decided one by one; %.3f s",
            n,
            run.record_type,
            as_of,
            counts_text(verdict_counts(frame)),
            len(run.plans) - len(run.fallback_packs),
            len(run.plans),
            len(replaced),
            time.perf_counter() - started,
        )
    return frame, report


def verdict_counts(frame: pl.DataFrame) -> dict[str, int]:
    """How many rows of an outcome table have each verdict (``none``: no exit pack decided),
    in verdict order."""
    if "verdict" not in frame.columns or not frame.height:
        return {}
    counts = frame.select(pl.col("verdict").fill_null("none").value_counts(sort=False)).unnest("verdict")
    return dict(sorted(zip(counts["verdict"].to_list(), counts["count"].to_list(), strict=True)))


def counts_text(counts: Mapping[str, int]) -> str:
    """Counts for a log line: ``pass 3, fail 1``."""
    return ", ".join(f"{verdict} {count}" for verdict, count in counts.items()) or "no verdicts"


def derived_column(pack: str, form: str) -> str:
    """The column of `decide_frames` holding the derived field ``{form: pack}`` of each row."""
    return f"derived|{pack}|{form}"


def lacks_column(pack: str, form: str) -> str:
    """The column of `decide_frames` holding what `derived_column` lacks when it is missing."""
    return f"lacks|{pack}|{form}"


def derived_schema(derive: Sequence[tuple[str, str]]) -> dict[str, pl.DataType]:
    """The columns `derive` adds to a decided table, typed."""
    out: dict[str, pl.DataType] = {}
    for pack, form in derive:
        out[derived_column(pack, form)] = pl.Boolean()
        out[lacks_column(pack, form)] = pl.List(pl.String())
    return out


def _derived_columns(run: Run, derive: Sequence[tuple[str, str]]) -> list[pl.Expr]:
    """The derived fields from the packs' parts (a pack that is not in the run: missing, lacking
    the pack, as `derived_lacks` says)."""
    exprs: list[pl.Expr] = []
    for pack, form in derive:
        index = next((i for i, p in enumerate(run.plans) if p.pack.id == pack), None)
        if index is None:
            exprs.append(pl.lit(None, pl.Boolean()).alias(derived_column(pack, form)))
            exprs.append(pl.lit([f"pack:{pack}"], pl.List(pl.String())).alias(lacks_column(pack, form)))
            continue
        exprs.append(pl.col(f"derived|{form}{index}").alias(derived_column(pack, form)))
        exprs.append(
            split_texts(pl.col(f"lacks|{form}{index}").fill_null("")).alias(lacks_column(pack, form))
        )
    return exprs


def _derived_of_record(run: Run, record: Record, derive: Sequence[tuple[str, str]]) -> dict[str, object]:
    """The derived fields of one record decided whole, by the per-record evaluator."""
    out: dict[str, object] = {}
    by_id = {p.id: p for p in run.packs}
    for pack, form in derive:
        checked = by_id.get(pack)
        values = lower(checked, run.as_of).run(record) if checked is not None else None
        value = derived_value(values, form)
        out[derived_column(pack, form)] = value
        out[lacks_column(pack, form)] = list(derived_lacks(values, pack)) if value is None else []
    return out


def chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
