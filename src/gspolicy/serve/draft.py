"""A pack text edited in the playground, standing in for the served pack of the same id: read and
checked as a pack file is, put in the served set as the loader would put it, with its problems and
the served pack's cases as plain data for the page (`gspolicy.serve.playground` serves them).

Nothing here imports the web framework: the playground's endpoints are thin layers over these
functions and the library's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from gspolicy._files import read_source
from gspolicy._i18n import Lang
from gspolicy._location import RecordLocation, Source, Span
from gspolicy._resources import bundled_policies
from gspolicy.errors import Diagnostic
from gspolicy.errors import sort_and_cap as _sort_and_cap
from gspolicy.pack.across import invariant_names, overlaps, roles
from gspolicy.pack.load import reimported, resolve_imports
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.testing.cases import find_case_files

__all__ = [
    "Draft",
    "case_files_of",
    "case_sources",
    "diagnostic_json",
    "diagnostics_json",
    "draft_set",
    "pack_summary",
    "plain",
    "sort_and_cap",
]

DRAFT_NAME = "playground.yaml"
"""The name a pack text is read under (what diagnostics and decisions show as its file)."""


def sort_and_cap(diagnostics: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
    """Sorted by place, duplicates dropped, at most `DIAGNOSTIC_LIMIT` kept."""
    return _sort_and_cap(diagnostics)[0]


# --- the pack text, read, checked and put in the set ------------------------------------------


@attrs.frozen
class Draft:
    """A pack text read and checked against a served set: the set with it standing in for the
    versions of its pack it overlaps (None when it does not check), the checked pack, and every
    diagnostic (sorted)."""

    policy_set: PolicySet | None
    pack: CheckedPack | None
    diagnostics: tuple[Diagnostic, ...]


def draft_set(served: PolicySet, text: str, name: str = DRAFT_NAME) -> Draft:
    """Read and check `text` as one version of a pack, against the schema of `served` and with its
    imports resolved against the parameters packs of `served`; then the set `served` with that
    version standing in for the versions of the same pack whose validity overlaps it (the other
    versions stay, as do the other packs; packs importing from an edited parameters pack import
    from it), checked as the loader checks a set (versions apart, roles, invariants' names)."""
    source = Source(name, text)
    pack, problems = read_pack(source)
    if pack is None or any(d.is_error for d in problems):
        return Draft(None, None, tuple(sort_and_cap(problems)))
    schema = served.schema
    if pack.imports:
        providers = [p.pack for p in served.packs if p.kind == "parameters" and p.id != pack.id]
        resolved, more = resolve_imports(pack, providers)
        problems.extend(more)
        if resolved is None:
            return Draft(None, None, tuple(sort_and_cap(problems)))
        pack = resolved
    checked, more = check_pack(pack, schema)
    problems.extend(more)
    if checked is None or any(d.is_error for d in problems):
        return Draft(None, None, tuple(sort_and_cap(problems)))
    kept = [p for p in served.packs if p.id != pack.id or not _overlap(p, checked)]
    if checked.kind == "parameters":
        providers = [p.pack for p in (*kept, checked) if p.kind == "parameters"]
        again: list[CheckedPack] = []
        for p in kept:
            found = reimported(p, providers, schema)
            if found is None:
                problems.append(
                    Diagnostic("playground/import-lost", checked.pack.id_span, {"id": p.pack.key})
                )
            else:
                again.append(found)
        kept = again
    packs = (*kept, checked)
    problems.extend(overlaps(packs))
    problems.extend(roles(packs))
    if not any(d.is_error for d in problems):  # an invariant's names, once the packs are sound
        problems.extend(invariant_names(packs))
    if any(d.is_error for d in problems):
        return Draft(None, checked, tuple(sort_and_cap(problems)))
    return Draft(PolicySet(schema, packs), checked, tuple(sort_and_cap(problems)))


def _overlap(a: CheckedPack, b: CheckedPack) -> bool:
    """Whether two versions are valid on a common day."""
    first, second = (a.pack, b.pack) if a.pack.valid_from <= b.pack.valid_from else (b.pack, a.pack)
    return first.valid_to is None or first.valid_to >= second.valid_from


# --- plain data for the page ------------------------------------------------------------------


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _utf16(source: Source, offset: int) -> int:
    """`offset` (in characters) in UTF-16 units, as a browser counts: a character beyond the
    basic plane counts two."""
    if _ASTRAL.search(source.text, 0, offset) is None:
        return offset
    return len(source.text[:offset].encode("utf-16-le")) // 2


def _position(span: Span) -> dict[str, int]:
    """Where a span lies: 1-based lines and columns (in characters), and offsets from the start
    of the text in UTF-16 units (what a browser's editor counts)."""
    source = span.source
    end = max(span.start, span.end)
    line, col = source.line_col(span.start)
    end_line, end_col = source.line_col(end)
    return {
        "line": line,
        "col": col,
        "end_line": end_line,
        "end_col": end_col,
        "from": _utf16(source, span.start),
        "to": _utf16(source, end),
    }


def diagnostic_json(diagnostic: Diagnostic, lang: Lang) -> dict[str, Any]:
    """A diagnostic as the page shows it: code, severity, message and help in `lang`, and where
    it lies (`_position`) when it lies in a text."""
    out = dict(diagnostic.to_json(lang))
    location = diagnostic.location
    span = location.span if isinstance(location, RecordLocation) else location
    if isinstance(span, Span):
        out.update(_position(span))
    out["text"] = diagnostic.render(lang)
    return out


def diagnostics_json(found: Sequence[Diagnostic], lang: Lang) -> list[dict[str, Any]]:
    return [diagnostic_json(d, lang) for d in found]


def pack_summary(checked: CheckedPack) -> dict[str, Any]:
    pack = checked.pack
    return {
        "id": pack.id,
        "version": pack.version,
        "kind": checked.kind,
        "subject": checked.subject,
        "valid_from": pack.valid_from.isoformat(),
        "valid_to": pack.valid_to.isoformat() if pack.valid_to else None,
        "title": {"zh": pack.title.zh, "en": pack.title.en},
        "content_hash": checked.content_hash,
    }


def case_files_of(pack: CheckedPack) -> list[Path]:
    """The case files beside the file a pack of the served set was read from (its folder's
    ``tests/``): found where its name points, from the working folder or the bundled set; the
    generated coverage cases (``coverage.yaml``) after the written ones."""
    name = Path(pack.pack.source.name)
    for candidate in (name, bundled_policies().parent / name, bundled_policies() / name):
        tests = candidate.parent / "tests"
        if candidate.is_file():
            found = find_case_files([tests]) if tests.is_dir() else []
            return sorted(found, key=lambda p: (p.name == "coverage.yaml", p.name))
    return []


def case_sources(pack: CheckedPack) -> tuple[list[Source], list[Diagnostic]]:
    """The texts of a served pack's case files, each named by its file name."""
    sources: list[Source] = []
    problems: list[Diagnostic] = []
    for path in case_files_of(pack):
        source, found = read_source(path, name=path.name)
        problems.extend(found)
        if source is not None:
            sources.append(source)
    return sources, problems


def plain(value: object) -> Any:
    """A case's household as JSON data: dates read from YAML as ISO text, decimals as numbers."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
