"""What every transport does the same way: the ``verify`` and ``ca_certs`` checks, the
proxy environment (``HTTPS_PROXY``/``ALL_PROXY``, ``NO_PROXY``) and proxy URLs, the
bound on a response body (:class:`BodyLimit`) and the words of an error's reason.

Stdlib only: the asyncio transport uses it without importing urllib3.
"""

from __future__ import annotations

import base64
import os
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import unquote, urlsplit

from .._core.urls import is_loopback_host
from ..errors import TransportError, UsageError

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DECODED_CODINGS",
    "BodyLimit",
    "bypass_proxy",
    "check_max_response_bytes",
    "decode_body",
    "network_settings",
    "parse_proxy",
    "rebuild",
    "redact_url",
    "reason",
    "too_large",
    "with_accept_encoding",
]

#: The default bound on a response body (after decoding): far above any Globus answer,
#: far below what a decompression bomb would take.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

_T = TypeVar("_T")


def check_max_response_bytes(value: object) -> int | None:
    """``value`` if it is a usable ``max_response_bytes`` (an int >= 1, or ``None`` for
    no limit); a :class:`~automate_lite.errors.UsageError` otherwise."""
    if value is None or (type(value) is int and value >= 1):
        return value
    raise UsageError(f"max_response_bytes must be an int >= 1 (a number of bytes) or None for no limit, got {value!r}")


def too_large(limit: int, transport: str) -> TransportError:
    """The error for a response body beyond ``limit`` bytes."""
    return TransportError(
        f"the response body is larger than max_response_bytes={limit} bytes (after decoding); "
        f"pass a larger max_response_bytes (or None) to {transport}(...) if this answer is expected"
    )


#: The codings :class:`BodyLimit` decodes; the adapters ask for these only.
DECODED_CODINGS = ("gzip", "x-gzip", "deflate")


def with_accept_encoding(headers: Mapping[str, str]) -> Mapping[str, str]:
    """``headers`` asking for the codings :class:`BodyLimit` decodes, unless they name their own."""
    if any(k.lower() == "accept-encoding" for k in headers):
        return headers
    return {**headers, "Accept-Encoding": "gzip, deflate"}


def reason(exc: BaseException) -> str:
    """The text of ``exc`` for an error message, or its class name when it has none."""
    return str(exc).strip() or type(exc).__name__


class BodyLimit:
    """A response body, collected a chunk at a time, decoded from ``gzip``/``deflate``
    as it comes (``coding``; other codings and none are kept as they are), and refused
    with :func:`too_large` as soon as the decoded size passes ``limit`` bytes (``None``:
    no limit).

    Every transport collects bodies through it, so all apply the same limit the same
    way: after decompression, without ever inflating more than ``limit`` bytes in memory
    (a small gzip bomb cannot take more than the limit).
    """

    __slots__ = ("limit", "transport", "size", "_parts", "_zlib", "_coding")

    def __init__(self, limit: int | None, transport: str, coding: str | None = None) -> None:
        self.limit = limit
        self.transport = transport
        self.size = 0
        self._parts: list[bytes] = []
        self._coding = (coding or "").strip().lower()
        self._zlib: Any = None
        if self._coding in ("gzip", "x-gzip"):
            import zlib

            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def check_length(self, declared: int | None) -> None:
        """Refuse at once a body whose (undecoded) ``Content-Length`` is over the limit."""
        if declared is not None and self.limit is not None and not self._coding and declared > self.limit:
            raise too_large(self.limit, self.transport)

    def _keep(self, data: bytes) -> None:
        if data:
            self.size += len(data)
            if self.limit is not None and self.size > self.limit:
                raise too_large(self.limit, self.transport)
            self._parts.append(data)

    def feed(self, chunk: bytes) -> None:
        """Add the next chunk of the body as it came off the wire."""
        if not chunk:
            return
        if self._coding == "deflate" and self._zlib is None:
            import zlib

            # RFC 9110 "deflate" is the zlib format; some servers send raw deflate.
            wrapped = len(chunk) < 2 or (chunk[0] & 0x0F == 8 and (chunk[0] * 256 + chunk[1]) % 31 == 0)
            self._zlib = zlib.decompressobj() if wrapped else zlib.decompressobj(-zlib.MAX_WBITS)
        d = self._zlib
        if d is None:
            self._keep(chunk)
            return
        import zlib

        try:
            data = chunk
            while data:
                # Never more than one byte past the limit per call: the rest of the
                # input waits in unconsumed_tail.
                cap = 0 if self.limit is None else self.limit - self.size + 1
                self._keep(d.decompress(data, cap))
                data = d.unconsumed_tail
        except zlib.error as e:
            raise TransportError(f"the response body could not be decoded ({self._coding}): {e}") from None

    def finish(self) -> bytes:
        """The whole (decoded) body."""
        if self._zlib is not None:
            import zlib

            try:
                self._keep(self._zlib.flush())
            except zlib.error as e:
                raise TransportError(f"the response body could not be decoded ({self._coding}): {e}") from None
        parts = self._parts
        return parts[0] if len(parts) == 1 else b"".join(parts)


def decode_body(coding: str, body: bytes, limit: int | None, transport: str) -> bytes:
    """``body`` decoded from ``gzip``/``deflate`` (as urllib3 does), never inflating past
    ``limit`` bytes; other codings are returned as they are (see :class:`BodyLimit`)."""
    if coding.strip().lower() not in DECODED_CODINGS or not body:
        return body
    collected = BodyLimit(limit, transport, coding)
    collected.feed(body)
    return collected.finish()


def rebuild(cls: Callable[..., _T], settings: Mapping[str, Any]) -> _T:
    """``cls(**settings)``: how a pickled transport is made again in another process."""
    return cls(**settings)


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


def bypass_proxy(host: str, no_proxy: tuple[str, ...]) -> bool:
    """Whether a connection to ``host`` skips the proxy: loopback hosts always do, and
    the hosts ``NO_PROXY`` names (a name matches itself and its subdomains)."""
    if is_loopback_host(host):
        return True
    for entry in no_proxy:
        if entry == "*" or host == entry or host.endswith("." + entry):
            return True
    return False
