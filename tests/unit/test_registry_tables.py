"""Registry tables in: the example households written as CSV files, Parquet files and an Excel
workbook (households, members and support items, keyed by `household_id`) decide to the same
outcome table as the JSON Lines they came from; headers may be titles, values labels; problems
are located in the table and row they are in."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from gspolicy import HouseholdError, Policies
from gspolicy._resources import bundled_policies
from gspolicy.api import load_households
from gspolicy.cli import main
from gspolicy.schema import table_write, tabular
from gspolicy.schema.model import Record
from gspolicy.schema.tabular import RegistryWriter, registry_tables, write_registry

from support.bundled import shared_policies, shared_registry

EXAMPLES = bundled_policies().parent / "examples" / "households.jsonl"
DAY = dt.date(2018, 12, 31)
LISTS = ("members", "support")
GENERATOR = bundled_policies().parent / "examples" / "generate_households.py"


def _tables(households: tuple[Record, ...]) -> dict[str, pl.DataFrame]:
    """The three tables a registry export writes, every cell as text."""
    return registry_tables([h.to_data() for h in households], shared_policies().schema)


@pytest.fixture(scope="module")
def households(bundled: Policies) -> tuple[Record, ...]:
    return load_households(EXAMPLES, policies=bundled)


@pytest.fixture(scope="module")
def expected(bundled: Policies, households: tuple[Record, ...]) -> pl.DataFrame:
    return pl.concat(list(bundled.decide_table(households, DAY)))


def _decided(bundled: Policies, path: Path) -> pl.DataFrame:
    return pl.concat(list(bundled.decide_table(load_households(path, policies=bundled), DAY)))


def test_csv_files_decide_as_the_jsonl(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], expected: pl.DataFrame
) -> None:
    for name, table in _tables(households).items():
        table.write_csv(tmp_path / f"{name}.csv")
    assert _decided(bundled, tmp_path / "households.csv").equals(expected)


def test_titles_labels_a_bom_and_gb18030(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], expected: pl.DataFrame
) -> None:
    tables = _tables(households)
    schema = bundled.schema
    income = schema.records[schema.records["household"].fields["income"].record or ""]
    title = income.fields["per_capita"].title.zh
    main_table = tables["households"].rename({"income.per_capita": title})
    # a label where the code was: the validator reads registry exports' words
    main_table = main_table.with_columns(
        pl.col("food_and_clothing_secured").replace({"true": "是", "false": "否"})
    )
    (tmp_path / "reg.csv").write_bytes(main_table.write_csv().encode("gb18030"))
    for name in LISTS:
        (tmp_path / f"reg.{name}.csv").write_bytes(tables[name].write_csv().encode("gb18030"))
    with pytest.raises(HouseholdError, match="table/not-text"):
        load_households(tmp_path / "reg.csv", policies=bundled)  # read as UTF-8
    by_gb = load_households(tmp_path / "reg.csv", policies=bundled, encoding="gb18030")
    assert pl.concat(list(bundled.decide_table(by_gb, DAY))).equals(expected)
    argv = ["evaluate", str(tmp_path / "reg.csv"), "--as-of", DAY.isoformat(), "--lang", "en"]
    assert main([*argv, "--encoding", "gb18030"]) == 0
    # UTF-8 with a byte-order mark, as spreadsheet programs write it
    for name, table in (("reg", main_table), *((f"reg.{n}", tables[n]) for n in LISTS)):
        (tmp_path / f"{name}.csv").write_bytes("\ufeff".encode() + table.write_csv().encode("utf-8"))
    assert _decided(bundled, tmp_path / "reg.csv").equals(expected)


def test_parquet_as_three_files_and_as_one(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], expected: pl.DataFrame
) -> None:
    for name, table in _tables(households).items():
        table.write_parquet(
            tmp_path / f"reg.{name}.parquet" if name != "households" else tmp_path / "reg.parquet"
        )
    assert _decided(bundled, tmp_path / "reg.parquet").equals(expected)
    nested = pl.DataFrame([h.to_data() for h in households], infer_schema_length=None)
    nested.write_parquet(tmp_path / "one.parquet")
    assert _decided(bundled, tmp_path / "one.parquet").equals(expected)


def test_an_excel_workbook_with_three_sheets(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], expected: pl.DataFrame
) -> None:
    import xlsxwriter  # the excel extra

    book = tmp_path / "registry.xlsx"
    with xlsxwriter.Workbook(book) as workbook:
        for name, table in _tables(households).items():
            table.write_excel(workbook, worksheet=name)
    assert _decided(bundled, book).equals(expected)


def test_a_problem_is_located_in_its_own_table_and_row(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    tables = _tables(households)
    members = tables["members"].with_columns(
        pl.when(pl.int_range(pl.len()) == 6).then(pl.lit("many")).otherwise(pl.col("age")).alias("age")
    )
    tables["members"] = members
    orphan = pl.DataFrame({"household_id": ["999999-0001"], "measure": ["microcredit"]})
    tables["support"] = pl.concat([tables["support"], orphan], how="diagonal")
    for name, table in tables.items():
        table.write_csv(tmp_path / f"{name}.csv")
    code = main(["evaluate", str(tmp_path / "households.csv"), "--as-of", DAY.isoformat(), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 1
    last = tables["support"].height + 1
    assert f"{tmp_path / 'support.csv'}:{last}: table/unknown-household" in err
    tables["support"] = tables["support"].head(-1)
    tables["support"].write_csv(tmp_path / "support.csv")
    code = main(["evaluate", str(tmp_path / "households.csv"), "--as-of", DAY.isoformat(), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 1
    # the seventh member is on row 8 of members.csv (the header is row 1)
    assert f"{tmp_path / 'members.csv'}:8: record/wrong-type" in err


@pytest.mark.slow  # the generator in three processes
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_the_generator_writes_tables_that_decide_as_its_jsonl(
    tmp_path: Path, bundled: Policies, expected: pl.DataFrame, suffix: str
) -> None:
    import subprocess
    import sys

    out = tmp_path / f"households{suffix}"
    subprocess.run([sys.executable, str(GENERATOR), "-o", str(out)], check=True, capture_output=True)
    assert _decided(bundled, out).equals(expected)


def test_written_tables_are_where_the_reader_finds_them(
    tmp_path: Path, households: tuple[Record, ...]
) -> None:
    written = write_registry(_tables(households), tmp_path / "reg.parquet")
    assert sorted(p.name for p in written) == ["reg.members.parquet", "reg.parquet", "reg.support.parquet"]
    assert pl.read_parquet(tmp_path / "reg.members.parquet").columns[:2] == ["household_id", "id"]


@pytest.mark.slow  # the whole 3,000-household registry
def test_the_registry_as_parquet_tables_decides_as_its_jsonl(tmp_path: Path, bundled: Policies) -> None:
    """Empty sets of codes (no secondary cause), members given by age, dated support histories."""
    registry = shared_registry()
    write_registry(_tables(registry), tmp_path / "registry.parquet")
    want = pl.concat(list(bundled.decide_table(registry, DAY)))
    assert _decided(bundled, tmp_path / "registry.parquet").equals(want)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_tables_written_a_block_at_a_time_decide_as_the_jsonl(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], expected: pl.DataFrame, suffix: str
) -> None:
    """Blocks of 7 households: every block appends to the same tables (one header, every column
    of the schema, a field nobody has left empty), and they read back to the same outcomes."""
    data = [h.to_data() for h in households]
    out = tmp_path / f"households{suffix}"
    with RegistryWriter(out, bundled.schema) as writer:
        for start in range(0, len(data), 7):
            writer.write(data[start : start + 7])
    assert all(p.is_file() for p in writer.files)
    assert _decided(bundled, out).equals(expected)
    if suffix == ".csv":
        members = (tmp_path / "households.members.csv").read_text(encoding="utf-8").splitlines()
        assert members[0].startswith("household_id,")
        assert sum(1 for line in members if line.startswith("household_id,")) == 1
        assert len(members) == 1 + sum(len(h["members"]) for h in data)


def test_a_writer_refuses_a_field_outside_the_schema_and_an_overfull_sheet(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = [h.to_data() for h in households]
    with (
        pytest.raises(ValueError, match=r"income\.bonus is not a field of the schema"),
        RegistryWriter(tmp_path / "h.csv", bundled.schema) as writer,
    ):
        writer.write([{**data[0], "income": {**data[0]["income"], "bonus": 3}}])
    monkeypatch.setattr(table_write, "XLSX_ROWS", 10)
    with (
        pytest.raises(ValueError, match=r"(members|support): \d+ rows do not fit an Excel sheet"),
        RegistryWriter(tmp_path / "h.xlsx", bundled.schema) as writer,
    ):
        writer.write(data[:5])
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing half-written is left


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_items_in_any_order_decide_as_items_in_household_order(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], expected: pl.DataFrame, suffix: str
) -> None:
    """Members in household order are read as they come, a batch at a time; shuffled, their table
    is held and each household's found — in the order of their rows — and the outcome is the same.
    With a block of 5 households, every block takes its items from the middle of a batch."""
    tables = _tables(households)
    for name in LISTS:  # households out of order, each household's items still in theirs
        table = tables[name].with_row_index("__r")
        tables[name] = table.sort(pl.col("household_id").hash(7), "__r").drop("__r")
    assert not tables["members"]["household_id"].is_sorted()
    write_registry(tables, tmp_path / f"reg{suffix}")
    assert _decided(bundled, tmp_path / f"reg{suffix}").equals(expected)
    blocks, problems = tabular.table_blocks(tmp_path / f"reg{suffix}", bundled.schema, size=5)
    assert blocks is not None, problems
    nested = [data for block in blocks for data, *_ in block]
    assert [len(h.get("members", ())) for h in nested] == [len(h.get("members") or ()) for h in households]
    ordered = _tables(households)
    write_registry(ordered, tmp_path / f"ordered{suffix}")
    blocks, problems = tabular.table_blocks(tmp_path / f"ordered{suffix}", bundled.schema, size=5)
    assert blocks is not None, problems
    assert [data for block in blocks for data, *_ in block] == nested


def test_a_ragged_row_is_refused_before_any_household(tmp_path: Path, bundled: Policies) -> None:
    (tmp_path / "h.csv").write_text("id,size\n621126-0001,3\n621126-0002,4,5\n", encoding="utf-8")
    blocks, problems = tabular.table_blocks(tmp_path / "h.csv", bundled.schema)
    assert blocks is None
    assert [d.code for d in problems] == ["table/unreadable"]


def test_ids_of_one_hash_never_put_an_item_in_the_wrong_household(
    tmp_path: Path, bundled: Policies, households: tuple[Record, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items are placed by the hash of their household's id; with every id of one of two hashes,
    an item placed in another household is caught as its block is read — never decided there."""
    write_registry(_tables(households), tmp_path / "reg.parquet")
    real = tabular._key_hashes

    def colliding(table: pl.LazyFrame, column: str) -> pl.Series:
        return real(table, column) % 2

    monkeypatch.setattr(tabular, "_key_hashes", colliding)
    with pytest.raises(HouseholdError, match="table/unknown-household"):
        load_households(tmp_path / "reg.parquet", policies=bundled)


