"""Benchmark of the monitor on durable_rules: events per second and memory over a long stream,
next to durable_rules' own assert/retract rate measured in the same run.

    python benchmarks/monitor_bench.py [--events 200000] [--households 2000] [--repeats 3] [--raw-repeats 5]

Prints, for each measure, the median over the repeats (and the spread), the ratio of the
monitor's rate to durable_rules' raw rate, and the peak resident memory sampled along the stream
(it stays flat because every household's previous fact is retracted when the new one is
asserted).  Not part of the test suite; needs the durable extra.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from gspolicy.engine.durable import DurableSession, compile_pack, durable_available
from gspolicy.engine.events import Event
from gspolicy.engine.monitor import Alert, Monitor
from gspolicy.pack.load import load_policy_set

START = dt.date(2016, 1, 4)


def rss_mib() -> float:
    """The current resident set size (Linux /proc), else the peak so far (MiB)."""
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmRSS:"):
                return int(text.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def household(rng: random.Random) -> dict[str, Any]:
    size = rng.randint(1, 5)
    return {
        "size": size,
        "registration": {"category": "general"},
        "housing": {"grade": rng.choice("abcd"), "relocation": "none"},
        "location": {"relocation_zone": rng.random() < 0.2},
        "social": {"rigid_spending": rng.choice([0, 2000, 8000, 30000])},
        "members": [
            {"id": f"m{i}", "health": "healthy", "basic_medical_insurance": rng.random() < 0.95}
            for i in range(size)
        ],
    }


def stream(n: int, households: int, seed: int) -> Iterator[Event]:
    """`n` events over `households` households, dates moving forward over about five years."""
    rng = random.Random(seed)
    known: list[str] = []
    members: dict[str, int] = {}
    day = START
    per_day = max(1, n // 1800)
    for i in range(n):
        if i and i % per_day == 0:
            day += dt.timedelta(days=1)
        if len(known) < households and (not known or rng.random() < 0.05):
            hh = f"h{len(known)}"
            data = household(rng)
            known.append(hh)
            members[hh] = len(data["members"])
            yield Event(day, hh, "new_identification", {"record": data}, "bench", i + 1)
            continue
        hh = rng.choice(known)
        roll = rng.random()
        if roll < 0.45:
            data = {
                "per_capita": Decimal(rng.randrange(2000, 9000)),
                "rigid_spending": rng.choice([0, 2000, 30000]),
            }
            yield Event(day, hh, "income_report", data, "bench", i + 1)
        elif roll < 0.55:
            severity = rng.choice(["serious", "chronic"])
            yield Event(
                day,
                hh,
                "illness",
                {"member": f"m{rng.randrange(members[hh])}", "severity": severity},
                "bench",
                i + 1,
            )
        elif roll < 0.62:
            yield Event(day, hh, "disaster", {"housing_grade": rng.choice("abcd")}, "bench", i + 1)
        elif roll < 0.72:
            yield Event(day, hh, "exit", {}, "bench", i + 1)
        elif roll < 0.76:
            yield Event(day, hh, "return", {}, "bench", i + 1)
        elif roll < 0.86:
            insured = rng.random() < 0.9
            yield Event(
                day,
                hh,
                "insurance",
                {"member": f"m{rng.randrange(members[hh])}", "insured": insured},
                "bench",
                i + 1,
            )
        elif roll < 0.93:
            yield Event(
                day,
                hh,
                "relocation",
                {"stage": rng.choice(["none", "planned", "moved_in"]), "resettlement": "central"},
                "bench",
                i + 1,
            )
        else:
            yield Event(day, None, "clock", {}, "bench", i + 1)


def run_monitor(events: list[Event], samples: int = 20) -> tuple[float, int, list[float], int, int]:
    """(seconds, alerts, RSS samples in MiB, facts held at the end, "already observed" retries)."""
    policy_set = load_policy_set()
    monitor = Monitor(policy_set)
    alerts = 0
    every = max(1, len(events) // samples)
    memory: list[float] = []
    gc.collect()
    start = time.perf_counter()
    for i, event in enumerate(events):
        raised, _ = monitor.feed(event)
        alerts += sum(1 for a in raised if isinstance(a, Alert))
        if i % every == 0:
            memory.append(rss_mib())
    seconds = time.perf_counter() - start
    memory.append(rss_mib())
    session = monitor._session
    retries = session.observed_retries if session is not None else 0
    return seconds, alerts, memory, monitor.facts_held(), retries


def run_raw(n: int, households: int) -> tuple[float, int]:
    """durable_rules alone: retract a household's fact and assert a new one, `n` times, on the
    same compiled rulesets with facts of the monitor's shape (seconds, "already observed" retries)."""
    (pack,) = load_policy_set().versions("monitoring.household")
    compiled = compile_pack(pack)
    session = DurableSession(compiled)
    ruleset = next(iter(compiled.rulesets))
    rng = random.Random(7)
    statuses = ["exited", "newly_identified", "returned", "not_exited"]
    facts = [
        {
            "f_registration_status": rng.choice(statuses),
            "f_income_per_capita": rng.randrange(2000, 9000),
            "p_watch_line_lo": 3500,
            "p_watch_line_hi": 5250,
            "f_housing_grade": rng.choice("abcd"),
            "as_of": START.toordinal() + i // 100,
        }
        for i in range(1000)
    ]
    start = time.perf_counter()
    for i in range(n):
        session.replace(f"h{i % households}", {ruleset: facts[i % len(facts)]})
    return time.perf_counter() - start, session.observed_retries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--households", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the monitor over the stream")
    parser.add_argument("--raw-repeats", type=int, default=5, help="runs of durable_rules alone")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if not durable_available():
        sys.stderr.write("the benchmark needs the durable extra: pip install 'gspolicy[durable]'\n")
        return 1
    events = list(stream(args.events, args.households, seed=1))
    rates: list[float] = []
    raw_rates: list[float] = []
    peaks: list[float] = []
    growth: list[float] = []
    alerts = facts = retries = 0
    for _ in range(args.repeats):
        seconds, alerts, memory, facts, observed = run_monitor(events)
        retries += observed
        rates.append(len(events) / seconds)
        half = len(memory) // 2
        peaks.append(max(memory))
        growth.append(max(memory[half:]) - max(memory[: half or 1]))
    for _ in range(args.raw_repeats):
        seconds, observed = run_raw(args.events, args.households)
        raw_rates.append(args.events / seconds)
        retries += observed
    result = {
        "events": len(events),
        "households": args.households,
        "repeats": args.repeats,
        "raw_repeats": args.raw_repeats,
        "alerts": alerts,
        "facts_held_at_end": facts,
        "already_observed_retries": retries,
        "monitor_events_per_s": round(statistics.median(rates)),
        "monitor_events_per_s_range": [round(min(rates)), round(max(rates))],
        "durable_raw_replace_per_s": round(statistics.median(raw_rates)),
        "durable_raw_replace_per_s_range": [round(min(raw_rates)), round(max(raw_rates))],
        "ratio_monitor_to_raw": round(statistics.median(rates) / statistics.median(raw_rates), 3),
        "peak_rss_mib": round(max(peaks), 1),
        "rss_growth_second_half_vs_first_mib": round(statistics.median(growth), 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"monitor over {result['events']:,} events ({args.households:,} households, median of {args.repeats}):"
        )
        print(f"  {result['monitor_events_per_s']:,} events/s (range {result['monitor_events_per_s_range']})")
        print(
            f"  durable_rules raw retract+assert: {result['durable_raw_replace_per_s']:,}/s (range {result['durable_raw_replace_per_s_range']})"
        )
        print(f"  ratio monitor / raw: {result['ratio_monitor_to_raw']}")
        print(
            f"  peak RSS {result['peak_rss_mib']} MiB; growth second half vs first: {result['rss_growth_second_half_vs_first_mib']} MiB"
        )
        print(f"  facts held at the end: {facts:,} (one per household and ruleset); alerts: {alerts:,}")
        print(f"  'already observed' retries (jruizgit/rules#376): {retries}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
