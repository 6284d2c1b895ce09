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

The transport is in three modules, by responsibility: this one (the public class:
settings, origins, sending, closing), :mod:`._aioconn` (one connection: the protocol
object, its timers, handing bytes to the parser of :mod:`._h1`) and :mod:`._aiopool`
(pools per event loop and origin, the request head, opening a connection and proxy
tunnelling).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from typing import TYPE_CHECKING, Mapping

from .._core.config import tls_from_env
from .._core.urls import split_url
from .._core.values import Request, Response
from ..errors import ConnectError, ConnectionLostError, ConnectTimeout, TLSError, TransportError, UsageError
from ._aioconn import _Connection, _StaleConnection
from ._aiopool import _LoopState, _next_turn, _Origin, _Pool, _PoolKey, open_connection, request_head
from ._h1 import NO_BODY, PLAIN
from ._network import (
    DEFAULT_MAX_RESPONSE_BYTES,
    bypass_proxy,
    check_max_response_bytes,
    decode_body,
    network_settings,
    parse_proxy,
    rebuild,
)

if TYPE_CHECKING:
    from .threaded import ThreadedAsyncTransport

__all__ = ["AsyncioTransport"]

#: Methods the transport itself may send twice (see "Reuse" in :class:`AsyncioTransport`).
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_MAX_ORIGINS = 512  # cached URL prefixes before the cache starts over


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
        data, close_after = request_head(method, origin, target, request.headers, body, self._methods)
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
                await open_connection(conn, origin, loop)
            else:
                await asyncio.wait_for(open_connection(conn, origin, loop), timeout)
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
