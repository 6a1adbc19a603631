"""``gspolicy evaluate``: the main job — decide every household of record files (and their
villages and counties) and print the summary, the listing and a few explanations.

The villages and counties of `--level village|county` are summarised by `_area_summary`, those of the
main job by `gspolicy.explain.summaries.area_overview`; the households' summary comes from
`gspolicy.explain.summaries` (the streamed run) and `gspolicy.explain.summary`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from importlib import metadata
from typing import TYPE_CHECKING, Any, TextIO

import attrs
import click

from gspolicy._i18n import Lang, Text
from gspolicy.api import Policies
from gspolicy.cli._options import AS_OF, DETAIL, FILES, POLICIES
from gspolicy.cli._progress import Progress
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
from gspolicy.engine.compiled import lower
from gspolicy.engine.outcome import Outcome, outcome_of
from gspolicy.engine.run import PackValues
from gspolicy.errors import Diagnostic, PolicyError, render_grouped, suggest
from gspolicy.explain.area_reads import AreaReads, area_reads
from gspolicy.explain.areas import AreaDecision, AreaResult, decide_areas
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.explain.decision import Detail
from gspolicy.explain.gather import gathering_order
from gspolicy.explain.legend import legend
from gspolicy.explain.summary import VERDICT_WORDS, examples, household_summary
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record, Schema
from gspolicy.schema.records import Refused

if TYPE_CHECKING:  # Polars is imported only when a table is decided
    import polars as pl

    from gspolicy.columnar.registry import RegistryBlock

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


@attrs.frozen
class _StreamedAreas:
    """The area files of a streamed run (village and county records) and what their packs read
    of each household."""

    records: Mapping[str, tuple[Record, ...]]
    reads: AreaReads


def _evaluate_streamed(
    args: argparse.Namespace, lang: Lang, policy_set: PolicySet, areas: _StreamedAreas | None = None
) -> int:
    """The main job: the households read a block at a time (a JSON Lines file in blocks of
    lines, so memory stays flat), each block decided by the columnar runner into the outcome
    table, which gives the summary and `--output`; only the households printed are explained
    (their records are the only ones kept).  A record with a problem stops the run — every
    problem is still listed — unless `--skip-invalid` sets it aside.  With `areas`, each
    household is also kept as the few fields the areas' packs read and its items' derived fields
    (`area_reads`), and the villages and counties are decided from them once every block is."""
    # Polars only when a table is decided
    import polars as pl  # noqa: PLC0415

    from gspolicy.columnar.registry import registry_blocks  # noqa: PLC0415
    from gspolicy.columnar.runner import decide_frame, derived_column, lacks_column  # noqa: PLC0415
    from gspolicy.engine.outcome import decide_outcome  # noqa: PLC0415
    from gspolicy.explain.summaries import (  # noqa: PLC0415
        SummaryCounts,
        area_overview,
        county_names,
        summary_plan,
    )

    as_of = _as_of(args.as_of, policy_set, lang)
    if as_of is None:
        return EXIT_USAGE
    counts = SummaryCounts(summary_plan(policy_set, as_of), listing=args.list)
    exit_id = exit_pack_of(policy_set)

    def settled(record: Record) -> Outcome:  # an undetermined exit verdict, by the per-record evaluator
        return decide_outcome(policy_set, record, as_of, exit_pack=exit_id)

    kept: dict[int, Record] = {}
    first_row: dict[object, int] = {}  # the row of the first household of each verdict
    problems: list[Diagnostic] = []
    refused: list[Refused] = []
    state = {"stopped": False, "unreadable": 0, "rows": 0, "valid": 0}
    verdict_order = ("pass", "fail", "undetermined", "not_applicable")
    reads = areas.reads if areas is not None else None
    derived = [c for pf in reads.derive for c in (derived_column(*pf), lacks_column(*pf))] if reads else []
    kept_parts: list[pl.DataFrame] = []
    logging = _RunLog.open(args, policy_set, as_of, lang) if args.log is not None else None
    if isinstance(logging, int):
        return logging

    def frames() -> Iterator[pl.DataFrame]:
        for block in registry_blocks(
            args.files,
            policy_set,
            as_of,
            exit_pack=exit_pack_of(policy_set),
            encoding=args.encoding,
            derive=reads.derive if reads else (),
            keep=reads.paths if reads else (),
            columns=logging is None,  # the log keeps each record: the validator's, then
        ):
            problems.extend(block.problems)
            refused.extend(block.refused)
            state["unreadable"] += block.broken
            state["stopped"] = (
                state["stopped"] or block.broken or (not args.skip_invalid and bool(block.refused))
            )
            state["valid"] += block.valid
            if state["stopped"] or not block.valid:
                continue
            frame = block.decide()
            if reads is not None:
                kept_parts.append(pl.concat([block.kept(), frame.select(derived)], how="horizontal"))
                frame = frame.drop(derived)
            counties = block.counties()
            counts.add(frame, counties, partial(_settle_in, settled, block))
            frame = frame.with_columns(
                pl.Series("county", [None if c == "?" else c for c in counties], pl.String())
            )
            if logging is not None:
                logging.add([block.record(i) for i in range(block.valid)], frame)
            rows = state["rows"]
            for offset, verdict in enumerate(frame["verdict"].to_list()):
                # the households `--explain` may pick: the first of each verdict, then the first N
                if rows + offset < args.explain or (args.explain and verdict not in first_row):
                    kept[rows + offset] = block.record(offset)
                first_row.setdefault(verdict, rows + offset)
            state["rows"] += block.valid
            progress.advance(block.valid)
            yield frame
        if state["stopped"]:
            raise _RunStopped
        if not state["rows"]:
            yield decide_frame(policy_set, [], as_of, exit_pack=exit_pack_of(policy_set))[0]

    args.refused = refused
    progress = Progress(sys.stderr, "已判定户数" if lang == "zh" else "households decided")
    try:
        with progress:
            if args.output is not None and (areas is None or args.level == "household"):
                if _write_output(args, lang, policy_set, (), as_of, frames()) != EXIT_OK:
                    if logging is not None:
                        logging.close()
                    return EXIT_PROBLEMS
            else:
                for _frame in frames():
                    pass
        if logging is not None and not logging.finish(args):
            return EXIT_PROBLEMS
    except _RunStopped:
        if logging is not None:
            logging.close()
        return _refuse_run(problems, refused, state["valid"], state["unreadable"], lang)
    except PolicyError as err:  # the log could not take a batch (`store/not-written`)
        if logging is None:
            raise
        logging.failed(err)
        return EXIT_PROBLEMS
    if args.skip_invalid:
        _report_skipped(problems, refused, state["rows"], lang)
    elif problems:
        sys.stderr.write(render_grouped(problems, lang) + "\n")
    if not state["rows"]:
        sys.stderr.write(
            ("输入文件中没有记录：" if lang == "zh" else "the input holds no records: ")
            + ", ".join(str(f) for f in args.files)
            + "\n"
        )
    result: AreaResult | None = None
    if areas is not None:
        assert reads is not None
        result, explained = _streamed_areas(args, lang, policy_set, as_of, areas, kept_parts)
        if args.level != "household":
            return _report_areas(result, args, lang, explained)
    sys.stdout.write(counts.render(lang, as_of=as_of, county_names=county_names(result)))
    if result is not None:
        sys.stdout.write("\n" + area_overview(result, lang))
    picked = [first_row[v] for v in verdict_order if v in first_row]
    rest = [row for row in range(min(args.explain, state["rows"])) if row not in picked]
    shown = (picked + rest)[: args.explain]
    for row in shown:
        sys.stdout.write("\n" + decide(policy_set, kept[row], as_of).render(lang, detail=args.detail))
    _legend(args, lang, bool(shown))
    return EXIT_OK


def _settle_in(decided: Callable[[Record], Outcome], block: RegistryBlock, row: int) -> list[str]:
    """What would settle the undetermined exit verdict of `row` of `block` (see `SummaryCounts.add`)."""
    from gspolicy.explain.summaries import exit_settle  # noqa: PLC0415

    return exit_settle(decided(block.record(row)))


def _streamed_areas(
    args: argparse.Namespace,
    lang: Lang,
    policy_set: PolicySet,
    as_of: dt.date,
    areas: _StreamedAreas,
    kept_parts: list[pl.DataFrame],
) -> tuple[AreaResult, Callable[[str, Sequence[str]], dict[str, AreaDecision]]]:
    """The villages and counties of a streamed run, from what was kept of each household: every
    area's outcome by the per-record evaluator, and a function explaining the areas of a level
    named by code (deciding again only the parts that hold them)."""
    import polars as pl  # noqa: PLC0415

    from gspolicy.columnar.registry import records_of_kept  # noqa: PLC0415
    from gspolicy.columnar.runner import derived_column, lacks_column  # noqa: PLC0415

    reads = areas.reads
    schema = policy_set.schema
    kept = pl.concat(kept_parts) if kept_parts else _nothing_kept(reads)
    kept_parts.clear()
    packs = {k: v for k, v in (("village", args.village_pack), ("county", args.county_pack)) if v}
    parts = _area_partitions(schema, areas.records, kept)

    def decided(
        mask: pl.Expr | None,
        records: Mapping[str, Sequence[Record]],
        explain: Callable[[str, str], bool],
        step: Callable[[], None] | None = None,
    ) -> AreaResult:
        # one partition at a time (a county, its villages and their households): only its
        # households are held as records
        chosen = kept.filter(mask) if mask is not None else kept
        households = records_of_kept(schema, reads.paths, chosen)
        columns = {
            pf: (chosen[derived_column(*pf)].to_list(), chosen[lacks_column(*pf)].to_list())
            for pf in reads.derive
        }

        def fields(index: int) -> Mapping[tuple[str, str], tuple[bool | None, tuple[str, ...]]]:
            return {pf: (values[index], tuple(lacks[index])) for pf, (values, lacks) in columns.items()}

        return decide_areas(
            policy_set,
            {"household": households, **records},
            as_of,
            packs=packs,
            item_fields={"household": fields},
            decided_one=step,
            explain=explain,
        )

    progress = Progress(sys.stderr, "已判定村县数" if lang == "zh" else "villages and counties decided")
    with progress:
        results = [
            decided(mask, records, lambda _level, _code: False, lambda: progress.advance(1))
            for mask, records in parts
        ]

    def explained(level: str, codes: Sequence[str]) -> dict[str, AreaDecision]:
        wanted = set(codes)
        key = schema.records[level].key or ""
        found: dict[str, AreaDecision] = {}
        for mask, records in parts:
            if any(str(r.get(key)) in wanted for r in records.get(level, ())):
                result = decided(mask, records, lambda lv, code: lv == level and code in wanted)
                found.update((a.code, a) for a in (*result.villages, *result.counties))
        return found

    return _joined_areas(schema, as_of, areas.records, kept, results), explained


def _nothing_kept(reads: AreaReads) -> pl.DataFrame:
    """No household kept: an empty frame of the kept and derived columns."""
    import polars as pl  # noqa: PLC0415

    from gspolicy.columnar.runner import derived_schema  # noqa: PLC0415

    schema: dict[str, pl.DataType] = {".".join(p): pl.String() for p in reads.paths}
    return pl.DataFrame(schema={**schema, **derived_schema(reads.derive)})


def _area_partitions(
    schema: Schema, areas: Mapping[str, Sequence[Record]], kept: pl.DataFrame
) -> list[tuple[pl.Expr | None, dict[str, list[Record]]]]:
    """The areas split by the type that gathers every other (a county with its villages), each
    with the households any of its areas gathers (a household whose village lies in another
    county belongs to both); one part of everything when the areas are not shaped so."""
    import polars as pl  # noqa: PLC0415

    root = schema.root
    whole: list[tuple[pl.Expr | None, dict[str, list[Record]]]] = [
        (None, {k: list(v) for k, v in areas.items()})
    ]
    gathered_by: dict[str, dict[str, str]] = {}  # holder -> gathered type -> by field
    for holder in areas:
        for field in schema.records[holder].fields.values():
            if field.gather is not None:
                gathered_by.setdefault(holder, {})[field.gather.records] = field.gather.by
    tops = [t for t in areas if not any(t in g for h, g in gathered_by.items() if h != t)]
    if len(tops) != 1:
        return whole
    top = tops[0]
    top_key = schema.records[top].key
    others = [t for t in areas if t != top]
    if top_key is None or any(t not in gathered_by.get(top, {}) for t in others):
        return whole
    if any(root not in gathered_by.get(t, {}) for t in areas) or any(
        schema.records[t].key is None for t in others
    ):
        return whole
    # the part of each area: a top area its key, another the top it belongs to
    part_of: dict[str, dict[str, str | None]] = {}
    for t in others:
        key = schema.records[t].key
        assert key is not None
        by = gathered_by[top][t]
        part_of[t] = {str(r.get(key)): _text_or_none(r.get(by)) for r in areas[t]}
    parts: dict[str | None, dict[str, list[Record]]] = {}
    for t, given in areas.items():
        for r in given:
            part = str(r.get(top_key)) if t == top else part_of[t][str(r.get(schema.records[t].key or ""))]
            parts.setdefault(part, {k: [] for k in areas})[t].append(r)
    columns = kept.columns
    out: list[tuple[pl.Expr | None, dict[str, list[Record]]]] = []
    for part, chosen in parts.items():
        tests: list[pl.Expr] = []
        for t in areas:
            by = gathered_by[t][root]
            if by not in columns:
                return whole
            if t == top:
                tests.append(pl.col(by).is_null() if part is None else pl.col(by) == part)
            else:
                codes = [code for code, p in part_of[t].items() if p == part]
                tests.append(pl.col(by).cast(pl.String).is_in(codes))
        out.append((pl.any_horizontal(tests).fill_null(False), chosen))
    return out


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _joined_areas(
    schema: Schema,
    as_of: dt.date,
    areas: Mapping[str, Sequence[Record]],
    kept: pl.DataFrame,
    results: Sequence[AreaResult],
) -> AreaResult:
    """The results of the parts as one, as deciding every area at once gives it: the areas in
    the order of their files, each problem once, and the records no given area gathers."""
    order = {
        t: {str(r.get(schema.records[t].key or "")): i for i, r in enumerate(records)}
        for t, records in areas.items()
    }
    villages = sorted(
        (a for r in results for a in r.villages), key=lambda a: order.get("village", {}).get(a.code, 0)
    )
    counties = sorted(
        (a for r in results for a in r.counties), key=lambda a: order.get("county", {}).get(a.code, 0)
    )
    outcomes = {
        level: tuple(
            sorted(
                (a for r in results for a in r.outcomes.get(level, ())),
                key=lambda a: order.get(a.level, {}).get(a.code, 0),
            )
        )
        for level in sorted({lv for r in results for lv in r.outcomes})
    }
    problems: list[Text] = []
    for r in results:
        problems.extend(p for p in r.problems if p not in problems)
    root = schema.root
    root_key = schema.records[root].key
    orphans: dict[str, set[str]] = {}
    for holder in gathering_order(schema, [root, *areas]):
        keys = {str(r.get(schema.records[holder].key or "")) for r in areas.get(holder, ())}
        for field in schema.records[holder].fields.values():
            if field.gather is None:
                continue
            by, gathered = field.gather.by, field.gather.records
            if gathered == root:
                if root_key is None or by not in kept.columns:
                    continue
                values = kept[by].to_list()
                ids = kept[root_key].to_list()
                found = {str(i) for i, v in zip(ids, values, strict=True) if v not in keys}
            else:
                found = {
                    str(r.get(schema.records[gathered].key or ""))
                    for r in areas.get(gathered, ())
                    if r.get(by) not in keys
                }
            if found:
                orphans.setdefault(f"{gathered}/{holder}", set()).update(found)
    return AreaResult(
        as_of,
        tuple(villages),
        tuple(counties),
        tuple(problems),
        {k: tuple(sorted(v)) for k, v in sorted(orphans.items())},
        outcomes,
    )


class _RunLog:
    """`evaluate --log DB`: the run's decisions recorded in the decision log as its blocks are
    decided (a `Recorder`), receipts to `--receipts`, the run's manifest entry last.  The files
    are checked first, so that a record with a problem stops the run before anything is recorded
    (with `--skip-invalid`, the valid households are recorded)."""

    def __init__(
        self, log: Any, recorder: Any, receipts: TextIO | None, lang: Lang, total: int | None
    ) -> None:
        self.log = log
        self.recorder = recorder
        self.receipts = receipts
        self.lang = lang
        self.recorded = 0
        self.total = total  # the households the run records (None: not counted beforehand)

    @classmethod
    def open(
        cls, args: argparse.Namespace, policy_set: PolicySet, as_of: dt.date, lang: Lang
    ) -> _RunLog | int:
        from gspolicy.columnar.registry import registry_blocks  # noqa: PLC0415
        from gspolicy.store.log import DecisionLog  # noqa: PLC0415

        total: int | None = None
        if not args.skip_invalid:
            problems: list[Diagnostic] = []
            refused: list[Refused] = []
            valid = broken = 0
            for block in registry_blocks(
                args.files, policy_set, as_of, exit_pack=exit_pack_of(policy_set), encoding=args.encoding
            ):  # checked by columns where they can be, not decided
                problems.extend(block.problems)
                refused.extend(block.refused)
                valid += block.valid
                broken += block.broken
            if broken or refused:
                return _refuse_run(problems, refused, valid, broken, lang)
            total = valid
        receipts: TextIO | None = None
        try:
            log = DecisionLog.open(args.log)
            if args.receipts is not None:
                try:
                    receipts = args.receipts.open("w", encoding="utf-8")
                except OSError as err:
                    log.close()
                    raise PolicyError(
                        [
                            Diagnostic(
                                "io/unreadable",
                                None,
                                {"path": str(args.receipts), "reason": err.strerror or str(err)},
                            )
                        ]
                    ) from None
            actor = f"gspolicy evaluate ({getpass.getuser()})"
            recorder = log.recorder(policy_set, as_of=as_of, actor=actor, exit_pack=exit_pack_of(policy_set))
        except PolicyError as err:
            print_problems(err.diagnostics, lang, sys.stderr)
            return EXIT_PROBLEMS
        return cls(log, recorder, receipts, lang, total)

    def add(self, records: Sequence[Record], frame: pl.DataFrame) -> None:
        from gspolicy.tables import COLUMNS  # noqa: PLC0415

        for record, row in zip(records, frame.select(COLUMNS).iter_rows(named=True), strict=True):
            self._hand_out(self.recorder.add(record, row))  # a batch's receipts, once committed

    def _hand_out(self, receipts: Sequence[Any]) -> None:
        self.recorded += len(receipts)
        if self.receipts is not None:
            for receipt in receipts:
                self.receipts.write(json.dumps(receipt.to_json(), ensure_ascii=False) + "\n")
            self.receipts.flush()

    def finish(self, args: argparse.Namespace) -> bool:
        """The last batch and the run's manifest entry; False (said) when they cannot be written."""
        try:
            self._hand_out(self.recorder.flush())
            outputs = [args.output] if args.output is not None else []
            run = self.recorder.finish(command="gspolicy evaluate", inputs=args.files, outputs=outputs)
            self._hand_out([run])
        except PolicyError as err:
            self.failed(err)
            return False
        self.close()
        sys.stderr.write(
            f"已在 {args.log} 中记录 {self.recorded - 1} 条判定（运行清单为条目 {run.entry}）\n"
            if self.lang == "zh"
            else f"recorded {self.recorded - 1} decisions in {args.log} (the run's manifest is entry {run.entry})\n"
        )
        return True

    def failed(self, err: PolicyError) -> None:
        from gspolicy.store.log import NotWritten  # noqa: PLC0415

        if isinstance(err, NotWritten):
            self._hand_out(err.written)
        self.close()
        print_problems(err.diagnostics, self.lang, sys.stderr)
        left = (
            (
                f"{self.total - self.recorded} 户"
                if self.lang == "zh"
                else f"{self.total - self.recorded} households"
            )
            if self.total is not None
            else ("其余农户" if self.lang == "zh" else "the other households")
        )
        sys.stderr.write(
            f"本次运行的{left}未记录；已记录的 {self.recorded} 户均有回执\n"
            if self.lang == "zh"
            else f"{left} of the run were not recorded; the {self.recorded} recorded have receipts\n"
        )

    def close(self) -> None:
        if self.receipts is not None:
            self.receipts.close()
            self.receipts = None
        self.log.close()


