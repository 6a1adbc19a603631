"""Explaining a monitoring alert like any decision: the rule, what it read, its parameters, its sources.

The parameters with value, effective date, source and confidence; the event values the monitor
prepared; the citations.

The alert itself was decided by durable_rules; the explanation re-evaluates the same rule with the
reference interpreter on the same state to collect the trace (as decisions do) and says whether
both agree — they always should, and a disagreement is reported, not hidden.
"""

from __future__ import annotations

from typing import Any

from gspolicy._glossary import word
from gspolicy._i18n import Lang, Text
from gspolicy._location import file_line
from gspolicy.engine.monitor import Alert
from gspolicy.engine.run import ExprResult, PackOutcome
from gspolicy.engine.verdicts import show_value
from gspolicy.explain.evidence import cite_text, parameter_uses, readings_of
from gspolicy.explain.wording import quantity, reading, vocabulary_for
from gspolicy.lang import Context, TraceEvent, evaluate
from gspolicy.pack.policy_set import PolicySet

__all__ = ["explain_alert", "render_alert"]


def explain_alert(alert: Alert, policy_set: PolicySet) -> dict[str, Any]:
    """The explanation of an alert as plain data (zh and en texts side by side)."""
    pack = next(p for p in policy_set.versions(alert.pack.split("@")[0]) if p.key == alert.pack)
    rule = next(r for r in pack.pack.rules if r.id == alert.rule)
    events: list[TraceEvent] = []
    ctx = Context(alert.record, alert.date, alert.parameters, pack.facts, trace=events.append)
    value = evaluate(pack.rules[alert.rule], ctx)
    outcome = PackOutcome(
        pack,
        alert.record,
        alert.date,
        alert.parameters,
        None,
        {},
        {},
        {rule.id: ExprResult(value, tuple(events))},
    )
    declared = [p for p in parameter_uses(events, outcome) if not p.name.startswith("event_")]
    prepared = {
        name: show_value(v) or "unknown"
        for name, v in alert.parameters.items()
        if name.startswith("event_") and any(e.kind == "parameter" and e.name == name for e in events)
    }
    cites = [cite_text(c, pack.pack) for c in rule.cites]
    where = file_line(rule.span, "?")
    reason = Text(
        zh=f"条件成立（{alert.date.isoformat()}）：`{' '.join(rule.when.text.split())}`",
        en=f"the condition holds on {alert.date.isoformat()}: `{' '.join(rule.when.text.split())}`",
    )
    return {
        "rule": rule.id,
        "title": {"zh": rule.title.zh, "en": rule.title.en},
        "reason": {"zh": reason.zh, "en": reason.en},
        "decided_by": alert.durable_rule,
        "interpreter_agrees": value is True,
        "location": where,
        "readings": [{"path": r.path, "value": r.value} for r in readings_of(events)],
        "parameters": [
            {
                "name": p.name,
                "value": p.value,
                "unit": p.unit,
                "effective": p.effective.isoformat() if p.effective else None,
                "source": p.source,
                "confidence": p.confidence,
                "kind": p.kind,
            }
            for p in declared
        ],
        "prepared": [
            {"name": name, "value": shown, "from": "the monitor's event log, windowed by event dates"}
            for name, shown in prepared.items()
        ],
        "cites": [{"zh": c.zh, "en": c.en} for c in cites],
    }


def render_alert(
    alert: Alert, explanation: dict[str, Any], lang: Lang, policy_set: PolicySet | None = None
) -> str:
    """A few lines of text for people: with the policy set, values in the reader's words (an enum
    code with its label, true and false, a rate as a percentage, a parameter with its unit)."""
    words = vocabulary_for(policy_set.schema, alert.record.type_name, ()) if policy_set is not None else None
    title = explanation["title"][lang]
    lines = [f"{alert.date} {alert.household}: {title} [{alert.rule} → {alert.durable_rule}]"]
    lines.append("  " + explanation["reason"][lang])
    for r in explanation["readings"]:
        lines.append(f"  {r['path']} = {reading(words, r['path'], r['value'], lang)}")
    for p in explanation["parameters"]:
        if p["value"] in ("true", "false"):
            value = word("truth", p["value"], lang)
        elif p["kind"] == "not_established":
            value = p["value"]
        else:
            value = quantity(words, p["value"], p["unit"], lang)
        lines.append(f"  {p['name']} = {value} ({p['source']}, {p['confidence']})")
    for p in explanation["prepared"]:
        shown = word("truth", p["value"], lang) if p["value"] in ("true", "false", "unknown") else p["value"]
        lines.append(f"  {p['name']} = {shown} ({'事件记录' if lang == 'zh' else 'event log'})")
    return "\n".join(lines) + "\n"
