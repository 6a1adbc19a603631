"""The public surface is small, sorted and pinned: any change is a visible diff here."""

import gspolicy

PINNED = [
    "AreaDecision",
    "AreaResult",
    "Decision",
    "Detail",
    "Diagnostic",
    "GspolicyError",
    "HouseholdError",
    "Outcome",
    "Policies",
    "PolicyError",
    "Record",
    "Severity",
    "__version__",
    "load_households",
    "load_policies",
    "load_records",
]


def test_all_is_sorted_and_pinned() -> None:
    assert gspolicy.__all__ == sorted(gspolicy.__all__)
    assert gspolicy.__all__ == PINNED


def test_every_name_exists() -> None:
    for name in gspolicy.__all__:
        assert hasattr(gspolicy, name), name


def test_errors_subclass_builtins() -> None:
    assert issubclass(gspolicy.PolicyError, ValueError)
    assert issubclass(gspolicy.HouseholdError, gspolicy.PolicyError)
    assert issubclass(gspolicy.PolicyError, gspolicy.GspolicyError)


# The libraries users write their own property tests with are pinned like the facade: their names,
# and each function's parameters (name, kind, default), so that a change to what a user's tests
# call is a visible diff here (docs/reference/compatibility.md).
SURFACES = {
    "gspolicy.strategies": {
        "Threshold": None,
        "boundary_households": "policies, *, as_of, base=None, pack=None, fields=None, max_changes=3",
        "expressions": "schema, *, type=BoolT(), max_depth=3",
        "from_schema": "schema, *, record=None, overrides=None, missing=True, max_items=3",
        "packs": "schema, *, ident='generated.pack', max_criteria=3, max_rules=2, max_depth=2, "
        "kinds=('exit', 'exit_reference', 'batch', 'identification', 'finding', 'monitoring')",
        "thresholds": "policies, *, as_of, pack=None",
    },
    "gspolicy.testing.properties": {
        "Counterexample": None,
        "PropertyFailed": None,
        "assert_buffer_not_reduced": "policies, *, as_of, households=None, settings=None",
        "assert_deterministic": "policies, *, as_of, households=None, pack=None, settings=None",
        "assert_explanations_sufficient": "policies, *, as_of, households=None, settings=None",
        "assert_monotone": "policies, field, *, as_of, households=None, increasing=True, pack=None, settings=None",
        "assert_settles": "policies, *, as_of, households=None, pack=None, settings=None",
        "assert_version_isolation": "policies, *, as_of, households=None, settings=None",
        "write_case": "path, household, *, as_of, pack, expect, name",
    },
}


def _parameters(function: object) -> str:
    """A function's parameters as they would be written, without annotations."""
    import inspect

    shown: list[str] = []
    star = False
    for p in inspect.signature(function).parameters.values():  # type: ignore[arg-type]
        if p.kind is p.KEYWORD_ONLY and not star:
            shown.append("*")
            star = True
        shown.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return ", ".join(shown)


def test_the_property_libraries_surfaces_are_pinned() -> None:
    import importlib
    import inspect

    for module_name, pinned in SURFACES.items():
        module = importlib.import_module(module_name)
        assert module.__all__ == sorted(module.__all__), module_name
        assert module.__all__ == list(pinned), module_name
        for name, parameters in pinned.items():
            value = getattr(module, name)
            if parameters is None:
                assert inspect.isclass(value), name
            else:
                assert _parameters(value) == parameters, f"{module_name}.{name}"
