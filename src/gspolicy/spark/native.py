"""The packs on Spark without a Python worker: the compact table of a columnar run computed by
Spark's own expressions (`gspolicy.spark.lower`), and the outcome columns assembled from it in
the JVM, as `gspolicy.columnar.runner.decide_frames` assembles them with Polars.

What a row's pack gives (`row_part`: its verdict, failing and undetermined criteria, rules,
grants, buffer) is read from few columns whose distinct values are few: they are found by Spark
(one ``distinct`` per pack), collected to the driver, decoded there by the runner's own code
(`pack_parts` on a `Result` of the distinct rows), sent back as a small frame and joined on the
values (null-safe, broadcast).  The support of each distinct set of grants, the retained items'
amounts and support (`gspolicy.spark.native_retained`) and the findings of each distinct outcome
go the same way.  So every decision is still made by the code ``gspolicy evaluate`` runs, once per
distinct input, on the driver — which is no Python worker.

What the columns cannot decide goes through the runner in ``mapInArrow`` (`decided`), for
exactly those households: a household the columns cannot hold exactly (``__fallback``), one
whose retained items the columns cannot show, and every household when a pack did not lower
(`NativeDecided.fallback_packs` says which and why).  Reading checks (the households refused and
their problems) run in ``mapInArrow`` too, as a job of their own before the outcome is built; the
outcome frame's plan then reads the refused ids as a small local table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl

from gspolicy._i18n import Lang
from gspolicy.api import Policies
from gspolicy.columnar.findings import with_findings
from gspolicy.columnar.ingest import enum_spellings
from gspolicy.columnar.polars_backend import Result
from gspolicy.columnar.run import Decoder, Run, plan_run
from gspolicy.columnar.runner import derived_column, lacks_column, pack_parts
from gspolicy.columnar.texts import LIST_JOIN, support_by_columns, text_lists
from gspolicy.engine.invariants import checks_for
from gspolicy.engine.outcome import Outcome, pack_result_of
from gspolicy.explain.area_reads import AreaReads
from gspolicy.explain.build import exit_pack_of
from gspolicy.explain.summaries import exit_settle
from gspolicy.schema import roles
from gspolicy.schema.model import Record, Schema
from gspolicy.spark.arrow import decided_arrow, spark_schema
from gspolicy.spark.batches import KEPT, PROBLEMS, SETTLE, Task
from gspolicy.spark.lower import item_width, spark_fallback, spark_table
from gspolicy.spark.native_check import refused_rows
from gspolicy.spark.native_columns import col, computed_once, decoded, joined_split, local_frame
from gspolicy.spark.native_retained import Retained, retained_support

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["Compact", "NativeDecided", "compact_tables", "decided_native"]

_EMPTY = "array<string>"


@attrs.frozen
class Compact:
    """The compact result of a run on Spark: one row per valid household (its id in column
    ``id``, as text), the columns `run_plans` gives (``__fallback`` and, per plan index ``k``,
    ``k|<condition>``, its bit words, ``k|br|sel``…; bit words as signed 64-bit integers) and the
    `width` of its item bits; `lapses`: the same for the run's lowered ``lapses_when``
    (`Run.lapses`), when it has any."""

    table: DataFrame
    width: int
    lapses: DataFrame | None = None
    lapses_width: int = 1


@attrs.frozen
class NativeDecided:
    """The rows of a native run (the columns `decided` gives) and what went through the runner
    in ``mapInArrow`` instead: the packs that did not lower natively, each with why (any: the
    whole run did), and how many households could not be decided by columns."""

    rows: DataFrame
    fallback_packs: tuple[tuple[str, str], ...]
    fallback_households: int = 0
    held: tuple[DataFrame, ...] = ()  # the frames the rows read cached; `release` once they are used

    def release(self) -> None:
        """Drop the frames the rows read from Spark's cache (the rows must not be used after)."""
        for frame in self.held:
            frame.unpersist()