class _RunStopped(Exception):
    """A record with a problem: nothing is decided (raised through the output writer, which then
    leaves nothing behind)."""


def _refuse_run(
    problems: list[Diagnostic], refused: list[Refused], valid: int, unreadable: int, lang: Lang
) -> int:
    """Nothing decided: every problem listed (the first 50 in full), and how many records had one."""
    everything = [*problems]
    read = valid + len(refused)
    files = (
        Text(zh=f"，另有 {unreadable} 个文件无法读取", en=f", and {unreadable} file(s) could not be read")
        if unreadable
        else Text(zh="", en="")
    )
    everything.append(
        Diagnostic("record/not-decided", None, {"count": read, "invalid": len(refused), "files": files})
    )
    sys.stderr.write(render_grouped(everything, lang) + "\n")
    return EXIT_PROBLEMS


def _report_skipped(problems: list[Diagnostic], refused: list[Refused], decided: int, lang: Lang) -> None:
    if problems:
        sys.stderr.write(render_grouped(problems, lang) + "\n")
    if refused:
        total = decided + len(refused)
        sys.stderr.write(
            f"已跳过 {len(refused)} 条有问题的记录（共 {total} 条），判定其余 {decided} 户\n"
            if lang == "zh"
            else f"skipped {len(refused)} of {total} records with problems; deciding the other {decided}\n"
        )


