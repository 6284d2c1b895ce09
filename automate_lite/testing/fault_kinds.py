"""The faults :class:`~automate_lite.testing.faults.FaultServer` injects (re-exported there)."""

from __future__ import annotations

import email.utils
import http
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    from .faults import Exchange

Headers = Sequence[tuple[str, str]]
_REASONS = {s.value: s.phrase for s in http.HTTPStatus}


@dataclass(frozen=True)
class Pass:
    """Forward the request and relay the answer unchanged."""

    def apply(self, exchange: Exchange) -> bool:
        exchange.relay(exchange.forward())
        return exchange.keep_alive


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before passing the request through."""

    seconds: float

    def apply(self, exchange: Exchange) -> bool:
        if not exchange.pause(self.seconds):
            return False
        return Pass().apply(exchange)


@dataclass(frozen=True)
class Respond:
    """Answer ``status`` with ``body`` and ``headers`` instead of the upstream.

    ``forward=True`` sends the request upstream first (its work is done; its answer is
    thrown away), as a gateway that times out after the backend acted would.
    """

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    forward: bool = False

    @classmethod
    def json(cls, status: int, doc: object, *, headers: Mapping[str, str] | None = None, forward: bool = False) -> "Respond":
        """A JSON answer."""
        items = (("Content-Type", "application/json"), *(headers or {}).items())
        return cls(status, json.dumps(doc).encode(), tuple(items), forward)

    def apply(self, exchange: Exchange) -> bool:
        if self.forward:
            exchange.forward()
        exchange.send(self.status, self.body, self.headers)
        return exchange.keep_alive

    def __repr__(self) -> str:
        return f"Respond({self.status}, <{len(self.body)} bytes>, forward={self.forward})"


@dataclass(frozen=True)
class Close:
    """Close the connection (FIN) without answering; ``forward=True`` acts first."""

    forward: bool = False
    #: True ends the connection with a TCP RST instead of a FIN (see :class:`Reset`).
    _rst = False

    def apply(self, exchange: Exchange) -> bool:
        if self.forward:
            exchange.forward()
        if self._rst:
            exchange.reset()
        return False  # the server closes what is left of the connection


@dataclass(frozen=True)
class Reset(Close):
    """Reset the connection (TCP RST) without answering; ``forward=True`` acts first."""

    _rst = True


@dataclass(frozen=True)
class StallBeforeHeaders:
    """Accept the request, send nothing for ``seconds``, then close the connection."""

    seconds: float = 60.0
    forward: bool = False

    def apply(self, exchange: Exchange) -> bool:
        if self.forward:
            exchange.forward()
        exchange.pause(self.seconds)
        return False


@dataclass(frozen=True)
class StallMidBody:
    """Send the headers and the first ``sent`` bytes of the body, stall, then close.

    The body is the upstream's answer (``forward=True``, the default) or ``body``.
    ``Content-Length`` announces the whole body, so the client waits for the rest.
    """

    seconds: float = 60.0
    sent: int = 10
    forward: bool = True
    body: bytes = b'{"status": "SUCCEEDED", "details": {"padding": "' + b"x" * 200 + b'"}}'

    def apply(self, exchange: Exchange) -> bool:
        _send_part(exchange, self.forward, self.body, self.sent)
        exchange.pause(self.seconds)
        return False


@dataclass(frozen=True)
class ShortBody:
    """Announce ``Content-Length`` for the whole body, send only ``sent`` bytes, close."""

    sent: int = 10
    forward: bool = True
    body: bytes = b'{"status": "SUCCEEDED", "details": {}}'

    def apply(self, exchange: Exchange) -> bool:
        _send_part(exchange, self.forward, self.body, self.sent)
        return False


def _send_part(exchange: Exchange, forward: bool, body: bytes, sent: int) -> None:
    """Send the head of the upstream's answer (or a 200 with ``body``) and ``sent`` bytes of it.

    ``Content-Length`` announces the whole body, so the client waits for the rest.
    """
    if forward:
        reply = exchange.forward()
        status, headers, body = reply.status, list(reply.headers), reply.body
    else:
        status, headers = 200, [("Content-Type", "application/json")]
    part = max(0, min(sent, len(body) - 1))
    exchange.send_bytes(exchange.head(status, headers, content_length=len(body)) + body[:part])


@dataclass(frozen=True)
class RetryAfterDate:
    """Answer ``status`` (429) with ``Retry-After`` as an HTTP-date ``seconds`` from now.

    The date is computed when the answer is sent.
    """

    seconds: float
    status: int = 429

    def apply(self, exchange: Exchange) -> bool:
        when = email.utils.formatdate(time.time() + self.seconds, usegmt=True)
        body = json.dumps({"code": "TooManyRequests", "description": "slow down"}).encode()
        exchange.send(self.status, body, [("Content-Type", "application/json"), ("Retry-After", when)])
        return exchange.keep_alive


# ----------------------------------------------------------------------------- builders


def retry_after(value: str | float, status: int = 429) -> Respond:
    """``status`` (429) with ``Retry-After: value`` (seconds, or any text you like)."""
    text = value if isinstance(value, str) else f"{value:g}"
    return Respond.json(status, {"code": "TooManyRequests", "description": "slow down"}, headers={"Retry-After": text})


def truncated_json(status: int = 200) -> Respond:
    """A well-framed answer whose JSON body is cut short (the server's bug, not the network's)."""
    return Respond(status, b'{"action_id": "abc", "status": "ACT', (("Content-Type", "application/json"),))


def non_json(status: int = 200, body: bytes = b"OK") -> Respond:
    """A plain-text answer where JSON was expected."""
    return Respond(status, body, (("Content-Type", "text/plain; charset=utf-8"),))


def html_page(status: int = 502) -> Respond:
    """The kind of HTML error page a gateway or load balancer answers."""
    page = (
        f"<!DOCTYPE html><html><head><title>{status} {_REASONS.get(status, 'Error')}</title></head>"
        f"<body><h1>{status} {_REASONS.get(status, 'Error')}</h1><hr><center>nginx</center></body></html>"
    ).encode()
    return Respond(status, page, (("Content-Type", "text/html"),))


def huge_body(size: int = 10 * 1024 * 1024, *, valid_json: bool = True, status: int = 200) -> Respond:
    """A ``size``-byte answer: a valid action status document padded to size, or junk."""
    if valid_json:
        head = b'{"action_id": "huge", "status": "SUCCEEDED", "details": {"padding": "'
        tail = b'"}}'
        body = head + b"x" * max(0, size - len(head) - len(tail)) + tail
        return Respond(status, body, (("Content-Type", "application/json"),))
    return Respond(status, b"\xff" + b"junk " * (size // 5), (("Content-Type", "application/octet-stream"),))


def unexpected_content_type(
    content_type: str = "application/xml",
    body: bytes = b'<?xml version="1.0"?><status>SUCCEEDED</status>',
    status: int = 200,
) -> Respond:
    """An answer in another format than JSON."""
    return Respond(status, body, (("Content-Type", content_type),))
