"""Response size limits in the httpx and aiohttp adapters (issue 14), over real sockets on
127.0.0.1: ``max_response_bytes`` bounds the body after decompression, so a small gzip
bomb is refused without being inflated, and the error says the limit and how to raise
it. The one bounded decoder (``BodyLimit``) every transport uses is tested directly."""

from __future__ import annotations

import asyncio
import gzip
import socket
import tracemalloc
import zlib
from typing import Any, Callable

import aiohttp
import httpx
import pytest

import automate_lite as al
from automate_lite.errors import TransportError, UsageError
from automate_lite.transports._network import DEFAULT_MAX_RESPONSE_BYTES, BodyLimit, decode_body
from automate_lite.transports.aiohttp import AiohttpTransport
from automate_lite.transports.httpx import HttpxTransport

ONCE = al.RetryPolicy(max_attempts=1)


def bomb(decoded_mib: int) -> bytes:
    """gzip of ``decoded_mib`` MiB of zeros (about a thousandth of that in size)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join(c.compress(block) for _ in range(decoded_mib)) + c.flush()


def serve(body: bytes, headers: dict[str, str]) -> Callable[[Any, socket.socket, Any], bool]:
    def handler(req: Any, sock: socket.socket, server: Any) -> bool:
        sock.sendall(server.response(200, body, headers))
        return True

    return handler




async def fetch(kind: str, url: str, **kwargs: Any) -> Any:
    if kind == "httpx":
        async with httpx.AsyncClient() as http:
            client = al.AsyncActionClient.new_client(url, None, 5, transport=HttpxTransport(http, **kwargs), retry=ONCE)
            return await client.status("a1")
    async with aiohttp.ClientSession() as session:
        client = al.AsyncActionClient.new_client(url, None, 5, transport=AiohttpTransport(session, **kwargs), retry=ONCE)
        return await client.status("a1")


KINDS = ["httpx", "aiohttp"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_gzip_bomb_is_refused_at_the_default_limit(kind: str, raw_server: Callable[..., Any]) -> None:
    server = raw_server(serve(bomb(100), {"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    with pytest.raises(TransportError) as info:
        asyncio.run(fetch(kind, f"{server.url}/ap"))
    message = str(info.value)
    assert f"max_response_bytes={DEFAULT_MAX_RESPONSE_BYTES} bytes (after decoding)" in message
    assert "pass a larger max_response_bytes (or None)" in message
    assert ("HttpxTransport(" if kind == "httpx" else "AiohttpTransport(") in message
    assert len(server.requests) == 1
    # The adapter asked only for the codings it decodes itself.
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "coding, encode",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send
        (None, lambda b: b),
    ],
    ids=["gzip", "deflate", "raw-deflate", "identity"],
)
def test_a_body_within_the_limit_is_decoded(kind: str, coding: str | None, encode: Any, raw_server: Callable[..., Any]) -> None:
    doc = b'{"status": "SUCCEEDED", "details": "' + b"x" * 5000 + b'"}'
    headers = {"Content-Type": "application/json"}
    if coding:
        headers["Content-Encoding"] = coding
    server = raw_server(serve(encode(doc), headers))
    result = asyncio.run(fetch(kind, f"{server.url}/ap", max_response_bytes=len(doc)))
    assert result["status"] == "SUCCEEDED" and len(result["details"]) == 5000


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("coding", ["gzip", None])
def test_one_byte_over_a_small_limit_is_refused(kind: str, coding: str | None, raw_server: Callable[..., Any]) -> None:
    doc = b'{"status": "' + b"x" * 1000 + b'"}'
    headers = {"Content-Type": "application/json"}
    if coding:
        headers["Content-Encoding"] = coding
    server = raw_server(serve(gzip.compress(doc) if coding else doc, headers))
    with pytest.raises(TransportError, match=f"max_response_bytes={len(doc) - 1} bytes"):
        asyncio.run(fetch(kind, f"{server.url}/ap", max_response_bytes=len(doc) - 1))


@pytest.mark.parametrize("kind", KINDS)
def test_no_limit_takes_any_size(kind: str, raw_server: Callable[..., Any]) -> None:
    doc = b'{"status": "' + b"x" * 200000 + b'"}'
    server = raw_server(serve(gzip.compress(doc), {"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    assert len(asyncio.run(fetch(kind, f"{server.url}/ap", max_response_bytes=None))["status"]) == 200000


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True])
def test_the_limit_is_checked(bad: Any) -> None:
    async def main() -> None:
        async with httpx.AsyncClient() as http:
            with pytest.raises(UsageError, match="max_response_bytes must be an int >= 1"):
                HttpxTransport(http, max_response_bytes=bad)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(UsageError, match="max_response_bytes must be an int >= 1"):
                AiohttpTransport(session, max_response_bytes=bad)

    asyncio.run(main())


# ------------------------------------------------------------------ the shared decoder


def test_body_limit_never_inflates_past_the_limit() -> None:
    compressed = bomb(200)  # 200 MiB decoded, ~200 KiB sent
    limit = 1024 * 1024
    tracemalloc.start()
    try:
        collected = BodyLimit(limit, "Test", "gzip")
        with pytest.raises(TransportError, match="max_response_bytes=1048576"):
            for i in range(0, len(compressed), 65536):
                collected.feed(compressed[i : i + 65536])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * limit  # the limit and a few buffers, never the 200 MiB


def test_body_limit_refuses_a_declared_length_at_once() -> None:
    with pytest.raises(TransportError, match="max_response_bytes=10 "):
        BodyLimit(10, "Test").check_length(11)
    BodyLimit(10, "Test").check_length(10)
    BodyLimit(10, "Test", "gzip").check_length(10**9)  # encoded: only the decoded size counts


def test_decode_body_bad_data_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match=r"could not be decoded \(gzip\)"):
        decode_body("gzip", b"not gzip at all", 100, "Test")
    assert decode_body("br", b"kept", 100, "Test") == b"kept"
    assert decode_body("gzip", gzip.compress(b"abc" * 100), 300, "Test") == b"abc" * 100
