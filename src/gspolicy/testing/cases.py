"""Pack test cases: YAML files in ``<pack>/tests/*.yaml``, run by ``gspolicy test``.

A test file::

    pack: exit_criteria.household        # the pack the cases are about (its criteria give the verdict)
    defaults:                            # the default record every case starts from (a household
                                         # for a household pack, a village for a village pack …)
      id: T-0001
      ...
    cases:
      - name: income below the standard fails income
        as_of: 2018-12-31
        household:                        # only what the case needs, merged onto `defaults`
          income: {per_capita: 3150}      # (also `subject:`, the name for non-household packs)
        expect:
          verdict: fail                   # pass | fail | undetermined | not_applicable
          applicability: assessed         # assessed | not_applicable | undetermined
          version: "2018.1"               # the pack version in force
          criteria: {exit.income: fail}   # only the criteria named are checked
          failing: [exit.income]          # exactly the criteria that fail
          missing: [income.per_capita]    # exactly what would settle the undetermined parts of
                                          # this pack (its criteria, rules or buffer)
          rules: {some.rule: "yes"}       # rule memberships: "yes" | "no" | undetermined
          measures: [measure_id]          # exactly the measures this pack grants for sure
          buffer: active                  # the buffer after exit: active | inactive | undetermined
          basis: buffer.campaign          # the basis in force (`~` for none)
          until: 2020-12-31               # the day the basis ends
          retained:                       # exactly the retained measures and the amounts kept
            - {measure: preschool_fee_waiver, amount: 1000}   # omit `amount` when it cannot be known
            - {measure: microcredit, amount: "loan, drawn 50000"}   # a loan: what was drawn
          findings: []                    # exactly the invariants of this pack the decision
                                          # violates (or its exclusive groups it breaks,
                                          # `exclusive(rule_a, rule_b)`)

The case's record is validated against the record type the pack decides on (its ``subject``:
the schema's root, a household, unless the pack says ``subject: village`` or ``county``).  The
record is written under ``household:`` or, with the same meaning, ``subject:`` (the clearer name
for a village or a county); a case gives at most one of the two.

How a case's record merges onto the defaults: mappings merge key by key; a value of ``null``
(``~``) removes the field (to test missing data); a list of records that have a key (members, by
``id``) merges item by item — an item whose id is in the defaults updates that member, an item with
a new id is added, and ``{id: m2, remove: true}`` removes member ``m2``; a list of items that hold
a keyed record (a village's ``households``, by ``household.id``; a county's ``villages``, by
``village.code``) merges the same way by that record's key (``{household: {id: h2}, remove:
true}``); any other list (the support history) replaces the default list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from gspolicy._files import read_source
from gspolicy._i18n import Lang
from gspolicy._location import RecordLocation, Source, Span, file_line
from gspolicy._reader import Reader
from gspolicy._yaml import YMap, YNode, YScalar, YSeq, load_yaml
from gspolicy.errors import Diagnostic, suggest
from gspolicy.explain.build import decide
from gspolicy.explain.decision import Decision, Detail
from gspolicy.explain.render import render_text
from gspolicy.pack.format import CASE_EXPECT_KEYS
from gspolicy.pack.policy_set import PolicySet
from gspolicy.schema.model import Schema
from gspolicy.schema.validate import validate_record

__all__ = ["Case", "CaseResult", "find_case_files", "load_cases", "merge_household", "run_case"]

CASE_VERDICTS = ("pass", "fail", "undetermined", "not_applicable")


@attrs.frozen
class Case:
    """One test case, with the merged household as plain data."""

    file: str
    name: str
    pack: str
    as_of: dt.date
    household: Mapping[str, Any]  # the merged record (a household, or a village or county)
    expect: Mapping[str, Any]
    span: Span | None = attrs.field(default=None, eq=False)
    subject: str | None = None  # the record type of `household` (None: the schema's root)

    @property
    def where(self) -> str:
        return file_line(self.span, self.file)


@attrs.frozen
class CaseResult:
    case: Case
    decision: Decision | None
    mismatches: tuple[tuple[str, str, str], ...]  # (what, expected, actual)
    problems: tuple[Diagnostic, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.problems

    def report(self, lang: Lang = "en", *, detail: Detail = "brief") -> str:
        """What failed (expected against actual), then the explanation of the actual decision
        at a detail level (`Detail`; ``brief`` by default)."""
        zh = lang == "zh"
        lines = [f"{self.case.where}: {'用例' if zh else 'case'} `{self.case.name}`"]
        for d in self.problems:
            lines.append(d.render(lang))
        for what, expected, actual in self.mismatches:
            lines.append(
                f"  {what}: {'预期' if zh else 'expected'} {expected}, {'实际' if zh else 'actual'} {actual}"
            )
        if self.decision is not None and self.mismatches:
            lines.append("  " + ("实际判定的说明：" if zh else "explanation of the actual decision:"))
            title = None
            if self.case.subject not in (None, "household"):
                code, day = self.decision.household, self.decision.as_of
                title = (
                    f"{self.case.subject} {code} 验收判定（截至 {day}）"
                    if zh
                    else f"{self.case.subject.capitalize()} {code}: acceptance as of {day}"
                )
            text = render_text(self.decision, lang, title=title, detail=detail)
            lines.extend("    " + line for line in text.splitlines())
        return "\n".join(lines)


def _plain(node: YNode) -> Any:
    if isinstance(node, YMap):
        return {(k.value if isinstance(k.value, str) else k.text): _plain(v) for k, v in node.items}
    if isinstance(node, YSeq):
        return [_plain(v) for v in node.items]
    assert isinstance(node, YScalar)
    return node.value


def _ident(item: Any, key: str) -> Any:
    """The key of a list item: ``id``, or a dotted path to the key of a record it holds
    (``household.id``); None when it has none."""
    for part in key.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    # only a plain value can be a key; a list or a mapping given as a key matches nothing (the
    # record's validation reports it where it stands)
    return item if isinstance(item, str | int | float | bool) or item is None else None


def merge_household(
    default: Any, case: Any, key_of: Mapping[str, str | None] | None = None, field: str = ""
) -> Any:
    """Merge a case's record onto the default record (see the module doc). `key_of` maps a list
    field to the key its items merge by: a field name (``id``) or a dotted path (``household.id``)."""
    if isinstance(default, dict) and isinstance(case, dict):
        out = dict(default)
        for k, v in case.items():
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = merge_household(out[k], v, key_of, k)
            else:
                out[k] = v
        return out
    key = (key_of or {}).get(field)
    if key and isinstance(default, list) and isinstance(case, list):
        merged = [dict(item) if isinstance(item, dict) else item for item in default]
        index = {_ident(item, key): i for i, item in enumerate(merged) if isinstance(item, dict)}
        index.pop(None, None)
        removed: set[object] = set()
        for item in case:
            ident = _ident(item, key)
            if isinstance(item, dict) and item.get("remove") is True:
                removed.add(ident)
            elif ident is not None and ident in index:
                merged[index[ident]] = merge_household(merged[index[ident]], item, key_of, field)
            else:
                merged.append(item)
        return [m for m in merged if not (isinstance(m, dict) and _ident(m, key) in removed)]
    return case


def list_keys(schema: Schema) -> dict[str, str | None]:
    """Field name → the key of the records of a list field (members → id)."""
    out: dict[str, str | None] = {}
    for spec in schema.records.values():
        for name, field in spec.fields.items():
            if field.kind == "list" and field.record is not None and field.record in schema.records:
                out[name] = schema.records[field.record].key
    return out


def _case_list_keys(schema: Schema) -> dict[str, str | None]:
    """`list_keys`, and for a list of items without a key that hold a keyed record (a gathered
    item's ``derive: record`` field), the dotted path to that key (households → household.id)."""
    out = list_keys(schema)
    records = schema.records
    for spec in records.values():
        for name, field in spec.fields.items():
            if out.get(name) or field.kind != "list" or field.record is None or field.record not in records:
                continue
            held = [
                (inner, key)
                for inner, f in records[field.record].fields.items()
                if f.kind == "record" and f.record is not None and f.record in records
                for key in [records[f.record].key]
                if key is not None and (f.derive is None or f.derive.form == "record")
            ]
            if len(held) == 1:
                out[name] = f"{held[0][0]}.{held[0][1]}"
    return out


def _subject_of(policy_set: PolicySet, pack_id: str, as_of: dt.date | None) -> str:
    """The record type the pack decides on: the version in force on `as_of`, else any version's
    (versions of one pack decide on one type), else the schema's root."""
    pack = policy_set.in_force(pack_id, as_of) if as_of is not None else None
    versions = (pack,) if pack is not None else policy_set.versions(pack_id)
    for p in versions:
        if p.subject in policy_set.schema.records:
            return p.subject
    return policy_set.schema.root


def find_case_files(paths: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml`` inside a ``tests/`` folder under `paths` (or the files given)."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*.y*ml"))
                if "tests" in p.relative_to(path).parts[:-1] or path.name == "tests"
            )
    return found


