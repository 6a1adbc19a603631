"""Check a test run's CPU time against the budget stated in the README.

    python .ci/budget.py full REPORT.json [BEFORE]     # the README's test command
    python .ci/budget.py quick REPORT.json [BEFORE]    # pytest -m 'not slow'

BEFORE: what `.ci/calibrate.py` printed just before the run (its runs' seconds); the machine's
speed is then the median of those and as many runs now, after it (a shared machine's speed drifts
during a run, and one run of the workload is noisy).

REPORT is what ``GSPOLICY_CPU_REPORT`` made the test run write (tests/support/timing.py).  The
budget is the README's ``<!-- cpu-budget: full=SECONDS quick=SECONDS reference=SECONDS -->``
line: CPU seconds on the machine the budget was set on, where `.ci/calibrate.py`'s workload took
``reference`` seconds.  The run's CPU time is divided by this machine's slowness (the workload
measured now over ``reference``, at least 1) before it is compared.  Prints both; above the
budget, lists the 15 tests that took the most CPU and exits 1.  Tests over 2 CPU-seconds (on the
reference machine) without the ``slow`` marker are listed as a warning.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLOW = 2.0


def budget(kind: str) -> tuple[float, float]:
    """The budget of `kind` and the calibration's reference seconds, from the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- cpu-budget: full=(\d+) quick=(\d+) reference=([\d.]+) -->", text)
    if found is None:
        sys.exit("README.md states no CPU budget (<!-- cpu-budget: full=N quick=N reference=S -->)")
    return float(found.group(1) if kind == "full" else found.group(2)), float(found.group(3))


def main(kind: str, report_path: str, before: Sequence[float] = ()) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from calibrate import samples  # noqa: PLC0415  # beside this file

    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    limit, reference = budget(kind)
    measured = statistics.median([*before, *samples()])
    slower = max(1.0, measured / reference)
    total = float(report["cpu"])
    tests: dict[str, dict[str, object]] = report["tests"]
    print(
        f"{kind} suite: {total:.1f} CPU-s for {len(tests)} tests; this machine is {slower:.2f}x the "
        f"reference one (calibration {measured:.3f} s, reference {reference:.3f} s): "
        f"{total / slower:.1f} reference CPU-s (budget {limit:.0f})"
    )
    total /= slower
    ranked = sorted(tests.items(), key=lambda item: -float(item[1]["cpu"]))  # type: ignore[arg-type]
    unmarked = [(name, t) for name, t in ranked if float(t["cpu"]) / slower > SLOW and not t["slow"]]  # type: ignore[arg-type]
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
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("full", "quick"):
        sys.exit(__doc__)
    sys.exit(
        main(sys.argv[1], sys.argv[2], [float(t) for t in sys.argv[3].split()] if len(sys.argv) == 4 else ())
    )
