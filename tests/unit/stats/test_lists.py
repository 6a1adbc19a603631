"""The management lists (`gspolicy lists`): the `lists:` layout of a statistics pack (checked,
hashed, laid out, in the book), the rows per batch and per department on the example households,
the Excel and CSV files read back, and the ledger's lists equal to those planned on the fly."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Literal

import fastexcel
import pytest
import yaml

from gspolicy._i18n import Lang, Text
from gspolicy._location import Span
from gspolicy.api import Policies
from gspolicy.cli import main
from gspolicy.cli.lists import render_csv, sheet_names
from gspolicy.explain.wording import vocabulary_for
from gspolicy.pack.book import render_book
from gspolicy.pack.fmt import format_text
from gspolicy.pack.load import load_policies
from gspolicy.pack.model import LIST_COLUMNS
from gspolicy.stats.lists import (
    DueItem,
    ListGroup,
    ManagementLists,
    due_from_outcomes,
    management_lists,
)
from gspolicy.stats.registry import decided_pairs
from gspolicy.store.ledger import Ledger
from gspolicy.store.log import DecisionLog
from unit.stats._demo import STATS, demo_root, demo_set

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "households.jsonl"
POLICIES = ROOT / "policies"
AS_OF = dt.date(2018, 12, 31)

LAYOUT = """\
lists:
  - column: household
    title: {zh: 户编号, en: Household}
  - column: measure
    title: {zh: 措施, en: Measure}
