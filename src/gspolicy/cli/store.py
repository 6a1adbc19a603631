"""The ``gspolicy log`` and ``gspolicy ledger`` commands (see docs/how-to/audit-a-decision.md and
docs/how-to/keep-the-ledger.md)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import DETAIL, POLICIES
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
    print_problems,
    write_table,
)
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import exit_pack_of
from gspolicy.explain.render import measure_words, verdict_word
from gspolicy.explain.wording import amount_words, vocabulary_for
from gspolicy.pack.workspace import load_chosen
from gspolicy.schema.records import stream_records
from gspolicy.store.card import render_card
from gspolicy.store.ledger import STATUS_TEXT, Ledger, OverdueRow, read_outcome_table
from gspolicy.store.log import BATCH, DecisionLog, Entry, NotWritten, Receipt, read_anchor

__all__ = ["ledger", "log"]

Command = Callable[[argparse.Namespace, Lang], int]


def _guarded(run: Command) -> Command:
    """Report `PolicyError`s as diagnostics and exit 1 (never a traceback for bad input)."""

    def wrapper(args: argparse.Namespace, lang: Lang) -> int:
        try:
            return run(args, lang)
        except PolicyError as err:
            print_problems(err.diagnostics, lang, sys.stderr)
            return EXIT_PROBLEMS

    return wrapper


def _deadline(value: str) -> tuple[str, dt.date] | Text:
    measure, sep, day = value.partition("=")
    wrong = Text(zh=f"`{value}` 不是 措施=YYYY-MM-DD", en=f"`{value}` is not MEASURE=YYYY-MM-DD")
    if not sep or not measure.strip():
        return wrong
    try:
        return measure.strip(), dt.date.fromisoformat(day.strip())
    except ValueError:
        return wrong


_ENTRY = WholeNumber(1, 2**63 - 1)  # SQLite's largest row id
_DAYS = WholeNumber(1, 36_600)  # a hundred years
_BATCH = WholeNumber(1, 1_000_000)

DB = option(
    "--db",
    type=PATH,
    required=True,
    metavar="PATH",
    help=Text(zh="判定日志（SQLite 文件）", en="the decision log (SQLite file)"),
)
_FORMAT = option(
    "--format",
    type=click.Choice(["text", "json"]),
    default="text",
    help=Text(zh="输出格式：text（默认）或 json", en="output: text (default) or json"),
)
_ENTRY_ID = argument(
    "entry", type=_ENTRY, metavar="ID", help=Text(zh="日志条目编号", en="the log entry's number")
)

log = group(
    "log",
    help=Text(
        zh="把判定记入哈希链式的 SQLite 日志，校验链条，重放条目。",
        en="Record evaluations in a hash-chained SQLite log, verify the chain, replay an entry.",
    ),
)
ledger = group(
    "ledger",
    help=Text(
        zh="一户一策：依据已记录的判定为每户制定措施计划，记录进度，打印明白卡，列出逾期事项，统计。",
        en="One household, one policy: plan each household's measures from a logged "
        "decision, record progress, print the household's card, list overdue items, count.",
    ),
)


@command(
    "record",
    help=Text(
        zh="按某一日期判定记录文件中的每一户，并把每个判定追加到日志；每个条目输出一张回执（请保存：回执锚定链条）。",
        en="Evaluate every household in the record files as of a date and append each "
        "decision to the log; print one receipt per entry (keep them: they anchor the chain).",
    ),
    short=Text(zh="判定农户并记录每个判定", en="evaluate households and record each decision"),
)
@argument(
    "files",
    nargs=-1,
    required=True,
    type=PATH,
    metavar="FILE...",
    help=Text(zh="农户记录文件或登记表", en="household record files or registry tables"),
)
@DB
@option("--as-of", type=DATE, required=True, help=Text(zh="判定日期", en="the assessment date"))
@option(
    "--actor", required=True, help=Text(zh="记录者（个人或系统）", en="who records (a person or a system)")
)
@option(
    "--household",
    default=None,
    metavar="ID",
    help=Text(zh="只记录这一户", en="record only this household"),
)
@POLICIES
@option(
    "--format",
    type=click.Choice(["text", "json"]),
    default="text",
    help=Text(
        zh="输出格式：text（默认）或 json（每行一张回执）",
        en="output: text (default) or json (one receipt a line)",
    ),
)
@option(
    "--receipts",
    type=PATH,
    default=None,
    metavar="FILE",
    help=Text(
        zh="把回执写入 FILE（JSON Lines），而不是输出",
        en="write the receipts to FILE (JSON lines) instead of printing them",
    ),
)
@option(
    "--encoding",
    default="utf-8",
    help=Text(zh="CSV 文件的编码（例如 gb18030）", en="the encoding of CSV files (e.g. gb18030)"),
)
@option(
    "--batch",
    type=_BATCH,
    default=BATCH,
    metavar="N",
    help=Text(
        zh=f"每个事务写入的条目数（默认 {BATCH:,}）；崩溃最多丢失一批，这一批没有发出回执",
        en=f"entries written per transaction (default {BATCH:,}); a crash loses at most one batch, "
        "for which no receipt was handed out",
    ),
)
def record(args: argparse.Namespace, lang: Lang) -> int:
    """Record decisions."""
    return _guarded(_cmd_record)(args, lang)


@command(
    "verify",
    help=Text(
        zh="校验链条、存储的政策包和锚点；指出第一个有问题的条目。",
        en="Check the chain, the stored packs and the anchors; name the first bad entry.",
    ),
)
@DB
@option(
    "--checkpoint",
    type=PATH,
    default=None,
    metavar="FILE",
    help=Text(zh="检查点文件（默认：<db>.head）", en="checkpoint file (default: <db>.head)"),
)
@option(
    "--receipt",
    type=PATH,
    multiple=True,
    empty=[],
    metavar="FILE",
    help=Text(
        zh="回执文件（`log record --format json` 输出的 JSON Lines）；可重复",
        en="a receipt file (JSON lines from `log record --format json`); repeatable",
    ),
)
def verify(args: argparse.Namespace, lang: Lang) -> int:
    """Verify the log."""
    return _guarded(_cmd_verify)(args, lang)


@command(
    "replay",
    help=Text(
        zh="依据存储的记录和政策包重新判定一个条目，并说明结果是否完全一致。",
        en="Evaluate an entry again from its stored record and packs; say whether it is identical.",
    ),
)
@_ENTRY_ID
@DB
@_FORMAT
@option(
    "--explain",
    is_flag=True,
    help=Text(
        zh="另输出重新得出的判定及全部理由", en="also print the decision derived again, with every reason"
    ),
)
@DETAIL
def replay(args: argparse.Namespace, lang: Lang) -> int:
    """Replay an entry."""
    return _guarded(_cmd_replay)(args, lang)


@command("show", help=Text(zh="输出一个存储的条目。", en="Print one stored entry."))
@_ENTRY_ID
@DB
@_FORMAT
def show(args: argparse.Namespace, lang: Lang) -> int:
    """Show an entry."""
    return _guarded(_cmd_show)(args, lang)


for _made in (record, verify, replay, show):
    log.add_command(_made)


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
    type=_ENTRY,
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
    return _guarded(_cmd_plan)(args, lang)


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
    return _guarded(_cmd_update)(args, lang)


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
    return _guarded(_cmd_card)(args, lang)


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
@_FORMAT
def overdue(args: argparse.Namespace, lang: Lang) -> int:
    """List overdue items."""
    return _guarded(_cmd_overdue)(args, lang)


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
@_FORMAT
def counts(args: argparse.Namespace, lang: Lang) -> int:
    """Count items."""
    return _guarded(_cmd_counts)(args, lang)


for _made in (plan, update, card, overdue, counts):
    ledger.add_command(_made)


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


# --- log -------------------------------------------------------------------------------------------


def _cmd_record(args: argparse.Namespace, lang: Lang) -> int:
    """Record a whole run: the files checked first (a record with a problem stops the run before
    anything is written), then read a block at a time, decided by the columnar runner and
    appended in batches (`Recorder`), the run's manifest entry last."""
    from gspolicy.columnar.registry import registry_blocks  # noqa: PLC0415  # Polars only when used
    from gspolicy.columnar.runner import decide_frame  # noqa: PLC0415
    from gspolicy.tables import COLUMNS  # noqa: PLC0415

    policy_set = load_chosen(args.policies, lang, sys.stderr)
    if policy_set is None:
        return EXIT_PROBLEMS
    exit_pack = exit_pack_of(policy_set)
    problems: list[Diagnostic] = []
    total = 0
    for block in registry_blocks(
        args.files, policy_set, args.as_of, exit_pack=exit_pack, encoding=args.encoding
    ):  # checked by columns where they can be, not decided
        problems.extend(block.problems)
        total += block.valid
    print_problems(problems, lang, sys.stderr)
    if any(d.is_error for d in problems):
        return EXIT_PROBLEMS
    receipts_out = None
    if args.receipts is not None:
        try:
            receipts_out = args.receipts.open("w", encoding="utf-8")
        except OSError as err:
            reason = err.strerror or str(err)
            raise PolicyError(
                [Diagnostic("io/unreadable", None, {"path": str(args.receipts), "reason": reason})]
            ) from None
    recorded = 0

    def hand_out(receipts: list[Receipt]) -> None:
        for receipt in receipts:
            if receipts_out is not None:
                receipts_out.write(json.dumps(receipt.to_json(), ensure_ascii=False) + "\n")
            elif args.format == "json":
                _out(json.dumps(receipt.to_json(), ensure_ascii=False) + "\n")
            elif lang == "zh":
                _out(
                    f"条目 {receipt.entry}  农户 {receipt.household}  结论 {receipt.verdict}  {receipt.hash}\n"
                )
            else:
                _out(
                    f"entry {receipt.entry}  household {receipt.household}  verdict {receipt.verdict}  "
                    f"{receipt.hash}\n"
                )
        if receipts_out is not None:
            receipts_out.flush()

    try:
        with DecisionLog.open(args.db) as log:
            recorder = log.recorder(
                policy_set, as_of=args.as_of, actor=args.actor, exit_pack=exit_pack, batch=args.batch
            )
            try:
                for valid, _refused, _problems, _broken in stream_records(
                    args.files, policy_set.schema, encoding=args.encoding
                ):
                    records = valid
                    if args.household is not None:
                        records = tuple(r for r in valid if r.get("id") == args.household)
                    if not records:
                        continue
                    frame = decide_frame(policy_set, records, args.as_of, exit_pack=exit_pack)[0]
                    for record, row in zip(records, frame.select(COLUMNS).iter_rows(named=True), strict=True):
                        receipts = recorder.add(record, row)  # a batch's, handed out once committed
                        recorded += len(receipts)
                        hand_out(receipts)
                receipts = recorder.flush()
                recorded += len(receipts)
                hand_out(receipts)
            except PolicyError as err:
                if isinstance(err, NotWritten):  # the receipts of what was written before
                    recorded += len(err.written)
                    hand_out(err.written)
                print_problems(err.diagnostics, lang, sys.stderr)
                left = (1 if args.household is not None else total) - recorded
                sys.stderr.write(
                    f"本次运行有 {left} 户未记录；已记录的 {recorded} 户均有回执\n"
                    if lang == "zh"
                    else f"{left} households of the run were not recorded; the {recorded} recorded have receipts\n"
                )
                return EXIT_PROBLEMS
            if args.household is not None and not recorded:  # nothing was written
                raise PolicyError(
                    [Diagnostic("store/unknown-household", None, {"household": args.household})]
                )
            run = recorder.finish(command="gspolicy log record", inputs=args.files)
            hand_out([run])
    finally:
        if receipts_out is not None:
            receipts_out.close()
    sys.stderr.write(
        f"已记录 {recorded} 条判定（运行清单为条目 {run.entry}）于 {args.db}\n"
        if lang == "zh"
        else f"recorded {recorded} decisions in {args.db} (the run's manifest is entry {run.entry})\n"
    )
    return EXIT_OK


