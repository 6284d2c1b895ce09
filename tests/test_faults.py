"""Faults between the client and the service, injected by ``automate_lite.testing.faults.FaultServer``.

The fault server is a proxy in front of the Action Provider / Flows stand-ins: it can
let a request reach the service and then lose the answer, answer 5xx or 429, stall,
or send a body that is not what was promised. Every test checks what the caller sees
(a result, or an exception from ``automate_lite.errors`` that says what happened) and
what the service saw (one action, one run, no leaked connection).

Back-off sleeps are recorded by the ``sleeps`` fixture instead of slept, so nothing
here asserts on elapsed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any, AsyncIterator, Callable, Iterator

import pytest

import automate_lite as al
from automate_lite import errors
from automate_lite.transports import ThreadedAsyncTransport, Urllib3Transport
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.faults import (
    Close,
    Delay,
    FaultServer,
    Reset,
    Respond,
    RetryAfterDate,
    ShortBody,
    StallBeforeHeaders,
    StallMidBody,
    html_page,
    huge_body,
    non_json,
    retry_after,
    truncated_json,
    unexpected_content_type,
)
from automate_lite.testing.flows import FlowsStub
from _drive import Driver

TOKEN = "tok-faults"
QUICK = al.RetryPolicy(max_attempts=3, backoff_base=0.01)
ONCE = al.RetryPolicy(max_attempts=1)
STALL_TIMEOUT = 0.3  # the client's http_timeout in the stall tests
PASS_DEFINITION = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


# ----------------------------------------------------------------------------- fixtures


class Sleeps:
    """Records every back-off the drivers ask for, instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.hook: Callable[[float], None] | None = None

    def record(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self.hook is not None:
            self.hook(seconds)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    rec = Sleeps()
    real_async_sleep = asyncio.sleep

    async def async_sleep(seconds: float, result: Any = None) -> Any:
        rec.record(seconds)
        return await real_async_sleep(0, result)

    monkeypatch.setattr(time, "sleep", rec.record)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)
    return rec


@pytest.fixture
def provider() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={TOKEN: "urn:globus:auth:identity:fault-tester"}, prefix="/hello_world") as ap:
        yield ap


@pytest.fixture
def faults(provider: ActionProviderStub) -> Iterator[FaultServer]:
    with FaultServer(provider.url) as server:
        yield server


@pytest.fixture
def action_id(provider: ActionProviderStub) -> str:
    """An action that exists (created directly, not through the fault server)."""
    with al.ActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN)) as c:
        doc = c.run({"echo_string": "exists"})
    provider.state.reset_counters()
    return str(doc["action_id"])


def action_driver(url: str, is_async: bool, *, retry: al.RetryPolicy = QUICK, timeout: float = 5) -> Driver:
    cls = al.AsyncActionClient if is_async else al.ActionClient
    client = cls.new_client(url, al.BearerTokenAuthorizer(TOKEN), timeout, retry=retry)
    return Driver(client, is_async)


@pytest.fixture(params=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "async")


@pytest.fixture
def drive(faults: FaultServer, is_async: bool) -> Iterator[Driver]:
    d = action_driver(faults.url, is_async)
    yield d
    d.close()


def assert_clean(exc: BaseException) -> None:
    """The exception is one of ours, and does not drag a library traceback along."""
    assert type(exc).__module__ == "automate_lite.errors", type(exc)
    assert isinstance(exc, errors.AutomateError)
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__, repr(exc.__context__)
    assert len(str(exc)) < 1000, "the message must stay readable"


def run_ids(requests: list[Any]) -> list[str]:
    return [json.loads(r.body)["request_id"] for r in requests]


# ------------------------------------------------- the answer to a run is lost, retried once

LOST_ANSWERS = [
    pytest.param(Reset(forward=True), id="reset"),
    pytest.param(Close(forward=True), id="closed"),
    pytest.param(ShortBody(forward=True), id="short-body"),
    pytest.param(Respond(504, b"gateway timeout", forward=True), id="504-after-work"),
    pytest.param(StallBeforeHeaders(seconds=30, forward=True), id="stall"),
]


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_lost_answer_to_run_is_retried_with_the_same_request_id_and_one_action_exists(
    provider: ActionProviderStub, faults: FaultServer, is_async: bool, sleeps: Sleeps, fault: Any
) -> None:
    drive = action_driver(faults.url, is_async, timeout=STALL_TIMEOUT if isinstance(fault, StallBeforeHeaders) else 5)
    try:
        faults.script(fault, method="POST", path="/run$")
        doc = drive("run", {"echo_string": "exactly once"}, label="once")
    finally:
        drive.close()
    assert provider.state.created_count == 1
    assert provider.state.action_ids() == [doc["action_id"]]
    upstream_runs = [r for r in provider.state.requests if r.method == "POST" and r.path.endswith("/run")]
    assert len(upstream_runs) == 2  # the provider saw the first attempt and the retry...
    ids = run_ids(upstream_runs)
    assert ids[0] == ids[1]  # ...with the same request_id, so it replayed the first action
    assert doc.http_status == 200  # a replay, not a creation
    assert len(sleeps.seconds) == 1


