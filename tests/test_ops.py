"""The sans-IO core, stepped by hand: requests built, retries, 401 handling, routes,
paging, polling, and the two drivers."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import threading
import time
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

import globus_sdk
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automate_lite import (
    APIResponse,
    ActionClient,
    ActionOps,
    AuthenticationError,
    BearerTokenAuthorizer,
    ConnectError,
    ConnectionLostError,
    ConnectTimeout,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ReadTimeout,
    RetryPolicy,
    ServerError,
    Session,
    TLSError,
    UsageError,
    WaitTimeout,
    run_async,
    run_sync,
)
from automate_lite._core.config import USER_AGENT
from automate_lite._core.http import (
    MISSING,
    NO_RETRY,
    _is_blocking,
    encode_query,
    is_loopback_host,
    json_op,
    path_segment,
    request_op,
)
from automate_lite._core.ops import Op
from automate_lite._core.paging import Pager, check_poll_args, poll_op
from automate_lite._core.values import Call, Request, Response, Sleep

BASE = "https://actions.example.org/hello"


# --------------------------------------------------------------------------- helpers


def resp(data: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = b"" if data is None else json.dumps(data).encode()
    return Response(status, headers or {}, body)


def pump(op: Op[Any], value: Any = None, throw: BaseException | None = None) -> Any:
    """Send ``value`` (or throw) into ``op``, run any ``Call`` inline, return the next
    Request or Sleep."""
    instr = op.throw(throw) if throw is not None else op.send(value)
    while isinstance(instr, Call):
        instr = op.send(instr.fn())
    return instr


def finish(op: Op[Any], value: Any) -> Any:
    """Send ``value`` and expect the operation to return; give back what it returned."""
    with pytest.raises(StopIteration) as stop:
        op.send(value)
    return stop.value.value


class RefreshingAuthorizer:
    """A token that changes when the service answers 401 (like a refresh token would)."""

    def __init__(self, tokens: Iterable[str] = ("old", "new"), renew: bool = True) -> None:
        self.tokens = list(tokens)
        self.renew = renew
        self.handled = 0
        self.threads: list[int] = []

    def get_authorization_header(self) -> str:
        self.threads.append(threading.get_ident())
        return "Bearer " + self.tokens[0]

    def handle_missing_authorization(self) -> bool:
        self.handled += 1
        if self.renew and len(self.tokens) > 1:
            self.tokens.pop(0)
            return True
        return False


class FakeSync:
    """A sync transport answering from a script of Responses or TransportErrors."""

    def __init__(self, *script: Response | Exception | Callable[[Request], Response]) -> None:
        self.script = list(script)
        self.requests: list[Request] = []
        self.timeouts: list[float | None] = []

    def send(self, request: Request, timeout: float | None) -> Response:
        self.requests.append(request)
        self.timeouts.append(timeout)
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        if callable(item):
            return item(request)
        return item


_real_async_sleep = asyncio.sleep  # the `slept` fixture replaces asyncio.sleep


class FakeAsync(FakeSync):
    async def send(self, request: Request, timeout: float | None) -> Response:  # type: ignore[override]
        await _real_async_sleep(0)
        return FakeSync.send(self, request, timeout)


def session(**kw: Any) -> Session:
    kw.setdefault("base_url", BASE)
    return Session(**kw)


# ------------------------------------------------------------------ request building


def test_get_request_shape_and_query_encoding() -> None:
    op = json_op(
        session(headers={"Accept": "application/json"}),
        "GET",
        "/things",
        query={"a": "x y&z", "b": MISSING, "c": None, "d": True, "e": False, "f": 3, "g": ["p", "q"], "h": "1,2"},
    )
    req = next(op)
    assert isinstance(req, Request)
    assert req.method == "GET"
    assert req.url == BASE + "/things?a=x%20y%26z&d=true&e=false&f=3&g=p&g=q&h=1,2"
    assert req.body is None
    assert dict(req.headers) == {"Accept": "application/json"}  # no Content-Type without a body
    result = finish(op, resp({"ok": 1}))
    assert isinstance(result, APIResponse)
    assert result.data == {"ok": 1} and result["ok"] == 1 and result.http_status == 200


def test_empty_query_leaves_url_alone() -> None:
    assert next(request_op(session(), "GET", "/x", query={"a": None})).url == BASE + "/x"
    assert next(request_op(session(), "GET", "/x", query=[])).url == BASE + "/x"


def test_bad_query_value_is_usage_error() -> None:
    with pytest.raises(UsageError, match="'q'"):
        encode_query({"q": {"nested": 1}})
    with pytest.raises(UsageError, match="'q'"):
        encode_query({"q": "\udc80"})


def test_json_body_sets_content_type_and_keeps_explicit_null() -> None:
    op = json_op(session(), "PUT", "/x", json_body={"label": None, "tags": [], "s": "é"})
    req = next(op)
    assert req.method == "PUT"
    assert req.headers["Content-Type"] == "application/json"
    assert json.loads(req.body or b"") == {"label": None, "tags": [], "s": "é"}
    assert finish(op, resp(None, 204)).data is None


def test_missing_json_body_sends_no_body() -> None:
    req = next(json_op(session(), "POST", "/x", json_body=MISSING))
    assert req.body is None and "Content-Type" not in req.headers


def test_unserialisable_body_is_usage_error() -> None:
    with pytest.raises(UsageError, match="JSON"):
        next(json_op(session(), "POST", "/x", json_body={"n": float("nan")}))
    with pytest.raises(UsageError, match="JSON"):
        next(json_op(session(), "POST", "/x", json_body={"o": object()}))


def test_a_blocking_authorizer_is_left_to_the_driver() -> None:
    auth = RefreshingAuthorizer()  # may block: a refresh could go over the network
    op = json_op(session(authorizer=auth), "GET", "/x")
    call = next(op)
    assert isinstance(call, Call) and call.blocking is True
    req = op.send(call.fn())
    assert isinstance(req, Request) and req.headers["Authorization"].startswith("Bearer ")
    op.close()


def test_client_ops_send_user_agent_and_authorization() -> None:
    client = ActionClient(BASE, BearerTokenAuthorizer("tok-1"), transport=FakeSync())
    op = client.ops.status("abc")
    req = next(op)  # BearerTokenAuthorizer answers from memory: called inline, no Call
    assert isinstance(req, Request)
    assert req.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("automate-lite/")
    assert req.headers["Accept"] == "application/json"
    assert req.headers["Authorization"] == "Bearer tok-1"
    assert "Content-Type" not in req.headers


def test_authorization_comes_from_the_call_result() -> None:
    auth = RefreshingAuthorizer(["from-fn"])
    op = request_op(session(authorizer=auth), "GET", "/x")
    call = next(op)
    assert isinstance(call, Call) and call.blocking is True  # unknown authorizers may do I/O
    assert call.fn() == "Bearer from-fn"
    req = op.send("Bearer what-the-driver-got")
    assert req.headers["Authorization"] == "Bearer what-the-driver-got"


def test_no_authorization_header_when_authorizer_gives_none() -> None:
    op = request_op(session(authorizer=RefreshingAuthorizer()), "GET", "/x")
    next(op)
    req = op.send(None)
    assert "Authorization" not in req.headers


def test_per_call_authorizer_overrides_session() -> None:
    op = request_op(session(authorizer=RefreshingAuthorizer(["a"])), "GET", "/x", authorizer=RefreshingAuthorizer(["b"]))
    assert pump(op, None).headers["Authorization"] == "Bearer b"
    op = request_op(session(authorizer=RefreshingAuthorizer(["a"])), "GET", "/x", authorizer=None)
    req = next(op)
    assert isinstance(req, Request) and "Authorization" not in req.headers


def test_requests_are_snapshots_across_a_token_refresh() -> None:
    # A Request is a frozen value: what a transport (or a log) kept of the first try
    # must not change when the retry carries a new token.
    auth = RefreshingAuthorizer()
    op = request_op(session(authorizer=auth), "GET", "/x")
    first = pump(op)
    assert first.headers["Authorization"] == "Bearer old"
    second = pump(op, resp({}, 401))
    assert second.headers["Authorization"] == "Bearer new"
    assert first.headers["Authorization"] == "Bearer old"


@pytest.mark.parametrize(
    "url",
    ["http://example.org/p", "HTTP://example.org/p", "http://127.evil.example/p", "http://10.0.0.1/p", "http://localhost.example.org/p"],
)
def test_bearer_token_over_plain_http_is_refused(url: str) -> None:
    op = request_op(Session(url, authorizer=BearerTokenAuthorizer("t")), "GET", "/x")
    with pytest.raises(UsageError, match="allow_insecure_http"):
        next(op)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80", "http://api.localhost"])
def test_bearer_token_over_http_to_loopback_is_fine(url: str) -> None:
    op = request_op(Session(url, authorizer=BearerTokenAuthorizer("t")), "GET", "/x")
    assert isinstance(pump(op), Request)


def test_plain_http_allowed_when_asked_or_without_token() -> None:
    op = request_op(Session("http://example.org", authorizer=BearerTokenAuthorizer("t"), allow_insecure_http=True), "GET", "/x")
    assert pump(op).headers["Authorization"] == "Bearer t"
    assert next(request_op(Session("http://example.org"), "GET", "/x")).url == "http://example.org/x"


def test_is_loopback_host() -> None:
    for host in ("localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "a.localhost"):
        assert is_loopback_host(host), host
    for host in (None, "", "example.org", "127.example.org", "127.0.0.1.example.org", "1270.0.0.1", "localhost.example.org", "10.0.0.1"):
        assert not is_loopback_host(host), host


def test_path_segment_refuses_what_cannot_be_one_segment() -> None:
    for bad in ("", ".", "..", 5, None):
        with pytest.raises(UsageError, match="action_id"):
            path_segment(bad, "action_id")
    with pytest.raises(UsageError, match="action_id"):
        path_segment("\ud800", "action_id")  # a lone surrogate cannot be UTF-8 encoded
    assert path_segment("a/b?c#d e%", "x") == "a%2Fb%3Fc%23d%20e%25"


# ------------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retried_statuses(status: int) -> None:
    op = json_op(session(), "GET", "/x")
    first = next(op)
    sleep = op.send(resp({"code": "Busy"}, status))
    assert isinstance(sleep, Sleep)
    again = op.send(None)
    assert isinstance(again, Request) and again.url == first.url and again.method == "GET"
    assert finish(op, resp({"done": True})).data == {"done": True}


@pytest.mark.parametrize("status", [400, 404, 500, 501])
def test_other_errors_are_not_retried(status: int) -> None:
    op = json_op(session(), "GET", "/x")
    next(op)
    with pytest.raises(Exception) as info:
        op.send(resp({"code": "Nope", "description": "no"}, status))
    assert getattr(info.value, "http_status") == status
    assert "attempts" not in str(info.value)


def test_backoff_bounds() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_base=1.0, backoff_max=3.0)
    bounds = {1: (0.5, 1.0), 2: (1.0, 2.0), 3: (1.5, 3.0), 4: (1.5, 3.0), 10: (1.5, 3.0)}
    for attempt, (lo, hi) in bounds.items():
        for _ in range(200):
            assert lo <= policy.backoff(attempt) <= hi


def test_sleeps_follow_backoff_and_give_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_base=1.0, backoff_max=3.0)
    op = json_op(session(retry=policy), "GET", "/x")
    next(op)
    sleeps = []
    for _ in range(4):
        sleep = op.send(resp({"code": "Unavailable"}, 503))
        assert isinstance(sleep, Sleep)
        sleeps.append(sleep.seconds)
        assert isinstance(op.send(None), Request)
    with pytest.raises(ServerError) as info:
        op.send(resp({"code": "Unavailable", "description": "down"}, 503))
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0
    assert all(1.5 <= s <= 3.0 for s in sleeps[2:])
    assert "gave up after 5 attempts" in str(info.value)
    assert "gave up after 5 attempts" in info.value.args[0]
    assert info.value.http_status == 503 and info.value.code == "Unavailable"


def _retry_after(value: str, policy: RetryPolicy = RetryPolicy()) -> float:
    op = json_op(session(retry=policy), "GET", "/x")
    next(op)
    sleep = op.send(resp({}, 503, {"retry-after": value}))
    assert isinstance(sleep, Sleep)
    return sleep.seconds


def test_retry_after_seconds_is_honoured_and_capped() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after(" 2.5 ") == 2.5
    assert _retry_after("0") == 0.0
    assert _retry_after("-3") == 0.0
    assert _retry_after("120") == 60.0
    assert _retry_after("120", RetryPolicy(retry_after_max=5)) == 5.0


def test_retry_after_http_date() -> None:
    now = dt.datetime.now(dt.timezone.utc)
    soon = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert 25 <= _retry_after(soon) <= 30
    later = email.utils.format_datetime(now + dt.timedelta(hours=2), usegmt=True)
    assert _retry_after(later) == 60.0
    past = email.utils.format_datetime(now - dt.timedelta(hours=2), usegmt=True)
    assert _retry_after(past) == 0.0


@pytest.mark.parametrize("junk", ["soon", "nan", "Mon, 99 Foo 2020", ""])
def test_unusable_retry_after_falls_back_to_backoff(junk: str) -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=1.0)
    assert 0.5 <= _retry_after(junk, policy) <= 1.0


def test_post_not_retried_on_503_unless_safe() -> None:
    op = json_op(session(), "POST", "/x", json_body={})
    next(op)
    with pytest.raises(ServerError) as info:
        op.send(resp({"code": "Unavailable"}, 503))
    assert "attempts" not in str(info.value)

    op = json_op(session(), "POST", "/x", json_body={}, safe_to_retry=True)
    next(op)
    assert isinstance(op.send(resp({}, 503)), Sleep)


def test_post_is_retried_on_429() -> None:
    # 429 means the request was not processed: repeating it cannot do the work twice.
    op = json_op(session(), "POST", "/x", json_body={})
    next(op)
    assert op.send(resp({}, 429, {"retry-after": "1"})) == Sleep(1.0)
    assert isinstance(op.send(None), Request)
    with pytest.raises(RateLimitedError):
        for _ in range(3):
            op.send(resp({}, 429, {"retry-after": "1"}))
            op.send(None)


@pytest.mark.parametrize("exc", [ConnectError("refused"), ConnectTimeout("slow"), TLSError("handshake")])
def test_post_retried_when_nothing_was_sent(exc: Exception) -> None:
    op = json_op(session(), "POST", "/x", json_body={"a": 1})
    first = next(op)
    sleep = op.throw(exc)
    assert isinstance(sleep, Sleep)
    second = op.send(None)
    assert isinstance(second, Request) and second.body == first.body
    assert finish(op, resp({"ok": True}))["ok"] is True


@pytest.mark.parametrize("exc_type", [ConnectionLostError, ReadTimeout])
def test_non_safe_post_not_retried_after_the_request_went_out(exc_type: type[Exception]) -> None:
    op = json_op(session(), "POST", "/x", json_body={})
    next(op)
    exc = exc_type("the connection was lost")
    with pytest.raises(exc_type) as info:
        op.throw(exc)
    err: Any = info.value
    assert err is exc
    assert err.method == "POST" and err.url == BASE + "/x" and err.attempts == 1
    assert str(err) == f"POST {BASE}/x: the connection was lost"


@pytest.mark.parametrize("exc_type", [ConnectionLostError, ReadTimeout])
def test_safe_requests_retried_after_the_request_went_out(exc_type: type[Exception]) -> None:
    for op in (json_op(session(), "GET", "/x"), json_op(session(), "POST", "/x", safe_to_retry=True)):
        next(op)
        assert isinstance(op.throw(exc_type("lost")), Sleep)
        assert isinstance(op.send(None), Request)


def test_transport_errors_give_up_after_max_attempts() -> None:
    op = json_op(session(retry=RetryPolicy(max_attempts=3)), "GET", "/x")
    next(op)
    for _ in range(2):
        assert isinstance(op.throw(ReadTimeout("no answer")), Sleep)
        assert isinstance(op.send(None), Request)
    with pytest.raises(ReadTimeout) as info:
        op.throw(ReadTimeout("no answer"))
    assert info.value.attempts == 3
    assert str(info.value).endswith("no answer (after 3 attempts)")


def test_no_retry_policy() -> None:
    op = json_op(session(retry=NO_RETRY), "GET", "/x")
    next(op)
    with pytest.raises(ServerError):
        op.send(resp({}, 503))
    op = json_op(session(retry=NO_RETRY), "GET", "/x")
    next(op)
    with pytest.raises(ConnectError):
        op.throw(ConnectError("refused"))


@pytest.mark.parametrize(
    "kw",
    [{"max_attempts": 0}, {"max_attempts": 1.5}, {"backoff_base": -1}, {"backoff_max": "1"}, {"retry_after_max": -0.1}],
)
def test_retry_policy_checks_its_arguments(kw: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="RetryPolicy"):
        RetryPolicy(**kw)


# ------------------------------------------------------------------------------ 401


def test_401_refreshes_and_retries_once() -> None:
    auth = RefreshingAuthorizer()
    op = json_op(session(authorizer=auth), "GET", "/x")
    call = next(op)
    assert isinstance(call, Call) and call.blocking  # get_authorization_header, checked (see auth.authorization_value)
    first = op.send(call.fn())
    assert first.headers["Authorization"] == "Bearer old"
    handle = op.send(resp({"code": "AuthenticationFailed"}, 401))
    assert isinstance(handle, Call) and handle.fn == auth.handle_missing_authorization
    again = op.send(handle.fn())
    assert isinstance(again, Call) and again.blocking
    second = op.send(again.fn())
    assert second.headers["Authorization"] == "Bearer new"
    assert finish(op, resp({"ok": 1}))["ok"] == 1
    assert auth.handled == 1


def test_401_twice_gives_up() -> None:
    auth = RefreshingAuthorizer(["a", "b", "c"])
    op = json_op(session(authorizer=auth), "GET", "/x")
    pump(op)
    assert isinstance(pump(op, resp({}, 401)), Request)
    with pytest.raises(AuthenticationError) as info:
        pump(op, resp({"code": "AuthenticationFailed", "description": "bad token"}, 401))
    assert auth.handled == 1
    assert info.value.code == "AuthenticationFailed"


def test_401_not_retried_when_authorizer_cannot_help() -> None:
    auth = RefreshingAuthorizer(renew=False)
    op = json_op(session(authorizer=auth), "GET", "/x")
    pump(op)
    with pytest.raises(AuthenticationError):
        pump(op, resp({}, 401))
    assert auth.handled == 1


def test_401_without_authorizer() -> None:
    op = json_op(session(), "GET", "/x")
    next(op)
    with pytest.raises(AuthenticationError):
        op.send(resp({}, 401))


def test_token_refresh_is_not_a_failed_attempt() -> None:
    op = json_op(session(authorizer=RefreshingAuthorizer(), retry=NO_RETRY), "GET", "/x")
    pump(op)
    assert pump(op, resp({}, 401)).headers["Authorization"] == "Bearer new"
    assert finish(op, resp({"ok": 1}))["ok"] == 1


CONSENT = {
    "code": "ConsentRequired",
    "description": "more consent needed",
    "authorization_parameters": {"required_scopes": ["scope-a"]},
}


class RequirementsHandler:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.errors: list[Any] = []

    def __call__(self, error: Any) -> bool:
        self.errors.append(error)
        return self.answer


def test_auth_requirements_handler_retries_once() -> None:
    handler = RequirementsHandler(True)
    op = json_op(session(auth_requirements_handler=handler, retry=NO_RETRY), "POST", "/x", json_body={})
    first = next(op)
    call = op.send(resp(CONSENT, 403))
    assert isinstance(call, Call) and call.blocking is True  # a login may block
    again = op.send(call.fn())
    assert isinstance(again, Request) and again.body == first.body
    assert finish(op, resp({"ok": 1}))["ok"] == 1
    (error,) = handler.errors
    assert error.required_scopes == ["scope-a"] and error.http_status == 403


def test_auth_requirements_handler_only_once_and_only_for_requirements() -> None:
    handler = RequirementsHandler(True)
    op = json_op(session(auth_requirements_handler=handler), "GET", "/x")
    next(op)
    assert isinstance(pump(op, resp(CONSENT, 403)), Request)
    with pytest.raises(PermissionDeniedError) as info:
        pump(op, resp(CONSENT, 403))
    assert info.value.is_consent_required and len(handler.errors) == 1

    op = json_op(session(auth_requirements_handler=handler), "GET", "/x")
    next(op)
    with pytest.raises(PermissionDeniedError):
        op.send(resp({"code": "Forbidden", "description": "no"}, 403))
    assert len(handler.errors) == 1

    declining = RequirementsHandler(False)
    op = json_op(session(auth_requirements_handler=declining), "GET", "/x")
    next(op)
    with pytest.raises(PermissionDeniedError):
        pump(op, resp(CONSENT, 403))
    assert len(declining.errors) == 1


# ------------------------------------------------------------------ ActionOps routes

ROUTES: dict[str, dict[str, tuple[str, str]]] = {
    "legacy": {
        "introspect": ("GET", "/"),
        "run": ("POST", "/run"),
        "status": ("GET", "/a1/status"),
        "cancel": ("POST", "/a1/cancel"),
        "release": ("POST", "/a1/release"),
        "resume": ("POST", "/a1/resume"),
        "log": ("GET", "/a1/log?limit=10"),
        "list_actions": ("GET", "/actions"),
    },
    "actions": {
        "introspect": ("GET", "/"),
        "run": ("POST", "/actions"),
        "status": ("GET", "/actions/a1"),
        "cancel": ("POST", "/actions/a1/cancel"),
        "release": ("DELETE", "/actions/a1"),
        "resume": ("POST", "/actions/a1/resume"),
        "log": ("GET", "/actions/a1/log?limit=10"),
        "list_actions": ("GET", "/actions"),
    },
}


def _build(ops: ActionOps, name: str) -> Op[APIResponse]:
    if name in ("introspect", "list_actions"):
        return getattr(ops, name)()  # type: ignore[no-any-return]
    if name == "run":
        return ops.run({"x": 1})
    return getattr(ops, name)("a1")  # type: ignore[no-any-return]


@pytest.mark.parametrize("routes", ["legacy", "actions"])
@pytest.mark.parametrize("name", list(ROUTES["legacy"]))
def test_action_routes(routes: Any, name: str) -> None:
    ops = ActionOps(session(), routes)
    method, path = ROUTES[routes][name]
    op = _build(ops, name)
    req = next(op)
    assert (req.method, req.url) == (method, BASE + path)
    assert (req.body is not None) == (name == "run")
    result = finish(op, resp([{"action_id": "a1"}] if name == "list_actions" else {"action_id": "a1"}))
    assert isinstance(result, APIResponse)


def _run_body(op: Op[APIResponse]) -> dict[str, Any]:
    req = next(op)
    assert req.headers["Content-Type"] == "application/json"
    return json.loads(req.body or b"")  # type: ignore[no-any-return]


def test_run_body_defaults() -> None:
    ops = ActionOps(session())
    first = _run_body(ops.run({"echo": "hi"}))
    second = _run_body(ops.run({"echo": "hi"}))
    assert set(first) == {"request_id", "body"}  # what was not given is left out
    assert first["body"] == {"echo": "hi"}
    assert uuid.UUID(first["request_id"]).version == 4
    assert first["request_id"] != second["request_id"]


def test_run_body_with_everything() -> None:
    doc = _run_body(
        ActionOps(session()).run(
            {"a": [1, None]},
            request_id="req-1",
            manage_by=["urn:m1"],
            run_managers=["urn:m2", "urn:m1"],
            run_monitors=("urn:v1",),
            label="my label",
            tags=["t1"],
            release_after="P30D",
        )
    )
    assert doc == {
        "request_id": "req-1",
        "body": {"a": [1, None]},
        "label": "my label",
        "tags": ["t1"],
        "manage_by": ["urn:m1", "urn:m2"],
        "monitor_by": ["urn:v1"],
        "release_after": "P30D",
    }


def test_run_argument_errors() -> None:
    ops = ActionOps(session())
    with pytest.raises(TypeError, match="bogus"):  # a misspelt keyword: as for any function (and mypy)
        ops.run({}, bogus=1)  # type: ignore[call-arg]
    with pytest.raises(UsageError, match="body"):
        ops.run(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="manage_by"):
        ops.run({}, manage_by="urn:one")  # a bare string is not a list
    with pytest.raises(UsageError, match="request_id"):
        ops.run({}, request_id="")


def test_run_is_safe_to_retry() -> None:
    op = ActionOps(session()).run({})
    first = next(op)
    assert isinstance(op.send(resp({}, 503)), Sleep)
    second = op.send(None)
    assert second.body == first.body  # the same request_id: the provider sees one action


@pytest.mark.parametrize("force_path", ["custom/run", "/custom/run", "//custom/run"])
def test_run_force_path_relative(force_path: str) -> None:
    op = ActionOps(session(), "actions").run({}, force_path=force_path)
    req = next(op)
    assert (req.method, req.url) == ("POST", BASE + "/custom/run")
    assert finish(op, resp({"action_id": "z"}))["action_id"] == "z"


def test_run_force_path_absolute() -> None:
    op = ActionOps(session()).run({}, force_path="https://other.example.org/x/run")
    assert next(op).url == "https://other.example.org/x/run"
    with pytest.raises(UsageError, match="force_path"):
        ActionOps(session()).run({}, force_path="https://other.example.org/x?y=1")


@pytest.mark.parametrize(
    "routes,kwargs,query",
    [
        ("legacy", {}, [("limit", "10")]),
        ("legacy", {"reverse_order": False}, [("limit", "10")]),
        ("legacy", {"reverse_order": True, "limit": 3}, [("limit", "3"), ("reverse_order", "true")]),
        ("legacy", {"marker": "m 1", "per_page": 5}, [("limit", "10"), ("pagination_token", "m 1")]),
        ("legacy", {"per_page": 5}, [("limit", "10"), ("per_page", "5")]),
        ("actions", {"marker": "m1", "per_page": 5}, [("limit", "10"), ("marker", "m1")]),
        ("actions", {"per_page": 5, "reverse_order": True}, [("limit", "10"), ("reverse_order", "true"), ("per_page", "5")]),
    ],
)
def test_log_params(routes: Any, kwargs: dict[str, Any], query: list[tuple[str, str]]) -> None:
    req = next(ActionOps(session(), routes).log("a1", **kwargs))
    parts = urlsplit(req.url)
    assert parts.path.endswith("/log")
    assert parse_qsl(parts.query) == query


@pytest.mark.parametrize("kwargs", [{"limit": 0}, {"limit": True}, {"per_page": 0}, {"marker": 5}])
def test_log_argument_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        ActionOps(session()).log("a1", **kwargs)


def test_list_actions_query_and_bare_list() -> None:
    op = ActionOps(session(), "actions").list_actions(statuses=["ACTIVE", "SUCCEEDED"], roles=["creator_id"])
    req = next(op)
    assert req.url == BASE + "/actions?status=ACTIVE,SUCCEEDED&roles=creator_id"
    result = finish(op, resp([{"action_id": "a"}, {"action_id": "b"}]))
    assert result.data == [{"action_id": "a"}, {"action_id": "b"}]
    assert "action_id" not in result  # a list is no mapping, but iterating yields the actions
    assert [a["action_id"] for a in result] == ["a", "b"] and len(result) == 2


# ---------------------------------------------------------------------------- paging


def _paged(pages: dict[str | None, Any]) -> tuple[Pager, list[str | None]]:
    asked: list[str | None] = []

    def page_op(marker: str | None) -> Op[APIResponse]:
        asked.append(marker)
        response = yield Request("GET", BASE + f"/page?m={marker}", {})
        return APIResponse.from_response(response)

    def serve(marker: str | None) -> Response:
        return resp(pages[marker])

    pager = Pager(page_op, "entries")
    pager._serve = serve  # type: ignore[attr-defined]
    return pager, asked


def _walk(pager: Pager) -> list[Any]:
    items: list[Any] = []
    while not pager.done:
        op = pager.next_page()
        req = next(op)
        marker = req.url.rsplit("m=", 1)[1]
        page = finish(op, pager._serve(None if marker == "None" else marker))  # type: ignore[attr-defined]
        items.extend(pager.items(page))
    return items


def test_pager_follows_has_next_page() -> None:
    pager, asked = _paged(
        {
            None: {"entries": [1, 2], "has_next_page": True, "marker": "m1"},
            "m1": {"entries": [3], "has_next_page": True, "marker": "m2"},
            "m2": {"entries": [4], "has_next_page": False, "marker": "m3"},
        }
    )
    assert _walk(pager) == [1, 2, 3, 4]
    assert asked == [None, "m1", "m2"]
    with pytest.raises(UsageError):
        next(pager.next_page())


def test_pager_without_has_next_page_stops_on_null_marker() -> None:
    pager, asked = _paged(
        {
            None: {"entries": [1], "marker": "m1"},
            "m1": {"entries": [2], "marker": None},
        }
    )
    assert _walk(pager) == [1, 2]
    assert asked == [None, "m1"]


def test_pager_has_next_page_without_marker_stops() -> None:
    pager, asked = _paged({None: {"entries": [1], "has_next_page": True, "marker": None}})
    assert _walk(pager) == [1]
    assert asked == [None]


def test_pager_stops_on_repeated_marker() -> None:
    pager, asked = _paged(
        {
            None: {"entries": [1], "has_next_page": True, "marker": "m1"},
            "m1": {"entries": [2], "has_next_page": True, "marker": "m2"},
            "m2": {"entries": [3], "has_next_page": True, "marker": "m1"},
        }
    )
    assert _walk(pager) == [1, 2, 3]
    assert asked == [None, "m1", "m2"]


def test_pager_bare_list_and_odd_pages() -> None:
    pager, asked = _paged({None: [{"a": 1}, {"a": 2}]})
    assert _walk(pager) == [{"a": 1}, {"a": 2}]
    pager, asked = _paged({None: {"entries": "not a list", "marker": None}})
    assert _walk(pager) == []
    pager, asked = _paged({None: None})
    assert _walk(pager) == []


def test_log_pager_through_the_driver() -> None:
    def page(req: Request) -> Response:
        q = dict(parse_qsl(urlsplit(req.url).query))
        assert q["limit"] == "2"
        token = q.get("pagination_token")
        if token is None:
            return resp({"entries": [{"n": 1}, {"n": 2}], "has_next_page": True, "marker": "t1"})
        assert token == "t1"
        return resp({"entries": [{"n": 3}], "has_next_page": False, "marker": None})

    transport = FakeSync(page, page)
    client = ActionClient(BASE, None, transport=transport)
    assert list(client.iter_log("a1", per_page=2)) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert len(transport.requests) == 2
    assert "per_page" not in transport.requests[0].url


# --------------------------------------------------------------------------- polling


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _status_op() -> Op[APIResponse]:
    return json_op(session(), "GET", "/a1/status")


def _finished(doc: APIResponse) -> bool:
    return doc.get("status") in ("SUCCEEDED", "FAILED")


def test_poll_until_finished_with_backoff() -> None:
    clock = FakeClock()
    op = poll_op(_status_op, _finished, check_poll_args(None, 1.0, 4.0), "action 'a1'", clock=clock)
    sleeps = []
    req = next(op)
    assert req.url == BASE + "/a1/status"
    for _ in range(4):
        sleep = op.send(resp({"status": "ACTIVE"}))
        assert isinstance(sleep, Sleep)
        sleeps.append(sleep.seconds)
        clock.now += sleep.seconds
        assert isinstance(op.send(None), Request)
    done = finish(op, resp({"status": "SUCCEEDED", "details": {"x": 1}}))
    assert done["status"] == "SUCCEEDED"
    assert sleeps == [1.0, 2.0, 4.0, 4.0]


def test_poll_times_out_with_the_last_document() -> None:
    clock = FakeClock()
    op = poll_op(_status_op, _finished, check_poll_args(5, 2.0, 10.0), "action 'a1'", clock=clock)
    next(op)
    sleeps = []
    with pytest.raises(WaitTimeout) as info:
        while True:
            sleep = op.send(resp({"status": "ACTIVE", "n": len(sleeps)}))
            assert isinstance(sleep, Sleep)
            sleeps.append(sleep.seconds)
            clock.now += sleep.seconds
            op.send(None)
    assert sleeps == [2.0, 3.0]  # the last pause is cut to the time left
    err = info.value
    assert isinstance(err, TimeoutError)
    assert isinstance(err.last, APIResponse) and err.last["n"] == 2
    assert "ACTIVE" in str(err) and "action 'a1'" in str(err) and "5s" in str(err)


def test_poll_with_zero_timeout_fetches_once() -> None:
    op = poll_op(_status_op, _finished, check_poll_args(0, 1.0, 1.0), "run", clock=FakeClock())
    next(op)
    with pytest.raises(WaitTimeout) as info:
        op.send(resp({"status": "INACTIVE"}))
    assert info.value.last["status"] == "INACTIVE"


def test_poll_returns_at_once_when_already_finished() -> None:
    op = poll_op(_status_op, _finished, check_poll_args(0, 1.0, 1.0), "run", clock=FakeClock())
    next(op)
    assert finish(op, resp({"status": "FAILED"}))["status"] == "FAILED"


@pytest.mark.parametrize(
    "args", [(-1, 1.0, 2.0), ("5", 1.0, 2.0), (None, 0, 2.0), (None, 1.0, 0.5), (None, "1", 2.0)]
)
def test_poll_argument_errors(args: tuple[Any, Any, Any]) -> None:
    with pytest.raises(UsageError):
        check_poll_args(*args)


def test_action_wait_stops_on_inactive_unless_asked() -> None:
    ops = ActionOps(session())
    op = ops.wait("a1", timeout=None, initial_delay=0.5, max_delay=0.5)
    next(op)
    assert finish(op, resp({"status": "INACTIVE"}))["status"] == "INACTIVE"
    op = ops.wait("a1", timeout=None, initial_delay=0.5, max_delay=0.5, stop_on_inactive=False)
    next(op)
    assert op.send(resp({"status": "INACTIVE"})) == Sleep(0.5)


# --------------------------------------------------------------------------- drivers


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record sleeps of both drivers instead of sleeping."""
    record: list[float] = []

    async def fake_async_sleep(seconds: float, result: Any = None) -> Any:
        record.append(seconds)
        return result

    monkeypatch.setattr(time, "sleep", record.append)
    monkeypatch.setattr(asyncio, "sleep", fake_async_sleep)
    return record


