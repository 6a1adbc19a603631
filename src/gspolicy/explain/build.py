"""Building decisions from pack outcomes: verdicts from values, explanations from trace events."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Literal

from gspolicy._glossary import text as glossary_text
from gspolicy._glossary import word
from gspolicy._i18n import Lang, Text
from gspolicy._location import Span
from gspolicy._memo import Memo
from gspolicy.engine.invariants import (
    Checks,
    checks_for,
    exclusive_broken,
    invariant_results,
    view_of_outcome,
)
from gspolicy.engine.outcome import (
    Outcome,
    amount_text,
    buffer_choice,
    criterion_verdict,
    given_reads_of,
    item_paths,
    loan_drawn_text,
    measure_declared,
    measure_in_force,
    measure_text,
    outcome_of,
    pack_verdict_of,
    settle_of,
    show_value,
    truth3,
)
from gspolicy.engine.run import ExprResult, PackOutcome, parameter_value, run_expr, run_pack
from gspolicy.errors import Diagnostic
from gspolicy.explain.decision import (
    Applicability,
    ApprovalRef,
    BoundUse,
    BufferState,
    CriterionVerdict,
    Decision,
    Finding,
    MeasureGrant,
    Membership,
    PackRef,
    ParameterUse,
    Reading,
    RetainedMeasure,
    Verdict,
)
from gspolicy.explain.wording import (
    Vocabulary,
    amount_words,
    fact_value,
    grouped,
    rate_value,
    reading,
    slot_values,
    vocabulary_for,
)
from gspolicy.lang import Interval, TraceEvent, Unknown, Value
from gspolicy.lang.interpret import Context
from gspolicy.lang.typed import TCompare, TypedExpr
from gspolicy.lang.why import Part, Reason, why
from gspolicy.pack.check import CheckedPack
from gspolicy.pack.model import Basis, Bound, Citation, Criterion, PackSource
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record

__all__ = ["decide", "decide_outcomes", "exit_pack_of", "outcomes_for", "pack_verdict", "show_value"]


def exit_pack_of(policy_set: PolicySet, subject: str | None = None) -> str:
    """The id of the verdict pack (``kind: exit``) deciding on `subject` (default: the schema's
    root record type), or "" when the set has none (each decision then says so)."""
    return policy_set.exit_pack(subject) or ""


"""The pack whose criteria give a decision's exit verdict (by default)."""


def _where(span: Span | None) -> str:
    return f"{span.file}:{span.line}" if span is not None else "?"


def readings_of(events: Iterable[TraceEvent]) -> tuple[Reading, ...]:
    seen: dict[str, Reading] = {}
    presence: set[str] = set()
    for e in events:
        if e.kind in ("field", "age") and (e.name not in seen or e.name in presence):
            seen[e.name] = Reading(e.name, show_value(e.value))
            presence.discard(e.name)
        elif e.kind == "present" and e.name not in seen:
            # only checked for presence: cited as given (its value is read only if it is used)
            seen[e.name] = Reading(e.name, "(given)" if e.value is True else None)
            presence.add(e.name)
    return tuple(seen.values())


_CITES: Memo[tuple[int, int], tuple[PackSource, Citation, Text]] = Memo(8192)


def cite_text(c: Citation, pack: PackSource) -> Text:
    """A citation as text: the same for every decision of a pack version, so built once."""
    key = (id(pack), id(c))
    found = _CITES.get(key)
    if found is not None and found[0] is pack and found[1] is c:
        return found[2]
    return _CITES.put(key, (pack, c, _citation(c, pack)))[2]


def _citation(c: Citation, pack: PackSource) -> Text:
    source = pack.sources.get(c.source)
    title = source.title if source is not None else Text(c.source, c.source)
    conf = c.confidence or (source.confidence if source is not None else None)
    zh = [f"推断自《{title.zh}》" if c.inferred else f"《{title.zh}》"]
    en = [f"inferred from {title.en}" if c.inferred else title.en]
    if c.clause and c.paraphrase:
        # the source's sense in other words, not its text: never quoted as if verbatim
        zh.append(f"大意：{c.clause}")
        en.append(f"paraphrased: {c.clause}")
    elif c.clause:
        zh.append(f"“{c.clause}”")
        en.append(f"“{c.clause}”")
    if conf:
        zh.append(f"可信度 {conf}")
        en.append(f"confidence {conf}")
    return Text(zh="，".join(zh), en=", ".join(en))


