"""The built-in transports over real sockets on 127.0.0.1, and the clients end to end."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable
from urllib.parse import urlsplit

import globus_sdk
import pytest
from _tls import self_signed, server_context
import urllib3

from automate_lite import (
    ActionClient,
    AsyncActionClient,
    AuthenticationError,
    ConnectError,
    ConnectionLostError,
    ReadTimeout,
    Request,
    Response,
    TLSError,
    UsageError,
)
from automate_lite.transports import ThreadedAsyncTransport, Urllib3Transport
from automate_lite.testing._server import App, Reply, StubRequest, StubServer

BINARY = bytes(range(256)) * 4


def handler(req: Any, sock: socket.socket, server: Any) -> bool:
    """One route table for the raw server; each path misbehaves in its own way."""
    path = urlsplit(req.target).path
    parts = path.strip("/").split("/")
    if parts[0] == "status":
        status = int(parts[1])
        body = b"" if status == 204 else BINARY + f"status {status}".encode()
        sock.sendall(server.response(status, body, {"Content-Type": "application/octet-stream"}))
    elif parts[0] == "echo":
        sock.sendall(server.response(200, req.body, {"Content-Type": "application/json"}))
    elif parts[0] == "headers":
        sock.sendall(
            server.response(
                200,
                b"{}",
                [("X-Custom-Header", "Value"), ("X-Dup", "a"), ("x-dup", "b"), ("Retry-After", "3"), ("X-Request-ID", "rid-1")],
            )
        )
    elif parts[0] == "slow":
        server.pause(float(parts[1]))
        sock.sendall(server.response(200, b'{"slow": true}'))
    elif parts[0] == "stall":
        sock.sendall(server.response(200, b"0123456789", content_length=100))
        server.pause(5)
        return False
    elif parts[0] == "truncate":
        sock.sendall(server.response(200, b"0123456789", content_length=100))
        return False
    elif parts[0] == "drop":
        return False
    elif parts[0] == "redirect":
        sock.sendall(server.response(302, b"", {"Location": f"http://127.0.0.1:{server.port}/status/200"}))
    else:
        sock.sendall(server.response(404, b"no such route"))
    return True


@pytest.fixture
def server(raw_server: Callable[..., Any]) -> Any:
    return raw_server(handler)


@pytest.fixture
def transport() -> Any:
    t = Urllib3Transport()
    yield t
    t.close()


def get(url: str, **headers: str) -> Request:
    return Request("GET", url, headers)


# ------------------------------------------------------------------ Urllib3Transport


@pytest.mark.parametrize("status", [200, 201, 204, 404, 500])
def test_status_and_body_pass_through(server: Any, transport: Urllib3Transport, status: int) -> None:
    r = transport.send(get(f"{server.url}/status/{status}"), 5)
    assert isinstance(r, Response)
    assert r.status == status
    assert r.body == (b"" if status == 204 else BINARY + f"status {status}".encode())
    assert r.headers["content-type"] == "application/octet-stream" or status == 204


def test_response_header_names_are_lower_case(server: Any, transport: Urllib3Transport) -> None:
    r = transport.send(get(f"{server.url}/headers"), 5)
    assert r.headers["x-custom-header"] == "Value"
    assert r.headers["retry-after"] == "3" and r.headers["x-request-id"] == "rid-1"
    assert all(k == k.lower() for k in r.headers)
    assert r.headers["x-dup"] == "a, b"  # repeated headers are joined, not dropped


def test_request_headers_and_body_arrive_as_sent(server: Any, transport: Urllib3Transport) -> None:
    body = json.dumps({"é": [1, None], "s": "x" * 5000}, ensure_ascii=False).encode()
    req = Request(
        "POST",
        f"{server.url}/echo?a=1&b=x%20y",
        {"Authorization": "Bearer tok", "Content-Type": "application/json", "X-Extra": "v1", "User-Agent": "ua/1"},
        body,
    )
    r = transport.send(req, 5)
    assert r.status == 200 and r.body == body
    seen = server.requests[-1]
    assert seen.method == "POST" and seen.target == "/echo?a=1&b=x%20y"
    assert seen.body == body
    assert seen.headers["authorization"] == "Bearer tok"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-extra"] == "v1" and seen.headers["user-agent"] == "ua/1"
    assert seen.headers["content-length"] == str(len(body))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_methods_without_body(server: Any, transport: Urllib3Transport, method: str) -> None:
    r = transport.send(Request(method, f"{server.url}/echo", {}), 5)
    assert r.status == 200 and r.body == b""
    assert server.requests[-1].method == method and server.requests[-1].body == b""


def test_keep_alive_reuses_one_connection(server: Any, transport: Urllib3Transport) -> None:
    for i in range(6):
        assert transport.send(get(f"{server.url}/status/200"), 5).status == 200
        transport.send(Request("POST", f"{server.url}/echo", {}, b"{}"), 5)
    assert len(server.requests) == 12
    assert server.connections == 1
    transport.close()  # closes the pooled connection; the transport stays usable
    assert transport.send(get(f"{server.url}/status/201"), 5).status == 201
    assert server.connections == 2


def test_read_timeout_then_a_later_request_works(server: Any, transport: Urllib3Transport) -> None:
    with pytest.raises(ReadTimeout) as info:
        transport.send(get(f"{server.url}/slow/5"), 0.2)
    assert not info.value.not_sent
    assert "0.2" in str(info.value)
    assert transport.send(get(f"{server.url}/status/200"), 5).status == 200


def test_stall_mid_body_is_a_read_timeout(server: Any, transport: Urllib3Transport) -> None:
    with pytest.raises(ReadTimeout):
        transport.send(get(f"{server.url}/stall"), 0.2)
    assert transport.send(get(f"{server.url}/status/200"), 5).status == 200


def test_truncated_body_is_a_lost_connection(server: Any, transport: Urllib3Transport) -> None:
    # A body shorter than its Content-Length must not pass as a complete answer.
    with pytest.raises(ConnectionLostError) as info:
        transport.send(get(f"{server.url}/truncate"), 5)
    assert "IncompleteRead(10 bytes read, 90 more expected)" in str(info.value)
    assert transport.send(get(f"{server.url}/status/200"), 5).status == 200


def test_connection_refused_is_connect_error(free_port: int, transport: Urllib3Transport) -> None:
    with pytest.raises(ConnectError) as info:
        transport.send(get(f"http://127.0.0.1:{free_port}/x"), 2)
    assert info.value.not_sent is True
    assert type(info.value) is ConnectError


def test_dropped_connection_is_connection_lost(server: Any, transport: Urllib3Transport) -> None:
    with pytest.raises(ConnectionLostError) as info:
        transport.send(Request("POST", f"{server.url}/drop", {}, b"{}"), 5)
    assert info.value.not_sent is False
    assert transport.send(get(f"{server.url}/status/200"), 5).status == 200


def test_redirects_are_not_followed(server: Any, transport: Urllib3Transport) -> None:
    r = transport.send(get(f"{server.url}/redirect", Authorization="Bearer t"), 5)
    assert r.status == 302
    assert r.headers["location"] == f"{server.url}/status/200"
    assert len(server.requests) == 1


def test_no_timeout(server: Any, transport: Urllib3Transport) -> None:
    assert transport.send(get(f"{server.url}/status/200"), None).status == 200


def test_transport_argument_checks(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="maxsize"):
        Urllib3Transport(maxsize=0)
    with pytest.raises(UsageError, match="ca_certs"):
        Urllib3Transport(ca_certs=str(tmp_path / "missing.pem"))
    with pytest.raises(UsageError, match="max_concurrency"):
        ThreadedAsyncTransport(max_concurrency=0)


# -------------------------------------------------------------------------- proxies


def test_bad_settings_are_usage_errors_in_every_built_in_transport() -> None:
    from automate_lite.transports.aio import AsyncioTransport

    for cls in (Urllib3Transport, AsyncioTransport):
        with pytest.raises(UsageError, match="verify must be None, True or False"):
            cls(verify="yes", environ={})  # type: ignore[arg-type]
        with pytest.raises(UsageError, match="ca_certs must name a CA bundle file"):
            cls(ca_certs="/nonexistent/ca.pem", environ={})


def test_proxy_from_environment() -> None:
    t = Urllib3Transport(environ={"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "example.org, .internal.test"})
    assert t.proxy_url == "http://proxy:3128"
    proxied = t._manager_for("https://flows.globus.org/flows")
    assert isinstance(proxied, urllib3.ProxyManager)
    assert t._manager_for("https://notexample.org/x") is proxied  # suffix match only at a dot
    assert t._manager_for("https://example.org:8443/x") is not proxied
    assert t._manager_for("https://api.example.org/x") is not proxied
    assert t._manager_for("https://a.internal.test/x") is not proxied
    for loopback in ("https://127.0.0.1:9/x", "http://localhost:9/x", "https://[::1]:9/x", "http://127.0.0.1/x"):
        assert t._manager_for(loopback) is not proxied, loopback
    assert t._manager_for("https://127.0.0.1:9/x") is t._unverified  # loopback TLS is not verified
    assert t._manager_for("https://example.org/x") is t._verified


def test_proxy_environment_variants() -> None:
    assert Urllib3Transport(environ={}).proxy_url is None
    assert Urllib3Transport(environ={}, proxy_url="http://p:1")._manager_for("https://h/x") is not None
    lower = Urllib3Transport(environ={"https_proxy": "http://p:2", "no_proxy": "*"})
    assert lower.proxy_url == "http://p:2"
    assert not isinstance(lower._manager_for("https://flows.globus.org/x"), urllib3.ProxyManager)
    everything = Urllib3Transport(environ={"ALL_PROXY": "http://p:3"})
    assert isinstance(everything._manager_for("https://flows.globus.org/x"), urllib3.ProxyManager)


def test_tls_verification_choice() -> None:
    t = Urllib3Transport(environ={})
    assert t._manager_for("https://127.0.0.1/x") is t._unverified
    assert t._manager_for("https://localhost/x") is t._unverified
    assert t._manager_for("https://127.evil.example/x") is t._verified  # a DNS name, not loopback
    assert t._manager_for("https://example.org/x") is t._verified
    strict = Urllib3Transport(environ={}, verify=True)
    assert strict._manager_for("https://127.0.0.1/x") is strict._verified
    lax = Urllib3Transport(environ={}, verify=False)
    assert lax._manager_for("https://example.org/x") is lax._unverified


# ----------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A throwaway self-signed certificate for 127.0.0.1 and localhost."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(raw_server: Callable[..., Any], cert_files: tuple[str, str]) -> Any:
    ctx = server_context(cert_files)
    return raw_server(handler, ctx)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_to_loopback_is_not_verified_by_default(tls_server: Any) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")
    t = Urllib3Transport(environ={})
    try:
        assert t.send(get(f"{tls_server.url}/status/200"), 5).status == 200
    finally:
        t.close()


def test_tls_verified_when_asked(tls_server: Any, cert_files: tuple[str, str]) -> None:
    strict = Urllib3Transport(environ={}, verify=True)
    try:
        with pytest.raises(TLSError) as info:
            strict.send(get(f"{tls_server.url}/status/200"), 5)
        assert info.value.not_sent
    finally:
        strict.close()
    trusting = Urllib3Transport(environ={}, verify=True, ca_certs=cert_files[0])
    try:
        assert trusting.send(get(f"{tls_server.url}/status/201"), 5).status == 201
    finally:
        trusting.close()


# ------------------------------------------------------------ ThreadedAsyncTransport


def test_threaded_many_concurrent_requests(server: Any) -> None:
    async def main() -> list[Response]:
        t = ThreadedAsyncTransport(max_concurrency=16)
        try:
            return await asyncio.gather(
                *(t.send(Request("POST", f"{server.url}/echo", {}, str(i).encode()), 5) for i in range(50))
            )
        finally:
            await t.aclose()

    responses = asyncio.run(main())
    assert [r.body for r in responses] == [str(i).encode() for i in range(50)]
    assert all(r.status == 200 for r in responses)
    assert len(server.requests) == 50
    assert server.connections <= 16  # bounded: connections are reused, not one per request


def test_threaded_cancellation_does_not_break_the_next_request(server: Any) -> None:
    async def main() -> Response:
        t = ThreadedAsyncTransport(max_concurrency=2)
        try:
            task = asyncio.ensure_future(t.send(get(f"{server.url}/slow/0.5"), 5))
            await asyncio.to_thread(server.wait_for_requests, 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return await t.send(get(f"{server.url}/status/200"), 5)
        finally:
            await t.aclose()

    assert asyncio.run(main()).status == 200


def test_threaded_maps_errors(free_port: int, server: Any) -> None:
    async def main() -> None:
        t = ThreadedAsyncTransport()
        try:
            with pytest.raises(ConnectError):
                await t.send(get(f"http://127.0.0.1:{free_port}/"), 2)
            with pytest.raises(ReadTimeout):
                await t.send(get(f"{server.url}/slow/5"), 0.2)
            assert (await t.send(get(f"{server.url}/status/404"), 5)).status == 404
        finally:
            await t.aclose()

    asyncio.run(main())


def test_threaded_transport_starts_no_threads_until_used() -> None:
    t = ThreadedAsyncTransport()
    assert t._executor is None
    t.close()
    t.close()


# ---------------------------------------------------------- clients, end to end


class RefreshingAuthorizer:
    """Its token changes when the service answers 401."""

    def __init__(self) -> None:
        self.token = "old"
        self.threads: list[int] = []

    def get_authorization_header(self) -> str:
        self.threads.append(threading.get_ident())
        return f"Bearer {self.token}"

    def handle_missing_authorization(self) -> bool:
        self.threads.append(threading.get_ident())
        self.token = "new"
        return True


def token_app(valid: set[str]) -> tuple[App, list[str | None]]:
    app = App()
    seen: list[str | None] = []

    def status(req: StubRequest, action_id: str) -> Reply:
        seen.append(req.bearer_token)
        if req.bearer_token not in valid:
            return Reply.json({"code": "AuthenticationFailed", "description": "token not accepted"}, 401)
        return Reply.json({"action_id": action_id, "status": "SUCCEEDED", "details": {}})

    app.add("GET", "/{action_id}/status", status)
    return app, seen


def test_sync_client_retries_once_with_a_refreshed_token() -> None:
    app, seen = token_app({"new"})
    auth = RefreshingAuthorizer()
    with StubServer(app) as srv, ActionClient(srv.url, auth) as client:
        doc = client.status("a/b c")
        assert doc["action_id"] == "a/b c" and doc["status"] == "SUCCEEDED"
        assert doc.http_status == 200
    assert seen == ["old", "new"]


def test_sync_client_gives_up_after_one_refresh() -> None:
    app, seen = token_app(set())
    with StubServer(app) as srv, ActionClient(srv.url, RefreshingAuthorizer()) as client:
        with pytest.raises(AuthenticationError) as info:
            client.status("a1")
    assert seen == ["old", "new"]
    assert info.value.code == "AuthenticationFailed"
    assert info.value.url == f"{srv.url}/a1/status"


def test_async_client_retries_once_with_a_refreshed_token() -> None:
    app, seen = token_app({"new"})
    auth = RefreshingAuthorizer()

    async def main(url: str) -> tuple[Any, int]:
        async with AsyncActionClient(url, auth) as client:
            return await client.status("a1"), threading.get_ident()

    with StubServer(app) as srv:
        doc, loop_thread = asyncio.run(main(srv.url))
    assert doc["status"] == "SUCCEEDED"
    assert seen == ["old", "new"]
    assert auth.threads and loop_thread not in auth.threads


def test_globus_sdk_access_token_authorizer() -> None:
    app, seen = token_app({"good"})
    with StubServer(app) as srv:
        with ActionClient(srv.url, globus_sdk.AccessTokenAuthorizer("good")) as client:
            assert client.status("a1")["status"] == "SUCCEEDED"
        with ActionClient(srv.url, globus_sdk.AccessTokenAuthorizer("bad")) as client:
            with pytest.raises(AuthenticationError):
                client.status("a1")
    assert seen == ["good", "bad"]  # a fixed token cannot be refreshed: no retry


class FakeAuthLoginClient:
    """Answers refresh-token grants locally, as ``globus_sdk.NativeAppAuthClient`` would."""

    def __init__(self) -> None:
        self.grants = 0
        self.threads: list[int] = []

    def oauth2_refresh_token(self, refresh_token: str) -> Any:
        self.grants += 1
        self.threads.append(threading.get_ident())
        return SimpleNamespace(
            by_resource_server={
                "actions.example.org": {
                    "access_token": f"tok{self.grants}",
                    "expires_at_seconds": int(time.time()) + 3600,
                    "refresh_token": refresh_token,
                }
            }
        )


def test_globus_sdk_refresh_token_authorizer() -> None:
    app, seen = token_app({"tok2"})
    auth_client = FakeAuthLoginClient()
    refreshed: list[Any] = []
    auth = globus_sdk.RefreshTokenAuthorizer("rt", auth_client, on_refresh=refreshed.append)  # type: ignore[arg-type]
    assert auth_client.grants == 1  # the first access token is fetched up front
    with StubServer(app) as srv, ActionClient(srv.url, auth) as client:
        assert client.status("a1")["status"] == "SUCCEEDED"
    assert seen == ["tok1", "tok2"]
    assert auth_client.grants == 2 and len(refreshed) == 2


def test_globus_sdk_refresh_token_authorizer_async() -> None:
    app, seen = token_app({"tok2"})
    auth_client = FakeAuthLoginClient()
    auth = globus_sdk.RefreshTokenAuthorizer("rt", auth_client)  # type: ignore[arg-type]

    async def main(url: str) -> tuple[Any, int]:
        async with AsyncActionClient(url, auth) as client:
            return await client.status("a1"), threading.get_ident()

    with StubServer(app) as srv:
        doc, loop_thread = asyncio.run(main(srv.url))
    assert doc["status"] == "SUCCEEDED"
    assert seen == ["tok1", "tok2"]
    # The refresh (network I/O for a real auth client) ran off the event loop thread.
    assert auth_client.threads[1] != loop_thread
