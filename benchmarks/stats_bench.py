"""Quarterly statistics at registry scale: `gspolicy stats` and `gspolicy reconcile`.

    python benchmarks/stats_bench.py [--sizes 30000 100000] [--repeats 1] [--quick]

Generated registries (`examples/generate_households.py --profile registry`, seeded) of each size,
as JSON Lines and as Parquet registry tables, go through `gspolicy stats FILE --quarter 2017Q4
--format json` in a child process; reported: CPU seconds (median of `--repeats`), peak resident
memory, CPU per 1,000 households, and the figure extrapolated to a million households against the
issue's target (1 M households from Parquet in under 60 CPU-s and 2 GB). Then `gspolicy reconcile`
of the example registry against its clean report (`examples/reports/clean.csv`), which must exit 0.
The statistics are computed record by record today (`gspolicy.stats.figures` over the per-record
evaluator), so the target is not met; this benchmark says by how much. Not part of the test suite;
the registries go to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

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
    """A generated registry of `size` households as JSON Lines and as Parquet tables, in `folder`
    (files already there are reused: the generator is seeded, so they are the same)."""
    jsonl = folder / f"households-{size}.jsonl"
    parquet = folder / f"households-{size}.parquet"
    done = folder / f"households-{size}.done"  # written once the tables are complete
    if done.exists() and (jsonl.exists() or not keep_jsonl):
        return {"jsonl": jsonl, "parquet": parquet}
    subprocess.run(
        [sys.executable, str(GENERATOR), "--profile", "registry", "--count", str(size), "-o", str(jsonl)],
        check=True,
        capture_output=True,
    )
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
    if not keep_jsonl:
        jsonl.unlink()
    return {"jsonl": jsonl, "parquet": parquet}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 100_000])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each measurement (the median)")
    parser.add_argument("--quick", action="store_true", help="the 3,000-household example registry only")
    args = parser.parse_args(argv)
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