def parameter_uses(events: Iterable[TraceEvent], outcome: PackOutcome) -> tuple[ParameterUse, ...]:
    pack = outcome.pack.pack
    uses: dict[str, ParameterUse] = {}
    for e in events:
        if e.kind != "parameter" or e.name in uses or e.name not in pack.parameters:
            continue
        param = pack.parameters[e.name]
        value, dated = parameter_value(param, outcome.as_of)
        if dated is None:
            uses[e.name] = ParameterUse(
                e.name, param.title, "not in force", param.unit, None, None, None, None, None, None, "missing"
            )
            continue
        source_id = (
            dated.source
            or (dated.low.source if dated.low else None)
            or (dated.high.source if dated.high else None)
        )
        source = pack.sources.get(source_id) if source_id else None
        confidences = [dated.confidence, *(b.confidence for b in (dated.low, dated.high) if b is not None)]
        conf = next((c for c in confidences if c in ("L", "L-M")), None) or dated.confidence
        conf = conf or (source.confidence if source is not None else None)
        shown = show_value(value) if dated.kind != "not_established" else "not established"
        bounds = tuple(
            BoundUse(
                side,
                show_value(bound.value) or "?",
                bound.source or dated.source,
                _title(pack, bound.source or dated.source),
                bound.clause or (dated.clause if bound.source is None else None),
                bound.confidence or dated.confidence or _conf(pack, bound.source or dated.source),
                bound.derivation,
                bound.paraphrase if bound.clause else (dated.paraphrase if bound.source is None else False),
            )
            for side, bound in _sides(dated.low, dated.high)
            if bound is not None
        )
        uses[e.name] = ParameterUse(
            name=e.name,
            title=param.title,
            value=shown or "?",
            unit=param.unit,
            effective=dated.effective,
            source=source_id,
            source_title=source.title if source is not None else None,
            confidence=conf,
            clause=dated.clause or (dated.low.clause if dated.low else None),
            location=_where(dated.span),
            kind=dated.kind,
            bounds=bounds,
            imported_from=param.imported_from,
            approximate=dated.approximate,
            paraphrase=dated.paraphrase if dated.clause else (dated.low.paraphrase if dated.low else False),
        )
    return tuple(uses.values())


def _sides(
    low: Bound | None, high: Bound | None
) -> tuple[tuple[Literal["at_least", "at_most"], Bound | None], ...]:
    return (("at_least", low), ("at_most", high))


def _title(pack: PackSource, source: str | None) -> Text | None:
    found = pack.sources.get(source) if source else None
    return found.title if found is not None else None


def _conf(pack: PackSource, source: str | None) -> str | None:
    found = pack.sources.get(source) if source else None
    return found.confidence if found is not None else None


def _facts(events: Iterable[TraceEvent]) -> tuple[tuple[str, str], ...]:
    seen: dict[str, str] = {}
    for e in events:
        if e.kind == "fact" and e.name not in seen:
            seen[e.name] = show_value(e.value) or "unknown"  # rendered as 待定 / unknown
    return tuple(seen.items())


_SLOT = re.compile(r"\{([^{}]+)\}")


_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)


def _fill(template: Text, slots: Mapping[str, str], text_slots: Mapping[str, Text] | None = None) -> Text:
    """A pack's explanation text with its ``{name}`` slots filled: a reading, a parameter, a fact,
    or a text the engine words per language (`text_slots`: ``{shortfall}``).  A part in ``[[ ]]``
    is kept only when every slot in it has a value (``[[（差 {shortfall} 元）]]`` says nothing when
    the value is at a strict threshold: there is no shortfall to state)."""
    worded = text_slots or {}

    def filled(text: str, lang: Lang) -> str:
        def sub(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in worded:
                return worded[name].get(lang)
            return grouped(slots.get(name, "?"))

        def optional(match: re.Match[str]) -> str:
            names = [n.strip() for n in _SLOT.findall(match.group(1))]
            if all(n in worded or n in slots for n in names):
                return _SLOT.sub(sub, match.group(1))
            return ""

        return _SLOT.sub(sub, _OPTIONAL.sub(optional, text))

    return Text(zh=filled(template.zh, "zh"), en=filled(template.en, "en"))


def _gap(op: str, left: Value, right: Value) -> tuple[str, Text | None] | None:
    """How far a failed ``>``, ``>=``, ``<`` or ``<=`` falls short: as JSON text (a number, or the
    range ``[low, high]`` when a side is a range — 3,400 against [3,500, 3,815.38] is 100 to
    415.38 short) and in words (None when it is zero: a value at a strict threshold is "not
    above" it, never "0 below")."""
    lows = {"left": _number(left), "right": _number(right)}
    highs = {"left": _number(left, high=True), "right": _number(right, high=True)}
    if None in lows.values() or None in highs.values():
        return None
    # the least and the most the value would have to move to pass
    up, down = ("right", "left") if op in (">", ">=") else ("left", "right")
    least = lows[up] - highs[down]  # type: ignore[operator]
    most = highs[up] - lows[down]  # type: ignore[operator]
    least = max(least, Decimal(0))
    if least == most:
        shown = show_value(least) or "?"
        if least == 0:
            return shown, None
        return shown, Text(zh=grouped(shown), en=grouped(shown))
    low_text, high_text = show_value(least) or "?", show_value(most) or "?"
    return (
        f"[{low_text}, {high_text}]",
        Text(
            zh=f"{grouped(low_text)} 至 {grouped(high_text)}",
            en=f"{grouped(low_text)} to {grouped(high_text)}",
        ),
    )


def _root_compare(texpr_span: Span, events: Sequence[TraceEvent]) -> TraceEvent | None:
    for e in events:
        if e.kind == "compare" and e.span == texpr_span and len(e.operands) == 2:
            return e
    return None


def _number(value: Value, *, high: bool = False) -> Decimal | None:
    """An exact number, or the low (`high`: the high) bound of an interval."""
    if isinstance(value, Interval):
        bound = value.high if high else value.low
        return Decimal(bound) if Decimal(bound).is_finite() else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)


