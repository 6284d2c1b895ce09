"""Hypothesis properties: whatever arrives or is passed, only documented exceptions escape.

- response parsing (``APIResponse.from_response``): any bytes, any status, any headers ->
  an ``APIResponse`` or ``UnexpectedResponseError``, and the result can be read, shown
  and compared without raising;
- error parsing (``error_from_response``): never raises, and the error it builds can be
  shown and inspected;
- query encoding (``encode_query``): values round-trip through ``urllib.parse.parse_qsl``,
  or a ``UsageError``;
- path segments (``path_segment``, ``uuid_segment``, the URLs operations build): exactly
  one segment that decodes back to the id, or a ``UsageError``;
- flow validation (``flow_definition_problems`` / ``validate_flow_definition``): a stable
  list of ``(path, message)`` pairs, never an exception, the input left untouched.

Example counts are kept modest so the suite stays quick.
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import urllib3
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import automate_lite as al
from automate_lite import errors
from automate_lite._core.http import MISSING, Session, encode_json, encode_query, path_segment, uuid_segment
from automate_lite._core.response import APIResponse
from automate_lite._core.values import Response
from automate_lite.actions import ActionOps
from automate_lite.errors import error_from_response
from automate_lite.definitions.rules import RULES
from automate_lite.definitions.validation import STATE_TYPES, flow_definition_problems, validate_flow_definition

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
header_names = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
headers = st.dictionaries(
    header_names | st.sampled_from(["content-type", "retry-after", "x-request-id"]), st.text(max_size=40), max_size=5
)
statuses = st.integers(min_value=0, max_value=999)

ERROR_KEYS = [
    "error", "code", "description", "detail", "message", "error_description", "errors",
    "authorization_parameters", "request_id", "debug_id", "details", "required_scope",
    "required_scopes", "session_message", "loc", "msg",
]
error_docs = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(ERROR_KEYS) | st.text(max_size=5), children, max_size=5),
    max_leaves=25,
)


def nested(depth: int, open_: bytes = b"[", close: bytes = b"]", leaf: bytes = b"1") -> bytes:
    return open_ * depth + leaf + close * depth


bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | error_docs.map(lambda v: json.dumps(v).encode())
    | st.sampled_from([b"", b"<!DOCTYPE html><html></html>", b"null", b"NaN", b'"\\ud800"', b"\xef\xbb\xbf{}"])
)

DEEP_BODIES = [
    nested(900),
    nested(990),
    nested(5000),
    b'{"description": ' + nested(900) + b"}",
    b'{"detail": [{"msg": ' + nested(900) + b', "loc": ' + nested(900) + b"}]}",
    b'{"error": {"code": ' + nested(900) + b', "detail": ' + nested(900) + b"}}",
    b'{"errors": [{"code": "x", "detail": ' + nested(900) + b"}]}",
    b'{"authorization_parameters": {"session_message": ' + nested(900) + b"}}",
    nested(900, b'{"a":', b"}"),
]


# ----------------------------------------------------------------------- response parsing


def read_everything(resp: APIResponse) -> None:
    resp.data, resp.text, resp.http_status, resp.headers  # noqa: B018
    repr(resp), str(resp), len(resp), list(resp), dict(resp)  # noqa: B018
    resp.get("status"), "status" in resp, resp == resp, resp == {}  # noqa: B018


@FUZZ
@given(body=bodies, status=statuses, hdrs=headers)
def test_from_response_gives_a_response_or_unexpected_response_error(body: bytes, status: int, hdrs: dict[str, str]) -> None:
    try:
        resp = APIResponse.from_response(Response(status, hdrs, body), "GET", "https://x.example/a")
    except errors.UnexpectedResponseError as e:
        assert e.http_status == status
        assert e.text == body.decode("utf-8", "replace")
        str(e), repr(e), e.message  # noqa: B018
        return
    read_everything(resp)


@pytest.mark.parametrize("body", DEEP_BODIES, ids=lambda b: f"{len(b)}-bytes")
def test_from_response_with_deeply_nested_bodies(body: bytes) -> None:
    try:
        resp = APIResponse.from_response(Response(200, {}, body))
    except errors.UnexpectedResponseError:
        return
    read_everything(resp)


# -------------------------------------------------------------------------- error parsing


def inspect_error(err: errors.AutomateAPIError, status: int) -> None:
    assert isinstance(err, errors.AutomateAPIError)
    assert err.http_status == status
    assert isinstance(err.code, str) and err.code
    assert all(isinstance(m, str) for m in err.messages)
    str(err), repr(err), err.message, err.args  # noqa: B018
    assert isinstance(err.required_scopes, list)
    assert isinstance(err.is_consent_required, bool)
    assert isinstance(err.is_auth_requirements_error, bool)
    assert err.request_id is None or isinstance(err.request_id, str)


@FUZZ
@given(body=bodies, status=statuses, hdrs=headers)
def test_error_from_response_never_raises(body: bytes, status: int, hdrs: dict[str, str]) -> None:
    inspect_error(error_from_response(Response(status, hdrs, body), "POST", "https://x.example/run"), status)


@FUZZ
@given(doc=error_docs, status=st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 502, 503]))
def test_error_from_response_with_error_shaped_json(doc: Any, status: int) -> None:
    err = error_from_response(Response(status, {"content-type": "application/json"}, json.dumps(doc).encode()))
    inspect_error(err, status)
    assert err.raw_json == doc


@pytest.mark.parametrize("body", DEEP_BODIES, ids=lambda b: f"{len(b)}-bytes")
def test_error_from_response_with_deeply_nested_bodies(body: bytes) -> None:
    inspect_error(error_from_response(Response(400, {}, body)), 400)


# ------------------------------------------------------------------------- query encoding

query_scalars = st.text(max_size=15) | st.integers() | st.floats() | st.booleans()
query_values = query_scalars | st.lists(query_scalars, max_size=3) | st.none()


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@FUZZ
@given(params=st.lists(st.tuples(st.text(max_size=10), query_values), max_size=6))
def test_query_values_round_trip(params: list[tuple[str, Any]]) -> None:
    try:
        qs = encode_query(params)
    except al.UsageError:
        # only for text that has no UTF-8 form
        assert any(
            "\ud800" <= ch <= "\udfff"
            for k, v in params
            for s in [k, *(v if isinstance(v, list) else [v])]
            if isinstance(s, str)
            for ch in s
        )
        return
    expected = [
        (k, as_text(v))
        for k, value in params
        if value is not None
        for v in (value if isinstance(value, list) else [value])
    ]
    assert parse_qsl(qs, keep_blank_values=True) == expected
    assert all(c not in qs for c in " #\n")


@FEW
@given(params=st.dictionaries(st.text(max_size=5), st.one_of(
    st.binary(max_size=3), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.lists(st.none() | st.binary(max_size=2), min_size=1, max_size=2), st.just(object()), st.just(MISSING),
), max_size=3))
def test_query_values_of_other_types_are_usage_errors(params: dict[str, Any]) -> None:
    try:
        encode_query(params)
    except al.UsageError:
        pass


# ----------------------------------------------------------------------------- paths


@FUZZ
@given(value=st.text(max_size=30))
def test_path_segment_is_one_segment_that_decodes_back(value: str) -> None:
    try:
        seg = path_segment(value, "action_id")
    except al.UsageError as e:
        assert "action_id" in str(e)
        return
    assert seg and all(c not in seg for c in "/?#; \\")
    assert unquote(seg, errors="strict") == value


@FUZZ
@given(value=st.text(max_size=30), routes=st.sampled_from(["legacy", "actions"]))
def test_operation_urls_keep_the_id_in_one_segment(value: str, routes: str) -> None:
    ops = ActionOps(Session("https://actions.example.org/hello"), routes)  # type: ignore[arg-type]
    try:
        request = next(ops.status(value))
    except al.UsageError:
        return
    assert isinstance(request, al.Request)
    for path in (urlsplit(request.url).path, urllib3.util.parse_url(request.url).path or ""):
        parts = path.split("/")
        if routes == "legacy":
            assert parts[:2] == ["", "hello"] and parts[3:] == ["status"], path
            assert unquote(parts[2]) == value
        else:
            assert parts[:3] == ["", "hello", "actions"] and len(parts) == 4, path
            assert unquote(parts[3]) == value
    assert urlsplit(request.url).query == "" and urlsplit(request.url).fragment == ""


@FUZZ
@given(value=st.text(max_size=40) | st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper()))
def test_uuid_segment_is_a_canonical_uuid_or_a_usage_error(value: str) -> None:
    try:
        seg = uuid_segment(value, "flow_id")
    except al.UsageError as e:
        assert "flow_id" in str(e) and "UUID" in str(e)
        return
    assert seg == str(uuid.UUID(seg))


@FEW
@given(value=st.none() | st.integers() | st.binary(max_size=5) | st.lists(st.text(max_size=3), max_size=2) | st.uuids())
def test_ids_of_other_types_are_usage_errors(value: Any) -> None:
    ops = ActionOps(Session("https://actions.example.org/hello"))
    with pytest.raises(al.UsageError):
        next(ops.status(value))
    if isinstance(value, uuid.UUID):
        # a UUID object is a fine flow or run id: it is sent in its canonical form
        assert uuid_segment(value, "run_id") == str(value)
    else:
        with pytest.raises(al.UsageError):
            uuid_segment(value, "run_id")


# ----------------------------------------------------------------------------- JSON bodies

python_values = st.recursive(
    json_scalars | st.floats() | st.binary(max_size=3) | st.just(object()) | st.sets(st.integers(), max_size=2),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=4) | st.integers() | st.tuples(st.integers()), children, max_size=3),
    max_leaves=10,
)


@FUZZ
@given(value=python_values)
def test_encode_json_gives_json_or_a_usage_error(value: Any) -> None:
    try:
        data = encode_json(value)
    except al.UsageError as e:
        assert "body" in str(e)
        return
    json.loads(data)


def test_encode_json_with_a_too_deep_body_is_a_usage_error() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(al.UsageError):
        encode_json({"x": deep})


# ------------------------------------------------------------------------- flow validation

FIELDS = [
    "Type", "Next", "End", "Comment", "ActionUrl", "Handler", "Parameters", "InputPath", "ResultPath",
    "Catch", "WaitTime", "RunAs", "ExceptionOnActionFailure", "ActionScope", "Result", "Seconds",
    "SecondsPath", "Timestamp", "TimestampPath", "Choices", "Default", "Error", "Cause", "Variable",
    "StringEquals", "NumericGreaterThan", "BooleanEquals", "IsPresent", "IsNull", "And", "Or", "Not",
    "ErrorEquals", "__Private_Parameters", "ErrorPath", "CausePath", "Url", "Id",
]
STATE_NAMES = ["A", "B", "C", "Copy files", "$weird"]
field_values = st.recursive(
    json_scalars
    | st.sampled_from(STATE_NAMES + list(STATE_TYPES) + ["Succeed", "$.x", "$$.ctx", "$._context", "https://a.example/x"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(FIELDS) | st.sampled_from(["x.$", "y.=", "z"]) | st.text(max_size=4), children, max_size=4),
    max_leaves=15,
)
states = st.fixed_dictionaries(
    {"Type": st.sampled_from([*STATE_TYPES, "Succeed", "Task", 1, None])},
    optional={f: field_values for f in FIELDS if f != "Type"},
)
definitions = st.fixed_dictionaries(
    {"StartAt": st.sampled_from(STATE_NAMES) | json_scalars, "States": st.dictionaries(st.sampled_from(STATE_NAMES), states, max_size=4)},
    optional={"Comment": json_scalars, "Version": json_scalars},
)
weird_definitions = definitions | json_values | python_values | st.dictionaries(st.sampled_from(["StartAt", "States"]), python_values)


def check_problems(definition: Any, *, check_untouched: bool = True) -> None:
    before = copy.deepcopy(definition) if check_untouched and not _has_unequal(definition) else None
    problems = flow_definition_problems(definition)
    assert isinstance(problems, list)
    for problem in problems:
        path, message = problem
        assert isinstance(path, str) and path.startswith("$")
        assert isinstance(message, str) and message
        assert problem.rule in RULES  # each problem names the rule it breaks
    assert flow_definition_problems(definition) == problems  # stable
    if before is not None:
        assert definition == before  # untouched
    try:
        validate_flow_definition(definition)
    except errors.FlowValidationError as e:
        assert e.problems == problems
        assert isinstance(e, al.UsageError)
        str(e)  # noqa: B018
    else:
        assert problems == []


def _has_unequal(value: Any) -> bool:
    """NaN and bare objects do not compare equal to their copies."""
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, dict):
        return any(_has_unequal(k) or _has_unequal(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_unequal(v) for v in value)
    return type(value) is object


@FUZZ
@given(definition=definitions)
def test_flow_validation_never_raises_on_definition_shaped_input(definition: Any) -> None:
    check_problems(definition)


@FUZZ
@given(definition=weird_definitions)
def test_flow_validation_never_raises_on_anything(definition: Any) -> None:
    check_problems(definition)


@example(depth=5000)
@FEW
@given(depth=st.integers(min_value=1, max_value=300))
def test_flow_validation_of_deep_definitions(depth: int) -> None:
    params: Any = {"x.$": "not a path"}
    rule: Any = {"Variable": "$.x", "BooleanEquals": True}
    for _ in range(depth):
        params = {"a": [params]}
        rule = {"Not": rule}
    rule["Next"] = "P"
    check_problems(
        {
            "StartAt": "C",
            "States": {
                "C": {"Type": "Choice", "Choices": [rule], "Default": "P"},
                "P": {"Type": "Pass", "Parameters": params, "End": True},
            },
        },
        check_untouched=False,  # (copying 5000 levels would hit the recursion limit in the test itself)
    )


@FUZZ
@given(
    st.text(
        st.sampled_from(list("abcXYZ019.-_~:@[]%\\/?#\t \r\n") + ["é", "\x00", "１", "²", "İ"]),
        max_size=30,
    )
)
@example("127.0.0.1:8080/x")
@example("a@127.0.0.1/")
@example("127.0.0.1\t.evil.example/")
def test_the_plain_http_host_is_what_urlsplit_says(rest: str) -> None:
    """The token guard's host reading (``_core.urls.split_url``) refuses what parsers
    could read differently, and otherwise never differs from ``urlsplit().hostname``."""
    from urllib.parse import urlsplit

    from automate_lite._core.http import _plain_http_host

    url = "http://" + rest
    try:
        expected: object = urlsplit(url).hostname
    except ValueError as e:
        expected = type(e)
    try:
        got: object = _plain_http_host(url)
    except ValueError as e:
        if isinstance(e, al.UsageError):
            return  # refused as ambiguous (issue 14): nothing is sent anywhere
        got = type(e)
    if isinstance(expected, str) and not expected.isascii():
        expected = expected.encode("idna").decode("ascii")  # the name the socket resolves
    assert got == expected