def load_cases(path: Path, policy_set: PolicySet) -> tuple[list[Case], list[Diagnostic]]:
    """Read one test file; every problem in it is a located diagnostic."""
    source, problems = read_source(path)
    if source is None:
        return [], problems
    return cases_from_source(source, policy_set)


def cases_from_source(source: Source, policy_set: PolicySet) -> tuple[list[Case], list[Diagnostic]]:
    tree, problems = load_yaml(source)
    r = Reader()
    r.diagnostics.extend(problems)
    if tree is None:
        return [], r.diagnostics
    top = r.mapping(tree, "the test file", required=("pack", "cases"), optional=("defaults", "note"))
    if top is None:
        return [], r.diagnostics
    pack_id = r.string(top.get("pack"), "pack", name=True)
    if pack_id is not None and pack_id not in policy_set.ids:
        r.report("case/unknown-pack", top.get("pack"), {"name": pack_id}, suggest(pack_id, policy_set.ids))
        return [], r.diagnostics
    defaults_node = top.get("defaults")
    defaults = _plain(defaults_node) if defaults_node is not None else {}
    keys = _case_list_keys(policy_set.schema)
    criteria_ids = {c.id for p in policy_set.versions(pack_id or "") for c in p.pack.criteria}
    cases: list[Case] = []
    for item in r.items(top.get("cases"), "cases"):
        f = r.mapping(
            item,
            "a test case",
            required=("name", "as_of", "expect"),
            optional=("household", "subject", "note"),
        )
        if f is None or any(f.get(k) is None for k in ("name", "as_of", "expect")):
            continue  # a missing key is reported once, where the case stands; nothing runs
        name = r.string(f.get("name"), "name") or "?"
        cr = r.within("case", name)
        as_of = cr.date(f.get("as_of"), "as_of")
        household_node = f.get("household")
        both = False
        if f.get("subject") is not None:
            if household_node is not None:
                both = True
                problem = "give the case's record under `household:` or `subject:`, not both"
                cr.report("case/bad-household", f.get("subject"), {"problem": problem})
            household_node = f.get("subject")
        household = merge_household(
            defaults, _plain(household_node) if household_node is not None else {}, keys
        )
        expect = _read_expect(cr, f.get("expect"), criteria_ids, pack_id or "?")
        subject = _subject_of(policy_set, pack_id, as_of) if pack_id is not None else None
        record, problems = validate_record(household, policy_set.schema, record=subject, file=source.name)
        for d in problems:
            where = _locate(household_node or item, d.location)
            cr.report("case/bad-household", where, {"problem": d.message("en")})
        if as_of is None or expect is None or record is None or pack_id is None or both:
            continue
        cases.append(Case(source.name, name, pack_id, as_of, household, expect, item.span, subject))
    return cases, r.diagnostics


