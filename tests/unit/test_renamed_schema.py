"""Code reads schema fields by role, never by name: a copy of the bundled schema with the fields
that play a role renamed (their roles kept) decides the example registry exactly as the bundled
one does.

The copy is made mechanically from the bundled files: in the schema, each renamed field's key in
its record type, the sibling references to it (``requires``, ``not_before``) and the gathers by
it (``gather: {by: …}``); in the packs, every name and attribute of an expression (parsed by the
expression parser, located by its span in the file) that names a renamed field; in the
households, the renamed keys.  The language's own word ``age`` is not a field and stays.  The
decisions are compared as outcome rows, the data paths that would settle an undetermined one
mapped back to the bundled names.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from gspolicy._location import Source, Span
from gspolicy._resources import bundled_policies
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, load_yaml
from gspolicy.api import Policies, load_policies
from gspolicy.lang.ast import Attribute, Expr, Name, children
from gspolicy.lang.parse import parse_expression

from support.bundled import REGISTRY

# record type → {bundled name: new name}: the fields of the roles issue 27 names
RENAMED: Mapping[str, Mapping[str, str]] = {
    "household": {
        "county_code": "xian_dm",
        "township_code": "xiang_dm",
        "village_code": "cun_dm",
        "members": "chengyuan",
        "support": "bangfu",
    },
    "registration": {"status": "zhuangtai", "exited_on": "tuopin_rq", "returned_on": "fanpin_rq"},
    "member": {"birth_date": "chusheng_rq", "age": "nianling", "age_recorded_on": "nianling_rq"},
    "support_item": {"measure": "cuoshi", "amount": "jine", "start": "kaishi_rq", "end": "jieshu_rq"},
}
# the keys of a pack whose value is an expression (docs/reference/packs.md)
EXPRESSION_KEYS = {
    "expr",
    "when",
    "lapses_when",
    "require",
    "given",
    "weigh",
    "retained",
    "active",
    "until",
    "holds",
    "count",
    "sum",
    "where",
    "dated_by",
    "held",
}
# a pack section whose every value is an expression: a statistics pack's group-by keys
EXPRESSION_SECTIONS = {"keys"}
# dates that reach the buffer, the batches and the exit standards before and after 2018
AS_OF = ("2017-06-30", "2018-12-31")
SAMPLE = 100  # every 100th household of the registry: 30 households


def _field_names() -> dict[str, str]:
    """Every renamed field name, bundled → new (the names are distinct across record types)."""
    out: dict[str, str] = {}
    for names in RENAMED.values():
        out.update(names)
    return out


def _renamed_line(line: str, names: Mapping[str, str]) -> str:
    """One line of a record type's section with its field key and sibling references renamed."""
    field = re.match(r"^(      )([a-z_]+)(:.*)$", line, re.DOTALL)
    if field and field.group(2) in names:
        return field.group(1) + names[field.group(2)] + field.group(3)
    refs = re.match(r"^(\s+(?:requires|not_before): \[)([^\]]*)(\].*)$", line, re.DOTALL)
    if refs:
        renamed = ", ".join(names.get(n.strip(), n.strip()) for n in refs.group(2).split(","))
        return refs.group(1) + renamed + refs.group(3)
    gather = re.match(r"^(\s+gather: \{records: household, by: )([a-z_]+)(\}.*)$", line, re.DOTALL)
    if gather:
        household = RENAMED["household"]
        return gather.group(1) + household.get(gather.group(2), gather.group(2)) + gather.group(3)
    return line


def rename_schema(text: str) -> str:
    """The schema file with the fields of `RENAMED` renamed in their record types."""
    out = []
    record = ""
    in_records = False
    for line in text.splitlines(keepends=True):
        if line.startswith("records:"):
            in_records = True
        found = re.match(r"^  ([a-z_]+):\s*$", line) if in_records else None
        if found:
            record = found.group(1)
        out.append(_renamed_line(line, RENAMED.get(record, {})) if in_records else line)
    return "".join(out)


def _expression_scalars(node: YNode | None) -> Iterator[YScalar]:
    if isinstance(node, YMap):
        for key, value in node.items:
            if key.value in EXPRESSION_KEYS and isinstance(value, YScalar) and isinstance(value.value, str):
                yield value
            elif key.value in EXPRESSION_SECTIONS and isinstance(value, YMap):
                yield from (v for _k, v in value.items if isinstance(v, YScalar) and isinstance(v.value, str))
            else:
                yield from _expression_scalars(value)
    elif isinstance(node, YSeq):
        for item in node.items:
            yield from _expression_scalars(item)


