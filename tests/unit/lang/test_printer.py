"""The printer: canonical text, minimal parentheses, nested boolean operators keep their shape."""

from __future__ import annotations

import pytest

from gspolicy.lang import print_expr
from gspolicy.lang.printer import string_literal

from support.expressions import parse_text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("(a and b) or c", "a and b or c"),
        ("a and (b or c)", "a and (b or c)"),
        ("(a and b) and c", "(a and b) and c"),
        ("not (a == b)", "not a == b"),
        ("(not a) == b", "(not a) == b"),
        ("(1 + 2) * 3 - (4 - 5)", "(1 + 2) * 3 - (4 - 5)"),
        ("1 - (2 + 3)", "1 - (2 + 3)"),
        ("-(-x)", "--x"),
        ("(a < b) == c", "(a < b) == c"),
        ("6<=age<=15", "6 <= age <= 15"),
        ("x if (c if d else e) else (y if z else w)", "x if (c if d else e) else y if z else w"),
        ("(x if c else y) + 1", "(x if c else y) + 1"),
        ("main_cause in ['因病','因残']", 'main_cause in ["因病", "因残"]'),
        ("any(members,age>=60)", "any(members, age >= 60)"),
        ('date("2018-09-30")', 'date("2018-09-30")'),
        ("0.10 + 1_000", "0.10 + 1000"),
        ("household.income.per_capita", "household.income.per_capita"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    expr, problems = parse_text(text)
    assert expr is not None, problems
    assert print_expr(expr) == canonical
    again, _ = parse_text(canonical)
    assert again == expr


def test_string_literals_escape() -> None:
    assert string_literal('say "hi"\n\\ 中文') == '"say \\"hi\\"\\n\\\\ 中文"'
