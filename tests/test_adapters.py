"""The bring-your-own-session transports (aiohttp, httpx) over real sockets on 127.0.0.1.

Every test runs for both adapters. A small raw server in this module misbehaves on
purpose (answers late, closes without answering, speaks plain HTTP to a TLS client);
the clients run end to end against :class:`automate_lite.testing.action_provider.ActionProviderStub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import socket
import ssl
import subprocess
import sys
import threading
from types import SimpleNamespace
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterator, Union
from urllib.parse import urlsplit

import aiohttp
import httpx
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from automate_lite import (
    AsyncActionClient,
    AsyncFlowsClient,
    BearerTokenAuthorizer,
    ConnectError,
    ConnectionLostError,
    ConnectTimeout,
    ReadTimeout,
    Request,
    RequestTimeout,
    Response,
    TLSError,
    TransportError,
    UsageError,
)
from automate_lite.transports.aiohttp import AiohttpTransport
from automate_lite.transports.httpx import HttpxTransport
from automate_lite.testing.action_provider import ActionProviderStub

Transport = Union[AiohttpTransport, HttpxTransport]

ADAPTERS = pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
BINARY = bytes(range(256)) * 4
#: A TLS record: a fatal alert, handshake_failure. What a server sends when it will not
#: negotiate; the client's handshake fails at once.
TLS_HANDSHAKE_FAILURE_ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
TOKEN = "tok-alice"
ALICE = "urn:globus:auth:identity:alice"


# ------------------------------------------------------------------ a raw server


@dataclass(frozen=True)
class Seen:
    """One request as the raw server parsed it."""

    method: str
    target: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    connection: int  # 1 for the first connection accepted, 2 for the next...


def reply(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> bytes:
    items = list(headers or [])
    if status != 204:
        items.append(("Content-Length", str(len(body))))
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in items) + "\r\n"
    return head.encode("latin-1") + body


class RawServer:
    """A thread-per-connection HTTP/1.1 server whose routes write raw bytes.

    ``greeting`` is written as soon as a connection is accepted (before any request),
    then the server waits for the client to hang up.
    """

    def __init__(self, greeting: bytes | None = None) -> None:
        self.greeting = greeting
        self.seen: list[Seen] = []
        self.connections = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True, name="raw-server")
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._socks.append(sock)
                number = self.connections
            threading.Thread(target=self._serve, args=(sock, number), daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            with sock, sock.makefile("rb") as f:
                if self.greeting is not None:
                    sock.sendall(self.greeting)
                    f.read()  # until the client gives up and closes
                    return
                while not self.stopping.is_set():
                    line = f.readline()
                    if not line.strip():
                        return
                    method, target, _ = line.decode("latin-1").split(" ", 2)
                    headers: dict[str, str] = {}
                    while (h := f.readline()) not in (b"\r\n", b"\n", b""):
                        name, _, value = h.decode("latin-1").partition(":")
                        headers[name.strip().lower()] = value.strip()
                    body = f.read(int(headers.get("content-length", "0")))
                    seen = Seen(method, target, headers, body, number)
                    with self._lock:
                        self.seen.append(seen)
                    if not self._answer(seen, sock):
                        return
        except OSError:
            return

    def _answer(self, req: Seen, sock: socket.socket) -> bool:
        """Write the answer; False closes the connection."""
        parts = urlsplit(req.target).path.strip("/").split("/")
        if parts[0] == "status":
            status = int(parts[1])
            body = b"" if status == 204 else BINARY + f"status {status}".encode()
            sock.sendall(reply(status, body, [("Content-Type", "application/octet-stream")]))
        elif parts[0] == "echo":
            sock.sendall(reply(200, req.body, [("Content-Type", "application/json")]))
        elif parts[0] == "headers":
            sock.sendall(reply(200, b"{}", [("X-Custom-Header", "Value"), ("X-Dup", "a"), ("x-dup", "b"),
                                            ("Retry-After", "3"), ("X-Request-ID", "rid-1")]))
        elif parts[0] == "redirect":
            sock.sendall(reply(302, b"", [("Location", f"{self.url}/status/200")]))
        elif parts[0] == "slow":
            self.stopping.wait(float(parts[1]))
            sock.sendall(reply(200, b'{"slow": true}'))
        elif parts[0] == "drop":
            return False
        else:
            sock.sendall(reply(404, b"no such route"))
        return True

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)


@pytest.fixture
def server() -> Iterator[RawServer]:
    s = RawServer()
    yield s
    s.stop()


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def adapter(kind: str, max_connections: int = 100) -> AsyncIterator[Transport]:
    """A transport over a session this test owns (made inside the running loop)."""
    if kind == "aiohttp":
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max_connections)) as session:
            yield AiohttpTransport(session)
    else:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=max_connections)) as client:
            yield HttpxTransport(client)


def get(url: str, **headers: str) -> Request:
    return Request("GET", url, headers)


async def until(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    """Poll ``predicate`` without blocking the loop (a hang guard, not a timing check)."""
    for _ in range(int(limit / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never became true")


# ------------------------------------------------------------------ HTTP pass-through


@ADAPTERS
def test_status_headers_and_body_pass_through(kind: str, server: RawServer) -> None:
    async def main() -> None:
        async with adapter(kind) as t:
            for status in (200, 201, 204, 404, 500):
                r = await t.send(get(f"{server.url}/status/{status}"), 5)
                assert isinstance(r, Response) and r.status == status
                assert r.body == (b"" if status == 204 else BINARY + f"status {status}".encode())
                if status != 204:
                    assert r.headers["content-type"] == "application/octet-stream"

            r = await t.send(get(f"{server.url}/headers"), 5)
            assert all(k == k.lower() for k in r.headers)
            assert r.headers["x-custom-header"] == "Value" and r.headers["retry-after"] == "3"
            assert r.headers["x-request-id"] == "rid-1"
            assert r.headers["x-dup"] == "a, b"  # repeated headers are joined, not dropped

    asyncio.run(main())


@ADAPTERS
def test_request_method_headers_body_and_target_arrive_as_sent(kind: str, server: RawServer) -> None:
    body = json.dumps({"é": [1, None], "s": "x" * 5000}, ensure_ascii=False).encode()
    target = "/echo/a%2Fb%20c%7E?q=%26x&r=%C3%A9&s=a+b"  # sent exactly as the core encoded it

    async def main() -> list[Response]:
        async with adapter(kind) as t:
            sent = Request("POST", server.url + target,
                           {"Authorization": "Bearer secret", "Content-Type": "application/json", "X-Thing": "1"}, body)
            out = [await t.send(sent, 5)]
            for method in ("PUT", "PATCH", "DELETE"):
                out.append(await t.send(Request(method, f"{server.url}/echo", {}, b"{}"), 5))
            out.append(await t.send(Request("DELETE", f"{server.url}/echo", {}), 5))
            return out

    first, *rest = asyncio.run(main())
    assert first.status == 200 and first.body == body
    seen = server.seen[0]
    assert (seen.method, seen.target) == ("POST", target)
    assert seen.headers["authorization"] == "Bearer secret" and seen.headers["x-thing"] == "1"
    assert seen.headers["content-type"] == "application/json"
    assert [s.method for s in server.seen[1:]] == ["PUT", "PATCH", "DELETE", "DELETE"]
    assert [r.body for r in rest] == [b"{}", b"{}", b"{}", b""]


@ADAPTERS
def test_redirects_are_not_followed(kind: str, server: RawServer) -> None:
    async def main() -> Response:
        async with adapter(kind) as t:
            return await t.send(get(f"{server.url}/redirect", Authorization="Bearer secret"), 5)

    r = asyncio.run(main())
    assert r.status == 302 and r.headers["location"].endswith("/status/200")
    assert [s.target for s in server.seen] == ["/redirect"]


@ADAPTERS
def test_keep_alive_reuses_the_callers_connection(kind: str, server: RawServer) -> None:
    async def main() -> None:
        async with adapter(kind) as t:
            for _ in range(5):
                assert (await t.send(get(f"{server.url}/status/200"), 5)).status == 200
            await t.send(Request("POST", f"{server.url}/echo", {}, b"{}"), 5)

    asyncio.run(main())
    assert len(server.seen) == 6
    assert server.connections == 1


# ------------------------------------------------------------------ errors


@ADAPTERS
def test_read_timeout_then_the_next_request_works(kind: str, server: RawServer) -> None:
    async def main() -> tuple[TransportError, Response]:
        async with adapter(kind) as t:
            with pytest.raises(ReadTimeout) as info:
                await t.send(get(f"{server.url}/slow/5"), 0.2)
            return info.value, await t.send(get(f"{server.url}/status/200"), 5)

    exc, after = asyncio.run(main())
    assert isinstance(exc, RequestTimeout) and not isinstance(exc, ConnectError)
    assert not exc.not_sent
    assert after.status == 200


@ADAPTERS
def test_connection_refused_is_connect_error(kind: str, free_port: int) -> None:
    async def main() -> TransportError:
        async with adapter(kind) as t:
            with pytest.raises(ConnectError) as info:
                await t.send(get(f"http://127.0.0.1:{free_port}/"), 5)
            return info.value

    exc = asyncio.run(main())
    assert type(exc) is ConnectError and exc.not_sent
    assert "could not connect" in str(exc)


@ADAPTERS
def test_closed_without_an_answer_is_connection_lost(kind: str, server: RawServer) -> None:
    async def main() -> tuple[TransportError, Response]:
        async with adapter(kind) as t:
            with pytest.raises(ConnectionLostError) as info:
                await t.send(Request("POST", f"{server.url}/drop", {}, b"{}"), 5)
            return info.value, await t.send(get(f"{server.url}/status/200"), 5)

    exc, after = asyncio.run(main())
    assert not exc.not_sent  # the request went out: a POST must not be repeated blindly
    assert after.status == 200


@ADAPTERS
def test_tls_handshake_failure_is_tls_error(kind: str) -> None:
    plain = RawServer(greeting=TLS_HANDSHAKE_FAILURE_ALERT)
    try:
        async def main() -> TransportError:
            async with adapter(kind) as t:
                with pytest.raises(TLSError) as info:
                    await t.send(get(f"https://127.0.0.1:{plain.port}/"), 5)
                return info.value

        exc = asyncio.run(main())
    finally:
        plain.stop()
    assert exc.not_sent and str(exc).startswith("TLS failed")


@ADAPTERS
def test_cancellation_leaves_the_session_usable(kind: str, server: RawServer) -> None:
    # One connection allowed: had the cancelled request kept its connection, the next
    # request would wait for it forever (aiohttp) or until the pool timeout (httpx).
    async def main() -> Response:
        async with adapter(kind, max_connections=1) as t:
            task = asyncio.ensure_future(t.send(get(f"{server.url}/slow/5"), 10))
            await until(lambda: len(server.seen) == 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return await asyncio.wait_for(t.send(get(f"{server.url}/status/200"), 5), 10)

    assert asyncio.run(main()).status == 200


@ADAPTERS
def test_misuse_is_a_usage_error(kind: str) -> None:
    with pytest.raises(UsageError, match="AsyncClient" if kind == "httpx" else "ClientSession"):
        (HttpxTransport if kind == "httpx" else AiohttpTransport)(object())  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="sync one"):
        HttpxTransport(httpx.Client())  # type: ignore[arg-type]

    async def main() -> None:
        async with adapter(kind) as t:
            pass
        with pytest.raises(UsageError, match="closed"):
            await t.send(get("http://127.0.0.1:9/"), 5)

    asyncio.run(main())


# ------------------------------------------------------------------ the whole error table


def _raise(exc: BaseException) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


HTTPX_TABLE: list[tuple[BaseException, type[TransportError]]] = [
    (httpx.ConnectError("refused"), ConnectError),
    (httpx.ConnectTimeout("slow"), ConnectTimeout),
    (httpx.PoolTimeout("busy"), ConnectTimeout),
    (httpx.ReadTimeout("slow"), ReadTimeout),
    (httpx.WriteTimeout("slow"), ReadTimeout),
    (httpx.RemoteProtocolError("Server disconnected without sending a response."), ConnectionLostError),
    (httpx.ReadError("reset"), ConnectionLostError),
    (httpx.WriteError("broken pipe"), ConnectionLostError),
    (httpx.CloseError("close"), ConnectionLostError),
    (httpx.ProxyError("407"), ConnectError),
    (httpx.UnsupportedProtocol("ftp"), TransportError),
    (httpx.LocalProtocolError("bad header"), TransportError),
    (httpx.DecodingError("bad gzip"), TransportError),
    # A bare SSLError may come after the request left (a bad record): not "not sent".
    (ssl.SSLError("bad record mac"), ConnectionLostError),
    (ssl.SSLCertVerificationError("certificate verify failed"), TLSError),  # httpcore < 0.17
]


@pytest.mark.parametrize("raised, expected", HTTPX_TABLE, ids=[type(e).__name__ for e, _ in HTTPX_TABLE])
def test_httpx_error_table(raised: BaseException, expected: type[TransportError]) -> None:
    async def main() -> BaseException:
        async with httpx.AsyncClient(transport=httpx.MockTransport(_raise(raised))) as client:
            with pytest.raises(TransportError) as info:
                await HttpxTransport(client).send(get("http://127.0.0.1:9/x"), 1)
            return info.value

    exc = asyncio.run(main())
    assert type(exc) is expected
    assert exc.not_sent == (expected in (ConnectError, ConnectTimeout, TLSError))


def test_httpx_connect_error_caused_by_ssl_is_tls_error() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed")
        except Exception as cause:
            raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]") from cause

    async def main() -> BaseException:
        async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
            with pytest.raises(TLSError) as info:
                await HttpxTransport(client).send(get("https://127.0.0.1:9/x"), 1)
            return info.value

    assert "CERTIFICATE_VERIFY_FAILED" in str(asyncio.run(main()))


class _FakeRequest:
    """What ``session.request(...)`` returns, raising ``exc`` on entry."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def __aenter__(self) -> Any:
        raise self.exc

    async def __aexit__(self, *exc: object) -> None:  # pragma: no cover - never entered
        pass