def _locate(node: YNode, location: object) -> YNode:
    """The node of the case file at a record data path, or the household node itself."""
    if not isinstance(location, RecordLocation):
        return node
    current = node
    for part in location.path:
        if isinstance(current, YMap) and isinstance(part, str) and current.get(part) is not None:
            current = current.get(part)  # type: ignore[assignment]  # checked not None
        elif isinstance(current, YSeq) and isinstance(part, int) and part < len(current.items):
            current = current.items[part]
        else:
            break
    return current


def _read_expect(
    r: Reader, node: YNode | None, criteria_ids: set[str], pack_id: str
) -> dict[str, Any] | None:
    f = r.mapping(node, "`expect`", optional=CASE_EXPECT_KEYS)
    if f is None:
        return None
    out: dict[str, Any] = {}
    ok = True

    def bad(key: str, value_node: YNode | None, hint: str) -> None:
        nonlocal ok
        ok = False
        shown = value_node.text if isinstance(value_node, YScalar) else "…"
        r.report("case/bad-expectation", value_node, {"value": shown, "key": key, "hint": hint})

    if "verdict" in f:
        v = f["verdict"]
        if isinstance(v, YScalar) and v.value in CASE_VERDICTS:
            out["verdict"] = v.value
        else:
            bad("verdict", v, "one of " + ", ".join(f"`{x}`" for x in CASE_VERDICTS))
    if "applicability" in f:
        v = f["applicability"]
        if isinstance(v, YScalar) and v.value in ("assessed", "not_applicable", "undetermined"):
            out["applicability"] = v.value
        else:
            bad("applicability", v, "one of `assessed`, `not_applicable`, `undetermined`")
    if "version" in f:
        out["version"] = r.version(f["version"], "version")
    if "criteria" in f:
        crit: dict[str, str] = {}
        for k, v in r.entries(f["criteria"], "criteria"):
            if str(k.value) not in criteria_ids:
                ok = False
                r.report(
                    "case/unknown-criterion",
                    k,
                    {"pack": pack_id, "name": k.value},
                    suggest(str(k.value), criteria_ids),
                )
            elif isinstance(v, YScalar) and v.value in ("pass", "fail", "undetermined"):
                crit[str(k.value)] = str(v.value)
            else:
                bad(f"criteria.{k.value}", v, "one of `pass`, `fail`, `undetermined`")
        out["criteria"] = crit
    for key in ("failing", "missing", "measures", "findings"):
        if key in f:
            items = [r.string(i, key) for i in r.items(f[key], key)]
            out[key] = sorted(i for i in items if i is not None)
    if "buffer" in f:
        v = f["buffer"]
        if isinstance(v, YScalar) and v.value in ("active", "inactive", "undetermined"):
            out["buffer"] = v.value
        else:
            bad("buffer", v, "one of `active`, `inactive`, `undetermined`")
    if "basis" in f:
        out["basis"] = (
            None
            if isinstance(f["basis"], YScalar) and f["basis"].value is None
            else r.string(f["basis"], "basis", name=True)
        )
    if "until" in f:
        out["until"] = r.date(f["until"], "until")
    if "retained" in f:
        retained: list[tuple[str, str | None]] = []
        for item in r.items(f["retained"], "retained"):
            rf = r.mapping(item, "a retained measure", required=("measure",), optional=("amount",))
            if rf is None:
                ok = False
                continue
            measure = r.string(rf.get("measure"), "measure")
            amount_node = rf.get("amount")
            amount = None
            if (
                isinstance(amount_node, YScalar)
                and isinstance(amount_node.value, str)
                and amount_node.value.startswith("loan, ")
            ):
                amount = amount_node.value  # a loan's amount, as the support column writes it
            elif isinstance(amount_node, YScalar) and amount_node.value is not None:
                number = r.number(amount_node, "amount")
                amount = None if number is None else format(number.normalize(), "f")
            if measure is not None:
                retained.append((measure, amount))
        out["retained"] = sorted(retained, key=lambda x: (x[0], x[1] or ""))
    if "rules" in f:
        rules: dict[str, str] = {}
        for k, v in r.entries(f["rules"], "rules"):
            value = (
                "yes"
                if (isinstance(v, YScalar) and v.value is True)
                else "no"
                if (isinstance(v, YScalar) and v.value is False)
                else (v.value if isinstance(v, YScalar) else None)
            )
            if value in ("yes", "no", "undetermined"):
                rules[str(k.value)] = str(value)
            else:
                bad(f"rules.{k.value}", v, "one of `yes`, `no`, `undetermined`")
        out["rules"] = rules
    return out if ok else None


