"""The playground's endpoints against a real server on loopback: a pack text checked with its
problems located for the editor, a household decided with an edited pack standing in for the
served one, the pack's own cases run, and bad requests answered 4xx with bilingual diagnostics."""

from __future__ import annotations

import datetime as dt
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gspolicy.serve.draft import diagnostic_json, draft_set
from gspolicy.serve.playground import MAX_PACK_BYTES
from unit.serve._playground import EXIT_PACK, RAISED, THRESHOLD, Server, bundled_text, playground_server

from support.bundled import shared_policies

pytestmark = pytest.mark.slow  # a real server on loopback deciding and running cases: full suite


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with playground_server() as running:
        yield running


@pytest.fixture(scope="module")
def opened(server: Server) -> dict[str, Any]:
    reply = server.get(f"/v1/playground/packs/{EXIT_PACK}")
    assert reply.status == 200
    found: dict[str, Any] = reply.json()
    return found


def _passing_case(opened: dict[str, Any]) -> dict[str, Any]:
    case: dict[str, Any] = next(c for c in opened["cases"] if "all six indicators passes" in c["name"])
    return case


def test_a_served_pack_opens_with_its_text_and_the_households_of_its_cases(opened: dict[str, Any]) -> None:
    newest = shared_policies().policy_set.versions(EXIT_PACK)[-1]
    assert opened["version"] == newest.version
    assert opened["text"] == newest.pack.source.text
    assert opened["content_hash"] == newest.content_hash
    assert opened["cases"]
    assert all(newest.pack.in_force(dt.date.fromisoformat(c["as_of"])) for c in opened["cases"])
    assert "exit_2018.yaml" in opened["case_files"]


def test_a_misspelt_key_is_located_for_the_editor_in_either_language(server: Server) -> None:
    text = bundled_text().replace("\ncriteria:", "\ncritera:", 1)
    answers = {
        lang: server.post("/v1/playground/validate", {"text": text, "lang": lang}) for lang in ("zh", "en")
    }
    for lang, reply in answers.items():
        assert reply.status == 200
        data = reply.json()
        assert data["ok"] is False
        found = [d for d in data["diagnostics"] if d["code"] == "shape/unknown-key"]
        assert len(found) == 1, data["diagnostics"]
        d = found[0]
        assert text[d["from"] : d["to"]] == "critera"  # the offsets the editor underlines
        assert text.splitlines()[d["line"] - 1][d["col"] - 1 :].startswith("critera:")
        assert (d["end_line"], d["end_col"]) == (d["line"], d["col"] + len("critera"))
        assert "criteria" in d["help"]
        assert bool(re.search(r"[\u4e00-\u9fff]", d["message"])) == (lang == "zh")


def test_the_bundled_pack_checks_and_names_itself(server: Server) -> None:
    reply = server.post("/v1/playground/validate", {"text": bundled_text()}, lang="zh")
    data = reply.json()
    assert reply.status == 200
    assert data["ok"] is True
    assert not [d for d in data["diagnostics"] if d["severity"] == "error"]
    assert (data["pack"]["id"], data["pack"]["kind"]) == (EXIT_PACK, "exit")


def test_an_edited_threshold_changes_the_decision_and_its_explanation(
    server: Server, opened: dict[str, Any]
) -> None:
    case = _passing_case(opened)
    body = {"household": case["household"], "as_of": case["as_of"], "lang": "en", "detail": "brief"}
    before = server.post("/v1/playground/decide", {**body, "text": opened["text"]}).json()
    edited = opened["text"].replace(THRESHOLD, RAISED)
    after_reply = server.post("/v1/playground/decide", {**body, "text": edited})
    after = after_reply.json()
    assert after_reply.status == 200
    assert (before["verdict"], after["verdict"]) == ("pass", "fail")
    assert after["in_force"] is True
    assert "exit.income" in after["text"]
    assert "not above the standard" in after["text"]
    assert "not above the standard" not in before["text"]
    failing = [c["id"] for c in after["decision"]["criteria"] if c["verdict"] == "fail"]
    assert failing == ["exit.income"]
    newest = shared_policies().policy_set.versions(EXIT_PACK)[-1]
    assert before["hashes"][newest.pack.key] == newest.content_hash
    assert after["hashes"][newest.pack.key] == after["pack"]["content_hash"] != newest.content_hash
    zh = server.post("/v1/playground/decide", {**body, "text": edited, "lang": "zh"}).json()
    assert zh["verdict"] == "fail"
    assert "未超过标准" in zh["text"]


