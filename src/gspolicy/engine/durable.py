"""The durable_rules backend: pack rules compiled to durable_rules rulesets, one rule per condition form.

This is the only module that imports ``durable`` (lazily, in `DurableSession`); compiling and
showing the rules needs no extra.

**Compiled** (decided inside durable_rules' Rete network): the boolean structure of every rule
(``and``, ``or``, ``not``, facts used by name), comparisons (``< <= > >= == !=``) between a value
and a constant or between two values of the same fact, ``in`` / ``not in`` over a list literal,
``within``, ``present`` and boolean fields.  Kleene's three-valued logic is compiled into two
durable rules per pack rule: ``<rule>#true`` matches exactly when the condition is definitely
true and ``<rule>#false`` exactly when it is definitely false; neither matches when it is
unknown.  Every read of a value is guarded by an existence test (``$ex``), a missing value is an
absent key, and a number known only as a range travels as two keys (``…_lo``, ``…_hi``; an
infinite end is absent), so a comparison is definite only when the bounds decide it.  An alert is
raised on ``#true`` alone, so it never fires on unknown data.

**Prepared** (computed by `DurablePack.prepare` into the asserted fact, exactly, with decimals,
by the per-record evaluator of `gspolicy.engine.compiled` — the interpreter's semantics, no
interpreter of its own):
field reads (flattened to one key each), the as-of date, parameter values in force, arithmetic,
member aggregates (``any``/``all``/``count``/``sum``/``min``/``max`` over a list, bodies
included), ages, ``year`` and ``years_between``, conditionals, and ``in`` over a set-valued
parameter.  Dates travel as day numbers (``date.toordinal()``); a number that does not survive
the trip to a double unchanged is sent as absent (unknown) and counted, never rounded.

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
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from gspolicy.engine.compiled import lower_terms
from gspolicy.lang.typed import (
    TAge,
    TAggregate,
    TArith,
    TAsOf,
    TBool,
    TCall,
    TCompare,
    TConst,
    TFact,
    TField,
    TIf,
    TNeg,
    TNot,
    TParam,
    TPresent,
    TSet,
    TypedExpr,
    typed_children,
)
from gspolicy.lang.types import DateT, NumberT
from gspolicy.lang.values import (
    Interval,
    Unknown,
    Value,
    compare,
    is_number,
)
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

Json = Any  # a durable_rules condition: JSON data
_HOUSEHOLD: Json = {"$ex": {"hh": 1}}  # every household fact has it; durable's state object has not
_ALWAYS: Json = {"$always": True}  # a placeholder, never sent: see `_and`


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
class Term:
    """A value a rule reads, prepared into the fact under `key` (or `key_lo`/`key_hi` when it
    may be known only as a range); `kind` says how it is prepared."""

    key: str
    expr: TypedExpr = attrs.field(eq=False)
    text: str
    kind: str  # field, as_of, parameter, aggregate, computed, condition
    ranged: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return (f"{self.key}_lo", f"{self.key}_hi") if self.ranged else (self.key,)


@attrs.frozen
class CompiledRule:
    """One pack rule as two durable rules: definitely true and definitely false (None: never)."""

    rule: str
    ruleset: str
    true_name: str
    false_name: str
    when_true: Json
    when_false: Json
    keys: frozenset[str]


@attrs.frozen
class _Side:
    """A comparison operand: a constant, or the key(s) of a prepared term."""

    const: object = None
    lo: str | None = None
    hi: str | None = None

    @property
    def is_const(self) -> bool:
        return self.lo is None


def _low(side: _Side) -> _Side:
    return side if side.is_const else _Side(lo=side.lo, hi=side.lo)


def _high(side: _Side) -> _Side:
    return side if side.is_const else _Side(lo=side.hi, hi=side.hi)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE_OP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}


def _and(parts: Iterable[Json | None]) -> Json | None:
    """Conjunction; None is "never", `_ALWAYS` drops out."""
    items: list[Json] = []
    for p in parts:
        if p is None:
            return None
        if p == _ALWAYS:
            continue
        items.extend(p["$and"] if isinstance(p, dict) and set(p) == {"$and"} else [p])
    if not items:
        return _ALWAYS
    return items[0] if len(items) == 1 else {"$and": items}


def _or(parts: Iterable[Json | None]) -> Json | None:
    items: list[Json] = []
    for p in parts:
        if p is None:
            continue
        if p == _ALWAYS:
            return _ALWAYS
        items.extend(p["$or"] if isinstance(p, dict) and set(p) == {"$or"} else [p])
    if not items:
        return None
    return items[0] if len(items) == 1 else {"$or": items}


def _ex(key: str) -> Json:
    return {"$ex": {key: 1}}


def _const_json(value: object) -> object:
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | Decimal):
        return _number_json(value)
    raise TypeError(f"no durable form for constant {value!r}")


def _number_json(value: int | Decimal) -> int | float | None:
    """A number as JSON, or None when a double would not carry it unchanged."""
    if isinstance(value, int):
        return value if abs(value) < 2**53 else None
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else None


class _Compiler:
    def __init__(self, pack: CheckedPack) -> None:
        self.pack = pack
        self.terms: dict[str, Term] = {}
        self.by_text: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()
        self.ranged_params = {
            name for name, p in pack.pack.parameters.items() if any(v.kind == "range" for v in p.values)
        }

    # --- terms ---------------------------------------------------------------------------------
    def term(self, node: TypedExpr, kind: str) -> Term:
        text = " ".join(node.span.text.split())
        if isinstance(node, TField):
            key = "f_" + "_".join(node.path)
            text = ".".join(node.path)
        elif isinstance(node, TParam):
            key = "p_" + node.name
        elif isinstance(node, TAsOf):
            key, text = "as_of", "as_of"
        else:
            found = self.by_text.get((kind, text))
            key = found or f"t{len(self.terms)}"
        term = self.terms.get(key)
        if term is None:
            term = Term(key, node, text, kind, self.may_range(node))
            self.terms[key] = term
            self.by_text[(kind, text)] = key
        self.used.update(term.keys)
        return term

    def may_range(self, node: TypedExpr) -> bool:
        if not isinstance(node.type, NumberT):
            return False
        if isinstance(node, TParam):
            return node.name in self.ranged_params
        if isinstance(node, TFact):
            return self.may_range(self.pack.facts[node.name])
        if isinstance(node, TArith):
            return self.may_range(node.left) or self.may_range(node.right)
        if isinstance(node, TNeg):
            return self.may_range(node.operand)
        if isinstance(node, TAggregate):
            return (node.func == "count" and node.body is not None) or (
                node.body is not None and self.may_range(node.body)
            )
        return isinstance(node, TAge | TIf)

    def side(self, node: TypedExpr) -> _Side:
        if isinstance(node, TConst):
            return _Side(const=node.value)
        if isinstance(node, TFact):
            return self.side(self.pack.facts[node.name])
        kind = (
            "field"
            if isinstance(node, TField)
            else "parameter"
            if isinstance(node, TParam)
            else "as_of"
            if isinstance(node, TAsOf)
            else "aggregate"
            if isinstance(node, TAggregate)
            else "computed"
        )
        term = self.term(node, kind)
        keys = term.keys
        return _Side(lo=keys[0], hi=keys[-1])

    # --- conditions ----------------------------------------------------------------------------
    def cond(self, node: TypedExpr) -> tuple[Json | None, Json | None]:
        """(definitely true, definitely false) conditions of a boolean node; None is never."""
        if isinstance(node, TConst):
            return (_ALWAYS, None) if node.value is True else (None, _ALWAYS)
        if isinstance(node, TNot):
            t, f = self.cond(node.operand)
            return f, t
        if isinstance(node, TBool):
            forms = [self.cond(o) for o in node.operands]
            if node.op == "and":
                return _and(t for t, _ in forms), _or(f for _, f in forms)
            return _or(t for t, _ in forms), _and(f for _, f in forms)
        if isinstance(node, TFact):
            return self.cond(self.pack.facts[node.name])
        if isinstance(node, TPresent):
            key = self.term(node.field, "field").key
            return _ex(key), {"$nex": {key: 1}}
        if isinstance(node, TField):
            key = self.term(node, "field").key
            return _and([_ex(key), {key: True}]), _and([_ex(key), {key: False}])
        if isinstance(node, TCall) and node.func == "within":
            day, first, last = node.args
            return self.chain([first, day, last], ["<=", "<="])
        if isinstance(node, TCompare) and all(
            op not in ("in", "not in") or isinstance(r, TSet)
            for op, r in zip(node.ops, node.operands[1:], strict=True)
        ):
            return self.chain(list(node.operands), list(node.ops))
        # anything else is a prepared condition: true, false or absent (unknown)
        key = self.term(node, "condition").key
        return _and([_ex(key), {key: True}]), _and([_ex(key), {key: False}])

    def chain(self, operands: list[TypedExpr], ops: list[str]) -> tuple[Json | None, Json | None]:
        forms = []
        for op, left, right in zip(ops, operands, operands[1:], strict=False):
            if op in ("in", "not in"):
                assert isinstance(right, TSet)
                eqs = [self.compare("==", left, item) for item in right.items]
                t, f = _or(t for t, _ in eqs), _and(f for _, f in eqs)
                forms.append((f, t) if op == "not in" else (t, f))
            else:
                forms.append(self.compare(op, left, right))
        return _and(t for t, _ in forms), _or(f for _, f in forms)

    def compare(
        self, op: str, left_node: TypedExpr, right_node: TypedExpr
    ) -> tuple[Json | None, Json | None]:
        left, right = self.side(left_node), self.side(right_node)
        if left.is_const and right.is_const:
            result = compare(op, left.const, right.const)  # type: ignore[arg-type]
            return (_ALWAYS, None) if result is True else (None, _ALWAYS)
        ordered = isinstance(left_node.type, NumberT | DateT)
        if op == "!=":
            t, f = self.compare("==", left_node, right_node)
            return f, t
        if op == "==":
            if not ordered:
                return self.atom("==", left, right), self.atom("!=", left, right)
            sure = _and(
                [
                    _ALWAYS if left.lo == left.hi else self.atom("==", _low(left), _high(left)),
                    self.atom("==", _high(left), _low(right)),
                    _ALWAYS if right.lo == right.hi else self.atom("==", _low(right), _high(right)),
                ]
            )
            return sure, _or([self.bound("<", left, right), self.bound(">", left, right)])
        return self.bound(op, left, right), self.bound(_NEGATE[op], left, right)

    def bound(self, op: str, left: _Side, right: _Side) -> Json | None:
        """``left op right`` definitely: ``<``/``<=`` read the left's high and the right's low bound."""
        if op in ("<", "<="):
            return self.atom(op, _high(left), _low(right))
        return self.atom(op, _low(left), _high(right))

    def atom(self, op: str, left: _Side, right: _Side) -> Json | None:
        """One durable comparison with its existence tests; `left` or `right` may be a constant."""
        if left.is_const:
            left, right, op = right, left, _FLIP[op]
        assert left.lo is not None
        key = left.lo
        if right.is_const:
            value = _const_json(right.const)
            if value is None:
                return None
            test: Json = {key: value} if op == "==" else {_DURABLE_OP[op]: {key: value}}
            return _and([_ex(key), test])
        assert right.lo is not None
        other = right.lo
        test = {key: {"$m": other}} if op == "==" else {_DURABLE_OP[op]: {key: {"$m": other}}}
        return _and([_ex(key), _ex(other), test])


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
                    full = _and([_HOUSEHOLD, when])
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
                    shown = _number_json(bound)  # type: ignore[arg-type]
                    if shown is None:
                        imprecise += 1
                    else:
                        values[key] = shown
                continue
            if isinstance(value, Record | tuple | frozenset):
                continue
            shown_value = _const_json(value) if not is_number(value) else _number_json(value)  # type: ignore[arg-type]
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
    compiler = _Compiler(pack)
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
