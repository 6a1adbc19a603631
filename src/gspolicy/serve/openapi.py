"""The OpenAPI document's schemas: the published JSON Schemas, and the requests and answers built on them.

The household, village and county schemas are generated from the served set's own household
schema (`gspolicy.schemas.build.record_schema`, as ``gspolicy schema household`` is from the
bundled one); the decision, outcome and pack schemas are the shipped files.  Each is put under
``components/schemas`` with its ``$defs`` lifted beside it (``Household.member``) and its
references rewritten, so that the document is one self-contained OpenAPI 3.1 description.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gspolicy.schema.model import Schema
from gspolicy.schemas import schema_text
from gspolicy.schemas.build import record_schema
from gspolicy.serve.bodies import BATCH_LIMIT

__all__ = ["component_schemas", "ref"]

_COMPONENTS = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema `name`."""
    return {"$ref": _COMPONENTS + name}


def _rewrite(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith("#/$defs/"):
                out[key] = _COMPONENTS + f"{name}.{item.removeprefix('#/$defs/')}"
            elif key == "$ref" and item == "#":
                out[key] = _COMPONENTS + name
            else:
                out[key] = _rewrite(item, name)
        return out
    if isinstance(value, list):
        return [_rewrite(v, name) for v in value]
    return value


def _lift(name: str, schema: Mapping[str, Any], into: dict[str, Any]) -> None:
    """Put `schema` under `name` and its ``$defs`` under ``name.def``, references rewritten."""
    body = {k: v for k, v in schema.items() if k not in ("$schema", "$id", "$defs")}
    into[name] = _rewrite(body, name)
    for key, sub in schema.get("$defs", {}).items():
        into[f"{name}.{key}"] = _rewrite(sub, name)


_DIAGNOSTIC = {
    "type": "object",
    "description": "one located problem, in the language the request asked for (Accept-Language)",
    "properties": {
        "code": {"type": "string", "description": "the stable code (docs/reference/diagnostics.md)"},
        "severity": {"enum": ["error", "warning", "info"]},
        "message": {"type": "string"},
        "help": {"type": "string"},
        "file": {"type": "string", "description": "`request` for the request body"},
        "line": {"type": ["integer", "null"]},
        "col": {"type": "integer"},
        "path": {
            "type": ["string", "null"],
            "description": "the data path, e.g. households[2].members[0].age",
        },
    },
    "required": ["code", "severity", "message"],
}

_HASHES = {
    "policy_set": {"type": "string", "description": "the content hash of the whole policy set used"},
    "packs": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "the content hash of every pack version in force on `as_of` (`id@version` → hash)",
    },
}

_DATE = {"type": "string", "format": "date", "description": "the date to decide as of (ISO)"}
_DETAIL = {
    "enum": ["fails", "brief", "full"],
    "description": "the detail level of explained decisions (as `gspolicy explain --detail`)",
}


def _records(item: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(item), "maxItems": BATCH_LIMIT}


