"""What client methods return: the parsed JSON plus the HTTP facts around it."""

from __future__ import annotations

import json
from typing import Any, Iterator, Mapping

from ..errors import UnexpectedResponseError
from .values import Response

__all__ = ["APIResponse"]

_NOTHING = object()


class APIResponse(Mapping[str, Any]):
    """A service answer, read like the original SDK's responses.

    ``resp["status"]`` and ``resp.get("label")`` read the JSON document, ``resp.data``
    is the whole parsed document (a dict, a list for listings that answer a bare list,
    or ``None`` for an empty body), ``resp.http_status`` and ``resp.headers`` the HTTP
    facts, ``resp.text`` the raw body.
    """

    __slots__ = ("data", "http_status", "headers", "_body")

    def __init__(self, data: Any, http_status: int = 200, headers: Mapping[str, str] | None = None, body: bytes = b"") -> None:
        self.data: Any = data
        self.http_status = http_status
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self._body = body

    @classmethod
    def from_response(cls, response: Response, method: str = "", url: str = "") -> "APIResponse":
        """Parse ``response``; raise :class:`UnexpectedResponseError` if it is not JSON."""
        body = response.body
        if not body:
            return cls(None, response.status, response.headers, body)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            ctype = response.headers.get("content-type", "unknown")
            raise UnexpectedResponseError(
                response.status,
                "UnexpectedResponse",
                [f"expected a JSON body but got {len(body)} bytes of {ctype} that do not parse as JSON"],
                text=response.text,
                headers=response.headers,
                method=method,
                url=url,
            ) from None
        return cls(data, response.status, response.headers, body)

    @property
    def text(self) -> str:
        """The body as text."""
        return self._body.decode("utf-8", "replace")

    def _mapping(self) -> Mapping[str, Any]:
        return self.data if isinstance(self.data, dict) else {}

    def __getitem__(self, key: str) -> Any:
        if isinstance(self.data, dict):
            return self.data[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``data.get(key, default)`` when the document is an object."""
        return self._mapping().get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def __contains__(self, key: object) -> bool:
        return key in self._mapping()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, APIResponse):
            return bool(self.data == other.data and self.http_status == other.http_status)
        return bool(self.data == other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"APIResponse(http_status={self.http_status}, data={self.data!r})"

    def __str__(self) -> str:
        try:
            return json.dumps(self.data, indent=2, sort_keys=True, default=str)
        except RecursionError:
            # Indenting recurses in Python; a document nested about as deeply as the
            # parser allows (possible on 3.12+) is shown compactly instead.
            try:
                return json.dumps(self.data, sort_keys=True, default=str)
            except RecursionError:
                return f"<{type(self.data).__name__} nested too deeply to show; see .text>"
