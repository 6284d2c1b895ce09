"""Who may call which route of the local Flows service: tokens, scopes, the route table."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Literal, Mapping

from .._server import App, Reply, Served, StubRequest, StubServer
from .store import Caller, DEFAULT_IDENTITY, Doc, FLOWS_SCOPE_PREFIX, FlowsState, _Fail, _unprocessable, flow_scope
from .parsing import _comma_args

if TYPE_CHECKING:
    from ..runner import FlowRunner


_Needs = Literal["service", "flow", "either"]

#: The service scope each route takes (as the Flows service and globus-automate-client's
#: authorizer_callback use them); a broader scope covers the narrower one.
_ROUTE_SCOPES: dict[tuple[str, str], str] = {
    **{("GET", p): "view_flows" for p in ("/flows", "/flows/{flow_id}")},
    **{(m, p): "manage_flows" for m, p in (
        ("POST", "/flows"), ("POST", "/flows/validate"), ("POST", "/flows/dry-run"),
        ("PUT", "/flows/{flow_id}"), ("DELETE", "/flows/{flow_id}"))},
    **{("GET", p): "run_status" for p in (
        "/runs", "/runs/{run_id}", "/runs/{run_id}/log", "/runs/{run_id}/definition", "/flows/{flow_id}/runs")},
    **{(m, p): "run_manage" for m, p in (
        ("PUT", "/runs/{run_id}"), ("POST", "/runs/{run_id}/cancel"), ("POST", "/runs/{run_id}/release"),
        ("POST", "/batch/runs"))},
}
_COVERS = {"all": {"view_flows", "manage_flows", "run_status", "run_manage"},
           "manage_flows": {"view_flows"}, "run_manage": {"run_status"}}



class ScopedRoutes(Served):
    """The base of :class:`~automate_lite.testing.flows.FlowsStub`: state, auth and the route wrapper.

    Each route module adds its routes in a subclass of this one; ``FlowsStub`` is the last.
    """

    auth_enabled: bool
    consent_required_once: bool
    execute: bool
    default_active_s: float
    cancel_status: Literal["ENDED", "FAILED"]
    state: FlowsState
    app: App
    server: StubServer
    runner: "FlowRunner"
    _tokens: dict[str, str]
    _flow_tokens: dict[str, tuple[str, str | None]]
    _groups: dict[str, frozenset[str]]
    _clock: Callable[[], float]
    _users: dict[str, Doc]
    _scoped_tokens: dict[str, tuple[str, frozenset[str]]]
    _role_tokens: dict[str, str]

    @property
    def port(self) -> int:
        """The port bound."""
        return self.server.port

    @staticmethod
    def flow_identity_token(flow_id: str) -> str:
        """The token ``"RunAs": "Flow"`` states present: the flow's own identity.

        The Flows docs: such an action runs with credentials of the flow itself, whose
        identity is ``urn:globus:auth:identity:<flow id>``; accept this token for that
        identity at your provider stand-in (``add_run_as_token("Flow", ...)`` overrides it).
        """
        return f"flow-identity-{flow_id}"

    # -- what the runner needs (automate_lite.testing.runner.RunHost) -----------------------------------

    @property
    def lock(self) -> threading.RLock:
        """The lock every request and the runner take to read or change the state."""
        return self.state.lock

    def now(self) -> float:
        """The stub's clock."""
        return self._clock()

    def _apply_limits(self, now: float) -> None:
        """End or forget what is past a limit (:class:`~.limits.ServiceLimits` does it)."""

    # -- plumbing ------------------------------------------------------------------------

    def _route(self, method: str, pattern: str, needs: _Needs, fn: Callable[..., Reply]) -> None:
        """Register ``fn(req, caller, now, **path_args)`` behind auth, lock and error mapping."""

        required = _ROUTE_SCOPES.get((method, pattern))

        def handler(req: StubRequest, **kwargs: str) -> Reply:
            with self.state.lock:
                # Handlers run in server threads; one lock makes each request atomic.
                self.state.requests.append(req)
                try:
                    now = self._clock()
                    self._apply_limits(now)  # runs and flows past a limit are ended or gone first
                    caller = self._authenticate(req, needs, kwargs.get("flow_id"))
                    if required is not None and caller.kind == "service" and caller.scopes is not None and not any(
                        required == held or required in _COVERS.get(held, ()) for held in caller.scopes
                    ):
                        raise _Fail(403, "MISSING_SCOPE",
                                    f"This operation needs a token for the scope {FLOWS_SCOPE_PREFIX}{required}")
                    return fn(req, caller, now, **kwargs)
                except _Fail as fail:
                    return fail.reply()

        self.app.add(method, pattern, handler)

    def _authenticate(self, req: StubRequest, needs: _Needs, flow_id: str | None) -> Caller:
        if not self.auth_enabled:
            return Caller(DEFAULT_IDENTITY, self._principals_of(DEFAULT_IDENTITY), "any")
        token = req.bearer_token
        if not token:
            raise _Fail(401, "AUTHENTICATION_ERROR", "No bearer token was given (Authorization: Bearer ...)")
        if token in self._scoped_tokens:
            identity, scopes = self._scoped_tokens[token]
            caller = Caller(identity, self._principals_of(identity), "service", scopes=scopes)
        elif token in self._tokens:
            identity = self._tokens[token]
            caller = Caller(identity, self._principals_of(identity), "service")
        elif token in self._flow_tokens:
            identity, bound = self._flow_tokens[token]
            caller = Caller(identity, self._principals_of(identity), "flow", bound)
        else:
            raise _Fail(401, "AUTHENTICATION_ERROR", "The bearer token is not valid (unknown, expired or revoked)")
        if needs == "service" and caller.kind == "flow":
            raise _Fail(
                403,
                "MISSING_SCOPE",
                f"This operation needs a token for a Flows service scope ({FLOWS_SCOPE_PREFIX}...), "
                "not for a flow's own scope",
            )
        if needs == "flow" and caller.kind == "service":
            scope = flow_scope(flow_id) if flow_id else "the flow's scope"
            raise _Fail(403, "MISSING_SCOPE", f"This operation needs a token for the flow's own scope: {scope}")
        if flow_id is not None and caller.kind == "flow" and caller.flow_id not in (None, flow_id):
            raise _Fail(403, "MISSING_SCOPE", f"The token is not valid for the scope {flow_scope(flow_id)}")
        return caller

    def _principals_of(self, identity: str) -> frozenset[str]:
        return frozenset({identity, *self._groups.get(identity, ())})


    def _wanted_roles(
        self, req: StubRequest, args: tuple[str, ...], aliases: Mapping[str, str], known: set[str]
    ) -> set[str] | None:
        values = _comma_args(req, *args)
        if values is None:
            return None
        wanted = {aliases.get(v, v) for v in values}
        unknown = wanted - known
        if unknown:
            _unprocessable(["query", args[0]], f"unknown role(s) {sorted(unknown)}; use {sorted(known)}")
        return wanted
