"""Globus Flows: the operations, once (:class:`FlowOps`), and the sync and async clients.

:class:`FlowsClient` and :class:`AsyncFlowsClient` share one binding of every
:class:`FlowOps` route, a line each (:mod:`automate_lite._core.bind`), so a method's
signature is its operation's, blocking on one client and awaited on the other. Both are frozen dataclasses: derive a changed one with
``dataclasses.replace`` (or ``client.replace(...)``); it shares the connection pool,
and starts with no remembered flow tokens. Two kinds of token are involved:

- the *service* token (``authorizer``), for managing and listing flows and runs;
- a flow's *own* token, for running that flow and for the legacy
  ``/flows/{flow_id}/{run_id}/...`` routes. It comes from ``authorizer_callback``,
  called with ``flow_url=``, ``flow_scope=``, ``client_id=`` once per scope per
  client (remembered, thread- and task-safe), or from a per-call ``authorizer=``.
"""

from __future__ import annotations

import sys
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping

from .._client import DEFAULT_TRANSPORT, AsyncClient, SyncClient, TransportT, settle_transport
from .._core.bind import bound, bound_iter
from .._core.config import (DEFAULT_HTTP_TIMEOUT, check_app_name, check_authorizer, check_timeout,
                            from_transport_params, headers_with)
from .._core.http import DEFAULT_RETRY, Authorizer, RetryPolicy, Session
from .._core.ops import AsyncTransport, SyncTransport
from .._core.scopes import flow_scope, flows_base_url
from ..errors import AutomateAPIError, UsageError
from ._args import AuthorizerCallback, FlowAuthorizers
from ._ops import RUN_FINAL_STATES, FlowOps

if TYPE_CHECKING:
    from typing_extensions import Self
elif sys.version_info >= (3, 11):
    from typing import Self  # so typing.get_type_hints resolves ``Self`` at run time

__all__ = ["FlowOps", "FlowsClient", "AsyncFlowsClient", "FlowAuthorizers", "RUN_FINAL_STATES",
           "AuthorizerCallback", "flow_scope"]


