"""Authorizers that ship with automate-lite (any object with the same two methods works)."""

from __future__ import annotations

from ..errors import UsageError

__all__ = ["BearerTokenAuthorizer"]


class BearerTokenAuthorizer:
    """Sends one fixed access token as ``Authorization: Bearer <token>``.

    The stand-in for ``globus_sdk.AccessTokenAuthorizer`` when globus-sdk is not
    installed. The token never appears in ``repr``/``str``.
    """

    __slots__ = ("_token",)

    #: Answers from memory: the async driver may call it on the event loop thread.
    may_block = False

    def __init__(self, access_token: str) -> None:
        if not isinstance(access_token, str) or not access_token.strip():
            raise UsageError("access_token must be a non-empty string (a Globus access token)")
        if any(c in access_token for c in "\r\n"):
            raise UsageError("access_token must not contain line breaks")
        self._token = access_token.strip()

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
