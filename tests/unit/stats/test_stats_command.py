"""`gspolicy stats FILE… --quarter Q`: the figures of the example registry as an aligned table (zh
and en, pinned by goldens), a long-form CSV, an Excel workbook and JSON — each read back and
compared with `registry_figures` — and bad input refused with nothing written."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gspolicy.api import Policies
from gspolicy.cli import main
from gspolicy.schemas import schema_text
from gspolicy.stats import Figures, parse_quarter
from gspolicy.stats.registry import registry_figures
from gspolicy.stats.write import CSV_COLUMNS, HEADERS, ROW_KINDS, rows_add_up, sheet_names

from support.cli import split_header
from support.golden import compare_golden

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "households.jsonl"
GOLDEN = ROOT / "tests" / "golden" / "expected" / "stats"
QUARTER = "2017Q4"  # every indicator has figures in it (2019Q4 has no exits)

Figure = dict[tuple[str, str, tuple[str, ...]], Decimal]


@pytest.fixture(scope="module")
def expected(bundled: Policies) -> Figures:
    return registry_figures(bundled.policy_set, [EXAMPLE], parse_quarter(QUARTER))


def run(capsys: pytest.CaptureFixture[str], *argv: str, lang: str = "en") -> tuple[int, str, str]:
    code = main(["stats", str(EXAMPLE), "--quarter", QUARTER, "--lang", lang, *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _figures(found: Figures) -> Figure:
    """(indicator, row kind, keys) → value: each cell, the total and the undetermined count."""
    out: Figure = {}
    for table in found.tables.values():
        for group, cell in table.cells.items():
            out[table.id, "cell", group] = Decimal(cell.value)
        out[table.id, "total", ()] = Decimal(table.total.value)
        out[table.id, "undetermined", ()] = Decimal(len(table.undetermined))
    return out


def test_the_figures_are_not_all_zero(expected: Figures) -> None:
    # what the comparisons below would miss if the quarter gave nothing
    assert all(table.total.value for table in expected.tables.values())
    assert any(table.undetermined for table in expected.tables.values())
    assert not all(rows_add_up(t) for t in expected.tables.values())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_table_in_each_language(
    capsys: pytest.CaptureFixture[str], expected: Figures, lang: str, update_goldens: bool
) -> None:
    code, out, err = run(capsys, lang=lang)
    assert code == 0
    split_header(err)  # the policy set named first
    compare_golden(
        out, GOLDEN / f"command_{QUARTER}.{lang}.txt", update=update_goldens, what=f"stats ({lang})"
    )
    blocks = {b.split("\n", 1)[0].split()[0]: b for b in out.split("\n\n")[1:]}
    assert list(blocks) == list(expected.tables)
    note = "各行之和不等于合计" if lang == "zh" else "do not add up to the total"
    undetermined = "待定：{} 户" if lang == "zh" else "Undetermined: {} household"
    for table in expected.tables.values():
        block = blocks[table.id]
        assert table.indicator.title.get(lang) in block.split("\n", 1)[0]
        total = block.split("\n")[len(table.cells) + 2]
        assert total.split()[0] == ROW_KINDS["total"].get(lang)
        assert total.split()[-1] == str(table.total.value)
        assert (note in block) is not rows_add_up(table)
        assert (undetermined.format(len(table.undetermined)) in block) is bool(table.undetermined)


def test_rows_add_up_only_where_the_output_says_so(expected: Figures) -> None:
    for table in expected.tables.values():
        added = sum(c.value for c in table.cells.values())
        if rows_add_up(table):
            assert added == table.total.value, table.id
        else:
            assert added > table.total.value, table.id  # households in several batches


def _parse_csv(text: str, lang: str, expected: Figures) -> Figure:
    rows = list(csv.reader(io.StringIO(text)))
    head = rows[0]
    first = [HEADERS[c].get(lang) for c in CSV_COLUMNS]
    assert head[: len(first)] == first
    assert head[-1] == HEADERS["value"].get(lang)
    keys = head[len(first) : -1]
    kinds = {ROW_KINDS[k].get(lang): k for k in ROW_KINDS}
    found: Figure = {}
    for row in rows[1:]:
        assert row[0] == QUARTER
        values = dict(zip(keys, row[len(first) : -1], strict=True))
        kind = kinds[row[2]]
        # a cell's group: the values of its indicator's keys (an empty one is a record without it)
        group = tuple(values[HEADERS[k].get(lang)] for k in expected.tables[row[1]].keys)
        if kind != "cell":
            assert not any(values.values()), row  # a total and the undetermined count have no keys
            group = ()
        found[row[1], kind, group] = Decimal(row[-1])
    return found


def test_csv_read_back_is_the_figures(
    capsys: pytest.CaptureFixture[str], expected: Figures, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "--format", "csv")
    assert code == 0
    assert _parse_csv(out, "en", expected) == _figures(expected)
    written = tmp_path / "figures.csv"
    code, out, err = run(capsys, "--output", str(written), lang="zh")  # the format from the suffix
    assert (code, out) == (0, "")
    assert f"已写入 {written}" in err
    assert _parse_csv(written.read_text(encoding="utf-8"), "zh", expected) == _figures(expected)


def test_excel_read_back_is_the_figures(
    capsys: pytest.CaptureFixture[str], expected: Figures, tmp_path: Path
) -> None:
    written = tmp_path / "figures.xlsx"
    code, _, _ = run(capsys, "--format", "xlsx", "--output", str(written), lang="zh")
    assert code == 0
    sheets = pl.read_excel(written, sheet_id=0, infer_schema_length=0)  # every cell as text
    names = sheet_names(expected.tables)
    assert list(sheets) == [names[t] for t in expected.tables]
    kinds = {ROW_KINDS[k].zh: k for k in ROW_KINDS}
    found: Figure = {}
    for table in expected.tables.values():
        sheet = sheets[names[table.id]]
        assert sheet.columns == [HEADERS[c].zh for c in ("row", *table.keys, "value")]
        for row in sheet.iter_rows():
            kind = kinds[row[0]]
            group = tuple(row[1:-1]) if kind == "cell" else ()
            found[table.id, kind, group] = Decimal(row[-1])
    assert found == _figures(expected)


def test_json_validates_and_is_the_figures(capsys: pytest.CaptureFixture[str], expected: Figures) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(schema_text("stats")))
    code, out, _ = run(capsys, "--format", "json", "--ids")
    assert code == 0
    data = json.loads(out)
    assert not list(validator.iter_errors(data))
    assert (data["quarter"], data["last"]) == (QUARTER, "2017-12-31")
    assert [i["id"] for i in data["indicators"]] == list(expected.tables)
    for item in data["indicators"]:
        table = expected.tables[item["id"]]
        assert item["keys"] == list(table.keys)
        cells = {
            tuple(r["keys"][k] for k in table.keys): (Decimal(r["value"]), tuple(r["households"]))
            for r in item["rows"]
        }
        assert cells == {g: (Decimal(c.value), c.households) for g, c in table.cells.items()}
        assert (Decimal(item["total"]["value"]), tuple(item["total"]["households"])) == (
            Decimal(table.total.value),
            table.total.households,
        )
        assert tuple(item["undetermined"]["households"]) == table.undetermined
        assert item["rows_add_up"] is rows_add_up(table)
    # without --ids: the same figures, no household ids
    code, out, _ = run(capsys, "--format", "json")
    plain = json.loads(out)
    assert not list(validator.iter_errors(plain))
    for item in plain["indicators"]:
        assert not any("households" in part for part in (*item["rows"], item["total"], item["undetermined"]))
    assert [len(i["rows"]) for i in plain["indicators"]] == [len(t.cells) for t in expected.tables.values()]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), unique=True, max_size=12))
def test_sheet_names_are_valid_and_unique(ids: list[str]) -> None:
    names = sheet_names(ids)
    assert list(names) == ids
    shown = list(names.values())
    assert len({n.casefold() for n in shown}) == len(shown)
    for name in shown:
        assert 1 <= len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
        assert name.strip("'") == name


# --- bad input: refused, nothing written ------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--quarter", "2020Q5"], "`2020Q5` is not a quarter"),
        (["--format", "xlsx"], "--format xlsx needs --output"),
        (["--format", "csv", "--ids"], "--ids goes with --format json only"),
    ],
)
def test_bad_usage_exits_2_before_any_work(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert said in err
    assert "policy set:" not in err  # nothing loaded


def test_a_quarter_without_a_statistics_pack_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    written = tmp_path / "figures.json"
    code, out, err = run(capsys, "--quarter", "2015Q4", "--output", str(written), lang="zh")
    assert (code, out) == (1, "")
    assert "stats/no-pack" in err
    assert "2015-12-31 没有生效的统计包" in err
    assert "statistics.quarterly@2016.1 2016-01-01" in err  # what the packs cover
    assert list(tmp_path.iterdir()) == []


def test_records_with_problems_give_located_diagnostics_and_no_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([lines[0], '{"id": "bad-1", "size": "many"}']) + "\n", encoding="utf-8")
    missing = tmp_path / "missing.jsonl"
    written = tmp_path / "out" / "figures.xlsx"
    written.parent.mkdir()
    code = main(
        ["stats", str(bad), str(missing), "--quarter", QUARTER, "--output", str(written), "--lang", "en"]
    )
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert "Traceback" not in err
    assert f"{bad}:2:" in err  # located in the file
    assert "record/wrong-type" in err
    assert "io/not-found: no such file" in err
    assert str(missing) in err
    assert list(written.parent.iterdir()) == []  # no file, no temporary file


def test_an_output_folder_that_does_not_exist_is_refused_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "--output", str(tmp_path / "nowhere" / "figures.csv"))
    assert (code, out) == (1, "")
    assert "output/no-folder" in err
    assert "policy set:" not in err  # refused before any work
