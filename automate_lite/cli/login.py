"""``automate-lite login|logout|whoami|tokens``: the login extra's token file.

``login`` and ``logout`` talk to Globus Auth through globus-sdk (the ``login`` extra);
``whoami`` and ``tokens`` only read the file. No token is ever printed.
"""

from __future__ import annotations

import importlib.util
import time
from typing import TYPE_CHECKING, Any

from ._context import Context, InputError

if TYPE_CHECKING:
    from ..extras.login import LoginManager

__all__ = ["login", "logout", "whoami", "tokens"]

_EXTRA = "pip install 'automate-lite[login]'"


def _require_extra(what: str) -> None:
    if importlib.util.find_spec("globus_sdk") is None:
        raise InputError(f"'automate-lite {what}' needs the login extra (globus-sdk), which is not installed: "
                         f"{_EXTRA}; or pass --token / set AUTOMATE_LITE_TOKEN instead of logging in")


def _manager(ctx: Context, mode: str = "never") -> LoginManager:
    from ..extras.login import LoginManager

    a = ctx.args
    return LoginManager(getattr(a, "client_id", None), token_file=a.token_file, login=mode,  # type: ignore[arg-type]
                        auth_base_url=a.auth_url)


def login(ctx: Context) -> int:
    """One Globus login (``/v2/oauth2/authorize`` then ``/v2/oauth2/token``) for the scopes."""
    from .._core.scopes import ALL_FLOW_SCOPES, flow_scope

    _require_extra("login")
    a = ctx.args
    scopes = list(a.scopes or ALL_FLOW_SCOPES)
    scopes += [flow_scope(f) for f in a.flow_ids or ()]
    manager = _manager(ctx, a.mode or "auto")
    if a.force:
        manager.login(scopes)
    else:
        manager.ensure(scopes, together=True)
    ctx.out.line(f"logged in; tokens for {len(scopes)} scope(s) stored in {manager.tokens.path}",
                 {"token_file": manager.tokens.path, "scopes": scopes})
    return 0


def logout(ctx: Context) -> int:
    """Revoke (``POST /v2/oauth2/token/revoke``) and forget the stored tokens."""
    _require_extra("logout")
    removed = _manager(ctx).logout(ctx.args.scopes or None)
    ctx.out.line("\n".join(f"logged out of {s}" for s in removed) or "no stored tokens", {"logged_out": removed})
    return 0


def _entries(ctx: Context) -> tuple[LoginManager, dict[str, Any]]:
    manager = _manager(ctx)
    return manager, manager.tokens.entries(manager.environment)


def whoami(ctx: Context) -> int:
    """The identity ids the stored tokens belong to: recorded from each login's ``id_token``
    (read from the file; no request)."""
    manager, entries = _entries(ctx)
    ids = sorted({t.identity_id for t in entries.values() if t.identity_id})
    if not ids:
        raise InputError(f"not logged in (no stored token names an identity in {manager.tokens.path}): "
                         "run automate-lite login")
    ctx.out.line("\n".join(f"urn:globus:auth:identity:{i}" if ":" not in i else i for i in ids),
                 {"identities": ids, "environment": manager.environment})
    return 0


def tokens(ctx: Context) -> int:
    """The stored scopes, their expiry and whether they refresh (never the tokens)."""
    manager, entries = _entries(ctx)
    now = time.time()
    rows = []
    for scope, tok in sorted(entries.items()):
        expires = tok.expires_at_seconds
        rows.append({
            "scope": scope,
            "expires_at": None if expires is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            "expired": tok.expired(now),
            "refreshable": tok.refresh_token is not None,
            "identity_id": tok.identity_id,
        })
    ctx.out.table(rows, ("scope", "expires_at", "expired", "refreshable"))
    return 0
