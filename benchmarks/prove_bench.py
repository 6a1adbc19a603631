"""Proofs about the bundled packs (issue 30's targets): `gspolicy check --prove` under 60 CPU-s,
deciding at least 90 % of the rules and criteria; `gspolicy diff --prove` between the 2016 and
2018 household exit versions.  CPU is the child process's own (user + system, rusage).

    python benchmarks/prove_bench.py [--timeout MS] [--quick]

Needs the `analysis` extra.  `--quick` runs the diff only (a check that it works, not a measurement).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_CPU_S = 60.0
TARGET_SHARE = 90.0


def run(argv: list[str]) -> tuple[float, str]:
    """CPU seconds of one `gspolicy ARGV` process, and what it wrote."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "gspolicy", *argv],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "GSPOLICY_LANG": "en"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 2):
        sys.stderr.write(done.stderr)
        raise SystemExit(done.returncode)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", default="2000", help="milliseconds per question (default 2000)")
    parser.add_argument("--quick", action="store_true", help="one pack: a check, not a measurement")
    args = parser.parse_args(argv)
    if args.quick:
        cpu, out = run(
            [
                "diff",
                "policies/exit_criteria/household/2016.1.yaml",
                "policies/exit_criteria/household/2018.1.yaml",
                "--prove",
                "--timeout",
                args.timeout,
            ]
        )
        print(f"diff --prove (exit 2016.1 → 2018.1): {cpu:.1f} CPU-s")
        return 0
    cpu, out = run(["check", "--prove", "--timeout", args.timeout])
    total = re.search(r"total: (\d+) of (\d+) rules and criteria decided \(([\d.]+) %\)", out)
    assert total is not None, out[-2000:]
    share = float(total.group(3))
    print(
        f"check --prove: {total.group(1)} of {total.group(2)} decided ({share:.1f} %, target ≥ {TARGET_SHARE:.0f} %), "
        f"{cpu:.1f} CPU-s (target < {TARGET_CPU_S:.0f}), lint included"
    )
    for line in out.splitlines():
        if line.strip().startswith(("finding:", "not proved", "proved:")):
            print("  " + line.strip())
    cpu, out = run(
        [
            "diff",
            "policies/exit_criteria/household/2016.1.yaml",
            "policies/exit_criteria/household/2018.1.yaml",
            "--prove",
            "--timeout",
            args.timeout,
        ]
    )
    print(f"diff --prove (exit 2016.1 → 2018.1): {cpu:.1f} CPU-s")
    for line in out.splitlines():
        if re.match(r"  (verdict|criterion|rule)", line):
            print("  " + line.strip())
    return 0 if share >= TARGET_SHARE and cpu < TARGET_CPU_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
