"""The runner inside ``mapInArrow``: every household of a DataFrame decided by the columnar runner
in Spark's Python workers (`gspolicy.spark.batches` per task), the path the native one
(`gspolicy.spark.native`) falls back to.  pyspark is imported only inside the functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import polars as pl

from gspolicy._i18n import Lang
from gspolicy.api import Policies
from gspolicy.explain.area_reads import AreaReads
from gspolicy.spark.batches import Task, decide_batches

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

__all__ = ["decided_arrow", "spark_schema"]


def spark_schema(columns: Mapping[str, pl.DataType]) -> StructType:
    """The Spark schema of Polars `columns` (dates as dates, lists as arrays, structs as structs)."""
    from pyspark.sql.pandas.types import from_arrow_schema  # noqa: PLC0415

    empty = pl.DataFrame(schema=dict(columns)).to_arrow(compat_level=pl.CompatLevel.oldest())
    return from_arrow_schema(empty.schema)


def decided_arrow(
    households: DataFrame,
    policies: Policies,
    as_of: dt.date,
    *,
    lang: Lang = "en",
    reads: AreaReads | None = None,
) -> DataFrame:
    """The rows of `decided`, every household decided by the columnar runner inside
    ``mapInArrow`` (a Python worker per task).  Lazy, as Spark is: nothing runs until the frame
    is used."""
    task = Task(policies, as_of, lang, reads)
    from pyspark.sql.pandas.types import to_arrow_schema  # noqa: PLC0415

    schema = spark_schema(task.schema())
    arrow = to_arrow_schema(schema)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return decide_batches(task, batches, arrow)

    return households.mapInArrow(run, schema)
