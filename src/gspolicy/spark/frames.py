"""The packs on Spark DataFrames: households in the nested Parquet layout decided natively
(`gspolicy.spark.native`) or by the columnar runner inside ``mapInArrow``
(`gspolicy.spark.arrow`), the summary counted per partition and joined in order, the villages
and counties decided from what was kept of each household.

Nothing here decides anything itself: every household goes through the runner
``gspolicy evaluate`` runs, every count through `SummaryCounts`, every area through
`decide_areas`.  pyspark and pyarrow are imported only here and in `gspolicy.spark.session`."""

from __future__ import annotations

import datetime as dt
import os
import pickle
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
import polars as pl

from gspolicy._i18n import Lang
from gspolicy.api import Policies
from gspolicy.explain.area_reads import AreaReads, area_reads
from gspolicy.explain.areas import AreaResult, decide_areas
from gspolicy.explain.summaries import SummaryCounts, summary_plan
from gspolicy.schema.model import Record
from gspolicy.spark.arrow import decided_arrow, spark_schema
from gspolicy.spark.batches import KEPT, OUTCOME_COLUMNS, PROBLEMS, SETTLE, Task

NATIVE_ENV = "GSPOLICY_SPARK_NATIVE"
"""The environment variable that, set to ``0``, runs every household in ``mapInArrow``."""

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

__all__ = [
    "NATIVE_ENV",
    "SparkSummary",
    "area_result",
    "decided",
    "decided_arrow",
    "evaluate",
    "in_input_order",
    "kept_frame",
    "native_wanted",
    "refused",
    "spark_schema",
    "summary",
]


def decided(
    households: DataFrame,
    policies: Policies,
    as_of: dt.date,
    *,
    lang: Lang = "en",
    reads: AreaReads | None = None,
) -> DataFrame:
    """Every household of `households` (the nested Parquet layout: one row a household, its
    lists as arrays of structs) decided as of `as_of`: the outcome columns of ``--output``, then
    ``settle`` and ``problems`` (a refused household: its id and its problems in `lang`, the
    outcome null) and, with `reads`, what the areas' packs read of it (`area_reads`).

    By the runner inside ``mapInArrow`` (`decided_arrow`) unless ``GSPOLICY_SPARK_NATIVE=1``
    asks for the native path (`gspolicy.spark.native.decided_native`: evaluated in the JVM, what
    cannot be lowered in ``mapInArrow``).  The reading checks and each pack's distinct
    values run as Spark jobs now; the rows are lazy."""
    if not native_wanted():
        return decided_arrow(households, policies, as_of, lang=lang, reads=reads)
    from gspolicy.spark.native import decided_native  # noqa: PLC0415

    return decided_native(households, policies, as_of, lang=lang, reads=reads).rows


def native_wanted() -> bool:
    """Whether the packs run natively (``GSPOLICY_SPARK_NATIVE=1``); by default the runner runs
    inside ``mapInArrow``: the native path is equal by test but not yet as quick (Spark plans
    some 700 columns for the bundled packs) and needs a larger heap."""
    return os.environ.get(NATIVE_ENV, "0").strip().lower() in {"1", "true", "yes", "on"}


def evaluate(households: DataFrame, policies: Policies, as_of: dt.date) -> DataFrame:
    """One row per valid household of `households` (the nested Parquet layout), the columns of
    ``gspolicy evaluate --output``, as the columnar runner decides it; the refused households
    are those of `refused` (`decided` gives both at once)."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    return decided(households, policies, as_of).where(F.size(PROBLEMS) == 0).select(*OUTCOME_COLUMNS)


def in_input_order(
    rows: DataFrame, households: DataFrame, *, key: str = "id", files: Sequence[str] = ()
) -> DataFrame:
    """`rows` (of `decided`; ids unique) in the order of the households they decide: by the
    Parquet file each was read from — in the order of `files` (absolute paths), else by path —
    then by its row in that file (`key`: the households' id column).  Spark reads files in an order of its own (the largest
    first), so a run that should give the rows one machine gives, row for row, sorts them so."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    path = F.col("_metadata.file_path")
    place = path
    if files:
        chosen = F.lit(len(files))
        for index, name in reversed(list(enumerate(files))):
            chosen = F.when(path.endswith(name), F.lit(index)).otherwise(chosen)
        place = chosen
    order = households.select(
        F.col(key).cast("string").alias("__id"),
        place.alias("__file"),
        F.col("_metadata.row_index").alias("__row"),
    )
    return (
        rows.join(order, rows["id"] == order["__id"], "left")
        .orderBy("__file", "__row")
        .drop("__id", "__file", "__row")
    )


