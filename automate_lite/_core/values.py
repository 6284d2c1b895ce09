"""Plain values that cross the boundary between the sans-IO core and a transport.

Nothing from urllib3, aiohttp or httpx ever travels upward: a transport turns its
library's response into a :class:`Response` and its library's exceptions into
:class:`~automate_lite.errors.TransportError` subclasses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union, final


def _redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() == "authorization" else v) for k, v in headers.items()}


@final
@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request the core wants sent.

    ``headers`` may hold an ``Authorization`` header; it is never shown by ``repr``.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None

    def __repr__(self) -> str:
        size = "None" if self.body is None else f"<{len(self.body)} bytes>"
        return (
            f"Request(method={self.method!r}, url={self.url!r}, "
            f"headers={_redact_headers(self.headers)!r}, body={size})"
        )


@final
@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response, as plain data. Header names are lower case."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    def __repr__(self) -> str:
        return f"Response(status={self.status}, headers=<{len(self.headers)}>, body=<{len(self.body)} bytes>)"

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` if it is not JSON."""
        return json.loads(self.body)


@final
@dataclass(frozen=True, slots=True)
class Sleep:
    """Ask the driver to pause (``time.sleep`` or ``asyncio.sleep``) for ``seconds``."""

    seconds: float


@final
@dataclass(frozen=True, slots=True)
class Call:
    """Ask the driver to call ``fn()`` and send back its result.

    The core uses it for authorizer methods, which may do network I/O (a refresh).
    ``blocking=True`` tells the async driver to run ``fn`` in a worker thread so the
    event loop never blocks; ``False`` means it is cheap and may run inline.
    """

    fn: Callable[[], Any] = field(repr=False)
    blocking: bool = True


Instruction = Union[Request, Sleep, Call]