def _write_output(
    args: argparse.Namespace,
    lang: Lang,
    policy_set: PolicySet,
    records: Sequence[Record],
    as_of: dt.date,
    table: pl.DataFrame | Iterable[pl.DataFrame] | None = None,
) -> int:
    """The household table of the run by the columnar runner (`table` when already decided),
    written to `--output`."""
    from gspolicy.tables import OutputError, run_manifest, write_table  # noqa: PLC0415  # Polars when used

    policies = Policies(policy_set)
    in_force = [p for p in policy_set.all_in_force(as_of) if p.subject == "household"]

    def manifest() -> dict[str, object]:
        # once every input has been read: a file that could not be read has stopped the run
        return run_manifest(
            command="gspolicy evaluate",
            as_of=as_of,
            inputs=args.files,
            packs=[(p.key, p.content_hash) for p in in_force],
            runner="columnar (Polars)",
            fallback=policies.columnar_report(as_of),
            version=_library_version(),
        )

    try:
        frames: Iterable[pl.DataFrame]
        if table is None:
            frames = _with_counties(policies.decide_table(records, as_of), records)
        elif isinstance(table, Iterator):
            frames = table
        else:
            frames = [table]  # type: ignore[list-item]

        def refused() -> list[dict[str, object]]:
            return [
                {
                    "file": r.file,
                    "line": r.line,
                    "record": r.data,
                    "problems": [d.to_json("en") for d in r.problems],
                }
                for r in args.refused
            ]

        written = write_table(
            frames,
            args.output,
            fields=args.fields,
            manifest=manifest,
            refused=refused if args.skip_invalid else None,
        )
    except OutputError as err:
        print_problems([err.diagnostic], lang, sys.stderr)
        return EXIT_PROBLEMS
    count = written["records"]
    sys.stderr.write(
        f"已写入 {args.output}（{count} 户）及其运行清单 {args.output}.manifest.json\n"
        if lang == "zh"
        else f"wrote {args.output} ({count} households) and its run manifest {args.output}.manifest.json\n"
    )
    return EXIT_OK


