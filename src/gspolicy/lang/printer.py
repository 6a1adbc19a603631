"""Print a syntax tree as canonical expression text, with only the parentheses it needs.

``parse_expression(print_expr(e))`` gives back a tree equal to `e` (spans take no part in
equality).  Precedence, lowest first: ``x if c else y``, ``or``, ``and``, ``not``, comparisons,
``+ -``, ``* /``, unary ``-``, then names, literals, calls and field paths.  A nested ``and``
inside ``and`` (or ``or`` inside ``or``) keeps its parentheses, so the tree's shape survives.
"""

from __future__ import annotations

from decimal import Decimal

from gspolicy._numbers import is_number
from gspolicy.lang.ast import (
    Attribute,
    BinOp,
    BoolOp,
    Call,
    Compare,
    DateLit,
    Expr,
    IfExp,
    ListLit,
    Literal,
    Name,
    Unary,
)

__all__ = ["print_expr", "string_literal"]

_IF, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = range(9)


def print_expr(expr: Expr) -> str:
    """The canonical text of `expr`."""
    return _print(expr)


def _prec(expr: Expr) -> int:
    if isinstance(expr, IfExp):
        return _IF
    if isinstance(expr, BoolOp):
        return _OR if expr.op == "or" else _AND
    if isinstance(expr, Unary):
        return _NOT if expr.op == "not" else _NEG
    if isinstance(expr, Compare):
        return _CMP
    if isinstance(expr, BinOp):
        return _ADD if expr.op in ("+", "-") else _MUL
    if isinstance(expr, Literal) and is_number(expr.value) and expr.value < 0:  # type: ignore[operator]
        return _NEG
    return _ATOM


def _wrap(expr: Expr, minimum: int) -> str:
    """Print `expr`, in parentheses when its precedence is below `minimum`."""
    text = _print(expr)
    return f"({text})" if _prec(expr) < minimum else text


def _print(expr: Expr) -> str:
    if isinstance(expr, Literal):
        return _literal(expr.value)
    if isinstance(expr, DateLit):
        return f'date("{expr.value.isoformat()}")'
    if isinstance(expr, Name):
        return expr.id
    if isinstance(expr, Attribute):
        base = _wrap(expr.value, _ATOM)
        if isinstance(expr.value, Literal) and is_number(expr.value.value):
            base = f"({base})"
        return f"{base}.{expr.attr}"
    if isinstance(expr, ListLit):
        return "[" + ", ".join(_print(i) for i in expr.items) + "]"
    if isinstance(expr, Unary):
        if expr.op == "not":
            return "not " + _wrap(expr.operand, _NOT)
        return "-" + _wrap(expr.operand, _NEG)
    if isinstance(expr, BinOp):
        level = _ADD if expr.op in ("+", "-") else _MUL
        return f"{_wrap(expr.left, level)} {expr.op} {_wrap(expr.right, level + 1)}"
    if isinstance(expr, BoolOp):
        level = _OR if expr.op == "or" else _AND
        return f" {expr.op} ".join(_wrap(o, level + 1) for o in expr.operands)
    if isinstance(expr, Compare):
        parts = [_wrap(expr.operands[0], _CMP + 1)]
        for op, operand in zip(expr.ops, expr.operands[1:], strict=True):
            parts.append(op)
            parts.append(_wrap(operand, _CMP + 1))
        return " ".join(parts)
    if isinstance(expr, Call):
        return f"{expr.func}(" + ", ".join(_print(a) for a in expr.args) + ")"
    return f"{_wrap(expr.then, _OR)} if {_wrap(expr.cond, _OR)} else {_print(expr.orelse)}"


def _literal(value: bool | int | Decimal | str) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return string_literal(value)
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return f"({text})" if value < 0 else text


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def string_literal(text: str) -> str:
    """`text` as a double-quoted literal (Chinese and other printable characters as they are)."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif not char.isprintable():
            code = ord(char)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
