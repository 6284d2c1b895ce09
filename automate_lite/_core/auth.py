"""Authorizers that ship with automate-lite (any object with the same two methods works)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import UsageError

__all__ = ["BearerTokenAuthorizer", "SecretStr", "authorization_value"]

# What may go in an Authorization header: visible ASCII and spaces. A line break would
# split the request (http.client then quotes the whole value in its error), and a
# non-ASCII character makes the encoder's exception carry the whole value too.
_UNSENDABLE = re.compile(r"[^\x20-\x7e]").search


class SecretStr(str):
    """A ``str`` that does not show itself in ``repr``: the ``Authorization`` value on
    the request path, so containers holding it (a headers dict, a ``Request``) and
    tracebacks that print local variables (``pytest --showlocals``, rich, Sentry) show
    ``'***'``. It is sent, compared and encoded as the string it is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


def authorization_value(authorizer: Any) -> SecretStr | None:
    """``authorizer.get_authorization_header()``, checked and held in a
    :class:`SecretStr`; ``None`` for no header. A :class:`UsageError` naming the
    authorizer, never showing the value, if it cannot be sent as a header."""
    value = authorizer.get_authorization_header()
    if value is None or value == "":
        return None
    # Rebound before anything can raise: this frame's locals are in the traceback.
    if not isinstance(value, str):
        value = type(value).__name__
        raise UsageError(
            f"the authorizer {type(authorizer).__qualname__} returned a {value} from get_authorization_header(); "
            "it must return a str such as 'Bearer <token>' (or None for no header)"
        )
    value = SecretStr(value)
    if _UNSENDABLE(value):
        raise UsageError(
            f"the authorizer {type(authorizer).__qualname__} returned an Authorization header holding a line "
            "break, another control character or a non-ASCII character (the value is not shown: it holds a "
            "token); check where its token comes from (a token file or variable read with its trailing newline?)"
        )
    return value


class BearerTokenAuthorizer:
    """Sends one fixed access token as ``Authorization: Bearer <token>``.

    The stand-in for ``globus_sdk.AccessTokenAuthorizer`` when globus-sdk is not
    installed. The token never appears in ``repr``/``str``.
    """

    __slots__ = ("_token",)

    #: Answers from memory: the async driver may call it on the event loop thread.
    may_block = False

    def __init__(self, access_token: str) -> None:
        # The argument is dropped before any check can raise: this frame's locals are in
        # the traceback (pytest --showlocals, Sentry); ``token`` hides itself.
        token = SecretStr(access_token) if isinstance(access_token, str) else None
        del access_token
        if token is None or not token.strip():
            raise UsageError("access_token must be a non-empty string (a Globus access token)")
        if _UNSENDABLE(token):
            raise UsageError(
                "access_token must not contain line breaks, other control characters or non-ASCII "
                "characters (the token is not shown)"
            )
        self._token = str(token.strip())

    @property
    def access_token(self) -> str:
        """The token itself."""
        return self._token

    def get_authorization_header(self) -> str:
        """``"Bearer <token>"``."""
        return "Bearer " + self._token

    def handle_missing_authorization(self) -> bool:
        """A fixed token cannot be renewed: never worth a retry."""
        return False

    def __repr__(self) -> str:
        return "BearerTokenAuthorizer(access_token=***)"
