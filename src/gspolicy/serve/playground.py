"""The playground: a page where an officer edits a pack and sees, as they type, what the checker
says of it, how it decides a household, and whether the pack's own cases still pass.

`playground_router` gives the page (``GET /playground/``, static files shipped in the package:
nothing is fetched from the network) and the JSON endpoints it calls, each a thin layer over the
library: a pack text is read and checked as a pack file is (`read_pack`, `resolve_imports`,
`check_pack`), then stands in for the versions of the same pack it overlaps in the served set
(`gspolicy.serve.draft.draft_set`); households are decided by `gspolicy.explain.build.decide` and rendered as
`Decision.render` and `Decision.to_json` render them; cases run by `gspolicy.testing.cases`.

Every problem in a request comes back as located diagnostics in the language asked (``lang`` in
the body, else ``Accept-Language``), with a 4xx status: a pack text that does not check, a
household the schema rejects, a body that is not the JSON an endpoint reads, a text over
512 KiB.  Household data is never logged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gspolicy._i18n import Lang, Text, parse_lang
from gspolicy._location import Source
from gspolicy.errors import Diagnostic, suggest
from gspolicy.explain.build import decide, exit_pack_of
from gspolicy.explain.render import check_detail
from gspolicy.pack.policy_set import PolicySet
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.validate import validate_record
from gspolicy.schemas import schema_text
from gspolicy.serve.draft import (
    Draft,
    case_sources,
    diagnostics_json,
    draft_set,
    pack_summary,
    plain,
    sort_and_cap,
)
from gspolicy.testing.cases import Case, cases_from_source, run_case

__all__ = ["MAX_BODY_BYTES", "MAX_PACK_BYTES", "playground_router"]

MAX_PACK_BYTES = 512 * 1024
"""The largest pack text the playground reads."""

MAX_BODY_BYTES = 4 * MAX_PACK_BYTES
"""The largest request body an endpoint reads (a pack text, a household and case files)."""

STATIC = Path(__file__).resolve().parent / "static" / "playground"
"""The page's files, shipped in the package."""

_FILES = {
    "index.html": "text/html; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
    "editor.min.js": "text/javascript; charset=utf-8",
    "THIRD_PARTY_LICENSES.txt": "text/plain; charset=utf-8",
}

_SCHEMAS = ("household", "pack", "case")


class LoadedSet(Protocol):
    """What the playground reads of the server's current policy set (`gspolicy.serve.state.Loaded`)."""

    @property
    def policy_set(self) -> PolicySet: ...

    @property
    def hashes(self) -> Mapping[str, str]: ...


