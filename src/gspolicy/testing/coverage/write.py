"""Writing the households found for coverage gaps as YAML cases next to their packs.

Each case expects the decision the packs give today: review it before committing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gspolicy.explain.build import decide
from gspolicy.pack.fmt import format_text
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Record
from gspolicy.schema.records import validate_record
from gspolicy.testing.case_yaml import record_changes, yaml_ready
from gspolicy.testing.cases import list_keys, merge_household
from gspolicy.testing.coverage.report import Gap
from gspolicy.testing.coverage.search import Found


def _normal(data: Mapping[str, Any], policy_set: PolicySet, kind: str | None = None) -> dict[str, Any]:
    record, problems = validate_record(data, policy_set.schema, record=kind)
    assert record is not None, [d.render("en") for d in problems]
    return record.to_data()


def _expect(
    policy_set: PolicySet, pack: CheckedPack, record: Record, as_of: dt.date, gaps: Sequence[Gap]
) -> dict[str, Any]:
    """What the case expects: the current decision, on the parts the gaps are about."""
    judged = bool(pack.pack.criteria)
    decision = decide(policy_set, record, as_of, **({"exit_pack": pack.id} if judged else {}))
    out: dict[str, Any] = {}
    if judged:
        out["verdict"] = decision.verdict
        if decision.applicability is not None:
            out["applicability"] = decision.applicability.status
        out["failing"] = sorted(c.id for c in decision.criteria if c.verdict == "fail")
        named = {g.decision.split(" ", 1)[1].split(":")[0] for g in gaps}
        criteria = {c.id: c.verdict for c in decision.criteria if c.id in named}
        if criteria:
            out["criteria"] = criteria
    if pack.pack.rules:
        out["rules"] = {m.rule: m.applies for m in decision.memberships if m.pack == pack.key}
    if pack.buffer is not None and decision.buffer is not None:
        out["buffer"] = decision.buffer.status
        out["basis"] = decision.buffer.basis
    return out


def write_cases(
    found: Sequence[Found],
    out: Path,
    policy_set: PolicySet,
    *,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Write the households found as YAML cases, one file per pack:
    ``<out>/<pack path>/tests/coverage.yaml`` (cases are added to a file that exists).

    `defaults` (by pack id) is the default household of each file, so each case lists only what
    differs from it; each case expects the current decision (review it before committing).
    """
    keys = list_keys(policy_set.schema)
    written: list[Path] = []
    by_pack: dict[str, list[Found]] = {}
    for f in found:
        by_pack.setdefault(f.pack.id, []).append(f)
    for pack_id, items in sorted(by_pack.items()):
        path = out.joinpath(*pack_id.split("."), "tests", "coverage.yaml")
        existing: dict[str, Any] = {}
        if path.exists():
            existing = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        base = dict(existing.get("defaults") or (defaults or {}).get(pack_id) or {})
        kind = items[0].pack.subject
        plain_base = _normal(base, policy_set, kind) if base else {}
        cases: list[dict[str, Any]] = list(existing.get("cases") or [])
        names = {c.get("name") for c in cases}
        grouped: dict[tuple[Record, dt.date], list[Found]] = {}
        for f in items:
            grouped.setdefault((f.record, f.as_of), []).append(f)
        for group in grouped.values():
            f = group[0]
            data = f.record.to_data()
            change = record_changes(plain_base, data, keys)
            merged = merge_household(plain_base, change, keys)
            if _normal(merged, policy_set, kind) != data:
                continue  # the change cannot be written against these defaults
            name = f"covers {f.gap.decision} ({f.gap.pack}): {f.gap.what}"
            if name in names:
                continue
            names.add(name)
            case: dict[str, Any] = {"name": name}
            if len(group) > 1:
                case["note"] = "also covers: " + "; ".join(
                    f"{g.gap.decision}: {g.gap.what}" for g in group[1:]
                )
            case["as_of"] = f.as_of
            if change:
                case["household"] = yaml_ready(change)
            case["expect"] = _expect(policy_set, f.pack, f.record, f.as_of, [g.gap for g in group])
            cases.append(case)
        document = {
            "pack": pack_id,
            "defaults": yaml_ready(base) if base else None,
            "cases": cases,
        }
        if not base:
            del document["defaults"]
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (
            "# Cases generated by `gspolicy test --coverage --write-missing` to close coverage gaps.\n"
            "# Each expects the decision the packs gave when it was generated: review before committing.\n"
        )
        body = yaml.safe_dump(
            document, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None
        )
        path.write_text(format_text(header + body, path=path), encoding="utf-8")  # the canonical layout
        written.append(path)
    return written