@pytest.mark.slow  # the main job twice: full suite
def test_the_main_job_on_tables_prints_what_it_prints_on_json_lines(
    tmp_path: Path, households: tuple[Record, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """Households decided by columns still explain: their records are built from their rows."""
    write_registry(_tables(households), tmp_path / "reg.parquet")
    argv = ["--as-of", DAY.isoformat(), "--lang", "en", "--explain", "3"]
    assert main(["evaluate", str(EXAMPLES), *argv]) == 0
    from_lines = capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "reg.parquet"), *argv]) == 0
    from_tables = capsys.readouterr().out
    assert from_tables.replace(str(tmp_path / "reg.parquet"), "FILE") == from_lines.replace(
        str(EXAMPLES), "FILE"
    )
    assert main(["evaluate", str(tmp_path / "reg.parquet"), *argv[:-2]]) == 0
    summary = capsys.readouterr().out
    assert from_tables.startswith(summary)
    assert len(from_tables) > len(summary) + 3 * 500  # three explained decisions follow


def test_the_main_job_reads_a_parquet_file_in_the_nested_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Households as one Parquet file with lists of members and support items (the layout
    `load_households` and the Spark engine read): `gspolicy evaluate`, which reads registry tables
    by columns, reads it record by record and prints what it prints for the same JSON Lines —
    never an internal error."""
    rows = [r.to_data() for r in shared_registry()[:40]]
    pl.DataFrame(rows, infer_schema_length=None).write_parquet(tmp_path / "nested.parquet")
    (tmp_path / "same.jsonl").write_text("".join(json.dumps(r, default=str) + "\n" for r in rows), "utf-8")
    printed = []
    for name in ("nested.parquet", "same.jsonl"):
        assert main(["--lang", "en", "evaluate", str(tmp_path / name), "--as-of", "2018-12-31"]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]
    assert "households" in printed[0]
