"""Fuzzing expressions (the "expressions" family): random texts and printed well-typed
expressions edited at random are parsed, checked against the tiny schema and, when they check,
evaluated on a random household.  Nothing raises, every problem is located inside the text,
nothing of Python runs (the parser's `ast.parse` builds a tree only), and evaluation gives a value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import budget, check_diagnostics, count, watched
from fuzz.mutations import TEXTS, mutated_text
from gspolicy._location import Source, Span
from gspolicy.lang import check, parse_expression
from gspolicy.lang.interpret import evaluate
from gspolicy.lang.printer import print_expr
from gspolicy.schema.model import Record

from support.expressions import ENV, context, expressions, households

PIECES = st.sampled_from(
    [
        "__import__('os').system('x')", "().__class__", "lambda x: x", "[x for x in members]", "f'{1}'",
        "1 if x else", "not", " and ", " or ", "(", ")", "income.per_capita", "age", "9" * 50, "1e41",
        "0.", "2018-02-30", "date('2018-02-30')", "members[0]", "count(members)", "**", "//", "==", "县",
    ]
)  # fmt: skip


@st.composite
def expression_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["random", "edited", "pieces"]))
    if kind == "random":
        return draw(TEXTS)
    if kind == "pieces":
        return "".join(draw(st.lists(PIECES | st.text(max_size=3), min_size=1, max_size=8)))
    return draw(mutated_text(print_expr(draw(expressions("bool", depth=3)))))


@budget(100)
@given(expression_texts(), households())
def test_any_expression_text_is_parsed_checked_and_evaluated_without_raising(
    text: str, household: Record
) -> None:
    count("expressions")
    source = Source("expr.yaml", text)
    with watched():
        expr, problems = parse_expression(text, lambda s, e: Span(source, s, e))
        typed = None
        if expr is not None:
            typed, more = check(expr, ENV)
            problems = [*problems, *more]
        if typed is not None:
            evaluate(typed, context(household))
    check_diagnostics(problems, about_content=True)
    if expr is None:
        assert any(d.is_error for d in problems)
