"""How fast this machine runs Python today: a fixed workload of the standard library alone.

    python .ci/calibrate.py            # prints the workload's CPU seconds, nine runs

The suite's CPU budget (README, Contributing) is stated for the machine it was set on; the same
commit's suite has taken 208.6 CPU-s on one day and 287.6 on another on machines of the same
kind.  `.ci/budget.py` divides a run's CPU time by how much slower than that machine this one is
(this workload's time over the README's ``reference=``), never by less than 1: a slower machine
does not fail the budget, a faster one is not held to less.  The workload uses nothing of
gspolicy's, so a slower gspolicy cannot hide in it: function calls, dicts and lists, text
formatting, JSON, sorting and decimal arithmetic, as the suite's own work is.
"""

from __future__ import annotations

import json
import resource
import statistics
from decimal import Decimal


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _workload() -> int:
    total = 0
    rows = [
        {"id": f"620521-{i:04d}", "income": Decimal(i) / 7, "members": list(range(i % 9))}
        for i in range(20_000)
    ]
    for _ in range(3):
        text = json.dumps([{**r, "income": str(r["income"])} for r in rows], sort_keys=True)
        back = json.loads(text)
        back.sort(key=lambda r: (len(r["members"]), r["id"]))
        total += sum(len(r["members"]) for r in back)
        money = sum((Decimal(r["income"]) * Decimal("1.05")).quantize(Decimal("0.01")) for r in back)
        total += int(money)
        seen: dict[str, int] = {}
        for r in back:
            key = r["id"][:6]
            seen[key] = seen.get(key, 0) + 1
        total += len(seen)

        def step(x: int) -> int:
            return (x * 31 + 7) % 1_000_003

        x = 1
        for _ in range(400_000):
            x = step(x)
        total += x
    return total


def samples(runs: int = 9) -> list[float]:
    """The workload's CPU seconds, `runs` times."""
    times = []
    for _ in range(runs):
        started = _cpu()
        _workload()
        times.append(_cpu() - started)
    return times


def measure(runs: int = 9) -> float:
    return statistics.median(samples(runs))


if __name__ == "__main__":
    print(" ".join(f"{t:.4f}" for t in samples()))
