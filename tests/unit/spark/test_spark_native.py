"""The native Spark path's cheap checks: for the bundled packs nothing falls back to ``mapInArrow``
(`native_fallback`, worked out without starting Spark), and the command names the packs that do.

The native outcome is compared with the Polars runner's, and its plan searched for a Python
worker, in `test_spark_equal.py` (on a slice of the session's households: its fixed cost — some
700 Spark columns built and planned, a dozen jobs — is what the suite can pay for); the 100,000
household comparison runs in ``benchmarks/spark_bench.py --paths native``.  The compact table it
is built from is compared column for column in `test_spark_lower.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from gspolicy.columnar.run import plan_run
from gspolicy.spark.native import native_fallback  # imports no pyspark

from support.bundled import shared_policies
from support.spark_registry import DAY


@pytest.mark.slow  # a run planned
def test_no_bundled_pack_falls_back_to_map_in_arrow() -> None:
    policy_set = shared_policies().policy_set
    run = plan_run(policy_set, policy_set.schema.root, DAY)
    assert run.plans
    assert native_fallback(run) == ()


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


def _plan(frame: object) -> str:
    return str(frame._jdf.queryExecution().analyzed().toString())  # type: ignore[attr-defined]


@pytest.mark.slow  # the session's JVM
def test_a_frame_computed_once_keeps_its_values_not_its_plan(spark: object, tmp_path: Path) -> None:
    from pyspark.sql import functions as F

    from gspolicy.spark.native_columns import computed_once

    frame = spark.range(6).withColumn("twice", F.col("id") * 2)  # type: ignore[attr-defined]
    assert "Project" in _plan(frame)
    here = computed_once(frame)  # no checkpoint folder: kept on the executors
    assert "Project" not in _plan(here)
    assert "LogicalRDD" in _plan(here)
    assert sorted(r["twice"] for r in here.collect()) == [0, 2, 4, 6, 8, 10]
    # with a checkpoint folder (as a cluster sets one), written there: no executor holds it alone
    spark.sparkContext.setCheckpointDir(str(tmp_path))  # type: ignore[attr-defined]
    kept = computed_once(frame)
    assert "Project" not in _plan(kept)
    assert any(tmp_path.rglob("part-*")), "the frame is written to the checkpoint folder"
    assert sorted(r["twice"] for r in kept.collect()) == [0, 2, 4, 6, 8, 10]
