"""Fuzzed bodies against the real server: whatever is sent — text that is not JSON, JSON of the
wrong shape or types, numbers too large to hold, deep nesting — the answer is a 4xx naming the
problem as a located diagnostic, never a 500, and the server goes on answering."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unit.serve._server import Client

ENDPOINTS = ("/v1/decide", "/v1/explain", "/v1/areas")

_FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_numbers = st.one_of(
    st.integers(min_value=-(10**80), max_value=10**80).map(str),
    st.sampled_from(["1e999999999", "-1e-999999999", "9" * 5000, "0.1e400", "-0", "1E+2"]),
)
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _refused(server: Client, path: str, body: bytes | str) -> None:
    answer = server.post(path, body)
    assert 400 <= answer.status < 500, (answer.status, answer.body[:500])
    diagnostics = answer.json()["error"]["diagnostics"]
    assert diagnostics
    assert all(d["code"] and d["message"] for d in diagnostics)


@_FUZZ
@given(path=st.sampled_from(ENDPOINTS), raw=st.binary(max_size=200))
def test_bytes_that_are_not_a_request_are_refused(server: Client, path: str, raw: bytes) -> None:
    _refused(server, path, raw)


@settings(_FUZZ, max_examples=15)
@given(path=st.sampled_from(ENDPOINTS), data=_json)
def test_json_of_the_wrong_shape_is_refused(server: Client, path: str, data: object) -> None:
    _refused(server, path, json.dumps(data))


@_FUZZ
@given(
    path=st.sampled_from(ENDPOINTS),
    member=st.sampled_from(["household", "households", "as_of", "detail", "villages", "packs"]),
    number=_numbers,
    depth=st.integers(min_value=0, max_value=60),
)
def test_wrong_types_huge_numbers_and_deep_nesting_are_refused(
    server: Client, path: str, member: str, number: str, depth: int
) -> None:
    nested = "[" * depth + number + "]" * depth
    _refused(server, path, f'{{"{member}": {nested}, "as_of": {number}}}')


def test_the_server_still_answers_after_the_fuzzing(server: Client) -> None:
    assert server.get("/v1/packs").status == 200
