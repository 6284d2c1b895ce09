"""The HTTP/1.1 response reader of the asyncio transport, apart from any socket.

Sans-IO: :class:`ResponseParser` is fed bytes as they arrive and says when a response
is complete; the connection (``_aioconn._Connection``) owns the socket and the timers. What
it accepts and refuses is h11's (0.16) reading of a response, written again here so the
core stays dependency-light, and held to h11 by a differential fuzz test
(``tests/test_h1_parser.py``):

- the head ends at the first ``LF [CR] LF``; each line ends at ``LF``, one ``CR`` before
  it dropped (so LF-only framing is read, and a bare ``CR`` or a control character in a
  line is refused);
- the status line is ``HTTP/d.d SP ddd [SP reason]``; 1xx answers (101 included: the
  transport never asks to upgrade) are skipped, codes below 100 refused, 200 to 999 are
  final answers;
- a header line is ``token ":" OWS value OWS`` (no space before the colon); a line that
  starts with a space or tab continues the one before (obsolete folding), but not the
  status line; every ``Content-Length`` is one run of digits (at most 20), all equal;
  ``Transfer-Encoding`` is ``chunked`` exactly, once (trailers obey the same rules);
- chunk size lines end with ``CRLF`` and are 1 to 20 hex digits, an optional
  ``;extension`` and trailing blanks; chunk data is followed by exactly ``CRLF``;
- no body for HEAD, 204, 304 and a 2xx answer to CONNECT (the tunnel starts right
  after its head, whatever the version); ``Transfer-Encoding`` beats
  ``Content-Length``; with neither, the body runs to the end of the connection.

Beyond h11: a head (or chunk size line, or trailer block) longer than ``MAX_HEAD`` is
refused rather than buffered without end, and a body past ``limit`` bytes is refused
(:class:`TooLarge`) before it is held.
"""

from __future__ import annotations

import re

__all__ = ["ProtocolViolation", "TooLarge", "ResponseParser", "HEAD", "LENGTH", "CHUNKED", "UNTIL_CLOSE"]

MAX_HEAD = 256 * 1024

# Reading modes: the head, then the body by one of three framings.
HEAD, LENGTH, CHUNKED, UNTIL_CLOSE = 0, 1, 2, 3
# What was asked: the answer's framing depends on it.
PLAIN, NO_BODY, CONNECT = 0, 1, 2

_BLANK_LINE = re.compile(rb"\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([^\x00\n\r\x0b\x0c]*))?")
_HEADER_LINE = re.compile(rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*(.*?)[ \t]*", re.DOTALL)
_BAD_VALUE = re.compile(rb"[\x00\n\r\x0b\x0c]")
_DIGITS = re.compile(rb"[0-9]{1,20}")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;[^\n]*)?[ \t]*")
_FOLD = re.compile(rb"[ \t]+")


class ProtocolViolation(Exception):
    """The server's bytes are not an HTTP/1.1 response as h11 reads one."""