def _criterion(c: Criterion, outcome: PackOutcome) -> CriterionVerdict:
    checked = outcome.pack
    pack = checked.pack
    given = outcome.givens.get(c.id)
    result = outcome.criteria.get(c.id)
    events: list[TraceEvent] = [*(given.events if given else ()), *(result.events if result else ())]
    readings = readings_of(events)
    params = parameter_uses(events, outcome)
    facts = _facts(events)
    cites = tuple(cite_text(x, pack) for x in c.cites)
    dept = pack.departments.get(c.department or pack.department)
    words = vocabulary_for(checked.schema, checked.subject, ((n, f.unit) for n, f in pack.facts.items()))
    slots: dict[str, str] = slot_values(  # rates as percentages
        words,
        ((r.path, r.value) for r in readings),
        ((p.name, p.value, p.unit) for p in params),
        facts,
    )
    text_slots: dict[str, Text] = {}
    shortfall = threshold = value_shown = None
    if result is not None:
        root = checked.criteria[c.id]
        compare = _root_compare(root.span, result.events) if isinstance(root, TCompare) else None
        if compare is not None:
            left, right = compare.operands
            value_shown, threshold = show_value(left), show_value(right)
            if compare.value is False and compare.name in (">", ">=", "<", "<="):
                gap = _gap(compare.name, left, right)
                if gap is not None:
                    shortfall, gap_words = gap
                    if gap_words is not None:
                        text_slots["shortfall"] = gap_words
    witnesses: tuple[str, ...] = ()
    verdict, missing = criterion_verdict(
        c,
        given.value if given is not None else None,
        result.value if result is not None else None,
        given_reads_of(checked, c.id),
    )
    if c.not_established:
        reason = Text(
            zh="来源未给出该指标的内容，无法判定为通过",
            en="the sources do not give this criterion's content, so it can never be judged a pass",
        )
    elif given is not None and given.value is not True:
        reason = c.given_explain or Text(
            zh="判定所需的数据条件不满足", en="the data the criterion needs is not there"
        )
        if missing and given.value is False:
            # the data is there but says the criterion cannot be judged: other values settle it
            reason = reason + Text(
                zh=f"（取决于：{'、'.join(missing)}）", en=f" (it turns on: {', '.join(missing)})"
            )
        elif missing:
            reason = reason + Text(
                zh=f"（缺少：{'、'.join(missing)}）", en=f" (missing: {', '.join(missing)})"
            )
    elif verdict == "pass":
        reason = (
            _fill(c.explain_passed, slots)
            if c.explain_passed
            else Text(zh="条件成立", en="the condition holds")
        )
    elif verdict == "fail":
        assert result is not None
        why_text, witnesses = _why_false(outcome, checked.criteria[c.id], words)
        reason = _fill(c.explain_failed, slots, text_slots) if c.explain_failed else why_text
    else:
        reason = _why_unknown(missing, params)
    if verdict != "fail":
        shortfall = None  # a shortfall is said only of a criterion that fails
    return CriterionVerdict(
        id=c.id,
        title=c.title,
        verdict=verdict,
        department=c.department or pack.department,
        department_title=dept,
        reason=reason,
        missing=missing,
        readings=readings,
        parameters=params,
        facts=facts,
        cites=cites,
        location=_where(c.span),
        expression=c.text,
        shortfall=shortfall,
        threshold=threshold,
        value=value_shown,
        witnesses=witnesses,
    )


def _why_false(outcome: PackOutcome, root: TypedExpr, words: Vocabulary) -> tuple[Text, tuple[str, ...]]:
    """The parts that make a failing condition false, with the items that witness its
    quantifiers (a child who dropped out, not the first member compared): see `lang.why`."""
    checked = outcome.pack
    ctx = Context(outcome.record, outcome.as_of, outcome.parameters, checked.facts)
    reason = why(root, ctx, False)
    units = {name: p.unit for name, p in checked.pack.parameters.items()}
    return _reason_text(reason, words, units), reason.witnesses


