"""Registry tables checked by columns decide exactly as the record validator reads them.

`registry_blocks` certifies by columns the households whose every cell it can prove valid and
sends only the others through the record validator.  Held here, on the example households
written as CSV and Parquet tables with cells mutated into every spelling the validator meets
(labels, casings, blanks around values, numbers with too many places, impossible dates, unknown
codes, long texts, non-ASCII digits), headers renamed to titles, unknown and duplicated
columns, and ids given twice: the outcome table, the refused rows and every problem (code and
location) are those of reading every household record by record.  And on the certified rows,
the frames the columns build equal those built from the validated records.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gspolicy.columnar.frames import build_frames
from gspolicy.columnar.ingest import Ingest
from gspolicy.columnar.registry import registry_blocks
from gspolicy.columnar.runner import plan_run
from gspolicy.schema.model import FieldSpec
from gspolicy.schema.records import load_items
from gspolicy.schema.tabular import open_tables, registry_tables, write_registry

from support.bundled import shared_policies

POLICIES = shared_policies()
SCHEMA = POLICIES.schema
DAY = dt.date(2018, 12, 31)
EXIT = "exit_criteria.household"
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "households.jsonl"


def _households() -> list[dict[str, Any]]:
    from gspolicy.api import load_households

    return [h.to_data() for h in load_households(SAMPLE, policies=POLICIES)]


HOUSEHOLDS = _households()
TABLES = registry_tables(HOUSEHOLDS, SCHEMA)

# spellings the validator meets in registry exports, valid or not
CELLS = [
    None,
    "",
    " ",
    "\t",
    "true",
    "TRUE",
    "tRuE",
    " true",
    "是",
    "否",
    "y",
    "N",
    "1",
    "-0",
    "007",
    "3.0",
    "1.234",
    "12.50",
    "1e5",
    "-12",
    "99999999999999999999",
    "٣",
    "１２",
    "2018-09-30",
    "2018-02-30",
    "0000-01-01",
    "2018-9-3",
    " 2018-09-30",
    "1900-01-01",
    "因病",
    "illness",
    "ILLNESS",
    "not a code",
    "a;b",
    ";",
    "illness; schooling",
    "illness；disability",
    "x" * 1001,
    "621126-0001",
    "621126-0002",
    "621126",
    "62112610",
    "tab\tin",
    "dibao",
    "低保户",
]


def _field_of(table: str, column: str) -> FieldSpec | None:
    spec = SCHEMA.records["household"]
    if table != "households":
        spec = SCHEMA.records[spec.fields[table].record or ""]
    found: FieldSpec | None = None
    for part in column.split("."):
        found = spec.fields.get(part) if spec is not None else None
        if found is None:
            return None
        spec = SCHEMA.records.get(found.record or "") if found.kind == "record" else None
    return found


def _near(field: FieldSpec) -> list[str | None]:
    """Values at and around the edges of what the field accepts, in the spellings exports use."""
    out: list[str | None] = [None, "", " "]
    kind = field.kind
    if kind in ("int", "money", "ratio", "decimal"):
        out += ["0", "-1", "1.5", "1.255", "1.0000001", "007", " 3", "3 ", "٣"]
        for bound in (field.min, field.max):
            if isinstance(bound, Decimal):
                out += [str(bound), str(bound - 1), str(bound + 1), str(bound + Decimal("0.01"))]
    elif kind == "date":
        out += ["2018-02-29", "2016-02-29", "0001-01-01", "0000-01-01"]
        for bound in (field.min, field.max):
            if isinstance(bound, dt.date):
                out += [bound.isoformat(), (bound - dt.timedelta(days=1)).isoformat()]
                out += [(bound + dt.timedelta(days=1)).isoformat()]
    elif kind in ("enum", "set"):
        enum = SCHEMA.enums[field.enum or ""]
        for value in enum.values[:3]:
            out += [
                value.code,
                value.title.zh,
                value.title.en,
                value.code.upper(),
                f" {value.code}",
                *value.aliases[:1],
            ]
        out += ["nothing", ";".join(v.code for v in enum.values[:2]), ";"]
    elif kind == "bool":
        out += ["true", "false", "TRUE", "tRuE", "是", "否", "Y", "yes", " no", "maybe"]
    else:
        out += ["621126", "x y", "x" * 65, "é", "621126-0001"]
    return out


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, int, str, str | None]]:
    """Cells to change: (table, row, column, new text) — most with a value near the edges of
    what the column's field accepts, some with any spelling of `CELLS`."""
    out = []
    for _ in range(draw(st.integers(1, 12))):
        table = draw(st.sampled_from(sorted(TABLES)))
        frame = TABLES[table]
        row = draw(st.integers(0, frame.height - 1))
        column = draw(st.sampled_from(frame.columns))
        field = _field_of(table, column)
        pool = _near(field) if field is not None and draw(st.integers(0, 3)) else CELLS
        out.append((table, row, column, draw(st.sampled_from(pool))))
    return out


