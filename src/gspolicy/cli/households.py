"""``gspolicy households``: validate household record files against the household schema and
summarise them."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import click

from gspolicy._i18n import Lang, Text
from gspolicy._resources import bundled_schema_path
from gspolicy.cli._support import EXIT_OK, EXIT_PROBLEMS, PATH, argument, command, option, print_problems
from gspolicy.pack.workspace import choose
from gspolicy.schema import roles
from gspolicy.schema.load import read_schema
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.paths import value_at
from gspolicy.schema.records import load_records_from

__all__ = ["households"]


@command(
    "households",
    help=Text(
        zh="按农户数据结构校验农户记录文件，并按贫困户状态和主要致贫原因汇总。",
        en="Validate household record files against the household schema and summarise them by "
        "status and main cause of poverty.",
    ),
)
@argument(
    "files",
    nargs=-1,
    required=True,
    type=PATH,
    metavar="FILE...",
    help=Text(zh="农户记录文件（JSON、JSONL、YAML）", en="household record files (JSON, JSONL, YAML)"),
)
@option(
    "--schema",
    type=PATH,
    default=None,
    help=Text(zh="数据结构文件（默认：所用政策集的数据结构）", en="schema file (default: the policy set's)"),
)
@option(
    "--format",
    type=click.Choice(["text", "json"]),
    default="text",
    help=Text(zh="输出格式：text（默认）或 json", en="output: text (default) or json"),
)
def households(args: argparse.Namespace, lang: Lang) -> int:
    """Validate and summarise record files."""
    return _cmd_households(args, lang)


def _load_schema(path: Path | None, lang: Lang) -> Schema | None:
    if path is None:
        root = choose(None).roots[0]
        path = root / "schema" / "household.yaml" if root.is_dir() else bundled_schema_path()
        sys.stderr.write((f"数据结构：{path}" if lang == "zh" else f"schema: {path}") + "\n")
    schema, problems = read_schema(path)
    if schema is None or any(d.is_error for d in problems):
        print_problems(problems, lang, sys.stderr)
        return None
    return schema


def _summary(records: Sequence[Record], schema: Schema) -> dict[str, object]:
    """Counts of the records by the fields of the roles `registration_status`, `main_cause` and
    `county_code`, and the members of the `members` list."""
    paths = [
        tuple((schema.role(r) or "").split("."))
        for r in (roles.REGISTRATION_STATUS, roles.MAIN_CAUSE, roles.COUNTY_CODE, roles.MEMBERS)
    ]
    status, cause, county, people = paths
    statuses: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    counties: Counter[str] = Counter()
    members = 0
    for record in records:
        statuses[_shown(value_at(record, status))] += 1
        causes[_shown(value_at(record, cause))] += 1
        counties[_shown(value_at(record, county))] += 1
        listed = value_at(record, people)
        if isinstance(listed, tuple):
            members += len(listed)
    return {
        "households": len(records),
        "members": members,
        "by_status": dict(sorted(statuses.items())),
        "by_main_cause": dict(sorted(causes.items())),
        "by_county": dict(sorted(counties.items())),
        "schema": f"{schema.id}@{schema.version}",
    }


def _shown(value: object) -> str:
    return "(missing)" if value is None else str(value)


def _enum_of(schema: Schema, role: str) -> str:
    """The enum of the field that plays `role` ("" when none does)."""
    path = schema.role(role)
    field = schema.field_at(schema.root_record, path.split(".")) if path else None
    return field.enum or "" if field is not None else ""


def _label(schema: Schema, enum_name: str, code: str, lang: Lang) -> str:
    enum = schema.enums.get(enum_name)
    if enum is None or code not in enum.codes:
        return code
    return enum.value(code).title.get(lang)


def _cmd_households(args: argparse.Namespace, lang: Lang) -> int:
    schema = _load_schema(args.schema, lang)
    if schema is None:
        return EXIT_PROBLEMS
    records, problems = load_records_from(args.files, schema)
    print_problems(problems, lang, sys.stderr)
    if any(d.is_error for d in problems):
        return EXIT_PROBLEMS
    summary = _summary(records, schema)
    if args.format == "json":
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    zh = lang == "zh"
    lines = [
        (f"已校验 {summary['households']} 户、{summary['members']} 人（数据结构 {summary['schema']}）")
        if zh
        else f"validated {summary['households']} households, {summary['members']} members "
        f"(schema {summary['schema']})",
        "按贫困户状态：" if zh else "by status:",
    ]
    status_enum, cause_enum = _enum_of(schema, roles.REGISTRATION_STATUS), _enum_of(schema, roles.MAIN_CAUSE)
    by_status = summary["by_status"]
    assert isinstance(by_status, dict)
    for code, count in by_status.items():
        lines.append(f"  {_label(schema, status_enum, code, lang)}: {count}")
    lines.append("按主要致贫原因：" if zh else "by main cause of poverty:")
    by_cause = summary["by_main_cause"]
    assert isinstance(by_cause, dict)
    for code, count in by_cause.items():
        lines.append(f"  {_label(schema, cause_enum, code, lang)}: {count}")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK
