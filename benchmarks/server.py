"""A fast loopback stand-in for the Flows service and an Action Provider (stdlib only).

It answers the few routes the benchmark's contenders call with precomputed bytes:

- ``GET /runs/{run_id}``                 a run document (globus-sdk, automate-lite ``get_run``)
- ``GET /flows/{fid}/{rid}/status``      a run document (legacy ``flow_action_status``)
- ``GET {action_url}/{action_id}/status``  an ActionStatus (``ActionClient.status``)
- ``GET /__stats``                       ``{"connections": n, "requests": n}``: new
  connections and requests so far, not counting the connections that asked for stats.

HTTP/1.1 with keep-alive (``Connection: close`` honoured), pipelining-safe. Each
listener may add a fixed latency before every answer (``--slow-ms``). One process,
one event loop, several listeners: plain, plain with latency, and TLS when given a
certificate. It prints one JSON line with the ports once it listens, then serves until
it is terminated. Run it in its own process so that it never shares the GIL with a
contender::

    python benchmarks/server.py --slow-ms 50 [--cert C --key K --tls-host 127.0.0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import ssl
import sys

RUN_ID = "8f6c8a2e-1d3b-4c5e-9a7f-0b1c2d3e4f50"
FLOW_ID = "2c1d0e9f-8a7b-4c6d-9e4f-3a2b1c0d9e8f"
ACTION_ID = "a1b2c3d4-0000-4000-8000-00000000beef"

_RUN_DOC: dict[str, object] = {
    "run_id": RUN_ID,
    "action_id": RUN_ID,
    "flow_id": FLOW_ID,
    "flow_title": "Benchmark flow",
    "status": "ACTIVE",
    "display_status": "ACTIVE",
    "details": {"code": "ActionStarted", "description": "State Transfer was started"},
    "label": "benchmark run",
    "tags": ["bench", "loopback"],
    "run_owner": "urn:globus:auth:identity:46bd0f56-e24f-11e5-a510-131bef46955c",
    "run_managers": [],
    "run_monitors": ["urn:globus:auth:identity:46bd0f56-e24f-11e5-a510-131bef46955c"],
    "user_role": "run_owner",
    "start_time": "2026-11-27T18:00:00.123456+00:00",
    "completion_time": None,
    "manage_by": [],
    "monitor_by": [],
    "created_by": "urn:globus:auth:identity:46bd0f56-e24f-11e5-a510-131bef46955c",
}

_ACTION_DOC: dict[str, object] = {
    "action_id": ACTION_ID,
    "status": "ACTIVE",
    "display_status": "ACTIVE",
    "creator_id": "urn:globus:auth:identity:46bd0f56-e24f-11e5-a510-131bef46955c",
    "label": "benchmark action",
    "monitor_by": [],
    "manage_by": [],
    "start_time": "2026-11-27T18:00:00.123456+00:00",
    "completion_time": None,
    "release_after": "P30D",
    "details": {"echo_string": "hello"},
}

_INTROSPECT_DOC: dict[str, object] = {
    "title": "Benchmark provider",
    "api_version": "1.0",
    "globus_auth_scope": "https://auth.globus.org/scopes/bench/action_all",
    "synchronous": False,
    "log_supported": True,
    "input_schema": {"type": "object"},
    "runnable_by": ["all_authenticated_users"],
    "visible_to": ["public"],
    "types": ["Action"],
}


def _answer(status: int, reason: str, doc: object, close: bool = False) -> bytes:
    body = json.dumps(doc, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Server: automate-lite-bench\r\n"
        + ("Connection: close\r\n" if close else "")
        + "\r\n"
    )
    return head.encode() + body


RUN = _answer(200, "OK", _RUN_DOC)
ACTION = _answer(200, "OK", _ACTION_DOC)
INTROSPECT = _answer(200, "OK", _INTROSPECT_DOC)
NOT_FOUND = _answer(404, "Not Found", {"error": {"code": "NOT_FOUND", "detail": "no such route"}})
BAD_REQUEST = _answer(400, "Bad Request", {"error": {"code": "BAD_REQUEST", "detail": "bad request"}}, close=True)


def route(path: bytes) -> bytes:
    """The precomputed answer for ``path`` (a GET)."""
    path = path.split(b"?", 1)[0]
    if path.startswith(b"/runs/"):
        return RUN
    if path.endswith(b"/status"):
        return RUN if path.startswith(b"/flows/") else ACTION
    if path.endswith(b"/actions/hello") or path.endswith(b"/actions/hello/") or path == b"/":
        return INTROSPECT
    return NOT_FOUND


class Stats:
    """Counts shared by every listener (one contender runs at a time)."""

    __slots__ = ("connections", "requests")

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0


class BenchProtocol(asyncio.Protocol):
    """One connection: parse request heads, answer from the precomputed table."""

    __slots__ = ("stats", "latency", "transport", "buf", "control", "loop", "_routes")

    def __init__(self, stats: Stats, latency: float, routes: dict[bytes, bytes]) -> None:
        self.stats = stats
        self.latency = latency
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.control = False
        self.loop = asyncio.get_running_loop()
        self._routes = routes

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.stats.connections += 1

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            lower = head.lower()
            length = 0
            i = lower.find(b"\r\ncontent-length:")
            if i >= 0:
                j = lower.find(b"\r\n", i + 2)
                try:
                    length = int(lower[i + 17 : j if j >= 0 else len(lower)].strip())
                except ValueError:
                    self._send(BAD_REQUEST, True)
                    return
            if len(buf) < end + 4 + length:
                break
            buf = buf[end + 4 + length :]
            line_end = head.find(b"\r\n")
            parts = (head if line_end < 0 else head[:line_end]).split(b" ")
            if len(parts) != 3:
                self._send(BAD_REQUEST, True)
                return
            path = parts[1]
            close = b"\r\nconnection: close" in lower or parts[2] == b"HTTP/1.0"
            if path.startswith(b"/__stats"):
                if not self.control:
                    # A stats query is the benchmark looking, not a contender working.
                    self.control = True
                    self.stats.connections -= 1
                body = json.dumps({"connections": self.stats.connections, "requests": self.stats.requests}).encode()
                self._send(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body,
                    close,
                )
                continue
            self.stats.requests += 1
            answer = self._routes.get(path)
            if answer is None:
                answer = route(path)
                if len(self._routes) < 1024:
                    self._routes[path] = answer
            if self.latency:
                self.loop.call_later(self.latency, self._send, answer, close)
            else:
                self._send(answer, close)
            if close:
                buf = b""
                break
        self.buf = buf

    def _send(self, answer: bytes, close: bool) -> None:
        t = self.transport
        if t is None or t.is_closing():
            return
        t.write(answer)
        if close:
            t.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(slow_ms: float, cert: str | None, key: str | None, tls_host: str, port: int) -> None:
    """Listen (plain, plain+latency, TLS), print the ports as one JSON line, serve forever."""
    loop = asyncio.get_running_loop()
    stats = Stats()
    routes: dict[bytes, bytes] = {}

    def factory(latency: float) -> BenchProtocol:
        return BenchProtocol(stats, latency, routes)

    plain = await loop.create_server(lambda: factory(0.0), "127.0.0.1", port, backlog=4096)
    slow = await loop.create_server(lambda: factory(slow_ms / 1000.0), "127.0.0.1", 0, backlog=4096)
    ports: dict[str, object] = {
        "plain": plain.sockets[0].getsockname()[1],
        "slow": slow.sockets[0].getsockname()[1],
        "slow_ms": slow_ms,
    }
    if cert and key:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        tls = await loop.create_server(lambda: factory(0.0), tls_host, 0, ssl=ctx, backlog=4096)
        ports["tls"] = tls.sockets[0].getsockname()[1]
        ports["tls_host"] = tls_host
    sys.stdout.write(json.dumps(ports) + "\n")
    sys.stdout.flush()
    stop: asyncio.Future[None] = loop.create_future()

    def on_signal() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    await stop


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="port of the plain listener (default: a free one)")
    p.add_argument("--slow-ms", type=float, default=50.0, help="latency of the second plain listener")
    p.add_argument("--cert", help="server certificate (PEM) for the TLS listener")
    p.add_argument("--key", help="its private key (PEM)")
    p.add_argument("--tls-host", default="127.0.0.1", help="address of the TLS listener")
    a = p.parse_args(argv)
    asyncio.run(serve(a.slow_ms, a.cert, a.key, a.tls_host, a.port))


if __name__ == "__main__":
    main()
