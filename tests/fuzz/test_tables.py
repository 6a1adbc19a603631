"""Fuzzing the registry tables (the "record files" family): random and mutated CSV tables of
households and members are read or refused with located diagnostics — never an exception — and
nothing is executed, imported or opened but the tables themselves (harness.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import budget, count, watched
from fuzz.harness import check_diagnostics as _check
from fuzz.mutations import TEXTS, mutated_text
from gspolicy.errors import Diagnostic
from gspolicy.schema import tabular
from gspolicy.schema.records import load_record_file, validate_record

from support.records import records, tiny_schema

SCHEMA = tiny_schema()
SETS = {
    name for spec in SCHEMA.records.values() for name, field in spec.fields.items() if field.kind == "set"
}
FUZZ = budget(15, long=1_000)


def _warm_up() -> None:
    """Read a table once before any is watched: Polars loads what it needs on first use."""
    with tempfile.TemporaryDirectory() as place:
        path = Path(place) / "households.csv"
        path.write_text("id\nH0001\n", encoding="utf-8")
        (Path(place) / "members.csv").write_text("household_id,id\nH0001,M01\n", encoding="utf-8")
        load_record_file(path, SCHEMA)
    assert tabular.KEY == "household_id"


_warm_up()


def _load(households: str, members: str | None) -> tuple[tuple[Any, ...], list[Diagnostic]]:
    with tempfile.TemporaryDirectory() as place:
        folder = Path(place)
        (folder / "households.csv").write_text(households, encoding="utf-8", errors="surrogatepass")
        if members is not None:
            (folder / "members.csv").write_text(members, encoding="utf-8", errors="surrogatepass")
        with watched([folder]):
            return load_record_file(folder / "households.csv", SCHEMA)


def _check_loaded(loaded: tuple[Any, ...], diagnostics: list[Diagnostic]) -> None:
    count("record files")
    _check(diagnostics, about_content=True)
    if any(d.is_error for d in diagnostics):
        assert loaded == ()


@FUZZ
@given(TEXTS, st.none() | TEXTS)
def test_random_tables_are_read_or_refused_with_located_problems(
    households: str, members: str | None
) -> None:
    _check_loaded(*_load(households, members))


@FUZZ
@given(st.lists(records(SCHEMA), min_size=1, max_size=3, unique_by=lambda r: r["id"]), st.data())
def test_mutated_tables_are_read_or_refused_with_located_problems(
    households: list[dict[str, Any]], data: st.DataObject
) -> None:
    tables = tabular.registry_tables(households, SCHEMA)
    main = tables["households"].write_csv()
    members = tables["members"].write_csv() if "members" in tables else None
    which = data.draw(st.sampled_from(["households", "members"]))
    if which == "households" or members is None:
        main = data.draw(mutated_text(main))
    else:
        members = data.draw(mutated_text(members))
    _check_loaded(*_load(main, members))


@FUZZ
@given(st.lists(records(SCHEMA), min_size=1, max_size=3, unique_by=lambda r: r["id"]))
def test_valid_records_written_as_tables_read_back(households: list[dict[str, Any]]) -> None:
    tables = tabular.registry_tables(households, SCHEMA)
    loaded, diagnostics = _load(
        tables["households"].write_csv(), tables["members"].write_csv() if "members" in tables else None
    )
    assert [d for d in diagnostics if d.is_error] == []
    # the same records as the data read directly, but for what a table cannot hold (below)
    direct = [validate_record(_without_nulls(h), SCHEMA)[0] for h in households]
    assert [r.to_data() for r in loaded] == [r.to_data() for r in direct if r is not None]
    assert None not in direct


def _without_nulls(value: Any) -> Any:
    """A record as data as a table holds it: a cell is read trimmed, an empty cell is a missing
    value (so is a blank text, and a nested record with no field given; an empty set is written
    `;`), and a household with no rows in a list's table has the list missing, never an empty
    one (which would make `all(members, …)` true for want of members)."""
    if isinstance(value, dict):
        kept = {k: _without_nulls(v) for k, v in value.items()}
        return {
            k: v
            for k, v in kept.items()
            if (v is not None and v not in ([], "", {})) or (v == [] and k in SETS)
        }
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    if isinstance(value, str):
        return value.strip()  # a cell is read trimmed
    return value
