"""The thresholds live only in the packs, and packs are found by role, never by id.

Two halves: changing a value in a copy of the packs changes decisions (so the engine reads it from
the pack), and none of the numbers the packs define appears as a numeric literal in ``src/``.

The scan's rule: the numbers are collected from the loaded packs themselves — every exact
parameter value, every bound of a range, every measure amount — not written out by hand.  Integers
from 0 to 16 are ignored: they occur as ordinary code constants (indexes, widths, exit codes, years
in a loop) and would only give false alarms (the packs' ages 6 and 15 are such numbers).  A source
literal matches a pack number when it is an ``int`` or ``float`` constant, or a string constant that
is exactly a decimal number (the ``Decimal("3500")`` way of hiding one), of equal value
(``0.9`` matches ``0.90``).

A period is a policy number too, and one no pack need define to slip in (the ledger's default
deadline of 91 days, ``timedelta(weeks=13)``, had no source): no duration is written in ``src/`` —
no number other than 0 and 1 (the day before or after) in a ``timedelta(…)``, in a comparison or
sum with a ``.days``, or as the value or default of a name that speaks of days, weeks, months,
years, a period, a deadline or a quarter — except those listed with what they are.  The event
window of the monitor (``shock_window_days``) and the watch line are the monitoring pack's, so
they are among the pack numbers the first scan looks for.  (How a measure both granted and
retained is counted is the buffer pack's ``combine``: tests/unit/pack/test_buffer_combine.py.)

Likewise no string constant in ``src/`` (docstrings aside) names a pack of the bundled set, or a
pack-id namespace such as ``seven_batches.``: the engine finds the verdict pack, the monitoring
pack and the areas' packs by ``kind:``.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from gspolicy._resources import bundled_policies
from gspolicy.api import Policies, load_policies
from gspolicy.explain.decision import CriterionVerdict
from gspolicy.pack.policy_set import PolicySet

from support.households import default_household

SRC = Path(__file__).parents[2] / "src" / "gspolicy"
SMALL = range(17)  # 0..16: ordinary code constants, ignored

# Code that never decides anything about a household: the generators of test data (their sizes
# and value ranges are not policy) — a number there that equals a pack number is a coincidence.
NOT_DECIDING = ("gspolicy/strategies/", "gspolicy/testing/")
# Constants elsewhere that equal a pack number by coincidence, each with what it is.
COINCIDENCES = {
    ("gspolicy/_yaml.py", Decimal(64)): "the YAML nesting limit",
    ("gspolicy/columnar/plan.py", Decimal(64)): "the bits of one what-would-settle word",
    ("gspolicy/analysis/html.py", Decimal(20)): "a chart bar's height in pixels",
    ("gspolicy/cli/_support.py", Decimal(20)): "the narrowest column Chinese help is wrapped to",
    ("gspolicy/api.py", Decimal(100000)): "households `decide_table` decides at a time by default",
    ("gspolicy/schema/validate.py", Decimal(1000)): "the longest text a record field may hold",
    ("gspolicy/_yaml.py", Decimal(10000)): "the most aliases a YAML file may use",
    ("gspolicy/lang/parse.py", Decimal(10000)): "the longest expression text",
    ("gspolicy/schema/doc.py", Decimal(10000)): "digit groups on the schema page",
    ("gspolicy/_location.py", Decimal(1000)): "a source line longer than this is shown in part",
    ("gspolicy/analysis/prove.py", Decimal(1000)): "milliseconds in a second (the solver's timeout)",
    ("gspolicy/analysis/what_if.py", Decimal(1000)): "milliseconds in a second (the solver's timeout)",
    ("gspolicy/cli/_prove.py", Decimal(1000)): "milliseconds in a second (--timeout)",
    ("gspolicy/cli/_prove.py", Decimal(2000)): "--timeout's default, in milliseconds",
    ("gspolicy/analysis/smt.py", Decimal(10000)): "a date as the integer YYYYMMDD",
    ("gspolicy/analysis/smt.py", Decimal(2000)): "the year of a witness's default date",
    ("gspolicy/serve/guards.py", Decimal(1000)): "milliseconds in a second (the access log)",
    ("gspolicy/serve/bodies.py", Decimal(5000)): "the most households one request may hold",
    ("gspolicy/serve/app.py", Decimal(20)): "the longest method name an error repeats",
}


def pack_numbers(policy_set: PolicySet) -> set[Decimal]:
    """Every number a pack defines: parameter values (exact or range bounds) and measure amounts."""
    found: set[Decimal] = set()

    def add(value: object) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int | Decimal):
            found.add(Decimal(value))
        elif isinstance(value, tuple):
            for item in value:
                add(item)

    for pack in policy_set.packs:
        for parameter in pack.pack.parameters.values():
            for dated in parameter.values:
                add(dated.value)
                for bound in (dated.low, dated.high):
                    if bound is not None:
                        add(bound.value)
        for measure in pack.pack.measures.values():
            amount = measure.amount
            add(amount.value)
            for bound in (amount.low, amount.high):
                if bound is not None:
                    add(bound.value)
    return {n for n in found if not (n == n.to_integral_value() and int(n) in SMALL)}


@functools.cache
def _parsed(source: str) -> ast.Module:
    """The syntax tree of a source text, parsed once for both scans."""
    return ast.parse(source)


def numeric_literals(source: str) -> Iterator[tuple[int, Decimal]]:
    """(line, value) of every numeric constant in Python source, and of every string constant
    that is exactly a decimal number."""
    for node in ast.walk(_parsed(source)):
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            continue
        if isinstance(node.value, int | float):
            yield node.lineno, Decimal(str(node.value))
        elif isinstance(node.value, str):
            try:
                number = Decimal(node.value.strip())
            except InvalidOperation:
                continue
            if number.is_finite() and node.value.strip():
                yield node.lineno, number


def literals_matching(source: str, numbers: set[Decimal]) -> list[tuple[int, Decimal]]:
    return [(line, value) for line, value in numeric_literals(source) if value in numbers]


def test_the_pack_numbers_are_collected_from_the_packs(bundled: Policies) -> None:
    numbers = pack_numbers(bundled.policy_set)
    # what the bundled packs are known to define; the set is read from them, not from this list
    assert {Decimal("3500"), Decimal("3815.38"), Decimal("4742.55"), Decimal("0.9"), Decimal("20")} <= numbers
    assert {Decimal(90), Decimal(365)} <= numbers  # the monitor's event window (`shock_window_days`)
    assert Decimal(6) not in numbers  # an age bound, but a small integer: ignored by the rule


@pytest.mark.slow  # a scan of the whole source tree: full suite
def test_no_pack_number_is_a_literal_in_src(bundled: Policies) -> None:
    numbers = pack_numbers(bundled.policy_set)
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    found = []
    for path in files:
        name = str(path.relative_to(SRC.parent))
        if name.startswith(NOT_DECIDING):
            continue
        for line, value in literals_matching(path.read_text(encoding="utf-8"), numbers):
            if (name, value) not in COINCIDENCES:
                found.append(f"{name}:{line}: {value}")
    assert found == [], "thresholds belong in the packs, not in the code"


# -- durations ----------------------------------------------------------------------------------------

DURATION_NAME = re.compile(r"days|weeks|months|years|period|deadline|quarter", re.IGNORECASE)
# Durations in deciding code that are not policy, each with what it is.
DURATIONS = {
    (
        "gspolicy/analysis/lint_version.py",
        Decimal(4),
    ): "lint's search horizon for a pack without an end: four years",
    ("gspolicy/analysis/lint_version.py", Decimal(366)): "lint's search horizon: the days of a leap year",
}


def _name_of(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _number(node: ast.AST | None) -> bool:
    """A number written out: ``91``, ``-91``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _numbers_in(node: ast.AST) -> Iterator[tuple[int, Decimal]]:
    """(line, value) of every number in `node` other than 0 and 1 (the day before or after)."""
    for sub in ast.walk(node):
        if _number(sub) and isinstance(sub, ast.Constant):
            value = Decimal(str(sub.value))
            if abs(value) > 1:
                yield sub.lineno, value


