"""What every part of :class:`~automate_lite.flows.FlowOps` shares: choosing the token
and sending a request with it."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Union

from .._core.baseops import BaseOps
from .._core.checks import check_mapping, check_query_params, given
from .._core.config import check_authorizer
from .._core.http import Authorizer, Session, encode_json, json_op, uuid_segment
from .._core.ops import Op
from .._core.response import APIResponse
from .._core.scopes import flow_scope as derive_flow_scope
from .._core.values import MISSING, Call, MissingType
from ..errors import UsageError
from ._args import FlowAuthorizers

__all__ = ["FlowBase", "CallAuth", "QueryParams", "Strings"]

#: A per-call token: an authorizer, ``None`` (no token) or not given (the client's).
CallAuth = Union[Authorizer, None, MissingType]
QueryParams = Mapping[str, object]
Strings = Union[str, Iterable[str]]


def check_json_mapping(value: object, argument: str) -> None:
    """A dict that encodes as JSON, or not given."""
    check_mapping(value, argument)
    if given(value):
        encode_json(value, argument)


class FlowBase(BaseOps):
    """The token helpers; :class:`~automate_lite.flows.FlowOps` supplies the fields."""

    __slots__ = ()
    session: Session
    authorizers: FlowAuthorizers

    # -- tokens --------------------------------------------------------------------

    def flow_url(self, flow_id: str) -> str:
        """``{base_url}/flows/{flow_id}``: what ``authorizer_callback`` gets as ``flow_url``."""
        return f"{self.session.base_url}/flows/{uuid_segment(flow_id, 'flow_id')}"

    def _scoped(self, flow_url: str, scope: str, authorizer: CallAuth) -> Op[Authorizer | None]:
        """Per-call, remembered, or from the callback; the service token without one."""
        if authorizer is not MISSING:
            return check_authorizer(authorizer)
        if self.authorizers.callback is None:
            # The service token is all there is; the service says clearly (403) if
            # it lacks the scope.
            return self.session.authorizer
        known, found = self.authorizers.cached(scope)
        if not known:
            found = yield Call(lambda: self.authorizers.resolve(flow_url, scope), True)
        return found

    def _flow_authorizer(self, flow_id: str, flow_scope: str | None, authorizer: CallAuth) -> Op[Authorizer | None]:
        if flow_scope is not None and not isinstance(flow_scope, str):
            raise UsageError(f"flow_scope must be a scope string or None (derived from flow_id), got {flow_scope!r}")
        return self._scoped(self.flow_url(flow_id), flow_scope or derive_flow_scope(flow_id), authorizer)

    def _service(self, method: str, path: str, authorizer: CallAuth, query_params: QueryParams | None,
                 query: list[tuple[str, Any]] | None = None, body: Any = MISSING, safe: bool = False,
                 json_argument: str = "body") -> Op[APIResponse]:
        if authorizer is not MISSING:
            authorizer = check_authorizer(authorizer)
        return json_op(self.session, method, path, authorizer=authorizer, json_body=body, safe_to_retry=safe,
                       query=[*(query or []), *check_query_params(query_params)], json_argument=json_argument)

    def _with(self, auth: Op[Authorizer | None], method: str, path: str, query_params: QueryParams | None,
              query: list[tuple[str, Any]] | None = None, body: Any = MISSING, safe: bool = False,
              json_argument: str = "body") -> Op[APIResponse]:
        token = yield from auth
        return (yield from json_op(self.session, method, path, authorizer=token, json_body=body, safe_to_retry=safe,
                                   query=[*(query or []), *check_query_params(query_params)],
                                   json_argument=json_argument))