class TooLarge(ProtocolViolation):
    """The body is larger than the parser's ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the response body is larger than {limit} bytes")
        self.limit = limit


def _header_fields(lines: list[bytes]) -> list[tuple[str, str]]:
    """``(lower-case name, value)`` for each header line, obsolete folds joined."""
    folded: list[bytes] = []
    for line in lines:
        m = _FOLD.match(line)
        if m is not None:
            if not folded:
                raise ProtocolViolation("a continuation line before any header")
            folded[-1] += b" " + line[m.end() :]
        else:
            folded.append(line)
    fields = []
    for line in folded:
        m = _HEADER_LINE.fullmatch(line)
        if m is None or _BAD_VALUE.search(m.group(2)):
            raise ProtocolViolation(f"illegal header line {bytes(line[:100])!r}")
        fields.append((m.group(1).decode("ascii").lower(), m.group(2).decode("latin-1")))
    return fields


def _check_framing(fields: list[tuple[str, str]]) -> tuple[bool, int | None]:
    """Whether the headers say chunked, and the Content-Length they give (refusing the
    forms h11 refuses)."""
    length: str | None = None
    chunked = False
    for name, value in fields:
        if name == "content-length":
            values = {v.strip(" \t") for v in value.split(",")}
            if len(values) != 1:
                raise ProtocolViolation(f"conflicting Content-Length {value[:100]!r}")
            v = values.pop()
            if not _DIGITS.fullmatch(v.encode("latin-1")):
                raise ProtocolViolation(f"bad Content-Length {value[:100]!r}")
            if length is not None and length != v:
                raise ProtocolViolation("conflicting Content-Length headers")
            length = v
        elif name == "transfer-encoding":
            if chunked:
                raise ProtocolViolation("more than one Transfer-Encoding header")
            if value.lower() != "chunked":
                raise ProtocolViolation(f"unsupported Transfer-Encoding {value[:100]!r} (only chunked is)")
            chunked = True
    return chunked, (None if length is None else int(length))


def _split_head(buf: bytearray) -> list[bytes] | None:
    """The lines of the head at the start of ``buf`` (taken out of it), or ``None`` if
    it has not ended yet."""
    if buf[:1] == b"\n" or buf[:2] == b"\r\n":
        raise ProtocolViolation("an empty line where the status line should be")
    m = _BLANK_LINE.search(buf)
    if m is None:
        if buf and buf[0] < 0x21:
            raise ProtocolViolation(f"bad status line {bytes(buf[:100])!r}")
        if len(buf) > MAX_HEAD:
            raise ProtocolViolation(f"the response headers are longer than {MAX_HEAD} bytes")
        return None
    end = m.end()
    lines = bytes(buf[: end - len(m.group())]).split(b"\n")
    del buf[:end]
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


class ResponseParser:
    """Reads one response after another from the bytes of one connection.

    ``start(kind)`` before each response (``PLAIN``, ``NO_BODY`` for HEAD, ``CONNECT``);
    then ``feed(buf)`` with the connection's buffer each time bytes arrive: it takes what
    it reads out of ``buf`` and returns True once the response is complete (``status``,
    ``reason``, ``headers``, ``body``, ``keep_alive``, ``tunnel`` are then set, and
    ``buf`` holds whatever came after it). At the end of the connection, ``eof(buf)``
    says whether that completed the response (a body read to the close).
    Raises :class:`ProtocolViolation`.
    """

    __slots__ = (
        "limit", "kind", "mode", "status", "reason", "headers", "keep_alive", "tunnel",
        "body", "parts", "received", "remaining", "chunk_state", "trailer",
    )

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.kind = PLAIN
        self.mode = HEAD
        self.status = 0
        self.reason = ""
        self.headers: dict[str, str] = {}
        self.keep_alive = True
        self.tunnel = False
        self.body = b""
        self.parts: list[bytes] = []
        self.received = 0  # body bytes read so far
        self.remaining = 0  # LENGTH: body bytes still expected; CHUNKED: of this chunk
        self.chunk_state = 0  # 0 size line, 1 data, 2 CRLF after data, 3 trailers
        self.trailer = bytearray()

    def start(self, kind: int) -> None:
        """Expect a new response to a request of ``kind``."""
        self.kind = kind
        self.mode = HEAD
        self.headers = {}
        self.tunnel = False
        self.body = b""
        self.parts = []
        self.received = 0

    def feed(self, buf: bytearray) -> bool:
        """Read from ``buf``; True once the response is complete."""
        while True:
            mode = self.mode
            if mode == HEAD:
                lines = _split_head(buf)
                if lines is None:
                    return False
                if self._head(lines):
                    continue  # an interim 1xx answer: the real one follows
                if self.mode == HEAD:  # no body
                    return True
                continue
            if mode == LENGTH:
                n = self.remaining
                if len(buf) < n:
                    return False
                if len(buf) == n:
                    self.body = bytes(buf)
                    buf.clear()
                else:
                    self.body = bytes(buf[:n])
                    del buf[:n]
                self.mode = HEAD
                return True
            if mode == CHUNKED:
                if not self._chunks(buf):
                    return False
                self.body = b"".join(self.parts)
                self.parts = []
                self.mode = HEAD
                return True
            # UNTIL_CLOSE: take everything; eof() ends the body.
            if buf:
                self._add(bytes(buf))
                buf.clear()
            return False

    def eof(self, buf: bytearray) -> bool:
        """The connection ended: True if that completed the response (``body`` is set)."""
        if self.mode == UNTIL_CLOSE:
            if buf:
                self._add(bytes(buf))
                buf.clear()
            self.body = b"".join(self.parts)
            self.parts = []
            self.mode = HEAD
            return True
        return False

    def _add(self, part: bytes) -> None:
        self.received += len(part)
        if self.limit is not None and self.received > self.limit:
            raise TooLarge(self.limit)
        self.parts.append(part)

    def _head(self, lines: list[bytes]) -> bool:
        """Take a status line and headers; True for an interim (1xx) answer."""
        m = _STATUS_LINE.fullmatch(lines[0])
        if m is None:
            raise ProtocolViolation(f"bad status line {lines[0][:100]!r}")
        status = int(m.group(3))
        if status < 100:
            raise ProtocolViolation(f"bad status code {status:03d}")
        fields = _header_fields(lines[1:])
        chunked, length = _check_framing(fields)
        if status < 200:
            return True
        headers: dict[str, str] = {}
        for name, value in fields:
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.status = status
        self.reason = (m.group(4) or b"").decode("latin-1")
        self.headers = headers
        connection = {t.strip(" \t").lower() for t in headers.get("connection", "").split(",")}
        self.keep_alive = "close" not in connection and (m.group(1), m.group(2)) >= (b"1", b"1")
        kind = self.kind
        if kind == CONNECT and 200 <= status < 300:
            self.tunnel = True
            self.mode = HEAD
            return False
        if kind == NO_BODY or status in (204, 304):
            self.mode = HEAD
            return False
        if chunked:
            self.mode = CHUNKED
            self.chunk_state = 0
            self.parts = []
            if length is not None:
                self.keep_alive = False  # both: h11 reads it, but do not trust the connection
            return False
        if length is not None:
            if self.limit is not None and length > self.limit:
                raise TooLarge(self.limit)
            self.mode = LENGTH
            self.remaining = length
            return False
        self.mode = UNTIL_CLOSE
        self.keep_alive = False
        self.parts = []
        return False

    def _chunks(self, buf: bytearray) -> bool:
        """Consume chunked-body bytes; True once the last chunk and trailers are in."""
        while True:
            state = self.chunk_state
            if state == 1:  # chunk data
                n = self.remaining
                if len(buf) < n:
                    if buf:
                        self._add(bytes(buf))
                        self.remaining -= len(buf)
                        buf.clear()
                    return False
                self._add(bytes(buf[:n]))
                del buf[:n]
                self.remaining = 2
                self.chunk_state = 2
                continue
            if state == 2:  # the CRLF after the data, checked as it arrives
                want = b"\r\n"[2 - self.remaining :]
                got = bytes(buf[: len(want)])
                if got != want[: len(got)]:
                    raise ProtocolViolation("a chunk is not followed by CRLF (longer than its size line said?)")
                del buf[: len(got)]
                self.remaining -= len(got)
                if self.remaining:
                    return False
                self.chunk_state = 0
                continue
            if state == 3:  # trailers: a header block, possibly empty
                trailer = self.trailer
                trailer += buf
                buf.clear()
                if trailer[:1] == b"\n" or trailer[:2] == b"\r\n":  # no trailers
                    buf[:0] = trailer[1 if trailer[:1] == b"\n" else 2 :]
                    self.trailer = bytearray()
                    return True
                m = _BLANK_LINE.search(trailer)
                if m is None:
                    if len(self.trailer) > MAX_HEAD:
                        raise ProtocolViolation(f"the trailers are longer than {MAX_HEAD} bytes")
                    return False
                end = m.end()
                lines = bytes(self.trailer[: end - len(m.group())]).split(b"\n")
                buf[:0] = self.trailer[end:]
                self.trailer = bytearray()
                _check_framing(_header_fields([ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]))
                return True
            i = buf.find(b"\r\n")
            if i < 0:
                if len(buf) > MAX_HEAD:
                    raise ProtocolViolation("a chunk size line is too long")
                return False
            line = bytes(buf[:i])
            del buf[: i + 2]
            m = _CHUNK_SIZE.fullmatch(line)
            if m is None:
                raise ProtocolViolation(f"bad chunk size line {line[:40]!r}")
            n = int(m.group(1), 16)
            if n == 0:
                self.chunk_state = 3
            else:
                if self.limit is not None and self.received + n > self.limit:
                    raise TooLarge(self.limit)
                self.remaining = n
                self.chunk_state = 1
