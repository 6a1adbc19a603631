"""``gspolicy explain``: one household's decision with every reason, in zh or en (or as JSON)."""

from __future__ import annotations

import argparse
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
    return EXIT_OK