def _operand(value: Value, name: str, words: Vocabulary, units: Mapping[str, str | None], lang: Lang) -> str:
    """An operand of a comparison in a reason, as the reader reads it: a field's value as a
    reading (an enum code with its label, a rate as a percentage), a rate fact or parameter as a
    percentage, a number grouped."""
    shown = show_value(value)
    if shown is None:
        return word("reading", "missing", lang)
    kind, _, ref = name.partition(":")
    if kind == "field":
        return reading(words, ref, shown, lang)
    if kind == "fact":
        return grouped(fact_value(words, ref, shown))
    if kind == "param":
        return grouped(rate_value(words, shown, units.get(ref)))
    return grouped(shown)


def _part_text(part: Part, words: Vocabulary, units: Mapping[str, str | None]) -> Text:
    true = part.value
    if part.op and part.count is not None:  # a quantifier as a whole
        if part.count == 0:
            return Text(
                zh=f"`{part.text}` {'成立' if true else '不成立'}（列表为空）",
                en=f"`{part.text}` is {'true' if true else 'false'} (the list is empty)",
            )
        if part.op[0] == "any":
            return Text(
                zh=f"`{part.text}` 不成立（{part.count} 项中没有一项满足）",
                en=f"`{part.text}` is false (none of its {part.count} items holds)",
            )
        return Text(
            zh=f"`{part.text}` 成立（{part.count} 项全部满足）",
            en=f"`{part.text}` is true (all of its {part.count} items hold)",
        )
    if part.op:
        names = part.names or ("",) * len(part.operands)

        def chain(lang: Lang) -> str:
            shown = [_operand(part.operands[0], names[0], words, units, lang)]
            for op, value, name in zip(part.op, part.operands[1:], names[1:], strict=True):
                shown += [op, _operand(value, name, words, units, lang)]
            return " ".join(shown)

        return Text(
            zh=f"`{part.text}`（{chain('zh')} {'成立' if true else '不成立'}）",
            en=f"`{part.text}` ({chain('en')} is {'true' if true else 'false'})",
        )
    name = part.path or part.text
    truth = glossary_text("truth", "true" if true else "false")
    return Text(zh=f"`{name}` 为{truth.zh}", en=f"`{name}` is {truth.en}")


def _reason_text(reason: Reason, words: Vocabulary, units: Mapping[str, str | None]) -> Text:
    """`the condition does not hold: …` naming the deciding parts, grouped by the item they were
    evaluated for (``because of `members[2]`: …``)."""
    groups: dict[str, list[Text]] = {}
    for part in reason.parts:
        groups.setdefault(part.item, []).append(_part_text(part, words, units))
    zh: list[str] = []
    en: list[str] = []
    for item, texts in groups.items():
        zh_parts = "；".join(t.zh for t in texts)
        en_parts = "; ".join(t.en for t in texts)
        zh.append(f"原因在 `{item}`：{zh_parts}" if item else zh_parts)
        en.append(f"of `{item}`: {en_parts}" if item else en_parts)
    if reason.more:
        zh.append(f"另有 {reason.more} 处")
        en.append(f"and {reason.more} more")
    lead_zh, lead_en = "条件不成立", "the condition does not hold"
    if reason.facts:
        name, value = reason.facts[0]
        truth = glossary_text("truth", "true" if value else "false")
        lead_zh += f"：`{name}` 为{truth.zh}"
        lead_en += f": `{name}` is {truth.en}"
    if not zh:
        return Text(zh=lead_zh, en=lead_en)
    by_item = bool(reason.parts) and bool(reason.parts[0].item)
    if reason.facts or by_item:
        zh_text = "；".join(zh) if by_item else "因为" + "；".join(zh)
        return Text(zh=f"{lead_zh}，{zh_text}", en=f"{lead_en} because {'; '.join(en)}")
    return Text(zh=f"{lead_zh}：{'；'.join(zh)}", en=f"{lead_en}: {'; '.join(en)}")


def _why_unknown(missing: Sequence[str], params: Sequence[ParameterUse]) -> Text:
    fields = [m for m in missing if not m.startswith("param:")]
    ranges = [p for p in params if f"param:{p.name}" in missing]
    zh: list[str] = []
    en: list[str] = []
    if fields:
        zh.append("缺少数据：" + "、".join(f"`{f}`" for f in fields))
        en.append("missing data: " + ", ".join(f"`{f}`" for f in fields))
    for p in ranges:
        if p.kind == "range":
            shown = grouped(p.value)
            zh.append(f"参数 `{p.name}` 只知道区间 {shown}，区间内无法判定")
            en.append(
                f"the parameter `{p.name}` is only known as the range {shown}, which does not settle it"
            )
        else:
            zh.append(f"参数 `{p.name}` 没有来源确定的取值")
            en.append(f"the parameter `{p.name}` has no established value")
    if not zh:
        zh.append("无法判定")
        en.append("cannot be decided")
    return Text(zh="；".join(zh), en="; ".join(en))


