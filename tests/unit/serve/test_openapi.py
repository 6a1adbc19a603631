"""The OpenAPI document at /openapi.json: valid OpenAPI 3.1 (checked by openapi-spec-validator),
every reference resolving, and naming the published household, decision, outcome and pack schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gspolicy.schemas import schema_text
from unit.serve._server import Client

pytestmark = pytest.mark.slow  # the OpenAPI document built and validated: full suite


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


def test_the_openapi_document_is_valid_and_names_the_published_schemas(server: Client) -> None:
    from openapi_spec_validator import OpenAPIV31SpecValidator

    answer = server.get("/openapi.json")
    assert answer.status == 200
    document = answer.json()
    assert document["openapi"].startswith("3.1")
    errors = [e.message for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert not errors, errors[:5]

    components = document["components"]["schemas"]
    refs = _refs(document)
    assert {r.removeprefix("#/components/schemas/") for r in refs} <= set(components)
    for name in ("Household", "Decision", "Outcome", "Pack"):
        assert f"#/components/schemas/{name}" in refs
    decide = document["paths"]["/v1/decide"]["post"]
    assert decide["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DecideRequest"
    }
    assert components["DecideRequest"]["properties"]["household"] == {
        "$ref": "#/components/schemas/Household"
    }
    # the shipped files, lifted: the same properties, their $defs beside them
    outcome = json.loads(schema_text("outcome"))
    assert components["Outcome"]["properties"] == outcome["properties"]
    decision = json.loads(schema_text("decision"))
    assert set(decision["$defs"]) == {
        k.removeprefix("Decision.") for k in components if k.startswith("Decision.")
    }
    for path in ("/v1/decide", "/v1/explain", "/v1/areas", "/v1/validate", "/v1/packs"):
        operation = next(iter(document["paths"][path].values()))
        assert "200" in operation["responses"]
