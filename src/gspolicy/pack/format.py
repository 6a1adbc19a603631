"""The shape of pack files, declared once.

The reader takes its allowed and required keys from these declarations, and the shipped JSON
Schema (``gspolicy/schemas/pack.schema.json``, printed by ``gspolicy schema pack``, used by editors
such as VS Code's YAML extension to complete and underline pack files) is generated from the same
declarations, so the two cannot disagree.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from gspolicy._glossary import group
from gspolicy._patterns import DATE_PATTERN, NAME_PATTERN
from gspolicy.lang.ast import MISSING_DAY_RULES
from gspolicy.pack.model import LIST_COLUMNS

__all__ = [
    "BUILTIN_KEYS",
    "CASE_EXPECT_KEYS",
    "COMBINE_RULES",
    "FORMS",
    "FORM_WORDS",
    "KINDS",
    "PACK",
    "PACK_FORMAT",
    "PERIODS",
    "ROLE_WORDS",
    "TERM_UNITS",
    "Shape",
    "json_schema",
]

PACK_FORMAT = 1
"""The pack format version this library reads and writes (``format:`` in every pack file)."""

CASE_EXPECT_KEYS = (
    "verdict",
    "applicability",
    "version",
    "criteria",
    "failing",
    "missing",
    "rules",
    "measures",
    "buffer",
    "basis",
    "until",
    "retained",
    "findings",
)
"""The keys a pack test case's ``expect`` may hold, in the order `gspolicy fmt` writes them
(read by `gspolicy.testing.cases`, laid out by `gspolicy.pack.fmt`)."""

CONFIDENCE = ("H", "M-H", "M", "L-M", "L")

KINDS: dict[str, str] = {
    "exit": "the verdict pack of its level (one per subject in force on any day)",
    "exit_reference": "a standard shown beside the verdict pack of its level (e.g. the national one)",
    "batch": "rules that put a household in a support batch and grant its measures",
    "buffer": "the support kept unchanged after exit",
    "identification": "who is identified as poor",
    "finding": "data-quality findings: records that contradict themselves",
    "monitoring": "risks and alerts watched after exit",
    "parameters": "parameters other packs import",
    "statistics": "figures reported over a population",
    "invariants": "statements every decision must satisfy",
}
"""A pack's role (``kind:``): the engine and the command line find packs by role, never by id."""

ROLE_WORDS: dict[str, tuple[str, str]] = {key: (text.zh, text.en) for key, text in group("role").items()}
"""The packs' roles (``kind:``) in Chinese and English, from the glossary, in the order summaries
group them."""


@attrs.frozen
class Shape:
    """One kind of value in a pack file, with its JSON Schema and (for objects) its keys."""

    schema: Mapping[str, Any]
    fields: Mapping[str, tuple[Shape, bool, str]] = attrs.field(factory=dict)  # key → (shape, required, doc)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(k for k, (_, req, _) in self.fields.items() if req)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(k for k, (_, req, _) in self.fields.items() if not req)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.fields)

    def field(self, key: str) -> Shape:
        return self.fields[key][0]

    def to_json(self) -> dict[str, Any]:
        return dict(self.schema)


def _leaf(schema: Mapping[str, Any]) -> Shape:
    return Shape(schema)


def _obj(description: str, **given: tuple[Shape, bool, str]) -> Shape:
    # a key that is a Python keyword is given with a trailing underscore (`import_`)
    fields = {(k[:-1] if k.endswith("_") else k): v for k, v in given.items()}
    props = {k: {**shape.to_json(), "description": doc} for k, (shape, _, doc) in fields.items()}
    required = [k for k, (_, req, _) in fields.items() if req]
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return Shape(schema, fields)


def _map_of(value: Shape, description: str) -> Shape:
    return Shape(
        {
            "type": "object",
            "description": description,
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": value.to_json(),
        }
    )


def _list_of(item: Shape, description: str) -> Shape:
    return Shape({"type": "array", "description": description, "items": item.to_json()})


