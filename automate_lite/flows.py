"""Globus Flows: the operations, once, and the sync and async clients.

:class:`FlowOps` builds every Flows operation as a sans-IO generator; :class:`FlowsClient`
and :class:`AsyncFlowsClient` drive them. Two kinds of token are involved:

- the *service* token (``authorizer``), for managing and listing flows and runs
  (scopes ``manage_flows``, ``view_flows``, ``run_status``, ``run_manage``);
- a flow's *own* token, for running that flow and for the legacy
  ``/flows/{flow_id}/{run_id}/...`` routes. It comes from ``authorizer_callback``,
  called with ``flow_url=``, ``flow_scope=``, ``client_id=`` once per flow scope per
  client (remembered, thread- and task-safe), or from a per-call ``authorizer=``.
"""

from __future__ import annotations

import threading
import warnings
from typing import (
    TYPE_CHECKING, Any, AsyncIterator, Callable, ClassVar, Generic, Iterable, Iterator, Mapping, Sequence, TypeVar,
)

from ._core.checks import string_list
from ._core.config import check_authorizer, check_timeout, headers_with
from ._core.http import (
    DEFAULT_RETRY,
    MISSING,
    Authorizer,
    RetryPolicy,
    Session,
    encode_json,
    json_op,
    uuid_segment,
)
from ._client import AsyncDriven, SyncDriven
from ._core.ops import AsyncTransport, Op, SyncTransport
from ._core.paging import Pager, check_poll_args, poll_op
from ._core.response import APIResponse
from ._core.scopes import flow_scope as derive_flow_scope
from ._core.scopes import flows_base_url
from ._core.values import Call, Frozen
from .errors import UsageError

if TYPE_CHECKING:
    from typing_extensions import Self

#: The transport type of a client: SyncTransport or AsyncTransport.
_T = TypeVar("_T")

__all__ = ["FlowOps", "FlowsClient", "AsyncFlowsClient", "FlowAuthorizers", "RUN_FINAL_STATES", "AuthorizerCallback"]

#: A run in one of these states will not change any more.
RUN_FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "ENDED"})

#: ``callback(flow_url=..., flow_scope=..., client_id=...) -> authorizer``
AuthorizerCallback = Callable[..., Any]


def _given(value: Any) -> bool:
    return value is not MISSING and value is not None