class _BadRequest(Exception):
    """A request the playground cannot serve: its status and the diagnostics that say why."""

    def __init__(self, status: int, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(status)
        self.status = status
        self.diagnostics = tuple(diagnostics)


def _bad_body(problem: Text) -> _BadRequest:
    return _BadRequest(422, [Diagnostic("playground/bad-body", None, {"problem": problem})])


# --- the request body -------------------------------------------------------------------------


def _lang(body: Mapping[str, Any], request: Request) -> Lang:
    asked = body.get("lang")
    if isinstance(asked, str) and parse_lang(asked) is not None:
        return parse_lang(asked) or "en"
    for part in request.headers.get("accept-language", "").split(","):
        found = parse_lang(part.split(";")[0])
        if found is not None:
            return found
    return "en"


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object (at most `MAX_BODY_BYTES`)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large(int(declared), MAX_BODY_BYTES)
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise _too_large(len(data), MAX_BODY_BYTES)
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        shown = str(error)[:120]
        raise _bad_body(Text(f"正文不是 JSON：{shown}", f"the body is not JSON: {shown}")) from None
    if not isinstance(body, dict):
        raise _bad_body(Text("正文须为 JSON 对象", "the body must be a JSON object"))
    return body


def _too_large(size: int, limit: int) -> _BadRequest:
    return _BadRequest(413, [Diagnostic("playground/too-large", None, {"size": size, "limit": limit})])


_PACK_FILE = Text("政策包的 YAML", "the pack's YAML")
_CASE_FILE = Text("用例文件的 YAML", "a case file's YAML")


def _text(body: Mapping[str, Any], key: str = "text", what: Text = _PACK_FILE) -> str:
    """The text under `key` (at most `MAX_PACK_BYTES`), line breaks as the browser's editor has them."""
    value = body.get(key)
    if not isinstance(value, str):
        raise _bad_body(Text(f"`{key}` 须为文本（{what.zh}）", f"`{key}` must be text ({what.en})"))
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_PACK_BYTES:
        raise _too_large(size, MAX_PACK_BYTES)
    return value.replace("\r\n", "\n")


def _as_of(body: Mapping[str, Any]) -> dt.date:
    value = body.get("as_of")
    if isinstance(value, str) and len(value) <= 40:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    shown = str(value)[:40]
    raise _BadRequest(422, [Diagnostic("api/bad-date", None, {"value": shown})])


# --- what each endpoint does (run in a worker thread) -----------------------------------------


def _validate(loaded: LoadedSet, text: str, lang: Lang) -> dict[str, Any]:
    draft = draft_set(loaded.policy_set, text)
    return {
        "ok": draft.policy_set is not None,
        "pack": pack_summary(draft.pack) if draft.pack is not None else None,
        "diagnostics": diagnostics_json(draft.diagnostics, lang),
    }


def _checked(loaded: LoadedSet, text: str) -> tuple[PolicySet, CheckedPack, Draft]:
    draft = draft_set(loaded.policy_set, text)
    if draft.policy_set is None or draft.pack is None:
        raise _BadRequest(422, draft.diagnostics)
    return draft.policy_set, draft.pack, draft


def _hashes(loaded: LoadedSet, pack: CheckedPack) -> dict[str, str]:
    found = {k: v for k, v in loaded.hashes.items() if k.split("@")[0] != pack.id}
    found[pack.pack.key] = pack.content_hash
    return dict(sorted(found.items()))


def _decide(loaded: LoadedSet, body: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    text = _text(body)
    as_of = _as_of(body)
    detail = body.get("detail", "brief")
    if detail not in ("fails", "brief", "full"):
        raise _bad_body(
            Text("`detail` 须为 fails、brief 或 full", "`detail` must be one of fails, brief, full")
        )
    household = body.get("household")
    if not isinstance(household, dict):
        raise _bad_body(
            Text("`household` 须为一户的 JSON 对象", "`household` must be a household as a JSON object")
        )
    policy_set, pack, draft = _checked(loaded, text)
    subject = pack.subject if pack.subject in policy_set.schema.records else None
    record, problems = validate_record(household, policy_set.schema, record=subject, file="household")
    if record is None:
        raise _BadRequest(422, problems)
    exit_pack = pack.id if pack.pack.criteria else exit_pack_of(policy_set, subject)
    decision = decide(policy_set, record, as_of, exit_pack=exit_pack)
    return {
        "verdict": decision.verdict,
        "pack": pack_summary(pack),
        "in_force": pack.pack.in_force(as_of),
        "text": decision.render(lang, detail=check_detail(detail)),
        "decision": decision.to_json(detail=check_detail(detail)),
        "hashes": _hashes(loaded, pack),
        "diagnostics": diagnostics_json(draft.diagnostics, lang),
    }


def _cases(loaded: LoadedSet, body: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    text = _text(body)
    given = body.get("cases")
    if given is not None and not (
        isinstance(given, list)
        and all(
            isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("text"), str)
            for c in given
        )
    ):
        raise _bad_body(
            Text(
                "`cases` 须为 {name, text} 对象的列表（用例文件）",
                "`cases` must be a list of {name, text} objects (case files)",
            )
        )
    policy_set, pack, _draft = _checked(loaded, text)
    sources: list[Source] = []
    problems: list[Diagnostic] = []
    if given is None:
        served = loaded.policy_set.versions(pack.id)
        if served:
            sources, problems = case_sources(served[0])
    else:
        sources = [Source(str(c["name"]), _text(c, "text", _CASE_FILE)) for c in given]
    cases: list[Case] = []
    for source in sources:
        found, more = cases_from_source(source, policy_set)
        problems.extend(more)
        cases.extend(c for c in found if c.pack == pack.id)
    results = []
    for case in cases:
        result = run_case(case, policy_set)
        used = (
            next((p.version for p in result.decision.packs if p.id == pack.id), None)
            if result.decision is not None
            else None
        )
        results.append(
            {
                "name": case.name,
                "file": case.file,
                "line": case.span.line if case.span is not None else None,
                "as_of": case.as_of.isoformat(),
                "version": used,
                "passed": result.passed,
                "mismatches": [{"what": w, "expected": e, "actual": a} for w, e, a in result.mismatches],
                "problems": diagnostics_json(result.problems, lang),
                "report": "" if result.passed else result.report(lang),
            }
        )
    return {
        "pack": pack_summary(pack),
        "files": [s.name for s in sources],
        "passed": sum(1 for r in results if r["passed"]),
        "failed": sum(1 for r in results if not r["passed"]),
        "results": results,
        "diagnostics": diagnostics_json(sort_and_cap(problems), lang),
        "hashes": _hashes(loaded, pack),
    }


def _packs(loaded: LoadedSet) -> list[dict[str, Any]]:
    return [
        {"id": pack_id, "versions": [pack_summary(p) for p in loaded.policy_set.versions(pack_id)]}
        for pack_id in loaded.policy_set.ids
    ]


def _pack(loaded: LoadedSet, pack_id: str, version: str | None) -> dict[str, Any]:
    versions = loaded.policy_set.versions(pack_id)
    if not versions:
        suggestions = suggest(pack_id, loaded.policy_set.ids)
        raise _BadRequest(
            404, [Diagnostic("api/unknown-pack", None, {"name": pack_id}, suggestions=suggestions)]
        )
    chosen = next((p for p in versions if p.version == version), None) if version else versions[-1]
    if chosen is None:
        raise _BadRequest(
            404,
            [
                Diagnostic(
                    "playground/unknown-version",
                    None,
                    {
                        "id": pack_id,
                        "version": version or "",
                        "versions": ", ".join(p.version for p in versions),
                    },
                )
            ],
        )
    sources, _problems = case_sources(chosen)  # a problem in them shows when they are run
    cases: list[dict[str, Any]] = []
    for source in sources:
        found, _ = cases_from_source(source, loaded.policy_set)
        cases.extend(
            {"name": c.name, "as_of": c.as_of.isoformat(), "household": plain(c.household)}
            for c in found
            if c.pack == pack_id and (c.subject or loaded.policy_set.schema.root) == chosen.subject
        )
    in_force = [c for c in cases if chosen.pack.in_force(dt.date.fromisoformat(c["as_of"]))]
    return {
        **pack_summary(chosen),
        "text": chosen.pack.source.text,
        "cases": in_force or cases,
        "case_files": [source.name for source in sources],
    }


# --- the router -------------------------------------------------------------------------------


_TEXT = {"type": "string", "description": "a pack file's text (YAML, at most 512 KiB)"}
_LANG = {"enum": ["zh", "en"], "description": "the language of messages (default: Accept-Language)"}


def _body_doc(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a playground endpoint (read by hand, so that a bad body gets
    located bilingual diagnostics)."""
    schema = {"type": "object", "required": required, "properties": {**properties, "lang": _LANG}}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_VALIDATE_DOC = _body_doc(["text"], {"text": _TEXT})
_DECIDE_DOC = _body_doc(
    ["text", "household", "as_of"],
    {
        "text": _TEXT,
        "household": {"type": "object", "description": "a household record (`gspolicy schema household`)"},
        "as_of": {"type": "string", "format": "date"},
        "detail": {"enum": ["fails", "brief", "full"], "default": "brief"},
    },
)
_CASES_DOC = _body_doc(
    ["text"],
    {
        "text": _TEXT,
        "cases": {
            "type": "array",
            "description": "case files to run instead of those beside the served pack",
            "items": {
                "type": "object",
                "required": ["name", "text"],
                "properties": {"name": {"type": "string"}, "text": {"type": "string"}},
            },
        },
    },
)


def _error(status: int, diagnostics: Sequence[Diagnostic], lang: Lang) -> JSONResponse:
    return JSONResponse(
        {"diagnostics": diagnostics_json(sort_and_cap(diagnostics), lang)}, status_code=status
    )


def playground_router(current: Callable[[], LoadedSet]) -> APIRouter:
    """The playground's page and endpoints, reading the served set from `current` once per
    request (`gspolicy.serve.state.Holder.current`)."""
    router = APIRouter()

    @router.get("/playground", include_in_schema=False)
    def playground_root() -> Response:
        return RedirectResponse("/playground/")

    @router.get("/playground/", include_in_schema=False)
    def playground_page() -> Response:
        return _static("index.html")

    @router.get("/playground/{name}", include_in_schema=False)
    def playground_file(name: str) -> Response:
        return _static(name)

    @router.get("/v1/playground/schemas/{name}", tags=["playground"])
    def playground_schema(name: str) -> Response:
        """A published JSON Schema the page reads: ``household`` (the form), ``pack`` (completions)
        or ``case``."""
        if name not in _SCHEMAS:
            return _error(
                404,
                [Diagnostic("jsonschema/unknown-name", None, {"name": name, "names": ", ".join(_SCHEMAS)})],
                "en",
            )
        return Response(schema_text(name), media_type="application/json")

    @router.get("/v1/playground/packs", tags=["playground"])
    def playground_packs() -> Response:
        """The served packs: every version's id, dates in force, title and content hash."""
        return JSONResponse({"packs": _packs(current())})

    @router.get("/v1/playground/packs/{pack_id}", tags=["playground"])
    async def playground_pack(pack_id: str, request: Request, version: str | None = None) -> Response:
        """One served pack version's text (the newest unless `version` is given) and the households
        of its cases, to start editing from."""
        lang = _lang({}, request)
        try:
            return JSONResponse(await run_in_threadpool(_pack, current(), pack_id, version))
        except _BadRequest as bad:
            return _error(bad.status, bad.diagnostics, lang)

    async def serve(
        request: Request, work: Callable[[LoadedSet, dict[str, Any], Lang], dict[str, Any]]
    ) -> Response:
        lang = _lang({}, request)
        try:
            body = await _body(request)
            lang = _lang(body, request)
            return JSONResponse(await run_in_threadpool(work, current(), body, lang))
        except _BadRequest as bad:
            return _error(bad.status, bad.diagnostics, lang)

    @router.post("/v1/playground/validate", tags=["playground"], openapi_extra=_VALIDATE_DOC)
    async def playground_validate(request: Request) -> Response:
        """Check a pack text (``{"text": …, "lang": "zh"}``, up to 512 KiB) as it would stand in the
        served set: ``ok``, the pack's id and version, and the located diagnostics."""
        return await serve(request, lambda loaded, body, lang: _validate(loaded, _text(body), lang))

    @router.post("/v1/playground/decide", tags=["playground"], openapi_extra=_DECIDE_DOC)
    async def playground_decide(request: Request) -> Response:
        """Decide a household with an edited pack standing in for the served one (``{"text", "household",
        "as_of", "lang", "detail"}``): the verdict, the explanation as text and as the decision's JSON."""
        return await serve(request, _decide)

    @router.post("/v1/playground/cases", tags=["playground"], openapi_extra=_CASES_DOC)
    async def playground_cases(request: Request) -> Response:
        """Run the edited pack's own cases (the served pack's case files, or ``cases``: a list of
        ``{name, text}`` case files): pass or fail per case, with what differs."""
        return await serve(request, _cases)

    return router


def _static(name: str) -> Response:
    media = _FILES.get(name)
    if media is None:
        return _error(404, [Diagnostic("playground/no-such-file", None, {"name": name[:80]})], "en")
    return FileResponse(STATIC / name, media_type=media, headers={"Cache-Control": "no-cache"})
