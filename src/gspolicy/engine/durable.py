"""The durable_rules backend: pack rules compiled to durable_rules rulesets, one rule per condition form.

This is the only module that imports ``durable`` (lazily, in `DurableSession`); compiling and
showing the rules needs no extra.  How a condition is compiled (decided inside durable_rules) or
prepared into the fact (computed exactly by the per-record evaluator) is
`gspolicy.engine.durable_conditions`; here each pack's rules are grouped into rulesets, a
household's fact is prepared, and the durable_rules host is driven.

durable_rules is unmaintained (last release 2020) and has known limits, which this module works
around: a fact with more than 28 keys is not matched (jruizgit/rules#300), so rules are grouped
into rulesets whose facts stay under `MAX_KEYS`; a fact asserted twice raises
``MessageObservedException`` (every assertion has a fresh id); an action's exception is returned
as data in the state (``exception``), which is checked and cleared after every call; the host's
wall-clock timer threads are never started (time is event time, driven by the monitor).
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import json
import warnings
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from gspolicy._numbers import is_number
from gspolicy.engine.compiled import lower_terms
from gspolicy.engine.durable_conditions import (
    HOUSEHOLD_FACT,
    CompiledRule,
    ConditionCompiler,
    Json,
    Term,
    all_of,
    const_json,
    number_json,
)
from gspolicy.lang.typed import TAge, TCall, TypedExpr, typed_children
from gspolicy.lang.values import Interval, Unknown, Value
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record

__all__ = [
    "DURABLE_HINT",
    "MAX_KEYS",
    "CompiledRule",
    "DurableError",
    "DurablePack",
    "DurableSession",
    "DurableUnavailable",
    "Term",
    "compile_pack",
    "durable_available",
]

DURABLE_HINT = (
    "the monitor needs the durable extra: pip install 'gspolicy[durable]' "
    "(durable-rules, which has no build for Python 3.13+)"
)
MAX_KEYS = 26
"""Keys a fact may carry besides its id and household (durable_rules mismatches above 28)."""


class DurableUnavailable(ImportError):
    """durable_rules is not installed (or has no build for this Python)."""

    def __init__(self) -> None:
        super().__init__(DURABLE_HINT)


class DurableError(RuntimeError):
    """durable_rules reported an error (an action's exception, a duplicate fact, a bad ruleset)."""


def durable_available() -> bool:
    try:
        importlib.import_module("durable.engine")
    except ImportError:
        return False
    return True


@attrs.frozen
class DurablePack:
    """A pack's rules compiled to durable_rules rulesets, and how to prepare a household's facts."""

    pack: CheckedPack
    rules: tuple[CompiledRule, ...]
    terms: tuple[Term, ...]
    rulesets: Mapping[str, tuple[str, ...]]  # ruleset → the rules compiled into it
    anniversaries: bool = False  # whether a value changes on the anniversary of a date (ages)
    # the prepared terms, lowered once by the per-record evaluator (the interpreter's semantics)
    _values: Callable[[Record, dt.date, Mapping[str, Value]], list[Value]] = attrs.field(
        init=False, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_values", lower_terms(self.pack, [t.expr for t in self.terms]))

    def definitions(self) -> dict[str, dict[str, Json]]:
        """The ruleset definitions as durable_rules reads them (without actions)."""
        out: dict[str, dict[str, Json]] = {name: {} for name in self.rulesets}
        for rule in self.rules:
            for name, when in ((rule.true_name, rule.when_true), (rule.false_name, rule.when_false)):
                if when is not None:
                    # every condition reads a household fact: durable_rules also matches rules
                    # against its state object, which must never fire one
                    full = all_of([HOUSEHOLD_FACT, when])
                    out[rule.ruleset][name] = {"all": [{"m": full}]}
        return out

    def show(self) -> str:
        """The compiled rules and the prepared terms, for people (``gspolicy monitor --show-rules``)."""
        lines = [f"# pack {self.pack.key}: {len(self.rules)} rules in {len(self.rulesets)} ruleset(s)"]
        lines.append("# prepared into each fact (computed by the compiler, exactly):")
        for term in self.terms:
            lines.append(f"#   {', '.join(term.keys)} = {term.text}   [{term.kind}]")
        lines.append("# compiled (durable_rules ruleset definitions; <rule>#true / <rule>#false):")
        lines.append(json.dumps(self.definitions(), ensure_ascii=False, indent=2))
        return "\n".join(lines) + "\n"

    def prepare(
        self, record: Record, as_of: dt.date, parameters: Mapping[str, Value]
    ) -> tuple[dict[str, dict[str, object]], int]:
        """The facts to assert for a household, per ruleset (without ids), and how many numbers
        were left out because a double would not carry them exactly."""
        values: dict[str, object] = {}
        imprecise = 0
        for term, value in zip(self.terms, self._values(record, as_of, parameters), strict=True):
            if isinstance(value, Unknown):
                continue
            if (term.ranged and is_number(value)) or isinstance(value, Interval):
                low, high = (value.low, value.high) if isinstance(value, Interval) else (value, value)
                for key, bound in ((f"{term.key}_lo", low), (f"{term.key}_hi", high)):
                    if isinstance(bound, Decimal) and bound.is_infinite():
                        continue
                    shown = number_json(bound)  # type: ignore[arg-type]
                    if shown is None:
                        imprecise += 1
                    else:
                        values[key] = shown
                continue
            if isinstance(value, Record | tuple | frozenset):
                continue
            shown_value = const_json(value) if not is_number(value) else number_json(value)  # type: ignore[arg-type]
            if shown_value is None:
                imprecise += 1
                continue
            values[term.key] = shown_value
        facts: dict[str, dict[str, object]] = {}
        keys_of = {r.ruleset: set[str]() for r in self.rules}
        for r in self.rules:
            keys_of[r.ruleset] |= r.keys
        for name in self.rulesets:
            facts[name] = {k: values[k] for k in sorted(keys_of.get(name, ())) if k in values}
        return facts, imprecise


def compile_pack(pack: CheckedPack, *, max_keys: int = MAX_KEYS) -> DurablePack:
    """Compile every rule of `pack` into a definitely-true and a definitely-false durable rule."""
    compiler = ConditionCompiler(pack)
    compiled: list[tuple[str, Json | None, Json | None, frozenset[str]]] = []
    for rule_id, texpr in pack.rules.items():
        compiler.used = set()
        when_true, when_false = compiler.cond(texpr)
        compiled.append((rule_id, when_true, when_false, frozenset(compiler.used)))
    # group rules so that each ruleset's facts stay under the key limit
    groups: list[tuple[set[str], list[str]]] = []
    for rule_id, _, _, keys in compiled:
        if len(keys) > max_keys:
            raise DurableError(
                f"rule `{rule_id}` reads {len(keys)} values; durable_rules facts hold at most {max_keys}"
            )
        for group_keys, members in groups:
            if len(group_keys | keys) <= max_keys:
                group_keys.update(keys)
                members.append(rule_id)
                break
        else:
            groups.append((set(keys), [rule_id]))
    base = pack.id.replace(".", "_")
    ruleset_of = {rid: f"{base}_{i}" for i, (_, members) in enumerate(groups) for rid in members}
    rules = tuple(
        CompiledRule(rid, ruleset_of[rid], f"{rid}#true", f"{rid}#false", t, f, keys)
        for rid, t, f, keys in compiled
    )
    rulesets = {f"{base}_{i}": tuple(members) for i, (_, members) in enumerate(groups)}
    anniversaries = any(_counts_years(t) for t in (*pack.rules.values(), *pack.facts.values()))
    return DurablePack(pack, rules, tuple(compiler.terms.values()), rulesets, anniversaries)


def _counts_years(node: TypedExpr) -> bool:
    """Whether `node` counts whole years (an age, `years_between`): its value then changes on
    anniversaries of the dates it reads."""
    if isinstance(node, TAge) or (isinstance(node, TCall) and node.func == "years_between"):
        return True
    return any(_counts_years(child) for child in typed_children(node))


# --- the durable_rules host ---------------------------------------------------------------------

_SESSIONS = itertools.count()


def _durable_engine() -> Any:
    try:
        return importlib.import_module("durable.engine")
    except ImportError as err:
        raise DurableUnavailable() from err


class DurableSession:
    """One isolated durable_rules host holding one household fact per ruleset.

    `replace(household, facts)` retracts the household's previous facts, asserts the new ones under
    fresh ids and returns the names of the durable rules that fired.  Every call's result is
    checked: an action's exception (returned by durable_rules as data in the state) raises
    `DurableError`, and so does a fact durable_rules says it has already seen.
    """

    def __init__(self, compiled: DurablePack) -> None:
        engine = _durable_engine()
        self.engine = engine
        self.compiled = compiled
        self.session = next(_SESSIONS)
        self.fired: list[tuple[str, str]] = []
        self.ids: dict[tuple[str, str], str] = {}
        self.serial = itertools.count()
        self.observed_retries = 0
        self.names = {name: f"{name}_{self.session}" for name in compiled.rulesets}

        class _EventTimeHost(engine.Host):  # type: ignore[misc,name-defined]
            def _run(self) -> None:
                """No wall-clock timer threads: nothing in durable_rules runs by itself."""

        definitions: dict[str, dict[str, Json]] = {}
        for name, rules in compiled.definitions().items():
            definitions[self.names[name]] = {
                rule: {**when, "run": self._action(rule)} for rule, when in rules.items()
            }
        self.host = _EventTimeHost(definitions)

    def _action(self, rule: str) -> Callable[[Any], None]:
        def act(c: Any) -> None:
            self._on_fire(rule, str(c.m.id))

        return act

    def _on_fire(self, rule: str, fact_id: str) -> None:
        self.fired.append((rule, fact_id))

    def _call(self, method: str, ruleset: str, fact: dict[str, object]) -> None:
        engine = self.engine
        try:
            with warnings.catch_warnings():
                # durable_rules calls datetime.utcfromtimestamp, deprecated since Python 3.12
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable\b")
                state = getattr(self.host, method)(ruleset, fact)
        except engine.MessageNotHandledException:
            return  # no rule matched: nothing fired
        self._check(ruleset, state)

    def _check(self, ruleset: str, state: object) -> None:
        if isinstance(state, dict) and state.get("exception"):
            error = str(state["exception"])
            self.host.update_state(ruleset, {"sid": state.get("sid", "0"), "exception": None})
            raise DurableError(f"a durable_rules action failed: {error}")

    def replace(self, household: str, facts: Mapping[str, Mapping[str, object]]) -> set[tuple[str, str]]:
        """Retract the household's facts of the rulesets in `facts`, assert the new ones; return
        (ruleset, durable rule) of every rule that fired."""
        fired: set[tuple[str, str]] = set()
        for ruleset, fact in facts.items():
            name = self.names[ruleset]
            old = self.ids.pop((ruleset, household), None)
            if old is not None:
                self._call("retract_fact", name, {"id": old})
            for _attempt in range(2):
                fact_id = f"{household}#{next(self.serial)}"
                self.fired.clear()
                try:
                    self._call("assert_fact", name, {**fact, "id": fact_id, "hh": household})
                except self.engine.MessageObservedException:
                    self.observed_retries += 1  # jruizgit/rules#376: spurious after many facts
                    continue
                break
            else:
                raise DurableError(f"durable_rules refused the fact of `{household}` twice as already seen")
            self.ids[(ruleset, household)] = fact_id
            fired.update((ruleset, rule) for rule, seen in self.fired if seen == fact_id)
        self.fired.clear()
        return fired

    def retract(self, household: str) -> None:
        for ruleset in self.compiled.rulesets:
            old = self.ids.pop((ruleset, household), None)
            if old is not None:
                self._call("retract_fact", self.names[ruleset], {"id": old})

    def facts(self) -> int:
        """How many facts the host holds (for tests and the benchmark)."""
        return sum(len(self.host.get_facts(name)) for name in self.names.values())
