"""The packs on Spark give what the Polars runner gives, row for row.

The example registry (3,000 households) and 10,000 generated ones (another seed, so no id is
shared; the generator plants defects, so some households are refused) are written in the nested
Parquet layout — one row a household, its members and support items as lists of structs — and
decided on Spark (``local[2]``, several partitions) by `gspolicy.spark`; the same JSON Lines
decided by ``gspolicy evaluate``'s streamed run (`registry_blocks`, the Polars runner) give the
reference.  Spark and the households are the session's (`tests/unit/spark/conftest.py`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from gspolicy.cli import main
from gspolicy.columnar.registry import registry_blocks
from gspolicy.columnar.runner import derived_column, lacks_column
from gspolicy.engine.outcome import decide_outcome
from gspolicy.explain.area_reads import area_reads
from gspolicy.explain.build import exit_pack_of
from gspolicy.explain.summaries import SummaryCounts, exit_settle, summary_plan
from gspolicy.tables import TABLE_COLUMNS

from support.bundled import shared_policies
from support.spark_registry import DAY, EXAMPLE, GENERATED, SPOILED

pytestmark = pytest.mark.slow  # a JVM: about half a minute of CPU for the module (see the report)


@pytest.fixture(scope="module")
def reference(
    spark_registry: tuple[list[Path], Path],
) -> tuple[pl.DataFrame, list[str], SummaryCounts, pl.DataFrame]:
    """What the streamed ``gspolicy evaluate`` gives on the JSON Lines: the outcome table (with
    the county), the refused ids, the summary's counts and what the areas' packs read."""
    policies = shared_policies()
    policy_set = policies.policy_set
    exit_pack = exit_pack_of(policy_set)
    reads = area_reads(policy_set, DAY)
    assert reads is not None
    key = policies.schema.records[policies.schema.root].key or "id"
    counts = SummaryCounts(summary_plan(policy_set, DAY))
    frames: list[pl.DataFrame] = []
    kept: list[pl.DataFrame] = []
    refused: list[str] = []
    derived = [c for pf in reads.derive for c in (derived_column(*pf), lacks_column(*pf))]
    for block in registry_blocks(
        spark_registry[0], policy_set, DAY, exit_pack=exit_pack, derive=reads.derive, keep=reads.paths
    ):
        refused += [str(r.data.get(key)) for r in block.refused if isinstance(r.data, dict)]
        if not block.valid:
            continue
        frame = block.decide()
        kept.append(pl.concat([block.kept(), frame.select(derived)], how="horizontal"))
        frame = frame.drop(derived)
        counties = block.counties()

        def settle(row: int, block: object = block) -> list[str]:
            record = block.record(row)  # type: ignore[attr-defined]
            return exit_settle(decide_outcome(policy_set, record, DAY, exit_pack=exit_pack))

        counts.add(frame, counties, settle)
        frames.append(frame.with_columns(pl.Series("county", [None if c == "?" else c for c in counties])))
    return pl.concat(frames).select(TABLE_COLUMNS), refused, counts, pl.concat(kept)


@pytest.fixture(scope="module")
def decided(spark: object, spark_registry: tuple[list[Path], Path]) -> Iterator[object]:
    """The households decided on Spark, with what the areas' packs read, kept for the tests."""
    from gspolicy import spark as on_spark

    policies = shared_policies()
    households = spark.read.parquet(str(spark_registry[1]))  # type: ignore[attr-defined]
    assert households.rdd.getNumPartitions() >= 2
    rows = on_spark.decided(households, policies, DAY, reads=area_reads(policies.policy_set, DAY))
    ordered = on_spark.in_input_order(rows, households).cache()
    yield ordered
    ordered.unpersist()


_ONE_IN = 16
"""The native path decides about one household in `_ONE_IN` of the session's (chosen by a hash
of the id) and every refused one: its fixed cost (some 700 Spark columns built and planned, a
dozen jobs) is what the suite pays; the 100,000 and 1 M comparisons run in the benchmark."""


