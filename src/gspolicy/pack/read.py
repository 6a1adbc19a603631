"""Read one pack file into a `PackSource`, reporting every problem in it at once.

Keys are checked against the declared shape (`gspolicy.pack.format`), references inside the pack
(sources, departments, measures) are resolved, dated values and ranges are read exactly
(`Decimal`), and expressions are parsed — located inside the file, not inside the scalar.
Types are checked later, against the household schema (`gspolicy.pack.typecheck`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import cast

from gspolicy._i18n import Text
from gspolicy._location import Source
from gspolicy._reader import Reader
from gspolicy._yaml import YMap, YNode, YScalar, load_yaml
from gspolicy.errors import Diagnostic, suggest
from gspolicy.lang.ast import MISSING_DAY_RULES
from gspolicy.pack import format as S
from gspolicy.pack.model import (
    LIST_COLUMNS,
    Applicability,
    Approval,
    Basis,
    Buffer,
    Combine,
    CombineRule,
    Criterion,
    Exclusive,
    Fact,
    GroupKey,
    Import,
    Indicator,
    Invariant,
    ListColumn,
    Measure,
    MeasureForm,
    NotApplicableReason,
    PackKind,
    PackSource,
    Parameter,
    Rule,
)
from gspolicy.pack.read_values import ValueReader

__all__ = ["read_pack"]

_NOT_IN_INVARIANTS = (
    "parameters",
    "facts",
    "applies",
    "criteria",
    "measures",
    "rules",
    "exclusive",
    "buffer",
    "import",
)
"""What a pack of `kind: invariants` may not hold: it reads decisions, it decides nothing."""

_NOT_IN_STATISTICS = (*_NOT_IN_INVARIANTS, "invariants")
"""What a pack of `kind: statistics` may not hold: it counts decided households, it decides nothing."""


class _PackReader(ValueReader):
    """Reads a pack file's sections into a `PackSource`."""

    def read(self) -> PackSource | None:
        tree, problems = load_yaml(self.source)
        self.r.diagnostics.extend(problems)
        if tree is None:
            return None
        # the format first: a newer format is said plainly, not as a list of unknown keys
        declared = tree.get("format") if isinstance(tree, YMap) else None
        if (
            isinstance(declared, YScalar)
            and isinstance(declared.value, int)
            and not isinstance(declared.value, bool)
        ) and declared.value > S.PACK_FORMAT:
            self.r.report(
                "pack/format-too-new", declared, {"found": declared.value, "supported": S.PACK_FORMAT}
            )
            return None
        top = self.obj(self.r, tree, S.PACK, "the pack file")
        if top is None:
            return None
        fmt = self.r.integer(top.get("format"), "format")
        pack_id = self.r.string(top.get("pack"), "pack", name=True)
        version = self.r.version(top.get("version"), "version")
        r = self.r.within("pack", f"{pack_id}@{version}") if pack_id and version else self.r
        kind = r.choice(top.get("kind"), "kind", S.KINDS)
        valid_from = r.date(top.get("valid_from"), "valid_from")
        valid_to = r.date(top.get("valid_to"), "valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            r.report(
                "pack/bad-validity",
                top.get("valid_to"),
                {"valid_to": valid_to.isoformat(), "valid_from": valid_from.isoformat()},
            )
        title = r.text(top.get("title"), "title")
        approval = self.read_approval(r, top.get("approval"))
        for key, value in r.entries(top.get("departments"), "departments"):
            dept_text = r.text(value, str(key.value))
            if dept_text is not None:
                self.departments[str(key.value)] = dept_text
        department = self.department_ref(r, top.get("department"))
        self.read_sources(r, top.get("sources"))
        subject = r.string(top.get("subject"), "subject", name=True)
        imports: list[Import] = []
        for key, value in r.entries(top.get("import"), "import"):
            names = r.names(value, str(key.value))
            if names:
                imports.append(Import(str(key.value), names, None, key.span))

        parameters: dict[str, Parameter] = {}
        for key, value in r.entries(top.get("parameters"), "parameters"):
            param = self.read_parameter(r, key, value)
            if param is not None:
                parameters[param.name] = param

        facts: dict[str, Fact] = {}
        for key, value in r.entries(top.get("facts"), "facts"):
            name = str(key.value)
            fr = r.within("fact", name)
            f = self.obj(fr, value, S.FACT, f"fact `{name}`")
            if f is None:
                continue
            expr = self.expr(fr, f.get("expr"), "expr")
            ftitle = fr.text(f.get("title"), "title")
            cites = self.cites(fr, f.get("cite"))
            unit = fr.string(f.get("unit"), "unit")
            if expr is not None and ftitle is not None:
                facts[name] = Fact(name, ftitle, expr, cites, key.span, unit)

        measures: dict[str, Measure] = {}
        named: set[str] = set()  # every measure named, read or not (its own problems are reported)
        for key, value in r.entries(top.get("measures"), "measures"):
            name = str(key.value)
            named.add(name)
            mr = r.within("measure", name)
            f = self.obj(mr, value, S.MEASURE, f"measure `{name}`")
            if f is None:
                continue
            mtitle = mr.text(f.get("title"), "title")
            mdept = self.department_ref(mr, f.get("department"))
            form = mr.choice(f.get("form"), "form", S.FORMS)
            amount, term = self.measure_terms(mr, f, form, value)
            lapses = self.expr(mr, f.get("lapses_when"), "lapses_when") if "lapses_when" in f else None
            cites = self.cites(mr, f.get("cite"))
            if mtitle and mdept and amount and form and (lapses is not None or "lapses_when" not in f):
                measures[name] = Measure(
                    name,
                    mtitle,
                    mdept,
                    amount,
                    mr.text(f.get("period"), "period"),
                    cites,
                    key.span,
                    cast("MeasureForm", form),
                    term,
                    lapses,
                )

        applies = self.read_applies(r, top.get("applies"))
        buffer = self.read_buffer(r, top.get("buffer"))
        criteria = self.read_criteria(r, top.get("criteria"))
        rules = self.read_rules(r, top.get("rules"), measures, named)
        exclusive = self.read_exclusive(r, top.get("exclusive"), {x.id for x in rules})
        missing_day = None
        if "missing_day" in top:
            # a rule not among the two is reported here; the pack is refused, and its arithmetic
            # is checked as if the first were declared (not reported again as undeclared)
            chosen = r.choice(top.get("missing_day"), "missing_day", MISSING_DAY_RULES)
            missing_day = chosen or MISSING_DAY_RULES[0]
        invariants = self.read_invariants(r, top.get("invariants"))
        group_keys = self.read_keys(r, top.get("keys"))
        indicators = self.read_indicators(r, top.get("indicators"), {k.name for k in group_keys})
        lists = self.read_lists(r, top.get("lists"))
        note = r.text(top.get("note"), "note")
        keys_of = {k.value: k for k, _v in tree.items} if isinstance(tree, YMap) else {}
        if kind == "statistics":
            for part in _NOT_IN_STATISTICS:
                if part in top:
                    r.report("pack/statistics-only", keys_of.get(part, top[part]), {"key": part})
            if "indicators" not in top:
                r.report("pack/no-indicators", tree)
        else:
            for part in ("keys", "indicators", "lists"):
                if part in top:
                    r.report("pack/indicators-elsewhere", keys_of.get(part, top[part]), {"key": part})
        if kind == "invariants":
            for part in _NOT_IN_INVARIANTS:
                if part in top:
                    r.report("pack/invariants-only", keys_of.get(part, top[part]), {"key": part})
            if "invariants" not in top:
                r.report("pack/no-invariants", tree)
        elif "invariants" in top:
            r.report("pack/invariants-elsewhere", keys_of.get("invariants", top["invariants"]))
        if kind == "parameters":
            # a pack of parameters holds parameters, the sources they cite and nothing else
            keys = {k.value: k for k, _v in tree.items} if isinstance(tree, YMap) else {}
            for part in ("facts", "applies", "criteria", "measures", "rules", "buffer", "import", "subject"):
                if part in top:
                    r.report("pack/parameters-only", keys.get(part, top[part]), {"key": part})
        # a pack with errors is still returned when its essentials are there, so that checking
        # it against the schema reports its other problems too; the caller keeps none of it
        if not (pack_id and version and fmt is not None and kind and valid_from and title and department):
            return None  # each missing part was reported above
        return PackSource(
            id=pack_id,
            version=version,
            format=fmt,
            kind=cast("PackKind", kind),
            valid_from=valid_from,
            valid_to=valid_to,
            title=title,
            department=department,
            departments=self.departments,
            subject=subject,
            sources=self.sources,
            parameters=parameters,
            facts=facts,
            applies=applies,
            criteria=criteria,
            measures=measures,
            rules=rules,
            buffer=buffer,
            note=note,
            source=self.source,
            span=tree.span,
            id_span=top["pack"].span,
            imports=tuple(imports),
            approval=approval,
            exclusive=exclusive,
            invariants=invariants,
            missing_day=missing_day,
            keys=group_keys,
            indicators=indicators,
            lists=lists,
        )

    def read_approval(self, r: Reader, node: YNode | None) -> Approval | None:
        if node is None:
            return None
        f = self.obj(r, node, S.APPROVAL, "approval")
        if f is None:
            return None
        document = r.string(f.get("document"), "document")
        issuer = r.text(f.get("issuer"), "issuer")
        issued = r.date(f.get("issued"), "issued")
        in_force = r.date(f.get("in_force"), "in_force")
        if issued and in_force and in_force < issued:
            r.report(
                "pack/approval-dates",
                f.get("in_force"),
                {"issued": issued.isoformat(), "in_force": in_force.isoformat()},
            )
            return None
        if not (document and issuer and issued and in_force):
            return None
        return Approval(document, issuer, issued, in_force, node.span)

    def identified(
        self, r: Reader, node: YNode | None, key: str, shape: S.Shape, label: str, kind: str, what: Text
    ) -> Iterator[tuple[YNode, Mapping[str, YNode], str, Reader]]:
        """The items of the list `key` that have an `id` (criteria, rules, invariants): each with
        its keys, its id and a reader naming it; an id given twice is reported where it is."""
        seen: set[str] = set()
        for item in r.items(node, key):
            f = self.obj(r, item, shape, label)
            if f is None:
                continue
            ident = r.string(f.get("id"), "id", name=True)
            if ident is None:
                continue
            sub = r.within(kind, ident)
            if ident in seen:
                sub.report("pack/duplicate-id", f.get("id"), {"what": what, "name": ident})
            seen.add(ident)
            yield item, f, ident, sub

    def read_criteria(self, r: Reader, node: YNode | None) -> tuple[Criterion, ...]:
        out: list[Criterion] = []
        criterion = Text(zh="指标", en="criterion")
        for item, f, cid, cr in self.identified(
            r, node, "criteria", S.CRITERION, "a criterion", "criterion", criterion
        ):
            title = cr.text(f.get("title"), "title")
            not_established = cr.boolean(f.get("not_established"), "not_established") or False
            expr = self.expr(cr, f.get("require"), "require")
            given = self.expr(cr, f.get("given"), "given")
            weigh = self.expr(cr, f.get("weigh"), "weigh")
            if expr is None and not not_established and f.get("require") is None:
                cr.report("pack/require-missing", item)
            department = self.department_ref(cr, f.get("department")) if "department" in f else None
            cites = self.cites(cr, f.get("cite"))
            explain = self.obj(cr, f.get("explain"), S.EXPLAIN, "`explain`") if "explain" in f else {}
            explain = explain or {}
            if title is None:
                continue
            out.append(
                Criterion(
                    cid,
                    title,
                    expr,
                    cites,
                    department,
                    not_established,
                    cr.text(explain.get("passed"), "passed"),
                    cr.text(explain.get("failed"), "failed"),
                    cr.text(f.get("note"), "note"),
                    item.span,
                    given,
                    cr.text(f.get("given_explain"), "given_explain"),
                    weigh,
                )
            )
        return tuple(out)

    def read_buffer(self, r: Reader, node: YNode | None) -> Buffer | None:
        if node is None:
            return None
        br = r.within("option", "buffer")
        f = self.obj(br, node, S.BUFFER, "`buffer`")
        if f is None:
            return None
        title = br.text(f.get("title"), "title")
        retained = self.expr(br, f.get("retained"), "retained")
        bases: list[Basis] = []
        seen: set[str] = set()
        for item in br.items(f.get("bases"), "bases"):
            bf = self.obj(br, item, S.BASIS, "a basis")
            if bf is None:
                continue
            bid = br.string(bf.get("id"), "id", name=True)
            if bid is None:
                continue
            xr = br.within("basis", bid)
            if bid in seen:
                xr.report(
                    "pack/duplicate-id", bf.get("id"), {"what": Text(zh="依据", en="basis"), "name": bid}
                )
            seen.add(bid)
            btitle = xr.text(bf.get("title"), "title")
            active = self.expr(xr, bf.get("active"), "active")
            until = self.expr(xr, bf.get("until"), "until")
            amounts = xr.choice(bf.get("amounts"), "amounts", ("at_exit", "current"))
            cites = self.cites(xr, bf.get("cite"))
            if btitle and active and until and amounts:
                bases.append(
                    Basis(
                        bid,
                        btitle,
                        active,
                        until,
                        "at_exit" if amounts == "at_exit" else "current",
                        cites,
                        xr.text(bf.get("note"), "note"),
                        item.span,
                    )
                )
        combine = self.read_combine(br, f.get("combine"))
        if title is None or retained is None or combine is None:
            return None
        return Buffer(title, retained, tuple(bases), combine, node.span)

    def read_combine(self, r: Reader, node: YNode | None) -> Combine | None:
        """``buffer.combine``: the amount kept for a measure both granted and retained, cited."""
        if node is None:
            return None
        cr = r.within("option", "combine")
        f = self.obj(cr, node, S.COMBINE, "`combine`")
        if f is None:
            return None
        amount = cr.choice(f.get("amount"), "amount", S.COMBINE_RULES)
        cites = self.cites(cr, f.get("cite"))
        note = cr.text(f.get("note"), "note")
        if amount not in S.COMBINE_RULES:
            return None
        rule: CombineRule = (
            "higher" if amount == "higher" else "retained" if amount == "retained" else "granted"
        )
        return Combine(rule, cites, note, node.span)

    def read_applies(self, r: Reader, node: YNode | None) -> Applicability | None:
        if node is None:
            return None
        ar = r.within("option", "applies")
        f = self.obj(ar, node, S.APPLIES, "`applies`")
        if f is None:
            return None
        expr = self.expr(ar, f.get("when"), "when")
        title = ar.text(f.get("title"), "title")
        cites = self.cites(ar, f.get("cite"))
        explain = (self.obj(ar, f.get("explain"), S.EXPLAIN, "`explain`") if "explain" in f else {}) or {}
        reasons: list[NotApplicableReason] = []
        for item in ar.items(f.get("reasons"), "reasons"):
            rf = self.obj(ar, item, S.APPLIES_REASON, "a reason")
            if rf is None:
                continue
            rexpr = self.expr(ar, rf.get("when"), "when")
            rexplain = ar.text(rf.get("explain"), "explain")
            if rexpr is not None and rexplain is not None:
                reasons.append(NotApplicableReason(rexpr, rexplain, item.span))
        if expr is None or title is None:
            return None
        return Applicability(
            expr,
            title,
            cites,
            ar.text(explain.get("passed"), "passed"),
            ar.text(explain.get("failed"), "failed"),
            node.span,
            tuple(reasons),
        )

    def read_exclusive(self, r: Reader, node: YNode | None, rule_ids: set[str]) -> tuple[Exclusive, ...]:
        """``exclusive: [[rule_a, rule_b], …]``: groups of this pack's rules, at most one holding."""
        out: list[Exclusive] = []
        for group in r.items(node, "exclusive"):
            names: list[str] = []
            unknown = False
            for item in r.items(group, "exclusive"):
                name = r.string(item, "exclusive", name=True)
                if name is None:
                    unknown = True
                elif name not in rule_ids:
                    r.report("pack/unknown-rule", item, {"name": name}, suggest(name, sorted(rule_ids)))
                    unknown = True
                else:
                    names.append(name)
            if unknown:
                continue
            if len(set(names)) < 2:
                r.report("pack/exclusive-group", group)
                continue
            out.append(Exclusive(tuple(dict.fromkeys(names)), group.span))
        return tuple(out)

    def read_invariants(self, r: Reader, node: YNode | None) -> tuple[Invariant, ...]:
        out: list[Invariant] = []
        invariant = Text(zh="不变式", en="invariant")
        for item, f, iid, ir in self.identified(
            r, node, "invariants", S.INVARIANT, "an invariant", "invariant", invariant
        ):
            title = ir.text(f.get("title"), "title")
            expr = self.expr(ir, f.get("holds"), "holds")
            cites = self.cites(ir, f.get("cite"))
            if title is None or expr is None:
                continue
            out.append(Invariant(iid, title, expr, cites, ir.text(f.get("note"), "note"), item.span))
        return tuple(out)

    def read_keys(self, r: Reader, node: YNode | None) -> tuple[GroupKey, ...]:
        """``keys:`` — group-by key name → the field of the subject it reads."""
        out: list[GroupKey] = []
        for key, value in r.entries(node, "keys"):
            name = str(key.value)
            kr = r.within("key", name)
            if name in S.BUILTIN_KEYS:
                kr.report("pack/builtin-key", key, {"name": name})
                continue
            field = self.expr(kr, value, name)
            if field is not None:
                out.append(GroupKey(name, field, key.span))
        return tuple(out)

    def read_indicators(self, r: Reader, node: YNode | None, keys: set[str]) -> tuple[Indicator, ...]:
        out: list[Indicator] = []
        indicator = Text(zh="统计指标", en="indicator")
        known = sorted({*keys, *S.BUILTIN_KEYS})
        for item, f, iid, ir in self.identified(
            r, node, "indicators", S.INDICATOR, "an indicator", "indicator", indicator
        ):
            title = ir.text(f.get("title"), "title")
            cites = self.cites(ir, f.get("cite"))
            counted = self.expr(ir, f.get("count"), "count")
            summed = self.expr(ir, f.get("sum"), "sum")
            where = self.expr(ir, f.get("where"), "where")
            ok = True
            if "count" in f and "sum" in f:
                ir.report("pack/count-and-sum", f["sum"], {"indicator": iid})
                ok = False
            elif "count" not in f and "sum" not in f:
                ir.report("pack/no-figure", item, {"indicator": iid})
                ok = False
            elif "where" in f and "count" in f:
                ir.report("pack/where-with-count", f["where"], {"indicator": iid})
                ok = False
            period = ir.choice(f.get("period"), "period", S.PERIODS)
            dated_by = self.expr(ir, f.get("dated_by"), "dated_by")
            held = self.expr(ir, f.get("held"), "held")
            if period == "flow" and "dated_by" not in f:
                ir.report("pack/flow-without-date", f.get("period"), {"indicator": iid})
                ok = False
            if period == "stock" and "dated_by" in f:
                ir.report("pack/stock-with-date", f["dated_by"], {"indicator": iid})
                ok = False
            by: list[str] = []
            for b in ir.items(f.get("by"), "by"):
                name = ir.string(b, "by", name=True)
                if name is None:
                    ok = False
                elif name not in keys and name not in S.BUILTIN_KEYS:
                    ir.report("pack/unknown-group-key", b, {"name": name}, suggest(name, known))
                    ok = False
                elif name in by:
                    ir.report("pack/duplicate-group-key", b, {"name": name})
                    ok = False
                else:
                    by.append(name)
            if "held" in f and ok and not {"batch", "measure"} & set(by):
                ir.report("pack/held-without-key", f["held"], {"indicator": iid})
                ok = False
            tolerance = ir.number(f.get("tolerance"), "tolerance") if "tolerance" in f else Decimal(0)
            if tolerance is not None and tolerance < 0:
                ir.report("pack/bad-tolerance", f.get("tolerance"), {"value": str(tolerance)})
                ok = False
            figure = counted if counted is not None else summed
            if not ok or title is None or figure is None or period is None or tolerance is None:
                continue
            out.append(
                Indicator(
                    iid,
                    title,
                    "count" if counted is not None else "sum",
                    figure,
                    where,
                    tuple(by),
                    "flow" if period == "flow" else "stock",
                    dated_by,
                    tolerance,
                    cites,
                    ir.text(f.get("note"), "note"),
                    item.span,
                    held,
                )
            )
        return tuple(out)

    def read_lists(self, r: Reader, node: YNode | None) -> tuple[ListColumn, ...]:
        """``lists:`` — the management lists' columns, in order, each shown once with its header."""
        out: list[ListColumn] = []
        for item in r.items(node, "lists"):
            f = self.obj(r, item, S.LIST_COLUMN, "a list column") or {}
            name = r.string(f.get("column"), "column", name=True)
            cr = r.within("list column", name or "?")
            if name is not None and name not in LIST_COLUMNS:
                cr.report(
                    "pack/unknown-list-column", f["column"], {"name": name}, suggest(name, LIST_COLUMNS)
                )
            elif name is not None and name in {c.column for c in out}:
                cr.report("pack/duplicate-list-column", f["column"], {"name": name})
            elif name is not None and (title := cr.text(f.get("title"), "title")) is not None:
                out.append(ListColumn(name, title, item.span))
        return tuple(out)

    def read_rules(
        self, r: Reader, node: YNode | None, measures: Mapping[str, Measure], declared: set[str]
    ) -> tuple[Rule, ...]:
        out: list[Rule] = []
        rule = Text(zh="规则", en="rule")
        for item, f, rid, rr in self.identified(r, node, "rules", S.RULE, "a rule", "rule", rule):
            title = rr.text(f.get("title"), "title")
            expr = self.expr(rr, f.get("when"), "when")
            grants: list[str] = []
            for g in rr.items(f.get("grant"), "grant"):
                name = rr.string(g, "grant", name=True)
                if name is not None and name not in declared:
                    rr.report("pack/unknown-measure", g, {"name": name}, suggest(name, measures))
                elif name is not None and name in measures:
                    grants.append(name)
            cites = self.cites(rr, f.get("cite"))
            if title is None or expr is None:
                continue
            out.append(
                Rule(rid, title, expr, tuple(grants), cites, rr.text(f.get("note"), "note"), item.span)
            )
        return tuple(out)


def read_pack(source: Source) -> tuple[PackSource | None, list[Diagnostic]]:
    """Read one pack file; return it and all diagnostics.

    The pack is None when its essentials (id, version, format, validity, title, department)
    cannot be read; it may be returned with errors (the parts in error left out) so that checking
    it reports the rest — never use a pack whose diagnostics hold an error.
    """
    reader = _PackReader(source)
    pack = reader.read()
    return pack, reader.r.diagnostics
