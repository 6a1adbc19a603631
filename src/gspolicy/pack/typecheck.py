"""Check a read pack against the household schema: the only constructor of `CheckedPack`.

Facts are ordered by their references (a cycle among facts is reported with every fact on it),
then every expression — facts, criteria, rules — is type-checked: conditions must be true or
false, names must resolve, enum literals must be codes or labels of their enum.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import attrs

from gspolicy._location import Span
from gspolicy.errors import Diagnostic, suggest
from gspolicy.lang import (
    BOOL,
    DATE,
    NUMBER,
    STRING,
    EnumT,
    Env,
    Expr,
    ListT,
    SetT,
    Type,
    TypedExpr,
    check,
    describe_type,
    references,
)
from gspolicy.lang.typed import TAge, TAggregate, TAsOf, TFact, TField, TPresent, typed_children
from gspolicy.pack.hash import content_hash
from gspolicy.pack.model import PackSource, Parameter
from gspolicy.schema.load import unit_known
from gspolicy.schema.model import Schema
from gspolicy.schema.roles import SUPPORT_MEASURE

__all__ = ["CheckedIndicator", "CheckedPack", "check_pack", "parameter_type"]

KEY_NAMES = {"batch": "by_batch", "measure": "by_measure"}
"""The name by which an indicator grouped by a built-in key reads the cell's batch or measure
(a text): ``sum(held_on(support, as_of), amount if measure == by_measure else 0)``."""


@attrs.frozen
class CheckedBuffer:
    """The typed buffer: the retained list and each basis's condition and end date."""

    retained: TypedExpr
    active: Mapping[str, TypedExpr]
    until: Mapping[str, TypedExpr]


@attrs.frozen
class CheckedIndicator:
    """A statistics indicator's typed expressions: the figure (a condition for a count, a number
    for a sum), the sum's `where`, a flow's date."""

    figure: TypedExpr
    where: TypedExpr | None
    dated_by: TypedExpr | None
    held: TypedExpr | None = None  # history items with a `measure`: what `batch` and `measure` read
    held_measure: str | None = None  # the items' field that plays the role of their measure


@attrs.frozen
class CheckedPack:
    """A pack whose names are resolved and whose expressions are typed against the schema.

    `facts` holds the typed fact definitions in dependency order; `criteria` and `rules` the
    typed conditions by id (a criterion that is not established has none); `givens` the typed
    data preconditions of criteria; `applies` the typed applicability condition; `weighs` the
    typed `weigh` aggregates of criteria.
    """

    pack: PackSource
    schema: Schema
    subject: str
    env: Env
    facts: Mapping[str, TypedExpr]
    criteria: Mapping[str, TypedExpr]
    givens: Mapping[str, TypedExpr]
    applies: TypedExpr | None
    rules: Mapping[str, TypedExpr]
    content_hash: str
    buffer: CheckedBuffer | None = None
    weighs: Mapping[str, TypedExpr] = attrs.field(factory=dict)
    lapses: Mapping[str, TypedExpr] = attrs.field(factory=dict)  # measure id → typed `lapses_when`
    invariants: Mapping[str, TypedExpr] = attrs.field(factory=dict)  # invariant id → typed `holds`
    # the typed conditions of `applies.reasons`, in order
    not_applicable_reasons: tuple[TypedExpr, ...] = ()
    keys: Mapping[str, TField] = attrs.field(factory=dict)  # a statistics pack's key → field read
    indicators: Mapping[str, CheckedIndicator] = attrs.field(factory=dict)  # statistics: id → typed

    @property
    def kind(self) -> str:
        """The pack's role (``kind:``)."""
        return self.pack.kind

    @property
    def id(self) -> str:
        return self.pack.id

    @property
    def version(self) -> str:
        return self.pack.version

    @property
    def key(self) -> str:
        return self.pack.key