def compact_tables(run: Run, households: DataFrame) -> Compact:
    """The compact tables of `run` (and its lapses) on `households`, by Spark's own expressions
    (`spark_table`), each with its layout of item bits worked out once (`item_width`)."""
    width = item_width(run, households)
    lapses = run.lapses
    lapses_width = item_width(lapses.run, households) if lapses is not None else 1
    return Compact(
        spark_table(run, households, width=width),
        width,
        spark_table(lapses.run, households, width=lapses_width) if lapses is not None else None,
        lapses_width,
    )


def native_fallback(run: Run) -> tuple[tuple[str, str], ...]:
    """The packs of `run` that cannot be decided natively, each with why: those whose plan did not
    lower, and those the Spark lowering cannot express (`spark_fallback`)."""
    found = [*run.fallback_packs, *spark_fallback(run)]
    return tuple(dict.fromkeys(found))


def decided_native(
    households: DataFrame,
    policies: Policies,
    as_of: dt.date,
    compact: Compact | None = None,
    *,
    lang: Lang = "en",
    reads: AreaReads | None = None,
) -> NativeDecided:
    """Every household of `households` (the nested Parquet layout) decided as of `as_of`: the
    rows `decided` gives (in another order), computed natively but for what the module doc
    says.  `compact`: the compact tables of the valid households (`compact_tables` when None).
    Runs Spark jobs (the reading checks, the distinct values of each pack); the rows are lazy."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    policy_set = policies.policy_set
    schema = policy_set.schema
    run = plan_run(policy_set, schema.root, as_of)
    fallen = native_fallback(run) if compact is None else tuple(run.fallback_packs)
    if fallen or not run.plans:
        return NativeDecided(decided_arrow(households, policies, as_of, lang=lang, reads=reads), fallen)
    task = Task(policies, as_of, lang, reads)
    key = schema.records[schema.root].key or "id"
    spark = households.sparkSession
    out_schema = spark_schema(task.schema())
    refused = refused_rows(households, task)
    refused_ids = local_frame(
        spark, {"__gone": [r[0] for r in refused if r[0] is not None]}, {"__gone": pl.String()}
    )
    valid = households.join(
        F.broadcast(refused_ids), households[key].cast("string") == refused_ids["__gone"], "left_anti"
    )
    if compact is None:
        compact = compact_tables(run, valid)
    compact = _keyed(compact, key)
    held: list[DataFrame] = []
    table = compact.table
    exit_pack = exit_pack_of(policy_set)
    derive = list(reads.derive) if reads is not None else []
    # computed once, and its plan cut: every later job reads the values, not the plan of some
    # 700 columns that made them (planning it again per job costs more than the work)
    signed = computed_once(_signatures(run, table))
    found = signed.agg(*(F.collect_set(f"__sig{i}") for i in range(len(run.plans)))).first()
    assert found is not None
    joined = signed
    for index, plan in enumerate(run.plans):
        forms = [form for pack, form in derive if pack == plan.pack.id]
        parts = _parts(spark, policy_set, run, table, compact.width, index, found[index], exit_pack, forms)
        joined = joined.join(F.broadcast(parts), F.col(f"__sig{index}") == F.col(f"__s{index}"), "left")
        joined = joined.drop(f"__sig{index}", f"__s{index}")
    rows, odd = _assembled(spark, policy_set, run, joined, valid, compact, key, exit_pack, derive, held)
    fallback_ids = joined.where(F.col("__fallback")).select(F.col("id").alias("__odd"))
    if odd is not None:
        fallback_ids = fallback_ids.unionByName(odd)
    # households of an id another holds too are read as the runner reads them: the first decided
    twice = {r[0] for r in refused if r[2] and r[0] is not None}
    odd_ids = sorted({str(r[0]) for r in fallback_ids.distinct().collect()} | twice)
    rows = _with_task_columns(rows, valid, task, key, odd_ids, spark)
    rows = rows.select(*(F.col(f"`{n}`").cast(out_schema[n].dataType).alias(n) for n in out_schema.names))
    if odd_ids:
        few = households.where(households[key].cast("string").isin(odd_ids))
        rows = rows.unionByName(decided_arrow(few, policies, as_of, lang=lang, reads=reads))
    refused = [r for r in refused if r[0] not in twice]
    if refused:
        gone = local_frame(
            spark,
            {"id": [r[0] for r in refused], PROBLEMS: [r[1] for r in refused]},
            {"id": pl.String(), PROBLEMS: pl.List(pl.String())},
        )
        rows = rows.unionByName(gone, allowMissingColumns=True)
    return NativeDecided(rows, (), len(odd_ids), tuple(held))


def _keyed(compact: Compact, key: str) -> Compact:
    """`compact` with the households' id (the schema's `key` field) as text in column ``id``."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    def keyed(table: DataFrame) -> DataFrame:
        if key != "id" and key in table.columns:
            table = table.withColumnRenamed(key, "id")
        return table.withColumn("id", F.col("id").cast("string"))

    lapses = compact.lapses
    return attrs.evolve(
        compact, table=keyed(compact.table), lapses=keyed(lapses) if lapses is not None else None
    )


