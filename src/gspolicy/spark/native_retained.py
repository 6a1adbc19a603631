"""The support of the rows whose buffer retains history items, on Spark, as
`gspolicy.columnar.retained.with_retained` works it out with Polars: the items a row's buffer
keeps (its ``br|sel`` bits, their own period not ended), a measure's ``lapses_when`` read from
the lowered lapse table (each distinct value decoded once on the driver), each retained amount
worked out once per distinct basis, measure and amount, and the support once per distinct grants
and retained items — each on the driver by the runner's own functions, joined back by value.

A row whose items the columns cannot show (a list inside a nested record, a basis the buffer
does not declare, an amount of more than ten digits) or whose lapse must be read on the record
(a ``lapses_when`` that did not lower, a row the lapse columns cannot hold) is returned among the
odd ones, for the runner in ``mapInArrow``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import polars as pl

from gspolicy.columnar.polars_backend import Result
from gspolicy.columnar.retained import SHORT_AMOUNT, may_lapse, merged_support
from gspolicy.columnar.run import Decoder, Run
from gspolicy.columnar.texts import GRANTED_SEP, LIST_JOIN, text_lists
from gspolicy.engine.outcome import retained_amount
from gspolicy.engine.verdicts import settle_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.spark.native_columns import col, computed_once, decoded, joined_split, local_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from gspolicy.spark.native import Compact

__all__ = ["Retained", "retained_support"]


@attrs.frozen
class Retained:
    """What the retained support reads: the run and its buffer pack's index, the valid
    households (nested; `key` their id) and the compact tables."""

    policy_set: PolicySet
    run: Run
    index: int
    households: DataFrame
    key: str
    compact: Compact


def retained_support(
    spark: SparkSession, retained: Retained, frame: DataFrame, held: list[DataFrame]
) -> tuple[DataFrame, DataFrame]:
    """`frame` (``id``, ``buffer``, ``support``, ``missing``, ``__sel``, ``__basis``,
    ``__granted``) with the support and missing of the rows whose buffer retains items; and the
    ids (column ``__odd``) of the rows left to the runner (see the module doc).  The frames it
    caches are added to `held`."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    policy_set, run = retained.policy_set, retained.run
    plan = run.plans[retained.index]
    assert plan.buffer is not None
    path = plan.buffer[0].source.path
    buffer = plan.pack.pack.buffer
    bases = {b.id: b for b in (buffer.bases if buffer else ())}
    combine = buffer.combine.amount if buffer else None
    owners = frame.where((F.coalesce(F.col("__sel"), F.lit(0)) != 0) & (F.col("buffer") == "active")).select(
        F.col("id").alias("__o"), "__sel", "__basis", "__granted"
    )
    households = retained.households
    if len(path) != 1 or path[0] not in households.columns:
        return frame, owners.select(F.col("__o").alias("__odd"))
    fields = policy_set.schema.support_fields
    item_type = households.schema[path[0]].dataType
    names = set(item_type.elementType.fieldNames()) if hasattr(item_type, "elementType") else set()

    def field(name: str, to: str) -> Any:
        if name and name in names:
            return F.col("__item").getField(name).try_cast(to)
        return F.lit(None).cast(to)

    items = households.select(
        households[retained.key].cast("string").alias("__o"),
        F.posexplode(col(path[0])).alias("__idx", "__item"),
    ).select(
        "__o",
        "__idx",
        F.coalesce(field(fields.measure, "string"), F.lit("?")).alias("__measure"),
        field(fields.amount, "decimal(38,2)").alias("__held"),
        field(fields.end, "date").alias("__end"),
    )
    picked = (
        items.join(owners, "__o")
        .where(F.col("__sel").bitwiseAND(F.expr("shiftleft(cast(1 as bigint), `__idx`)")) != 0)
        .where(F.col("__end").isNull() | (F.col("__end") >= F.lit(run.as_of)))
        .drop("__end")
    )
    odd_item = F.coalesce(~F.col("__basis").isin(list(bases)), F.lit(True)) | F.coalesce(
        F.abs(F.col("__held")) >= F.lit(SHORT_AMOUNT), F.lit(False)
    )
    odd = picked.where(odd_item).select(F.col("__o").alias("__odd")).distinct()
    picked = picked.join(odd, picked["__o"] == odd["__odd"], "left_anti")
    lapsing = sorted(
        {m for p in policy_set.packs for m in p.pack.measures if may_lapse(policy_set, m, run.as_of)}
    )
    lacks = None
    if lapsing:
        pairs = picked.where(F.col("__measure").isin(lapsing)).select("__o", "__measure").distinct()
        values = _lapse_values(spark, retained, lapsing)
        found = pairs.join(values, ["__o", "__measure"], "left")
        # a lapse the columns cannot tell is read on the record: the row goes to the runner
        unread = found.where(F.col("__ended").isNull()).select(F.col("__o").alias("__odd"))
        odd = odd.unionByName(unread).distinct()
        ended = found.where(F.col("__ended"))
        picked = picked.join(ended.select("__o", "__measure"), ["__o", "__measure"], "left_anti")
        picked = picked.join(odd, picked["__o"] == odd["__odd"], "left_anti")
        odd = odd.persist()
        held.append(odd)
        lacks = (
            found.where(~F.col("__ended"))
            .groupBy("__o")
            .agg(F.array_sort(F.array_distinct(F.flatten(F.collect_list("__lacks")))).alias("__missing"))
        )
    picked = picked.persist()
    held.append(picked)
    amounts = _amounts(spark, retained, picked, bases)
    picked = picked.join(
        F.broadcast(amounts),
        picked["__basis"].eqNullSafe(amounts["__a_basis"])
        & picked["__measure"].eqNullSafe(amounts["__a_measure"])
        & picked["__held"].eqNullSafe(amounts["__a_held"]),
        "left",
    )
    from pyspark.sql.window import Window  # noqa: PLC0415

    row = Window.partitionBy("__o")
    rules = F.transform(joined_split(F.col("__granted")), lambda g: F.element_at(F.split(g, GRANTED_SEP), 3))
    plain = (F.size(F.collect_set("__measure").over(row)) == F.count(F.lit(1)).over(row)) & ~F.array_contains(
        rules, F.col("__basis")
    )
    where = F.when(plain, F.lit("")).otherwise(F.format_string(f"{path[0]}[%d]", F.col("__idx")))
    text = F.concat_ws(GRANTED_SEP, "__measure", "__amount", "__basis", where)
    kept = (
        picked.select("__o", "__idx", text.alias("__text"))
        .groupBy("__o")
        .agg(F.sort_array(F.collect_list(F.struct("__idx", "__text"))).alias("__k"))
        .select("__o", F.transform("__k", lambda s: s.getField("__text")).alias("__kept"))
    )
    keyed = owners.join(odd, owners["__o"] == odd["__odd"], "left_anti").join(kept, "__o", "left")
    supports = _supports(spark, keyed, combine)
    keyed = keyed.join(
        F.broadcast(supports),
        keyed["__granted"].eqNullSafe(supports["__s_granted"])
        & keyed["__kept"].eqNullSafe(supports["__s_kept"]),
        "left",
    ).select("__o", "__support")
    if lacks is not None:
        keyed = keyed.join(lacks, "__o", "left")
    else:
        keyed = keyed.withColumn("__missing", F.lit(None).cast("array<string>"))
    out = frame.join(keyed, frame["id"] == keyed["__o"], "left")
    more = F.coalesce(F.size("__missing"), F.lit(0)) > 0
    out = out.withColumn("support", F.coalesce("__support", "support")).withColumn(
        "missing",
        F.when(more, F.array_sort(F.array_distinct(F.concat("missing", "__missing")))).otherwise(
            F.col("missing")
        ),
    )
    return out.drop("__o", "__support", "__missing"), odd


