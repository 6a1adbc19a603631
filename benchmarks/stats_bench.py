"""Quarterly statistics at registry scale: `gspolicy stats` and `gspolicy reconcile`.

    python benchmarks/stats_bench.py [--sizes 30000 100000] [--repeats 1] [--quick]
    python benchmarks/stats_bench.py --million [--cache /tmp/gspolicy-stats-bench]

Generated registries (`examples/generate_households.py --profile registry`, seeded) of each size,
as JSON Lines and as Parquet registry tables, go through `gspolicy stats FILE --quarter 2017Q4
--format json` in a child process; reported: CPU seconds (median of `--repeats`), peak resident
memory, CPU per 1,000 households, and the figure extrapolated to a million households against the
issue's target (1 M households from Parquet in under 60 CPU-s and 2 GB). Then `gspolicy reconcile`
of the example registry against its clean report (`examples/reports/clean.csv`), which must exit 0.

With `--million`, the measurement itself: a registry of 1,000,000 households as Parquet tables
(generated once into `--cache` and reused: the generator is seeded; about 10 minutes and 1 GB),
`gspolicy stats` on it, then `gspolicy reconcile` of a clean report made from those figures
(must exit 0) and of one with a figure planted one above the computed (must exit 2, listing the
households behind it). The statistics are computed by columns (`gspolicy.stats.lowered`). Not
part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

import gspolicy
from gspolicy.schema.table_write import RegistryWriter

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "examples" / "generate_households.py"
EXAMPLE = ROOT / "examples" / "registry" / "households.jsonl"
CLEAN = ROOT / "examples" / "reports" / "clean.csv"
QUARTER = "2017Q4"
TARGET_CPU, TARGET_RSS = 60.0, 2048.0  # a million households: CPU seconds, MiB
BLOCK = 4096
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(done.returncode, used.ru_utime + used.ru_stime, used.ru_maxrss / 1024)
"""


def measured(argv: list[str]) -> tuple[int, float, float]:
    """Exit code, CPU seconds and peak RSS (MiB) of `gspolicy ARGV` in a child process."""
    command = [sys.executable, "-m", "gspolicy", "--lang", "en", *argv]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], check=True, capture_output=True, text=True, cwd=ROOT
    )
    code, cpu, peak = done.stdout.split()
    return int(code), float(cpu), float(peak)


def generated(folder: Path, size: int, *, keep_jsonl: bool = True) -> dict[str, Path]:
    """A generated registry of `size` households as Parquet tables and (`keep_jsonl`) as JSON
    Lines, in `folder` (files already there are reused: the generator is seeded, so they are the
    same)."""
    jsonl = folder / f"households-{size}.jsonl"
    parquet = folder / f"households-{size}.parquet"
    done = folder / f"households-{size}.done"  # written once the tables are complete
    if done.exists() and (jsonl.exists() or not keep_jsonl):
        return {"jsonl": jsonl, "parquet": parquet}
    target = jsonl if keep_jsonl else parquet  # the generator writes registry tables itself
    subprocess.run(
        [sys.executable, str(GENERATOR), "--profile", "registry", "--count", str(size), "-o", str(target)],
        check=True,
        capture_output=True,
    )
    if keep_jsonl:
        schema = gspolicy.load_policies().schema
        with jsonl.open(encoding="utf-8") as lines, RegistryWriter(parquet, schema) as writer:
            block: list[dict[str, object]] = []
            for line in lines:
                block.append(json.loads(line))
                if len(block) == BLOCK:
                    writer.write(block)
                    block = []
            writer.write(block)
    done.touch()
    return {"jsonl": jsonl, "parquet": parquet}


MILLION = 1_000_000