def _signatures(run: Run, table: DataFrame) -> DataFrame:
    """`table` with each pack's values as one text (``__sig<k>``: its key columns as JSON — the
    columns its part reads, as `pack_parts` groups by them) instead of those columns."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    kept = ["id", "__fallback"]
    signatures = []
    for index in range(len(run.plans)):
        prefix = f"{index}|"
        mine = [c for c in table.columns if c.startswith(prefix)]
        key = [c for c in mine if not c.startswith(f"{prefix}bu|") and not c.endswith("|sel")]
        kept += [c for c in mine if c not in key]
        signatures.append(F.to_json(F.struct(*(col(c) for c in key))).alias(f"__sig{index}"))
    return table.select(*(col(c) for c in kept), *signatures)


def _parts(
    spark: SparkSession,
    policy_set: Any,
    run: Run,
    table: DataFrame,
    width: int,
    index: int,
    texts: Sequence[str],
    exit_pack: str,
    forms: Sequence[str],
) -> DataFrame:
    """Pack `index`'s part of every distinct set of its values `texts` (`pack_parts` on the
    driver), as a small frame keyed by the text (``__s<k>``)."""
    prefix = f"{index}|"
    mine = [c for c in table.columns if c.startswith(prefix)]
    rows = decoded(table, mine, texts).with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"), pl.lit(False).alias("__fallback")
    )
    result = Result(rows.select("__row", "__fallback", *mine), width)
    parts = pack_parts(policy_set, run, result, index, exit_pack, forms)
    if run.plans[index].pack.id == exit_pack:
        parts = parts.with_columns(_exit_settle(run, result, index))
    parts = parts.rename({name: f"{name}{index}" for name in parts.columns})
    return local_frame(spark, parts.with_columns(pl.Series(f"__s{index}", list(texts), dtype=pl.String())))


def _exit_settle(run: Run, result: Result, index: int) -> pl.Series:
    """What would settle the exit pack's undetermined verdict on each distinct row (`exit_settle`)."""
    decoder = Decoder(run, result)
    plan = run.plans[index]
    nothing = Record(run.record_type, {})
    settle: list[list[str]] = []
    for row in range(result.table.height):
        pack = pack_result_of(decoder.pack_values(index, plan, nothing, row))
        outcome = Outcome(
            record="", as_of=run.as_of, verdict=pack.verdict, exit_pack=plan.pack.id, packs=(pack,)
        )
        settle.append(exit_settle(outcome))
    return text_lists("settle", settle)


