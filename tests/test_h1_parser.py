"""The asyncio transport's response parser, without sockets, held to h11.

h11 is the reference: for any bytes a server could send (whole or split anywhere),
``ResponseParser`` accepts exactly what h11 accepts, with the same status, headers and
body, and refuses the rest; it never waits for more once the connection has ended.
"""

from __future__ import annotations

from typing import Any

import h11
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from automate_lite.transports._h1 import CONNECT, NO_BODY, PLAIN, ProtocolViolation, ResponseParser, TooLarge

Outcome = tuple[Any, ...]
_KINDS = {"GET": PLAIN, "HEAD": NO_BODY, "CONNECT": CONNECT}
# Headers h11 rewrites as it validates them (the one Content-Length, TE lower-cased).
_REWRITTEN = ("content-length", "transfer-encoding")


def by_h11(data: bytes, method: str) -> Outcome:
    conn = h11.Connection(h11.CLIENT)
    target = "example.org:443" if method == "CONNECT" else "/"
    conn.send(h11.Request(method=method, target=target, headers=[("Host", "example.org")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    conn.receive_data(b"")
    status, headers, body = 0, {}, b""
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                status = event.status_code
                for name, value in event.headers:
                    key, text = name.decode("latin-1"), value.decode("latin-1")
                    headers[key] = f"{headers[key]}, {text}" if key in headers else text
                if method == "CONNECT" and 200 <= status < 300:
                    break
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.InformationalResponse):
                continue
            else:  # ConnectionClosed before a response, PAUSED
                return ("refused",)
    except h11.RemoteProtocolError:
        return ("refused",)
    return ("ok", status, {k: v for k, v in headers.items() if k not in _REWRITTEN}, body)


def by_parser(chunks: list[bytes], method: str, limit: int | None = None) -> Outcome:
    parser = ResponseParser(limit)
    parser.start(_KINDS[method])
    buf = bytearray()
    try:
        done = False
        for chunk in chunks:
            buf += chunk
            if parser.feed(buf):
                done = True
                break
        if not done and not parser.eof(buf):
            return ("refused",)
    except ProtocolViolation:
        return ("refused",)
    headers = {k: v for k, v in parser.headers.items() if k not in _REWRITTEN}
    return ("ok", parser.status, headers, parser.body)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


# Pieces servers really send, good and bad, so that random joins reach the edges.
_PIECES = [
    b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK", b"HTTP/1.1 204 No Content", b"HTTP/1.1 100 Continue",
    b"HTTP/1.1 101 Switching", b"HTTP/1.1 099 Low", b"HTTP/1.1 600 High", b"HTTP/1.1 999 X", b"HTTP/2.0 200 OK",
    b"HTTP/1.1 200", b"HTTP/1.1 200 ", b"HTTP/1.1  200 OK", b"HTTP/1.1 20 OK", b"http/1.1 200 OK", b"HTTP/1.1 304 NM",
    b"Content-Length: 5", b"Content-Length: 0", b"Content-Length: 5, 5", b"Content-Length: 5, 6",
    b"Content-Length: -1", b"Content-Length: 99999999999999999999999", b"Content-Length:  3 ",
    b"Transfer-Encoding: chunked", b"Transfer-Encoding: Chunked", b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: identity", b"Connection: close", b"Connection: keep-alive", b"X-A: b",
    b"X-A : b", b" folded", b"\tfolded", b"X-B:", b"X-C: a\rb", b"X-D: a\x00b", b"X-E: caf\xe9", b"Bad Header",
    b"X-F: a\x0bb", b"X-G:\tv\t", b"\xffname: v",
    b"\r\n", b"\n", b"\r", b"\r\r\n", b"", b"hello", b"5\r\nhello\r\n0\r\n\r\n", b"5;ext=1\r\nhello\r\n",
    b"0\r\n\r\n", b"0\r\nX-T: 1\r\n\r\n", b"0\n\n", b"zz\r\n", b"5 \r\n", b"5\nhello", b"ffffffffffffffffffffff\r\n",
    b"3\r\nabcXY", b"0\r\nContent-Length: x\r\n\r\n",
]


_STATUS = [p for p in _PIECES if p.lower().startswith(b"http/")]
_HEADERS = [p for p in _PIECES if b":" in p or p[:1] in (b" ", b"\t")] + [b"Bad Header"]
_BODIES = [p for p in _PIECES if p not in _STATUS and p not in _HEADERS]


@st.composite
def responses(draw: Any) -> bytes:
    if draw(st.booleans()):  # anything at all, from pieces
        parts = draw(st.lists(st.sampled_from(_PIECES) | st.binary(max_size=6), min_size=1, max_size=14))
        return draw(st.sampled_from([b"\r\n", b"\n", b""])).join(parts)
    # shaped like a response: status line, headers, blank line, body
    eol = st.sampled_from([b"\r\n", b"\r\n", b"\n"])
    head = draw(st.sampled_from(_STATUS)) + draw(eol)
    for h in draw(st.lists(st.sampled_from(_HEADERS), max_size=4)):
        head += h + draw(eol)
    return head + draw(eol) + b"".join(draw(st.lists(st.sampled_from(_BODIES), max_size=3)))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses(), st.sampled_from(sorted(_KINDS)), st.lists(st.integers(0, 400), max_size=3))
@example(b"HTTP/1.0 200 Connection established\r\n\r\n", "CONNECT", [])
@example(b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello", "GET", [3])
@example(b"HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n", "GET", [])
@example(b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", "GET", [])
@example(b"HTTP/1.1 200 OK\r\nX: a\nb\r\nContent-Length: 0\r\n\r\n", "GET", [])
@example(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r", "GET", [])
def test_parser_agrees_with_h11(data: bytes, method: str, cuts: list[int]) -> None:
    expected = by_h11(data, method)
    assert by_parser([data], method) == expected
    assert by_parser(split(data, cuts), method) == expected  # however the bytes arrive


@pytest.mark.parametrize(
    "data, method, outcome",
    [
        (b"HTTP/1.0 200 Connection established\r\n\r\n", "CONNECT", ("ok", 200, {}, b"")),
        (b"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", "GET", ("ok", 200, {}, b"hi")),
        (b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", "GET", ("refused",)),
        (b"HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", "GET", ("refused",)),
    ],
)
def test_known_cases(data: bytes, method: str, outcome: Outcome) -> None:
    assert by_parser([data], method) == by_h11(data, method) == outcome


def test_connect_answer_is_a_tunnel_whatever_the_version() -> None:
    parser = ResponseParser()
    parser.start(CONNECT)
    buf = bytearray(b"HTTP/1.0 200 Connection established\r\n\r\n\x16\x03\x01")
    assert parser.feed(buf) and parser.tunnel and parser.status == 200
    assert bytes(buf) == b"\x16\x03\x01"  # the tunnel's first bytes are left for TLS


def test_body_beyond_the_limit_is_refused_before_it_is_held() -> None:
    for data in (
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 11,
    ):
        parser = ResponseParser(limit=10)
        parser.start(PLAIN)
        with pytest.raises(TooLarge):
            parser.feed(bytearray(data))
    parser = ResponseParser(limit=10)
    parser.start(PLAIN)
    assert parser.feed(bytearray(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"))
