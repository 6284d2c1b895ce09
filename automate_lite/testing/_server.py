"""A tiny threaded HTTP/1.1 server with keep-alive and a route table (stdlib only).

Every stand-in in ``automate_lite.testing`` is an :class:`App` (a list of routes) served by
:class:`StubServer` on ``127.0.0.1`` and a free port, in a background thread::

    app = App()

    @app.route("GET", "/things/{thing_id}")
    def get_thing(req: StubRequest, thing_id: str) -> Reply:
        return Reply.json({"id": thing_id})

    with StubServer(app) as server:
        print(server.url)   # http://127.0.0.1:PORT
"""

from __future__ import annotations

import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["App", "Reply", "StubRequest", "StubServer", "Handler", "Served"]


@dataclass(frozen=True)
class StubRequest:
    """What a route handler sees of a request."""

    method: str
    path: str  # the raw (still percent-encoded) path
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (``None`` for an empty body)."""
        return json.loads(self.body) if self.body else None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    @property
    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer ...`` header, if any."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return None


@dataclass
class Reply:
    """What a route handler answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> "Reply":
        """A JSON answer."""
        h = {"Content-Type": "application/json"}
        if headers:
            h.update(headers)
        return cls(status, json.dumps(data).encode(), h)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> "Reply":
        """A text (or HTML) answer."""
        return cls(status, text.encode(), {"Content-Type": content_type})


Handler = Callable[..., Reply]


class App:
    """A route table: ``(method, path pattern) -> handler``.

    Patterns use ``{name}`` for one path segment; the handler gets it percent-decoded
    as a keyword argument. Unknown routes answer an HTML 404 page (as real gateways do).
    """

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register a handler for ``method`` and ``pattern``."""
        regex = re.compile(
            "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/") or "/") + "/?$"
        )

        def register(fn: Handler) -> Handler:
            self._routes.append((method.upper(), regex, fn))
            return fn

        return register

    def add(self, method: str, pattern: str, fn: Handler) -> None:
        """Register ``fn`` without the decorator form."""
        self.route(method, pattern)(fn)

    def dispatch(self, req: StubRequest) -> Reply:
        """Find the route for ``req`` and call it."""
        path = req.path or "/"
        allowed = False
        for method, regex, fn in self._routes:
            m = regex.match(path)
            if m is None:
                continue
            if method != req.method:
                allowed = True
                continue
            kwargs = {k: unquote(v) for k, v in m.groupdict().items()}
            return fn(req, **kwargs)
        if allowed:
            return Reply.json({"code": "MethodNotAllowed", "description": "method not allowed"}, 405)
        return Reply.text(
            "<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
            "<body><h1>Not Found</h1></body></html>",
            404,
            "text/html",
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: "_Server"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        req = StubRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            reply = self.server.app.dispatch(req)
        except Exception as exc:  # a stub bug must not hang the client
            reply = Reply.json({"code": "InternalError", "description": repr(exc)}, 500)
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, addr: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(addr, _Handler)

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


class StubServer:
    """Serve ``app`` on ``host:port`` (port 0: a free one) in a background thread."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._httpd = _Server((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        host = self._httpd.server_address[0]
        # typeshed allows bytes (AF_UNIX); decode so the URL never reads "b'127.0.0.1'"
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{self.port}"

    def start(self) -> "StubServer":
        """Start serving in a daemon thread; returns ``self``."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True, name=f"stub:{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._httpd.serve_forever()

    def __enter__(self) -> "StubServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_S = TypeVar("_S", bound="Served")


class Served:
    """The lifecycle of a stand-in that serves one :class:`StubServer` (``self.server``).

    Start/stop, ``with``, and serving in the calling thread, written once for the
    action-provider, provider and Auth stand-ins; a subclass that has more to start (the Flows
    stand-in's runner) overrides :meth:`start` and :meth:`stop`.
    """

    server: StubServer

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return self.server.url

    def start(self: _S) -> _S:
        """Serve in a daemon thread; returns ``self``."""
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self.server.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self.server.serve_forever()

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