def run_case(case: Case, policy_set: PolicySet) -> CaseResult:
    """Run one case; a mismatch lists expected vs actual."""
    record, problems = validate_record(case.household, policy_set.schema, record=case.subject, file=case.file)
    if record is None:
        return CaseResult(case, None, (), tuple(problems))
    judged = any(p.pack.criteria for p in policy_set.versions(case.pack))
    decision = decide(policy_set, record, case.as_of, **({"exit_pack": case.pack} if judged else {}))
    e = case.expect
    mismatches: list[tuple[str, str, str]] = []

    def check(what: str, expected: object, actual: object) -> None:
        if expected != actual:
            mismatches.append((what, _show(expected), _show(actual)))

    if "verdict" in e:
        check("verdict", e["verdict"], decision.verdict)
    if "applicability" in e:
        check(
            "applicability",
            e["applicability"],
            decision.applicability.status if decision.applicability else None,
        )
    if "version" in e:
        used = next((p.version for p in decision.packs if p.id == case.pack), None)
        check("version", e["version"], used)
    by_id = {c.id: c.verdict for c in decision.criteria}
    for cid, expected in e.get("criteria", {}).items():
        check(f"criteria.{cid}", expected, by_id.get(cid))
    if "failing" in e:
        check("failing", e["failing"], sorted(c.id for c in decision.criteria if c.verdict == "fail"))
    if "missing" in e:
        check("missing", e["missing"], _missing_for(decision, case.pack, judged))
    rules = {m.rule: m.applies for m in decision.memberships}
    for rid, expected in e.get("rules", {}).items():
        check(f"rules.{rid}", expected, rules.get(rid))
    if "measures" in e:
        granted = sorted(
            {
                g.id
                for m in decision.memberships
                if m.applies == "yes" and m.pack.split("@")[0] == case.pack
                for g in m.measures
            }
        )
        check("measures", e["measures"], granted)
    buffer = decision.buffer
    if "buffer" in e:
        check("buffer", e["buffer"], buffer.status if buffer else None)
    if "basis" in e:
        check("basis", e["basis"], buffer.basis if buffer else None)
    if "until" in e:
        check("until", e["until"], buffer.until if buffer else None)
    if "retained" in e:
        actual = sorted(
            ((r.measure, r.amount) for r in buffer.retained) if buffer else [],
            key=lambda x: (x[0], x[1] or ""),
        )
        check("retained", [_pair(x) for x in e["retained"]], [_pair(x) for x in actual])
    if "findings" in e:
        stated = sorted(
            f.id for f in decision.findings if f.status == "violated" and f.pack.split("@")[0] == case.pack
        )
        check("findings", e["findings"], stated)
    return CaseResult(case, decision, tuple(mismatches))


