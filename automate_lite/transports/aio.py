"""An async transport on the standard library alone: HTTP/1.1 over ``asyncio``, no threads.

It needs no package beyond the runtime requirements, starts no thread of its own (host
names are resolved by the event loop's ``getaddrinfo``, which asyncio runs in its default
executor; IP addresses skip that), and costs a fraction of the thread-hop transport per
request.

Import it from here::

    from automate_lite import AsyncFlowsClient
    from automate_lite.transports.aio import AsyncioTransport

    flows = AsyncFlowsClient.new_client(CLIENT_ID, get_authorizer, authorizer, transport=AsyncioTransport())

Each connection is an :class:`asyncio.Protocol` that parses the answer as it arrives;
connections are kept alive and pooled per ``(scheme, host, port)`` and per event loop.
It speaks only what the services need: HTTP/1.1 requests with a ``Content-Length`` body;
answers delimited by ``Content-Length``, ``Transfer-Encoding: chunked`` or the end of
the connection; ``gzip``/``deflate`` bodies decoded (as urllib3 does). No HTTP/2, no
pipelining, no redirects (a redirect must not carry the ``Authorization`` header to
another host; status codes are the core's business).
"""

from __future__ import annotations

import asyncio
import collections
import re
import ssl
import sys
import threading
import types
import weakref
from typing import TYPE_CHECKING, AsyncGenerator, Callable, Generator, Mapping

from .._core.config import tls_from_env
from .._core.urls import split_url
from .._core.values import Request, Response
from ..errors import (
    ConnectError,
    ConnectionLostError,
    ConnectTimeout,
    ReadTimeout,
    TLSError,
    TransportError,
    UsageError,
)
from ._h1 import CONNECT, HEAD, LENGTH, NO_BODY, PLAIN, ProtocolViolation, ResponseParser, TooLarge
from ._network import (
    DEFAULT_MAX_RESPONSE_BYTES,
    bypass_proxy,
    check_max_response_bytes,
    decode_body,
    network_settings,
    parse_proxy,
    rebuild,
    too_large,
)

if TYPE_CHECKING:
    from .threaded import ThreadedAsyncTransport

__all__ = ["AsyncioTransport"]

#: Methods the transport itself may send twice (see "Reuse" in :class:`AsyncioTransport`).
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: http.client sends ``Content-Length: 0`` for these when there is no body; so do we.
_EXPECTS_BODY = frozenset({"POST", "PUT", "PATCH"})
#: Request header names that change what the transport itself writes.
_SPECIAL = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MAX_ORIGINS = 512  # cached URL prefixes before the cache starts over

_PoolKey = tuple[str, str, int]


class _StaleConnection(ConnectionLostError):
    """A connection closed before a single byte of the answer arrived."""


# --------------------------------------------------------------------------- pools


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


# ---------------------------------------------------------------------- connections


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


# -------------------------------------------------------------------------- transport