@pytest.fixture
def flows() -> Iterator[tuple[FlowsStub, str]]:
    with FlowsStub() as stub:
        with al.FlowsClient.new_client(None, None, al.BearerTokenAuthorizer(TOKEN), stub.url) as c:
            flow = c.create_flow("faults", PASS_DEFINITION)
        yield stub, str(flow["id"])


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_lost_answer_to_run_flow_is_retried_and_one_run_exists(
    flows: tuple[FlowsStub, str], is_async: bool, sleeps: Sleeps, fault: Any
) -> None:
    stub, flow_id = flows
    timeout = STALL_TIMEOUT if isinstance(fault, StallBeforeHeaders) else 5
    with FaultServer(stub.url) as proxy:
        cls = al.AsyncFlowsClient if is_async else al.FlowsClient
        drive = Driver(cls.new_client(None, None, al.BearerTokenAuthorizer(TOKEN), proxy.url, timeout, retry=QUICK), is_async)
        try:
            proxy.script(fault, method="POST", path="/run$")
            run = drive("run_flow", flow_id, None, {"x": 1}, label="once")
        finally:
            drive.close()
        seen = proxy.requests("POST", "/run$")
    with stub.state.lock:
        assert stub.state.runs_created == 1
        assert stub.state.run_attempts == 2
        assert list(stub.state.runs) == [run["run_id"]]
    assert len(seen) == 2 and run_ids(seen)[0] == run_ids(seen)[1]
    assert len(sleeps.seconds) == 1


def test_a_non_idempotent_post_is_not_repeated_after_a_reset(
    provider: ActionProviderStub, faults: FaultServer, drive: Driver, sleeps: Sleeps
) -> None:
    # resume has no request_id: after a reset nobody knows whether it happened, so the
    # client must say so rather than resume twice.
    started = drive("run", {"require_resume": True})
    faults.script(Reset(forward=True), method="POST", path="/resume$")
    with pytest.raises(al.ConnectionLostError) as info:
        drive("resume", started["action_id"])
    assert_clean(info.value)
    assert "resume" in str(info.value)
    assert len(faults.requests("POST", "/resume$")) == 1
    assert sleeps.seconds == []


# ------------------------------------------------------------- 5xx, refused, then success


GATEWAY_ANSWERS = {
    502: html_page(502),
    503: Respond.json(503, {"code": "ServiceUnavailable", "description": "down for a moment"}),
    504: Respond(504),
}


@pytest.mark.parametrize("status", [502, 503, 504])
@pytest.mark.parametrize("call", ["status", "run"])
def test_gateway_errors_then_success(
    provider: ActionProviderStub, faults: FaultServer, drive: Driver, sleeps: Sleeps,
    action_id: str, status: int, call: str,
) -> None:
    faults.script(GATEWAY_ANSWERS[status], GATEWAY_ANSWERS[status])
    if call == "status":
        doc = drive("status", action_id)
        assert doc["action_id"] == action_id
    else:
        doc = drive("run", {"echo_string": "after 5xx"})
        assert provider.state.created_count == 1
    assert len(faults.seen) == 3
    assert faults.forwarded == 1
    assert len(sleeps.seconds) == 2
    assert all(0 <= s <= QUICK.backoff_max for s in sleeps.seconds)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_flows_gateway_errors_then_success(flows: tuple[FlowsStub, str], is_async: bool, sleeps: Sleeps, status: int) -> None:
    stub, flow_id = flows
    with FaultServer(stub.url) as proxy:
        cls = al.AsyncFlowsClient if is_async else al.FlowsClient
        drive = Driver(cls.new_client(None, None, al.BearerTokenAuthorizer(TOKEN), proxy.url, retry=QUICK), is_async)
        try:
            proxy.script(GATEWAY_ANSWERS[status], GATEWAY_ANSWERS[status])
            assert drive("get_flow", flow_id)["id"] == flow_id
            proxy.script(GATEWAY_ANSWERS[status])
            drive("run_flow", flow_id, None, {"x": 1})
        finally:
            drive.close()
        assert len(proxy.seen) == 5
    assert stub.state.runs_created == 1
    assert len(sleeps.seconds) == 3