def parameter_type(param: Parameter) -> Type:
    """The expression type of a parameter."""
    if param.type == "number":
        return NUMBER
    if param.type == "date":
        return DATE
    if param.type == "bool":
        return BOOL
    if param.type == "text":
        return STRING
    return SetT(EnumT(param.enum) if param.enum else STRING)


def _order_facts(pack: PackSource, diagnostics: list[Diagnostic]) -> list[str]:
    """Facts in dependency order; a cycle is reported once, at each fact on it."""
    deps = {name: references(fact.expr.expr)[0] & set(pack.facts) for name, fact in pack.facts.items()}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    reported: set[frozenset[str]] = set()
    context = (("pack", pack.key),)

    def visit(name: str, stack: list[str]) -> None:
        mark = state.get(name)
        if mark == 2:
            return
        if mark == 1:
            cycle = [*stack[stack.index(name) :], name]
            members = frozenset(cycle)
            if members not in reported:
                reported.add(members)
                text = " → ".join(f"`{n}`" for n in cycle)
                for member in sorted(members):
                    span = pack.facts[member].span
                    diagnostics.append(
                        Diagnostic(
                            "pack/fact-cycle", span, {"cycle": text}, context=(("fact", member), *context)
                        )
                    )
            return
        state[name] = 1
        for dep in sorted(deps[name]):
            visit(dep, [*stack, name])
        state[name] = 2
        order.append(name)

    for name in pack.facts:
        visit(name, [])
    return order


def _units_named(pack: PackSource) -> Iterator[tuple[str, str, str, Span | None]]:
    """Every unit the pack names: (context kind, owner, unit, the owner's span); imported
    parameters are checked in the pack that declares them."""
    for param in pack.parameters.values():
        if param.unit is not None and param.imported_from is None:
            yield "parameter", param.name, param.unit, param.span
    for fact in pack.facts.values():
        if fact.unit is not None:
            yield "fact", fact.name, fact.unit, fact.span
    for measure in pack.measures.values():
        for amount in (measure.amount, measure.term):
            if amount is not None and amount.unit is not None:
                yield "measure", measure.id, amount.unit, measure.span


def _unit_span(owner: Span | None, unit: str) -> Span | None:
    """Where `unit: <unit>` is written in the owner's entry (its first occurrence after the
    owner's key), else the owner's key."""
    if owner is None:
        return None
    found = re.compile(r"\bunit:[ \t]*[\"']?(" + re.escape(unit) + r")[\"']?(?=[\s,}]|$)").search(
        owner.source.text, owner.start
    )
    return Span(owner.source, found.start(1), found.end(1)) if found is not None else owner


def _unit_problems(pack: PackSource, schema: Schema) -> list[Diagnostic]:
    """A unit the schema's `units:` table does not declare, located where it is written."""
    return [
        Diagnostic(
            "pack/unknown-unit",
            _unit_span(span, unit),
            {"unit": unit},
            context=((kind, owner), ("pack", pack.key)),
            suggestions=suggest(unit, schema.units),
        )
        for kind, owner, unit, span in _units_named(pack)
        if not unit_known(schema.units, unit)
    ]


def _with_context(problems: list[Diagnostic], context: tuple[tuple[str, str], ...]) -> list[Diagnostic]:
    return [attrs.evolve(d, context=(*d.context, *context)) for d in problems]


