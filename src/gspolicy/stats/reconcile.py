"""Reconcile a department's reported figures with the figures computed from the registry.

A report is a table (CSV, or the first or a named sheet of an Excel workbook) in the statistics
packs' indicator ids, in one of two layouts told apart by their headers (English or Chinese):

- **aggregate**: quarter, indicator, the indicator's group keys, value — one row per figure;
- **household-level**: quarter, indicator, household, the indicator's group keys — one row per
  household counted (count indicators only).

`read_report` reads one, every problem located (``file:line`` or ``file:sheet!cell``): unknown
indicators, quarters other than the one reconciled, bad numbers, duplicate rows, missing cells;
`check_keys` then refuses group-key values the registry does not have (an unknown county);
`reconcile` lists every difference beyond the tolerance — reported vs computed, the gap and the
households behind the computed figure (household-level: exactly the households missing from the
report and the extra ones).  A figure computed but not reported, or reported but not computed,
is a difference too.  Only the indicators a report names are compared.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import attrs

from gspolicy._location import DataPath, RecordLocation
from gspolicy.engine.outcome import Outcome
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.lang import Context, Interval, Unknown, Value, evaluate
from gspolicy.pack.model import Indicator
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.stats.figures import Figures, Number
from gspolicy.stats.quarter import Quarter, parse_quarter

__all__ = [
    "HEADER_WORDS",
    "Difference",
    "Report",
    "ReportFigure",
    "check_keys",
    "indicators_in_force",
    "known_keys",
    "read_report",
    "reconcile",
    "tracking_keys",
]

HEADER_WORDS: Mapping[str, tuple[str, ...]] = {
    "quarter": ("quarter", "季度"),
    "indicator": ("indicator", "指标"),
    "household": ("household", "户"),
    "value": ("value", "数值"),
    "county": ("county", "县"),
    "township": ("township", "乡镇"),
    "village": ("village", "村"),
    "batch": ("batch", "批次"),
    "measure": ("measure", "措施"),
    "department": ("department", "部门"),
}
"""The header words a report's columns may bear, English and Chinese, by column; a statistics
pack's other declared keys are accepted by their own name."""

Layout = Literal["aggregate", "household"]


@attrs.frozen
class ReportFigure:
    """One reported figure: an aggregate row's value, or the households a household-level report
    lists in the cell (the value is then their number), and where its (first) row stands."""

    indicator: str
    keys: tuple[str, ...]
    value: Number
    households: tuple[str, ...] | None
    location: RecordLocation
    key_locations: tuple[RecordLocation, ...] = ()


@attrs.frozen
class Report:
    """A report read: its layout and its figures by (indicator, keys), in the order read."""

    path: str
    layout: Layout
    figures: Mapping[tuple[str, tuple[str, ...]], ReportFigure]

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for i, _k in self.figures))


@attrs.frozen
class Difference:
    """One figure that does not agree: `reported` or `computed` is None when the figure is absent
    on that side; `gap` is reported − computed (an absent side counts 0); `households` make up the
    computed figure; `missing` and `extra` (household-level reports) are the households computed
    but not reported, and reported but not computed."""

    indicator: str
    keys: tuple[tuple[str, str], ...]
    reported: Number | None
    computed: Number | None
    gap: Number
    tolerance: Decimal
    households: tuple[str, ...]
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    location: RecordLocation | None = None


def indicators_in_force(policy_set: PolicySet, quarter: Quarter) -> dict[str, Indicator]:
    """The indicators of the statistics packs in force on `quarter`'s last day, by id."""
    out: dict[str, Indicator] = {}
    for pack_id in policy_set.of_kind("statistics"):
        pack = policy_set.in_force(pack_id, quarter.last)
        if pack is not None:
            out.update((i.id, i) for i in pack.pack.indicators)
    return out


# --- reading ---------------------------------------------------------------------------------------