def _one_of(*options: Shape) -> Shape:
    return Shape({"anyOf": [o.to_json() for o in options]})


STRING = _leaf({"type": "string", "minLength": 1})
NAME = _leaf({"type": "string", "pattern": NAME_PATTERN})
DATE = _leaf({"type": "string", "pattern": DATE_PATTERN, "format": "date"})
VERSION = _leaf({"type": ["string", "number"]})
NUMBER = _leaf({"type": ["number", "string"], "pattern": r"^-?\d+(\.\d+)?$"})
INTEGER = _leaf({"type": "integer"})
BOOL = _leaf({"type": "boolean"})
EXPR = _leaf(
    {"type": "string", "minLength": 1, "description": "an expression (docs/reference/expressions.md)"}
)
CONF = _leaf({"type": "string", "enum": list(CONFIDENCE)})
ANY_SCALAR = _leaf({"type": ["string", "number", "boolean"]})

TEXT = _obj(
    "a text in Chinese and English",
    zh=(STRING, True, "Chinese"),
    en=(STRING, True, "English"),
)

CITATION = _obj(
    "where a rule comes from: a source and a clause, or an inference from a source",
    source=(NAME, False, "the id of a source declared under `sources`"),
    inferred_from=(NAME, False, "the id of a source the rule is inferred from (no text spells it out)"),
    clause=(STRING, False, "the clause, article or passage"),
    confidence=(CONF, False, "how sure we are: H, M-H, M, L-M or L (default: the source's)"),
    note=(TEXT, False, "why, in both languages"),
    paraphrase=(
        BOOL,
        False,
        "`true`: the clause restates the source in other words (e.g. translated), not its verbatim text; "
        "shown without quotation marks",
    ),
)
CITATIONS = _one_of(CITATION, _list_of(CITATION, "several citations"))

SOURCE = _obj(
    "a document the pack relies on",
    title=(TEXT, True, "the document's title"),
    issuer=(STRING, False, "who issued it"),
    date=(DATE, False, "the date it was issued or published"),
    address=(STRING, False, "where a copy was read"),
    confidence=(CONF, True, "H official or agreeing sources, M one secondary source, L weak or indirect"),
    note=(TEXT, False, "anything a reader should know"),
)

BOUND_OBJ = _obj(
    "one bound of a range, with its own source",
    value=(NUMBER, True, "the bound"),
    source=(NAME, False, "the source of this bound"),
    clause=(STRING, False, "the clause"),
    confidence=(CONF, False, "confidence in this bound"),
    derivation=(
        TEXT,
        False,
        "how the bound was derived, in Chinese and English: "
        "`{zh: 3500 × 3218 ÷ 2952（按国家标准同比例增长）, en: 3500 × 3218 ÷ 2952 (in proportion with the national line)}`",
    ),
    paraphrase=(
        BOOL,
        False,
        "`true`: the clause restates the source in other words (e.g. translated), not its verbatim text; "
        "shown without quotation marks",
    ),
)
BOUND = _one_of(NUMBER, BOUND_OBJ)

DATED_VALUE = _obj(
    "the value in force from a date: exact (`value`), a range (`at_least` / `at_most`) or `not_established`",
    value=(_one_of(ANY_SCALAR, _list_of(ANY_SCALAR, "a list value")), False, "the exact value"),
    at_least=(BOUND, False, "the lower bound of a range (inclusive)"),
    at_most=(BOUND, False, "the upper bound of a range (inclusive)"),
    not_established=(BOOL, False, "`true`: no source fixes the value"),
    approximate=(
        BOOL,
        False,
        '`true`: an exact value the sources give only as "about" it (shown as "about N")',
    ),
    source=(NAME, False, "the source of the value"),
    clause=(STRING, False, "the clause"),
    confidence=(CONF, False, "confidence in the value (default: the source's)"),
    note=(TEXT, False, "how the value was found, in both languages"),
    paraphrase=(
        BOOL,
        False,
        "`true`: the clause restates the source in other words (e.g. translated), not its verbatim text; "
        "shown without quotation marks",
    ),
)