def run_million(cache: Path) -> int:
    """`stats` and `reconcile` on the million-household Parquet registry (see the module doc)."""
    cache.mkdir(parents=True, exist_ok=True)
    parquet = generated(cache, MILLION, keep_jsonl=False)["parquet"]
    figures = cache / "figures.csv"
    print(f"# {MILLION:,} households from Parquet ({parquet}), in a child process")
    print(f"  {'command':<44} {'exit':>4} {'CPU s':>8} {'peak MiB':>9} {'x target':>9}")

    def show(label: str, code: int, cpu: float, peak: float) -> None:
        print(f"  {label:<44} {code:>4} {cpu:>8.1f} {peak:>9.0f} {cpu / TARGET_CPU:>8.2f}x")

    result = measured(
        ["stats", str(parquet), "--quarter", QUARTER, "--format", "csv", "--output", str(figures)]
    )
    show(f"stats --quarter {QUARTER} --format csv", *result)
    if result[0] != 0:
        return 1
    cells = pl.read_csv(figures, infer_schema=False).filter(pl.col("row") == "cell").drop("row")
    clean = cache / "report-clean.csv"
    cells.write_csv(clean)
    planted = cache / "report-planted.csv"
    first = cells.with_row_index().filter(pl.col("indicator") == "stat.households_in_batch")["index"][0]
    cells.with_columns(
        pl.when(pl.int_range(pl.len()) == first)
        .then((pl.col("value").cast(pl.Int64) + 1).cast(pl.String))
        .otherwise(pl.col("value"))
        .alias("value")
    ).write_csv(planted)
    clean_run = measured(["reconcile", str(clean), str(parquet), "--quarter", QUARTER])
    show("reconcile (a clean report)", *clean_run)
    planted_run = measured(
        ["reconcile", str(planted), str(parquet), "--quarter", QUARTER, "--format", "json"]
    )
    show("reconcile (a batch figure one above)", *planted_run)
    print(f"  target: {TARGET_CPU:.0f} CPU-s and {TARGET_RSS:.0f} MiB each")
    return 0 if (clean_run[0], planted_run[0]) == (0, 2) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 100_000])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each measurement (the median)")
    parser.add_argument("--quick", action="store_true", help="the 3,000-household example registry only")
    parser.add_argument("--million", action="store_true", help="stats and reconcile on 1,000,000 households")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "gspolicy-stats-bench")
    args = parser.parse_args(argv)
    if args.million:
        return run_million(args.cache)
    print(f"# gspolicy stats FILE --quarter {QUARTER} --format json, in a child process")
    print(
        f"  {'registry':<28} {'CPU s':>8} {'peak MiB':>9} {'CPU s/1k':>9} {'1 M: CPU s':>11} {'x target':>9}"
    )
    sources: list[tuple[str, int, Path]] = [("example registry (JSONL)", 3_000, EXAMPLE)]
    with tempfile.TemporaryDirectory() as place:
        if not args.quick:
            for size in sorted(args.sizes):
                files = generated(Path(place), size)
                sources += [
                    (f"{size:,} JSONL", size, files["jsonl"]),
                    (f"{size:,} Parquet", size, files["parquet"]),
                ]
        for label, size, path in sources:
            runs = [
                measured(["stats", str(path), "--quarter", QUARTER, "--format", "json"])
                for _ in range(args.repeats)
            ]
            if any(code != 0 for code, _, _ in runs):
                print(f"  {label}: gspolicy stats exited {runs[0][0]}")
                return 1
            cpu = statistics.median(r[1] for r in runs)
            peak = max(r[2] for r in runs)
            per_k = cpu / size * 1000
            million = per_k * 1000
            print(
                f"  {label:<28} {cpu:>8.1f} {peak:>9.0f} {per_k:>9.2f} {million:>11.0f} {million / TARGET_CPU:>8.1f}x"
            )
    print(f"  target: a million households from Parquet in {TARGET_CPU:.0f} CPU-s and {TARGET_RSS:.0f} MiB")
    code, cpu, peak = measured(["reconcile", str(CLEAN), str(EXAMPLE), "--quarter", QUARTER])
    print(
        f"# gspolicy reconcile {CLEAN.name} (the example registry): exit {code}, {cpu:.1f} CPU-s, {peak:.0f} MiB"
    )
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
