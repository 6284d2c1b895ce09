"""The one HTTP operation every API call is built on: authorize, send, retry, map errors.

Everything here is sans-IO: :func:`request_op` yields instructions (see :mod:`.ops`).
"""

from __future__ import annotations

import json
import logging
import re
from time import monotonic
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence, runtime_checkable
from urllib.parse import quote, urlsplit

from ..errors import AutomateAPIError, DeadlineExceeded, TransportError, UsageError, error_from_response
from .auth import authorization_value
from .ops import Op
from .response import APIResponse
from .values import Call, Request, Response, Sleep

if TYPE_CHECKING:
    from .session import DEFAULT_RETRY, NO_RETRY, RetryPolicy, Session

log = logging.getLogger("automate_lite")
#: One DEBUG record per request sent (see :func:`request_op`); never a header value or body.
request_log = logging.getLogger("automate_lite.http")

__all__ = [
    "MISSING",
    "MissingType",
    "Authorizer",
    "RetryPolicy",
    "Session",
    "DEFAULT_RETRY",
    "NO_RETRY",
    "request_op",
    "json_op",
    "path_segment",
    "encode_query",
    "encode_json",
]


from .values import MISSING, MissingType  # noqa: E402  (defined with the other plain values)


def __getattr__(name: str) -> Any:
    # RetryPolicy and Session are frozen dataclasses: loaded on first use, so that
    # ``import automate_lite`` does not import ``dataclasses``.
    if name in ("RetryPolicy", "Session", "DEFAULT_RETRY", "NO_RETRY"):
        from . import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@runtime_checkable
class Authorizer(Protocol):
    """What automate-lite needs of an authorizer; every ``globus_sdk`` authorizer fits.

    ``get_authorization_header`` returns the full header value (``"Bearer ..."``) or
    ``None``; ``handle_missing_authorization`` is called after a 401 and returns True
    when it obtained a fresh token worth one retry.
    """

    def get_authorization_header(self) -> str | None:
        """The ``Authorization`` header value to send, or ``None`` for none."""
        ...

    def handle_missing_authorization(self) -> bool:
        """React to a 401; True means "I have a new token, try once more"."""
        ...


# Authorizers known to answer from memory, so the async driver may call them inline.
_NON_BLOCKING_AUTHORIZERS = frozenset(
    {
        ("automate_lite._core.auth", "BearerTokenAuthorizer"),
        ("globus_sdk.authorizers.access_token", "AccessTokenAuthorizer"),
        ("globus_sdk.authorizers.basic", "BasicAuthorizer"),
        ("globus_sdk.authorizers.null", "NullAuthorizer"),
    }
)


def _is_blocking(authorizer: object) -> bool:
    cls = type(authorizer)
    declared = getattr(authorizer, "may_block", None)
    if isinstance(declared, bool):
        return declared
    return (cls.__module__, cls.__qualname__) not in _NON_BLOCKING_AUTHORIZERS


