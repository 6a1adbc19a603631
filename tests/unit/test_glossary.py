"""The one glossary (`src/gspolicy/glossary.yaml`): every group holds exactly the codes the code
uses for it, in both languages; every word the code asks for by name is there; a rule answering
"no" is never said with the verdict's 不适用."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest
import yaml

from gspolicy import _glossary
from gspolicy._glossary import GROUPS, group, text, word
from gspolicy._location import Source
from gspolicy._resources import bundled_schema_path
from gspolicy._yaml import load_yaml
from gspolicy.analysis.diff import Kind
from gspolicy.analysis.report import _VALUE_WORDS, words
from gspolicy.engine.outcome import show_value
from gspolicy.explain import parts as d
from gspolicy.pack.format import FORMS, KINDS, TERM_UNITS
from gspolicy.schema.load import read_schema

SRC = Path(__file__).resolve().parents[2] / "src" / "gspolicy"
GLOSSARY = SRC / "glossary.yaml"


def _literal(cls: type, field: str) -> set[str]:
    return set(get_args(get_type_hints(cls, vars(sys.modules[cls.__module__]))[field]))


def _diff_parts() -> set[str]:
    """The parts `gspolicy diff` names: the second argument of every `Change(…)` and the first of
    every `_diff_named(…)` written as a literal in the diff module."""
    tree = ast.parse((SRC / "analysis" / "diff.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        at = {"Change": 1, "_diff_named": 0}.get(node.func.id)
        arg = node.args[at] if at is not None and len(node.args) > at else None
        if isinstance(arg, ast.Constant):
            found.add(arg.value)
    return found


def _area_words() -> tuple[set[str], set[str]]:
    """The area subjects of the bundled schema (record types holding a gathered list) and the
    lists they gather."""
    schema, problems = read_schema(bundled_schema_path())
    assert schema is not None, problems
    holders = {
        (spec.name, name)
        for spec in schema.records.values()
        for name, field in spec.fields.items()
        if field.gather is not None
    }
    return {h for h, _ in holders}, {n for _, n in holders}


def _domains() -> dict[str, set[str]]:
    levels, lists = _area_words()
    return {
        "verdict": set(get_args(d.Verdict)) | {"none"},
        "applicability": _literal(d.Applicability, "status"),
        "answer": set(get_args(d.Truth3)),
        "truth": {show_value(True) or "", show_value(False) or "", "unknown"},
        "reading": {"missing", "given"},
        "buffer": _literal(d.BufferState, "status"),
        "finding_kind": _literal(d.Finding, "kind"),
        "finding_status": _literal(d.Finding, "status"),
        "holding": {"granted", "not_granted", "absent"},
        "amount": {"not_established"},
        "role": set(KINDS),
        "form": set(FORMS),
        "term_unit": set(TERM_UNITS),
        "part": _diff_parts(),
        "change": set(get_args(Kind)),
        "area_level": levels,
        "area_items": lists,
    }


def test_every_group_holds_exactly_the_codes_the_code_uses() -> None:
    domains = _domains()
    assert set(domains) == set(GROUPS)
    for name in GROUPS:
        assert set(group(name)) == domains[name], name


def test_the_file_lists_the_groups_in_order_each_word_in_both_languages() -> None:
    raw = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))
    assert list(raw) == list(GROUPS)
    for name, entries in raw.items():
        for key, pair in entries.items():
            assert isinstance(key, str), (
                f"{name}: quote the key {key!r} (YAML reads it as {type(key).__name__})"
            )
            assert set(pair) == {"zh", "en"}, (name, key)
            assert pair["zh"].strip(), (name, key)
            assert pair["en"].strip(), (name, key)


def test_the_file_has_no_duplicate_key() -> None:
    tree, problems = load_yaml(Source(str(GLOSSARY), GLOSSARY.read_text(encoding="utf-8")))
    assert tree is not None
    assert problems == [], [p.render("en") for p in problems]


def _named_uses() -> list[tuple[str, tuple[Any, ...], str]]:
    """Every call of `word`, `text` or `group` in the package whose arguments name a group (and
    a key) literally: (function, literal arguments, where)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "gspolicy._glossary"
            for alias in node.names
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in imported & {"word", "text", "group"}
            ):
                literal = tuple(a.value for a in node.args if isinstance(a, ast.Constant))
                if literal:
                    found.append((node.func.id, literal, f"{path.relative_to(SRC)}:{node.lineno}"))
    return found


@pytest.mark.slow  # a scan of the whole source tree: full suite
def test_every_word_the_code_names_is_in_the_glossary() -> None:
    uses = _named_uses()
    assert len(uses) > 20  # the scan finds the calls (it would pass vacuously otherwise)
    for function, literal, where in uses:
        assert literal[0] in GROUPS, where
        if function != "group" and len(literal) > 1 and isinstance(literal[1], str):
            assert literal[1] in group(literal[0]), f"{where}: no word `{literal[0]}.{literal[1]}`"


def test_the_change_values_of_a_diff_are_in_the_glossary() -> None:
    for value, (name, key) in _VALUE_WORDS.items():
        assert key in group(name), value
    assert words("exit.income: pass → not_applicable", "zh") == "exit.income: 通过 → 不适用"
    assert words("dibao: granted → not granted", "zh") == "dibao: 享受 → 不享受"
    assert (
        words("seven_batches.water/water.safe: no → yes", "zh") == "seven_batches.water/water.safe: 否 → 是"
    )
    assert words("exit.income: pass → fail", "en") == "exit.income: pass → fail"


def test_a_rule_answering_no_is_not_said_as_the_verdict_not_applicable() -> None:
    assert word("answer", "no", "zh") != word("verdict", "not_applicable", "zh")
    assert word("answer", "no", "zh") == "否"
    assert word("verdict", "not_applicable", "en") == "not applicable"


def test_an_unknown_word_names_itself() -> None:
    with pytest.raises(KeyError, match=r"verdict\.maybe"):
        text("verdict", "maybe")


def test_the_glossary_is_read_once() -> None:
    assert _glossary._glossary() is _glossary._glossary()