def test_run_sync_end_to_end(slept: list[float]) -> None:
    auth = RefreshingAuthorizer()
    transport = FakeSync(
        resp({}, 401),
        ConnectError("refused"),
        resp({}, 503, {"retry-after": "3"}),
        resp({"status": "SUCCEEDED"}),
    )
    result = run_sync(json_op(session(authorizer=auth), "GET", "/x"), transport, 7.5)
    assert result["status"] == "SUCCEEDED"
    assert [r.headers["Authorization"] for r in transport.requests] == ["Bearer old", "Bearer new", "Bearer new", "Bearer new"]
    assert transport.timeouts == [7.5] * 4
    assert len(slept) == 2 and slept[1] == 3.0
    assert auth.threads == [threading.get_ident()] * 4


def test_run_sync_raises_and_closes_the_operation() -> None:
    op = json_op(session(), "GET", "/x")
    with pytest.raises(NotFoundError):
        run_sync(op, FakeSync(resp({"code": "NotFound"}, 404)))
    assert op.gi_frame is None  # closed


def test_run_sync_transport_error_surfaces_after_retries(slept: list[float]) -> None:
    transport = FakeSync(*(ConnectionLostError("reset") for _ in range(4)))
    with pytest.raises(ConnectionLostError) as info:
        run_sync(json_op(session(), "GET", "/x"), transport)
    assert info.value.attempts == 4 and len(transport.requests) == 4 and len(slept) == 3


