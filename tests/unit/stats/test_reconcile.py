"""`gspolicy reconcile`: a report made of the computed figures agrees; every figure changed, left
out or added is one difference with the households behind it; a household-level report gives
exactly the households missing and extra; a bad report is refused with every problem located
(never a zero); exit 0, 1 and 2.  On the first households of the example registry (cheap)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy.cli import main
from gspolicy.errors import PolicyError
from gspolicy.pack.policy_set import PolicySet
from gspolicy.stats import Figures, parse_quarter
from gspolicy.stats.figures import figures
from gspolicy.stats.reconcile import (
    HEADER_WORDS,
    check_keys,
    indicators_in_force,
    known_keys,
    read_report,
    reconcile,
    tracking_keys,
)
from gspolicy.stats.registry import decided_pairs

from support.bundled import shared_policies

REGISTRY = Path(__file__).resolve().parents[3] / "examples" / "registry" / "households.jsonl"
QUARTER = parse_quarter("2017Q4")
COLUMNS = ("quarter", "indicator", "county", "village", "batch", "measure", "value")


@attrs.frozen
class Small:
    policy_set: PolicySet
    path: Path
    figures: Figures
    seen: dict[str, set[str]]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Small:
    """Ninety households of the example registry (two counties), decided once for the module."""
    lines = REGISTRY.read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("reconcile") / "households.jsonl"
    path.write_text("\n".join(lines[:60] + lines[400:430]) + "\n", encoding="utf-8")
    policy_set = shared_policies().policy_set
    seen: dict[str, set[str]] = {}
    pairs = decided_pairs(policy_set, [path], QUARTER.last)
    found = figures(policy_set, tracking_keys(policy_set, pairs, QUARTER, seen), QUARTER)
    return Small(policy_set, path, found, seen)


def _rows(found: Figures) -> list[dict[str, str]]:
    return [
        {
            "quarter": str(found.quarter),
            "indicator": t.id,
            **dict(zip(t.keys, k, strict=True)),
            "value": str(c.value),
        }
        for t in found.tables.values()
        for k, c in t.cells.items()
    ]


def _write(
    path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS, zh: bool = False
) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([HEADER_WORDS[c][1] if zh else c for c in columns])
    writer.writerows([r.get(c, "") for c in columns] for r in rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _reconciled(small: Small, path: Path, tolerance: Decimal | None = None) -> list:  # type: ignore[type-arg]
    indicators = indicators_in_force(small.policy_set, QUARTER)
    report = read_report(path, indicators, QUARTER)
    assert check_keys(report, indicators, known_keys(small.policy_set, small.figures, small.seen)) == []
    return reconcile(small.figures, report, tolerance=tolerance)


@settings(max_examples=8, deadline=None)
@given(zh=st.booleans(), order=st.randoms(use_true_random=False))
def test_a_report_of_the_computed_figures_agrees(
    small: Small, tmp_path_factory: pytest.TempPathFactory, zh: bool, order
) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(small.figures)
    order.shuffle(rows)
    path = _write(tmp_path_factory.mktemp("agree") / "report.csv", rows, zh=zh)
    assert rows
    assert _reconciled(small, path) == []


@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_a_changed_figure_is_one_difference_with_its_households(
    small: Small, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    rows = _rows(small.figures)
    at = data.draw(st.integers(0, len(rows) - 1), label="row")
    delta = data.draw(st.integers(-5, 5).filter(bool), label="delta")
    row = rows[at]
    row["value"] = str(int(Decimal(row["value"])) + delta)
    path = _write(tmp_path_factory.mktemp("changed") / "report.csv", rows)
    [difference] = _reconciled(small, path)
    table = small.figures.tables[row["indicator"]]
    keys = tuple(row[k] for k in table.keys)
    assert (difference.indicator, difference.keys) == (table.id, tuple(zip(table.keys, keys, strict=True)))
    assert difference.gap == delta
    assert difference.households == table.cells[keys].households
    assert difference.location is not None
    assert difference.location.line == at + 2


def test_a_figure_left_out_or_not_computed_is_a_difference(small: Small, tmp_path: Path) -> None:
    rows = _rows(small.figures)
    dropped = next(r for r in rows if r["indicator"] == "stat.exited_by_village")
    rows.remove(dropped)
    computed = {k[1] for k in small.figures.tables["stat.exited_by_village"].cells}
    quiet = sorted(small.seen["village"] - computed)[0]  # a village of the registry without exits
    county = next(
        k[0] for k in small.figures.tables["stat.exited_by_village"].cells if quiet.startswith(k[0])
    )
    rows.append(
        {
            "quarter": "2017Q4",
            "indicator": "stat.exited_by_village",
            "county": county,
            "village": quiet,
            "value": "2",
        }
    )
    found = {(d.keys, d.reported, d.computed) for d in _reconciled(small, _write(tmp_path / "r.csv", rows))}
    cell = small.figures.tables["stat.exited_by_village"].cells[(dropped["county"], dropped["village"])]
    assert found == {
        ((("county", dropped["county"]), ("village", dropped["village"])), None, cell.value),
        ((("county", county), ("village", quiet)), 2, None),
    }


def test_the_tolerance_is_the_indicators_unless_given(small: Small, tmp_path: Path) -> None:
    rows = _rows(small.figures)
    row = next(r for r in rows if r["indicator"] == "stat.support_amount")
    row["value"] = str(Decimal(row["value"]) + 50)
    path = _write(tmp_path / "r.csv", rows)
    assert [d.gap for d in _reconciled(small, path)] == [50]  # the pack's tolerance: 0
    assert _reconciled(small, path, tolerance=Decimal(50)) == []
    assert [d.tolerance for d in _reconciled(small, path, tolerance=Decimal(49))] == [Decimal(49)]
    table = small.figures.tables["stat.support_amount"]
    lenient = attrs.evolve(table, indicator=attrs.evolve(table.indicator, tolerance=Decimal(100)))
    wider = attrs.evolve(small.figures, tables={**small.figures.tables, table.id: lenient})
    report = read_report(path, indicators_in_force(small.policy_set, QUARTER), QUARTER)
    assert reconcile(wider, report) == []


@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_a_household_level_report_gives_exactly_the_missing_and_extra(
    small: Small, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    table = small.figures.tables["stat.households_in_batch"]
    cells = sorted(table.cells)
    keys = data.draw(st.sampled_from(cells), label="cell")
    behind = table.cells[keys].households
    missing = data.draw(st.sets(st.sampled_from(behind), max_size=3), label="missing")
    others = [*sorted(set(table.total.households) - set(behind)), "999999-0001"]
    extra = data.draw(st.sets(st.sampled_from(others), max_size=3), label="extra")
    rows = [
        {"quarter": "2017Q4", "indicator": table.id, "household": h, "county": k[0], "batch": k[1]}
        for k in cells
        for h in (sorted((set(behind) - missing) | extra) if k == keys else table.cells[k].households)
    ]
    columns = ("quarter", "indicator", "household", "county", "batch")
    path = _write(tmp_path_factory.mktemp("households") / "r.csv", rows, columns, zh=True)
    found = _reconciled(small, path)
    if not missing and not extra:
        assert found == []
        return
    [difference] = found
    assert difference.keys == tuple(zip(table.keys, keys, strict=True))
    assert (set(difference.missing), set(difference.extra)) == (missing, extra)
    assert difference.households == behind


BAD = """\
quarter,indicator,county,batch,value
2017Q4,stat.exitted,621126,,3
2017Q3,stat.exited,621126,,3
2017Q,stat.exited,621126,,3
2017Q4,stat.exited,621126,,three
2017Q4,stat.exited,,,3
2017Q4,stat.in_buffer,621126,,4
2017Q4,stat.in_buffer,621126,,4
2017Q4,stat.exited_by_village,621126,,4
2017Q4,stat.exited,621226,,
"""


def test_a_bad_report_is_refused_with_every_problem_located(small: Small, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        read_report(path, indicators_in_force(small.policy_set, QUARTER), QUARTER)
    found = {(d.code, d.location.header()) for d in raised.value.diagnostics if d.location is not None}
    assert found == {
        ("reconcile/unknown-indicator", f"{path}:2"),
        ("reconcile/other-quarter", f"{path}:3"),
        ("stats/bad-quarter", f"{path}:4"),
        ("reconcile/bad-number", f"{path}:5"),
        ("reconcile/empty-cell", f"{path}:6"),
        ("reconcile/duplicate-row", f"{path}:8"),
        ("reconcile/missing-column", f"{path}:9"),
        ("reconcile/empty-cell", f"{path}:10"),
    }
    unknown = next(d for d in raised.value.diagnostics if d.code == "reconcile/unknown-indicator")
    assert "stat.exited" in unknown.suggestions
    assert "stat.exitted" in unknown.render("zh")
    assert "stat.exitted" in unknown.render("en")


def test_a_household_report_of_a_sum_and_a_header_of_neither_layout_are_refused(
    small: Small, tmp_path: Path
) -> None:
    indicators = indicators_in_force(small.policy_set, QUARTER)
    sums = tmp_path / "sums.csv"
    sums.write_text(
        "季度,指标,户,县,措施\n2017Q4,stat.support_amount,621126-0001,621126,microcredit\n", "utf-8"
    )
    neither = tmp_path / "neither.csv"
    neither.write_text("quarter,indicator,county\n2017Q4,stat.exited,621126\n", "utf-8")
    for path, code in ((sums, "reconcile/household-sum"), (neither, "reconcile/no-layout")):
        with pytest.raises(PolicyError) as raised:
            read_report(path, indicators, QUARTER)
        assert [d.code for d in raised.value.diagnostics] == [code]


def test_a_county_not_in_the_registry_is_a_located_error(small: Small, tmp_path: Path) -> None:
    rows = [
        *_rows(small.figures),
        {"quarter": "2017Q4", "indicator": "stat.exited", "county": "621127", "value": "1"},
    ]
    path = _write(tmp_path / "r.csv", rows)
    indicators = indicators_in_force(small.policy_set, QUARTER)
    report = read_report(path, indicators, QUARTER)
    [problem] = check_keys(report, indicators, known_keys(small.policy_set, small.figures, small.seen))
    assert problem.code == "reconcile/unknown-key"
    assert problem.location is not None
    assert problem.location.header() == f"{path}:{len(rows) + 1}"
    assert "621126" in problem.suggestions


def test_an_excel_report_is_read_with_its_cells_located(small: Small, tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    rows = _rows(small.figures)
    path = tmp_path / "report.xlsx"
    book = xlsxwriter.Workbook(str(path))
    notes = book.add_worksheet("说明")
    notes.write(0, 0, "not the report")
    sheet = book.add_worksheet("报表")
    sheet.write_row(0, 0, [HEADER_WORDS[c][1] for c in COLUMNS])
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, [row.get(c, "") for c in COLUMNS[:-1]])
        sheet.write_number(i, len(COLUMNS) - 1, float(row["value"]))
    sheet.write_row(len(rows) + 1, 0, ["2017Q4", "stat.exited", "999999", "", "", "", "n/a"])
    book.close()
    indicators = indicators_in_force(small.policy_set, QUARTER)
    with pytest.raises(PolicyError) as raised:
        read_report(path, indicators, QUARTER, sheet="报表")
    [problem] = raised.value.diagnostics
    assert problem.code == "reconcile/bad-number"
    assert problem.location is not None
    assert problem.location.header() == f"{path}:报表!G{len(rows) + 2}"
    with pytest.raises(PolicyError) as raised:
        read_report(path, indicators, QUARTER)  # the first sheet: no report there
    assert [d.code for d in raised.value.diagnostics] == ["reconcile/no-layout"]


def test_the_command_exits_0_when_all_agree_2_when_figures_differ_1_when_unreadable(
    small: Small, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(small.figures)
    clean = _write(tmp_path / "clean.csv", rows)
    args = [str(small.path), "--quarter", "2017Q4"]
    assert main(["--lang", "en", "reconcile", str(clean), *args]) == 0
    assert "all figures agree" in capsys.readouterr().err
    row = next(r for r in rows if r["indicator"] == "stat.exited")
    row["value"] = str(int(row["value"]) + 1)
    changed = _write(tmp_path / "changed.csv", rows)
    assert main(["--lang", "zh", "reconcile", str(changed), *args]) == 2
    out = capsys.readouterr().out
    behind = small.figures.tables["stat.exited"].cells[(row["county"],)].households
    assert out.startswith("指标\t分组\t报送\t计算\t差额")
    assert ",".join(behind) in out
    assert main(["--lang", "en", "reconcile", str(tmp_path / "absent.csv"), *args]) == 1
    assert "absent.csv" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--quarter", "2017Q5"],  # a bad quarter
        [],  # --quarter missing
        ["--quarter", "2017Q4", "--no-such-option"],
        ["--quarter", "2017Q4", "--tolerance", "-1"],
    ],
)
def test_bad_usage_of_reconcile_exits_1_not_the_2_of_figures_that_differ(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _write(tmp_path / "report.csv", [])
    assert main(["--lang", "en", "reconcile", str(report), "registry.json", *argv]) == 1
    assert "Usage:" in capsys.readouterr().err
    # other commands keep the usage exit of the command line (2)
    assert main(["--lang", "en", "stats", "registry.json", *argv]) == 2