def test_connection_refused_then_success(
    provider: ActionProviderStub, is_async: bool, free_port: int, sleeps: Sleeps, action_id: str
) -> None:
    # Nothing listens on free_port until the client backs off for the first time.
    started: list[FaultServer] = []

    def start_listening(_: float) -> None:
        if not started:
            started.append(FaultServer(provider.url, port=free_port).start())

    sleeps.hook = start_listening
    drive = action_driver(f"http://127.0.0.1:{free_port}/hello_world", is_async)
    try:
        assert drive("status", action_id)["action_id"] == action_id
        assert drive("run", {"echo_string": "refused first"})["status"] == "ACTIVE"
    finally:
        drive.close()
        for s in started:
            s.stop()
    assert len(sleeps.seconds) == 1
    assert provider.state.created_count == 1


# ------------------------------------------------------------------ past the attempt limit


def test_gives_up_on_5xx_after_max_attempts_and_says_how_many(
    faults: FaultServer, drive: Driver, sleeps: Sleeps, action_id: str
) -> None:
    faults.script(*[Respond.json(503, {"code": "ServiceUnavailable", "description": "down"})] * 5)
    with pytest.raises(al.ServerError) as info:
        drive("status", action_id)
    assert_clean(info.value)
    assert info.value.http_status == 503
    assert "3 attempts" in str(info.value)
    assert len(faults.seen) == 3 and faults.pending == 2
    assert len(sleeps.seconds) == 2


def test_gives_up_on_429_after_max_attempts_and_says_how_many(
    faults: FaultServer, drive: Driver, sleeps: Sleeps, action_id: str
) -> None:
    faults.script(*[retry_after(1)] * 3)
    with pytest.raises(al.RateLimitedError) as info:
        drive("status", action_id)
    assert_clean(info.value)
    assert "3 attempts" in str(info.value)
    assert sleeps.seconds == [1.0, 1.0]


def test_gives_up_on_connection_refused_after_max_attempts_and_says_how_many(
    is_async: bool, free_port: int, sleeps: Sleeps
) -> None:
    drive = action_driver(f"http://127.0.0.1:{free_port}/", is_async)
    try:
        with pytest.raises(al.ConnectError) as info:
            drive("run", {"echo_string": "nobody home"})
    finally:
        drive.close()
    assert_clean(info.value)
    assert info.value.attempts == 3
    assert "3 attempts" in str(info.value)
    assert "POST" in str(info.value) and str(free_port) in str(info.value)
    assert len(sleeps.seconds) == 2


def test_gives_up_on_resets_after_max_attempts_yet_one_action_exists(
    provider: ActionProviderStub, faults: FaultServer, drive: Driver, sleeps: Sleeps
) -> None:
    faults.script(*[Reset(forward=True)] * 3, method="POST", path="/run$")
    with pytest.raises(al.ConnectionLostError) as info:
        drive("run", {"echo_string": "lost thrice"})
    assert_clean(info.value)
    assert "3 attempts" in str(info.value)
    assert provider.state.created_count == 1  # three deliveries, one request_id, one action
    assert len(set(run_ids(faults.requests("POST", "/run$")))) == 1


# ------------------------------------------------------------------------------ 429


def test_retry_after_seconds_is_honoured(faults: FaultServer, drive: Driver, sleeps: Sleeps, action_id: str) -> None:
    faults.script(retry_after(1))
    assert drive("status", action_id)["action_id"] == action_id
    assert sleeps.seconds == [1.0]


def test_retry_after_http_date_is_honoured(faults: FaultServer, drive: Driver, sleeps: Sleeps, action_id: str) -> None:
    faults.script(RetryAfterDate(3))
    assert drive("status", action_id)["action_id"] == action_id
    assert len(sleeps.seconds) == 1
    # An HTTP-date has whole seconds: "3 s from now" reads as 2 to 3 s.
    assert 1.5 <= sleeps.seconds[0] <= 3.0