def _durations(node: ast.AST) -> list[ast.AST]:
    """The parts of `node` that give a duration: a `timedelta`'s arguments, what a `.days` is
    compared with or added to, a number named or defaulted as days, a period or a deadline."""
    if isinstance(node, ast.Call) and _name_of(node.func) == "timedelta":
        return [*node.args, *(k.value for k in node.keywords)]
    if isinstance(node, ast.Compare | ast.BinOp):
        sides = [node.left, *node.comparators] if isinstance(node, ast.Compare) else [node.left, node.right]
        if any(isinstance(side, ast.Attribute) and side.attr == "days" for side in sides):
            return [side for side in sides if not (isinstance(side, ast.Attribute) and side.attr == "days")]
        return []
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if _number(node.value) and any(DURATION_NAME.search(_name_of(t)) for t in targets):
            return [node.value] if node.value is not None else []
        return []
    if isinstance(node, ast.keyword):
        return [node.value] if node.arg and DURATION_NAME.search(node.arg) and _number(node.value) else []
    if isinstance(node, ast.arguments):
        positional = [*node.posonlyargs, *node.args]
        named = list(zip(positional[len(positional) - len(node.defaults) :], node.defaults, strict=True))
        named += [(a, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True) if d is not None]
        return [d for a, d in named if DURATION_NAME.search(a.arg) and _number(d)]
    return []


