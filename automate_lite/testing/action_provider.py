"""A loopback stand-in for a Globus Action Provider (stdlib only).

It serves both route styles of the Action Provider API on ``127.0.0.1``::

    with ActionProviderStub(tokens={"tok-alice": "urn:globus:auth:identity:alice"}) as ap:
        ap.url                      # http://127.0.0.1:PORT  (plus ``prefix`` if given)
        ap.state.created_count      # how many actions were ever created
        ap.state.request_count      # how many requests were served

| operation  | legacy route                       | newer route                        |
|------------|------------------------------------|------------------------------------|
| introspect | ``GET /``                          | same                               |
| run        | ``POST /run``                      | ``POST /actions``                  |
| status     | ``GET /{id}/status``               | ``GET /actions/{id}``              |
| cancel     | ``POST /{id}/cancel``              | ``POST /actions/{id}/cancel``      |
| release    | ``POST /{id}/release``             | ``DELETE /actions/{id}``           |
| resume     | ``POST /{id}/resume``              | ``POST /actions/{id}/resume``      |
| log        | ``GET /{id}/log?limit=&reverse_order=&pagination_token=`` | ``GET /actions/{id}/log?limit=&marker=`` |
| list       | --                                 | ``GET /actions?status=&roles=``    |

The newer routes are matched first, so ``/actions/...`` always means the newer API; the
legacy routes for an action id of ``"actions"`` are unreachable, which is harmless
because ids are uuid4 strings.

The action body (validated against :data:`INPUT_SCHEMA`; other keys are allowed and
echoed back) steers the action:

- ``echo_string`` (str): echoed in the success details (default ``"hello"``).
- ``sleep_s`` (number >= 0, default 0): seconds the action stays ACTIVE.
- ``fail`` (bool): end FAILED with details ``{"code": "ActionFailed", ...}``.
- ``require_resume`` (bool): start INACTIVE with ``ConsentRequired`` details until
  resumed; ``sleep_s`` then counts from the resume.
- ``error_status`` (int 400-599): answer that status in the provider error shape
  (code from the HTTP reason phrase, e.g. ``ServiceUnavailable``) and create nothing.

The lifecycle is computed lazily from the clock when an action is read, so no
background threads run. A run (and a resume) answers the state at that instant
(ACTIVE or INACTIVE, never finished even with ``sleep_s`` 0); any later read sees
SUCCEEDED once ``sleep_s`` has passed. Success details are
``{"echo_string": <echo_string or "hello">, "result": <the input body>}``.

Errors always have the provider shape ``{"code", "description"}``; an unknown route
answers the HTML 404 page of :class:`automate_lite.testing._server.App`.
"""

from __future__ import annotations

import base64
import binascii
import collections
import copy
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from ._server import App, Reply, StubRequest, StubServer

__all__ = [
    "ANONYMOUS_IDENTITY",
    "DEFAULT_SCOPE",
    "INPUT_SCHEMA",
    "ActionProviderState",
    "ActionProviderStub",
    "ProviderError",
    "make_action_provider_app",
]

DEFAULT_SCOPE = "https://auth.globus.org/scopes/00000000-0000-0000-0000-000000000000/action_all"

#: The ``creator_id`` of every action when the stub runs without ``tokens``.
ANONYMOUS_IDENTITY = "urn:globus:auth:identity:00000000-0000-0000-0000-000000000000"

#: The input schema published by introspection and enforced on ``body``.
INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "echo_string": {"type": "string", "description": "Echoed back in the success details."},
        "sleep_s": {"type": "number", "minimum": 0, "default": 0.0,
                    "description": "Seconds the action stays ACTIVE."},
        "fail": {"type": "boolean", "description": "End the action FAILED."},
        "require_resume": {"type": "boolean",
                           "description": "Start INACTIVE (ConsentRequired) until resumed."},
        "error_status": {"type": "integer", "minimum": 400, "maximum": 599,
                         "description": "Answer this HTTP error instead of running."},
    },
    "additionalProperties": True,
}

