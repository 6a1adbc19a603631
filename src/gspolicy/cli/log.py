"""The ``gspolicy log`` commands: record, verify, replay, show.

Record a run's decisions, verify the log, replay or show an entry (see
docs/how-to/audit-a-decision.md)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import DETAIL, POLICIES
from gspolicy.cli._store import DB, ENTRY_ID, FORMAT, guarded, out
from gspolicy.cli._support import (
    DATE,
    EXIT_OK,
    EXIT_PROBLEMS,
    PATH,
    WholeNumber,
    argument,
    command,
    group,
    option,
    print_problems,
)
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import exit_pack_of
from gspolicy.explain.render import verdict_word
from gspolicy.pack.workspace import load_chosen
from gspolicy.schema.records import stream_records
from gspolicy.store.anchor import Receipt, read_anchor
from gspolicy.store.chain import Entry
from gspolicy.store.log import DecisionLog
from gspolicy.store.recorder import BATCH, NotWritten

__all__ = ["log"]

_BATCH = WholeNumber(1, 1_000_000)

log = group(
    "log",
    help=Text(
        zh="把判定记入哈希链式的 SQLite 日志，校验链条，重放条目。",
        en="Record evaluations in a hash-chained SQLite log, verify the chain, replay an entry.",
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
    return guarded(_cmd_record)(args, lang)


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
    return guarded(_cmd_verify)(args, lang)


@command(
    "replay",
    help=Text(
        zh="依据存储的记录和政策包重新判定一个条目，并说明结果是否完全一致。",
        en="Evaluate an entry again from its stored record and packs; say whether it is identical.",
    ),
)
@ENTRY_ID
@DB
@FORMAT
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
    return guarded(_cmd_replay)(args, lang)


@command("show", help=Text(zh="输出一个存储的条目。", en="Print one stored entry."))
@ENTRY_ID
@DB
@FORMAT
def show(args: argparse.Namespace, lang: Lang) -> int:
    """Show an entry."""
    return guarded(_cmd_show)(args, lang)


for _made in (record, verify, replay, show):
    log.add_command(_made)


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
                out(json.dumps(receipt.to_json(), ensure_ascii=False) + "\n")
            elif lang == "zh":
                out(
                    f"条目 {receipt.entry}  农户 {receipt.household}  结论 {receipt.verdict}  {receipt.hash}\n"
                )
            else:
                out(
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
        out(result.message(lang) + "\n")
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
        out(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif result.identical:
        out(
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
        out(head + "\n" + "".join(f"  {p}\n" for p in result.differences))
    if args.explain and args.format != "json":
        out("\n" + result.decision.render(lang, detail=args.detail))
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
        out(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
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
    out("\n".join(lines) + "\n")
    return EXIT_OK
