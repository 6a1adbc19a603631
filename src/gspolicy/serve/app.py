"""The decision service's app: the library's deciding, explaining and checking over HTTP.

`create_app` builds a FastAPI app around a `Holder` (the policy set, swapped whole on SIGHUP):

- ``POST /v1/decide`` — one household or a batch (at most 5,000) as of a date: outcomes (the
  outcome schema), or explained decisions (the decision schema) at a detail level;
- ``POST /v1/explain`` — one household's explained decision and its text in the language asked for;
- ``POST /v1/areas`` — villages and counties decided from their households and figures;
- ``GET /v1/packs`` — every pack version: id, version, kind, title, dates in force, content hash;
- ``POST /v1/validate`` — a pack text (at most 512 KiB) checked in a worker with a CPU allowance;
- ``GET /openapi.json`` — the OpenAPI 3.1 document, naming the published schemas.

Every answer names the policy set it used (the ``Gspolicy-Policy-Set`` header and a
``policy_set`` member) and, for a decision, the content hash of each pack version in force on its
date.  A request read once reads the set once: a swap mid-request never mixes two sets.  Bad
input is answered 4xx with the located diagnostics in the language of ``Accept-Language`` (zh or
en); a body is read at most ``max_body`` bytes and refused as soon as it passes them.  Deciding is
the library's (`gspolicy.api.Policies`): this module only reads requests and writes answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Scope

from gspolicy._i18n import Lang, Text
from gspolicy._location import DataPath, RecordLocation
from gspolicy.errors import (
    Diagnostic,
    GspolicyError,
    HouseholdError,
    PolicyError,
    render_diagnostics,
    sort_and_cap,
    suggest,
)
from gspolicy.serve.bodies import BATCH_LIMIT, REQUEST, BadRequest, Body, Member, parse_body
from gspolicy.serve.checking import PACK_LIMIT, Checking
from gspolicy.serve.guards import HASH_HEADER, AccessLog, Bearer
from gspolicy.serve.openapi import component_schemas, ref
from gspolicy.serve.playground import playground_router
from gspolicy.serve.state import Holder, Loaded

__all__ = ["HASH_HEADER", "MAX_BODY", "accept_lang", "create_app"]

MAX_BODY = 8 * 1024 * 1024
"""The largest request body read by default, in bytes (``--max-body``)."""

_DECIDING = 2
"""How many requests are decided at once (the rest wait, their bodies unread into objects)."""

_log = logging.getLogger("gspolicy.serve")

_WHAT_HOUSEHOLD = Text(zh="一户的记录", en="one household's record")
_WHAT_DATE = Text(zh="判定所依据的日期，如 `2018-12-31`", en="the date to decide as of, such as `2018-12-31`")
_DECIDE = {
    "household": Member("record", _WHAT_HOUSEHOLD, required=True),
    "households": Member("records", Text(zh="农户记录列表", en="a list of household records"), required=True),
    "as_of": Member("date", _WHAT_DATE, required=True),
    "detail": Member("detail", Text(zh="解释的详略", en="the detail level of explanations")),
    "exit_pack": Member("text", Text(zh="给出结论的政策包", en="the pack whose verdict is the decision's")),
}
_EXPLAIN = {
    "household": Member("record", _WHAT_HOUSEHOLD, required=True),
    "as_of": _DECIDE["as_of"],
    "detail": _DECIDE["detail"],
    "exit_pack": _DECIDE["exit_pack"],
}
_AREAS = {
    "households": Member(
        "records", Text(zh="各村的农户记录", en="the areas' household records"), required=True
    ),
    "villages": Member("records", Text(zh="村的记录", en="village records")),
    "counties": Member("records", Text(zh="县的记录", en="county records")),
    "as_of": _DECIDE["as_of"],
    "detail": _DECIDE["detail"],
    "packs": Member("texts", Text(zh="各层级改用的政策包", en="another pack for a level")),
}


def accept_lang(header: str | None, default: Lang) -> Lang:
    """The language an ``Accept-Language`` header prefers among zh and en (`default` when it
    names neither)."""
    best: tuple[float, Lang] | None = None
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en") or quality <= 0:
            continue
        lang: Lang = "zh" if primary == "zh" else "en"
        if best is None or quality > best[0]:
            best = (quality, lang)
    return best[1] if best is not None else default


def _json(data: Any, status: int = 200, loaded: Loaded | None = None) -> Response:
    headers = {HASH_HEADER: loaded.set_hash} if loaded is not None else None
    body = orjson.dumps(data, default=str)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _problems(status: int, diagnostics: Sequence[Diagnostic], lang: Lang, loaded: Loaded) -> Response:
    kept, omitted = sort_and_cap(diagnostics)
    error = {
        "status": status,
        "diagnostics": [d.to_json(lang) for d in kept],
        "omitted": omitted,
        "text": render_diagnostics(kept, lang, omitted=omitted),
    }
    response = _json({"error": error, "policy_set": loaded.set_hash}, status, loaded)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _in_force(loaded: Loaded, body: Body) -> tuple[Any, dict[str, str]]:
    day = body.date("as_of")
    assert day is not None  # a required member
    policy_set = loaded.policy_set
    packs = {}
    for pack_id in policy_set.ids:
        found = policy_set.in_force(pack_id, day)
        if found is not None:
            packs[found.key] = found.content_hash
    return day, packs


def _exit_pack(loaded: Loaded, body: Body) -> str | None:
    name = body.data.get("exit_pack")
    if name is None:
        return None
    ids = loaded.policy_set.ids
    if name not in ids:
        where = body.locate(DataPath(["exit_pack"]))
        found = tuple(suggest(str(name), list(ids)))
        raise BadRequest(422, [Diagnostic("api/unknown-pack", where, {"name": name}, suggestions=found)])
    return str(name)


def _library(run: Callable[[], Any]) -> Any:
    """Run the library; its own refusals (a bad date, an unknown pack, a record given twice)
    become the request's problems."""
    try:
        return run()
    except (PolicyError, HouseholdError) as err:
        raise BadRequest(422, err.diagnostics) from None


