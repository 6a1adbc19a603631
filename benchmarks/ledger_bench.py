"""The household work ledger at scale: planning from an outcome table, overdue items, counts.

    python benchmarks/ledger_bench.py [--sizes 100000 1000000] [--repeat 3] [--quick]

The example registry (3,000 households, `examples/registry/households.jsonl`) is decided once as
of 2018-12-31 (`gspolicy evaluate … --output`), and its rows that grant something are replicated
with Polars into an outcome table of N households with distinct ids (a county code in front, a
``county`` column beside), written as Parquet with its run manifest.  For each size, in child
processes started from a small parent (CPU time of the child; the median of `--repeat` runs):

- ``gspolicy ledger plan --from OUT.parquet --db L.db --period 60`` into a fresh ledger (households
  planned per CPU-second);
- ``gspolicy ledger overdue --today 2019-06-01`` (every item is overdue then: items per CPU-second),
  as text and as JSON;
- ``gspolicy ledger counts`` and ``counts --quarter 2018Q4``.

The ledger is checked after planning: one current plan per household, one item per measure of
its support.  `--quick` runs 10,000 households only.  Not part of the test suite; the files go to
a temporary folder (a million households take about 1.5 GB of ledger).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from gspolicy.cli import main as gspolicy_main
from gspolicy.tables import file_digest

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "examples" / "registry" / "households.jsonl"
_MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(used.ru_utime + used.ru_stime)
"""


def decided(folder: Path) -> tuple[pl.DataFrame, dict[str, object]]:
    """The example registry's outcome rows that grant something, and the run's manifest."""
    out = folder / "registry.parquet"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = gspolicy_main(["evaluate", str(REGISTRY), "--as-of", "2018-12-31", "--output", str(out)])
    if code != 0:
        raise SystemExit(f"gspolicy evaluate exited {code}")
    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text(encoding="utf-8"))
    rows = pl.read_parquet(out).filter(pl.col("support").list.len() > 0)
    return rows, manifest


def outcome_table(rows: pl.DataFrame, manifest: dict[str, object], size: int, path: Path) -> int:
    """An outcome table of `size` households, the `rows` replicated with distinct ids, and its
    manifest beside it; returns how many items its support gives (one per measure of a row)."""
    copies = -(-size // rows.height)
    table = (
        pl.concat([rows] * copies)
        .head(size)
        .with_row_index("__n")
        .with_columns(
            pl.col("id").str.slice(0, 6).alias("county"),
            pl.format(
                "{}-{}", pl.col("id").str.slice(0, 6), pl.col("__n").cast(pl.String).str.zfill(8)
            ).alias("id"),
        )
        .drop("__n")
    )
    table.write_parquet(path, row_group_size=4096)
    body = {**manifest, "records": size, "output": {"file": path.name, "format": "parquet"}}
    body["output"] = {"file": path.name, "format": "parquet", "sha256": file_digest(path)}
    path.with_name(path.name + ".manifest.json").write_text(
        json.dumps(body, ensure_ascii=False), encoding="utf-8"
    )
    measures = pl.col("support").list.eval(pl.element().str.replace("=.*$", "")).list.n_unique()
    return int(table.select(measures.sum()).item())  # a measure retained twice is one item


def cpu(argv: list[str]) -> float:
    """CPU seconds of `gspolicy ARGV` in a child process (output thrown away)."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "gspolicy", "--lang", "en", *argv],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return float(done.stdout.split()[-1])


def median_cpu(argv: list[str], repeat: int) -> float:
    return statistics.median(cpu(argv) for _ in range(repeat))


def check(db: Path, size: int, items: int) -> None:
    conn = sqlite3.connect(db)
    try:
        plans, current = conn.execute(
            "SELECT count(*), count(DISTINCT household) FROM plans WHERE superseded_by IS NULL"
        ).fetchone()
        stored = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    finally:
        conn.close()
    if (plans, current, stored) != (size, size, items):
        raise SystemExit(f"the ledger holds {plans} plans of {current} households and {stored} items")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (the median is shown)")
    parser.add_argument("--quick", action="store_true", help="10,000 households only")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else sorted(args.sizes)
    print("# gspolicy ledger, in a child process; CPU seconds (median of", args.repeat, "runs) and rates")
    with tempfile.TemporaryDirectory() as place:
        folder = Path(place)
        rows, manifest = decided(folder)
        print(f"  {rows.height:,} rows of the example registry grant something; replicated with distinct ids")
        for size in sizes:
            table = folder / f"outcomes-{size}.parquet"
            items = outcome_table(rows, manifest, size, table)
            db = folder / f"ledger-{size}.db"
            plan = [
                "ledger",
                "plan",
                "--from",
                str(table),
                "--db",
                str(db),
                "--actor",
                "bench",
                "--period",
                "60",
            ]
            times = []
            for _ in range(args.repeat):
                for old in folder.glob(f"ledger-{size}.db*"):
                    old.unlink()
                times.append(cpu(plan))
            check(db, size, items)
            planned = statistics.median(times)
            print(
                f"  {size:>10,} households  plan --from   {planned:8.1f} CPU-s  {size / planned:10,.0f} households/s"
                f"  ({items:,} items, {items / planned:,.0f}/s)"
            )
            for name, more in (
                ("overdue", ["ledger", "overdue", "--today", "2019-06-01"]),
                ("overdue json", ["ledger", "overdue", "--today", "2019-06-01", "--format", "json"]),
                ("counts", ["ledger", "counts"]),
                ("counts 2018Q4", ["ledger", "counts", "--quarter", "2018Q4"]),
            ):
                took = median_cpu([*more, "--db", str(db)], args.repeat)
                print(
                    f"  {size:>10,} households  {name:13s} {took:8.1f} CPU-s  {items / took:10,.0f} items/s"
                )
            for old in folder.glob(f"*-{size}.*"):
                old.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