def _aiohttp_table() -> list[tuple[BaseException, type[TransportError]]]:
    key: Any = SimpleNamespace(is_ssl=True, ssl=True, host="127.0.0.1", port=9)
    info = aiohttp.RequestInfo(URL("http://127.0.0.1:9/x"), "GET", CIMultiDictProxy(CIMultiDict()), URL("http://127.0.0.1:9/x"))
    return [
        (aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused")), ConnectError),
        (aiohttp.ClientConnectorCertificateError(key, ssl.SSLCertVerificationError("verify failed")), TLSError),
        (aiohttp.ClientConnectorSSLError(key, ssl.SSLError("wrong version")), TLSError),
        (aiohttp.ClientConnectorError(key, ssl.SSLError("handshake")), TLSError),
        (aiohttp.ServerFingerprintMismatch(b"a", b"b", "127.0.0.1", 9), TLSError),
        (aiohttp.ClientProxyConnectionError(key, OSError(111, "refused")), ConnectError),
        (aiohttp.ClientHttpProxyError(info, (), status=407, message="Proxy Authentication Required"), ConnectError),
        (aiohttp.ConnectionTimeoutError("Connection timeout to host"), ConnectTimeout),
        (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), ReadTimeout),
        (aiohttp.ServerTimeoutError("Timeout on reading data from socket"), ReadTimeout),
        (asyncio.TimeoutError(), ReadTimeout),
        (aiohttp.ServerDisconnectedError(), ConnectionLostError),
        (aiohttp.ClientPayloadError("Response payload is not completed"), ConnectionLostError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), ConnectionLostError),
        (aiohttp.ClientConnectionResetError("Cannot write to closing transport"), ConnectionLostError),
        (aiohttp.ClientConnectionError("Connection closed"), ConnectionLostError),
        (aiohttp.ClientResponseError(info, (), status=400, message="invalid status line"), TransportError),
        (aiohttp.InvalidURL("http://["), TransportError),
        (ConnectionResetError(104, "reset"), ConnectionLostError),
    ]


