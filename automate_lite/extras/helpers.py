"""``create_action_client`` / ``create_flows_client`` (and async twins) and ``logout``.

What the original ``globus-automate-client`` promised of its helpers: tokens loaded from
and stored to the local file system, an interactive login when they are missing, and
another when a service asks for more consent.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Iterable, Sequence, TypeVar
from urllib.parse import urlsplit

from .._client import default_async_transport, default_sync_transport
from .._core.config import DEFAULT_HTTP_TIMEOUT
from .._core.http import Authorizer, RetryPolicy
from .._core.ops import AsyncTransport, Op, SyncTransport, run_async, run_sync
from .._core.values import Call
from .._core.scopes import ALL_FLOW_SCOPES, flow_scope
from ..actions import ActionClient, AsyncActionClient, Routes
from ..errors import AutomateAPIError, UsageError
from ..flows import AsyncFlowsClient, AuthorizerCallback, FlowsClient
from .login import DEFAULT_CLIENT_ID, LoginManager, LoginMode
from .storage import TokenFile

__all__ = [
    "create_action_client",
    "create_async_action_client",
    "create_flows_client",
    "create_async_flows_client",
    "logout",
]

TokenFileArg = str | os.PathLike[str] | TokenFile | None


def _manager(
    manager: LoginManager | None,
    client_id: str | None,
    login: LoginMode | bool | None,
    token_file: TokenFileArg,
    auth_base_url: str | None,
) -> LoginManager:
    if manager is not None:
        if not isinstance(manager, LoginManager):
            raise UsageError(f"manager must be an automate_lite.extras.LoginManager, got {type(manager).__name__}")
        return manager
    return LoginManager(client_id, token_file=token_file, login=login, auth_base_url=auth_base_url)


def _scope_from(doc: Any, action_url: str) -> str:
    scope = doc.get("globus_auth_scope") if isinstance(getattr(doc, "data", None), dict) else None
    if not isinstance(scope, str) or not scope:
        raise UsageError(
            f"the Action Provider at {action_url} does not publish its scope (globus_auth_scope); "
            "pass action_scope="
        )
    return scope


def _introspection_failed(action_url: str, exc: AutomateAPIError) -> UsageError:
    return UsageError(
        f"could not find the scope of the Action Provider at {action_url}: introspecting it "
        f"(GET {action_url}/) answered {exc.http_status} {exc.code}; pass action_scope="
    )


_C = TypeVar("_C", ActionClient, AsyncActionClient)


def _with_tokens(probe: _C, action_scope: str | None, manager: Callable[[], LoginManager]) -> Op[_C]:
    """What both ``create_*action_client`` do, once, as an operation: get the login
    manager (may read the token file), the provider's scope unless given (introspection,
    no token), tokens for it (may log in), then the client. The blocking steps are
    ``Call``s, so the async driver runs them in a worker thread."""
    mgr: LoginManager = yield Call(manager)
    if action_scope is None:
        try:
            action_scope = _scope_from((yield from probe.ops.introspect()), probe.action_url)
        except AutomateAPIError as e:
            raise _introspection_failed(probe.action_url, e) from e
    scope = action_scope
    yield Call(lambda: mgr.ensure([scope]))
    client = probe.replace(
        authorizer=mgr.authorizer(scope), auth_requirements_handler=mgr.auth_requirements_handler([scope])
    )
    client._cache["action_scope"] = scope
    return client


def create_action_client(
    action_url: str,
    action_scope: str | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    *,
    http_timeout: float | None = DEFAULT_HTTP_TIMEOUT,
    login: LoginMode | bool | None = None,
    token_file: TokenFileArg = None,
    auth_base_url: str | None = None,
    manager: LoginManager | None = None,
    routes: Routes = "legacy",
    transport: SyncTransport | None = None,
    retry: RetryPolicy = RetryPolicy(),
    allow_insecure_http: bool = False,
) -> ActionClient:
    """An :class:`~automate_lite.ActionClient` for ``action_url`` using stored tokens.

    Without ``action_scope`` the provider is introspected (``GET {action_url}/``, no
    token) for its ``globus_auth_scope``. Tokens for the scope come from the token file,
    or one interactive login now (``login=`` and the other arguments: see
    :class:`LoginManager`; pass ``manager=`` to share one). The client refreshes and
    writes back tokens, and logs in again when the provider asks for more consent.
    """
    probe = ActionClient.new_client(action_url, None, http_timeout, routes=routes, retry=retry,
                                    allow_insecure_http=allow_insecure_http, transport=transport)
    op = _with_tokens(probe, action_scope, lambda: _manager(manager, client_id, login, token_file, auth_base_url))
    return run_sync(op, probe.transport, probe.http_timeout)


async def create_async_action_client(
    action_url: str,
    action_scope: str | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    *,
    http_timeout: float | None = DEFAULT_HTTP_TIMEOUT,
    login: LoginMode | bool | None = None,
    token_file: TokenFileArg = None,
    auth_base_url: str | None = None,
    manager: LoginManager | None = None,
    routes: Routes = "legacy",
    transport: AsyncTransport | None = None,
    retry: RetryPolicy = RetryPolicy(),
    allow_insecure_http: bool = False,
) -> AsyncActionClient:
    """The async twin of :func:`create_action_client` (``await`` it).

    The event loop is never blocked: reading the token file and any login run in a
    worker thread, introspection on the async client.
    """
    probe = AsyncActionClient.new_client(action_url, None, http_timeout, routes=routes, retry=retry,
                                         allow_insecure_http=allow_insecure_http, transport=transport)
    op = _with_tokens(probe, action_scope, lambda: _manager(manager, client_id, login, token_file, auth_base_url))
    return await run_async(op, probe.transport, probe.http_timeout)


# A flow's own token serves its run routes and the legacy per-run routes.
_FLOW_ROUTE = re.compile(
    r"/flows/([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"
    r"/(?:run(?:/dry-run)?|validate_run|[^/]+/(?:status|log|cancel|release|resume))/?$"
)


def _service_scopes(scope: str | Iterable[str] | None) -> list[str]:
    if scope is None:
        return list(ALL_FLOW_SCOPES)
    items = [scope] if isinstance(scope, str) else list(scope)
    if not items or not all(isinstance(s, str) and s for s in items):
        raise UsageError(f"scope must be a Flows service scope string or a list of them, got {scope!r}")
    return items


def _scopes_for(service_scopes: Sequence[str]) -> Callable[[AutomateAPIError], list[str]]:
    """For a requirements error naming no scope: the flow's scope on a flow's own routes,
    else the service scopes."""

    def scopes(error: AutomateAPIError) -> list[str]:
        match = _FLOW_ROUTE.search(urlsplit(error.url or "").path)
        return [flow_scope(match.group(1))] if match else list(service_scopes)

    return scopes


def _flows_parts(
    mgr: LoginManager, scope: str | Iterable[str] | None, authorizer: Authorizer | None,
    authorizer_callback: AuthorizerCallback | None,
) -> tuple[list[str], Authorizer | None, AuthorizerCallback]:
    scopes = _service_scopes(scope)
    if authorizer is None:
        mgr.ensure(scopes, together=True)
        authorizer = mgr.authorizer(scopes[0])
    return scopes, authorizer, authorizer_callback or mgr.flow_authorizer_callback()


def create_flows_client(
    client_id: str = DEFAULT_CLIENT_ID,
    base_url: str | None = None,
    scope: str | Iterable[str] | None = None,
    *,
    authorizer: Authorizer | None = None,
    authorizer_callback: AuthorizerCallback | None = None,
    http_timeout: float | None = DEFAULT_HTTP_TIMEOUT,
    login: LoginMode | bool | None = None,
    token_file: TokenFileArg = None,
    auth_base_url: str | None = None,
    manager: LoginManager | None = None,
    transport: SyncTransport | None = None,
    retry: RetryPolicy = RetryPolicy(),
    allow_insecure_http: bool = False,
) -> FlowsClient:
    """A :class:`~automate_lite.FlowsClient` using stored tokens.

    ``scope``: the service scope(s) to hold (default: all four Flows scopes, obtained in
    one login so they share one token). Unless ``authorizer`` is given, their token comes
    from the file or one login now. Unless ``authorizer_callback`` is given, each flow's
    own token is fetched (logging in for it the first time) when the flow is first run.
    Consent and session-policy errors trigger one login and one retry.
    """
    mgr = _manager(manager, client_id, login, token_file, auth_base_url)
    scopes, auth, callback = _flows_parts(mgr, scope, authorizer, authorizer_callback)
    return FlowsClient(
        client_id, callback, auth, base_url, http_timeout, retry=retry, allow_insecure_http=allow_insecure_http,
        auth_requirements_handler=mgr.auth_requirements_handler(_scopes_for(scopes)),
        transport=transport if transport is not None else default_sync_transport(),
    )


async def create_async_flows_client(
    client_id: str = DEFAULT_CLIENT_ID,
    base_url: str | None = None,
    scope: str | Iterable[str] | None = None,
    *,
    authorizer: Authorizer | None = None,
    authorizer_callback: AuthorizerCallback | None = None,
    http_timeout: float | None = DEFAULT_HTTP_TIMEOUT,
    login: LoginMode | bool | None = None,
    token_file: TokenFileArg = None,
    auth_base_url: str | None = None,
    manager: LoginManager | None = None,
    transport: AsyncTransport | None = None,
    retry: RetryPolicy = RetryPolicy(),
    allow_insecure_http: bool = False,
) -> AsyncFlowsClient:
    """The async twin of :func:`create_flows_client` (``await`` it); file reads and any
    login run in a worker thread."""
    import asyncio

    mgr = await asyncio.to_thread(_manager, manager, client_id, login, token_file, auth_base_url)
    scopes, auth, callback = await asyncio.to_thread(_flows_parts, mgr, scope, authorizer, authorizer_callback)
    return AsyncFlowsClient(
        client_id, callback, auth, base_url, http_timeout, retry=retry, allow_insecure_http=allow_insecure_http,
        auth_requirements_handler=mgr.auth_requirements_handler(_scopes_for(scopes)),
        transport=transport if transport is not None else default_async_transport(),
    )


def logout(
    scopes: Iterable[str] | None = None,
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    token_file: TokenFileArg = None,
    auth_base_url: str | None = None,
    environment: str | None = None,
    manager: LoginManager | None = None,
) -> list[str]:
    """Revoke the stored tokens (``POST /v2/oauth2/token/revoke``) and remove them from
    the token file: those of ``scopes``, or every one of the current environment.

    Returns the scopes removed. The original client's file is never modified (its tokens,
    once imported, are revoked too).
    """
    if manager is None:
        manager = LoginManager(client_id, token_file=token_file, login="never", auth_base_url=auth_base_url,
                               environment=environment)
    return manager.logout(scopes)
