"""Transport edges (issue 14), over real sockets on 127.0.0.1: TLS failures after the
request left, one reading of every URL, response size limits, malformed framing on
the sync path, and transports that pickle."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import gzip
import os
import pickle
import socket
import subprocess
import sys
import threading
from typing import Any, Callable, Iterator

import httpx
import pytest
from _sockets import pipe
from _tls import self_signed, server_context

import automate_lite as al
from automate_lite import Request
from automate_lite._core.urls import split_url
from automate_lite.errors import ConnectionLostError, TLSError, TransportError, UsageError
from automate_lite.transports import AsyncioTransport, ThreadedAsyncTransport, Urllib3Transport
from automate_lite.transports.aiohttp import AiohttpTransport
from automate_lite.transports.httpx import HttpxTransport

NO_WAIT = al.RetryPolicy(max_attempts=4, backoff_base=0.0, backoff_max=0.0)


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return self_signed(tmp_path_factory.mktemp("edges-tls"))


def corrupt_record(req: Any, sock: socket.socket, server: Any) -> bool:
    """Read the request (the server counts it), then write a TLS record that fails its MAC."""
    os.write(sock.fileno(), b"\x17\x03\x03\x00\x40" + bytes(range(64)))
    server.pause(0.5)  # let the client read the bad record before the close
    return False


@pytest.fixture
def corrupt_tls_server(raw_server: Callable[..., Any], cert_files: tuple[str, str]) -> Any:
    ctx = server_context(cert_files)
    return raw_server(corrupt_record, ctx)


# ------------------------------------------------------------- TLS after the request left


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_urllib3_bad_tls_record_after_a_post_is_a_lost_connection(corrupt_tls_server: Any) -> None:
    with al.ActionClient.new_client(f"{corrupt_tls_server.url}/ap", None, 5, retry=NO_WAIT) as client:
        with pytest.raises(ConnectionLostError) as info:
            client.release("a1")
    assert not isinstance(info.value, TLSError) and not info.value.not_sent
    assert [r.method for r in corrupt_tls_server.requests] == ["POST"]  # delivered once


def test_urllib3_failed_handshake_is_still_not_sent(corrupt_tls_server: Any) -> None:
    strict = Urllib3Transport(environ={}, verify=True)
    with pytest.raises(TLSError) as info:
        strict.send(Request("POST", f"{corrupt_tls_server.url}/x", {}, b"{}"), 5)
    assert info.value.not_sent and corrupt_tls_server.requests == []


def test_httpx_bad_tls_record_after_a_post_is_a_lost_connection(corrupt_tls_server: Any) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(verify=False) as http:
            client = al.AsyncActionClient.new_client(
                f"{corrupt_tls_server.url}/ap", None, 5, transport=HttpxTransport(http), retry=NO_WAIT
            )
            with pytest.raises(ConnectionLostError) as info:
                await client.release("a1")
            assert not isinstance(info.value, TLSError) and not info.value.not_sent

    asyncio.run(main())
    assert [r.method for r in corrupt_tls_server.requests] == ["POST"]


def test_asyncio_bad_tls_record_after_a_post_is_a_lost_connection(corrupt_tls_server: Any) -> None:
    async def main() -> None:
        client = al.AsyncActionClient.new_client(
            f"{corrupt_tls_server.url}/ap", None, 5, transport=AsyncioTransport(environ={}), retry=NO_WAIT
        )
        with pytest.raises(ConnectionLostError):
            await client.release("a1")

    asyncio.run(main())
    assert [r.method for r in corrupt_tls_server.requests] == ["POST"]


# ------------------------------------------------------------------ one reading of a URL


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:x@{far}/ap",
        "https://127.1\\.localhost/ap",
        "http://{far}:{port}\\@127.0.0.1:{port}/ap",
        "http://user:hunter2@127.0.0.1:{port}/ap",
        "http://0x7f.0.0.1:{port}/ap",
    ],
)
def test_ambiguous_urls_are_refused_everywhere(url: str, raw_server: Callable[..., Any]) -> None:
    server = raw_server(lambda req, sock, srv: False)
    url = url.format(far="example.org", port=server.port)
    with pytest.raises(UsageError) as info:
        al.ActionClient.new_client(url, al.BearerTokenAuthorizer("tok"))
    assert "hunter2" not in str(info.value)
    for t in (Urllib3Transport(environ={}),):
        with pytest.raises(UsageError) as info:
            t.send(Request("GET", url, {"Authorization": "Bearer tok"}, None), 2)
        assert "hunter2" not in str(info.value)

    async def main() -> None:
        with pytest.raises(UsageError):
            await AsyncioTransport(environ={}).send(Request("GET", url, {}, None), 2)

    asyncio.run(main())
    assert server.requests == []  # nothing reached any host


def test_star_localhost_connects_to_localhost_without_dns(raw_server: Callable[..., Any], monkeypatch: Any) -> None:
    server = raw_server(lambda req, sock, srv: (sock.sendall(srv.response(200, b"{}")), True)[1])
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert split_url("http://api.localhost:1/").connect_host == "localhost"
    t = Urllib3Transport(environ={})
    assert t.send(Request("GET", f"http://api.localhost:{server.port}/x", {}, None), 5).status == 200
    assert server.requests[0].headers["host"] == f"api.localhost:{server.port}"
    assert "api.localhost" not in asked


# ----------------------------------------------------------------------- size limits


def gzip_bomb(req: Any, sock: socket.socket, server: Any) -> bool:
    body = gzip.compress(b"\0" * (8 * 1024 * 1024))  # 8 MiB in about 8 KiB
    sock.sendall(server.response(200, body, {"Content-Encoding": "gzip"}))
    return True


def test_a_gzip_bomb_is_refused_past_the_limit_by_every_transport(raw_server: Callable[..., Any]) -> None:
    server = raw_server(gzip_bomb)
    url = f"{server.url}/bomb"
    with pytest.raises(TransportError, match="max_response_bytes=1048576"):
        Urllib3Transport(environ={}, max_response_bytes=1 << 20).send(Request("GET", url, {}, None), 5)
    assert len(Urllib3Transport(environ={}).send(Request("GET", url, {}, None), 5).body) == 8 * 1024 * 1024

    async def main() -> None:
        with pytest.raises(TransportError, match="max_response_bytes=1048576"):
            await AsyncioTransport(environ={}, max_response_bytes=1 << 20).send(Request("GET", url, {}, None), 5)
        with pytest.raises(TransportError, match="max_response_bytes"):
            await ThreadedAsyncTransport(max_response_bytes=1 << 20, environ={}).send(Request("GET", url, {}, None), 5)

    asyncio.run(main())


def test_max_response_bytes_is_checked() -> None:
    for bad in (0, -1, 1.5, "1"):
        with pytest.raises(UsageError, match="max_response_bytes"):
            Urllib3Transport(max_response_bytes=bad)  # type: ignore[arg-type]
        with pytest.raises(UsageError, match="max_response_bytes"):
            AsyncioTransport(max_response_bytes=bad)  # type: ignore[arg-type]


# ------------------------------------------------------- malformed framing, sync path


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 30 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 30 + b"\r\n",
    ],
)
def test_sync_transport_turns_bad_framing_into_transport_errors(raw_server: Callable[..., Any], head: bytes) -> None:
    server = raw_server(lambda req, sock, srv: (sock.sendall(head), False)[1])
    with pytest.raises(TransportError):
        Urllib3Transport(environ={}).send(Request("GET", f"{server.url}/x", {}, None), 5)


# ------------------------------------------------------------------- CONNECT, HTTP/1.0


def test_asyncio_tunnels_through_a_proxy_answering_http_1_0(
    raw_server: Callable[..., Any], cert_files: tuple[str, str]
) -> None:
    ctx = server_context(cert_files)
    target = raw_server(lambda req, sock, srv: (sock.sendall(srv.response(200, b"tunnelled")), True)[1], ctx)
    listener = socket.create_server(("127.0.0.1", 0))
    connects: list[bytes] = []

    def proxy() -> None:
        conn, _ = listener.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(4096)
        connects.append(head.split(b"\r\n", 1)[0])
        conn.sendall(b"HTTP/1.0 200 Connection established\r\n\r\n")
        up = socket.create_connection(("127.0.0.1", target.port))

        threading.Thread(target=pipe, args=(up, conn), daemon=True).start()
        pipe(conn, up)

    th = threading.Thread(target=proxy, daemon=True)
    th.start()
    proxy_url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    async def main() -> bytes:
        # A DNS name that is not loopback, so that the proxy is used: it tunnels to 127.0.0.1.
        t = AsyncioTransport(proxy_url=proxy_url, environ={}, verify=False)
        resp = await t.send(Request("GET", f"https://tunnel.example:{target.port}/x", {}, None), 5)
        await t.aclose()
        return resp.body

    try:
        assert asyncio.run(main()) == b"tunnelled"
        assert connects == [f"CONNECT tunnel.example:{target.port} HTTP/1.1".encode()]
    finally:
        listener.close()


# ----------------------------------------------------------------------- no urllib3


def test_the_asyncio_transport_does_not_import_urllib3() -> None:
    # `import automate_lite` loads urllib3 (the sync default), so the check is that the
    # asyncio transport's own modules never name it, and that an http proxy does not
    # bring in the threaded (urllib3) transport.
    import ast

    import automate_lite.transports._aioconn as aioconn
    import automate_lite.transports._aiopool as aiopool
    import automate_lite.transports._h1 as h1
    import automate_lite.transports._network as network
    import automate_lite.transports.aio as aio

    for module in (aio, aioconn, aiopool, network, h1):
        tree = ast.parse(open(module.__file__ or "").read())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.col_offset == 0}
        assert not any("urllib3" in name for name in names), (module.__name__, names)
    code = (
        "import sys, asyncio\n"
        "from automate_lite.transports.aio import AsyncioTransport\n"
        "t = AsyncioTransport(environ={}, proxy_url='http://127.0.0.1:9')\n"
        "print('automate_lite.transports.threaded' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.getcwd())
    assert out.stdout.strip() == "False", out.stderr


# --------------------------------------------------------------------------- pickling


def fetch_in_child(transport: Any, url: str) -> int:
    if isinstance(transport, Urllib3Transport):
        return transport.send(Request("GET", url, {}, None), 5).status

    async def main() -> int:
        return (await transport.send(Request("GET", url, {}, None), 5)).status

    return asyncio.run(main())


def test_transports_pickle_and_work_in_another_process(raw_server: Callable[..., Any]) -> None:
    server = raw_server(lambda req, sock, srv: (sock.sendall(srv.response(201, b"{}")), True)[1])
    url = f"{server.url}/x"
    sync = Urllib3Transport(environ={"NO_PROXY": "internal.test"}, max_response_bytes=1234)
    assert sync.send(Request("GET", url, {}, None), 5).status == 201  # a live pool, left behind
    copy = pickle.loads(pickle.dumps(sync))
    assert copy.max_response_bytes == 1234 and copy._no_proxy == ("internal.test",) and copy._pools == {}
    transports = [sync, AsyncioTransport(environ={}), ThreadedAsyncTransport(environ={})]
    # spawn, not fork: forking a process with threads may deadlock, and a spawned child
    # really rebuilds each transport from its pickle
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=spawn) as ex:
        assert list(ex.map(fetch_in_child, transports, [url] * 3)) == [201, 201, 201]
    client = al.ActionClient.new_client(f"{server.url}/ap", None, transport=sync)
    assert pickle.loads(pickle.dumps(client)).transport is not None