_RUN_KEYS = frozenset(
    {"request_id", "body", "label", "tags", "manage_by", "monitor_by", "release_after"}
)
_STATUSES = ("ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED")
_ROLES = ("creator_id", "monitor_by", "manage_by")
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_DEFAULT_LOG_LIMIT = 10
_MAX_LOG_LIMIT = 1000
_REQUEST_HISTORY = 1000  # bounded so benchmark runs do not grow memory without limit


class ProviderError(Exception):
    """An error answered in the Action Provider shape ``{"code", "description"}``."""

    def __init__(self, status: int, code: str, description: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.headers = dict(headers or {})

    def reply(self) -> Reply:
        """The HTTP answer for this error."""
        return Reply.json({"code": self.code, "description": self.description},
                          self.status, self.headers)


def _invalid(description: str) -> ProviderError:
    return ProviderError(422, "ValidationError", description)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


def _is_duration(value: object) -> bool:
    # bool is an int subclass, but JSON true is not a number
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value >= 0


def _status_code(status: int) -> str:
    """An error code from the HTTP reason phrase: 503 -> ``ServiceUnavailable``."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return f"Error{status}"


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


@dataclass
class _Action:
    action_id: str
    creator_id: str
    request_id: str
    fingerprint: str
    body: dict[str, Any]
    label: str | None
    monitor_by: list[str] | None
    manage_by: list[str] | None
    release_after: Any
    sleep_s: float
    fail: bool
    echo_string: str
    start: float
    status: str
    details: dict[str, Any]
    active_since: float | None = None
    completion: float | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def add_log(self, t: float, code: str, description: str,
                details: dict[str, Any] | None = None) -> None:
        self.log.append({"time": _iso(t), "code": code, "description": description,
                         "details": details or {}})

    def advance(self, now: float) -> None:
        """Bring the lazily computed lifecycle up to ``now``."""
        if self.status != "ACTIVE" or self.active_since is None:
            return
        end = self.active_since + self.sleep_s
        if now < end:
            return
        # the completion is stamped when it happened, not when it was noticed
        self.completion = end
        if self.fail:
            self.status = "FAILED"
            self.details = {"code": "ActionFailed",
                            "description": "The action failed because its input asked it to."}
            self.add_log(end, "ActionFailed", "Action failed", self.details)
        else:
            self.status = "SUCCEEDED"
            self.details = {"echo_string": self.echo_string, "result": copy.deepcopy(self.body)}
            self.add_log(end, "ActionSucceeded", "Action succeeded")

    @property
    def finished(self) -> bool:
        return self.status in ("SUCCEEDED", "FAILED")

    def can_see(self, identity: str) -> bool:
        return (identity == self.creator_id or identity in (self.monitor_by or ())
                or identity in (self.manage_by or ()))

    def can_manage(self, identity: str) -> bool:
        return identity == self.creator_id or identity in (self.manage_by or ())

    def has_role(self, identity: str, role: str) -> bool:
        if role == "creator_id":
            return identity == self.creator_id
        return identity in (getattr(self, role) or ())

    def document(self) -> dict[str, Any]:
        """The ActionStatus document (a copy: it leaves the lock)."""
        return copy.deepcopy({
            "action_id": self.action_id,
            "status": self.status,
            "display_status": self.status,
            "creator_id": self.creator_id,
            "label": self.label,
            "monitor_by": self.monitor_by,
            "manage_by": self.manage_by,
            "start_time": _iso(self.start),
            "completion_time": None if self.completion is None else _iso(self.completion),
            "release_after": self.release_after,
            "details": self.details,
        })


def _encode_marker(offset: int, reverse: bool) -> str:
    raw = json.dumps({"o": offset, "r": reverse}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_marker(marker: str) -> tuple[int, bool]:
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4))
        data = json.loads(raw)
        offset, reverse = data["o"], data["r"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise _invalid(f"invalid marker {marker!r}") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0 \
            or not isinstance(reverse, bool):
        raise _invalid(f"invalid marker {marker!r}")
    return offset, reverse


def _validate_input(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid("body must be a JSON object")
    checks: dict[str, tuple[Callable[[object], bool], str]] = {
        "echo_string": (lambda v: isinstance(v, str), "a string"),
        "sleep_s": (_is_duration, "a number >= 0"),
        "fail": (lambda v: isinstance(v, bool), "a boolean"),
        "require_resume": (lambda v: isinstance(v, bool), "a boolean"),
        "error_status": (lambda v: isinstance(v, int) and not isinstance(v, bool)
                         and 400 <= v <= 599, "an integer from 400 to 599"),
    }
    for name, (ok, what) in checks.items():
        if name in body and not ok(body[name]):
            raise _invalid(f"body.{name} must be {what}, not {json.dumps(body[name])}")
    return body


def _validate_run(doc: object) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise _invalid("the run request must be a JSON object")
    unknown = sorted(set(doc) - _RUN_KEYS)
    if unknown:
        raise _invalid(f"unknown field(s) in the run request: {', '.join(unknown)}")
    if "body" not in doc:
        raise _invalid("body is required")
    rid = doc.get("request_id")
    if rid is not None and not (isinstance(rid, str) and rid):
        raise _invalid("request_id must be a non-empty string")
    if doc.get("label") is not None and not isinstance(doc["label"], str):
        raise _invalid("label must be a string")
    for name in ("tags", "manage_by", "monitor_by"):
        if doc.get(name) is not None and not _is_str_list(doc[name]):
            raise _invalid(f"{name} must be a list of strings")
    ra = doc.get("release_after")
    if ra is not None and not (isinstance(ra, str) or _is_duration(ra)):
        raise _invalid("release_after must be a number of seconds >= 0 or an ISO 8601 duration")
    _validate_input(doc["body"])
    return doc


class ActionProviderState:
    """The provider's actions, plus hooks for tests.

    All handlers share one instance from many server threads, so every read or change
    of the actions happens under one lock.
    """

    def __init__(self, *, tokens: Mapping[str, str] | None = None, scope: str = DEFAULT_SCOPE,
                 title: str = "automate-lite stub provider",
                 subtitle: str = "A loopback stand-in for a Globus Action Provider",
                 admin_contact: str = "automate-lite@example.org",
                 clock: Callable[[], float] = time.time) -> None:
        self.tokens = dict(tokens) if tokens is not None else None
        self.scope = scope
        self.title = title
        self.subtitle = subtitle
        self.admin_contact = admin_contact
        self.clock = clock
        self._lock = threading.Lock()
        self._actions: dict[str, _Action] = {}
        self._by_request: dict[tuple[str, str], str] = {}
        self._created = 0
        self._requests = 0
        self._history: collections.deque[StubRequest] = collections.deque(maxlen=_REQUEST_HISTORY)
        self._injected: list[tuple[int, str]] = []

    # -- hooks for tests -------------------------------------------------------------

    @property
    def created_count(self) -> int:
        """How many actions were ever created (idempotent replays do not count)."""
        with self._lock:
            return self._created

    @property
    def request_count(self) -> int:
        """How many HTTP requests were served, whatever their route or outcome."""
        with self._lock:
            return self._requests

    @property
    def requests(self) -> list[StubRequest]:
        """The last requests served (at most 1000), oldest first."""
        with self._lock:
            return list(self._history)

    def action_ids(self) -> list[str]:
        """Ids of the actions currently held (released ones are gone)."""
        with self._lock:
            return list(self._actions)

    def status_of(self, action_id: str) -> dict[str, Any] | None:
        """The ActionStatus document of an action, whoever owns it, or ``None``."""
        with self._lock:
            action = self._actions.get(action_id)
            if action is None:
                return None
            action.advance(self.clock())
            return action.document()

    def fail_next(self, count: int = 1, status: int = 503, code: str | None = None) -> None:
        """Answer the next ``count`` requests (any route) with error ``status``.

        For exercising client retries: the request is not handled at all.
        """
        code = code or _status_code(status)
        with self._lock:
            self._injected.extend([(status, code)] * count)

    def reset_counters(self) -> None:
        """Zero ``created_count`` and ``request_count`` and forget the request history."""
        with self._lock:
            self._created = 0
            self._requests = 0
            self._history.clear()

    # -- plumbing ----------------------------------------------------------------------

    def _enter(self, req: StubRequest) -> Reply | None:
        with self._lock:
            self._requests += 1
            self._history.append(req)
            if self._injected:
                status, code = self._injected.pop(0)
                return ProviderError(status, code, "injected failure").reply()
        return None

    def _caller(self, req: StubRequest) -> str:
        if self.tokens is None:
            return ANONYMOUS_IDENTITY
        token = req.bearer_token
        challenge = {"WWW-Authenticate": 'Bearer realm="globus"'}
        if not token:
            raise ProviderError(401, "AuthenticationRequired",
                                "a bearer token is required", challenge)
        identity = self.tokens.get(token)
        if identity is None:
            raise ProviderError(401, "InvalidToken", "the bearer token is not valid", challenge)
        return identity

    def _find(self, action_id: str, caller: str, manage: bool = False) -> _Action:
        """The action, advanced to now; the caller holds ``_lock``."""
        action = self._actions.get(action_id)
        # another user's action looks absent, as action-provider-tools' *_or_404 does
        if action is None or not action.can_see(caller):
            raise ProviderError(404, "NotFound", f"no action with id {action_id!r}")
        if manage and not action.can_manage(caller):
            raise ProviderError(403, "Forbidden",
                                f"{caller} may view but not manage action {action_id!r}")
        action.advance(self.clock())
        return action

    # -- handlers ----------------------------------------------------------------------

    def introspect(self, req: StubRequest) -> Reply:
        """``GET /``: the provider description (no token needed)."""
        return Reply.json({
            "globus_auth_scope": self.scope,
            "title": self.title,
            "subtitle": self.subtitle,
            "admin_contact": self.admin_contact,
            "api_version": "1.0",
            "synchronous": False,
            "log_supported": True,
            "input_schema": INPUT_SCHEMA,
            "runnable_by": ["all_authenticated_users"],
            "visible_to": ["public"],
            "types": ["Action"],
            "keywords": ["stub", "automate-lite"],
            "maximum_deadline": "P30D",
        })

    def run(self, req: StubRequest) -> Reply:
        """``POST /run`` or ``POST /actions``: start (or replay) an action."""
        caller = self._caller(req)
        try:
            doc = req.json()
        except ValueError:
            raise ProviderError(400, "BadRequest", "the request body is not valid JSON") from None
        doc = _validate_run(doc)
        body: dict[str, Any] = doc["body"]
        if "error_status" in body:
            status = int(body["error_status"])
            raise ProviderError(status, _status_code(status),
                                f"error_status {status} was asked for in the action body")
        request_id = doc.get("request_id") or str(uuid.uuid4())
        # explicit nulls mean "not given", so they must not make a replay look different
        fingerprint = json.dumps({k: v for k, v in doc.items()
                                  if k != "request_id" and v is not None}, sort_keys=True)
        with self._lock:
            now = self.clock()
            existing = self._actions.get(self._by_request.get((caller, request_id), ""))
            if existing is not None:
                if existing.fingerprint != fingerprint:
                    raise ProviderError(409, "Conflict",
                                        f"request_id {request_id!r} was already used "
                                        "with a different request")
                existing.advance(now)
                return Reply.json(existing.document(), 200)
            action = _Action(
                action_id=str(uuid.uuid4()),
                creator_id=caller,
                request_id=request_id,
                fingerprint=fingerprint,
                body=copy.deepcopy(body),
                label=doc.get("label"),
                monitor_by=doc.get("monitor_by"),
                manage_by=doc.get("manage_by"),
                release_after=doc.get("release_after"),
                sleep_s=float(body.get("sleep_s", 0.0)),
                fail=bool(body.get("fail", False)),
                echo_string=str(body.get("echo_string", "hello")),
                start=now,
                status="ACTIVE",
                details={"code": "ActionActive", "description": "The action is running."},
            )
            action.add_log(now, "ActionStarted", "Action started")
            if body.get("require_resume"):
                action.status = "INACTIVE"
                action.details = {
                    "code": "ConsentRequired",
                    "description": "Consent is required; resume the action once granted.",
                    "required_scope": self.scope,
                }
                action.add_log(now, "ActionInactive", "Action is waiting to be resumed",
                               action.details)
            else:
                action.active_since = now
            self._actions[action.action_id] = action
            self._by_request[(caller, request_id)] = action.action_id
            self._created += 1
            # answered without advance(): a run always reports the state it started in
            return Reply.json(action.document(), 201)

    def status(self, req: StubRequest, action_id: str) -> Reply:
        """``GET /{id}/status`` or ``GET /actions/{id}``."""
        caller = self._caller(req)
        with self._lock:
            return Reply.json(self._find(action_id, caller).document())

    def cancel(self, req: StubRequest, action_id: str) -> Reply:
        """``POST /{id}/cancel`` or ``POST /actions/{id}/cancel``."""
        caller = self._caller(req)
        with self._lock:
            action = self._find(action_id, caller, manage=True)
            if not action.finished:
                now = self.clock()
                action.status = "FAILED"
                action.completion = now
                action.details = {"code": "Canceled",
                                  "description": f"The action was canceled by {caller}."}
                action.add_log(now, "ActionCanceled", "Action canceled", action.details)
            return Reply.json(action.document())

    def release(self, req: StubRequest, action_id: str) -> Reply:
        """``POST /{id}/release`` or ``DELETE /actions/{id}``: forget a finished action."""
        caller = self._caller(req)
        with self._lock:
            action = self._find(action_id, caller, manage=True)
            if not action.finished:
                raise ProviderError(409, "ActionNotComplete",
                                    f"action {action_id!r} is {action.status}; "
                                    "only SUCCEEDED or FAILED actions can be released")
            del self._actions[action_id]
            # a released request_id may be used again for a new action
            self._by_request.pop((action.creator_id, action.request_id), None)
            return Reply.json(action.document())

    def resume(self, req: StubRequest, action_id: str) -> Reply:
        """``POST /{id}/resume`` or ``POST /actions/{id}/resume``: INACTIVE -> ACTIVE."""
        caller = self._caller(req)
        with self._lock:
            action = self._find(action_id, caller, manage=True)
            if action.status != "INACTIVE":
                raise ProviderError(409, "ActionNotInactive",
                                    f"action {action_id!r} is {action.status}; "
                                    "only INACTIVE actions can be resumed")
            now = self.clock()
            action.status = "ACTIVE"
            action.active_since = now
            action.details = {"code": "ActionActive", "description": "The action is running."}
            action.add_log(now, "ActionResumed", "Action resumed")
            return Reply.json(action.document())

    def log(self, req: StubRequest, action_id: str) -> Reply:
        """``GET /{id}/log`` or ``GET /actions/{id}/log``: one page of log entries.

        Both routes accept ``limit`` (alias ``per_page``, default 10), ``reverse_order``
        (present and not false/0/no/off means newest first) and a ``marker`` or
        ``pagination_token`` from the previous page; the marker remembers the order.
        """
        caller = self._caller(req)
        raw_limit = req.arg("limit") or req.arg("per_page")
        try:
            limit = int(raw_limit) if raw_limit is not None else _DEFAULT_LOG_LIMIT
        except ValueError:
            raise _invalid(f"limit must be an integer, not {raw_limit!r}") from None
        if not 1 <= limit <= _MAX_LOG_LIMIT:
            raise _invalid(f"limit must be from 1 to {_MAX_LOG_LIMIT}")
        marker = req.arg("marker") or req.arg("pagination_token")
        if marker:
            offset, reverse = _decode_marker(marker)
        else:
            flag = req.arg("reverse_order")
            offset, reverse = 0, flag is not None and flag.strip().lower() not in _FALSE_WORDS
        with self._lock:
            entries = list(self._find(action_id, caller).log)
        if reverse:
            entries.reverse()
        page = entries[offset:offset + limit]
        more = offset + limit < len(entries)
        return Reply.json({
            "entries": page,
            "has_next_page": more,
            "marker": _encode_marker(offset + limit, reverse) if more else None,
            "limit": limit,
        })

    def list_actions(self, req: StubRequest) -> Reply:
        """``GET /actions?status=A,B&roles=creator_id,monitor_by,manage_by``: a bare list.

        ``roles`` defaults to ``creator_id``; ``status`` to every status.
        """
        caller = self._caller(req)

        def values(name: str) -> list[str]:
            return [v.strip() for raw in req.query.get(name, []) for v in raw.split(",")
                    if v.strip()]

        statuses = {s.upper() for s in values("status")} or set(_STATUSES)
        roles = set(values("roles")) or {"creator_id"}
        if bad := sorted(statuses - set(_STATUSES)):
            raise _invalid(f"unknown status value(s): {', '.join(bad)}")
        if bad := sorted(roles - set(_ROLES)):
            raise _invalid(f"unknown role(s): {', '.join(bad)}")
        now = self.clock()
        found = []
        with self._lock:
            for action in self._actions.values():
                if any(action.has_role(caller, r) for r in roles):
                    action.advance(now)
                    if action.status in statuses:
                        found.append(action)
            found.sort(key=lambda a: a.start)
            return Reply.json([a.document() for a in found])


class _ProviderApp(App):
    """An :class:`App` that counts every request and answers :class:`ProviderError`."""

    def __init__(self, state: ActionProviderState) -> None:
        super().__init__()
        self.state = state

    def dispatch(self, req: StubRequest) -> Reply:
        injected = self.state._enter(req)
        if injected is not None:
            return injected
        try:
            return super().dispatch(req)
        except ProviderError as exc:
            return exc.reply()


def make_action_provider_app(
    *,
    tokens: Mapping[str, str] | None = None,
    scope: str = DEFAULT_SCOPE,
    title: str = "automate-lite stub provider",
    subtitle: str = "A loopback stand-in for a Globus Action Provider",
    admin_contact: str = "automate-lite@example.org",
    prefix: str = "",
    clock: Callable[[], float] = time.time,
) -> tuple[App, ActionProviderState]:
    """Build the provider's routes and state.

    ``tokens`` maps accepted bearer tokens to identity ids; ``None`` means no token is
    needed and every caller is :data:`ANONYMOUS_IDENTITY`. ``prefix`` (e.g.
    ``"/hello_world"``) mounts the provider below a path, as real providers are.
    ``clock`` (seconds since the epoch) lets tests move time by hand.
    """
    state = ActionProviderState(tokens=tokens, scope=scope, title=title, subtitle=subtitle,
                                admin_contact=admin_contact, clock=clock)
    app = _ProviderApp(state)
    p = "/" + prefix.strip("/") if prefix.strip("/") else ""
    # newer routes first: see the module docstring about "/actions/..." vs "/{id}/..."
    routes: list[tuple[str, str, Callable[..., Reply]]] = [
        ("GET", "/", state.introspect),
        ("GET", "/actions", state.list_actions),
        ("POST", "/actions", state.run),
        ("GET", "/actions/{action_id}", state.status),
        ("DELETE", "/actions/{action_id}", state.release),
        ("POST", "/actions/{action_id}/cancel", state.cancel),
        ("POST", "/actions/{action_id}/resume", state.resume),
        ("GET", "/actions/{action_id}/log", state.log),
        ("POST", "/run", state.run),
        ("GET", "/{action_id}/status", state.status),
        ("POST", "/{action_id}/cancel", state.cancel),
        ("POST", "/{action_id}/release", state.release),
        ("POST", "/{action_id}/resume", state.resume),
        ("GET", "/{action_id}/log", state.log),
    ]
    for method, pattern, fn in routes:
        app.add(method, p + pattern, fn)
    return app, state


class ActionProviderStub:
    """The provider served on ``host:port`` (port 0: a free one) in a background thread.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. The port is bound
    on construction, so :attr:`url` is known before serving starts.
    """

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        scope: str = DEFAULT_SCOPE,
        title: str = "automate-lite stub provider",
        prefix: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app, self.state = make_action_provider_app(
            tokens=tokens, scope=scope, title=title, prefix=prefix, clock=clock)
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.server = StubServer(self.app, host, port)

    @property
    def url(self) -> str:
        """The provider's action URL, ``http://127.0.0.1:PORT[/prefix]`` (no trailing slash)."""
        return self.server.url + self.prefix

    def start(self) -> "ActionProviderStub":
        """Start serving in a daemon thread; returns ``self``."""
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self.server.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self.server.serve_forever()

    def __enter__(self) -> "ActionProviderStub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
