"""The ``gspolicy ledger`` commands: plan, update, card, overdue, counts.

Plan households from a log entry or an outcome table, record progress, print a household's card,
list overdue items, count (see docs/how-to/keep-the-ledger.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import Any

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._store import DB, ENTRY, FORMAT, guarded, out
from gspolicy.cli._support import (
    DATE,
    EXIT_OK,
    EXIT_PROBLEMS,
    PATH,
    Parsed,
    WholeNumber,
    argument,
    command,
    group,
    option,
    write_table,
)
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.render import measure_words
from gspolicy.explain.wording import amount_words, vocabulary_for
from gspolicy.pack.workspace import load_chosen
from gspolicy.schema.roles import MAIN_CAUSE
from gspolicy.store.card import render_card
from gspolicy.store.ledger import Ledger
from gspolicy.store.ledger_rows import STATUS_TEXT, OverdueRow
from gspolicy.store.log import DecisionLog
from gspolicy.store.outcome_table import read_outcome_table

__all__ = ["ledger"]


def _deadline(value: str) -> tuple[str, dt.date] | Text:
    measure, sep, day = value.partition("=")
    wrong = Text(zh=f"`{value}` 不是 措施=YYYY-MM-DD", en=f"`{value}` is not MEASURE=YYYY-MM-DD")
    if not sep or not measure.strip():
        return wrong
    try:
        return measure.strip(), dt.date.fromisoformat(day.strip())
    except ValueError:
        return wrong


_DAYS = WholeNumber(1, 36_600)  # a hundred years

ledger = group(
    "ledger",
    help=Text(
        zh="一户一策：依据已记录的判定为每户制定措施计划，记录进度，打印明白卡，列出逾期事项，统计。",
        en="One household, one policy: plan each household's measures from a logged "
        "decision, record progress, print the household's card, list overdue items, count.",
    ),
)


@command(
    "plan",
    help=Text(
        zh="依据判定日志条目（ENTRY）为一户制定计划，或依据 `gspolicy evaluate … --output` 写出的结果表"
        "（--from OUT.parquet|.jsonl|.csv，旁附运行清单；须由所用政策集中的政策包判定）为表中每户制定计划。",
        en="Plan one household from a decision-log entry (ENTRY), or every household of an "
        "outcome table written by `gspolicy evaluate … --output` (--from OUT.parquet|.jsonl|.csv, its "
        "run manifest beside it; decided with packs the policy set in use holds).",
    ),
    short=Text(
        zh="依据日志条目为一户、或依据结果表为每户制定计划",
        en="make a household's plan from a log entry, or every household's from an outcome table",
    ),
)
@argument(
    "entry",
    type=ENTRY,
    required=False,
    default=None,
    metavar="[ENTRY]",
    help=Text(zh="判定日志条目编号（或用 --from）", en="the decision-log entry (or --from)"),
)
@DB
@option(
    "--from",
    "table",
    type=PATH,
    default=None,
    metavar="OUTCOMES",
    help=Text(zh="结果表（或给出 ENTRY）", en="an outcome table (or ENTRY)"),
)
@option(
    "--policies",
    type=PATH,
    multiple=True,
    metavar="PATH",
    help=Text(
        zh="与 --from 同用：判定该表的政策集（默认：按各命令的方式选定）",
        en="with --from: the policy set that decided the table (default: as every command chooses it)",
    ),
)
@option("--actor", required=True, help=Text(zh="制定计划的人", en="who makes the plan"))
@option(
    "--deadline",
    type=Parsed("MEASURE=DATE", _deadline),
    multiple=True,
    empty=[],
    metavar="MEASURE=DATE",
    help=Text(zh="某项措施的时限（可重复）", en="the deadline of one measure (repeatable)"),
)
@option(
    "--period",
    type=_DAYS,
    default=None,
    metavar="DAYS",
    help=Text(
        zh="其他措施的时限：判定日期加 DAYS 天（默认：无）",
        en="deadline of the other measures: the decision date plus DAYS (default: none)",
    ),
)
def plan(args: argparse.Namespace, lang: Lang) -> int:
    """Plan households."""
    if (args.entry is None) == (args.table is None):
        raise click.UsageError(
            Text(
                zh="请给出 ENTRY 或 --from OUTCOMES 二者之一",
                en="give one of ENTRY and --from OUTCOMES",
            ).get(lang),
            click.get_current_context(),
        )
    return guarded(_cmd_plan)(args, lang)


@command("update", help=Text(zh="记录一项措施的进度。", en="Record progress on one measure."))
@argument("household", metavar="HOUSEHOLD", help=Text(zh="农户编号", en="the household id"))
@argument("measure", metavar="MEASURE", help=Text(zh="措施编号", en="the measure id"))
@DB
@option(
    "--status",
    required=True,
    help=Text(zh="in_progress（进行中）或 done（已完成）", en="in_progress or done"),
)
@option("--on", type=DATE, required=True, help=Text(zh="发生的日期", en="the day it happened"))
@option("--by", required=True, help=Text(zh="责任人", en="who is responsible"))
@option(
    "--evidence",
    default=None,
    help=Text(zh="证明材料（done 时必需）", en="what shows it (required for done)"),
)
def update(args: argparse.Namespace, lang: Lang) -> int:
    """Record progress."""
    return guarded(_cmd_update)(args, lang)


@command("card", help=Text(zh="农户的明白卡（HTML）。", en="The household's card (明白卡), HTML."))
@argument("household", metavar="ID", help=Text(zh="农户编号", en="the household id"))
@DB
@option(
    "--output",
    "-o",
    type=PATH,
    default=None,
    metavar="FILE",
    help=Text(zh="写入的文件（默认：标准输出）", en="the file to write (default: stdout)"),
)
@option(
    "--today",
    type=DATE,
    default=None,
    help=Text(zh="打印日期（默认：今天）", en="the print date (default: today)"),
)
@option(
    "--policies",
    type=PATH,
    multiple=True,
    metavar="PATH",
    help=Text(
        zh="依据结果表制定的计划：用其数据结构表述金额的政策集",
        en="for a plan made from an outcome table: the policy set whose schema words the amounts",
    ),
)
def card(args: argparse.Namespace, lang: Lang) -> int:
    """Print a household's card."""
    return guarded(_cmd_card)(args, lang)