def _mutated(changes: list[tuple[str, int, str, str | None]], headers: str) -> dict[str, pl.DataFrame]:
    tables = {name: frame.clone() for name, frame in TABLES.items()}
    for table, row, column, text in changes:
        frame = tables[table]
        values = frame[column].to_list()
        values[row] = text
        tables[table] = frame.with_columns(pl.Series(column, values, dtype=pl.String()))
    main = tables["households"]
    if headers == "titles":  # a registry export's headers: the Chinese titles of the fields
        income = SCHEMA.records[SCHEMA.records["household"].fields["income"].record or ""]
        main = main.rename({"income.per_capita": income.fields["per_capita"].title.zh})
    elif headers == "unknown":
        main = main.with_columns(pl.lit("x").alias("remarks"))
    elif headers == "twice":  # one field under its path and its title
        title = SCHEMA.records["household"].fields["size"].title.en
        main = main.with_columns(pl.col("size").alias(title))
    tables["households"] = main
    return tables


def _read(path: Path, columns: bool) -> tuple[pl.DataFrame, list[Any], list[Any]]:
    frames, refused, problems = [], [], []
    for block in registry_blocks([path], POLICIES.policy_set, DAY, exit_pack=EXIT, columns=columns):
        refused += [(r.file, r.line, tuple(d.code for d in r.problems)) for r in block.refused]
        problems += [(d.code, str(d.location)) for d in block.problems]
        if block.valid:
            frames.append(block.decide())
            assert len(block.counties()) == block.valid
    return (pl.concat(frames) if frames else pl.DataFrame()), refused, problems


@pytest.mark.slow  # the search: full suite (the quick loop keeps the fixed cases below)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=mutations(),
    headers=st.sampled_from(["paths", "titles", "unknown", "twice"]),
    twice=st.booleans(),
)
def test_columns_decide_as_records_do(
    tmp_path: Path, suffix: str, changes: list[tuple[str, int, str, str | None]], headers: str, twice: bool
) -> None:
    tables = _mutated(changes, headers)
    if twice:  # a household given twice: the second is refused, whichever way it is read
        main = tables["households"]
        tables["households"] = pl.concat([main, main[7:8]])
    folder = tmp_path / f"{len(changes)}-{headers}-{twice}"
    folder.mkdir(exist_ok=True)
    path = folder / f"households{suffix}"
    write_registry(tables, path)
    by_columns = _read(path, columns=True)
    by_records = _read(path, columns=False)
    assert by_columns[1] == by_records[1]
    assert by_columns[2] == by_records[2]
    assert by_columns[0].equals(by_records[0])


