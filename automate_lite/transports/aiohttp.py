"""An async transport over the caller's own ``aiohttp.ClientSession``: :class:`AiohttpTransport`.

Import it from here: it is not re-exported by ``automate_lite`` or
``automate_lite.transports``, so aiohttp is imported only by programs that ask for it. Needs
the ``aiohttp`` extra: ``pip install 'automate-lite[aiohttp]'``.
"""

from __future__ import annotations

import asyncio
import ssl

try:
    import aiohttp
    from yarl import URL
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("AiohttpTransport needs aiohttp: pip install 'automate-lite[aiohttp]'") from exc

from .._core.values import Request, Response
from ._network import DECODED_CODINGS, DEFAULT_MAX_RESPONSE_BYTES, BodyLimit, check_max_response_bytes, reason, with_accept_encoding
from ..errors import ConnectError, ConnectionLostError, ConnectTimeout, ReadTimeout, TLSError, TransportError, UsageError

__all__ = ["AiohttpTransport"]

# aiohttp >= 3.10 says a timeout fired while connecting with its own class; older
# releases raise a plain ServerTimeoutError whose message starts "Connection timeout".
_CONNECTION_TIMEOUT: type[BaseException] | None = getattr(aiohttp, "ConnectionTimeoutError", None)

# aiohttp >= 3.10 can leave one request's body undecoded (``auto_decompress=False``), so
# BodyLimit decodes it a bounded chunk at a time; older releases decode each network chunk
# whole, and the body is only counted.
_RAW: dict[str, bool] = (
    {"auto_decompress": False} if tuple(int(p) for p in aiohttp.__version__.split(".")[:2] if p.isdigit()) >= (3, 10) else {}
)

