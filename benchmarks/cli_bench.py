"""Start-up of the command line: the median CPU time (user + system, the child's own rusage) of
`gspolicy --help`, `gspolicy evaluate --help` and `gspolicy --version`, each run N times in a new
process (target: `gspolicy --help` at most 300 ms).

    python benchmarks/cli_bench.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys

COMMANDS = (["--help"], ["evaluate", "--help"], ["--version"])
TARGET_MS = 300.0


def cpu_ms(argv: list[str]) -> float:
    """The CPU milliseconds one `gspolicy ARGV` process takes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "gspolicy", *argv],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "GSPOLICY_LANG": "en"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="processes per command (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 runs each: a check, not a measurement")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else args.runs
    over = False
    for command in COMMANDS:
        cpu_ms(command)  # bytecode compiled once, outside the measurement
        times = [cpu_ms(command) for _ in range(runs)]
        median = statistics.median(times)
        shown = " ".join(["gspolicy", *command])
        print(
            f"{shown:<28} median {median:6.1f} ms CPU over {runs} runs (min {min(times):.1f}, max {max(times):.1f})"
        )
        over = over or (command == ["--help"] and median > TARGET_MS)
    if over:
        print(f"`gspolicy --help` is over its target of {TARGET_MS:.0f} ms CPU")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
