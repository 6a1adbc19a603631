"""The packs on Spark natively: the outcome assembled in the JVM equals the Polars runner's, row
for row, and its executed plan holds no Python worker.

The example registry and the first 2,000 generated households (the session's, one of them
spoiled, so refused) are decided by `decided_native` from their compact table.  Until
`gspolicy.spark.lower.spark_table` computes that table with Spark's own expressions, this module
stands in for it (`_compact`): the Polars runner's compact table of the same valid households,
sent to Spark with their ids — the same columns, so `decided_native` reads it as it will read
Spark's.  The reference is ``gspolicy evaluate``'s streamed run on the same JSON Lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from gspolicy.columnar.frames import Frames
from gspolicy.columnar.polars_backend import run_plans
from gspolicy.columnar.registry import registry_blocks
from gspolicy.columnar.run import plan_run
from gspolicy.explain.area_reads import area_reads
from gspolicy.explain.build import exit_pack_of
from gspolicy.spark.batches import KEPT
from gspolicy.tables import TABLE_COLUMNS

from support.bundled import shared_policies
from support.spark_registry import DAY

pytestmark = pytest.mark.slow  # Spark jobs: a few CPU-s (see the report)

FEW = 2_000
"""Generated households decided natively besides the example registry."""
_WORKER = ("Python", "Pandas", "InArrow")


def _frames(parts: list[Frames]) -> Frames:
    """Frames of several blocks as one (rows numbered on), so that one compact table, with one
    item width, holds them all."""
    subjects: list[pl.DataFrame] = []
    items: dict[tuple[str, ...], list[pl.DataFrame]] = {}
    offset = 0
    for part in parts:
        shift = pl.col("__row") + offset
        subjects.append(part.subjects.with_columns(shift.cast(pl.UInt32)))
        for path, frame in part.items.items():
            items.setdefault(path, []).append(frame.with_columns(shift.cast(pl.UInt32)))
        offset += part.height
    return Frames(
        pl.concat(subjects, how="vertical_relaxed"),
        {path: pl.concat(found, how="vertical_relaxed") for path, found in items.items()},
    )


@pytest.fixture(scope="module")
def households(spark_registry: tuple[list[Path], Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The JSON Lines and nested Parquet of the example registry and `FEW` generated households."""
    lines, nested = spark_registry
    folder = tmp_path_factory.mktemp("native")
    few = folder / "few.jsonl"
    with lines[1].open(encoding="utf-8") as source:
        few.write_text("".join(next(source) for _ in range(FEW)), encoding="utf-8")
    parquet = folder / "nested"
    parquet.mkdir()
    (parquet / "part-0.parquet").symlink_to(nested / "part-0.parquet")
    pl.read_parquet(nested / "part-1.parquet").slice(0, FEW).write_parquet(parquet / "part-1.parquet")
    return [lines[0], few], parquet


@pytest.fixture(scope="module")
def polars_side(households: Any) -> tuple[pl.DataFrame, list[str], pl.DataFrame, pl.DataFrame, int, int]:
    """What the streamed run gives (the outcome table sorted by id, the refused ids) and the
    stand-in for `spark_table`: the compact tables of the valid households with their ids."""
    policies = shared_policies()
    policy_set = policies.policy_set
    run = plan_run(policy_set, policy_set.schema.root, DAY)
    outcome: list[pl.DataFrame] = []
    refused: list[str] = []
    frames: list[Frames] = []
    ids: list[pl.Series] = []
    reads = area_reads(policy_set, DAY)
    assert reads is not None
    for block in registry_blocks(
        households[0],
        policy_set,
        DAY,
        exit_pack=exit_pack_of(policy_set),
        derive=reads.derive,
        keep=reads.paths,
    ):
        refused += [str(r.data.get("id")) for r in block.refused if isinstance(r.data, dict)]
        decided = block.decide()
        kept = block.kept()
        outcome.append(
            pl.concat([decided, kept.rename({c: KEPT + c for c in kept.columns})], how="horizontal")
        )
        for places, part in block.frames():
            frames.append(part)
            ids.append(decided["id"].gather(places))
    whole = _frames(frames)
    id_column = pl.concat(ids).alias("id")
    table = run.table(whole)
    assert run.lapses is not None
    lapses = run_plans(run.lapses.run.plans, run.lapses.run.keys, whole)
    expected = pl.concat(outcome).sort("id")
    return (
        expected,
        refused,
        table.table.drop("__row").with_columns(id_column),
        lapses.table.drop("__row").with_columns(id_column),
        table.width,
        lapses.width,
    )


def _compact(spark: Any, side: tuple[Any, ...], keep: pl.Series | None = None) -> Any:
    from gspolicy.spark.native import Compact
    from gspolicy.spark.native_columns import local_frame

    _expected, _refused, table, lapses, width, lapses_width = side
    if keep is not None:
        table, lapses = table.filter(keep), lapses.filter(keep)
    return Compact(local_frame(spark, table), width, local_frame(spark, lapses), lapses_width)


