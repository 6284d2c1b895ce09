"""Globus Action Providers: the operations, once, and the sync and async clients.

:class:`ActionOps` builds every Action Provider operation as a sans-IO generator;
:class:`ActionClient` runs them with the sync driver and :class:`AsyncActionClient`
with the async one. Both clients are immutable: derive a changed one with
``client.replace(...)`` (or ``copy.replace(client, ...)`` on 3.13+); it shares the
connection pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, ClassVar, Generic, Iterable, Iterator, Literal, Mapping, TypeVar

from ._core.config import check_authorizer, check_timeout, headers_with
from ._core.http import (
    DEFAULT_RETRY,
    Authorizer,
    RetryPolicy,
    Session,
    check_base_url,
    encode_json,
    json_op,
    path_segment,
    request_op,
)
from ._core.ops import AsyncDriven, AsyncTransport, Op, SyncDriven, SyncTransport
from ._core.paging import Pager, check_poll_args, poll_op
from ._core.response import APIResponse
from ._core.values import Frozen
from .errors import UsageError

if TYPE_CHECKING:
    from typing_extensions import Self

#: The transport type of a client: SyncTransport or AsyncTransport.
_T = TypeVar("_T")

__all__ = ["ActionOps", "ActionClient", "AsyncActionClient", "Routes", "ACTION_FINAL_STATES"]

#: ``"legacy"``: ``/run``, ``/{id}/status`` ... (what globus-automate-client used);
#: ``"actions"``: ``/actions``, ``/actions/{id}`` ... (the newer routes).
Routes = Literal["legacy", "actions"]

#: An action in one of these states will not change any more.
ACTION_FINAL_STATES = frozenset({"SUCCEEDED", "FAILED"})

_RUN_ALIASES = {"run_managers": "manage_by", "run_monitors": "monitor_by"}


def _string_list(value: Any, argument: str, example: str = "['urn:globus:auth:identity:<uuid>']") -> list[str] | None:
    """``value`` as a list of strings (``None`` stays ``None``); a clear error otherwise."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise UsageError(f"{argument} must be a list of strings such as {example}, got {value!r}")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"{argument} must hold strings such as {example}, found {item!r}")
    return items


def _merge_aliases(primary: Any, name: str, kwargs: dict[str, Any], alias: str) -> list[str] | None:
    merged = _string_list(primary, name)
    extra = _string_list(kwargs.pop(alias, None), alias)
    if extra is None:
        return merged
    return (merged or []) + [p for p in extra if p not in (merged or [])]


