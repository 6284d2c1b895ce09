"""The connection, pool and response classes the urllib3 transport (:mod:`.urllib3`)
gives its pool managers: a cheaper reading of response headers, every read cut to the
call's deadline, and a note of when the request started to be written (after which an
SSL error is a lost connection, not a failed handshake).
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import threading
import time
from typing import Any, TypeVar

import urllib3  # type: ignore[import-untyped, unused-ignore]
from urllib3.connection import HTTPConnection, HTTPSConnection  # type: ignore[import-untyped, unused-ignore]
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool  # type: ignore[import-untyped, unused-ignore]

__all__ = ["_progress", "_prepared", "_Response"]

# Whether the request line of the exchange under way in this thread was handed to the
# connection: after that, an SSL error is a lost connection (the request may have been
# read), not a failed handshake. Set by the connection classes below.
#
# And the deadline (a ``time.monotonic()`` reading) of the request under way, if any.
_progress = threading.local()


# A header line the fast path takes as it is: a field name (visible characters but
# ":"), the colon, and a value without CR or LF inside it.
_PLAIN_HEADER = re.compile(rb"[!-9;-~]+:[^\r\n]*\r?\n")
_MAX_LINE = 65536  # the limits http.client applies
_MAX_HEADERS = 100


class _Response(http.client.HTTPResponse):
    """``http.client.HTTPResponse`` with a cheaper reading of the header block.

    http.client gives the header block to the email package's MIME parser, which is
    about a sixth of the CPU a keep-alive request costs in all. Ordinary HTTP header
    lines need none of it: ``begin`` here reads them with http.client's limits and
    stores each with ``HTTPMessage.set_raw``, exactly as that parser would (name as
    sent, value with leading blanks and the line end removed). A block with anything
    unusual (a folded continuation line, a line that is not ``name: value``, a stray
    CR) goes to http.client's own ``parse_headers`` instead, so the message, its
    defects and what urllib3 makes of them are the same either way. The rest of
    ``begin`` (status line, 1xx, chunked, length, keep-alive) follows http.client.
    """

    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = getattr(_progress, "deadline", None)
        if deadline is not None:
            # Each read of this response waits at most until the call's deadline, so a
            # server that trickles a byte a second cannot hold the call past it.
            self.fp.close()  # (releases the socket's reference from makefile)
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:
            version, status, reason = self._read_status()
            if status != 100:
                break
            self._header_lines()  # the interim response's headers are skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        lines, plain = self._header_lines()
        if plain:
            msg = http.client.HTTPMessage()
            for line in lines[:-1]:
                name, _, value = line.decode("iso-8859-1").partition(":")
                msg.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
        else:
            msg = http.client.parse_headers(io.BytesIO(b"".join(lines)))
        self.headers = self.msg = msg
        tr_enc = msg.get("transfer-encoding")
        self.chunked = bool(tr_enc and tr_enc.lower() == "chunked")
        if self.chunked:
            self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = msg.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                pass
            else:
                if self.length < 0:
                    self.length = None
        if status in (204, 304) or 100 <= status < 200 or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True

    def _header_lines(self) -> tuple[list[bytes], bool]:
        """The header block's lines, the blank one that ends it included (as
        http.client keeps it), and whether all the others are plain."""
        lines: list[bytes] = []
        plain = True
        readline, match = self.fp.readline, _PLAIN_HEADER.fullmatch
        while True:
            line = readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                raise http.client.LineTooLong("header line")
            lines.append(line)
            if len(lines) > _MAX_HEADERS:
                raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
            if line in (b"\r\n", b"\n", b""):
                return lines, plain
            if plain and match(line) is None:
                plain = False


class _DeadlineReader(socket.SocketIO):
    """A socket reader whose every ``recv`` waits at most until ``deadline`` (a
    ``time.monotonic()`` reading), and not at all once it has passed."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__(sock, "rb")
        self._deadline = deadline
        self._base = sock.gettimeout()  # the read timeout urllib3 set

    def readinto(self, b: Any) -> int | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("the call's deadline passed")
        base = self._base
        if base is not None and remaining >= base:
            return super().readinto(b)
        sock: socket.socket = self._sock  # type: ignore[attr-defined]
        sock.settimeout(remaining)
        try:
            return super().readinto(b)
        finally:
            # A pooled connection must not carry the cut timeout into its next request.
            sock.settimeout(base)


# http.client's begin() relies on these two; should a future Python drop them, the
# pools below fall back to the standard response class.
_FAST = all(hasattr(http.client.HTTPResponse, a) for a in ("_read_status", "_check_close"))


class _Progress:
    """Mixed into both connection classes: notes that the request is being written."""

    if _FAST:
        response_class = _Response

    def putrequest(self, *args: Any, **kwargs: Any) -> None:
        # Called once connected (and TLS set up), before any byte of the request is written.
        _progress.wrote = True
        super().putrequest(*args, **kwargs)  # type: ignore[misc, unused-ignore]


class _Connection(_Progress, HTTPConnection):  # type: ignore[misc, unused-ignore]
    pass


class _TLSConnection(_Progress, HTTPSConnection):  # type: ignore[misc, unused-ignore]
    pass


class _Pool(HTTPConnectionPool):  # type: ignore[misc, unused-ignore]
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):  # type: ignore[misc, unused-ignore]
    ConnectionCls = _TLSConnection


_M = TypeVar("_M", bound="urllib3.PoolManager")


def _prepared(manager: _M) -> _M:
    """Give ``manager`` this module's pool classes and make it close what it drops.

    The pool classes are set on this manager only (never on urllib3's module-level
    table). urllib3 2.x builds its pool container without a dispose function, so
    ``clear()`` only drops references and the sockets stay open while anything still
    points at a pool; 1.26 closes them. Closing explicitly behaves the same on both.
    """
    manager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
    manager.pools.dispose_func = lambda pool: pool.close()
    return manager
