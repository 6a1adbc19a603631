"""The parts of a decision read from one pack outcome: criterion verdicts, applicability, rules.

Each with its reason in words: a pack's template filled, the parts that make a condition false, or
what would settle it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from gspolicy._glossary import text as glossary_text
from gspolicy._glossary import word
from gspolicy._i18n import Lang, Text
from gspolicy.engine.measures import measure_text
from gspolicy.engine.run import ExprResult, PackOutcome, run_expr
from gspolicy.engine.verdicts import criterion_verdict, given_reads_of, settle_of, show_value, truth3
from gspolicy.explain.evidence import cite_text, facts_of, location_of, parameter_uses, readings_of
from gspolicy.explain.parts import (
    Applicability,
    CriterionVerdict,
    MeasureGrant,
    Membership,
    ParameterUse,
)
from gspolicy.explain.wording import (
    Vocabulary,
    fact_value,
    grouped,
    rate_value,
    reading,
    slot_values,
    vocabulary_for,
)
from gspolicy.lang import Interval, TraceEvent, Value
from gspolicy.lang.interpret import Context
from gspolicy.lang.typed import TCompare, TypedExpr
from gspolicy.lang.why import Part, Reason, why
from gspolicy.pack.model import Criterion

__all__ = ["applicability_of", "criterion_of", "memberships_of"]


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


def _root_compare(root: TCompare, events: Sequence[TraceEvent]) -> TraceEvent | None:
    """The comparison event of a criterion whose root is a single comparison (a chain: none)."""
    if len(root.ops) != 1:
        return None
    return next((e for e in events if e.kind == "compare" and e.node is root), None)


def _number(value: Value, *, high: bool = False) -> Decimal | None:
    """An exact number, or the low (`high`: the high) bound of an interval."""
    if isinstance(value, Interval):
        bound = value.high if high else value.low
        return Decimal(bound) if Decimal(bound).is_finite() else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)


def criterion_of(c: Criterion, outcome: PackOutcome) -> CriterionVerdict:
    """The verdict of criterion `c` in its pack's outcome, with its reason and what it read."""
    checked = outcome.pack
    pack = checked.pack
    given = outcome.givens.get(c.id)
    result = outcome.criteria.get(c.id)
    events: list[TraceEvent] = [*(given.events if given else ()), *(result.events if result else ())]
    readings = readings_of(events)
    params = parameter_uses(events, outcome)
    facts = facts_of(events)
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
        compare = _root_compare(root, result.events) if isinstance(root, TCompare) else None
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
        location=location_of(c.span),
        expression=c.require.text if c.require is not None else None,
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


def applicability_of(outcome: PackOutcome) -> Applicability:
    """Whether the pack applies to the record (it is assessed), why, and what would settle it."""
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
    where = location_of(applies.span)
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
                where = location_of(named.span)
                break
        return Applicability("not_applicable", reason, readings, (), where)
    missing = settle_of(result.value)
    reason = Text(
        zh="无法判定是否参加验收：", en="cannot tell whether the household is assessed: "
    ) + _why_unknown(missing, ())
    return Applicability("undetermined", reason, readings, missing, where)


def memberships_of(outcome: PackOutcome) -> tuple[Membership, ...]:
    """Each rule of the pack: whether it applies, the measures it grants, what it read."""
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
                location_of(rule.span),
                parameters=parameter_uses(result.events, outcome),
                facts=facts_of(result.events),
                cites=tuple(cite_text(c, pack) for c in rule.cites),
            )
        )
    return tuple(out)