def _applicability(outcome: PackOutcome) -> Applicability:
    applies = outcome.pack.pack.applies
    if applies is None or outcome.applies is None:
        kind = outcome.record.type_name
        spec = outcome.pack.schema.records.get(kind)
        every = (
            Text(zh="该政策包适用于所有对象", en="the pack applies to every household")
            if kind == "household" or spec is None
            else Text(
                zh=f"该政策包适用于所有{spec.title.zh}",
                en=f"the pack applies to every {spec.title.en.lower()}",
            )
        )
        return Applicability(
            "assessed",
            every,
            (),
            (),
            None,
        )
    result: ExprResult = outcome.applies
    readings = readings_of(result.events)
    where = _where(applies.span)
    if result.value is True:
        reason = applies.explain_assessed or applies.title
        return Applicability("assessed", reason, readings, (), where)
    if result.value is False:
        reason = applies.explain_not_applicable or Text(
            zh="不满足：" + applies.title.zh, en="not met: " + applies.title.en
        )
        checked = outcome.pack
        for named, typed in zip(applies.reasons, checked.not_applicable_reasons, strict=True):
            said = run_expr(checked, typed, outcome.record, outcome.as_of)
            if said.value is True:
                reason = named.explain
                readings = readings_of(said.events)
                where = _where(named.span)
                break
        return Applicability("not_applicable", reason, readings, (), where)
    missing = settle_of(result.value)
    reason = Text(
        zh="无法判定是否参加验收：", en="cannot tell whether the household is assessed: "
    ) + _why_unknown(missing, ())
    return Applicability("undetermined", reason, readings, missing, where)


_amount = amount_text


def _memberships(outcome: PackOutcome) -> tuple[Membership, ...]:
    pack = outcome.pack.pack
    out: list[Membership] = []
    for rule in pack.rules:
        result = outcome.rules.get(rule.id)
        if result is None:
            continue
        applies = truth3(result.value)
        grants = tuple(
            MeasureGrant(m.id, m.title, m.department, measure_text(m), m.amount.unit, m.form)
            for m in (pack.measures[g] for g in rule.grant)
        )
        out.append(
            Membership(
                rule.id,
                pack.key,
                rule.title,
                applies,
                grants,
                settle_of(result.value),
                readings_of(result.events),
                _where(rule.span),
                parameters=parameter_uses(result.events, outcome),
                facts=_facts(result.events),
                cites=tuple(cite_text(c, pack) for c in rule.cites),
            )
        )
    return tuple(out)


_measure_in_force = measure_in_force


def _buffer(outcome: PackOutcome, policy_set: PolicySet) -> BufferState | None:
    pack = outcome.pack.pack
    buffer = pack.buffer
    result = outcome.buffer
    if buffer is None or result is None:
        return None
    status, chosen, settle = buffer_choice(outcome.values())
    missing: set[str] = set(settle)
    # what the bases tried read: up to the first that holds or is undetermined
    events: list[TraceEvent] = list(result.retained.events)
    for basis in buffer.bases:
        active = result.active.get(basis.id)
        if active is None:
            continue
        events.extend(active.events)
        if active.value is not False:
            break
    if chosen is not None:
        # what the chosen basis read, not what the bases tried before it read
        events = [*result.retained.events, *result.active[chosen.id].events, *result.until[chosen.id].events]
    readings = readings_of(events)
    params = parameter_uses(events, outcome)
    facts = _facts(events)
    cites: tuple[Text, ...] = ()
    if status == "undetermined":
        what = ", ".join(sorted(missing)) or "?"
        reason = Text(
            zh=f"无法判定是否处于缓冲期：缺少 {what}",
            en=f"cannot tell whether the household is in the buffer: missing {what}",
        )
        return BufferState(
            "undetermined",
            None,
            None,
            None,
            None,
            reason,
            (),
            tuple(sorted(missing)),
            readings,
            cites,
            pack.key,
            _where(buffer.span),
            parameters=params,
            facts=facts,
        )
    if chosen is None:
        titled = [(pack.facts[n].title if n in pack.facts else Text(n, n), v) for n, v in facts]
        zh_words = {"true": "是", "false": "否"}
        shown_zh = "；".join(f"{t.zh}：{zh_words.get(v, v)}" for t, v in titled)
        shown_en = "; ".join(f"{t.en}: {v}" for t, v in titled)
        reason = Text(
            zh="不处于缓冲期：没有适用的缓冲依据" + (f"（{shown_zh}）" if shown_zh else ""),
            en="not in the buffer: no basis applies" + (f" ({shown_en})" if shown_en else ""),
        )
        return BufferState(
            "inactive",
            None,
            None,
            None,
            None,
            reason,
            (),
            (),
            readings,
            cites,
            pack.key,
            _where(buffer.span),
            parameters=params,
            facts=facts,
        )
    until_value = result.until[chosen.id].value
    until = until_value if isinstance(until_value, dt.date) else None
    cites = tuple(cite_text(c, pack) for c in chosen.cites)
    retained_value = result.retained.value
    if not isinstance(retained_value, tuple):
        missing_items = settle_of(retained_value)
        reason = Text(
            zh=f"处于缓冲期（{chosen.title.zh}），但无法确定退出时享受的措施：缺少 {', '.join(missing_items)}",
            en=f"in the buffer ({chosen.title.en}), but the measures held at exit cannot be told: missing {', '.join(missing_items)}",
        )
        return BufferState(
            "undetermined",
            chosen.id,
            chosen.title,
            until,
            chosen.amounts,
            reason,
            (),
            missing_items,
            readings,
            cites,
            pack.key,
            _where(chosen.span),
            parameters=params,
            facts=facts,
        )
    paths = _item_paths(outcome.record)
    held = [
        _retained(item, paths.get(id(item), f"item {i}"), chosen, until, outcome, policy_set)
        for i, item in enumerate(retained_value)
        if isinstance(item, Record)
    ]
    retained = tuple(r for r in held if not _ended(r, outcome.as_of))
    ended = tuple(r for r in held if _ended(r, outcome.as_of))
    until_text = until.isoformat() if until else "?"
    if chosen.amounts == "at_exit":
        reason = Text(
            zh=f"处于缓冲期：{chosen.title.zh}，至 {until_text}；退出时享受的措施保持不变，金额不低于退出时",
            en=f"in the buffer: {chosen.title.en}, until {until_text}; the measures held at exit stay unchanged, "
            "at no less than the amount held at exit",
        )
    else:
        reason = Text(
            zh=f"处于缓冲期：{chosen.title.zh}，至 {until_text}；退出时享受的措施继续，但按当日有效政策包中的金额"
            "（弱于“保持不变”）",
            en=f"in the buffer: {chosen.title.en}, until {until_text}; the measures held at exit continue, but at the "
            "amounts in force in the packs of the day (weaker than unchanged)",
        )
    return BufferState(
        "active",
        chosen.id,
        chosen.title,
        until,
        chosen.amounts,
        reason,
        retained,
        (),
        readings,
        cites,
        pack.key,
        _where(chosen.span),
        parameters=params,
        facts=facts,
        ended=ended,
    )


