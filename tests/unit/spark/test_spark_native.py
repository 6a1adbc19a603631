"""The native Spark path's cheap checks: for the bundled packs nothing falls back to ``mapInArrow``
(`native_fallback`, worked out without starting Spark), and the command names the packs that do.

The native outcome's equality with the Polars runner is checked at scale by
``benchmarks/spark_bench.py --paths native`` (same summary, same table), not here: assembling it
plans some 700 Spark columns in many jobs, about 200 CPU-s on the example registry — beyond what
the suite may spend.  The compact table it is built from is compared with the Polars runner's in
`test_spark_lower.py`, whose plan holds no Python worker."""

from __future__ import annotations

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