def _str_list(value: Any, argument: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise UsageError(f"{argument} must be a list of strings, got {value!r}")
    items = list(value)
    for item in items:
        if not isinstance(item, str) and type(item).__name__ != "UUID":
            raise UsageError(f"{argument} must hold strings, found {item!r}")
    return [str(i) for i in items]


def _comma(value: Any, argument: str) -> str | None:
    """A comma-joined query value from a string or a list (None when not given)."""
    if not _given(value):
        return None
    return ",".join(_str_list(value, argument))


def _check_str(value: Any, argument: str) -> None:
    if _given(value) and not isinstance(value, str):
        raise UsageError(f"{argument} must be a string, got {value!r}")


def _check_mapping(value: Any, argument: str) -> None:
    if _given(value) and not isinstance(value, Mapping):
        raise UsageError(f"{argument} must be a dict, got {type(value).__name__}")


def _check_positive_int(value: Any, argument: str) -> None:
    if _given(value) and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UsageError(f"{argument} must be an int >= 1, got {value!r}")


def _orderby(value: Any) -> list[str] | None:
    """``orderby`` as repeated values; accepts "title ASC", a list, or a legacy dict."""
    if not _given(value):
        return None
    if isinstance(value, Mapping):
        return [f"{k} {v}" for k, v in value.items()]
    return _str_list(value, "orderby")


def _alias(
    canonical: tuple[str, Any], aliases: Sequence[tuple[str, Any]], empty: Any = None
) -> Any:
    """Resolve a deprecated alias: warn, and refuse two spellings at once."""
    name, value = canonical
    chosen = value
    chosen_name = name if (value is not None and value != () and value is not MISSING) else None
    for alias_name, alias_value in aliases:
        if alias_value is None:
            continue
        warnings.warn(
            f"'{alias_name}' is deprecated; use '{name}' instead", DeprecationWarning, stacklevel=4
        )
        if chosen_name is not None:
            raise UsageError(f"pass only one of '{chosen_name}' and '{alias_name}' (they mean the same)")
        chosen, chosen_name = alias_value, alias_name
    return chosen if chosen_name is not None else empty


class FlowAuthorizers:
    """Remembers, per flow scope, the authorizer ``authorizer_callback`` returned.

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
        self._by_scope: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FlowAuthorizers(scopes={len(self._by_scope)})"

    def cached(self, scope: str) -> Any:
        """The remembered authorizer for ``scope``, or ``MISSING``."""
        return self._by_scope.get(scope, MISSING)

    def resolve(self, flow_url: str, scope: str) -> Authorizer | None:
        """Call the callback for ``scope`` (once) and remember what it returned."""
        found = self._by_scope.get(scope, MISSING)
        if found is not MISSING:
            return found  # type: ignore[no-any-return]
        with self._lock:
            scope_lock = self._locks.setdefault(scope, threading.Lock())
        with scope_lock:
            found = self._by_scope.get(scope, MISSING)
            if found is MISSING:
                assert self.callback is not None
                found = check_authorizer(
                    self.callback(flow_url=flow_url, flow_scope=scope, client_id=self.client_id),
                    "the authorizer returned by authorizer_callback",
                )
                self._by_scope[scope] = found
        return found  # type: ignore[no-any-return]


class FlowOps(Frozen):
    """Every Flows operation, as sans-IO generators (see :mod:`automate_lite._core.ops`)."""

    __slots__ = __match_args__ = ("session", "authorizers")
    session: Session
    authorizers: FlowAuthorizers

    def __init__(self, session: Session, authorizers: FlowAuthorizers) -> None:
        self._set("session", session)
        self._set("authorizers", authorizers)

    # -- helpers -------------------------------------------------------------------

    def flow_url(self, flow_id: str) -> str:
        """``{base_url}/flows/{flow_id}``: what ``authorizer_callback`` gets as ``flow_url``."""
        return f"{self.session.base_url}/flows/{uuid_segment(flow_id, 'flow_id')}"

    def _flow_authorizer(self, flow_id: str, flow_scope: str | None, authorizer: Any) -> Op[Any]:
        """The authorizer for a flow's own scope: per-call, remembered, or from the callback."""
        if authorizer is not MISSING:
            return check_authorizer(authorizer)
        if flow_scope is not None and not isinstance(flow_scope, str):
            raise UsageError(f"flow_scope must be a scope string or None (derived from flow_id), got {flow_scope!r}")
        scope = flow_scope or derive_flow_scope(flow_id)
        if self.authorizers.callback is None:
            # Without a callback the service token is all we have; the service says
            # clearly (403) if it lacks the flow's scope.
            return self.session.authorizer
        found = self.authorizers.cached(scope)
        if found is MISSING:
            flow_url = self.flow_url(flow_id)
            found = yield Call(lambda: self.authorizers.resolve(flow_url, scope), True)
        return found

    def _service(self, method: str, path: str, *, authorizer: Any = MISSING, **kw: Any) -> Op[APIResponse]:
        if authorizer is not MISSING:
            authorizer = check_authorizer(authorizer)
        return json_op(self.session, method, path, authorizer=authorizer, **kw)

    def _as_flow(
        self, flow_id: str, flow_scope: str | None, authorizer: Any, method: str, path: str, **kw: Any
    ) -> Op[APIResponse]:
        auth = yield from self._flow_authorizer(flow_id, flow_scope, authorizer)
        return (yield from json_op(self.session, method, path, authorizer=auth, **kw))

    # -- flows ---------------------------------------------------------------------

    def create_flow(
        self,
        title: str,
        definition: Mapping[str, Any],
        input_schema: Mapping[str, Any] | Any = MISSING,
        subtitle: str | Any = MISSING,
        description: str | Any = MISSING,
        flow_viewers: Iterable[str] | Any = MISSING,
        flow_starters: Iterable[str] | Any = MISSING,
        flow_administrators: Iterable[str] | Any = MISSING,
        run_managers: Iterable[str] | Any = MISSING,
        run_monitors: Iterable[str] | Any = MISSING,
        keywords: Iterable[str] | Any = MISSING,
        subscription_id: str | None | Any = MISSING,
        authentication_policy_id: str | None | Any = MISSING,
        additional_fields: Mapping[str, Any] | None = None,
        validate_definition: bool = True,
        dry_run: bool = False,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``POST /flows`` (``/flows/dry-run`` with ``dry_run``): deploy a new flow.

        The definition is checked locally first (``validate_definition=False`` skips
        it). A missing ``input_schema`` is sent as ``{}`` (accept any input).
        """
        if not isinstance(title, str) or not title:
            raise UsageError(f"title must be a non-empty string, got {title!r}")
        if not isinstance(definition, Mapping):
            raise UsageError(f"definition must be a dict (a flow definition), got {type(definition).__name__}")
        if validate_definition:
            from .definitions.validation import validate_flow_definition

            validate_flow_definition(definition)
        encode_json(definition, "definition")
        _check_mapping(input_schema, "input_schema")
        if _given(input_schema):
            encode_json(input_schema, "input_schema")
        doc: dict[str, Any] = {
            "title": title,
            "definition": definition,
            "input_schema": input_schema if _given(input_schema) else {},
        }
        for name, value in (("subtitle", subtitle), ("description", description)):
            _check_str(value, name)
            if value is not MISSING:
                doc[name] = value
        for name, value in (
            ("flow_viewers", flow_viewers),
            ("flow_starters", flow_starters),
            ("flow_administrators", flow_administrators),
            ("run_managers", run_managers),
            ("run_monitors", run_monitors),
            ("keywords", keywords),
        ):
            if value is not MISSING and value is not None:
                doc[name] = _str_list(value, name)
        for name, value in (("subscription_id", subscription_id), ("authentication_policy_id", authentication_policy_id)):
            if value is not MISSING:
                doc[name] = None if value is None else str(value)
        _check_mapping(additional_fields, "additional_fields")
        if additional_fields:
            doc.update(additional_fields)
        path = "/flows/dry-run" if dry_run else "/flows"
        return self._service("POST", path, json_body=doc, authorizer=authorizer)

    def deploy_flow(
        self,
        flow_definition: Mapping[str, Any],
        title: str,
        subtitle: str | None = None,
        description: str | None = None,
        keywords: Iterable[str] = (),
        flow_viewers: Iterable[str] = (),
        flow_starters: Iterable[str] = (),
        flow_administrators: Iterable[str] = (),
        subscription_id: str | None = None,
        input_schema: Mapping[str, Any] | None = None,
        validate_definition: bool = True,
        validate_schema: bool = True,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> Op[APIResponse]:
        """The original SDK's ``deploy_flow``: ``POST /flows`` (or ``/flows/dry-run``).

        Empty and ``None`` arguments are left out, as the original did; the deprecated
        aliases ``viewers``/``visible_to``, ``starters``/``runnable_by``,
        ``administrators``/``administered_by`` still work with a ``DeprecationWarning``.
        """
        viewers = _alias(("flow_viewers", flow_viewers), [("viewers", kwargs.pop("viewers", None)), ("visible_to", kwargs.pop("visible_to", None))], ())
        starters = _alias(("flow_starters", flow_starters), [("starters", kwargs.pop("starters", None)), ("runnable_by", kwargs.pop("runnable_by", None))], ())
        admins = _alias(
            ("flow_administrators", flow_administrators),
            [("administrators", kwargs.pop("administrators", None)), ("administered_by", kwargs.pop("administered_by", None))],
            (),
        )
        authorizer = kwargs.pop("authorizer", MISSING)
        if kwargs:
            raise UsageError(f"deploy_flow() got unexpected argument(s) {sorted(kwargs)}")
        if validate_schema and input_schema is not None and not isinstance(input_schema, Mapping):
            raise UsageError(f"input_schema must be a dict (a JSON Schema), got {type(input_schema).__name__}")

        def opt(v: Any) -> Any:
            return v if v else MISSING

        return self.create_flow(
            title,
            flow_definition,
            input_schema if input_schema is not None else MISSING,
            subtitle=opt(subtitle),
            description=opt(description),
            flow_viewers=opt(list(viewers) if not isinstance(viewers, str) else viewers),
            flow_starters=opt(list(starters) if not isinstance(starters, str) else starters),
            flow_administrators=opt(list(admins) if not isinstance(admins, str) else admins),
            keywords=opt(list(keywords) if not isinstance(keywords, str) else keywords),
            subscription_id=opt(subscription_id),
            validate_definition=validate_definition,
            dry_run=dry_run,
            authorizer=authorizer,
        )

    def update_flow(
        self,
        flow_id: str,
        flow_definition: Mapping[str, Any] | None = None,
        title: str | None = None,
        subtitle: str | None = None,
        description: str | None = None,
        keywords: Iterable[str] | None = None,
        flow_viewers: Iterable[str] | None = None,
        flow_starters: Iterable[str] | None = None,
        flow_administrators: Iterable[str] | None = None,
        subscription_id: str | None = None,
        input_schema: Mapping[str, Any] | None = None,
        validate_definition: bool = True,
        validate_schema: bool = True,
        *,
        flow_owner: str | None = None,
        run_managers: Iterable[str] | None = None,
        run_monitors: Iterable[str] | None = None,
        authentication_policy_id: str | None = None,
        definition: Mapping[str, Any] | None = None,
        additional_fields: Mapping[str, Any] | None = None,
        authorizer: Any = MISSING,
        **kwargs: Any,
    ) -> Op[APIResponse]:
        """``PUT /flows/{flow_id}``: change only the fields given.

        ``None`` (or not passing) leaves a field as it is; ``[]`` or ``""`` clears it.
        ``definition`` is the modern name of ``flow_definition``; ``subscription_id``
        may be ``"DEFAULT"``.
        """
        fid = uuid_segment(flow_id, "flow_id")
        if flow_definition is not None and definition is not None:
            raise UsageError("pass only one of flow_definition and definition (they mean the same)")
        new_definition = flow_definition if flow_definition is not None else definition
        viewers = _alias(("flow_viewers", flow_viewers), [("viewers", kwargs.pop("viewers", None)), ("visible_to", kwargs.pop("visible_to", None))])
        starters = _alias(("flow_starters", flow_starters), [("starters", kwargs.pop("starters", None)), ("runnable_by", kwargs.pop("runnable_by", None))])
        admins = _alias(
            ("flow_administrators", flow_administrators),
            [("administrators", kwargs.pop("administrators", None)), ("administered_by", kwargs.pop("administered_by", None))],
        )
        if kwargs:
            raise UsageError(f"update_flow() got unexpected argument(s) {sorted(kwargs)}")
        if new_definition is not None:
            if not isinstance(new_definition, Mapping):
                raise UsageError(f"flow_definition must be a dict, got {type(new_definition).__name__}")
            if validate_definition:
                from .definitions.validation import validate_flow_definition

                validate_flow_definition(new_definition)
            encode_json(new_definition, "flow_definition")
        if validate_schema:
            _check_mapping(input_schema, "input_schema")
        doc: dict[str, Any] = {}
        for name, value in (
            ("definition", new_definition),
            ("input_schema", input_schema),
            ("title", title),
            ("subtitle", subtitle),
            ("description", description),
            ("flow_owner", flow_owner),
            ("subscription_id", subscription_id),
            ("authentication_policy_id", authentication_policy_id),
        ):
            if value is not None:
                if name not in ("definition", "input_schema"):
                    _check_str(value, name)
                doc[name] = value
        for name, list_value in (
            ("keywords", keywords),
            ("flow_viewers", viewers),
            ("flow_starters", starters),
            ("flow_administrators", admins),
            ("run_managers", run_managers),
            ("run_monitors", run_monitors),
        ):
            if list_value is not None and list_value is not MISSING:
                doc[name] = _str_list(list_value, name)
        _check_mapping(additional_fields, "additional_fields")
        if additional_fields:
            doc.update(additional_fields)
        return self._service("PUT", f"/flows/{fid}", json_body=doc, authorizer=authorizer)

    def get_flow(self, flow_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``GET /flows/{flow_id}``."""
        return self._service("GET", f"/flows/{uuid_segment(flow_id, 'flow_id')}", authorizer=authorizer)

    def delete_flow(self, flow_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``DELETE /flows/{flow_id}``."""
        return self._service("DELETE", f"/flows/{uuid_segment(flow_id, 'flow_id')}", authorizer=authorizer)

    def scope_for_flow(self, flow_id: str) -> Op[str]:
        """``GET /flows/{flow_id}``, returning its ``globus_auth_scope`` (``""`` if none)."""
        doc = yield from self.get_flow(flow_id)
        scope = doc.get("globus_auth_scope", "")
        return scope if isinstance(scope, str) else ""

    def list_flows(
        self,
        roles: Iterable[str] | None = None,
        marker: str | None = None,
        per_page: int | None = None,
        filters: Mapping[str, Any] | None = None,
        orderings: Mapping[str, str] | None = None,
        role: str | None = None,
        *,
        filter_roles: str | Iterable[str] | Any = MISSING,
        filter_fulltext: str | Any = MISSING,
        filter_title: str | Any = MISSING,
        filter_keywords: str | Iterable[str] | Any = MISSING,
        orderby: str | Iterable[str] | Any = MISSING,
        query_params: Mapping[str, Any] | None = None,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``GET /flows``: one page of the flows you have a role on (page key ``flows``).

        Takes the original SDK's arguments (``role``/``roles``, ``filters``,
        ``orderings``) and the modern ones (``filter_roles``, ``filter_fulltext``,
        ``orderby``...). Follow ``resp["marker"]`` while ``resp["has_next_page"]``, or
        use :meth:`FlowsClient.iter_flows`.
        """
        query = self._list_query(
            roles, role, marker, per_page, filters, orderings, filter_roles, orderby, query_params,
            filter_fulltext=filter_fulltext, filter_title=filter_title,
            filter_keywords=_comma(filter_keywords, "filter_keywords"),
        )
        return self._service("GET", "/flows", query=query, authorizer=authorizer)

    @staticmethod
    def _list_query(
        roles: Any,
        role: Any,
        marker: Any,
        per_page: Any,
        filters: Any,
        orderings: Any,
        filter_roles: Any,
        orderby: Any,
        query_params: Any,
        **more: Any,
    ) -> list[tuple[str, Any]]:
        _check_str(marker, "marker")
        _check_positive_int(per_page, "per_page")
        _check_mapping(filters, "filters")
        _check_mapping(query_params, "query_params")
        query: dict[str, Any] = {}
        if _given(role):
            _check_str(role, "role")
            query["filter_role"] = role
        roles_value = _comma(filter_roles, "filter_roles") or _comma(roles, "roles")
        if roles_value:
            query["filter_roles"] = roles_value
        for name, value in more.items():
            if _given(value):
                _check_str(value, name)
                query[name] = value
        if filters:
            for key, value in filters.items():
                if key not in ("filter_role", "filter_roles", "orderby", "marker", "pagination_token", "per_page"):
                    query[key] = _comma(value, f"filters[{key!r}]") if not isinstance(value, (str, int, bool)) else value
        if _given(marker):
            query["marker"] = marker
        elif _given(per_page):
            query["per_page"] = per_page
        order = _orderby(orderby) or _orderby(orderings)
        items: list[tuple[str, Any]] = list(query.items())
        if order:
            items.extend(("orderby", o) for o in order)
        if query_params:
            items.extend(query_params.items())
        return items

    def validate_flow(self, definition: Mapping[str, Any], input_schema: Mapping[str, Any] | Any = MISSING, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``POST /flows/validate``: ask the service to check a definition (nothing is created)."""
        if not isinstance(definition, Mapping):
            raise UsageError(f"definition must be a dict, got {type(definition).__name__}")
        encode_json(definition, "definition")
        _check_mapping(input_schema, "input_schema")
        doc: dict[str, Any] = {"definition": definition}
        if _given(input_schema):
            doc["input_schema"] = input_schema
        return self._service("POST", "/flows/validate", json_body=doc, authorizer=authorizer)

    # -- running a flow --------------------------------------------------------------

    @staticmethod
    def _run_body(
        flow_input: Any,
        run_managers: Any,
        run_monitors: Any,
        label: Any,
        tags: Any,
        request_id: Any,
        activity_notification_policy: Any,
        kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        if not isinstance(flow_input, Mapping):
            raise UsageError(f"flow_input must be a dict (the flow's input), got {type(flow_input).__name__}")
        managers = _alias(("run_managers", run_managers), [("manage_by", kwargs.pop("manage_by", None))])
        monitors = _alias(("run_monitors", run_monitors), [("monitor_by", kwargs.pop("monitor_by", None))])
        additional = kwargs.pop("additional_fields", None)
        if kwargs:
            raise UsageError(
                f"run_flow() got unexpected argument(s) {sorted(kwargs)}; it takes flow_id, flow_scope, "
                "flow_input, run_managers/manage_by, run_monitors/monitor_by, dry_run, label, tags, "
                "request_id, activity_notification_policy, additional_fields, authorizer"
            )
        _check_str(label, "label")
        doc: dict[str, Any] = {"body": dict(flow_input)}
        if request_id is None or request_id is MISSING:
            import uuid  # imported on first use, not by `import automate_lite`

            request_id = str(uuid.uuid4())
        doc["request_id"] = str(request_id)
        if _given(label):
            doc["label"] = label
        # The same checks as ActionOps.run: a bare string is refused, not wrapped.
        if _given(tags):
            doc["tags"] = string_list(tags, "tags", "['nightly', 'project-x']")
        if managers:
            doc["run_managers"] = string_list(managers, "run_managers")
        if monitors:
            doc["run_monitors"] = string_list(monitors, "run_monitors")
        if _given(activity_notification_policy):
            policy = activity_notification_policy
            if not isinstance(policy, Mapping):
                raise UsageError(
                    "activity_notification_policy must be a dict such as {'status': ['INACTIVE', 'FAILED']}, "
                    f"got {policy!r}"
                )
            doc["activity_notification_policy"] = dict(policy)
        _check_mapping(additional, "additional_fields")
        if additional:
            doc.update(additional)
        return doc

    def run_flow(
        self,
        flow_id: str,
        flow_scope: str | None,
        flow_input: Mapping[str, Any],
        run_managers: Iterable[str] | None = None,
        run_monitors: Iterable[str] | None = None,
        dry_run: bool = False,
        label: str | None = None,
        tags: Iterable[str] | None = None,
        *,
        request_id: str | None = None,
        activity_notification_policy: Mapping[str, Any] | Any = MISSING,
        authorizer: Any = MISSING,
        **kwargs: Any,
    ) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/run`` (``/run/dry-run`` with ``dry_run``) with the flow's token.

        ``flow_scope`` may be ``None``: it is derived from ``flow_id``. The body carries
        a ``request_id`` (a fresh uuid4 unless given), so retrying never starts a second
        run. ``manage_by``/``monitor_by`` are deprecated aliases.
        """
        fid = uuid_segment(flow_id, "flow_id")
        doc = self._run_body(flow_input, run_managers, run_monitors, label, tags, request_id, activity_notification_policy, kwargs)
        path = f"/flows/{fid}/run/dry-run" if dry_run else f"/flows/{fid}/run"
        return self._as_flow(
            fid, flow_scope, authorizer, "POST", path, json_body=doc, safe_to_retry=True, json_argument="flow_input"
        )

    def validate_run(
        self,
        flow_id: str,
        flow_input: Mapping[str, Any],
        flow_scope: str | None = None,
        *,
        label: str | None = None,
        tags: Iterable[str] | None = None,
        run_managers: Iterable[str] | None = None,
        run_monitors: Iterable[str] | None = None,
        activity_notification_policy: Mapping[str, Any] | Any = MISSING,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/validate_run``: check a run's input without starting it."""
        fid = uuid_segment(flow_id, "flow_id")
        doc = self._run_body(flow_input, run_managers, run_monitors, label, tags, None, activity_notification_policy, {})
        doc.pop("request_id")
        return self._as_flow(
            fid, flow_scope, authorizer, "POST", f"/flows/{fid}/validate_run",
            json_body=doc, safe_to_retry=True, json_argument="flow_input",
        )

    # -- the legacy per-flow run routes ----------------------------------------------

    def _legacy(self, flow_id: str, flow_scope: str | None, run_id: str, verb: str, authorizer: Any, **kw: Any) -> Op[APIResponse]:
        fid = uuid_segment(flow_id, "flow_id")
        rid = uuid_segment(run_id, "flow_action_id")
        method = "GET" if verb in ("status", "log") else "POST"
        return self._as_flow(fid, flow_scope, authorizer, method, f"/flows/{fid}/{rid}/{verb}", **kw)

    def flow_action_status(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``GET /flows/{flow_id}/{run_id}/status`` with the flow's token."""
        return self._legacy(flow_id, flow_scope, flow_action_id, "status", authorizer)

    def flow_action_cancel(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/{run_id}/cancel`` with the flow's token."""
        return self._legacy(flow_id, flow_scope, flow_action_id, "cancel", authorizer, safe_to_retry=True)

    def flow_action_release(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/{run_id}/release`` with the flow's token."""
        return self._legacy(flow_id, flow_scope, flow_action_id, "release", authorizer)

    def flow_action_resume(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/{run_id}/resume`` with the flow's token."""
        return self._legacy(flow_id, flow_scope, flow_action_id, "resume", authorizer)

    def flow_action_log(
        self,
        flow_id: str,
        flow_scope: str | None,
        flow_action_id: str,
        limit: int = 10,
        reverse_order: bool = False,
        marker: str | None = None,
        per_page: int | None = None,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``GET /flows/{flow_id}/{run_id}/log`` with the flow's token (one page).

        Sent as the original did: ``reverse_order`` only when true, ``marker`` as
        ``pagination_token``, ``per_page`` only without a marker.
        """
        _check_positive_int(limit, "limit")
        _check_positive_int(per_page, "per_page")
        _check_str(marker, "marker")
        query: list[tuple[str, Any]] = [("limit", limit)]
        if reverse_order:
            query.append(("reverse_order", True))
        if marker is not None:
            query.append(("pagination_token", marker))
        elif per_page is not None:
            query.append(("per_page", per_page))
        return self._legacy(flow_id, flow_scope, flow_action_id, "log", authorizer, query=query)

    def get_flow_definition_for_run(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``GET /runs/{run_id}/definition``: the definition and schema a run started with.

        ``flow_id``/``flow_scope`` are accepted for the original signature; the
        modern route needs only the service token.
        """
        uuid_segment(flow_id, "flow_id")
        return self.get_run_definition(flow_action_id, authorizer=authorizer)

    # -- runs ------------------------------------------------------------------------

    def list_runs(
        self,
        *,
        filter_flow_id: str | Iterable[str] | Any = MISSING,
        filter_roles: str | Iterable[str] | Any = MISSING,
        filter_status: str | Iterable[str] | Any = MISSING,
        filter_label: str | Iterable[str] | Any = MISSING,
        filter_start_time: str | tuple[str | None, str | None] | Any = MISSING,
        filter_completion_time: str | tuple[str | None, str | None] | Any = MISSING,
        orderby: str | Iterable[str] | Any = MISSING,
        marker: str | Any = MISSING,
        per_page: int | Any = MISSING,
        query_params: Mapping[str, Any] | None = None,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``GET /runs``: one page of the runs you can see (page key ``runs``).

        Time filters take ``"DT1,DT2"`` or a ``(start, end)`` pair where either side
        may be ``None`` (open).
        """
        query = self._list_query(
            None, None, marker, per_page, None, None, filter_roles, orderby, query_params,
            filter_flow_id=_comma(filter_flow_id, "filter_flow_id"),
            filter_status=_comma(filter_status, "filter_status"),
            filter_label=_comma(filter_label, "filter_label"),
            filter_start_time=_time_range(filter_start_time, "filter_start_time"),
            filter_completion_time=_time_range(filter_completion_time, "filter_completion_time"),
        )
        return self._service("GET", "/runs", query=query, authorizer=authorizer)

    def enumerate_runs(
        self,
        roles: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        marker: str | None = None,
        per_page: int | None = None,
        filters: Mapping[str, Any] | None = None,
        orderings: Mapping[str, str] | None = None,
        role: str | None = None,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """The original SDK's ``GET /runs`` listing (one page)."""
        query = self._list_query(
            roles, role, marker, per_page, filters, orderings, MISSING, MISSING, None,
            filter_status=_comma(statuses, "statuses"),
        )
        return self._service("GET", "/runs", query=query, authorizer=authorizer)

    def list_flow_runs(
        self,
        flow_id: str | None = None,
        flow_scope: str | None = None,
        statuses: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
        marker: str | None = None,
        per_page: int | None = None,
        filters: Mapping[str, Any] | None = None,
        orderings: Mapping[str, str] | None = None,
        role: str | None = None,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``GET /flows/{flow_id}/runs`` (all runs, ``GET /runs``, without ``flow_id``).

        ``flow_scope`` is accepted for the original signature; listing needs only the
        service token.
        """
        if flow_id is None:
            return self.enumerate_runs(roles, statuses, marker, per_page, filters, orderings, role, authorizer)
        fid = uuid_segment(flow_id, "flow_id")
        query = self._list_query(
            roles, role, marker, per_page, filters, orderings, MISSING, MISSING, None,
            filter_status=_comma(statuses, "statuses"),
        )
        return self._service("GET", f"/flows/{fid}/runs", query=query, authorizer=authorizer)

    def get_run(self, run_id: str, include_flow_description: bool | Any = MISSING, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``GET /runs/{run_id}`` (``include_flow_description=true`` adds the flow's summary)."""
        rid = uuid_segment(run_id, "run_id")
        query = None
        if _given(include_flow_description):
            if not isinstance(include_flow_description, bool):
                raise UsageError(f"include_flow_description must be True or False, got {include_flow_description!r}")
            query = {"include_flow_description": include_flow_description}
        return self._service("GET", f"/runs/{rid}", query=query, authorizer=authorizer)

    def get_run_definition(self, run_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``GET /runs/{run_id}/definition``."""
        return self._service("GET", f"/runs/{uuid_segment(run_id, 'run_id')}/definition", authorizer=authorizer)

    def get_run_logs(
        self,
        run_id: str,
        limit: int | Any = MISSING,
        reverse_order: bool | Any = MISSING,
        marker: str | Any = MISSING,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``GET /runs/{run_id}/log``: one page of the run's log (page key ``entries``)."""
        rid = uuid_segment(run_id, "run_id")
        _check_positive_int(limit, "limit")
        _check_str(marker, "marker")
        query = {"limit": limit, "reverse_order": reverse_order if reverse_order else MISSING, "marker": marker}
        return self._service("GET", f"/runs/{rid}/log", query=query, authorizer=authorizer)

    def _run_verb(self, run_id: str, verb: str, authorizer: Any, safe: bool = False) -> Op[APIResponse]:
        rid = uuid_segment(run_id, "run_id")
        return self._service("POST", f"/runs/{rid}/{verb}", authorizer=authorizer, safe_to_retry=safe)

    def cancel_run(self, run_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``POST /runs/{run_id}/cancel``."""
        return self._run_verb(run_id, "cancel", authorizer, safe=True)

    def release_run(self, run_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``POST /runs/{run_id}/release``: forget a finished run."""
        return self._run_verb(run_id, "release", authorizer)

    def resume_run(self, run_id: str, flow_id: str | None = None, flow_scope: str | None = None, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``POST /runs/{run_id}/resume``: resume an INACTIVE run.

        With ``flow_id`` the flow's own token is used (what globus-sdk's
        ``SpecificFlowClient.resume_run`` does), else the service token.
        """
        rid = uuid_segment(run_id, "run_id")
        if flow_id is None:
            return self._run_verb(rid, "resume", authorizer)
        return self._as_flow(uuid_segment(flow_id, "flow_id"), flow_scope, authorizer, "POST", f"/runs/{rid}/resume")

    def update_run(
        self,
        run_id: str,
        *,
        label: str | Any = MISSING,
        tags: Iterable[str] | Any = MISSING,
        run_managers: Iterable[str] | Any = MISSING,
        run_monitors: Iterable[str] | Any = MISSING,
        additional_fields: Mapping[str, Any] | None = None,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``PUT /runs/{run_id}``: change only what is given (``[]`` clears a list)."""
        rid = uuid_segment(run_id, "run_id")
        doc: dict[str, Any] = {}
        _check_str(label, "label")
        if label is not MISSING:
            doc["label"] = label
        for name, value in (("tags", tags), ("run_managers", run_managers), ("run_monitors", run_monitors)):
            if value is not MISSING:
                doc[name] = None if value is None else _str_list(value, name)
        _check_mapping(additional_fields, "additional_fields")
        if additional_fields:
            doc.update(additional_fields)
        return self._service("PUT", f"/runs/{rid}", json_body=doc, authorizer=authorizer)

    def flow_action_update(
        self,
        action_id: str,
        run_managers: Sequence[str] | None = None,
        run_monitors: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        label: str | None = None,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """The original SDK's name for :meth:`update_run` (``None`` leaves a field alone)."""

        def g(v: Any) -> Any:
            return MISSING if v is None else v

        return self.update_run(
            action_id, label=g(label), tags=g(tags), run_managers=g(run_managers), run_monitors=g(run_monitors), authorizer=authorizer
        )

    def update_runs(
        self,
        run_ids: Iterable[str],
        add_tags: Iterable[str] | None = None,
        remove_tags: Iterable[str] | None = None,
        set_tags: Iterable[str] | None = None,
        add_run_managers: Iterable[str] | None = None,
        remove_run_managers: Iterable[str] | None = None,
        set_run_managers: Iterable[str] | None = None,
        add_run_monitors: Iterable[str] | None = None,
        remove_run_monitors: Iterable[str] | None = None,
        set_run_monitors: Iterable[str] | None = None,
        status: str | None = None,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``POST /batch/runs``: change tags, managers, monitors or status of many runs.

        For each of tags, run managers and run monitors pass at most one of
        ``set_``, ``add_``, ``remove_``.
        """
        ids = [uuid_segment(r, "run_ids[]") for r in _str_list(run_ids, "run_ids")]
        if not ids:
            raise UsageError("run_ids must name at least one run")
        doc: dict[str, Any] = {"filters": {"run_ids": ids}, "set": {}, "add": {}, "remove": {}}
        groups = {
            "tags": (set_tags, add_tags, remove_tags),
            "run_managers": (set_run_managers, add_run_managers, remove_run_managers),
            "run_monitors": (set_run_monitors, add_run_monitors, remove_run_monitors),
        }
        for name, values in groups.items():
            if sum(v is not None for v in values) > 1:
                raise UsageError(f"set_{name}, add_{name} and remove_{name} exclude each other; pass only one")
            for verb, value in zip(("set", "add", "remove"), values):
                if value is not None:
                    doc[verb][name] = _str_list(value, f"{verb}_{name}")
        if status is not None:
            _check_str(status, "status")
            doc["set"]["status"] = status
        return self._service("POST", "/batch/runs", json_body=doc, authorizer=authorizer)

    # -- web inputs and registered APIs ------------------------------------------------

    def list_web_inputs(
        self,
        *,
        filter_roles: str | Iterable[str] | Any = MISSING,
        filter_states: str | Iterable[str] | Any = MISSING,
        filter_flow_ids: str | Iterable[str] | Any = MISSING,
        filter_run_ids: str | Iterable[str] | Any = MISSING,
        orderby: str | Iterable[str] | Any = MISSING,
        per_page: int | Any = MISSING,
        marker: str | Any = MISSING,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``GET /web_inputs``: one page of web inputs (page key ``web_inputs``)."""
        query = self._list_query(
            None, None, marker, per_page, None, None, filter_roles, orderby, None,
            filter_states=_comma(filter_states, "filter_states"),
            filter_flow_ids=_comma(filter_flow_ids, "filter_flow_ids"),
            filter_run_ids=_comma(filter_run_ids, "filter_run_ids"),
        )
        return self._service("GET", "/web_inputs", query=query, authorizer=authorizer)

    def get_web_input(self, web_input_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``GET /web_inputs/{web_input_id}``."""
        return self._service("GET", f"/web_inputs/{uuid_segment(web_input_id, 'web_input_id')}", authorizer=authorizer)

    def respond_to_web_input(self, web_input_id: str, value: Any, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``POST /web_inputs/{web_input_id}/respond`` with ``{"response": {"value": value}}``."""
        wid = uuid_segment(web_input_id, "web_input_id")
        return self._service("POST", f"/web_inputs/{wid}/respond", json_body={"response": {"value": value}}, authorizer=authorizer)

    def list_registered_apis(
        self,
        *,
        filter_roles: str | Iterable[str] | Any = MISSING,
        orderby: str | Iterable[str] | Any = MISSING,
        per_page: int | Any = MISSING,
        marker: str | Any = MISSING,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """``GET /registered_apis``: one page (page key ``registered_apis``)."""
        query = self._list_query(None, None, marker, per_page, None, None, filter_roles, orderby, None)
        return self._service("GET", "/registered_apis", query=query, authorizer=authorizer)

    def get_registered_api(self, registered_api_id: str, authorizer: Any = MISSING) -> Op[APIResponse]:
        """``GET /registered_apis/{registered_api_id}``."""
        rid = uuid_segment(registered_api_id, "registered_api_id")
        return self._service("GET", f"/registered_apis/{rid}", authorizer=authorizer)

    # -- paging and waiting ------------------------------------------------------------

    def pager(self, list_op: Callable[..., Op[APIResponse]], items_key: str, **kwargs: Any) -> Pager:
        """A :class:`Pager` over ``list_op(**kwargs, marker=...)``."""
        kwargs.pop("marker", None)
        list_op(**kwargs)  # check the arguments now, before anything is sent
        return Pager(lambda marker: list_op(**kwargs, marker=marker if marker is not None else MISSING), items_key)

    def wait_for_run(
        self,
        run_id: str,
        timeout: float | None = 600.0,
        initial_delay: float = 0.5,
        max_delay: float = 15.0,
        authorizer: Any = MISSING,
    ) -> Op[APIResponse]:
        """Poll ``GET /runs/{run_id}`` with back-off until the run leaves ACTIVE."""
        settings = check_poll_args(timeout, initial_delay, max_delay)
        rid = uuid_segment(run_id, "run_id")

        def finished(doc: APIResponse) -> bool:
            return bool(doc.get("status") != "ACTIVE")

        return poll_op(lambda: self.get_run(rid, authorizer=authorizer), finished, settings, f"run {rid}")


def _time_range(value: Any, argument: str) -> str | None:
    if not _given(value):
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
    raise UsageError(f"{argument} must be 'START,END' or a (start, end) pair, got {value!r}")


# -- the clients -----------------------------------------------------------------------


class _FlowsClientBase(Frozen, Generic[_T]):
    # The constructor's arguments, in order. ``==`` and ``hash`` look at all but
    # ``auth_requirements_handler`` and ``transport``, as the dataclass did.
    __match_args__ = ("client_id", "authorizer_callback", "authorizer", "base_url", "http_timeout", "retry",
                      "extra_headers", "allow_insecure_http", "auth_requirements_handler", "transport")
    __slots__ = (*__match_args__, "_ops")
    _compare = __match_args__[:8]
    client_id: str | None
    authorizer_callback: AuthorizerCallback | None
    authorizer: Authorizer | None
    base_url: str | None
    http_timeout: float | None
    retry: RetryPolicy
    extra_headers: Mapping[str, str] | None
    allow_insecure_http: bool
    #: See :attr:`automate_lite.Session.auth_requirements_handler` (set by the login extras).
    auth_requirements_handler: Callable[[Any], bool] | None
    transport: _T
    _ops: FlowOps
    #: Makes the transport used when none is given (each concrete client has its own).
    _default_transport: ClassVar[Callable[[], Any]]

    def __init__(
        self,
        client_id: str | None = None,
        authorizer_callback: AuthorizerCallback | None = None,
        authorizer: Authorizer | None = None,
        base_url: str | None = None,
        http_timeout: float | None = 10.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        extra_headers: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
        auth_requirements_handler: Callable[[Any], bool] | None = None,
        transport: _T | None = None,
    ) -> None:
        http_timeout = check_timeout(http_timeout)
        if not isinstance(retry, RetryPolicy):
            raise UsageError(f"retry must be an automate_lite.RetryPolicy, got {retry!r}")
        if client_id is not None and not isinstance(client_id, str):
            raise UsageError(f"client_id must be a string (your Globus Auth client id) or None, got {client_id!r}")
        base = flows_base_url(base_url)
        session = Session(
            base_url=base,
            authorizer=check_authorizer(authorizer),
            headers=headers_with(extra_headers),
            retry=retry,
            allow_insecure_http=bool(allow_insecure_http),
            auth_requirements_handler=auth_requirements_handler,
        )
        ops = FlowOps(session, FlowAuthorizers(authorizer_callback, client_id))
        self._set("client_id", client_id)
        self._set("authorizer_callback", authorizer_callback)
        self._set("authorizer", authorizer)
        self._set("base_url", base)
        self._set("http_timeout", http_timeout)
        self._set("retry", retry)
        self._set("extra_headers", extra_headers)
        self._set("allow_insecure_http", allow_insecure_http)
        self._set("auth_requirements_handler", auth_requirements_handler)
        self._set("_ops", ops)
        self._set("transport", transport if transport is not None else type(self)._default_transport())

    @classmethod
    def new_client(
        cls,
        client_id: str | None,
        authorizer_callback: AuthorizerCallback | None,
        authorizer: Authorizer | None,
        base_url: str | None = None,
        http_timeout: float | None = 10,
        *,
        transport: _T | None = None,
        retry: RetryPolicy = RetryPolicy(),
        allow_insecure_http: bool = False,
    ) -> Self:
        """Make a client: ``authorizer`` for the service, ``authorizer_callback`` for flows."""
        return cls(
            client_id, authorizer_callback, authorizer, base_url, http_timeout,
            retry=retry, allow_insecure_http=allow_insecure_http, transport=transport,
        )

    def replace(self, /, **changes: Any) -> Self:
        """A new client with ``changes`` to the constructor's arguments, checked again.

        It shares this client's transport (and so its connection pool) unless
        ``transport=`` is among the changes; ``copy.replace(client, ...)`` (3.13+) is
        the same call. Flow tokens remembered from ``authorizer_callback`` are not
        carried over.
        """
        return self.__replace__(**changes)

    def __repr__(self) -> str:
        auth = type(self.authorizer).__name__ if self.authorizer is not None else None
        return f"{type(self).__name__}(base_url={self.base_url!r}, client_id={self.client_id!r}, authorizer={auth})"

    @property
    def ops(self) -> FlowOps:
        """The sans-IO operations this client runs."""
        return self._ops

    def flow_scope(self, flow_id: str) -> str:
        """A flow's own scope, derived from its id (no round trip)."""
        return derive_flow_scope(flow_id)


class FlowsClient(SyncDriven, _FlowsClientBase[SyncTransport], init=False):
    """A client for the Globus Flows service (blocking I/O).

    Make one with :meth:`new_client` (the original SDK's signature) or the
    constructor. Immutable and thread-safe; ``client.replace(...)`` (or
    ``copy.replace(client, ...)`` on 3.13+) derives a changed client that shares the
    connection pool. ``transport`` is a :class:`~automate_lite.SyncTransport`; the
    default is a :class:`~automate_lite.transports.Urllib3Transport` of its own.
    """

    __slots__ = ()

    def _iter(self, pager: Pager) -> Iterator[dict[str, Any]]:
        while not pager.done:
            yield from pager.items(self._run(pager.next_page()))


    # The methods below are one line each: the operation, driven. See FlowOps for
    # what each sends.

    def create_flow(self, title: str, definition: Mapping[str, Any], input_schema: Mapping[str, Any] | Any = MISSING, subtitle: str | Any = MISSING, description: str | Any = MISSING, flow_viewers: Iterable[str] | Any = MISSING, flow_starters: Iterable[str] | Any = MISSING, flow_administrators: Iterable[str] | Any = MISSING, run_managers: Iterable[str] | Any = MISSING, run_monitors: Iterable[str] | Any = MISSING, keywords: Iterable[str] | Any = MISSING, subscription_id: str | None | Any = MISSING, authentication_policy_id: str | None | Any = MISSING, additional_fields: Mapping[str, Any] | None = None, validate_definition: bool = True, dry_run: bool = False, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Deploy a new flow (``POST /flows``); see :meth:`FlowOps.create_flow`."""
        return self._run(self._ops.create_flow(title, definition, input_schema, subtitle, description, flow_viewers, flow_starters, flow_administrators, run_managers, run_monitors, keywords, subscription_id, authentication_policy_id, additional_fields, validate_definition, dry_run, authorizer))  # type: ignore[no-any-return]

    def deploy_flow(self, flow_definition: Mapping[str, Any], title: str, subtitle: str | None = None, description: str | None = None, keywords: Iterable[str] = (), flow_viewers: Iterable[str] = (), flow_starters: Iterable[str] = (), flow_administrators: Iterable[str] = (), subscription_id: str | None = None, input_schema: Mapping[str, Any] | None = None, validate_definition: bool = True, validate_schema: bool = True, dry_run: bool = False, **kwargs: Any) -> APIResponse:  # noqa: E501
        """The original ``deploy_flow``; see :meth:`FlowOps.deploy_flow`."""
        return self._run(self._ops.deploy_flow(flow_definition, title, subtitle, description, keywords, flow_viewers, flow_starters, flow_administrators, subscription_id, input_schema, validate_definition, validate_schema, dry_run, **kwargs))  # type: ignore[no-any-return]

    def update_flow(self, flow_id: str, flow_definition: Mapping[str, Any] | None = None, title: str | None = None, subtitle: str | None = None, description: str | None = None, keywords: Iterable[str] | None = None, flow_viewers: Iterable[str] | None = None, flow_starters: Iterable[str] | None = None, flow_administrators: Iterable[str] | None = None, subscription_id: str | None = None, input_schema: Mapping[str, Any] | None = None, validate_definition: bool = True, validate_schema: bool = True, **kwargs: Any) -> APIResponse:  # noqa: E501
        """Change only the given fields (``PUT /flows/{id}``); see :meth:`FlowOps.update_flow`."""
        return self._run(self._ops.update_flow(flow_id, flow_definition, title, subtitle, description, keywords, flow_viewers, flow_starters, flow_administrators, subscription_id, input_schema, validate_definition, validate_schema, **kwargs))  # type: ignore[no-any-return]

    def get_flow(self, flow_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``GET /flows/{flow_id}``."""
        return self._run(self._ops.get_flow(flow_id, authorizer))  # type: ignore[no-any-return]

    def delete_flow(self, flow_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``DELETE /flows/{flow_id}``."""
        return self._run(self._ops.delete_flow(flow_id, authorizer))  # type: ignore[no-any-return]

    def scope_for_flow(self, flow_id: str) -> str:
        """The flow's ``globus_auth_scope``, read from the service."""
        return self._run(self._ops.scope_for_flow(flow_id))  # type: ignore[no-any-return]

    def list_flows(self, roles: Iterable[str] | None = None, marker: str | None = None, per_page: int | None = None, filters: Mapping[str, Any] | None = None, orderings: Mapping[str, str] | None = None, role: str | None = None, **kwargs: Any) -> APIResponse:  # noqa: E501
        """One page of ``GET /flows``; see :meth:`FlowOps.list_flows` for the filters."""
        return self._run(self._ops.list_flows(roles, marker, per_page, filters, orderings, role, **kwargs))  # type: ignore[no-any-return]

    def iter_flows(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every flow :meth:`list_flows` would list with these filters, page after page."""
        return self._iter(self._ops.pager(self._ops.list_flows, "flows", **kwargs))

    def validate_flow(self, definition: Mapping[str, Any], input_schema: Mapping[str, Any] | Any = MISSING, authorizer: Any = MISSING) -> APIResponse:
        """``POST /flows/validate``."""
        return self._run(self._ops.validate_flow(definition, input_schema, authorizer))  # type: ignore[no-any-return]

    def run_flow(self, flow_id: str, flow_scope: str | None, flow_input: Mapping[str, Any], run_managers: Iterable[str] | None = None, run_monitors: Iterable[str] | None = None, dry_run: bool = False, label: str | None = None, tags: Iterable[str] | None = None, **kwargs: Any) -> APIResponse:  # noqa: E501
        """Start a run (``POST /flows/{id}/run``) with the flow's token; see :meth:`FlowOps.run_flow`."""
        return self._run(self._ops.run_flow(flow_id, flow_scope, flow_input, run_managers, run_monitors, dry_run, label, tags, **kwargs))  # type: ignore[no-any-return]

    def validate_run(self, flow_id: str, flow_input: Mapping[str, Any], flow_scope: str | None = None, **kwargs: Any) -> APIResponse:
        """``POST /flows/{id}/validate_run``; see :meth:`FlowOps.validate_run`."""
        return self._run(self._ops.validate_run(flow_id, flow_input, flow_scope, **kwargs))  # type: ignore[no-any-return]

    def flow_action_status(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``GET /flows/{flow_id}/{run_id}/status`` with the flow's token."""
        return self._run(self._ops.flow_action_status(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    def flow_action_log(self, flow_id: str, flow_scope: str | None, flow_action_id: str, limit: int = 10, reverse_order: bool = False, marker: str | None = None, per_page: int | None = None, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """``GET /flows/{flow_id}/{run_id}/log`` with the flow's token (one page)."""
        return self._run(self._ops.flow_action_log(flow_id, flow_scope, flow_action_id, limit, reverse_order, marker, per_page, authorizer))  # type: ignore[no-any-return]

    def flow_action_cancel(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``POST /flows/{flow_id}/{run_id}/cancel`` with the flow's token."""
        return self._run(self._ops.flow_action_cancel(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    def flow_action_release(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``POST /flows/{flow_id}/{run_id}/release`` with the flow's token."""
        return self._run(self._ops.flow_action_release(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    def flow_action_resume(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``POST /flows/{flow_id}/{run_id}/resume`` with the flow's token."""
        return self._run(self._ops.flow_action_resume(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    def get_flow_definition_for_run(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``GET /runs/{run_id}/definition``."""
        return self._run(self._ops.get_flow_definition_for_run(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    def enumerate_runs(self, roles: Iterable[str] | None = None, statuses: Iterable[str] | None = None, marker: str | None = None, per_page: int | None = None, filters: Mapping[str, Any] | None = None, orderings: Mapping[str, str] | None = None, role: str | None = None, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """One page of ``GET /runs`` (the original SDK's arguments)."""
        return self._run(self._ops.enumerate_runs(roles, statuses, marker, per_page, filters, orderings, role, authorizer))  # type: ignore[no-any-return]

    enumerate_actions = enumerate_runs

    def list_flow_runs(self, flow_id: str | None = None, flow_scope: str | None = None, statuses: Iterable[str] | None = None, roles: Iterable[str] | None = None, marker: str | None = None, per_page: int | None = None, filters: Mapping[str, Any] | None = None, orderings: Mapping[str, str] | None = None, role: str | None = None, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """One page of ``GET /flows/{flow_id}/runs`` (all runs without ``flow_id``)."""
        return self._run(self._ops.list_flow_runs(flow_id, flow_scope, statuses, roles, marker, per_page, filters, orderings, role, authorizer))  # type: ignore[no-any-return]

    list_flow_actions = list_flow_runs

    def list_runs(self, **kwargs: Any) -> APIResponse:
        """One page of ``GET /runs``; see :meth:`FlowOps.list_runs` for the filters."""
        return self._run(self._ops.list_runs(**kwargs))  # type: ignore[no-any-return]

    def iter_runs(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every run :meth:`list_runs` would list with these filters, page after page."""
        return self._iter(self._ops.pager(self._ops.list_runs, "runs", **kwargs))

    def get_run(self, run_id: str, include_flow_description: bool | Any = MISSING, authorizer: Any = MISSING) -> APIResponse:
        """``GET /runs/{run_id}``."""
        return self._run(self._ops.get_run(run_id, include_flow_description, authorizer))  # type: ignore[no-any-return]

    def get_run_definition(self, run_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``GET /runs/{run_id}/definition``."""
        return self._run(self._ops.get_run_definition(run_id, authorizer))  # type: ignore[no-any-return]

    def get_run_logs(self, run_id: str, limit: int | Any = MISSING, reverse_order: bool | Any = MISSING, marker: str | Any = MISSING, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """One page of ``GET /runs/{run_id}/log``."""
        return self._run(self._ops.get_run_logs(run_id, limit, reverse_order, marker, authorizer))  # type: ignore[no-any-return]

    def iter_run_logs(self, run_id: str, limit: int | Any = MISSING, reverse_order: bool | Any = MISSING) -> Iterator[dict[str, Any]]:
        """Every log entry of a run, page after page."""
        return self._iter(self._ops.pager(self._ops.get_run_logs, "entries", run_id=run_id, limit=limit, reverse_order=reverse_order))

    def cancel_run(self, run_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``POST /runs/{run_id}/cancel``."""
        return self._run(self._ops.cancel_run(run_id, authorizer))  # type: ignore[no-any-return]

    def release_run(self, run_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``POST /runs/{run_id}/release``."""
        return self._run(self._ops.release_run(run_id, authorizer))  # type: ignore[no-any-return]

    delete_run = release_run

    def resume_run(self, run_id: str, flow_id: str | None = None, flow_scope: str | None = None, authorizer: Any = MISSING) -> APIResponse:
        """``POST /runs/{run_id}/resume`` (with the flow's token when ``flow_id`` is given)."""
        return self._run(self._ops.resume_run(run_id, flow_id, flow_scope, authorizer))  # type: ignore[no-any-return]

    def update_run(self, run_id: str, **kwargs: Any) -> APIResponse:
        """``PUT /runs/{run_id}``; see :meth:`FlowOps.update_run`."""
        return self._run(self._ops.update_run(run_id, **kwargs))  # type: ignore[no-any-return]

    def flow_action_update(self, action_id: str, run_managers: Sequence[str] | None = None, run_monitors: Sequence[str] | None = None, tags: Sequence[str] | None = None, label: str | None = None, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """The original name of :meth:`update_run`."""
        return self._run(self._ops.flow_action_update(action_id, run_managers, run_monitors, tags, label, authorizer))  # type: ignore[no-any-return]

    def update_runs(self, run_ids: Iterable[str], **kwargs: Any) -> APIResponse:
        """``POST /batch/runs``; see :meth:`FlowOps.update_runs`."""
        return self._run(self._ops.update_runs(run_ids, **kwargs))  # type: ignore[no-any-return]

    def list_web_inputs(self, **kwargs: Any) -> APIResponse:
        """One page of ``GET /web_inputs``."""
        return self._run(self._ops.list_web_inputs(**kwargs))  # type: ignore[no-any-return]

    def get_web_input(self, web_input_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``GET /web_inputs/{web_input_id}``."""
        return self._run(self._ops.get_web_input(web_input_id, authorizer))  # type: ignore[no-any-return]

    def respond_to_web_input(self, web_input_id: str, value: Any, authorizer: Any = MISSING) -> APIResponse:
        """``POST /web_inputs/{web_input_id}/respond``."""
        return self._run(self._ops.respond_to_web_input(web_input_id, value, authorizer))  # type: ignore[no-any-return]

    def list_registered_apis(self, **kwargs: Any) -> APIResponse:
        """One page of ``GET /registered_apis``."""
        return self._run(self._ops.list_registered_apis(**kwargs))  # type: ignore[no-any-return]

    def get_registered_api(self, registered_api_id: str, authorizer: Any = MISSING) -> APIResponse:
        """``GET /registered_apis/{registered_api_id}``."""
        return self._run(self._ops.get_registered_api(registered_api_id, authorizer))  # type: ignore[no-any-return]

    def wait_for_run(self, run_id: str, timeout: float | None = 600.0, initial_delay: float = 0.5, max_delay: float = 15.0, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Poll until the run leaves ACTIVE; return it. ``WaitTimeout`` after ``timeout`` s."""
        return self._run(self._ops.wait_for_run(run_id, timeout, initial_delay, max_delay, authorizer))  # type: ignore[no-any-return]


class AsyncFlowsClient(AsyncDriven, _FlowsClientBase[AsyncTransport], init=False):
    """The async twin of :class:`FlowsClient`: same methods, awaited; safe across tasks.

    ``transport`` is an :class:`~automate_lite.AsyncTransport`; the default is an
    :class:`~automate_lite.transports.AsyncioTransport` (stdlib asyncio, keep-alive,
    at most 32 connections per host). Pass an ``AiohttpTransport``/``HttpxTransport``
    to share your own session.
    """

    __slots__ = ()

    async def _iter(self, pager: Pager) -> AsyncIterator[dict[str, Any]]:
        while not pager.done:
            for item in pager.items(await self._run(pager.next_page())):
                yield item


    async def create_flow(self, title: str, definition: Mapping[str, Any], input_schema: Mapping[str, Any] | Any = MISSING, subtitle: str | Any = MISSING, description: str | Any = MISSING, flow_viewers: Iterable[str] | Any = MISSING, flow_starters: Iterable[str] | Any = MISSING, flow_administrators: Iterable[str] | Any = MISSING, run_managers: Iterable[str] | Any = MISSING, run_monitors: Iterable[str] | Any = MISSING, keywords: Iterable[str] | Any = MISSING, subscription_id: str | None | Any = MISSING, authentication_policy_id: str | None | Any = MISSING, additional_fields: Mapping[str, Any] | None = None, validate_definition: bool = True, dry_run: bool = False, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.create_flow`."""
        return await self._run(self._ops.create_flow(title, definition, input_schema, subtitle, description, flow_viewers, flow_starters, flow_administrators, run_managers, run_monitors, keywords, subscription_id, authentication_policy_id, additional_fields, validate_definition, dry_run, authorizer))  # type: ignore[no-any-return]

    async def deploy_flow(self, flow_definition: Mapping[str, Any], title: str, subtitle: str | None = None, description: str | None = None, keywords: Iterable[str] = (), flow_viewers: Iterable[str] = (), flow_starters: Iterable[str] = (), flow_administrators: Iterable[str] = (), subscription_id: str | None = None, input_schema: Mapping[str, Any] | None = None, validate_definition: bool = True, validate_schema: bool = True, dry_run: bool = False, **kwargs: Any) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.deploy_flow`."""
        return await self._run(self._ops.deploy_flow(flow_definition, title, subtitle, description, keywords, flow_viewers, flow_starters, flow_administrators, subscription_id, input_schema, validate_definition, validate_schema, dry_run, **kwargs))  # type: ignore[no-any-return]

    async def update_flow(self, flow_id: str, flow_definition: Mapping[str, Any] | None = None, title: str | None = None, subtitle: str | None = None, description: str | None = None, keywords: Iterable[str] | None = None, flow_viewers: Iterable[str] | None = None, flow_starters: Iterable[str] | None = None, flow_administrators: Iterable[str] | None = None, subscription_id: str | None = None, input_schema: Mapping[str, Any] | None = None, validate_definition: bool = True, validate_schema: bool = True, **kwargs: Any) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.update_flow`."""
        return await self._run(self._ops.update_flow(flow_id, flow_definition, title, subtitle, description, keywords, flow_viewers, flow_starters, flow_administrators, subscription_id, input_schema, validate_definition, validate_schema, **kwargs))  # type: ignore[no-any-return]

    async def get_flow(self, flow_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.get_flow`."""
        return await self._run(self._ops.get_flow(flow_id, authorizer))  # type: ignore[no-any-return]

    async def delete_flow(self, flow_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.delete_flow`."""
        return await self._run(self._ops.delete_flow(flow_id, authorizer))  # type: ignore[no-any-return]

    async def scope_for_flow(self, flow_id: str) -> str:
        """Async :meth:`FlowsClient.scope_for_flow`."""
        return await self._run(self._ops.scope_for_flow(flow_id))  # type: ignore[no-any-return]

    async def list_flows(self, roles: Iterable[str] | None = None, marker: str | None = None, per_page: int | None = None, filters: Mapping[str, Any] | None = None, orderings: Mapping[str, str] | None = None, role: str | None = None, **kwargs: Any) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.list_flows`."""
        return await self._run(self._ops.list_flows(roles, marker, per_page, filters, orderings, role, **kwargs))  # type: ignore[no-any-return]

    def iter_flows(self, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Async :meth:`FlowsClient.iter_flows` (``async for``)."""
        return self._iter(self._ops.pager(self._ops.list_flows, "flows", **kwargs))

    async def validate_flow(self, definition: Mapping[str, Any], input_schema: Mapping[str, Any] | Any = MISSING, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.validate_flow`."""
        return await self._run(self._ops.validate_flow(definition, input_schema, authorizer))  # type: ignore[no-any-return]

    async def run_flow(self, flow_id: str, flow_scope: str | None, flow_input: Mapping[str, Any], run_managers: Iterable[str] | None = None, run_monitors: Iterable[str] | None = None, dry_run: bool = False, label: str | None = None, tags: Iterable[str] | None = None, **kwargs: Any) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.run_flow`."""
        return await self._run(self._ops.run_flow(flow_id, flow_scope, flow_input, run_managers, run_monitors, dry_run, label, tags, **kwargs))  # type: ignore[no-any-return]

    async def validate_run(self, flow_id: str, flow_input: Mapping[str, Any], flow_scope: str | None = None, **kwargs: Any) -> APIResponse:
        """Async :meth:`FlowsClient.validate_run`."""
        return await self._run(self._ops.validate_run(flow_id, flow_input, flow_scope, **kwargs))  # type: ignore[no-any-return]

    async def flow_action_status(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.flow_action_status`."""
        return await self._run(self._ops.flow_action_status(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    async def flow_action_log(self, flow_id: str, flow_scope: str | None, flow_action_id: str, limit: int = 10, reverse_order: bool = False, marker: str | None = None, per_page: int | None = None, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.flow_action_log`."""
        return await self._run(self._ops.flow_action_log(flow_id, flow_scope, flow_action_id, limit, reverse_order, marker, per_page, authorizer))  # type: ignore[no-any-return]

    async def flow_action_cancel(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.flow_action_cancel`."""
        return await self._run(self._ops.flow_action_cancel(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    async def flow_action_release(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.flow_action_release`."""
        return await self._run(self._ops.flow_action_release(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    async def flow_action_resume(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.flow_action_resume`."""
        return await self._run(self._ops.flow_action_resume(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    async def get_flow_definition_for_run(self, flow_id: str, flow_scope: str | None, flow_action_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.get_flow_definition_for_run`."""
        return await self._run(self._ops.get_flow_definition_for_run(flow_id, flow_scope, flow_action_id, authorizer))  # type: ignore[no-any-return]

    async def enumerate_runs(self, roles: Iterable[str] | None = None, statuses: Iterable[str] | None = None, marker: str | None = None, per_page: int | None = None, filters: Mapping[str, Any] | None = None, orderings: Mapping[str, str] | None = None, role: str | None = None, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.enumerate_runs`."""
        return await self._run(self._ops.enumerate_runs(roles, statuses, marker, per_page, filters, orderings, role, authorizer))  # type: ignore[no-any-return]

    enumerate_actions = enumerate_runs

    async def list_flow_runs(self, flow_id: str | None = None, flow_scope: str | None = None, statuses: Iterable[str] | None = None, roles: Iterable[str] | None = None, marker: str | None = None, per_page: int | None = None, filters: Mapping[str, Any] | None = None, orderings: Mapping[str, str] | None = None, role: str | None = None, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.list_flow_runs`."""
        return await self._run(self._ops.list_flow_runs(flow_id, flow_scope, statuses, roles, marker, per_page, filters, orderings, role, authorizer))  # type: ignore[no-any-return]

    list_flow_actions = list_flow_runs

    async def list_runs(self, **kwargs: Any) -> APIResponse:
        """Async :meth:`FlowsClient.list_runs`."""
        return await self._run(self._ops.list_runs(**kwargs))  # type: ignore[no-any-return]

    def iter_runs(self, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Async :meth:`FlowsClient.iter_runs` (``async for``)."""
        return self._iter(self._ops.pager(self._ops.list_runs, "runs", **kwargs))

    async def get_run(self, run_id: str, include_flow_description: bool | Any = MISSING, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.get_run`."""
        return await self._run(self._ops.get_run(run_id, include_flow_description, authorizer))  # type: ignore[no-any-return]

    async def get_run_definition(self, run_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.get_run_definition`."""
        return await self._run(self._ops.get_run_definition(run_id, authorizer))  # type: ignore[no-any-return]

    async def get_run_logs(self, run_id: str, limit: int | Any = MISSING, reverse_order: bool | Any = MISSING, marker: str | Any = MISSING, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.get_run_logs`."""
        return await self._run(self._ops.get_run_logs(run_id, limit, reverse_order, marker, authorizer))  # type: ignore[no-any-return]

    def iter_run_logs(self, run_id: str, limit: int | Any = MISSING, reverse_order: bool | Any = MISSING) -> AsyncIterator[dict[str, Any]]:
        """Async :meth:`FlowsClient.iter_run_logs` (``async for``)."""
        return self._iter(self._ops.pager(self._ops.get_run_logs, "entries", run_id=run_id, limit=limit, reverse_order=reverse_order))

    async def cancel_run(self, run_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.cancel_run`."""
        return await self._run(self._ops.cancel_run(run_id, authorizer))  # type: ignore[no-any-return]

    async def release_run(self, run_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.release_run`."""
        return await self._run(self._ops.release_run(run_id, authorizer))  # type: ignore[no-any-return]

    delete_run = release_run

    async def resume_run(self, run_id: str, flow_id: str | None = None, flow_scope: str | None = None, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.resume_run`."""
        return await self._run(self._ops.resume_run(run_id, flow_id, flow_scope, authorizer))  # type: ignore[no-any-return]

    async def update_run(self, run_id: str, **kwargs: Any) -> APIResponse:
        """Async :meth:`FlowsClient.update_run`."""
        return await self._run(self._ops.update_run(run_id, **kwargs))  # type: ignore[no-any-return]

    async def flow_action_update(self, action_id: str, run_managers: Sequence[str] | None = None, run_monitors: Sequence[str] | None = None, tags: Sequence[str] | None = None, label: str | None = None, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.flow_action_update`."""
        return await self._run(self._ops.flow_action_update(action_id, run_managers, run_monitors, tags, label, authorizer))  # type: ignore[no-any-return]

    async def update_runs(self, run_ids: Iterable[str], **kwargs: Any) -> APIResponse:
        """Async :meth:`FlowsClient.update_runs`."""
        return await self._run(self._ops.update_runs(run_ids, **kwargs))  # type: ignore[no-any-return]

    async def list_web_inputs(self, **kwargs: Any) -> APIResponse:
        """Async :meth:`FlowsClient.list_web_inputs`."""
        return await self._run(self._ops.list_web_inputs(**kwargs))  # type: ignore[no-any-return]

    async def get_web_input(self, web_input_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.get_web_input`."""
        return await self._run(self._ops.get_web_input(web_input_id, authorizer))  # type: ignore[no-any-return]

    async def respond_to_web_input(self, web_input_id: str, value: Any, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.respond_to_web_input`."""
        return await self._run(self._ops.respond_to_web_input(web_input_id, value, authorizer))  # type: ignore[no-any-return]

    async def list_registered_apis(self, **kwargs: Any) -> APIResponse:
        """Async :meth:`FlowsClient.list_registered_apis`."""
        return await self._run(self._ops.list_registered_apis(**kwargs))  # type: ignore[no-any-return]

    async def get_registered_api(self, registered_api_id: str, authorizer: Any = MISSING) -> APIResponse:
        """Async :meth:`FlowsClient.get_registered_api`."""
        return await self._run(self._ops.get_registered_api(registered_api_id, authorizer))  # type: ignore[no-any-return]

    async def wait_for_run(self, run_id: str, timeout: float | None = 600.0, initial_delay: float = 0.5, max_delay: float = 15.0, authorizer: Any = MISSING) -> APIResponse:  # noqa: E501
        """Async :meth:`FlowsClient.wait_for_run`; await many at once with ``asyncio.gather``."""
        return await self._run(self._ops.wait_for_run(run_id, timeout, initial_delay, max_delay, authorizer))  # type: ignore[no-any-return]
