"""The ``gspolicy monitor`` command: feed events (JSONL) to the monitor, write alerts as JSONL.

Alerts go to standard output, one JSON object per line, each naming the pack rule and the durable
rule that fired and carrying its explanation; bad events are reported on standard error with
their line and skipped.  ``--show-rules`` prints the compiled durable_rules rulesets and the
prepared values instead (it needs no extra).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import POLICIES
from gspolicy.cli._support import DATE, EXIT_OK, EXIT_PROBLEMS, PATH, argument, command, option
from gspolicy.engine.durable import DURABLE_HINT, DurableUnavailable, compile_pack, durable_available
from gspolicy.engine.monitor import Alert, Monitor, monitoring_pack
from gspolicy.errors import Diagnostic
from gspolicy.explain.alerts import explain_alert, render_alert
from gspolicy.pack.workspace import load_chosen

__all__ = ["monitor"]


@command(
    "monitor",
    help=Text(
        zh="读取事件（每行一个 JSON 对象），更新每户的状态；监测政策包的某条规则确定成立时，写出一条预警（JSONL）。"
        "规则由 durable_rules 判定；时间取事件自身的日期。",
        en="Read events (one JSON object per line), update each household's state, and write "
        "an alert (JSONL) whenever a rule of the monitoring pack becomes definitely true. Rules are "
        "decided by durable_rules; time is the events' own dates.",
    ),
)
@argument(
    "events",
    required=False,
    type=PATH,
    metavar="[EVENTS.jsonl]",
    help=Text(zh="事件文件（JSON Lines）", en="the events file (JSON lines)"),
)
@POLICIES
@option(
    "--pack",
    default=None,
    help=Text(
        zh="监测政策包（默认：`kind: monitoring` 的那个）",
        en="monitoring pack (default: the one of `kind: monitoring`)",
    ),
)
@option(
    "--show-rules",
    is_flag=True,
    help=Text(
        zh="输出编译后的 durable_rules 规则集并退出",
        en="print the compiled durable_rules rulesets and exit",
    ),
)
@option(
    "--as-of",
    type=DATE,
    default=None,
    help=Text(zh="--show-rules 显示的政策包版本的日期", en="pack version shown by --show-rules"),
)
@option(
    "--format",
    type=click.Choice(["jsonl", "text"]),
    default="jsonl",
    help=Text(zh="输出格式：jsonl（默认）或 text", en="output: jsonl (default) or text"),
)
def monitor(args: argparse.Namespace, lang: Lang) -> int:
    """Watch households through events."""
    return _cmd_monitor(args, lang)


def _cmd_monitor(args: argparse.Namespace, lang: Lang) -> int:
    policy_set = load_chosen(args.policies, lang, sys.stderr)
    if policy_set is None:
        return EXIT_PROBLEMS
    if args.pack is None:
        try:
            args.pack = monitoring_pack(policy_set)
        except ValueError as err:
            sys.stderr.write(f"gspolicy: {err} (--pack ID)\n")
            return EXIT_PROBLEMS
    if not policy_set.versions(args.pack):
        sys.stderr.write(f"gspolicy: no pack `{args.pack}` among the policies\n")
        return EXIT_PROBLEMS
    if args.show_rules:
        versions = policy_set.versions(args.pack)
        chosen = [p for p in versions if args.as_of is None or p.pack.in_force(args.as_of)]
        for pack in chosen:
            sys.stdout.write(compile_pack(pack).show())
        return EXIT_OK
    if args.events is None:
        sys.stderr.write("gspolicy: monitor needs an events file (or --show-rules)\n")
        return EXIT_PROBLEMS
    if not durable_available():
        sys.stderr.write(f"gspolicy: {DURABLE_HINT}\n")
        return EXIT_PROBLEMS
    try:
        monitor = Monitor(policy_set, pack=args.pack)
    except DurableUnavailable as err:
        sys.stderr.write(f"gspolicy: {err}\n")
        return EXIT_PROBLEMS
    bad: list[Diagnostic] = []
    path: Path = args.events
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as err:
        sys.stderr.write(f"gspolicy: cannot read `{path}`: {err.strerror}\n")
        return EXIT_PROBLEMS
    with handle:
        for item in monitor.run(handle, file=str(path)):
            if isinstance(item, Alert):
                explanation = explain_alert(item, policy_set)
                if args.format == "jsonl":
                    out = {**item.to_json(), "explanation": explanation}
                    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
                else:
                    sys.stdout.write(render_alert(item, explanation, lang, policy_set))
            else:
                bad.append(item)
                sys.stderr.write(item.render(lang) + "\n")
    monitor.close()
    stats = monitor.stats
    summary = (
        f"{stats.events} 个事件，{stats.alerts} 条预警，{stats.bad_events} 个事件有误已跳过\n"
        if lang == "zh"
        else f"{stats.events} events, {stats.alerts} alerts, {stats.bad_events} bad events skipped\n"
    )
    sys.stderr.write(summary)
    return EXIT_PROBLEMS if bad else EXIT_OK