PARAMETER = _obj(
    "a parameter with its value history keyed by effective date",
    title=(TEXT, True, "what it is"),
    type=(
        _leaf({"type": "string", "enum": ["number", "date", "bool", "text", "list"]}),
        False,
        "default `number`",
    ),
    enum=(NAME, False, "for a list of enum codes: the schema enum"),
    unit=(STRING, False, "the unit, from the schema's `units:` table, e.g. `yuan/person/year`"),
    values=(
        Shape(
            {
                "type": "object",
                "propertyNames": {"pattern": DATE_PATTERN},
                "additionalProperties": DATED_VALUE.to_json(),
                "minProperties": 1,
            }
        ),
        True,
        "effective date → value",
    ),
)

FACT = _obj(
    "a named derived fact, reusable in rules and explanations",
    title=(TEXT, True, "what it means"),
    expr=(EXPR, True, "its definition"),
    cite=(CITATIONS, False, "where it comes from"),
    unit=(
        STRING,
        False,
        "the unit of its value, from the schema's `units:` table (`ratio`: a rate, shown as a percentage)",
    ),
)

EXPLAIN = _obj(
    "texts shown in explanations; `{name}` inserts a value the criterion read",
    passed=(TEXT, False, "when it passes"),
    failed=(TEXT, False, "when it fails"),
)

CRITERION = _obj(
    "a criterion: a condition that must hold",
    id=(NAME, True, "stable id, e.g. `exit.income`"),
    title=(TEXT, True, "the criterion in both languages"),
    require=(EXPR, False, "the condition (omit only with `not_established: true`)"),
    given=(
        EXPR,
        False,
        "a condition on the data the criterion needs: when it does not hold, the verdict is undetermined (not fail)",
    ),
    given_explain=(TEXT, False, "why the verdict is undetermined when `given` does not hold"),
    weigh=(
        EXPR,
        False,
        "a `count` or `sum` over a list (a village's households, a county's villages): when the "
        "criterion fails or is undetermined, its items are listed, heaviest first",
    ),
    not_established=(BOOL, False, "`true`: the sources do not give this criterion's content"),
    department=(NAME, False, "the department that issues the acceptance opinion"),
    cite=(CITATIONS, True, "where it comes from"),
    explain=(EXPLAIN, False, "explanation texts"),
    note=(TEXT, False, "remarks"),
)

AMOUNT = _obj(
    "an amount: exact, a range, or not established",
    value=(NUMBER, False, "the exact amount"),
    at_least=(BOUND, False, "lower bound"),
    at_most=(BOUND, False, "upper bound"),
    not_established=(BOOL, False, "`true`: no source gives the amount"),
    unit=(STRING, False, "from the schema's `units:` table, e.g. `yuan/person/year`"),
    source=(NAME, False, "the source"),
    clause=(STRING, False, "the clause"),
    confidence=(CONF, False, "confidence"),
    note=(TEXT, False, "remarks"),
)

FORMS: dict[str, str] = {
    "grant": "money given outright (e.g. an industry grant)",
    "subsidy": "a payment towards a cost the household bears (e.g. a living or transport subsidy)",
    "waiver": "a fee or contribution not charged (e.g. tuition, insurance premiums)",
    "loan": "money lent: repaid, so never current support of its amount; declares `ceiling` and `term`",
    "service": "help given in kind (training, placement, guidance)",
}
"""A measure's form (``form:``): what the household receives."""

FORM_WORDS: dict[str, tuple[str, str]] = {key: (text.zh, text.en) for key, text in group("form").items()}
"""The measures' forms in Chinese and English, from the glossary."""

TERM_UNITS = ("years", "months")

