"""Globus Action Providers: the operations, once, and the sync and async clients.

:class:`ActionOps` writes every Action Provider route as a sans-IO operation;
:class:`ActionClient` and :class:`AsyncActionClient` share one binding of each, a line
(:mod:`automate_lite._core.bind`), so a method's signature is its operation's. Both
clients are frozen dataclasses: derive a changed one with ``dataclasses.replace``
(or ``client.replace(...)``); it shares the connection pool.
"""

from __future__ import annotations

import sys
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Literal, Mapping

from ._client import DEFAULT_TRANSPORT, AsyncClient, SyncClient, TransportT, settle_transport
from ._core.baseops import BaseOps, ListResponse, listing
from ._core.bind import bound, bound_iter, dress_class
from ._core.checks import check_positive_int, check_query_params, check_str, merge_fields, run_document
from ._core.config import (DEFAULT_HTTP_TIMEOUT, check_app_name, check_authorizer, check_timeout,
                           from_transport_params, headers_with)
from ._core.http import DEFAULT_RETRY, Authorizer, RetryPolicy, Session, check_base_url, encode_json, json_op, path_segment, request_op
from ._core.ops import AsyncTransport, Op, SyncTransport
from ._core.paging import Pager, check_poll_args
from ._core.response import APIResponse
from ._core.watch import OnUpdate, check_on_update, watch_op
from .errors import AutomateAPIError, UsageError

if TYPE_CHECKING:
    from typing_extensions import Self
elif sys.version_info >= (3, 11):
    from typing import Self  # so typing.get_type_hints resolves ``Self`` at run time

__all__ = ["ActionOps", "ActionClient", "AsyncActionClient", "Routes", "ACTION_FINAL_STATES"]

#: ``"legacy"``: ``/run``, ``/{id}/status`` ... (what globus-automate-client used);
#: ``"actions"``: ``/actions``, ``/actions/{id}`` ... (the newer routes).
Routes = Literal["legacy", "actions"]

#: An action in one of these states will not change any more.
ACTION_FINAL_STATES = frozenset({"SUCCEEDED", "FAILED"})

QueryParams = Mapping[str, object]