def test_a_stray_stop_iteration_is_not_a_result() -> None:
    # A transport (or authorizer) that leaks StopIteration is broken; the driver must
    # not mistake it for the operation returning None.
    class Leaky:
        def send(self, request: Request, timeout: float | None) -> Response:
            return next(iter([]))  # type: ignore[no-any-return]

    op = json_op(session(), "GET", "/x")
    with pytest.raises(StopIteration):
        run_sync(op, Leaky())
    assert op.gi_frame is None

    class LeakyAuthorizer(RefreshingAuthorizer):
        def get_authorization_header(self) -> str:
            return next(iter([]))  # type: ignore[no-any-return]

        may_block = False

    # An authorizer that answers from memory is called inside the operation, so PEP
    # 479 turns its StopIteration into a RuntimeError there, sync and async alike.
    with pytest.raises(RuntimeError, match="StopIteration"):
        run_sync(json_op(session(authorizer=LeakyAuthorizer()), "GET", "/x"), FakeSync(resp({})))
    with pytest.raises(RuntimeError, match="StopIteration"):
        asyncio.run(run_async(json_op(session(authorizer=LeakyAuthorizer()), "GET", "/x"), FakeAsync(resp({}))))


def test_run_async_end_to_end(slept: list[float]) -> None:
    auth = RefreshingAuthorizer()
    transport = FakeAsync(resp({}, 401), resp({}, 502), resp({"status": "ACTIVE"}))

    async def main() -> tuple[APIResponse, int]:
        return await run_async(json_op(session(authorizer=auth), "GET", "/x"), transport, 2.0), threading.get_ident()

    result, loop_thread = asyncio.run(main())
    assert result["status"] == "ACTIVE"
    assert [r.headers["Authorization"] for r in transport.requests] == ["Bearer old", "Bearer new", "Bearer new"]
    assert transport.timeouts == [2.0] * 3
    assert len(slept) == 1 and 0.125 <= slept[0] <= 0.25
    # An authorizer that may refresh over the network never runs on the event loop.
    assert auth.threads and loop_thread not in auth.threads


