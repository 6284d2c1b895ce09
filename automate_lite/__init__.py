"""automate-lite: a small, typed SDK for Globus Flows and Globus Action Providers.

Sync and async clients share one sans-IO core. ``import automate_lite`` loads only the
standard library pieces it needs and urllib3; async transports, validation and the
extras are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._core.auth import BearerTokenAuthorizer
from ._core.http import MISSING, Authorizer
from ._core.ops import AsyncTransport, Op, SyncTransport, run_async, run_sync
from ._core.response import APIResponse
from ._core.values import Call, FrozenError, Request, Response, Sleep
from ._version import __version__
from ._core.scopes import (
    ALL_FLOW_SCOPES,
    MANAGE_FLOWS_SCOPE,
    RUN_FLOWS_SCOPE,
    RUN_MANAGE_SCOPE,
    RUN_STATUS_SCOPE,
    VIEW_FLOWS_SCOPE,
    flow_scope,
)
from . import errors
from .errors import *  # noqa: F403  (the error tree; its __all__ joins ours below)

if TYPE_CHECKING:
    from ._core.session import RetryPolicy, Session
    from .actions import ActionClient, ActionOps, AsyncActionClient
    from .flows import AsyncFlowsClient, FlowOps, FlowsClient
    from .definitions.render import to_dot, to_mermaid
    from .definitions.validation import flow_definition_problems, validate_flow_definition


def __getattr__(name: str) -> Any:
    # RetryPolicy, Session and the clients (frozen dataclasses: they import ``dataclasses``) load on first use,
    # so a cold start that only imports the package pays for neither.
    if name in ("RetryPolicy", "Session"):
        from ._core import session

        return getattr(session, name)
    if name in ("ActionClient", "AsyncActionClient", "ActionOps"):
        from . import actions

        return getattr(actions, name)
    if name in ("FlowsClient", "AsyncFlowsClient", "FlowOps"):
        from . import flows

        return getattr(flows, name)
    # Local validation is imported on first use: most programs never call it, and
    # serverless cold starts pay for every module on the import path.
    if name in ("validate_flow_definition", "flow_definition_problems"):
        from .definitions import validation

        return getattr(validation, name)
    if name in ("to_mermaid", "to_dot"):
        from .definitions import render

        return getattr(render, name)
    raise AttributeError(f"module 'automate_lite' has no attribute {name!r}")


__all__ = [
    "__version__",
    "FlowsClient",
    "AsyncFlowsClient",
    "FlowOps",
    "flow_scope",
    "validate_flow_definition",
    "flow_definition_problems",
    "to_mermaid",
    "to_dot",
    "ALL_FLOW_SCOPES",
    "MANAGE_FLOWS_SCOPE",
    "VIEW_FLOWS_SCOPE",
    "RUN_FLOWS_SCOPE",
    "RUN_STATUS_SCOPE",
    "RUN_MANAGE_SCOPE",
    "ActionClient",
    "AsyncActionClient",
    "ActionOps",
    "APIResponse",
    "Authorizer",
    "BearerTokenAuthorizer",
    "MISSING",
    "RetryPolicy",
    "Session",
    "Op",
    "run_sync",
    "run_async",
    "SyncTransport",
    "AsyncTransport",
    "Request",
    "Response",
    "Sleep",
    "Call",
    "FrozenError",
]
__all__ += errors.__all__
