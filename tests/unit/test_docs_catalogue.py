"""The diagnostics catalogue page is generated from the code and must not drift."""

import re
from pathlib import Path

import pytest

from gspolicy._docs import render_catalogue
from gspolicy._messages import CATALOGUE, read_catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_catalogue_page_is_current() -> None:
    page = (ROOT / "docs" / "reference" / "diagnostics.md").read_text(encoding="utf-8")
    assert page == render_catalogue(), "run `python -m gspolicy._docs` and commit the page"


def test_every_code_has_both_languages_and_a_grammar() -> None:
    for code, entry in CATALOGUE.items():
        group, _, name = code.partition("/")
        assert group, code
        assert name, code
        assert code == code.lower(), code
        assert entry.message.zh, code
        assert entry.message.en, code
        first = entry.message.en[0]
        assert not first.isalpha() or first.islower(), f"{code}: messages start lowercase"
        assert not entry.message.en.endswith("."), f"{code}: no final period"
        assert entry.severity in ("error", "warning", "info"), code


_CODE = re.compile(r"[\"']([a-z]+)/([a-z0-9]+(?:-[a-z0-9]+)*)[\"']")


def test_every_code_written_in_the_source_is_in_the_catalogue() -> None:
    groups = {code.split("/")[0] for code in CATALOGUE} - {"io"}  # `io/…` also spells file paths
    unknown = set()
    for path in sorted((ROOT / "src" / "gspolicy").rglob("*.py")):
        for group, name in _CODE.findall(path.read_text(encoding="utf-8")):
            if group in groups and f"{group}/{name}" not in CATALOGUE:
                unknown.add(f"{path.relative_to(ROOT)}: {group}/{name}")
    assert not unknown, sorted(unknown)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a list", "a mapping of codes"),
        ("x/y: {severity: error, en: m}", "needs `severity`, `en` and `zh`"),
        ("x/y: {severity: fatal, en: m, zh: m}", "unknown severity"),
        ("x/y: {severity: error, en: m, zh: m, help_zh: h}", "`help_zh` without `help_en`"),
        ("x/y: {severity: error, en: m, zh: m, hint: h}", "needs `severity`"),
    ],
)
def test_a_malformed_catalogue_is_refused_by_name(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        read_catalogue(text)


def test_a_catalogue_entry_reads_with_its_help() -> None:
    entry = read_catalogue('x/y: {severity: warning, en: "m {a}", zh: "文 {a}", help_en: do it}')["x/y"]
    assert (entry.severity, entry.message.en, entry.message.zh) == ("warning", "m {a}", "文 {a}")
    assert entry.help is not None
    assert (entry.help.en, entry.help.zh) == ("do it", "do it")
