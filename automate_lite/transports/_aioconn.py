"""One connection of the asyncio transport (:mod:`.aio`): an :class:`asyncio.Protocol`
that writes a request and hands the bytes of the answer, as they arrive, to the sans-IO
parser of :mod:`._h1`, with the read timeout's timer. The pools and origins it belongs
to are in :mod:`._aiopool`; the transport that drives both is :mod:`.aio`.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING

from .._core.values import Response
from ..errors import ConnectionLostError, ReadTimeout, TransportError
from ._h1 import HEAD, LENGTH, ProtocolViolation, ResponseParser, TooLarge
from ._network import too_large

if TYPE_CHECKING:
    from ._aiopool import _Pool

__all__ = ["_Connection", "_StaleConnection"]


class _StaleConnection(ConnectionLostError):
    """A connection closed before a single byte of the answer arrived."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: writes a request, parses the answer as it arrives.

    ``start`` returns a future that gets the :class:`Response`, or a
    :class:`TransportError` (the connection is then already aborted).
    """

    __slots__ = (
        "pool", "loop", "transport", "buf", "waiter", "dead", "idle", "requests", "got_bytes",
        "close_after", "reusable", "timeout", "timer", "last_read", "armed_read", "parser",
    )

    def __init__(self, pool: _Pool, loop: asyncio.AbstractEventLoop, limit: int | None = None) -> None:
        self.pool = pool
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.dead = False  # EOF, error or unexpected bytes seen: never reuse
        self.idle = False  # in pool.idle
        self.requests = 0  # requests started on this connection
        self.got_bytes = False  # a byte of the current answer arrived
        self.close_after = False  # the request said "Connection: close"
        self.reusable = False  # set when an answer completes
        # read timeout
        self.timeout: float | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.last_read = 0.0
        self.armed_read = 0.0
        self.parser = ResponseParser(limit)

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:
            # Bytes nobody asked for (a "408 Request Timeout" before a close, say):
            # the connection is out of step and must not carry another request.
            self.dead = True
            self.abort()
            return
        self.got_bytes = True
        if self.timeout is not None:
            self.last_read = self.loop.time()
        self.buf += data
        try:
            if self.parser.feed(self.buf):
                self._finish()
        except TooLarge as e:
            self._fail(too_large(e.limit, "AsyncioTransport"))
        except ProtocolViolation as e:
            self._fail(ConnectionLostError(f"the server sent an invalid response: {e}"))

    def eof_received(self) -> bool:
        self.dead = True
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.dead = True
        if self.idle:
            self.idle = False
            try:
                self.pool.idle.remove(self)
            except ValueError:  # pragma: no cover - not in the list after all
                pass
            else:
                self.pool.free()
        if self.waiter is None:
            return
        if exc is None:
            try:
                if self.parser.eof(self.buf):
                    self._finish()
                    return
            except TooLarge as e:
                self._fail(too_large(e.limit, "AsyncioTransport"))
                return
        self._fail(self._lost_error(exc))

    # -- requests

    @property
    def usable(self) -> bool:
        """True when the connection can carry the next request."""
        t = self.transport
        return not self.dead and t is not None and not t.is_closing()

    def start(self, data: bytes, body: bytes | None, kind: int, close_after: bool, timeout: float | None) -> asyncio.Future[Response]:
        """Write one request; the returned future gets its answer."""
        fut: asyncio.Future[Response] = self.loop.create_future()
        self.waiter = fut
        self.requests += 1
        self.got_bytes = False
        self.parser.start(kind)
        self.close_after = close_after
        self.reusable = False
        self.timeout = timeout
        if timeout is not None:
            self.armed_read = self.last_read = now = self.loop.time()
            self.timer = self.loop.call_at(now + timeout, self._on_timer)
        transport = self.transport
        assert transport is not None
        if body is None:
            transport.write(data)
        elif len(body) <= 65536:
            transport.write(data + body)  # one write, usually one segment
        else:
            transport.write(data)
            transport.write(body)
        return fut

    def abort(self) -> None:
        """Close at once, dropping anything unsent or unread."""
        self.dead = True
        t = self.transport
        if t is not None and not t.is_closing():
            t.abort()

    def _on_timer(self) -> None:
        self.timer = None
        if self.waiter is None or self.timeout is None:
            return
        if self.last_read != self.armed_read:
            # Bytes arrived since the timer was set: the timeout counts from the last read.
            self.armed_read = self.last_read
            self.timer = self.loop.call_at(self.last_read + self.timeout, self._on_timer)
            return
        stage = "no response headers arrived" if self.parser.mode == HEAD else "the response body stalled"
        self._fail(ReadTimeout(f"{stage} within the read timeout of {self.timeout}s"))

    def _fail(self, exc: TransportError) -> None:
        self.dead = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        waiter, self.waiter = self.waiter, None
        self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _lost_error(self, exc: Exception | None) -> TransportError:
        why = f": {exc}" if exc is not None and str(exc) else ""
        if isinstance(exc, ssl.SSLError):
            return ConnectionLostError(f"the connection was lost (TLS){why}")
        if not self.got_bytes:
            return _StaleConnection(f"the connection was closed before any response arrived{why}")
        mode = self.parser.mode
        if mode == HEAD:
            return ConnectionLostError(f"the connection was closed in the middle of the response headers{why}")
        if mode == LENGTH:
            got = len(self.buf)
            return ConnectionLostError(
                f"the connection was lost: IncompleteRead({got} bytes read, {self.parser.remaining - got} more expected){why}"
            )
        return ConnectionLostError(f"the connection was closed in the middle of a chunked body{why}")

    def _finish(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        p = self.parser
        resp = Response(p.status, p.headers, p.body)
        # Leftover bytes mean the server answered something we did not ask: do not reuse.
        self.reusable = p.keep_alive and not self.close_after and not self.dead and not self.buf
        waiter, self.waiter = self.waiter, None
        p.headers = {}
        p.body = b""
        if not self.reusable and not (p.tunnel and not self.buf):
            # (A CONNECT's 2xx is a tunnel, HTTP/1.0 or not: TLS starts on this socket.)
            self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_result(resp)
