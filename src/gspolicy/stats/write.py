"""A quarter's figures written out: an aligned table, CSV, an Excel workbook or JSON.

Each writer is a pure function of a `Figures` (and the reader's language) that returns the text
or the bytes; `write_atomic` puts bytes in a file whole (a temporary file beside it, moved into
place), so a failed run never leaves part of a file.

- **table** (`table_text`): per indicator its title, a column per group key then the value, a
  total row, and what the figures carry beside it: that the rows of a count grouped by ``batch``
  or ``measure`` do not add up to the total (a household counts in every batch or measure it
  holds), and how many households are undetermined (the data the figure needs is missing).
- **CSV** (`csv_text`), one file in long form, a line per figure, columns `CSV_COLUMNS` then every
  group key of any indicator (in the order they first appear) then ``value``: ``row`` is
  ``cell`` (a group's figure), ``total`` (the indicator's total, its keys empty) or
  ``undetermined`` (the count of undetermined households); a key an indicator does not group by
  is empty.  ``lang="zh"`` gives Chinese headers and row kinds (`HEADERS`, `ROW_KINDS`).
- **Excel** (`xlsx_bytes`): a sheet per indicator (`sheet_names`: the indicator's id made a valid,
  unique sheet name of at most 31 characters), its columns ``row``, the indicator's keys, then
  ``value`` — the same rows as the CSV.
- **JSON** (`json_data`, `json_text`), the stable form `gspolicy schema stats` describes
  (`STATS_FORMAT`): the quarter and its days, the packs, and each indicator with its keys, rows,
  total and undetermined count; the ids of the households behind each figure only with
  ``ids=True``.
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from gspolicy._i18n import Lang, Text
from gspolicy._location import display_width
from gspolicy._numbers import decimal_json
from gspolicy._patterns import DATE_PATTERN, NAME_PATTERN
from gspolicy.stats.figures import Cell, Figures, Number, Table

__all__ = [
    "CSV_COLUMNS",
    "HEADERS",
    "ROW_KINDS",
    "STATS_FORMAT",
    "csv_text",
    "json_data",
    "json_schema",
    "json_text",
    "rows_add_up",
    "sheet_names",
    "table_text",
    "write_atomic",
    "xlsx_bytes",
]

STATS_FORMAT = 1
"""The version of the JSON form (`json_data`; ``gspolicy schema stats``), written as its ``format``:
it rises with any change of that form, a new key included (docs/reference/compatibility.md)."""

HEADERS: dict[str, Text] = {
    "quarter": Text(zh="季度", en="quarter"),
    "indicator": Text(zh="指标", en="indicator"),
    "row": Text(zh="行", en="row"),
    "value": Text(zh="数值", en="value"),
    "county": Text(zh="县", en="county"),
    "township": Text(zh="乡镇", en="township"),
    "village": Text(zh="村", en="village"),
    "batch": Text(zh="批次", en="batch"),
    "measure": Text(zh="措施", en="measure"),
    "department": Text(zh="部门", en="department"),
}
"""Column headers in each language; a group key not named here is its own header."""

ROW_KINDS: dict[str, Text] = {
    "cell": Text(zh="分组", en="cell"),
    "total": Text(zh="合计", en="total"),
    "undetermined": Text(zh="待定", en="undetermined"),
}
"""What a row of the CSV and of a sheet holds, as its ``row`` column says it in each language."""

CSV_COLUMNS = ("quarter", "indicator", "row")
"""The CSV's first columns; every group key and then ``value`` follow."""

_DOUBLE_COUNTED = {"batch", "measure"}
_SHEET_MAX = 31
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _header(name: str, lang: Lang) -> str:
    found = HEADERS.get(name)
    return found.get(lang) if found is not None else name


def _number_text(value: Number) -> str:
    return str(decimal_json(value)) if isinstance(value, Decimal) else str(value)


def _number_json(value: Number) -> int | float | str:
    return decimal_json(value) if isinstance(value, Decimal) else value