def refused(rows: DataFrame) -> DataFrame:
    """The refused households of `decided` rows: their id and problems."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    return rows.where(F.size(PROBLEMS) > 0).select("id", PROBLEMS)


@attrs.define
class SparkSummary:
    """The summary of a run on Spark: the counts of ``gspolicy evaluate``'s summary, each
    partition counted by `SummaryCounts` and the partitions joined in order."""

    counts: SummaryCounts
    as_of: dt.date

    def render(self, lang: Lang, *, county_names: Mapping[str, str] | None = None) -> str:
        """The summary as ``gspolicy evaluate`` prints it."""
        return self.counts.render(lang, as_of=self.as_of, county_names=county_names)

    def per_county(self) -> pl.DataFrame:
        """Per county: the households, and for each batch pack those a rule holds for
        (``PACK.yes``) and those where one is undetermined and none holds
        (``PACK.undetermined``) — the figures of the summary's table of batches."""
        packs = self.counts.shared
        rows = sorted(self.counts.counties.items())
        columns: dict[str, list[object]] = {
            "county": [c for c, _n in rows],
            "households": [n[0] for _c, n in rows],
        }
        for index, pack in enumerate(packs):
            columns[f"{pack}.yes"] = [n[1 + 2 * index] for _c, n in rows]
            columns[f"{pack}.undetermined"] = [n[2 + 2 * index] for _c, n in rows]
        schema: dict[str, pl.DataType] = {"county": pl.String(), "households": pl.Int64()}
        schema.update({name: pl.Int64() for name in columns if name not in schema})
        return pl.DataFrame(columns, schema=schema)


def summary(rows: DataFrame, policies: Policies, as_of: dt.date, *, listing: bool = False) -> SparkSummary:
    """The summary of the decided households among `rows` (`decided` rows: the refused ones are
    left out), counted in Spark a partition at a time, the counts joined on the driver."""
    import pyarrow as pa  # noqa: PLC0415
    from pyspark import TaskContext  # noqa: PLC0415
    from pyspark.sql import functions as F  # noqa: PLC0415

    plan = summary_plan(policies.policy_set, as_of)
    wanted = [*OUTCOME_COLUMNS, SETTLE]

    def count(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        counts = SummaryCounts(plan, listing=listing)
        for batch in batches:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            settle = frame[SETTLE].to_list()
            counties = ["?" if c is None else c for c in frame["county"].to_list()]
            counts.add(frame.drop("county", SETTLE), counties, settle.__getitem__)
        context = TaskContext.get()
        part = context.partitionId() if context is not None else 0
        yield pa.RecordBatch.from_pydict(
            {"part": [part], "counts": [pickle.dumps(counts)]},
            schema=pa.schema([("part", pa.int64()), ("counts", pa.binary())]),
        )

    chosen = rows.where(F.size(PROBLEMS) == 0).select(*wanted)
    parts = chosen.mapInArrow(count, "part long, counts binary").collect()
    total = SummaryCounts(plan, listing=listing)
    for part in sorted(parts, key=lambda r: int(r["part"])):
        total.merge(pickle.loads(part["counts"]))  # written by this run's own tasks
    return SparkSummary(total, as_of)


def area_result(
    rows: DataFrame,
    policies: Policies,
    as_of: dt.date,
    areas: Mapping[str, Sequence[Record]],
    *,
    packs: Mapping[str, str] | None = None,
) -> AreaResult:
    """The villages and counties of `areas` (records by type) decided from `decided` rows made
    with ``reads=area_reads(...)``: what each household's row kept is collected and handed to
    `decide_areas`, as a streamed ``gspolicy evaluate`` does."""
    kept = kept_frame(rows, policies, as_of)
    reads = area_reads(policies.policy_set, as_of)
    assert reads is not None
    from gspolicy.columnar.registry import records_of_kept  # noqa: PLC0415
    from gspolicy.columnar.runner import derived_column, lacks_column  # noqa: PLC0415

    households = records_of_kept(policies.schema, reads.paths, kept)
    columns = {
        pf: (kept[derived_column(*pf)].to_list(), kept[lacks_column(*pf)].to_list()) for pf in reads.derive
    }

    def fields(index: int) -> Mapping[tuple[str, str], tuple[bool | None, tuple[str, ...]]]:
        return {pf: (values[index], tuple(lacks[index])) for pf, (values, lacks) in columns.items()}

    return decide_areas(
        policies.policy_set,
        {"household": households, **areas},
        as_of,
        packs=dict(packs or {}),
        item_fields={"household": fields},
        explain=lambda _level, _code: False,
    )


def kept_frame(rows: DataFrame, policies: Policies, as_of: dt.date) -> pl.DataFrame:
    """What the areas' packs read of each decided household of `rows`, collected in order: a
    column per field path, then the derived fields of its items."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    reads = area_reads(policies.policy_set, as_of)
    if reads is None:
        raise ValueError("the areas' packs read more of a household than plain fields")
    task = Task(policies, as_of, reads=reads)
    names = [n for n in task.schema() if n.startswith(KEPT) or n.startswith(("derived|", "lacks|"))]
    table = rows.where(F.size(PROBLEMS) == 0).select(*[F.col(f"`{n}`") for n in names]).toArrow()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.cast({n: d for n, d in task.schema().items() if n in names})
    return frame.rename({n: n[len(KEPT) :] for n in names if n.startswith(KEPT)})