def _assembled(
    spark: SparkSession,
    policy_set: Any,
    run: Run,
    joined: DataFrame,
    valid: DataFrame,
    compact: Compact,
    key: str,
    exit_pack: str,
    derive: Sequence[tuple[str, str]],
    held: list[DataFrame],
) -> tuple[DataFrame, DataFrame | None]:
    """The outcome columns from the joined parts, as `decide_frames` puts them together; and the
    ids of the rows whose retained items the columns cannot show (None: no buffer)."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    plans = run.plans
    ordered = range(len(plans))
    exit_index = next((i for i, p in enumerate(plans) if p.pack.id == exit_pack), None)
    buffer_index = next(
        (i for i, p in sorted(enumerate(plans), key=lambda x: x[1].pack.id) if p.buffer is not None), None
    )
    empty = F.array().cast(_EMPTY)

    def concat(name: str) -> Column:
        return F.concat_ws(LIST_JOIN, *(F.col(f"{name}{i}") for i in ordered))

    def of_exit(name: str) -> Column:
        return (
            joined_split(F.coalesce(F.col(f"{name}{exit_index}"), F.lit("")))
            if exit_index is not None
            else empty
        )

    until: Column = F.lit(None).cast("date")
    buffer: Column = F.lit(None).cast("string")
    basis: Column = F.lit(None).cast("string")
    if buffer_index is not None:
        buffer = F.col(f"buffer{buffer_index}")
        basis = F.col(f"basis{buffer_index}")
        plan = plans[buffer_index]
        assert plan.buffer is not None
        for name in plan.buffer[2]:
            chosen = (buffer == "active") & (basis == name)
            until = F.when(chosen, col(f"{buffer_index}|bu|{name}")).otherwise(until)
    settle = F.col(f"settle{exit_index}") if exit_index is not None else empty
    derived: list[Column] = []
    for pack, form in derive:
        found = next((i for i, p in enumerate(plans) if p.pack.id == pack), None)
        if found is None:
            derived.append(F.lit(None).cast("boolean").alias(derived_column(pack, form)))
            derived.append(F.array(F.lit(f"pack:{pack}")).alias(lacks_column(pack, form)))
            continue
        derived.append(F.col(f"derived|{form}{found}").alias(derived_column(pack, form)))
        derived.append(
            joined_split(F.coalesce(F.col(f"lacks|{form}{found}"), F.lit(""))).alias(lacks_column(pack, form))
        )
    frame = joined.select(
        F.col("id"),
        F.lit(run.as_of).alias("as_of"),
        (F.col(f"verdict{exit_index}") if exit_index is not None else F.lit(None).cast("string")).alias(
            "verdict"
        ),
        of_exit("failing").alias("failing"),
        of_exit("undetermined").alias("undetermined"),
        F.array_sort(F.array_distinct(joined_split(concat("missing")))).alias("missing"),
        joined_split(concat("rules")).alias("rules"),
        joined_split(concat("rules_undetermined")).alias("rules_undetermined"),
        concat("granted").alias("__granted"),
        buffer.alias("buffer"),
        until.alias("buffer_until"),
        basis.alias("__basis"),
        F.struct(*(F.col(f"verdict{i}").alias(plans[i].pack.key) for i in ordered)).alias("packs"),
        F.when(F.col("verdict") == "undetermined", settle).otherwise(empty).alias(SETTLE)
        if exit_index is not None
        else empty.alias(SETTLE),
        *(col(f"{buffer_index}|br|sel").alias("__sel") for _ in [0] if buffer_index is not None),
        *derived,
    )
    frame = _with_support(spark, frame).persist()
    held.append(frame)
    odd: DataFrame | None = None
    if buffer_index is not None:
        retained = Retained(policy_set, run, buffer_index, valid, key, compact)
        frame, odd = retained_support(spark, retained, frame, held)
        frame = frame.drop("__sel")
    frame = frame.persist()
    held.append(frame)
    frame = _with_findings(spark, policy_set, run, frame, exit_pack)
    return frame.drop("__granted", "__basis"), odd


def _with_support(spark: SparkSession, frame: DataFrame) -> DataFrame:
    """`frame` with ``support``: what the rules grant (`support_by_columns`), once per distinct
    grants."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    distinct = pl.Series(
        "__g", [r[0] for r in frame.select("__granted").distinct().collect()], dtype=pl.String()
    )
    supports = local_frame(spark, pl.DataFrame([distinct, support_by_columns(distinct).alias("support")]))
    out = frame.join(F.broadcast(supports), frame["__granted"].eqNullSafe(supports["__g"]), "left")
    return out.drop("__g")


