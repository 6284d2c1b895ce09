"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1, for reliability tests (stdlib only).

:class:`FaultServer` sits in front of a stand-in (or any plain-HTTP server) and, request
by request, either passes the exchange through or misbehaves as scripted::

    with ActionProviderStub() as ap, FaultServer(ap.url) as faults:
        client = ActionClient.new_client(faults.url, authorizer)
        faults.script(Respond(503), Respond(503))            # the next two requests
        faults.script(Reset(forward=True), method="POST", path="/run$")
        client.run({"echo_string": "hi"})   # reset after the provider accepted it,
                                            # then retried: one action exists
        faults.seen                          # every request the proxy received

Each scripted fault is used once, by the first request it matches (``method`` and a
``path`` regular expression searched in the request path); a request that matches
nothing gets :attr:`FaultServer.default` (:class:`Pass` unless changed with
:meth:`FaultServer.always`). Without an upstream the default answers 502.

The faults (each a small frozen dataclass; write your own by implementing
``apply(exchange) -> bool``):

==========================  =========================================================
:class:`Pass`               forward upstream and relay the answer
:class:`Delay`              wait, then :class:`Pass` (for cancelling a call mid-request)
:class:`Respond`            answer this instead (``forward=True``: upstream did the work)
:class:`Reset`              TCP reset without answering (``forward=True`` first)
:class:`Close`              orderly close without answering
:class:`StallBeforeHeaders` accept the request, send nothing for ``seconds``, close
:class:`StallMidBody`       send headers and part of the body, stall, close
:class:`ShortBody`          send fewer body bytes than ``Content-Length``, then close
:class:`RetryAfterDate`     429 (or another status) with ``Retry-After`` as an HTTP-date
==========================  =========================================================

and answer builders for bad bodies: :func:`retry_after`, :func:`truncated_json`,
:func:`non_json`, :func:`html_page`, :func:`huge_body`, :func:`unexpected_content_type`.

The proxy counts connections (:attr:`FaultServer.connections_opened`,
:attr:`FaultServer.open_connections`) so a test can tell whether a client leaks or
reuses them. Stalls wake at once when the server stops, so a test never waits for them.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import re
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Mapping, Protocol
from urllib.parse import urlsplit

from .fault_kinds import (
    Close, Delay, Headers, Pass, Reset, Respond, RetryAfterDate, ShortBody, StallBeforeHeaders, StallMidBody,
    _REASONS, html_page, huge_body, non_json, retry_after, truncated_json, unexpected_content_type,
)

__all__ = [
    "FaultServer",
    "Exchange",
    "Fault",
    "SeenRequest",
    "UpstreamReply",
    "Pass",
    "Delay",
    "Respond",
    "Reset",
    "Close",
    "StallBeforeHeaders",
    "StallMidBody",
    "ShortBody",
    "RetryAfterDate",
    "retry_after",
    "truncated_json",
    "non_json",
    "html_page",
    "huge_body",
    "unexpected_content_type",
]


# Not forwarded in either direction: they describe one hop, not the message.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class SeenRequest:
    """A request as the proxy received it."""

    method: str
    target: str  # path and query, as sent
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    connection: int  # 1 for the first connection accepted, 2 for the next...
    fault: str  # repr of the fault that handled it

    @property
    def path(self) -> str:
        """The path without the query string."""
        return self.target.split("?", 1)[0]