class AiohttpTransport:
    """Async transport that sends each request through ``session``, an
    ``aiohttp.ClientSession`` the caller made and **owns**.

    One ``session.request(method, url, ...)`` per :class:`~automate_lite.Request`, with
    redirects off (a redirect must not carry the ``Authorization`` header to another
    host), ``raise_for_status=False`` whatever the session's default (status codes are
    the core's business), and ``aiohttp.ClientTimeout(total=None, sock_connect=timeout,
    sock_read=timeout)`` replacing the session's timeout. The body is read in full;
    header names come back lower case, repeated headers joined with ``", "``.

    The transport never closes the session, and has no ``close``/``aclose``: leaving
    ``async with AsyncActionClient(...)`` leaves the session open. Close it yourself
    once no client uses it. Everything else is the session's: connection limits
    (``TCPConnector(limit=...)``; a request waiting for a free connection is not bounded
    by ``timeout``), TLS settings (unlike the built-in transports, a loopback ``https``
    URL is verified unless the session says otherwise), proxies (``trust_env``),
    cookies and default headers. Do not give the session a default ``auth``: the
    client's authorizer sets the ``Authorization`` header. Use the transport on the
    event loop the session belongs to. Safe to share across tasks and clients.

    Cancelling the awaiting task closes the request's connection (it is not returned
    to the pool half-read); the session stays usable.

    Example::

        async with aiohttp.ClientSession() as session:
            client = AsyncActionClient.new_client(url, authorizer, transport=AiohttpTransport(session))
            status = await client.status(action_id)


    ``max_response_bytes`` (64 MiB unless given; ``None`` for no limit) bounds a response
    body after decoding, as in the built-in transports: a larger one is a
    :class:`~automate_lite.errors.TransportError` saying the limit, and is never held in
    memory whole. To that end the transport asks for ``Accept-Encoding: gzip, deflate``
    (unless the request names its own) and decodes those itself, a chunk at a time.
    """

    __slots__ = ("session", "max_response_bytes", "_timeouts")

    def __init__(
        self, session: aiohttp.ClientSession, *, max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES
    ) -> None:
        if not isinstance(session, aiohttp.ClientSession):
            raise UsageError(
                f"AiohttpTransport needs an aiohttp.ClientSession, got {type(session).__name__}; "
                "make one with `async with aiohttp.ClientSession() as session:`"
            )
        self.max_response_bytes = check_max_response_bytes(max_response_bytes)
        self.session = session
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}

    def __repr__(self) -> str:
        return f"AiohttpTransport(session=<aiohttp.ClientSession{' closed' if self.session.closed else ''}>)"

    def _timeout(self, timeout: float | None) -> aiohttp.ClientTimeout:
        t = self._timeouts.get(timeout)
        if t is None:
            t = self._timeouts[timeout] = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        return t

    async def send(self, request: Request, timeout: float | None) -> Response:
        """Send ``request`` (``session.request``); ``timeout`` bounds connecting and each read, in seconds."""
        session = self.session
        if session.closed:
            raise UsageError(
                "the aiohttp.ClientSession given to AiohttpTransport is closed; "
                "keep it open for as long as a client uses the transport"
            )
        stage = "no response headers arrived"
        headers = with_accept_encoding(request.headers)  # the codings BodyLimit decodes
        try:
            # ``async with``: the connection goes back to the pool, or is closed when
            # the body was not read to the end (an error, a cancellation).
            async with session.request(
                request.method,
                # The core already percent-encoded the URL; stop yarl re-quoting it.
                URL(request.url, encoded=True),
                headers=headers,
                data=request.body,
                allow_redirects=False,
                raise_for_status=False,
                timeout=self._timeout(timeout),
                **_RAW,
            ) as resp:
                stage = "the response body stalled"
                coding = resp.headers.get("Content-Encoding", "").strip().lower() if _RAW else ""
                # Other codings (a server that ignored Accept-Encoding) are kept as they are,
                # as the built-in transports do; the size is bounded either way.
                collected = BodyLimit(self.max_response_bytes, "AiohttpTransport", coding if coding in DECODED_CODINGS else None)
                if "Content-Encoding" not in resp.headers:
                    collected.check_length(resp.content_length)
                async for chunk in resp.content.iter_chunked(65536):
                    collected.feed(chunk)
                body = collected.finish()
                out: dict[str, str] = {}
                for name, value in resp.headers.items():
                    key = name.lower()
                    out[key] = f"{out[key]}, {value}" if key in out else value
                return Response(resp.status, out, body)
        except aiohttp.ClientSSLError as e:
            raise TLSError(f"TLS failed: {reason(e)}") from None
        except aiohttp.ClientConnectorError as e:
            if isinstance(e.os_error, ssl.SSLError):
                raise TLSError(f"TLS failed: {reason(e)}") from None
            raise ConnectError(f"could not connect: {reason(e)}") from None
        except aiohttp.ServerFingerprintMismatch:
            raise TLSError("TLS failed: the server's certificate does not match the pinned fingerprint") from None
        except aiohttp.ClientHttpProxyError as e:
            raise ConnectError(f"the proxy failed: {e.status} {e.message}") from None
        except aiohttp.ServerTimeoutError as e:
            if _is_connect_timeout(e):
                raise ConnectTimeout(f"connecting took longer than {timeout}s") from None
            raise ReadTimeout(f"{stage} within the read timeout of {timeout}s") from None
        except (asyncio.TimeoutError, TimeoutError):  # one class from Python 3.11, two before
            raise ReadTimeout(f"{stage} within the read timeout of {timeout}s") from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as e:
            # ServerDisconnectedError, ClientOSError, ClientConnectionResetError...
            raise ConnectionLostError(f"the connection was lost: {reason(e)}") from None
        except aiohttp.ClientError as e:
            raise TransportError(f"{type(e).__name__}: {reason(e)}") from None
        except OSError as e:
            raise ConnectionLostError(f"{type(e).__name__}: {e}") from None


def _is_connect_timeout(exc: aiohttp.ServerTimeoutError) -> bool:
    if _CONNECTION_TIMEOUT is not None:
        return isinstance(exc, _CONNECTION_TIMEOUT)
    return str(exc).startswith("Connection timeout")  # pragma: no cover - aiohttp < 3.10
