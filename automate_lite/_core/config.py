"""Client settings shared by every client: argument checks, headers, transports."""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping

from .._version import __version__
from ..errors import UsageError
from .http import Authorizer

USER_AGENT = f"automate-lite/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]}"

_FRAMING = frozenset({"content-length", "transfer-encoding", "host", "connection"})

DEFAULT_HEADERS: dict[str, str] = {"Accept": "application/json", "User-Agent": USER_AGENT}


TIMEOUT_VAR = "GLOBUS_SDK_HTTP_TIMEOUT"
VERIFY_VAR = "GLOBUS_SDK_VERIFY_SSL"


class _DefaultTimeout(float):
    """The ``http_timeout`` a caller did not choose: 10 seconds, unless
    ``GLOBUS_SDK_HTTP_TIMEOUT`` says otherwise (read by :func:`check_timeout`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFAULT_HTTP_TIMEOUT"


#: The default ``http_timeout`` of every client: ``$GLOBUS_SDK_HTTP_TIMEOUT`` when it is
#: set (as globus-sdk reads it: seconds, ``-1`` for no limit), else 10 seconds.
DEFAULT_HTTP_TIMEOUT: float = _DefaultTimeout(10.0)


def timeout_from_env(environ: Mapping[str, str] | None = None) -> float | None:
    """``$GLOBUS_SDK_HTTP_TIMEOUT`` in seconds as globus-sdk reads it (unset or empty:
    the default of 10; ``-1``: no limit); a :class:`UsageError` naming it if unusable."""
    raw = (os.environ if environ is None else environ).get(TIMEOUT_VAR)
    if raw is None or not raw.strip():
        return 10.0
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")  # refused just below, with the variable named
    if value == -1:
        return None
    if not 0 < value <= 86400:
        raise UsageError(
            f"the environment variable {TIMEOUT_VAR} must be a number of seconds > 0 and at most 86400, "
            f"or -1 for no limit, got {raw!r}; fix or unset it, or pass http_timeout= to the client"
        )
    return value


def tls_from_env(
    verify: bool | None, ca_certs: str | None, environ: Mapping[str, str] | None = None
) -> tuple[bool | None, str | None]:
    """``(verify, ca_certs)`` for a transport: the caller's when either is given, else
    what ``$GLOBUS_SDK_VERIFY_SSL`` says, as globus-sdk reads it (``true``/``1``/``yes``/
    ``on``: verify every host, loopback too; ``false``/``0``/``no``/``off``: verify none;
    a path to a file: verify every host with that CA bundle). Unset or empty: ``(None,
    None)``, the transports' default (verify all but loopback hosts)."""
    if verify is not None or ca_certs is not None:
        return verify, ca_certs
    raw = (os.environ if environ is None else environ).get(VERIFY_VAR)
    if raw is None or not raw.strip():
        return None, None
    word = raw.strip().lower()
    if word in ("y", "yes", "t", "true", "on", "1"):
        return True, None
    if word in ("n", "no", "f", "false", "off", "0"):
        return False, None
    if os.path.isfile(raw):
        return True, raw
    raise UsageError(
        f"the environment variable {VERIFY_VAR} must be true/false (1/0, yes/no, on/off) or the path of "
        f"a CA bundle file that exists, got {raw!r}; fix or unset it, or pass verify= to the transport"
    )


def check_timeout(value: object, argument: str = "http_timeout") -> float | None:
    """Validate a timeout in seconds (``None``: wait forever); :data:`DEFAULT_HTTP_TIMEOUT`
    becomes ``$GLOBUS_SDK_HTTP_TIMEOUT`` or 10."""
    if value is None:
        return None
    if value is DEFAULT_HTTP_TIMEOUT:
        return timeout_from_env()
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
