"""Client settings shared by every client: argument checks, headers, transports."""

from __future__ import annotations

import sys
from typing import Any

from .._version import __version__
from ..errors import UsageError
from .http import Authorizer

USER_AGENT = f"automate-lite/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]}"

_FRAMING = frozenset({"content-length", "transfer-encoding", "host", "connection"})

DEFAULT_HEADERS: dict[str, str] = {"Accept": "application/json", "User-Agent": USER_AGENT}


def check_timeout(value: object, argument: str = "http_timeout") -> float | None:
    """Validate a timeout in seconds (``None``: wait forever)."""
    if value is None:
        return None
    # "not 0 < value <= 1 day" also refuses NaN, infinity and values sockets overflow on.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 86400:
        raise UsageError(f"{argument} must be a number of seconds > 0 and at most 86400 (or None for no limit), got {value!r}")
    return float(value)


def check_authorizer(value: object, argument: str = "authorizer") -> Authorizer | None:
    """Accept ``None`` or any object with the two authorizer methods."""
    if value is None:
        return None
    if isinstance(value, str):
        raise UsageError(
            f"{argument} must be an authorizer, not a string; wrap a token with "
            "automate_lite.BearerTokenAuthorizer(token) (or globus_sdk.AccessTokenAuthorizer)"
        )
    if not callable(getattr(value, "get_authorization_header", None)) or not callable(
        getattr(value, "handle_missing_authorization", None)
    ):
        raise UsageError(
            f"{argument} must have get_authorization_header() and handle_missing_authorization() "
            f"(any globus_sdk authorizer, or automate_lite.BearerTokenAuthorizer); got {type(value).__name__}"
        )
    return value  # type: ignore[return-value]


def headers_with(extra: Any) -> dict[str, str]:
    """The default headers plus the caller's ``extra_headers``."""
    headers = dict(DEFAULT_HEADERS)
    if extra:
        if not isinstance(extra, dict):
            raise UsageError(f"extra_headers must be a dict of str to str, got {type(extra).__name__}")
        # Name only what is wrong: the values may hold credentials.
        bad = [f"{k!r}: {type(v).__name__}" for k, v in extra.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise UsageError(f"extra_headers must map str names to str values; these do not: {', '.join(bad)}")
        framing = sorted(k for k in extra if k.lower() in _FRAMING)
        if framing:
            raise UsageError(
                f"extra_headers may not set {', '.join(framing)}: the transport writes the framing "
                "headers itself (Content-Length, Transfer-Encoding, Host, Connection); remove them"
            )
        headers.update(extra)
    return headers