@dataclass(frozen=True, slots=True, repr=False)
class _FlowsFields(Generic[TransportT]):
    """The fields, checks and ``new_client`` both Flows clients share (the original
    constructor's order first; ``TransportT`` is the family's transport type)."""

    client_id: str | None = None
    authorizer_callback: AuthorizerCallback | None = None
    authorizer: Authorizer | None = None
    base_url: str | None = None
    http_timeout: float | None = DEFAULT_HTTP_TIMEOUT
    retry: RetryPolicy = DEFAULT_RETRY
    extra_headers: Mapping[str, str] | None = None
    allow_insecure_http: bool = False
    #: See :attr:`automate_lite.Session.auth_requirements_handler` (set by the login extras).
    auth_requirements_handler: Callable[[AutomateAPIError], bool] | None = field(default=None, compare=False)
    _ops: FlowOps = field(init=False, repr=False, compare=False)
    #: The original constructor's keyword for ``authorizer_callback`` (accepted, not kept).
    get_authorizer_callback: InitVar[AuthorizerCallback | None] = None
    #: A :class:`~automate_lite.SyncTransport` (blocking client) or an
    #: :class:`~automate_lite.AsyncTransport` (async); not given: a new default one.
    transport: TransportT = field(default=DEFAULT_TRANSPORT, compare=False)
    #: As in the original SDK: added to the User-Agent header.
    app_name: str | None = field(default=None, kw_only=True)
    #: The original SDK's ``transport_params`` (``http_timeout``, ``verify_ssl``,
    #: ``max_retries``, ``max_sleep``), mapped onto the fields above; not kept.
    transport_params: InitVar[Mapping[str, Any] | None] = field(default=None, kw_only=True)

    def __post_init__(self, get_authorizer_callback: AuthorizerCallback | None,
                      transport_params: Mapping[str, Any] | None) -> None:
        if get_authorizer_callback is not None:
            if self.authorizer_callback is not None:
                raise UsageError("pass only one of authorizer_callback and get_authorizer_callback (they mean the same)")
            object.__setattr__(self, "authorizer_callback", get_authorizer_callback)
        if not isinstance(self.retry, RetryPolicy):
            raise UsageError(f"retry must be an automate_lite.RetryPolicy, got {self.retry!r}")
        timeout, retry, verify, ca_certs = from_transport_params(transport_params, self.http_timeout, self.retry)
        object.__setattr__(self, "retry", retry)
        object.__setattr__(self, "http_timeout", timeout)
        if self.client_id is not None and not isinstance(self.client_id, str):
            raise UsageError(f"client_id must be a string (your Globus Auth client id) or None, got {self.client_id!r}")
        base = flows_base_url(self.base_url)
        session = Session(
            base_url=base,
            authorizer=check_authorizer(self.authorizer),
            headers=headers_with(self.extra_headers, check_app_name(self.app_name)),
            retry=self.retry,
            allow_insecure_http=bool(self.allow_insecure_http),
            auth_requirements_handler=self.auth_requirements_handler,
        )
        object.__setattr__(self, "base_url", base)
        object.__setattr__(self, "http_timeout", check_timeout(self.http_timeout))
        object.__setattr__(self, "_ops", FlowOps(session, FlowAuthorizers(self.authorizer_callback, self.client_id)))
        settle_transport(self, verify, ca_certs)

    @classmethod
    def new_client(
        cls,
        client_id: str | None,
        authorizer_callback: AuthorizerCallback | None,
        authorizer: Authorizer | None,
        base_url: str | None = None,
        http_timeout: float | None = DEFAULT_HTTP_TIMEOUT,
        *,
        transport: TransportT | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        allow_insecure_http: bool = False,
        app_name: str | None = None,
        transport_params: Mapping[str, Any] | None = None,
    ) -> Self:
        """Make a client: ``authorizer`` for the service, ``authorizer_callback`` for flows.

        The original SDK's signature; ``transport`` defaults to a new transport of the
        client's family, ``app_name``/``transport_params`` are as in its constructor.
        """
        return cls(client_id, authorizer_callback, authorizer, base_url, http_timeout, retry,
                   allow_insecure_http=allow_insecure_http, app_name=app_name, transport_params=transport_params,
                   transport=DEFAULT_TRANSPORT if transport is None else transport)

    def __repr__(self) -> str:
        auth = type(self.authorizer).__name__ if self.authorizer is not None else None
        return f"{type(self).__name__}(base_url={self.base_url!r}, client_id={self.client_id!r}, authorizer={auth})"

    @property
    def ops(self) -> FlowOps:
        """The sans-IO operations this client runs."""
        return self._ops

    def flow_scope(self, flow_id: str) -> str:
        """A flow's own scope, derived from its id (no round trip)."""
        return flow_scope(flow_id)

    # Every route, bound once for both families (see automate_lite._core.bind).
    create_flow = bound(FlowOps.create_flow)
    deploy_flow = bound(FlowOps.deploy_flow)
    update_flow = bound(FlowOps.update_flow)
    get_flow = bound(FlowOps.get_flow)
    delete_flow = bound(FlowOps.delete_flow)
    scope_for_flow = bound(FlowOps.scope_for_flow)
    list_flows = bound(FlowOps.list_flows)
    iter_flows = bound_iter(FlowOps.iter_flows)
    validate_flow = bound(FlowOps.validate_flow)
    run_flow = bound(FlowOps.run_flow)
    validate_run = bound(FlowOps.validate_run)
    flow_action_status = bound(FlowOps.flow_action_status)
    flow_action_log = bound(FlowOps.flow_action_log)
    flow_action_cancel = bound(FlowOps.flow_action_cancel)
    flow_action_release = bound(FlowOps.flow_action_release)
    flow_action_resume = bound(FlowOps.flow_action_resume)
    get_flow_definition_for_run = bound(FlowOps.get_flow_definition_for_run)
    enumerate_runs = bound(FlowOps.enumerate_runs)
    enumerate_actions = bound(FlowOps.enumerate_runs)
    list_flow_runs = bound(FlowOps.list_flow_runs)
    list_flow_actions = bound(FlowOps.list_flow_runs)
    list_runs = bound(FlowOps.list_runs)
    iter_runs = bound_iter(FlowOps.iter_runs)
    get_run = bound(FlowOps.get_run)
    get_run_definition = bound(FlowOps.get_run_definition)
    get_run_logs = bound(FlowOps.get_run_logs)
    iter_run_logs = bound_iter(FlowOps.iter_run_logs)
    cancel_run = bound(FlowOps.cancel_run)
    release_run = bound(FlowOps.release_run)
    delete_run = bound(FlowOps.release_run)
    resume_run = bound(FlowOps.resume_run)
    update_run = bound(FlowOps.update_run)
    flow_action_update = bound(FlowOps.flow_action_update)
    update_runs = bound(FlowOps.update_runs)
    list_web_inputs = bound(FlowOps.list_web_inputs)
    iter_web_inputs = bound_iter(FlowOps.iter_web_inputs)
    get_web_input = bound(FlowOps.get_web_input)
    respond_to_web_input = bound(FlowOps.respond_to_web_input)
    list_registered_apis = bound(FlowOps.list_registered_apis)
    iter_registered_apis = bound_iter(FlowOps.iter_registered_apis)
    get_registered_api = bound(FlowOps.get_registered_api)
    wait_for_run = bound(FlowOps.wait_for_run)


@dataclass(frozen=True, slots=True, repr=False)
class FlowsClient(SyncClient, _FlowsFields[SyncTransport]):
    """A client for the Globus Flows service (blocking I/O).

    Make one with :meth:`new_client` (the original SDK's signature) or the
    constructor (``FlowsClient(client_id, authorizer_callback, authorizer=...,
    base_url=...)``). Immutable and thread-safe. ``transport`` is a
    :class:`~automate_lite.SyncTransport`; the default is a
    :class:`~automate_lite.transports.Urllib3Transport` of its own.
    """


@dataclass(frozen=True, slots=True, repr=False)
class AsyncFlowsClient(AsyncClient, _FlowsFields[AsyncTransport]):
    """The async twin of :class:`FlowsClient`: same methods, awaited; safe across tasks.

    ``transport`` is an :class:`~automate_lite.AsyncTransport`; the default is an
    :class:`~automate_lite.transports.AsyncioTransport` (stdlib asyncio, keep-alive,
    at most 32 connections per host). Pass an ``AiohttpTransport``/``HttpxTransport``
    to share your own session.
    """
