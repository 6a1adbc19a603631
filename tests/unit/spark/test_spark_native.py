"""The native Spark path's cheap checks: for the bundled packs nothing falls back to ``mapInArrow``
(`native_fallback`, worked out without starting Spark), and the command names the packs that do.

The native outcome is compared with the Polars runner's, and its plan searched for a Python
worker, in `test_spark_equal.py` (on a slice of the session's households: its fixed cost — some
700 Spark columns built and planned, a dozen jobs — is what the suite can pay for); the 100,000
household comparison runs in ``benchmarks/spark_bench.py --paths native``.  The compact table it
is built from is compared column for column in `test_spark_lower.py`."""

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
