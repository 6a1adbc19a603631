"""Reading YAML documents of a known shape (schema files, packs, test cases) into diagnostics.

A `Reader` walks `YNode`s and reports what does not fit: unknown keys (with "did you mean"),
missing keys, values of the wrong kind.  It never raises; a value that does not fit reads as
None after its diagnostic is recorded, so one pass reports every problem in a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from gspolicy._i18n import Text
from gspolicy._messages import noun
from gspolicy._patterns import DATE_RE, NAME_RE
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, describe
from gspolicy.errors import Diagnostic, suggest

__all__ = ["Reader"]


class Reader:
    """Collects diagnostics while reading one document; `context` prefixes them."""

    def __init__(self, context: tuple[tuple[str, str], ...] = ()) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.context = context

    def within(self, kind: str, name: str) -> Reader:
        """A reader sharing this one's diagnostics, with one more context level (innermost)."""
        child = Reader(((kind, name), *self.context))
        child.diagnostics = self.diagnostics
        return child

    def report(
        self,
        code: str,
        node: YNode | None,
        args: dict[str, object] | None = None,
        suggestions: Iterable[str] = (),
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                code,
                node.span if node is not None else None,
                args or {},
                context=self.context,
                suggestions=tuple(suggestions),
            )
        )

    # -- mappings ------------------------------------------------------------------------------
    def mapping(
        self,
        node: YNode | None,
        where: str,
        *,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
        key: str = "",
    ) -> dict[str, YNode] | None:
        """Read a mapping with the given keys; report unknown and missing ones.  An absent node
        (None) is not reported here: a required key's absence is its parent's to report, once."""
        if node is None:
            return None
        if not isinstance(node, YMap):
            self.wrong(node, key or where, "a mapping")
            return None
        required = tuple(required)
        allowed = (*required, *optional)
        out: dict[str, YNode] = {}
        for k, v in node.items:
            name = k.value if isinstance(k.value, str) else k.text
            if allowed and name not in allowed:
                self.report(
                    "shape/unknown-key",
                    k,
                    {"key": name, "where": noun(where), "allowed": ", ".join(f"`{a}`" for a in allowed)},
                    suggest(name, allowed),
                )
                continue
            out[name] = v
        for name in required:
            if name not in out:
                self.report("shape/missing-key", node, {"key": name, "where": noun(where)})
        return out

    def entries(self, node: YNode | None, key: str) -> list[tuple[YScalar, YNode]]:
        """Read a mapping of named entries (names are checked to be names)."""
        if node is None:
            return []
        if not isinstance(node, YMap):
            self.wrong(node, key, "a mapping")
            return []
        out = []
        for k, v in node.items:
            if not isinstance(k.value, str) or not NAME_RE.match(k.value):
                self.report("schema/bad-name", k, {"name": k.text})
                continue
            out.append((k, v))
        return out

    def entries_any(self, node: YNode | None, key: str) -> list[tuple[YScalar, YNode]]:
        """Read a mapping whose keys are not names (e.g. dates); the caller checks the keys."""
        if node is None:
            return []
        if not isinstance(node, YMap):
            self.wrong(node, key, "a mapping")
            return []
        return list(node.items)

    def items(self, node: YNode | None, key: str) -> list[YNode]:
        if node is None:
            return []
        if not isinstance(node, YSeq):
            self.wrong(node, key, "a list")
            return []
        return list(node.items)

    # -- scalars -------------------------------------------------------------------------------
    def wrong(self, node: YNode | None, key: str, expected: str) -> None:
        self.report(
            "shape/wrong-type", node, {"key": key, "expected": noun(expected), "found": describe(node)}
        )

    def string(self, node: YNode | None, key: str, *, name: bool = False) -> str | None:
        if node is None:
            return None
        if not isinstance(node, YScalar) or not isinstance(node.value, str) or not node.value:
            self.wrong(node, key, "a name" if name else "a text")
            return None
        if name and not NAME_RE.match(node.value):
            self.report("schema/bad-name", node, {"name": node.value})
            return None
        return node.value

    def version(self, node: YNode | None, key: str) -> str | None:
        """A version or identifier written as text or as a number (``2018.1`` or ``"2018.1"``)."""
        if (
            isinstance(node, YScalar)
            and isinstance(node.value, str | int | Decimal)
            and not isinstance(node.value, bool)
        ):
            return node.text
        if node is not None:
            self.wrong(node, key, "a version")
        return None

    def boolean(self, node: YNode | None, key: str) -> bool | None:
        if node is None:
            return None
        if not isinstance(node, YScalar) or not isinstance(node.value, bool):
            self.wrong(node, key, "`true` or `false`")
            return None
        return node.value

    def integer(self, node: YNode | None, key: str) -> int | None:
        if node is None:
            return None
        if not isinstance(node, YScalar) or isinstance(node.value, bool) or not isinstance(node.value, int):
            self.wrong(node, key, "a whole number")
            return None
        return node.value

    def number(self, node: YNode | None, key: str) -> Decimal | None:
        if node is None:
            return None
        if (
            isinstance(node, YScalar)
            and not isinstance(node.value, bool)
            and isinstance(node.value, int | Decimal)
        ):
            return Decimal(node.value)
        self.wrong(node, key, "a number")
        return None

    def date(self, node: YNode | None, key: str) -> dt.date | None:
        if node is None:
            return None
        if isinstance(node, YScalar):
            value = node.value
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                return value
            if isinstance(value, str) and DATE_RE.match(value):
                try:
                    return dt.date.fromisoformat(value)
                except ValueError:
                    pass
            self.report(
                "shape/bad-value",
                node,
                {
                    "value": node.text,
                    "key": key,
                    "expected": noun("date"),
                    "hint": Text(zh="日期格式为 YYYY-MM-DD", en="write dates as YYYY-MM-DD"),
                },
            )
            return None
        self.wrong(node, key, "a date")
        return None

    def text(self, node: YNode | None, key: str) -> Text | None:
        """A text in both languages: ``{zh: ..., en: ...}``."""
        if node is None:
            return None
        fields = self.mapping(node, f"`{key}`", required=("zh", "en"), key=key)
        if fields is None:
            return None
        zh = self.string(fields.get("zh"), f"{key}.zh")
        en = self.string(fields.get("en"), f"{key}.en")
        if zh is None or en is None:
            return None
        return Text(zh=zh, en=en)

    def choice(self, node: YNode | None, key: str, choices: Iterable[str]) -> str | None:
        if node is None:
            return None
        options = tuple(choices)
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value in options:
            return node.value
        shown = node.text if isinstance(node, YScalar) else describe(node).en
        self.report(
            "shape/bad-value",
            node,
            {
                "value": shown,
                "key": key,
                "expected": noun("choice"),
                "hint": Text(zh="可选：", en="one of ") + ", ".join(f"`{c}`" for c in options),
            },
            suggest(shown, options),
        )
        return None

    def names(self, node: YNode | None, key: str) -> tuple[str, ...]:
        """A list of names, or one name."""
        if node is None:
            return ()
        if isinstance(node, YScalar):
            one = self.string(node, key, name=True)
            return (one,) if one else ()
        out = []
        for item in self.items(node, key):
            value = self.string(item, key, name=True)
            if value is not None:
                out.append(value)
        return tuple(out)