@command(
    "overdue",
    help=Text(
        zh="超过时限的事项，按部门和县列出。", en="Items past their deadline, per department and county."
    ),
)
@DB
@option(
    "--today",
    type=DATE,
    default=None,
    help=Text(zh="以此日计算逾期（默认：今天）", en="the day overdue is counted on (default: today)"),
)
@FORMAT
def overdue(args: argparse.Namespace, lang: Lang) -> int:
    """List overdue items."""
    return guarded(_cmd_overdue)(args, lang)


@command(
    "counts",
    help=Text(zh="按季度、批次、措施和县统计事项。", en="Items per quarter, batch, measure and county."),
)
@DB
@option(
    "--quarter",
    default=None,
    metavar="YYYYQN",
    help=Text(zh="只统计一个季度，例如 2018Q4", en="one quarter, e.g. 2018Q4"),
)
@FORMAT
def counts(args: argparse.Namespace, lang: Lang) -> int:
    """Count items."""
    return guarded(_cmd_counts)(args, lang)


for _made in (plan, update, card, overdue, counts):
    ledger.add_command(_made)


def _cmd_plan(args: argparse.Namespace, lang: Lang) -> int:
    deadlines = dict(args.deadline)
    if args.table is not None:
        return _plan_table(args, lang, deadlines)
    with DecisionLog.open(args.db, create=False) as log:
        ledger = Ledger(log)
        kwargs: dict[str, Any] = {} if args.period is None else {"period_days": args.period}
        plan = ledger.plan(args.entry, actor=args.actor, deadlines=deadlines, **kwargs)
        schema = log.policy_set_of(log.entry(args.entry)).schema
    words = vocabulary_for(schema, schema.root, ())
    zh = lang == "zh"
    out(
        (f"已为农户 {plan.household} 制定计划（依据条目 {plan.entry}），共 {len(plan.items)} 项：\n")
        if zh
        else f"planned household {plan.household} from entry {plan.entry}: {len(plan.items)} items\n"
    )
    for item in plan.items:
        amount = amount_words(item.amount, lang, item.unit, words) if item.amount else "-"
        named = measure_words(item.measure, item.title, lang)
        out(f"  {named}  {item.department_title.get(lang)}  {amount}  {item.deadline_text(lang)}\n")
    return EXIT_OK