def _each(*steps: Callable[[], Any]) -> list[Any]:
    """Run every step, gathering the problems of all before refusing: one answer names them all."""
    results: list[Any] = []
    problems: list[Diagnostic] = []
    for step in steps:
        try:
            results.append(step())
        except BadRequest as err:
            problems.extend(err.diagnostics)
    if problems:
        raise BadRequest(422, problems)
    return results


def _decide(raw: bytes, loaded: Loaded) -> dict[str, Any]:
    body = parse_body(raw, "/v1/decide", _DECIDE)
    schema = loaded.policy_set.schema
    single = body.data.get("household") is not None
    (day, packs), exit_pack, records = _each(
        lambda: _in_force(loaded, body),
        lambda: _exit_pack(loaded, body),
        lambda: (
            (body.record("household", schema, schema.root),)
            if single
            else body.records("households", schema, schema.root)
        ),
    )
    policies = loaded.policies
    detail = body.data.get("detail")
    out: dict[str, Any] = {"policy_set": loaded.set_hash, "packs": packs, "as_of": day.isoformat()}
    if detail is None:
        rows = _library(lambda: [policies.decide(r, day, exit_pack=exit_pack).to_row() for r in records])
        out.update({"outcome": rows[0]} if single else {"outcomes": rows})
    else:
        found = _library(
            lambda: [policies.evaluate(r, day, exit_pack=exit_pack).to_json(detail=detail) for r in records]
        )
        out.update({"decision": found[0]} if single else {"decisions": found})
    return out


def _explain(raw: bytes, loaded: Loaded, lang: Lang) -> dict[str, Any]:
    body = parse_body(raw, "/v1/explain", _EXPLAIN)
    schema = loaded.policy_set.schema
    (day, packs), exit_pack, record = _each(
        lambda: _in_force(loaded, body),
        lambda: _exit_pack(loaded, body),
        lambda: body.record("household", schema, schema.root),
    )
    detail = body.data.get("detail") or "brief"
    decision = _library(lambda: loaded.policies.evaluate(record, day, exit_pack=exit_pack))
    return {
        "policy_set": loaded.set_hash,
        "packs": packs,
        "as_of": day.isoformat(),
        "decision": decision.to_json(detail=detail),
        "text": decision.render(lang, detail=detail),
    }


def _areas(raw: bytes, loaded: Loaded, lang: Lang) -> dict[str, Any]:
    body = parse_body(raw, "/v1/areas", _AREAS)
    schema = loaded.policy_set.schema
    (day, packs), households, villages, counties = _each(
        lambda: _in_force(loaded, body),
        lambda: body.records("households", schema, schema.root),
        lambda: body.records("villages", schema, "village") if "village" in schema.records else (),
        lambda: body.records("counties", schema, "county") if "county" in schema.records else (),
    )
    detail = body.data.get("detail") or "brief"
    levels = body.data.get("packs")
    result = _library(
        lambda: loaded.policies.evaluate_areas(
            households, day, villages=villages, counties=counties, packs=levels
        )
    )
    return {
        "policy_set": loaded.set_hash,
        "packs": packs,
        "as_of": day.isoformat(),
        "villages": [a.to_json(detail=detail) for a in result.villages],
        "counties": [a.to_json(detail=detail) for a in result.counties],
        "problems": [p.get(lang) for p in result.problems],
        "orphans": {k: list(v) for k, v in result.orphans.items()},
    }