def test_run_async_blocking_vs_inline_calls(slept: list[float]) -> None:
    def op() -> Op[tuple[int, int]]:
        a = yield Call(threading.get_ident, blocking=True)
        b = yield Call(threading.get_ident, blocking=False)
        none = yield Sleep(1.5)
        assert none is None
        return a, b

    async def main() -> tuple[tuple[int, int], int]:
        return await run_async(op(), FakeAsync()), threading.get_ident()

    (blocking, inline), loop_thread = asyncio.run(main())
    assert blocking != loop_thread
    assert inline == loop_thread
    assert slept == [1.5]


def test_run_async_known_authorizers_run_inline() -> None:
    threads: list[int] = []

    class Recording(BearerTokenAuthorizer):
        __slots__ = ()

        def get_authorization_header(self) -> str:
            threads.append(threading.get_ident())
            return super().get_authorization_header()

    transport = FakeAsync(resp({"ok": 1}))

    async def main() -> int:
        await run_async(json_op(session(authorizer=Recording("t")), "GET", "/x"), transport)
        return threading.get_ident()

    assert threads == [asyncio.run(main())]
    assert _is_blocking(globus_sdk.AccessTokenAuthorizer("t")) is False
    assert _is_blocking(RefreshingAuthorizer()) is True


def test_run_async_transport_error_is_thrown_into_the_operation(slept: list[float]) -> None:
    transport = FakeAsync(ConnectError("refused"), resp({"ok": True}))
    result = asyncio.run(run_async(json_op(session(), "POST", "/x", json_body={}), transport))
    assert result["ok"] is True and len(slept) == 1