def _plan_table(args: argparse.Namespace, lang: Lang, deadlines: dict[str, dt.date]) -> int:
    """``ledger plan --from OUTCOMES``: every household of an outcome table, and a summary."""
    if not args.actor.strip():
        raise PolicyError([Diagnostic("ledger/missing-actor")])
    policy_set = load_chosen(args.policies, lang, sys.stderr)
    if policy_set is None:
        return EXIT_PROBLEMS
    # the table checked and every plan made before the ledger is opened: bad input writes nothing
    table = read_outcome_table(args.table, policy_set, deadlines=deadlines, period_days=args.period)
    with DecisionLog.open(args.db) as log:
        done = Ledger(log).plan_table(table, actor=args.actor)
    if lang == "zh":
        out(
            f"已依据结果表 {done.source} 制定计划\n"
            f"  读取：{done.rows} 户\n"
            f"  制定计划：{done.planned} 户，共 {done.items} 项（其中 {done.superseded} 户取代了原计划）\n"
            f"  跳过：{done.skipped} 户（已有依据同一或更新判定的计划）\n"
            f"  无帮扶措施可计划：{done.nothing} 户\n"
        )
    else:
        out(
            f"planned from the outcome table {done.source}\n"
            f"  households read: {done.rows}\n"
            f"  planned: {done.planned}, with {done.items} items ({done.superseded} replacing an earlier plan)\n"
            f"  skipped: {done.skipped} (already planned from the same or a later decision)\n"
            f"  nothing to plan: {done.nothing}\n"
        )
    return EXIT_OK


def _cmd_update(args: argparse.Namespace, lang: Lang) -> int:
    with DecisionLog.open(args.db, create=False) as log:
        item = Ledger(log).update(
            args.household, args.measure, status=args.status, on=args.on, by=args.by, evidence=args.evidence
        )
    status = STATUS_TEXT[item.status].get(lang)
    named = measure_words(item.measure, item.title, lang)
    out(
        f"农户 {item.household} 的措施 {named}：{status}（{args.on}）\n"
        if lang == "zh"
        else f"household {item.household}, measure {named}: {status} ({args.on})\n"
    )
    return EXIT_OK


def _cmd_card(args: argparse.Namespace, lang: Lang) -> int:
    with DecisionLog.open(args.db, create=False) as log:
        ledger = Ledger(log)
        plan = ledger.require_plan(args.household)
        updates = {item.id: ledger.updates(item.id) for item in plan.items}
        if plan.entry is not None:
            entry = log.entry(plan.entry)
            record = entry.record_data()
            schema = log.policy_set_of(entry).schema
        else:  # planned from an outcome table: no record is kept, the schema is the set's in use
            policy_set = load_chosen(args.policies, lang, sys.stderr)
            if policy_set is None:
                return EXIT_PROBLEMS
            record, schema = {}, policy_set.schema
        cause_path = schema.role(MAIN_CAUSE)
        cause = schema.field_at(schema.root_record, cause_path.split(".")) if cause_path else None
        enum = schema.enums.get(cause.enum or "") if cause is not None else None
        labels = {c: enum.value(c).title.zh for c in enum.codes} if enum is not None else {}
    words = vocabulary_for(schema, schema.root, ())
    page = render_card(
        plan,
        updates,
        record=record,
        schema=schema,
        today=args.today or dt.date.today(),
        labels=labels,
        words=words,
    )
    if args.output is None:
        out(page)
        return EXIT_OK
    try:
        args.output.write_text(page, encoding="utf-8")
    except OSError as err:
        reason = err.strerror or str(err)
        raise PolicyError(
            [Diagnostic("io/unreadable", None, {"path": str(args.output), "reason": reason})]
        ) from None
    return EXIT_OK