@pytest.fixture(scope="module")
def native(
    spark: object,
    spark_registry: tuple[list[Path], Path],
    reference: tuple[pl.DataFrame, list[str], SummaryCounts, pl.DataFrame],
) -> tuple[object, pl.DataFrame, str]:
    """The sliced households decided on the native path (`decided_native`): the decided object,
    its rows collected, and the physical plan of those rows."""
    from pyspark.sql import functions as F

    from gspolicy.spark.native import decided_native

    policies = shared_policies()
    households = spark.read.parquet(str(spark_registry[1]))  # type: ignore[attr-defined]
    chosen = households.where((F.abs(F.xxhash64("id")) % _ONE_IN == 0) | F.col("id").isin(reference[1]))
    done = decided_native(chosen, policies, DAY)
    rows = pl.from_arrow(done.rows.toArrow())
    assert isinstance(rows, pl.DataFrame)
    plan = done.rows._jdf.queryExecution().executedPlan().toString()
    done.release()  # the rows are collected
    return done, rows, plan


def _first_difference(got: pl.DataFrame, wanted: pl.DataFrame) -> str:
    """Where two tables of one shape first differ: the column, the row's id and both values."""
    for name in wanted.columns:
        for index, (a, b) in enumerate(zip(got[name].to_list(), wanted[name].to_list(), strict=True)):
            if a != b:
                return f"{name} of {wanted['id'][index]} (row {index}): {a!r} != {b!r}"
    return "no value differs"


def test_the_outcome_table_on_spark_is_the_polars_runners_row_for_row(
    decided: object, reference: tuple[pl.DataFrame, list[str], SummaryCounts, pl.DataFrame]
) -> None:
    from gspolicy.spark.batches import PROBLEMS

    rows = pl.from_arrow(decided.toArrow())  # type: ignore[attr-defined]
    assert isinstance(rows, pl.DataFrame)
    expected, refused, _counts, _kept = reference
    good = rows.filter(pl.col(PROBLEMS).list.len() == 0).select(TABLE_COLUMNS)
    assert good.height == expected.height == 3_000 + GENERATED - len(SPOILED)
    assert good.schema == expected.schema
    assert good.equals(expected), _first_difference(good, expected)
    gone = rows.filter(pl.col(PROBLEMS).list.len() > 0)
    assert sorted(gone["id"].to_list()) == sorted(refused)
    assert refused, "the generator plants defects: some households are refused"
    assert all(problems for problems in gone[PROBLEMS].to_list())


def test_the_summary_on_spark_is_the_streamed_runs(
    decided: object, reference: tuple[pl.DataFrame, list[str], SummaryCounts, pl.DataFrame]
) -> None:
    from gspolicy import spark as on_spark

    policies = shared_policies()
    counted = on_spark.summary(decided, policies, DAY)  # type: ignore[arg-type]
    expected = reference[2]
    for lang in ("en", "zh"):
        assert counted.render(lang) == expected.render(lang, as_of=DAY)
    table = counted.per_county()
    assert table["households"].sum() == expected.rows
    assert dict(zip(table["county"], table["households"], strict=True)) == {
        c: n[0] for c, n in expected.counties.items()
    }


def test_villages_and_counties_come_from_what_spark_kept(
    decided: object, reference: tuple[pl.DataFrame, list[str], SummaryCounts, pl.DataFrame]
) -> None:
    from gspolicy.spark.frames import kept_frame

    policies = shared_policies()
    kept = kept_frame(decided, policies, DAY)  # type: ignore[arg-type]
    assert kept.equals(reference[3].select(kept.columns))
    assert kept.columns == reference[3].columns