@dress_class
@dataclass(frozen=True, slots=True)
class ActionOps(BaseOps):
    """Every Action Provider operation, as sans-IO generators.

    Usable directly by anyone who wants to drive the protocol with their own I/O::

        ops = ActionOps(Session("https://actions.example.org/hello"))
        op = ops.status("abc")
        request = next(op)     # Request(GET .../abc/status)
    """

    session: Session
    routes: Routes = "legacy"

    def _action(self, action_id: str, legacy_suffix: str, new_suffix: str = "") -> str:
        seg = path_segment(action_id, "action_id")
        if self.routes == "legacy":
            return f"/{seg}/{legacy_suffix}"
        return f"/actions/{seg}{new_suffix}"

    def introspect(self, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET {action_url}/``: the provider's description (scope, schema, ...)."""
        return json_op(self.session, "GET", "/", query=check_query_params(query_params))

    def run(
        self,
        body: Mapping[str, Any],
        request_id: str | None = None,
        manage_by: Iterable[str] | None = None,
        monitor_by: Iterable[str] | None = None,
        label: str | None = None,
        tags: Iterable[str] | None = None,
        force_path: str | None = None,
        *,
        release_after: str | int | None = None,
        run_managers: Iterable[str] | None = None,
        run_monitors: Iterable[str] | None = None,
        query_params: QueryParams | None = None,
        additional_fields: Mapping[str, Any] | None = None,
    ) -> Op[APIResponse]:
        """``POST {action_url}/run`` (or ``/actions``; ``force_path`` to another path): start an action.

        ``run_managers``/``run_monitors`` are the original's aliases of ``manage_by``/
        ``monitor_by`` (both may be given; the lists are merged). Safe to retry: the
        request always carries a ``request_id`` (a fresh uuid4 when not given), so a
        provider treats a repeat as the same action.
        """
        doc = run_document(
            body, "body", request_id, label, tags,
            ("monitor_by", _merged(monitor_by, run_monitors, "monitor_by", "run_monitors")),
            ("manage_by", _merged(manage_by, run_managers, "manage_by", "run_managers")),
        )
        if release_after is not None:
            if isinstance(release_after, bool) or not isinstance(release_after, (str, int)):
                raise UsageError(f"release_after must be an ISO 8601 duration string or seconds (int), got {release_after!r}")
            doc["release_after"] = release_after
        payload = encode_json(merge_fields(doc, additional_fields), "body")
        query = check_query_params(query_params)
        if force_path:
            check_str(force_path, "force_path")
            if force_path.startswith(("http://", "https://")):
                url = check_base_url(force_path, "force_path")
                op = request_op(self.session, "POST", "", query=query, body=payload, safe_to_retry=True, absolute_url=url)
                return _parsed(op, url)
            path = "/" + force_path.lstrip("/")
        else:
            path = "/run" if self.routes == "legacy" else "/actions"
        op = request_op(self.session, "POST", path, query=query, body=payload, safe_to_retry=True)
        return _parsed(op, self.session.base_url + path)

    def status(self, action_id: str, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET {action_url}/{action_id}/status`` (or ``/actions/{action_id}``)."""
        return json_op(self.session, "GET", self._action(action_id, "status"), query=check_query_params(query_params))

    def get_definition(self, action_id: str, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET {action_url}/runs/{action_id}/definition``: the flow definition a run started with.

        As in the original SDK, for an ``ActionClient`` pointed at the Flows service
        (a flow is an Action Provider at ``/flows/{flow_id}``).
        """
        path = f"/runs/{path_segment(action_id, 'action_id')}/definition"
        return json_op(self.session, "GET", path, query=check_query_params(query_params))

    def cancel(self, action_id: str, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST {action_url}/{action_id}/cancel`` (or ``/actions/{action_id}/cancel``)."""
        # Cancelling twice leaves the action cancelled, so a retry is harmless.
        path = self._action(action_id, "cancel", "/cancel")
        return json_op(self.session, "POST", path, query=check_query_params(query_params), safe_to_retry=True)

    def resume(self, action_id: str, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST {action_url}/{action_id}/resume`` (or ``/actions/{action_id}/resume``)."""
        return json_op(self.session, "POST", self._action(action_id, "resume", "/resume"), query=check_query_params(query_params))

    def release(self, action_id: str, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST {action_url}/{action_id}/release`` (or ``DELETE /actions/{action_id}``)."""
        query = check_query_params(query_params)
        if self.routes == "legacy":
            return json_op(self.session, "POST", self._action(action_id, "release"), query=query)
        return json_op(self.session, "DELETE", self._action(action_id, "", ""), query=query)

    def log(
        self,
        action_id: str,
        limit: int = 10,
        reverse_order: bool = False,
        marker: str | None = None,
        per_page: int | None = None,
        *,
        query_params: QueryParams | None = None,
    ) -> Op[ListResponse]:
        """``GET {action_url}/{action_id}/log`` (or ``/actions/{action_id}/log``): one page (``entries``).

        As the original client did, ``reverse_order`` is sent only when true (some
        providers reverse on any value), ``marker`` goes as ``pagination_token`` on
        the legacy route, and ``per_page`` only when no marker is given.
        """
        check_positive_int(limit, "limit")
        check_positive_int(per_page, "per_page")
        check_str(marker, "marker")
        query: list[tuple[str, object]] = [("limit", limit)]
        if reverse_order:
            query.append(("reverse_order", True))
        if marker is not None:
            query.append(("pagination_token" if self.routes == "legacy" else "marker", marker))
        elif per_page is not None:
            query.append(("per_page", per_page))
        query.extend(check_query_params(query_params))
        return listing(json_op(self.session, "GET", self._action(action_id, "log", "/log"), query=query), "entries")

    def list_actions(
        self,
        statuses: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
        *,
        query_params: QueryParams | None = None,
    ) -> Op[ListResponse]:
        """``GET {action_url}/actions?status=...&roles=...``: actions you can see.

        The provider answers a bare JSON list: ``resp.data`` is that list, and
        iterating ``resp`` yields the actions.
        """
        from ._core.checks import string_list

        query: list[tuple[str, object]] = []
        for name, values, example in (
            ("status", statuses, "['ACTIVE', 'INACTIVE']"),
            ("roles", roles, "['creator_id', 'monitor_by']"),
        ):
            if values is not None:
                items = string_list(values, "statuses" if name == "status" else "roles", example)
                if items:
                    query.append((name, ",".join(items)))
        query.extend(check_query_params(query_params))
        return listing(json_op(self.session, "GET", "/actions", query=query), "actions")

    def iter_log(self, action_id: str, per_page: int = 100, reverse_order: bool = False) -> Pager:
        """Every entry of ``GET {action_url}/{action_id}/log``, ``per_page`` at a time."""
        path_segment(action_id, "action_id")
        check_positive_int(per_page, "per_page")

        def page(marker: str | None) -> Op[ListResponse]:
            return self.log(action_id, limit=per_page, reverse_order=reverse_order, marker=marker)

        return Pager(page, "entries")

    def wait(
        self,
        action_id: str,
        timeout: float | None = 300.0,
        initial_delay: float = 0.25,
        max_delay: float = 10.0,
        stop_on_inactive: bool = True,
        *,
        on_update: OnUpdate | None = None,
    ) -> Op[APIResponse]:
        """Poll ``GET {action_url}/{action_id}/status`` with back-off until SUCCEEDED or FAILED.

        With ``stop_on_inactive`` (the default) an INACTIVE action is returned too: it
        waits for someone (a resume, a consent), so polling on would only burn time.
        ``on_update(kind, data)`` hears each new status and each new log entry (see
        :mod:`automate_lite._core.watch`). Raises :class:`~automate_lite.WaitTimeout`
        after ``timeout`` seconds.
        """
        settings = check_poll_args(timeout, initial_delay, max_delay)
        path_segment(action_id, "action_id")
        check_on_update(on_update)
        stops = ACTION_FINAL_STATES | ({"INACTIVE"} if stop_on_inactive else frozenset())

        def finished(doc: APIResponse) -> bool:
            return doc.get("status") in stops

        return watch_op(
            lambda: self.status(action_id), finished, settings, f"action {action_id!r}", on_update,
            lambda marker: self.log(action_id, limit=100, marker=marker),
        )


def _merged(primary: Iterable[str] | None, alias: Iterable[str] | None, name: str, alias_name: str) -> list[str] | None:
    from ._core.checks import string_list

    merged = None if primary is None else string_list(primary, name)
    if alias is None:
        return merged
    extra = string_list(alias, alias_name)
    return (merged or []) + [p for p in extra if p not in (merged or [])]


def _parsed(op: Op[Any], url: str) -> Op[APIResponse]:
    response = yield from op
    return APIResponse.from_response(response, "POST", url)


def _check_routes(routes: object) -> None:
    if routes not in ("legacy", "actions"):
        raise UsageError(f"routes must be 'legacy' (/run, /{{id}}/status) or 'actions' (/actions/...), got {routes!r}")


@dataclass(frozen=True, slots=True, repr=False)
class _ActionFields(Generic[TransportT]):
    """The fields, checks and ``new_client`` both Action Provider clients share
    (``TransportT`` is the family's transport type)."""

    #: The provider's URL. Not given: ``base_url=`` (the original constructor's
    #: keyword), else the Globus Action Providers' URL for ``GLOBUS_SDK_ENVIRONMENT``.
    action_url: str = ""
    authorizer: Authorizer | None = None
    http_timeout: float | None = DEFAULT_HTTP_TIMEOUT
    routes: Routes = "legacy"
    retry: RetryPolicy = DEFAULT_RETRY
    extra_headers: Mapping[str, str] | None = None
    allow_insecure_http: bool = False
    #: See :attr:`automate_lite.Session.auth_requirements_handler` (set by the login extras).
    auth_requirements_handler: Callable[[AutomateAPIError], bool] | None = field(default=None, compare=False)
    _ops: ActionOps = field(init=False, repr=False, compare=False)
    _cache: dict[str, str] = field(init=False, repr=False, compare=False, default_factory=dict)
    #: A :class:`~automate_lite.SyncTransport` (blocking client) or an
    #: :class:`~automate_lite.AsyncTransport` (async); not given: a new default one.
    transport: TransportT = field(default=DEFAULT_TRANSPORT, compare=False)
    #: As in the original SDK: added to the User-Agent header.
    app_name: str | None = field(default=None, kw_only=True)
    #: The original constructor's keyword for ``action_url`` (accepted, not kept).
    base_url: InitVar[str | None] = field(default=None, kw_only=True)
    #: The original SDK's ``transport_params`` (``http_timeout``, ``verify_ssl``,
    #: ``max_retries``, ``max_sleep``), mapped onto the fields above; not kept.
    transport_params: InitVar[Mapping[str, Any] | None] = field(default=None, kw_only=True)

    def __post_init__(self, base_url: str | None, transport_params: Mapping[str, Any] | None) -> None:
        _check_routes(self.routes)
        if not isinstance(self.retry, RetryPolicy):
            raise UsageError(f"retry must be an automate_lite.RetryPolicy, got {self.retry!r}")
        url = self.action_url
        if base_url is not None:
            if url and url != base_url:
                raise UsageError("pass only one of action_url and base_url (they mean the same: the provider's URL)")
            url = base_url
        if isinstance(url, str) and url == "":
            from ._core.scopes import actions_base_url

            url = actions_base_url()
        timeout, retry, verify, ca_certs = from_transport_params(transport_params, self.http_timeout, self.retry)
        object.__setattr__(self, "retry", retry)
        object.__setattr__(self, "http_timeout", timeout)
        session = Session(
            base_url=check_base_url(url, "action_url" if base_url is None else "base_url"),
            authorizer=check_authorizer(self.authorizer),
            headers=headers_with(self.extra_headers, check_app_name(self.app_name)),
            retry=self.retry,
            allow_insecure_http=bool(self.allow_insecure_http),
            auth_requirements_handler=self.auth_requirements_handler,
        )
        object.__setattr__(self, "action_url", session.base_url)
        object.__setattr__(self, "http_timeout", check_timeout(self.http_timeout))
        object.__setattr__(self, "_ops", ActionOps(session, self.routes))
        settle_transport(self, verify, ca_certs)

    @classmethod
    def new_client(
        cls,
        action_url: str,
        authorizer: Authorizer | None,
        http_timeout: float | None = DEFAULT_HTTP_TIMEOUT,
        *,
        routes: Routes = "legacy",
        transport: TransportT | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        allow_insecure_http: bool = False,
        app_name: str | None = None,
        transport_params: Mapping[str, Any] | None = None,
    ) -> Self:
        """Make a client for the provider at ``action_url`` using ``authorizer``.

        The original SDK's signature; ``transport`` defaults to a new transport of the
        client's family, ``app_name``/``transport_params`` are as in its constructor.
        """
        check_base_url(action_url, "action_url")  # required here, as in the original
        return cls(action_url, authorizer, http_timeout, routes, retry, allow_insecure_http=allow_insecure_http,
                   app_name=app_name, transport_params=transport_params,
                   transport=DEFAULT_TRANSPORT if transport is None else transport)

    def __repr__(self) -> str:
        auth = type(self.authorizer).__name__ if self.authorizer is not None else None
        return f"{type(self).__name__}(action_url={self.action_url!r}, authorizer={auth}, routes={self.routes!r})"

    @property
    def ops(self) -> ActionOps:
        """The sans-IO operations this client runs."""
        return self._ops

    # Every route, bound once for both families (see automate_lite._core.bind).
    introspect = bound(ActionOps.introspect)
    run = bound(ActionOps.run)
    status = bound(ActionOps.status)
    get_definition = bound(ActionOps.get_definition)
    resume = bound(ActionOps.resume)
    cancel = bound(ActionOps.cancel)
    release = bound(ActionOps.release)
    log = bound(ActionOps.log)
    list_actions = bound(ActionOps.list_actions)
    iter_log = bound_iter(ActionOps.iter_log)
    wait = bound(ActionOps.wait)


@dataclass(frozen=True, slots=True, repr=False)
class ActionClient(SyncClient, _ActionFields[SyncTransport]):
    """A client for one Globus Action Provider (blocking I/O).

    Make one with :meth:`new_client` (the original SDK's signature) or the
    constructor. Immutable and thread-safe: share one across threads. ``transport``
    is a :class:`~automate_lite.SyncTransport`; the default is a
    :class:`~automate_lite.transports.Urllib3Transport` of its own.
    """

    @property
    def action_scope(self) -> str:
        """The provider's ``globus_auth_scope`` (``GET {action_url}/`` once, then remembered)."""
        scope = self._cache.get("action_scope")
        if scope is None:
            scope = self._cache["action_scope"] = _scope_of(self.introspect())
        return scope


@dataclass(frozen=True, slots=True, repr=False)
class AsyncActionClient(AsyncClient, _ActionFields[AsyncTransport]):
    """The async twin of :class:`ActionClient`: same methods, awaited.

    The default transport is :class:`~automate_lite.transports.AsyncioTransport`:
    HTTP/1.1 keep-alive over asyncio itself (stdlib only, no threads, at most 32
    connections per host). Pass ``transport=`` an ``AiohttpTransport``/``HttpxTransport``
    to share your own session. Safe to share across tasks.
    """

    async def action_scope(self) -> str:
        """The provider's ``globus_auth_scope`` (``GET {action_url}/`` once, then remembered)."""
        scope = self._cache.get("action_scope")
        if scope is None:
            scope = self._cache["action_scope"] = _scope_of(await self.introspect())
        return scope


def _scope_of(resp: APIResponse) -> str:
    scope = resp.get("globus_auth_scope", "") if isinstance(resp.data, dict) else ""
    return scope if isinstance(scope, str) else ""