def duration_literals(source: str) -> list[tuple[int, Decimal]]:
    """(line, value) of every number written as a duration in Python source (see the module doc)."""
    found = {
        hit for node in ast.walk(_parsed(source)) for part in _durations(node) for hit in _numbers_in(part)
    }
    return sorted(found)


@pytest.mark.slow  # a scan of the whole source tree: full suite
def test_no_duration_is_written_in_src() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        name = str(path.relative_to(SRC.parent))
        if name.startswith(NOT_DECIDING):
            continue
        for line, value in duration_literals(path.read_text(encoding="utf-8")):
            if (name, value) not in DURATIONS:
                found.append(f"{name}:{line}: {value}")
    assert found == [], "periods, deadlines and windows belong in the packs (or nowhere), not in the code"


def test_the_duration_scan_finds_planted_periods() -> None:
    planted = (
        "DEFAULT_PERIOD_DAYS = dt.timedelta(weeks=13).days\n"  # the ledger's old default deadline
        "def plan(entry, period_days: int = 91, *, deadline_days=-30):\n"
        "    due = planned_on + timedelta(days=period_days)\n"  # a name: no number, fine
        "    recent = (as_of - shock).days <= 90\n"  # the shock window, in days
        "    soon = 180 > (shock - report).days\n"
        "    nxt = shock + dt.timedelta(days=window + 1)\n"  # the day after: fine
        "    return plan(entry, period_days=91)\n"
        "QUARTER = 91\n"
        "months = count * 12\n"  # a calendar fact, not named as a period: fine
    )
    assert duration_literals(planted) == [
        (1, Decimal(13)),
        (2, Decimal(30)),  # written -30: its size
        (2, Decimal(91)),
        (4, Decimal(90)),
        (5, Decimal(180)),
        (7, Decimal(91)),
        (8, Decimal(91)),
    ]


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of a module, its classes and functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def pack_id_literals(source: str, ids: set[str]) -> list[tuple[int, str]]:
    """(line, text) of every string constant (docstrings aside: they may name a bundled pack as
    an example) that holds a pack id or a pack-id namespace followed by a dot."""
    tree = _parsed(source)
    docs = _docstrings(tree)
    named = re.compile("|".join(re.escape(i) for i in sorted(ids)))
    spaces = tuple(sorted({i.split(".")[0] + "." for i in ids}))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docs:
            continue
        if named.search(node.value) or node.value.startswith(spaces):
            found.append((node.lineno, node.value))
    return found


@pytest.mark.slow  # a scan of the whole source tree: full suite
def test_no_pack_id_is_a_literal_in_src(bundled: Policies) -> None:
    """The engine and the command line find packs by role (`kind:`), never by id."""
    ids = set(bundled.policy_set.ids)
    assert {"exit_criteria.household", "monitoring.household"} <= ids
    # text written for readers, naming a bundled pack as an example
    prose = {
        "gspolicy/_docs.py": "the diagnostics catalogue page's introduction",
        "gspolicy/serve/openapi.py": "an example in the OpenAPI document's description of `packs`",
    }
    found = [
        f"{path.relative_to(SRC.parent)}:{line}: {text!r}"
        for path in sorted(SRC.rglob("*.py"))
        if str(path.relative_to(SRC.parent)) not in prose
        for line, text in pack_id_literals(path.read_text(encoding="utf-8"), ids)
    ]
    assert found == [], "packs are found by their role, not by their id"


def test_the_pack_id_scan_finds_planted_ids(bundled: Policies) -> None:
    ids = set(bundled.policy_set.ids)
    planted = (
        'def f():\n    """Decides by `exit_criteria.household` (a docstring: allowed)."""\n'
        'EXIT = "exit_criteria.household"\nbatch = pid.startswith("seven_batches.")\n'
        'text = f"see {x} in monitoring.household"\n'
    )
    assert [line for line, _ in pack_id_literals(planted, ids)] == [3, 4, 5]


