"""The figures by columns (`columnar_figures`) are the reference's (`figures` over households
decided one by one), cell for cell and id for id: on generated households written as registry
tables (so they take the columnar reader's way), on a slice of the example registry, and with a
pack whose indicators do not lower (computed record by record, and said so), and with households
the columns cannot hold (counted by the reference, then merged).  Planted twins — a
wrong lowering of a flow's quarter, of the batches a household is in — are caught."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gspolicy.api import Policies
from gspolicy.errors import PolicyError
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.table_write import RegistryWriter
from gspolicy.stats import Figures, parse_quarter
from gspolicy.stats import lowered as lowered_module
from gspolicy.stats.registry import columnar_figures, per_record_notes, registry_figures
from unit.stats._demo import STATS, demo_set

from support.bundled import REGISTRY
from support.households import exit_households

pytestmark = pytest.mark.slow  # figures by columns against the reference on registries: full suite

QUARTERS = ("2017Q4", "2018Q3", "2018Q4", "2019Q2")
SLICE = 300  # households of the example registry: more than a block of lines read by the validator alone


def differences(got: Figures, want: Figures) -> list[str]:
    """Every way `got` differs from `want`: indicators, cells (value and households), totals,
    the households undetermined."""
    out: list[str] = []
    if list(got.tables) != list(want.tables):
        out.append(f"indicators {list(got.tables)} != {list(want.tables)}")
    for key, ref in want.tables.items():
        table = got.tables.get(key)
        if table is None:
            continue
        if (table.pack, table.keys) != (ref.pack, ref.keys):
            out.append(f"{key}: {table.pack} by {table.keys} != {ref.pack} by {ref.keys}")
        for group in sorted(set(table.cells) | set(ref.cells)):
            if table.cells.get(group) != ref.cells.get(group):
                out.append(f"{key} {group}: {table.cells.get(group)} != {ref.cells.get(group)}")
        if table.total != ref.total:
            out.append(f"{key} total: {table.total} != {ref.total}")
        if table.undetermined != ref.undetermined:
            out.append(f"{key} undetermined: {table.undetermined} != {ref.undetermined}")
    return out


def _areas() -> list[tuple[str, str]]:
    """(county, village) of the first households of the example registry."""
    lines = (REGISTRY / "households.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    return sorted({(row["county_code"], row["village_code"]) for row in map(json.loads, lines)})


def _tables(path: Path, rows: list[dict[str, Any]], policies: Policies) -> Path:
    with RegistryWriter(path, policies.schema) as writer:
        writer.write(rows)
    return path


@st.composite
def _registry(draw: st.DrawFn, areas: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """A few households around the exit cases' defaults, in the example registry's areas, some
    exited within the quarters the tests read."""
    rows = []
    for number in range(draw(st.integers(1, 5))):
        row = draw(exit_households(ident=f"H-{number:03d}"))
        row["county_code"], row["village_code"] = draw(st.sampled_from(areas))
        registration = row.get("registration")
        if isinstance(registration, dict) and draw(st.booleans()):
            registration["status"] = "exited"
            registration["exited_on"] = draw(st.dates(dt.date(2017, 9, 1), dt.date(2019, 7, 31))).isoformat()
        rows.append(row)
    return rows


def _both(policy_set: PolicySet, paths: list[Path], quarter: str) -> tuple[Figures, Figures] | None:
    """The figures by columns and by the reference; None when the files have problems (then
    both refuse them alike)."""
    q = parse_quarter(quarter)
    refused: PolicyError | None = None
    try:
        want = registry_figures(policy_set, paths, q)
    except PolicyError as err:
        refused = err
    if refused is not None:
        with pytest.raises(PolicyError) as raised:
            columnar_figures(policy_set, paths, q)
        assert {d.code for d in raised.value.diagnostics} == {d.code for d in refused.diagnostics}
        return None
    return columnar_figures(policy_set, paths, q).figures, want


def test_figures_by_columns_equal_the_reference_on_generated_households(
    bundled: Policies, tmp_path: Path
) -> None:
    areas = _areas()
    compared: list[int] = []

    @settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_registry(areas), st.sampled_from(QUARTERS))
    def check(rows: list[dict[str, Any]], quarter: str) -> None:
        path = _tables(tmp_path / "households.parquet", rows, bundled)
        found = _both(bundled.policy_set, [path], quarter)
        if found is not None:
            compared.append(1)
            assert differences(*found) == []

    check()
    assert compared  # the strategy gives valid registries


@pytest.fixture(scope="module")
def example_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("slice") / "households.jsonl"
    lines = (REGISTRY / "households.jsonl").read_text(encoding="utf-8").splitlines()[:SLICE]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(bundled: Policies, example_slice: Path) -> dict[str, Figures]:
    """The reference figures of the slice, by quarter (computed once)."""
    return {
        q: registry_figures(bundled.policy_set, [example_slice], parse_quarter(q))
        for q in ("2017Q3", "2017Q4")
    }


@pytest.mark.parametrize("quarter", ["2017Q3", "2017Q4"])
def test_figures_by_columns_equal_the_reference_on_the_example_registry(
    bundled: Policies, example_slice: Path, reference: dict[str, Figures], quarter: str
) -> None:
    got = columnar_figures(bundled.policy_set, [example_slice], parse_quarter(quarter)).figures
    assert differences(got, reference[quarter]) == []
    if quarter == "2017Q4":  # every indicator has households behind it
        assert all(t.cells and t.total.households for t in got.tables.values())


def test_planted_a_flow_open_at_the_end_of_the_quarter_is_found(
    bundled: Policies, example_slice: Path, reference: dict[str, Figures], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lowered_module, "_in_quarter", lambda day, q: day >= q.first)
    got = columnar_figures(bundled.policy_set, [example_slice], parse_quarter("2017Q3")).figures
    found = differences(got, reference["2017Q3"])
    assert any(d.startswith("stat.exited ") for d in found)
    assert any(d.startswith("stat.exited_by_village ") for d in found)


def test_planted_every_pack_of_a_rule_counted_as_a_batch_is_found(
    bundled: Policies, example_slice: Path, reference: dict[str, Figures], monkeypatch: pytest.MonkeyPatch
) -> None:
    def every_pack(lowered: lowered_module.Lowered, table: pl.DataFrame) -> tuple[pl.DataFrame, ...]:
        batches = (  # the packs of every rule that holds, batch packs or not
            table.select("__row", pl.col("__rules").alias("batch"))
            .explode("batch")
            .with_columns(pl.col("batch").str.replace(r":.*$", ""))
            .drop_nulls()
            .unique()
        )
        return batches, real(lowered, table)[1]

    real = lowered_module._memberships_of_outcome
    monkeypatch.setattr(lowered_module, "_memberships_of_outcome", every_pack)
    got = columnar_figures(bundled.policy_set, [example_slice], parse_quarter("2017Q4")).figures
    assert any(d.startswith("stat.households_in_batch ") for d in differences(got, reference["2017Q4"]))


DIVIDED = STATS.replace(
    "    sum: income.per_capita\n", "    sum: income.per_capita * 2 - income.per_capita / 1\n"
)


def test_a_pack_that_does_not_lower_is_computed_record_by_record_and_said_so(tmp_path: Path) -> None:
    demo = demo_set(tmp_path / "root", DIVIDED)
    rows = [
        {"id": f"D-{i}", "county_code": "620521", "income": {"per_capita": 2000 + 700 * i}} for i in range(6)
    ]
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    quarter = parse_quarter("2018Q4")
    computed = columnar_figures(demo, [path], quarter)
    assert [pack for pack, _why in computed.per_record] == ["demo.stats@1"]
    assert "division" in computed.per_record[0][1]
    assert [d.code for d in per_record_notes(computed)] == ["stats/per-record"]
    want = registry_figures(demo, [path], quarter)
    assert differences(computed.figures, want) == []
    assert want.tables["s.income"].total.value == sum(
        2000 + 700 * i for i in range(6) if 2000 + 700 * i < 5000
    )


def test_the_bundled_pack_lowers_whole(bundled: Policies, example_slice: Path) -> None:
    computed = columnar_figures(bundled.policy_set, [example_slice], parse_quarter("2017Q4"))
    assert computed.per_record == ()
    assert computed.households_per_record == 0
    assert computed.keys["county"]
    assert all(len(v) == 6 for v in computed.keys["county"])


def test_a_file_with_a_problem_gives_no_figures_by_columns_but_every_problem(
    bundled: Policies, example_slice: Path, tmp_path: Path
) -> None:
    lines = example_slice.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "households.jsonl"
    bad.write_text("\n".join([lines[0], '{"id": "bad-1", "size": "many"}', *lines[1:], lines[0]]) + "\n")
    quarter = parse_quarter("2017Q4")
    with pytest.raises(PolicyError) as by_columns:
        columnar_figures(bundled.policy_set, [bad], quarter)
    with pytest.raises(PolicyError) as by_records:
        registry_figures(bundled.policy_set, [bad], quarter)
    codes = sorted(d.code for d in by_columns.value.diagnostics)
    assert codes == sorted(d.code for d in by_records.value.diagnostics)
    assert "record/duplicate-id" in codes


def test_households_the_columns_cannot_hold_are_counted_by_the_reference_and_merged(
    bundled: Policies, example_slice: Path, reference: dict[str, Figures], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = lowered_module.run_plans

    def every_third_unfit(*args: Any) -> Any:  # as if their numbers did not fit the columns
        result = real(*args)
        third = pl.int_range(pl.len()) % 3 == 0
        return type(result)(result.table.with_columns(third.alias("__fallback")), result.width)

    monkeypatch.setattr(lowered_module, "run_plans", every_third_unfit)
    computed = columnar_figures(bundled.policy_set, [example_slice], parse_quarter("2017Q4"))
    assert computed.households_per_record >= SLICE // 3
    assert differences(computed.figures, reference["2017Q4"]) == []