"""


# --- the pack format ---------------------------------------------------------------------------------

MISTAKES = [
    ("  - column: househld\n    title: {zh: 户, en: H}\n", "pack/unknown-list-column", "househld"),
    (
        "  - column: amount\n    title: {zh: 金额, en: Amount}\n  - column: amount\n    title: {zh: 额, en: A}\n",
        "pack/duplicate-list-column",
        "amount",
    ),
    ("  - column: amount\n", "shape/missing-key", "column: amount"),
    ("  - column: amount\n    title: {zh: 金额}\n", "shape/missing-key", "{zh: 金额}"),
    ("  - column: amount\n    title: {zh: 金额, en: A}\n    width: 3\n", "shape/unknown-key", "width"),
    ("  - amount\n", "shape/wrong-type", "amount"),
]


@pytest.mark.parametrize(("body", "code", "where"), MISTAKES, ids=[f"{m[1]}:{m[2]}" for m in MISTAKES])
def test_every_layout_mistake_is_refused_where_it_is_written(
    tmp_path: Path, body: str, code: str, where: str
) -> None:
    policy_set, problems = load_policies([demo_root(tmp_path, STATS + "lists:\n" + body)])
    assert policy_set is None
    found = [d for d in problems if d.code == code]
    assert found, [d.render("en") for d in problems]
    span = found[0].location
    assert isinstance(span, Span)
    assert span.file.endswith("stats.yaml")
    assert span.text.startswith(where), span.text
    assert found[0].message("zh") != found[0].message("en")


def test_the_unknown_column_help_names_every_column() -> None:
    spec = yaml.safe_load((ROOT / "src/gspolicy/diagnostics.yaml").read_text(encoding="utf-8"))
    entry = spec["pack/unknown-list-column"]
    for column in LIST_COLUMNS:
        assert column in entry["help_en"]
        assert column in entry["help_zh"]


def test_lists_in_a_pack_that_decides_are_refused(tmp_path: Path) -> None:
    demo_root(tmp_path)
    exit_text = (tmp_path / "demo/exit.yaml").read_text(encoding="utf-8")
    (tmp_path / "demo/exit.yaml").write_text(exit_text + LAYOUT, encoding="utf-8")
    _policy_set, problems = load_policies([tmp_path])
    assert "pack/indicators-elsewhere" in {d.code for d in problems}


def test_the_layout_is_hashed_laid_out_and_in_the_book(tmp_path: Path) -> None:
    day = dt.date(2019, 1, 1)
    without = demo_set(tmp_path / "a").in_force("demo.stats", day)
    with_lists = demo_set(tmp_path / "b", STATS + LAYOUT).in_force("demo.stats", day)
    relaid = LAYOUT.replace("title: {zh: 措施, en: Measure}", "title:\n      en: Measure\n      zh: 措施")
    same = demo_set(tmp_path / "c", STATS + relaid).in_force("demo.stats", day)
    swapped = demo_set(tmp_path / "d", STATS + LAYOUT.replace("en: Measure", "en: Measures")).in_force(
        "demo.stats", day
    )
    assert without is not None
    assert with_lists is not None
    assert same is not None
    assert swapped is not None
    assert [c.column for c in with_lists.pack.lists] == ["household", "measure"]
    hashes = {without.content_hash, with_lists.content_hash, swapped.content_hash}
    assert len(hashes) == 3
    assert same.content_hash == with_lists.content_hash
    out = format_text(STATS + relaid, path="stats.yaml")
    assert "    title: {zh: 措施, en: Measure}\n" in out
    book = "\n".join(render_book(demo_set(tmp_path / "e", STATS + LAYOUT)).values())
    assert "### Management lists / 管理名单" in book
    assert "- `measure`: 措施 / Measure" in book


# --- the lists on the example households --------------------------------------------------------------


@pytest.fixture(scope="module")
def due(bundled: Policies) -> list[DueItem]:
    return list(due_from_outcomes(bundled.policy_set, decided_pairs(bundled.policy_set, [EXAMPLES], AS_OF)))


@pytest.fixture(scope="module")
def supports(bundled: Policies) -> dict[str, set[str]]:
    """Each example household's measures as its decision's support gives them."""
    return {
        o.record: {m for m, _a, _w in o.support}
        for _r, o in decided_pairs(bundled.policy_set, [EXAMPLES], AS_OF)
    }


def _pairs(made: ManagementLists) -> list[tuple[str, str, str]]:
    return [(g.key, i.household, i.measure) for g in made.groups for i in g.items]


def test_by_department_every_measure_due_once_under_its_department(
    bundled: Policies,
    due: list[DueItem],
    supports: dict[str, set[str]],
) -> None:
    made = management_lists(bundled.policy_set, due, AS_OF, "department")
    pairs = _pairs(made)
    assert len({(h, m) for _g, h, m in pairs}) == len(pairs)  # each item once
    assert {(h, m) for _g, h, m in pairs} == {(h, m) for h, ms in supports.items() for m in ms}
    for group in made.groups:
        assert group.items, group.key
        assert {i.department for i in group.items} == {group.key}
        assert list(group.items) == sorted(group.items, key=lambda i: (i.household, i.measure))
    assert len(made.groups) >= 3  # the example households need several departments


def test_by_batch_a_measure_is_listed_under_every_batch_declaring_it(
    bundled: Policies,
    due: list[DueItem],
) -> None:
    policy_set = bundled.policy_set
    made = management_lists(policy_set, due, AS_OF, "batch")
    batches = {p.id: p for p in policy_set.all_in_force(AS_OF) if p.kind == "batch"}
    listed = set(_pairs(made))
    for item in due:
        declaring = {b for b, p in batches.items() if item.measure in p.pack.measures}
        under = {g for g, h, m in listed if (h, m) == (item.household, item.measure)}
        assert under == (declaring or {""}), item
    assert {g.key for g in made.groups} - {""} <= set(batches)
    assert len({g.key for g in made.groups} - {""}) >= 5


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_layout_is_the_quarterly_packs(bundled: Policies, due: list[DueItem], lang: Lang) -> None:
    made = management_lists(bundled.policy_set, due, AS_OF, "department")
    declared = yaml.safe_load((POLICIES / "statistics/quarterly.yaml").read_text(encoding="utf-8"))["lists"]
    assert made.headers(lang) == [c["title"][lang] for c in declared]
    columns = [c["column"] for c in declared]
    for group in made.groups:
        for item, row in zip(group.items, made.rows(group, lang), strict=True):
            assert row[columns.index("household")] == item.household
            assert row[columns.index("department_title")] == item.department_title.get(lang)
    amounts = {r[columns.index("amount")] for g in made.groups for r in made.rows(g, lang)}
    assert ("未确定" if lang == "zh" else "not established") in amounts
    # a unit in the reader's language, from the schema's units table (its code only when undeclared)
    words = vocabulary_for(bundled.policy_set.schema, bundled.policy_set.schema.root, ())
    pairs = {
        (item.unit, row[columns.index("unit")])
        for group in made.groups
        for item, row in zip(group.items, made.rows(group, lang), strict=True)
        if item.unit
    }
    assert pairs
    for code, shown in pairs:
        declared_unit = words.unit(code)
        assert shown == (declared_unit.title.get(lang) if declared_unit is not None else code)
    if lang == "zh":
        assert any(code != shown for code, shown in pairs)  # the Chinese words, not the codes


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["lists", *argv])
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("by", "lang"), [("batch", "zh"), ("department", "en")])
def test_the_command_writes_a_section_per_group(
    bundled: Policies,
    due: list[DueItem],
    by: Literal["batch", "department"],
    lang: Lang,
) -> None:
    code, out, _err = _run(
        str(EXAMPLES), "--by", by, "--as-of", "2018-12-31", "--policies", str(POLICIES), "--lang", lang
    )
    assert code == 0
    made = management_lists(bundled.policy_set, due, AS_OF, by)
    headings = [line for line in out.splitlines() if line.startswith("== ")]
    assert len(headings) == len(made.groups)
    for heading, group in zip(headings, made.groups, strict=True):
        assert heading.startswith(f"== {group.title.get(lang)}")
        assert f"{len(group.items)} {'项' if lang == 'zh' else 'items'}" in heading


def test_the_excel_file_read_back_equals_the_rows(
    bundled: Policies, due: list[DueItem], tmp_path: Path
) -> None:
    target = tmp_path / "lists.xlsx"
    argv = [str(EXAMPLES), "--by", "batch", "--as-of", "2018-12-31", "--policies", str(POLICIES)]
    code, _out, _err = _run(*argv, "--format", "xlsx", "--output", str(target), "--lang", "zh")
    assert code == 0
    made = management_lists(bundled.policy_set, due, AS_OF, "batch")
    book = fastexcel.read_excel(target)
    names = sheet_names(made, "zh")
    assert book.sheet_names == names
    for name, group in zip(names, made.groups, strict=True):
        sheet = book.load_sheet_by_name(name, header_row=None, dtypes="string").to_polars()
        read = [[c or "" for c in row] for row in sheet.rows()]
        assert read == [made.headers("zh"), *made.rows(group, "zh")]


def test_the_csv_file_read_back_equals_the_rows(bundled: Policies, due: list[DueItem]) -> None:
    made = management_lists(bundled.policy_set, due, AS_OF, "department")
    rows = list(csv.reader(io.StringIO(render_csv(made, "en"))))
    assert rows[0] == ["Department", *made.headers("en")]
    assert rows[1:] == [[g.title.en, *r] for g in made.groups for r in made.rows(g, "en")]


def test_sheet_names_are_unique_and_short() -> None:
    long = "甲" * 40
    titles = [("a", long), ("b", long), ("c", "x/y:z"), ("d", "X/Y:Z"), ("e", "")]
    made = ManagementLists(AS_OF, "batch", "p@1", (), tuple(ListGroup(k, Text(t, t), ()) for k, t in titles))
    names = sheet_names(made, "en")
    assert len({n.casefold() for n in names}) == len(names)
    assert all(0 < len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)


# --- the ledger's lists equal those planned on the fly ------------------------------------------------


@pytest.mark.slow  # plans a ledger from the registry's outcome table: full suite
def test_the_ledger_lists_equal_the_lists_planned_from_the_decisions(tmp_path: Path) -> None:
    outcomes, db = tmp_path / "out.parquet", tmp_path / "ledger.db"
    policies = ["--policies", str(POLICIES)]
    quiet = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
    with quiet[0], quiet[1]:
        assert (
            main(["evaluate", str(EXAMPLES), "--as-of", "2018-12-31", *policies, "--output", str(outcomes)])
            == 0
        )
        assert (
            main(["ledger", "plan", "--from", str(outcomes), "--db", str(db), "--actor", "t", *policies]) == 0
        )
    for by in ("batch", "department"):
        argv = [
            str(EXAMPLES),
            "--by",
            by,
            "--as-of",
            "2018-12-31",
            *policies,
            "--format",
            "csv",
            "--lang",
            "en",
        ]
        code_a, planned, _ = _run(*argv)
        code_b, ledger, _ = _run(*argv, "--ledger", str(db))
        assert code_a == code_b == 0
        assert planned == ledger
        assert planned.count("\n") > 100
    household = next(r for r in csv.reader(io.StringIO(planned)) if r[0] != "Department")[1]
    measure_rows = [r for r in csv.reader(io.StringIO(planned)) if r[1:2] == [household]]
    # a measure done on the day leaves the ledger's list; one done later stays
    with DecisionLog.open(db, create=False) as log:
        plan = Ledger(log).require_plan(household)
        done, later = plan.items[0].measure, (plan.items[1].measure if len(plan.items) > 1 else None)
        Ledger(log).update(household, done, status="done", on=AS_OF, by="t", evidence="v1")
        if later is not None:
            Ledger(log).update(
                household, later, status="done", on=AS_OF + dt.timedelta(days=3), by="t", evidence="v2"
            )
    argv = [
        str(EXAMPLES),
        "--by",
        "department",
        "--as-of",
        "2018-12-31",
        *policies,
        "--format",
        "csv",
        "--lang",
        "en",
    ]
    _code, after, _ = _run(*argv, "--ledger", str(db))
    left = [r for r in csv.reader(io.StringIO(after)) if r[1:2] == [household]]
    assert len(left) == len(measure_rows) - 1


# --- bad input ------------------------------------------------------------------------------------------


def test_bad_input_is_located_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        EXAMPLES.read_text(encoding="utf-8").splitlines()[0] + '\n{"id": "x", "size": "many"}\n',
        encoding="utf-8",
    )
    target = tmp_path / "lists.csv"
    code, _out, err = _run(
        str(bad),
        "--by",
        "batch",
        "--as-of",
        "2018-12-31",
        "--policies",
        str(POLICIES),
        "--format",
        "csv",
        "-o",
        str(target),
        "--lang",
        "zh",
    )
    assert code == 1
    assert "bad.jsonl:2" in err
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [bad]
    code, _out, err = _run(
        str(EXAMPLES), "--by", "batch", "--as-of", "2018-12-31", "--format", "xlsx", "--lang", "en"
    )
    assert code == 2
    assert "--output" in err


def test_a_policy_set_without_a_layout_is_refused(tmp_path: Path) -> None:
    demo_root(tmp_path)
    code, _out, err = _run(
        str(EXAMPLES), "--by", "batch", "--as-of", "2018-12-31", "--policies", str(tmp_path), "--lang", "en"
    )
    assert code == 1
    assert "stats/no-list-layout" in err or "lists:" in err
