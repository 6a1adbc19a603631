"""The buffer state of a decision: in the buffer after exit or not, on which basis, until when.

With each measure held at exit that the buffer retains, and those that lapsed or ended on their own."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from gspolicy._i18n import Text
from gspolicy.engine.measures import loan_drawn_text, measure_declared, measure_in_force, measure_text
from gspolicy.engine.outcome import item_paths
from gspolicy.engine.run import PackOutcome, run_expr
from gspolicy.engine.verdicts import buffer_choice, settle_of, show_value, truth3
from gspolicy.explain.evidence import cite_text, facts_of, location_of, parameter_uses, readings_of
from gspolicy.explain.parts import (
    BufferState,
    Reading,
    RetainedMeasure,
)
from gspolicy.explain.wording import (
    amount_words,
    vocabulary_for,
)
from gspolicy.lang import TraceEvent
from gspolicy.pack.model import Basis
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Record

__all__ = ["buffer_of"]


_measure_in_force = measure_in_force


def buffer_of(outcome: PackOutcome, policy_set: PolicySet) -> BufferState | None:
    """The buffer state the pack's `buffer:` gives the record (None when the pack has none)."""
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
    facts = facts_of(events)
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
            location_of(buffer.span),
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
            location_of(buffer.span),
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
            location_of(chosen.span),
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
        location_of(chosen.span),
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
    fields = policy_set.schema.support_fields  # the item's fields by role (found when the schema loaded)
    measure = str(item.get(fields.measure, "?"))
    held = item.get(fields.amount)
    at_exit = show_value(held) if held is not None else None
    start = item.get(fields.start)
    end = item.get(fields.end)
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
        lapses_when = defined.lapses_when.text if defined.lapses_when is not None else None
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
