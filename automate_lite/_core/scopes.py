"""Globus Flows scopes and service URLs by environment."""

from __future__ import annotations

import os
from typing import Mapping

from ..errors import UsageError
from .http import check_base_url, uuid_segment

__all__ = [
    "FLOWS_CLIENT_ID",
    "MANAGE_FLOWS_SCOPE",
    "VIEW_FLOWS_SCOPE",
    "RUN_FLOWS_SCOPE",
    "RUN_STATUS_SCOPE",
    "RUN_MANAGE_SCOPE",
    "ALL_FLOWS_SCOPE",
    "ALL_FLOW_SCOPES",
    "flow_scope",
    "flows_base_url",
    "actions_base_url",
    "ENVIRONMENTS",
]

FLOWS_CLIENT_ID = "eec9b274-0c81-4334-bdc2-54e90e689b9a"
_PREFIX = f"https://auth.globus.org/scopes/{FLOWS_CLIENT_ID}"
MANAGE_FLOWS_SCOPE = f"{_PREFIX}/manage_flows"
VIEW_FLOWS_SCOPE = f"{_PREFIX}/view_flows"
RUN_FLOWS_SCOPE = f"{_PREFIX}/run"
RUN_STATUS_SCOPE = f"{_PREFIX}/run_status"
RUN_MANAGE_SCOPE = f"{_PREFIX}/run_manage"
ALL_FLOWS_SCOPE = f"{_PREFIX}/all"
#: The service scopes a user of every FlowsClient method needs (what the login helpers
#: ask for). The deprecated ``run`` scope is left out, as globus-cli does: running a
#: flow takes the flow's own scope.
ALL_FLOW_SCOPES = (MANAGE_FLOWS_SCOPE, VIEW_FLOWS_SCOPE, RUN_STATUS_SCOPE, RUN_MANAGE_SCOPE)

#: Non-production environments named by ``GLOBUS_SDK_ENVIRONMENT``.
ENVIRONMENTS = ("sandbox", "integration", "test", "preview", "staging")
_PRODUCTION = (None, "", "production", "prod", "default")

FLOWS_PRODUCTION_URL = "https://flows.automate.globus.org"
ACTIONS_PRODUCTION_URL = "https://actions.globus.org"


def flow_scope(flow_id: str) -> str:
    """The scope of a flow's own token, derived from its id (no round trip)."""
    fid = uuid_segment(flow_id, "flow_id")
    return f"https://auth.globus.org/scopes/{fid}/flow_{fid.replace('-', '_')}_user"


def _environment(env: Mapping[str, str]) -> str | None:
    name = env.get("GLOBUS_SDK_ENVIRONMENT")
    if name is not None:
        name = name.strip().lower()
    if name in _PRODUCTION:
        return None
    if name not in ENVIRONMENTS:
        raise UsageError(
            f"GLOBUS_SDK_ENVIRONMENT={env.get('GLOBUS_SDK_ENVIRONMENT')!r} is not a known Globus environment; "
            f"use one of production, {', '.join(ENVIRONMENTS)}, or unset it"
        )
    return name


def flows_base_url(base_url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The Flows service URL: ``base_url``, else ``GLOBUS_SDK_SERVICE_URL_FLOWS``, else
    ``GLOBUS_AUTOMATE_FLOWS_ENDPOINT``, else by ``GLOBUS_SDK_ENVIRONMENT``, else production."""
    if base_url is not None:
        return check_base_url(base_url, "base_url")
    env = os.environ if environ is None else environ
    for var in ("GLOBUS_SDK_SERVICE_URL_FLOWS", "GLOBUS_AUTOMATE_FLOWS_ENDPOINT"):
        value = env.get(var)
        if value:
            return check_base_url(value, var)
    name = _environment(env)
    return FLOWS_PRODUCTION_URL if name is None else f"https://{name}.flows.automate.globus.org"


def actions_base_url(environ: Mapping[str, str] | None = None) -> str:
    """The Globus-run Action Providers' base URL for ``GLOBUS_SDK_ENVIRONMENT``."""
    env = os.environ if environ is None else environ
    name = _environment(env)
    return ACTIONS_PRODUCTION_URL if name is None else f"https://{name}.actions.automate.globus.org"
