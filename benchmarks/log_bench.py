"""The decision log at registry scale: recording, size, verifying, replaying.

    python benchmarks/log_bench.py [--sizes 100000 1000000] [--repeats 3] [--quick]

The example registry (`examples/registry/households.jsonl`, 3,000 households) is validated and
decided once by the columnar runner; its records and outcome rows are then recorded again and
again with distinct household ids (the id changed in the record and the row, so that no two
entries are equal) into a new log per size through `Recorder` (batches of `BATCH`, group commit,
the run's manifest entry last).  Reported per size: entries per CPU-second of recording (the
log's work: canonical JSON, hashes, compression, SQLite — not deciding), bytes per entry on disk
(the file after a WAL checkpoint, over the entries), the CPU seconds of `verify` (every hash, every
record and outcome decompressed and checked, streamed), and peak resident memory, whose growth
from the smallest size to the largest says whether recording and verifying stay flat.  Issue
targets: at least 20,000 entries per CPU-second, at most 2 KB an entry, a million entries in at
most 2 GB.  Then end to end: `gspolicy log record` on the example registry in a child process
(checking, validating, deciding and recording), households per CPU-second; and `log replay` of a
sample of entries (the explained decision derived again), each identical.  Medians of
`--repeats` runs where a size is run more than once; the machine is shared, CPU time is what
counts.  Not part of the test suite; the logs go to a temporary folder (a million entries take
about a gigabyte).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from gspolicy.api import load_policies
from gspolicy.columnar.runner import decide_frame
from gspolicy.explain.build import exit_pack_of
from gspolicy.schema.records import load_records_from
from gspolicy.store.log import BATCH, DecisionLog
from gspolicy.tables import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "examples" / "registry" / "households.jsonl"
AS_OF = dt.date(2018, 12, 31)


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(db: Path, size: int, base: list[tuple[Any, dict[str, Any]]], policy_set: Any) -> tuple[float, int]:
    """Record `size` entries; the CPU seconds taken and the last entry's id."""
    with DecisionLog.open(db) as log:
        started = _cpu()
        run = log.recorder(policy_set, as_of=AS_OF, actor="bench", exit_pack=exit_pack_of(policy_set))
        n = len(base)
        for i in range(size):
            rec, row = base[i % n]
            copy = f"{row['id']}-{i // n}"
            run.add(rec.replace(id=copy), {**row, "id": copy})
        closing = run.finish(command="benchmarks/log_bench.py", inputs=[REGISTRY])
        spent = _cpu() - started
        log.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return spent, closing.entry


def copies(size: int, base: list[tuple[Any, dict[str, Any]]]) -> float:
    """The CPU seconds of making the benchmark's copies alone (left out of the recording rate)."""
    started = _cpu()
    n = len(base)
    for i in range(size):
        rec, row = base[i % n]
        copy = f"{row['id']}-{i // n}"
        _made = (rec.replace(id=copy), {**row, "id": copy})
    return _cpu() - started


def verify(db: Path) -> tuple[float, bool, int]:
    with DecisionLog.open(db, create=False) as log:
        started = _cpu()
        result = log.verify()
        return _cpu() - started, result.ok, result.entries


def replay(db: Path, sample: int, last: int) -> tuple[float, int]:
    with DecisionLog.open(db, create=False) as log:
        started = _cpu()
        step = max(1, (last - 1) // sample)
        ids = list(range(1, last, step))[:sample]
        same = sum(log.replay(i).identical for i in ids)
        return (_cpu() - started) / len(ids), same == len(ids)


def end_to_end(folder: Path) -> tuple[float, int]:
    """`gspolicy log record` on the example registry in a child process: CPU seconds, entries."""
    db = folder / "e2e.db"
    measure = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(u.ru_utime + u.ru_stime)\n"
    )
    argv = [
        sys.executable, "-c", measure, sys.executable, "-m", "gspolicy", "log", "record", str(REGISTRY),
        "--as-of", AS_OF.isoformat(), "--actor", "bench", "--db", str(db),
        "--receipts", str(folder / "receipts.jsonl"),
    ]  # fmt: skip
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    with DecisionLog.open(db, create=False) as log:
        return float(out.strip()), log.count() - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="runs of the smallest size (median)")
    parser.add_argument(
        "--quick", action="store_true", help="10,000 entries once: a check, not a measurement"
    )
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else sorted(args.sizes)
    policy_set = load_policies().policy_set
    records, _ = load_records_from([REGISTRY], policy_set.schema)
    frame = decide_frame(policy_set, list(records), AS_OF, exit_pack=exit_pack_of(policy_set))[0]
    base = list(zip(records, frame.select(COLUMNS).iter_rows(named=True), strict=True))
    print(
        f"decision log, batches of {BATCH:,} entries; {len(base):,} example households recorded again and again"
    )
    print(f"{'entries':>10} {'record CPU-s':>13} {'entries/CPU-s':>14} {'bytes/entry':>12} "
          f"{'file MB':>9} {'verify CPU-s':>13} {'verified/CPU-s':>15} {'peak MiB':>9}")  # fmt: skip
    peaks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gspolicy-log-bench-") as tmp:
        folder = Path(tmp)
        last_db = folder / "none.db"
        last = 0
        for size in sizes:
            times, checks = [], []
            repeats = 1 if args.quick or size != sizes[0] else args.repeats
            for k in range(repeats):
                db = folder / f"log-{size}-{k}.db"
                spent, last = record(db, size, base, policy_set)
                times.append(spent)
                checked, ok, entries = verify(db)
                if not ok or entries != size + 1:
                    raise SystemExit(f"the log of {size:,} entries does not verify ({entries:,} entries)")
                checks.append(checked)
                last_db = db
                if k < repeats - 1:
                    for path in folder.glob(f"log-{size}-{k}.db*"):
                        path.unlink()
            spent, checked = statistics.median(times), statistics.median(checks)
            spent -= copies(size, base)
            size_bytes = last_db.stat().st_size
            peaks.append(_peak_mib())
            print(
                f"{size:>10,} {spent:>13.1f} {size / spent:>14,.0f} {size_bytes / size:>12,.0f} "
                f"{size_bytes / 1e6:>9,.0f} {checked:>13.1f} {size / checked:>15,.0f} {peaks[-1]:>9,.0f}"
            )
        per_replay, identical = replay(last_db, 20 if args.quick else 200, last)
        print(f"replay (the explained decision derived again): {per_replay * 1000:.1f} ms CPU an entry; "
              f"{'every one identical' if identical else 'NOT IDENTICAL'}")  # fmt: skip
        cpu, entries = end_to_end(folder)
        print(f"`gspolicy log record` on the example registry ({entries:,} households, checked, validated, "
              f"decided, recorded; a child process): {cpu:.1f} CPU-s, {entries / cpu:,.0f} households/CPU-s")  # fmt: skip
    if len(peaks) > 1:
        print(
            f"peak memory from {sizes[0]:,} to {sizes[-1]:,} entries: {peaks[0]:,.0f} -> {peaks[-1]:,.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
