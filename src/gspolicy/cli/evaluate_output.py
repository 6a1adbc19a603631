"""The writers of a ``gspolicy evaluate`` run: the table of ``--output``, the log of ``--log``.

The household table is written with its run manifest; `RunLog` records the decisions in batches,
hands out receipts and writes the run's manifest entry."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any, TextIO

from gspolicy._i18n import Lang
from gspolicy.api import Policies
from gspolicy.cli._support import EXIT_OK, EXIT_PROBLEMS, print_problems
from gspolicy.cli.evaluate_report import refuse_run
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.explain.build import exit_pack_of
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema import roles
from gspolicy.schema.model import Record
from gspolicy.schema.records import Refused

if TYPE_CHECKING:  # Polars is imported only when a table is decided
    import polars as pl


__all__ = ["RunLog", "write_output"]


class RunLog:
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
    ) -> RunLog | int:
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
                return refuse_run(problems, refused, valid, broken, lang)
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
        from gspolicy.store.recorder import NotWritten  # noqa: PLC0415

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


def write_output(
    args: argparse.Namespace,
    lang: Lang,
    policy_set: PolicySet,
    records: Sequence[Record],
    as_of: dt.date,
    table: pl.DataFrame | Iterable[pl.DataFrame] | None = None,
    *,
    runner: str = "columnar (Polars)",
    refused_file: bool = True,
) -> int:
    """The household table of the run by the columnar runner (`table` when already decided),
    written to `--output`; `runner` is how the manifest names what decided it; with
    `--skip-invalid`, the refused households go to ``OUT.refused.jsonl`` unless `refused_file`
    is false (then the caller has listed them elsewhere)."""
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
            runner=runner,
            fallback=policies.columnar_report(as_of),
            version=_library_version(),
        )

    try:
        frames: Iterable[pl.DataFrame]
        if table is None:
            county = policies.policy_set.schema.role(roles.COUNTY_CODE) or ""
            frames = _with_counties(policies.decide_table(records, as_of), records, county)
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
            refused=refused if args.skip_invalid and refused_file else None,
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


def _with_counties(
    frames: Iterable[pl.DataFrame], records: Sequence[Record], field: str
) -> Iterator[pl.DataFrame]:
    """The frames of `records` (in order) with each household's county beside it: its `field`,
    the one that plays the role `county_code` (none when empty)."""
    import polars as pl  # noqa: PLC0415  # Polars only when a table is written

    done = 0
    for frame in frames:
        part = records[done : done + frame.height]
        done += frame.height
        county = [None if (c := r.get(field)) is None else str(c) for r in part]
        yield frame.with_columns(pl.Series("county", county, pl.String()))


def _library_version() -> str:
    try:
        return metadata.version("gspolicy")
    except metadata.PackageNotFoundError:
        return "unknown"
