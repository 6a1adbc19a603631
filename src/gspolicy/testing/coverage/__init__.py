"""Decision coverage of pack test cases: decisions, conditions and MC/DC, with gaps filled or proven out.

**What is covered.**  A *decision* is a boolean expression of a pack: a criterion's ``require``
and ``given``, the applicability ``when``, a rule's ``when``, a buffer basis's ``active``, a boolean
fact, and the predicate of an ``any``/``all``/``count`` aggregate (evaluated once per item).  Its
*conditions* are the leaves of its ``and``/``or``/``not`` structure (comparisons, boolean fields,
facts, aggregates, ``present``, ``within``, …).  For every pack version, the report says whether
the cases made each decision true and false, each condition true and false, and, for a compound
decision (two conditions or more), gives an MC/DC pair per condition.

**How it is measured.**  Every case's household is evaluated by the per-record evaluator's
lowering with the decisions watched (`gspolicy.engine.compiled.lower_watched`, every pack
version in force on the case's date): each evaluation of a decision records its outcome and the
value of each of its conditions, and a condition not reached was not evaluated — the
``and``/``or`` before it was already decided.  No trace is built (the searches evaluate thousands
of households); the values are the interpreter's, which a differential test holds against the
values read from the interpreter's trace events.

**MC/DC** is *unique-cause MC/DC with masking for short-circuit evaluation* (as DO-178C allows
for short-circuit operators): two evaluations of a decision form a pair for condition ``c`` when
``c`` is true in one and false in the other, the decision's outcome is true in one and false in
the other, and every other condition has the same value in both or was not evaluated in at
least one of them.  Unknown values (missing data) never count as true or false.

**Gaps and infeasibility.**  `fill_gaps` searches, for every gap, for a household and an as-of
date that close it: a bounded, derandomized Hypothesis search (`max_examples` households per
gap) over the cases' own households changed by `gspolicy.strategies.boundary_households` — values
at and around every threshold and parameter bound of the pack, every enum code, fields removed
— on dates inside the version's validity (its first and last day, the cases' dates, and the days
around every date parameter).  A gap the search closes becomes a YAML case (its expectations are
the current decision, to be reviewed).  A gap it cannot close is listed as *infeasible* with the
reason: first an exact check on the decision's structure (every assignment of true/false to its
conditions is tried: if none gives an MC/DC pair, no household can), otherwise "not reached by a
bounded search".  Limits: the second kind is evidence, not proof — a household outside the
search space (a value far from every threshold, several members changed at once) could still
reach the gap; conditions are treated as independent in the structural check; a fact used twice
in one decision is read once (facts are evaluated once per evaluation).

This package re-exports only: `measure` (decision points, evaluations, MC/DC), `report` (the
report and `coverage`), `search` (`fill_gaps`) and `write` (`write_cases`).
"""

from gspolicy.testing.coverage.measure import DecisionPoint as DecisionPoint
from gspolicy.testing.coverage.measure import Observation, decision_points, mcdc_pairs
from gspolicy.testing.coverage.measure import Truth as Truth
from gspolicy.testing.coverage.measure import observe as observe
from gspolicy.testing.coverage.report import (
    ConditionCoverage,
    CoverageReport,
    DecisionCoverage,
    Gap,
    coverage,
)
from gspolicy.testing.coverage.search import Found as Found
from gspolicy.testing.coverage.search import fill_gaps
from gspolicy.testing.coverage.write import write_cases

__all__ = [
    "ConditionCoverage",
    "CoverageReport",
    "DecisionCoverage",
    "Gap",
    "Observation",
    "coverage",
    "decision_points",
    "fill_gaps",
    "mcdc_pairs",
    "write_cases",
]
