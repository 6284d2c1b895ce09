"""Where the token file lives, and how its sections and keys are named (stdlib only).

Kept apart from :mod:`.storage` so that the command line can find the token file
(``automate-lite`` checks whether one exists before it loads the login extra) with one
copy of the rule and none of the file's locking, trust checks or globus-sdk.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

__all__ = ["base_scope", "default_token_path", "environment_name", "legacy_token_path"]

_PRODUCTION = frozenset({"", "production", "prod", "default"})


def base_scope(scope: str) -> str:
    """``"A[B C]"`` -> ``"A"``: the part of a scope string that names the token."""
    return scope.split("[", 1)[0].strip()


def environment_name(environ: Mapping[str, str] | None = None) -> str:
    """``production`` or the ``GLOBUS_SDK_ENVIRONMENT`` name (lower case)."""
    env = os.environ if environ is None else environ
    name = (env.get("GLOBUS_SDK_ENVIRONMENT") or "").strip().lower()
    return "production" if name in _PRODUCTION else name


def default_token_path(environ: Mapping[str, str] | None = None) -> str:
    """Where tokens live unless told otherwise: ``$AUTOMATE_LITE_TOKEN_FILE``, else
    ``$XDG_CONFIG_HOME/automate-lite/tokens.json`` (``~/.config/...`` when unset or
    relative; ``%APPDATA%\\automate-lite\\tokens.json`` on Windows)."""
    env = os.environ if environ is None else environ
    chosen = env.get("AUTOMATE_LITE_TOKEN_FILE")
    if chosen:
        return os.path.abspath(os.path.expanduser(chosen))
    if sys.platform == "win32" and env.get("APPDATA"):
        base = env["APPDATA"]
    else:
        base = env.get("XDG_CONFIG_HOME") or ""
        if not os.path.isabs(base):  # the XDG spec says to ignore a relative value
            base = os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "automate-lite", "tokens.json")


def legacy_token_path() -> str:
    """The original globus-automate-client's token file."""
    return os.path.join(os.path.expanduser("~"), ".globus_automate_tokens.json")
