"""AsyncioTransport (stdlib asyncio HTTP/1.1, no threads) over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import socket
import ssl
import struct
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest
from _sockets import pipe, read_head
from _tls import self_signed, server_context

import automate_lite as al
from automate_lite import (
    ConnectError,
    ConnectionLostError,
    ConnectTimeout,
    ReadTimeout,
    Request,
    Response,
    TLSError,
    UsageError,
)
from automate_lite.transports.aio import AsyncioTransport
from automate_lite.transports.threaded import ThreadedAsyncTransport
from automate_lite.testing.action_provider import ActionProviderStub

BINARY = bytes(range(256)) * 4
BIG = bytes(range(251)) * 4200  # ~1 MB, arrives in many reads


def handler(req: Any, sock: socket.socket, server: Any) -> bool:
    """One route table for the raw server; each path behaves (or misbehaves) its own way."""
    path = urlsplit(req.target).path
    parts = path.strip("/").split("/")
    route = parts[0]
    if route == "status":
        status = int(parts[1])
        body = b"" if status in (204, 304) else BINARY + f"status {status}".encode()
        sock.sendall(server.response(status, body, {"Content-Type": "application/octet-stream"}))
    elif route == "echo":
        sock.sendall(server.response(200, req.body, {"Content-Type": "application/json"}))
    elif route == "big":
        sock.sendall(server.response(200, BIG))
    elif route == "headers":
        sock.sendall(
            server.response(
                200,
                b"{}",
                [("X-Custom-Header", "Value"), ("X-Dup", "a"), ("x-dup", "b"), ("X-DUP", "c"),
                 ("Retry-After", "3"), ("X-Folded", "one\r\n  two"), ("X-Empty", "")],
            )
        )
    elif route == "chunked":
        # Sizes in hex with an extension, a trailer, and the pieces split across writes.
        pieces = [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n",
            b"5;ext=1\r\nhello\r\n",
            b"1",
            b"A\r\n" + b"x" * 26 + b"\r\n",
            b"0\r\nX-Trailer: t\r\n",
            b"\r\n",
        ]
        for piece in pieces:
            sock.sendall(piece)
            server.pause(0.005)
    elif route == "chunked-big":
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(BIG[i : i + 70000]), BIG[i : i + 70000]) for i in range(0, len(BIG), 70000))
        sock.sendall(head + chunks + b"0\r\n\r\n")
    elif route == "until-close":
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ")
        server.pause(0.01)
        sock.sendall(b"part two")
        return False
    elif route == "http10":
        sock.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
        return True  # the server keeps it open, but HTTP/1.0 without keep-alive must not be reused
    elif route == "conn-close":
        sock.sendall(server.response(200, b"bye", {"Connection": "close"}))
        return True  # as above: "Connection: close" alone must stop reuse
    elif route == "head":
        # A correct HEAD answer: the length of the body it would have, and no body.
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Head: yes\r\n\r\n")
    elif route == "interim":
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
        sock.sendall(server.response(201, b"final", {"X-Final": "1"}))
    elif route == "gzip":
        sock.sendall(server.response(200, gzip.compress(b'{"zipped": true}'), {"Content-Encoding": "gzip"}))
    elif route == "slow":
        server.pause(float(parts[1]))
        sock.sendall(server.response(200, b'{"slow": true}'))
    elif route == "stall":
        sock.sendall(server.response(200, b"0123456789", content_length=100))
        server.pause(5)
        return False
    elif route == "truncate":
        sock.sendall(server.response(200, b"0123456789", content_length=100))
        return False
    elif route == "reset":
        sock.sendall(server.response(200, b"0123456789", content_length=100))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False  # closed with SO_LINGER 0: a TCP reset
    elif route == "drop":
        return False
    elif route == "hang":
        # Answer nothing; return when the client closes its end.
        try:
            sock.recv(1)
        except OSError:
            pass
        return False
    elif route == "bye":
        sock.sendall(server.response(200, b"bye"))  # keep-alive answer, then an "idle" close
        return False
    elif route == "unsolicited":
        sock.sendall(server.response(200, b"ok"))
        server.pause(0.01)
        sock.sendall(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        return False
    elif route == "garbage":
        sock.sendall(b"SPDY/9 what\r\n\r\n")
        return False
    elif route == "bad-chunk":
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        return False
    else:
        sock.sendall(server.response(404, b"no such route"))
    return True


@pytest.fixture
def server(raw_server: Callable[..., Any]) -> Any:
    return raw_server(handler)


def get(url: str, **headers: str) -> Request:
    return Request("GET", url, headers)


def run(coro_fn: Callable[[AsyncioTransport], Any], transport: AsyncioTransport | None = None) -> Any:
    """``asyncio.run(coro_fn(t))`` with a fresh transport (or ``transport``), closed after."""
    t = transport or AsyncioTransport(environ={})

    async def main() -> Any:
        try:
            return await coro_fn(t)
        finally:
            if transport is None:
                await t.aclose()

    return asyncio.run(main())


def open_connections(server: Any) -> int:
    """Connections the raw server still holds open (it closes its end once ours closes)."""
    with server._lock:
        return sum(1 for s in server._socks if s.fileno() != -1)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting until {what}")
        time.sleep(0.005)


async def async_wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting until {what}")
        await asyncio.sleep(0.005)


def stats(t: AsyncioTransport, server: Any) -> tuple[int, int, int]:
    """(slots taken, idle, waiting) of the pool to ``server`` on the running loop."""
    return t._stats().get(("http" if server.url.startswith("http:") else "https", "127.0.0.1", server.port), (0, 0, 0))


# ------------------------------------------------------------ answers pass through


@pytest.mark.parametrize("status", [200, 201, 204, 304, 404, 500])
def test_status_and_body_pass_through(server: Any, status: int) -> None:
    async def go(t: AsyncioTransport) -> Response:
        return await t.send(get(f"{server.url}/status/{status}"), 5)

    r = run(go)
    assert isinstance(r, Response)
    assert r.status == status
    if status in (204, 304):
        assert r.body == b""
    else:
        assert r.body == BINARY + f"status {status}".encode()
        assert r.headers["content-type"] == "application/octet-stream"


def test_header_names_are_lower_case_and_repeats_joined(server: Any) -> None:
    r = run(lambda t: t.send(get(f"{server.url}/headers"), 5))
    assert r.headers["x-custom-header"] == "Value"
    assert r.headers["x-dup"] == "a, b, c"
    assert r.headers["retry-after"] == "3" and r.headers["x-empty"] == ""
    assert r.headers["x-folded"] == "one two"  # obsolete line folding, unfolded
    assert all(k == k.lower() for k in r.headers)


def test_request_headers_and_body_arrive_as_sent(server: Any) -> None:
    body = json.dumps({"é": [1, None], "s": "x" * 5000}, ensure_ascii=False).encode()
    req = Request(
        "POST",
        f"{server.url}/echo?a=1&b=x%20y",
        {"Authorization": "Bearer tok", "Content-Type": "application/json", "X-Extra": "v1", "User-Agent": "ua/1"},
        body,
    )
    r = run(lambda t: t.send(req, 5))
    assert r.status == 200 and r.body == body
    seen = server.requests[-1]
    assert seen.method == "POST" and seen.target == "/echo?a=1&b=x%20y"
    assert seen.body == body
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["authorization"] == "Bearer tok"
    assert seen.headers["x-extra"] == "v1" and seen.headers["user-agent"] == "ua/1"
    assert seen.headers["content-length"] == str(len(body))
    assert seen.header_names[0] == "Host"


def test_large_bodies_both_ways(server: Any) -> None:
    async def go(t: AsyncioTransport) -> tuple[Response, Response, Response]:
        up = await t.send(Request("PUT", f"{server.url}/echo", {}, BIG), 5)
        down = await t.send(get(f"{server.url}/big"), 5)
        chunked = await t.send(get(f"{server.url}/chunked-big"), 5)
        return up, down, chunked

    up, down, chunked = run(go)
    assert up.body == BIG and down.body == BIG and chunked.body == BIG
    assert server.connections == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "GET"])
def test_methods_without_body(server: Any, method: str) -> None:
    r = run(lambda t: t.send(Request(method, f"{server.url}/echo", {}), 5))
    assert r.status == 200 and r.body == b""
    seen = server.requests[-1]
    assert seen.method == method and seen.body == b""
    # As http.client does: "Content-Length: 0" where a body is expected, nothing elsewhere.
    assert seen.headers.get("content-length") == ("0" if method in ("POST", "PUT", "PATCH") else None)


def test_chunked_body(server: Any) -> None:
    async def go(t: AsyncioTransport) -> tuple[Response, Response]:
        first = await t.send(get(f"{server.url}/chunked"), 5)
        return first, await t.send(get(f"{server.url}/status/200"), 5)

    r, after = run(go)
    assert r.status == 200 and r.body == b"hello" + b"x" * 26
    assert r.headers["transfer-encoding"] == "chunked"
    assert after.status == 200
    assert server.connections == 1  # a chunked answer read to its end leaves the connection reusable


def test_body_read_until_close(server: Any) -> None:
    async def go(t: AsyncioTransport) -> tuple[Response, Response]:
        first = await t.send(get(f"{server.url}/until-close"), 5)
        return first, await t.send(get(f"{server.url}/status/200"), 5)

    r, after = run(go)
    assert r.status == 200 and r.body == b"part one, part two"
    assert after.status == 200
    assert server.connections == 2


def test_head_and_no_body_statuses_do_not_wait_for_a_body(server: Any) -> None:
    async def go(t: AsyncioTransport) -> list[Response]:
        return [
            await t.send(Request("HEAD", f"{server.url}/head", {}), 5),
            await t.send(get(f"{server.url}/status/204"), 5),
            await t.send(get(f"{server.url}/status/304"), 5),
            await t.send(Request("HEAD", f"{server.url}/head", {}), 5),
            await t.send(get(f"{server.url}/status/200"), 5),
        ]

    rs = run(go)
    assert [r.status for r in rs] == [200, 204, 304, 200, 200]
    assert rs[0].body == b"" and rs[0].headers["content-length"] == "100" and rs[0].headers["x-head"] == "yes"
    assert rs[4].body.endswith(b"status 200")
    assert server.connections == 1  # all on one connection: no body was awaited


def test_interim_answers_are_skipped(server: Any) -> None:
    r = run(lambda t: t.send(get(f"{server.url}/interim"), 5))
    assert r.status == 201 and r.body == b"final" and r.headers["x-final"] == "1"
    assert "link" not in r.headers


def test_gzip_body_is_decoded(server: Any) -> None:
    r = run(lambda t: t.send(get(f"{server.url}/gzip"), 5))
    assert r.json() == {"zipped": True}


def test_invalid_answers_are_connection_lost(server: Any) -> None:
    async def go(t: AsyncioTransport) -> Response:
        for route in ("garbage", "bad-chunk"):
            with pytest.raises(ConnectionLostError, match="invalid response"):
                await t.send(get(f"{server.url}/{route}"), 5)
        return await t.send(get(f"{server.url}/status/200"), 5)

    assert run(go).status == 200


def test_no_timeout(server: Any) -> None:
    assert run(lambda t: t.send(get(f"{server.url}/status/200"), None)).status == 200


def test_redirects_are_not_followed(server: Any) -> None:
    async def go(t: AsyncioTransport) -> Response:
        return await t.send(get(f"{server.url}/status/302", Authorization="Bearer t"), 5)

    assert run(go).status == 302
    assert len(server.requests) == 1


def test_bad_requests_are_refused_before_sending(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        with pytest.raises(UsageError, match="line breaks"):
            await t.send(get(f"{server.url}/echo", **{"X-Evil": "a\r\nX-Injected: 1"}), 5)
        with pytest.raises(UsageError, match="line breaks"):
            await t.send(get(f"{server.url}/echo", **{"X-Evil": "a\nb"}), 5)
        with pytest.raises(UsageError, match="percent-encoded"):
            await t.send(get(f"{server.url}/a b"), 5)
        with pytest.raises(UsageError, match="method"):
            await t.send(Request("GET /x HTTP/1.1\r\n", f"{server.url}/echo", {}), 5)
        with pytest.raises(UsageError, match="http:// or https://"):
            await t.send(get("ftp://127.0.0.1/x"), 5)

    run(go)
    assert server.requests == []


def test_argument_checks(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="max_connections_per_host"):
        AsyncioTransport(max_connections_per_host=0)
    with pytest.raises(UsageError, match="max_connections_per_host"):
        AsyncioTransport(max_connections_per_host=True)
    with pytest.raises(UsageError, match="ca_certs"):
        AsyncioTransport(ca_certs=str(tmp_path / "missing.pem"))
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(UsageError, match="CA bundle"):
        AsyncioTransport(ca_certs=str(tmp_path / "junk.pem"))
    with pytest.raises(UsageError, match="verify"):
        AsyncioTransport(verify="yes")  # type: ignore[arg-type]


# ----------------------------------------------------------------- connection reuse


def test_keep_alive_reuses_one_connection(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        for i in range(10):
            assert (await t.send(get(f"{server.url}/status/200"), 5)).status == 200
            assert (await t.send(Request("POST", f"{server.url}/echo", {}, str(i).encode()), 5)).body == str(i).encode()
        assert stats(t, server) == (1, 1, 0)
        await t.aclose()  # closes the idle connection; the transport stays usable
        assert stats(t, server) == (0, 0, 0)
        assert (await t.send(get(f"{server.url}/status/201"), 5)).status == 201

    run(go)
    assert len(server.requests) == 21
    assert server.connections == 2


@pytest.mark.parametrize("route", ["http10", "conn-close"])
def test_a_connection_the_server_will_close_is_not_reused(server: Any, route: str) -> None:
    async def go(t: AsyncioTransport) -> None:
        for _ in range(3):
            assert (await t.send(get(f"{server.url}/{route}"), 5)).status == 200

    run(go)
    assert server.connections == 3


def test_request_asking_to_close_is_honoured(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        for _ in range(3):
            assert (await t.send(get(f"{server.url}/status/200", Connection="close"), 5)).status == 200
        assert stats(t, server) == (0, 0, 0)

    run(go)
    assert server.connections == 3


def test_per_host_limit_under_200_concurrent_requests(server: Any) -> None:
    async def go(t: AsyncioTransport) -> list[Response]:
        async def one(i: int) -> Response:
            return await t.send(Request("POST", f"{server.url}/echo", {}, str(i).encode()), 10)

        responses = await asyncio.gather(*(one(i) for i in range(200)))
        assert stats(t, server) == (8, 8, 0)
        return responses

    responses = run(go, AsyncioTransport(max_connections_per_host=8, environ={}))
    assert [r.body for r in responses] == [str(i).encode() for i in range(200)]
    assert len(server.requests) == 200
    assert server.connections <= 8  # no connection beyond the limit, none thrown away


def test_waiters_are_served_first_come_first_served(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        tasks = []
        for i in range(6):
            tasks.append(asyncio.ensure_future(t.send(Request("POST", f"{server.url}/echo", {}, str(i).encode()), 5)))
            await asyncio.sleep(0)  # start them in order
        await asyncio.gather(*tasks)

    run(go, AsyncioTransport(max_connections_per_host=1, environ={}))
    assert [r.body for r in server.requests] == [str(i).encode() for i in range(6)]
    assert server.connections == 1


def test_idle_connection_closed_by_the_server_is_not_used(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        assert (await t.send(get(f"{server.url}/bye"), 5)).body == b"bye"
        # The event loop notices the close while the connection is idle...
        await async_wait_until(lambda: stats(t, server) == (0, 0, 0), "the closed connection left the pool")
        # ...so even a POST (never re-sent by the transport) goes out on a new one.
        r = await t.send(Request("POST", f"{server.url}/echo", {}, b"{}"), 5)
        assert r.body == b"{}"

    run(go)
    assert server.connections == 2
    assert [r.target for r in server.requests] == ["/bye", "/echo"]


def test_request_right_after_the_server_closed_works(server: Any) -> None:
    # No pause: the close may not have been noticed yet. A GET is then re-sent once
    # on a new connection; either way the caller sees an answer.
    async def go(t: AsyncioTransport) -> None:
        for _ in range(5):
            assert (await t.send(get(f"{server.url}/bye"), 5)).body == b"bye"
            assert (await t.send(get(f"{server.url}/status/200"), 5)).status == 200

    run(go)


def test_unsolicited_bytes_make_a_connection_unusable(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        assert (await t.send(get(f"{server.url}/unsolicited"), 5)).body == b"ok"
        await async_wait_until(lambda: stats(t, server) == (0, 0, 0), "the spoiled connection left the pool")
        assert (await t.send(get(f"{server.url}/status/200"), 5)).status == 200

    run(go)
    assert server.connections == 2


def test_reused_connection_dying_silently_resends_idempotent_requests_once(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        await t.send(get(f"{server.url}/status/200"), 5)  # a connection to reuse
        with pytest.raises(ConnectionLostError) as info:
            await t.send(get(f"{server.url}/drop"), 5)
        assert type(info.value) is ConnectionLostError and not info.value.not_sent
        assert "before any response arrived" in str(info.value)

    run(go)
    # Once on the reused connection, once more on a new one; not a third time.
    assert [r.target for r in server.requests] == ["/status/200", "/drop", "/drop"]


def test_reused_connection_dying_silently_does_not_resend_a_post(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        await t.send(get(f"{server.url}/status/200"), 5)
        with pytest.raises(ConnectionLostError):
            await t.send(Request("POST", f"{server.url}/drop", {}, b"{}"), 5)
        assert (await t.send(get(f"{server.url}/status/200"), 5)).status == 200

    run(go)
    assert [r.target for r in server.requests] == ["/status/200", "/drop", "/status/200"]


# ---------------------------------------------------------------- failures, mapped


def test_read_timeout_before_the_headers(server: Any) -> None:
    async def go(t: AsyncioTransport) -> Response:
        with pytest.raises(ReadTimeout) as info:
            await t.send(get(f"{server.url}/slow/5"), 0.2)
        assert not info.value.not_sent
        assert "no response headers arrived within the read timeout of 0.2s" in str(info.value)
        return await t.send(get(f"{server.url}/status/200"), 5)

    assert run(go).status == 200


def test_read_timeout_in_the_middle_of_the_body(server: Any) -> None:
    async def go(t: AsyncioTransport) -> Response:
        with pytest.raises(ReadTimeout) as info:
            await t.send(get(f"{server.url}/stall"), 0.2)
        assert "the response body stalled within the read timeout of 0.2s" in str(info.value)
        return await t.send(get(f"{server.url}/status/200"), 5)

    assert run(go).status == 200


def test_connection_refused_is_connect_error(free_port: int) -> None:
    async def go(t: AsyncioTransport) -> None:
        with pytest.raises(ConnectError) as info:
            await t.send(get(f"http://127.0.0.1:{free_port}/x"), 2)
        assert type(info.value) is ConnectError and info.value.not_sent
        assert "could not connect" in str(info.value)
        assert t._stats() == {("http", "127.0.0.1", free_port): (0, 0, 0)}  # the slot was given back

    run(go)


def test_unknown_host_is_connect_error() -> None:
    async def go(t: AsyncioTransport) -> None:
        with pytest.raises(ConnectError):
            await t.send(get("http://no-such-host.invalid/x"), 5)

    run(go)


def test_truncated_body_is_a_lost_connection(server: Any) -> None:
    async def go(t: AsyncioTransport) -> Response:
        with pytest.raises(ConnectionLostError) as info:
            await t.send(get(f"{server.url}/truncate"), 5)
        assert "IncompleteRead(10 bytes read, 90 more expected)" in str(info.value)
        return await t.send(get(f"{server.url}/status/200"), 5)

    assert run(go).status == 200


def test_reset_mid_response_is_a_lost_connection(server: Any) -> None:
    async def go(t: AsyncioTransport) -> Response:
        with pytest.raises(ConnectionLostError) as info:
            await t.send(get(f"{server.url}/reset"), 5)
        assert not info.value.not_sent
        return await t.send(get(f"{server.url}/status/200"), 5)

    assert run(go).status == 200


def test_dropped_connection_is_connection_lost(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        with pytest.raises(ConnectionLostError) as info:
            await t.send(Request("POST", f"{server.url}/drop", {}, b"{}"), 5)
        assert info.value.not_sent is False

    run(go)


# --------------------------------------------------------------------- cancellation


def test_cancellation_closes_the_connection_and_the_next_request_works(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        task = asyncio.ensure_future(t.send(get(f"{server.url}/hang"), 30))
        await asyncio.to_thread(server.wait_for_requests, 1)
        assert open_connections(server) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert stats(t, server) == (0, 0, 0)  # not put back half-read
        await asyncio.to_thread(wait_until, lambda: open_connections(server) == 0, "the server saw the close")
        assert (await t.send(get(f"{server.url}/status/200"), 5)).status == 200
        assert stats(t, server) == (1, 1, 0)

    run(go)
    assert server.connections == 2


def test_cancelled_waiter_gives_its_turn_away(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        busy = asyncio.ensure_future(t.send(get(f"{server.url}/slow/0.3"), 5))
        await asyncio.sleep(0)
        queued = [asyncio.ensure_future(t.send(get(f"{server.url}/status/20{i}"), 5)) for i in range(3)]
        await asyncio.sleep(0)
        assert stats(t, server) == (1, 0, 3)
        queued[1].cancel()
        assert (await busy).status == 200
        assert [r.status for r in await asyncio.gather(queued[0], queued[2])] == [200, 202]
        with pytest.raises(asyncio.CancelledError):
            await queued[1]
        assert stats(t, server) == (1, 1, 0)

    run(go, AsyncioTransport(max_connections_per_host=1, environ={}))
    assert [r.target for r in server.requests] == ["/slow/0.3", "/status/200", "/status/202"]
    assert server.connections == 1


def test_many_cancellations_leak_nothing(server: Any) -> None:
    async def go(t: AsyncioTransport) -> None:
        tasks = [asyncio.ensure_future(t.send(get(f"{server.url}/slow/0.05"), 5)) for _ in range(40)]
        await asyncio.sleep(0.02)
        for task in tasks[::2]:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results[::2])
        assert all(isinstance(r, Response) and r.status == 200 for r in results[1::2])
        taken, idle, waiting = stats(t, server)
        assert taken == idle <= 4 and waiting == 0
        await t.aclose()
        await asyncio.to_thread(wait_until, lambda: open_connections(server) == 0, "every connection closed")

    run(go, AsyncioTransport(max_connections_per_host=4, environ={}))


def test_stalled_tls_handshake_is_a_connect_timeout_and_cancellable() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never speaks TLS
    port = listener.getsockname()[1]
    try:
        async def go(t: AsyncioTransport) -> None:
            with pytest.raises(ConnectTimeout) as info:
                await t.send(get(f"https://127.0.0.1:{port}/x"), 0.2)
            assert info.value.not_sent
            task = asyncio.ensure_future(t.send(get(f"https://127.0.0.1:{port}/x"), 30))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert t._stats()[("https", "127.0.0.1", port)] == (0, 0, 0)

        run(go)
    finally:
        listener.close()


# ------------------------------------------------------------------------------ TLS


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A throwaway self-signed certificate for 127.0.0.1, localhost and tunnel.example.test."""
    return self_signed(tmp_path_factory.mktemp("aio-tls"), dns=("localhost", "tunnel.example.test"))