_OVERDUE_KEYS = ("department", "county", "household", "measure", "deadline", "status", "days_overdue")


def _json_value(value: str | int | None) -> str:
    """`value` as `json.dumps(value, ensure_ascii=False)` writes it (a text, a whole number, null)."""
    if value is None:
        return "null"
    return str(value) if isinstance(value, int) else encode_basestring(value)


def _json_list(objects: Iterator[tuple[str | int | None, ...]], keys: tuple[str, ...]) -> Iterator[str]:
    """The text `json.dumps(list_of_dicts, ensure_ascii=False, indent=2)` gives for flat objects
    with `keys` (texts, whole numbers, nulls), a piece at a time (an overdue list may hold millions)."""
    names = [f"    {encode_basestring(k)}: " for k in keys]
    first = True
    for values in objects:
        body = ",\n".join(n + _json_value(v) for n, v in zip(names, values, strict=True))
        yield ("[\n  {\n" if first else ",\n  {\n") + body + "\n  }"
        first = False
    yield "[]" if first else "\n]"


def _chunked(pieces: Iterator[str], size: int = 4096) -> None:
    """Write `pieces` to stdout, `size` of them at a time."""
    held: list[str] = []
    for piece in pieces:
        held.append(piece)
        if len(held) >= size:
            out("".join(held))
            held.clear()
    out("".join(held))


def _cmd_overdue(args: argparse.Namespace, lang: Lang) -> int:
    today = args.today or dt.date.today()
    with DecisionLog.open(args.db, create=False) as log:
        ledger = Ledger(log)
        rows = ledger.overdue_rows(today)
        if args.format == "json":
            shown = (
                (r.department, r.county, r.household, r.measure, r.deadline, r.status, r.days_overdue)
                for r in rows
            )
            _chunked(_json_list(shown, _OVERDUE_KEYS))
            out("\n")
        else:
            _chunked(_overdue_lines(rows, ledger.count_overdue(today), today, lang))
    return EXIT_OK


def _overdue_lines(rows: Iterator[OverdueRow], count: int, today: dt.date, lang: Lang) -> Iterator[str]:
    """The overdue list as text: a line per item under a line per department and county."""
    zh = lang == "zh"
    yield (f"截至 {today} 逾期 {count} 项\n") if zh else f"{count} overdue items as of {today}\n"
    group: tuple[str, str | None] | None = None
    status_words = {k: v.get(lang) for k, v in STATUS_TEXT.items()}
    for r in rows:
        if (r.department, r.county) != group:
            group = (r.department, r.county)
            county = r.county or "-"
            yield (
                f"{r.department_zh}（{r.department}），县 {county}：\n"
                if zh
                else f"{r.department_en} ({r.department}), county {county}:\n"
            )
        status = status_words[r.status]
        yield (
            f"  {r.household}  {r.measure}  时限 {r.deadline}  逾期 {r.days_overdue} 天  {status}\n"
            if zh
            else f"  {r.household}  {r.measure}  due {r.deadline}  {r.days_overdue} days late  {status}\n"
        )


def _cmd_counts(args: argparse.Namespace, lang: Lang) -> int:
    with DecisionLog.open(args.db, create=False) as log:
        rows = Ledger(log).counts(args.quarter)
    if args.format == "json":
        data = [
            {
                "quarter": r.quarter,
                "batch": r.batch,
                "measure": r.measure,
                "county": r.county,
                "items": r.items,
                "households": r.households,
                "done": r.done,
            }
            for r in rows
        ]
        out(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    head = (
        ("季度", "批次", "措施", "县", "项数", "户数", "已完成")
        if lang == "zh"
        else ("quarter", "batch", "measure", "county", "items", "households", "done")
    )
    write_table(
        sys.stdout,
        head,
        [(r.quarter, r.batch, r.measure, r.county, r.items, r.households, r.done) for r in rows],
    )
    sys.stdout.flush()
    return EXIT_OK
