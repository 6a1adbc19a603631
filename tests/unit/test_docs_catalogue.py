"""The diagnostics catalogue page is generated from the code and must not drift."""

from pathlib import Path

from gspolicy._docs import render_catalogue
from gspolicy._messages import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]


def test_catalogue_page_is_current() -> None:
    page = (ROOT / "docs" / "reference" / "diagnostics.md").read_text(encoding="utf-8")
    assert page == render_catalogue(), "run `python -m gspolicy._docs` and commit the page"


def test_every_code_has_both_languages_and_a_grammar() -> None:
    render_catalogue()  # registers every stage's codes
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