def _with_counties(frames: Iterable[pl.DataFrame], records: Sequence[Record]) -> Iterator[pl.DataFrame]:
    """The frames of `records` (in order) with each household's county beside it."""
    import polars as pl  # noqa: PLC0415  # Polars only when a table is written

    done = 0
    for frame in frames:
        part = records[done : done + frame.height]
        done += frame.height
        county = [None if (c := r.get("county_code")) is None else str(c) for r in part]
        yield frame.with_columns(pl.Series("county", county, pl.String()))


def _library_version() -> str:
    try:
        return metadata.version("gspolicy")
    except metadata.PackageNotFoundError:
        return "unknown"


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
    if not (args.villages or args.counties) and args.format == "table":
        return _evaluate_streamed(args, lang, policy_set)
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
            return _evaluate_streamed(args, lang, policy_set, _StreamedAreas(found_areas, reads))
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

        return _report_areas(only_areas, args, lang, explained)
    # every household's packs run once, by the per-record evaluator: for its outcome and, with
    # area files, for its village and county; only the households printed are explained
    runners = [lower(p, as_of) for p in policy_set.all_in_force(as_of) if p.subject == "household"]
    if args.format in ("json", "jsonl"):
        return _stream_decisions(policy_set, records, as_of, args.format, args.detail)
    if args.output is not None and _write_output(args, lang, policy_set, records, as_of) != EXIT_OK:
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
    _legend(args, lang, bool(chosen))
    return EXIT_OK


