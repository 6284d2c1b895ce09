"""What every ops class has: the request escape hatch, and listing responses.

:class:`BaseOps` gives ``request``/``get``/``post``/``put``/``patch``/``delete``
operations for routes automate-lite does not wrap (registered APIs, new endpoints),
with the same authorization, retries, error mapping and token guard as the wrapped
ones. :class:`ListResponse` is what listing operations return: iterating it yields
the page's items (``for flow in client.list_flows(): ...``), as in globus-sdk.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

from ..errors import UsageError
from .checks import check_query_params
from .http import Session, check_base_url, encode_json, request_op
from .ops import Op
from .response import APIResponse

__all__ = ["BaseOps", "ListResponse", "listing"]

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class ListResponse(APIResponse):
    """A page of a listing: a mapping of the document, iterating the page's items.

    ``resp["marker"]``, ``resp.get("has_next_page")``, ``resp.keys()``, ``dict(resp)``
    read the document as for any :class:`APIResponse`; ``for item in resp`` and
    ``len(resp)`` are the items under :attr:`items_key` (a bare JSON list is its own
    items).
    """

    __slots__ = ("items_key",)

    def __init__(self, page: APIResponse, items_key: str) -> None:
        super().__init__(page.data, page.http_status, page.headers, page._body)
        self.items_key = items_key

    def _items(self) -> list[Any]:
        data = self.data
        if isinstance(data, list):
            return data
        found = data.get(self.items_key) if isinstance(data, dict) else None
        return found if isinstance(found, list) else []

    # Iterating a page yields its items, as globus-sdk's paged responses do; the
    # Mapping views below keep reading the document's keys.
    def __iter__(self) -> Iterator[Any]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def keys(self) -> Any:
        """The document's keys (``iter(resp)`` gives the items instead)."""
        return self._mapping().keys()

    def items(self) -> Any:
        """The document's ``(key, value)`` pairs."""
        return self._mapping().items()

    def values(self) -> Any:
        """The document's values."""
        return self._mapping().values()


def listing(op: Op[APIResponse], items_key: str) -> Op[ListResponse]:
    """``op``'s page, as a :class:`ListResponse` iterating ``items_key``."""
    page = yield from op
    return ListResponse(page, items_key)


class BaseOps:
    """The escape hatch every client has; subclasses set ``session``."""

    __slots__ = ()
    session: Session

    def request(
        self,
        method: str,
        path: str,
        *,
        query_params: Mapping[str, object] | None = None,
        data: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> Op[APIResponse]:
        """``{method} {base_url}{path}``: any route, with this client's token, retries and errors.

        ``path`` is appended to the client's base URL (or is an absolute ``https://``
        URL); ``data`` is sent as JSON (``bytes`` as they are; ``None``: no body);
        ``headers`` are added to the client's. A POST or PATCH is not retried once it
        may have reached the server.
        """
        if not isinstance(method, str) or method.upper() not in _METHODS:
            raise UsageError(f"method must be one of {', '.join(sorted(_METHODS))}, got {method!r}")
        method = method.upper()
        if not isinstance(path, str) or not path:
            raise UsageError(f"path must be a string such as '/flows', got {path!r}")
        query: Sequence[tuple[str, object]] = check_query_params(query_params)
        session = self.session
        if headers:
            if not isinstance(headers, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
                raise UsageError("headers must be a dict of str names to str values")
            session = Session(
                session.base_url, session.authorizer, {**(session.headers or {}), **headers}, session.retry,
                session.allow_insecure_http, session.auth_requirements_handler,
            )
        body: bytes | None
        if data is None:
            body = None
        elif isinstance(data, bytes):
            body = data
        else:
            body = encode_json(data, "data")
        absolute = None
        if path.startswith(("http://", "https://")):
            absolute = check_base_url(path, "path")
            url = absolute
        else:
            path = "/" + path.lstrip("/")
            url = session.base_url + path
        return _parse(request_op(session, method, path, query=query, body=body, absolute_url=absolute), method, url)

    def get(self, path: str, *, query_params: Mapping[str, object] | None = None,
            headers: Mapping[str, str] | None = None) -> Op[APIResponse]:
        """``GET {base_url}{path}`` (see :meth:`request`)."""
        return self.request("GET", path, query_params=query_params, headers=headers)

    def delete(self, path: str, *, query_params: Mapping[str, object] | None = None,
               headers: Mapping[str, str] | None = None) -> Op[APIResponse]:
        """``DELETE {base_url}{path}`` (see :meth:`request`)."""
        return self.request("DELETE", path, query_params=query_params, headers=headers)

    def post(self, path: str, *, query_params: Mapping[str, object] | None = None, data: object = None,
             headers: Mapping[str, str] | None = None) -> Op[APIResponse]:
        """``POST {base_url}{path}`` with ``data`` as JSON (see :meth:`request`)."""
        return self.request("POST", path, query_params=query_params, data=data, headers=headers)

    def put(self, path: str, *, query_params: Mapping[str, object] | None = None, data: object = None,
            headers: Mapping[str, str] | None = None) -> Op[APIResponse]:
        """``PUT {base_url}{path}`` with ``data`` as JSON (see :meth:`request`)."""
        return self.request("PUT", path, query_params=query_params, data=data, headers=headers)

    def patch(self, path: str, *, query_params: Mapping[str, object] | None = None, data: object = None,
              headers: Mapping[str, str] | None = None) -> Op[APIResponse]:
        """``PATCH {base_url}{path}`` with ``data`` as JSON (see :meth:`request`)."""
        return self.request("PATCH", path, query_params=query_params, data=data, headers=headers)


def _parse(op: Op[Any], method: str, url: str) -> Op[APIResponse]:
    response = yield from op
    return APIResponse.from_response(response, method, url)
