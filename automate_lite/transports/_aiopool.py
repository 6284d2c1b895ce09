"""The asyncio transport's bookkeeping (see :mod:`.aio`): the connection pool of one
event loop and origin, the per-loop state that closes connections when the loop shuts
down, what is known about one origin (where the socket goes, TLS, proxy lines), the
request head as written, and opening a connection, through a ``CONNECT`` tunnel when a
proxy is in the way.
"""

from __future__ import annotations

import asyncio
import collections
import re
import ssl
import sys
import types
import weakref
from typing import TYPE_CHECKING, AsyncGenerator, Callable, Generator, Mapping

from ..errors import ConnectError, TransportError, UsageError
from ._h1 import CONNECT

if TYPE_CHECKING:
    from ._aioconn import _Connection

__all__ = ["_Pool", "_LoopState", "_Origin", "_PoolKey", "_RequestHead", "request_head", "open_connection"]

#: http.client sends ``Content-Length: 0`` for these when there is no body; so do we.
_EXPECTS_BODY = frozenset({"POST", "PUT", "PATCH"})
#: Request header names that change what the transport itself writes.
_SPECIAL = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_PoolKey = tuple[str, str, int]


class _Pool:
    """The connections of one event loop to one ``(scheme, host, port)``.

    ``count`` is the number of slots taken: idle connections, connections in use and
    connections being opened. At most ``limit``; a task that finds none free queues
    in ``waiters`` (FIFO) and is handed a connection, or a slot to open one with
    (``None``), when a request ends.
    """

    __slots__ = ("idle", "count", "limit", "waiters")

    def __init__(self, limit: int) -> None:
        self.idle: list[_Connection] = []
        self.count = 0
        self.limit = limit
        self.waiters: collections.deque[asyncio.Future[_Connection | None]] = collections.deque()

    def put(self, conn: _Connection) -> None:
        """A request on ``conn`` ended and ``conn`` may be reused: hand it on or keep it."""
        waiters = self.waiters
        while waiters:
            w = waiters.popleft()
            if not w.done():  # a cancelled waiter stays queued until it is popped
                w.set_result(conn)
                return
        conn.idle = True
        self.idle.append(conn)

    def free(self) -> None:
        """A slot is no longer used (its connection closed): hand it on or release it."""
        waiters = self.waiters
        while waiters:
            w = waiters.popleft()
            if not w.done():
                w.set_result(None)
                return
        self.count -= 1

    async def wait(self, loop: asyncio.AbstractEventLoop) -> _Connection | None:
        """Queue for a connection (or a slot, ``None``) as soon as one is freed."""
        fut: asyncio.Future[_Connection | None] = loop.create_future()
        self.waiters.append(fut)
        try:
            return await fut
        except BaseException:
            # Cancelled after being handed something: hand it on rather than lose it.
            if fut.done() and not fut.cancelled():
                got = fut.result()
                if got is None:
                    self.free()
                else:
                    self.put(got)
            raise

    def close_idle(self) -> None:
        """Close every idle connection and release its slot."""
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.idle = False
            conn.abort()
            self.free()