def _receipts(paths: list[Path]) -> list[Receipt]:
    found: list[Receipt] = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise PolicyError([Diagnostic("io/not-found", None, {"path": str(path)})]) from None
        except (OSError, UnicodeDecodeError) as err:
            raise PolicyError(
                [Diagnostic("store/bad-receipt", None, {"path": str(path), "reason": str(err)})]
            ) from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            tmp = path.with_name(f"{path.name}:{n}")
            try:
                data = json.loads(line)
            except json.JSONDecodeError as err:
                raise PolicyError(
                    [Diagnostic("store/bad-receipt", None, {"path": str(tmp), "reason": str(err)})]
                ) from None
            found.append(_receipt_from(data, tmp))
    return found


def _receipt_from(data: Any, where: Path) -> Receipt:
    if not isinstance(data, dict) or "receipt" not in data:
        raise PolicyError(
            [Diagnostic("store/bad-receipt", None, {"path": str(where), "reason": "not a receipt"})]
        )
    entry, digest = data.get("entry"), data.get("hash")
    if not isinstance(entry, int) or isinstance(entry, bool) or not isinstance(digest, str):
        raise PolicyError(
            [
                Diagnostic(
                    "store/bad-receipt", None, {"path": str(where), "reason": "it needs `entry` and `hash`"}
                )
            ]
        )
    return Receipt(entry, digest, str(data.get("household", "")), None, "", "", str(data.get("log", "")))


