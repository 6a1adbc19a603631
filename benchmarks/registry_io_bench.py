"""Registry files in and out: the main job on large registries, end to end, in a child process.

    python benchmarks/registry_io_bench.py [--sizes 252000 1002000] [--formats jsonl parquet]

For each size, a registry of that many households is written by the example generator
(`examples/generate_households.py --profile registry`, seeded: every household drawn afresh, with
the planted defects of a real registry) as JSON Lines, and from it as Parquet and CSV tables
(households, members, support; written a block at a time), and
`gspolicy evaluate FILE --as-of 2018-12-31 --output OUT.parquet --skip-invalid` runs on it in a
child process started from a small parent: CPU seconds, households per CPU-second and peak resident
memory, and the peak's growth from the smallest size to the largest (issue targets: 25,000/s from
JSON Lines, 100,000/s from Parquet; at most 2 GB at a million households, within 10 % of the peak
at a quarter of that).  Every run must decide or refuse each household once, and every format
alike.  With `--areas` (the default), the largest registry is decided again from Parquet with the
example registry's village and county files (the generator draws households into the same 144
villages and 9 counties), and on its first 10,000 households the summary of the streamed run is
compared with that of the per-record evaluator on whole records: they must be equal.  Not part of the
test suite; the files go to a temporary folder (a million households take about 2.8 GB as JSON
Lines).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

import gspolicy
from gspolicy.schema.tabular import BLOCK, RegistryWriter

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "examples" / "generate_households.py"
_MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(used.ru_utime + used.ru_stime, used.ru_maxrss / 1024)
"""


def write_jsonl(path: Path, size: int) -> int:
    """A generated registry of `size` households as JSON Lines (in a child process)."""
    subprocess.run(
        [sys.executable, str(GENERATOR), "--profile", "registry", "--count", str(size), "-o", str(path)],
        check=True,
        capture_output=True,
    )
    return size


def write_tables(jsonl: Path, path: Path) -> None:
    """The JSON Lines registry as registry tables, a block of households at a time."""
    schema = gspolicy.load_policies().schema
    with jsonl.open(encoding="utf-8") as lines, RegistryWriter(path, schema) as writer:
        block: list[dict[str, object]] = []
        for line in lines:
            block.append(json.loads(line))
            if len(block) == BLOCK:
                writer.write(block)
                block = []
        writer.write(block)


AREAS = ROOT / "examples" / "registry"


def run_areas(source: Path) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of the main job with the villages and counties."""
    return _measured(
        [
            str(source),
            "--villages",
            str(AREAS / "villages.jsonl"),
            "--counties",
            str(AREAS / "counties.jsonl"),
        ]
    )


def same_areas(jsonl: Path, count: int) -> bool:
    """The streamed run's summary with areas against the per-record evaluator's on whole records
    (the path taken when the area packs read what the kept fields cannot serve), on the first
    `count` households of `jsonl`."""
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    from gspolicy import cli  # noqa: PLC0415
    from gspolicy.cli import evaluate  # noqa: PLC0415

    sample = jsonl.with_name(f"sample-{count}.jsonl")
    with jsonl.open(encoding="utf-8") as lines, sample.open("w", encoding="utf-8") as out:
        for _ in range(count):
            out.write(next(lines))
    argv = [
        "--lang", "en", "evaluate", str(sample), "--villages", str(AREAS / "villages.jsonl"),
        "--counties", str(AREAS / "counties.jsonl"), "--as-of", "2018-12-31", "--skip-invalid", "--list",
    ]  # fmt: skip
    outputs = []
    for reads in (evaluate.area_reads, lambda policy_set, as_of: None):
        saved = evaluate.area_reads
        evaluate.area_reads = reads  # type: ignore[assignment]
        text = io.StringIO()
        try:
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(io.StringIO()):
                cli.main(argv)
        finally:
            evaluate.area_reads = saved  # type: ignore[assignment]
        outputs.append(text.getvalue())
    return outputs[0] == outputs[1] and "villages decided" in outputs[0]


def run(source: Path, out: Path) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of the main job with `--output`."""
    return _measured([str(source), "--output", str(out)])


def _measured(more: list[str]) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of `gspolicy evaluate` as of 2018-12-31 with `--skip-invalid`
    and `more`, run from a small parent process."""
    argv = [sys.executable, "-m", "gspolicy", "evaluate", "--as-of", "2018-12-31", "--skip-invalid", *more]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], check=True, capture_output=True, text=True, cwd=ROOT
    )
    cpu, peak = done.stdout.split()
    return float(cpu), float(peak)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[252_000, 1_002_000])
    parser.add_argument(
        "--formats", nargs="+", choices=("jsonl", "parquet", "csv"), default=["jsonl", "parquet", "csv"]
    )
    parser.add_argument("--no-areas", dest="areas", action="store_false", help="skip the run with areas")
    args = parser.parse_args(argv)
    print("# gspolicy evaluate FILE --output OUT.parquet, in a child process; CPU time and peak RSS")
    peaks: dict[str, list[tuple[int, float]]] = {}
    refused_by_size: dict[int, set[int]] = {}
    with tempfile.TemporaryDirectory() as place:
        folder = Path(place)
        for size in sorted(args.sizes):
            jsonl = folder / f"households-{size}.jsonl"
            count = write_jsonl(jsonl, size)
            sources = {"jsonl": jsonl}
            for kind in ("parquet", "csv"):
                if kind in args.formats:
                    sources[kind] = folder / f"households-{size}.{kind}"
                    write_tables(jsonl, sources[kind])
            for kind in args.formats:
                out = folder / f"out-{kind}-{size}.parquet"
                cpu, peak = run(sources[kind], out)
                rows, ids = pl.scan_parquet(out).select(pl.len(), pl.col("id").n_unique()).collect().row(0)
                refused_path = out.with_name(out.name + ".refused.jsonl")
                refused = len(refused_path.read_bytes().splitlines()) if refused_path.exists() else 0
                refused_by_size.setdefault(count, set()).add(refused)
                if rows != ids or rows + refused != count or len(refused_by_size[count]) != 1:
                    print(
                        f"{kind} {count:,}: {rows:,} rows ({ids:,} ids) decided and {refused:,} refused;"
                        f" refused by the formats: {sorted(refused_by_size[count])}"
                    )
                    return 1
                peaks.setdefault(kind, []).append((count, peak))
                print(
                    f"  {kind:8s} {count:>10,} households  {cpu:8.1f} CPU-s  {count / cpu:8,.0f}/s  peak {peak:7.0f} MiB"
                    f"  ({refused:,} refused)"
                )
            if args.areas and size == max(args.sizes):
                tables = sources.get("parquet") or sources["jsonl"]
                cpu, peak = run_areas(tables)
                print(
                    f"  {tables.suffix[1:]:8s} {count:>10,} households and their 144 villages and 9 counties"
                    f"  {cpu:8.1f} CPU-s  {count / cpu:8,.0f}/s  peak {peak:7.0f} MiB"
                )
                equal = same_areas(jsonl, min(10_000, count))
                print(
                    f"  the first {min(10_000, count):,} households: the streamed summary with areas"
                    f" {'equals' if equal else 'DIFFERS FROM'} the per-record evaluator's"
                )
                if not equal:
                    return 1
            for path in folder.iterdir():
                path.unlink()
    for kind, rows in peaks.items():
        if len(rows) > 1:
            (small, low), (large, high) = rows[0], rows[-1]
            print(f"  {kind}: peak at {large:,} is {100 * (high / low - 1):+.0f} % of the peak at {small:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
