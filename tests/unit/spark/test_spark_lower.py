"""The compact table of a run computed by Spark columns equals the Polars run's, column for column
and row for row.

One Spark DataFrame in the nested layout holds households of the example registry (as its JSON
Lines give them: dates as text, money as floating-point numbers, truth values partly as ``是``)
and hypothesis-generated households (every field kind, missing values, both ends of every
range; written as `Record.to_data` writes them), so Spark plans the bundled packs once; the
Polars run on the same records is the reference.  Every value, every what-would-settle word
(a Spark ``long`` read as the Polars ``UInt64``'s bits), every decimal and date is compared
exactly on each household Spark does not flag; a household the Polars run flags must be
flagged.  The physical plan holds no Python.  A planted wrong lowering (a threshold off by one)
is caught.  Spark is the session fixture of this folder's conftest."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gspolicy._resources import bundled_policies
from gspolicy.columnar.run import Run, plan_packs, plan_run
from gspolicy.schema.model import Record
from gspolicy.strategies import from_schema

from support.bundled import shared_policies, shared_registry

POLICIES = shared_policies()
SCHEMA = POLICIES.schema
EXAMPLE = bundled_policies().parent / "examples" / "registry" / "households.jsonl"
DAY = dt.date(2018, 12, 31)
REGISTRY = 400  # households of the example registry: planning, not rows, is what Spark spends
GENERATED = 40
WORD = (1 << 64) - 1


@pytest.fixture
def quick(spark: object) -> Iterator[object]:
    """The session, evaluating expressions without compiling them (a few hundred rows: Spark's
    code generation would cost more than it saves), as it was again after the test."""
    conf = spark.conf  # type: ignore[attr-defined]
    saved = {k: conf.get(k, None) for k in ("spark.sql.codegen.wholeStage", "spark.sql.codegen.factoryMode")}
    conf.set("spark.sql.codegen.wholeStage", "false")
    conf.set("spark.sql.codegen.factoryMode", "NO_CODEGEN")
    yield spark
    for key, value in saved.items():
        if value is None:
            conf.unset(key)
        else:
            conf.set(key, value)


def _frame(spark: object, rows: Sequence[dict[str, object]]) -> object:
    """Households in the nested layout, as a Parquet file written from JSON gives them."""
    frame = pl.DataFrame(list(rows), infer_schema_length=None, strict=False)
    return spark.createDataFrame(frame.to_arrow())  # type: ignore[attr-defined]


def _is_word(name: str) -> bool:
    tail = name.rpartition("|")[2]
    return tail == "sel" or (tail[:1] in ("s", "i") and tail[1:].isdigit())


def _differences(run: Run, records: Sequence[Record], table: object) -> tuple[list[str], int]:
    """Where the Spark table differs from the Polars run's on `records` (by id), and how many
    households Spark flags."""
    from gspolicy.spark.lower import FALLBACK

    want = run.table(run.frames(records)).table
    want = want.with_columns(pl.Series("id", [str(r.get("id")) for r in records])).drop("__row")
    got = pl.from_arrow(table.toArrow())  # type: ignore[attr-defined]
    assert isinstance(got, pl.DataFrame)
    got = got.with_columns(pl.col(c).reinterpret(signed=False) for c in got.columns if _is_word(c))
    got, want = got.sort("id"), want.sort("id")
    problems: list[str] = []
    if got["id"].to_list() != want["id"].to_list():
        return ["the households differ"], 0
    if sorted(got.columns) != sorted(want.columns):
        return [f"columns: {sorted(set(got.columns) ^ set(want.columns))}"], 0
    flagged = got[FALLBACK].to_list()
    for i, (mine, theirs) in enumerate(zip(flagged, want[FALLBACK].to_list(), strict=True)):
        if theirs and not mine:
            problems.append(f"{want['id'][i]} is flagged by Polars, not by Spark")
    for name in want.columns:
        if name == FALLBACK:
            continue
        for i, (a, b) in enumerate(zip(got[name].to_list(), want[name].to_list(), strict=True)):
            if flagged[i]:
                continue
            same = (a == b and type(a) is type(b)) or (isinstance(a, Decimal) and a == b)
            if not same:
                problems.append(f"{name} of {want['id'][i]}: {a!r} != {b!r}")
                break
    return problems, sum(flagged)


@pytest.mark.slow  # Spark plans every bundled pack: tens of CPU-seconds (see the report)
@settings(
    max_examples=1,  # one batch of GENERATED households: a Spark job per example costs too much
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
@given(households=st.lists(from_schema(SCHEMA), min_size=GENERATED, max_size=GENERATED))
def test_the_spark_table_is_the_polars_tables(quick: object, households: list[Record]) -> None:
    from gspolicy.spark.lower import spark_fallback, spark_table

    run = plan_run(POLICIES.policy_set, "household", DAY)
    assert spark_fallback(run) == ()
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()[:REGISTRY]
    rows = [json.loads(t) for t in lines]
    made = [h.replace(id=f"620000-{9000 + n:04d}") for n, h in enumerate(households)]
    records = [*shared_registry()[:REGISTRY], *made]
    table = spark_table(run, _frame(quick, [*rows, *(h.to_data() for h in made)]))
    problems, flagged = _differences(run, records, table)
    assert not problems, problems[:10]
    # flagged: a generated household with an empty list or an empty nested record (about 2 in 5)
    assert flagged < len(made) * 3 // 4, f"{flagged} of {len(made)} generated households flagged"
    plan = table._jdf.queryExecution().executedPlan().toString()  # type: ignore[attr-defined]
    for word in ("Python", "Pandas", "InArrow"):
        assert word not in plan, f"the plan runs {word}"


_EXIT = "exit_criteria.household"


def _water(n: int, litres: object, guarantee: object) -> dict[str, object]:
    return {
        "id": f"620000-{n:04d}",
        "water": {
            "litres_per_person_day": litres,
            "piped": True,
            "quality_ok": True,
            "guarantee_rate": guarantee,
        },
    }


_AT_THRESHOLDS = [_water(1, 20, 0.9), _water(2, 19.5, 0.95), _water(3, 21, 0.89), _water(4, 20, None)]


def _threshold_problems(spark: object) -> list[str]:
    from gspolicy.spark.lower import spark_table

    pack = next(p for p in POLICIES.policy_set.all_in_force(DAY) if p.key.startswith(_EXIT))
    run = plan_packs([pack], "household", DAY)
    records = [POLICIES.household(row) for row in _AT_THRESHOLDS]
    problems, _flagged = _differences(run, records, spark_table(run, _frame(spark, _AT_THRESHOLDS)))
    return problems


@pytest.mark.slow  # two Spark plans of one pack
def test_a_planted_threshold_off_by_one_is_caught(quick: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from gspolicy.spark import lower_operators

    assert _threshold_problems(quick) == []
    original = lower_operators.Operators.comparison

    def shifted(self, op, a, b):  # type: ignore[no-untyped-def]
        return original(self, ">" if op == ">=" else op, a, b)

    monkeypatch.setattr(lower_operators.Operators, "comparison", shifted)
    assert any("exit.water" in p for p in _threshold_problems(quick))


@pytest.mark.slow  # four runs planned
def test_no_bundled_pack_falls_back_on_spark() -> None:
    from gspolicy.spark.lower import spark_fallback

    for day in (dt.date(2016, 6, 30), DAY, dt.date(2020, 6, 30), dt.date(2021, 6, 30)):
        assert spark_fallback(plan_run(POLICIES.policy_set, "household", day)) == (), day


@pytest.mark.slow
def test_a_field_held_in_a_type_that_cannot_hold_it_is_named(spark: object) -> None:
    from gspolicy.spark.lower import SparkNotLowered, spark_table

    run = plan_run(POLICIES.policy_set, "household", DAY)
    frame = spark.createDataFrame([("620000-0001", [1, 2])], "id string, size array<int>")  # type: ignore[attr-defined]
    with pytest.raises(SparkNotLowered, match="`size` \\(int\\) held as array<int>"):
        spark_table(run, frame, width=1)