_item_paths = item_paths


def _ended(item: RetainedMeasure, as_of: dt.date) -> bool:
    """A retained item ends at its own end date (the history item's `end`) or when its measure
    lapses (`lapses_when`): the buffer keeps policies unchanged, not a benefit past its end."""
    return item.lapsed == "yes" or (item.held_until is not None and item.held_until < as_of)


def _retained(
    item: Record, path: str, basis: Basis, until: dt.date | None, outcome: PackOutcome, policy_set: PolicySet
) -> RetainedMeasure:
    measure = str(item.get("measure", "?"))
    at_exit = show_value(item.get("amount")) if item.get("amount") is not None else None
    start = item.get("start")
    end = item.get("end")
    found = _measure_in_force(policy_set, measure, outcome.as_of)
    declared = measure_declared(policy_set, measure, outcome.as_of)
    title = found[1].title if found else declared[1].title if declared else Text(measure, measure)
    unit = found[1].amount.unit if found else None
    form = declared[1].form if declared else None
    if basis.amounts == "at_exit":
        amount = loan_drawn_text(at_exit) if form == "loan" else at_exit
        source = Text(
            zh="退出时享受的金额（来自帮扶记录）", en="the amount held at exit (from the support history)"
        )
    elif found is None:
        amount = None
        source = Text(
            zh=f"当日有效的政策包中没有措施 `{measure}` 的定义，金额无法确定",
            en=f"no pack in force on {outcome.as_of} defines measure `{measure}`, so its amount is not known",
        )
    else:
        pack, defined = found
        amount = measure_text(defined) if defined.amount.kind == "exact" or defined.form == "loan" else None
        words = vocabulary_for(policy_set.schema, outcome.record.type_name, ())
        shown = Text(
            zh=amount_words(measure_text(defined), "zh", defined.amount.unit, words),
            en=amount_words(measure_text(defined), "en", defined.amount.unit, words),
        )
        source = Text(
            zh=f"当日有效的政策包 {pack.key} 中的金额 {shown.zh}",
            en=f"the amount {shown.en} in force in pack {pack.key}",
        )
    until_text = until.isoformat() if until else "?"
    why = Text(
        zh=f"退出之日享受该措施（{path}，自 {start} 起），依据“{basis.title.zh}”保留至 {until_text}",
        en=f"held on the exit date ({path}, from {start}), retained under “{basis.title.en}” until {until_text}",
    )
    lapses_when: str | None = None
    lapsed: Literal["yes", "no", "undetermined"] | None = None
    missing: tuple[str, ...] = ()
    readings: tuple[Reading, ...] = ()
    if isinstance(end, dt.date) and end < outcome.as_of:
        why = Text(
            zh=f"退出之日享受该措施（{path}，自 {start} 起），但其本身已于 {end} 结束",
            en=f"held on the exit date ({path}, from {start}), but it ended on its own end date, {end}",
        )
    elif declared is not None and measure in declared[0].lapses:
        pack_of, defined = declared
        result = run_expr(pack_of, pack_of.lapses[measure], outcome.record, outcome.as_of)
        lapses_when = defined.lapses_text
        lapsed = truth3(result.value)
        readings = readings_of(result.events)
        shown_when = (lapses_when or "").strip()
        if lapsed == "yes":
            why = Text(
                zh=f"退出之日享受该措施（{path}），但该措施已终止：`{shown_when}` 成立",
                en=f"held on the exit date ({path}), but the measure has lapsed: `{shown_when}` holds",
            )
        elif lapsed == "undetermined":
            missing = settle_of(result.value)
            what = ", ".join(missing) or "?"
            why = Text(
                zh=f"{why.zh}；是否已终止（`{shown_when}`）无法判定：缺少 {what}",
                en=f"{why.en}; whether it has lapsed (`{shown_when}`) cannot be told: missing {what}",
            )
    return RetainedMeasure(
        measure=measure,
        title=title,
        amount=amount,
        unit=unit,
        amount_at_exit=at_exit,
        amount_rule=basis.amounts,
        amount_source=source,
        held_from=start if isinstance(start, dt.date) else None,
        held_until=end if isinstance(end, dt.date) else None,
        basis=basis.id,
        until=until,
        path=path,
        why=why,
        form=form,
        lapses_when=lapses_when,
        lapsed=lapsed,
        missing=missing,
        readings=readings,
    )