@pytest.fixture(scope="module")
def native(
    spark: Any, households: Any, polars_side: tuple[Any, ...]
) -> Iterator[tuple[Any, pl.DataFrame, str]]:
    """The native run, its rows collected (sorted by id) and its executed plan once final."""
    from gspolicy.spark.native import decided_native

    frame = spark.read.parquet(str(households[1]))
    policies = shared_policies()
    reads = area_reads(policies.policy_set, DAY)
    done = decided_native(frame, policies, DAY, _compact(spark, polars_side), reads=reads)
    rows = pl.from_arrow(done.rows.toArrow())
    assert isinstance(rows, pl.DataFrame)
    plan = done.rows._jdf.queryExecution().executedPlan().toString()
    return done, rows.sort("id"), plan


def _first_difference(got: pl.DataFrame, wanted: pl.DataFrame) -> str | None:
    """Where two outcome tables first differ (None: they do not)."""
    if got.height != wanted.height:
        return f"{got.height} rows, not {wanted.height}"
    for name in wanted.columns:
        for index, (a, b) in enumerate(zip(got[name].to_list(), wanted[name].to_list(), strict=True)):
            if a != b:
                return f"{name} of {wanted['id'][index]}: {a!r} != {b!r}"
    return None


def test_the_native_outcome_is_the_polars_runners_row_for_row(
    native: tuple[Any, pl.DataFrame, str], polars_side: tuple[Any, ...]
) -> None:
    from gspolicy.spark.batches import PROBLEMS

    _done, rows, _plan = native
    expected, refused = polars_side[0], polars_side[1]
    good = rows.filter(pl.col(PROBLEMS).list.len() == 0)
    # the outcome columns, what the areas' packs derive of a household and what they read of it
    columns = [c for c in expected.columns if c in good.columns]
    assert len(columns) > len(TABLE_COLUMNS)
    assert good.height == expected.height == 3_000 + FEW - 1
    assert good.select(columns).schema == expected.select(columns).schema
    assert _first_difference(good.select(columns), expected.select(columns)) is None
    gone = rows.filter(pl.col(PROBLEMS).list.len() > 0)
    assert gone["id"].to_list() == refused
    assert all(gone[PROBLEMS].to_list())


def test_the_bundled_packs_run_natively_with_no_python_worker(native: tuple[Any, pl.DataFrame, str]) -> None:
    done, _rows, plan = native
    assert done.fallback_packs == ()
    assert done.fallback_households == 0
    assert "isFinalPlan=true" in plan
    assert "BroadcastHashJoin" in plan  # the decoded parts joined by value
    assert done.held
    assert all(frame.is_cached for frame in done.held)  # until released
    found = [line.strip() for line in plan.splitlines() if any(w in line for w in _WORKER)]
    assert not found, found


def test_the_comparison_catches_a_verdict_taken_from_another_pack(
    native: tuple[Any, pl.DataFrame, str], polars_side: tuple[Any, ...]
) -> None:
    """A planted twin: the native rows with the exit verdict read from another pack's field of
    ``packs`` (a wrong join of parts gives such a table) differ from the reference."""
    from gspolicy.spark.batches import PROBLEMS

    _done, rows, _plan = native
    expected = polars_side[0]
    columns = [c for c in TABLE_COLUMNS if c != "county"]
    good = rows.filter(pl.col(PROBLEMS).list.len() == 0).select(columns)
    assert _first_difference(good, expected.select(columns)) is None
    exit_pack = exit_pack_of(shared_policies().policy_set)
    fields = [f for f in good.schema["packs"].fields if not f.name.startswith(exit_pack + "@")]  # type: ignore[attr-defined]
    for field in fields:
        twin = good.with_columns(pl.col("packs").struct.field(field.name).alias("verdict"))
        found = _first_difference(twin, expected.select(columns))
        assert found is not None, field.name
        assert found.startswith("verdict of "), found


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "1 packs could not run natively on Spark and were decided in mapInArrow:\n  a@1: why not\n"),
        ("zh", "1 个政策包未能在 Spark 中原生判定，改在 mapInArrow 中判定：\n  a@1：why not\n"),
    ],
)
def test_the_command_names_the_packs_that_fell_back(
    lang: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from gspolicy.cli.evaluate_spark import _say_fallback

    _say_fallback((), lang)  # type: ignore[arg-type]
    assert capsys.readouterr().err == ""
    _say_fallback((("a@1", "why not"),), lang)  # type: ignore[arg-type]
    assert capsys.readouterr().err.endswith(said)


def test_without_a_spark_lowering_every_lowered_pack_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from gspolicy.spark import native

    run = plan_run(shared_policies().policy_set, "household", DAY)
    monkeypatch.setattr(native, "_lowering", lambda: None)
    found = native.native_fallback(run)
    assert [key for key, _why in found] == [p.pack.key for p in run.plans]
    assert {why for _key, why in found} == {"no Spark lowering installed"}