def _legend(args: argparse.Namespace, lang: Lang, explained: bool) -> None:
    """The notation of the explanations printed, said once after them (`--detail full` prints
    the explanations alone)."""
    if explained and args.detail != "full":
        sys.stdout.write("\n" + legend(lang))


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


def _report_areas(
    result: AreaResult,
    args: argparse.Namespace,
    lang: Lang,
    explained: Callable[[str, Sequence[str]], dict[str, AreaDecision]],
) -> int:
    """The areas of `--level`: as JSON every explained decision; as a table the summary, then
    the areas `--area` names or `--explain N` picks (the first of each verdict, then the first
    N), explained by `explained(level, codes)`."""
    level = args.level
    if args.format in ("json", "jsonl"):
        areas = list(result.villages if level == "village" else result.counties)
        if args.format == "json":
            data = [a.to_json(detail=args.detail) for a in areas]
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        else:
            for a in areas:
                sys.stdout.write(json.dumps(a.to_json(detail=args.detail), ensure_ascii=False) + "\n")
        return EXIT_OK
    outcomes = result.outcomes.get(level, ())
    codes = [a.code for a in outcomes]
    unknown = [code for code in args.area or () if code not in codes]
    if unknown:
        for code in unknown:
            hint = suggest(code, codes)
            noun = ("村", "village") if level == "village" else ("县", "county")
            sys.stderr.write(
                (
                    f"gspolicy evaluate：没有代码为 {code} 的{noun[0]}"
                    + (f"；是否指 {hint[0]}？" if hint else "")
                    if lang == "zh"
                    else f"gspolicy evaluate: no {noun[1]} {code}"
                    + (f"; did you mean {hint[0]}?" if hint else "")
                )
                + "\n"
            )
        return EXIT_USAGE
    sys.stdout.write(_area_summary(result, lang, only=level, listing=args.list))
    picked: list[str] = list(dict.fromkeys(args.area or ()))
    if args.explain > 0 and not picked:
        for verdict in ("fail", "undetermined", "pass", "not_applicable"):
            found = next((a for a in outcomes if a.verdict == verdict), None)
            if found is not None:
                picked.append(found.code)
        picked = list(dict.fromkeys([*picked, *codes]))[: args.explain]
    if picked:
        decisions = explained(level, picked)
        for code in picked:
            sys.stdout.write("\n" + decisions[code].render(lang, detail=args.detail))
    _legend(args, lang, bool(picked))
    return EXIT_OK


