"""Deciding apart from explaining: how fast gspolicy decides, next to its peers, in one run.

    python benchmarks/registry_bench.py [--repeats 5] [--households 3000]

1. The fixed 10-rule reference workload (`benchmarks/reference/bench/ten_rules.yaml`: five exit
   checks, four batch rules, one combined verdict) on the example registry's households, encoded
   in each engine: gspolicy's per-record evaluator, gspolicy's traced `Policies.evaluate` (the
   full explained decision), durable_rules (the rules written by hand as durable_rules rulesets,
   the member roll-ups computed in Python as its facts need them; with the durable extra) and
   plain Python closures over dicts written by hand (the limit).  Every engine must find the same
   rules definitely true for every household: the run stops otherwise.
2. The bundled packs on the example registry: `Policies.decide` (households per second) and
   `Policies.evaluate` (median milliseconds per household, no rendering).
3. The main command (`gspolicy evaluate` on the 3,000-household registry with its villages and
   counties): CPU seconds and peak resident memory, in a child process.
4. `load_policies()` of the bundled set in a fresh process (CPU milliseconds, import excluded), read
   from its files and from the cache of checked files.

Every figure is CPU time, the median of the repeats; ratios come from the same run.  Not part of
the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import gspolicy
from gspolicy.engine.compiled import lower
from gspolicy.schema.model import Record

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "examples" / "registry"
DAY = dt.date(2018, 12, 31)
RULES = (
    "check.income",
    "check.food",
    "check.water",
    "check.medical",
    "check.housing",
    "batch.medical",
    "batch.education",
    "batch.relocation",
    "batch.safety_net",
    "verdict.all",
)


def median_cpu(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return statistics.median(times)


# -- 1. the ten rules in each engine ---------------------------------------------------------------


def gspolicy_true(policies: gspolicy.Policies, households: Sequence[Record]) -> list[frozenset[str]]:
    (pack,) = policies.policy_set.all_in_force(DAY)
    runner = lower(pack, DAY)
    out = []
    for h in households:
        values = runner.run(h)
        out.append(frozenset(k for k, v in (*values.criteria.items(), *values.rules.items()) if v is True))
    return out


def traced_true(policies: gspolicy.Policies, households: Sequence[Record]) -> list[frozenset[str]]:
    out = []
    for h in households:
        decision = policies.evaluate(h, DAY, exit_pack="bench.ten_rules")
        found = {c.id for c in decision.criteria if c.verdict == "pass"}
        found |= {m.rule for m in decision.memberships if m.applies == "yes"}
        out.append(frozenset(found))
    return out


def _plain(household: Record) -> dict[str, Any]:
    return household.to_data()


def facts(data: dict[str, Any]) -> dict[str, Any]:
    """A household flattened as the peers read it: keys only for what is known, member roll-ups
    in three-valued logic computed here (a missing value leaves the key out)."""
    out: dict[str, Any] = {}
    income = data.get("income") or {}
    if income.get("per_capita") is not None and income.get("non_counting_transfers") is not None:
        out["stable"] = float(
            Decimal(str(income["per_capita"])) - Decimal(str(income["non_counting_transfers"]))
        )
    if data.get("food_and_clothing_secured") is not None:
        out["food"] = bool(data["food_and_clothing_secured"])
    water = data.get("water") or {}
    if water.get("litres_per_person_day") is not None:
        out["litres"] = float(water["litres_per_person_day"])
    grade = (data.get("housing") or {}).get("grade")
    if grade is not None:
        out["grade"] = grade
    zone = (data.get("location") or {}).get("relocation_zone")
    if zone is not None:
        out["zone"] = bool(zone)
    members = data.get("members")
    if members is not None:
        insured = [m.get("basic_medical_insurance") for m in members]
        if all(v is True for v in insured):
            out["all_insured"] = True
        elif any(v is False for v in insured):
            out["all_insured"] = False
        ill = [
            None if m.get("health") is None else m["health"] in ("chronic", "serious", "disabled")
            for m in members
        ]
        if any(v is True for v in ill):
            out["any_ill"] = True
        elif all(v is False for v in ill):
            out["any_ill"] = False
        enrolled = [m.get("enrolled") for m in members]
        if any(v is True for v in enrolled):
            out["any_enrolled"] = True
        elif all(v is False for v in enrolled):
            out["any_enrolled"] = False
        able = [None if m.get("labour") is None else m["labour"] in ("ordinary", "skilled") for m in members]
        if any(v is True for v in able):
            out["any_able"] = True
        elif all(v is False for v in able):
            out["any_able"] = False
    return out


def closures_true(households: Sequence[dict[str, Any]]) -> list[frozenset[str]]:
    checks: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
        ("check.income", lambda f: "stable" in f and f["stable"] > 3500),
        ("check.food", lambda f: f.get("food") is True),
        ("check.water", lambda f: "litres" in f and f["litres"] >= 20),
        ("check.medical", lambda f: f.get("all_insured") is True),
        ("check.housing", lambda f: f.get("grade") in ("a", "b")),
        ("batch.medical", lambda f: f.get("any_ill") is True),
        ("batch.education", lambda f: f.get("any_enrolled") is True),
        ("batch.relocation", lambda f: f.get("zone") is True),
        ("batch.safety_net", lambda f: f.get("any_able") is False),
    ]
    out = []
    for data in households:
        f = facts(data)
        found = {name for name, test in checks if test(f)}
        if {"check.income", "check.food", "check.water", "check.medical", "check.housing"} <= found:
            found.add("verdict.all")
        out.append(frozenset(found))
    return out


def durable_ruleset() -> dict[str, Any]:
    """The ten rules as durable_rules conditions (written by hand)."""

    def ex(key: str) -> dict[str, Any]:
        return {"$ex": {key: 1}}

    income = {"$and": [ex("stable"), {"$gt": {"stable": 3500}}]}
    food = {"food": True}
    water = {"$and": [ex("litres"), {"$gte": {"litres": 20}}]}
    medical = {"all_insured": True}
    housing = {"$or": [{"grade": "a"}, {"grade": "b"}]}
    return {
        "check.income": {"all": [{"m": income}]},
        "check.food": {"all": [{"m": food}]},
        "check.water": {"all": [{"m": water}]},
        "check.medical": {"all": [{"m": medical}]},
        "check.housing": {"all": [{"m": housing}]},
        "batch.medical": {"all": [{"m": {"any_ill": True}}]},
        "batch.education": {"all": [{"m": {"any_enrolled": True}}]},
        "batch.relocation": {"all": [{"m": {"zone": True}}]},
        "batch.safety_net": {"all": [{"m": {"any_able": False}}]},
        "verdict.all": {"all": [{"m": {"$and": [income, food, water, medical, housing]}}]},
    }


class DurablePeer:
    def __init__(self) -> None:
        import warnings

        from durable import engine

        self.engine = engine
        self.fired: list[tuple[str, str]] = []

        class _Host(engine.Host):  # type: ignore[misc]
            def _run(self) -> None:  # no wall-clock timer threads
                pass

        rules = {name: {**cond, "run": self._action(name)} for name, cond in durable_ruleset().items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.host = _Host({"ten_rules": rules})
        self.serial = 0

    def _action(self, name: str) -> Callable[[Any], None]:
        def act(c: Any) -> None:
            self.fired.append((name, str(c.m.sid_)))

        return act

    def run(self, households: Sequence[dict[str, Any]]) -> list[frozenset[str]]:
        import warnings

        out = []
        for data in households:
            # a fact, not an event: an event is consumed by the first rule it matches
            self.serial += 1
            fact = {**facts(data), "sid_": str(self.serial), "id": str(self.serial)}
            self.fired.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    self.host.assert_fact("ten_rules", fact)
                except self.engine.MessageNotHandledException:
                    pass
                self.host.retract_fact("ten_rules", {"id": fact["id"]})
            out.append(frozenset(name for name, _ in self.fired))
        return out


# -- the run ---------------------------------------------------------------------------------------


def child_cpu(argv: list[str]) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, after.ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--households", type=int, default=3000)
    args = parser.parse_args(argv)
    bundled = gspolicy.load_policies()
    registry = gspolicy.load_households(REGISTRY / "households.jsonl", policies=bundled)
    households = list(registry[: args.households])
    n = len(households)
    plain = [_plain(h) for h in households]
    ten = gspolicy.load_policies(ROOT / "benchmarks" / "reference")

    print(f"# {n} households of the example registry, as of {DAY}; CPU time, median of {args.repeats}")
    print("\n## the 10-rule reference workload")
    expected = gspolicy_true(ten, households)
    engines: dict[str, Callable[[], list[frozenset[str]]]] = {
        "gspolicy per-record evaluator": lambda: gspolicy_true(ten, households),
        "gspolicy Policies.evaluate (traced, explained)": lambda: traced_true(ten, households),
        "plain closures (hand-written, the limit)": lambda: closures_true(plain),
    }
    if importlib.util.find_spec("durable") is not None:
        peer = DurablePeer()
        engines["durable_rules (hand-written rulesets)"] = lambda: peer.run(plain)
    else:
        print("(durable_rules is not installed: pip install 'gspolicy[durable]' to compare with it)")
    rates: dict[str, float] = {}
    for name, run in engines.items():
        got = run()
        if got != expected:
            wrong = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
            print(
                f"{name} disagrees on household {households[wrong].get('id')}: {sorted(got[wrong])} vs {sorted(expected[wrong])}"
            )
            return 1
        rates[name] = n / median_cpu(run, args.repeats)
    durable = rates.get("durable_rules (hand-written rulesets)")
    for name, rate in rates.items():
        ratio = f"  {rate / durable:6.1f}x durable_rules" if durable else ""
        print(f"  {name:50s} {rate:10,.0f} households/s{ratio}")

    print("\n## the bundled packs")
    bundled.decide(households[0], DAY)
    decide_rate = n / median_cpu(lambda: [bundled.decide(h, DAY) for h in households], args.repeats)
    sample = households[:: max(1, n // 600)]
    times = []
    for h in sample:
        start = time.process_time()
        bundled.evaluate(h, DAY)
        times.append(time.process_time() - start)
    print(
        f"  Policies.decide                                    {decide_rate:10,.0f} households/s   (target ≥ 3,000)"
    )
    print(
        f"  Policies.evaluate (full decision, no rendering)    {statistics.median(times) * 1000:10.2f} ms median  (target ≤ 3)"
    )

    print("\n## the main command and loading")
    command = [
        sys.executable, "-m", "gspolicy", "evaluate", str(REGISTRY / "households.jsonl"),
        "--villages", str(REGISTRY / "villages.jsonl"), "--counties", str(REGISTRY / "counties.jsonl"),
        "--as-of", str(DAY), "--explain", "3", "--lang", "en",
    ]  # fmt: skip
    runs = [child_cpu(command) for _ in range(max(1, min(3, args.repeats)))]
    print(
        f"  gspolicy evaluate, 3,000 households + areas       {statistics.median(r[0] for r in runs):10.2f} CPU-s"
        f"   peak {max(r[1] for r in runs):.0f} MiB   (targets ≤ 5 CPU-s, ≤ 300 MB)"
    )
    probe = "import time, gspolicy; t = time.process_time(); gspolicy.load_policies(); print(time.process_time() - t)"
    with tempfile.TemporaryDirectory() as place:
        cached = {**os.environ, "GSPOLICY_CACHE": place}
        cached.pop("GSPOLICY_NO_CACHE", None)
        loads: dict[str, list[float]] = {"files": [], "cache": []}
        subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, env=cached)  # fills it
        for _ in range(args.repeats):
            for kind, env in (("files", {**cached, "GSPOLICY_NO_CACHE": "1"}), ("cache", cached)):
                done = subprocess.run(
                    [sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=env
                )
                loads[kind].append(float(done.stdout))
    files, warm = statistics.median(loads["files"]), statistics.median(loads["cache"])
    print(f"  load_policies() in a fresh process, from the files {files * 1000:10.0f} ms")
    print(
        f"  load_policies() in a fresh process, from the cache {warm * 1000:10.0f} ms   ({files / warm:.1f}× faster;"
        " target ≤ 150)"
    )
    print(
        "\n" + json.dumps({"households_per_s": {k: round(v) for k, v in rates.items()}}, ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