@pytest.mark.parametrize("fault", [retry_after(3600), RetryAfterDate(3600)], ids=["seconds", "http-date"])
def test_retry_after_is_bounded_by_retry_after_max(
    faults: FaultServer, is_async: bool, sleeps: Sleeps, action_id: str, fault: Any
) -> None:
    drive = action_driver(faults.url, is_async, retry=al.RetryPolicy(max_attempts=3, backoff_base=0.01, retry_after_max=2.5))
    try:
        faults.script(fault)
        assert drive("status", action_id)["action_id"] == action_id
    finally:
        drive.close()
    assert sleeps.seconds == [2.5]


def test_retry_after_in_the_past_means_now(faults: FaultServer, drive: Driver, sleeps: Sleeps, action_id: str) -> None:
    faults.script(RetryAfterDate(-60))
    drive("status", action_id)
    assert sleeps.seconds == [0.0]


def test_unusable_retry_after_falls_back_to_backoff(faults: FaultServer, drive: Driver, sleeps: Sleeps, action_id: str) -> None:
    faults.script(retry_after("soon"), retry_after("-inf"), )
    drive("status", action_id)
    assert len(sleeps.seconds) == 2
    assert all(0 <= s <= QUICK.backoff_base * 2 for s in sleeps.seconds)


def test_429_on_run_is_retried_and_one_action_exists(
    provider: ActionProviderStub, faults: FaultServer, drive: Driver, sleeps: Sleeps
) -> None:
    faults.script(retry_after(1), method="POST")
    drive("run", {"echo_string": "rate limited"})
    assert provider.state.created_count == 1
    assert sleeps.seconds == [1.0]


# ------------------------------------------------------------------------------ stalls


def assert_says_before_headers(exc: BaseException) -> None:
    msg = str(exc).lower()
    assert "body" not in msg, msg
    assert re.search(r"header|no answer|status line|did not (start to )?answer", msg), msg


def assert_says_mid_body(exc: BaseException) -> None:
    msg = str(exc).lower()
    assert "body" in msg, f"a stall in the middle of the body should say so: {msg}"


#: The read timeout of the mid-body stall tests. A mid-body stall only reads as one when
#: the headers arrive before the client gives up, so the fault sends them at once (no
#: upstream round trip first: forward=False) and the client waits longer than in the
#: before-headers case (once, under load, 0.3 s ran out before the headers came). The
#: stall itself lasts 30 s, far past either timeout: the client always gives up first.
MID_BODY_TIMEOUT = 1.0

STALLS = [
    pytest.param(StallBeforeHeaders(seconds=30), assert_says_before_headers, STALL_TIMEOUT, id="before-headers"),
    pytest.param(StallMidBody(seconds=30, forward=False), assert_says_mid_body, MID_BODY_TIMEOUT, id="mid-body"),
]


@pytest.mark.parametrize(("fault", "says", "timeout"), STALLS)
def test_sync_stall_is_a_read_timeout_that_says_where_and_the_pool_stays_usable(
    faults: FaultServer, action_id: str, fault: Any, says: Callable[[BaseException], None], timeout: float
) -> None:
    transport = Urllib3Transport(maxsize=2)
    client = al.ActionClient(faults.url, al.BearerTokenAuthorizer(TOKEN), timeout, retry=ONCE, transport=transport)
    with client:
        for _ in range(3):  # more stalls than pooled connections
            faults.script(fault)
            with pytest.raises(al.ReadTimeout) as info:
                client.status(action_id)
            assert_clean(info.value)
            assert info.value.not_sent is False
            assert f"{timeout}" in str(info.value)
            says(info.value)
        for _ in range(5):
            assert client.status(action_id)["action_id"] == action_id


@contextlib.asynccontextmanager
async def async_action_client(kind: str, url: str, timeout: float, retry: al.RetryPolicy, limit: int = 2) -> AsyncIterator[al.AsyncActionClient]:
    """An AsyncActionClient over the default transport, or the caller's httpx / aiohttp session."""
    auth = al.BearerTokenAuthorizer(TOKEN)
    if kind == "threaded":
        sync = Urllib3Transport(maxsize=limit, pool_timeout=3)
        transport = ThreadedAsyncTransport(max_concurrency=limit, sync_transport=sync)
        async with al.AsyncActionClient(url, auth, timeout, retry=retry, transport=transport) as client:
            yield client
    elif kind == "httpx":
        import httpx

        from automate_lite.transports.httpx import HttpxTransport

        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=limit)) as http:
            yield al.AsyncActionClient(url, auth, timeout, retry=retry, transport=HttpxTransport(http))
    else:
        import aiohttp

        from automate_lite.transports.aiohttp import AiohttpTransport

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit)) as session:
            yield al.AsyncActionClient(url, auth, timeout, retry=retry, transport=AiohttpTransport(session))


