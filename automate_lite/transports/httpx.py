"""An async transport over the caller's own ``httpx.AsyncClient``: :class:`HttpxTransport`.

Import it from here: it is not re-exported by ``automate_lite`` or
``automate_lite.transports``, so httpx is imported only by programs that ask for it. Needs
the ``httpx`` extra: ``pip install 'automate-lite[httpx]'``.
"""

from __future__ import annotations

import ssl

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("HttpxTransport needs httpx: pip install 'automate-lite[httpx]'") from exc

from .._core.values import Request, Response
from ._network import DECODED_CODINGS, DEFAULT_MAX_RESPONSE_BYTES, BodyLimit, check_max_response_bytes, reason, with_accept_encoding
from ..errors import ConnectError, ConnectionLostError, ConnectTimeout, ReadTimeout, TLSError, TransportError, UsageError

__all__ = ["HttpxTransport"]


class HttpxTransport:
    """Async transport that sends each request through ``client``, an
    ``httpx.AsyncClient`` the caller made and **owns**.

    One ``client.request(method, url, ...)`` per :class:`~automate_lite.Request`, with
    ``follow_redirects=False`` (a redirect must not carry the ``Authorization`` header
    to another host) and ``timeout=httpx.Timeout(timeout)`` replacing the client's:
    connecting, each read, each write and the wait for a free pooled connection are
    each bounded by ``timeout``. The body is read in full; header names come back
    lower case, repeated headers joined with ``", "``.

    The transport never closes the client, and has no ``close``/``aclose``: leaving
    ``async with AsyncActionClient(...)`` leaves the client open. Close it yourself
    once nothing uses it. Everything else is the client's: connection limits
    (``httpx.Limits``), TLS settings (``verify=``; unlike the built-in transports, a
    loopback ``https`` URL is verified unless the client says otherwise), proxies,
    cookies, default headers, event hooks. Do not give the client an ``auth`` (the
    client's authorizer sets the ``Authorization`` header) nor a response hook that
    raises for error statuses (status codes are the core's business). Use it on the
    event loop the client's connections were made on. Safe to share across tasks.

    Cancelling the awaiting task closes the request's connection (it is not returned
    to the pool half-read); the client stays usable.

    Example::

        async with httpx.AsyncClient() as http:
            flows = AsyncFlowsClient.new_client(client_id, get_authorizer, authorizer, transport=HttpxTransport(http))
            async for flow in flows.iter_flows():
                print(flow["id"])


    ``max_response_bytes`` bounds a decoded response body as in
    :class:`~automate_lite.transports.aiohttp.AiohttpTransport` (64 MiB unless given,
    ``None`` for none; gzip and deflate are asked for and decoded here, a chunk at a time).
    """

    __slots__ = ("client", "max_response_bytes", "_timeouts")

    def __init__(self, client: httpx.AsyncClient, *, max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        if not isinstance(client, httpx.AsyncClient):
            hint = " (httpx.Client is the sync one)" if isinstance(client, httpx.Client) else ""
            raise UsageError(
                f"HttpxTransport needs an httpx.AsyncClient, got {type(client).__name__}{hint}; "
                "make one with `async with httpx.AsyncClient() as client:`"
            )
        self.max_response_bytes = check_max_response_bytes(max_response_bytes)
        self.client = client
        self._timeouts: dict[float | None, httpx.Timeout] = {}

    def __repr__(self) -> str:
        return f"HttpxTransport(client=<httpx.AsyncClient{' closed' if self.client.is_closed else ''}>)"

    def _timeout(self, timeout: float | None) -> httpx.Timeout:
        t = self._timeouts.get(timeout)
        if t is None:
            t = self._timeouts[timeout] = httpx.Timeout(timeout)
        return t

    async def send(self, request: Request, timeout: float | None) -> Response:
        """Send ``request`` (``client.request``); ``timeout`` bounds each network step, in seconds."""
        client = self.client
        if client.is_closed:
            raise UsageError(
                "the httpx.AsyncClient given to HttpxTransport is closed; "
                "keep it open for as long as a client uses the transport"
            )
        # Headers and body are awaited apart so that a read timeout can say which stalled.
        stage = "no response headers arrived"
        try:
            headers = with_accept_encoding(request.headers)  # the codings BodyLimit decodes
            built = client.build_request(
                request.method,
                request.url,
                headers=headers,
                content=request.body,
                timeout=self._timeout(timeout),
            )
            resp = await client.send(built, follow_redirects=False, stream=True)
            stage = "the response body stalled"
            try:
                body = await _read(resp, self.max_response_bytes)
            finally:
                await resp.aclose()
        except httpx.ConnectTimeout:
            raise ConnectTimeout(f"connecting took longer than {timeout}s") from None
        except httpx.PoolTimeout:
            # Nothing was sent, so ConnectTimeout (not_sent) lets the core retry even a
            # POST; the urllib3 transport treats an exhausted pool the same way.
            raise ConnectTimeout(f"no free connection in the client's pool within {timeout}s") from None
        except (httpx.ReadTimeout, httpx.WriteTimeout):
            raise ReadTimeout(f"{stage} within the read timeout of {timeout}s") from None
        except httpx.ConnectError as e:
            if _caused_by_ssl(e):
                raise TLSError(f"TLS failed: {reason(e)}") from None
            raise ConnectError(f"could not connect: {reason(e)}") from None
        except httpx.ProxyError as e:
            raise ConnectError(f"the proxy failed: {reason(e)}") from None
        except (httpx.RemoteProtocolError, httpx.NetworkError) as e:
            # ReadError, WriteError, CloseError; a server that closed without answering.
            raise ConnectionLostError(f"the connection was lost: {reason(e)}") from None
        except httpx.HTTPError as e:
            raise TransportError(f"{type(e).__name__}: {reason(e)}") from None
        except ssl.SSLError as e:
            # httpx wraps a failed handshake in ConnectError (above); a bare SSLError comes
            # from a connection already carrying the request (a bad record, an alert), so
            # the server may have read it: resending a POST could do the work twice. Only a
            # certificate failure (httpcore < 0.17 let it through bare) is surely unsent.
            if isinstance(e, ssl.SSLCertVerificationError):
                raise TLSError(f"TLS failed: {reason(e)}") from None
            raise ConnectionLostError(f"the connection was lost (TLS): {reason(e)}") from None
        # lower-case names, repeats joined with ", "
        return Response(resp.status_code, dict(resp.headers.items()), body)


async def _read(resp: httpx.Response, limit: int | None) -> bytes:
    """The body, decoded and bounded by :class:`BodyLimit` (httpx's own decoders inflate
    a whole network chunk at once, so identity, gzip and deflate are read raw)."""
    coding = resp.headers.get("content-encoding", "").strip().lower()
    if coding in ("", "identity") or coding in DECODED_CODINGS:
        collected = BodyLimit(limit, "HttpxTransport", coding if coding in DECODED_CODINGS else None)
        length = resp.headers.get("content-length", "")
        collected.check_length(int(length) if length.isdigit() else None)
        async for chunk in resp.aiter_raw():
            collected.feed(chunk)
    else:  # a coding the server chose anyway (br, zstd...): httpx decodes it, we count
        collected = BodyLimit(limit, "HttpxTransport")
        async for chunk in resp.aiter_bytes():
            collected.feed(chunk)
    return collected.finish()


def _caused_by_ssl(exc: BaseException) -> bool:
    # httpx wraps httpcore's ConnectError, which wraps the ssl.SSLError.
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False