def _area_summary(result: AreaResult, lang: Lang, *, only: str | None = None, listing: bool = False) -> str:
    """Village and county verdicts: counts, failing criteria, per county its villages, and (with
    `listing`) one line per area."""
    zh = lang == "zh"
    lines: list[str] = []
    for problem in result.problems:
        lines.append(("问题：" if zh else "problem: ") + problem.get(lang))
    for what, ids in result.orphans.items():
        item, holder = what.split("/")
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        lines.append(
            f"注意：{len(ids)} 条 {item} 记录不属于给出的任何 {holder}，未计入：{shown}"
            if zh
            else f"note: {len(ids)} {item} records belong to no {holder} given and are not counted: {shown}"
        )
    groups = [(level, result.outcomes.get(level, ())) for level in ("village", "county")]
    for level, areas in groups:
        if not areas or (only is not None and level != only):
            continue
        versions = sorted({f"{p.id}@{p.version}" for a in areas for p in a.outcome.packs})
        noun = ("村", "villages") if level == "village" else ("县", "counties")
        lines.append(
            f"截至 {result.as_of} 判定 {len(areas)} 个{noun[0]}；政策包：{', '.join(versions) or '无'}"
            if zh
            else f"{len(areas)} {noun[1]} decided as of {result.as_of}; packs: {', '.join(versions) or 'none'}"
        )
        counts: Counter[str | None] = Counter(a.verdict for a in areas)
        for verdict, (w_zh, w_en) in VERDICT_WORDS.items():
            if counts.get(verdict):
                lines.append(f"  {w_zh if zh else w_en}: {counts[verdict]}")
        failing: Counter[str] = Counter(
            c.id for a in areas for c in a.criteria if c.verdict == "fail" and a.verdict != "not_applicable"
        )
        if failing:
            lines.append("  未通过的指标：" if zh else "  failing criteria:")
            lines.extend(f"    {cid}: {n}" for cid, n in sorted(failing.items()))
        others: Counter[tuple[str, str | None]] = Counter(o for a in areas for o in a.others)
        if others:
            lines.append("  其他标准：" if zh else "  other standards:")
            for (pid, verdict), n in sorted(others.items(), key=lambda x: (x[0][0], str(x[0][1]))):
                lines.append(f"    {pid} {VERDICT_WORDS[verdict][0 if zh else 1]}: {n}")
        villages = result.outcomes.get("village", ())
        if level == "village" and result.outcomes.get("county") and only is None:
            continue
        if level == "county" and villages:
            lines.append("  各县贫困村：" if zh else "  villages per county:")
            verdicts = {v.code: v.verdict for v in villages}
            for a in areas:
                c = Counter(verdicts[code] for code in a.gathered.get("villages", ()) if code in verdicts)
                parts = ", ".join(
                    f"{VERDICT_WORDS[k][0 if zh else 1]} {n}"
                    for k, n in sorted(c.items(), key=lambda x: str(x[0]))
                )
                word = VERDICT_WORDS[a.verdict][0 if zh else 1]
                lines.append(f"    {a.code} {a.name or ''}: {word}; " + (parts or "-"))
        if listing:
            lines.append(
                "  代码 / 结论 / 未通过 / 待定" if zh else "  code / verdict / failing / undetermined"
            )
            for a in areas:
                fails = ",".join(c.id for c in a.criteria if c.verdict == "fail") or "-"
                unsure = ",".join(c.id for c in a.criteria if c.verdict == "undetermined") or "-"
                word = VERDICT_WORDS[a.verdict][0 if zh else 1]
                lines.append(f"    {a.code}  {word}  {fails}  {unsure}")
    return "\n".join(lines) + "\n"
