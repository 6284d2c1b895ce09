"""A loopback stand-in for the Globus Flows service (see :mod:`.service`)."""

from __future__ import annotations

from .service import (
    DEFAULT_IDENTITY,
    DEFAULT_SUBSCRIPTION_ID,
    FLOWS_SCOPE_PREFIX,
    Caller,
    FlowsState,
    FlowsStub,
    RunRecord,
    RunScript,
    flow_scope,
    serve_flows,
)

__all__ = [
    "FlowsStub",
    "FlowsState",
    "RunRecord",
    "RunScript",
    "Caller",
    "serve_flows",
    "flow_scope",
    "DEFAULT_IDENTITY",
    "DEFAULT_SUBSCRIPTION_ID",
    "FLOWS_SCOPE_PREFIX",
]
