"""Parsing: shapes, exact numbers, located diagnostics (bytes vs characters, YAML blocks), limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gspolicy._location import Source, Span
from gspolicy._yaml import YMap, YScalar, YSeq, load_yaml
from gspolicy.lang import MAX_DEPTH, MAX_LENGTH, parse_expression
from gspolicy.lang.ast import (
    Attribute,
    BinOp,
    BoolOp,
    Call,
    Compare,
    DateLit,
    IfExp,
    ListLit,
    Literal,
    Name,
    Unary,
)


def parse(text: str, name: str = "expr.txt") -> tuple[object, list[str]]:
    source = Source(name, text)
    expr, problems = parse_expression(text, lambda s, e: Span(source, s, e))
    return expr, [p.render("en") for p in problems]


def only_error(text: str) -> str:
    expr, rendered = parse(text)
    assert expr is None
    assert len(rendered) == 1, rendered
    return rendered[0]


def test_shapes_and_spans() -> None:
    text = 'any(members, 6 <= age <= 15 and health in ["因病", "sick"]) or not dibao'
    source = Source("t", text)
    expr, problems = parse_expression(text, lambda s, e: Span(source, s, e))
    assert not problems
    assert isinstance(expr, BoolOp)
    assert expr.op == "or"
    call, negation = expr.operands
    assert isinstance(call, Call)
    assert call.func == "any"
    assert call.func_span.text == "any"
    assert isinstance(negation, Unary)
    assert negation.span.text == "not dibao"
    pred = call.args[1]
    assert isinstance(pred, BoolOp)
    chain, membership = pred.operands
    assert chain == Compare(
        (Literal(6, chain.span), Name("age", chain.span), Literal(15, chain.span)), ("<=", "<="), chain.span
    )
    assert isinstance(membership, Compare)
    assert isinstance(membership.operands[1], ListLit)
    assert membership.operands[1].span.text == '["因病", "sick"]'


def test_every_node_kind() -> None:
    expr, problems = parse('-income.per_capita * 2 / 3 + 1 if present(x) else date("2018-09-30")')
    assert not problems
    assert isinstance(expr, IfExp)
    assert isinstance(expr.orelse, DateLit)
    assert expr.orelse.value == dt.date(2018, 9, 30)
    assert isinstance(expr.then, BinOp)
    assert isinstance(expr.then.left, BinOp)
    left = expr.then.left.left
    assert isinstance(left, BinOp)
    assert isinstance(left.left, Unary)
    attr = left.left.operand
    assert isinstance(attr, Attribute)
    assert attr.attr == "per_capita"
    assert attr.attr_span.text == "per_capita"


def test_numbers_are_exact_as_written() -> None:
    expr, _ = parse("0.1 + 3500.10 + 1_000")
    assert isinstance(expr, BinOp)
    assert isinstance(expr.right, Literal)
    assert expr.right.value == 1000
    inner = expr.left
    assert isinstance(inner, BinOp)
    assert inner.left == Literal(Decimal("0.1"), inner.span)
    assert isinstance(inner.left, Literal)
    assert str(inner.left.value) == "0.1"
    assert isinstance(inner.right, Literal)
    assert str(inner.right.value) == "3500.10"


def test_a_boolean_literal_never_equals_a_number_literal() -> None:
    one, _ = parse("1")
    true, _ = parse("True")
    assert one != true


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ("lambda x: x", "a `lambda`"),
        ("members[0]", "indexing `x[...]`"),
        ("[m for m in members]", "a comprehension"),
        ('f"{x}"', "an f-string"),
        ("any(members, pred=x)", "a keyword argument"),
        ("x ** 2", "the operator `**`"),
        ("x % 2", "the operator `%`"),
        ("a & b", "the operator `&` (write `and`)"),
        ("(y := 3)", "an assignment `:=`"),
        ("x.count(1)", "calling a method or an expression"),
        ("x is None", "`is` / `is not` (write `==` / `!=`)"),
        ("None", "`None` (use `present(...)` to test for missing data)"),
        ("{1: 2}", "a mapping `{...}`"),
        ("(1, 2)", "a tuple (write a list `[...]`)"),
        ("b'x'", "a bytes literal"),
        ("1j", "a complex number"),
        ("+x", "unary `+`"),
        ("~x", "the operator `~` (write `not`)"),
        ("any(*members)", "unpacking `*`"),
    ],
)
def test_unsupported_constructs_are_named_and_located(text: str, construct: str) -> None:
    rendered = only_error(text)
    assert f"parse/unsupported: {construct} is not allowed in an expression" in rendered
    assert "help: expressions use field names" in rendered


def test_unsupported_is_underlined() -> None:
    rendered = only_error("size > 1 and members[0]")
    assert rendered.splitlines()[:3] == [
        "expr.txt:1:14: parse/unsupported: indexing `x[...]` is not allowed in an expression",
        "   1 | size > 1 and members[0]",
        "     |              ^^^^^^^^^^",
    ]


def test_syntax_error_is_located_at_the_column() -> None:
    rendered = only_error("size > 1 1")
    assert rendered.splitlines()[:3] == [
        "expr.txt:1:10: parse/syntax: invalid expression: invalid syntax",
        "   1 | size > 1 1",
        "     |          ^",
    ]
    assert "help: check the brackets, quotes and operators near this place" in rendered


def test_syntax_error_at_the_end() -> None:
    rendered = only_error("size > ")
    assert "parse/syntax" in rendered
    assert "ends too early" in rendered


def test_chinese_text_before_the_error_counts_characters_not_bytes() -> None:
    # each Chinese character is three UTF-8 bytes; the underline must still sit under `%`
    rendered = only_error('村名 == "上川村" and 人口 % 2')
    lines = rendered.splitlines()
    assert lines[0].startswith("expr.txt:1:17: parse/unsupported: the operator `%`")
    assert lines[1] == '   1 | 村名 == "上川村" and 人口 % 2'
    # CJK characters take two columns: the marks start under `人`
    assert lines[2] == "     |" + " " * 22 + "^" * 8


def test_chinese_name_spans() -> None:
    text = '"上川村" == 村名'
    expr, _ = parse(text)
    assert isinstance(expr, Compare)
    assert expr.operands[1].span.text == "村名"
    assert expr.operands[0].span.text == '"上川村"'


def test_bad_dates() -> None:
    assert "parse/bad-date: `2018-02-30` is not a date" in only_error('date("2018-02-30")')
    assert "parse/bad-date" in only_error("date(registered_on)")
    assert "parse/bad-date: `2018-2-3` is not a date" in only_error('date("2018-2-3")')


def test_bad_numbers() -> None:
    assert "parse/bad-number" in only_error("1" * 50)
    assert "parse/bad-number: `1e999` is not an exact number" in only_error("1e999")


def test_too_long() -> None:
    rendered = only_error("x" * (MAX_LENGTH + 1))
    assert (
        f"parse/too-long: the expression is {MAX_LENGTH + 1} characters long, more than the limit of {MAX_LENGTH}"
        in rendered
    )


@pytest.mark.parametrize(
    "text",
    [
        "not " * 2400 + "x",
        "-" * 9000 + "1",
        "(" * 300 + "1" + ")" * 300,
        "+".join(["1"] * 2000),
        "(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5) + " + " + "-" * (MAX_DEPTH + 1) + "1",
    ],
)
def test_deep_nesting_is_a_diagnostic_never_a_recursion_error(text: str) -> None:
    expr, rendered = parse(text)
    assert expr is None
    assert rendered
    assert any("parse/too-deep" in r or "parse/syntax" in r for r in rendered)


def test_depth_within_the_limit_parses() -> None:
    expr, problems = parse("-" * (MAX_DEPTH - 2) + "1")
    assert expr is not None, problems


def test_empty_text() -> None:
    assert "parse/syntax: invalid expression: the text is empty" in only_error("  ")


def test_multiline_text_parses_with_comments() -> None:
    expr, problems = parse("size > 1\nand dibao  # a comment\nor relocated")
    assert not problems
    assert isinstance(expr, BoolOp)


# --- expressions inside YAML files: the error points into the file ---------------------------------

PACK = """\
criteria:
  - id: exit.income
    require: |
      income.per_capita > line
      and members[0].age > 3
  - id: exit.folded
    require: >
      size > 1 and
      人口 % 2 == 0
  - id: exit.plain
    require: "村名 == 1 1"
