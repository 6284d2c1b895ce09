"""Shared fixtures.

``raw_server`` starts a scriptable HTTP/1.1 server on 127.0.0.1 (a free port) whose
handler writes raw bytes to the socket, so a test can misbehave on purpose: answer
late, stall mid-body, close without answering. It counts accepted connections and
records every request it parsed.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import sys

import pytest
from _sockets import read_head

# fauxbus (the third-party Globus Auth fake) needs Python 3.11+.
collect_ignore = ["test_extras_fauxbus.py"] if sys.version_info < (3, 11) else []


@dataclass(frozen=True)
class RawRequest:
    """A request as the raw server parsed it."""

    method: str
    target: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    header_names: tuple[str, ...]  # as sent, in order
    body: bytes
    connection: int  # 1 for the first connection accepted, 2 for the next...


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    reason: str = "X",
    content_length: int | None = None,
) -> bytes:
    """The bytes of one HTTP/1.1 response (Content-Length added unless given)."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if not any(k.lower() == "content-length" for k, _ in items) and status != 204 and status >= 200:
        items.append(("Content-Length", str(len(body) if content_length is None else content_length)))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in items) + "\r\n"
    return head.encode("latin-1") + body


#: ``handler(request, sock, server)`` writes the answer itself and returns True to keep
#: the connection open for the next request, False to close it.
RawHandler = Callable[[RawRequest, socket.socket, "RawHTTPServer"], bool]


class RawHTTPServer:
    """A thread-per-connection HTTP/1.1 server on 127.0.0.1 for transport tests."""

    #: Handlers build their answers with ``server.response(...)`` (see :func:`http_response`).
    response = staticmethod(http_response)

    def __init__(self, handler: RawHandler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.requests: list[RawRequest] = []
        self.connections = 0
        self.stopping = threading.Event()
        self.received = threading.Condition()
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        # accept() wakes up now and then: closing a listener does not wake it everywhere.
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{self.port}"
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True, name="raw-server")

    def start(self) -> "RawHTTPServer":
        self._accept_thread.start()
        return self

    def pause(self, seconds: float) -> None:
        """Sleep in a handler, but wake at once when the server stops."""
        self.stopping.wait(seconds)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> None:
        """Block until ``n`` requests have been parsed."""
        with self.received:
            if not self.received.wait_for(lambda: len(self.requests) >= n, timeout):
                raise AssertionError(f"the server saw {len(self.requests)} requests, expected {n}")

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue  # look at `stopping` again
            except OSError:
                return
            sock.settimeout(None)
            with self._lock:
                self.connections += 1
                number = self.connections
                self._socks.append(sock)
            t = threading.Thread(target=self._serve, args=(sock, number), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        buf = b""
        try:
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
                with self._lock:
                    self._socks.append(sock)
            while not self.stopping.is_set():
                head, buf = read_head(sock, buf)
                if head is None:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                names: list[str] = []
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    names.append(name)
                    key = name.strip().lower()
                    headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buf) < length:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                req = RawRequest(method, target, headers, tuple(names), body, number)
                with self.received:
                    self.requests.append(req)
                    self.received.notify_all()
                if not self.handler(req, sock, self):
                    return
        except OSError:
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def stop(self) -> None:
        self.stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self._accept_thread.join(5)
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> "RawHTTPServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawHTTPServer]]:
    """A factory: ``server = raw_server(handler, ssl_context=None)`` is started now and
    stopped after the test."""
    servers: list[RawHTTPServer] = []

    def make(handler: RawHandler, ssl_context: ssl.SSLContext | None = None) -> RawHTTPServer:
        server = RawHTTPServer(handler, ssl_context).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
