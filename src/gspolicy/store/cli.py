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

from gspolicy._cli_support import (
    EXIT_OK,
    EXIT_PROBLEMS,
    Parser,
    date_arg,
    path_arg,
    print_problems,
    whole_number,
)
from gspolicy._i18n import Lang, Text
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import exit_pack_of
from gspolicy.explain.render import amount_words, measure_words, verdict_word
from gspolicy.explain.wording import vocabulary_for
from gspolicy.pack.workspace import load_chosen
from gspolicy.schema.records import stream_records
from gspolicy.store.card import render_card
from gspolicy.store.ledger import STATUS_TEXT, Ledger, OverdueRow, read_outcome_table
from gspolicy.store.log import BATCH, DecisionLog, Entry, NotWritten, Receipt, read_anchor

__all__ = ["register"]

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


def _deadline(value: str) -> tuple[str, dt.date]:
    measure, sep, day = value.partition("=")
    if not sep or not measure.strip():
        raise argparse.ArgumentTypeError(f"`{value}` is not MEASURE=YYYY-MM-DD")
    return measure.strip(), date_arg(day.strip())


_ENTRY = whole_number(1, 2**63 - 1)  # SQLite's largest row id
_DAYS = whole_number(1, 36_600)  # a hundred years
_BATCH = whole_number(1, 1_000_000)