def test_the_scan_finds_a_planted_threshold(bundled: Policies) -> None:
    numbers = pack_numbers(bundled.policy_set)
    planted = 'LINE = 3500\nif rate >= 0.9:\n    top = Decimal("3815.38")\nfor i in range(16):\n    pass\n'
    assert literals_matching(planted, numbers) == [
        (1, Decimal(3500)),
        (2, Decimal("0.9")),
        (3, Decimal("3815.38")),
    ]


# -- changing a pack's value changes decisions -------------------------------------------------------


def _copy_with_income_line(tmp_path: Path, value: str) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(bundled_policies(), root)
    pack = root / "parameters" / "household" / "2016.1.yaml"  # the shared income line
    text = pack.read_text(encoding="utf-8")
    old = "      2018-01-01:\n        value: 3500\n"
    assert text.count(old) == 1, "the 2018 value of exit_income_line is no longer where this test expects"
    pack.write_text(text.replace(old, f"      2018-01-01:\n        value: {value}\n"), encoding="utf-8")
    return root


def _income(policies: Policies, per_capita: int, as_of: str) -> tuple[str | None, CriterionVerdict]:
    household = default_household()
    household["income"].update(per_capita=per_capita, non_counting_transfers=300)
    decision = policies.evaluate(household, as_of)
    (income,) = (c for c in decision.criteria if c.id == "exit.income")
    return decision.verdict, income


def test_changing_the_income_line_in_a_pack_changes_decisions(tmp_path: Path, bundled: Policies) -> None:
    changed = load_policies(_copy_with_income_line(tmp_path, "4000"))
    # stable income 3,700: above the bundled 3,500, below the changed 4,000
    verdict, income = _income(bundled, 4000, "2018-12-31")
    assert verdict == "pass"
    verdict, income = _income(changed, 4000, "2018-12-31")
    assert verdict == "fail"
    assert (income.threshold, income.value, income.shortfall) == ("4000", "3700", "300")
    (line,) = (p for p in income.parameters if p.name == "exit_income_line")
    assert line.value == "4000"
    assert line.effective == dt.date(2018, 1, 1)
    # the parameter's location points into the changed copy, at the changed value
    assert line.location is not None
    file, number = line.location.rsplit(":", 1)
    lines = (tmp_path / file).read_text(encoding="utf-8").splitlines()
    assert lines[int(number) - 1 : int(number) + 1] == ["      2018-01-01:", "        value: 4000"]
    # above the changed line it passes again
    assert _income(changed, 4400, "2018-12-31")[0] == "pass"


def test_the_change_reaches_only_the_dates_it_covers(tmp_path: Path, bundled: Policies) -> None:
    changed = load_policies(_copy_with_income_line(tmp_path, "4000"))
    # the 2016 version, in force on 2017-06-30, keeps the 2017 range
    assert _income(changed, 4000, "2017-06-30")[1].threshold == "[3500, 3815.38]"
    # in 2019 the range [3218, 3815.38] is in force, not the changed 2018 value
    assert _income(changed, 4000, "2019-12-31")[1].threshold == "[3218, 3815.38]"
    assert _income(bundled, 4000, "2019-12-31")[1].threshold == "[3218, 3815.38]"


# -- schema field names ---------------------------------------------------------------------------
#
# Code reads a schema field by its role (`gspolicy.schema.roles`; ``role:`` in the schema), never by
# its name: a schema with its fields renamed decides the same (tests/unit/test_renamed_schema.py).
# The scan's rule: the names are the bundled schema's own — every field that plays a role, and every
# field whose name holds an underscore (a name no other vocabulary uses) — collected from the loaded
# schema, not written out here.  A source string constant (docstrings aside, and the keys of a dict
# display: those name the keys of an output format or a message's arguments) matches when it is such
# a name or a dotted path of them (``income.per_capita``, ``members[2].age``).  What matches and is
# not a schema field is listed with what it is; a schema field that must still be read by name
# would be listed per file with the role that replaces it, to be converted (none is: issue 27,
# item 5 converted the last).  Either list going stale (a listed literal no longer there) fails
# the test.

