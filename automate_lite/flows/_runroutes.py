"""The Flows routes about runs: the legacy per-flow routes, ``/runs``, web inputs,
registered APIs, and waiting for a run."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, TypeVar

from .._core.baseops import ListResponse, listing
from .._core.bind import paged
from .._core.checks import check_positive_int, check_str, comma, given, merge_fields
from .._core.http import Authorizer, Session, uuid_segment
from .._core.ops import Op
from .._core.paging import check_poll_args
from .._core.response import APIResponse
from .._core.scopes import RUN_MANAGE_SCOPE, RUN_STATUS_SCOPE
from .._core.values import MISSING, MissingType
from .._core.watch import OnUpdate, check_on_update, watch_op
from ..actions import ActionOps
from ..errors import UsageError
from ._args import body_list, list_query, str_list, time_range
from ._base import CallAuth, FlowBase, QueryParams, Strings

__all__ = ["RunRoutes"]

T = TypeVar("T")


class RunRoutes(FlowBase):
    """``/runs...``, ``/flows/{id}/{run_id}/...``, ``/web_inputs``, ``/registered_apis``, waiting."""

    __slots__ = ()

    # -- the legacy per-flow run routes ----------------------------------------------

    # A flow is an Action Provider at /flows/{flow_id}: these routes are ActionOps'
    # own, sent there with the flow's token.
    def _as_provider(self, flow_id: str, flow_scope: str | None, run_id: str, authorizer: CallAuth,
                     call: Callable[[ActionOps, str], Op[T]]) -> Op[T]:
        fid = uuid_segment(flow_id, "flow_id")
        rid = uuid_segment(run_id, "flow_action_id")
        token = yield from self._flow_authorizer(fid, flow_scope, authorizer)
        s = self.session
        provider = ActionOps(Session(f"{s.base_url}/flows/{fid}", token, s.headers, s.retry, s.allow_insecure_http,
                                     s.auth_requirements_handler))
        return (yield from call(provider, rid))

    def flow_action_status(self, flow_id: str, flow_scope: str | None, flow_action_id: str,
                           authorizer: CallAuth = MISSING, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET /flows/{flow_id}/{run_id}/status`` with the flow's token."""
        return self._as_provider(flow_id, flow_scope, flow_action_id, authorizer,
                                 lambda p, rid: p.status(rid, query_params=query_params))

    def flow_action_cancel(self, flow_id: str, flow_scope: str | None, flow_action_id: str,
                           authorizer: CallAuth = MISSING, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/{run_id}/cancel`` with the flow's token."""
        return self._as_provider(flow_id, flow_scope, flow_action_id, authorizer,
                                 lambda p, rid: p.cancel(rid, query_params=query_params))

    def flow_action_release(self, flow_id: str, flow_scope: str | None, flow_action_id: str,
                            authorizer: CallAuth = MISSING, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/{run_id}/release`` with the flow's token."""
        return self._as_provider(flow_id, flow_scope, flow_action_id, authorizer,
                                 lambda p, rid: p.release(rid, query_params=query_params))

    def flow_action_resume(self, flow_id: str, flow_scope: str | None, flow_action_id: str,
                           authorizer: CallAuth = MISSING, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST /flows/{flow_id}/{run_id}/resume`` with the flow's token."""
        return self._as_provider(flow_id, flow_scope, flow_action_id, authorizer,
                                 lambda p, rid: p.resume(rid, query_params=query_params))

    def flow_action_log(
        self,
        flow_id: str,
        flow_scope: str | None,
        flow_action_id: str,
        limit: int = 10,
        reverse_order: bool = False,
        marker: str | None = None,
        per_page: int | None = None,
        authorizer: CallAuth = MISSING,
        *,
        query_params: QueryParams | None = None,
    ) -> Op[ListResponse]:
        """``GET /flows/{flow_id}/{run_id}/log`` with the flow's token (one page, ``entries``).

        Sent as the original did (it is :meth:`ActionClient.log`): ``reverse_order`` only
        when true, ``marker`` as ``pagination_token``, ``per_page`` only without a marker.
        """
        check_positive_int(limit, "limit")
        check_positive_int(per_page, "per_page")
        check_str(marker, "marker")
        return self._as_provider(flow_id, flow_scope, flow_action_id, authorizer,
                                 lambda p, rid: p.log(rid, limit, reverse_order, marker, per_page,
                                                      query_params=query_params))

    def get_flow_definition_for_run(self, flow_id: str, flow_scope: str | None, flow_action_id: str,
                                    authorizer: CallAuth = MISSING, *,
                                    query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET /runs/{run_id}/definition`` with the flow's token: the definition and schema a run started with.

        As the original did, ``authorizer_callback`` is asked for the flow's scope
        (``flow_scope``, or derived from ``flow_id``); a per-call ``authorizer=`` wins.
        """
        fid = uuid_segment(flow_id, "flow_id")
        rid = uuid_segment(flow_action_id, "flow_action_id")
        return self._with(self._flow_authorizer(fid, flow_scope, authorizer), "GET", f"/runs/{rid}/definition",
                          query_params)

    # -- runs ------------------------------------------------------------------------

    def list_runs(
        self,
        *,
        filter_flow_id: Strings | None = None,
        filter_roles: Strings | None = None,
        filter_status: Strings | None = None,
        filter_label: Strings | None = None,
        filter_start_time: str | tuple[Any, Any] | None = None,
        filter_completion_time: str | tuple[Any, Any] | None = None,
        orderby: Strings | None = None,
        marker: str | None = None,
        per_page: int | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[ListResponse]:
        """``GET /runs``: one page of the runs you can see (page key ``runs``).

        Time filters take ``"DT1,DT2"`` or a ``(start, end)`` pair where either side
        may be ``None`` (open).
        """
        query = list_query(
            marker=marker, per_page=per_page, filter_roles=filter_roles, orderby=orderby,
            filter_flow_id=comma(filter_flow_id, "filter_flow_id"), filter_status=comma(filter_status, "filter_status"),
            filter_label=comma(filter_label, "filter_label"),
            filter_start_time=time_range(filter_start_time, "filter_start_time"),
            filter_completion_time=time_range(filter_completion_time, "filter_completion_time"),
        )
        return listing(self._service("GET", "/runs", authorizer, query_params, query), "runs")

    iter_runs = paged(list_runs, "runs")

    def enumerate_runs(
        self,
        roles: Strings | None = None,
        statuses: Strings | None = None,
        marker: str | None = None,
        per_page: int | None = None,
        filters: Mapping[str, Any] | None = None,
        orderings: Mapping[str, str] | None = None,
        role: str | None = None,
        authorizer: CallAuth = MISSING,
        *,
        query_params: QueryParams | None = None,
    ) -> Op[ListResponse]:
        """The original SDK's ``GET /runs`` listing (one page, ``runs``), with a ``RUN_STATUS_SCOPE`` token.

        With an ``authorizer_callback`` that token comes from the callback (as in the
        original), else the client's ``authorizer``; a per-call ``authorizer=`` wins.
        """
        auth = self._scoped(f"{self.session.base_url}/flows/", RUN_STATUS_SCOPE, authorizer)
        return self._runs_page("/runs", auth, roles, statuses, marker, per_page, filters, orderings, role,
                               query_params)

    def _runs_page(self, path: str, auth: Op[Authorizer | None], roles: object, statuses: object,
                   marker: str | None, per_page: int | None, filters: Mapping[str, Any] | None, orderings: object,
                   role: object, query_params: QueryParams | None) -> Op[ListResponse]:
        """One page of the original SDK's run listings (``marker`` sent as ``marker``), with ``auth``'s token."""
        query = list_query(roles=roles, role=role, marker=marker, per_page=per_page, filters=filters,
                           orderings=orderings, filter_status=comma(statuses, "statuses"))
        return listing(self._with(auth, "GET", path, query_params, query), "runs")

    def list_flow_runs(
        self,
        flow_id: str | None = None,
        flow_scope: str | None = None,
        statuses: Strings | None = None,
        roles: Strings | None = None,
        marker: str | None = None,
        per_page: int | None = None,
        filters: Mapping[str, Any] | None = None,
        orderings: Mapping[str, str] | None = None,
        role: str | None = None,
        authorizer: CallAuth = MISSING,
        *,
        query_params: QueryParams | None = None,
    ) -> Op[ListResponse]:
        """``GET /flows/{flow_id}/runs`` (``GET /runs``, as :meth:`enumerate_runs`, without ``flow_id``).

        As the original did, ``authorizer_callback`` is asked for the flow's scope
        (``flow_scope``, or derived from ``flow_id``); a per-call ``authorizer=`` wins.
        """
        if flow_id is None:
            return self.enumerate_runs(roles, statuses, marker, per_page, filters, orderings, role, authorizer,
                                       query_params=query_params)
        fid = uuid_segment(flow_id, "flow_id")
        return self._runs_page(f"/flows/{fid}/runs", self._flow_authorizer(fid, flow_scope, authorizer), roles,
                               statuses, marker, per_page, filters, orderings, role, query_params)

    def get_run(self, run_id: str, include_flow_description: bool | None = None, authorizer: CallAuth = MISSING, *,
                query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET /runs/{run_id}`` (``include_flow_description=True`` adds the flow's summary)."""
        rid = uuid_segment(run_id, "run_id")
        query = []
        if include_flow_description is not None:
            if not isinstance(include_flow_description, bool):
                raise UsageError(f"include_flow_description must be True or False, got {include_flow_description!r}")
            query.append(("include_flow_description", include_flow_description))
        return self._service("GET", f"/runs/{rid}", authorizer, query_params, query)

    def get_run_definition(self, run_id: str, authorizer: CallAuth = MISSING, *,
                           query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET /runs/{run_id}/definition``: the definition and input schema a run started with."""
        return self._service("GET", f"/runs/{uuid_segment(run_id, 'run_id')}/definition", authorizer, query_params)

    def get_run_logs(self, run_id: str, limit: int | None = None, reverse_order: bool = False,
                     marker: str | None = None, authorizer: CallAuth = MISSING, *,
                     query_params: QueryParams | None = None) -> Op[ListResponse]:
        """``GET /runs/{run_id}/log``: one page of the run's log (page key ``entries``)."""
        rid = uuid_segment(run_id, "run_id")
        check_positive_int(limit, "limit")
        check_str(marker, "marker")
        query: list[tuple[str, Any]] = []
        if limit is not None:
            query.append(("limit", limit))
        if reverse_order:
            query.append(("reverse_order", True))
        if marker is not None:
            query.append(("marker", marker))
        return listing(self._service("GET", f"/runs/{rid}/log", authorizer, query_params, query), "entries")

    iter_run_logs = paged(get_run_logs, "entries")

    def cancel_run(self, run_id: str, authorizer: CallAuth = MISSING, *,
                   query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST /runs/{run_id}/cancel``."""
        return self._service("POST", f"/runs/{uuid_segment(run_id, 'run_id')}/cancel", authorizer, query_params, safe=True)

    def release_run(self, run_id: str, authorizer: CallAuth = MISSING, *,
                    query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST /runs/{run_id}/release``: forget a finished run."""
        return self._service("POST", f"/runs/{uuid_segment(run_id, 'run_id')}/release", authorizer, query_params)

    def resume_run(self, run_id: str, flow_id: str | None = None, flow_scope: str | None = None,
                   authorizer: CallAuth = MISSING, *, query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST /runs/{run_id}/resume`` with the run's flow's token: resume an INACTIVE run.

        As globus-sdk's ``SpecificFlowClient.resume_run``, the flow's own token is used
        (from ``authorizer_callback``). Without ``flow_id`` the run is looked up first
        (``GET /runs/{run_id}``, service token) to learn its flow. With no
        ``authorizer_callback``, or a run document naming no flow, the service token
        is used; a per-call ``authorizer=`` wins, and then nothing is looked up.
        """
        rid = uuid_segment(run_id, "run_id")
        fid = None if flow_id is None else uuid_segment(flow_id, "flow_id")
        if flow_scope is not None and not isinstance(flow_scope, str):
            raise UsageError(f"flow_scope must be a scope string or None (derived from flow_id), got {flow_scope!r}")
        return self._with(self._run_flow_authorizer(rid, fid, flow_scope, authorizer), "POST",
                          f"/runs/{rid}/resume", query_params)

    def _run_flow_authorizer(self, run_id: str, flow_id: str | None, flow_scope: str | None,
                             authorizer: CallAuth) -> Op[Authorizer | None]:
        if authorizer is not MISSING or self.authorizers.callback is None:
            return (yield from self._scoped("", "", authorizer))
        if flow_id is None:
            run = yield from self._service("GET", f"/runs/{run_id}", MISSING, None)
            found = run.get("flow_id") if isinstance(run.data, dict) else None
            if not isinstance(found, str) or not found:
                return self.session.authorizer
            flow_id = found
        return (yield from self._flow_authorizer(flow_id, flow_scope, MISSING))

    def _update_doc(self, label: object, tags: object, run_managers: object, run_monitors: object,
                    additional_fields: Mapping[str, Any] | None) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        check_str(label, "label")
        if label is not MISSING:
            doc["label"] = label
        for name, value in (("tags", tags), ("run_managers", run_managers), ("run_monitors", run_monitors)):
            if value is not MISSING:
                doc[name] = None if value is None else body_list(value, name)
        return merge_fields(doc, additional_fields)

    def update_run(
        self,
        run_id: str,
        *,
        label: str | MissingType = MISSING,
        tags: Iterable[str] | None | MissingType = MISSING,
        run_managers: Iterable[str] | None | MissingType = MISSING,
        run_monitors: Iterable[str] | None | MissingType = MISSING,
        additional_fields: Mapping[str, Any] | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[APIResponse]:
        """``PUT /runs/{run_id}``: change only what is given (``[]`` clears a list)."""
        rid = uuid_segment(run_id, "run_id")
        doc = self._update_doc(label, tags, run_managers, run_monitors, additional_fields)
        return self._service("PUT", f"/runs/{rid}", authorizer, query_params, body=doc)

    def flow_action_update(
        self,
        action_id: str,
        run_managers: Iterable[str] | None = None,
        run_monitors: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        label: str | None = None,
        authorizer: CallAuth = MISSING,
        *,
        additional_fields: Mapping[str, Any] | None = None,
        query_params: QueryParams | None = None,
    ) -> Op[APIResponse]:
        """The original SDK's ``PUT /runs/{run_id}`` (``None`` leaves a field alone), with a ``RUN_MANAGE_SCOPE`` token."""
        rid = uuid_segment(action_id, "action_id")

        def g(value: object) -> object:
            return MISSING if value is None else value

        doc = self._update_doc(g(label), g(tags), g(run_managers), g(run_monitors), additional_fields)
        auth = self._scoped(f"{self.session.base_url}/flows/", RUN_MANAGE_SCOPE, authorizer)
        return self._with(auth, "PUT", f"/runs/{rid}", query_params, body=doc)

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
        authorizer: CallAuth = MISSING,
        *,
        additional_fields: Mapping[str, Any] | None = None,
        query_params: QueryParams | None = None,
    ) -> Op[APIResponse]:
        """``POST /batch/runs``: change tags, managers, monitors or status of many runs (``RUN_MANAGE_SCOPE``).

        For each of tags, run managers and run monitors pass at most one of
        ``set_``, ``add_``, ``remove_``. The token is chosen as for :meth:`flow_action_update`.
        """
        ids = [uuid_segment(r, "run_ids[]") for r in str_list(run_ids, "run_ids")]
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
                    doc[verb][name] = body_list(value, f"{verb}_{name}")
        if status is not None:
            check_str(status, "status")
            doc["set"]["status"] = status
        merge_fields(doc, additional_fields)
        auth = self._scoped(f"{self.session.base_url}/flows/", RUN_MANAGE_SCOPE, authorizer)
        return self._with(auth, "POST", "/batch/runs", query_params, body=doc)

    # -- web inputs and registered APIs ------------------------------------------------

    def list_web_inputs(
        self,
        *,
        filter_roles: Strings | None = None,
        filter_states: Strings | None = None,
        filter_flow_ids: Strings | None = None,
        filter_run_ids: Strings | None = None,
        orderby: Strings | None = None,
        per_page: int | None = None,
        marker: str | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[ListResponse]:
        """``GET /web_inputs``: one page of web inputs (page key ``web_input_summaries``)."""
        query = list_query(marker=marker, per_page=per_page, filter_roles=filter_roles, orderby=orderby,
                           filter_states=comma(filter_states, "filter_states"),
                           filter_flow_ids=comma(filter_flow_ids, "filter_flow_ids"),
                           filter_run_ids=comma(filter_run_ids, "filter_run_ids"))
        return listing(self._service("GET", "/web_inputs", authorizer, query_params, query), "web_input_summaries")

    iter_web_inputs = paged(list_web_inputs, "web_input_summaries")

    def get_web_input(self, web_input_id: str, authorizer: CallAuth = MISSING, *,
                      query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET /web_inputs/{web_input_id}``."""
        return self._service("GET", f"/web_inputs/{uuid_segment(web_input_id, 'web_input_id')}", authorizer, query_params)

    def respond_to_web_input(self, web_input_id: str, value: Any, authorizer: CallAuth = MISSING, *,
                             additional_fields: Mapping[str, Any] | None = None,
                             query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``POST /web_inputs/{web_input_id}/respond`` with ``{"response": {"value": value}}``."""
        wid = uuid_segment(web_input_id, "web_input_id")
        doc = merge_fields({"response": {"value": value}}, additional_fields)
        return self._service("POST", f"/web_inputs/{wid}/respond", authorizer, query_params, body=doc)

    def list_registered_apis(
        self,
        *,
        filter_roles: Strings | None = None,
        orderby: Strings | None = None,
        per_page: int | None = None,
        marker: str | None = None,
        query_params: QueryParams | None = None,
        authorizer: CallAuth = MISSING,
    ) -> Op[ListResponse]:
        """``GET /registered_apis``: one page (page key ``registered_apis``)."""
        query = list_query(marker=marker, per_page=per_page, filter_roles=filter_roles, orderby=orderby)
        return listing(self._service("GET", "/registered_apis", authorizer, query_params, query), "registered_apis")

    iter_registered_apis = paged(list_registered_apis, "registered_apis")

    def get_registered_api(self, registered_api_id: str, authorizer: CallAuth = MISSING, *,
                           query_params: QueryParams | None = None) -> Op[APIResponse]:
        """``GET /registered_apis/{registered_api_id}``."""
        rid = uuid_segment(registered_api_id, "registered_api_id")
        return self._service("GET", f"/registered_apis/{rid}", authorizer, query_params)

    # -- waiting ---------------------------------------------------------------------

    def wait_for_run(
        self,
        run_id: str,
        timeout: float | None = 600.0,
        initial_delay: float = 0.5,
        max_delay: float = 15.0,
        authorizer: CallAuth = MISSING,
        *,
        on_update: OnUpdate | None = None,
    ) -> Op[APIResponse]:
        """Poll ``GET /runs/{run_id}`` with back-off until the run leaves ACTIVE; return it.

        ``on_update(kind, data)`` hears each new status (``"status"``, the run) and
        each new entry of ``GET /runs/{run_id}/log`` (``"log"``); an ``async def`` one
        is awaited by the async client. Raises :class:`~automate_lite.WaitTimeout`
        after ``timeout`` seconds.
        """
        settings = check_poll_args(timeout, initial_delay, max_delay)
        rid = uuid_segment(run_id, "run_id")
        check_on_update(on_update)

        def finished(doc: APIResponse) -> bool:
            return bool(doc.get("status") != "ACTIVE")

        return watch_op(lambda: self.get_run(rid, authorizer=authorizer), finished, settings, f"run {rid}",
                        on_update, lambda marker: self.get_run_logs(rid, limit=100, marker=marker, authorizer=authorizer))