def _ref(checked: CheckedPack) -> PackRef:
    approval = checked.pack.approval
    return PackRef(
        checked.id,
        checked.version,
        checked.content_hash,
        checked.pack.source.name,
        checked.pack.title,
        ApprovalRef(approval.document, approval.issuer, approval.issued, approval.in_force)
        if approval is not None
        else None,
    )


def pack_verdict(outcome: PackOutcome) -> Verdict:
    """A pack's verdict from its outcome alone (`gspolicy.engine.outcome.pack_verdict_of`)."""
    return pack_verdict_of(outcome.values())


def outcomes_for(
    policy_set: PolicySet, record: Record, as_of: dt.date, only: Iterable[str] | None = None
) -> dict[str, PackOutcome]:
    """Every pack in force on `as_of` for the record's type (or only those named) run on it."""
    wanted = None if only is None else set(only)
    return {
        p.id: run_pack(p, record, as_of)
        for p in policy_set.all_in_force(as_of)
        if p.subject == record.type_name and (wanted is None or p.id in wanted)
    }


def decide(
    policy_set: PolicySet, record: Record, as_of: dt.date, *, exit_pack: str | None = None
) -> Decision:
    """Decide on one record (a household, or a village or county) as of `as_of` with the packs
    in force on that date for its record type; `exit_pack` gives the verdict (default: the
    verdict pack of the record's type, ``kind: exit``)."""
    return decide_outcomes(
        policy_set, record, as_of, outcomes_for(policy_set, record, as_of), exit_pack=exit_pack
    )


def _problems_of(outcome: PackOutcome) -> Iterable[Diagnostic]:
    results = [
        *([outcome.applies] if outcome.applies is not None else []),
        *outcome.givens.values(),
        *outcome.criteria.values(),
        *outcome.rules.values(),
    ]
    for result in results:
        if isinstance(result.value, Unknown):
            yield from result.value.problems


def _evaluation_problems(outcomes: Iterable[PackOutcome]) -> list[Text]:
    """What evaluation itself could not do (a date outside the calendar, a division by zero): each
    left its value unknown and is said once, with the first place in a pack it happened."""
    found: dict[tuple[str, str], Text] = {}
    for outcome in outcomes:
        results = [
            *([outcome.applies] if outcome.applies is not None else []),
            *outcome.givens.values(),
            *outcome.criteria.values(),
            *outcome.rules.values(),
        ]
        for result in results:
            if isinstance(result.value, Unknown):
                for d in sorted(result.value.problems, key=lambda d: d.render("en")):
                    where = d.location.header() if d.location is not None else outcome.pack.key
                    found.setdefault(
                        (d.code, d.message("en")),
                        Text(zh=f"{where}：{d.message('zh')}", en=f"{where}: {d.message('en')}"),
                    )
    return list(found.values())