@pytest.fixture
def tls_server(raw_server: Callable[..., Any], cert_files: tuple[str, str]) -> Any:
    ctx = server_context(cert_files)
    return raw_server(handler, ctx)


def test_tls_to_loopback_is_not_verified_by_default(tls_server: Any) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")

    async def go(t: AsyncioTransport) -> None:
        for _ in range(3):
            assert (await t.send(get(f"{tls_server.url}/status/200"), 5)).status == 200
        assert (await t.send(get(f"{tls_server.url}/chunked"), 5)).body == b"hello" + b"x" * 26
        # The end of the TLS stream ends a body without a length.
        assert (await t.send(get(f"{tls_server.url}/until-close"), 5)).body == b"part one, part two"

    run(go)
    assert tls_server.connections == 1  # the until-close answer came last: one connection for all


def test_tls_verified_when_asked(tls_server: Any, cert_files: tuple[str, str]) -> None:
    async def strict(t: AsyncioTransport) -> None:
        with pytest.raises(TLSError) as info:
            await t.send(get(f"{tls_server.url}/status/200"), 5)
        assert info.value.not_sent
        assert "certificate" in str(info.value)

    run(strict, AsyncioTransport(environ={}, verify=True))

    async def trusting(t: AsyncioTransport) -> Response:
        return await t.send(get(f"{tls_server.url}/status/201"), 5)

    assert run(trusting, AsyncioTransport(environ={}, verify=True, ca_certs=cert_files[0])).status == 201


