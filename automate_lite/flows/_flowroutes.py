"""The Flows routes about flows: deploy, change, list, validate, and run them."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from .._core.baseops import ListResponse, listing
from .._core.bind import paged
from .._core.checks import check_mapping, check_str, comma, given, merge_fields, run_document
from .._core.http import encode_json, uuid_segment
from .._core.ops import Op
from .._core.response import APIResponse
from .._core.values import MISSING, MissingType
from ..errors import UsageError
from ._args import alias, identity_lists, list_query
from ._base import CallAuth, FlowBase, QueryParams, Strings, check_json_mapping

__all__ = ["FlowRoutes"]


class FlowRoutes(FlowBase):
    """``/flows...``: the operations on flows, and starting a run."""

    __slots__ = ()

    # -- flows ---------------------------------------------------------------------

    def create_flow(
        self,
        title: str,
        definition: Mapping[str, Any],
        input_schema: Mapping[str, Any] | MissingType = MISSING,
        subtitle: str | MissingType = MISSING,
        description: str | MissingType = MISSING,
        flow_viewers: Iterable[str] | MissingType = MISSING,
        flow_starters: Iterable[str] | MissingType = MISSING,
        flow_administrators: Iterable[str] | MissingType = MISSING,
        run_managers: Iterable[str] | MissingType = MISSING,
        run_monitors: Iterable[str] | MissingType = MISSING,
        keywords: Iterable[str] | MissingType = MISSING,
        subscription_id: str | None | MissingType = MISSING,
        authentication_policy_id: str | None | MissingType = MISSING,
        additional_fields: Mapping[str, Any] | None = None,
        validate_definition: bool = True,
        dry_run: bool = False,
        authorizer: CallAuth = MISSING,
        *,
        query_params: QueryParams | None = None,
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
            from ..definitions.validation import validate_flow_definition

            validate_flow_definition(definition)
        encode_json(definition, "definition")
        check_json_mapping(input_schema, "input_schema")
        doc: dict[str, Any] = {"title": title, "definition": definition,
                               "input_schema": input_schema if given(input_schema) else {}}
        for name, value in (("subtitle", subtitle), ("description", description)):
            check_str(value, name)
            if value is not MISSING:
                doc[name] = value
        identity_lists(doc, (("flow_viewers", flow_viewers), ("flow_starters", flow_starters),
                             ("flow_administrators", flow_administrators), ("run_managers", run_managers),
                             ("run_monitors", run_monitors), ("keywords", keywords)))
        for name, ident in (("subscription_id", subscription_id), ("authentication_policy_id", authentication_policy_id)):
            if ident is not MISSING:
                doc[name] = None if ident is None else str(ident)
        merge_fields(doc, additional_fields)
        path = "/flows/dry-run" if dry_run else "/flows"
        return self._service("POST", path, authorizer, query_params, body=doc)

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
        *,
        viewers: Iterable[str] | None = None,
        visible_to: Iterable[str] | None = None,
        starters: Iterable[str] | None = None,
        runnable_by: Iterable[str] | None = None,
        administrators: Iterable[str] | None = None,
        administered_by: Iterable[str] | None = None,
        additional_fields: Mapping[str, Any] | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[APIResponse]:
        """The original SDK's ``deploy_flow``: ``POST /flows`` (or ``/flows/dry-run``).

        Empty arguments are left out, as the original did. ``None`` for ``keywords`` or a
        principal list is a :class:`UsageError` (the original's signature takes an
        iterable there; pass ``()`` or leave the argument out). The deprecated
        aliases ``viewers``/``visible_to``, ``starters``/``runnable_by``,
        ``administrators``/``administered_by`` still work with a ``DeprecationWarning``.
        """
        for name, given in (("keywords", keywords), ("flow_viewers", flow_viewers),
                            ("flow_starters", flow_starters), ("flow_administrators", flow_administrators)):
            if given is None:
                raise UsageError(f"deploy_flow({name}=None): {name} takes a list of strings; "
                                 f"pass () or leave {name} out for none")
        v = alias(("flow_viewers", flow_viewers), [("viewers", viewers), ("visible_to", visible_to)], ())
        s = alias(("flow_starters", flow_starters), [("starters", starters), ("runnable_by", runnable_by)], ())
        a = alias(("flow_administrators", flow_administrators),
                  [("administrators", administrators), ("administered_by", administered_by)], ())
        if validate_schema and input_schema is not None and not isinstance(input_schema, Mapping):
            raise UsageError(f"input_schema must be a dict (a JSON Schema), got {type(input_schema).__name__}")

        def opt(value: Any) -> Any:
            if isinstance(value, Iterable) and not isinstance(value, (str, Mapping)):
                value = list(value)
            return value if value else MISSING

        return self.create_flow(
            title, flow_definition, input_schema if input_schema is not None else MISSING,
            subtitle=opt(subtitle), description=opt(description), flow_viewers=opt(v), flow_starters=opt(s),
            flow_administrators=opt(a), keywords=opt(keywords), subscription_id=opt(subscription_id),
            additional_fields=additional_fields, validate_definition=validate_definition, dry_run=dry_run,
            authorizer=authorizer, query_params=query_params,
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
        viewers: Iterable[str] | None = None,
        visible_to: Iterable[str] | None = None,
        starters: Iterable[str] | None = None,
        runnable_by: Iterable[str] | None = None,
        administrators: Iterable[str] | None = None,
        administered_by: Iterable[str] | None = None,
        additional_fields: Mapping[str, Any] | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[APIResponse]:
        """``PUT /flows/{flow_id}``: change only the fields given.

        ``None`` (or not passing) leaves a field as it is; ``[]`` or ``""`` clears it.
        ``definition`` is the modern name of ``flow_definition``; ``subscription_id``
        may be ``"DEFAULT"``. The deprecated aliases of :meth:`deploy_flow` work here too.
        """
        fid = uuid_segment(flow_id, "flow_id")
        if flow_definition is not None and definition is not None:
            raise UsageError("pass only one of flow_definition and definition (they mean the same)")
        new_definition = flow_definition if flow_definition is not None else definition
        v = alias(("flow_viewers", flow_viewers), [("viewers", viewers), ("visible_to", visible_to)])
        s = alias(("flow_starters", flow_starters), [("starters", starters), ("runnable_by", runnable_by)])
        a = alias(("flow_administrators", flow_administrators),
                  [("administrators", administrators), ("administered_by", administered_by)])
        if new_definition is not None:
            if not isinstance(new_definition, Mapping):
                raise UsageError(f"flow_definition must be a dict, got {type(new_definition).__name__}")
            if validate_definition:
                from ..definitions.validation import validate_flow_definition

                validate_flow_definition(new_definition)
            encode_json(new_definition, "flow_definition")
        if validate_schema:
            check_mapping(input_schema, "input_schema")
        doc: dict[str, Any] = {}
        for name, value in (("definition", new_definition), ("input_schema", input_schema), ("title", title),
                            ("subtitle", subtitle), ("description", description), ("flow_owner", flow_owner),
                            ("subscription_id", subscription_id),
                            ("authentication_policy_id", authentication_policy_id)):
            if value is not None:
                if name not in ("definition", "input_schema"):
                    check_str(value, name)
                doc[name] = value
        identity_lists(doc, (("keywords", keywords), ("flow_viewers", v), ("flow_starters", s),
                             ("flow_administrators", a), ("run_managers", run_managers), ("run_monitors", run_monitors)))
        merge_fields(doc, additional_fields)
        return self._service("PUT", f"/flows/{fid}", authorizer, query_params, body=doc)

    def get_flow(self, flow_id: str, authorizer: CallAuth = MISSING, *,
                 query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET /flows/{flow_id}``."""
        return self._service("GET", f"/flows/{uuid_segment(flow_id, 'flow_id')}", authorizer, query_params)

    def delete_flow(self, flow_id: str, authorizer: CallAuth = MISSING, *,
                    query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``DELETE /flows/{flow_id}``."""
        return self._service("DELETE", f"/flows/{uuid_segment(flow_id, 'flow_id')}", authorizer, query_params)

    def scope_for_flow(self, flow_id: str, *, query_params: QueryParams | None = None) -> Op[str]:
        """``GET /flows/{flow_id}``, returning its ``globus_auth_scope`` (``""`` if none)."""
        doc = yield from self.get_flow(flow_id, query_params=query_params)
        scope = doc.get("globus_auth_scope", "")
        return scope if isinstance(scope, str) else ""

    def list_flows(
        self,
        roles: Strings | None = None,
        marker: str | None = None,
        per_page: int | None = None,
        filters: Mapping[str, Any] | None = None,
        orderings: Mapping[str, str] | None = None,
        role: str | None = None,
        *,
        filter_roles: Strings | None = None,
        filter_fulltext: str | None = None,
        filter_title: str | None = None,
        filter_keywords: Strings | None = None,
        orderby: Strings | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[ListResponse]:
        """``GET /flows``: one page of the flows you have a role on (page key ``flows``).

        Takes the original SDK's arguments (``role``/``roles``, ``filters``,
        ``orderings``) and the modern ones (``filter_roles``, ``filter_fulltext``,
        ``orderby``, sent comma-separated). Iterating the page yields its flows;
        follow ``resp["marker"]`` while ``resp["has_next_page"]``, or use ``iter_flows``.
        """
        query = list_query(roles=roles, role=role, marker=marker, per_page=per_page, filters=filters,
                           orderings=orderings, filter_roles=filter_roles, orderby=orderby,
                           filter_fulltext=filter_fulltext, filter_title=filter_title,
                           filter_keywords=comma(filter_keywords, "filter_keywords"))
        return listing(self._service("GET", "/flows", authorizer, query_params, query), "flows")

    iter_flows = paged(list_flows, "flows")

    def validate_flow(self, definition: Mapping[str, Any], input_schema: Mapping[str, Any] | MissingType = MISSING,
                      authorizer: CallAuth = MISSING, *, additional_fields: Mapping[str, Any] | None = None,
                      query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST /flows/validate``: ask the service to check a definition (nothing is created)."""
        if not isinstance(definition, Mapping):
            raise UsageError(f"definition must be a dict, got {type(definition).__name__}")
        encode_json(definition, "definition")
        check_json_mapping(input_schema, "input_schema")
        doc: dict[str, Any] = {"definition": definition}
        if given(input_schema):
            doc["input_schema"] = input_schema
        merge_fields(doc, additional_fields)
        return self._service("POST", "/flows/validate", authorizer, query_params, body=doc)

    # -- running a flow --------------------------------------------------------------

    @staticmethod
    def _run_body(flow_input: object, run_managers: object, run_monitors: object, manage_by: object,
                  monitor_by: object, label: object, tags: object, request_id: object,
                  activity_notification_policy: object, additional_fields: Mapping[str, Any] | None) -> dict[str, Any]:
        managers = alias(("run_managers", run_managers), [("manage_by", manage_by)])
        monitors = alias(("run_monitors", run_monitors), [("monitor_by", monitor_by)])
        doc = run_document(flow_input, "flow_input", request_id, label, tags,
                           ("run_monitors", monitors or None), ("run_managers", managers or None))
        if given(activity_notification_policy):
            policy = activity_notification_policy
            if not isinstance(policy, Mapping):
                raise UsageError("activity_notification_policy must be a dict such as "
                                 f"{{'status': ['INACTIVE', 'FAILED']}}, got {policy!r}")
            doc["activity_notification_policy"] = dict(policy)
        return merge_fields(doc, additional_fields)

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
        activity_notification_policy: Mapping[str, Any] | None = None,
        manage_by: Iterable[str] | None = None,
        monitor_by: Iterable[str] | None = None,
        additional_fields: Mapping[str, Any] | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/run`` (``/run/dry-run`` with ``dry_run``) with the flow's token.

        ``flow_scope`` may be ``None``: it is derived from ``flow_id``. The body carries
        a ``request_id`` (a fresh uuid4 unless given), so retrying never starts a second
        run. ``manage_by``/``monitor_by`` are deprecated aliases.
        """
        fid = uuid_segment(flow_id, "flow_id")
        doc = self._run_body(flow_input, run_managers, run_monitors, manage_by, monitor_by, label, tags, request_id,
                             activity_notification_policy, additional_fields)
        path = f"/flows/{fid}/run/dry-run" if dry_run else f"/flows/{fid}/run"
        return self._with(self._flow_authorizer(fid, flow_scope, authorizer), "POST", path, query_params,
                          body=doc, safe=True, json_argument="flow_input")

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
        activity_notification_policy: Mapping[str, Any] | None = None,
        additional_fields: Mapping[str, Any] | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/validate_run``: check a run's input without starting it."""
        fid = uuid_segment(flow_id, "flow_id")
        doc = self._run_body(flow_input, run_managers, run_monitors, None, None, label, tags, None,
                             activity_notification_policy, additional_fields)
        doc.pop("request_id")
        return self._with(self._flow_authorizer(fid, flow_scope, authorizer), "POST", f"/flows/{fid}/validate_run",
                          query_params, body=doc, safe=True, json_argument="flow_input")