def _column_of(header: str) -> str:
    text = header.strip().lower()
    for column, words in HEADER_WORDS.items():
        if text in words:
            return column
    return text


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    with path.open(encoding=enc, newline="") as handle:
        reader = csv.reader(handle)
        for row in reader:
            yield reader.line_num, row


def _xlsx_rows(path: Path, sheet: str | None, shown: str) -> tuple[str, list[list[str]]]:
    import fastexcel  # noqa: PLC0415  # the excel extra, only for a workbook

    reader = fastexcel.read_excel(path)
    if sheet is not None and sheet not in reader.sheet_names:
        raise PolicyError(
            [
                Diagnostic(
                    "reconcile/no-sheet",
                    None,
                    {"path": shown, "sheet": sheet, "sheets": ", ".join(reader.sheet_names)},
                )
            ]
        )
    name = sheet if sheet is not None else reader.sheet_names[0]
    rows = reader.load_sheet(name, header_row=None, dtypes="string").to_polars().rows()
    return name, [["" if c is None else str(c) for c in row] for row in rows]


class _Reader:
    """Reads a report's rows, gathering every problem."""

    def __init__(
        self, shown: str, sheet: str | None, quarter: Quarter, indicators: Mapping[str, Indicator]
    ) -> None:
        self.shown, self.sheet, self.quarter, self.indicators = shown, sheet, quarter, indicators
        self.problems: list[Diagnostic] = []

    def at(self, line: int, column: int, name: str) -> RecordLocation:
        if self.sheet is not None:
            return RecordLocation(f"{self.shown}:{self.sheet}!{_letters(column)}{line}", None)
        return RecordLocation(self.shown, line, DataPath((name,)) if name else DataPath())

    def report(self, code: str, where: RecordLocation | None, args: dict[str, str], **extra: object) -> None:
        self.problems.append(Diagnostic(code, where, args, **extra))  # type: ignore[arg-type]

    def read(self, rows: Iterable[tuple[int, list[str]]]) -> Report:
        it = iter(rows)
        head = next(((n, r) for n, r in it if any(c.strip() for c in r)), None)
        if head is None:
            self.report("reconcile/empty", RecordLocation(self.shown, None), {})
            raise PolicyError(self.problems)
        head_line, names = head
        columns = [_column_of(h) for h in names]
        index = {c: i for i, c in reversed(list(enumerate(columns))) if c}
        layout: Layout | None = None
        if "value" in index and "household" not in index:
            layout = "aggregate"
        elif "household" in index and "value" not in index:
            layout = "household"
        missing = [c for c in ("quarter", "indicator") if c not in index]
        if layout is None or missing:
            shown = "/".join(HEADER_WORDS["value"]) + " | " + "/".join(HEADER_WORDS["household"])
            self.report(
                "reconcile/no-layout",
                RecordLocation(
                    self.shown if self.sheet is None else f"{self.shown}:{self.sheet}!A{head_line}",
                    head_line if self.sheet is None else None,
                ),
                {"missing": ", ".join(missing + ([] if layout else [shown]))},
            )
            raise PolicyError(self.problems)
        figures: dict[tuple[str, tuple[str, ...]], ReportFigure] = {}
        seen: dict[tuple[str, tuple[str, ...], str], RecordLocation] = {}
        lacking: set[tuple[str, str]] = set()
        for line, row in it:
            if not any(c.strip() for c in row):
                continue
            cell = {c: (row[i].strip() if i < len(row) else "") for c, i in index.items()}
            at = {c: self.at(line, i, names[i]) for c, i in index.items()}
            quarter_text = cell["quarter"]
            if quarter_text != str(self.quarter):
                try:
                    parse_quarter(quarter_text)
                    self.report(
                        "reconcile/other-quarter",
                        at["quarter"],
                        {"text": quarter_text, "quarter": str(self.quarter)},
                    )
                except PolicyError:
                    self.report("stats/bad-quarter", at["quarter"], {"text": quarter_text})
                continue
            ident = cell["indicator"]
            indicator = self.indicators.get(ident)
            if indicator is None:
                near = tuple(difflib.get_close_matches(ident, list(self.indicators), n=3))
                self.report(
                    "reconcile/unknown-indicator",
                    at["indicator"],
                    {"id": ident, "known": ", ".join(self.indicators)},
                    suggestions=near,
                )
                continue
            absent = [k for k in indicator.by if k not in index]
            if absent:
                for k in absent:
                    if (ident, k) not in lacking:
                        lacking.add((ident, k))
                        self.report("reconcile/missing-column", at["indicator"], {"id": ident, "key": k})
                continue
            keys = tuple(cell[k] for k in indicator.by)
            empty = [k for k in indicator.by if not cell[k]]
            if layout == "household":
                if indicator.figure != "count":
                    self.report("reconcile/household-sum", at["indicator"], {"id": ident})
                    continue
                empty += ["household"] if not cell["household"] else []
            elif not cell["value"]:
                empty.append("value")
            for k in empty:
                self.report("reconcile/empty-cell", at[k], {"column": k})
            if empty:
                continue
            name = cell["household"] if layout == "household" else ""
            first = seen.get((ident, keys, name))
            if first is not None:
                self.report("reconcile/duplicate-row", at["indicator"], {"other": first.header()})
                continue
            seen[(ident, keys, name)] = at["indicator"]
            if layout == "aggregate":
                value = _number(cell["value"])
                if value is None:
                    self.report("reconcile/bad-number", at["value"], {"text": cell["value"]})
                    continue
                figures[(ident, keys)] = ReportFigure(
                    ident, keys, value, None, at["indicator"], tuple(at[k] for k in indicator.by)
                )
                continue
            before = figures.get((ident, keys))
            households = (*(before.households or ()), name) if before else (name,)
            where = before.location if before else at["indicator"]
            figures[(ident, keys)] = ReportFigure(
                ident, keys, len(households), households, where, tuple(at[k] for k in indicator.by)
            )
        if self.problems:
            raise PolicyError(self.problems)
        return Report(self.shown, layout, figures)


