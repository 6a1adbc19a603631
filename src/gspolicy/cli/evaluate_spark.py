"""``gspolicy evaluate --engine spark``: the main job on Apache Spark.

The households are read by Spark from Parquet files or folders in the nested layout (one row a
household, ``members`` and ``support`` as lists), decided by the columnar runner inside
``mapInArrow`` (`gspolicy.spark`), and the summary, ``--output``, the villages and counties and
the explanations come out as the streamed run gives them on one machine.  Spark is local by
default (``local[*]``); ``--master`` or ``SPARK_MASTER`` names a cluster."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gspolicy._i18n import Lang
from gspolicy.cli._run import as_of_date as _as_of
from gspolicy.cli._run import records as _records
from gspolicy.cli._support import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, print_problems
from gspolicy.errors import Diagnostic, PolicyError
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from gspolicy.api import Policies

__all__ = ["evaluate_spark", "parquet_inputs"]

_SHOWN = 50
"""Refused households whose problems are printed in full."""


def _refuse_options(args: argparse.Namespace, lang: Lang) -> int | None:
    """Options the Spark engine does not take: a usage error naming them (exit 2)."""
    wrong = [
        flag
        for flag, given in (
            ("--log", args.log is not None),
            ("--receipts", args.receipts is not None),
            ("--format json/jsonl", args.format != "table"),
            ("--level village/county", args.level != "household"),
        )
        if given
    ]
    if not wrong:
        return None
    names = ", ".join(wrong)
    sys.stderr.write(
        f"gspolicy evaluate：--engine spark 不能与 {names} 同用\n"
        if lang == "zh"
        else f"gspolicy evaluate: --engine spark does not go with {names}\n"
    )
    return EXIT_USAGE


def parquet_inputs(paths: list[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The Parquet files of `paths` (a folder: the ``.parquet`` files under it, in name order),
    or the problems that stop the run: a path that is not there, a file that is not Parquet, a
    folder without Parquet files."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*.parquet") if p.is_file() and not p.name.startswith((".", "_"))
            )
            if not found:
                problems.append(
                    Diagnostic(
                        "spark/no-input",
                        None,
                        {"path": str(path), "reason": "no .parquet file in the folder"},
                    )
                )
            files.extend(found)
        elif not path.exists():
            problems.append(Diagnostic("io/not-found", None, {"path": str(path)}))
        elif path.suffix.lower() != ".parquet":
            problems.append(
                Diagnostic(
                    "spark/no-input",
                    None,
                    {"path": str(path), "reason": "the Spark engine reads Parquet files and folders"},
                )
            )
        else:
            files.append(path)
    return files, problems


def evaluate_spark(args: argparse.Namespace, lang: Lang, policy_set: PolicySet) -> int:
    """The main job on Spark (see the module doc)."""
    refused_options = _refuse_options(args, lang)
    if refused_options is not None:
        return refused_options
    as_of = _as_of(args.as_of, policy_set, lang)
    if as_of is None:
        return EXIT_USAGE
    files, problems = parquet_inputs(list(args.files))
    if problems:
        print_problems(problems, lang, sys.stderr)
        return EXIT_PROBLEMS
    from gspolicy.explain.area_reads import area_reads  # noqa: PLC0415

    found_areas: dict[str, tuple[Record, ...]] = {}
    for kind, given in (("village", args.villages), ("county", args.counties)):
        if given:
            found = _records(given, policy_set, lang, kind=kind)
            if found is None:
                return EXIT_PROBLEMS
            found_areas[kind] = found
    reads = area_reads(policy_set, as_of) if found_areas else None
    if found_areas and reads is None:
        sys.stderr.write(
            "gspolicy evaluate：村县政策包读取的农户数据超出单个字段，--engine spark 无法判定村县\n"
            if lang == "zh"
            else "gspolicy evaluate: the area packs read more of a household than plain fields; "
            "--engine spark cannot decide the villages and counties\n"
        )
        return EXIT_USAGE
    from gspolicy.spark.session import active_session, spark_session  # noqa: PLC0415

    running = active_session()  # a session of the caller's (a program, a test) is left running
    try:
        spark = spark_session(args.master)
    except PolicyError as err:
        print_problems(err.diagnostics, lang, sys.stderr)
        return EXIT_PROBLEMS
    from py4j.protocol import Py4JError  # noqa: PLC0415
    from pyspark.errors import PySparkException  # noqa: PLC0415

    master = spark.sparkContext.master
    try:
        return _run(args, lang, policy_set, spark, files, as_of, found_areas, reads)
    except PolicyError as err:
        print_problems(err.diagnostics, lang, sys.stderr)
        return EXIT_PROBLEMS
    except (PySparkException, Py4JError, ConnectionError) as err:  # a job that failed, a JVM gone
        failed = Diagnostic("spark/failed", None, {"master": master, "reason": _first_line(err)})
        print_problems([failed], lang, sys.stderr)
        return EXIT_PROBLEMS
    finally:
        if running is None:
            with contextlib.suppress(Py4JError, ConnectionError):  # a JVM gone already (said above)
                spark.stop()


def _run(
    args: argparse.Namespace,
    lang: Lang,
    policy_set: PolicySet,
    spark: SparkSession,
    files: list[Path],
    as_of: object,
    found_areas: dict[str, tuple[Record, ...]],
    reads: object,
) -> int:
    import datetime as dt  # noqa: PLC0415

    import polars as pl  # noqa: PLC0415
    from pyspark import StorageLevel  # noqa: PLC0415
    from pyspark.errors import PySparkException  # noqa: PLC0415
    from pyspark.sql import functions as F  # noqa: PLC0415

    from gspolicy.api import Policies  # noqa: PLC0415
    from gspolicy.cli.evaluate_areas import StreamedAreas, streamed_areas  # noqa: PLC0415
    from gspolicy.cli.evaluate_output import write_output  # noqa: PLC0415
    from gspolicy.cli.evaluate_report import print_legend  # noqa: PLC0415
    from gspolicy.explain.area_reads import AreaReads  # noqa: PLC0415
    from gspolicy.explain.summaries import area_overview, county_names  # noqa: PLC0415
    from gspolicy.spark.batches import OUTCOME_COLUMNS, PROBLEMS  # noqa: PLC0415
    from gspolicy.spark.frames import decided_arrow, in_input_order, kept_frame, native_wanted, summary  # noqa: PLC0415

    assert isinstance(as_of, dt.date)
    assert reads is None or isinstance(reads, AreaReads)
    policies = Policies(policy_set)
    try:
        households = spark.read.parquet(*(str(f) for f in files))
    except PySparkException as err:
        raise PolicyError(
            [Diagnostic("spark/no-input", None, {"path": str(files[0]), "reason": _first_line(err)})]
        ) from None
    key = policy_set.schema.records[policy_set.schema.root].key or "id"
    if key not in households.columns:
        raise PolicyError(
            [Diagnostic("spark/no-input", None, {"path": str(files[0]), "reason": f"no column `{key}`"})]
        )
    fallen: tuple[tuple[str, str], ...] = ()
    held: list[DataFrame] = []
    if native_wanted():
        from gspolicy.spark.native import decided_native  # noqa: PLC0415

        done = decided_native(households, policies, as_of, lang=lang, reads=reads)
        found, fallen = done.rows, done.fallback_packs
        held += done.held
        _say_fallback(fallen, lang)
    else:
        found = decided_arrow(households, policies, as_of, lang=lang, reads=reads)
    rows = found.persist(StorageLevel.MEMORY_AND_DISK)
    ordered: list[DataFrame] = []
    try:
        good = rows.where(F.size(PROBLEMS) == 0)
        try:
            bad = rows.where(F.size(PROBLEMS) > 0)
            refused_count = bad.count()
            shown = bad.select("id", PROBLEMS).limit(_SHOWN).collect()
            twice = good.groupBy("id").count().where(F.col("count") > 1).orderBy("id").limit(_SHOWN).collect()
        except PySparkException as err:
            raise PolicyError(
                [
                    Diagnostic(
                        "spark/failed",
                        None,
                        {"master": spark.sparkContext.master, "reason": _first_line(err)},
                    )
                ]
            ) from None
        duplicates = [
            Diagnostic("spark/duplicate-id", None, {"id": r["id"], "count": r["count"]}) for r in twice
        ]
        if duplicates:
            print_problems(duplicates, lang, sys.stderr)
            return EXIT_PROBLEMS
        if refused_count:
            for row in shown:
                for text in row[PROBLEMS]:
                    sys.stderr.write(text + "\n")
            if refused_count > len(shown):
                more = refused_count - len(shown)
                sys.stderr.write(
                    f"……另有 {more} 户有问题\n"
                    if lang == "zh"
                    else f"... and {more} more households with problems\n"
                )
            if not args.skip_invalid:
                sys.stderr.write(
                    f"{refused_count} 户记录有问题，未判定任何农户（--skip-invalid 可只判定有效农户）\n"
                    if lang == "zh"
                    else f"{refused_count} households have problems; none was decided "
                    "(--skip-invalid decides the valid ones)\n"
                )
                return EXIT_PROBLEMS
        # the rows in the order of the files given and their rows, as one machine decides them
        good = in_input_order(good, households, key=key, files=spark_paths(households, files)).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        ordered.append(good)
        if args.output is not None:
            args.refused = ()
            args.files = files  # the manifest names and hashes each Parquet file read
            how = "native" if native_wanted() and not fallen else "mapInArrow"
            runner = f"columnar (Polars) on Spark ({spark.sparkContext.master}, {how})"
            with tempfile.TemporaryDirectory(prefix="gspolicy-spark-out-") as folder:
                # Spark writes the table a partition a file, in order; each is read back and
                # written on in turn, so the driver never holds the whole table
                parts = Path(folder) / "rows"
                good.select(*OUTCOME_COLUMNS).write.parquet(str(parts))
                frames = (pl.read_parquet(part) for part in sorted(parts.glob("part-*.parquet")))
                # the refused households are listed on stderr above, not in OUT.refused.jsonl:
                # Spark's rows do not carry the file and line the file names
                written = write_output(
                    args, lang, policy_set, (), as_of, frames, runner=runner, refused_file=False
                )
                if written != EXIT_OK:
                    return EXIT_PROBLEMS
                if args.skip_invalid and refused_count:
                    sys.stderr.write(
                        f"在 Spark 上，被拒绝的 {refused_count} 户只列在上方，不写入 {args.output}.refused.jsonl\n"
                        if lang == "zh"
                        else f"on Spark the {refused_count} refused households are listed above only, not written "
                        f"to {args.output}.refused.jsonl\n"
                    )
        counted = summary(good, policies, as_of, listing=args.list)
        if refused_count and args.skip_invalid:
            total = counted.counts.rows + refused_count
            sys.stderr.write(
                f"已跳过 {refused_count} 条有问题的记录（共 {total} 条），判定其余 {counted.counts.rows} 户\n"
                if lang == "zh"
                else f"skipped {refused_count} of {total} records with problems; deciding the other "
                f"{counted.counts.rows}\n"
            )
        result = None
        if reads is not None:
            kept = kept_frame(good, policies, as_of)
            result, _explained = streamed_areas(
                args,
                lang,
                policy_set,
                as_of,
                StreamedAreas(found_areas, reads),
                [kept],
            )
        sys.stdout.write(counted.render(lang, county_names=county_names(result)))
        if result is not None:
            sys.stdout.write("\n" + area_overview(result, lang))
        explained = _explain(args, lang, policies, households, good, as_of) if args.explain else 0
        print_legend(args, lang, bool(explained))
        return EXIT_OK
    finally:
        for frame in (rows, *ordered, *held):
            frame.unpersist()


def _say_fallback(fallen: tuple[tuple[str, str], ...], lang: Lang) -> None:
    """Tell on stderr which packs were decided in ``mapInArrow`` instead of natively, and why."""
    if not fallen:
        return
    sys.stderr.write(
        f"gspolicy evaluate：{len(fallen)} 个政策包未能在 Spark 中原生判定，改在 mapInArrow 中判定：\n"
        if lang == "zh"
        else f"gspolicy evaluate: {len(fallen)} packs could not run natively on Spark and were decided "
        "in mapInArrow:\n"
    )
    for key, reason in fallen:
        sys.stderr.write(f"  {key}{'：' if lang == 'zh' else ': '}{reason}\n")


def _explain(
    args: argparse.Namespace,
    lang: Lang,
    policies: Policies,
    households: DataFrame,
    good: DataFrame,
    as_of: object,
) -> int:
    """The explanations of `--explain N` households: the first of each verdict, then the first
    ones, as the streamed run picks them (first: in the order Spark reads the files)."""
    import datetime as dt  # noqa: PLC0415

    import polars as pl  # noqa: PLC0415
    from pyspark.sql import functions as F  # noqa: PLC0415

    from gspolicy.columnar.registry import registry_blocks  # noqa: PLC0415
    from gspolicy.explain.build import decide, exit_pack_of  # noqa: PLC0415
    from gspolicy.spark.batches import flat_tables  # noqa: PLC0415

    assert isinstance(as_of, dt.date)
    n = args.explain
    ids: list[str] = []
    for verdict in ("pass", "fail", "undetermined", "not_applicable"):
        found = good.where(F.col("verdict") == verdict).select("id").limit(1).collect()
        ids.extend(str(r["id"]) for r in found)
    ids.extend(str(r["id"]) for r in good.select("id").limit(n).collect())
    ids = list(dict.fromkeys(ids))[:n]
    if not ids:
        return 0
    key = policies.schema.records[policies.schema.root].key or "id"
    nested = pl.from_arrow(households.where(F.col(key).isin(ids)).toArrow())
    assert isinstance(nested, pl.DataFrame)
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="gspolicy-explain-") as folder:
        where = Path(folder)
        for name, table in flat_tables(nested, policies.schema).items():
            table.write_parquet(where / (f"households.{name}.parquet" if name else "households.parquet"))
        records = {}
        for block in registry_blocks(
            [where / "households.parquet"],
            policies.policy_set,
            as_of,
            exit_pack=exit_pack_of(policies.policy_set),
        ):
            for index in range(block.valid):
                record = block.record(index)
                records[str(record.get(key))] = record
    for ident in ids:
        if ident in records:
            sys.stdout.write(
                "\n" + decide(policies.policy_set, records[ident], as_of).render(lang, detail=args.detail)
            )
    return len(ids)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def spark_paths(households: DataFrame, files: Sequence[Path]) -> list[str]:
    """Each of `files` as Spark names it in ``_metadata.file_path`` (the path part of its URI:
    spaces and other characters percent-encoded, a symbolic link not followed), found among the
    files Spark reads by the file itself (device and inode), else the absolute path."""
    named: dict[tuple[int, int], str] = {}
    for uri in households.inputFiles():
        parsed = urllib.parse.urlsplit(uri)
        if parsed.scheme not in ("", "file"):
            continue
        with contextlib.suppress(OSError):
            found = os.stat(urllib.parse.unquote(parsed.path))
            named.setdefault((found.st_dev, found.st_ino), parsed.path)
    paths: list[str] = []
    for file in files:
        try:
            found = os.stat(file)
        except OSError:
            paths.append(str(file.absolute()))
            continue
        paths.append(named.get((found.st_dev, found.st_ino), str(file.absolute())))
    return paths
