"""The error tree and error_from_response; APIResponse; Request's repr."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automate_lite import (
    APIResponse,
    AuthenticationError,
    AutomateAPIError,
    AutomateError,
    ConflictError,
    FlowValidationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    Request,
    Response,
    ServerError,
    UnexpectedResponseError,
    UnprocessableEntityError,
    UsageError,
    WaitTimeout,
)
from automate_lite.errors import ConnectError, ConnectTimeout, ReadTimeout, RequestTimeout, TransportError, error_from_response


def err(body: Any, status: int = 400, headers: dict[str, str] | None = None) -> AutomateAPIError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_from_response(Response(status, headers or {}, raw), "GET", "https://x.example.org/p")


# ------------------------------------------------------------------------- shapes


def test_action_provider_shape() -> None:
    e = err({"code": "ActionNotFound", "description": "No action with id abc"}, 404)
    assert type(e) is NotFoundError
    assert e.http_status == 404 and e.code == "ActionNotFound"
    assert e.messages == ["No action with id abc"] and e.message == "No action with id abc"
    assert e.raw_json == {"code": "ActionNotFound", "description": "No action with id abc"}
    assert e.method == "GET" and e.url == "https://x.example.org/p"
    assert str(e) == "GET https://x.example.org/p -> 404 ActionNotFound: No action with id abc"
    assert not e.is_auth_requirements_error and not e.is_consent_required and e.required_scopes == []
    assert e.authorization_parameters is None


def test_detail_string() -> None:
    e = err({"detail": "Not authenticated"}, 401)
    assert type(e) is AuthenticationError
    assert e.code == "Error" and e.messages == ["Not authenticated"]


def test_detail_list_of_validation_errors() -> None:
    e = err(
        {
            "detail": [
                {"loc": ["body", "echo_string"], "msg": "field required", "type": "value_error.missing"},
                {"loc": "body", "msg": "extra fields not permitted", "type": "value_error.extra"},
                {"msg": "no loc"},
                "plain string",
            ]
        },
        422,
    )
    assert type(e) is UnprocessableEntityError
    assert e.messages == ["body.echo_string: field required", "body: extra fields not permitted", "no loc", "plain string"]


def test_flows_shape_string_detail() -> None:
    e = err(
        {"error": {"code": "STATE_CONFLICT", "detail": "The run is not ACTIVE", "message": "cannot cancel"}, "debug_id": "dbg-1"},
        409,
    )
    assert type(e) is ConflictError
    assert e.code == "STATE_CONFLICT"
    assert e.messages == ["The run is not ACTIVE", "cannot cancel"]
    assert e.request_id == "dbg-1"
    assert str(e).endswith("[request_id=dbg-1]")


def test_flows_shape_list_detail() -> None:
    e = err(
        {
            "error": {
                "code": "UNPROCESSABLE_ENTITY",
                "detail": [{"loc": ["definition", "StartAt"], "msg": "field required", "type": "value_error.missing"}],
                "message": "Invalid flow",
            }
        },
        422,
    )
    assert type(e) is UnprocessableEntityError
    assert e.code == "UNPROCESSABLE_ENTITY"
    assert e.messages == ["definition.StartAt: field required", "Invalid flow"]


def test_oauth_style_error() -> None:
    e = err({"error": "invalid_grant", "error_description": "refresh token expired"}, 400)
    assert type(e) is AutomateAPIError
    assert e.code == "invalid_grant" and e.messages == ["refresh token expired"]


def test_consent_required_auth_requirements_error() -> None:
    body = {
        "error": {"code": "MISSING_SCOPE", "detail": "more consent needed"},
        "code": "ConsentRequired",
        "authorization_parameters": {
            "session_message": "Please consent",
            "required_scopes": ["https://auth.globus.org/scopes/abc/data_access", "urn:globus:auth:scope:transfer.api.globus.org:all"],
        },
    }
    e = err(body, 403)
    assert type(e) is PermissionDeniedError
    assert e.code == "ConsentRequired"
    assert e.is_consent_required and e.is_auth_requirements_error
    assert e.required_scopes == body["authorization_parameters"]["required_scopes"]  # type: ignore[index]
    assert e.authorization_parameters == body["authorization_parameters"]
    assert "more consent needed" in e.messages and "Please consent" in e.messages


def test_session_policy_auth_requirements_error() -> None:
    body = {
        "code": "AuthenticationPolicyRequired",
        "description": "A high assurance session is required",
        "authorization_parameters": {
            "session_required_policies": ["pol-1"],
            "session_message": "Log in again",
        },
    }
    e = err(body, 403)
    assert type(e) is PermissionDeniedError
    assert e.code == "AuthenticationPolicyRequired"
    assert e.is_auth_requirements_error and not e.is_consent_required
    assert e.required_scopes == []
    assert e.authorization_parameters is not None
    assert e.authorization_parameters["session_required_policies"] == ["pol-1"]
    assert e.messages == ["A high assurance session is required", "Log in again"]


def test_auth_requirements_in_errors_list() -> None:
    body = {
        "errors": [
            {
                "code": "ConsentRequired",
                "message": "consent please",
                "authorization_parameters": {"required_scopes": ["scope-a"]},
            }
        ]
    }
    e = err(body, 403)
    assert e.code == "ConsentRequired" and e.messages == ["consent please"]
    assert e.required_scopes == ["scope-a"] and e.is_consent_required


def test_inactive_style_required_scope() -> None:
    e = err({"code": "ConsentRequired", "description": "consent", "required_scope": "https://auth.globus.org/scopes/x/y"}, 403)
    assert e.required_scopes == ["https://auth.globus.org/scopes/x/y"]
    assert e.is_consent_required and e.is_auth_requirements_error
    e = err({"code": "Forbidden", "details": {"code": "ConsentRequired", "required_scope": "s1"}}, 403)
    assert e.required_scopes == ["s1"]


def test_html_page() -> None:
    html = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    e = error_from_response(Response(502, {"content-type": "text/html"}, html))
    assert type(e) is ServerError
    assert e.code == "Error" and e.raw_json is None
    assert e.messages == [f"the server answered with an HTML page ({len(html)} bytes), not JSON"]
    assert e.text == html.decode()
    assert str(e).startswith("502 Error: ")  # no method given: no "METHOD url ->" prefix


def test_empty_body() -> None:
    e = error_from_response(Response(404, {}, b""))
    assert type(e) is NotFoundError
    assert e.messages == ["the server answered with an empty body"]
    assert error_from_response(Response(500, {}, b"  \n")).messages == ["the server answered with an empty body"]


def test_non_json_text() -> None:
    e = error_from_response(Response(400, {}, b"bad   request\nplease   fix"))
    assert e.messages == ["bad request please fix"]
    long = error_from_response(Response(400, {}, b"x" * 1000))
    assert len(long.message) == 200 and long.message.endswith("...")
    assert long.text == "x" * 1000


def test_json_that_is_not_an_object() -> None:
    assert err("just a string", 400).messages == ["just a string"]
    assert err(["a", "b"], 400).messages == ["a", "b"]
    assert err(42, 400).messages == ["42"]


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, AutomateAPIError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, AutomateAPIError),
        (409, ConflictError),
        (410, AutomateAPIError),
        (422, UnprocessableEntityError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (599, ServerError),
    ],
)
def test_status_to_class(status: int, cls: type[AutomateAPIError]) -> None:
    e = err({"code": "X"}, status)
    assert type(e) is cls
    assert isinstance(e, AutomateAPIError) and isinstance(e, AutomateError)


def test_request_id_from_body_or_header() -> None:
    assert err({"code": "X", "request_id": "body-rid"}, 400, {"x-request-id": "hdr"}).request_id == "body-rid"
    assert err({"code": "X"}, 400, {"x-request-id": "hdr-rid"}).request_id == "hdr-rid"
    assert err({"code": "X", "request_id": 5}, 400).request_id is None
    assert err(b"<html></html>", 500, {"x-request-id": "h"}).request_id == "h"


def test_error_keeps_response_facts() -> None:
    e = err({"code": "X"}, 429, {"retry-after": "3"})
    assert e.headers == {"retry-after": "3"}
    assert repr(e) == "RateLimitedError(http_status=429, code='X', messages=['the server answered 429 without an error message'])"
    assert str(e) == "GET https://x.example.org/p -> 429 X: the server answered 429 without an error message"
    assert e.args == (str(e),)


# --------------------------------------------------------------------- the tree


def test_usage_error_is_value_error() -> None:
    assert issubclass(UsageError, ValueError)
    with pytest.raises(ValueError):
        raise UsageError("bad")


def test_wait_timeout_is_timeout_error() -> None:
    e = WaitTimeout("took too long", last={"status": "ACTIVE"})
    assert isinstance(e, TimeoutError) and isinstance(e, AutomateError)
    assert e.last == {"status": "ACTIVE"} and str(e) == "took too long"
    assert WaitTimeout("x").last is None


def test_flow_validation_error() -> None:
    e = FlowValidationError([("$.StartAt", "missing"), ("$.States.A.Next", "no state 'B'")])
    assert isinstance(e, UsageError) and isinstance(e, ValueError)
    assert e.problems == [("$.StartAt", "missing"), ("$.States.A.Next", "no state 'B'")]
    assert str(e) == "the flow definition has 2 problems:\n  $.StartAt: missing\n  $.States.A.Next: no state 'B'"
    assert str(FlowValidationError([("$", "x")])).startswith("the flow definition has 1 problem:")


def test_transport_error_tree() -> None:
    assert ConnectError("x").not_sent and ConnectTimeout("x").not_sent
    assert not ReadTimeout("x").not_sent
    assert issubclass(ConnectTimeout, RequestTimeout) and issubclass(ConnectTimeout, ConnectError)
    assert issubclass(ReadTimeout, TransportError) and not issubclass(TransportError, AutomateAPIError)
    e = ReadTimeout("slow", method="GET", url="https://h/p", attempts=2)
    assert str(e) == "GET https://h/p: slow (after 2 attempts)"
    assert str(ReadTimeout("slow")) == "slow"


# ------------------------------------------------------------------- APIResponse


def test_api_response_mapping_access() -> None:
    r = APIResponse.from_response(Response(201, {"x-a": "1"}, b'{"status": "ACTIVE", "n": null}'))
    assert r["status"] == "ACTIVE" and r.get("n") is None and r.get("missing", 7) == 7
    assert dict(r) == {"status": "ACTIVE", "n": None}
    assert "status" in r and len(r) == 2 and list(r) == ["status", "n"]
    assert r.http_status == 201 and r.headers == {"x-a": "1"}
    assert r == {"status": "ACTIVE", "n": None}
    assert r.text == '{"status": "ACTIVE", "n": null}'
    with pytest.raises(KeyError):
        r["missing"]


def test_api_response_list_and_empty() -> None:
    r = APIResponse.from_response(Response(200, {}, b"[1, 2]"))
    assert r.data == [1, 2] and len(r) == 0 and r.get("x") is None
    with pytest.raises(KeyError):
        r["x"]
    empty = APIResponse.from_response(Response(204, {}, b""))
    assert empty.data is None and empty.http_status == 204 and dict(empty) == {}


def test_api_response_non_json_success() -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        APIResponse.from_response(
            Response(200, {"content-type": "text/html"}, b"<html>login page</html>"), "GET", "https://h/p"
        )
    e = info.value
    assert isinstance(e, AutomateAPIError)
    assert e.http_status == 200 and e.code == "UnexpectedResponse"
    assert e.text == "<html>login page</html>"
    assert "expected a JSON body but got 23 bytes of text/html" in str(e)
    assert str(e).startswith("GET https://h/p -> 200")


def test_request_repr_hides_the_token() -> None:
    req = Request("GET", "https://h/p", {"authorization": "Bearer SECRET-TOKEN", "Accept": "application/json"}, b"{}")
    text = repr(req)
    assert "SECRET-TOKEN" not in text and "SECRET-TOKEN" not in str(req)
    assert "***" in text and "application/json" in text and "<2 bytes>" in text
    assert "SECRET" not in repr(Request("GET", "u", {"Authorization": "Bearer SECRET"}))
    assert req.headers["authorization"] == "Bearer SECRET-TOKEN"  # the value itself is intact


def test_response_repr_and_text() -> None:
    r = Response(200, {"a": "b"}, b"\xff\xfeok")
    assert repr(r) == "Response(status=200, headers=<1>, body=<4 bytes>)"
    assert r.text == "\ufffd\ufffdok"
    with pytest.raises(ValueError):
        r.json()


# -------------------------------------------------------------------- hypothesis


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=300),
    status=st.integers(400, 599),
    headers=st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=5),
)
def test_any_bytes_body_gives_an_error(body: bytes, status: int, headers: dict[str, str]) -> None:
    e = error_from_response(Response(status, headers, body), "POST", "https://h/p")
    assert isinstance(e, AutomateAPIError) and e.http_status == status
    assert str(e) and repr(e) and isinstance(e.messages, list) and e.messages
    e.required_scopes, e.is_consent_required, e.is_auth_requirements_error


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)

# Bodies shaped like the services' errors, with arbitrary values in every slot.
error_keys = st.sampled_from(
    ["code", "description", "detail", "message", "error", "errors", "error_description", "request_id",
     "debug_id", "authorization_parameters", "required_scope", "details", "loc", "msg", "required_scopes"]
)
shaped = st.recursive(
    json_values,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(error_keys, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(json_values, shaped), status=st.integers(400, 599))
def test_any_json_body_gives_an_error(value: Any, status: int) -> None:
    e = error_from_response(Response(status, {}, json.dumps(value).encode()))
    assert isinstance(e, AutomateAPIError) and e.http_status == status
    assert e.raw_json == value
    assert str(e) and isinstance(e.code, str)
    assert isinstance(e.required_scopes, list)
    e.is_consent_required, e.is_auth_requirements_error


def test_deeply_nested_json_body() -> None:
    for depth in (50, 900, 5000):
        body = ('{"detail":' + "[" * depth + '"x"' + "]" * depth + "}").encode()
        e = error_from_response(Response(400, {}, body))
        assert isinstance(e, AutomateAPIError) and str(e)


def test_errors_pickle_and_copy() -> None:
    api = err({"code": "ConsentRequired", "authorization_parameters": {"required_scopes": ["s"]}}, 403, {"x-request-id": "r"})
    last = APIResponse.from_response(Response(200, {}, b'{"status": "ACTIVE"}'))
    for original in (
        api,
        error_from_response(Response(500, {}, b"<html></html>")),
        UnexpectedResponseError(200, "UnexpectedResponse", ["not JSON"], text="<html>"),
        FlowValidationError([("$.StartAt", "missing")]),
        WaitTimeout("too long", last=last),
        ReadTimeout("slow", method="GET", url="https://h/p", attempts=3),
        UsageError("bad"),
    ):
        for clone in (pickle.loads(pickle.dumps(original)), copy.copy(original)):
            assert type(clone) is type(original)
            assert str(clone) == str(original) and clone.args == original.args
            assert vars(clone) == vars(original)
    clone = pickle.loads(pickle.dumps(api))
    assert isinstance(clone, PermissionDeniedError)
    assert clone.required_scopes == ["s"] and clone.request_id == "r" and clone.is_consent_required
