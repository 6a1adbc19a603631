"""``gspolicy explain``: one household's decision with every reason, in zh or en (or as JSON)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import AS_OF, DETAIL, FILES, POLICIES
from gspolicy.cli._run import as_of_date as _as_of
from gspolicy.cli._run import policies as _policies
from gspolicy.cli._run import records as _records
from gspolicy.cli._support import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, command, option, print_problems
from gspolicy.errors import Diagnostic, suggest
from gspolicy.explain.build import decide
from gspolicy.explain.legend import legend
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record

__all__ = ["explain"]


@command(
    "explain",
    help=Text(
        zh="解释一户的判定：每条标准的结论、依据的数值、参数和政策出处。",
        en="Explain the decision on one household: every criterion's verdict with the values, "
        "parameters and sources behind it.",
    ),
)
@FILES
@option(
    "--household",
    required=True,
    metavar="ID",
    help=Text(zh="农户编号", en="the household id"),
)
@AS_OF
@POLICIES
@option(
    "--format",
    type=click.Choice(["text", "json"]),
    default="text",
    help=Text(zh="输出格式：text（默认）或 json", en="output: text (default) or json"),
)
@DETAIL
@option(
    "--what-if",
    is_flag=True,
    help=Text(
        zh="另列出使退出结论变为通过的最小改动（先一个字段，再两个；优先可改变的字段），每项经引擎确认；"
        "结论未确定时，按能确定它的取值数排列所缺字段（需要 analysis 扩展）",
        en="also list the smallest changes to the household's own fields that make its exit verdict a pass "
        "(one field, then pairs; changeable fields first), each confirmed by the engine; for an undetermined "
        "verdict, the missing fields ranked by how many of their values settle it (needs the analysis extra)",
    ),
)
def explain(args: argparse.Namespace, lang: Lang) -> int:
    """Explain one household's decision."""
    return _cmd_explain(args, lang)


def _cmd_explain(args: argparse.Namespace, lang: Lang) -> int:
    policy_set = _policies(args.policies, lang)
    if policy_set is None:
        return EXIT_PROBLEMS
    records = _records(args.files, policy_set, lang)
    if records is None:
        return EXIT_PROBLEMS
    found = [r for r in records if r.get("id") == args.household]
    if not found:
        ids = [str(r.get("id")) for r in records]
        shown = args.household
        problem = Diagnostic(
            "cli/unknown-household", None, {"id": shown, "count": len(ids)}, suggestions=suggest(shown, ids)
        )
        print_problems([problem], lang, sys.stderr)
        return EXIT_PROBLEMS
    as_of = _as_of(args.as_of, policy_set, lang)
    if as_of is None:
        return EXIT_USAGE
    decision = decide(policy_set, found[0], as_of)
    if args.format == "json":
        sys.stdout.write(
            json.dumps(decision.to_json(detail=args.detail), ensure_ascii=False, indent=2) + "\n"
        )
    else:
        sys.stdout.write(decision.render(lang, detail=args.detail))
        if args.detail != "full":
            sys.stdout.write("\n" + legend(lang))
    if args.what_if:
        return _what_if(policy_set, found[0], as_of, lang)
    return EXIT_OK


def _what_if(policy_set: PolicySet, record: Record, as_of: dt.date, lang: Lang) -> int:
    try:
        from gspolicy.analysis.what_if import what_if  # noqa: PLC0415  (the optional solver)
        from gspolicy.analysis.what_if_report import render_what_if  # noqa: PLC0415
    except ImportError:
        print_problems([Diagnostic("check/no-solver", None, {"extra": "analysis"})], lang, sys.stderr)
        return EXIT_PROBLEMS
    sys.stdout.write("\n" + render_what_if(what_if(policy_set, record, as_of), lang))
    return EXIT_OK
