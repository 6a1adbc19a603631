"""The decision service against a real server on loopback: each endpoint answers what the library
answers, names the hashes it used, and refuses bad input with located diagnostics in zh or en."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import time
from typing import Any

import jsonschema
import pytest

from gspolicy.schemas import schema_text
from unit.serve._server import Client, needs_serve_extra, running

from support.bundled import REGISTRY, shared_policies

pytestmark = pytest.mark.slow  # a real server on loopback: full suite

AS_OF = "2018-12-31"
DAY = dt.date(2018, 12, 31)


def _lines(name: str, count: int) -> list[dict[str, Any]]:
    with (REGISTRY / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in itertools.islice(lines, count)]


HOUSEHOLDS = _lines("households.jsonl", 30)


def _record(raw: dict[str, Any]) -> Any:
    return shared_policies().household(raw)


def test_one_household_gets_the_librarys_outcome_and_the_hashes_it_used(server: Client) -> None:
    answer = server.post("/v1/decide", {"household": HOUSEHOLDS[0], "as_of": AS_OF})
    assert answer.status == 200, answer.body
    body = answer.json()
    policy_set = shared_policies().policy_set
    assert body["outcome"] == shared_policies().decide(_record(HOUSEHOLDS[0]), DAY).to_row()
    assert answer.headers["gspolicy-policy-set"] == body["policy_set"] == policy_set.content_hash
    in_force = [policy_set.in_force(i, DAY) for i in policy_set.ids]
    assert body["packs"] == {p.key: p.content_hash for p in in_force if p is not None}
    jsonschema.validate(body["outcome"], json.loads(schema_text("outcome")))


def test_a_batch_gets_explained_decisions_at_the_detail_asked(server: Client) -> None:
    answer = server.post("/v1/decide", {"households": HOUSEHOLDS, "as_of": AS_OF, "detail": "fails"})
    assert answer.status == 200, answer.body
    decisions = answer.json()["decisions"]
    policies = shared_policies()
    assert decisions == [policies.evaluate(_record(h), DAY).to_json(detail="fails") for h in HOUSEHOLDS]
    validator = jsonschema.Draft202012Validator(json.loads(schema_text("decision")))
    for decision in decisions[:5]:
        validator.validate(decision)


def test_explain_speaks_the_language_asked_for(server: Client) -> None:
    decision = shared_policies().evaluate(_record(HOUSEHOLDS[1]), DAY)
    for header, lang in (("zh-CN,zh;q=0.9,en;q=0.5", "zh"), ("en-GB", "en"), ("fr, zh;q=0.1", "zh")):
        answer = server.post(
            "/v1/explain", {"household": HOUSEHOLDS[1], "as_of": AS_OF}, Accept_Language=header
        )
        assert answer.status == 200, answer.body
        assert answer.json()["text"] == decision.render(lang, detail="brief")
        assert answer.json()["decision"] == decision.to_json(detail="brief")


def test_areas_are_decided_from_their_households(server: Client) -> None:
    villages = _lines("villages.jsonl", 144)
    village = next(v for v in villages if v["code"] == HOUSEHOLDS[0]["village_code"])
    members = [h for h in _lines("households.jsonl", 400) if h["village_code"] == village["code"]]
    request = {"households": members, "villages": [village], "as_of": AS_OF, "detail": "fails"}
    answer = server.post("/v1/areas", request)
    assert answer.status == 200, answer.body
    policies = shared_policies()
    expected = policies.evaluate_areas([_record(h) for h in members], DAY, villages=[village])
    assert answer.json()["villages"] == [a.to_json(detail="fails") for a in expected.villages]


def test_packs_lists_every_version_with_its_dates_and_hash(server: Client) -> None:
    answer = server.get("/v1/packs")
    assert answer.status == 200
    listed = {p["key"]: p for p in answer.json()["packs"]}
    packs = shared_policies().policy_set.packs
    assert set(listed) == {p.key for p in packs}
    for pack in packs:
        assert listed[pack.key]["content_hash"] == pack.content_hash
        assert listed[pack.key]["valid_from"] == pack.pack.valid_from.isoformat()


def test_a_bad_record_is_refused_with_its_located_problems(server: Client) -> None:
    bad = json.loads(json.dumps(HOUSEHOLDS[2]))
    bad["members"][0]["brith_date"] = bad["members"][0].pop("birth_date", "1980-01-01")
    bad["size"] = "five"
    text = json.dumps({"households": [HOUSEHOLDS[0], bad], "as_of": "2018-02-30"}, indent=1)
    answer = server.post("/v1/decide", text, Accept_Language="zh")
    assert answer.status == 422
    problems = {d["code"]: d for d in answer.json()["error"]["diagnostics"]}
    assert set(problems) == {"record/unknown-field", "record/wrong-type", "api/bad-date"}
    unknown = problems["record/unknown-field"]
    assert unknown["path"] == "households[1].members[0].brith_date"
    line = text.splitlines()[unknown["line"] - 1]
    assert line[unknown["col"] - 1 :].startswith('"brith_date"')
    assert "未知字段" in unknown["message"]
    assert "`birth_date`" in unknown["help"]
    assert "request:" in answer.json()["error"]["text"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"household": ', 400, "record/json-syntax"),
        (b"\xff\xfe", 400, "serve/not-json"),
        (b"[1, 2]", 422, "serve/not-an-object"),
        (b'{"households": [], "as_of": "2018-12-31", "detial": "full"}', 422, "serve/unknown-member"),
        (b'{"households": {}, "as_of": "2018-12-31"}', 422, "serve/bad-member"),
        (b'{"as_of": "2018-12-31"}', 422, "serve/missing-member"),
        (b'{"household": {}, "households": [], "as_of": "2018-12-31"}', 422, "serve/both-members"),
        (b'{"households": [{"id": 1e99999999999}], "as_of": "2018-12-31"}', 422, "record/wrong-type"),
        (b'{"households": [], "as_of": "2018-12-31", "exit_pack": "exit"}', 422, "api/unknown-pack"),
        (b'{"a": ' * 40 + b"1" + b"}" * 40, 400, "serve/too-deep"),
        (b"[" * 100_000, 400, "record/json-syntax"),
        (b'{"households": [NaN], "as_of": "2018-12-31"}', 400, "record/json-syntax"),
    ],
)
def test_malformed_requests_get_4xx_naming_the_problem(
    server: Client, body: bytes, status: int, code: str
) -> None:
    answer = server.post("/v1/decide", body)
    assert answer.status == status, answer.body
    assert code in {d["code"] for d in answer.json()["error"]["diagnostics"]}


def test_a_batch_over_the_limit_is_refused(server: Client) -> None:
    answer = server.post("/v1/decide", b'{"households": [' + b"{}," * 5000 + b'{}], "as_of": "2018-12-31"}')
    assert answer.status == 422
    assert [d["code"] for d in answer.json()["error"]["diagnostics"]] == ["serve/too-many"]


def test_a_body_over_the_limit_is_refused_while_it_is_read(server: Client) -> None:
    big = b" " * (10 * 1024 * 1024)
    declared = server.post("/v1/decide", big)  # Content-Length says so before any is read
    assert declared.status == 413
    assert declared.json()["error"]["diagnostics"][0]["code"] == "serve/body-too-large"

    def chunks() -> Any:  # no length given: counted while read
        for _ in range(10):
            yield b" " * (1024 * 1024)

    import http.client

    connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
    try:
        connection.request("POST", "/v1/decide", body=chunks(), encode_chunked=True)
        streamed = connection.getresponse()
        assert streamed.status == 413
    except (BrokenPipeError, ConnectionResetError):  # the server may close before all is sent
        pass
    finally:
        connection.close()
    assert server.get("/v1/packs").status == 200


def test_unknown_paths_and_methods_are_named_in_both_languages(server: Client) -> None:
    missing = server.call("GET", "/v1/decides", headers={"Accept-Language": "zh"})
    assert missing.status == 404
    assert missing.json()["error"]["diagnostics"][0]["message"] == "没有端点 `/v1/decides`"
    wrong = server.call("DELETE", "/v1/packs")
    assert wrong.status == 405
    assert wrong.json()["error"]["diagnostics"][0]["message"] == "`/v1/packs` does not take `DELETE`"


def test_validate_checks_a_pack_text_and_locates_its_problems(server: Client) -> None:
    pack = next(p for p in shared_policies().policy_set.packs if p.key == "exit_criteria.household@2018.1")
    text = pack.pack.source.text
    good = server.post("/v1/validate?name=household.yaml", text)
    assert good.status == 200, good.body
    assert good.json()["valid"] is True
    assert good.json()["pack"]["content_hash"] == pack.content_hash
    broken = text.replace(
        "require: stable_income > exit_income_line", "require: stable_incme > exit_income_line"
    )
    answer = server.post("/v1/validate?name=household.yaml", broken, Accept_Language="zh")
    assert answer.status == 200
    body = answer.json()
    assert body["valid"] is False
    problem = body["diagnostics"][0]
    assert (problem["file"], problem["code"]) == ("household.yaml", "type/unknown-name")
    assert broken.splitlines()[problem["line"] - 1][problem["col"] - 1 :].startswith("stable_incme")
    assert "stable_income" in problem["help"]


def test_a_pack_over_its_cpu_allowance_is_stopped(server: Client) -> None:
    pack = next(p for p in shared_policies().policy_set.packs if p.key == "exit_criteria.household@2018.1")
    text = pack.pack.source.text
    expr = " and ".join(f"(stable_income + {i} > exit_income_line - {i} or size > {i})" for i in range(12))
    padding = "".join(
        f"  - id: extra.c{n}\n    title: {{zh: 额外{n}, en: extra {n}}}\n    department: poverty_office\n"
        f"    require: {expr}\n    cite: [{{source: gansu_2018_standard, clause: x}}]\n"
        for n in range(400)
    )
    at = text.index("criteria:\n") + len("criteria:\n")
    answer = server.post("/v1/validate", text[:at] + padding + text[at:])
    assert answer.status == 422, answer.body
    assert answer.json()["error"]["diagnostics"][0]["code"] == "serve/validate-cpu"
    too_big = server.post("/v1/validate", "#" * (512 * 1024 + 1))
    assert too_big.status == 413
    assert too_big.json()["error"]["diagnostics"][0]["code"] == "serve/pack-too-large"


def test_the_access_log_names_no_household_data(server: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gspolicy.serve.access")
    household = {**HOUSEHOLDS[3], "id": "620000-SECRET-ID"}
    server.post("/v1/decide?who=620000-SECRET-QUERY", {"household": household, "as_of": AS_OF})
    deadline = time.monotonic() + 5  # the line is written once the answer is sent
    while not (lines := [r.getMessage() for r in caplog.records if r.name == "gspolicy.serve.access"]):
        assert time.monotonic() < deadline, "no access log line"
        time.sleep(0.01)
    assert any(line.startswith("POST /v1/decide 200 ") for line in lines), lines
    assert not any("SECRET" in line for line in lines)


def test_a_token_is_required_when_set_and_cors_is_off_by_default(server: Client) -> None:
    needs_serve_extra()
    from gspolicy._resources import bundled_policies
    from gspolicy.pack.workspace import choose
    from gspolicy.serve.app import create_app
    from gspolicy.serve.state import Holder, Loaded

    origin = {"Origin": "https://app.example"}
    assert "access-control-allow-origin" not in server.call("GET", "/v1/packs", headers=origin).headers
    holder = Holder(choose([bundled_policies()]), Loaded.of(shared_policies().policy_set))
    app = create_app(holder, token="s3cret-token-0123456789", cors_origins=["https://app.example"])
    with running(app) as guarded:
        refused = guarded.get("/v1/packs", Accept_Language="zh")
        assert refused.status == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.json()["error"]["diagnostics"][0]["code"] == "serve/unauthorized"
        assert guarded.get("/v1/packs", Authorization="Bearer s3cret-token-0123456788").status == 401
        allowed = guarded.call(
            "GET", "/v1/packs", headers={**origin, "Authorization": "Bearer s3cret-token-0123456789"}
        )
        assert allowed.status == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        # the playground's page loads without the token (it carries no data); its endpoints do not
        assert guarded.get("/playground/").status == 200
        assert guarded.call("POST", "/v1/playground/validate", {"text": "pack: x"}).status == 401
        assert guarded.call("POST", "/playground/", b"").status in (401, 405)
