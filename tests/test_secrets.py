"""Bearer tokens stay secret.

- never in ``repr()``/``str()`` of clients, authorizers, requests, responses;
- never in exception messages (API errors, transport errors, usage errors), nor in the
  exception chains a traceback would print;
- never in log records, at any level, from automate_lite or urllib3;
- never sent over plain ``http://`` to a host other than loopback unless
  ``allow_insecure_http=True`` (a ``UsageError`` before anything is sent);
- TLS certificates are verified for every non-loopback ``https://`` host;
- redirects are not followed, so the ``Authorization`` header never reaches the host a
  redirect points to.

Non-loopback host names are served from 127.0.0.1 by patching ``socket.getaddrinfo``,
so a token that *was* sent would be seen by the test's server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import traceback
from typing import Any, AsyncIterator, Callable, Iterator

import pytest
from _tls import self_signed, server_context

import automate_lite as al
from automate_lite.transports import ThreadedAsyncTransport, Urllib3Transport
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.faults import FaultServer, Reset, Respond, StallBeforeHeaders
from automate_lite.testing.flows import FlowsStub

SECRET = "s3cr3t-T0KEN-7f9c2b1e"
AUTH = al.BearerTokenAuthorizer(SECRET)
FID = "3b6b1e9a-6b6f-4e3c-9c62-2a7f4d1c0e11"
RID = "0c4d6f2e-2b1a-4c3d-9e8f-7a6b5c4d3e2f"
FAST = al.RetryPolicy(max_attempts=2, backoff_base=0.01)
FAR_HOST = "automate-lite.test"  # not loopback by name; served from 127.0.0.1 here


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        s = text if isinstance(text, str) else repr(text)
        assert SECRET not in s, f"the token leaked: {s[:300]!r}"


def exception_texts(exc: BaseException) -> list[str]:
    """Everything an exception would show: str, repr, args, and the printed traceback."""
    return [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Host names added to the returned set resolve to 127.0.0.1."""
    names: set[str] = set()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in names:
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def ok_handler(req: Any, sock: socket.socket, server: Any) -> bool:
    body = json.dumps({"action_id": "a", "status": "SUCCEEDED", "id": FID, "run_id": RID}).encode()
    sock.sendall(server.response(200, body, {"Content-Type": "application/json"}))
    return True


# ----------------------------------------------------------------------------- repr


def test_reprs_never_show_the_token() -> None:
    clients: list[Any] = [
        al.ActionClient.new_client("https://actions.example.org/hello", AUTH),
        al.AsyncActionClient.new_client("https://actions.example.org/hello", AUTH),
        al.FlowsClient.new_client("client", lambda **_: AUTH, AUTH),
        al.AsyncFlowsClient.new_client("client", lambda **_: AUTH, AUTH),
        al.ActionClient("https://actions.example.org/hello", None, extra_headers={"Authorization": f"Bearer {SECRET}"}),
    ]
    try:
        import globus_sdk

        clients.append(al.ActionClient.new_client("https://actions.example.org/h", globus_sdk.AccessTokenAuthorizer(SECRET)))
    except ImportError:  # pragma: no cover - globus-sdk is a test requirement
        pass
    for client in clients:
        derived = client.replace(http_timeout=3)
        assert_no_secret(repr(client), str(client), repr(derived), repr(client.ops), repr(client.ops.session))
    assert_no_secret(repr(AUTH), str(AUTH))
    for name in ("Authorization", "authorization", "AUTHORIZATION"):
        request = al.Request("GET", "https://x.example/a", {name: f"Bearer {SECRET}", "Accept": "application/json"}, b"{}")
        assert_no_secret(repr(request), str(request))
    assert_no_secret(repr(al.Response(200, {"x": "y"}, b"{}")))


def test_requests_built_by_operations_hide_the_token_in_repr() -> None:
    client = al.ActionClient.new_client("https://actions.example.org/hello", AUTH)
    op = client.ops.status("abc")
    request = next(op)  # the bearer token is read inline: no Call first
    assert isinstance(request, al.Request)
    assert request.headers["Authorization"] == f"Bearer {SECRET}"  # it is there...
    assert_no_secret(repr(request), str(request))  # ...but never shown
    op.close()


# ------------------------------------------------------------ failures, errors and logs


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)  # includes exc_info / stack_info when present
        self.lines.append(text)
        self.lines.append(repr(record.args))
        self.lines.append(repr(record.__dict__))


