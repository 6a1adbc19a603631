"""The shipped JSON Schemas, generated from the code that reads and writes what they describe.

Each schema is built from the declarations its reader or writer uses, so the two cannot disagree:

- ``pack``: a pack file, from the pack shape (`gspolicy.pack.format`);
- ``case``: a file of pack test cases (``policies/**/tests/*.yaml``), from the keys the case reader
  takes (`gspolicy.testing.cases`);
- ``household``: a household record as JSON, from the household schema
  (``policies/schema/household.yaml``; `record_schema` builds it for any schema and record type,
  e.g. a workspace's own schema, or its villages);
- ``outcome``: one row of an outcome table (`Outcome.to_row()`, a `decide_table` frame, a line of
  ``gspolicy evaluate --output FILE.jsonl``), from the table's columns (`gspolicy.tables`);
- ``manifest``: the run manifest written beside an outcome table (``FILE.manifest.json``);
- ``stats``: a quarter's figures as JSON (``gspolicy stats --format json``), from the writer's
  form (`gspolicy.stats.write`).

``python -m gspolicy.schemas.build`` rewrites the files in this folder; a test fails when a file
differs from what its generator gives.  Dates are strings with ``"format": "date"`` (an editor's
YAML reader keeps ``2018-12-31`` as text; so does a JSON file).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gspolicy._i18n import Text
from gspolicy._patterns import DATE_PATTERN, NAME_PATTERN
from gspolicy._resources import bundled_schema_path
from gspolicy.errors import PolicyError
from gspolicy.pack.format import TEXT, VERSION, json_schema
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import EnumSpec, FieldSpec, RecordSpec, Schema

__all__ = [
    "GENERATED",
    "case_schema",
    "generated_texts",
    "manifest_schema",
    "outcome_schema",
    "pack_schema",
    "record_schema",
    "render",
    "stats_schema",
    "write_generated",
]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_FOLDER = Path(__file__).resolve().parent

GENERATED = ("case", "household", "manifest", "outcome", "pack", "stats")
"""The schemas this module generates (the decision schema is written by hand, beside them)."""

_DATE: dict[str, Any] = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_VERDICT_LIST = ["pass", "fail", "undetermined", "not_applicable"]
_TRUE_WORDS = ("是", "true", "yes", "y")
_FALSE_WORDS = ("否", "false", "no", "n")


def render(schema: Mapping[str, Any]) -> str:
    """A schema as the shipped file's text: indented JSON, Chinese kept as is, a final newline."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def pack_schema() -> dict[str, Any]:
    """The JSON Schema of a pack file (`gspolicy.pack.format.json_schema`)."""
    return json_schema()


# ---- household records -------------------------------------------------------------------------


def _both(text: Text) -> str:
    return text.zh if text.zh == text.en else f"{text.zh} / {text.en}"


def _enum_def(enum: EnumSpec) -> dict[str, Any]:
    codes = list(enum.codes)
    others = [
        spelling
        for v in enum.values
        for spelling in (v.title.zh, v.title.en, *v.aliases)
        if spelling not in codes
    ]
    listed = "; ".join(f"`{v.code}` {_both(v.title)}" for v in enum.values)
    schema: dict[str, Any] = {"title": _both(enum.title), "description": f"one of: {listed}"}
    code_branch = {"enum": codes, "description": "the code"}
    if not others:
        return {**schema, **code_branch}
    other_branch = {
        "enum": list(dict.fromkeys(others)),
        "description": "a Chinese or English label, or another spelling registry exports use; read as its code",
    }
    return {**schema, "anyOf": [code_branch, other_branch]}


_KIND_DEFS: dict[str, dict[str, Any]] = {
    "bool": {
        "description": f"`true` or `false` (also the words {', '.join(_TRUE_WORDS + _FALSE_WORDS)})",
        "anyOf": [{"type": "boolean"}, {"enum": [*_TRUE_WORDS, *_FALSE_WORDS]}],
    },
    "integer": {
        "description": "a whole number (also written as text, as registry exports do)",
        "anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^-?\d+(\.0+)?$"}],
    },
    "number": {
        "description": "a number (also written as text, as registry exports do)",
        "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}],
    },
    "date": {**_DATE, "description": "a date, YYYY-MM-DD"},
}


