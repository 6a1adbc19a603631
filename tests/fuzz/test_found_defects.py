"""Regression tests for what the fuzzing campaign found (issue 16), one group per defect, each
from its reproducer: before the fix each of these crashed, hung, ran out of memory or answered
without saying so."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import threading
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import attrs
import pytest

import gspolicy._yaml as yaml_module
import gspolicy.cli.packs as analysis_cli
import gspolicy.schema.records as records_module
from gspolicy._location import Source, Span
from gspolicy._resources import bundled_policies
from gspolicy._yaml import Limits, load_yaml
from gspolicy.api import load_households
from gspolicy.cli import main
from gspolicy.errors import HouseholdError, PolicyError
from gspolicy.lang import parse_expression
from gspolicy.lang.printer import print_expr
from gspolicy.schema.model import Record
from gspolicy.schema.records import load_records, load_records_from, validate_record
from gspolicy.store.log import DecisionLog, checkpoint_path

from support.bundled import shared_policies

REPO = bundled_policies().parent
POLICIES = shared_policies()
SCHEMA = POLICIES.schema
AS_OF = dt.date(2018, 12, 31)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([*argv, "--lang", "en"])
    return code, out.getvalue(), err.getvalue()


def codes(diagnostics: object) -> list[str]:
    return [d.code for d in diagnostics]  # type: ignore[attr-defined]


# -- 1. a valid record crashed evaluation -----------------------------------------------------------


def test_1_an_age_implying_a_birth_before_the_calendar_is_refused_located() -> None:
    text = '{"id": "620521-0003", "members": [{"id": "a", "age": 30, "age_recorded_on": "0003-01-01"}]}\n'
    loaded, problems = load_records(Source("h.jsonl", text), SCHEMA, fmt="jsonl")
    assert loaded == ()
    (problem,) = [d for d in problems if d.is_error]
    assert problem.code == "record/implied-birth"
    assert problem.location.header() == f"h.jsonl:1:{text.index('30') + 1}"  # type: ignore[union-attr]


def test_1_an_age_out_of_the_calendar_is_unknown_with_a_diagnostic_never_a_crash() -> None:
    # built directly, as an application may: the interpreter must not raise on it either
    member = Record("member", {"id": "a", "age": 30, "age_recorded_on": dt.date(3, 1, 1)})
    household = POLICIES.household({"id": "620521-0003", "registration": {"status": "not_exited"}})
    decision = POLICIES.evaluate(household.replace(members=(member,)), AS_OF)
    assert decision.verdict == "undetermined"
    assert "members[0].birth_date" in decision.missing
    said = [p.en for p in decision.problems if "outside the calendar" in p.en]
    assert len(said) == 1
    assert "`members[0].age` is 30 recorded on 0003-01-01" in said[0]


# -- 2. tags with malformed values crashed every YAML reader ---------------------------------------


@pytest.mark.parametrize("text", ["a: !!timestamp x\n", "a: !!bool x\n", 'a: !!int ""\n'])
@pytest.mark.parametrize("parser", ["python", "c"])
def test_2_a_tagged_value_that_does_not_fit_is_a_located_diagnostic(text: str, parser: str) -> None:
    _, problems = load_yaml(Source("t.yaml", text), parser=parser)
    assert codes(problems) == ["yaml/bad-value"]
    assert problems[0].location.header() == "t.yaml:1:4"  # type: ignore[union-attr]


# -- 3. big documents: parsed once, counted before they are read --------------------------------------


def test_3_a_yaml_document_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = yaml_module._events
    monkeypatch.setattr(yaml_module, "_events", lambda loader: calls.append(1) or original(loader))
    pack = (bundled_policies() / "exit_criteria" / "household" / "2018.1.yaml").read_text(encoding="utf-8")
    tree, problems = load_yaml(Source("p.yaml", pack))
    assert tree is not None
    assert problems == []
    assert calls == [1]


def test_3_too_many_records_are_refused_before_any_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_module, "MAX_RECORDS", 5)
    checked: list[int] = []
    original = records_module.Checker.record
    monkeypatch.setattr(
        records_module.Checker, "record", lambda *a, **k: checked.append(1) or original(*a, **k)
    )
    text = "".join(f'{{"id":"H{i}"}}\n' for i in range(6))
    loaded, problems = load_records(Source("six.jsonl", text), SCHEMA, fmt="jsonl")
    assert loaded == ()
    assert codes(problems) == ["record/too-many"]
    assert checked == []


# -- 4. special files -----------------------------------------------------------------------------


def test_4_a_link_to_a_device_is_refused_not_read(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies() / "schema", root / "schema")
    (root / "zero.yaml").symlink_to("/dev/zero")
    code, out, err = run("validate", str(root))
    assert code == 1
    assert "io/not-a-file" in out + err
    records = tmp_path / "h.jsonl"
    records.symlink_to("/dev/zero")
    code, _, err = run("households", str(records))
    assert code == 1
    assert "io/not-a-file" in err


def test_4_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "h.jsonl"
    os.mkfifo(fifo)
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(load_records_from([fifo], SCHEMA)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert result, "reading a FIFO blocked"
    _, problems = result[0]  # type: ignore[misc]
    assert "io/not-a-file" in codes(problems)


# -- 5. lone surrogates --------------------------------------------------------------------------


def test_5_a_lone_surrogate_is_refused_at_validation_located() -> None:
    text = '{"id": "H\\ud800", "county_code": "620521"}\n'
    loaded, problems = load_records(Source("h.jsonl", text), SCHEMA, fmt="jsonl")
    assert loaded == ()
    assert codes(problems) == ["record/bad-text"]
    assert problems[0].location.header() == "h.jsonl:1:8"  # type: ignore[union-attr]
    with pytest.raises(HouseholdError):
        POLICIES.household({"id": "H\ud800"})


# -- 6. numbers: one limit everywhere -----------------------------------------------------------------


def test_6_a_huge_hexadecimal_yaml_integer_is_refused_without_converting_it() -> None:
    _, problems = load_yaml(Source("t.yaml", "a: 0x" + "f" * 5000 + "\n"))
    assert codes(problems) == ["yaml/number-out-of-range"]
    assert problems[0].render("en")  # rendering a diagnostic never converts the digits


def test_6_a_json_number_beyond_decimal_is_refused_located() -> None:
    text = '{"id": "H1", "size": 1e99999999999999999999}\n'
    loaded, problems = load_records(Source("h.jsonl", text), SCHEMA, fmt="jsonl")
    assert loaded == ()
    assert codes(problems) == ["record/out-of-range"]
    assert problems[0].location.header() == f"h.jsonl:1:{text.index('1e9') + 1}"  # type: ignore[union-attr]


def test_6_a_pack_parameter_of_4000_digits_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    pack = root / "parameters" / "household" / "2016.1.yaml"  # the shared income line
    text = pack.read_text(encoding="utf-8").replace(
        "        value: 3500\n", "        value: " + "9" * 4000 + "\n", 1
    )
    pack.write_text(text, encoding="utf-8")
    code, out, _ = run("validate", str(root))
    assert code == 1
    assert "yaml/number-out-of-range" in out


@pytest.mark.parametrize(
    ("text", "ok"), [("1e40", False), ("1e39", True), ("9" * 35, False), ("0." + "0" * 39 + "1", True)]
)
def test_6_expression_literals_follow_the_same_limit_and_print_back_readable(text: str, ok: bool) -> None:
    source = Source("e", text)
    expr, problems = parse_expression(text, lambda s, e: Span(source, s, e))
    assert (expr is not None) == ok, [d.render("en") for d in problems]
    if expr is not None:
        again = print_expr(expr)
        reread, more = parse_expression(again, lambda s, e: Span(Source("e", again), s, e))
        assert reread is not None, (again, [d.render("en") for d in more])


# -- 7. locating errors -------------------------------------------------------------------------------


def test_7_many_bad_records_are_each_located_on_their_own_line(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"H{i:04d}", "sise": 3}) for i in range(300)]
    loaded, problems = load_records(Source("h.jsonl", "\n".join(lines) + "\n"), SCHEMA, fmt="jsonl")
    assert loaded == ()
    errors = [d for d in problems if d.code == "record/unknown-field"]
    assert [d.location.header() for d in errors] == [f"h.jsonl:{i + 1}:17" for i in range(300)]  # type: ignore[union-attr]


def test_7_a_json_file_indented_with_tabs_keeps_every_position() -> None:
    text = '[\n\t{\n\t\t"id": "H0001",\n\t\t"sise": 3\n\t}\n]\n'
    _, problems = load_records(Source("h.json", text), SCHEMA, fmt="json")
    (problem,) = problems
    assert problem.location.header() == "h.json:4:3"  # type: ignore[union-attr]
    assert problem.location.span.text == '"sise"'  # type: ignore[union-attr]


# -- 8. alias amplification -----------------------------------------------------------------------


def test_8_one_long_string_aliased_many_times_is_refused() -> None:
    text = "a: &s " + "x" * 1_000_000 + "\nb: [" + ", ".join(["*s"] * 99) + "]\n"
    tree, problems = load_yaml(Source("t.yaml", text))
    assert tree is None
    assert codes(problems) == ["yaml/too-much-text"]


def test_8_the_text_limit_is_the_document_limit() -> None:
    assert Limits().max_chars == 20_000_000


# -- 9. damaged logs ------------------------------------------------------------------------------


@pytest.fixture
def log(tmp_path: Path) -> Path:
    db = tmp_path / "log.db"
    households = load_households(REPO / "examples" / "households.jsonl", policies=POLICIES)[:3]
    with DecisionLog.open(db) as opened:
        for household in households:
            opened.record(household, POLICIES.evaluate(household, AS_OF), POLICIES.policy_set, actor="t")
    return db


@pytest.mark.parametrize(
    ("sql", "where"),
    [
        ("DROP TABLE entries", "store/damaged"),
        ("DROP TABLE blobs", "store/damaged"),
        ("UPDATE entries SET outcome = X'7B22FF22' WHERE id = 2", "entry 2"),
        ("UPDATE entries SET record = X'28B52FFD' WHERE id = 2", "entry 2"),
        ("UPDATE entries SET context = 'nope' WHERE id = 2", "entry 2"),
        ("UPDATE blobs SET text = 'nope' WHERE kind = 'context'", "context"),
        ("UPDATE entries SET as_of = '2018-13-45' WHERE id = 2", "entry 2"),
    ],
)
def test_9_a_damaged_log_is_reported_as_damage_at_its_entry(log: Path, sql: str, where: str) -> None:
    conn = sqlite3.connect(log)
    conn.execute(sql)
    conn.commit()
    conn.close()
    for command in (
        ["log", "verify", "--db", str(log)],
        ["log", "show", "--db", str(log), "2"],
        ["log", "replay", "--db", str(log), "2"],
    ):
        code, out, err = run(*command)
        assert code == 1, (command, out, err)
        assert "internal error" not in err
        assert where in out + err, (command, out, err)


def test_9_a_rechained_log_with_a_rewritten_checkpoint_is_caught_by_the_receipt_of_the_entry(
    log: Path, tmp_path: Path
) -> None:
    with DecisionLog.open(log, create=False) as opened:
        receipts = [{"receipt": 1, "entry": e.id, "hash": e.hash} for e in opened.entries()]
        rows = opened.entries()
    conn = sqlite3.connect(log)
    previous = None
    for stored in rows:
        row = attrs.evolve(stored, recorded_at="2019-01-01T00:00:00+00:00") if stored.id == 2 else stored
        if previous is not None:
            row = attrs.evolve(row, prev_hash=previous.hash)
        row = attrs.evolve(row, hash=row.computed_hash())
        conn.execute(
            "UPDATE entries SET recorded_at = ?, prev_hash = ?, hash = ? WHERE id = ?",
            (row.recorded_at, row.prev_hash, row.hash, row.id),
        )
        previous = row
    conn.commit()
    conn.close()
    checkpoint_path(log).write_text(
        json.dumps({"checkpoint": 1, "head": {"id": 3, "hash": previous.hash}, "pending": None}), "utf-8"
    )  # type: ignore[union-attr]
    assert (
        run("log", "verify", "--db", str(log))[0] == 0
    )  # the chain and the checkpoint agree: only receipts tell
    file = tmp_path / "receipts.jsonl"
    file.write_text("\n".join(json.dumps(r) for r in receipts) + "\n", encoding="utf-8")
    code, _, err = run("log", "verify", "--db", str(log), "--receipt", str(file))
    assert code == 1
    assert "entry 2 was edited" in err


# -- 10. smaller things --------------------------------------------------------------------------


def test_10_a_mapping_where_a_member_id_belongs_is_reported_not_a_crash(tmp_path: Path) -> None:
    cases = tmp_path / "tests" / "c.yaml"
    cases.parent.mkdir()
    cases.write_text(
        "pack: exit_criteria.household\ndefaults: {id: X-1, members: [{id: a}]}\ncases:\n"
        "  - name: one\n    as_of: 2018-12-31\n    household: {members: [{id: {a: 1}}]}\n    expect: {verdict: fail}\n",
        encoding="utf-8",
    )
    code, out, err = run("test", str(cases))
    assert code == 1
    assert "case/bad-household" in out + err
    assert "internal error" not in err


def test_10_a_missing_required_key_is_reported_once_where_it_belongs(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    pack = root / "seven_batches" / "education" / "2016.1.yaml"
    text = pack.read_text(encoding="utf-8")
    title = "    title: {zh: 学前教育保教费减免, en: Preschool fee waiver}\n"
    assert text.count(title) == 1
    pack.write_text(text.replace(title, ""), encoding="utf-8")
    code, out, _ = run("validate", str(root))
    assert code == 1
    found = [line for line in out.splitlines() if ": shape/" in line or ": pack/" in line]
    assert len(found) == 1, found
    assert "shape/missing-key" in found[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["ledger", "plan", "--db", "x.db", "1", "--actor", "a", "--period", "99999999999"],
        ["log", "show", "--db", "x.db", str(2**63)],
        ["evaluate", "h.jsonl", "--explain", "-1"],
    ],
)
def test_10_whole_number_arguments_are_bounded(argv: list[str]) -> None:
    code, _, err = run(*argv)
    assert code == 2
    assert "is not a whole number from" in err


def test_10_an_unknown_household_and_a_folder_without_cases_are_coded(tmp_path: Path) -> None:
    code, _, err = run(
        "explain", str(REPO / "examples" / "households.jsonl"), "--household", "nope", "--as-of", "2018-12-31"
    )
    assert code == 1
    assert "cli/unknown-household" in err
    code, out, _ = run("test", str(tmp_path))
    assert code == 1
    assert "case/none-found" in out


def test_10_diff_says_a_population_file_is_missing_before_loading_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[object] = []
    monkeypatch.setattr(analysis_cli, "load_side", lambda path: loads.append(path) or (None, []))
    code, _, err = run("diff", "policies", "policies", "--population", "/missing/h.jsonl")
    assert code == 1
    assert "io/not-found" in err
    assert loads == []


@pytest.mark.parametrize("ident", ["", " ", "a b", "H\x00", "x" * 5000])
def test_10_a_household_id_is_a_short_text_without_spaces(ident: str) -> None:
    record, problems = validate_record({"id": ident}, SCHEMA)
    assert record is None
    assert problems


def test_10_the_api_raises_policy_error_for_a_bad_date_and_an_unknown_pack() -> None:
    with pytest.raises(PolicyError) as bad_date:
        POLICIES.evaluate({"id": "X-1"}, "2018-13-01")
    assert codes(bad_date.value.diagnostics) == ["api/bad-date"]
    with pytest.raises(PolicyError) as unknown:
        POLICIES.evaluate({"id": "X-1"}, AS_OF, exit_pack="exit_criteria.househld")
    assert codes(unknown.value.diagnostics) == ["api/unknown-pack"]
    assert unknown.value.diagnostics[0].suggestions[0] == "exit_criteria.household"


# -- 11. a refused file says how many records were not decided -----------------------------------


def test_11_one_bad_record_among_many_says_how_many_were_not_decided(tmp_path: Path) -> None:
    lines = (REPO / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[5])
    broken["size"] = "many"
    lines[5] = json.dumps(broken, ensure_ascii=False)
    file = tmp_path / "h.jsonl"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run("evaluate", str(file), "--as-of", "2018-12-31")
    assert code == 1
    assert f"no record was decided: 1 of the {len(lines)} records read have problems" in err


@pytest.mark.parametrize("name", ["\ud800", "a\x00b", ""])
def test_5_a_path_argument_no_system_can_name_is_a_usage_error(name: str) -> None:
    # found by the long campaign: a lone surrogate, then a NUL, taken as paths failed naming them
    code, _, err = run("test", name, "policies")
    assert code == 2
    assert "is not a file name this system can use" in err


def test_9_a_log_entry_with_a_verdict_the_log_never_writes_is_shown_as_damaged(log: Path) -> None:
    """Found by the damaged-logs fuzzer: `log show` of an entry whose verdict was overwritten
    looked the verdict up in the glossary and crashed; it shows the stored text and says the entry
    is damaged."""
    conn = sqlite3.connect(log)
    conn.execute("UPDATE entries SET verdict = 'nope' WHERE id = 2")
    conn.commit()
    conn.close()
    code, out, err = run("log", "show", "--db", str(log), "2")
    assert code == 1
    assert "internal error" not in err
    assert "`nope`" in out
    assert "entry 2" in err