def test_an_edited_parameters_pack_reaches_the_packs_importing_from_it(
    server: Server, opened: dict[str, Any]
) -> None:
    case = _passing_case(opened)
    served = bundled_text("parameters.household")
    line = "      2018-01-01:\n        value: 3500\n"  # the exit income standard from 2018
    assert served.count(line) == 1
    edited = served.replace(line, line.replace("3500", "5500"))
    body = {"household": case["household"], "as_of": "2018-12-31", "lang": "en"}
    before = server.post("/v1/playground/decide", {**body, "text": served}).json()
    after = server.post("/v1/playground/decide", {**body, "text": edited}).json()
    assert (before["verdict"], after["verdict"]) == ("pass", "fail")
    assert "above the standard 3,500" in before["text"]
    assert "not above the standard 5,500" in after["text"]
    assert after["pack"]["id"] == "parameters.household"


def test_the_pack_cases_pass_as_served_and_fail_where_the_edit_bites(server: Server) -> None:
    as_served = server.post("/v1/playground/cases", {"text": bundled_text()}).json()
    assert as_served["failed"] == 0
    assert as_served["passed"] > 20
    assert not [d for d in as_served["diagnostics"] if d["severity"] == "error"]
    edited = server.post(
        "/v1/playground/cases", {"text": bundled_text().replace(THRESHOLD, RAISED), "lang": "zh"}
    ).json()
    assert edited["failed"] > 0
    assert edited["passed"] + edited["failed"] == as_served["passed"]
    failed = [r for r in edited["results"] if not r["passed"]]
    assert all(r["version"] == "2018.1" for r in failed)  # the 2016 version's cases still pass
    # each failure comes from the income criterion now failing: the actual decision shows it failing
    for r in failed:
        assert "✗ exit.income" in r["report"], r["report"]
    assert all("预期" in r["report"] for r in failed)


def test_case_files_given_in_the_request_are_run_instead(server: Server) -> None:
    case_file = "\n".join(
        [
            f"pack: {EXIT_PACK}",
            "cases:",
            "  - name: no income recorded",
            "    as_of: 2018-12-31",
            "    household: {id: T-1}",
            "    expect: {verdict: pass}",
        ]
    )
    reply = server.post(
        "/v1/playground/cases", {"text": bundled_text(), "cases": [{"name": "mine.yaml", "text": case_file}]}
    )
    data = reply.json()
    assert reply.status == 200
    assert data["files"] == ["mine.yaml"]
    assert [(r["name"], r["passed"]) for r in data["results"]] == [("no income recorded", False)]
    assert data["results"][0]["mismatches"][0]["what"] == "verdict"


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/playground/validate", b"{not json", 422, "playground/bad-body"),
        ("/v1/playground/validate", b"[1, 2]", 422, "playground/bad-body"),
        ("/v1/playground/validate", b'{"text": 12}', 422, "playground/bad-body"),
        (
            "/v1/playground/decide",
            b'{"text": "", "household": {}, "as_of": "2018-13-45"}',
            422,
            "api/bad-date",
        ),
        (
            "/v1/playground/decide",
            b'{"text": "", "household": [], "as_of": "2018-12-31"}',
            422,
            "playground/bad-body",
        ),
        (
            "/v1/playground/decide",
            b'{"text": "pack: [", "household": {"id": "x"}, "as_of": "2018-12-31"}',
            422,
            None,
        ),
        ("/v1/playground/cases", b'{"text": "x", "cases": [{"name": 1}]}', 422, "playground/bad-body"),
        ("/v1/playground/validate", b"[" * 100_000, 422, "playground/bad-body"),
    ],
)
def test_bad_requests_get_a_4xx_with_bilingual_diagnostics(
    server: Server, path: str, body: bytes, status: int, code: str | None
) -> None:
    for lang in ("zh", "en"):
        reply = server.post(path, raw=body, lang=lang)
        assert reply.status == status, reply.body[:500]
        found = reply.json()["diagnostics"]
        assert found
        assert all(d["severity"] == "error" for d in found)
        if code is not None:
            assert found[0]["code"] == code
        assert bool(re.search(r"[\u4e00-\u9fff]", found[0]["message"])) == (lang == "zh")


