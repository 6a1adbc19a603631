"""Small pieces the native path builds its Spark frames from: a column by its name (the runner's
names hold ``|`` and ``.``), a joined list of texts split, a Polars frame sent to Spark as a local
table, bit words read back unsigned, and rows read back from their values as JSON."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from gspolicy.columnar.texts import LIST_JOIN

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import StructType

__all__ = [
    "bits_unsigned",
    "col",
    "computed_once",
    "decoded",
    "joined_split",
    "local_frame",
    "polars_schema",
    "signed_bits",
]

_BITS = re.compile(r"\|(?:[si]\d+|p|sel)$")
"""The names of the compact table's bit words (what would settle a value, its problems, a
retained list's items): 64-bit sets, held by Spark as signed integers."""


def col(name: str) -> Column:
    """The column `name`, read literally (no field access at a ``.``)."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    return F.col("`" + name.replace("`", "``") + "`")


def computed_once(frame: DataFrame) -> DataFrame:
    """`frame` computed now and its plan cut, so that the jobs that read it neither plan nor
    compute again what made it: checkpointed reliably in the session's checkpoint folder when one
    is set (``spark.checkpoint.dir``: what a cluster whose executors may be lost wants), else on
    the executors (`localCheckpoint`: lost with an executor)."""
    if frame.sparkSession.sparkContext.getCheckpointDir() is not None:
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def joined_split(text: Column) -> Column:
    """The list of texts `text` holds joined by `LIST_JOIN` (an empty text: no text), as
    `gspolicy.columnar.texts.split_texts` reads it."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    return F.when(text != "", F.split(text, LIST_JOIN)).otherwise(F.array().cast("array<string>"))


def bits_unsigned(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` (collected from Spark) with its signed bit words read as the unsigned words the
    runner's `Decoder` reads."""
    return frame.with_columns(
        (pl.col(name).reinterpret(signed=False) if dtype == pl.Int64() else pl.col(name).cast(pl.UInt64))
        for name, dtype in frame.schema.items()
        if _BITS.search(name) and (dtype.is_integer() or isinstance(dtype, pl.Decimal))
    )


def signed_bits(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its unsigned 64-bit words as the signed ones Spark holds (bit for bit)."""
    return frame.with_columns(
        pl.col(name).reinterpret(signed=True) for name, dtype in frame.schema.items() if dtype == pl.UInt64()
    )


def local_frame(
    spark: SparkSession,
    data: pl.DataFrame | Mapping[str, Sequence[Any]],
    schema: Mapping[str, pl.DataType] | None = None,
) -> DataFrame:
    """A Polars frame (or columns with their `schema`) as a Spark frame held by the plan itself
    (a local table: no Python worker reads it)."""
    from gspolicy.spark.arrow import spark_schema  # noqa: PLC0415

    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(dict(data), schema=dict(schema or {}))
    frame = signed_bits(frame.with_columns(pl.col(pl.UInt32).cast(pl.Int64)))
    arrow = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    return spark.createDataFrame(arrow, schema=spark_schema(frame.schema))


def polars_schema(schema: StructType) -> dict[str, pl.DataType]:
    """The Polars types of a Spark schema (as Spark's Arrow batches give them)."""
    import pyarrow as pa  # noqa: PLC0415
    from pyspark.sql.pandas.types import to_arrow_schema  # noqa: PLC0415

    empty = pl.from_arrow(pa.Table.from_batches([], schema=to_arrow_schema(schema)))
    assert isinstance(empty, pl.DataFrame)
    return dict(empty.schema)


def decoded(table: DataFrame, columns: Sequence[str], texts: Sequence[str]) -> pl.DataFrame:
    """The rows whose values `texts` hold as JSON (`gspolicy.spark.native._signatures`), typed as `table`'s
    `columns` (a column a text leaves out: null), bit words unsigned."""
    schema = polars_schema(table.select(*(col(c) for c in columns)).schema)
    rows = [json.loads(t, parse_float=Decimal) for t in texts]
    data: dict[str, list[Any]] = {c: [r.get(c) for r in rows] for c in columns}
    for name, dtype in schema.items():
        if dtype == pl.Date():
            data[name] = [None if v is None else dt.date.fromisoformat(v) for v in data[name]]
        elif isinstance(dtype, pl.Decimal):
            data[name] = [None if v is None else Decimal(v) for v in data[name]]
    return bits_unsigned(pl.DataFrame(data, schema=schema))
