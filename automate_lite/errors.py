"""Every exception automate-lite raises, in one tree::

    AutomateError                       base of everything below
    ├── AutomateAPIError                the service answered with an HTTP error status
    │   ├── AuthenticationError         401 (missing / expired / wrong token)
    │   ├── PermissionDeniedError       403 (including consent / session requirements)
    │   ├── NotFoundError               404
    │   ├── ConflictError               409 (e.g. a request_id reused with another body)
    │   ├── UnprocessableEntityError    422 (the body did not validate)
    │   ├── RateLimitedError            429
    │   ├── ServerError                 5xx
    │   └── UnexpectedResponseError     a success status whose body is not the JSON expected
    ├── TransportError                  no usable HTTP answer at all
    │   ├── ConnectError                could not connect (nothing was sent)
    │   ├── ConnectionLostError         the connection broke after the request went out
    │   ├── RequestTimeout              a timeout fired
    │   │   ├── ConnectTimeout          ... while connecting (nothing was sent)
    │   │   ├── ReadTimeout             ... while waiting for / reading the answer
    │   │   └── DeadlineExceeded        the call's RetryPolicy(deadline=...) passed (never retried)
    │   └── TLSError                    the TLS handshake or certificate check failed
    ├── WaitTimeout                     ``wait``/``wait_for_run`` ran out of time (also TimeoutError)
    └── UsageError                      the caller passed something wrong (also ValueError)
        └── FlowValidationError         a flow definition failed local validation

:func:`error_from_response` builds an :class:`AutomateAPIError` from a
:class:`~automate_lite.Response` and nothing else; it understands the Action Provider
body ``{"code", "description"}``, the Flows body ``{"error": {"code", "detail"}}``,
``{"detail": ...}``, HTML and empty bodies, and Globus Auth requirement errors
(``ConsentRequired``, ``AuthenticationPolicyRequired``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from ._core.values import Response

__all__ = [
    "AutomateError",
    "AutomateAPIError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitedError",
    "ServerError",
    "UnexpectedResponseError",
    "TransportError",
    "ConnectError",
    "ConnectionLostError",
    "RequestTimeout",
    "DeadlineExceeded",
    "ConnectTimeout",
    "ReadTimeout",
    "TLSError",
    "WaitTimeout",
    "UsageError",
    "FlowValidationError",
    "error_from_response",
]


class AutomateError(Exception):
    """Base class of every exception raised by automate-lite."""

    def __reduce__(self) -> tuple[Any, ...]:
        # BaseException pickles (and copies) as ``cls(*self.args)``, which fails for
        # subclasses whose __init__ takes other arguments (multiprocessing, process
        # pools); rebuild from the attributes instead.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[AutomateError], args: tuple[Any, ...], state: dict[str, Any]) -> AutomateError:
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(state)
    return err


class UsageError(AutomateError, ValueError):
    """An argument was wrong; the message names it and says what it should be.

    Raised before anything is sent.
    """


class FlowValidationError(UsageError):
    """A flow definition failed local validation.

    ``problems`` lists every problem found as ``(json_path, message)`` pairs, in a
    stable order; ``str()`` shows them one per line.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems: list[tuple[str, str]] = list(problems)
        lines = [f"  {path}: {msg}" for path, msg in self.problems]
        n = len(self.problems)
        super().__init__(
            f"the flow definition has {n} problem{'s' if n != 1 else ''}:\n" + "\n".join(lines)
        )


class WaitTimeout(AutomateError, TimeoutError):
    """Waiting for an action or run to finish took longer than the given timeout.

    ``last`` holds the last status document seen (an ``APIResponse``), if any.
    """

    def __init__(self, message: str, last: Any = None) -> None:
        super().__init__(message)
        self.last = last


class TransportError(AutomateError):
    """No usable HTTP answer arrived: the network, TLS or a timeout failed.

    ``method`` and ``url`` say which request failed; ``attempts`` how many times it
    was tried before giving up.
    """

    #: True when the request certainly never reached the server, so it is always safe
    #: to try again.
    not_sent: bool = False

    def __init__(self, message: str, *, method: str = "", url: str = "", attempts: int = 1) -> None:
        super().__init__(message)
        self.reason = message
        self.method = method
        self.url = url
        self.attempts = attempts

    def __str__(self) -> str:
        where = f"{self.method} {self.url}: " if self.method else ""
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"{where}{self.reason}{tries}"


class ConnectError(TransportError):
    """Could not open a connection (refused, unreachable, DNS); nothing was sent."""

    not_sent = True


