"""Deciding apart from explaining: how fast gspolicy decides, next to its peers, in one run.

    python benchmarks/registry_bench.py [--repeats 5] [--households 3000]

1. The fixed 10-rule reference workload (`benchmarks/reference/bench/ten_rules.yaml`: five exit
   checks, four batch rules, one combined verdict) on ``--ten`` households drawn by the project's
   generator (the traced interpreter on the first ``--traced``), encoded
   in each engine: gspolicy's per-record evaluator, gspolicy's traced `Policies.evaluate` (the
   full explained decision), durable_rules (the rules written by hand as durable_rules rulesets,
   the member roll-ups computed in Python as its facts need them; with the durable extra), GoRules
   ZEN (`zen-engine`: the rules as a JSON decision model written by hand, one expression node over
   the same facts; with the bench extra) and
   plain Python closures over dicts written by hand (the limit).  Every engine must find the same
   rules definitely true for every household: the run stops otherwise.
   Then the same workload by columns: gspolicy's Polars runner against a Polars scan of the ten
   rules written by hand (member roll-ups in three-valued logic, one group-by and join), both on
   the same in-memory frames of ``--frame-rows`` households (the registry's frames repeated); the
   two must agree on every rule of every household.
2. The bundled packs on the example registry: `Policies.decide` (households per second) and
   `Policies.evaluate` (median milliseconds per household, no rendering); the Polars runner on
   in-memory frames of every bundled household pack (with what would settle and the problems,
   as 64-bit sets) and `Policies.decide_table` from records, end to end.
   The per-record evaluator against `decide_table` on ``--compare`` households from the project's
   generator (a new seed): every row must be equal.
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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

import gspolicy
from gspolicy.columnar.frames import Frames
from gspolicy.columnar.run import Run, plan_packs, plan_run
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


def zen_graph() -> str:
    """The ten rules as a GoRules JSON Decision Model (written by hand): one expression node over
    the same facts the other peers read (a missing key is null in ZEN's expression language)."""
    income = "(stable != null and stable > 3500)"
    food = "food == true"
    water = "(litres != null and litres >= 20)"
    medical = "all_insured == true"
    housing = "grade in ['a', 'b']"
    expressions = {
        "check.income": income,
        "check.food": food,
        "check.water": water,
        "check.medical": medical,
        "check.housing": housing,
        "batch.medical": "any_ill == true",
        "batch.education": "any_enrolled == true",
        "batch.relocation": "zone == true",
        "batch.safety_net": "any_able == false",
        "verdict.all": " and ".join((income, food, water, medical, housing)),
    }
    nodes = [
        {"id": "in", "type": "inputNode", "name": "household", "position": {"x": 0, "y": 0}},
        {
            "id": "rules",
            "type": "expressionNode",
            "name": "ten rules",
            "position": {"x": 200, "y": 0},
            "content": {
                "expressions": [
                    {"id": f"e{i}", "key": key.replace(".", "_"), "value": value}
                    for i, (key, value) in enumerate(expressions.items())
                ]
            },
        },
        {"id": "out", "type": "outputNode", "name": "rules", "position": {"x": 400, "y": 0}},
    ]
    edges = [
        {"id": "e-in", "sourceId": "in", "targetId": "rules", "type": "edge"},
        {"id": "e-out", "sourceId": "rules", "targetId": "out", "type": "edge"},
    ]
    return json.dumps({"nodes": nodes, "edges": edges})


class ZenPeer:
    """GoRules ZEN (`zen-engine`, a Rust engine with Python bindings) on the ten rules."""

    def __init__(self) -> None:
        import zen

        self.decision = zen.ZenEngine().create_decision(zen_graph())
        self.names = {name.replace(".", "_"): name for name in RULES}

    def run(self, households: Sequence[dict[str, Any]]) -> list[frozenset[str]]:
        out = []
        for data in households:
            result = self.decision.evaluate(facts(data))["result"]
            out.append(frozenset(self.names[k] for k, v in result.items() if v is True))
        return out


# -- the ten rules by columns ---------------------------------------------------------------------


def replicate(frames: Frames, times: int) -> Frames:
    """`frames` repeated `times` over (rows renumbered): a large in-memory registry."""
    n = frames.height

    def copies(frame: pl.DataFrame) -> pl.DataFrame:
        return pl.concat(
            [frame.with_columns((pl.col("__row") + i * n).cast(pl.UInt32)) for i in range(times)],
            rechunk=True,
        )

    return Frames(copies(frames.subjects), {k: copies(v) for k, v in frames.items.items()})


def columnar_truths(run: Run, frames: Frames) -> pl.DataFrame:
    """The ten rules' truth values by gspolicy's runner (null: undetermined), named by rule."""
    table = run.table(frames).table
    names = {f"0|c|{r}": r for r in RULES} | {f"0|r|{r}": r for r in RULES}
    return table.select([pl.col(c).alias(r) for c, r in names.items() if c in table.columns]).select(RULES)


def scan_truths(frames: Frames) -> pl.DataFrame:
    """The ten rules as a Polars scan written by hand (the limit): member roll-ups in Kleene
    logic (an unknown member leaves `any` unknown unless another is true), households without
    members kept by a left join."""
    members = frames.items[("members",)].lazy()
    roll = members.group_by("__row").agg(
        pl.len().alias("n"),
        pl.col("basic_medical_insurance").all(ignore_nulls=False).alias("all_insured"),
        pl.col("health").is_in(["chronic", "serious", "disabled"]).any(ignore_nulls=False).alias("any_ill"),
        pl.col("enrolled").any(ignore_nulls=False).alias("any_enrolled"),
        pl.col("labour").is_in(["ordinary", "skilled"]).any(ignore_nulls=False).alias("any_able"),
    )
    listed = pl.col("members").is_not_null()

    def rolled(name: str, empty: bool) -> pl.Expr:
        return pl.when(~listed).then(None).when(pl.col("n").is_null()).then(empty).otherwise(pl.col(name))

    stable = pl.col("income.per_capita") - pl.col("income.non_counting_transfers")
    income = stable > pl.lit(Decimal(3500))
    food = pl.col("food_and_clothing_secured")
    water = pl.col("water.litres_per_person_day") >= pl.lit(Decimal(20))
    medical = rolled("all_insured", True)
    housing = pl.col("housing.grade").is_in(["a", "b"])
    return (
        frames.subjects.lazy()
        .join(roll, on="__row", how="left", maintain_order="left")
        .select(
            income.alias("check.income"),
            food.alias("check.food"),
            water.alias("check.water"),
            medical.alias("check.medical"),
            housing.alias("check.housing"),
            rolled("any_ill", False).alias("batch.medical"),
            rolled("any_enrolled", False).alias("batch.education"),
            pl.col("location.relocation_zone").alias("batch.relocation"),
            (~rolled("any_able", False)).alias("batch.safety_net"),
            (income & food & water & medical & housing).alias("verdict.all"),
        )
        .collect(engine="in-memory")
    )


def sets_of(truths: pl.DataFrame) -> list[frozenset[str]]:
    rows = truths.select(
        pl.concat_list([pl.when(pl.col(r)).then(pl.lit(r)) for r in RULES]).list.drop_nulls()
    )
    return [frozenset(r) for r in rows.to_series().to_list()]


# -- the run ---------------------------------------------------------------------------------------


_MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(used.ru_utime + used.ru_stime, used.ru_maxrss / 1024)
"""


def child_cpu(argv: list[str]) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of a child process, started by a small Python process: a
    child forked from this (large) one would count this one's memory as its peak."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], check=True, capture_output=True, text=True, cwd=ROOT
    )
    cpu, peak = done.stdout.split()
    return float(cpu), float(peak)


def generated(policies: gspolicy.Policies, count: int, seed: int) -> list[Record]:
    """`count` households drawn by the project's generator (registry profile), validated."""
    spec = importlib.util.spec_from_file_location(
        "generate_households", ROOT / "examples" / "generate_households.py"
    )
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generator  # its dataclasses look their module up
    spec.loader.exec_module(generator)
    _plan, found = generator.stream(seed=seed, count=count, profile=generator.REGISTRY)
    return [policies.household(h) for h in found]


def compare(bundled: gspolicy.Policies, count: int) -> bool:
    """The per-record evaluator against `decide_table` on `count` generated households."""
    records = generated(bundled, count, 20261206)
    start = time.process_time()
    table = pl.concat(list(bundled.decide_table(records, DAY)))
    by_columns = time.process_time() - start
    start = time.process_time()
    one_by_one = [bundled.decide(h, DAY).to_row() for h in records]
    per_record = time.process_time() - start
    rows = table.with_columns(pl.col("as_of", "buffer_until").dt.to_string()).to_dicts()
    wrong = sum(1 for a, b in zip(rows, one_by_one, strict=True) if a != b)
    print(
        f"  {count:,} generated households: decide_table {by_columns:.1f} CPU-s, Policies.decide one by one "
        f"{per_record:.1f} CPU-s ({per_record / by_columns:.1f}x); rows that differ: {wrong}"
    )
    return wrong == 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--frame-rows", type=int, default=100_000, help="households in the in-memory frames")
    parser.add_argument(
        "--compare", type=int, default=100_000, help="generated households decided both ways (0: skip)"
    )
    parser.add_argument("--ten", type=int, default=100_000, help="generated households for the ten rules")
    parser.add_argument("--traced", type=int, default=5000, help="of which the traced interpreter decides")
    parser.add_argument("--ten-repeats", type=int, default=3, help="repeats of each engine on the ten rules")
    args = parser.parse_args(argv)
    bundled = gspolicy.load_policies()
    registry = gspolicy.load_households(REGISTRY / "households.jsonl", policies=bundled)
    households = list(registry[: args.households])
    n = len(households)
    ten = gspolicy.load_policies(ROOT / "benchmarks" / "reference")

    drawn = generated(bundled, args.ten, 20261207)
    drawn_plain = [_plain(h) for h in drawn]
    sample = drawn[: args.traced]
    print(f"# as of {DAY}; CPU time, medians")
    print(
        f"\n## the 10-rule reference workload: {len(drawn):,} generated households"
        f" ({len(sample):,} for the traced interpreter), median of {args.ten_repeats}"
    )
    expected = gspolicy_true(ten, drawn)
    engines: dict[str, Callable[[], list[frozenset[str]]]] = {
        "gspolicy per-record evaluator": lambda: gspolicy_true(ten, drawn),
        "gspolicy Policies.evaluate (traced, explained)": lambda: traced_true(ten, sample),
        "plain closures (hand-written, the limit)": lambda: closures_true(drawn_plain),
    }
    if importlib.util.find_spec("durable") is not None:
        peer = DurablePeer()
        engines["durable_rules (hand-written rulesets)"] = lambda: peer.run(drawn_plain)
    else:
        print("(durable_rules is not installed: pip install 'gspolicy[durable]' to compare with it)")
    if importlib.util.find_spec("zen") is not None:
        zen_peer = ZenPeer()
        engines["GoRules ZEN (hand-written decision model)"] = lambda: zen_peer.run(drawn_plain)
    else:
        print("(zen-engine is not installed: pip install 'gspolicy[bench]' to compare with it)")
    rates: dict[str, float] = {}
    for name, run in engines.items():
        got = run()
        want = expected[: len(got)]
        if got != want:
            wrong = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
            print(
                f"{name} disagrees on household {drawn[wrong].get('id')}: {sorted(got[wrong])} vs {sorted(want[wrong])}"
            )
            return 1
        rates[name] = len(got) / median_cpu(run, args.ten_repeats)
    durable = rates.get("durable_rules (hand-written rulesets)")
    zen_rate = rates.get("GoRules ZEN (hand-written decision model)")

    def ratios(rate: float) -> str:
        return (f"  {rate / durable:7.1f}x durable_rules" if durable else "") + (
            f"  {rate / zen_rate:7.1f}x ZEN" if zen_rate else ""
        )

    for name, rate in rates.items():
        print(f"  {name:50s} {rate:10,.0f} households/s{ratios(rate)}")

    (ten_pack,) = ten.policy_set.all_in_force(DAY)
    ten_run = plan_packs([ten_pack], "household", DAY)
    small = ten_run.frames(drawn)
    if sets_of(columnar_truths(ten_run, small)) != expected or sets_of(scan_truths(small)) != expected:
        print("the columnar runner or the hand-written scan disagrees with the per-record evaluator")
        return 1
    times = max(1, args.frame_rows // small.height)
    big = replicate(small, times)
    if not columnar_truths(ten_run, big).equals(scan_truths(big)):
        print("the columnar runner and the hand-written scan disagree on the large frames")
        return 1
    rows = big.height
    ours = rows / median_cpu(lambda: ten_run.table(big), args.repeats)
    scan = rows / median_cpu(lambda: scan_truths(big), args.repeats)
    rates["gspolicy Polars runner (in-memory frames)"] = ours
    rates["Polars scan written by hand (the limit)"] = scan
    print(f"  by columns, {rows:,} households in memory:")
    print(f"  {'gspolicy Polars runner':50s} {ours:10,.0f} households/s{ratios(ours)}")
    print(
        f"  {'Polars scan written by hand (the limit)':50s} {scan:10,.0f} households/s"
        f"  the runner takes {scan / ours:.1f}x its time (target within 3x; durable target ≥ 100x)"
    )

    print(f"\n## the bundled packs: {n:,} households of the example registry, median of {args.repeats}")
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

    run = plan_run(bundled.policy_set, "household", DAY)
    start = time.process_time()
    small = run.frames(households)
    frame_rate = n / (time.process_time() - start)
    big = replicate(small, max(1, args.frame_rows // n))
    run.table(big)
    columnar = big.height / median_cpu(lambda: run.table(big), args.repeats)
    table_rate = n / median_cpu(lambda: list(bundled.decide_table(households, DAY)), args.repeats)
    print(
        f"  Polars runner, every household pack, in memory   {columnar:10,.0f} households/s   "
        f"({big.height:,} households, {len(run.plans)} packs; target ≥ 250,000)"
    )
    print(f"  frames built from validated records              {frame_rate:10,.0f} households/s")
    print(f"  Policies.decide_table from records, end to end   {table_rate:10,.0f} households/s")
    rates["bundled packs: Polars runner (in-memory frames)"] = columnar
    rates["bundled packs: decide_table from records"] = table_rate
    rates["bundled packs: Policies.decide"] = decide_rate
    if args.compare:
        if not compare(bundled, args.compare):
            return 1

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
