"""The ``gspolicy check`` and ``gspolicy diff`` commands (docs/how-to/check-a-pack.md and
docs/how-to/what-changes-for-whom.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from gspolicy._cli_support import EXIT_OK, EXIT_PROBLEMS, Parser, date_arg, path_arg, print_problems
from gspolicy._i18n import Lang, Text
from gspolicy.analysis.diff import (
    area_impact,
    impact,
    in_context,
    load_side,
    not_in_force,
    schema_note,
    structural_diff,
    undecidable,
)
from gspolicy.analysis.html import render_html
from gspolicy.analysis.lint import check_paths
from gspolicy.analysis.report import render_area_impact, render_changes, render_check_summary, render_impact
from gspolicy.errors import Diagnostic, sort_and_cap
from gspolicy.pack.workspace import choose
from gspolicy.schema.model import Record
from gspolicy.schema.records import load_records_from

__all__ = ["register"]

_CHECK_DESCRIPTION = """\
Load the packs (default: the bundled ones) and report the loader's problems, then lint
every version that loads: unused parameters, facts, sources, departments and measures;
criteria and rules without a citation; texts missing a language; criteria or rules with
identical conditions; duplicate or late parameter dates; days no version covers;
conditions that are constant. Ranges, low-confidence and not-established values in force
are listed as acknowledged gaps (notes). See docs/how-to/check-a-pack.md.
"""

_CHECK_EPILOG = """\
exit codes:
  0  clean, or only notes (acknowledged gaps, unused declarations)
  1  errors (the loader's or lint's): do not publish
  2  warnings and no error: review before publishing (2 is also bad command-line usage)