TERM = _obj(
    "a loan's term: exact (`value`), a range or not established, in `years` or `months`",
    value=(NUMBER, False, "the exact term"),
    at_least=(BOUND, False, "the shortest term"),
    at_most=(BOUND, False, "the longest term"),
    not_established=(BOOL, False, "`true`: no source gives the term"),
    unit=(_leaf({"type": "string", "enum": list(TERM_UNITS)}), True, "`years` or `months`"),
    source=(NAME, False, "the source"),
    clause=(STRING, False, "the clause"),
    confidence=(CONF, False, "confidence"),
    note=(TEXT, False, "remarks"),
)

MEASURE = _obj(
    "a support measure a rule can grant",
    title=(TEXT, True, "the measure"),
    department=(NAME, True, "the responsible department"),
    form=(_leaf({"type": "string", "enum": list(FORMS)}), True, "what the household receives"),
    amount=(AMOUNT, False, "the amount (every form but `loan`)"),
    ceiling=(AMOUNT, False, "a loan's ceiling: the most that may be lent (`loan` only)"),
    term=(TERM, False, "a loan's term (`loan` only)"),
    lapses_when=(
        EXPR,
        False,
        "a condition about the beneficiary after which an item of this measure the buffer keeps "
        "ends (e.g. no member in preschool); income, exit and status never end a retention",
    ),
    period=(TEXT, False, "how long or how often, e.g. per year, 3 years"),
    cite=(CITATIONS, False, "where it comes from"),
)

RULE = _obj(
    "a rule: when the condition holds, the household is in the rule's batch and gets its measures",
    id=(NAME, True, "stable id"),
    title=(TEXT, True, "the rule in both languages"),
    when=(EXPR, True, "the condition"),
    grant=(_list_of(NAME, "measure ids"), False, "measures granted"),
    cite=(CITATIONS, True, "where it comes from"),
    note=(TEXT, False, "remarks"),
)

INVARIANT = _obj(
    "a statement every decision on the pack's subject must satisfy, over the decision's outcome",
    id=(NAME, True, "stable id"),
    title=(TEXT, True, "the statement in both languages"),
    holds=(
        EXPR,
        True,
        'true for every decision: reads the outcome through `rule("id")`, `criterion("id")`, '
        '`granted("measure")` and `verdict()` / `verdict("pack")`',
    ),
    cite=(CITATIONS, True, "where it comes from"),
    note=(TEXT, False, "remarks"),
)

PERIODS: dict[str, str] = {
    "stock": "as of the quarter's last day",
    "flow": "events dated within the quarter (the date `dated_by` gives)",
}
"""What a statistics indicator counts (``period:``)."""

BUILTIN_KEYS: dict[str, str] = {
    "batch": "each batch pack the household is a member of (a rule of it holds): a household counts in "
    "every batch it holds, so the batch rows do not add up to the total",
    "measure": "each measure granted (support now: granted by a rule, or kept by the buffer)",
}
"""The group-by keys every statistics pack has (``by:``), beside those it declares under ``keys:``."""

_SHOWS = "what it shows: " + "; ".join(f"`{k}` ({v})" for k, v in LIST_COLUMNS.items())
LIST_COLUMN = _obj(
    "a column of the management lists (`kind: statistics`): what it shows and its header",
    column=(_leaf({"type": "string", "enum": [*LIST_COLUMNS]}), True, _SHOWS),
    title=(TEXT, True, "the column's header in both languages"),
)