def rows_add_up(table: Table) -> bool:
    """Whether `table`'s rows add up to its total: not for a count grouped by ``batch`` or
    ``measure``, where a household counts in every batch or measure it holds (a sum's total is
    its rows added up)."""
    return table.indicator.figure != "count" or not _DOUBLE_COUNTED & set(table.keys)


def _keys(figures: Figures) -> list[str]:
    """Every group key of any indicator, in the order they first appear."""
    return list(dict.fromkeys(k for t in figures.tables.values() for k in t.keys))


# --- the aligned table ------------------------------------------------------------------------------


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def _aligned(head: list[str], rows: list[list[str]]) -> list[str]:
    """Lines of columns two spaces apart, the last (the value) aligned right."""
    widths = [max(display_width(r[i]) for r in [head, *rows]) for i in range(len(head))]
    last = len(head) - 1
    return [
        "  ".join(_pad(c, widths[i], right=i == last) for i, c in enumerate(row)).rstrip()
        for row in [head, *rows]
    ]


def _value_head(table: Table, lang: Lang) -> str:
    if table.indicator.figure == "count":
        return Text(zh="户数", en="households").get(lang)
    return Text(zh="合计值", en="sum").get(lang)


def table_text(figures: Figures, lang: Lang) -> str:
    """The figures as aligned text tables in `lang`, one per indicator."""
    quarter = figures.quarter
    packs = ", ".join(dict.fromkeys(t.pack for t in figures.tables.values()))
    lines = [
        f"{quarter} 季度统计（{quarter.first} 至 {quarter.last}；统计包 {packs}）"
        if lang == "zh"
        else f"Statistics for {quarter} ({quarter.first} – {quarter.last}; pack {packs})"
    ]
    for table in figures.tables.values():
        lines += ["", f"{table.id}  {table.indicator.title.get(lang)}"]
        width = max(len(table.keys), 1)  # an indicator without keys still has a column for `total`
        head = [_header(k, lang) for k in table.keys] or [""]
        rows = [[*(group or ("",)), _number_text(cell.value)] for group, cell in table.cells.items()]
        total = [ROW_KINDS["total"].get(lang), *[""] * (width - 1), _number_text(table.total.value)]
        lines += ["  " + line for line in _aligned([*head, _value_head(table, lang)], [*rows, total])]
        if not rows:
            lines.append(Text(zh="  （本季度无数据）", en="  (nothing this quarter)").get(lang))
        if not rows_add_up(table):
            held = "、".join(_header(k, lang) for k in table.keys if k in _DOUBLE_COUNTED)
            lines.append(
                f"  注：一户在其所属的每个{held}中都计数，故各行之和不等于合计。"
                if lang == "zh"
                else f"  Note: the rows do not add up to the total: a household counts in every "
                f"{' and '.join(k for k in table.keys if k in _DOUBLE_COUNTED)} it holds."
            )
        if table.undetermined:
            count = len(table.undetermined)
            lines.append(
                f"  待定：{count} 户（记录缺少该数字所需的数据，未计入）"
                if lang == "zh"
                else f"  Undetermined: {count} household{'s' if count != 1 else ''} "
                "(the data the figure needs is missing; not counted)"
            )
    return "\n".join(lines) + "\n"


# --- CSV and Excel ----------------------------------------------------------------------------------


def _long_rows(table: Table, keys: list[str]) -> list[tuple[str, dict[str, str], Number]]:
    """(row kind, key → value, value) for each cell, the total and the undetermined count."""
    out: list[tuple[str, dict[str, str], Number]] = [
        ("cell", dict(zip(table.keys, group, strict=True)), cell.value) for group, cell in table.cells.items()
    ]
    out.append(("total", {}, table.total.value))
    out.append(("undetermined", {}, len(table.undetermined)))
    return [(kind, {k: given.get(k, "") for k in keys}, value) for kind, given, value in out]


