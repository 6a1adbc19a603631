"""Hypothesis strategies for testing policy packs: households, boundary households, expressions, packs.

Install the ``testing`` extra (``pip install gspolicy[testing]``) and import this package directly;
``import gspolicy`` never imports it (nor Hypothesis).  The API follows Hypothesis's own style:
the specification first (a schema, a policy set), every option keyword-only, arguments validated
when the strategy is built (an `InvalidArgument` naming the argument), and a readable repr::

    >>> from gspolicy.strategies import from_schema, boundary_households
    >>> from_schema(policies.schema, overrides={"income.per_capita": st.just(Decimal(5200))})
    from_schema(<schema household@2018.1>, overrides={'income.per_capita': just(Decimal('5200'))})

* `from_schema(schema)` draws valid household records (`gspolicy.Record`): every kind of field,
  every enum code, values at the bounds of every range, optional fields missing, lists from empty
  up to `max_items`; `overrides` replaces the strategy of any part by its field path
  (``"income.per_capita"``, ``"members"``, ``"members.health"``; a strategy drawing None leaves
  the field missing).
* `boundary_households(policies, as_of=…)` draws households whose values sit at, just below and
  just above every threshold and parameter bound of the packs in force (`thresholds` lists them).
* `expressions(schema_or_env, type=…)` draws well-typed expressions (syntax trees) of the language,
  reaching every construct; `packs(schema)` draws small checked packs built from them.

This module re-exports only; each strategy lives in its own module: `households` (`from_schema`),
`pack_thresholds` (`Threshold`, `thresholds`), `boundary` (`boundary_households`),
`expression_trees` (`expressions`), `small_packs` (`packs`), and `arguments` (the checks of their
arguments and their reprs).
"""

from gspolicy.strategies.arguments import HasPolicySet as HasPolicySet  # the type of `policies`
from gspolicy.strategies.boundary import boundary_households
from gspolicy.strategies.expression_trees import expressions
from gspolicy.strategies.households import from_schema
from gspolicy.strategies.pack_thresholds import Threshold, thresholds
from gspolicy.strategies.small_packs import DECIDING_KINDS as DECIDING_KINDS  # `packs(kinds=…)`
from gspolicy.strategies.small_packs import packs

__all__ = [
    "Threshold",
    "boundary_households",
    "expressions",
    "from_schema",
    "packs",
    "thresholds",
]