INDICATOR = _obj(
    "a figure reported over a population (`kind: statistics`): a count or a sum, grouped",
    id=(NAME, True, "stable id: the indicator's code"),
    title=(TEXT, True, "the indicator in both languages"),
    count=(EXPR, False, "households counted when this condition is true (give `count` or `sum`)"),
    sum=(EXPR, False, "the number summed over the households (give `count` or `sum`)"),
    where=(EXPR, False, "with `sum`: the households whose number is summed"),
    by=(
        _list_of(NAME, "group-by keys"),
        False,
        "the group-by keys: names under `keys:` and the built-in "
        + "; ".join(f"`{k}` ({v})" for k, v in BUILTIN_KEYS.items()),
    ),
    period=(
        _leaf({"type": "string", "enum": list(PERIODS)}),
        True,
        "`stock`: " + PERIODS["stock"] + "; `flow`: " + PERIODS["flow"],
    ),
    dated_by=(EXPR, False, "with `period: flow`: the date of the event counted (a date expression)"),
    held=(
        EXPR,
        False,
        "history items with a measure (a field of role `support_measure`), e.g. "
        "`held_on(support, registration.exited_on)`: the built-in "
        "keys `measure` and `batch` read their measures, and the batch packs declaring them, "
        "instead of the outcome's",
    ),
    tolerance=(NUMBER, False, "the difference reconciliation accepts (a number ≥ 0; default 0)"),
    cite=(CITATIONS, True, "where it comes from"),
    note=(TEXT, False, "remarks"),
)

APPLIES_REASON = _obj(
    "a named reason a subject is not assessed",
    when=(EXPR, True, "when this reason holds"),
    explain=(TEXT, True, "the reason, in both languages"),
)

APPLIES = _obj(
    "which subjects the criteria are assessed for; the others are not applicable (criteria still shown)",
    when=(EXPR, True, "the condition for being assessed"),
    title=(TEXT, True, "the condition in both languages"),
    cite=(CITATIONS, True, "where it comes from"),
    explain=(EXPLAIN, False, "texts for assessed (`passed`) and not applicable (`failed`)"),
    reasons=(
        _list_of(APPLIES_REASON, "reasons"),
        False,
        "why a subject is not applicable, in order: when the pack does not apply, the first reason whose condition holds is said instead of `explain.failed`",
    ),
)

BASIS = _obj(
    "a basis that keeps support during the buffer after exit",
    id=(NAME, True, "stable id, e.g. `buffer.campaign`"),
    title=(TEXT, True, "the basis in both languages"),
    active=(EXPR, True, "when the basis keeps support (true or false)"),
    until=(EXPR, True, "the last day the basis keeps support (a date)"),
    amounts=(
        _leaf({"type": "string", "enum": ["at_exit", "current"]}),
        True,
        "`at_exit`: retained measures keep the amount held at exit; "
        "`current`: they continue at the amounts in force in the packs of the day",
    ),
    cite=(CITATIONS, True, "where it comes from"),
    note=(TEXT, False, "remarks"),
)

COMBINE_RULES: dict[str, str] = {
    "higher": "the higher of the two: a retained amount replaces a granted one only when it is an exact "
    "amount above the granted one (support is not reduced)",
    "retained": "the retained amount, whatever the rules grant now (support unchanged)",
    "granted": "the amount the rules grant now (the buffer adds only measures no rule grants)",
}
"""How the amount of a measure both granted by a rule and retained by the buffer is chosen
(``buffer.combine.amount``)."""

COMBINE = _obj(
    "how a measure both granted by a rule now and retained by the buffer is counted",
    amount=(
        _leaf({"type": "string", "enum": list(COMBINE_RULES)}),
        True,
        "the amount kept: " + "; ".join(f"`{k}` {v}" for k, v in COMBINE_RULES.items()),
    ),
    cite=(CITATIONS, True, "where it comes from"),
    note=(TEXT, False, "remarks"),
)

BUFFER = _obj(
    "the buffer after exit: which measures are retained and on which bases",
    title=(TEXT, True, "the buffer in both languages"),
    retained=(
        EXPR,
        True,
        "the history items retained (a list), e.g. `held_on(support, registration.exited_on)`",
    ),
    bases=(_list_of(BASIS, "bases"), True, "the bases, in order; the first that is active applies"),
    combine=(
        COMBINE,
        True,
        "how a measure both granted by a rule now and retained is counted (support, the ledger)",
    ),
)