def _field(field: FieldSpec) -> dict[str, Any]:
    kind = field.kind
    value: dict[str, Any]
    if kind == "bool":
        value = {"$ref": "#/$defs/bool"}
    elif kind in ("int", "money", "ratio", "decimal"):
        value = {"$ref": "#/$defs/integer" if kind == "int" else "#/$defs/number"}
        if field.min is not None:
            value["minimum"] = _json_number(field.min)
        if field.max is not None:
            value["maximum"] = _json_number(field.max)
    elif kind == "date":
        value = {"$ref": "#/$defs/date"}
    elif kind == "string":
        value = {"type": "string"}
        if field.pattern:
            value["pattern"] = f"^(?:{field.pattern})$"
    elif kind == "enum":
        value = {"$ref": f"#/$defs/enum.{field.enum}"}
    elif kind == "set":
        value = {"type": "array", "items": {"$ref": f"#/$defs/enum.{field.enum}"}}
    elif kind == "record":
        value = {"$ref": f"#/$defs/record.{field.record}"}
    else:
        value = {"type": "array", "items": {"$ref": f"#/$defs/record.{field.record}"}}
    described: dict[str, Any] = {"title": _both(field.title)}
    notes = [_both(field.description)] if field.description else []
    if field.unit:
        notes.append(f"unit: {field.unit}")
    if field.role is not None:
        notes.append(f"role: {field.role}")
    if field.changeable is not None:
        notes.append(f"changeable by: {field.changeable}")
    if kind == "date" and (field.min is not None or field.max is not None):
        low = field.min.isoformat() if isinstance(field.min, dt.date) else "…"
        high = field.max.isoformat() if isinstance(field.max, dt.date) else "…"
        notes.append(f"from {low}" if high == "…" else f"from {low} to {high}")
    if notes:
        described["description"] = " — ".join(notes)
    if field.required:
        return {**described, **value}
    return {**described, "anyOf": [value, {"type": "null", "description": "missing (an unknown value)"}]}


def _json_number(value: object) -> int | float:
    number = float(str(value))
    return int(number) if number.is_integer() else number


def _record_def(spec: RecordSpec) -> dict[str, Any]:
    # gathered lists are filled by the evaluator, never read from a file
    fields = {n: f for n, f in spec.fields.items() if f.gather is None}
    out: dict[str, Any] = {
        "type": "object",
        "title": _both(spec.title),
        "properties": {name: _field(f) for name, f in fields.items()},
        "additionalProperties": False,
    }
    required = [n for n, f in fields.items() if f.required]
    if required:
        out["required"] = required
    companions = {n: list(f.requires) for n, f in fields.items() if f.requires}
    if companions:
        out["dependentRequired"] = companions
    return out


def _reachable(schema: Schema, record: str) -> tuple[list[str], list[str]]:
    """The record types and enums records of type `record` may hold, in schema order."""
    records: list[str] = []
    enums: list[str] = []
    todo = [record]
    while todo:
        name = todo.pop(0)
        if name in records:
            continue
        records.append(name)
        for f in schema.records[name].fields.values():
            if f.gather is not None:
                continue
            if f.record is not None and f.record not in records:
                todo.append(f.record)
            if f.enum is not None and f.enum not in enums:
                enums.append(f.enum)
    order = list(schema.records)
    return sorted(records, key=order.index), [e for e in schema.enums if e in enums]


