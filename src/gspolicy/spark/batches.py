"""The work of one Spark task, without Spark: nested households in, outcome rows out.

A task is handed its households as Arrow record batches in the nested Parquet layout (one row a
household, its ``members`` and ``support`` as lists of structs).  They are gathered into blocks
of `BLOCK` households, each block written as a nested Parquet file and read back by
`gspolicy.columnar.registry.registry_blocks` — what ``gspolicy evaluate FILE.parquet`` runs: the
same cell checks, the same columnar runner, the same record validator for what the columns cannot
prove.  So a household is decided on Spark exactly as on one machine.

Each block gives one row per household: the columns of ``--output`` (`OUTCOME_COLUMNS`), then
`SETTLE` (what would settle an undetermined exit verdict, as the summary counts it), `PROBLEMS`
(a refused household's problems, rendered; its outcome columns are null) and, for the areas, the
fields their packs read of a household with the derived fields of its items (`AreaReads`)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl

from gspolicy._i18n import Lang
from gspolicy.api import Policies
from gspolicy.columnar.registry import COLUMN_BLOCK, registry_blocks
from gspolicy.columnar.run import plan_run
from gspolicy.columnar.runner import derived_column, derived_schema, lacks_column, table_schema
from gspolicy.engine.outcome import decide_outcome
from gspolicy.explain.area_reads import AreaReads
from gspolicy.explain.build import exit_pack_of
from gspolicy.explain.summaries import exit_settle
from gspolicy.schema.model import Schema
from gspolicy.schema.tabular import KEY
from gspolicy.tables import TABLE_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "BLOCK",
    "KEPT",
    "OUTCOME_COLUMNS",
    "PROBLEMS",
    "SETTLE",
    "Task",
    "decide_batches",
    "decide_block",
]

BLOCK = COLUMN_BLOCK
"""Households of a task decided at a time (the block the registry tables are checked in)."""
OUTCOME_COLUMNS = TABLE_COLUMNS
"""The outcome columns of a row, in order: those of ``gspolicy evaluate --output``."""
SETTLE = "settle"
"""What would settle an undetermined exit verdict (folded paths; empty otherwise)."""
PROBLEMS = "problems"
"""A refused household's problems, each rendered; empty for a decided household."""
KEPT = "kept|"
"""The prefix of the columns holding what the areas' packs read of a household."""
_BATCH_NAME = "<spark batch>"


@attrs.frozen
class Task:
    """What every task of a run shares: the policies, the date, the language problems are
    rendered in and, for the areas, what their packs read of a household."""

    policies: Policies
    as_of: dt.date
    lang: Lang = "en"
    reads: AreaReads | None = None

    @property
    def pack_keys(self) -> list[str]:
        return [
            p.key for p in plan_run(self.policies.policy_set, self.policies.schema.root, self.as_of).packs
        ]

    def schema(self) -> dict[str, pl.DataType]:
        """The columns of the rows a task gives, typed."""
        outcome = table_schema(self.pack_keys)
        out: dict[str, pl.DataType] = {}
        for name in OUTCOME_COLUMNS:
            out[name] = pl.String() if name == "county" else outcome[name]
        out[SETTLE] = pl.List(pl.String())
        out[PROBLEMS] = pl.List(pl.String())
        if self.reads is not None:
            out.update(self.kept_schema())
            out.update(derived_schema(self.reads.derive))
        return out

    def kept_schema(self) -> dict[str, pl.DataType]:
        from gspolicy.columnar.ingest import kept_dtype  # noqa: PLC0415

        schema = self.policies.schema
        spec = schema.records[schema.root]
        out: dict[str, pl.DataType] = {}
        for path in self.reads.paths if self.reads is not None else ():
            found = schema.field_at(spec, path)
            assert found is not None, path
            out[KEPT + ".".join(path)] = kept_dtype(found)
        return out


def decide_batches(
    task: Task, batches: Iterable[pa.RecordBatch], schema: pa.Schema | None = None
) -> Iterator[pa.RecordBatch]:
    """The rows of the households of `batches` (a Spark task's), `BLOCK` households at a time,
    as Arrow record batches of `Task.schema` (in the Arrow types of `schema` when given: those
    Spark reads back)."""

    pending: list[pa.RecordBatch] = []
    held = 0
    folder = Path(tempfile.mkdtemp(prefix="gspolicy-spark-"))
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            pending.append(batch)
            held += batch.num_rows
            if held >= BLOCK:
                yield from _arrow(decide_block(task, _frame(pending), folder), schema)
                pending, held = [], 0
        if pending:
            yield from _arrow(decide_block(task, _frame(pending), folder), schema)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _frame(batches: Sequence[pa.RecordBatch]) -> pl.DataFrame:
    import pyarrow as pa  # noqa: PLC0415

    frame = pl.from_arrow(pa.Table.from_batches(list(batches)))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _arrow(frame: pl.DataFrame, schema: pa.Schema | None) -> Iterator[pa.RecordBatch]:
    table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    yield from (table.cast(schema) if schema is not None else table).to_batches()