def csv_text(figures: Figures, lang: Lang) -> str:
    """The figures as one CSV in long form (see the module's description of its columns)."""
    keys = _keys(figures)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_header(c, lang) for c in (*CSV_COLUMNS, *keys, "value")])
    for table in figures.tables.values():
        for kind, given, value in _long_rows(table, keys):
            row = [str(figures.quarter), table.id, ROW_KINDS[kind].get(lang)]
            writer.writerow([*row, *given.values(), _number_text(value)])
    return buffer.getvalue()


def sheet_names(indicators: Iterable[str]) -> dict[str, str]:
    """Indicator id → its sheet's name: at most 31 characters, none of ``[]:*?/\\``, not starting
    or ending with ``'``, unique whatever the case (a clash gets ``~2``, ``~3``, …)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for indicator in indicators:
        base = _SHEET_BAD.sub("_", indicator).strip("'") or "sheet"
        name, number = base[:_SHEET_MAX].rstrip("'") or "sheet", 1
        while name.casefold() in taken:
            number += 1
            suffix = f"~{number}"
            name = base[: _SHEET_MAX - len(suffix)].rstrip("'") + suffix
        taken.add(name.casefold())
        out[indicator] = name
    return out


def xlsx_bytes(figures: Figures, lang: Lang) -> bytes:
    """The figures as an Excel workbook: a sheet per indicator (`sheet_names`), its columns
    ``row``, the indicator's keys, then ``value``; Chinese headers with ``lang="zh"``.  Needs the
    ``excel`` extra (xlsxwriter)."""
    xlsxwriter = importlib.import_module("xlsxwriter")
    buffer = io.BytesIO()
    names = sheet_names(figures.tables)
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        for table in figures.tables.values():
            sheet = workbook.add_worksheet(names[table.id])
            sheet.write_row(0, 0, [_header(c, lang) for c in ("row", *table.keys, "value")])
            for line, (kind, given, value) in enumerate(_long_rows(table, list(table.keys)), start=1):
                sheet.write_row(line, 0, [ROW_KINDS[kind].get(lang), *given.values()])
                # a whole number stays whole; a decimal keeps every digit as text when a float cannot
                sheet.write(line, len(table.keys) + 1, _number_json(value))
    return buffer.getvalue()


# --- JSON -------------------------------------------------------------------------------------------


def _cell_json(cell: Cell, ids: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _number_json(cell.value)}
    if ids:
        out["households"] = list(cell.households)
    return out


def _text_json(text: Text | None) -> dict[str, str] | None:
    return None if text is None else {"zh": text.zh, "en": text.en}


def json_data(figures: Figures, *, ids: bool = False) -> dict[str, Any]:
    """The figures as plain JSON data (``gspolicy schema stats``); the ids of the households
    behind each figure only when `ids`."""
    quarter = figures.quarter
    indicators = []
    for table in figures.tables.values():
        indicator = table.indicator
        undetermined: dict[str, Any] = {"count": len(table.undetermined)}
        if ids:
            undetermined["households"] = list(table.undetermined)
        indicators.append(
            {
                "id": table.id,
                "pack": table.pack,
                "title": _text_json(indicator.title),
                "figure": indicator.figure,
                "period": indicator.period,
                "keys": list(table.keys),
                "rows_add_up": rows_add_up(table),
                "rows": [
                    {"keys": dict(zip(table.keys, group, strict=True)), **_cell_json(cell, ids)}
                    for group, cell in table.cells.items()
                ],
                "total": _cell_json(table.total, ids),
                "undetermined": undetermined,
                "note": _text_json(indicator.note),
            }
        )
    return {
        "format": STATS_FORMAT,
        "quarter": str(quarter),
        "first": quarter.first.isoformat(),
        "last": quarter.last.isoformat(),
        "packs": list(dict.fromkeys(t.pack for t in figures.tables.values())),
        "indicators": indicators,
    }


def json_text(figures: Figures, *, ids: bool = False) -> str:
    """`json_data` as indented JSON text (Chinese kept as is), a final newline."""
    return json.dumps(json_data(figures, ids=ids), ensure_ascii=False, indent=2) + "\n"


# --- files ------------------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole: a temporary file in its folder, moved into place (an
    `OSError` leaves nothing behind)."""
    folder = path.parent if str(path.parent) else Path()
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