APPROVAL = _obj(
    "the document that approved this version",
    document=(STRING, True, "its number (文号), e.g. `甘政办发〔2017〕55号`"),
    issuer=(TEXT, True, "who issued it"),
    issued=(DATE, True, "the day it was issued"),
    in_force=(DATE, True, "the day it took effect (normally this version's `valid_from`)"),
)

PACK = _obj(
    "a gspolicy policy pack (one version of it)",
    format=(INTEGER, True, f"the pack format version (this library reads {PACK_FORMAT})"),
    pack=(NAME, True, "the pack id; it matches the pack's path under the policy root"),
    version=(VERSION, True, "the version of this pack, e.g. `2018.1`"),
    kind=(
        _leaf({"type": "string", "enum": list(KINDS)}),
        True,
        "the pack's role: " + "; ".join(f"`{k}` {v}" for k, v in KINDS.items()),
    ),
    valid_from=(DATE, True, "first day this version is in force"),
    valid_to=(DATE, False, "last day this version is in force (open when absent)"),
    approval=(APPROVAL, False, "the document that approved this version (shown with its content hash)"),
    title=(TEXT, True, "the pack's title"),
    department=(NAME, True, "the responsible department (an id under `departments`)"),
    departments=(_map_of(TEXT, "department id → name"), True, "the departments the pack names"),
    subject=(NAME, False, "the record type decided on (default: the schema's root)"),
    sources=(_map_of(SOURCE, "source id → source"), True, "the documents the pack relies on"),
    import_=(
        _map_of(
            _list_of(NAME, "parameter names"),
            "the id of a pack of `kind: parameters` → the names of the parameters taken from it",
        ),
        False,
        "parameters this pack takes from packs of `kind: parameters` (one history, shared)",
    ),
    parameters=(_map_of(PARAMETER, "parameter name → parameter"), False, "dated parameters"),
    facts=(_map_of(FACT, "fact name → fact"), False, "named derived facts"),
    applies=(APPLIES, False, "which subjects the criteria are assessed for"),
    criteria=(_list_of(CRITERION, "criteria"), False, "criteria that must all hold (veto indicators)"),
    measures=(_map_of(MEASURE, "measure id → measure"), False, "measures rules can grant"),
    rules=(_list_of(RULE, "rules"), False, "rules granting measures"),
    missing_day=(
        _leaf({"type": "string", "enum": list(MISSING_DAY_RULES)}),
        False,
        "what `years_after` and `months_after` give for a day the month reached lacks (29 February "
        "in a common year, the 31st of a month of 30 days): its last day, or the first of the next",
    ),
    exclusive=(
        _list_of(_list_of(NAME, "rule ids: at most one of them holds for a subject"), "groups of rules"),
        False,
        "groups of this pack's rules of which at most one may hold for a subject (checked on every decision)",
    ),
    invariants=(
        _list_of(INVARIANT, "invariants"),
        False,
        "statements every decision must satisfy (`kind: invariants` only)",
    ),
    keys=(
        _map_of(EXPR, "key name → the field of the subject it reads, e.g. `county: county_code`"),
        False,
        "the group-by keys the indicators name (`kind: statistics` only)",
    ),
    indicators=(
        _list_of(INDICATOR, "indicators"),
        False,
        "the figures reported over a population (`kind: statistics` only)",
    ),
    lists=(_list_of(LIST_COLUMN, "list columns"), False, "the management lists' layout (statistics)"),
    buffer=(BUFFER, False, "the buffer after exit"),
    note=(TEXT, False, "remarks"),
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a pack file (draft 2020-12)."""
    schema = PACK.to_json()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"gspolicy-pack-format-{PACK_FORMAT}.schema.json",
        "title": "gspolicy policy pack",
        **schema,
    }


def render_json_schema() -> str:
    """The shipped JSON Schema text (``gspolicy/schemas/pack.schema.json``)."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    shipped = Path(__file__).resolve().parents[1] / "schemas" / "pack.schema.json"
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else shipped
    target.write_text(render_json_schema(), encoding="utf-8")
    print(f"wrote {target}")