def decide_outcomes(
    policy_set: PolicySet,
    record: Record,
    as_of: dt.date,
    outcomes: Mapping[str, PackOutcome],
    *,
    exit_pack: str | None = None,
) -> Decision:
    """The decision from pack outcomes already run (`outcomes_for`)."""
    if exit_pack is None:
        exit_pack = exit_pack_of(policy_set, record.type_name)
    in_force = [o.pack for o in outcomes.values()]
    spec = policy_set.schema.records.get(record.type_name)
    key = spec.key if spec is not None and spec.key is not None else "id"
    household = str(record.get(key, "?"))
    problems: list[Text] = []
    applicability = None
    verdict: Verdict | None = None
    criteria: tuple[CriterionVerdict, ...] = ()
    exit_outcome = outcomes.get(exit_pack)
    if not exit_pack:
        problems.append(
            Text(
                zh=f"政策包中没有 `{record.type_name}` 的结论包（`kind: exit`）",
                en=f"the policy set has no verdict pack (`kind: exit`) for `{record.type_name}`",
            )
        )
    elif exit_outcome is None:
        problems.append(
            Text(
                zh=f"{as_of.isoformat()} 没有有效的政策包 `{exit_pack}` 版本",
                en=f"no version of pack `{exit_pack}` is in force on {as_of.isoformat()}",
            )
        )
    else:
        applicability = _applicability(exit_outcome)
        criteria = tuple(_criterion(c, exit_outcome) for c in exit_outcome.pack.pack.criteria)
        verdict = pack_verdict(exit_outcome)
    problems.extend(_evaluation_problems(outcomes.values()))
    memberships = tuple(m for o in outcomes.values() for m in _memberships(o))
    buffers = [b for o in sorted(outcomes.values(), key=lambda o: o.pack.id) if (b := _buffer(o, policy_set))]
    values = {k: o.values() for k, o in outcomes.items()}
    codes = sorted({d.code for o in outcomes.values() for d in _problems_of(o)})
    outcome = outcome_of(policy_set, record, as_of, values, exit_pack=exit_pack, problems=codes)
    checks = checks_for(policy_set, record.type_name, as_of)
    checking = policy_set.invariants_in_force(as_of, record.type_name) if checks is not None else ()
    return Decision(
        household=household,
        as_of=as_of,
        packs=tuple(_ref(p) for p in (*in_force, *checking)),
        applicability=applicability,
        verdict=verdict,
        criteria=criteria,
        memberships=memberships,
        problems=tuple(problems),
        buffer=buffers[0] if buffers else None,
        findings=_findings(checks, outcome, in_force) if checks is not None else (),
        result=outcome,
        words=vocabulary_for(
            policy_set.schema,
            record.type_name,
            ((n, f.unit) for p in in_force for n, f in p.pack.facts.items()),
        ),
    )


def _findings(checks: Checks, outcome: Outcome, in_force: Sequence[CheckedPack]) -> tuple[Finding, ...]:
    """The invariants the decision violates or cannot be checked against (with what each read
    of the outcome), then the exclusive groups it breaks."""
    out: list[Finding] = []
    for result in invariant_results(checks, view_of_outcome(checks, outcome), trace=True):
        if result.value is True:
            continue
        invariant = next(i for i in result.pack.pack.invariants if i.id == result.id)
        read = "; ".join(f"{e.name} = {_shown(e.value)}" for e in result.events if e.kind == "call")
        statement = " ".join(invariant.holds_text.split())
        cites = tuple(cite_text(c, result.pack.pack) for c in invariant.cites)
        missing = settle_of(result.value) if result.value is not False else ()
        if result.value is False:
            status: Literal["violated", "undetermined"] = "violated"
            reason = Text(
                zh=f"不变式不成立：`{statement}` 为假（{read}）",
                en=f"the invariant does not hold: `{statement}` is false ({read})",
            )
        else:
            status = "undetermined"
            what = ", ".join(missing) or "?"
            reason = Text(
                zh=f"无法检查不变式 `{statement}`：缺少 {what}",
                en=f"the invariant `{statement}` cannot be checked: missing {what}",
            )
        out.append(
            Finding(
                "invariant",
                result.pack.key,
                result.id,
                invariant.title,
                status,
                reason,
                missing,
                cites,
                _where(invariant.span),
            )
        )
    rules_yes = [f"{p.id}:{r.id}" for p in outcome.packs for r in p.rules if r.holds == "yes"]
    for pack_id, group in exclusive_broken(checks, rules_yes):
        pack = next(p for p in in_force if p.id == pack_id)
        held = [r for r in group if f"{pack_id}:{r}" in rules_yes]
        declared = next((x for x in pack.pack.exclusive if x.rules == group), None)
        title = Text(zh=f"规则 {', '.join(group)} 互斥", en=f"rules {', '.join(group)} are exclusive")
        reason = Text(
            zh=f"互斥规则同时成立：{', '.join(held)}",
            en=f"rules declared exclusive hold together: {', '.join(held)}",
        )
        out.append(
            Finding(
                "exclusive",
                pack.key,
                f"exclusive({', '.join(group)})",
                title,
                "violated",
                reason,
                (),
                (),
                _where(declared.span) if declared is not None else None,
            )
        )
    return tuple(out)


def _shown(value: Value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Unknown | Interval):
        return "unknown"
    return str(value)
