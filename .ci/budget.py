"""Check a test run's CPU time against the budget stated in the README.

    python .ci/budget.py full REPORT.json     # the README's test command
    python .ci/budget.py quick REPORT.json    # pytest -m 'not slow'

REPORT is what ``GSPOLICY_CPU_REPORT`` made the test run write (tests/support/timing.py).  The
budget is the README's ``<!-- cpu-budget: full=SECONDS quick=SECONDS -->`` line.  Prints the
run's CPU time; above the budget, lists the 15 tests that took the most CPU and exits 1.  Tests
over 2 CPU-seconds without the ``slow`` marker are listed as a warning.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLOW = 2.0


def budget(kind: str) -> float:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- cpu-budget: full=(\d+) quick=(\d+) -->", text)
    if found is None:
        sys.exit("README.md states no CPU budget (<!-- cpu-budget: full=N quick=N -->)")
    return float(found.group(1) if kind == "full" else found.group(2))


def main(kind: str, report_path: str) -> int:
    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    limit = budget(kind)
    total = float(report["cpu"])
    tests: dict[str, dict[str, object]] = report["tests"]
    print(f"{kind} suite: {total:.1f} CPU-s for {len(tests)} tests (budget {limit:.0f} CPU-s)")
    ranked = sorted(tests.items(), key=lambda item: -float(item[1]["cpu"]))  # type: ignore[arg-type]
    unmarked = [(name, t) for name, t in ranked if float(t["cpu"]) > SLOW and not t["slow"]]  # type: ignore[arg-type]
    if kind == "full" and unmarked:
        print(f"warning: tests over {SLOW:.0f} CPU-s without the `slow` marker:")
        for name, t in unmarked:
            print(f"  {float(t['cpu']):6.2f}  {name}")  # type: ignore[arg-type]
    if total <= limit:
        return 0
    print(f"over the budget by {total - limit:.1f} CPU-s; the 15 tests that took the most CPU:")
    for name, t in ranked[:15]:
        mark = " (slow)" if t["slow"] else ""
        print(f"  {float(t['cpu']):6.2f}  {name}{mark}")  # type: ignore[arg-type]
    return 1


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("full", "quick"):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
