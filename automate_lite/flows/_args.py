"""The argument helpers only the Flows operations need: listing queries, time ranges,
deprecated aliases, and the per-scope memory of ``authorizer_callback``'s answers."""

from __future__ import annotations

import threading
import warnings
from typing import Any, Callable, Iterable, Mapping, Sequence

from .._core.checks import (check_mapping, check_positive_int, check_query_params, check_str, comma, given, shown,
                            string_list)
from .._core.config import check_authorizer
from .._core.http import Authorizer
from .._core.values import MISSING
from ..errors import UsageError

__all__ = ["AuthorizerCallback", "FlowAuthorizers", "alias", "list_query", "time_range", "str_list", "body_list"]

#: ``callback(flow_url=..., flow_scope=..., client_id=...) -> authorizer``
AuthorizerCallback = Callable[..., Any]

#: Keys a caller's ``filters`` may not overwrite (the original SDK popped the same).
_RESERVED = ("filter_role", "filter_roles", "orderby", "marker", "pagination_token", "per_page")


def str_list(value: object, argument: str) -> list[str]:
    """A list of strings; a bare string is one item (the Flows API's lists of roles, ids)."""
    if isinstance(value, str):
        return [value]
    return string_list(value, argument, "['a', 'b']")


def alias(canonical: tuple[str, Any], aliases: Sequence[tuple[str, Any]], empty: Any = None) -> Any:
    """Resolve a deprecated alias: warn, and refuse two spellings at once."""
    name, value = canonical
    chosen = value
    chosen_name = name if (value is not None and value != () and value is not MISSING) else None
    for alias_name, alias_value in aliases:
        if alias_value is None:
            continue
        warnings.warn(f"'{alias_name}' is deprecated; use '{name}' instead", DeprecationWarning, stacklevel=5)
        if chosen_name is not None:
            raise UsageError(f"pass only one of '{chosen_name}' and '{alias_name}' (they mean the same)")
        chosen, chosen_name = alias_value, alias_name
    return chosen if chosen_name is not None else empty


def _orderby(value: object) -> str | None:
    """``orderby`` comma-separated, as the Flows API documents it; a legacy dict too."""
    if not given(value):
        return None
    if isinstance(value, Mapping):
        return ",".join(f"{k} {v}" for k, v in value.items()) or None
    return ",".join(str_list(value, "orderby")) or None


def list_query(
    *,
    marker: str | None = None,
    per_page: int | None = None,
    roles: object = None,
    role: object = None,
    filter_roles: object = None,
    filters: Mapping[str, Any] | None = None,
    orderby: object = None,
    orderings: object = None,
    query_params: Mapping[str, object] | None = None,
    **more: str | None,
) -> list[tuple[str, Any]]:
    """The query of a Flows listing: filters, roles, paging, ordering, then ``query_params``."""
    check_str(marker, "marker")
    check_positive_int(per_page, "per_page")
    check_mapping(filters, "filters")
    extra = check_query_params(query_params)
    query: dict[str, Any] = {}
    if given(role):
        check_str(role, "role")
        query["filter_role"] = role
    roles_value = comma(filter_roles, "filter_roles") or comma(roles, "roles")
    if roles_value:
        query["filter_roles"] = roles_value
    for name, value in more.items():
        if given(value):
            check_str(value, name)
            query[name] = value
    for key, value in (filters or {}).items():
        if key not in _RESERVED:
            query[key] = value if isinstance(value, (str, int, bool)) else comma(value, f"filters[{key!r}]")
    if given(marker):
        query["marker"] = marker
    elif given(per_page):
        query["per_page"] = per_page
    order = _orderby(orderby) or _orderby(orderings)
    if order:
        query["orderby"] = order
    return [*query.items(), *extra]


def time_range(value: object, argument: str) -> str | None:
    """``"DT1,DT2"``, or a ``(start, end)`` pair of strings/datetimes/``None`` (open)."""
    if not given(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        parts = []
        for v in value:
            if v is None:
                parts.append("")
            elif hasattr(v, "isoformat"):
                parts.append(v.isoformat())
            elif isinstance(v, str):
                parts.append(v)
            else:
                raise UsageError(f"{argument} bounds must be ISO 8601 strings, datetimes or None, got {v!r}")
        return ",".join(parts)
    raise UsageError(f"{argument} must be 'START,END' or a (start, end) pair, got {shown(value)}")


#: The example a refused list of tags or keywords shows (identity lists show a URN).
WORDS_EXAMPLE = "['nightly', 'project-x']"


def body_list(value: object, argument: str) -> list[str]:
    """A list in a request body (principals, tags, keywords): checked as ``ActionClient.run``
    checks ``manage_by``, so a bare string is refused on every route alike."""
    words = argument.endswith(("tags", "keywords"))
    return string_list(value, argument, WORDS_EXAMPLE) if words else string_list(value, argument)


def identity_lists(doc: dict[str, Any], pairs: Iterable[tuple[str, object]]) -> None:
    """Put each given list in ``doc`` (``None``/``MISSING`` leave it out)."""
    for name, value in pairs:
        if value is not MISSING and value is not None:
            doc[name] = body_list(value, name)


class FlowAuthorizers:
    """Remembers, per scope, the authorizer ``authorizer_callback`` returned.

    Thread-safe (and so task-safe: the async client calls it from worker threads).
    The callback runs at most once per scope, even when many callers ask at once.
    """

    def __init__(self, callback: AuthorizerCallback | None, client_id: str | None) -> None:
        if callback is not None and not callable(callback):
            raise UsageError(
                "authorizer_callback must be a callable taking flow_url=, flow_scope=, client_id= "
                f"and returning an authorizer; got {type(callback).__name__}"
            )
        self.callback = callback
        self.client_id = client_id
        self._by_scope: dict[str, Authorizer | None] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FlowAuthorizers(scopes={len(self._by_scope)})"

    def cached(self, scope: str) -> tuple[bool, Authorizer | None]:
        """``(True, authorizer)`` if one is remembered for ``scope``, else ``(False, None)``."""
        if scope in self._by_scope:
            return True, self._by_scope[scope]
        return False, None

    def resolve(self, flow_url: str, scope: str) -> Authorizer | None:
        """Call the callback for ``scope`` (once) and remember what it returned."""
        if scope in self._by_scope:
            return self._by_scope[scope]
        with self._lock:
            scope_lock = self._locks.setdefault(scope, threading.Lock())
        with scope_lock:
            if scope not in self._by_scope:
                assert self.callback is not None
                self._by_scope[scope] = check_authorizer(
                    self.callback(flow_url=flow_url, flow_scope=scope, client_id=self.client_id),
                    "the authorizer returned by authorizer_callback",
                )
            return self._by_scope[scope]
