"""Diagnostics and the errors raised at the public boundary.

Every problem gspolicy finds in a pack, a schema, a record file, a test case or a command line is a
`Diagnostic`: a stable code (``record/unknown-field``), a severity, a message and a help line in
Chinese and English, a location (a span in a file, or a file, line and data path in a record),
and the context it arose in (``in rule `x` of pack `y```).  Stages collect diagnostics, sort and
cap them, and the public functions raise one `PolicyError` holding all of them.

The messages themselves live in the catalogue (`gspolicy._messages`); `docs/reference/
diagnostics.md` is generated from it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum

import attrs

from gspolicy._i18n import Lang, Text, default_lang
from gspolicy._location import Location, RecordLocation, Span
from gspolicy._messages import CATALOGUE, CONTEXT_KINDS, SEVERITY_WORDS

__all__ = [
    "DIAGNOSTIC_LIMIT",
    "Diagnostic",
    "GspolicyError",
    "HouseholdError",
    "PolicyError",
    "Severity",
    "render_diagnostics",
    "render_grouped",
    "suggest",
]

DIAGNOSTIC_LIMIT = 100
"""How many diagnostics a `PolicyError` keeps (the rest are counted, not kept)."""


class Severity(Enum):
    """How serious a diagnostic is. Only errors stop a pack or a record from loading."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def suggest(name: str, candidates: Iterable[str], *, limit: int = 3) -> tuple[str, ...]:
    """Return up to `limit` candidates close to `name` ("did you mean"), best first."""
    pool = sorted(set(candidates))
    found = difflib.get_close_matches(name, pool, n=limit, cutoff=0.6)
    if not found:
        lowered = {c.lower(): c for c in pool}
        found = [lowered[m] for m in difflib.get_close_matches(name.lower(), lowered, n=limit)]
    return tuple(found)


Arg = str | Text


def _freeze_args(value: Mapping[str, object] | Iterable[tuple[str, object]]) -> tuple[tuple[str, Arg], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), v if isinstance(v, Text) else str(v)) for k, v in items))


def _args(args: tuple[tuple[str, Arg], ...], lang: Lang) -> dict[str, str]:
    return {k: v.get(lang) if isinstance(v, Text) else v for k, v in args}


@attrs.frozen
class Diagnostic:
    """One problem, located, with its message and help in both languages.

    `args` fill the catalogue's templates for `code` (a `Text` argument is rendered in the
    language of the message); `context` lists ``(kind, name)`` pairs,
    innermost first (``(("rule", "exit.income"), ("pack", "exit@2018.1"))``); `suggestions`
    are the "did you mean" candidates.
    """

    code: str = attrs.field()
    location: Location | None = None
    args: tuple[tuple[str, Arg], ...] = attrs.field(default=(), converter=_freeze_args)
    context: tuple[tuple[str, str], ...] = ()
    suggestions: tuple[str, ...] = ()
    severity: Severity | None = None

    @code.validator
    def _known(self, _attr: object, value: str) -> None:
        if value not in CATALOGUE:
            raise ValueError(f"unknown diagnostic code {value!r}")

    @property
    def level(self) -> Severity:
        """The severity: as given, else the catalogue's default for the code."""
        return self.severity or Severity(CATALOGUE[self.code].severity)

    @property
    def is_error(self) -> bool:
        return self.level is Severity.ERROR

    def message(self, lang: Lang = "en") -> str:
        entry = CATALOGUE[self.code]
        text = entry.message.get(lang).format(**_args(self.args, lang))
        prefix = _context_prefix(self.context, lang)
        if isinstance(self.location, RecordLocation) and self.location.path:
            prefix += f"{self.location.path}: "
        return prefix + text

    def help(self, lang: Lang = "en") -> str | None:
        entry = CATALOGUE[self.code]
        parts: list[str] = []
        if self.suggestions:
            names = ", ".join(f"`{s}`" for s in self.suggestions)
            parts.append(f"您是否想写 {names}？" if lang == "zh" else f"did you mean {names}?")
        if entry.help is not None:
            parts.append(entry.help.get(lang).format(**_args(self.args, lang)))
        return ("" if lang == "zh" else " ").join(parts) if parts else None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        if isinstance(loc, Span):
            line, col = loc.source.line_col(loc.start)
            return (loc.file, line, col, self.code, self.message())
        if isinstance(loc, RecordLocation):
            if loc.span is not None:
                line, col = loc.span.source.line_col(loc.span.start)
            else:
                line, col = (loc.line or 0), 0
            return (loc.file, line, col, self.code, self.message())
        return ("", 0, 0, self.code, self.message())

    def render(self, lang: Lang = "en") -> str:
        """Render as ``file:line:col: code: message``, the source line underlined, then help."""
        loc = self.location
        head = ""
        span: Span | None = None
        if isinstance(loc, Span):
            head, span = loc.header() + ": ", loc
        elif isinstance(loc, RecordLocation):
            head, span = loc.header() + ": ", loc.span
        level = self.level
        tag = (
            self.code if level is Severity.ERROR else f"{self.code} ({SEVERITY_WORDS[level.value].get(lang)})"
        )
        lines = [f"{head}{tag}: {self.message(lang)}"]
        if span is not None:
            lines.append(span.excerpt())
        helptext = self.help(lang)
        if helptext:
            lines.append(("  帮助：" if lang == "zh" else "  help: ") + helptext)
        return "\n".join(lines)

    def to_json(self, lang: Lang = "en") -> dict[str, object]:
        """A plain-data form (for ``--format json`` and machine consumers)."""
        loc = self.location
        out: dict[str, object] = {
            "code": self.code,
            "severity": self.level.value,
            "message": self.message(lang),
        }
        if isinstance(loc, Span):
            out.update(file=loc.file, line=loc.line, col=loc.col)
        elif isinstance(loc, RecordLocation):
            out.update(file=loc.file, line=loc.line, path=str(loc.path) if loc.path else None)
            if loc.span is not None:
                out.update(line=loc.span.line, col=loc.span.col)
        helptext = self.help(lang)
        if helptext:
            out["help"] = helptext
        return out


