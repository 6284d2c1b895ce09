"""Tokens on disk, interactive Globus login, and the ``create_*_client`` helpers.

Needs the ``login`` extra (``pip install 'automate-lite[login]'``, which brings
globus-sdk); ``import automate_lite`` never imports this package, and importing it does
not import globus-sdk either (that happens on the first login, refresh or revocation);
each name below is imported on first use::

    from automate_lite.extras import create_action_client, create_flows_client, logout

    client = create_action_client("https://actions.globus.org/hello_world")
    flows = create_flows_client()
    run = flows.run_flow(flow_id, None, {"echo_string": "hi"})   # logs in for the flow once

See :mod:`.storage` for the token file, :mod:`.login` for the login itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._paths import default_token_path
    from .errors import LoginFailed, LoginRequired, TokenFileError
    from .helpers import (
        create_action_client,
        create_async_action_client,
        create_async_flows_client,
        create_flows_client,
        logout,
    )
    from .login import DEFAULT_CLIENT_ID, LoginManager, LoginMode, StoredTokenAuthorizer
    from .sdk_storage import GlobusSDKTokenStorage
    from .storage import StoredToken, TokenFile

# Every name is imported on first use, from the module that defines it: the CLI asks
# for default_token_path and gets the path rule alone (no login code, no file
# locking), and GlobusSDKTokenStorage (which subclasses globus-sdk's TokenStorage, so
# imports globus-sdk) costs nothing until asked for.
_LAZY = {
    "create_action_client": "helpers",
    "create_async_action_client": "helpers",
    "create_flows_client": "helpers",
    "create_async_flows_client": "helpers",
    "logout": "helpers",
    "LoginManager": "login",
    "LoginMode": "login",
    "StoredTokenAuthorizer": "login",
    "DEFAULT_CLIENT_ID": "login",
    "TokenFile": "storage",
    "StoredToken": "storage",
    "default_token_path": "_paths",
    "LoginRequired": "errors",
    "LoginFailed": "errors",
    "TokenFileError": "errors",
    "GlobusSDKTokenStorage": "sdk_storage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automate_lite.extras' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found once; later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