def component_schemas(schema: Schema) -> dict[str, Any]:
    """Every schema the document's operations name, keyed by component name."""
    out: dict[str, Any] = {}
    _lift("Household", record_schema(schema), out)
    for kind, name in (("village", "Village"), ("county", "County")):
        if kind in schema.records:
            _lift(name, record_schema(schema, kind), out)
    for file, name in (("decision", "Decision"), ("outcome", "Outcome"), ("pack", "Pack")):
        _lift(name, json.loads(schema_text(file)), out)
    areas = [k for k in ("village", "county") if k in schema.records]
    out.update(
        {
            "Diagnostic": _DIAGNOSTIC,
            "Problem": {
                "type": "object",
                "description": "a request refused: every problem, located and in the language asked for",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {
                            "status": {"type": "integer"},
                            "diagnostics": {"type": "array", "items": ref("Diagnostic")},
                            "omitted": {"type": "integer"},
                            "text": {"type": "string", "description": "the diagnostics rendered as text"},
                        },
                        "required": ["status", "diagnostics", "text"],
                    },
                    "policy_set": _HASHES["policy_set"],
                },
                "required": ["error"],
            },
            "DecideRequest": {
                "type": "object",
                "properties": {
                    "household": ref("Household"),
                    "households": _records("Household"),
                    "as_of": _DATE,
                    "detail": _DETAIL,
                    "exit_pack": {
                        "type": "string",
                        "description": "the pack whose verdict is the decision's",
                    },
                },
                "required": ["as_of"],
                "oneOf": [{"required": ["household"]}, {"required": ["households"]}],
                "additionalProperties": False,
            },
            "DecideResponse": {
                "type": "object",
                "description": "outcomes without `detail`; explained decisions with it; one or a list "
                "as the request gave one household or a list",
                "properties": {
                    **_HASHES,
                    "as_of": _DATE,
                    "outcome": ref("Outcome"),
                    "outcomes": {"type": "array", "items": ref("Outcome")},
                    "decision": ref("Decision"),
                    "decisions": {"type": "array", "items": ref("Decision")},
                },
                "required": ["policy_set", "packs", "as_of"],
            },
            "ExplainRequest": {
                "type": "object",
                "properties": {
                    "household": ref("Household"),
                    "as_of": _DATE,
                    "detail": {**_DETAIL, "default": "brief"},
                    "exit_pack": {"type": "string"},
                },
                "required": ["household", "as_of"],
                "additionalProperties": False,
            },
            "ExplainResponse": {
                "type": "object",
                "properties": {
                    **_HASHES,
                    "as_of": _DATE,
                    "decision": ref("Decision"),
                    "text": {
                        "type": "string",
                        "description": "the decision as text, in the language asked for",
                    },
                },
                "required": ["policy_set", "packs", "as_of", "decision", "text"],
            },
            "AreasRequest": {
                "type": "object",
                "properties": {
                    "households": _records("Household"),
                    **{f"{k}s": _records(k.capitalize()) for k in areas},
                    "as_of": _DATE,
                    "detail": {**_DETAIL, "default": "brief"},
                    "packs": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": 'another pack for a level, e.g. {"village": "exit_criteria.village_national"}',
                    },
                },
                "required": ["households", "as_of"],
                "additionalProperties": False,
            },
            "AreasResponse": {
                "type": "object",
                "properties": {
                    **_HASHES,
                    "as_of": _DATE,
                    "villages": {"type": "array", "items": {"type": "object"}},
                    "counties": {"type": "array", "items": {"type": "object"}},
                    "problems": {"type": "array", "items": {"type": "string"}},
                    "orphans": {"type": "object", "additionalProperties": {"type": "array"}},
                },
                "required": ["policy_set", "packs", "as_of", "villages", "counties"],
            },
            "PacksResponse": {
                "type": "object",
                "properties": {
                    "policy_set": _HASHES["policy_set"],
                    "loaded_at": {"type": "string", "format": "date-time"},
                    "packs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "version": {"type": "string"},
                                "key": {"type": "string"},
                                "kind": {"type": "string"},
                                "title": {
                                    "type": "object",
                                    "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
                                },
                                "valid_from": {"type": "string", "format": "date"},
                                "valid_to": {"type": ["string", "null"], "format": "date"},
                                "content_hash": {"type": "string"},
                            },
                            "required": ["id", "version", "key", "valid_from", "valid_to", "content_hash"],
                        },
                    },
                },
                "required": ["policy_set", "loaded_at", "packs"],
            },
            "ValidateResponse": {
                "type": "object",
                "properties": {
                    "policy_set": _HASHES["policy_set"],
                    "valid": {"type": "boolean"},
                    "pack": {
                        "type": ["object", "null"],
                        "description": "the pack read: id, version, key, kind, content hash",
                    },
                    "errors": {"type": "integer"},
                    "omitted": {"type": "integer"},
                    "diagnostics": {"type": "array", "items": ref("Diagnostic")},
                    "text": {"type": "string"},
                },
                "required": ["policy_set", "valid", "diagnostics", "text"],
            },
        }
    )
    return out
