"""Tokens on disk, interactive Globus login, and the ``create_*_client`` helpers.

Needs the ``login`` extra (``pip install 'automate-lite[login]'``, which brings
globus-sdk); ``import automate_lite`` never imports this package, and importing it does
not import globus-sdk either (that happens on the first login, refresh or revocation)::

    from automate_lite.extras import create_action_client, create_flows_client, logout

    client = create_action_client("https://actions.globus.org/hello_world")
    flows = create_flows_client()
    run = flows.run_flow(flow_id, None, {"echo_string": "hi"})   # logs in for the flow once

See :mod:`.storage` for the token file, :mod:`.login` for the login itself.
"""

from __future__ import annotations

from typing import Any

from .errors import LoginFailed, LoginRequired, TokenFileError
from .helpers import (
    create_action_client,
    create_async_action_client,
    create_async_flows_client,
    create_flows_client,
    logout,
)
from .login import DEFAULT_CLIENT_ID, LoginManager, LoginMode, StoredTokenAuthorizer
from .storage import StoredToken, TokenFile, default_token_path


def __getattr__(name: str) -> Any:
    # It subclasses globus-sdk's TokenStorage, so it imports globus-sdk: only on request.
    if name == "GlobusSDKTokenStorage":
        from .sdk_storage import GlobusSDKTokenStorage

        return GlobusSDKTokenStorage
    raise AttributeError(f"module 'automate_lite.extras' has no attribute {name!r}")


__all__ = [
    "create_action_client",
    "create_async_action_client",
    "create_flows_client",
    "create_async_flows_client",
    "logout",
    "LoginManager",
    "LoginMode",
    "StoredTokenAuthorizer",
    "TokenFile",
    "StoredToken",
    "default_token_path",
    "DEFAULT_CLIENT_ID",
    "LoginRequired",
    "LoginFailed",
    "TokenFileError",
    "GlobusSDKTokenStorage",
]
