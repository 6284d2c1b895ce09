"""The per-call deadline (issue 14, ``RetryPolicy(deadline=...)``), over real sockets on
127.0.0.1: a server that trickles a byte at a time cannot hold a call past its deadline
through any transport, the deadline is never retried, and a retry that could not start
in time is not waited for. Nothing here asserts on elapsed time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import socket
from typing import Any, Callable

import aiohttp
import httpx
import pytest

import automate_lite as al
from automate_lite import DeadlineExceeded, Request, Response, RetryPolicy
from automate_lite._core.http import request_op
from automate_lite.errors import ReadTimeout, RequestTimeout, ServerError, TransportError, UsageError
from automate_lite.transports import AsyncioTransport, Urllib3Transport
from automate_lite.transports.aiohttp import AiohttpTransport
from automate_lite.transports.httpx import HttpxTransport

#: Retries at once (no back-off), so only the deadline can stop them.
FAST = RetryPolicy(max_attempts=5, backoff_base=0.0, backoff_max=0.0, deadline=1.0)


def trickle_body(req: Any, sock: socket.socket, server: Any) -> bool:
    """Headers at once, then one body byte every 0.2 s: each read is quick, the whole is not."""
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
    while not server.stopping.is_set():
        sock.sendall(b" ")
        server.pause(0.2)
    return False


def trickle_headers(req: Any, sock: socket.socket, server: Any) -> bool:
    """The header block one byte every 0.2 s, never finished."""
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100000:
        if server.stopping.is_set():
            break
        sock.sendall(bytes([byte]))
        server.pause(0.2)
    return False


@pytest.fixture(params=[trickle_body, trickle_headers], ids=["body", "headers"])
def trickler(request: pytest.FixtureRequest, raw_server: Callable[..., Any]) -> Any:
    return raw_server(request.param)


def check(error: DeadlineExceeded, server: Any) -> None:
    assert isinstance(error, RequestTimeout) and isinstance(error, TransportError)
    assert error.deadline == 1.0
    assert "deadline of 1.0s" in str(error) and "RetryPolicy(deadline=...)" in str(error)
    assert [r.method for r in server.requests] == ["GET"]  # never retried


# ------------------------------------------------------------------ the policy's field


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, -math.inf, True, "5", [1]])
def test_deadline_must_be_a_positive_finite_number(bad: Any) -> None:
    with pytest.raises(UsageError, match="RetryPolicy.deadline must be a finite number of seconds > 0"):
        RetryPolicy(deadline=bad)


def test_policy_is_a_frozen_dataclass_with_a_deadline() -> None:
    policy = RetryPolicy(deadline=2.5)
    assert policy.deadline == 2.5 and RetryPolicy().deadline is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.deadline = 3  # type: ignore[misc]
    assert dataclasses.replace(policy, deadline=None) == RetryPolicy()
    with pytest.raises(UsageError):
        dataclasses.replace(policy, deadline=-1)


# --------------------------------------------------------------- the sans-IO operation


def test_requests_carry_the_deadline_and_none_without_one() -> None:
    with_deadline = request_op(al.Session("https://x.org", retry=RetryPolicy(deadline=30)), "GET", "/a")
    req = next(with_deadline)
    assert isinstance(req, Request) and req.deadline is not None
    plain = next(request_op(al.Session("https://x.org"), "GET", "/a"))
    assert isinstance(plain, Request) and plain.deadline is None


def test_a_deadline_error_thrown_in_is_final_even_for_a_get() -> None:
    op = request_op(al.Session("https://x.org", retry=RetryPolicy(max_attempts=9, deadline=30)), "GET", "/a")
    next(op)
    with pytest.raises(DeadlineExceeded) as info:
        op.throw(DeadlineExceeded("the deadline passed before the request was sent"))
    assert info.value.attempts == 1 and info.value.url == "https://x.org/a"


def test_a_retry_that_cannot_start_in_time_is_not_waited_for() -> None:
    # A back-off longer than the whole deadline: the operation gives up instead of sleeping.
    policy = RetryPolicy(max_attempts=3, backoff_base=100.0, backoff_max=100.0, deadline=5)
    op = request_op(al.Session("https://x.org", retry=policy), "GET", "/a")
    next(op)
    with pytest.raises(DeadlineExceeded) as info:
        op.throw(ReadTimeout("the response body stalled"))
    assert "the response body stalled" in str(info.value)
    assert isinstance(info.value.__cause__, ReadTimeout)


def test_a_retry_after_past_the_deadline_raises_the_answer() -> None:
    policy = RetryPolicy(max_attempts=3, deadline=5)
    op = request_op(al.Session("https://x.org", retry=policy), "GET", "/a")
    next(op)
    with pytest.raises(ServerError) as info:
        op.send(Response(503, {"retry-after": "30"}, b"{}"))
    assert "call's deadline of 5s" in str(info.value)


def test_the_sync_driver_refuses_to_send_after_the_deadline() -> None:
    class Never:
        sent = 0

        def send(self, request: Request, timeout: float | None) -> Response:
            self.sent += 1
            return Response(200, {}, b"{}")

    def op() -> Any:
        return (yield Request("GET", "https://x.org/", {}, None, 0.0))  # long past

    transport = Never()
    with pytest.raises(DeadlineExceeded):
        al.run_sync(op(), transport, 5)
    assert transport.sent == 0


# ------------------------------------------------------------ trickling loopback servers


def test_urllib3_transport_cuts_every_read_at_the_deadline(trickler: Any) -> None:
    with al.ActionClient.new_client(
        f"{trickler.url}/ap", None, 5, transport=Urllib3Transport(environ={}), retry=FAST
    ) as client:
        with pytest.raises(DeadlineExceeded) as info:
            client.status("a1")
    check(info.value, trickler)


def test_urllib3_connection_is_usable_again_after_a_deadline(raw_server: Callable[..., Any]) -> None:
    calls: list[int] = []

    def handler(req: Any, sock: socket.socket, server: Any) -> bool:
        calls.append(1)
        if len(calls) == 1:
            return trickle_body(req, sock, server)
        sock.sendall(server.response(200, b'{"status": "ACTIVE"}'))
        return True

    server = raw_server(handler)
    transport = Urllib3Transport(environ={})
    client = al.ActionClient.new_client(f"{server.url}/ap", None, 5, transport=transport, retry=FAST)
    with pytest.raises(DeadlineExceeded):
        client.status("a1")
    assert client.status("a1")["status"] == "ACTIVE"  # a fresh deadline, a fresh connection


def test_asyncio_transport_is_cancelled_at_the_deadline(trickler: Any) -> None:
    async def main() -> DeadlineExceeded:
        async with al.AsyncActionClient.new_client(
            f"{trickler.url}/ap", None, 5, transport=AsyncioTransport(environ={}), retry=FAST
        ) as client:
            with pytest.raises(DeadlineExceeded) as info:
                await client.status("a1")
            return info.value

    check(asyncio.run(main()), trickler)


@pytest.mark.parametrize("adapter", ["httpx", "aiohttp"])
def test_an_adapter_is_cancelled_at_the_deadline(trickler: Any, adapter: str) -> None:
    async def main() -> DeadlineExceeded:
        async with contextlib.AsyncExitStack() as stack:
            if adapter == "httpx":
                transport: al.AsyncTransport = HttpxTransport(await stack.enter_async_context(httpx.AsyncClient()))
            else:
                transport = AiohttpTransport(await stack.enter_async_context(aiohttp.ClientSession()))
            client = al.AsyncActionClient.new_client(f"{trickler.url}/ap", None, 5, transport=transport, retry=FAST)
            with pytest.raises(DeadlineExceeded) as info:
                await client.status("a1")
            return info.value

    check(asyncio.run(main()), trickler)


def test_a_post_is_not_retried_at_the_deadline(raw_server: Callable[..., Any]) -> None:
    server = raw_server(trickle_body)
    with al.ActionClient.new_client(
        f"{server.url}/ap", None, 5, transport=Urllib3Transport(environ={}), retry=FAST
    ) as client:
        with pytest.raises(DeadlineExceeded):
            client.release("a1")
    assert [r.method for r in server.requests] == ["POST"]


def test_a_fast_answer_is_untouched_by_a_deadline(raw_server: Callable[..., Any]) -> None:
    server = raw_server(lambda req, sock, s: sock.sendall(s.response(200, b'{"status": "SUCCEEDED"}')) or True)
    with al.ActionClient.new_client(f"{server.url}/ap", None, 5, retry=RetryPolicy(deadline=30)) as client:
        assert client.status("a1")["status"] == "SUCCEEDED"


def test_threaded_transport_worker_stops_at_the_deadline_too(trickler: Any) -> None:
    from automate_lite.transports import ThreadedAsyncTransport

    transport = ThreadedAsyncTransport(environ={})

    async def main() -> DeadlineExceeded:
        client = al.AsyncActionClient.new_client(f"{trickler.url}/ap", None, 5, transport=transport, retry=FAST)
        with pytest.raises(DeadlineExceeded) as info:
            await client.status("a1")
        await transport.aclose()
        return info.value

    check(asyncio.run(main()), trickler)
    transport.close()