"""


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"`{value}` is not a whole number of 0 or more")
    return number


def register(sub: argparse._SubParsersAction[Parser], common: Parser) -> None:
    """Add ``check`` and ``diff``."""
    check = sub.add_parser(
        "check",
        parents=[common],
        help="lint packs before publishing them: every finding coded and located",
        description=_CHECK_DESCRIPTION,
        epilog=_CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "paths", nargs="*", type=path_arg, metavar="PATH", help="policy roots, pack folders or files"
    )
    check.add_argument(
        "--as-of",
        type=date_arg,
        default=None,
        help="list only the gaps in force on this date (default: those in force on any day of any version)",
    )
    check.add_argument(
        "--strict", action="store_true", help="treat lint notes (unused declarations) as warnings"
    )
    check.add_argument(
        "--unread-fields",
        action="store_true",
        help="also list the schema fields no pack checked reads (notes)",
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(run=_cmd_check)

    diff = sub.add_parser(
        "diff",
        parents=[common],
        help="what changes between two versions of packs, and for whom",
        description="Compare OLD and NEW — each a policy root, a pack folder or a pack version file — "
        "and list what was added, removed or changed, with file:line on both sides. With --population, "
        "decide every household with both as of --as-of and count the changes of exit verdict (by county "
        "and by criterion), batch and measures, with example households. Exit 0 on success (with or "
        "without differences), 1 when a side or the population cannot be read. "
        "See docs/how-to/what-changes-for-whom.md.",
    )
    diff.add_argument("old", type=path_arg, metavar="OLD")
    diff.add_argument("new", type=path_arg, metavar="NEW")
    diff.add_argument(
        "--as-of", type=date_arg, default=None, help="the assessment date for the impact (default: today)"
    )
    diff.add_argument(
        "--population",
        type=path_arg,
        action="append",
        default=None,
        metavar="FILE",
        help="household record files",
    )
    diff.add_argument(
        "--villages",
        type=path_arg,
        action="append",
        default=None,
        metavar="FILE",
        help="with --population: village records; list the villages whose verdict or figures change",
    )
    diff.add_argument(
        "--counties",
        type=path_arg,
        action="append",
        default=None,
        metavar="FILE",
        help="with --population: county records; list the counties whose verdict or figures change",
    )
    diff.add_argument(
        "--html", type=path_arg, default=None, metavar="FILE", help="also write an HTML page with charts"
    )
    diff.add_argument(
        "--examples",
        type=_positive,
        default=3,
        metavar="N",
        help="example households per change (default: 3)",
    )
    diff.set_defaults(run=_cmd_diff)


def _cmd_check(args: argparse.Namespace, lang: Lang) -> int:
    choice = choose(args.paths or None)
    report = check_paths(list(choice.roots), as_of=args.as_of, strict=args.strict, unread=args.unread_fields)
    sys.stderr.write(choice.describe(report.content_hash or "?", differs=None, lang=lang) + "\n")
    if args.format == "json":
        data = {
            "diagnostics": [d.to_json(lang) for d in sorted(report.diagnostics, key=Diagnostic.sort_key)],
            "packs": report.packs,
            "versions": report.versions,
            "errors": report.errors,
            "warnings": report.warnings,
            "notes": report.notes,
            "gaps": report.gaps,
            "exit_code": report.exit_code,
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return report.exit_code
    # every finding, uncapped: this is the list to work through before publishing
    kept, _ = sort_and_cap(report.diagnostics, limit=max(1, len(report.diagnostics)))
    for d in kept:
        sys.stdout.write(d.render(lang) + "\n")
    sys.stdout.write(render_check_summary(report, lang))
    return report.exit_code


def _cmd_diff(args: argparse.Namespace, lang: Lang) -> int:
    # every file named must be there before anything is loaded (loading two sides takes time)
    named = [*(args.population or []), *(args.villages or []), *(args.counties or [])]
    absent = [Diagnostic("io/not-found", None, {"path": str(path)}) for path in named if not path.exists()]
    if absent:
        print_problems(absent, lang, sys.stderr)
        return EXIT_PROBLEMS
    old, problems = load_side(args.old)
    new, more = load_side(args.new)
    errors = [d for d in [*problems, *more] if d.is_error]
    if old is None or new is None or errors:
        print_problems(errors, lang, sys.stderr)
        return EXIT_PROBLEMS
    changes = structural_diff(old, new)
    sys.stdout.write(render_changes(changes, lang))
    result = None
    population = ", ".join(str(p) for p in args.population or [])
    if args.population:
        as_of = args.as_of or dt.date.today()
        # a pack file's impact is decided with the whole set it belongs to, on each side
        completed, said = [], []
        for side, word in ((args.old, Text(zh="旧", en="old")), (args.new, Text(zh="新", en="new"))):
            full, root, lost = in_context(old if side is args.old else new, side)
            completed.append(full)
            if root is not None:
                said.append(Diagnostic("diff/completed", None, {"side": word, "root": root}))
            said.extend(
                Diagnostic("diff/import-lost", None, {"side": word, "id": pack_id, "root": root or ""})
                for pack_id in lost
            )
        print_problems(said, lang, sys.stderr)
        if any(d.is_error for d in said):
            return EXIT_PROBLEMS
        old, new = completed
        records, problems = load_records_from(args.population, old.schema)
        notes = [*schema_note(old.schema, new.schema), *not_in_force(old, new, changes, as_of)]
        again = records
        if old.schema != new.schema and not any(d.is_error for d in problems):
            again, more = load_records_from(args.population, new.schema)
            problems.extend(more)
        print_problems([*problems, *notes], lang, sys.stderr)
        if any(d.is_error for d in problems):
            return EXIT_PROBLEMS
        result = impact(old, new, records, as_of, new_records=again, examples=args.examples)
        sys.stdout.write("\n" + render_impact(result, lang, population))
        areas: dict[str, tuple[Record, ...]] = {}
        for kind, files in (("village", args.villages), ("county", args.counties)):
            if files:
                found, problems = load_records_from(files, old.schema, record=kind)
                print_problems(problems, lang, sys.stderr)
                if any(d.is_error for d in problems):
                    return EXIT_PROBLEMS
                areas[kind] = found
        if areas:
            levels = sorted(areas)
            missing = [
                *undecidable(old, levels, as_of, Text(zh="旧", en="old")),
                *undecidable(new, levels, as_of, Text(zh="新", en="new")),
            ]
            print_problems(missing, lang, sys.stderr)
            if old.schema != new.schema:
                sys.stderr.write(
                    "注意：两侧的数据结构不同，村、县按旧侧的数据结构读取\n"
                    if lang == "zh"
                    else "note: the sides' schemas differ; villages and counties are read with the old one\n"
                )
            changed = area_impact(old, new, {"household": records, **areas}, as_of)
            sys.stdout.write("\n" + render_area_impact(changed, lang))
    if args.html is not None:
        page = render_html(str(args.old), str(args.new), changes, result, lang, population or None)
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as err:
            sys.stderr.write(f"gspolicy: cannot write `{args.html}`: {err.strerror or err}\n")
            return EXIT_PROBLEMS
        sys.stdout.write(f"已写入 {args.html}\n" if lang == "zh" else f"wrote {args.html}\n")
    return EXIT_OK
