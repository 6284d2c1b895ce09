"""One HTTP server hosting many Action Providers whose work is a Python function.

:class:`ProviderHost` serves, on one port, any number of providers mounted below
paths. Each speaks both route styles of the Action Provider API (``POST /run`` and
``POST /actions``, ``GET /{id}/status`` and ``GET /actions/{id}``, cancel, release,
resume, log, introspection). What an action *does* is its provider's handler,
called with the action body and the :class:`Action` record:

* returning a value: the action is SUCCEEDED, the value its ``details``;
* raising :class:`ActionFailed`: the action is FAILED with that code and details;
* returning :class:`Pending`: the action stays ACTIVE until :meth:`ProviderHost.complete`
  (or :meth:`ProviderHost.fail`) is called for it, e.g. when someone picks an option.

Handlers run in the request's thread before the answer is sent, so a synchronous
provider answers SUCCEEDED at once and a flow goes on without polling. A body that
does not match the provider's input schema is refused with 400 ``BadRequest``
(checked with jsonschema when it is installed, as it is with the ``testing`` extra).
"""

from __future__ import annotations

import copy
import importlib
import json
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from .._action_model import AP_ROUTES
from .._server import App, Reply, Served, StubRequest, StubServer

__all__ = ["Action", "ActionFailed", "Pending", "ProviderSpec", "ProviderHost", "ANONYMOUS"]

#: Who creates actions when the host checks no tokens.
ANONYMOUS = "urn:globus:auth:identity:00000000-0000-0000-0000-000000000000"

_RUN_KEYS = frozenset({"request_id", "body", "label", "tags", "manage_by", "monitor_by", "release_after"})
_FINAL = frozenset({"SUCCEEDED", "FAILED"})


class ActionFailed(Exception):
    """Raise from a handler to end the action FAILED with ``{"code", "description", **details}``."""

    def __init__(self, code: str, description: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = dict(details or {})

    def as_details(self) -> dict[str, Any]:
        """The FAILED action's ``details``."""
        return {"code": self.code, "description": self.description, **self.details}


@dataclass(frozen=True)
class Pending:
    """Return from a handler to keep the action ACTIVE (``details`` shown meanwhile)."""

    details: Mapping[str, Any] = field(default_factory=dict)


class _BadRequest(Exception):
    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def reply(self) -> Reply:
        return Reply.json({"code": self.code, "description": self.description}, self.status)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


@dataclass
class Action:
    """One action, as a hosted provider keeps it (read under ``host.lock``)."""

    action_id: str
    provider: str  # the mount path of its provider
    creator_id: str
    request_id: str
    fingerprint: str
    body: dict[str, Any]
    label: str | None
    tags: list[str]
    monitor_by: list[str]
    manage_by: list[str]
    release_after: Any
    start_time: float
    status: str = "ACTIVE"
    details: Any = field(default_factory=lambda: {"code": "ActionActive", "description": "The action is running"})
    completion_time: float | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """The ActionStatus document."""
        return {
            "action_id": self.action_id,
            "status": self.status,
            "display_status": self.status,
            "creator_id": self.creator_id,
            "label": self.label,
            "tags": list(self.tags),
            "monitor_by": list(self.monitor_by),
            "manage_by": list(self.manage_by),
            "start_time": _iso(self.start_time),
            "completion_time": None if self.completion_time is None else _iso(self.completion_time),
            "release_after": self.release_after,
            "details": copy.deepcopy(self.details),
        }


#: ``handler(body, action) -> details | Pending``; raises :class:`ActionFailed`.
Handler = Callable[[dict[str, Any], Action], Any]


@dataclass(frozen=True)
class ProviderSpec:
    """What one hosted provider is: where it is mounted, what it does, what it takes."""

    path: str  # e.g. "/transfer.actions.globus.org/transfer"
    title: str
    handler: Handler
    input_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    synchronous: bool = True
    scope: str = ""
    subtitle: str = "an automate-lite stand-in"


def _schema_problem(schema: Mapping[str, Any], body: Any) -> str | None:
    try:
        # by name: typed as Any whether or not its type stubs are installed
        jsonschema: Any = importlib.import_module("jsonschema")
    except ImportError:  # the testing extra brings it; without it only the handler checks
        return None
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    first = errors[0]
    where = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path)
    return f"body{where}: {first.message}"