class ActionOps(Frozen):
    """Every Action Provider operation, as sans-IO generators.

    Usable directly by anyone who wants to drive the protocol with their own I/O::

        ops = ActionOps(Session("https://actions.example.org/hello"))
        op = ops.status("abc")
        request = next(op)     # Request(GET .../abc/status)
    """

    __slots__ = __match_args__ = ("session", "routes")
    session: Session
    routes: Routes

    def __init__(self, session: Session, routes: Routes = "legacy") -> None:
        self._set("session", session)
        self._set("routes", routes)

    def _action(self, action_id: str, legacy_suffix: str, new_suffix: str = "") -> str:
        seg = path_segment(action_id, "action_id")
        if self.routes == "legacy":
            return f"/{seg}/{legacy_suffix}"
        return f"/actions/{seg}{new_suffix}"

    def introspect(self) -> Op[APIResponse]:
        """``GET {action_url}/``: the provider's description (scope, schema, ...)."""
        return json_op(self.session, "GET", "/")

    def run(
        self,
        body: Mapping[str, Any],
        request_id: str | None = None,
        manage_by: Iterable[str] | None = None,
        monitor_by: Iterable[str] | None = None,
        label: str | None = None,
        force_path: str | None = None,
        tags: Iterable[str] | None = None,
        release_after: str | int | None = None,
        **kwargs: Any,
    ) -> Op[APIResponse]:
        """``POST {action_url}/run`` (or ``/actions``): start an action.

        Safe to retry: the request always carries a ``request_id`` (a fresh uuid4 when
        not given), so a provider treats a repeat as the same action.
        """
        if not isinstance(body, Mapping):
            raise UsageError(f"body must be a dict (the provider's input), got {type(body).__name__}")
        manage = _merge_aliases(manage_by, "manage_by", kwargs, "run_managers")
        monitor = _merge_aliases(monitor_by, "monitor_by", kwargs, "run_monitors")
        if kwargs:
            raise UsageError(
                f"run() got unexpected argument(s) {sorted(kwargs)}; it takes body, request_id, "
                "manage_by/run_managers, monitor_by/run_monitors, label, tags, release_after, force_path"
            )
        import uuid  # imported on first run(), not by `import automate_lite`

        if request_id is None:
            request_id = str(uuid.uuid4())
        elif not isinstance(request_id, (str, uuid.UUID)) or not str(request_id):
            raise UsageError(f"request_id must be a non-empty string, got {request_id!r}")
        if label is not None and not isinstance(label, str):
            raise UsageError(f"label must be a string, got {label!r}")
        tag_list = _string_list(tags, "tags", "['nightly', 'project-x']")
        if release_after is not None and not isinstance(release_after, (str, int)):
            raise UsageError(f"release_after must be an ISO 8601 duration string or seconds (int), got {release_after!r}")
        doc: dict[str, Any] = {"request_id": str(request_id), "body": dict(body)}
        for key, value in (
            ("label", label),
            ("tags", tag_list),
            ("monitor_by", monitor),
            ("manage_by", manage),
            ("release_after", release_after),
        ):
            if value is not None:
                doc[key] = value
        payload = encode_json(doc, "body")
        if force_path:
            if not isinstance(force_path, str):
                raise UsageError(f"force_path must be a string, got {force_path!r}")
            return self._post_to(force_path, payload)
        path = "/run" if self.routes == "legacy" else "/actions"
        return _parsed(request_op(self.session, "POST", path, body=payload, safe_to_retry=True), self.session, path)

    def _post_to(self, force_path: str, payload: bytes) -> Op[APIResponse]:
        if force_path.startswith(("http://", "https://")):
            url = check_base_url(force_path, "force_path")
            op = request_op(self.session, "POST", "", body=payload, safe_to_retry=True, absolute_url=url)
            return _parsed(op, self.session, url)
        path = "/" + force_path.lstrip("/")
        return _parsed(request_op(self.session, "POST", path, body=payload, safe_to_retry=True), self.session, path)

    def status(self, action_id: str) -> Op[APIResponse]:
        """``GET {action_url}/{action_id}/status`` (or ``/actions/{action_id}``)."""
        return json_op(self.session, "GET", self._action(action_id, "status"))

    def cancel(self, action_id: str) -> Op[APIResponse]:
        """``POST {action_url}/{action_id}/cancel`` (or ``/actions/{action_id}/cancel``)."""
        # Cancelling twice leaves the action cancelled, so a retry is harmless.
        return json_op(self.session, "POST", self._action(action_id, "cancel", "/cancel"), safe_to_retry=True)

    def resume(self, action_id: str) -> Op[APIResponse]:
        """``POST {action_url}/{action_id}/resume`` (or ``/actions/{action_id}/resume``)."""
        return json_op(self.session, "POST", self._action(action_id, "resume", "/resume"))

    def release(self, action_id: str) -> Op[APIResponse]:
        """``POST {action_url}/{action_id}/release`` (or ``DELETE /actions/{action_id}``)."""
        if self.routes == "legacy":
            return json_op(self.session, "POST", self._action(action_id, "release"))
        return json_op(self.session, "DELETE", self._action(action_id, "", ""))

    def log(
        self,
        action_id: str,
        limit: int = 10,
        reverse_order: bool = False,
        marker: str | None = None,
        per_page: int | None = None,
    ) -> Op[APIResponse]:
        """``GET {action_url}/{action_id}/log`` (or ``/actions/{action_id}/log``): one page.

        As the original client did, ``reverse_order`` is sent only when true (some
        providers reverse on any value), ``marker`` goes as ``pagination_token`` on
        the legacy route, and ``per_page`` only when no marker is given.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise UsageError(f"limit must be an int >= 1, got {limit!r}")
        if per_page is not None and (isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1):
            raise UsageError(f"per_page must be an int >= 1 or None, got {per_page!r}")
        if marker is not None and not isinstance(marker, str):
            raise UsageError(f"marker must be a string (from a previous page) or None, got {marker!r}")
        query: list[tuple[str, Any]] = [("limit", limit)]
        if reverse_order:
            query.append(("reverse_order", True))
        if marker is not None:
            query.append(("pagination_token" if self.routes == "legacy" else "marker", marker))
        elif per_page is not None:
            query.append(("per_page", per_page))
        return json_op(self.session, "GET", self._action(action_id, "log", "/log"), query=query)

    def list_actions(
        self, statuses: Iterable[str] | None = None, roles: Iterable[str] | None = None
    ) -> Op[APIResponse]:
        """``GET {action_url}/actions?status=...&roles=...``: actions you can see.

        The provider answers a bare JSON list; ``resp.data`` is that list.
        """
        query = []
        for name, values in (("status", statuses), ("roles", roles)):
            example = "['ACTIVE', 'INACTIVE']" if name == "status" else "['creator_id', 'monitor_by']"
            items = _string_list(values, "statuses" if name == "status" else "roles", example)
            if items:
                query.append((name, ",".join(items)))
        return json_op(self.session, "GET", "/actions", query=query)

    def log_pager(self, action_id: str, per_page: int = 100, reverse_order: bool = False) -> Pager:
        """A :class:`Pager` over every log entry of ``action_id``."""
        path_segment(action_id, "action_id")

        def page(marker: str | None) -> Op[APIResponse]:
            return self.log(action_id, limit=per_page, reverse_order=reverse_order, marker=marker)

        return Pager(page, "entries")

    def wait(
        self,
        action_id: str,
        timeout: float | None = 300.0,
        initial_delay: float = 0.25,
        max_delay: float = 10.0,
        stop_on_inactive: bool = True,
    ) -> Op[APIResponse]:
        """Poll ``status`` with back-off until the action is SUCCEEDED or FAILED.

        With ``stop_on_inactive`` (the default) an INACTIVE action is returned too: it
        waits for someone (a resume, a consent), so polling on would only burn time.
        """
        settings = check_poll_args(timeout, initial_delay, max_delay)
        path_segment(action_id, "action_id")
        stops = ACTION_FINAL_STATES | ({"INACTIVE"} if stop_on_inactive else frozenset())

        def finished(doc: APIResponse) -> bool:
            return doc.get("status") in stops

        return poll_op(lambda: self.status(action_id), finished, settings, f"action {action_id!r}")


def _parsed(op: Op[Any], session: Session, path: str) -> Op[APIResponse]:
    response = yield from op
    return APIResponse.from_response(response, "POST", path if "://" in path else session.base_url + path)


def _session(
    action_url: Any, authorizer: Any, retry: Any, extra_headers: Any, allow_insecure_http: bool, handler: Any
) -> Session:
    if not isinstance(retry, RetryPolicy):
        raise UsageError(f"retry must be an automate_lite.RetryPolicy, got {retry!r}")
    return Session(
        base_url=check_base_url(action_url, "action_url"),
        authorizer=check_authorizer(authorizer),
        headers=headers_with(extra_headers),
        retry=retry,
        allow_insecure_http=bool(allow_insecure_http),
        auth_requirements_handler=handler,
    )


def _check_routes(routes: object) -> None:
    if routes not in ("legacy", "actions"):
        raise UsageError(f"routes must be 'legacy' (/run, /{{id}}/status) or 'actions' (/actions/...), got {routes!r}")


class _ActionClientBase(Frozen, Generic[_T]):
    # The constructor's arguments, in order. ``==`` and ``hash`` look at all but
    # ``auth_requirements_handler`` and ``transport``, as the dataclass did.
    __match_args__ = ("action_url", "authorizer", "http_timeout", "routes", "retry", "extra_headers",
                      "allow_insecure_http", "auth_requirements_handler", "transport")
    __slots__ = (*__match_args__, "_ops", "_cache")
    _compare = __match_args__[:7]
    action_url: str
    authorizer: Authorizer | None
    http_timeout: float | None
    routes: Routes
    retry: RetryPolicy
    extra_headers: Mapping[str, str] | None
    allow_insecure_http: bool
    #: See :attr:`automate_lite.Session.auth_requirements_handler` (set by the login extras).
    auth_requirements_handler: Callable[[Any], bool] | None
    transport: _T
    _ops: ActionOps
    _cache: dict[str, Any]
    #: Makes the transport used when none is given (each concrete client has its own).
    _default_transport: ClassVar[Callable[[], Any]]

    def __init__(
        self,
        action_url: str,
        authorizer: Authorizer | None = None,
        http_timeout: float | None = 10.0,
        routes: Routes = "legacy",
        retry: RetryPolicy = DEFAULT_RETRY,
        extra_headers: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
        auth_requirements_handler: Callable[[Any], bool] | None = None,
        transport: _T | None = None,
    ) -> None:
        _check_routes(routes)
        http_timeout = check_timeout(http_timeout)
        session = _session(action_url, authorizer, retry, extra_headers, allow_insecure_http, auth_requirements_handler)
        self._set("action_url", session.base_url)
        self._set("authorizer", authorizer)
        self._set("http_timeout", http_timeout)
        self._set("routes", routes)
        self._set("retry", retry)
        self._set("extra_headers", extra_headers)
        self._set("allow_insecure_http", allow_insecure_http)
        self._set("auth_requirements_handler", auth_requirements_handler)
        self._set("_ops", ActionOps(session, routes))
        self._set("_cache", {})
        self._set("transport", transport if transport is not None else type(self)._default_transport())

    @classmethod
    def new_client(
        cls,
        action_url: str,
        authorizer: Authorizer | None,
        http_timeout: float | None = 10,
        *,
        routes: Routes = "legacy",
        transport: _T | None = None,
        retry: RetryPolicy = RetryPolicy(),
        allow_insecure_http: bool = False,
    ) -> Self:
        """Make a client for the provider at ``action_url`` using ``authorizer``."""
        return cls(
            action_url,
            authorizer,
            http_timeout,
            routes=routes,
            retry=retry,
            allow_insecure_http=allow_insecure_http,
            transport=transport,
        )

    def __repr__(self) -> str:
        auth = type(self.authorizer).__name__ if self.authorizer is not None else None
        return f"{type(self).__name__}(action_url={self.action_url!r}, authorizer={auth}, routes={self.routes!r})"

    def replace(self, /, **changes: Any) -> Self:
        """A new client with ``changes`` to the constructor's arguments, checked again.

        It shares this client's transport (and so its connection pool) unless
        ``transport=`` is among the changes; ``copy.replace(client, ...)`` (3.13+) is
        the same call.
        """
        return self.__replace__(**changes)

    @property
    def ops(self) -> ActionOps:
        """The sans-IO operations this client runs."""
        return self._ops


class ActionClient(SyncDriven, _ActionClientBase[SyncTransport], init=False):
    """A client for one Globus Action Provider (blocking I/O).

    Make one with :meth:`new_client` (the original SDK's signature) or the
    constructor. Immutable and thread-safe: share one across threads. ``transport``
    is a :class:`~automate_lite.SyncTransport`; the default is a
    :class:`~automate_lite.transports.Urllib3Transport` of its own.
    """

    __slots__ = ()

    @property
    def action_scope(self) -> str:
        """The provider's ``globus_auth_scope`` (introspected once, then remembered)."""
        scope = self._cache.get("action_scope")
        if scope is None:
            scope = _scope_of(self.introspect())
            self._cache["action_scope"] = scope
        return str(scope)

    def introspect(self) -> APIResponse:
        """``GET {action_url}/``: the provider's description."""
        return self._run(self._ops.introspect())  # type: ignore[no-any-return]

    def run(
        self,
        body: Mapping[str, Any],
        request_id: str | None = None,
        manage_by: Iterable[str] | None = None,
        monitor_by: Iterable[str] | None = None,
        label: str | None = None,
        force_path: str | None = None,
        tags: Iterable[str] | None = None,
        release_after: str | int | None = None,
        **kwargs: Any,
    ) -> APIResponse:
        """Start an action with input ``body``; returns its status document.

        ``run_managers``/``run_monitors`` are accepted as aliases of ``manage_by``/
        ``monitor_by``. Retried safely: the same ``request_id`` is never two actions.
        """
        return self._run(  # type: ignore[no-any-return]
            self._ops.run(body, request_id, manage_by, monitor_by, label, force_path, tags, release_after, **kwargs)
        )

    def status(self, action_id: str) -> APIResponse:
        """The action's current status document."""
        return self._run(self._ops.status(action_id))  # type: ignore[no-any-return]

    def resume(self, action_id: str) -> APIResponse:
        """Resume an INACTIVE action (after its cause, e.g. a consent, is fixed)."""
        return self._run(self._ops.resume(action_id))  # type: ignore[no-any-return]

    def cancel(self, action_id: str) -> APIResponse:
        """Cancel a running action."""
        return self._run(self._ops.cancel(action_id))  # type: ignore[no-any-return]

    def release(self, action_id: str) -> APIResponse:
        """Forget a finished action on the provider."""
        return self._run(self._ops.release(action_id))  # type: ignore[no-any-return]

    def log(
        self,
        action_id: str,
        limit: int = 10,
        reverse_order: bool = False,
        marker: str | None = None,
        per_page: int | None = None,
    ) -> APIResponse:
        """One page of the action's log; ``resp["entries"]``, ``resp["marker"]``."""
        return self._run(self._ops.log(action_id, limit, reverse_order, marker, per_page))  # type: ignore[no-any-return]

    def iter_log(self, action_id: str, per_page: int = 100, reverse_order: bool = False) -> Iterator[dict[str, Any]]:
        """Every log entry of the action, fetching pages as needed."""
        pager = self._ops.log_pager(action_id, per_page, reverse_order)
        while not pager.done:
            yield from pager.items(self._run(pager.next_page()))

    def list_actions(self, statuses: Iterable[str] | None = None, roles: Iterable[str] | None = None) -> APIResponse:
        """Actions you can see (newer route ``GET /actions``); ``resp.data`` is a list."""
        return self._run(self._ops.list_actions(statuses, roles))  # type: ignore[no-any-return]

    def wait(
        self,
        action_id: str,
        timeout: float | None = 300.0,
        initial_delay: float = 0.25,
        max_delay: float = 10.0,
        stop_on_inactive: bool = True,
    ) -> APIResponse:
        """Poll until the action finishes (or goes INACTIVE); return its last status.

        Raises :class:`~automate_lite.errors.WaitTimeout` after ``timeout`` seconds.
        """
        return self._run(self._ops.wait(action_id, timeout, initial_delay, max_delay, stop_on_inactive))  # type: ignore[no-any-return]



class AsyncActionClient(AsyncDriven, _ActionClientBase[AsyncTransport], init=False):
    """The async twin of :class:`ActionClient`: same methods, awaited.

    The default transport is :class:`~automate_lite.transports.AsyncioTransport`:
    HTTP/1.1 keep-alive over asyncio itself (stdlib only, no threads, at most 32
    connections per host). Pass ``transport=`` an ``AiohttpTransport``/``HttpxTransport``
    to share your own session. Safe to share across tasks.
    """

    __slots__ = ()

    async def action_scope(self) -> str:
        """The provider's ``globus_auth_scope`` (introspected once, then remembered)."""
        scope = self._cache.get("action_scope")
        if scope is None:
            scope = _scope_of(await self.introspect())
            self._cache["action_scope"] = scope
        return str(scope)

    async def introspect(self) -> APIResponse:
        """Async :meth:`ActionClient.introspect`."""
        return await self._run(self._ops.introspect())  # type: ignore[no-any-return]

    async def run(
        self,
        body: Mapping[str, Any],
        request_id: str | None = None,
        manage_by: Iterable[str] | None = None,
        monitor_by: Iterable[str] | None = None,
        label: str | None = None,
        force_path: str | None = None,
        tags: Iterable[str] | None = None,
        release_after: str | int | None = None,
        **kwargs: Any,
    ) -> APIResponse:
        """Async :meth:`ActionClient.run`."""
        return await self._run(  # type: ignore[no-any-return]
            self._ops.run(body, request_id, manage_by, monitor_by, label, force_path, tags, release_after, **kwargs)
        )

    async def status(self, action_id: str) -> APIResponse:
        """Async :meth:`ActionClient.status`."""
        return await self._run(self._ops.status(action_id))  # type: ignore[no-any-return]

    async def resume(self, action_id: str) -> APIResponse:
        """Async :meth:`ActionClient.resume`."""
        return await self._run(self._ops.resume(action_id))  # type: ignore[no-any-return]

    async def cancel(self, action_id: str) -> APIResponse:
        """Async :meth:`ActionClient.cancel`."""
        return await self._run(self._ops.cancel(action_id))  # type: ignore[no-any-return]

    async def release(self, action_id: str) -> APIResponse:
        """Async :meth:`ActionClient.release`."""
        return await self._run(self._ops.release(action_id))  # type: ignore[no-any-return]

    async def log(
        self,
        action_id: str,
        limit: int = 10,
        reverse_order: bool = False,
        marker: str | None = None,
        per_page: int | None = None,
    ) -> APIResponse:
        """Async :meth:`ActionClient.log`."""
        return await self._run(self._ops.log(action_id, limit, reverse_order, marker, per_page))  # type: ignore[no-any-return]

    async def iter_log(
        self, action_id: str, per_page: int = 100, reverse_order: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Async :meth:`ActionClient.iter_log` (``async for entry in ...``)."""
        pager = self._ops.log_pager(action_id, per_page, reverse_order)
        while not pager.done:
            for item in pager.items(await self._run(pager.next_page())):
                yield item

    async def list_actions(
        self, statuses: Iterable[str] | None = None, roles: Iterable[str] | None = None
    ) -> APIResponse:
        """Async :meth:`ActionClient.list_actions`."""
        return await self._run(self._ops.list_actions(statuses, roles))  # type: ignore[no-any-return]

    async def wait(
        self,
        action_id: str,
        timeout: float | None = 300.0,
        initial_delay: float = 0.25,
        max_delay: float = 10.0,
        stop_on_inactive: bool = True,
    ) -> APIResponse:
        """Async :meth:`ActionClient.wait`; many can be awaited at once (``asyncio.gather``)."""
        return await self._run(self._ops.wait(action_id, timeout, initial_delay, max_delay, stop_on_inactive))  # type: ignore[no-any-return]



def _scope_of(resp: APIResponse) -> str:
    scope = resp.get("globus_auth_scope", "") if isinstance(resp.data, dict) else ""
    return scope if isinstance(scope, str) else ""