def _lapse_values(spark: SparkSession, retained: Retained, lapsing: list[str]) -> DataFrame:
    """Per household and lowered lapsing measure: whether its items have lapsed (``__ended``;
    null where the columns cannot tell) and what would settle it (``__lacks``)."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    compact = retained.compact
    lapses = retained.run.lapses
    schema = "__o string, __measure string, __ended boolean, __lacks array<string>"
    frames: list[DataFrame] = []
    if lapses is None or compact.lapses is None:
        return spark.createDataFrame([], schema)
    table = compact.lapses
    lowered = [(m, lapses.index[m]) for m in lapsing if m in lapses.index]
    columns = {
        m: [c for c in table.columns if c == f"{i}|c|{m}" or c.startswith(f"{i}|c|{m}|")] for m, i in lowered
    }
    signed = table.select(
        "id",
        "__fallback",
        *(
            F.to_json(F.struct(*(col(c) for c in columns[m]))).alias(f"__lap{n}")
            for n, (m, _i) in enumerate(lowered)
        ),
    )
    signed = computed_once(signed)  # each measure's frame below reads it
    found = (
        signed.agg(*(F.collect_set(f"__lap{n}") for n in range(len(lowered)))).first() if lowered else None
    )
    for n, (measure, index) in enumerate(lowered):
        assert found is not None
        base = f"{index}|c|{measure}"
        texts = list(found[n])
        rows = decoded(table, columns[measure], texts).with_columns(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"), pl.lit(False).alias("__fallback")
        )
        decoder = Decoder(
            lapses.run, Result(rows.select("__row", "__fallback", *columns[measure]), compact.lapses_width)
        )
        ended: list[bool] = []
        lacking: list[list[str]] = []
        for row in range(rows.height):
            value = decoder.value(base, row)
            ended.append(value is True)
            lacking.append([] if value is True or value is False else list(settle_of(value)))
        values = local_frame(
            spark,
            pl.DataFrame(
                [
                    pl.Series("__lt", texts, dtype=pl.String()),
                    pl.Series("__ended", ended, dtype=pl.Boolean()),
                    text_lists("__lacks", lacking),
                ]
            ),
        )
        frames.append(
            signed.join(F.broadcast(values), F.col(f"__lap{n}") == F.col("__lt"), "inner").select(
                F.col("id").alias("__o"),
                F.lit(measure).alias("__measure"),
                F.when(~F.col("__fallback"), F.col("__ended")).alias("__ended"),
                "__lacks",
            )
        )
    if not frames:
        return spark.createDataFrame([], schema)
    out = frames[0]
    for more in frames[1:]:
        out = out.unionByName(more)
    return out


def _amounts(spark: SparkSession, retained: Retained, picked: DataFrame, bases: dict[str, Any]) -> DataFrame:
    """The amount each retained item is kept at, once per distinct basis, measure and amount."""
    distinct = pl.from_arrow(picked.select("__basis", "__measure", "__held").distinct().toArrow())
    assert isinstance(distinct, pl.DataFrame)
    run = retained.run
    shown = [
        retained_amount(measure, amount, bases[basis_id], run.as_of, retained.policy_set) or ""
        for basis_id, measure, amount in distinct.iter_rows()
    ]
    frame = distinct.rename({"__basis": "__a_basis", "__measure": "__a_measure", "__held": "__a_held"})
    return local_frame(spark, frame.with_columns(pl.Series("__amount", shown, dtype=pl.String())))


def _supports(spark: SparkSession, keyed: DataFrame, combine: Any) -> DataFrame:
    """The support of each distinct grants and retained items (`merged_support`)."""
    distinct = pl.from_arrow(keyed.select("__granted", "__kept").distinct().toArrow())
    assert isinstance(distinct, pl.DataFrame)
    kept = distinct["__kept"].list.join(LIST_JOIN).fill_null("")
    supports = merged_support(distinct["__granted"], kept, combine)
    frame = distinct.rename({"__granted": "__s_granted", "__kept": "__s_kept"})
    return local_frame(spark, frame.with_columns(supports))
