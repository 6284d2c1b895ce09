"""The built-in sync transport: one shared, thread-safe urllib3 connection pool."""

from __future__ import annotations

import base64
import http.client
import io
import logging
import os
import re
import ssl
import threading
from typing import Any, Mapping, TypeVar
from urllib.parse import unquote, urlsplit

# urllib3 1.26 ships no type information (2.x does); both are supported.
import urllib3  # type: ignore[import-untyped, unused-ignore]
from urllib3 import exceptions as u3  # type: ignore[import-untyped, unused-ignore]
from urllib3.connection import HTTPConnection, HTTPSConnection  # type: ignore[import-untyped, unused-ignore]
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool  # type: ignore[import-untyped, unused-ignore]

from .._core.http import is_loopback_host
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

__all__ = ["Urllib3Transport"]

log = logging.getLogger("automate_lite.transport")


def _proxy_from_env(env: Mapping[str, str]) -> tuple[str | None, tuple[str, ...]]:
    proxy = env.get("HTTPS_PROXY") or env.get("https_proxy") or env.get("ALL_PROXY") or env.get("all_proxy")
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    return (proxy or None), tuple(h.strip().lower().lstrip(".") for h in no_proxy.split(",") if h.strip())


def network_settings(
    verify: object, ca_certs: str | None, proxy_url: str | None, environ: Mapping[str, str] | None
) -> tuple[str | None, tuple[str, ...]]:
    """The checks and environment reading every built-in transport does: ``verify`` and
    ``ca_certs`` are checked, and the proxy URL (``proxy_url``, else ``HTTPS_PROXY``/
    ``ALL_PROXY``) and the ``NO_PROXY`` hosts are returned."""
    if verify not in (None, True, False):
        raise UsageError(f"verify must be None, True or False, got {verify!r}")
    if ca_certs is not None and not os.path.isfile(ca_certs):
        raise UsageError(f"ca_certs must name a CA bundle file that exists, got {ca_certs!r}")
    env_proxy, no_proxy = _proxy_from_env(os.environ if environ is None else environ)
    return (proxy_url if proxy_url is not None else env_proxy), no_proxy


