"""What a verdict rests on, read from its trace events: values read, parameters, facts, citations.

The parameters with their value in force, sources and bounds; the citations as text (built once per
pack version); where in a pack file a rule or value is written (`location_of`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from gspolicy._i18n import Text
from gspolicy._location import Span, file_line
from gspolicy._memo import Memo
from gspolicy.engine.run import PackOutcome, parameter_value
from gspolicy.engine.verdicts import show_value
from gspolicy.explain.parts import (
    BoundUse,
    ParameterUse,
    Reading,
)
from gspolicy.lang import TraceEvent
from gspolicy.pack.model import Bound, Citation, PackSource

__all__ = ["cite_text", "facts_of", "location_of", "parameter_uses", "readings_of"]


def location_of(span: Span | None) -> str:
    """Where a rule or value is written: ``file:line`` in its pack file (``?`` when unknown)."""
    return file_line(span, "?")


def readings_of(events: Iterable[TraceEvent]) -> tuple[Reading, ...]:
    """The record values a verdict read, each once (a field only checked for presence as given)."""
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
    """The parameters a verdict used, each with its value in force, source, confidence and bounds."""
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
            location=location_of(dated.span),
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


def facts_of(events: Iterable[TraceEvent]) -> tuple[tuple[str, str], ...]:
    """The facts a verdict used, each once, with its value as shown (``unknown`` when unknown)."""
    seen: dict[str, str] = {}
    for e in events:
        if e.kind == "fact" and e.name not in seen:
            seen[e.name] = show_value(e.value) or "unknown"  # rendered as 待定 / unknown
    return tuple(seen.items())