@dataclass(frozen=True)
class UpstreamReply:
    """The upstream server's answer to a forwarded request."""

    status: int
    reason: str
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if any."""
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


class Fault(Protocol):
    """What the proxy does with one request."""

    def apply(self, exchange: "Exchange") -> bool:
        """Handle the request; return True to keep the connection open for the next one."""
        ...


class Exchange:
    """One request on one client connection, as a fault sees it."""

    def __init__(self, server: "FaultServer", sock: socket.socket, request: SeenRequest) -> None:
        self.server = server
        self.sock = sock
        self.request = request
        self.keep_alive = request.headers.get("connection", "").lower() != "close"

    # -- upstream --------------------------------------------------------------------

    def forward(self) -> UpstreamReply:
        """Send the request upstream and return its answer (502 if there is none)."""
        reply = self.server._forward(self.request)
        with self.server._lock:
            self.server.forwarded += 1
        return reply

    # -- answering -------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        """Write raw bytes to the client."""
        self.sock.sendall(data)

    @staticmethod
    def head(status: int, headers: Headers = (), *, content_length: int | None, reason: str | None = None) -> bytes:
        """The status line and headers (``Content-Length`` added when given)."""
        lines = [f"HTTP/1.1 {status} {reason or _REASONS.get(status, 'Unknown')}"]
        lines.extend(f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP)
        if content_length is not None:
            lines.append(f"Content-Length: {content_length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(
        self,
        status: int,
        body: bytes = b"",
        headers: Headers | Mapping[str, str] = (),
        *,
        reason: str | None = None,
    ) -> None:
        """Send a complete, well-framed answer."""
        items = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        if not self.keep_alive:
            items.append(("Connection", "close"))
        no_body = self.request.method == "HEAD" or status in (204, 304) or status < 200
        head = self.head(status, items, content_length=None if status in (204, 304) else len(body), reason=reason)
        self.sock.sendall(head if no_body else head + body)

    def relay(self, reply: UpstreamReply) -> None:
        """Send the upstream's answer on to the client."""
        self.send(reply.status, reply.body, reply.headers, reason=reply.reason)

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds``; stop early when the server stops or the client hangs up.

        Returns False when the client closed its end (nothing more can be sent to it),
        so a stalled connection is counted closed as soon as the client gives up.
        """
        deadline = time.monotonic() + seconds
        while not self.server.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            try:
                readable, _, _ = select.select([self.sock], [], [], min(left, 0.05))
                if readable and not self.sock.recv(1, socket.MSG_PEEK):
                    return False
            except (OSError, ValueError):
                return False
            if readable:
                # a pipelined request is waiting: not a hang-up, keep stalling
                self.server.stopping.wait(min(left, 0.05))
        return False

    def reset(self) -> None:
        """Abort the connection with a TCP RST (no answer)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()



# ----------------------------------------------------------------------------- server


@dataclass
class _Scripted:
    fault: Fault
    method: str | None
    path: re.Pattern[str] | None

    def matches(self, request: SeenRequest) -> bool:
        if self.method is not None and self.method != request.method:
            return False
        return self.path is None or self.path.search(request.path) is not None


@dataclass
class _Upstream:
    host: str
    port: int
    prefix: str = ""


class _BadRequest(Exception):
    pass