def _context_prefix(context: Sequence[tuple[str, str]], lang: Lang) -> str:
    if not context:
        return ""
    if lang == "zh":
        parts = [f"{CONTEXT_KINDS[kind].zh} `{name}`" for kind, name in reversed(context)]
        return "在" + " 的".join(parts) + "中："
    parts = [f"{CONTEXT_KINDS[kind].en} `{name}`" for kind, name in context]
    return "in " + " of ".join(parts) + ": "


def sort_and_cap(
    diagnostics: Iterable[Diagnostic], limit: int = DIAGNOSTIC_LIMIT
) -> tuple[tuple[Diagnostic, ...], int]:
    """Sort by location, drop exact duplicates, keep `limit`; return them and how many were cut."""
    unique = list(dict.fromkeys(diagnostics))
    unique.sort(key=Diagnostic.sort_key)
    return tuple(unique[:limit]), max(0, len(unique) - limit)


def render_diagnostics(
    diagnostics: Iterable[Diagnostic], lang: Lang | None = None, *, omitted: int = 0
) -> str:
    """Render diagnostics sorted, one block each, with a closing count."""
    lang = lang or default_lang()
    kept, cut = sort_and_cap(diagnostics)
    cut += omitted
    blocks = [d.render(lang) for d in kept]
    errors = sum(d.is_error for d in kept)
    warnings = sum(d.level is Severity.WARNING for d in kept)
    if lang == "zh":
        summary = f"{errors} 个错误，{warnings} 个警告"
        if cut:
            summary += f"（另有 {cut} 条未显示）"
    else:
        summary = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        if cut:
            summary += f" ({cut} more not shown)"
    return "\n".join([*blocks, summary])


def render_grouped(diagnostics: Iterable[Diagnostic], lang: Lang | None = None, *, shown: int = 50) -> str:
    """Render the first `shown` diagnostics (sorted) in full and the rest counted by code, with
    a closing count of all of them: a file with thousands of bad rows stays readable."""
    lang = lang or default_lang()
    unique = list(dict.fromkeys(diagnostics))
    unique.sort(key=Diagnostic.sort_key)
    kept, rest = unique[:shown], unique[shown:]
    blocks = [d.render(lang) for d in kept]
    if rest:
        by_code: dict[str, int] = {}
        for d in rest:
            by_code[d.code] = by_code.get(d.code, 0) + 1
        groups = ", ".join(
            f"{code} × {n}" for code, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        blocks.append(
            f"……另有 {len(rest)} 个问题：{groups}"
            if lang == "zh"
            else f"… and {len(rest)} more problems: {groups}"
        )
    errors = sum(d.is_error for d in unique)
    warnings = sum(d.level is Severity.WARNING for d in unique)
    if lang == "zh":
        summary = f"{errors} 个错误，{warnings} 个警告"
    else:
        summary = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    return "\n".join([*blocks, summary])


class GspolicyError(Exception):
    """The root of every error gspolicy raises on purpose."""


class PolicyError(GspolicyError, ValueError):
    """Problems found in packs, schemas, records or cases; `diagnostics` holds all of them.

    The diagnostics are sorted by location and capped at `DIAGNOSTIC_LIMIT`; `omitted` counts
    the ones cut.  ``str(error)`` renders them in the default language.
    """

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        kept, cut = sort_and_cap(diagnostics)
        self.diagnostics: tuple[Diagnostic, ...] = kept
        self.omitted: int = cut
        super().__init__(self.render())

    def render(self, lang: Lang | None = None) -> str:
        return render_diagnostics(self.diagnostics, lang, omitted=self.omitted)


class HouseholdError(PolicyError):
    """Problems found in household records (each diagnostic has a file, line and data path)."""