class _LoopState:
    """Everything the transport keeps for one event loop."""

    __slots__ = ("loop_ref", "pools", "closer", "watching", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            ref: Callable[[], asyncio.AbstractEventLoop | None] = weakref.ref(loop)
        except TypeError:  # pragma: no cover - a loop class without weak references
            ref = lambda: loop  # noqa: E731
        self.loop_ref = ref
        self.pools: dict[_PoolKey, _Pool] = {}
        self.closer: AsyncGenerator[None, None] | None = None
        self.watching = False  # set once: never a second finaliser after shutdown began

    def close_idle(self) -> None:
        for pool in list(self.pools.values()):
            pool.close_idle()

    def watch_loop_shutdown(self) -> None:
        """Close this loop's connections when the loop shuts down.

        asyncio has no "loop closing" callback, but ``asyncio.run`` (and
        ``asyncio.Runner``, pytest-asyncio, IsolatedAsyncioTestCase) finalise the loop's
        async generators before closing it. A started generator parked at its ``yield``
        is such a finaliser; its ``finally`` runs on the loop, while transports can still
        be closed cleanly. Without it every ``asyncio.run`` would leave its idle
        connections to the garbage collector ("unclosed transport").
        """
        self.watching = True
        if sys.get_asyncgen_hooks().firstiter is None:
            # A loop that does not track async generators would never finalise this
            # one; its connections are left to close() and the garbage collector.
            return
        agen = _close_on_shutdown(self)
        step = agen.asend(None)  # registers the generator with the running loop
        try:
            step.send(None)  # runs it to its ``yield``
        except StopIteration:
            pass
        self.closer = agen


@types.coroutine
def _next_turn() -> Generator[None, None, None]:
    """``asyncio.sleep(0)`` without going through ``asyncio.sleep`` (which tests patch)."""
    yield


async def _close_on_shutdown(state: _LoopState) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        for pool in list(state.pools.values()):
            pool.close_idle()
        state.pools.clear()
        # Let the transports' connection_lost callbacks run (they close the sockets).
        await _next_turn()


# ---------------------------------------------------------------------------- origins


class _Origin:
    """What the transport knows about one ``scheme://host:port``, computed once."""

    __slots__ = (
        "key", "connect_host", "connect_port", "ssl", "server_hostname",
        "tunnel", "tunnel_head", "target_prefix", "host_line", "proxy_line", "delegate",
    )

    def __init__(self) -> None:
        self.key: _PoolKey = ("", "", 0)
        self.connect_host = ""
        self.connect_port = 0
        self.ssl: ssl.SSLContext | None = None
        self.server_hostname: str | None = None
        self.tunnel = False  # CONNECT through the proxy, then TLS
        self.tunnel_head = b""
        self.target_prefix = ""  # "http://host:port" when talking to a proxy in absolute form
        self.host_line = ""  # "Host: ...\r\n", plus proxy_line
        self.proxy_line = ""  # "Proxy-Authorization: ...\r\n" for an http target through a proxy
        self.delegate = False  # a proxy this transport does not speak: use the threaded transport


class _RequestHead(bytes):
    """The request line and headers as sent: bytes whose ``repr`` hides them, since
    they hold the ``Authorization`` header and tracebacks that print local variables
    (``pytest --showlocals``, Sentry) show every frame holding them."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<request head, {len(self)} bytes, not shown>"


def request_head(
    method: str, origin: _Origin, target: str, headers: Mapping[str, str], body: bytes | None, methods: set[str]
) -> tuple[bytes, bool]:
    """The bytes of the request line and headers, and whether the request asks to close."""
    if method not in methods:
        if not _TOKEN.fullmatch(method):
            raise UsageError(f"not a valid HTTP method: {method!r}")
        methods.add(method)
    if _BAD_TARGET.search(target):
        raise UsageError(
            f"the URL path and query must be percent-encoded (no spaces or control characters): {target!r}"
        )
    fields = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    n = len(headers)
    # Each header must stay one line: a CR or LF in a name or value could forge
    # headers or a second request.
    if fields.count("\n") != n or fields.count("\r") != n:
        raise UsageError("request header names and values must not contain line breaks (CR or LF)")
    host_line = origin.host_line
    close_after = framed = False
    if not _SPECIAL.isdisjoint(map(str.lower, headers)):
        given = {name.lower(): value for name, value in headers.items()}
        if "host" in given:
            host_line = origin.proxy_line
        close_after = "close" in given.get("connection", "").lower()
        framed = "content-length" in given or "transfer-encoding" in given
    if framed:
        length = ""
    elif body is not None:
        length = f"Content-Length: {len(body)}\r\n"
    elif method in _EXPECTS_BODY:
        length = "Content-Length: 0\r\n"
    else:
        length = ""
    text = f"{method} {origin.target_prefix}{target} HTTP/1.1\r\n{host_line}{fields}{length}\r\n"
    try:
        return _RequestHead(text, "latin-1"), close_after
    except UnicodeEncodeError:
        raise UsageError("request header names and values must be Latin-1 text") from None


async def open_connection(conn: _Connection, origin: _Origin, loop: asyncio.AbstractEventLoop) -> None:
    """Connect ``conn`` to ``origin``: directly, or through the proxy with ``CONNECT`` and
    then TLS on the tunnel (a ``2xx`` answer is a tunnel whatever its HTTP version)."""
    if not origin.tunnel:
        await loop.create_connection(
            lambda: conn,
            origin.connect_host,
            origin.connect_port,
            ssl=origin.ssl,
            server_hostname=origin.server_hostname if origin.ssl is not None else None,
        )
        return
    await loop.create_connection(lambda: conn, origin.connect_host, origin.connect_port)
    try:
        resp = await conn.start(origin.tunnel_head, None, CONNECT, False, None)
    except TransportError as e:
        raise ConnectError(f"the proxy failed: {e.reason}") from None
    if not 200 <= resp.status < 300:
        raise ConnectError(f"the proxy failed: {resp.status} {conn.parser.reason}".rstrip())
    if not conn.parser.tunnel or not conn.usable:
        raise ConnectError("the proxy closed the connection after answering CONNECT")
    conn.requests = 0  # the CONNECT does not count as a reuse
    conn.dead = False
    assert origin.ssl is not None and conn.transport is not None
    tls = await loop.start_tls(conn.transport, conn, origin.ssl, server_hostname=origin.server_hostname)
    if tls is None:  # pragma: no cover - only when the connection closed meanwhile
        raise ConnectError("the proxy closed the tunnel during the TLS handshake")
    conn.transport = tls