def _number(text: str) -> Number | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return int(value) if value == value.to_integral_value() else value


def read_report(
    path: Path,
    indicators: Mapping[str, Indicator],
    quarter: Quarter,
    *,
    sheet: str | None = None,
    encoding: str = "utf-8",
    shown: str | None = None,
) -> Report:
    """The figures of a report file (CSV, or ``.xlsx``: the first sheet, or `sheet`); a
    `PolicyError` with every problem, each located, when it cannot be read through."""
    name = shown if shown is not None else str(path)
    try:
        if path.suffix.lower() == ".xlsx":
            sheet_name, rows = _xlsx_rows(path, sheet, name)
            return _Reader(name, sheet_name, quarter, indicators).read(enumerate(rows, start=1))
        return _Reader(name, None, quarter, indicators).read(_csv_rows(path, encoding))
    except PolicyError:
        raise
    except FileNotFoundError:
        raise PolicyError([Diagnostic("io/not-found", None, {"path": name})]) from None
    except (OSError, UnicodeDecodeError, LookupError, csv.Error) as err:
        raise PolicyError(
            [Diagnostic("reconcile/unreadable", None, {"path": name, "reason": str(err)})]
        ) from None
    except Exception as err:  # the workbook reader's own errors: a damaged or foreign file
        raise PolicyError(
            [Diagnostic("reconcile/unreadable", None, {"path": name, "reason": str(err)})]
        ) from None


# --- the registry's key values ---------------------------------------------------------------------