@pytest.fixture
def captured() -> Iterator[Capture]:
    handler = Capture()
    loggers = [logging.getLogger(), logging.getLogger("urllib3"), logging.getLogger("automate_lite")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    logging.getLogger("urllib3").addHandler(handler)  # in case propagation is off
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("urllib3").removeHandler(handler)
        for lg, level in saved:
            lg.setLevel(level)


def provoke_failures(free_port: int) -> list[BaseException]:
    """A variety of calls, successful and failing, sync and async; the exceptions raised."""
    raised: list[BaseException] = []

    def attempt(fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every exception is inspected
            raised.append(e)

    tokens = {SECRET: "urn:globus:auth:identity:secret-keeper"}
    with ActionProviderStub(tokens=tokens) as ap, ActionProviderStub(tokens={"other": "x"}) as strict, \
            FaultServer(ap.url) as faults, FlowsStub() as fs, FaultServer(fs.url) as ffaults, \
            FlowsStub(tokens={"other": "x"}) as strict_flows:
        client = al.ActionClient.new_client(faults.url, AUTH, 0.3, retry=FAST)
        with client:
            action_id = client.run({"echo_string": "hi"})["action_id"]
            client.status(action_id)
            list(client.iter_log(action_id))
            attempt(lambda: client.status("no-such-action"))  # 404
            faults.script(*[Respond.json(503, {"code": "Unavailable", "description": "down"})] * 2)
            attempt(lambda: client.status(action_id))  # 503, retried, gave up
            faults.script(Reset(forward=True), Reset(forward=True))
            attempt(lambda: client.run({"echo_string": "reset"}))  # connection lost twice
            faults.script(StallBeforeHeaders(seconds=10), StallBeforeHeaders(seconds=10))
            attempt(lambda: client.status(action_id))  # read timeout twice
            attempt(lambda: client.status(".."))  # UsageError
            attempt(lambda: client.run({"x": object()}))  # UsageError
        with al.ActionClient.new_client(strict.url, AUTH, retry=FAST) as c401:
            attempt(lambda: c401.status("x"))  # 401 from the provider
        with al.ActionClient.new_client(f"http://127.0.0.1:{free_port}/", AUTH, retry=FAST) as refused:
            attempt(lambda: refused.status("x"))  # connection refused
        attempt(lambda: al.ActionClient.new_client(f"http://{FAR_HOST}/", AUTH).status("x"))  # insecure http

        async def async_calls() -> None:
            async with al.AsyncActionClient.new_client(faults.url, AUTH, 0.3, retry=FAST) as ac:
                await ac.status(action_id)
                faults.script(Respond.json(503, {"code": "Unavailable", "description": "down"}))
                await ac.status(action_id)
                for coro in (ac.status("missing"), ac.status("")):
                    try:
                        await coro
                    except Exception as e:  # noqa: BLE001
                        raised.append(e)

        asyncio.run(async_calls())

        with al.FlowsClient.new_client(None, None, AUTH, ffaults.url, retry=FAST) as flows:
            flow = flows.create_flow("secret", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
            flows.run_flow(flow["id"], None, {"x": 1})
            attempt(lambda: flows.get_run(RID))  # 404
            ffaults.script(Respond.json(502, {"error": {"code": "BAD_GATEWAY", "detail": "x"}}))
            flows.list_flows()
            attempt(lambda: flows.get_flow("not-a-uuid"))
        with al.FlowsClient.new_client(None, None, AUTH, strict_flows.url) as wrong:
            attempt(lambda: wrong.list_flows())  # 401 from the Flows stand-in
    return raised


def test_exception_messages_never_show_the_token(free_port: int) -> None:
    raised = provoke_failures(free_port)
    kinds = {type(e).__name__ for e in raised}
    # The variety really happened.
    assert {"NotFoundError", "ServerError", "ConnectionLostError", "ReadTimeout", "UsageError",
            "AuthenticationError", "ConnectError"} <= kinds, kinds
    for exc in raised:
        assert isinstance(exc, al.AutomateError), repr(exc)
        assert_no_secret(*exception_texts(exc))


def test_log_records_never_show_the_token(captured: Capture, free_port: int) -> None:
    provoke_failures(free_port)
    text = "\n".join(captured.lines)
    assert "retry" in text  # automate_lite's retry records were captured...
    assert "urllib3" in text  # ...and urllib3's debug records
    assert_no_secret(text)


def test_a_bad_extra_header_does_not_echo_the_token() -> None:
    # A mistyped header map that also holds the token: the error must not print the map.
    headers: Any = {"Authorization": f"Bearer {SECRET}", "X-Attempts": 3}
    with pytest.raises(al.UsageError) as info:
        al.ActionClient("https://actions.example.org/hello", None, extra_headers=headers)
    assert "extra_headers" in str(info.value)
    assert_no_secret(*exception_texts(info.value))


def test_an_authorizer_header_from_a_callback_is_not_echoed(fake_dns: set[str]) -> None:
    # The flow's token comes from authorizer_callback; refusing plain http must not print it.
    client = al.FlowsClient.new_client(None, lambda **_: AUTH, al.BearerTokenAuthorizer("service"), f"http://{FAR_HOST}")
    with pytest.raises(al.UsageError) as info:
        client.run_flow(FID, None, {})
    assert_no_secret(*exception_texts(info.value))


# ------------------------------------------------------------------ plain http, elsewhere

FAR_HOSTS = [FAR_HOST, "10.0.0.1", "127.example.org", "localhost.example.org", "127.0.0.1.nip.io", "0x7f.0.0.1"]


@pytest.mark.parametrize("host", FAR_HOSTS)
def test_no_token_over_plain_http_to_a_non_loopback_host(
    raw_server: Callable[..., Any], fake_dns: set[str], host: str
) -> None:
    server = raw_server(ok_handler)
    fake_dns.add(host)
    url = f"http://{host}:{server.port}/hello"
    calls: list[Callable[[], Any]] = [
        lambda: al.ActionClient.new_client(url, AUTH).status("a"),
        lambda: al.ActionClient.new_client(url, AUTH).run({"x": 1}),
        lambda: asyncio.run(al.AsyncActionClient.new_client(url, AUTH).status("a")),
        lambda: al.FlowsClient.new_client(None, None, AUTH, url).get_flow(FID),
        lambda: al.FlowsClient.new_client(None, lambda **_: AUTH, None, url).run_flow(FID, None, {}),
        lambda: asyncio.run(al.AsyncFlowsClient.new_client(None, None, AUTH, url).list_flows()),
        # an https client told to post to an http URL elsewhere
        lambda: al.ActionClient.new_client(f"https://127.0.0.1:{server.port}/", AUTH).run({"x": 1}, force_path=url + "/run"),
    ]
    for call in calls:
        with pytest.raises(al.UsageError) as info:
            call()
        # (an ambiguous numeric host is refused before the guard: issue 14)
        if "numeric host" not in str(info.value):
            assert "allow_insecure_http" in str(info.value)
            assert "https://" in str(info.value)
    assert server.requests == [], "a request was sent"


@pytest.mark.parametrize("host", [FAR_HOST, "10.0.0.1"])
def test_allow_insecure_http_sends_the_token_when_asked(raw_server: Callable[..., Any], fake_dns: set[str], host: str) -> None:
    server = raw_server(ok_handler)
    fake_dns.add(host)
    url = f"http://{host}:{server.port}/hello"
    with al.ActionClient.new_client(url, AUTH, allow_insecure_http=True) as client:
        client.status("a")
    with al.FlowsClient.new_client(None, None, AUTH, url, allow_insecure_http=True) as flows:
        flows.get_flow(FID)
    assert [r.headers.get("authorization") for r in server.requests] == [f"Bearer {SECRET}"] * 2


def test_plain_http_without_a_token_is_allowed(raw_server: Callable[..., Any], fake_dns: set[str]) -> None:
    server = raw_server(ok_handler)
    fake_dns.add(FAR_HOST)
    with al.ActionClient.new_client(f"http://{FAR_HOST}:{server.port}/hello", None) as client:
        client.status("a")
    assert len(server.requests) == 1 and "authorization" not in server.requests[0].headers


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1.2.3", "sub.localhost"])
def test_plain_http_to_loopback_carries_the_token(fake_dns: set[str], host: str) -> None:
    fake_dns.update({"127.1.2.3", "sub.localhost"})  # (the stand-in listens on 127.0.0.1 only)
    with ActionProviderStub(tokens={SECRET: "urn:globus:auth:identity:x"}) as ap:
        with al.ActionClient.new_client(f"http://{host}:{ap.server.port}/", AUTH) as client:
            assert client.run({"x": 1})["status"] == "ACTIVE"


# ------------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def far_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for FAR_HOST: untrusted unless named as the CA bundle."""
    return self_signed(tmp_path_factory.mktemp("far-tls"), FAR_HOST, ips=(), dns=(FAR_HOST,))


@pytest.fixture
def far_tls_server(raw_server: Callable[..., Any], far_cert: tuple[str, str], fake_dns: set[str]) -> Any:
    ctx = server_context(far_cert)
    fake_dns.add(FAR_HOST)
    return raw_server(ok_handler, ctx)


def test_tls_is_verified_for_a_non_loopback_https_host(far_tls_server: Any, far_cert: tuple[str, str]) -> None:
    url = f"https://{FAR_HOST}:{far_tls_server.port}/hello"
    calls: list[Callable[[], Any]] = [
        lambda: al.ActionClient.new_client(url, AUTH, retry=FAST).status("a"),
        lambda: asyncio.run(al.AsyncActionClient.new_client(url, AUTH, retry=FAST).status("a")),
        lambda: al.FlowsClient.new_client(None, None, AUTH, url, retry=FAST).get_flow(FID),
    ]
    for call in calls:
        with pytest.raises(al.TLSError) as info:
            call()
        assert info.value.not_sent
        assert_no_secret(*exception_texts(info.value))
    assert far_tls_server.requests == [], "an HTTP request went over an unverified connection"
    # The certificate was the only problem: trusting it, the same call goes through.
    trusting = Urllib3Transport(ca_certs=far_cert[0])
    with al.ActionClient.new_client(url, AUTH, transport=trusting) as client:
        assert client.status("a")["status"] == "SUCCEEDED"
    assert far_tls_server.requests[-1].headers["authorization"] == f"Bearer {SECRET}"


def test_the_threaded_async_transport_verifies_too(far_tls_server: Any) -> None:
    async def main() -> None:
        async with al.AsyncActionClient.new_client(
            f"https://{FAR_HOST}:{far_tls_server.port}/", AUTH, retry=FAST, transport=ThreadedAsyncTransport()
        ) as client:
            with pytest.raises(al.TLSError):
                await client.status("a")

    asyncio.run(main())
    assert far_tls_server.requests == []


# -------------------------------------------------------------------------- redirects


@contextlib.asynccontextmanager
async def async_client(kind: str, url: str) -> AsyncIterator[al.AsyncActionClient]:
    if kind == "threaded":
        async with al.AsyncActionClient.new_client(url, AUTH, retry=FAST) as client:
            yield client
    elif kind == "httpx":
        import httpx

        from automate_lite.transports.httpx import HttpxTransport

        async with httpx.AsyncClient() as http:
            yield al.AsyncActionClient.new_client(url, AUTH, retry=FAST, transport=HttpxTransport(http))
    else:
        import aiohttp

        from automate_lite.transports.aiohttp import AiohttpTransport

        async with aiohttp.ClientSession() as session:
            yield al.AsyncActionClient.new_client(url, AUTH, retry=FAST, transport=AiohttpTransport(session))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("kind", ["sync", "threaded", "httpx", "aiohttp"])
@pytest.mark.parametrize("call", ["status", "run"])
def test_redirects_to_another_host_are_not_followed(
    raw_server: Callable[..., Any], fake_dns: set[str], status: int, kind: str, call: str
) -> None:
    elsewhere = raw_server(ok_handler)
    fake_dns.add(FAR_HOST)
    targets = [f"http://localhost:{elsewhere.port}/stolen", f"http://{FAR_HOST}:{elsewhere.port}/stolen"]

    def redirect(req: Any, sock: socket.socket, server: Any) -> bool:
        location = targets[len(server.requests) % 2]
        sock.sendall(server.response(status, b"", {"Location": location}))
        return True

    origin = raw_server(redirect)

    def check(result: Any) -> None:
        # A clear outcome: the 3xx itself, never the redirect target's answer.
        assert isinstance(result, al.APIResponse)
        assert result.http_status == status
        assert result.get("status") != "SUCCEEDED"

    def invoke_sync() -> Any:
        with al.ActionClient.new_client(origin.url, AUTH, retry=FAST) as client:
            return client.status("a") if call == "status" else client.run({"x": 1})

    async def invoke_async() -> Any:
        async with async_client(kind, origin.url) as client:
            return await (client.status("a") if call == "status" else client.run({"x": 1}))

    try:
        result = invoke_sync() if kind == "sync" else asyncio.run(invoke_async())
    except al.AutomateError as e:  # also acceptable: a clear error about the redirect
        assert_no_secret(*exception_texts(e))
        assert str(status) in str(e)
    else:
        check(result)
    assert len(origin.requests) == 1
    assert origin.requests[0].headers.get("authorization") == f"Bearer {SECRET}"
    assert elsewhere.requests == [], "the redirect was followed"