def _packs(loaded: Loaded) -> dict[str, Any]:
    return {
        "policy_set": loaded.set_hash,
        "loaded_at": loaded.loaded_at.isoformat(),
        "packs": [
            {
                "id": p.id,
                "version": p.version,
                "key": p.key,
                "kind": p.kind,
                "title": {"zh": p.pack.title.zh, "en": p.pack.title.en},
                "valid_from": p.pack.valid_from.isoformat(),
                "valid_to": p.pack.valid_to.isoformat() if p.pack.valid_to else None,
                "content_hash": loaded.hashes[p.key],
            }
            for pack_id in loaded.policy_set.ids
            for p in loaded.policy_set.versions(pack_id)
        ],
    }


async def _read(request: Request, limit: int, code: str = "serve/body-too-large") -> bytes:
    """The body, refused (413) as soon as it passes `limit` bytes — by its declared length
    before reading, else while reading — never buffered past the limit."""

    def refused(size: int | None = None) -> BadRequest:
        args: dict[str, object] = {"limit": limit, "batch": BATCH_LIMIT}
        if code == "serve/pack-too-large":
            args = {"limit": limit, "size": size if size is not None else f"> {limit}"}
        return BadRequest(413, [Diagnostic(code, RecordLocation(REQUEST, None), args)])

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise refused(int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise refused()
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    holder: Holder,
    *,
    lang: Lang = "en",
    token: str | None = None,
    cors_origins: Sequence[str] = (),
    max_body: int = MAX_BODY,
    validate_cpu: float = 10,
) -> FastAPI:
    """The decision service around `holder`: answers in `lang` unless a request's
    ``Accept-Language`` prefers the other; `token` (when given) required as a bearer token;
    `cors_origins` the browser origins allowed (none by default); bodies up to `max_body`
    bytes; a pack checked by ``/v1/validate`` stopped after `validate_cpu` CPU-seconds."""
    checking = Checking(validate_cpu)
    # requests decided at once: the work holds the interpreter's lock, so more at once would only
    # hold more decoded bodies in memory; the others wait with their bodies still as bytes
    deciding = asyncio.Semaphore(_DECIDING)

    async def work(run: Callable[..., dict[str, Any]], *args: object) -> dict[str, Any]:
        async with deciding:
            return await run_in_threadpool(run, *args)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        checking.close()

    app = FastAPI(
        title="gspolicy decision service",
        version=_version(),
        description="Gansu poverty-alleviation policy as a service: decide, explain and check "
        "(docs/how-to/serve.md).",
        docs_url=None,  # the interactive pages would load scripts from the network
        redoc_url=None,
        lifespan=lifespan,
    )

    def lang_of(request: Request) -> Lang:
        return accept_lang(request.headers.get("accept-language"), lang)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return _problems(exc.status, exc.diagnostics, lang_of(request), holder.current())

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path = request.url.path[:200]
        if exc.status_code == 405:
            problem = Diagnostic("serve/method", None, {"path": path, "method": request.method[:20]})
        else:
            problem = Diagnostic("serve/not-found", None, {"path": path})
        response = _problems(exc.status_code, [problem], lang_of(request), holder.current())
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def not_expected(request: Request, exc: Exception) -> Response:
        status = 400 if isinstance(exc, RequestValidationError | GspolicyError) else 500
        if status == 500:
            _log.error("internal error answering %s %s", request.method, request.url.path, exc_info=exc)
        diagnostics = exc.diagnostics if isinstance(exc, PolicyError) else ()
        problem = Diagnostic("serve/internal", None, {"path": request.url.path[:200]})
        return _problems(status, diagnostics or [problem], lang_of(request), holder.current())

    app.add_exception_handler(BadRequest, refused)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, not_expected)
    app.add_exception_handler(Exception, not_expected)

    def problem_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
        return {
            s: {
                "description": "refused: located problems",
                "content": {"application/json": {"schema": ref("Problem")}},
            }
            for s in statuses
        }

    def answers(name: str, *statuses: int) -> dict[int | str, dict[str, Any]]:
        ok = {"description": "answered", "content": {"application/json": {"schema": ref(name)}}}
        return {200: ok, **problem_doc(*statuses, 401)}

    def body_doc(name: str) -> dict[str, Any]:
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref(name)}}}}

    @app.post(
        "/v1/decide",
        openapi_extra=body_doc("DecideRequest"),
        responses=answers("DecideResponse", 400, 413, 422),
    )
    async def decide(request: Request) -> Response:
        """Decide one household or a batch as of a date: outcomes, or explained decisions with `detail`."""
        raw = await _read(request, max_body)
        loaded = holder.current()
        return _json(await work(_decide, raw, loaded), loaded=loaded)

    @app.post(
        "/v1/explain",
        openapi_extra=body_doc("ExplainRequest"),
        responses=answers("ExplainResponse", 400, 413, 422),
    )
    async def explain(request: Request) -> Response:
        """One household's explained decision, and its text in the language asked for."""
        raw = await _read(request, max_body)
        loaded = holder.current()
        return _json(await work(_explain, raw, loaded, lang_of(request)), loaded=loaded)

    @app.post(
        "/v1/areas", openapi_extra=body_doc("AreasRequest"), responses=answers("AreasResponse", 400, 413, 422)
    )
    async def areas(request: Request) -> Response:
        """Decide villages and counties from their households' decisions and their own figures."""
        raw = await _read(request, max_body)
        loaded = holder.current()
        return _json(await work(_areas, raw, loaded, lang_of(request)), loaded=loaded)

    @app.get("/v1/packs", responses=answers("PacksResponse"))
    async def packs() -> Response:
        """Every pack version of the set: id, version, kind, title, dates in force, content hash."""
        loaded = holder.current()
        return _json(_packs(loaded), loaded=loaded)

    validate_body = {
        "parameters": [
            {
                "name": "name",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": "the name the pack's problems are located in (default `pack.yaml`)",
            }
        ],
        "requestBody": {
            "required": True,
            "description": "the pack's YAML text (UTF-8, at most 512 KiB)",
            "content": {
                "application/yaml": {"schema": ref("Pack")},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
    }

    @app.post(
        "/v1/validate", openapi_extra=validate_body, responses=answers("ValidateResponse", 400, 413, 422)
    )
    async def validate(request: Request) -> Response:
        """Check a pack's text as `gspolicy validate` does: its problems, located."""
        raw = await _read(request, min(max_body, PACK_LIMIT), "serve/pack-too-large")
        loaded = holder.current()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(400, [Diagnostic("io/not-utf8", None, {"path": REQUEST})]) from None
        name = (
            "".join(c for c in request.query_params.get("name", "pack.yaml")[:200] if c.isprintable())
            or "pack.yaml"
        )
        found = await checking.check(holder.choice.roots, loaded.set_hash, name, text)
        if found is None:
            problem = Diagnostic("serve/validate-cpu", RecordLocation(name, None), {"limit": validate_cpu})
            raise BadRequest(422, [problem])
        chosen = lang_of(request)
        result = {
            "policy_set": loaded.set_hash,
            "valid": found["valid"],
            "pack": found["pack"],
            "errors": found["errors"],
            "omitted": found["omitted"],
            "diagnostics": found["diagnostics"][chosen],
            "text": found["text"][chosen],
        }
        return _json(result, loaded=loaded)

    # the playground: its page and endpoints, beside the API and under the same guards
    app.include_router(playground_router(holder.current))

    documents: dict[str, dict[str, Any]] = {}  # by the set's hash: a reload may change its schema

    def openapi() -> dict[str, Any]:
        loaded = holder.current()
        document = documents.get(loaded.set_hash)
        if document is None:
            document = _fastapi_openapi(app)
            # the framework's own schemas (the playground's path parameters refer to its
            # validation error) beside the published ones
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(component_schemas(loaded.policy_set.schema))
            documents.clear()
            documents[loaded.set_hash] = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]

    def unauthorised(scope: Scope) -> Response:
        request = Request(scope)
        problem = Diagnostic("serve/unauthorized", None)
        return _problems(401, [problem], lang_of(request), holder.current())

    if token is not None:
        app.add_middleware(Bearer, token=token, answer=unauthorised)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language"],
            expose_headers=[HASH_HEADER],
        )
    app.add_middleware(AccessLog, current=holder.current)
    return app


def _fastapi_openapi(app: FastAPI) -> dict[str, Any]:
    from fastapi.openapi.utils import get_openapi  # noqa: PLC0415

    return get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )


def _version() -> str:
    try:
        return importlib.metadata.version("gspolicy")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover  # run from a source tree
        return "0"