# --- its JSON Schema --------------------------------------------------------------------------------

_STRING_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_DAY: dict[str, Any] = {"type": "string", "format": "date", "pattern": DATE_PATTERN}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `json_data` (shipped as ``stats.schema.json``: ``gspolicy schema stats``)."""
    value = {
        "type": ["integer", "number", "string"],
        "description": "a count of households, or a sum: a number, or its decimal text when a "
        "binary number cannot hold it exactly",
    }
    ids = {
        **_STRING_LIST,
        "description": "the ids of the households behind the figure, sorted (`--ids` only)",
    }
    both = {
        "type": "object",
        "required": ["zh", "en"],
        "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
        "additionalProperties": False,
    }
    figure = {
        "type": "object",
        "required": ["value"],
        "properties": {"value": value, "households": ids},
        "additionalProperties": False,
    }
    indicator = {
        "type": "object",
        "required": [
            "id",
            "pack",
            "title",
            "figure",
            "period",
            "keys",
            "rows_add_up",
            "rows",
            "total",
            "undetermined",
            "note",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": NAME_PATTERN, "description": "the indicator's code"},
            "pack": {"type": "string", "description": "the statistics pack declaring it, `id@version`"},
            "title": {**both, "description": "the indicator's title"},
            "figure": {"enum": ["count", "sum"], "description": "households counted, or a value summed"},
            "period": {
                "enum": ["stock", "flow"],
                "description": "counted as of the quarter's last day, or events dated within the quarter",
            },
            "keys": {**_STRING_LIST, "description": "the group keys, in order"},
            "rows_add_up": {
                "type": "boolean",
                "description": "false for a count grouped by `batch` or `measure`: a household counts in "
                "every batch or measure it holds, so the rows add up to more than the total",
            },
            "rows": {
                "type": "array",
                "description": "one per group with a figure, sorted by its keys",
                "items": {
                    "type": "object",
                    "required": ["keys", "value"],
                    "additionalProperties": False,
                    "properties": {
                        "keys": {
                            "type": "object",
                            "description": 'each group key\'s value (`""` when the record has none)',
                            "additionalProperties": {"type": "string"},
                        },
                        "value": value,
                        "households": ids,
                    },
                },
            },
            "total": {
                **figure,
                "description": "a count: each household counted once; a sum: the rows added up",
            },
            "undetermined": {
                "type": "object",
                "description": "households whose figure could not be told (the data it needs is "
                "missing): not counted",
                "required": ["count"],
                "additionalProperties": False,
                "properties": {"count": {"type": "integer", "minimum": 0}, "households": ids},
            },
            "note": {"anyOf": [both, {"type": "null"}], "description": "the indicator's note"},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"gspolicy-stats-format-{STATS_FORMAT}.schema.json",
        "title": "gspolicy quarterly statistics",
        "description": (
            "a quarter's figures over a registry, as the statistics packs in force on its last day "
            "declare them: `gspolicy stats --format json` (`format` rises with any change of this "
            "form, a new key included)"
        ),
        "type": "object",
        "required": ["format", "quarter", "first", "last", "packs", "indicators"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": STATS_FORMAT, "description": "the version of this form"},
            "quarter": {"type": "string", "pattern": r"^[0-9]{4}Q[1-4]$", "description": "e.g. `2020Q4`"},
            "first": {
                **_DAY,
                "description": "the quarter's first day",
            },
            "last": {
                **_DAY,
                "description": "the quarter's last day (stocks are counted as of it)",
            },
            "packs": {**_STRING_LIST, "description": "the statistics packs in force, `id@version`"},
            "indicators": {"type": "array", "items": indicator, "description": "in the packs' order"},
        },
    }
