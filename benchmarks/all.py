"""Every benchmark, one after the other: the README's one command.

    python benchmarks/all.py [--quick]

1. `registry_bench.py`: the fixed 10-rule reference workload on 100,000 generated households (the
   traced interpreter on 5,000 of them) in gspolicy's per-record evaluator,
   traced interpreter and Polars runner, durable_rules and GoRules ZEN (each with its extra) and
   the hand-written limits (Python closures, a Polars scan), all agreeing on every household; the
   bundled packs by record and by columns; the per-record evaluator against the columnar runner
   on 100,000 generated households (every row equal); the main command; loading.
2. `registry_io_bench.py`: the main job on generated registries of 252,000 and 1,002,000
   households from Parquet, CSV and JSON Lines with `--output`, and with the villages and
   counties (the streamed summary equal to the per-record evaluator's on 10,000 households).

3. `log_bench.py`: the decision log — entries recorded per CPU-second, bytes per entry, verify
   and replay CPU at 100,000 and 1,000,000 entries, and `gspolicy log record` end to end.
4. `ledger_bench.py`: the household ledger — `ledger plan --from` an outcome table, `overdue`
   and `counts` at 100,000 and 1,000,000 households.
5. `stats_bench.py`: quarterly statistics — `gspolicy stats` on generated registries of 30,000 and
   100,000 households (JSON Lines and Parquet), extrapolated to a million against the issue's
   target, and `gspolicy reconcile` of the example registry against its clean report.
6. `cli_bench.py`: the command line's start-up — median CPU of `gspolicy --help`,
   `gspolicy evaluate --help` and `gspolicy --version` (target: `--help` at most 300 ms).
7. `serve_bench.py`: the decision service under load — 50 concurrent clients on loopback for 30 s,
   single households then batches of 1,000: latency p50/p99, throughput, errors (none), the
   server's memory after 5 s against at the end (needs the `serve` extra; left out without it).
8. `prove_bench.py`: proofs about the bundled packs — `gspolicy check --prove` (target: under 60
   CPU-s, at least 90 % of rules and criteria decided) and `gspolicy diff --prove` between the
   2016 and 2018 household exit versions (the `analysis` extra).

`--quick` runs each on small inputs (a check that they work, not a measurement).  Each runs in
its own process; nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs: a check, not a measurement")
    args = parser.parse_args(argv)
    runs = [
        [
            "registry_bench.py",
            *(
                [
                    "--repeats",
                    "1",
                    "--compare",
                    "2000",
                    "--frame-rows",
                    "9000",
                    "--ten",
                    "3000",
                    "--traced",
                    "300",
                    "--ten-repeats",
                    "1",
                ]
                if args.quick
                else []
            ),
        ],
        ["registry_io_bench.py", *(["--sizes", "3000", "12000"] if args.quick else [])],
        ["log_bench.py", *(["--quick"] if args.quick else [])],
        ["ledger_bench.py", *(["--quick"] if args.quick else [])],
        ["stats_bench.py", *(["--quick"] if args.quick else [])],
        ["cli_bench.py", *(["--quick"] if args.quick else [])],
        ["serve_bench.py", *(["--quick"] if args.quick else [])],
        ["prove_bench.py", *(["--quick"] if args.quick else [])],
    ]
    for script, *more in runs:
        print(f"\n# {script} {' '.join(more)}".rstrip(), flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *more], check=False)
        if done.returncode != 0:
            return done.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