def check_pack(pack: PackSource, schema: Schema) -> tuple[CheckedPack | None, list[Diagnostic]]:
    """Check `pack` against `schema`; return the checked pack (None on any error) and diagnostics."""
    diagnostics: list[Diagnostic] = []
    ctx = (("pack", pack.key),)
    subject = pack.subject or schema.root
    if subject not in schema.records:
        span: Span | None = pack.span
        diagnostics.append(Diagnostic("pack/unknown-subject", span, {"name": subject}, context=ctx))
        return None, diagnostics
    for param in pack.parameters.values():
        if param.type == "list" and param.enum is not None and param.enum not in schema.enums:
            diagnostics.append(
                Diagnostic(
                    "pack/unknown-enum",
                    param.span,
                    {"name": param.enum},
                    context=(("parameter", param.name), *ctx),
                )
            )
    diagnostics.extend(_unit_problems(pack, schema))
    params = {name: parameter_type(p) for name, p in pack.parameters.items()}
    order = _order_facts(pack, diagnostics)
    fact_types: dict[str, Type] = {}
    facts: dict[str, TypedExpr] = {}
    # facts that could not be typed (on a cycle, or in error): an expression using one is not
    # checked, so the one root cause is reported once, not again at every use
    cyclic = {
        name for d in diagnostics if d.code == "pack/fact-cycle" for kind, name in d.context if kind == "fact"
    }
    failed: set[str] = set(cyclic)

    def blocked(expr: Expr) -> bool:
        return bool(references(expr)[0] & failed)

    for name in order:
        if name in cyclic or blocked(pack.facts[name].expr.expr):
            failed.add(name)
            continue
        env = Env(
            schema=schema,
            root=subject,
            parameters=params,
            facts=dict(fact_types),
            missing_day=pack.missing_day,
        )
        typed, problems = check(pack.facts[name].expr.expr, env)
        diagnostics.extend(_with_context(problems, (("fact", name), *ctx)))
        if typed is not None:
            facts[name] = typed
            fact_types[name] = typed.type
        else:
            failed.add(name)
    env = Env(schema=schema, root=subject, parameters=params, facts=fact_types, missing_day=pack.missing_day)
    criteria: dict[str, TypedExpr] = {}
    givens: dict[str, TypedExpr] = {}
    weighs: dict[str, TypedExpr] = {}
    for criterion in pack.criteria:
        cctx = (("criterion", criterion.id), *ctx)
        if criterion.given is not None and not blocked(criterion.given.expr):
            typed, problems = check(criterion.given.expr, env, expect=BOOL)
            diagnostics.extend(_with_context(problems, cctx))
            if typed is not None:
                givens[criterion.id] = typed
        if criterion.weigh is not None and not blocked(criterion.weigh.expr):
            typed, problems = check(criterion.weigh.expr, env, expect=NUMBER)
            diagnostics.extend(_with_context(problems, cctx))
            if typed is not None and not (isinstance(typed, TAggregate) and typed.func in ("count", "sum")):
                diagnostics.append(Diagnostic("pack/bad-weigh", criterion.weigh.expr.span, {}, context=cctx))
            elif typed is not None:
                weighs[criterion.id] = typed
        if criterion.require is None or blocked(criterion.require.expr):
            continue
        typed, problems = check(criterion.require.expr, env, expect=BOOL)
        diagnostics.extend(_with_context(problems, cctx))
        if typed is not None:
            criteria[criterion.id] = typed
    applies: TypedExpr | None = None
    reasons: list[TypedExpr] = []
    if pack.applies is not None:
        applies, problems = check(pack.applies.when.expr, env, expect=BOOL)
        diagnostics.extend(_with_context(problems, (("option", "applies"), *ctx)))
        for reason in pack.applies.reasons:
            typed_reason, problems = check(reason.when.expr, env, expect=BOOL)
            diagnostics.extend(_with_context(problems, (("option", "applies"), *ctx)))
            if typed_reason is not None:
                reasons.append(typed_reason)
    rules: dict[str, TypedExpr] = {}
    for rule in pack.rules:
        if blocked(rule.when.expr):
            continue
        typed, problems = check(rule.when.expr, env, expect=BOOL)
        diagnostics.extend(_with_context(problems, (("rule", rule.id), *ctx)))
        if typed is not None:
            rules[rule.id] = typed
    invariants: dict[str, TypedExpr] = {}
    for invariant in pack.invariants if pack.kind == "invariants" else ():
        ictx = (("invariant", invariant.id), *ctx)
        outcome_env = Env(schema=schema, root=subject, outcome=True)
        typed, problems = check(invariant.holds.expr, outcome_env, expect=BOOL)
        diagnostics.extend(_with_context(problems, ictx))
        if typed is None:
            continue
        read = _record_read(typed)
        if read is not None:
            what = (
                ".".join(read.path)
                if isinstance(read, TField)
                else ".".join(read.field.path)
                if isinstance(read, TPresent)
                else "as_of"
                if isinstance(read, TAsOf)
                else "age"
            )
            diagnostics.append(
                Diagnostic(
                    "pack/invariant-reads-record",
                    read.span,
                    {"invariant": invariant.id, "what": what},
                    context=ictx,
                )
            )
            continue
        invariants[invariant.id] = typed
    keys, indicators = _check_statistics(pack, schema, subject, diagnostics)
    lapses: dict[str, TypedExpr] = {}
    for measure in pack.measures.values():
        if measure.lapses_when is None or blocked(measure.lapses_when.expr):
            continue
        mctx = (("measure", measure.id), *ctx)
        typed, problems = check(measure.lapses_when.expr, env, expect=BOOL)
        diagnostics.extend(_with_context(problems, mctx))
        if typed is not None:
            status = _status_read(typed, facts, schema, subject)
            if status is not None:
                field, record = status
                diagnostics.append(
                    Diagnostic(
                        "pack/lapse-reads-status",
                        field.span,
                        {"measure": measure.id, "path": ".".join(field.path), "record": record},
                        context=mctx,
                    )
                )
            else:
                lapses[measure.id] = typed
    buffer: CheckedBuffer | None = None
    if pack.buffer is not None:
        bctx = (("option", "buffer"), *ctx)
        retained, problems = check(pack.buffer.retained.expr, env)
        diagnostics.extend(_with_context(problems, bctx))
        if retained is not None and not isinstance(retained.type, ListT):
            diagnostics.append(
                Diagnostic(
                    "type/not-a-list",
                    retained.span,
                    {"func": "retained", "found": describe_type(retained.type)},
                    context=bctx,
                )
            )
            retained = None
        actives: dict[str, TypedExpr] = {}
        untils: dict[str, TypedExpr] = {}
        for basis in pack.buffer.bases:
            xctx = (("basis", basis.id), *bctx)
            active, problems = check(basis.active.expr, env, expect=BOOL)
            diagnostics.extend(_with_context(problems, xctx))
            until, problems = check(basis.until.expr, env, expect=DATE)
            diagnostics.extend(_with_context(problems, xctx))
            if active is not None and until is not None:
                actives[basis.id] = active
                untils[basis.id] = until
        if retained is not None:
            buffer = CheckedBuffer(retained, actives, untils)
    if any(d.is_error for d in diagnostics):
        return None, diagnostics
    checked = CheckedPack(
        pack,
        schema,
        subject,
        env,
        facts,
        criteria,
        givens,
        applies,
        rules,
        content_hash(pack),
        buffer,
        weighs,
        lapses,
        invariants,
        tuple(reasons),
        keys,
        indicators,
    )
    return checked, diagnostics