def test_a_registry_with_bad_rows_decides_by_columns_as_by_records(tmp_path: Path) -> None:
    """The quick loop's case: a label, a padded cell, a number with too many places, a missing
    county, an impossible date and a household given twice, in one Parquet registry."""
    changes = [
        ("households", 1, "registration.main_cause", "因病"),
        ("households", 2, "size", " 4"),
        ("households", 3, "income.per_capita", "1.255"),
        ("households", 4, "county_code", None),
        ("members", 5, "birth_date", "2018-02-30"),
        ("support", 2, "amount", "12.50"),
    ]
    tables = _mutated(changes, "titles")
    tables["households"] = pl.concat([tables["households"], tables["households"][7:8]])
    write_registry(tables, tmp_path / "households.parquet")
    by_columns = _read(tmp_path / "households.parquet", columns=True)
    by_records = _read(tmp_path / "households.parquet", columns=False)
    assert by_columns[1] == by_records[1]
    assert by_columns[2] == by_records[2]
    assert by_columns[0].equals(by_records[0])
    refused = {code for _file, _line, codes in by_columns[1] for code in codes}
    assert refused == {"record/bad-date", "record/inexact-number", "record/duplicate-id"}


@pytest.mark.slow  # a search (over 2 CPU-s with the CI profile)
@settings(deadline=None)
@given(changes=mutations())
def test_certified_rows_have_the_frames_of_their_records(
    changes: list[tuple[str, int, str, str | None]],
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "households.parquet"
        write_registry(_mutated(changes, "paths"), path)
        reader, _problems = open_tables(path, SCHEMA)
        if reader is None:
            return
        run = plan_run(POLICIES.policy_set, "household", DAY)
        ingest = Ingest(
            SCHEMA, "household", run.columns, reader.main_schema, reader.item_schemas, reader.headers
        )
        for raw in reader.blocks():
            checked = ingest.block(raw.main, raw.items)
            rows = checked.certified.arg_true().to_list()
            records, refused, _found = load_items(str(path), SCHEMA, raw.nest(rows))
            assert refused == ()  # every certified household is valid
            assert len(records) == len(rows)
            expected = build_frames(SCHEMA, "household", records, run.columns)
            assert checked.frames.subjects.equals(expected.subjects)
            for list_path, frame in expected.items.items():
                assert checked.frames.items[list_path].equals(frame), list_path


@pytest.mark.slow  # blocks of 7 households: many small runs (over 2 CPU-s)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_blocks_files_and_scattered_items_decide_as_records_do(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small blocks (a household's items across a batch boundary; ids admitted across blocks),
    items not in household order (held and found), and two files sharing households (the
    second's refused, with where the first was): as read record by record."""
    from gspolicy.columnar import registry
    from gspolicy.schema import records as record_module

    monkeypatch.setattr(registry, "COLUMN_BLOCK", 7)
    monkeypatch.setattr(record_module, "STREAM_LINES", 5)
    tables = _mutated([("members", 3, "age", "-1"), ("households", 9, "size", "是")], "paths")
    for name in ("members", "support"):
        table = tables[name].with_row_index("__r")
        tables[name] = table.sort(pl.col("household_id").hash(3), "__r").drop("__r")
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    write_registry(tables, first)
    main = tables["households"]
    repeated = pl.concat([main[40:], main[2:4], main[12:13]])
    kept = set(repeated["id"].to_list())
    write_registry(
        {
            "households": repeated,
            **{
                n: t.filter(pl.col("household_id").is_in(kept))
                for n, t in tables.items()
                if n != "households"
            },
        },
        second,
    )

    def read(columns: bool) -> tuple[pl.DataFrame, list[Any], list[Any]]:
        frames, refused, problems = [], [], []
        for block in registry_blocks(
            [first, second], POLICIES.policy_set, DAY, exit_pack=EXIT, columns=columns
        ):
            refused += [(r.file, r.line, r.data, tuple(d.code for d in r.problems)) for r in block.refused]
            problems += [(d.code, str(d.location), dict(d.args).get("first")) for d in block.problems]
            if block.valid:
                frames.append(block.decide())
                assert [block.record(i).get("id") for i in range(block.valid)] == frames[-1]["id"].to_list()
        return pl.concat(frames), refused, problems

    by_columns, by_records = read(True), read(False)
    assert by_columns[1] == by_records[1]
    assert by_columns[2] == by_records[2]
    assert by_columns[0].equals(by_records[0])
    assert sum(1 for p in by_columns[2] if p[0] == "record/duplicate-id") >= 3
