"""``gspolicy evaluate``: the main job — decide every household of record files (and their
villages and counties) and print the summary, the listing and a few explanations.

The villages and counties of `--level village|county` are summarised by
`gspolicy.cli.evaluate_report.area_summary`, those of the main job by
`gspolicy.explain.summaries.area_overview`; the households' summary comes from
`gspolicy.explain.summaries` (the streamed run) and `gspolicy.explain.summary`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from gspolicy._i18n import Lang, Text
from gspolicy.cli._options import AS_OF, DETAIL, FILES, POLICIES
from gspolicy.cli._run import as_of_date as _as_of
from gspolicy.cli._run import policies as _policies
from gspolicy.cli._run import records as _records
from gspolicy.cli._run import records_skipping as _records_skipping
from gspolicy.cli._support import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    PATH,
    Parsed,
    WholeNumber,
    command,
    option,
    print_problems,
)
from gspolicy.cli.evaluate_areas import StreamedAreas
from gspolicy.cli.evaluate_output import write_output
from gspolicy.cli.evaluate_report import print_legend, report_areas
from gspolicy.cli.evaluate_streamed import evaluate_streamed
from gspolicy.engine.compiled import lower
from gspolicy.engine.outcome import Outcome, outcome_of
from gspolicy.engine.run import PackValues
from gspolicy.errors import suggest
from gspolicy.explain.area_reads import area_reads
from gspolicy.explain.areas import AreaDecision, AreaResult, decide_areas
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.explain.decision import Detail
from gspolicy.explain.summary import examples, household_summary
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.schema.records import Refused

if TYPE_CHECKING:  # Polars is imported only when a table is decided
    pass

__all__ = ["evaluate"]


def _field_list(value: str) -> list[str] | Text:
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not names:
        return Text(
            zh=f"`{value[:80]}` 未列出任何列（列名以逗号分隔）",
            en=f"`{value[:80]}` names no columns (separate them with commas)",
        )
    return names


@command(
    "evaluate",
    help=Text(
        zh="按判定日期有效的政策包判定农户记录文件中的每一户，输出汇总、名单和解释。",
        en="Evaluate household record files against the packs in force on the as-of date: the "
        "summary, the listing and explanations.",
    ),
)
@FILES
@AS_OF
@POLICIES
@option(
    "--format",
    type=click.Choice(["table", "json", "jsonl"]),
    default="table",
    help=Text(
        zh="输出格式：table（汇总，默认）、json（全部解释后的判定）或 jsonl（每行一户）",
        en="output: table (the summary; default), json (every explained decision) or jsonl (one a line)",
    ),
)
@option(
    "--output",
    type=PATH,
    default=None,
    metavar="FILE",
    help=Text(
        zh="另把每户一行写入 FILE（.parquet、.csv、.jsonl 或 .xlsx），旁边附 FILE.manifest.json",
        en="also write one row per household to FILE (.parquet, .csv, .jsonl or .xlsx), with "
        "FILE.manifest.json beside it",
    ),
)
@option(
    "--encoding",
    default="utf-8",
    metavar="NAME",
    help=Text(
        zh="CSV 登记表的编码（默认 UTF-8，可带字节顺序标记；例如 gb18030）",
        en="the encoding of CSV registry tables (default: UTF-8, with or without a byte-order mark; "
        "e.g. gb18030)",
    ),
)
@option(
    "--skip-invalid",
    is_flag=True,
    help=Text(
        zh="判定有效的农户，列出并略过有问题的记录（与 --output 同用时写入 FILE.refused.jsonl），而不是拒绝整个文件",
        en="decide the valid households and leave out the records with problems (listed; with "
        "--output written to FILE.refused.jsonl) instead of refusing the files",
    ),
)
@option(
    "--fields",
    type=Parsed("COLUMNS", _field_list),
    default=None,
    metavar="COLUMNS",
    help=Text(
        zh="与 --output 同用：要写出的列，以逗号分隔（默认：全部）",
        en="with --output: the columns to write, separated by commas (default: all)",
    ),
)
@option(
    "--log",
    type=PATH,
    default=None,
    metavar="DB",
    help=Text(
        zh="另把每户的判定分批记入判定日志 DB（SQLite），最后记入本次运行的清单（输入及 --output 文件）",
        en="also record every household's decision in the decision log DB (SQLite), in batches, "
        "with the run's manifest entry (the input and --output files) last",
    ),
)
@option(
    "--receipts",
    type=PATH,
    default=None,
    metavar="FILE",
    help=Text(
        zh="与 --log 同用：把每个条目的回执写入 FILE（JSON Lines）",
        en="with --log: write a receipt per entry to FILE (JSON lines)",
    ),
)
@option(
    "--list",
    is_flag=True,
    help=Text(zh="列出每户的结论（table 格式）", en="list every household's verdict (table format)"),
)
@option(
    "--explain",
    type=WholeNumber(0, 1_000_000),
    default=0,
    metavar="N",
    help=Text(
        zh="另输出 N 户的解释（与 --level 同用时为 N 个村或县）",
        en="also print the explanations of N households (of N villages or counties with --level)",
    ),
)
@option(
    "--villages",
    type=PATH,
    multiple=True,
    metavar="FILE",
    help=Text(
        zh="村记录（调查数据、指标）：村由其农户判定（可重复）",
        en="village records (survey figures, indicators): villages are decided from their households (repeatable)",
    ),
)
@option(
    "--counties",
    type=PATH,
    multiple=True,
    metavar="FILE",
    help=Text(
        zh="县记录（调查数据）：县由其农户和村判定（可重复）",
        en="county records (survey figures): counties are decided from their households and villages (repeatable)",
    ),
)
@option(
    "--level",
    type=click.Choice(["household", "village", "county"]),
    default="household",
    help=Text(
        zh="报告哪一级：household（农户；给出村、县文件时附村县汇总）、village 或 county（默认 household）",
        en="what to report: households (with village and county summaries when their files are "
        "given), villages or counties (default: household)",
    ),
)
@option(
    "--area",
    multiple=True,
    metavar="CODE",
    help=Text(
        zh="与 --level village 或 county 同用：解释此村或县（可重复）",
        en="with --level village or county: explain this village or county (repeatable)",
    ),
)
@option(
    "--village-pack",
    default=None,
    metavar="ID",
    help=Text(
        zh="给出村结论的政策包（默认：村的结论包，`kind: exit`）",
        en="the pack giving village verdicts (default: the village verdict pack, `kind: exit`)",
    ),
)
@option(
    "--county-pack",
    default=None,
    metavar="ID",
    help=Text(
        zh="给出县结论的政策包（默认：县的结论包，`kind: exit`）",
        en="the pack giving county verdicts (default: the county verdict pack, `kind: exit`)",
    ),
)
@option(
    "--engine",
    type=click.Choice(["polars", "spark"]),
    default="polars",
    help=Text(
        zh="判定引擎：polars（本机，默认）或 spark（Apache Spark，读取 Parquet 文件或文件夹；需要 spark 扩展和 Java）",
        en="the engine: polars (this machine; default) or spark (Apache Spark, reading Parquet files or "
        "folders; needs the spark extra and Java)",
    ),
)
@option(
    "--master",
    default=None,
    metavar="URL",
    help=Text(
        zh="与 --engine spark 同用：Spark 主节点（默认：环境变量 SPARK_MASTER，否则 local[*]）",
        en="with --engine spark: the Spark master (default: SPARK_MASTER, else local[*])",
    ),
)
@DETAIL
def evaluate(args: argparse.Namespace, lang: Lang) -> int:
    """Decide the households (and areas) of the record files."""
    return _cmd_evaluate(args, lang)


def _output_problems(args: argparse.Namespace, lang: Lang) -> int | None:
    """Refuse `--output`/`--fields`/`--log` given wrongly before any work (exit 2), else None."""
    if args.receipts is not None and args.log is None:
        sys.stderr.write(
            "gspolicy evaluate：--receipts 需要与 --log 一起使用\n"
            if lang == "zh"
            else "gspolicy evaluate: --receipts goes with --log\n"
        )
        return EXIT_USAGE
    if args.log is not None and (args.level != "household" or args.format != "table"):
        sys.stderr.write(
            "gspolicy evaluate：--log 记录农户判定，不能与 --level village/county 或 --format json/jsonl 同用\n"
            if lang == "zh"
            else "gspolicy evaluate: --log records the household decisions; it does not go with "
            "--level village/county or --format json/jsonl\n"
        )
        return EXIT_USAGE
    if args.output is None:
        if args.fields is not None:
            sys.stderr.write(
                "gspolicy evaluate：--fields 需要与 --output 一起使用\n"
                if lang == "zh"
                else "gspolicy evaluate: --fields goes with --output\n"
            )
            return EXIT_USAGE
        return None
    if args.level != "household" or args.format != "table":
        sys.stderr.write(
            "gspolicy evaluate：--output 写出农户表，不能与 --level village/county 或 --format json/jsonl 同用\n"
            if lang == "zh"
            else "gspolicy evaluate: --output writes the household table; it does not go with "
            "--level village/county or --format json/jsonl\n"
        )
        return EXIT_USAGE
    from gspolicy.tables import check_output  # noqa: PLC0415  # Polars only when a table is written

    problems = check_output(args.output, args.fields)
    if problems:
        print_problems(problems, lang, sys.stderr)
        return EXIT_USAGE
    return None


def _cmd_evaluate(args: argparse.Namespace, lang: Lang) -> int:
    zh = lang == "zh"
    refused = _output_problems(args, lang)
    if refused is not None:
        return refused
    needs = {"village": args.villages, "county": args.counties}.get(args.level, True)
    if not needs:
        flag = {"village": "--villages", "county": "--counties"}[args.level]
        sys.stderr.write(
            f"gspolicy evaluate：--level {args.level} 需要 {flag} FILE\n"
            if zh
            else f"gspolicy evaluate: --level {args.level} needs {flag} FILE\n"
        )
        return EXIT_USAGE
    policy_set = _policies(args.policies, lang)
    if policy_set is None:
        return EXIT_PROBLEMS
    for level, pack_id in (("village", args.village_pack), ("county", args.county_pack)):
        if pack_id is not None and pack_id not in policy_set.ids:
            hint = suggest(pack_id, policy_set.ids)
            if zh:
                message = f"gspolicy evaluate：--{level}-pack 指定的政策包 `{pack_id}` 不存在" + (
                    f"；是否指 `{hint[0]}`？" if hint else ""
                )
            else:
                message = f"gspolicy evaluate: no pack `{pack_id}` for --{level}-pack" + (
                    f"; did you mean `{hint[0]}`?" if hint else ""
                )
            sys.stderr.write(message + "\n")
            return EXIT_USAGE
    if args.engine == "spark":
        from gspolicy.cli.evaluate_spark import evaluate_spark  # noqa: PLC0415  # pyspark when asked

        return evaluate_spark(args, lang, policy_set)
    if args.master is not None:
        sys.stderr.write(
            "gspolicy evaluate：--master 需要与 --engine spark 一起使用\n"
            if zh
            else "gspolicy evaluate: --master goes with --engine spark\n"
        )
        return EXIT_USAGE
    if not (args.villages or args.counties) and args.format == "table":
        return evaluate_streamed(args, lang, policy_set)
    if args.format == "table":
        # with area files: the households streamed too when the areas' packs read of them only
        # plain fields, each household then held as those fields and its items' derived fields
        day = _as_of(args.as_of, policy_set, lang)
        if day is None:
            return EXIT_USAGE
        reads = area_reads(policy_set, day)
        if reads is not None:
            found_areas = _area_records(args, policy_set, lang)
            if found_areas is None:
                return EXIT_PROBLEMS
            return evaluate_streamed(args, lang, policy_set, StreamedAreas(found_areas, reads))
    skipped: tuple[Refused, ...] = ()
    if args.skip_invalid:
        kept = _records_skipping(args.files, policy_set, lang, args.encoding)
        if kept is None:
            return EXIT_PROBLEMS
        records, skipped = kept
    else:
        loaded = _records(args.files, policy_set, lang, encoding=args.encoding)
        if loaded is None:
            return EXIT_PROBLEMS
        records = loaded
    args.refused = skipped
    found_areas = _area_records(args, policy_set, lang)
    if found_areas is None:
        return EXIT_PROBLEMS
    areas = found_areas
    as_of = _as_of(args.as_of, policy_set, lang)
    if as_of is None:
        return EXIT_USAGE
    packs = {k: v for k, v in (("village", args.village_pack), ("county", args.county_pack)) if v}
    if areas and args.level != "household":
        gathered = {"household": records, **areas}
        every = args.format in ("json", "jsonl")  # every area explained; the table explains a few
        only_areas = decide_areas(
            policy_set, gathered, as_of, packs=packs, explain=None if every else lambda _lv, _code: False
        )

        def explained(level: str, codes: Sequence[str]) -> dict[str, AreaDecision]:
            wanted = set(codes)
            again = decide_areas(
                policy_set,
                gathered,
                as_of,
                packs=packs,
                explain=lambda lv, code: lv == level and code in wanted,
            )
            return {a.code: a for a in (*again.villages, *again.counties)}

        return report_areas(only_areas, args, lang, explained)
    # every household's packs run once, by the per-record evaluator: for its outcome and, with
    # area files, for its village and county; only the households printed are explained
    runners = [lower(p, as_of) for p in policy_set.all_in_force(as_of) if p.subject == "household"]
    if args.format in ("json", "jsonl"):
        return _stream_decisions(policy_set, records, as_of, args.format, args.detail)
    if args.output is not None and write_output(args, lang, policy_set, records, as_of) != EXIT_OK:
        return EXIT_PROBLEMS
    outcomes: list[Outcome] = []
    known: dict[str, dict[str, PackValues]] = {}
    exit_pack = exit_pack_of(policy_set)
    for record in records:
        values = {r.pack.id: r.run(record) for r in runners}
        outcomes.append(outcome_of(policy_set, record, as_of, values, exit_pack=exit_pack))
        if areas:
            known[str(record.get("id"))] = values
    result: AreaResult | None = None
    if areas:
        result = decide_areas(
            policy_set,
            {"household": records, **areas},
            as_of,
            packs=packs,
            known=known,
            explain=lambda _level, _code: False,
        )
    by_id = {str(r.get("id")): r for r in records}
    if not records:
        sys.stderr.write(
            ("输入文件中没有记录：" if lang == "zh" else "the input holds no records: ")
            + ", ".join(str(f) for f in args.files)
            + "\n"
        )
    from gspolicy.explain.summaries import area_overview, county_names, summary_plan  # noqa: PLC0415

    sys.stdout.write(
        household_summary(
            outcomes,
            lang,
            as_of=as_of,
            plan=summary_plan(policy_set, as_of),
            listing=args.list,
            records_by_id=by_id,
            county_names=county_names(result),
        )
    )
    if result is not None:
        sys.stdout.write("\n" + area_overview(result, lang))
    chosen = examples(outcomes, args.explain)
    for outcome in chosen:
        record = by_id[outcome.record]
        sys.stdout.write("\n" + decide(policy_set, record, as_of).render(lang, detail=args.detail))
    print_legend(args, lang, bool(chosen))
    return EXIT_OK


def _area_records(
    args: argparse.Namespace, policy_set: PolicySet, lang: Lang
) -> dict[str, tuple[Record, ...]] | None:
    """The village and county records of `--villages` and `--counties` (None: a file had a
    problem, already shown)."""
    areas: dict[str, tuple[Record, ...]] = {}
    for kind, files in (("village", args.villages), ("county", args.counties)):
        if files:
            found = _records(files, policy_set, lang, kind=kind)
            if found is None:
                return None
            areas[kind] = found
    return areas


def _stream_decisions(
    policy_set: PolicySet, records: Sequence[Record], as_of: dt.date, fmt: str, detail: Detail
) -> int:
    """Every household's explained decision as JSON (at `detail`), written one at a time (never
    all held)."""
    out = sys.stdout
    if fmt == "jsonl":
        for record in records:
            data = decide(policy_set, record, as_of).to_json(detail=detail)
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
        return EXIT_OK
    out.write("[")
    for index, record in enumerate(records):
        data = decide(policy_set, record, as_of).to_json(detail=detail)
        text = json.dumps(data, ensure_ascii=False, indent=2)
        out.write(("\n" if index == 0 else ",\n") + "\n".join("  " + line for line in text.splitlines()))
    out.write("\n]\n" if records else "]\n")
    return EXIT_OK
