"""Token responses into token-file entries: what a login or a refresh grants, and who.

Split from :mod:`.login` (which decides when to log in or refresh); this module only
turns globus-sdk's token responses into :class:`~.storage.StoredToken` entries,
holding every token in a :class:`Secret` so no frame's locals show one.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any, Sequence

from .errors import LoginFailed
from .storage import StoredToken, TokenFile, base_scope

__all__ = ["IDENTITY_SCOPES", "Secret", "forget_refresh_token", "identity_from_id_token", "store_login",
           "store_refresh"]

log = logging.getLogger("automate_lite.extras")

#: Asked on every login: the id_token it adds names who logged in (``whoami``).
IDENTITY_SCOPES = ("openid",)


class Secret:
    """A token, or a token response, held so that ``repr`` hides it: a traceback printer
    that shows local variables (Sentry, rich, ``pytest --showlocals``) then shows no
    token. (globus-sdk's token responses print their whole body in ``repr``.)"""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret, hidden>"


def identity_from_id_token(id_token: Any, client_id: str) -> str | None:
    """The ``sub`` (identity id) of an OpenID Connect ``id_token``, if it is for ``client_id``.

    The signature is not checked, on purpose: the token comes straight from Globus Auth's
    token endpoint in the TLS response to our own request, which OpenID Connect Core
    §3.1.3.7 accepts in place of a signature check; checking it would mean fetching
    Auth's keys on every login. Its audience must still be this client.
    """
    try:
        payload = str(id_token).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, IndexError, TypeError):
        return None
    if not isinstance(claims, dict):
        return None
    audience = claims.get("aud")
    if client_id not in (audience if isinstance(audience, list) else [audience]):
        log.warning("the login's id_token is for another client; its identity is not recorded")
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


def forget_refresh_token(tokens: TokenFile, environment: str, held: Secret) -> None:
    """Remove every entry holding the refresh token ``held`` (Auth refused it)."""

    def change(contents: Any) -> None:
        entries = contents.environment(environment)
        for scope in [s for s, t in entries.items() if t.refresh_token == held.value]:
            del entries[scope]

    tokens.update(change)

def store_refresh(tokens: TokenFile, environment: str, response: Secret, held: Secret) -> None:
    """Write a refresh's new access tokens into every entry sharing the refresh token ``held``."""
    by_rs = Secret(dict(response.value.by_resource_server))
    del response  # only the hidden copy stays in this frame

    def change(contents: Any) -> None:
        entries: dict[str, StoredToken] = contents.environment(environment)
        for scope, tok in list(entries.items()):
            if tok.refresh_token != held.value:
                continue
            data = by_rs.value.get(tok.resource_server or "") or (
                next(iter(by_rs.value.values())) if len(by_rs.value) == 1 else None
            )
            if data is None:
                continue
            granted = tuple(str(data.get("scope") or "").split()) or tok.granted_scopes
            entries[scope] = StoredToken(
                scope=scope,
                access_token=data["access_token"],
                refresh_token=data.get("refresh_token") or held.value,
                expires_at_seconds=data.get("expires_at_seconds"),
                resource_server=data.get("resource_server") or tok.resource_server,
                granted_scopes=granted,
                dependent_scopes=tok.dependent_scopes,
                token_type=data.get("token_type") or tok.token_type,
                client_id=tok.client_id,
                identity_id=tok.identity_id,  # a refresh brings no id_token; who it is stays
            )

    tokens.update(change)

def store_login(tokens: TokenFile, environment: str, client_id: str, response: Secret,
                requested: Sequence[str]) -> None:
    """Store what a login granted: one entry per scope (base scope as key); raises
    :class:`LoginFailed` naming any requested scope that was not granted."""
    by_rs = Secret(dict(response.value.by_resource_server))
    identity = identity_from_id_token(response.value.get("id_token"), client_id)
    del response  # only the hidden copy stays in this frame
    # The token of the identity scopes (openid) must not count as "the one token".
    services = [rs for rs, d in by_rs.value.items()
                if set(str(d.get("scope") or "").split()) - set(IDENTITY_SCOPES)]

    def change(contents: Any) -> list[str]:
        entries: dict[str, StoredToken] = contents.environment(environment)
        placed: list[tuple[str, str, Any]] = []  # (base scope, resource server, data)
        for rs, data in by_rs.value.items():
            for granted in str(data.get("scope") or "").split():
                placed.append((granted, rs, data))
        granted_bases = {p[0] for p in placed}
        if len(services) == 1:  # one token: it serves every requested scope, however spelt
            rs = services[0]
            data = by_rs.value[rs]
            placed.extend((base_scope(s), rs, data) for s in requested if base_scope(s) not in granted_bases)
        wanted = {base_scope(s) for s in requested}
        for base, rs, data in placed:
            if base in IDENTITY_SCOPES and base not in wanted:
                continue  # asked only for the id_token: not a token anyone asked to keep
            old = entries.get(base)
            deps = list(old.dependent_scopes) if old is not None and old.resource_server in (None, rs) else []
            deps += [s for s in requested if "[" in s and base_scope(s) == base]
            entries[base] = StoredToken(
                scope=base,
                access_token=data["access_token"],
                refresh_token=data.get("refresh_token"),
                expires_at_seconds=data.get("expires_at_seconds"),
                resource_server=rs,
                granted_scopes=tuple(str(data.get("scope") or "").split()),
                dependent_scopes=tuple(dict.fromkeys(deps)),
                token_type=data.get("token_type") or "Bearer",
                client_id=client_id,
                identity_id=identity,
            )
        return [s for s in requested if base_scope(s) not in entries or not entries[base_scope(s)].covers(s)]

    not_granted = tokens.update(change)
    if not_granted:
        raise LoginFailed(f"Globus Auth did not grant: {', '.join(not_granted)}")