def record_schema(schema: Schema, record: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one record of `schema` (default: its root, the household) as JSON.

    It accepts what the record reader accepts in the spellings a JSON Schema can state: enum codes,
    labels and aliases as written (the reader also folds case and trims spaces), numbers as numbers
    or as text, ``null`` for a missing value.  The reader checks more than a schema can: dates
    within their bounds and in order, an age's implied birth date, unique member ids, amounts of
    money to the cent, and clean text."""
    name = record or schema.root
    if name not in schema.records:
        raise KeyError(name)
    records, enums = _reachable(schema, name)
    used = {f.kind for r in records for f in schema.records[r].fields.values() if f.gather is None}
    kinds = {
        "bool": "bool" in used,
        "integer": "int" in used,
        "number": bool(used & {"money", "ratio", "decimal"}),
        "date": "date" in used,
    }
    spec = schema.records[name]
    defs: dict[str, Any] = {k: v for k, v in _KIND_DEFS.items() if kinds[k]}
    defs.update({f"enum.{e}": _enum_def(schema.enums[e]) for e in enums})
    defs.update({f"record.{r}": _record_def(schema.records[r]) for r in records})
    return {
        "$schema": _DRAFT,
        "$id": f"gspolicy-{schema.id}-{schema.version}{'' if name == schema.root else '-' + name}.schema.json",
        "title": f"gspolicy record: {_both(spec.title)}",
        "description": (
            f"one `{name}` record of the schema `{schema.id}` version {schema.version}, as a JSON object "
            "(a line of a .jsonl file); generated from the schema by `gspolicy.schemas.build.record_schema`. "
            "The record reader checks more than this schema can: dates within their bounds and in "
            "order, an age's implied birth date, unique ids in a list, money to the cent, clean text; "
            "it also reads enum labels in any case and trims spaces"
        ),
        "$ref": f"#/$defs/record.{name}",
        "$defs": defs,
    }


def _bundled_schema() -> Schema:
    schema, problems = read_schema(bundled_schema_path())
    if schema is None:
        raise PolicyError(problems)
    return schema


# ---- outcome rows and their manifest -----------------------------------------------------------

_BUFFER = ["active", "inactive", "undetermined"]

_COLUMN_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "description": "the household id"},
    "county": {
        "type": ["string", "null"],
        "description": "the household's `county_code` (null when it has none; written tables only)",
    },
    "as_of": {**_DATE, "description": "the date decided on"},
    "verdict": {
        "enum": [*_VERDICT_LIST, None],
        "description": "the household exit pack's verdict (null when no exit pack is in force)",
    },
    "failing": {**_STRINGS, "description": "the exit pack's failing criteria"},
    "undetermined": {**_STRINGS, "description": "the exit pack's undetermined criteria"},
    "missing": {
        **_STRINGS,
        "description": "what would settle what is undetermined: data paths and `param:` names, sorted",
    },
    "rules": {**_STRINGS, "description": "the rules that hold, as `pack:rule`"},
    "rules_undetermined": {**_STRINGS, "description": "the undetermined rules, as `pack:rule`"},
    "support": {
        **_STRINGS,
        "description": "the support the household gets now: `measure=amount (rule or buffer basis)`, "
        "`?` for an amount that cannot be known",
    },
    "findings": {**_STRINGS, "description": "the invariants violated and the exclusive groups broken"},
    "buffer": {
        "enum": [*_BUFFER, None],
        "description": "the buffer's status (null: no buffer pack in force)",
    },
    "buffer_until": {
        "anyOf": [_DATE, {"type": "null"}],
        "description": "the last day the buffer keeps support (null when none or not known)",
    },
    "packs": {
        "type": "object",
        "description": "each pack in force, `id@version`, with its verdict (null in a table of "
        "several dates for a pack not in force on a row's date)",
        "propertyNames": {"pattern": NAME_PATTERN.removesuffix("$") + r"@\S+$"},
        "additionalProperties": {"enum": [*_VERDICT_LIST, None]},
    },
}


def outcome_schema() -> dict[str, Any]:
    """The JSON Schema of one outcome row (`Outcome.to_row()`, a line of ``--output FILE.jsonl``).

    Its properties are the table's columns (`gspolicy.tables.TABLE_COLUMNS`); a column without a
    declared shape here is an error, so a new column cannot ship undescribed."""
    from gspolicy.tables import TABLE_COLUMNS, TABLE_FORMAT  # noqa: PLC0415  # Polars, when built

    undeclared = [c for c in TABLE_COLUMNS if c not in _COLUMN_SCHEMAS]
    unused = [c for c in _COLUMN_SCHEMAS if c not in TABLE_COLUMNS]
    if undeclared or unused:
        raise ValueError(f"outcome columns without a shape: {undeclared}; shapes without a column: {unused}")
    return {
        "$schema": _DRAFT,
        "$id": f"gspolicy-outcome-row-format-{TABLE_FORMAT}.schema.json",
        "title": "gspolicy outcome row",
        "description": (
            "one household's outcome as one row: `Outcome.to_row()`, a row of `decide_table`, a line "
            "of `gspolicy evaluate --output FILE.jsonl` (whose manifest gives the format, "
            f"`format: {TABLE_FORMAT}`). A written table holds the columns `--fields` chose "
            f"(default all: {', '.join(TABLE_COLUMNS)}); `to_row()` gives all but `county`"
        ),
        "type": "object",
        "properties": {c: _COLUMN_SCHEMAS[c] for c in TABLE_COLUMNS},
        "additionalProperties": False,
    }


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of a run manifest (``FILE.manifest.json`` beside an outcome table)."""
    from gspolicy.tables import TABLE_COLUMNS, TABLE_FORMAT  # noqa: PLC0415  # Polars, when built

    sha = {"type": "string", "pattern": r"^sha256:[0-9a-f]{64}$"}
    return {
        "$schema": _DRAFT,
        "$id": f"gspolicy-manifest-format-{TABLE_FORMAT}.schema.json",
        "title": "gspolicy run manifest",
        "description": (
            "what an auditor needs to quote and replay a run of `gspolicy evaluate --output FILE`: "
            "written beside the table as `FILE.manifest.json` (and, for Parquet, in the file's "
            "metadata under `gspolicy.manifest`, without `output`). New keys may be added in a "
            "minor version; a reader ignores keys it does not know"
        ),
        "type": "object",
        "required": ["format", "gspolicy", "as_of", "inputs", "packs", "records", "verdicts", "columns"],
        "properties": {
            "format": {
                "const": TABLE_FORMAT,
                "description": "the version of the outcome table's form: this manifest and its rows "
                "(outcome.schema.json)",
            },
            "gspolicy": {"type": "string", "description": "the gspolicy version that wrote it"},
            "command": {"type": "string", "description": "the command that wrote it"},
            "as_of": {**_DATE, "description": "the date decided on"},
            "runner": {"type": "string", "description": "which evaluator decided the households"},
            "decided_record_by_record": {
                "type": "array",
                "description": "packs the columnar runner left to the per-record evaluator, and why",
                "items": {
                    "type": "object",
                    "required": ["pack", "reason"],
                    "properties": {"pack": {"type": "string"}, "reason": {"type": "string"}},
                },
            },
            "inputs": {
                "type": "array",
                "description": "the input files",
                "items": {
                    "type": "object",
                    "required": ["file", "sha256"],
                    "properties": {
                        "file": {"type": "string"},
                        "bytes": {"type": "integer", "minimum": 0},
                        "sha256": sha,
                    },
                },
            },
            "packs": {
                "type": "array",
                "description": "the pack versions in force, with their content hashes",
                "items": {
                    "type": "object",
                    "required": ["pack", "content_hash"],
                    "properties": {"pack": {"type": "string"}, "content_hash": sha},
                },
            },
            "records": {"type": "integer", "minimum": 0, "description": "the rows written"},
            "verdicts": {
                "type": "object",
                "description": "the count of rows per exit verdict (`None` for rows without one)",
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "columns": {
                "type": "array",
                "description": "the columns written, in order",
                "items": {"enum": list(TABLE_COLUMNS)},
            },
            "refused": {
                "type": "object",
                "description": "the records left out (`--skip-invalid`), written beside the table",
                "required": ["records", "file", "sha256"],
                "properties": {
                    "records": {"type": "integer", "minimum": 0},
                    "file": {"type": "string"},
                    "sha256": sha,
                },
            },
            "output": {
                "type": "object",
                "description": "the table written",
                "required": ["file", "format", "sha256"],
                "properties": {
                    "file": {"type": "string"},
                    "format": {"enum": ["parquet", "csv", "jsonl", "xlsx"]},
                    "sha256": sha,
                },
            },
        },
    }


# ---- a quarter's figures -----------------------------------------------------------------------


def stats_schema() -> dict[str, Any]:
    """The JSON Schema of a quarter's figures as JSON (``gspolicy stats --format json``), declared
    beside its writer (`gspolicy.stats.write.json_schema`)."""
    from gspolicy.stats.write import json_schema  # noqa: PLC0415  # the engine, when built

    return json_schema()


# ---- test-case files ---------------------------------------------------------------------------


def case_schema() -> dict[str, Any]:
    """The JSON Schema of a file of pack test cases (``policies/**/tests/*.yaml``;
    docs/how-to/write-and-run-cases.md).  Its `expect` keys are the case reader's."""
    text_or_pair = {"anyOf": [{"type": "string"}, TEXT.to_json()], "description": "a remark"}
    name = {"type": "string", "pattern": NAME_PATTERN}
    record = {
        "type": "object",
        "description": "what the case changes in `defaults`: mappings merge key by key, `~` removes a "
        "field, members merge by `id` (`{id: m2, remove: true}` removes one), other lists replace",
    }
    expect: dict[str, Any] = {
        "verdict": {"enum": _VERDICT_LIST, "description": "the pack's verdict"},
        "applicability": {
            "enum": ["assessed", "not_applicable", "undetermined"],
            "description": "whether the subject is assessed",
        },
        "version": {**VERSION.to_json(), "description": "the pack version in force"},
        "criteria": {
            "type": "object",
            "description": "criterion id → verdict (only the criteria named are checked)",
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": {"enum": ["pass", "fail", "undetermined"]},
        },
        "failing": {**_STRINGS, "description": "exactly the criteria that fail"},
        "missing": {
            **_STRINGS,
            "description": "exactly what would settle the undetermined parts of this pack",
        },
        "rules": {
            "type": "object",
            "description": "rule id → whether it holds: `yes`, `no` or `undetermined`",
            "additionalProperties": {"enum": ["yes", "no", "undetermined", True, False]},
        },
        "measures": {**_STRINGS, "description": "exactly the measures this pack grants for sure"},
        "buffer": {"enum": _BUFFER, "description": "the buffer after exit"},
        "basis": {"anyOf": [name, {"type": "null"}], "description": "the buffer basis in force (`~`: none)"},
        "until": {**_DATE, "description": "the day the basis ends"},
        "retained": {
            "type": "array",
            "description": "exactly the retained measures and the amounts kept",
            "items": {
                "type": "object",
                "required": ["measure"],
                "additionalProperties": False,
                "properties": {
                    "measure": {"type": "string"},
                    "amount": {
                        "type": ["number", "string", "null"],
                        "description": "the amount kept (omit it when it cannot be known; a loan: "
                        '"loan, drawn 50000")',
                    },
                },
            },
        },
        "findings": {**_STRINGS, "description": "exactly the invariants violated (or groups broken)"},
    }
    from gspolicy.pack.format import CASE_EXPECT_KEYS  # noqa: PLC0415
    from gspolicy.testing.cases import CASE_VERDICTS  # noqa: PLC0415  # the engine, when a case schema is built

    if list(CASE_VERDICTS) != _VERDICT_LIST:
        raise ValueError(f"case verdicts differ from the reader's: {CASE_VERDICTS}")
    if set(expect) != set(CASE_EXPECT_KEYS):
        raise ValueError(
            f"case expectations differ from the reader's: {sorted(set(expect) ^ set(CASE_EXPECT_KEYS))}"
        )
    case = {
        "type": "object",
        "description": "one case: a record whose outcome is known, and what the pack must decide",
        "required": ["name", "as_of", "expect"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "a sentence saying what it shows"},
            "as_of": {**_DATE, "description": "the date decided on"},
            "household": record,
            "subject": {**record, "description": "the same as `household`, for a village or county pack"},
            "expect": {
                "type": "object",
                "description": "what the pack must decide",
                "additionalProperties": False,
                "properties": {k: expect[k] for k in CASE_EXPECT_KEYS},
            },
            "note": text_or_pair,
        },
        "not": {"required": ["household", "subject"]},
    }
    return {
        "$schema": _DRAFT,
        "$id": "gspolicy-pack-cases.schema.json",
        "title": "gspolicy pack test cases",
        "description": "a file of test cases beside a pack (`<pack>/tests/*.yaml`), run by `gspolicy test`",
        "type": "object",
        "required": ["pack", "cases"],
        "additionalProperties": False,
        "properties": {
            "pack": {**name, "description": "the id of the pack the cases are about"},
            "defaults": {
                "type": "object",
                "description": "the record every case starts from (a household, a village or a county, "
                "as the pack decides on)",
            },
            "cases": {"type": "array", "items": case, "description": "the cases"},
            "note": text_or_pair,
        },
    }


# ---- the files ---------------------------------------------------------------------------------


def generated_texts() -> dict[str, str]:
    """Name → the text of each generated schema file (``<name>.schema.json``)."""
    return {
        "case": render(case_schema()),
        "household": render(record_schema(_bundled_schema())),
        "manifest": render(manifest_schema()),
        "outcome": render(outcome_schema()),
        "pack": render(pack_schema()),
        "stats": render(stats_schema()),
    }


def write_generated(folder: Path = _FOLDER) -> list[Path]:
    """Write every generated schema into `folder` (default: the shipped one); returns the files."""
    written = []
    for name, text in generated_texts().items():
        path = folder / f"{name}.schema.json"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for path in write_generated(Path(sys.argv[1]) if len(sys.argv) > 1 else _FOLDER):
        print(f"wrote {path}")