_SCALAR_KINDS = (STRING, NUMBER, DATE, BOOL)


def _check_statistics(
    pack: PackSource, schema: Schema, subject: str, diagnostics: list[Diagnostic]
) -> tuple[dict[str, TField], dict[str, CheckedIndicator]]:
    """The keys of a statistics pack (each one field of the subject, a scalar) and its
    indicators, typed in an invariant's scope: the record and its outcome (``rule("id")`` …)."""
    ctx = (("pack", pack.key),)
    keys: dict[str, TField] = {}
    for key in pack.keys:
        kctx = (("key", key.name), *ctx)
        typed, problems = check(key.field.expr, Env(schema=schema, root=subject))
        diagnostics.extend(_with_context(problems, kctx))
        if typed is None:
            continue
        if not isinstance(typed, TField) or not (
            typed.type in _SCALAR_KINDS or isinstance(typed.type, EnumT)
        ):
            diagnostics.append(
                Diagnostic(
                    "pack/group-key-not-a-field",
                    key.field.expr.span,
                    {"name": key.name, "found": key.field.text.strip()},
                    context=kctx,
                )
            )
            continue
        keys[key.name] = typed
    indicators: dict[str, CheckedIndicator] = {}
    for indicator in pack.indicators:
        ictx = (("indicator", indicator.id), *ctx)
        names = {KEY_NAMES[b]: STRING for b in indicator.by if b in KEY_NAMES}
        env = Env(schema=schema, root=subject, parameters=names, outcome=True, missing_day=pack.missing_day)
        figure, problems = check(
            indicator.expr.expr, env, expect=BOOL if indicator.figure == "count" else NUMBER
        )
        diagnostics.extend(_with_context(problems, ictx))
        where: TypedExpr | None = None
        if indicator.where is not None:
            where, problems = check(indicator.where.expr, env, expect=BOOL)
            diagnostics.extend(_with_context(problems, ictx))
        # a flow's date and the items `held` are read once per household, before its cells
        plain = attrs.evolve(env, parameters={})
        dated_by: TypedExpr | None = None
        if indicator.dated_by is not None:
            dated_by, problems = check(indicator.dated_by.expr, plain, expect=DATE)
            diagnostics.extend(_with_context(problems, ictx))
        if figure is None or (indicator.where is not None and where is None):
            continue
        if indicator.dated_by is not None and dated_by is None:
            continue
        held: TypedExpr | None = None
        held_measure: str | None = None
        if indicator.held is not None:
            held, problems = check(indicator.held.expr, plain)
            diagnostics.extend(_with_context(problems, ictx))
            if held is None:
                continue
            spec = schema.records.get(held.type.name) if isinstance(held.type, ListT) else None
            held_measure = spec.roles.get(SUPPORT_MEASURE) if spec is not None else None
            if held_measure is None:
                diagnostics.append(
                    Diagnostic(
                        "pack/held-not-measures",
                        held.span,
                        {"indicator": indicator.id, "found": describe_type(held.type)},
                        context=ictx,
                    )
                )
                continue
        indicators[indicator.id] = CheckedIndicator(figure, where, dated_by, held, held_measure)
    return keys, indicators