ASYNC_KINDS = ["threaded", "httpx", "aiohttp"]


@pytest.mark.parametrize("kind", ASYNC_KINDS)
@pytest.mark.parametrize(("fault", "says", "timeout"), STALLS)
def test_async_stall_is_a_read_timeout_that_says_where_and_the_pool_stays_usable(
    faults: FaultServer, action_id: str, kind: str, fault: Any, says: Callable[[BaseException], None],
    timeout: float,
) -> None:
    async def main() -> None:
        async with async_action_client(kind, faults.url, timeout, ONCE) as client:
            for _ in range(3):
                faults.script(fault)
                with pytest.raises(al.ReadTimeout) as info:
                    await client.status(action_id)
                assert_clean(info.value)
                says(info.value)
            docs = await asyncio.gather(*(client.status(action_id) for _ in range(5)))
            assert all(d["action_id"] == action_id for d in docs)

    asyncio.run(main())


def test_closing_the_client_closes_its_connections(faults: FaultServer, is_async: bool, action_id: str) -> None:
    # A service keeps exceptions around (log records, error reports); closing the client
    # must still close every connection it opened, not leave that to the garbage collector.
    kept: list[BaseException] = []
    drive = action_driver(faults.url, is_async, retry=ONCE, timeout=STALL_TIMEOUT)

    async def calls(client: Any) -> None:
        # One event loop for all the calls: a loop's connections close when it ends.
        await client.status(action_id)
        faults.script(StallBeforeHeaders(seconds=30))
        try:
            await client.status(action_id)
        except al.ReadTimeout as e:
            kept.append(e)
        for _ in range(3):
            await client.status(action_id)
        assert faults.open_connections >= 1
        await client.aclose()

    if is_async:
        asyncio.run(calls(drive.client))
    else:
        drive("status", action_id)
        faults.script(StallBeforeHeaders(seconds=30))
        try:
            drive("status", action_id)
        except al.ReadTimeout as e:
            kept.append(e)
        for _ in range(3):
            drive("status", action_id)
        assert faults.open_connections >= 1
        drive.close()
    assert faults.wait_for_open_connections(0), (
        f"{faults.open_connections} connection(s) still open after close(); kept {kept!r}"
    )


def test_a_stalled_get_is_retried_and_then_succeeds(faults: FaultServer, is_async: bool, sleeps: Sleeps, action_id: str) -> None:
    drive = action_driver(faults.url, is_async, timeout=STALL_TIMEOUT)
    try:
        faults.script(StallBeforeHeaders(seconds=30))
        assert drive("status", action_id)["action_id"] == action_id
    finally:
        drive.close()
    assert len(sleeps.seconds) == 1


# ---------------------------------------------------------------------- cancellation


@pytest.mark.parametrize("kind", ASYNC_KINDS)
def test_cancelled_async_call_leaks_no_connection(faults: FaultServer, action_id: str, kind: str) -> None:
    limit = 2

    async def main() -> None:
        async with async_action_client(kind, faults.url, 5, ONCE, limit=limit) as client:
            for _ in range(2 * limit + 1):  # more cancellations than pooled connections
                n = len(faults.seen)
                faults.script(Delay(0.4))
                task = asyncio.ensure_future(client.status(action_id))
                await asyncio.to_thread(faults.wait_for_requests, n + 1)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            # The next calls work (a leaked connection would exhaust the pool of 2).
            docs = await asyncio.gather(*(client.status(action_id) for _ in range(4)))
            assert all(d["action_id"] == action_id for d in docs)
            assert await asyncio.to_thread(faults.wait_for_open_connections, limit), faults.open_connections

    asyncio.run(main())
    assert faults.wait_for_open_connections(0), f"{faults.open_connections} connection(s) left open after close"
    if kind == "threaded":
        # The worker finishes the request and returns the connection to the pool.
        assert faults.connections_opened <= limit


# ------------------------------------------------------------------------- bad bodies


BAD_SUCCESS_BODIES = [
    pytest.param(truncated_json(), "application/json", id="truncated-json"),
    pytest.param(non_json(), "text/plain", id="non-json-200"),
    pytest.param(html_page(200), "text/html", id="html-200"),
    pytest.param(unexpected_content_type(), "application/xml", id="xml"),
    pytest.param(huge_body(valid_json=False), "application/octet-stream", id="10MB-junk"),
    pytest.param(Respond(200, b"\xff\xfe{not utf-8", (("Content-Type", "application/json"),)), "application/json", id="not-utf8"),
]


