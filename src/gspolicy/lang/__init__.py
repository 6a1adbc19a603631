"""The expression language: parse → syntax tree → check (types, names) → evaluate (with a trace).

Expressions are parsed with Python's own `ast` over a whitelisted subset and never executed as
Python.  See ``docs/reference/expressions.md`` for the language itself.
"""

from gspolicy.lang import ast, types
from gspolicy.lang.ast import Expr, equal_ignoring_spans
from gspolicy.lang.interpret import Context, TraceEvent, evaluate, years_between
from gspolicy.lang.parse import MAX_DEPTH, MAX_LENGTH, parse_expression
from gspolicy.lang.printer import print_expr
from gspolicy.lang.typecheck import AGE, AS_OF, Env, check, references
from gspolicy.lang.typed import TypedExpr
from gspolicy.lang.types import (
    BOOL,
    DATE,
    NUMBER,
    STRING,
    EnumT,
    ListT,
    RecordT,
    SetT,
    Type,
    describe_type,
)
from gspolicy.lang.values import Interval, Unknown, Value

__all__ = [
    "AGE",
    "AS_OF",
    "BOOL",
    "DATE",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "NUMBER",
    "STRING",
    "Context",
    "EnumT",
    "Env",
    "Expr",
    "Interval",
    "ListT",
    "RecordT",
    "SetT",
    "TraceEvent",
    "Type",
    "TypedExpr",
    "Unknown",
    "Value",
    "ast",
    "check",
    "describe_type",
    "equal_ignoring_spans",
    "evaluate",
    "parse_expression",
    "print_expr",
    "references",
    "types",
    "years_between",
]