def _record_read(node: TypedExpr) -> TField | TAge | TAsOf | TPresent | None:
    """The first read of the record (or of the as-of date) in `node`: an invariant has none."""
    if isinstance(node, TField | TAge | TAsOf | TPresent):
        return node
    for child in typed_children(node):
        found = _record_read(child)
        if found is not None:
            return found
    return None


def _status_read(
    node: TypedExpr,
    facts: Mapping[str, TypedExpr],
    schema: Schema,
    subject: str,
    seen: frozenset[str] = frozenset(),
) -> tuple[TField, str] | None:
    """The first field of the subject `node` reads (through facts too) that lies in a record type
    marked ``keeps_retention`` (income, registration), with that type's name."""
    if isinstance(node, TField) and node.scope == 0:
        spec = schema.records.get(subject)
        for part in node.path:
            if spec is None:
                break
            if spec.keeps_retention:
                return node, spec.name
            field = spec.fields.get(part)
            spec = schema.records.get(field.record) if field is not None and field.record else None
        if spec is not None and spec.keeps_retention:
            return node, spec.name
        return None
    if isinstance(node, TFact):
        expr = facts.get(node.name)
        if expr is None or node.name in seen:
            return None
        return _status_read(expr, facts, schema, subject, seen | {node.name})
    for child in typed_children(node):
        found = _status_read(child, facts, schema, subject, seen)
        if found is not None:
            return found
    return None