class ConnectionLostError(TransportError):
    """The connection broke after the request was sent (reset, closed early)."""


class RequestTimeout(TransportError):
    """A timeout fired; the subclass says whether while connecting or reading."""


class ConnectTimeout(RequestTimeout, ConnectError):
    """Connecting took longer than the timeout; nothing was sent."""

    not_sent = True


class ReadTimeout(RequestTimeout):
    """The server did not answer (or finish answering) within the timeout."""


class DeadlineExceeded(RequestTimeout):
    """The call's overall deadline (``RetryPolicy(deadline=...)``) passed before it
    finished: attempts, reads and back-off waits together took too long.

    Never retried (the time is spent). ``deadline`` is the deadline in seconds.
    """

    def __init__(
        self, message: str, *, method: str = "", url: str = "", attempts: int = 1, deadline: float | None = None
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts)
        self.deadline = deadline


class TLSError(TransportError):
    """The TLS handshake or certificate verification failed."""

    not_sent = True


_AUTH_REQUIREMENT_CODES = frozenset({"ConsentRequired", "AuthenticationPolicyRequired"})


class AutomateAPIError(AutomateError):
    """The service answered with an HTTP error status.

    Attributes:
        http_status: the status code.
        code: the service's error code (``"NotFound"``, ``"UNPROCESSABLE_ENTITY"``,
            ``"ConsentRequired"``...), or ``"Error"`` when the body names none.
        messages: human-readable messages found in the body, in order.
        request_id: the service's id for the request (for support), if given.
        raw_json: the parsed body, or ``None`` when it was not JSON.
        text: the body as text.
        method, url: the request that failed.
        authorization_parameters: Globus Auth requirements (``required_scopes``,
            ``session_required_policies``, ...) when the service asks for more consent
            or a new session; else ``None``.
    """

    def __init__(
        self,
        http_status: int,
        code: str,
        messages: Sequence[str],
        *,
        request_id: str | None = None,
        raw_json: Any = None,
        text: str = "",
        headers: Mapping[str, str] | None = None,
        method: str = "",
        url: str = "",
        authorization_parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.messages = list(messages)
        self.request_id = request_id
        self.raw_json = raw_json
        self.text = text
        self.headers: Mapping[str, str] = headers or {}
        self.method = method
        self.url = url
        self.authorization_parameters = (
            dict(authorization_parameters) if authorization_parameters is not None else None
        )
        super().__init__(str(self))

    @property
    def message(self) -> str:
        """All messages joined into one line."""
        return "; ".join(self.messages)

    @property
    def required_scopes(self) -> list[str]:
        """Scopes the service says must be consented to (empty when none)."""
        found: list[str] = []
        if self.authorization_parameters:
            scopes = self.authorization_parameters.get("required_scopes")
            if isinstance(scopes, list):
                found.extend(s for s in scopes if isinstance(s, str))
        body = self.raw_json if isinstance(self.raw_json, dict) else {}
        for holder in (body, body.get("details"), body.get("error")):
            if isinstance(holder, dict):
                scope = holder.get("required_scope")
                if isinstance(scope, str) and scope not in found:
                    found.append(scope)
        return found

    @property
    def is_consent_required(self) -> bool:
        """True when the answer asks the user to consent to more scopes."""
        return self.code == "ConsentRequired" or bool(
            self.authorization_parameters and self.authorization_parameters.get("required_scopes")
        )

    @property
    def is_auth_requirements_error(self) -> bool:
        """True for any Globus Auth requirements error (consent or session policy)."""
        return self.code in _AUTH_REQUIREMENT_CODES or self.authorization_parameters is not None

    def __str__(self) -> str:
        where = f"{self.method} {self.url} -> " if self.method else ""
        msg = self.message or "(no message)"
        rid = f" [request_id={self.request_id}]" if self.request_id else ""
        return f"{where}{self.http_status} {self.code}: {msg}{rid}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(http_status={self.http_status}, code={self.code!r}, messages={self.messages!r})"


class AuthenticationError(AutomateAPIError):
    """401: the token is missing, expired or not accepted."""


class PermissionDeniedError(AutomateAPIError):
    """403: not allowed, or more consent / a new session is required."""


class NotFoundError(AutomateAPIError):
    """404: no such action, flow or run (or not visible to you)."""


class ConflictError(AutomateAPIError):
    """409: the request conflicts with the current state."""


class UnprocessableEntityError(AutomateAPIError):
    """422: the request body did not validate."""


class RateLimitedError(AutomateAPIError):
    """429: too many requests; retried automatically up to the retry limit."""


class ServerError(AutomateAPIError):
    """5xx: the service failed."""


class UnexpectedResponseError(AutomateAPIError):
    """The status said success but the body was not the JSON document expected
    (truncated, HTML, another content type). ``text`` holds what arrived."""


_BY_STATUS: dict[int, type[AutomateAPIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitedError,
}

_MAX_TEXT_IN_MESSAGE = 200


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def _detail_messages(detail: Any) -> list[str]:
    """Messages from a ``detail`` that is a string or a list of ``{loc, msg, type}``."""
    if isinstance(detail, list):
        out: list[str] = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = item.get("loc")
                where = ".".join(str(p) for p in loc) if isinstance(loc, list) else _as_text(loc)
                msg = _as_text(item.get("msg")) or ""
                out.append(f"{where}: {msg}" if where else msg)
            else:
                text = _as_text(item)
                if text:
                    out.append(text)
        return out
    text = _as_text(detail)
    return [text] if text else []


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:100].lower()
    return head.startswith("<!doctype html") or head.startswith("<html") or "<html" in head


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT_IN_MESSAGE else text[: _MAX_TEXT_IN_MESSAGE - 3] + "..."


def error_from_response(response: Response, method: str = "", url: str = "") -> AutomateAPIError:
    """Build the :class:`AutomateAPIError` for an error ``response``.

    A pure function of its arguments: never raises, whatever the body holds.
    """
    status = response.status
    text = response.text
    raw: Any = None
    try:
        raw = json.loads(response.body) if response.body else None
    except (ValueError, RecursionError):
        raw = None

    code: str | None = None
    messages: list[str] = []
    request_id: str | None = None
    auth_params: Mapping[str, Any] | None = None

    if isinstance(raw, dict):
        err = raw.get("error")
        if isinstance(err, dict):  # Flows: {"error": {"code", "detail", "message"?}}
            code = _as_text(err.get("code"))
            messages.extend(_detail_messages(err.get("detail")))
            extra = _as_text(err.get("message"))
            if extra and extra not in messages:
                messages.append(extra)
        elif isinstance(err, str):  # OAuth style: {"error": "...", "error_description": ...}
            code = err
        top_code = raw.get("code")
        if isinstance(top_code, str) and (code is None or top_code in _AUTH_REQUIREMENT_CODES):
            code = top_code
        for key in ("description", "detail", "message", "error_description"):
            if key in raw:
                for msg in _detail_messages(raw[key]):
                    if msg not in messages:
                        messages.append(msg)
        errors = raw.get("errors")
        if isinstance(errors, list):
            for item in errors:
                if isinstance(item, dict):
                    if code is None and isinstance(item.get("code"), str):
                        code = item["code"]
                    for key in ("detail", "message", "description"):
                        item_msg = _as_text(item.get(key))
                        if item_msg and item_msg not in messages:
                            messages.append(item_msg)
                    if isinstance(item.get("authorization_parameters"), dict) and auth_params is None:
                        auth_params = item["authorization_parameters"]
        params = raw.get("authorization_parameters")
        if isinstance(params, dict):
            auth_params = params
            session_msg = _as_text(params.get("session_message"))
            if session_msg and session_msg not in messages:
                messages.append(session_msg)
        for key in ("request_id", "debug_id"):
            rid = raw.get(key)
            if isinstance(rid, str):
                request_id = rid
                break
    elif raw is not None:
        messages.extend(_detail_messages(raw))
    elif text.strip():
        if _looks_like_html(text):
            messages.append(f"the server answered with an HTML page ({len(response.body)} bytes), not JSON")
        else:
            messages.append(_short(text))
    else:
        messages.append("the server answered with an empty body")

    if request_id is None:
        request_id = response.headers.get("x-request-id") or None

    if 300 <= status < 400:
        where = response.headers.get("location") or "(no Location header)"
        messages.insert(
            0,
            f"the server redirected to {where}; redirects are not followed (so a token never goes to "
            "another host): use the final URL",
        )
        code = code or "Redirect"
    if not messages:
        messages.append(f"the server answered {status} without an error message")

    if 300 <= status < 400:
        cls: type[AutomateAPIError] = UnexpectedResponseError
    else:
        cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else AutomateAPIError)
    return cls(
        status,
        code or "Error",
        messages,
        request_id=request_id,
        raw_json=raw,
        text=text,
        headers=response.headers,
        method=method,
        url=url,
        authorization_parameters=auth_params,
    )
