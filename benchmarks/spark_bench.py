"""The packs on Apache Spark against the Polars runner on one machine, at scale.

    python benchmarks/spark_bench.py [--households 1000000] [--masters local[1],local[2]] [--paths native,arrow]

1. A registry of ``--households`` households in the nested Parquet layout (one row a household,
   members and support items as lists of structs), in files of ``--base`` households: the
   project's generator makes ``--base`` households (a new seed), and each further file is a copy
   of them under new ids (``…~r2``), so the files share one Parquet schema.  The same households
   as registry tables (households, members and support items keyed by ``household_id``) for the
   Polars runner.  Both are kept in ``--workdir`` and made once.
2. ``gspolicy evaluate FILES --output polars.parquet`` (the Polars runner, one process): wall and
   CPU seconds, peak memory.
3. ``gspolicy evaluate FOLDER --engine spark --master M --output spark.parquet`` for each path
   (``native``: the packs as Spark columns in the JVM; ``arrow``: the Polars runner inside
   ``mapInArrow``, ``GSPOLICY_SPARK_NATIVE=0``) and each master:
   wall seconds, households per second, the CPU seconds of the driver, the JVM and the Python
   workers the JVM waited for (a lower bound: a worker the JVM leaves to others is not counted),
   the largest memory of one Python worker (one partition at a time), and the ratio to the Polars
   run; the summary printed and the table written must equal the Polars run's (the run stops
   otherwise).

Not part of the test suite; needs the spark extra and Java.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "examples" / "generate_households.py"
DAY = "2018-12-31"
SEED = 3131

# run in a child: the command on Spark, then the JVM shut down and waited for (so that its CPU
# time is the child's children's), while a thread keeps the largest memory of a Python worker
DRIVER = textwrap.dedent(
    """
    import json, os, resource, sys, threading, time
    from pathlib import Path
    from gspolicy.cli import main
    from gspolicy.spark.session import spark_session

    args, master, report = sys.argv[1:-2], sys.argv[-2], sys.argv[-1]
    spark = spark_session(master)
    spark.sparkContext.setLogLevel("ERROR")
    from pyspark import SparkContext
    gateway = SparkContext._gateway
    jvm = gateway.proc
    peak = {"worker": 0, "jvm": 0}
    done = threading.Event()

    def watch():
        while not done.wait(0.5):
            todo = [jvm.pid]
            while todo:
                pid = todo.pop()
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    rss = int(next(l for l in status.splitlines() if l.startswith("VmRSS")).split()[1])
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                    kind = "jvm" if pid == jvm.pid else ("worker" if b"pyspark" in cmd or b"python" in cmd else "")
                    if kind:
                        peak[kind] = max(peak[kind], rss)
                    for task in os.listdir(f"/proc/{pid}/task"):
                        todo += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
                except (OSError, StopIteration):
                    continue

    threading.Thread(target=watch, daemon=True).start()
    started = time.perf_counter()
    code = main([*args, "--master", master])
    wall = time.perf_counter() - started
    done.set()
    spark.stop()
    gateway.shutdown()
    jvm.stdin.close()
    jvm.wait(timeout=300)
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(report).write_text(json.dumps({
        "code": code, "wall": wall,
        "cpu": own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime,
        "worker_mib": peak["worker"] / 1024, "jvm_mib": peak["jvm"] / 1024,
    }))
    """
)


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("generate_households", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def prepare(workdir: Path, households: int, base: int) -> tuple[Path, list[Path]]:
    """The nested folder and the registry tables' households files (made once)."""
    import gspolicy  # noqa: PLC0415
    from gspolicy.spark.batches import flat_tables  # noqa: PLC0415

    copies = -(-households // base)
    nested = workdir / f"nested-{base}"
    flat = workdir / f"flat-{base}"
    nested.mkdir(parents=True, exist_ok=True)
    flat.mkdir(parents=True, exist_ok=True)
    first = nested / "part-0001.parquet"
    if not first.exists():
        generator = _generator()
        _plan, rows = generator.stream(SEED, base)  # type: ignore[attr-defined]
        pl.DataFrame(list(rows), infer_schema_length=None).write_parquet(first, row_group_size=16_384)
    schema = gspolicy.load_policies().schema
    made = pl.read_parquet(first)
    mains: list[Path] = []
    for copy in range(1, copies + 1):
        target = nested / f"part-{copy:04d}.parquet"
        frame = made if copy == 1 else made.with_columns(pl.col("id") + f"~r{copy}")
        if not target.exists():
            frame.write_parquet(target, row_group_size=16_384)
        main = flat / f"part-{copy:04d}.parquet"
        if not main.exists():
            for name, table in flat_tables(frame, schema).items():
                table.write_parquet(main if not name else flat / f"part-{copy:04d}.{name}.parquet")
        mains.append(main)
    return nested, mains


def _polars(mains: list[Path], out: Path) -> tuple[dict[str, float], str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gspolicy",
            "evaluate",
            *map(str, mains),
            "--as-of",
            DAY,
            "--lang",
            "en",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall": wall, "cpu": cpu, "mib": after.ru_maxrss / 1024}, done.stdout


def _spark(nested: Path, master: str, path: str, out: Path, report: Path) -> tuple[dict[str, float], str]:
    args = [
        "evaluate",
        str(nested),
        "--engine",
        "spark",
        "--as-of",
        DAY,
        "--lang",
        "en",
        "--output",
        str(out),
    ]
    env = {
        **os.environ,
        "PYSPARK_PYTHON": sys.executable,
        "GSPOLICY_SPARK_NATIVE": "1" if path == "native" else "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *args, master, str(report)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    report.with_suffix(".err").write_text(done.stderr)
    figures = json.loads(report.read_text()) if report.exists() else {}
    if done.returncode != 0 or figures.get("code") != 0:
        sys.exit(f"the Spark run failed ({master}, {path}):\n{done.stderr[-3000:]}")
    return figures, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--base", type=int, default=100_000, help="households a file (default: %(default)s)")
    parser.add_argument("--masters", default="local[1],local[2]")
    parser.add_argument(
        "--paths",
        default="native,arrow",
        help="native: Spark columns in the JVM; arrow: the Polars runner in mapInArrow (default: %(default)s)",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gspolicy-spark-bench"))
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the Polars run of an earlier run in --workdir"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    nested, mains = prepare(args.workdir, args.households, args.base)
    count = len(mains) * args.base
    polars_out = args.workdir / "polars.parquet"
    kept = args.workdir / "polars.json"
    if args.reuse and kept.exists() and polars_out.exists():
        polars, expected = json.loads(kept.read_text())
    else:
        polars, expected = _polars(mains, polars_out)
        kept.write_text(json.dumps([polars, expected]))
    print(
        f"{count:,} households, the Polars runner (one process): {polars['wall']:.1f} s wall, "
        f"{polars['cpu']:.1f} CPU-s ({count / polars['cpu']:,.0f}/CPU-s), peak {polars['mib']:.0f} MiB"
    )
    table = pl.read_parquet(polars_out)
    for path in args.paths.split(","):
        for master in args.masters.split(","):
            tag = "".join(c for c in master if c.isalnum()) + "-" + path
            out = args.workdir / f"spark-{tag}.parquet"
            figures, text = _spark(nested, master, path, out, args.workdir / f"spark-{tag}.json")
            same_text = text == expected
            same_table = pl.read_parquet(out).equals(table)
            print(
                f"{count:,} households on Spark {master}, {path}: {figures['wall']:.1f} s wall, "
                f"{count / figures['wall']:,.0f} households/s ({polars['wall'] / figures['wall']:.2f}x the "
                f"Polars run's wall time), {figures['cpu']:.1f} CPU-s (at least; "
                f"{polars['cpu'] / figures['cpu']:.2f}x the Polars run's), largest Python worker "
                f"{figures['worker_mib']:.0f} MiB, JVM {figures['jvm_mib']:.0f} MiB; summary "
                f"{'equal' if same_text else 'DIFFERS'}, table {'equal' if same_table else 'DIFFERS'}"
            )
            if not (same_text and same_table):
                sys.exit("the Spark run differs from the Polars runner's")


if __name__ == "__main__":
    main()