def test_tls_verification_choice() -> None:
    t = AsyncioTransport(environ={})
    assert t._origin("https://127.0.0.1:9/x")[0].ssl is t._unverified
    assert t._origin("https://localhost/x")[0].ssl is t._unverified
    assert t._origin("https://127.evil.example/x")[0].ssl is t._verified  # a DNS name, not loopback
    assert t._origin("https://example.org/x")[0].ssl is t._verified
    assert t._origin("https://example.org/x")[0].server_hostname == "example.org"
    assert t._origin("http://example.org/x")[0].ssl is None
    strict = AsyncioTransport(environ={}, verify=True)
    assert strict._origin("https://127.0.0.1/x")[0].ssl is strict._verified
    lax = AsyncioTransport(environ={}, verify=False)
    assert lax._origin("https://example.org/x")[0].ssl is lax._unverified


def test_ssl_contexts_are_built_once(tls_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    original_new = ssl.SSLContext.__new__

    def counting_new(cls: type, *args: Any, **kwargs: Any) -> Any:
        built.append(cls)
        return original_new(cls, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "__new__", counting_new)
    t = AsyncioTransport(environ={})
    # Only the unverified one: the verifying context (and the system trust store it
    # loads) waits for the first https origin that needs it.
    assert len(built) == 1
    assert t._verified is None
    built.clear()

    async def go(t: AsyncioTransport) -> None:
        for _ in range(20):  # "Connection: close": a new connection (and handshake) each time
            assert (await t.send(get(f"{tls_server.url}/status/200", Connection="close"), 5)).status == 200

    run(go, t)
    assert tls_server.connections == 20
    assert built == []


# -------------------------------------------------------------------- proxies


class FakeProxy:
    """An HTTP proxy on 127.0.0.1: tunnels every CONNECT to ``tunnel_to``, answers plain
    requests itself, and asks for credentials when ``password`` is set."""

    def __init__(self, tunnel_to: int | None = None, password: str | None = None) -> None:
        self.tunnel_to = tunnel_to
        self.password = password
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self.socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.socks.append(sock)
            t = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            buf = b""
            while True:
                head, buf = read_head(sock, buf)
                if head is None:
                    return
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                self.seen.append((lines[0], headers))
                if self.password is not None:
                    expected = "Basic " + base64.b64encode(f"user:{self.password}".encode()).decode()
                    if headers.get("proxy-authorization") != expected:
                        sock.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nauth")
                        continue
                if lines[0].startswith("CONNECT "):
                    assert self.tunnel_to is not None
                    upstream = socket.create_connection(("127.0.0.1", self.tunnel_to))
                    self.socks.append(upstream)
                    sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    threading.Thread(target=pipe, args=(upstream, sock), daemon=True).start()
                    if buf:
                        upstream.sendall(buf)
                    pipe(sock, upstream)
                    return
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nvia proxy")
        except OSError:
            return
        finally:
            sock.close()

    def close(self) -> None:
        self.listener.close()
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@pytest.fixture
def proxy_factory() -> Iterator[Callable[..., FakeProxy]]:
    made: list[FakeProxy] = []

    def make(**kwargs: Any) -> FakeProxy:
        p = FakeProxy(**kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def test_https_through_a_proxy_is_tunnelled(
    tls_server: Any, cert_files: tuple[str, str], proxy_factory: Callable[..., FakeProxy]
) -> None:
    proxy = proxy_factory(tunnel_to=tls_server.port, password="p@ss")
    t = AsyncioTransport(environ={"HTTPS_PROXY": f"http://user:p%40ss@127.0.0.1:{proxy.port}"}, ca_certs=cert_files[0])

    async def go(t: AsyncioTransport) -> list[Response]:
        return [await t.send(get(f"https://tunnel.example.test/status/20{i}"), 5) for i in range(3)]

    assert [r.status for r in run(go, t)] == [200, 201, 202]
    assert [line for line, _ in proxy.seen] == ["CONNECT tunnel.example.test:443 HTTP/1.1"]  # one tunnel, reused
    assert proxy.seen[0][1]["host"] == "tunnel.example.test:443"
    assert tls_server.connections == 1
    assert tls_server.requests[0].headers["host"] == "tunnel.example.test"  # the target's Host, in the tunnel
    assert "proxy-authorization" not in tls_server.requests[0].headers


def test_tunnelled_tls_is_verified(tls_server: Any, proxy_factory: Callable[..., FakeProxy]) -> None:
    proxy = proxy_factory(tunnel_to=tls_server.port)
    t = AsyncioTransport(proxy_url=f"http://127.0.0.1:{proxy.port}", environ={})  # system CAs only

    async def go(t: AsyncioTransport) -> None:
        with pytest.raises(TLSError):
            await t.send(get("https://tunnel.example.test/status/200"), 5)

    run(go, t)


def test_proxy_refusing_is_connect_error(proxy_factory: Callable[..., FakeProxy]) -> None:
    proxy = proxy_factory(password="right")
    t = AsyncioTransport(proxy_url=f"http://user:wrong@127.0.0.1:{proxy.port}", environ={})

    async def go(t: AsyncioTransport) -> None:
        with pytest.raises(ConnectError, match="the proxy failed: 407 Proxy Authentication Required") as info:
            await t.send(get("https://tunnel.example.test/x"), 5)
        assert info.value.not_sent

    run(go, t)


def test_plain_http_through_a_proxy_uses_absolute_form(proxy_factory: Callable[..., FakeProxy]) -> None:
    proxy = proxy_factory(password="pw")
    t = AsyncioTransport(proxy_url=f"http://user:pw@127.0.0.1:{proxy.port}", environ={})

    async def go(t: AsyncioTransport) -> Response:
        return await t.send(get("http://plain.example.test:8080/a/b?c=d"), 5)

    assert run(go, t).body == b"via proxy"
    line, headers = proxy.seen[0]
    assert line == "GET http://plain.example.test:8080/a/b?c=d HTTP/1.1"
    assert headers["host"] == "plain.example.test:8080"
    assert headers["proxy-authorization"].startswith("Basic ")


def test_proxy_choice() -> None:
    t = AsyncioTransport(environ={"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "example.org, .internal.test"})
    assert t.proxy_url == "http://proxy:3128"
    assert t._origin("https://flows.globus.org/flows")[0].tunnel
    assert t._origin("https://notexample.org/x")[0].tunnel  # suffix match only at a dot
    for direct in ("https://example.org:8443/x", "https://api.example.org/x", "https://a.internal.test/x",
                   "https://127.0.0.1:9/x", "http://localhost:9/x", "https://[::1]:9/x"):
        origin = t._origin(direct)[0]
        assert not origin.tunnel and not origin.target_prefix and origin.connect_host != "proxy", direct
    assert AsyncioTransport(environ={}).proxy_url is None
    assert not AsyncioTransport(environ={"https_proxy": "http://p:2", "no_proxy": "*"})._origin("https://h/x")[0].tunnel
    assert AsyncioTransport(environ={"ALL_PROXY": "http://p:3"})._origin("https://h/x")[0].tunnel
    # A proxy spoken over TLS (or SOCKS) is left to the threaded transport.
    other = AsyncioTransport(environ={"HTTPS_PROXY": "https://proxy:3129"})
    assert other._origin("https://flows.globus.org/x")[0].delegate
    assert not other._origin("https://127.0.0.1/x")[0].delegate
    assert isinstance(other._delegated(), ThreadedAsyncTransport)
    other.close()


# --------------------------------------------------------------- event loops


def test_one_transport_across_several_event_loops(server: Any) -> None:
    t = AsyncioTransport(environ={})

    async def go(t: AsyncioTransport) -> int:
        for _ in range(3):
            assert (await t.send(get(f"{server.url}/status/200"), 5)).status == 200
        return stats(t, server)[0]

    for i in range(3):
        assert run(go, t) == 1
        # The loop's shutdown closed its connection: nothing left open, nothing leaked.
        wait_until(lambda: open_connections(server) == 0, "the server saw the loop's connection close")
        assert server.connections == i + 1
    assert len(t._states) == 1  # the finished loops are forgotten
    t.close()


def test_loops_in_several_threads_at_once(server: Any) -> None:
    t = AsyncioTransport(max_connections_per_host=4, environ={})
    results: dict[int, list[int]] = {}

    def worker(n: int) -> None:
        async def go(t: AsyncioTransport) -> list[int]:
            rs = await asyncio.gather(*(t.send(Request("POST", f"{server.url}/echo", {}, b"%d" % i), 5) for i in range(50)))
            return [int(r.body) for r in rs]

        results[n] = run(go, t)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == {n: list(range(50)) for n in range(3)}
    assert server.connections <= 12
    t.close()


def test_close_outside_a_loop_is_harmless(server: Any) -> None:
    t = AsyncioTransport(environ={})
    t.close()
    assert run(lambda t: t.send(get(f"{server.url}/status/200"), 5), t).status == 200
    t.close()
    t.close()


# ------------------------------------------------------------------ clients end to end


def test_action_client_run_wait_log() -> None:
    token = "tok-alice"
    with ActionProviderStub(tokens={token: "urn:globus:auth:identity:alice"}, prefix="/hello_world") as stub:

        async def main() -> tuple[Any, Any, Any]:
            async with al.AsyncActionClient.new_client(
                stub.url, al.BearerTokenAuthorizer(token), transport=AsyncioTransport()
            ) as client:
                started = await client.run({"echo_string": "via asyncio", "sleep_s": 0.05}, label="aio")
                final = await client.wait(started["action_id"], timeout=30, initial_delay=0.01)
                log = await client.log(started["action_id"])
                return started, final, log

        started, final, log = asyncio.run(main())
    assert started["status"] in ("ACTIVE", "INACTIVE") and started["label"] == "aio"
    assert final["status"] == "SUCCEEDED"
    assert final["details"]["echo_string"] == "via asyncio"
    assert log["entries"] and log["entries"][0]["code"] == "ActionStarted"


def test_500_concurrent_status_calls_all_answered() -> None:
    with ActionProviderStub() as stub:

        async def main() -> tuple[list[Any], dict[Any, tuple[int, int, int]]]:
            transport = AsyncioTransport()
            async with al.AsyncActionClient.new_client(stub.url, None, transport=transport) as client:
                started = await client.run({"echo_string": "many"})
                docs = await asyncio.gather(*(client.status(started["action_id"]) for _ in range(500)))
                return docs, transport._stats()

        docs, pools = asyncio.run(main())
        requests = stub.state.request_count
    assert len(docs) == 500
    assert all(d["action_id"] == docs[0]["action_id"] and d.http_status == 200 for d in docs)
    assert requests == 501
    ((taken, idle, waiting),) = pools.values()
    assert taken <= 32 and waiting == 0