class ProviderHost(Served):
    """Serves providers on ``host:port`` (port 0: a free one) in a background thread.

    ``tokens`` maps accepted bearer tokens to identities; ``None`` (the default)
    accepts any caller as :data:`ANONYMOUS`.
    """

    def __init__(self, *, tokens: Mapping[str, str] | None = None, host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] = time.time) -> None:
        self.tokens = dict(tokens) if tokens is not None else None
        self.clock = clock
        self.lock = threading.RLock()
        self.actions: dict[str, Action] = {}
        self.specs: dict[str, ProviderSpec] = {}
        self._by_request: dict[tuple[str, str, str], str] = {}
        self.app = App()
        self.server = StubServer(self.app, host, port)

    # -- lifecycle -----------------------------------------------------------------------

    # url, start, stop, serve_forever and ``with`` come from Served.

    # -- providers -----------------------------------------------------------------------

    def mount(self, spec: ProviderSpec) -> str:
        """Serve ``spec`` at its path; returns its action URL."""
        p = "/" + spec.path.strip("/")
        if p in self.specs:
            raise ValueError(f"a provider is already mounted at {p!r}; choose another name or path")
        self.specs[p] = spec

        def bind(fn: Callable[..., Reply]) -> Callable[..., Reply]:
            def route(req: StubRequest, **kw: str) -> Reply:
                try:
                    return fn(p, req, **kw)
                except _BadRequest as exc:
                    return exc.reply()
            return route

        for method, suffix, operation in AP_ROUTES:
            self.app.add(method, p + suffix, bind(getattr(self, "_" + operation)))
        return self.url + p

    def complete(self, action_id: str, details: Any) -> None:
        """End a pending action SUCCEEDED with ``details``."""
        self._finish(action_id, "SUCCEEDED", details)

    def fail(self, action_id: str, code: str, description: str) -> None:
        """End a pending action FAILED."""
        self._finish(action_id, "FAILED", {"code": code, "description": description})

    def _finish(self, action_id: str, status: str, details: Any) -> None:
        with self.lock:
            action = self.actions.get(action_id)
            if action is None:
                raise KeyError(f"no action {action_id!r} (released, or never created)")
            if action.status in _FINAL:
                return
            now = self.clock()
            action.status, action.details, action.completion_time = status, copy.deepcopy(details), now
            action.log.append({"time": _iso(now), "code": f"Action{status.title()}",
                               "description": f"Action {status.lower()}", "details": {}})

    # -- routes --------------------------------------------------------------------------

    def _caller(self, req: StubRequest) -> str:
        if self.tokens is None:
            return ANONYMOUS
        identity = self.tokens.get(req.bearer_token or "")
        if identity is None:
            raise _BadRequest(401, "AuthenticationRequired", "a valid bearer token is required")
        return identity

    def _find(self, path: str, action_id: str, caller: str) -> Action:
        action = self.actions.get(action_id)
        if action is None or action.provider != path or caller not in (action.creator_id, *action.monitor_by,
                                                                        *action.manage_by):
            raise _BadRequest(404, "NotFound", f"no action with id {action_id!r}")
        return action

    def _introspect(self, path: str, req: StubRequest) -> Reply:
        spec = self.specs[path]
        return Reply.json({
            "globus_auth_scope": spec.scope, "title": spec.title, "subtitle": spec.subtitle,
            "admin_contact": "automate-lite@example.org", "api_version": "1.0",
            "synchronous": spec.synchronous, "log_supported": True, "input_schema": spec.input_schema,
            "runnable_by": ["all_authenticated_users"], "visible_to": ["public"], "types": ["Action"],
            "keywords": ["automate-lite", "stand-in"], "maximum_deadline": "P30D",
        })

    def _run(self, path: str, req: StubRequest) -> Reply:
        caller = self._caller(req)
        try:
            doc = req.json()
        except ValueError:
            raise _BadRequest(400, "BadRequest", "the request body is not valid JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("body"), dict):
            raise _BadRequest(400, "BadRequest", "the request must be a JSON object with an object 'body'")
        if unknown := sorted(set(doc) - _RUN_KEYS):
            raise _BadRequest(400, "BadRequest", f"unknown request field(s): {', '.join(unknown)}")
        spec = self.specs[path]
        body: dict[str, Any] = doc["body"]
        problem = _schema_problem(spec.input_schema, body)
        if problem is not None:
            raise _BadRequest(400, "BadRequest", f"the action body does not match the input schema: {problem}")
        request_id = str(doc.get("request_id") or uuid.uuid4())
        fingerprint = json.dumps({k: v for k, v in doc.items() if k != "request_id" and v is not None},
                                 sort_keys=True)
        with self.lock:
            known = self.actions.get(self._by_request.get((path, caller, request_id), ""))
            if known is not None:
                if known.fingerprint != fingerprint:
                    raise _BadRequest(409, "Conflict", f"request_id {request_id!r} was used with another request")
                return Reply.json(known.document(), 200)
            now = self.clock()
            action = Action(
                action_id=str(uuid.uuid4()), provider=path, creator_id=caller, request_id=request_id,
                fingerprint=fingerprint, body=copy.deepcopy(body), label=doc.get("label"),
                tags=list(doc.get("tags") or []), monitor_by=list(doc.get("monitor_by") or []),
                manage_by=list(doc.get("manage_by") or []), release_after=doc.get("release_after"),
                start_time=now,
            )
            action.log.append({"time": _iso(now), "code": "ActionStarted", "description": "Action started",
                               "details": {}})
            # registered before the work, so a retried start finds it rather than doing it twice
            self.actions[action.action_id] = action
            self._by_request[(path, caller, request_id)] = action.action_id
        try:
            outcome = spec.handler(copy.deepcopy(body), action)
        except ActionFailed as exc:
            self._finish(action.action_id, "FAILED", exc.as_details())
        except Exception as exc:  # the user's function failed: that is the action failing
            self._finish(action.action_id, "FAILED", {
                "code": "UnhandledException", "description": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=5)})
        else:
            if isinstance(outcome, Pending):
                with self.lock:
                    action.details = {"code": "ActionActive", "description": "The action is running",
                                      **copy.deepcopy(dict(outcome.details))}
            else:
                self._finish(action.action_id, "SUCCEEDED", outcome)
        with self.lock:
            return Reply.json(action.document(), 201)

    def _status(self, path: str, req: StubRequest, action_id: str) -> Reply:
        caller = self._caller(req)
        with self.lock:
            return Reply.json(self._find(path, action_id, caller).document())

    def _cancel(self, path: str, req: StubRequest, action_id: str) -> Reply:
        caller = self._caller(req)
        with self.lock:
            action = self._find(path, action_id, caller)
            if action.status not in _FINAL:
                self._finish(action_id, "FAILED", {"code": "Canceled", "description": f"canceled by {caller}"})
            return Reply.json(action.document())

    def _release(self, path: str, req: StubRequest, action_id: str) -> Reply:
        caller = self._caller(req)
        with self.lock:
            action = self._find(path, action_id, caller)
            if action.status not in _FINAL:
                raise _BadRequest(409, "ActionNotComplete", f"action {action_id!r} is {action.status}; "
                                  "only a SUCCEEDED or FAILED action can be released")
            del self.actions[action_id]
            self._by_request.pop((path, action.creator_id, action.request_id), None)
            return Reply.json(action.document())

    def _resume(self, path: str, req: StubRequest, action_id: str) -> Reply:
        caller = self._caller(req)
        with self.lock:
            action = self._find(path, action_id, caller)
            raise _BadRequest(409, "ActionNotInactive",
                              f"action {action_id!r} is {action.status}; only an INACTIVE action can be resumed")

    def _log(self, path: str, req: StubRequest, action_id: str) -> Reply:
        caller = self._caller(req)
        raw = req.arg("limit") or req.arg("per_page") or "10"
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise _BadRequest(422, "ValidationError", f"limit must be an integer from 1 to 1000, not {raw!r}")
        marker = req.arg("marker") or req.arg("pagination_token") or "0"
        if not marker.isdigit():
            raise _BadRequest(422, "ValidationError", f"marker {marker!r} did not come from this provider")
        with self.lock:
            entries = copy.deepcopy(self._find(path, action_id, caller).log)
        limit, offset = int(raw), int(marker)
        more = offset + limit < len(entries)
        return Reply.json({"entries": entries[offset:offset + limit], "has_next_page": more,
                           "marker": str(offset + limit) if more else None, "limit": limit})

    def _list_actions(self, path: str, req: StubRequest) -> Reply:
        caller = self._caller(req)
        with self.lock:
            return Reply.json([a.document() for a in self.actions.values()
                               if a.provider == path and a.creator_id == caller])