AIOHTTP_TABLE = _aiohttp_table()


@pytest.mark.parametrize("raised, expected", AIOHTTP_TABLE, ids=[type(e).__name__ for e, _ in AIOHTTP_TABLE])
def test_aiohttp_error_table(raised: BaseException, expected: type[TransportError], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiohttp.ClientSession, "request", lambda self, *a, **k: _FakeRequest(raised))

    async def main() -> BaseException:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TransportError) as info:
                await AiohttpTransport(session).send(get("http://127.0.0.1:9/x"), 1)
            return info.value

    exc = asyncio.run(main())
    assert type(exc) is expected
    assert exc.not_sent == (expected in (ConnectError, ConnectTimeout, TLSError))
    assert exc.__suppress_context__  # the library's exception is not chained onto ours


# ------------------------------------------------------------------ the clients end to end


@ADAPTERS
def test_two_hundred_concurrent_status_calls(kind: str) -> None:
    with ActionProviderStub(tokens={TOKEN: ALICE}) as ap:
        async def main() -> list[Any]:
            async with adapter(kind) as t:
                client = AsyncActionClient.new_client(ap.url, BearerTokenAuthorizer(TOKEN), transport=t)
                action_id = (await client.run({"echo_string": "many"}))["action_id"]
                docs = await asyncio.gather(*(client.status(action_id) for _ in range(200)))
                return [action_id, *docs]

        action_id, *docs = asyncio.run(main())
        count = ap.state.request_count
    assert len(docs) == 200
    assert all(d.http_status == 200 and d["action_id"] == action_id for d in docs)
    assert count >= 201  # the run and every status call (a retried request may add more)


