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

import collections
import copy
import json
import threading
import time
import uuid
from typing import Any, Callable, Mapping

from ._server import App, Reply, Served, StubRequest, StubServer
from ._action_model import (
    AP_ROUTES,
    ProviderError, _Action, _DEFAULT_LOG_LIMIT, _FALSE_WORDS, _MAX_LOG_LIMIT, _REQUEST_HISTORY, _ROLES,
    _STATUSES, _decode_marker, _encode_marker, _invalid, _status_code, _validate_run,
)

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
    for method, pattern, operation in AP_ROUTES:
        app.add(method, p + (pattern or "/"), getattr(state, operation))
    return app, state


class ActionProviderStub(Served):
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