NOT_FIELDS: dict[tuple[str, str], str] = {
    (
        "gspolicy/schema/roles.py",
        "*",
    ): "the role names (a role is named like the bundled field that plays it)",
    ("gspolicy/_glossary.py", "amount"): "a glossary word",
    ("gspolicy/_messages.py", "measure"): "the English word of a message context",
    ("gspolicy/analysis/diff.py", "measure"): "a pack part's kind (a measure of a pack)",
    ("gspolicy/cli/households.py", "members"): "a key of the summary it prints",
    ("gspolicy/cli/ledger.py", "measure"): "a ledger column and argument",
    ("gspolicy/cli/ledger.py", "status"): "a ledger column",
    ("gspolicy/columnar/runner.py", "support"): "the outcome table's column",
    ("gspolicy/engine/events.py", "grade"): "a key of the monitoring event format",
    ("gspolicy/engine/events.py", "non_counting_transfers"): "a key of the monitoring event format",
    ("gspolicy/engine/events.py", "per_capita"): "a key of the monitoring event format",
    ("gspolicy/engine/events.py", "resettlement"): "a key of the monitoring event format",
    ("gspolicy/engine/events.py", "rigid_spending"): "a key of the monitoring event format",
    ("gspolicy/engine/monitor.py", "grade"): "a key of the monitoring event format",
    ("gspolicy/engine/monitor.py", "non_counting_transfers"): "a key of the monitoring event format",
    ("gspolicy/engine/monitor.py", "per_capita"): "a key of the monitoring event format",
    ("gspolicy/engine/monitor.py", "relocation"): "a monitoring event type",
    ("gspolicy/engine/monitor.py", "resettlement"): "a key of the monitoring event format",
    ("gspolicy/engine/monitor.py", "rigid_spending"): "a key of the monitoring event format",
    ("gspolicy/engine/invariants.py", "support"): "the outcome row's column",
    ("gspolicy/lang/interpret.py", "age"): "a trace event's kind",
    ("gspolicy/lang/typed.py", "age"): "the language's word `age`",
    ("gspolicy/pack/book.py", "amount"): "a key of the pack format",
    ("gspolicy/pack/fmt.py", "amount"): "a key of the pack format",
    ("gspolicy/pack/fmt.py", "measure"): "a key of the pack format",
    ("gspolicy/pack/read.py", "amount"): "a key of the pack format",
    ("gspolicy/pack/read.py", "measure"): "a pack part's kind",
    ("gspolicy/schemas/build.py", "measure"): "a key of the test-case format",
    ("gspolicy/store/ledger_tables.py", "amount"): "a ledger column",
    ("gspolicy/store/ledger_tables.py", "measure"): "a ledger column",
    ("gspolicy/spark/native.py", "support"): "the outcome table's column",
    ("gspolicy/spark/native_retained.py", "support"): "the outcome table's column",
    ("gspolicy/store/outcome_table.py", "support"): "the outcome table's column",
    ("gspolicy/store/planning.py", "support"): "the outcome row's column",
    ("gspolicy/tables.py", "support"): "the outcome table's column",
    ("gspolicy/testing/cases.py", "amount"): "a key of the test-case format",
    ("gspolicy/testing/cases.py", "measure"): "a key of the test-case format",
    ("gspolicy/testing/coverage/measure.py", "age"): "the language's word `age`",
    ("gspolicy/testing/properties/independence.py", "age"): "a trace event's kind",
    ("gspolicy/analysis/impact.py", "support"): "the outcome table's column",
    ("gspolicy/analysis/lint_version.py", "measure"): "a pack part's kind",
    ("gspolicy/columnar/findings.py", "support"): "the outcome table's column",
    ("gspolicy/columnar/retained.py", "support"): "the outcome table's column",
    ("gspolicy/explain/evidence.py", "age"): "a trace event's kind",
    ("gspolicy/explain/legend.py", "members[2].age"): "an example data path in the legend",
    ("gspolicy/explain/render_json.py", "amount"): "a key of the decision's JSON form",
    ("gspolicy/explain/render_json.py", "measure"): "a key of the decision's JSON form",
    ("gspolicy/explain/render_json.py", "status"): "a key of the decision's JSON form",
    ("gspolicy/explain/render_json.py", "support"): "a key of the decision's JSON form",
    ("gspolicy/explain/wording.py", "amount"): "a glossary word",
    ("gspolicy/pack/read_values.py", "amount"): "a key of the pack format",
    ("gspolicy/pack/typecheck.py", "measure"): "a pack part's kind",
    ("gspolicy/pack/typecheck.py", "age"): "the language's word `age`",
    ("gspolicy/stats/lists.py", "amount"): "a column of the management lists (a pack's `lists:`)",
    ("gspolicy/stats/lists.py", "status"): "a column of the management lists (a pack's `lists:`)",
    ("gspolicy/stats/reconcile.py", "measure"): "the statistics packs' built-in group key",
    ("gspolicy/stats/write.py", "measure"): "the statistics packs' built-in group key",
    ("gspolicy/stats/lowered.py", "support"): "the outcome table's column",
    ("gspolicy/stats/lowered.py", "measure"): "the statistics packs' built-in group key",
    ("gspolicy/serve/guards.py", "status"): "a key of the server's response message",
    ("gspolicy/serve/openapi.py", "status"): "a key of the service's JSON answers",
    ("gspolicy/analysis/prove_across.py", "registered_poor"): (
        "the batch packs' fact for a registered poor household (a pack's name, not the village "
        "field of that name): the no-batch proof asks for the households it holds for"
    ),
    ("gspolicy/stats/report.py", "planned_exit_year"): (
        "an area record's field (a village's planned exit year): roles name the household's fields"
    ),
}

