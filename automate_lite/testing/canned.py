"""A canned-response transport: unit tests of code that uses the clients, without sockets.

The role ``globus_sdk.testing`` plays for globus-sdk: register what the service
answers, hand the transport to a client, and check what was sent::

    from automate_lite import ActionClient
    from automate_lite.testing.canned import CannedTransport, action_status

    canned = CannedTransport(base_url="https://actions.globus.org/hello_world")
    canned.add("POST", "/run", json=action_status("ACTIVE"), status=201)
    canned.add("GET", "/{action_id}/status", json=action_status("SUCCEEDED", details={"ok": True}))
    client = ActionClient.new_client("https://actions.globus.org/hello_world", None, transport=canned)
    client.run({"echo_string": "hi"})
    assert canned.requests[-1].method == "POST"
    assert canned.request_json()["body"] == {"echo_string": "hi"}

Matching: a response is chosen by method and URL (the query string is ignored when
matching; :attr:`CannedTransport.requests` keep it). ``{name}`` in a registered URL
matches one path segment. Several responses for the same route are given in the order
they were added, the last one again for every later request. A request nothing
matches raises :class:`NoCannedResponse` saying what was asked and what is
registered. ``canned.aio`` is the same registry as an async transport, for the
``Async*`` clients. Nothing is sent anywhere: the transport is a lookup table.
"""

from __future__ import annotations

import json as _json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from automate_lite._core.values import Request, Response
from automate_lite.errors import UsageError

__all__ = ["CannedTransport", "AsyncCannedTransport", "NoCannedResponse", "action_status", "run_document"]

_UNSET: Any = object()


class NoCannedResponse(UsageError):
    """A request arrived for which no response was registered."""


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str]


def _strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") or "/", "", ""))


class CannedTransport:
    """A :class:`~automate_lite.SyncTransport` answering from registered responses.

    Args:
        base_url: prefixed to registered URLs that start with ``/``.
    """

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self._lock = threading.Lock()
        self._routes: list[tuple[_Route, list[Response]]] = []
        #: Every request sent, in order (Authorization headers included: they are test tokens).
        self.requests: list[Request] = []

    def __repr__(self) -> str:
        return f"CannedTransport(routes={len(self._routes)}, requests={len(self.requests)})"

    def add(self, method: str, url: str, *, json: Any = _UNSET, body: bytes | str = b"", status: int = 200,
            headers: Mapping[str, str] | None = None) -> "CannedTransport":
        """Answer ``method url`` with ``status`` and a JSON (``json=``) or raw (``body=``) body.

        Returns the transport, so registrations chain.
        """
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise UsageError(f"status must be an HTTP status code from 100 to 599, not {status!r}")
        if url.startswith("/"):
            if self.base_url is None:
                raise UsageError(f"{url!r} is a path: give CannedTransport(base_url=...) or a full URL")
            url = self.base_url + url
        if not urlsplit(url).scheme:
            raise UsageError(f"url must be a full http(s) URL or a path starting with '/', not {url!r}")
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if json is not _UNSET:
            payload = _json.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        else:
            payload = body.encode() if isinstance(body, str) else bytes(body)
        pattern = _strip_query(url)
        regex = re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(pattern)) + "$")
        route = _Route(method.upper(), pattern, regex)
        response = Response(status, hdrs, payload)
        with self._lock:
            for known, responses in self._routes:
                if known.method == route.method and known.pattern == route.pattern:
                    responses.append(response)
                    break
            else:
                self._routes.append((route, [response]))
        return self

    def send(self, request: Request, timeout: float | None) -> Response:
        """Record ``request`` and return the response registered for it."""
        target = _strip_query(request.url)
        with self._lock:
            self.requests.append(request)
            for route, responses in self._routes:
                if route.method == request.method and route.regex.match(target):
                    return responses.pop(0) if len(responses) > 1 else responses[0]
            known = ", ".join(f"{r.method} {r.pattern}" for r, _ in self._routes) or "none"
        raise NoCannedResponse(f"no canned response for {request.method} {target}; registered: {known}. "
                               "Add one with CannedTransport.add(method, url, json=...)")

    def request_json(self, index: int = -1) -> Any:
        """The JSON body of ``requests[index]`` (None when it had no body)."""
        body = self.requests[index].body
        return _json.loads(body) if body else None

    def close(self) -> None:
        """Nothing to close (clients call it)."""

    @property
    def aio(self) -> "AsyncCannedTransport":
        """The same registry and request record, as an async transport."""
        return AsyncCannedTransport(self)


class AsyncCannedTransport:
    """The async view of a :class:`CannedTransport` (``canned.aio``)."""

    def __init__(self, canned: CannedTransport) -> None:
        self.canned = canned

    async def send(self, request: Request, timeout: float | None) -> Response:
        """Record ``request`` and return the response registered for it."""
        return self.canned.send(request, timeout)

    async def aclose(self) -> None:
        """Nothing to close (clients call it)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def action_status(status: str = "SUCCEEDED", details: Any = None, *, action_id: str | None = None,
                  **fields: Any) -> dict[str, Any]:
    """An ActionStatus document, for registering as a provider's answer."""
    doc: dict[str, Any] = {
        "action_id": action_id or str(uuid.uuid4()), "status": status, "display_status": status,
        "creator_id": "urn:globus:auth:identity:00000000-0000-0000-0000-000000000000", "label": None,
        "monitor_by": [], "manage_by": [], "start_time": _now(),
        "completion_time": _now() if status in ("SUCCEEDED", "FAILED") else None,
        "release_after": None, "details": details if details is not None else {},
    }
    doc.update(fields)
    return doc


def run_document(status: str = "SUCCEEDED", output: Any = None, *, run_id: str | None = None,
                 flow_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A Flows run document (``details.output`` is ``output`` when SUCCEEDED)."""
    rid = run_id or str(uuid.uuid4())
    details: dict[str, Any] = {"code": "FlowSucceeded", "output": output} if status == "SUCCEEDED" else {}
    doc: dict[str, Any] = {
        "run_id": rid, "action_id": rid, "flow_id": flow_id or str(uuid.uuid4()), "flow_title": "canned flow",
        "status": status, "display_status": status, "details": details, "label": None, "tags": [],
        "run_owner": "urn:globus:auth:identity:00000000-0000-0000-0000-000000000000",
        "run_managers": [], "run_monitors": [], "user_role": "run_owner", "start_time": _now(),
        "completion_time": _now() if status in ("SUCCEEDED", "FAILED", "ENDED") else None,
    }
    doc.update(fields)
    return doc