def tracking_keys(
    policy_set: PolicySet,
    pairs: Iterable[tuple[Record, Outcome]],
    quarter: Quarter,
    seen: dict[str, set[str]],
) -> Iterator[tuple[Record, Outcome]]:
    """`pairs` passed through, the values of the statistics packs' declared keys (county,
    village, …) of every record gathered into `seen` on the way."""
    packs = [p for p in (policy_set.in_force(i, quarter.last) for i in policy_set.of_kind("statistics")) if p]
    for record, outcome in pairs:
        ctx = Context(subject=record, as_of=quarter.last)
        for pack in packs:
            if pack.subject != record.type_name:
                continue
            for key, field in pack.keys.items():
                seen.setdefault(key, set()).add(_text(evaluate(field, ctx)))
        yield record, outcome


def _text(value: Value) -> str:
    """A key's value as the figures' cells name it (`figures` groups the same way)."""
    if isinstance(value, Unknown | Interval) or value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def known_keys(policy_set: PolicySet, figures: Figures, seen: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Every key's known values: the declared keys' values in the registry (`seen`); the batch
    packs in force on the quarter's last day; the measures those packs declare and those the
    registry's households hold (a measure's cell of the computed figures)."""
    packs = policy_set.all_in_force(figures.quarter.last)
    known = {k: set(v) for k, v in seen.items()}
    known["batch"] = {p.id for p in packs if p.kind == "batch"}
    known["measure"] = {m for p in packs for m in p.pack.measures}
    for table in figures.tables.values():
        if "measure" in table.keys:
            at = table.keys.index("measure")
            known["measure"].update(keys[at] for keys in table.cells)
    return known


def check_keys(
    report: Report, indicators: Mapping[str, Indicator], known: Mapping[str, set[str]]
) -> list[Diagnostic]:
    """A located problem for every group-key value of the report that the registry (or the
    policy set, for batches and measures) does not have — an unknown county is never a zero."""
    problems: list[Diagnostic] = []
    for figure in report.figures.values():
        by = indicators[figure.indicator].by
        for key, value, where in zip(by, figure.keys, figure.key_locations, strict=True):
            values = known.get(key)
            if values is not None and value not in values:
                near = tuple(difflib.get_close_matches(value, sorted(values), n=3))
                problems.append(
                    Diagnostic("reconcile/unknown-key", where, {"key": key, "value": value}, suggestions=near)
                )
    return problems


# --- comparing -------------------------------------------------------------------------------------


def reconcile(
    figures: Figures,
    report: Report,
    *,
    tolerance: Decimal | None = None,
) -> list[Difference]:
    """Every difference between `report` and the computed `figures` for the indicators the
    report names, in the indicators' and keys' order: beyond the indicator's tolerance (or
    `tolerance`, for all) for an aggregate report; any household missing or extra for a
    household-level one."""
    out: list[Difference] = []
    for ident in report.indicators:
        table = figures.tables.get(ident)
        if table is None:
            continue
        allowed = tolerance if tolerance is not None else table.indicator.tolerance
        reported = {keys: f for (i, keys), f in report.figures.items() if i == ident}
        for keys in sorted(set(reported) | set(table.cells)):
            given, cell = reported.get(keys), table.cells.get(keys)
            named = tuple(zip(table.keys, keys, strict=True))
            computed = cell.value if cell is not None else None
            behind = cell.households if cell is not None else ()
            value = given.value if given is not None else None
            exact = Decimal(value or 0) - Decimal(computed or 0)
            gap: Number = int(exact) if exact == exact.to_integral_value() else exact
            where = given.location if given is not None else None
            if report.layout == "household":
                listed = set(given.households or ()) if given is not None else set()
                missing = tuple(sorted(set(behind) - listed))
                extra = tuple(sorted(listed - set(behind)))
                if missing or extra:
                    out.append(
                        Difference(
                            ident, named, value, computed, gap, Decimal(0), behind, missing, extra, where
                        )
                    )
            elif abs(exact) > allowed or (given is None and computed) or (cell is None and value):
                out.append(Difference(ident, named, value, computed, gap, allowed, behind, location=where))
    return out
