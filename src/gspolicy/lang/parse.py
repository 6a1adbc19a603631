"""Parse expression text into our syntax tree, with Python's own `ast` over a whitelisted subset.

Nothing of Python's evaluation is used: `ast.parse` only builds a tree, which is translated at
once into `gspolicy.lang.ast` nodes; any construct outside the subset is a located
``parse/unsupported`` diagnostic.  Positions: `ast` reports columns as UTF-8 byte offsets within a
line; they are converted to character offsets of the text (Chinese names and texts locate right)
and handed to `locate`, which maps them to a span of the file.  A multi-line text (or one that
starts with a space) is wrapped as ``(`` + text + ``\\n)`` for Python's parser, and every offset
is shifted back by the one character added in front.
"""

from __future__ import annotations

import ast as py
import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Literal as Lit

from gspolicy._location import Span
from gspolicy._numbers import LIMIT_TEXT, within_limits
from gspolicy._patterns import DATE_RE
from gspolicy.errors import Diagnostic
from gspolicy.lang.ast import (
    Attribute,
    BinOp,
    BoolOp,
    Call,
    Compare,
    CompareOp,
    DateLit,
    Expr,
    IfExp,
    ListLit,
    Literal,
    Name,
    Unary,
)

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "MAX_LENGTH", "Locate", "parse_expression"]

MAX_LENGTH = 10_000
"""The longest expression text accepted, in characters."""

MAX_DEPTH = 50
"""The deepest nesting of the syntax tree accepted (a chain ``a + b + c`` nests one level per `+`)."""

MAX_DIGITS = LIMIT_TEXT
"""What a number literal may be: the limits of `gspolicy._numbers`, as for every number read."""

Locate = Callable[[int, int], Span]

_ARITH: dict[type[py.operator], str] = {py.Add: "+", py.Sub: "-", py.Mult: "*", py.Div: "/"}
_OTHER_OPS: dict[type[py.operator], str] = {
    py.Mod: "the operator `%`",
    py.FloorDiv: "the operator `//`",
    py.Pow: "the operator `**`",
    py.MatMult: "the operator `@`",
    py.BitAnd: "the operator `&` (write `and`)",
    py.BitOr: "the operator `|` (write `or`)",
    py.BitXor: "the operator `^`",
    py.LShift: "the operator `<<`",
    py.RShift: "the operator `>>`",
}
_COMPARE: dict[type[py.cmpop], CompareOp] = {
    py.Lt: "<",
    py.LtE: "<=",
    py.Gt: ">",
    py.GtE: ">=",
    py.Eq: "==",
    py.NotEq: "!=",
    py.In: "in",
    py.NotIn: "not in",
}
_CONSTRUCTS: dict[type[py.AST], str] = {
    py.Lambda: "a `lambda`",
    py.Subscript: "indexing `x[...]`",
    py.Slice: "a slice",
    py.ListComp: "a comprehension",
    py.SetComp: "a comprehension",
    py.DictComp: "a comprehension",
    py.GeneratorExp: "a generator expression",
    py.JoinedStr: "an f-string",
    py.FormattedValue: "an f-string",
    py.Dict: "a mapping `{...}`",
    py.Set: "a set `{...}` (write a list `[...]`)",
    py.Tuple: "a tuple (write a list `[...]`)",
    py.NamedExpr: "an assignment `:=`",
    py.Starred: "unpacking `*`",
    py.Await: "`await`",
    py.Yield: "`yield`",
    py.YieldFrom: "`yield`",
}


class _Stop(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.code)
        self.diagnostic = diagnostic


def parse_expression(text: str, locate: Locate) -> tuple[Expr | None, list[Diagnostic]]:
    """Parse `text`; return the tree (None when there is an error) and the diagnostics.

    `locate(start, end)` maps character offsets of `text` to a span of the file.  Never raises
    for any text: bad syntax, unsupported constructs, texts longer than `MAX_LENGTH` and trees
    deeper than `MAX_DEPTH` are diagnostics.
    """
    if len(text) > MAX_LENGTH:
        return None, [Diagnostic("parse/too-long", locate(0, 1), {"length": len(text), "limit": MAX_LENGTH})]
    if not text.strip():
        return None, [Diagnostic("parse/syntax", locate(0, len(text)), {"problem": "the text is empty"})]
    translator = _Translator(text, locate)
    try:
        return translator.run(), []
    except _Stop as stop:
        return None, [stop.diagnostic]