# ------------------------------------------------------------------------ hypothesis

ids = st.text(min_size=1).filter(lambda s: s not in (".", ".."))


@settings(max_examples=200, deadline=None)
@given(action_id=ids, routes=st.sampled_from(["legacy", "actions"]))
def test_action_id_is_exactly_one_encoded_segment(action_id: str, routes: Any) -> None:
    req = next(ActionOps(session(), routes).status(action_id))
    parts = urlsplit(req.url)
    assert parts.query == "" and parts.fragment == ""
    assert parts.path.startswith("/hello/")
    segments = parts.path[len("/hello/") :].split("/")
    if routes == "legacy":
        assert len(segments) == 2 and segments[1] == "status"
        segment = segments[0]
    else:
        assert len(segments) == 2 and segments[0] == "actions"
        segment = segments[1]
    assert "/" not in segment
    assert unquote(segment) == action_id  # encoded exactly once


scalars = st.one_of(st.text(), st.integers(), st.booleans())


def _as_query_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


@settings(max_examples=200, deadline=None)
@given(params=st.lists(st.tuples(st.text(min_size=1), st.one_of(scalars, st.lists(scalars, max_size=3)))))
def test_query_round_trips_through_parse_qsl(params: list[tuple[str, Any]]) -> None:
    req = next(json_op(session(), "GET", "/q", query=params))
    _, _, qs = req.url.partition("?")
    expected = [
        (k, _as_query_text(x)) for k, v in params for x in (v if isinstance(v, list) else [v])
    ]
    assert parse_qsl(qs, keep_blank_values=True) == expected
