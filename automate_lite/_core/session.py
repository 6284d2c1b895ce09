"""The per-client settings an operation reads: :class:`RetryPolicy` and :class:`Session`.

Frozen, slotted dataclasses (``dataclasses.replace``/``fields`` work; assigning a field
raises ``dataclasses.FrozenInstanceError``). This module is loaded on first use, through
:mod:`automate_lite._core.http` and :mod:`automate_lite`, so that ``import
automate_lite`` itself does not import ``dataclasses`` (building its classes costs a few
milliseconds that serverless cold starts would pay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping

from ..errors import UsageError
from .http import _plain_http_host, is_loopback_host

if TYPE_CHECKING:
    from ..errors import AutomateAPIError
    from .http import Authorizer
    from .values import Response

__all__ = ["RetryPolicy", "Session", "DEFAULT_RETRY", "NO_RETRY"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed requests are retried, and how long one call may take in all.

    Retried: connection failures and timeouts, and the statuses in ``statuses``
    (429, 502, 503, 504). A request that may have reached the server is retried only
    when it is idempotent (GET, PUT, DELETE, or a POST the operation marks safe, such
    as an action run carrying its ``request_id``). The wait before retry *n* (from 1)
    is ``min(backoff_max, backoff_base * 2**(n-1))`` with jitter (a random wait between
    half and all of it), or the server's ``Retry-After`` capped at ``retry_after_max``.

    ``deadline`` (seconds, or ``None`` for none) bounds one call as a whole: every
    attempt, every read and every back-off wait. Each attempt's timeout is cut to what
    remains, a retry that could not start before the deadline is not waited for, and a
    call still running at the deadline fails with
    :class:`~automate_lite.errors.DeadlineExceeded` (never retried).
    """

    max_attempts: int = 4
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    retry_after_max: float = 60.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    deadline: float | None = None

    def __post_init__(self) -> None:
        if type(self.max_attempts) is not int or self.max_attempts < 1:
            raise UsageError(f"RetryPolicy.max_attempts must be an int >= 1, got {self.max_attempts!r}")
        for name in ("backoff_base", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise UsageError(f"RetryPolicy.{name} must be a number >= 0, got {value!r}")
        deadline = self.deadline
        if deadline is not None and (
            isinstance(deadline, bool)
            or not isinstance(deadline, (int, float))
            or not math.isfinite(deadline)
            or deadline <= 0
        ):
            raise UsageError(
                f"RetryPolicy.deadline must be a finite number of seconds > 0, or None for no deadline; "
                f"got {deadline!r}"
            )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        import random  # only on the failure path

        cap = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        # Jitter keeps many clients that failed together from retrying together.
        return random.uniform(cap / 2, cap)

    def retry_after(self, response: Response) -> float | None:
        """The server's ``Retry-After`` in seconds (capped), if it sent a usable one."""
        value = response.headers.get("retry-after")
        if not value:
            return None
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            import email.utils

            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when is None:
                return None
            import datetime as _dt

            if when.tzinfo is None:
                when = when.replace(tzinfo=_dt.timezone.utc)
            seconds = (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds()
        if seconds != seconds:  # NaN
            return None
        return max(0.0, min(seconds, self.retry_after_max))


NO_RETRY = RetryPolicy(max_attempts=1)
#: The default policy (one shared instance, the clients' field default).
DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True, repr=False)
class Session:
    """Everything an operation needs to build requests for one service.

    Immutable; clients hold one and derive new ones with ``dataclasses.replace``.
    """

    base_url: str
    authorizer: Authorizer | None = None
    headers: Mapping[str, str] | None = None
    retry: RetryPolicy = DEFAULT_RETRY
    #: Allow a bearer token over plain http:// to a non-loopback host.
    allow_insecure_http: bool = False
    #: Called (in a worker thread under the async driver) with an
    #: :class:`AutomateAPIError` whose ``is_auth_requirements_error`` is true (consent
    #: or a session policy is required). Returning True means "the requirement is met
    #: now (e.g. after a login); retry once". The login extras install one.
    auth_requirements_handler: Callable[[AutomateAPIError], bool] | None = None
    #: Whether a token may go to base_url, decided once: https, a loopback http host,
    #: or http allowed. request_op checks other URLs (absolute ones) every time.
    _token_ok: bool = field(init=False, compare=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_token_ok",
            self.allow_insecure_http
            or self.base_url[:7].lower() != "http://"
            or is_loopback_host(_plain_http_host(self.base_url)),
        )

    def __repr__(self) -> str:
        auth = type(self.authorizer).__name__ if self.authorizer is not None else None
        return f"Session(base_url={self.base_url!r}, authorizer={auth}, retry={self.retry!r})"