@ADAPTERS
def test_action_client_run_wait_log(kind: str) -> None:
    with ActionProviderStub(tokens={TOKEN: ALICE}, prefix="/ap") as ap:
        async def main() -> tuple[Any, Any, Any, bool]:
            async with adapter(kind) as t:
                session_open = t.session if isinstance(t, AiohttpTransport) else t.client
                async with AsyncActionClient.new_client(ap.url, BearerTokenAuthorizer(TOKEN), transport=t) as client:
                    started = await client.run({"echo_string": "hello adapters", "sleep_s": 0.1}, label="adapter run")
                    done = await client.wait(started["action_id"], timeout=10, initial_delay=0.02, max_delay=0.1)
                    log = await client.log(started["action_id"], limit=50)
                # leaving the client's ``async with`` must not close the caller's session
                closed = session_open.closed if isinstance(session_open, aiohttp.ClientSession) else session_open.is_closed
                return started, done, log, closed

        started, done, log, closed = asyncio.run(main())
    assert started["status"] in ("ACTIVE", "INACTIVE") and started["label"] == "adapter run"
    assert done["status"] == "SUCCEEDED"
    assert done["details"]["echo_string"] == "hello adapters"
    assert done["action_id"] == started["action_id"]
    assert any(entry["code"] == "ActionSucceeded" for entry in log["entries"])
    assert closed is False


@ADAPTERS
def test_flows_client_accepts_the_adapter(kind: str) -> None:
    async def main() -> bool:
        async with adapter(kind) as t:
            client = AsyncFlowsClient.new_client("client-id", lambda *a: None, None, transport=t)
            return client.transport is t

    assert asyncio.run(main())


# ------------------------------------------------------------------ imports


def test_adapters_are_not_imported_by_the_package() -> None:
    code = (
        "import sys, automate_lite, automate_lite.transports\n"
        "automate_lite.transports.ThreadedAsyncTransport\n"
        "bad = [m for m in ('aiohttp', 'httpx', 'automate_lite.transports.aiohttp',"
        " 'automate_lite.transports.httpx') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module, library, name", [("aiohttp", "aiohttp", "AiohttpTransport"), ("httpx", "httpx", "HttpxTransport")])
def test_missing_library_says_what_to_install(module: str, library: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, f"automate_lite.transports.{module}")
    monkeypatch.setitem(sys.modules, library, None)  # makes `import <library>` fail
    with pytest.raises(ImportError) as info:
        importlib.import_module(f"automate_lite.transports.{module}")
    assert str(info.value) == f"{name} needs {library}: pip install 'automate-lite[{library}]'"
