"""The reading checks of the native path: which households are refused, and why, as the runner
in ``mapInArrow`` refuses them (`gspolicy.spark.batches`) — the same cell checks and record
validator (`registry_blocks`), here without deciding anything.  This job still runs in a Python
worker; the refused households are few and collected to the driver."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from gspolicy.columnar.registry import registry_blocks
from gspolicy.explain.build import exit_pack_of
from gspolicy.spark.batches import BLOCK, PROBLEMS, Task, flat_tables

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

__all__ = ["Refusal", "check_block", "refused_rows"]

_BATCH_NAME = "<spark batch>"


Refusal = tuple[str | None, list[str], bool]
"""A refused household: its id (None: a block that could not be read), its problems rendered,
and whether it was refused for its id alone (another household of the block holds it first)."""
_DUPLICATE = "record/duplicate-id"


def check_block(task: Task, households: pl.DataFrame, folder: Path) -> list[Refusal]:
    """The refused households of `households` (the nested layout), their problems rendered in
    the task's language as `decide_block` gives them."""
    policy_set = task.policies.policy_set
    schema = policy_set.schema
    key = schema.records[schema.root].key or "id"
    path = folder / "block.parquet"
    written = [path]
    refused: list[Refusal] = []
    try:
        for name, table in flat_tables(households, schema).items():
            target = path if not name else folder / f"block.{name}.parquet"
            table.write_parquet(target)
            written.append(target)
        for block in registry_blocks([path], policy_set, task.as_of, exit_pack=exit_pack_of(policy_set)):
            for gone in block.refused:
                data = gone.data
                ident = data.get(key) if isinstance(data, dict) else None
                shown = [d.render(task.lang).replace(str(path), _BATCH_NAME) for d in gone.problems]
                twice = any(d.code == _DUPLICATE for d in gone.problems)
                refused.append((None if ident is None else str(ident), shown, twice))
            if block.broken:
                shown = [d.render(task.lang).replace(str(path), _BATCH_NAME) for d in block.problems]
                refused.append((None, shown, False))
    finally:
        for done in written:
            done.unlink(missing_ok=True)
    return refused


def _checked(task: Task, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="gspolicy-spark-check-"))
    schema = pa.schema([("id", pa.string()), (PROBLEMS, pa.list_(pa.string())), ("twice", pa.bool_())])
    try:
        pending: list[pa.RecordBatch] = []
        held = 0

        def flush() -> Iterator[pa.RecordBatch]:
            frame = pl.from_arrow(pa.Table.from_batches(pending))
            assert isinstance(frame, pl.DataFrame)
            found = check_block(task, frame, folder)
            if found:
                yield pa.RecordBatch.from_pydict(
                    {
                        "id": [i for i, _p, _t in found],
                        PROBLEMS: [p for _i, p, _t in found],
                        "twice": [t for _i, _p, t in found],
                    },
                    schema=schema,
                )

        for batch in batches:
            if batch.num_rows:
                pending.append(batch)
                held += batch.num_rows
            if held >= BLOCK:
                yield from flush()
                pending, held = [], 0
        if pending:
            yield from flush()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def refused_rows(households: DataFrame, task: Task) -> list[Refusal]:
    """The refused households of `households`, collected (`Refusal`)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return _checked(task, batches)

    found = households.mapInArrow(run, f"id string, {PROBLEMS} array<string>, twice boolean").collect()
    return [(r["id"], list(r[PROBLEMS]), bool(r["twice"])) for r in found]