def test_a_household_the_schema_rejects_is_located(server: Server, opened: dict[str, Any]) -> None:
    household = {**_passing_case(opened)["household"], "size": "many"}
    reply = server.post(
        "/v1/playground/decide", {"text": opened["text"], "household": household, "as_of": "2018-12-31"}
    )
    assert reply.status == 422
    assert any(d.get("path") == "size" for d in reply.json()["diagnostics"])


def test_texts_over_the_limit_are_refused_unread(server: Server) -> None:
    text = "#" * (MAX_PACK_BYTES + 1)
    reply = server.post("/v1/playground/validate", {"text": text}, lang="zh")
    assert reply.status == 413
    assert reply.json()["diagnostics"][0]["code"] == "playground/too-large"
    # a body declared larger than any request the playground reads: answered before it is sent
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = f"POST /v1/playground/validate HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        sock.sendall((head + f"Content-Length: {5 * MAX_PACK_BYTES}\r\n\r\n").encode("ascii"))
        received = b""
        while b"}]}" not in received and (chunk := sock.recv(65536)):
            received += chunk
        answer = received.decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "playground/too-large" in answer


def test_an_unknown_pack_or_version_is_a_404_with_a_suggestion(server: Server) -> None:
    reply = server.get("/v1/playground/packs/exit_criteria.houshold", lang="zh")
    assert reply.status == 404
    assert "exit_criteria.household" in reply.json()["diagnostics"][0]["help"]
    assert server.get(f"/v1/playground/packs/{EXIT_PACK}?version=1999.1").status == 404


def test_the_page_and_its_files_come_from_the_server_alone(server: Server) -> None:
    page = server.get("/playground/")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.body.decode("utf-8")
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert linked
    assert not [u for u in linked if re.match(r"[a-z]+://|//", u)]
    for name in linked:
        if not name.startswith("data:"):
            assert server.get("/playground/" + name).status == 200, name
    assert server.get("/playground/secret.py").status == 404
    assert server.get("/playground/..%2Fplayground.py").status == 404
    script = server.get("/playground/editor.min.js").body
    assert b"http://" not in script.replace(b"http://www.w3.org", b"")  # no address fetched at run time
    schema = server.get("/v1/playground/schemas/household").json()
    assert "record.household" in schema["$defs"]
    assert server.get("/v1/playground/schemas/outcome").status == 404


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_located_diagnostic_lies_in_the_text(data: st.DataObject) -> None:
    """Whatever is cut from or typed into a pack, the offsets sent to the editor lie in the text
    and agree with the line and column."""
    text = bundled_text()
    start = data.draw(st.integers(0, len(text)))
    stop = data.draw(st.integers(start, min(len(text), start + 200)))
    typed = data.draw(st.text(st.sampled_from(list(':-[]{}" \n#ab收入\U0001f600')), max_size=6))
    edited = text[:start] + typed + text[stop:]
    draft = draft_set(shared_policies().policy_set, edited)
    units = edited.encode("utf-16-le")
    for d in draft.diagnostics:
        shown = diagnostic_json(d, "en")
        if "from" not in shown:
            continue
        assert 0 <= shown["from"] <= shown["to"] <= len(units) // 2
        line_start = sum(len(line) + 1 for line in edited.split("\n")[: shown["line"] - 1])
        prefix = edited[line_start : line_start + shown["col"] - 1]
        assert "\n" not in prefix
        assert len(edited[: line_start + shown["col"] - 1].encode("utf-16-le")) // 2 == shown["from"]