# Schema fields still read by name, per file, with the role each becomes (to be converted): none
# now; a file that must read a field by name before it can be converted is listed here.
REMAINING: dict[str, dict[str, str]] = {}


def schema_field_names(policies: Policies) -> tuple[set[str], set[str]]:
    """The bundled schema's field names the scan looks for (see above), and all its field names
    (the parts a dotted path may have besides), read from the schema."""
    fields = {
        (name, field)
        for record in policies.policy_set.schema.records.values()
        for name, field in record.fields.items()
    }
    return {n for n, f in fields if f.role is not None or "_" in n}, {n for n, _ in fields}


def field_name_literals(source: str, names: tuple[set[str], set[str]]) -> list[tuple[int, str]]:
    """(line, text) of every string constant (docstrings and dict-display keys aside) that is a
    name looked for, or a dotted path of field names with one looked for (a part may carry an
    index: ``members[2]``)."""
    looked_for, every = names
    tree = _parsed(source)
    skipped = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            skipped.update(id(k) for k in node.keys if k is not None)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skipped:
            continue
        parts = [re.sub(r"\[\d+\]$", "", p) for p in node.value.split(".")]
        if all(p in every for p in parts) and any(p in looked_for for p in parts):
            found.append((node.lineno, node.value))
    return sorted(found)


def test_the_field_name_scan_finds_planted_names(bundled: Policies) -> None:
    names = schema_field_names(bundled)
    assert {"birth_date", "members", "support", "measure", "start", "end", "county_code"} <= names[0]
    assert "id" not in names[0]  # a key, playing no role: not looked for
    planted = (
        'def f(record):\n    """Reads `birth_date` (a docstring: allowed)."""\n'
        '    born = record.get("birth_date")\n'
        '    path = "members[2].age_recorded_on"\n'
        '    args = {"measure": m}\n'  # a dict display's key: an output or argument name
        '    return record["support"], "income.per_capita", "birthdate"\n'
    )
    assert field_name_literals(planted, names) == [
        (3, "birth_date"),
        (4, "members[2].age_recorded_on"),
        (6, "income.per_capita"),
        (6, "support"),
    ]


@pytest.mark.slow  # a scan of the whole source tree: full suite
def test_no_schema_field_name_is_a_literal_in_src(bundled: Policies) -> None:
    """Code reads schema fields by role: no field name is written in ``src/`` but those listed."""
    names = schema_field_names(bundled)
    found, used = [], set()
    for path in sorted(SRC.rglob("*.py")):
        name = str(path.relative_to(SRC.parent))
        if (name, "*") in NOT_FIELDS:
            used.add((name, "*"))
            continue
        for line, text in field_name_literals(path.read_text(encoding="utf-8"), names):
            if (name, text) in NOT_FIELDS or text in REMAINING.get(name, {}):
                used.add((name, text))
            else:
                found.append(f"{name}:{line}: {text!r}")
    assert found == [], "read a schema field by its role (gspolicy.schema.roles), not by its name"
    listed = set(NOT_FIELDS) | {(f, t) for f, texts in REMAINING.items() for t in texts}
    assert sorted(listed - used) == [], "listed but no longer in the code: take it off the list"
    assert {r for texts in REMAINING.values() for r in texts.values()} <= set(bundled.policy_set.schema.roles)