def decide_block(task: Task, households: pl.DataFrame, folder: Path | None = None) -> pl.DataFrame:
    """The rows (`Task.schema`) of `households`, a frame in the nested Parquet layout, in order:
    decided households first in their order, then the refused ones."""
    policy_set = task.policies.policy_set
    schema = policy_set.schema
    key = schema.records[schema.root].key or "id"
    exit_pack = exit_pack_of(policy_set)
    reads = task.reads
    derived = [c for pf in reads.derive for c in (derived_column(*pf), lacks_column(*pf))] if reads else []
    own = folder is None
    where = Path(tempfile.mkdtemp(prefix="gspolicy-spark-")) if folder is None else folder
    path = where / "block.parquet"
    written = [path]
    try:
        for name, table in flat_tables(households, task.policies.schema).items():
            target = path if not name else where / f"block.{name}.parquet"
            table.write_parquet(target)
            written.append(target)
        parts: list[pl.DataFrame] = []
        refused: list[tuple[object, list[str]]] = []
        for block in registry_blocks(
            [path],
            policy_set,
            task.as_of,
            exit_pack=exit_pack,
            derive=reads.derive if reads else (),
            keep=reads.paths if reads else (),
        ):
            for gone in block.refused:
                data = gone.data
                ident = data.get(key) if isinstance(data, dict) else None
                refused.append((ident, [_shown(d.render(task.lang), path) for d in gone.problems]))
            if block.broken:
                refused.append((None, [_shown(d.render(task.lang), path) for d in block.problems]))
            if not block.valid:
                continue
            frame = block.decide()
            verdicts = frame["verdict"].to_list()
            settle = [
                exit_settle(decide_outcome(policy_set, block.record(i), task.as_of, exit_pack=exit_pack))
                if verdict == "undetermined"
                else []
                for i, verdict in enumerate(verdicts)
            ]
            counties = block.counties()
            columns = [
                pl.Series("county", [None if c == "?" else c for c in counties], pl.String()),
                pl.Series(SETTLE, settle, pl.List(pl.String())),
                pl.Series(PROBLEMS, [[] for _ in verdicts], pl.List(pl.String())),
            ]
            if reads is not None:
                kept = block.kept()
                kept = kept.rename({name: KEPT + name for name in kept.columns})
                frame = pl.concat([frame.drop(derived), kept, frame.select(derived)], how="horizontal")
            parts.append(frame.with_columns(columns))
    finally:
        for done in written:
            done.unlink(missing_ok=True)
        if own:
            shutil.rmtree(where, ignore_errors=True)
    wanted = task.schema()
    if refused:
        parts.append(
            pl.DataFrame(
                {
                    "id": [None if i is None else str(i) for i, _p in refused],
                    PROBLEMS: [p for _i, p in refused],
                },
                schema={"id": pl.String(), PROBLEMS: pl.List(pl.String())},
            )
        )
    if not parts:
        return pl.DataFrame(schema=wanted)
    return pl.concat(
        [
            part.select(
                [pl.col(c) if c in part.columns else pl.lit(None, d).alias(c) for c, d in wanted.items()]
            )
            for part in parts
        ]
    ).cast(wanted)  # type: ignore[arg-type]


def flat_tables(households: pl.DataFrame, schema: Schema) -> dict[str, pl.DataFrame]:
    """The registry tables of households in the nested layout (key ``""``: the households; each
    list of the root record its own table keyed by `KEY`): nested records as dotted columns, a
    list of codes as codes joined by ``;`` (an empty one as ``;`` alone), each item a row, every
    cell as text (a whole number of a float column as ``4100.0``, which the record validator then
    reads).  What
    the columns cannot prove the record validator reads as it would the nested file."""
    spec = schema.records[schema.root]
    key = spec.key or "id"
    lists = [f for f, s in spec.fields.items() if s.kind == "list" and s.gather is None]
    out = {
        "": households.select(_flat_columns(households.drop([f for f in lists if f in households.columns])))
    }
    for name in lists:
        if name not in households.columns or key not in households.columns:
            continue
        items = (
            households.select(pl.col(key).cast(pl.String()).alias(KEY), pl.col(name))
            .explode(name)
            .drop_nulls(name)
        )
        dtype = items.schema[name]
        if isinstance(dtype, pl.Struct):
            items = items.unnest(name)
        out[name] = items.select(_flat_columns(items))
    return out


def _flat_columns(frame: pl.DataFrame) -> list[pl.Expr]:
    """Each column of `frame` as cells of text: a struct's fields as dotted columns, a list as
    its codes joined by ``;``."""
    out: list[pl.Expr] = []

    def walk(expr: pl.Expr, name: str, dtype: Any) -> None:  # a Polars dtype, an instance or a class
        if isinstance(dtype, pl.Struct):
            for field in dtype.fields:
                walk(expr.struct.field(field.name), f"{name}.{field.name}", field.dtype)
        elif isinstance(dtype, pl.List | pl.Array):
            text = expr.cast(pl.List(pl.String())).list.join(";")
            out.append(pl.when(text == "").then(pl.lit(";")).otherwise(text).alias(name))
        else:  # as text, as registry exports write cells: the column checks prove them fastest
            out.append(expr.cast(pl.String()).alias(name))

    for name, dtype in frame.schema.items():
        walk(pl.col(name), name, dtype)
    return out


def _shown(text: str, path: Path) -> str:
    """A problem as told: the block's file is no file of the user's."""
    return text.replace(str(path), _BATCH_NAME)