@dataclass
class FaultServer:
    """The proxy, on ``host:port`` (port 0: a free one), in front of ``upstream``.

    ``upstream`` is a plain ``http://`` URL; its path (e.g. a provider's
    ``/hello_world``) is kept in :attr:`url`, and request paths are forwarded as they
    arrive. Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    upstream: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    upstream_timeout: float = 30.0
    default: Fault = field(default_factory=Pass)
    seen: list[SeenRequest] = field(default_factory=list, init=False)
    forwarded: int = field(default=0, init=False)
    connections_opened: int = field(default=0, init=False)
    open_connections: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._upstream: _Upstream | None = None
        if self.upstream is not None:
            parts = urlsplit(self.upstream)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"upstream must be an http:// URL, got {self.upstream!r}")
            self._upstream = _Upstream(parts.hostname, parts.port or 80, parts.path.rstrip("/"))
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._script: list[_Scripted] = []
        self._socks: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> "FaultServer":
        """Bind and serve in background threads; returns ``self``."""
        listener = socket.create_server((self.host, self.port), backlog=256)
        listener.settimeout(0.1)  # so the accept loop notices `stopping`
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True, name=f"faults:{self.port}")
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake every stall, and close every connection."""
        self.stopping.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._accept_thread is not None:
            self._accept_thread.join(5)
        for t in list(self._threads):
            t.join(5)

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (no path)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The proxy's URL with the upstream's path: what a client should be given."""
        return self.base_url + (self._upstream.prefix if self._upstream else "")

    # -- scripting -------------------------------------------------------------------

    def script(self, *faults: Fault, method: str | None = None, path: str | None = None) -> None:
        """Queue ``faults``, each used once by the next request matching ``method``/``path``."""
        regex = re.compile(path) if path is not None else None
        with self._lock:
            self._script.extend(_Scripted(f, method.upper() if method else None, regex) for f in faults)

    def always(self, fault: Fault) -> None:
        """Use ``fault`` for every request no scripted fault matches."""
        with self._lock:
            self.default = fault

    def clear(self) -> None:
        """Forget scripted faults that were not used, and go back to :class:`Pass`."""
        with self._lock:
            self._script.clear()
            self.default = Pass()

    @property
    def pending(self) -> int:
        """How many scripted faults are still waiting for a request."""
        with self._lock:
            return len(self._script)

    # -- observing -------------------------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None) -> list[SeenRequest]:
        """The requests seen so far, optionally only those matching ``method``/``path``."""
        regex = re.compile(path) if path is not None else None
        with self._lock:
            return [
                r
                for r in self.seen
                if (method is None or r.method == method) and (regex is None or regex.search(r.path))
            ]

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> None:
        """Block until ``n`` requests have arrived (AssertionError after ``timeout``)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.seen) >= n, timeout):
                raise AssertionError(f"the fault server saw {len(self.seen)} requests, expected {n}")

    def wait_for_open_connections(self, at_most: int, timeout: float = 5.0) -> bool:
        """Wait until at most ``at_most`` client connections are open; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self.open_connections <= at_most, timeout)

    # -- plumbing --------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._changed:
                self.connections_opened += 1
                self.open_connections += 1
                number = self.connections_opened
                self._socks.add(sock)
                self._changed.notify_all()
            t = threading.Thread(target=self._serve, args=(sock, number), daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    def _next_fault(self, request: SeenRequest) -> Fault:
        with self._lock:
            for i, entry in enumerate(self._script):
                if entry.matches(request):
                    del self._script[i]
                    return entry.fault
            if self._upstream is None and isinstance(self.default, Pass):
                return Respond.json(502, {"code": "NoUpstream", "description": "the fault server has no upstream"})
            return self.default

    def _read_request(self, sock: socket.socket, buf: bytearray, number: int) -> SeenRequest | None:
        while b"\r\n\r\n" not in buf:
            if len(buf) > _MAX_HEAD:
                raise _BadRequest("header section too large")
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buf += chunk
        end = buf.index(b"\r\n\r\n")
        head = bytes(buf[:end]).decode("latin-1")
        del buf[: end + 4]
        lines = head.split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            raise _BadRequest(f"bad request line {lines[0]!r}") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(f"bad header line {line!r}")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise _BadRequest("chunked request bodies are not supported; send Content-Length")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _BadRequest("bad Content-Length") from None
        while len(buf) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buf += chunk
        body = bytes(buf[:length])
        del buf[:length]
        return SeenRequest(method, target, headers, body, number, "")

    def _serve(self, sock: socket.socket, number: int) -> None:
        buf = bytearray()
        try:
            while not self.stopping.is_set():
                try:
                    parsed = self._read_request(sock, buf, number)
                except _BadRequest as e:
                    msg = str(e).encode()
                    sock.sendall(Exchange.head(400, [("Connection", "close")], content_length=len(msg)) + msg)
                    return
                if parsed is None:
                    return
                fault = self._next_fault(parsed)
                request = SeenRequest(
                    parsed.method, parsed.target, parsed.headers, parsed.body, number, repr(fault)
                )
                with self._changed:
                    self.seen.append(request)
                    self._changed.notify_all()
                if not fault.apply(Exchange(self, sock, request)):
                    return
        except OSError:
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass
            with self._changed:
                self._socks.discard(sock)
                self.open_connections -= 1
                self._changed.notify_all()

    def _forward(self, request: SeenRequest) -> UpstreamReply:
        up = self._upstream
        if up is None:
            body = b'{"code": "NoUpstream", "description": "the fault server has no upstream"}'
            return UpstreamReply(502, "Bad Gateway", [("Content-Type", "application/json")], body)
        headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
        headers["host"] = f"{up.host}:{up.port}"
        conn = http.client.HTTPConnection(up.host, up.port, timeout=self.upstream_timeout)
        try:
            conn.request(request.method, request.target, body=request.body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return UpstreamReply(resp.status, resp.reason, list(resp.getheaders()), data)
        except (OSError, http.client.HTTPException) as e:
            body = json.dumps({"code": "UpstreamFailed", "description": f"{type(e).__name__}: {e}"}).encode()
            return UpstreamReply(502, "Bad Gateway", [("Content-Type", "application/json")], body)
        finally:
            conn.close()