def register(sub: argparse._SubParsersAction[Parser], common: Parser) -> None:
    """Add ``log`` and ``ledger`` with their sub-commands."""
    db = Parser(add_help=False)
    db.add_argument(
        "--db", type=path_arg, required=True, metavar="PATH", help="the decision log (SQLite file)"
    )

    log = sub.add_parser(
        "log",
        parents=[common],
        help="the tamper-evident decision log: record, verify, replay",
        description="Record evaluations in a hash-chained SQLite log, verify the chain, replay an entry.",
    )
    log_sub = log.add_subparsers(dest="log_command", metavar="COMMAND", parser_class=Parser)

    record = log_sub.add_parser(
        "record",
        parents=[common, db],
        help="evaluate households and record each decision",
        description="Evaluate every household in the record files as of a date and append each "
        "decision to the log; print one receipt per entry (keep them: they anchor the chain).",
    )
    record.add_argument("files", nargs="+", type=path_arg, metavar="FILE")
    record.add_argument("--as-of", type=date_arg, required=True, help="the assessment date")
    record.add_argument("--actor", required=True, help="who records (a person or a system)")
    record.add_argument("--household", default=None, metavar="ID", help="record only this household")
    record.add_argument("--policies", type=path_arg, action="append", default=None, metavar="PATH")
    record.add_argument("--format", choices=("text", "json"), default="text", help="json: one receipt a line")
    record.add_argument(
        "--receipts",
        type=path_arg,
        default=None,
        metavar="FILE",
        help="write the receipts to FILE (JSON lines) instead of printing them",
    )
    record.add_argument("--encoding", default="utf-8", help="the encoding of CSV files (e.g. gb18030)")
    record.add_argument(
        "--batch",
        type=_BATCH,
        default=BATCH,
        metavar="N",
        help=f"entries written per transaction (default {BATCH:,}); a crash loses at most one batch, "
        "for which no receipt was handed out",
    )
    record.set_defaults(run=_guarded(_cmd_record))

    verify = log_sub.add_parser(
        "verify",
        parents=[common, db],
        help="check the chain, the stored packs and the anchors; name the first bad entry",
    )
    verify.add_argument(
        "--checkpoint",
        type=path_arg,
        default=None,
        metavar="FILE",
        help="checkpoint file (default: <db>.head)",
    )
    verify.add_argument(
        "--receipt",
        type=path_arg,
        action="append",
        default=[],
        metavar="FILE",
        help="a receipt file (JSON lines from `log record --format json`); repeatable",
    )
    verify.set_defaults(run=_guarded(_cmd_verify))

    replay = log_sub.add_parser(
        "replay",
        parents=[common, db],
        help="evaluate an entry again from its stored record and packs; say whether it is identical",
    )
    replay.add_argument("entry", type=_ENTRY, metavar="ID")
    replay.add_argument("--format", choices=("text", "json"), default="text")
    replay.add_argument(
        "--explain", action="store_true", help="also print the decision derived again, with every reason"
    )
    replay.set_defaults(run=_guarded(_cmd_replay))

    show = log_sub.add_parser("show", parents=[common, db], help="print one stored entry")
    show.add_argument("entry", type=_ENTRY, metavar="ID")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(run=_guarded(_cmd_show))
    log.set_defaults(run=_usage(log))

    ledger = sub.add_parser(
        "ledger",
        parents=[common],
        help="the household work ledger: plans, progress, cards, overdue items, counts",
        description="One household, one policy: plan each household's measures from a logged "
        "decision, record progress, print the household's card, list overdue items, count.",
    )
    ledger_sub = ledger.add_subparsers(dest="ledger_command", metavar="COMMAND", parser_class=Parser)

    plan = ledger_sub.add_parser(
        "plan",
        parents=[common, db],
        help="make a household's plan from a log entry, or every household's from an outcome table",
        description="Plan one household from a decision-log entry (ENTRY), or every household of an "
        "outcome table written by `gspolicy evaluate … --output` (--from OUT.parquet|.jsonl|.csv, its "
        "run manifest beside it; decided with packs the policy set in use holds).",
    )
    source = plan.add_mutually_exclusive_group(required=True)
    source.add_argument("entry", type=_ENTRY, nargs="?", default=None, metavar="ENTRY")
    source.add_argument(
        "--from", dest="table", type=path_arg, default=None, metavar="OUTCOMES", help="an outcome table"
    )
    plan.add_argument(
        "--policies",
        type=path_arg,
        action="append",
        default=None,
        metavar="PATH",
        help="with --from: the policy set that decided the table (default: as every command chooses it)",
    )
    plan.add_argument("--actor", required=True, help="who makes the plan")
    plan.add_argument(
        "--deadline",
        type=_deadline,
        action="append",
        default=[],
        metavar="MEASURE=DATE",
        help="the deadline of one measure (repeatable)",
    )
    plan.add_argument(
        "--period",
        type=_DAYS,
        default=None,
        metavar="DAYS",
        help="deadline of the other measures: the decision date plus DAYS (default: none)",
    )
    plan.set_defaults(run=_guarded(_cmd_plan))

    update = ledger_sub.add_parser("update", parents=[common, db], help="record progress on one measure")
    update.add_argument("household", metavar="HOUSEHOLD")
    update.add_argument("measure", metavar="MEASURE")
    update.add_argument("--status", required=True, help="in_progress or done")
    update.add_argument("--on", type=date_arg, required=True, help="the day it happened")
    update.add_argument("--by", required=True, help="who is responsible")
    update.add_argument("--evidence", default=None, help="what shows it (required for done)")
    update.set_defaults(run=_guarded(_cmd_update))

    card = ledger_sub.add_parser("card", parents=[common, db], help="the household's card (明白卡), HTML")
    card.add_argument("household", metavar="ID")
    card.add_argument("--output", "-o", type=path_arg, default=None, metavar="FILE", help="default: stdout")
    card.add_argument("--today", type=date_arg, default=None, help="the print date (default: today)")
    card.add_argument(
        "--policies",
        type=path_arg,
        action="append",
        default=None,
        metavar="PATH",
        help="for a plan made from an outcome table: the policy set whose schema words the amounts",
    )
    card.set_defaults(run=_guarded(_cmd_card))

    overdue = ledger_sub.add_parser(
        "overdue", parents=[common, db], help="items past their deadline, per department and county"
    )
    overdue.add_argument("--today", type=date_arg, default=None)
    overdue.add_argument("--format", choices=("text", "json"), default="text")
    overdue.set_defaults(run=_guarded(_cmd_overdue))

    counts = ledger_sub.add_parser(
        "counts", parents=[common, db], help="items per quarter, batch, measure and county"
    )
    counts.add_argument("--quarter", default=None, metavar="YYYYQN", help="one quarter, e.g. 2018Q4")
    counts.add_argument("--format", choices=("text", "json"), default="text")
    counts.set_defaults(run=_guarded(_cmd_counts))
    ledger.set_defaults(run=_usage(ledger))


def _usage(parser: Parser) -> Command:
    def run(args: argparse.Namespace, lang: Lang) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


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
            data["decision"] = result.decision.to_json()
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
        _out("\n" + result.decision.render(lang))
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
    _out("\t".join(head) + "\n")
    for r in rows:
        _out(f"{r.quarter}\t{r.batch}\t{r.measure}\t{r.county}\t{r.items}\t{r.households}\t{r.done}\n")
    return EXIT_OK