def test_the_command_on_spark_writes_what_the_polars_runner_writes(
    spark: object, spark_registry: tuple[list[Path], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the example registry in two files, the first given through a symbolic link whose name
    # holds a space: Spark names it unresolved and percent-encoded, and its rows still come first
    nested = pl.read_parquet(spark_registry[1] / "part-0.parquet")
    (tmp_path / "store").mkdir()
    nested.slice(0, 1_000).write_parquet(tmp_path / "store" / "first.parquet")
    nested.slice(1_000).write_parquet(tmp_path / "second.parquet")
    (tmp_path / "the first.parquet").symlink_to(tmp_path / "store" / "first.parquet")
    inputs = [str(tmp_path / "the first.parquet"), str(tmp_path / "second.parquet")]
    areas = [
        "--villages",
        str(EXAMPLE.with_name("villages.jsonl")),
        "--counties",
        str(EXAMPLE.with_name("counties.jsonl")),
    ]
    common = ["--as-of", DAY.isoformat(), "--lang", "en", *areas]
    assert main(["evaluate", str(EXAMPLE), *common, "--output", str(tmp_path / "polars.parquet")]) == 0
    expected = capsys.readouterr().out
    code = main(
        ["evaluate", *inputs, "--engine", "spark", *common, "--output", str(tmp_path / "spark.parquet")]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == expected
    assert pl.read_parquet(tmp_path / "spark.parquet").equals(pl.read_parquet(tmp_path / "polars.parquet"))
    manifest = json.loads((tmp_path / "spark.parquet.manifest.json").read_text(encoding="utf-8"))
    assert manifest["runner"].startswith("columnar (Polars) on Spark (local[2]")
    polars_manifest = json.loads((tmp_path / "polars.parquet.manifest.json").read_text("utf-8"))
    for name in ("records", "verdicts", "packs", "as_of"):
        assert manifest[name] == polars_manifest[name], name


def test_refused_households_stop_the_command_unless_skipped(
    spark: object, spark_registry: tuple[list[Path], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generated = pl.read_parquet(spark_registry[1] / "part-1.parquet")
    few = tmp_path / "few.parquet"
    generated.slice(0, 20).write_parquet(few)  # the first household is spoiled (`SPOILED`)
    out = tmp_path / "out.parquet"
    args = ["evaluate", str(few), "--engine", "spark", "--as-of", DAY.isoformat(), "--output", str(out)]
    code = main([*args, "--lang", "zh"])
    err = capsys.readouterr().err
    assert code == 1
    assert "1 户记录有问题，未判定任何农户" in err
    assert "<spark batch>" in err
    assert "size" in err
    assert not out.exists()
    assert main([*args, "--lang", "en", "--skip-invalid"]) == 0
    err = capsys.readouterr().err
    assert "skipped 1 of 20 records with problems; deciding the other 19" in err
    assert pl.read_parquet(out).height == 19
    # no refused file that would say nothing was refused: the households are listed on stderr
    assert "the 1 refused households are listed above only" in err
    assert not Path(f"{out}.refused.jsonl").exists()


def test_the_native_outcome_is_the_polars_runners_and_runs_in_the_jvm(
    native: tuple[object, pl.DataFrame, str],
    reference: tuple[pl.DataFrame, list[str], SummaryCounts, pl.DataFrame],
) -> None:
    from gspolicy.spark.batches import PROBLEMS

    done, rows, plan = native
    expected, refused, _counts, _kept = reference
    good = rows.filter(pl.col(PROBLEMS).list.len() == 0).select(TABLE_COLUMNS).sort("id")
    wanted = expected.filter(pl.col("id").is_in(rows["id"].implode())).sort("id")
    assert good.height == wanted.height
    assert good.height > (3_000 + GENERATED) // _ONE_IN // 2, (
        f"the slice holds about one household in {_ONE_IN}"
    )
    assert good.schema == wanted.schema
    assert good.equals(wanted), _first_difference(good, wanted)
    gone = rows.filter(pl.col(PROBLEMS).list.len() > 0)
    assert sorted(gone["id"].to_list()) == sorted(refused)
    # every household decided by Spark's own columns: nothing fell back to a Python worker
    assert done.fallback_packs == ()  # type: ignore[attr-defined]
    assert done.fallback_households == 0  # type: ignore[attr-defined]
    for word in ("Python", "Pandas", "InArrow"):
        assert word not in plan, f"the native outcome's plan runs {word}"
