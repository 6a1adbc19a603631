"""The content hash of a pack: the same for the same meaning, different for any other.

The hash is SHA-256 over a canonical JSON form of the read pack: comments, whitespace, quoting
and key order do not reach it (they never reach the model), numbers are normalised (``3500`` and
``3500.0`` are the same), expressions are printed in their canonical form (so ``a>b`` and
``a > b`` are the same), and locations are left out.  Everything else — every value, date,
source, citation, text, expression and the order of criteria and rules — is in it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date as _Date  # the class itself, whatever a caller does to the module
from decimal import Decimal
from typing import Any, cast

import attrs

from gspolicy._i18n import Text
from gspolicy._location import Source, Span
from gspolicy.lang import Expr, print_expr
from gspolicy.pack.model import Condition, PackSource

__all__ = ["canonical", "content_hash"]

_SKIP = frozenset({"span", "source"})
# optional keys added after format 1 was published: left out while absent, so that a pack that
# does not use them keeps the hash it always had
_LATER = frozenset(
    {
        "weigh",
        "imports",
        "imported_from",
        "approval",
        "term",
        "lapses_when",
        "exclusive",
        "invariants",
        "keys",
        "indicators",
        "lists",
        "missing_day",
        "approximate",
        "reasons",
        "paraphrase",
    }
)


def _absent(value: object) -> bool:
    """A field added later holds its default: left out so older packs keep their hashes."""
    return value is None or value is False or value == ()


def canonical(value: object) -> object:
    """The canonical, JSON-ready form of a model value."""
    if isinstance(value, Expr):
        return {"expr": print_expr(value)}
    if isinstance(value, Condition):  # the expression stands for its text
        return canonical(value.expr)
    if isinstance(value, Text):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Decimal):
        normal = value.normalize()
        return {"decimal": format(normal, "f")}
    if isinstance(value, _Date):
        return {"date": value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, tuple | list):
        return [canonical(v) for v in value]
    if isinstance(value, Source | Span):
        return None
    if attrs.has(type(value)):
        out: dict[str, object] = {"_": type(value).__name__}
        for field in attrs.fields(cast(Any, type(value))):
            if field.name in _SKIP and not isinstance(getattr(value, field.name), str):
                continue
            later = field.name in _LATER or field.metadata.get("later", False)
            if later and _absent(getattr(value, field.name)):
                continue
            out[field.name] = canonical(getattr(value, field.name))
        return out
    raise TypeError(f"no canonical form for {type(value).__name__}")


def content_hash(pack: PackSource) -> str:
    """``sha256:<hex>`` of the pack's canonical form."""
    data = json.dumps(canonical(pack), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()