def _missing_for(decision: Decision, pack: str, judged: bool) -> list[str]:
    """What would settle the undetermined parts that belong to the case's own pack: its
    applicability and criteria when it gives the verdict, its rules, its buffer."""
    found: set[str] = set()
    if judged:
        if decision.applicability is not None:
            found.update(decision.applicability.missing)
        if decision.verdict == "undetermined":
            found.update(m for c in decision.criteria if c.verdict == "undetermined" for m in c.missing)
    for m in decision.memberships:
        if m.applies == "undetermined" and m.pack.split("@")[0] == pack:
            found.update(m.missing)
    buffer = decision.buffer
    if buffer is not None and buffer.status == "undetermined" and buffer.pack.split("@")[0] == pack:
        found.update(buffer.missing)
    return sorted(found)


def _pair(item: tuple[str, str | None]) -> str:
    return item[0] if item[1] is None else f"{item[0]}={item[1]}"


def _show(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "none" if value is None else str(value)


def run_files(paths: Sequence[Path], policy_set: PolicySet) -> tuple[list[CaseResult], list[Diagnostic]]:
    """Load and run every case in `paths`."""
    results: list[CaseResult] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        cases, problems = load_cases(path, policy_set)
        diagnostics.extend(problems)
        results.extend(run_case(c, policy_set) for c in cases)
    return results, diagnostics
