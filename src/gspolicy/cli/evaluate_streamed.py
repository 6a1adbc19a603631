"""The main job of ``gspolicy evaluate``, streamed: the households decided a block at a time.

Each block is decided by the columnar runner into the outcome table that gives the summary,
``--output`` and ``--log``; only the households printed are explained."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from gspolicy._i18n import Lang
from gspolicy.cli._progress import Progress
from gspolicy.cli._run import as_of_date as _as_of
from gspolicy.cli._support import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from gspolicy.cli.evaluate_areas import StreamedAreas, streamed_areas
from gspolicy.cli.evaluate_output import RunLog, write_output
from gspolicy.cli.evaluate_report import print_legend, refuse_run, report_areas, report_skipped
from gspolicy.engine.outcome import Outcome
from gspolicy.errors import Diagnostic, PolicyError, render_grouped
from gspolicy.explain.areas import AreaResult
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record
from gspolicy.schema.records import Refused

if TYPE_CHECKING:  # Polars is imported only when a table is decided
    import polars as pl

    from gspolicy.columnar.registry_block import RegistryBlock

__all__ = ["evaluate_streamed"]


def evaluate_streamed(
    args: argparse.Namespace, lang: Lang, policy_set: PolicySet, areas: StreamedAreas | None = None
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
    logging = RunLog.open(args, policy_set, as_of, lang) if args.log is not None else None
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
                if write_output(args, lang, policy_set, (), as_of, frames()) != EXIT_OK:
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
        return refuse_run(problems, refused, state["valid"], state["unreadable"], lang)
    except PolicyError as err:  # the log could not take a batch (`store/not-written`)
        if logging is None:
            raise
        logging.failed(err)
        return EXIT_PROBLEMS
    if args.skip_invalid:
        report_skipped(problems, refused, state["rows"], lang)
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
        result, explained = streamed_areas(args, lang, policy_set, as_of, areas, kept_parts)
        if args.level != "household":
            return report_areas(result, args, lang, explained)
    sys.stdout.write(counts.render(lang, as_of=as_of, county_names=county_names(result)))
    if result is not None:
        sys.stdout.write("\n" + area_overview(result, lang))
    picked = [first_row[v] for v in verdict_order if v in first_row]
    rest = [row for row in range(min(args.explain, state["rows"])) if row not in picked]
    shown = (picked + rest)[: args.explain]
    for row in shown:
        sys.stdout.write("\n" + decide(policy_set, kept[row], as_of).render(lang, detail=args.detail))
    print_legend(args, lang, bool(shown))
    return EXIT_OK


def _settle_in(decided: Callable[[Record], Outcome], block: RegistryBlock, row: int) -> list[str]:
    """What would settle the undetermined exit verdict of `row` of `block` (see `SummaryCounts.add`)."""
    from gspolicy.explain.summaries import exit_settle  # noqa: PLC0415

    return exit_settle(decided(block.record(row)))


class _RunStopped(Exception):
    """A record with a problem: nothing is decided (raised through the output writer, which then
    leaves nothing behind)."""
