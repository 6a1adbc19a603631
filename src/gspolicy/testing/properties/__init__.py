"""A library of policy properties to call from your own tests, built on Hypothesis.

Each ``assert_*`` function draws households (by default `gspolicy.strategies.from_schema`, or any
strategy you give), decides them with the policies and raises `PropertyFailed` — an
`AssertionError` — with a clear message when the property does not hold.  Hypothesis shrinks the
failing example first, so the household in the message is a small one, and
`PropertyFailed.counterexample` can be written out as a YAML pack test case with `write_case` —
a case that fails under ``gspolicy test`` until the packs are fixed::

    from gspolicy.testing.properties import assert_monotone, write_case

    def test_more_income_never_hurts():
        assert_monotone(policies, "income.per_capita", as_of=dt.date(2018, 12, 31))

The properties: `assert_deterministic`, `assert_monotone` (in a named numeric field),
`assert_buffer_not_reduced` (support never reduced during the buffer), `assert_explanations_sufficient`,
`assert_version_isolation` (as-of evaluation ignores values not in force) and `assert_settles`
(an undetermined verdict becomes determined once the fields or parameters it names are supplied).
Every function takes `settings` (a `hypothesis.settings`; default: the active profile, no
deadline).  `as_of` is a date or a strategy of dates.

This package re-exports only: `harness` (running a property, `Counterexample`, `PropertyFailed`),
`independence` (determinism, explanation sufficiency, version isolation), `changes` (monotonicity,
settling), `buffer` (support through the buffer); `write_case` lives in `gspolicy.testing.case_yaml`.
"""

from gspolicy.testing.case_yaml import write_case
from gspolicy.testing.properties.buffer import assert_buffer_not_reduced
from gspolicy.testing.properties.changes import assert_monotone, assert_settles
from gspolicy.testing.properties.harness import Counterexample, PropertyFailed
from gspolicy.testing.properties.independence import (
    assert_deterministic,
    assert_explanations_sufficient,
    assert_version_isolation,
)

__all__ = [
    "Counterexample",
    "PropertyFailed",
    "assert_buffer_not_reduced",
    "assert_deterministic",
    "assert_explanations_sufficient",
    "assert_monotone",
    "assert_settles",
    "assert_version_isolation",
    "write_case",
]