class _RequestHead(bytes):
    """The request line and headers as sent: bytes whose ``repr`` hides them, since
    they hold the ``Authorization`` header and tracebacks that print local variables
    (``pytest --showlocals``, Sentry) show every frame holding them."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<request head, {len(self)} bytes, not shown>"


class AsyncioTransport:
    """Async transport on ``asyncio`` and ``ssl`` alone: no threads, no extra package.

    HTTP/1.1 with keep-alive. Connections are pooled per ``(scheme, host, port)``, at
    most ``max_connections_per_host`` of them; more concurrent requests to one host
    queue (first come, first served) for a connection instead of opening more. Waiting
    in that queue is not bounded by ``timeout``; ``timeout`` bounds connecting (TCP,
    proxy tunnel and TLS handshake together: :class:`~automate_lite.errors.ConnectTimeout`)
    and each read of the answer (:class:`~automate_lite.errors.ReadTimeout`, whose message
    says whether "no response headers arrived" or "the response body stalled").

    TLS: certificates are verified everywhere but on ``localhost``/``127.0.0.1``, like
    :class:`~automate_lite.transports.Urllib3Transport`; ``verify=True`` verifies there
    too, ``verify=False`` nowhere (not recommended). ``ca_certs`` names a CA bundle file;
    with neither given, ``GLOBUS_SDK_VERIFY_SSL`` decides (true, false or a bundle path).
    The SSL contexts are built once, here.

    Proxy: ``proxy_url``, else ``HTTPS_PROXY``/``ALL_PROXY`` with ``NO_PROXY`` read once,
    here (loopback hosts never go through it), as ``Urllib3Transport`` does. Through an
    ``http://`` proxy, ``https`` targets are tunnelled with ``CONNECT`` and ``http``
    targets are sent in absolute form; credentials in the proxy URL
    (``http://user:pass@proxy:3128``) are sent as ``Proxy-Authorization: Basic``. An
    ``https://`` proxy is handed to a
    :class:`~automate_lite.transports.ThreadedAsyncTransport` (urllib3 in worker threads)
    made on first use; other schemes (``socks5://``) are a
    :class:`~automate_lite.errors.UsageError` here.

    Reuse: a pooled connection is checked before it carries a request (the server
    closing it while idle is noticed by the event loop). If a reused connection still
    closes before a single byte of the answer arrives (the server closed it at that very
    moment), an idempotent request (``GET``, ``HEAD``, ``PUT``, ``DELETE``, ``OPTIONS``) is
    sent once more on another connection, here; any other request raises
    :class:`~automate_lite.errors.ConnectionLostError` and the core's retry policy decides.

    Event loops: the transport may be used from several event loops over its life, even
    at once from several threads (each with its own loop); every loop has its own pools,
    and a connection is only ever touched from the loop that opened it. When a loop is
    shut down by ``asyncio.run`` (or anything that finalises its async generators), its
    connections are closed.

    Responses are read as h11 reads them (see :mod:`._h1`); a ``CONNECT`` answered
    ``2xx`` is a tunnel whatever its HTTP version. ``max_response_bytes`` (64 MiB unless
    given; ``None`` for no limit) bounds a body after gzip/deflate decoding. URLs are read
    once by :func:`automate_lite._core.urls.split_url` (ambiguous ones are a
    :class:`~automate_lite.errors.UsageError`). The transport pickles: the copy has the
    same settings and no connections. urllib3 is imported only to use an ``https://``
    proxy (through the threaded transport).

    Cancellation: cancelling the awaiting task closes the request's connection (a
    connection is never put back half-read) and frees its place in the pool. (Unlike
    :class:`~automate_lite.transports.ThreadedAsyncTransport`, where the worker thread
    finishes the request.)

    :meth:`aclose` (or :meth:`close`) closes idle connections; the transport stays usable.
    """

    def __init__(
        self,
        *,
        max_connections_per_host: int = 32,
        verify: bool | None = None,
        ca_certs: str | None = None,
        proxy_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if type(max_connections_per_host) is not int or max_connections_per_host < 1:
            raise UsageError(f"max_connections_per_host must be an int >= 1, got {max_connections_per_host!r}")
        self.max_response_bytes = check_max_response_bytes(max_response_bytes)
        verify, ca_certs = tls_from_env(verify, ca_certs, environ)  # GLOBUS_SDK_VERIFY_SSL, as globus-sdk
        self.proxy_url, self._no_proxy = network_settings(verify, ca_certs, proxy_url, environ)
        self.verify = verify
        self.ca_certs = ca_certs
        self.max_connections_per_host = max_connections_per_host
        # The two contexts are built once: building one and loading a CA bundle takes
        # milliseconds, far more than a request. The verified one is built on the first
        # https origin (see _verified_context), so a client that only talks plain http,
        # or is made and never used, never loads the system trust store (~15 ms).
        self._verified: ssl.SSLContext | None = None
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        self._unverified = unverified
        self._proxy: tuple[str, int, str | None] | None = None  # host, port, Proxy-Authorization
        self._proxy_native = True
        if self.proxy_url:
            scheme, host, port, authorization, _ = parse_proxy(self.proxy_url)
            self._proxy = (host, port, authorization)
            self._proxy_native = scheme == "http"
        self._origins: dict[str, _Origin] = {}
        self._states: dict[int, _LoopState] = {}
        self._current: tuple[asyncio.AbstractEventLoop | None, _LoopState | None] = (None, None)
        self._lock = threading.Lock()
        self._delegate: ThreadedAsyncTransport | None = None
        self._methods: set[str] = set()
        if ca_certs is not None:
            self._verified_context()  # a bundle the caller named: a bad one fails here, now

    def __reduce__(self) -> tuple[object, ...]:
        # Pools, event-loop state and SSL contexts stay behind: the copy starts afresh
        # from the settings (with the proxy environment as it was read here).
        settings = {
            "max_connections_per_host": self.max_connections_per_host,
            "verify": self.verify,
            "ca_certs": self.ca_certs,
            "proxy_url": self.proxy_url,
            "environ": {"NO_PROXY": ",".join(self._no_proxy)},
            "max_response_bytes": self.max_response_bytes,
        }
        return rebuild, (type(self), settings)

    def _verified_context(self) -> ssl.SSLContext:
        """The verifying SSL context, built on first use (once, under the lock)."""
        ctx = self._verified
        if ctx is None:
            with self._lock:
                ctx = self._verified
                if ctx is None:
                    try:
                        ctx = ssl.create_default_context(cafile=self.ca_certs)
                    except (OSError, ValueError) as e:
                        raise UsageError(
                            f"could not load the CA bundle {self.ca_certs or '(system default)'}: {e}"
                        ) from None
                    self._verified = ctx
        return ctx

    def __repr__(self) -> str:
        return (
            f"AsyncioTransport(max_connections_per_host={self.max_connections_per_host}, "
            f"verify={self.verify!r}, proxy={'yes' if self.proxy_url else 'no'})"
        )

    # -- loops

    def _state(self, loop: asyncio.AbstractEventLoop) -> _LoopState:
        """The pools of ``loop`` (made on its first request)."""
        state = self._states.get(id(loop))
        if state is None or state.loop_ref() is not loop:
            with self._lock:
                # Forget the loops that are gone; their connections were closed when they
                # shut down (or are left to the garbage collector if nothing finalised them).
                for key, st in list(self._states.items()):
                    old = st.loop_ref()
                    if old is None or old.is_closed():
                        del self._states[key]
                state = self._states[id(loop)] = _LoopState(loop)
        if not state.watching:
            state.watch_loop_shutdown()
        self._current = (loop, state)
        return state

    # -- origins

    def _origin(self, url: str) -> tuple[_Origin, str]:
        """The origin of ``url`` and the request target to send (the slow path)."""
        # One reading of the URL (user info, backslashes and other ambiguous
        # authorities refused): it decides the TLS policy and where the socket goes.
        parts = split_url(url, "the request URL")
        scheme, host, port, hostport = parts.scheme, parts.host, parts.port, parts.hostport
        origin = _Origin()
        origin.key = (scheme, host, port)
        origin.host_line = f"Host: {hostport}\r\n"
        proxied = self._proxy is not None and not bypass_proxy(host, self._no_proxy)
        if proxied and not self._proxy_native:
            origin.delegate = True
        elif proxied:
            assert self._proxy is not None
            origin.connect_host, origin.connect_port, auth = self._proxy
            auth_line = f"Proxy-Authorization: {auth}\r\n" if auth else ""
            if scheme == "https":
                origin.tunnel = True
                authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                origin.tunnel_head = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{auth_line}\r\n".encode("latin-1")
            else:
                origin.target_prefix = f"http://{hostport}"
                origin.proxy_line = auth_line
                origin.host_line += auth_line
        else:
            origin.connect_host, origin.connect_port = parts.connect_host, port
        if scheme == "https":
            lax = self.verify is False or (self.verify is None and parts.loopback and not proxied)
            origin.ssl = self._unverified if lax else self._verified_context()
            origin.server_hostname = host
        target = parts.target
        # Cache by the exact prefix the fast path looks up (see send).
        i = url.find("/", 8)
        prefix = url[:i] if i >= 0 else url
        if "?" not in prefix and "#" not in prefix and "@" not in prefix:
            if len(self._origins) >= _MAX_ORIGINS:
                self._origins.clear()
            self._origins[prefix] = origin
        return origin, target

    # -- sending

    async def send(self, request: Request, timeout: float | None) -> Response:
        """Send ``request``; ``timeout`` bounds connecting and each read, in seconds."""
        loop = asyncio.get_running_loop()
        cur_loop, state = self._current
        if cur_loop is not loop or state is None:
            state = self._state(loop)
        url = request.url
        i = url.find("/", 8)
        origin = self._origins.get(url[:i]) if i >= 0 else None
        if origin is not None:
            target = url[i:]
            if "#" in target:
                target = target.split("#", 1)[0]
        else:
            origin, target = self._origin(url)
        if origin.delegate:
            return await self._delegated().send(request, timeout)
        method = request.method
        body = request.body
        data, close_after = self._request_head(method, origin, target, request.headers, body)
        pool = state.pools.get(origin.key)
        if pool is None:
            pool = state.pools[origin.key] = _Pool(self.max_connections_per_host)
        may_resend = method in _IDEMPOTENT
        kind = NO_BODY if method == "HEAD" else PLAIN
        while True:
            conn = await self._acquire(pool, origin, loop, timeout)
            fut = conn.start(data, body, kind, close_after, timeout)
            try:
                resp = await fut
            except _StaleConnection as e:
                pool.free()
                if may_resend and conn.requests > 1:
                    may_resend = False
                    continue
                raise ConnectionLostError(e.reason) from None
            except TransportError:
                pool.free()  # the connection closed itself
                raise
            except BaseException:
                # Cancelled (or interrupted): unless the answer was complete, the
                # connection is in an unknown state and is closed, never pooled.
                if fut.done() and not fut.cancelled() and fut.exception() is None and conn.reusable:
                    pool.put(conn)
                else:
                    conn.abort()
                    pool.free()
                raise
            if conn.reusable and conn.usable:
                pool.put(conn)
            else:
                conn.abort()
                pool.free()
            if "content-encoding" in resp.headers:
                body = decode_body(resp.headers["content-encoding"], resp.body, self.max_response_bytes, "AsyncioTransport")
                resp = Response(resp.status, resp.headers, body)
            return resp

    async def _acquire(self, pool: _Pool, origin: _Origin, loop: asyncio.AbstractEventLoop, timeout: float | None) -> _Connection:
        """A connection to ``origin`` holding one of the pool's slots."""
        idle = pool.idle
        while idle:
            conn = idle.pop()  # the most recently used: least likely closed by the server
            conn.idle = False
            if conn.usable:
                return conn
            conn.abort()
            pool.count -= 1
        if pool.count < pool.limit:
            pool.count += 1
            got = None
        else:
            got = await pool.wait(loop)
        if got is not None:
            if got.usable:
                return got
            got.abort()  # closed while being handed over; keep its slot for a new one
        try:
            return await self._connect(pool, origin, loop, timeout)
        except BaseException:
            pool.free()
            raise

    async def _connect(self, pool: _Pool, origin: _Origin, loop: asyncio.AbstractEventLoop, timeout: float | None) -> _Connection:
        conn = _Connection(pool, loop, self.max_response_bytes)
        try:
            if timeout is None:
                await self._open(conn, origin, loop)
            else:
                await asyncio.wait_for(self._open(conn, origin, loop), timeout)
        except BaseException as e:
            conn.abort()
            if isinstance(e, TransportError):
                raise
            if isinstance(e, ssl.SSLError):  # before OSError: it is one
                raise TLSError(f"TLS failed: {_ssl_reason(e)}") from None
            if isinstance(e, asyncio.TimeoutError):
                raise ConnectTimeout(f"connecting took longer than {timeout}s") from None
            if isinstance(e, OSError):
                raise ConnectError(f"could not connect: {e}") from None
            raise
        return conn

    async def _open(self, conn: _Connection, origin: _Origin, loop: asyncio.AbstractEventLoop) -> None:
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

    def _request_head(
        self, method: str, origin: _Origin, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[bytes, bool]:
        """The bytes of the request line and headers, and whether the request asks to close."""
        if method not in self._methods:
            if not _TOKEN.fullmatch(method):
                raise UsageError(f"not a valid HTTP method: {method!r}")
            self._methods.add(method)
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

    def _delegated(self) -> ThreadedAsyncTransport:
        d = self._delegate
        if d is None:
            from .threaded import ThreadedAsyncTransport

            with self._lock:
                d = self._delegate
                if d is None:
                    d = self._delegate = ThreadedAsyncTransport(
                        max_concurrency=self.max_connections_per_host,
                        verify=self.verify,
                        ca_certs=self.ca_certs,
                        proxy_url=self.proxy_url,
                        environ={},
                        max_response_bytes=self.max_response_bytes,
                    )
        return d

    # -- closing

    def close(self) -> None:
        """Close idle connections (best effort from outside their event loops).

        Connections of the running loop are closed now; those of a loop running in
        another thread are closed there, soon; those of a closed loop are forgotten.
        In-flight requests finish normally. The transport stays usable.
        """
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        with self._lock:
            states = list(self._states.items())
        for key, state in states:
            loop = state.loop_ref()
            if loop is None or loop.is_closed():
                with self._lock:
                    if self._states.get(key) is state:
                        del self._states[key]
                continue
            if loop is running or not loop.is_running():
                state.close_idle()
            else:
                try:
                    loop.call_soon_threadsafe(state.close_idle)
                except RuntimeError:  # pragma: no cover - it closed meanwhile
                    pass
        self._current = (None, None)
        d = self._delegate
        if d is not None and running is None:
            d.close()

    async def aclose(self) -> None:
        """Close idle connections and let their sockets be released; stays usable."""
        self.close()
        await _next_turn()  # run the transports' connection_lost: the sockets close
        d = self._delegate
        if d is not None:
            await d.aclose()

    # -- introspection (for tests and debugging)

    def _stats(self) -> dict[_PoolKey, tuple[int, int, int]]:
        """``{(scheme, host, port): (slots taken, idle, waiting)}`` for the running loop."""
        state = self._states.get(id(asyncio.get_running_loop()))
        if state is None:
            return {}
        return {k: (p.count, len(p.idle), sum(not w.done() for w in p.waiters)) for k, p in state.pools.items()}


def _ssl_reason(e: ssl.SSLError) -> str:
    text = getattr(e, "verify_message", None) or e.reason or str(e)
    return str(text)