class _Translator:
    def __init__(self, text: str, locate: Locate) -> None:
        self.text = text
        self.locate = locate
        # the parser sees `(` + text + `\n)` when the text needs it; offsets shift back by `shift`
        cleaned = text.replace("\r", " ")  # same length; Python would count a lone CR as a line break
        self.wrapped = "\n" in cleaned or cleaned[:1].isspace()
        self.source = f"({cleaned}\n)" if self.wrapped else cleaned
        self.shift = 1 if self.wrapped else 0
        self.lines = self.source.split("\n")
        starts = [0]
        for line in self.lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        self.starts = starts
        self._bytes: dict[int, bytes] = {}

    # --- positions ------------------------------------------------------------------------------
    def offset(self, lineno: int, byte_col: int) -> int:
        """The character offset in `text` of a (1-based line, UTF-8 byte column) of the source."""
        index = max(0, min(lineno - 1, len(self.lines) - 1))
        encoded = self._bytes.get(index)
        if encoded is None:
            encoded = self._bytes[index] = self.lines[index].encode("utf-8")
        chars = len(encoded[: max(0, byte_col)].decode("utf-8", errors="ignore"))
        return self.clamp(self.starts[index] + chars - self.shift)

    def clamp(self, offset: int) -> int:
        return max(0, min(offset, len(self.text)))

    def span(self, node: py.AST) -> Span:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
        end_col = getattr(node, "end_col_offset", None)
        end = start + 1 if end_col is None else self.offset(end_line, end_col)
        return self.locate(start, max(start, end))

    # --- the translation ------------------------------------------------------------------------
    def run(self) -> Expr:
        try:
            tree = py.parse(self.source, mode="eval")
        except SyntaxError as err:
            raise _Stop(self.syntax(err)) from None
        except (RecursionError, MemoryError):
            raise _Stop(Diagnostic("parse/too-deep", self.locate(0, 1), {"limit": MAX_DEPTH})) from None
        except ValueError as err:  # e.g. a NUL character (older Pythons)
            raise _Stop(
                Diagnostic("parse/syntax", self.locate(0, 1), {"problem": str(err).lower()})
            ) from None
        return self.expr(tree.body, 1)

    def syntax(self, err: SyntaxError) -> Diagnostic:
        problem = (err.msg or "invalid syntax").rstrip(".")
        if problem.startswith("Exceeds the limit"):
            return Diagnostic(
                "parse/bad-number",
                self.locate(0, len(self.text)),
                {"text": "…", "digits": MAX_DIGITS},
            )
        lineno = err.lineno or 1
        if err.offset is None or err.offset <= 0:
            start = len(self.text)  # Python could not tell: the input ended too early
        else:
            index = max(0, min(lineno - 1, len(self.lines) - 1))
            start = self.clamp(self.starts[index] + err.offset - 1 - self.shift)
        if start >= len(self.text):
            # point at the last visible character
            start = len(self.text.rstrip()) - 1
            if "never closed" not in problem:
                problem = f"{problem} (the expression ends too early)"
        start = max(0, start)
        return Diagnostic("parse/syntax", self.locate(start, start + 1), {"problem": problem})

    def unsupported(self, node: py.AST, construct: str) -> _Stop:
        return _Stop(Diagnostic("parse/unsupported", self.span(node), {"construct": construct}))

    def expr(self, node: py.expr, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise _Stop(Diagnostic("parse/too-deep", self.span(node), {"limit": MAX_DEPTH}))
        deeper = depth + 1
        span = self.span(node)
        if isinstance(node, py.BoolOp):
            op: Lit["and", "or"] = "and" if isinstance(node.op, py.And) else "or"
            return BoolOp(op, tuple(self.expr(v, deeper) for v in node.values), span)
        if isinstance(node, py.BinOp):
            symbol = _ARITH.get(type(node.op))
            if symbol is None:
                raise self.unsupported(node, _OTHER_OPS.get(type(node.op), "this operator"))
            left = self.expr(node.left, deeper)
            right = self.expr(node.right, deeper)
            return BinOp(symbol, left, right, span)  # type: ignore[arg-type]
        if isinstance(node, py.UnaryOp):
            if isinstance(node.op, py.Not):
                return Unary("not", self.expr(node.operand, deeper), span)
            if isinstance(node.op, py.USub):
                return Unary("-", self.expr(node.operand, deeper), span)
            word = "unary `+`" if isinstance(node.op, py.UAdd) else "the operator `~` (write `not`)"
            raise self.unsupported(node, word)
        if isinstance(node, py.Compare):
            ops: list[CompareOp] = []
            for cmp in node.ops:
                found = _COMPARE.get(type(cmp))
                if found is None:
                    raise self.unsupported(node, "`is` / `is not` (write `==` / `!=`)")
                ops.append(found)
            operands = (self.expr(node.left, deeper), *(self.expr(c, deeper) for c in node.comparators))
            return Compare(operands, tuple(ops), span)
        if isinstance(node, py.IfExp):
            then = self.expr(node.body, deeper)
            cond = self.expr(node.test, deeper)
            orelse = self.expr(node.orelse, deeper)
            return IfExp(cond, then, orelse, span)
        if isinstance(node, py.Call):
            return self.call(node, span, deeper)
        if isinstance(node, py.Constant):
            return self.constant(node, span)
        if isinstance(node, py.Attribute):
            value = self.expr(node.value, deeper)
            attr_start = span.end - len(node.attr)
            attr_span = span if attr_start < span.start else Span(span.source, attr_start, span.end)
            return Attribute(value, node.attr, span, attr_span)
        if isinstance(node, py.Name):
            return Name(node.id, span)
        if isinstance(node, py.List):
            return ListLit(tuple(self.expr(item, deeper) for item in node.elts), span)
        raise self.unsupported(node, _CONSTRUCTS.get(type(node), "this construct"))

    def call(self, node: py.Call, span: Span, depth: int) -> Expr:
        if not isinstance(node.func, py.Name):
            raise self.unsupported(node.func, "calling a method or an expression")
        if node.keywords:
            raise self.unsupported(node.keywords[0], "a keyword argument")
        for arg in node.args:
            if isinstance(arg, py.Starred):
                raise self.unsupported(arg, "unpacking `*`")
        name = node.func.id
        if name == "date":
            return self.date(node, span)
        args = tuple(self.expr(arg, depth) for arg in node.args)
        return Call(name, args, span, self.span(node.func))

    def date(self, node: py.Call, span: Span) -> DateLit:
        arg = node.args[0] if len(node.args) == 1 else None
        if not (isinstance(arg, py.Constant) and isinstance(arg.value, str)):
            raise _Stop(Diagnostic("parse/bad-date", span, {"text": span.text}))
        text = arg.value
        try:
            if not DATE_RE.fullmatch(text):
                raise ValueError(text)
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise _Stop(Diagnostic("parse/bad-date", self.span(arg), {"text": text})) from None
        return DateLit(value, span)

    def constant(self, node: py.Constant, span: Span) -> Literal:
        value = node.value
        if isinstance(value, bool | str):
            return Literal(value, span)
        if isinstance(value, int):
            if not within_limits(value):
                raise _Stop(
                    Diagnostic("parse/bad-number", span, {"text": _short(span.text), "digits": MAX_DIGITS})
                )
            return Literal(value, span)
        if isinstance(value, float):
            # never use Python's binary float: read the digits as written
            written = span.text.replace("_", "")
            try:
                number = Decimal(written)
            except InvalidOperation:
                number = Decimal("NaN")
            if not within_limits(number):
                raise _Stop(
                    Diagnostic("parse/bad-number", span, {"text": _short(span.text), "digits": MAX_DIGITS})
                )
            return Literal(number, span)
        if value is None:
            raise self.unsupported(node, "`None` (use `present(...)` to test for missing data)")
        if isinstance(value, bytes):
            raise self.unsupported(node, "a bytes literal")
        if isinstance(value, complex):
            raise self.unsupported(node, "a complex number")
        raise self.unsupported(node, "this literal")


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