_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses."""
    if not host:
        return False
    host = host.lower().strip("[]")
    if host in _LOOPBACK or host.endswith(".localhost"):
        return True
    # 127.0.0.0/8, as an IPv4 literal only: "127.example.org" is somebody's DNS name.
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and p.isascii() and int(p) < 256 for p in parts)


_UNRESERVED_PUNCT = str.maketrans("._~-", "aaaa")


def _plain_http_host(url: str) -> str | None:
    """The host of an ``http://`` URL, as ``urlsplit(url).hostname`` gives it.

    The plain case (``host[:port]``, no user info, no escapes) is read directly;
    anything else goes to ``urlsplit``, so the answer never differs from its."""
    # The transports' own reading (tls-edges, issue 14): the guard judges the host the
    # socket really goes to; an ambiguous authority is a UsageError here too.
    from .urls import split_url

    return split_url(url, "the request URL").host


def check_base_url(url: object, argument: str) -> str:
    """Validate a service URL and return it without a trailing slash."""
    if not isinstance(url, str) or not url:
        raise UsageError(f"{argument} must be a URL string such as 'https://example.org/path', got {url!r}")
    from .urls import split_url  # first: refuses user info (never shown), backslashes, ambiguous hosts

    split_url(url, argument)
    try:
        parts = urlsplit(url)
        parts.port  # raises ValueError on a bad port
    except ValueError as e:
        raise UsageError(
            f"{argument} is not a valid URL ({e}): {url!r}; it must be an http:// or https:// URL "
            "such as 'https://actions.globus.org/hello_world'"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{argument} must be an http:// or https:// URL with a host, such as "
            f"'https://actions.globus.org/hello_world'; got {url!r}"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"{argument} must not have a query string or fragment: {url!r}")
    if any(c.isspace() for c in url):
        raise UsageError(f"{argument} must not contain white space: {url!r}")
    return url.rstrip("/")


def path_segment(value: object, argument: str) -> str:
    """Percent-encode ``value`` as exactly one URL path segment.

    Any non-empty string is accepted (action ids are chosen by providers); ``"."`` and
    ``".."`` are refused because servers and proxies collapse them.
    """
    if not isinstance(value, str):
        raise UsageError(f"{argument} must be a string, got {type(value).__name__} {value!r}")
    if value in ("", ".", ".."):
        raise UsageError(f"{argument} must be a non-empty id, got {value!r}")
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form
        raise UsageError(f"{argument} must be valid Unicode text (no lone surrogates), got {value!r}") from None


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z").match


def uuid_segment(value: object, argument: str) -> str:
    """Check that ``value`` is a UUID string (flow and run ids are) and return it."""
    import uuid

    if isinstance(value, str) and _CANONICAL_UUID(value):
        return value  # already canonical: the common case, kept cheap
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise UsageError(f"{argument} must be a UUID string, got {type(value).__name__} {value!r}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise UsageError(
            f"{argument} must be a UUID such as '3b6b1e9a-6b6f-4e3c-9c62-2a7f4d1c0e11', got {value!r}"
        ) from None


def _query_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise UsageError(f"query parameter {key!r} must be a string, number or boolean, got {value!r}")


def encode_query(params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> str:
    """Encode query parameters; ``None``/``MISSING`` values are left out.

    A list or tuple value repeats the key (``orderby=a&orderby=b``); join it with
    commas beforehand where the service wants one comma-separated value.
    """
    if not params:
        return ""
    items = params.items() if isinstance(params, Mapping) else params
    out: list[str] = []
    for key, value in items:
        if value is None or value is MISSING:
            continue
        values = value if isinstance(value, (list, tuple)) else (value,)
        try:
            k = quote(str(key), safe="")
            for v in values:
                out.append(f"{k}={quote(_query_value(key, v), safe=',')}")
        except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form
            raise UsageError(f"query parameter {key!r} must be valid Unicode text (no lone surrogates)") from None
    return "&".join(out)


def encode_json(body: Any, argument: str = "body") -> bytes:
    """Serialize ``body`` as compact UTF-8 JSON; a clear error if it cannot be."""
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as e:
        raise UsageError(
            f"{argument} must be JSON-serialisable (dicts, lists, str, int, float, bool, None; "
            f"no NaN/Infinity): {e}"
        ) from None
    except RecursionError:
        raise UsageError(f"{argument} must be JSON-serialisable, but it is nested too deeply (or refers to itself)") from None


def _clock() -> float:
    import time  # only with DEBUG logging on

    return time.perf_counter()


def loggable_url(url: str) -> str:
    """``url`` with each query value replaced by ``...``: a value may be a secret (a
    marker, a filter), the names are not."""
    base, sep, query = url.partition("?")
    if not sep:
        return url
    return base + "?" + "&".join(part.partition("=")[0] + "=..." for part in query.split("&"))


def _log_request(method: str, url: str, outcome: object, started: float, request_id: str | None, attempt: int) -> None:
    elapsed_ms = (_clock() - started) * 1000
    shown = loggable_url(url)
    request_log.debug(
        "%s %s -> %s in %.1f ms (request id %s, attempt %d)",
        method, shown, outcome, elapsed_ms, request_id or "-", attempt,
        # The same facts as fields, for structured log handlers.
        extra={"http_method": method, "http_url": shown, "http_status": outcome if isinstance(outcome, int) else None,
               "elapsed_ms": elapsed_ms, "request_id": request_id, "attempt": attempt},
    )


def request_op(
    session: Session,
    method: str,
    path: str,
    *,
    query: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
    body: bytes | None = None,
    safe_to_retry: bool = False,
    authorizer: Authorizer | None | Any = MISSING,
    absolute_url: str | None = None,
) -> Op[Response]:
    """Send one request with authorization, retries and error mapping.

    ``path`` is appended to ``session.base_url`` (already encoded). ``authorizer``
    overrides the session's for this call. ``safe_to_retry`` marks a POST whose repeat
    cannot do the work twice. Returns the :class:`Response` for a 1xx/2xx status and raises
    :class:`AutomateAPIError` for the others (redirects are never followed: a 3xx is
    an :class:`UnexpectedResponseError` naming where it pointed).
    """
    url = absolute_url if absolute_url is not None else session.base_url + path
    if query:
        qs = encode_query(query)
        if qs:
            url = f"{url}?{qs}"
    auth = session.authorizer if authorizer is MISSING else authorizer
    headers: dict[str, str] = dict(session.headers) if session.headers else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    blocking = auth is not None and _is_blocking(auth)
    if blocking:
        get_header = lambda: authorization_value(auth)  # noqa: E731
    if (
        auth is not None
        and (absolute_url is not None or not session._token_ok)
        and not session.allow_insecure_http
        and url[:7].lower() == "http://"
    ):
        host = _plain_http_host(url)
        if not is_loopback_host(host):
            raise UsageError(
                f"refusing to send a bearer token over plain http:// to {host!r}; use https://, "
                "or pass allow_insecure_http=True if this network is trusted"
            )
    retry = session.retry
    # The call's deadline, as a monotonic reading: carried by every Request so the
    # drivers (and the transports) cut their timeouts to what remains.
    seconds = retry.deadline
    deadline = None if seconds is None else monotonic() + seconds
    idempotent = safe_to_retry or method in _IDEMPOTENT
    # Asked once per call, so a client with DEBUG off pays one check and no clock reads.
    debug = request_log.isEnabledFor(logging.DEBUG)
    started = 0.0
    attempt = 0
    auth_retried = False
    requirements_retried = False
    while True:
        attempt += 1
        if auth is not None:
            # An authorizer that answers from memory is called here; one that may
            # block (a refresh over the network) is the driver's to run.
            # The value comes checked, in a str whose repr hides it (tracebacks that
            # print locals show this frame and the driver's).
            value = (yield Call(get_header, True)) if blocking else authorization_value(auth)
            if value:
                headers["Authorization"] = value
            else:
                headers.pop("Authorization", None)
        if debug:
            started = _clock()
        try:
            # A copy: a Request is a frozen value, and a retry after a 401 changes
            # ``headers`` (a transport or a log may still hold the first Request).
            response: Response = yield Request(method, url, dict(headers), body, deadline)
        except TransportError as exc:
            exc.method, exc.url, exc.attempts = method, url, attempt
            if debug:
                _log_request(method, url, f"failed ({type(exc).__name__})", started, None, attempt)
            if deadline is not None and (isinstance(exc, DeadlineExceeded) or monotonic() >= deadline):
                raise _past_deadline(seconds, method, url, attempt, exc.reason) from exc
            if attempt < retry.max_attempts and (idempotent or exc.not_sent):
                delay = retry.backoff(attempt)
                if deadline is not None and monotonic() + delay >= deadline:
                    # The retry could not start in time: fail now rather than wait to fail.
                    raise _past_deadline(seconds, method, url, attempt, exc.reason) from exc
                log.info("%s %s failed (%s); retry %d in %.2fs", method, loggable_url(url), exc.reason, attempt, delay)
                yield Sleep(delay)
                continue
            raise
        status = response.status
        if debug:
            _log_request(method, url, status, started, response.headers.get("x-request-id"), attempt)
        if status < 300:
            return response
        if status == 401 and auth is not None and not auth_retried:
            auth_retried = True
            if (yield Call(auth.handle_missing_authorization, blocking)):
                log.debug("%s %s: 401, retrying once with a new token", method, loggable_url(url))
                attempt -= 1  # an auth refresh is not a failed attempt
                continue
        late = False  # a retry was due but could not start before the deadline
        if status in retry.statuses and attempt < retry.max_attempts and (idempotent or status == 429):
            wait = retry.retry_after(response)
            pause = retry.backoff(attempt) if wait is None else wait
            if deadline is None or monotonic() + pause < deadline:
                log.info("%s %s answered %d; retry %d in %.2fs", method, loggable_url(url), status, attempt, pause)
                yield Sleep(pause)
                continue
            late = True  # the answer itself is raised below, saying why it was not retried
        error: AutomateAPIError = error_from_response(response, method, url)
        handler = session.auth_requirements_handler
        if handler is not None and not requirements_retried and error.is_auth_requirements_error:
            requirements_retried = True
            if (yield Call(lambda: handler(error), True)):
                log.debug("%s %s: auth requirements met; retrying once", method, loggable_url(url))
                attempt -= 1
                continue
        if late:
            error.messages.append(
                f"not retried: the next attempt would start after the call's deadline of {seconds}s "
                "(RetryPolicy(deadline=...))"
            )
        if attempt > 1 or late:
            if attempt > 1:
                error.messages.append(f"gave up after {attempt} attempts")
            error.args = (str(error),)
        raise error


def _past_deadline(seconds: float | None, method: str, url: str, attempt: int, last: str) -> DeadlineExceeded:
    """The error for a call that ran out of its ``RetryPolicy.deadline``."""
    return DeadlineExceeded(
        f"the call did not finish within its deadline of {seconds}s (last: {last}); give the client "
        "retry=RetryPolicy(deadline=...) with more seconds, or None for no deadline, if this service is "
        "expected to be slow",
        method=method,
        url=loggable_url(url),
        attempts=attempt,
        deadline=seconds,
    )


def json_op(
    session: Session,
    method: str,
    path: str,
    *,
    query: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
    json_body: Any = MISSING,
    safe_to_retry: bool = False,
    authorizer: Any = MISSING,
    json_argument: str = "body",
) -> Op[APIResponse]:
    """:func:`request_op` with a JSON body in and an :class:`APIResponse` out."""
    body = None if json_body is MISSING else encode_json(json_body, json_argument)
    response = yield from request_op(
        session, method, path, query=query, body=body, safe_to_retry=safe_to_retry, authorizer=authorizer
    )
    return APIResponse.from_response(response, method, session.base_url + path)
