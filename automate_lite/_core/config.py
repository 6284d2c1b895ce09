"""Client settings shared by every client: argument checks, headers, transports."""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping

from .._version import __version__
from ..errors import UsageError
from .http import DEFAULT_RETRY, Authorizer, RetryPolicy

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


def check_app_name(app_name: object) -> str | None:
    """The original SDK's ``app_name=``: a short printable string (it joins the User-Agent)."""
    if app_name is None:
        return None
    if not isinstance(app_name, str) or not app_name.strip() or not app_name.isprintable() or len(app_name) > 200:
        raise UsageError(
            "app_name must be a short printable string naming your application (it is added to the "
            f"User-Agent header), or None; got {app_name!r}"[:300]
        )
    return app_name


#: The keys of the original SDK's ``transport_params`` that automate-lite maps to its settings.
TRANSPORT_PARAM_KEYS = ("http_timeout", "verify_ssl", "max_retries", "max_sleep")


def from_transport_params(
    params: object, http_timeout: object, retry: RetryPolicy
) -> tuple[object, RetryPolicy, bool | None, str | None]:
    """Map the original SDK's ``transport_params`` onto ``(http_timeout, retry, verify, ca_certs)``.

    ``http_timeout`` (seconds; ``-1``: no limit) becomes the client's ``http_timeout``;
    ``max_retries`` and ``max_sleep`` become ``retry.max_attempts`` (retries + 1) and
    ``retry.backoff_max``; ``verify_ssl`` (a bool, or the path of a CA bundle) shapes
    the default transport. Any other key, or a key given twice (here and as the
    client's own argument), is a :class:`UsageError` saying what to pass instead.
    """
    if params is None:
        return http_timeout, retry, None, None
    if not isinstance(params, Mapping):
        raise UsageError(f"transport_params must be a dict with keys among {list(TRANSPORT_PARAM_KEYS)}, got {type(params).__name__}")
    unknown = sorted(str(k) for k in params if k not in TRANSPORT_PARAM_KEYS)
    if unknown:
        raise UsageError(
            f"transport_params key(s) {unknown} are not supported; automate-lite takes {list(TRANSPORT_PARAM_KEYS)} "
            "there. For other retry settings pass retry=automate_lite.RetryPolicy(...); for other network "
            "settings pass transport=automate_lite.transports.Urllib3Transport(...) (or AsyncioTransport)"
        )
    if "http_timeout" in params:
        if http_timeout is not DEFAULT_HTTP_TIMEOUT:
            raise UsageError("http_timeout is given twice (as http_timeout= and in transport_params); pass it once")
        http_timeout = None if params["http_timeout"] == -1 else params["http_timeout"]
        check_timeout(http_timeout, "transport_params['http_timeout']")
    if "max_retries" in params or "max_sleep" in params:
        if retry is not DEFAULT_RETRY:
            raise UsageError(
                "retry= and transport_params max_retries/max_sleep both set the retry policy; pass only "
                "retry=automate_lite.RetryPolicy(max_attempts=retries + 1, backoff_max=max_sleep)"
            )
        attempts, backoff_max = retry.max_attempts, retry.backoff_max
        if "max_retries" in params:
            n = params["max_retries"]
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise UsageError(f"transport_params['max_retries'] must be an int >= 0 (retries after the first try), got {n!r}")
            attempts = n + 1
        if "max_sleep" in params:
            m = params["max_sleep"]
            if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 <= m <= 86400:
                raise UsageError(f"transport_params['max_sleep'] must be seconds >= 0 (the longest wait between retries), got {m!r}")
            backoff_max = float(m)
        retry = RetryPolicy(attempts, retry.backoff_base, backoff_max, retry.retry_after_max, retry.statuses)
    verify: bool | None = None
    ca_certs: str | None = None
    if "verify_ssl" in params:
        v = params["verify_ssl"]
        if isinstance(v, bool):
            verify = v
        elif isinstance(v, str) and os.path.isfile(v):
            verify, ca_certs = True, v
        else:
            raise UsageError(f"transport_params['verify_ssl'] must be True, False or the path of a CA bundle file that exists, got {v!r}")
    return http_timeout, retry, verify, ca_certs


def headers_with(extra: Any, app_name: str | None = None) -> dict[str, str]:
    """The default headers (with ``app_name`` in the User-Agent) plus the caller's ``extra_headers``."""
    headers = dict(DEFAULT_HEADERS)
    if app_name is not None:
        headers["User-Agent"] = f"{USER_AGENT} {app_name}"
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