def redact_url(url: str) -> str:
    """``url`` with everything between ``user:`` and the last ``@`` replaced by ``***``.

    Proxy URLs have no path, so the last ``@`` ends the credentials even when a
    password holds a ``/`` or ``@`` that should have been percent-encoded."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" not in rest:
        return url
    userinfo, _, hostport = rest.rpartition("@")
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{hostport}"


def parse_proxy(url: str) -> tuple[str, str, int, str | None, str]:
    """Check a proxy URL (``http://[user:pass@]host[:port]``, or ``https://``); a
    :class:`~automate_lite.errors.UsageError` that never shows the password if it is
    not one. A URL without a scheme is taken as ``http://``, as curl and requests do.

    Returns ``(scheme, host, port, authorization, url)``: how to talk to the proxy
    (``"http"`` or ``"https"``), where it is, the ``Proxy-Authorization`` value for
    credentials in the URL (or ``None``), and the URL without them."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError:
        # Not urllib's message: it can quote a piece of the password.
        raise UsageError(
            f"the proxy URL is not valid: {shown!r}; write it as http://[user:password@]host[:port], "
            "with any special characters in the user or password percent-encoded"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UsageError(
            f"the proxy URL {shown!r} uses {scheme}://, which automate-lite does not speak; "
            "use an http:// (or https://) proxy"
        )
    if not parts.hostname:
        raise UsageError(f"the proxy URL has no host: {shown!r}")
    auth = None
    if parts.username is not None:
        raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        auth = "Basic " + base64.b64encode(raw).decode("ascii")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = port or (443 if scheme == "https" else 80)
    return scheme, parts.hostname, port, auth, f"{scheme}://{host}:{port}"


def _bypass(host: str, no_proxy: tuple[str, ...]) -> bool:
    if is_loopback_host(host):
        return True
    for entry in no_proxy:
        if entry == "*" or host == entry or host.endswith("." + entry):
            return True
    return False


class Urllib3Transport:
    """Sends requests through urllib3, keeping connections alive between calls.

    Thread-safe: one transport (and so one client) can be shared by many threads.
    The pool holds up to ``maxsize`` connections per host; with ``block=True`` (the
    default) a thread that finds them all busy waits for one instead of opening a
    connection that would be thrown away ("Connection pool is full" warnings).

    TLS: certificates are verified everywhere but on ``localhost``/``127.0.0.1``,
    as the original SDK did; ``verify=True`` verifies there too, ``verify=False``
    nowhere (not recommended). ``ca_certs`` names a CA bundle file. The HTTPS proxy is
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
    ) -> None:
        if not isinstance(maxsize, int) or maxsize < 1:
            raise UsageError(f"maxsize must be an int >= 1, got {maxsize!r}")
        self.proxy_url, self._no_proxy = network_settings(verify, ca_certs, proxy_url, environ)
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
        self._pools: dict[str, Any] = {}

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

    def _manager_for(self, url: str) -> urllib3.PoolManager:
        if not self._tls_ready and url.startswith("https"):
            self._load_tls()
        # Cheap host extraction: the core builds well-formed absolute URLs.
        rest = url.split("://", 1)[1]
        hostport = rest.split("/", 1)[0].split("?", 1)[0]
        host = hostport.rsplit(":", 1)[0] if not hostport.endswith("]") else hostport
        host = host.strip("[]").lower()
        if self._proxied is not None and not _bypass(host, self._no_proxy):
            return self._proxied
        if self.verify is False or (self.verify is None and url.startswith("https://") and is_loopback_host(host)):
            return self._unverified
        return self._verified

    def _timeout(self, timeout: float | None) -> urllib3.Timeout:
        t = self._timeouts.get(timeout)
        if t is None:
            t = self._timeouts[timeout] = urllib3.Timeout(connect=timeout, read=timeout)
        return t

    def send(self, request: Request, timeout: float | None) -> Response:
        """Send ``request``; ``timeout`` bounds connecting and each read, in seconds."""
        url = request.url
        # The host's connection pool is looked up by origin ("https://host:port") in a
        # dict of our own: PoolManager.urlopen would parse the URL and normalise a pool
        # key on every request, which is a tenth of the CPU a request costs.
        cut = url.find("/", url.find("://") + 3)
        origin, path = (url, "/") if cut == -1 else (url[:cut], url[cut:])
        pool = self._pools.get(origin)
        try:
            if pool is None:
                manager = self._manager_for(url)
                if self._proxied is not None and manager is self._proxied:  # proxies want the absolute form: leave it to urllib3
                    resp = manager.urlopen(
                        request.method, url, body=request.body, headers=request.headers, redirect=False,
                        retries=_NO_RETRY, timeout=self._timeout(timeout), pool_timeout=self._pool_timeout,
                        preload_content=False,
                    )
                    return self._finish(resp, timeout)
                pool = manager.connection_from_url(origin)
                if len(self._pools) >= 64:  # many hosts: start over rather than grow without bound
                    self._pools.clear()
                self._pools[origin] = pool
            try:
                resp = self._urlopen(pool, request, path, timeout)
            except u3.ClosedPoolError:
                # PoolManager evicted (and closed) this host's pool; get a fresh one.
                self._pools.pop(origin, None)
                pool = self._manager_for(url).connection_from_url(origin)
                self._pools[origin] = pool
                resp = self._urlopen(pool, request, path, timeout)
        except Exception as e:
            raise self._error(e, timeout, "no response headers arrived") from None
        return self._finish(resp, timeout)

    def _urlopen(self, pool: Any, request: Request, path: str, timeout: float | None) -> Any:
        return pool.urlopen(
            request.method,
            path,
            body=request.body,
            headers=request.headers,
            redirect=False,
            assert_same_host=False,
            retries=_NO_RETRY,
            timeout=self._timeout(timeout),
            pool_timeout=self._pool_timeout,
            preload_content=False,
        )

    def _finish(self, resp: Any, timeout: float | None) -> Response:
        # The body is read apart from the headers so that a stall can say which it was.
        try:
            body = resp.read()
        except Exception as e:
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

    def _error(self, e: Exception, timeout: float | None, stalled: str) -> Exception:
        """Our exception for urllib3's ``e``; ``stalled`` says what a read timeout interrupted."""
        if isinstance(e, u3.NewConnectionError):
            return ConnectError(f"could not connect: {_reason(e)}")
        if isinstance(e, u3.ConnectTimeoutError):
            return ConnectTimeout(f"connecting took longer than {timeout}s")
        if isinstance(e, u3.ReadTimeoutError):
            return ReadTimeout(f"{stalled} within the read timeout of {timeout}s")
        if isinstance(e, u3.SSLError):
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


# http.client's begin() relies on these two; should a future Python drop them, the
# pools below fall back to the standard response class.
_FAST = all(hasattr(http.client.HTTPResponse, a) for a in ("_read_status", "_check_close"))


class _Connection(HTTPConnection):  # type: ignore[misc, unused-ignore]
    if _FAST:
        response_class = _Response


class _TLSConnection(HTTPSConnection):  # type: ignore[misc, unused-ignore]
    if _FAST:
        response_class = _Response


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