"""


def _requires() -> list[YScalar]:
    tree, problems = load_yaml(Source("pack.yaml", PACK))
    assert not problems
    assert isinstance(tree, YMap)
    criteria = tree.get("criteria")
    assert isinstance(criteria, YSeq)
    out = []
    for item in criteria.items:
        assert isinstance(item, YMap)
        node = item.get("require")
        assert isinstance(node, YScalar)
        out.append(node)
    return out


def test_error_inside_a_literal_block_points_at_the_file_line_and_column() -> None:
    scalar = _requires()[0]
    expr, problems = parse_expression(scalar.text, scalar.value_span)
    assert expr is None
    rendered = problems[0].render("en")
    assert rendered.splitlines()[:3] == [
        "pack.yaml:5:11: parse/unsupported: indexing `x[...]` is not allowed in an expression",
        "   5 |       and members[0].age > 3",
        "     |           ^^^^^^^^^^",
    ]


def test_error_inside_a_folded_block_points_at_the_file_line_and_column() -> None:
    scalar = _requires()[1]
    assert "\n" not in scalar.text.strip()  # folded: one line for Python, two lines in the file
    expr, problems = parse_expression(scalar.text, scalar.value_span)
    assert expr is None
    rendered = problems[0].render("en")
    assert rendered.splitlines()[:3] == [
        "pack.yaml:9:7: parse/unsupported: the operator `%` is not allowed in an expression",
        "   9 |       人口 % 2 == 0",
        "     |       ^^^^^^^^",
    ]


def test_syntax_error_inside_a_quoted_scalar_after_chinese_text() -> None:
    scalar = _requires()[2]
    expr, problems = parse_expression(scalar.text, scalar.value_span)
    assert expr is None
    rendered = problems[0].render("en")
    assert rendered.splitlines()[:3] == [
        "pack.yaml:11:23: parse/syntax: invalid expression: invalid syntax",
        '  11 |     require: "村名 == 1 1"',
        "     |                         ^",
    ]