def _cmd_verify(args: argparse.Namespace, lang: Lang) -> int:
    receipts = _receipts(args.receipt)
    if args.checkpoint is not None and args.checkpoint.exists():
        read_anchor(args.checkpoint)  # a malformed file is a usage problem, reported as such
    with DecisionLog.open(args.db, create=False) as log:
        result = log.verify(checkpoint=args.checkpoint, receipts=receipts)
    if result.ok:
        _out(result.message(lang) + "\n")
        return EXIT_OK
    sys.stderr.write(
        ("gspolicy：日志校验失败：" if lang == "zh" else "gspolicy: the log does not verify: ")
        + result.message(lang)
        + "\n"
    )
    return EXIT_PROBLEMS


def _cmd_replay(args: argparse.Namespace, lang: Lang) -> int:
    with DecisionLog.open(args.db, create=False) as log:
        result = log.replay(args.entry)
    if args.format == "json":
        data: dict[str, object] = {
            "entry": result.entry,
            "identical": result.identical,
            "differences": list(result.differences),
        }
        if args.explain:
            data["decision"] = result.decision.to_json(detail=args.detail)
        _out(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif result.identical:
        _out(
            f"条目 {result.entry}：重放结果与记录完全一致\n"
            if lang == "zh"
            else f"entry {result.entry}: the replayed decision is identical to the recorded one\n"
        )
    else:
        head = (
            f"条目 {result.entry}：重放结果与记录不一致，差异位于："
            if lang == "zh"
            else f"entry {result.entry}: the replayed decision differs from the recorded one at:"
        )
        _out(head + "\n" + "".join(f"  {p}\n" for p in result.differences))
    if args.explain and args.format != "json":
        _out("\n" + result.decision.render(lang, detail=args.detail))
    return EXIT_OK if result.identical else EXIT_PROBLEMS


def _cmd_show(args: argparse.Namespace, lang: Lang) -> int:
    with DecisionLog.open(args.db, create=False) as log:
        entry = log.entry(args.entry)
    problem = entry.damage()
    if problem is not None:
        # shown as far as it can be (an auditor wants to see it), then said to be damaged: exit 1
        with contextlib.suppress(PolicyError):
            _show(entry, args, lang)
        raise entry.damaged("hash", problem)
    return _show(entry, args, lang)


_VERDICTS = ("pass", "fail", "undetermined", "not_applicable")


def _verdict_shown(verdict: str | None, lang: Lang) -> str:
    """A stored verdict in the reader's words; one the log never writes (a damaged entry) as it
    is stored, quoted."""
    if not verdict:
        return "-"
    return verdict_word(verdict, lang) if verdict in _VERDICTS else f"`{verdict[:40]}`"


def _show(entry: Entry, args: argparse.Namespace, lang: Lang) -> int:
    context = entry.context_data()
    packs = list(context.packs)
    if args.format == "json":
        data: dict[str, object] = {
            "entry": entry.id,
            "kind": entry.kind,
            "hash": entry.hash,
            "prev_hash": entry.prev_hash,
            "household": entry.household,
            "verdict": entry.verdict,
            "as_of": entry.as_of,
            "recorded_at": entry.recorded_at,
            "actor": context.actor,
            "library_version": context.library_version,
            "exit_pack": context.exit_pack,
            "packs": packs,
            "schema_hash": context.schema_hash,
        }
        if entry.kind == "decision":
            data |= {
                "record_hash": entry.record_hash,
                "outcome_hash": entry.outcome_hash,
                "record": entry.record_data(),
                "outcome": entry.outcome_data(),
            }
        else:
            data["manifest"] = entry.manifest_data()
        _out(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    zh = lang == "zh"
    names = {
        "entry": "条目",
        "kind": "类型",
        "hash": "哈希",
        "previous": "前一哈希",
        "household": "农户",
        "as of": "判定日期",
        "verdict": "结论",
        "recorded": "记录时间",
        "actor": "操作人",
        "library": "程序版本",
        "record": "记录哈希",
        "outcome": "结果哈希",
        "packs": "政策包",
    }
    kind = {"decision": Text(zh="判定", en="decision"), "run": Text(zh="运行清单", en="run manifest")}
    values: list[tuple[str, object]] = [
        ("entry", entry.id),
        ("kind", kind[entry.kind].get(lang) if entry.kind in kind else entry.kind),
        ("hash", entry.hash),
        ("previous", entry.prev_hash),
    ]
    if entry.kind == "decision":
        values += [
            ("household", entry.household),
            ("as of", entry.as_of),
            ("verdict", _verdict_shown(entry.verdict, lang)),
        ]
    else:
        values.append(("as of", entry.as_of))
    values += [
        ("recorded", entry.recorded_at),
        ("actor", context.actor),
        ("library", context.library_version),
    ]
    if entry.kind == "decision":
        values += [("record", entry.record_hash), ("outcome", entry.outcome_hash)]
    values.append(("packs", ""))
    lines = [f"{names[k] if zh else k}: {v}".rstrip() for k, v in values]
    lines.extend(f"  {p['id']}@{p['version']}  {p['content_hash']}" for p in packs)
    if entry.kind == "run":
        manifest = entry.manifest_data()
        span = manifest.get("entries")
        count = manifest.get("decisions", 0)
        if isinstance(span, list) and len(span) == 2:
            lines.append(
                f"本次运行：条目 {span[0]} 至 {span[1]}，共 {count} 条判定"
                if zh
                else f"the run: entries {span[0]} to {span[1]}, {count} decisions"
            )
        for label, key in (("输入" if zh else "input", "inputs"), ("输出" if zh else "output", "outputs")):
            for item in manifest.get(key, []) if isinstance(manifest.get(key), list) else []:
                if isinstance(item, dict):
                    lines.append(f"{label}: {item.get('file')}  {item.get('bytes')}  {item.get('sha256')}")
    _out("\n".join(lines) + "\n")
    return EXIT_OK


# --- ledger ----------------------------------------------------------------------------------------


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
    _out(
        (f"已为农户 {plan.household} 制定计划（依据条目 {plan.entry}），共 {len(plan.items)} 项：\n")
        if zh
        else f"planned household {plan.household} from entry {plan.entry}: {len(plan.items)} items\n"
    )
    for item in plan.items:
        amount = amount_words(item.amount, lang, item.unit, words) if item.amount else "-"
        named = measure_words(item.measure, item.title, lang)
        _out(f"  {named}  {item.department_title.get(lang)}  {amount}  {item.deadline_text(lang)}\n")
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
        _out(
            f"已依据结果表 {done.source} 制定计划\n"
            f"  读取：{done.rows} 户\n"
            f"  制定计划：{done.planned} 户，共 {done.items} 项（其中 {done.superseded} 户取代了原计划）\n"
            f"  跳过：{done.skipped} 户（已有依据同一或更新判定的计划）\n"
            f"  无帮扶措施可计划：{done.nothing} 户\n"
        )
    else:
        _out(
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
    _out(
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
        enum = schema.enums.get("poverty_cause")
        labels = {c: enum.value(c).title.zh for c in enum.codes} if enum is not None else {}
    words = vocabulary_for(schema, schema.root, ())
    page = render_card(
        plan, updates, record=record, today=args.today or dt.date.today(), labels=labels, words=words
    )
    if args.output is None:
        _out(page)
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
            _out("".join(held))
            held.clear()
    _out("".join(held))


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
            _out("\n")
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
        _out(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
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