_FINDINGS_READ = ("verdict", "failing", "undetermined", "rules", "rules_undetermined", "support", "packs")


def _with_findings(
    spark: SparkSession, policy_set: Any, run: Run, frame: DataFrame, exit_pack: str
) -> DataFrame:
    """`frame` with ``findings`` (`with_findings`), worked out on the driver once per distinct
    set of the columns the checks read."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    checks = checks_for(policy_set, run.record_type, run.as_of)
    if checks is None:
        return frame.withColumn("findings", F.array().cast(_EMPTY))
    keyed = frame.withColumn("__fk", F.to_json(F.struct(*_FINDINGS_READ)))
    distinct = pl.from_arrow(keyed.select("__fk", *_FINDINGS_READ).dropDuplicates(["__fk"]).toArrow())
    assert isinstance(distinct, pl.DataFrame)
    found = with_findings(checks, distinct, exit_pack).select(pl.col("__fk").alias("__f"), "findings")
    table = local_frame(spark, found)
    out = keyed.join(F.broadcast(table), keyed["__fk"] == table["__f"], "left")
    return out.drop("__fk", "__f")


def _with_task_columns(
    rows: DataFrame, valid: DataFrame, task: Task, key: str, odd: Sequence[str], spark: SparkSession
) -> DataFrame:
    """The rows with what `decided` adds: the county, no problems, what the areas' packs read
    (``kept|…``); the rows left to ``mapInArrow`` (`odd`) left out."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    schema = task.policies.schema
    county = schema.role(roles.COUNTY_CODE)
    kept = task.kept_schema() if task.reads is not None else {}
    spark_kept = spark_schema(kept) if kept else None
    households = valid.select(
        valid[key].cast("string").alias("__id"),
        (
            col(county).cast("string") if county and county in valid.columns else F.lit(None).cast("string")
        ).alias("county"),
        *(
            _kept(schema, _field(valid, name[len(KEPT) :]), name[len(KEPT) :])
            .cast(spark_kept[name].dataType)
            .alias(name)
            for name in kept
            if spark_kept is not None
        ),
    )
    # one household a row (an id twice in the input: decided twice, as the runner decides it)
    households = households.dropDuplicates(["__id"])
    out = rows.join(households, rows["id"] == households["__id"], "inner").drop("__id")
    if odd:
        out = out.where(~F.col("id").isin(list(odd)))
    return out.withColumn(PROBLEMS, F.array().cast(_EMPTY))


def _kept(schema: Schema, value: Column, dotted: str) -> Column:
    """A kept field's value as a record holds it: an enum's label or alias as its code (as the
    reading checks certify it, `enum_spellings`)."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    found = schema.field_at(schema.records[schema.root], tuple(dotted.split(".")))
    if found is None or found.kind != "enum":
        return value
    spellings = enum_spellings(schema, found)
    pairs = [F.lit(x) for spelling, code in sorted(spellings.items()) for x in (spelling, code)]
    return F.try_element_at(F.create_map(*pairs), value.cast("string"))


def _field(frame: DataFrame, dotted: str) -> Column:
    """A (nested) field of `frame` at a dotted path."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    parts = dotted.split(".")
    found: Column = F.col(f"`{parts[0]}`")
    for part in parts[1:]:
        found = found.getField(part)
    return found
