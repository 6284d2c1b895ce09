"""The built-in sync transport: one shared, thread-safe urllib3 connection pool.

The connection and response classes it gives urllib3 (the cheaper header reading, the
per-read deadline) are in :mod:`._u3conn`.
"""

from __future__ import annotations

import http.client
import logging
import re
import ssl
import threading
from typing import Any, Mapping

# urllib3 1.26 ships no type information (2.x does); both are supported.
import urllib3  # type: ignore[import-untyped, unused-ignore]
from urllib3 import exceptions as u3  # type: ignore[import-untyped, unused-ignore]

from .._core.config import tls_from_env
from .._core.urls import URLParts, split_url
from .._core.values import Request, Response
from ..errors import ConnectError, ConnectionLostError, ConnectTimeout, ReadTimeout, TLSError, TransportError, UsageError
from ._network import (
    DEFAULT_MAX_RESPONSE_BYTES,
    BodyLimit,
    bypass_proxy,
    check_max_response_bytes,
    network_settings,
    parse_proxy,
    rebuild,
)
from ._u3conn import _prepared, _progress

__all__ = ["Urllib3Transport"]

log = logging.getLogger("automate_lite.transport")


class Urllib3Transport:
    """Sends requests through urllib3, keeping connections alive between calls.

    Thread-safe: one transport (and so one client) can be shared by many threads.
    The pool holds up to ``maxsize`` connections per host; with ``block=True`` (the
    default) a thread that finds them all busy waits for one instead of opening a
    connection that would be thrown away ("Connection pool is full" warnings).

    TLS: certificates are verified everywhere but on ``localhost``/``127.0.0.1``,
    as the original SDK did; ``verify=True`` verifies there too, ``verify=False``
    nowhere (not recommended). ``ca_certs`` names a CA bundle file (with neither
    given, ``GLOBUS_SDK_VERIFY_SSL`` decides, as in globus-sdk: true, false or a bundle path). The HTTPS proxy is
    read once, here, from ``HTTPS_PROXY``/``ALL_PROXY`` and ``NO_PROXY`` (or pass
    ``proxy_url``); loopback hosts never go through it. An ``http://`` or ``https://``
    proxy; credentials in its URL (``http://user:pass@proxy:3128``) are sent to the
    proxy as ``Proxy-Authorization: Basic``, never to the service.

    urllib3 is created with ``retries=False`` and redirects off: retrying is the
    core's job, and redirects are never followed (a redirect must not carry the
    ``Authorization`` header to another host).

    Per request, the transport skips two costs of plain urllib3 that do not change
    what is sent or received: the host's pool is looked up by origin in a dict of its
    own, and ordinary response header lines are stored without ``http.client``'s MIME
    parser (anything unusual still goes to that parser; see ``_Response``).

    URLs are read once, by :func:`automate_lite._core.urls.split_url`: a URL with user
    info, a backslash or another ambiguous authority is a
    :class:`~automate_lite.errors.UsageError`, and the TLS policy is chosen from the host
    the socket really connects to (``*.localhost`` connects to ``localhost``).

    ``max_response_bytes`` (64 MiB unless given; ``None`` for no limit) bounds a response
    body after gzip/deflate decoding: a larger one is a
    :class:`~automate_lite.errors.TransportError` and is never held in memory whole.

    A transport pickles (for ``multiprocessing`` / ``ProcessPoolExecutor``): the copy has
    the same settings and fresh, empty connection pools.
    """

    def __init__(
        self,
        *,
        maxsize: int = 32,
        block: bool = True,
        verify: bool | None = None,
        ca_certs: str | None = None,
        proxy_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        pool_timeout: float | None = 30.0,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if not isinstance(maxsize, int) or maxsize < 1:
            raise UsageError(f"maxsize must be an int >= 1, got {maxsize!r}")
        self.max_response_bytes = check_max_response_bytes(max_response_bytes)
        verify, ca_certs = tls_from_env(verify, ca_certs, environ)  # GLOBUS_SDK_VERIFY_SSL, as globus-sdk
        self.proxy_url, self._no_proxy = network_settings(verify, ca_certs, proxy_url, environ)
        self.block = block
        self.verify = verify
        self.maxsize = maxsize
        self._pool_timeout = pool_timeout
        common: dict[str, Any] = {"maxsize": maxsize, "block": block, "retries": _NO_RETRY, "num_pools": 16}
        verified: dict[str, Any] = dict(common, cert_reqs="CERT_REQUIRED")
        unverified: dict[str, Any] = dict(common, cert_reqs="CERT_NONE")
        self.ca_certs = ca_certs
        self._tls_ready = False
        self._tls_lock = threading.Lock()
        self._verified: urllib3.PoolManager = _prepared(urllib3.PoolManager(**verified))
        self._unverified: urllib3.PoolManager = _prepared(urllib3.PoolManager(**unverified))
        self._proxied: urllib3.PoolManager | None = None
        if self.proxy_url:
            # urllib3 ignores credentials in a proxy URL: they go in a header of our own.
            _, _, _, authorization, url = parse_proxy(self.proxy_url)
            headers = {"Proxy-Authorization": authorization} if authorization else None
            self._proxied = _prepared(
                urllib3.ProxyManager(url, proxy_headers=headers, **(verified if verify is not False else unverified))
            )
        self._timeouts: dict[float | None, urllib3.Timeout] = {}
        # origin prefix of a URL -> (its pool, a Host header when the socket goes elsewhere)
        self._pools: dict[str, tuple[Any, str | None]] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        # Pools, sockets and locks stay behind: the copy is built afresh from the settings
        # (the proxy environment as it was read here, not the other process's).
        settings = {
            "maxsize": self.maxsize,
            "block": self.block,
            "verify": self.verify,
            "ca_certs": self.ca_certs,
            "proxy_url": self.proxy_url,
            "environ": {"NO_PROXY": ",".join(self._no_proxy)},
            "pool_timeout": self._pool_timeout,
            "max_response_bytes": self.max_response_bytes,
        }
        return rebuild, (type(self), settings)

    def _load_tls(self) -> None:
        """Build the SSL contexts once, on the first https request.

        Left to itself urllib3 builds a context and loads the CA bundle for every new
        connection (about 15 ms each); loading the system store here rather than in
        ``__init__`` keeps making a client cheap for programs that may never call.
        """
        with self._tls_lock:
            if self._tls_ready:
                return
            try:
                verified = _ssl_context(verify=True, ca_certs=self.ca_certs)
            except (OSError, ValueError) as e:
                raise UsageError(f"could not load the CA bundle {self.ca_certs or '(system default)'}: {e}") from None
            self._verified.connection_pool_kw["ssl_context"] = verified
            self._unverified.connection_pool_kw["ssl_context"] = _ssl_context(verify=False)
            if self._proxied is not None:
                self._proxied.connection_pool_kw["ssl_context"] = (
                    verified if self.verify is not False else self._unverified.connection_pool_kw["ssl_context"]
                )
            self._tls_ready = True

    def __repr__(self) -> str:
        return f"Urllib3Transport(maxsize={self.maxsize}, verify={self.verify!r}, proxy={'yes' if self.proxy_url else 'no'})"

    def _manager_for(self, url: str | URLParts) -> urllib3.PoolManager:
        parts = url if isinstance(url, URLParts) else split_url(url, "the request URL")
        https = parts.scheme == "https"
        if not self._tls_ready and https:
            self._load_tls()
        if self._proxied is not None and not bypass_proxy(parts.host, self._no_proxy):
            return self._proxied
        if self.verify is False or (self.verify is None and https and parts.loopback):
            return self._unverified
        return self._verified

    def _pool_for(self, origin: str, url: str) -> tuple[Any, str | None]:
        """The pool for ``url`` (whose origin prefix is ``origin``), made and cached."""
        parts = split_url(url, "the request URL")
        manager = self._manager_for(parts)
        if self._proxied is not None and manager is self._proxied:
            return manager, None  # proxies want the absolute form: see send
        host_header = None
        kw: dict[str, Any] | None = None
        if parts.connect_host != parts.host:
            # *.localhost: the socket goes to localhost; the name stays in Host and SNI.
            host_header = parts.hostport
            if parts.scheme == "https":
                kw = dict(manager.connection_pool_kw, server_hostname=parts.host)
        pool = manager.connection_from_host(parts.connect_host, parts.port, parts.scheme, pool_kwargs=kw)
        if len(self._pools) >= 64:  # many hosts: start over rather than grow without bound
            self._pools.clear()
        self._pools[origin] = (pool, host_header)
        return pool, host_header

    def _timeout(self, timeout: float | None) -> urllib3.Timeout:
        t = self._timeouts.get(timeout)
        if t is None:
            t = self._timeouts[timeout] = urllib3.Timeout(connect=timeout, read=timeout)
        return t

    def send(self, request: Request, timeout: float | None) -> Response:
        """Send ``request``; ``timeout`` bounds connecting and each read, in seconds, and
        ``request.deadline`` (if any) every read: each waits at most until it."""
        deadline = request.deadline
        if deadline is None:
            return self._send(request, timeout)
        _progress.deadline = deadline  # read by _u3conn._Response: each read is cut to it
        try:
            return self._send(request, timeout)
        finally:
            _progress.deadline = None

    def _send(self, request: Request, timeout: float | None) -> Response:
        url = request.url
        # The host's connection pool is looked up by origin ("https://host:port") in a
        # dict of our own: PoolManager.urlopen would parse the URL and normalise a pool
        # key on every request, which is a tenth of the CPU a request costs. An origin
        # enters the dict only once split_url accepted it, so a cached prefix has one
        # reading.
        cut = url.find("/", url.find("://") + 3)
        origin, path = (url, "/") if cut == -1 else (url[:cut], url[cut:])
        if "?" in origin or "#" in origin:  # "https://host?q": the path starts earlier
            parts = split_url(url, "the request URL")
            origin, path = parts.origin, parts.target
        cached = self._pools.get(origin)
        if cached is None:
            cached = self._pool_for(origin, url)
        pool, host_header = cached
        _progress.wrote = False
        try:
            if self._proxied is not None and pool is self._proxied:
                resp = pool.urlopen(
                    request.method, url, body=request.body, headers=request.headers, redirect=False,
                    retries=_NO_RETRY, timeout=self._timeout(timeout), pool_timeout=self._pool_timeout,
                    preload_content=False,
                )
                return self._finish(resp, timeout)
            try:
                resp = self._urlopen(pool, request, path, timeout, host_header)
            except u3.ClosedPoolError:
                # PoolManager evicted (and closed) this host's pool; get a fresh one.
                self._pools.pop(origin, None)
                pool, host_header = self._pool_for(origin, url)
                resp = self._urlopen(pool, request, path, timeout, host_header)
        except Exception as e:
            raise self._error(e, timeout, "no response headers arrived") from None
        return self._finish(resp, timeout)

    def _urlopen(self, pool: Any, request: Request, path: str, timeout: float | None, host_header: str | None) -> Any:
        headers = request.headers
        if host_header is not None and not any(k.lower() == "host" for k in headers):
            headers = {"Host": host_header, **headers}
        return pool.urlopen(
            request.method,
            path,
            body=request.body,
            headers=headers,
            redirect=False,
            assert_same_host=False,
            retries=_NO_RETRY,
            timeout=self._timeout(timeout),
            pool_timeout=self._pool_timeout,
            preload_content=False,
        )

    def _finish(self, resp: Any, timeout: float | None) -> Response:
        # The body is read apart from the headers so that a stall can say which it was.
        _progress.wrote = True  # whatever fails now, the request went out
        try:
            body = self._read(resp)
        except Exception as e:
            resp.close()  # half read: never back into the pool
            raise self._error(e, timeout, "the response body stalled") from None
        finally:
            resp.release_conn()
        # Not headers.items(): on urllib3 2 it yields a repeated header once per value, and
        # a dict would keep only the last; indexing joins them with ", " on 1.26 and 2.x.
        headers = resp.headers
        out = {k.lower(): headers[k] for k in headers}
        for k, v in out.items():
            if "\n" in v:  # a folded (obs-fold) value: urllib3 2 unfolds it, 1.26 does not
                out[k] = re.sub(r"[ \t]*\r?\n[ \t]+", " ", v)
        return Response(resp.status, out, body or b"")

    def _read(self, resp: Any) -> bytes:
        """The whole (decoded) body, refused once it grows past ``max_response_bytes``."""
        limit = self.max_response_bytes
        if limit is None:
            return resp.read() or b""
        collected = BodyLimit(limit, "Urllib3Transport")
        if "content-encoding" not in resp.headers and resp.length_remaining is not None:
            collected.check_length(resp.length_remaining)
            return resp.read() or b""
        # Encoded, or of unknown length: a chunk at a time, so that a small compressed
        # body cannot inflate past the limit in memory (urllib3 >= 2.6 decodes at most
        # ``amt`` bytes a call; older releases at most ~1000 times the 16 KiB read).
        while True:
            chunk = resp.read(16384)
            if not chunk:
                return collected.finish()
            collected.feed(chunk)

    def _error(self, e: Exception, timeout: float | None, stalled: str) -> Exception:
        """Our exception for urllib3's ``e``; ``stalled`` says what a read timeout interrupted."""
        if isinstance(e, TransportError):
            return e
        if isinstance(e, u3.NewConnectionError):
            return ConnectError(f"could not connect: {_reason(e)}")
        if isinstance(e, u3.ConnectTimeoutError):
            return ConnectTimeout(f"connecting took longer than {timeout}s")
        if isinstance(e, u3.ReadTimeoutError):
            return ReadTimeout(f"{stalled} within the read timeout of {timeout}s")
        if isinstance(e, (u3.SSLError, ssl.SSLError)):
            if getattr(_progress, "wrote", True):
                # After the request was handed over, a bad record or a TLS alert means
                # the server may have read it: resending a POST could do the work twice.
                return ConnectionLostError(f"the connection was lost (TLS): {_reason(e)}")
            return TLSError(f"TLS failed: {_reason(e)}")
        if isinstance(e, u3.EmptyPoolError):
            return ConnectTimeout(f"no free connection in the pool within {self._pool_timeout}s")
        if isinstance(e, u3.ProxyError):
            return ConnectError(f"the proxy failed: {_reason(e)}")
        if isinstance(e, u3.ProtocolError):
            return ConnectionLostError(f"the connection was lost: {_reason(e)}")
        if isinstance(e, u3.HTTPError):
            return TransportError(f"{type(e).__name__}: {_reason(e)}")
        if isinstance(e, OSError):
            return ConnectionLostError(f"{type(e).__name__}: {e}")
        if isinstance(e, (ValueError, OverflowError, http.client.HTTPException, MemoryError)):
            # http.client lets a huge Content-Length or a bad chunk size out as these.
            return ConnectionLostError(f"the server sent an invalid response: {type(e).__name__}: {_reason(e)}")
        return e

    def close(self) -> None:
        """Close every pooled connection. The transport stays usable (it reconnects)."""
        self._pools.clear()
        self._verified.clear()
        self._unverified.clear()
        if self._proxied is not None:
            self._proxied.clear()


# Passing one Retry saves urllib3 building two per request; False/False means "never
# retry, never follow a redirect", exactly what retries=False asks for.
_NO_RETRY = urllib3.Retry(total=False, redirect=False)


def _ssl_context(verify: bool, ca_certs: str | None = None) -> "ssl.SSLContext":
    from urllib3.util.ssl_ import create_urllib3_context  # type: ignore[import-untyped, unused-ignore]

    ctx: ssl.SSLContext = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE)
    if verify:
        if ca_certs:
            ctx.load_verify_locations(cafile=ca_certs)
        else:
            ctx.load_default_certs()
    else:
        ctx.check_hostname = False
    return ctx


def _reason(exc: BaseException) -> str:
    # urllib3 messages embed object reprs; keep the last, human part.
    inner: Any = getattr(exc, "reason", None) or (exc.args[-1] if exc.args else exc)
    text = str(inner)
    if "Failed to establish a new connection:" in text:
        text = text.split("Failed to establish a new connection:", 1)[1].strip()
    text = text.strip()
    # Drop one pair of wrapping parentheses only: "IncompleteRead(10 bytes read, ...)"
    # keeps its closing one.
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text