def _chain_root(expr: Expr) -> str | None:
    while isinstance(expr, Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, Name) else None


def _named(expr: Expr, names: Mapping[str, str], *, household: bool) -> Iterator[tuple[Span, str]]:
    """The spans of the names and attributes in `expr` that name a renamed field, with the new
    name.  In a pack about households a bare name is the household's or an item's field; in a
    village's or county's pack only a household's (an attribute not reached from ``village`` or
    ``county``).  The language's ``age`` is a word of the language, not the recorded-age field."""
    if household and isinstance(expr, Name) and expr.id in names and expr.id != "age":
        yield expr.span, names[expr.id]
    if isinstance(expr, Attribute) and expr.attr in names and _chain_root(expr) not in ("village", "county"):
        yield expr.attr_span, names[expr.attr]
    for child in children(expr):
        yield from _named(child, names, household=household)


def rename_pack(name: str, text: str) -> str:
    """The pack with every expression's references to a renamed field renamed."""
    tree, problems = load_yaml(Source(name, text))
    assert tree is not None, problems
    names = _field_names()
    subject = (
        next((v.value for k, v in tree.items if k.value == "subject"), "household")
        if isinstance(tree, YMap)
        else "household"
    )
    edits: list[tuple[int, int, str]] = []
    for scalar in _expression_scalars(tree):
        expr, problems = parse_expression(scalar.text, scalar.value_span)
        assert expr is not None, problems
        for span, new in _named(expr, names, household=subject == "household"):
            assert text[span.start : span.end] in names, (name, span.header(), text[span.start : span.end])
            edits.append((span.start, span.end, new))
    for start, end, new in sorted(set(edits), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def rename_data(data: Any, record: str = "household") -> Any:
    """A household's plain data with the renamed keys (by record type, through its records and lists)."""
    nested = {"registration": "registration", "members": "member", "support": "support_item"}
    names = RENAMED.get(record, {})
    out = {}
    for key, value in data.items():
        inner = nested.get(key) if record == "household" else None
        if inner is not None and isinstance(value, list):
            out[names.get(key, key)] = [rename_data(item, inner) for item in value]
        elif inner is not None and isinstance(value, dict):
            out[names.get(key, key)] = rename_data(value, inner)
        else:
            out[names.get(key, key)] = value
    return out


@pytest.fixture(scope="module")
def renamed_policies(tmp_path_factory: pytest.TempPathFactory) -> Policies:
    root = tmp_path_factory.mktemp("renamed") / "policies"
    shutil.copytree(bundled_policies(), root, ignore=shutil.ignore_patterns("tests"))
    schema = root / "schema" / "household.yaml"
    schema.write_text(rename_schema(schema.read_text(encoding="utf-8")), encoding="utf-8")
    for pack in sorted(root.rglob("*.yaml")):
        if pack != schema:
            pack.write_text(rename_pack(str(pack), pack.read_text(encoding="utf-8")), encoding="utf-8")
    return load_policies(root)


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    lines = (REGISTRY / "households.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[::SAMPLE]]


def _back(path: str) -> str:
    """A data path of the renamed schema with the bundled names (``chengyuan[2].chusheng_rq`` →
    ``members[2].birth_date``)."""
    old = {new: name for name, new in _field_names().items()}
    return re.sub(r"[a-z_]+", lambda m: old.get(m.group(0), m.group(0)), path)


def _row(decision_row: Mapping[str, Any], *, renamed: bool) -> dict[str, Any]:
    """The row to compare: renamed paths mapped back."""
    row = dict(decision_row)
    if renamed:
        row["missing"] = sorted(_back(p) for p in row.get("missing") or ())
    return row


def _rows(policies: Policies, sample: list[dict[str, Any]], engine: str) -> list[Mapping[str, Any]]:
    """The outcome rows of the sample on each date, in order, by one engine."""
    if engine == "decide_table":
        return [
            row
            for as_of in AS_OF
            for frame in policies.decide_table(sample, as_of)
            for row in frame.to_dicts()
        ]
    if engine == "decide":
        return [policies.decide(d, as_of).to_row() for as_of in AS_OF for d in sample]
    return [policies.evaluate(d, as_of).outcome().to_row() for as_of in AS_OF for d in sample]


@pytest.fixture(scope="module")
def bundled_rows(bundled: Policies, sample: list[dict[str, Any]]) -> list[Mapping[str, Any]]:
    return _rows(bundled, sample, "evaluate")


def _differences(
    wanted: list[Mapping[str, Any]], gotten: list[Mapping[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """(household, {column: (bundled, renamed)}) of every row that differs."""
    differ = []
    for want_row, got_row in zip(wanted, gotten, strict=True):
        want = _row(want_row, renamed=False)
        got = _row(got_row, renamed=True)
        if got != want:
            differ.append(
                (str(want["id"]), {k: (want.get(k), got.get(k)) for k in want if want.get(k) != got.get(k)})
            )
    return differ


@pytest.mark.slow  # every column of evaluate's rows on the renamed schema: full suite
def test_a_schema_with_renamed_fields_decides_the_same(
    renamed_policies: Policies, sample: list[dict[str, Any]], bundled_rows: list[Mapping[str, Any]]
) -> None:
    """The explained decisions are the same under both schemas in every column: the type
    checker, the interpreter and the outcome read every field by role (ages, `held_on`'s dates,
    the status, the exit and return dates, and the measure, amount and end of the support items
    the buffer retains)."""
    # the comparison reaches what the renamed fields decide: ages, the buffer, both verdicts
    assert any(r["buffer"] == "active" for r in bundled_rows)
    assert any("(buffer." in t for r in bundled_rows for t in r["support"] or ())
    assert {r["verdict"] for r in bundled_rows} >= {"pass", "fail"}
    assert any(m.get("birth_date") for d in sample for m in d.get("members", ()))
    gotten = _rows(renamed_policies, [rename_data(d) for d in sample], "evaluate")
    assert _differences(bundled_rows, gotten) == []


@pytest.mark.slow  # two engines on two policy sets: full suite
@pytest.mark.parametrize("engine", ["decide", "decide_table"])
def test_every_engine_decides_the_same_on_a_schema_with_renamed_fields(
    bundled: Policies,
    renamed_policies: Policies,
    sample: list[dict[str, Any]],
    engine: str,
) -> None:
    """The per-record evaluator and the columnar runner decide the sample the same under both
    schemas, row for row (each engine against itself: tests/property/ compares the engines)."""
    wanted = _rows(bundled, sample, engine)
    assert any(r["buffer"] == "active" for r in wanted)
    gotten = _rows(renamed_policies, [rename_data(d) for d in sample], engine)
    assert _differences(wanted, gotten) == []


def _renamed_event(text: str) -> str:
    """An event line with the household data it carries renamed (a new household's record, a
    new member's data); the event's own keys are the event format's, not the schema's.  A line
    that is not JSON (the examples show bad lines too) stays as it is."""
    try:
        event = json.loads(text)
    except ValueError:
        return text
    if not isinstance(event, dict):
        return text
    if isinstance(event.get("record"), dict):
        event["record"] = rename_data(event["record"])
    if event.get("type") == "member_added" and isinstance(event.get("member"), dict):
        event["member"] = rename_data(event["member"], "member")
    return json.dumps(event, ensure_ascii=False)


def _monitor_runs(bundled: Policies, renamed: Policies) -> list[tuple[Any, list[tuple[str, Any, str]]]]:
    """The example events through the monitor on each policy set: the monitor and its alerts."""
    from gspolicy.engine.monitor import Alert, Monitor  # durable_rules only here

    lines = (REGISTRY.parent / "events.jsonl").read_text(encoding="utf-8").splitlines()
    runs = []
    for policies, events in ((bundled, lines), (renamed, [_renamed_event(t) for t in lines])):
        monitor = Monitor(policies.policy_set)
        found = [(str(a.household), a.date, a.rule) for a in monitor.run(events) if isinstance(a, Alert)]
        runs.append((monitor, found))
    return runs


@pytest.mark.slow  # the example events on two schemas: full suite
def test_the_monitor_writes_events_into_the_renamed_fields(
    bundled: Policies, renamed_policies: Policies
) -> None:
    """The monitor writes each event into the field of its role (the status and exit date of an
    exit, a member's health or schooling, the members list and the size), so every household of
    the example events ends with the same record, renamed."""
    pytest.importorskip("durable", reason="needs the durable extra")
    (want, _), (got, _) = _monitor_runs(bundled, renamed_policies)
    assert len(want.houses) > 5
    assert set(got.houses) == set(want.houses)
    for household in want.houses:
        assert got.houses[household].data == rename_data(want.houses[household].data)


@pytest.mark.slow  # the example events twice through durable_rules: full suite
def test_the_monitor_raises_the_same_alerts_on_the_renamed_schema(
    bundled: Policies, renamed_policies: Policies
) -> None:
    pytest.importorskip("durable", reason="needs the durable extra")
    (_, want), (_, got) = _monitor_runs(bundled, renamed_policies)
    assert want
    assert got == want
