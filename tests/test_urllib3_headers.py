"""The urllib3 transport's header reading gives what http.client's own would.

``Urllib3Transport`` plugs a response class into its connections whose ``begin`` reads
ordinary header lines without the email package's MIME parser (a sixth of the CPU of a
keep-alive request). These tests feed the same bytes to it and to
``http.client.HTTPResponse`` and require the same result in every respect urllib3 and
the transport look at: status, reason, version, header items, defects, what urllib3's
header check says, chunked/length/keep-alive, the body, and the exception when the
bytes are bad. Then real requests through the transport to a loopback server, with
repeated, folded and odd headers.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
from typing import Any, Iterator

import pytest
from _sockets import read_head
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from urllib3.exceptions import HeaderParsingError
from urllib3.util.response import assert_header_parsing

from automate_lite._core.values import Request
from automate_lite.transports._u3conn import _Response
from automate_lite.transports.urllib3 import Urllib3Transport


class _Sock:
    """Just enough of a socket for ``HTTPResponse``: ``makefile('rb')`` over fixed bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))  # type: ignore[arg-type]


def _outcome(cls: type[http.client.HTTPResponse], data: bytes, method: str) -> dict[str, Any]:
    resp = cls(_Sock(data), method=method)  # type: ignore[arg-type]
    try:
        resp.begin()
    except Exception as e:  # the same kind of failure, with the same text
        return {"error": (type(e), str(e))}
    try:
        assert_header_parsing(resp.msg)
        check = "ok"
    except HeaderParsingError as e:
        check = str(e)
    chunked, length, will_close = resp.chunked, resp.length, resp.will_close
    try:
        body: object = resp.read()
    except Exception as e:
        body = (type(e), str(e))
    return {
        "status": resp.status,
        "reason": resp.reason,
        "version": resp.version,
        "items": resp.msg.items(),
        "defects": [type(d) for d in resp.msg.defects],
        "payload": resp.msg.get_payload() or None,
        "check": check,
        "chunked": chunked,
        "length": length,
        "will_close": will_close,
        "body": body,
    }


def _same(data: bytes, method: str = "GET") -> dict[str, Any]:
    ours = _outcome(_Response, data, method)
    theirs = _outcome(http.client.HTTPResponse, data, method)
    assert ours == theirs
    return ours


def test_an_ordinary_response_is_read_the_same() -> None:
    got = _same(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        b"Set-Cookie: a=1\r\nset-cookie: b=2\r\nX-Empty:\r\nX-Spaces:   padded  \r\n\r\n{}"
    )
    assert got["items"] == [
        ("Content-Type", "application/json"),
        ("Content-Length", "2"),
        ("Set-Cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("X-Empty", ""),
        ("X-Spaces", "padded  "),
    ]
    assert got["body"] == b"{}" and got["length"] == 2 and not got["will_close"]


@pytest.mark.parametrize(
    "data",
    [
        # a folded continuation line, a line without a colon, a stray CR, "From " lines
        b"HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nnot a header\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nFrom nobody\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Latin: caf\xe9\r\nContent-Length: 0\r\n\r\n",
        # bare LF line ends, HTTP/1.0 without a length, HEAD, 204, 304, an interim 100
        b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
        b"HTTP/1.0 200 OK\r\n\r\nuntil close",
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
        # chunked wins over a length; bad and negative lengths; Connection: close
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 99\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\nrest",
        b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nrest",
        b"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\nx",
        # bad responses: no status line, an unknown protocol, a truncated header block
        b"",
        b"garbage\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Cut: no end",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
    ],
)
def test_unusual_and_bad_responses_are_read_the_same(data: bytes) -> None:
    _same(data)


def test_a_head_response_has_no_body_either_way() -> None:
    got = _same(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", method="HEAD")
    assert got["length"] == 0 and got["body"] == b""


_names = st.sampled_from(
    ["Content-Type", "content-length", "Transfer-Encoding", "Connection", "X-Id", "Set-Cookie", "From", ""]
) | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=12)
_values = st.sampled_from(["chunked", "close", "keep-alive", "0", "7", "-1", "x", ""]) | st.text(
    st.characters(min_codepoint=0x09, max_codepoint=0xFF, blacklist_categories=("Cs",)), max_size=20
)
_lines = st.one_of(
    st.tuples(_names, _values).map(lambda nv: f"{nv[0]}:{nv[1]}"),
    st.tuples(_names, _values).map(lambda nv: f"{nv[0]}: {nv[1]}"),
    _values.map(lambda v: " " + v),  # a continuation line
    _values,  # anything at all
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.sampled_from(["200 OK", "204 No Content", "404 Not Found", "100 Continue", "999 X", "abc"]),
    version=st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/1.2"]),
    lines=st.lists(_lines, max_size=8),
    end=st.sampled_from(["\r\n", "\n"]),
    body=st.binary(max_size=20),
    method=st.sampled_from(["GET", "POST", "HEAD"]),
)
@example(status="200 OK", version="HTTP/1.1", lines=["X-A: b\x0bc"], end="\r\n", body=b"", method="GET")
def test_any_header_block_is_read_the_same(
    status: str, version: str, lines: list[str], end: str, body: bytes, method: str
) -> None:
    head = f"{version} {status}{end}" + "".join(line + end for line in lines) + end
    _same(head.encode("latin-1") + body, method)


# -- through the transport, to a loopback server ------------------------------------


@pytest.fixture()
def raw_server() -> Iterator[tuple[str, list[bytes]]]:
    """A server that answers each request on a connection with the next canned response."""
    answers: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                buf = b""
                while answers:
                    head, buf = read_head(conn, buf)
                    if head is None:
                        break
                    conn.sendall(answers.pop(0))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{port}", answers
    stop.set()
    # close() alone does not wake a thread blocked in accept() on Linux; shutdown does.
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    listener.close()
    t.join(5)


def test_the_transport_joins_repeated_headers_and_unfolds_folded_ones(raw_server: tuple[str, list[bytes]]) -> None:
    base, answers = raw_server
    answers += [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Rep: a\r\nx-rep: b\r\nX-Fold: one\r\n  two\r\n\r\nok",
        b"HTTP/1.1 503 Busy\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n",
    ]
    transport = Urllib3Transport()
    try:
        first = transport.send(Request("GET", base + "/a", {}, None), 5.0)
        assert first.status == 200 and first.body == b"ok"
        assert first.headers["x-rep"] == "a, b"
        assert first.headers["x-fold"] == "one two"
        second = transport.send(Request("GET", base + "/b", {}, None), 5.0)  # same kept-alive connection
        assert second.status == 503 and second.headers["retry-after"] == "3"
    finally:
        transport.close()
