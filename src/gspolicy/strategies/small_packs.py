"""Small checked packs (`packs`): generated expressions written as a pack's YAML, read and checked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from gspolicy._location import Source
from gspolicy.lang import DATE, NUMBER, Env
from gspolicy.lang.ast import MISSING_DAY_RULES, Expr
from gspolicy.lang.printer import print_expr
from gspolicy.pack.format import FORMS
from gspolicy.pack.read import read_pack
from gspolicy.pack.typecheck import CheckedPack, check_pack
from gspolicy.schema.model import Schema
from gspolicy.strategies.arguments import Named, check_int, check_schema, schema_repr
from gspolicy.strategies.expression_trees import expressions


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    return "|-\n" + "\n".join(pad + line for line in text.splitlines())


DECIDING_KINDS: tuple[str, ...] = (
    "exit",
    "exit_reference",
    "batch",
    "identification",
    "finding",
    "monitoring",
)
"""The roles (``kind:``) of packs that decide with criteria and rules (`packs` draws among them)."""


def _pack_text(
    ident: str,
    criteria: Sequence[Expr],
    rules: Sequence[Expr],
    applies: Expr | None,
    line: Decimal,
    kind: str = "exit",
    issued: dt.date | None = None,
    form: str = "grant",
    lapses: Expr | None = None,
    exclusive: bool = False,
    missing_day: str | None = None,
) -> str:
    lines = [
        "format: 1",
        f"pack: {ident}",
        'version: "1"',
        f"kind: {kind}",
        "valid_from: 2016-01-01",
        *([f"missing_day: {missing_day}"] if missing_day is not None else []),
        *(
            [
                "approval:",
                "  document: 甘政办发〔2016〕1号",
                "  issuer: {zh: 省政府办公厅, en: The provincial government's office}",
                f"  issued: {issued.isoformat()}",
                "  in_force: 2016-01-01",
            ]
            if issued is not None
            else []
        ),
        "title: {zh: 生成的政策包, en: A generated pack}",
        "department: office",
        "departments:",
        "  office: {zh: 扶贫办, en: Poverty Alleviation Office}",
        "sources:",
        "  notice: {title: {zh: 通知, en: A notice}, confidence: M}",
        "parameters:",
        "  line:",
        "    title: {zh: 标准, en: A line}",
        "    values:",
        f"      2016-01-01: {{value: {line}, source: notice}}",
        "  cutoff:",
        "    title: {zh: 截止日, en: A cut-off day}",
        "    type: date",
        "    values:",
        "      2016-01-01: {value: 2018-09-30, source: notice}",
    ]
    if applies is not None:
        lines += [
            "applies:",
            "  title: {zh: 适用, en: Applies}",
            "  when: " + _block(print_expr(applies), 4),
            "  cite: {source: notice}",
        ]
    if criteria:
        lines.append("criteria:")
        for i, expr in enumerate(criteria):
            lines += [
                f"  - id: gen.c{i}",
                f"    title: {{zh: 指标 {i}, en: Criterion {i}}}",
                "    require: " + _block(print_expr(expr), 6),
                "    cite: {source: notice}",
            ]
    if rules:
        lines += [
            "measures:",
            "  grant:",
            "    title: {zh: 补助, en: A grant}",
            "    department: office",
            f"    form: {form}",
            *(
                [
                    "    ceiling: {value: 50000, unit: yuan, source: notice}",
                    "    term: {value: 3, unit: years, source: notice}",
                ]
                if form == "loan"
                else ["    amount: {value: 500, unit: yuan, source: notice}"]
            ),
            *(["    lapses_when: " + _block(print_expr(lapses), 6)] if lapses is not None else []),
            "rules:",
        ]
        for i, expr in enumerate(rules):
            lines += [
                f"  - id: gen.r{i}",
                f"    title: {{zh: 规则 {i}, en: Rule {i}}}",
                "    when: " + _block(print_expr(expr), 6),
                "    grant: [grant]",
                "    cite: {source: notice}",
            ]
        if exclusive and len(rules) > 1:
            lines += ["exclusive:", "  - [" + ", ".join(f"gen.r{i}" for i in range(len(rules))) + "]"]
    return "\n".join(lines) + "\n"


def packs(
    schema: Schema,
    *,
    ident: str = "generated.pack",
    max_criteria: int = 3,
    max_rules: int = 2,
    max_depth: int = 2,
    kinds: Sequence[str] = DECIDING_KINDS,
) -> SearchStrategy[CheckedPack]:
    """Small checked packs: up to `max_criteria` criteria and `max_rules` rules drawn by
    `expressions` (with a number parameter ``line`` and a date parameter ``cutoff`` in scope), and
    sometimes an applicability condition, of a role drawn from `kinds` (``kind:``; by default
    every role whose packs hold criteria and rules), sometimes with the document that approved it
    (``approval:``); the measure its rules grant has a form drawn from every form (a loan with its
    ceiling and term) and sometimes a ``lapses_when``; two rules or more are sometimes declared
    ``exclusive``; sometimes it declares a ``missing_day`` rule and its expressions shift dates
    (``years_after``, ``months_after``).  The pack is written as YAML and read and
    checked like any pack, so its expressions carry real spans."""
    schema = check_schema(schema)
    if not isinstance(ident, str) or not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", ident):
        raise InvalidArgument(f"ident={ident!r} must be a dotted pack id such as 'generated.pack'")
    check_int(max_criteria, "max_criteria", 0, 20)
    check_int(max_rules, "max_rules", 0, 20)
    check_int(max_depth, "max_depth", 0, 6)
    if max_criteria == 0 and max_rules == 0:
        raise InvalidArgument("max_criteria and max_rules are both 0: a pack needs a condition")
    if isinstance(kinds, str) or not kinds or any(k not in DECIDING_KINDS for k in kinds):
        raise InvalidArgument(
            f"kinds={kinds!r} must be a non-empty list of roles among {list(DECIDING_KINDS)}"
        )
    plain = expressions(Env(schema, parameters={"line": NUMBER, "cutoff": DATE}), max_depth=max_depth)
    shifting = {
        rule: expressions(
            Env(schema, parameters={"line": NUMBER, "cutoff": DATE}, missing_day=rule), max_depth=max_depth
        )
        for rule in MISSING_DAY_RULES
    }

    @st.composite
    def draw_pack(draw: st.DrawFn) -> CheckedPack:
        # sometimes a pack that shifts dates (`years_after`, `months_after`) under a declared rule
        missing_day = draw(st.none() | st.sampled_from(MISSING_DAY_RULES))
        conditions = plain if missing_day is None else shifting[missing_day]
        criteria = draw(st.lists(conditions, min_size=0 if max_rules else 1, max_size=max_criteria))
        rules = draw(st.lists(conditions, min_size=0 if criteria else 1, max_size=max_rules))
        applies = draw(st.none() | conditions)
        line = draw(st.integers(0, 10_000).map(Decimal))
        kind = draw(st.sampled_from(list(kinds)))
        # sometimes the document that approved it, issued before it took effect
        issued = draw(st.none() | st.dates(dt.date(2015, 1, 1), dt.date(2016, 1, 1)))
        # the measure rules grant: of any form, sometimes with a condition that ends it in the
        # buffer (one that reads what never ends a retention is drawn again without it)
        form = draw(st.sampled_from(list(FORMS)))
        lapses = draw(st.none() | conditions) if rules else None
        exclusive = len(rules) > 1 and draw(st.booleans())  # its rules declared exclusive
        text = _pack_text(
            ident, criteria, rules, applies, line, kind, issued, form, lapses, exclusive, missing_day
        )
        pack, problems = read_pack(Source(f"{ident}.yaml", text))
        errors = [d.render("en") for d in problems if d.is_error]
        assert pack is not None, (text, errors)
        assert not errors, (text, errors)
        checked, problems = check_pack(pack, schema)
        if (
            checked is None
            and lapses is not None
            and all(d.code == "pack/lapse-reads-status" for d in problems if d.is_error)
        ):
            text = _pack_text(
                ident, criteria, rules, applies, line, kind, issued, form, None, exclusive, missing_day
            )
            pack, problems = read_pack(Source(f"{ident}.yaml", text))
            assert pack is not None, (text, [d.render("en") for d in problems if d.is_error])
            checked, problems = check_pack(pack, schema)
        assert checked is not None, (text, [d.render("en") for d in problems if d.is_error])
        return checked

    options = [f"ident={ident!r}"] if ident != "generated.pack" else []
    options += [
        f"{k}={v}"
        for k, v, d in (
            ("max_criteria", max_criteria, 3),
            ("max_rules", max_rules, 2),
            ("max_depth", max_depth, 2),
        )
        if v != d
    ]
    if tuple(kinds) != DECIDING_KINDS:
        options.append(f"kinds={list(kinds)!r}")
    return Named(draw_pack(), f"packs({', '.join([schema_repr(schema), *options])})")