@pytest.mark.parametrize(("fault", "ctype"), BAD_SUCCESS_BODIES)
@pytest.mark.parametrize("call", ["status", "run"])
def test_a_success_status_with_a_bad_body_is_an_unexpected_response_error(
    faults: FaultServer, drive: Driver, action_id: str, fault: Respond, ctype: str, call: str
) -> None:
    faults.script(fault)
    with pytest.raises(al.UnexpectedResponseError) as info:
        if call == "status":
            drive("status", action_id)
        else:
            drive("run", {"echo_string": "bad body"})
    exc = info.value
    assert_clean(exc)
    assert isinstance(exc, al.AutomateAPIError)
    assert exc.http_status == 200
    assert ctype in str(exc)
    assert str(len(fault.body)) in str(exc)  # says how much arrived
    assert exc.text.encode("utf-8", "replace")[:5] == fault.body.decode("utf-8", "replace").encode()[:5]
    assert exc.raw_json is None
    # The next call is fine.
    assert drive("status", action_id)["action_id"] == action_id


def test_flows_success_with_a_bad_body_is_an_unexpected_response_error(flows: tuple[FlowsStub, str]) -> None:
    stub, flow_id = flows
    with FaultServer(stub.url) as proxy, al.FlowsClient.new_client(None, None, al.BearerTokenAuthorizer(TOKEN), proxy.url) as c:
        for fault in (truncated_json(), html_page(200), unexpected_content_type()):
            proxy.script(fault)
            with pytest.raises(al.UnexpectedResponseError) as info:
                c.get_flow(flow_id)
            assert_clean(info.value)
        assert c.get_flow(flow_id)["id"] == flow_id


@pytest.mark.parametrize(
    ("status", "expected", "attempts"),
    [(404, al.NotFoundError, 1), (500, al.ServerError, 1), (502, al.ServerError, 3), (503, al.ServerError, 3)],
)
def test_an_html_error_page_is_a_clear_api_error(
    faults: FaultServer, drive: Driver, sleeps: Sleeps, action_id: str, status: int, expected: type, attempts: int
) -> None:
    faults.script(*[html_page(status)] * attempts)
    with pytest.raises(expected) as info:
        drive("status", action_id)
    exc = info.value
    assert_clean(exc)
    assert exc.http_status == status
    assert "HTML page" in str(exc)
    assert "<html" not in str(exc).lower()  # the page is in exc.text, not in the message
    assert "<html" in exc.text.lower()
    assert len(faults.seen) == attempts


def test_a_10mb_json_answer_is_returned_whole(faults: FaultServer, drive: Driver, action_id: str) -> None:
    faults.script(huge_body())
    doc = drive("status", action_id)
    assert doc["status"] == "SUCCEEDED"
    assert len(doc["details"]["padding"]) > 10 * 1024 * 1024 - 100
    assert len(repr(doc)) > 1000  # (repr shows the data, as the original SDK's did)


def test_a_10mb_error_body_gives_a_short_message(faults: FaultServer, drive: Driver, action_id: str) -> None:
    faults.script(Respond(500, b"boom " * (2 * 1024 * 1024), (("Content-Type", "text/plain"),)))
    with pytest.raises(al.ServerError) as info:
        drive("status", action_id)
    assert_clean(info.value)
    assert len(info.value.text) == 10 * 1024 * 1024


def test_json_under_another_content_type_is_parsed(faults: FaultServer, drive: Driver, action_id: str) -> None:
    # Documented: the body is parsed whatever the Content-Type; only non-JSON is an error.
    faults.script(Respond(200, b'{"action_id": "x", "status": "SUCCEEDED"}', (("Content-Type", "text/plain"),)))
    assert drive("status", action_id)["status"] == "SUCCEEDED"


def test_a_short_body_is_a_lost_connection_after_max_attempts(faults: FaultServer, drive: Driver, sleeps: Sleeps, action_id: str) -> None:
    faults.script(*[ShortBody()] * 3)
    with pytest.raises(al.ConnectionLostError) as info:
        drive("status", action_id)
    assert_clean(info.value)
    assert "3 attempts" in str(info.value)
    assert len(sleeps.seconds) == 2
