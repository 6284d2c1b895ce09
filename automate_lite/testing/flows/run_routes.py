"""Run routes of the local Flows service: get, list, log, update, cancel, release, resume, batch, legacy."""

from __future__ import annotations

import functools

from ...definitions.privacy import without_private_state
from .._server import Reply, StubRequest
from .flow_routes import FlowRoutes
from .limits import duration_description
from .store import (
    Caller, Doc, RunRecord, _BATCH_FIELDS, _Fail, _LOG_LIMIT_DEFAULT, _LOG_LIMIT_MAX, _RUN_ROLE_ALIASES,
    _RUN_ROLE_ORDER, _RUN_STATUSES, _conflict, _forbidden, _iso, _not_found, _unprocessable, flow_scope,
)
from .parsing import (
    _bool_arg, _comma_args, _in_range, _json_object, _order, _page, _principals, _str_field, _str_list,
    _time_range,
)

#: The run verbs that have a ``POST`` route, both ``/runs/{id}/<verb>`` and the legacy
#: ``/flows/{flow_id}/{id}/<verb>``; both are :meth:`RunRoutes._run_verb`.
_RUN_VERBS = ("cancel", "release", "resume")


class RunRoutes(FlowRoutes):
    """The ``/runs`` routes and the legacy ``/flows/{fid}/{rid}/...`` ones."""

    def _run_roles(self, run: RunRecord, caller: Caller) -> set[str]:
        p = caller.principals
        roles: set[str] = set()
        if run.owner in p:
            roles.update(_RUN_ROLE_ORDER)
        if p.intersection(run.run_managers):
            roles.update(("run_manager", "run_monitor"))
        if p.intersection(run.run_monitors):
            roles.add("run_monitor")
        flow = self.state.flows.get(run.flow_id)
        if flow is not None:
            if p.intersection(flow["run_managers"]):
                roles.update(("flow_run_manager", "run_manager", "run_monitor"))
            if p.intersection(flow["run_monitors"]):
                roles.update(("flow_run_monitor", "run_monitor"))
        return roles

    @staticmethod
    def _check_flow_token(caller: Caller, run: RunRecord) -> None:
        """403 MISSING_SCOPE when a flow token of another flow asks about ``run``."""
        if caller.kind == "flow" and caller.flow_id not in (None, run.flow_id):
            raise _Fail(403, "MISSING_SCOPE", f"The token is not valid for the scope {flow_scope(run.flow_id)}")

    def _visible_run(self, run_id: str, caller: Caller, *, manage: bool = False) -> RunRecord:
        run = self.state.runs.get(run_id)
        if run is None or not self._run_roles(run, caller):
            _not_found("Run", run_id)
        if manage and "run_manager" not in self._run_roles(run, caller):
            _forbidden(f"You must be the owner or a run_manager of run {run_id} to change it")
        return run

    def _details(self, run: RunRecord, status: str) -> Doc:
        """The run's ``details`` as shown (a copy): never a ``_private*`` property of its state."""
        shown: Doc = without_private_state(self._raw_details(run, status))
        return shown

    def _raw_details(self, run: RunRecord, status: str) -> Doc:
        """The run's ``details``, not copied: :meth:`_details` copies what it shows."""
        if status == "ENDED":
            return {"code": "FlowCanceled", "description": "The run was canceled"}
        if run.live is not None:
            return run.live.details
        if run.terminated_at is not None:
            return self._terminated_details(run)
        s = run.script
        assert s is not None
        output = s.output if s.has_output else {k: v for k, v in run.body.items() if k != "_stub"}
        if status == "ACTIVE":
            return {"code": "FlowStarted", "description": "The run is in progress"}
        if status == "INACTIVE":
            return dict(
                s.inactive_details
                or {
                    "code": "ConsentRequired",
                    "description": "The run is waiting for the user's consent; resume it once given",
                    "required_scope": "https://auth.globus.org/scopes/actions.globus.org/transfer/transfer",
                }
            )
        if status == "SUCCEEDED":
            base: Doc = {"code": "FlowSucceeded", "description": "The run reached a successful completion state", "output": output}
        else:
            base = {"code": "FlowFailed", "description": "The run failed", "output": output}
        base.update(s.details)
        return base

    @staticmethod
    def _terminated_details(run: RunRecord) -> Doc:
        """A scripted run ended for running too long (as the runner ends an executed one)."""
        assert run.terminated_at is not None
        description = duration_description(run.terminated_at - run.start)
        return {"code": "FlowFailed", "description": description, "error": "Flows.RunDurationExceeded",
                "cause": description, "output": None}

    def _run_doc(self, run: RunRecord, caller: Caller, now: float, *, legacy: bool = False) -> Doc:
        raw_status = run.status(now)
        status = self.cancel_status if raw_status == "ENDED" else raw_status
        completion = run.completion(now)
        roles = self._run_roles(run, caller)
        is_manager = "run_manager" in roles or caller.kind == "any"
        doc: Doc = {
            "run_id": run.run_id,
            "action_id": run.run_id,
            "flow_id": run.flow_id,
            "flow_title": run.flow_title,
            "flow_last_updated": run.flow_snapshot["updated_at"],
            "status": status,
            "display_status": status,
            "details": self._details(run, raw_status),
            "label": run.label,
            "tags": list(run.tags),
            "run_owner": run.owner,
            # Monitors do not get to see who else manages the run (as the service does).
            "run_managers": list(run.run_managers) if is_manager else [],
            "run_monitors": list(run.run_monitors),
            "user_role": next((r for r in _RUN_ROLE_ORDER if r in roles), None),
            "start_time": _iso(run.start),
            "completion_time": _iso(completion) if completion is not None else None,
            "activity_notification_policy": {"status": list(run.notification_policy["status"])},
        }
        if legacy:  # what globus-automate-client's flow_action_status read
            doc.update(
                creator_id=run.owner,
                manage_by=doc["run_managers"],
                monitor_by=doc["run_monitors"],
                release_after=None,
            )
        return doc

    def _log_entries(self, run: RunRecord, now: float) -> list[Doc]:
        """The run's log so far, oldest first, derived from its script and the clock."""
        if run.live is not None:
            logged: list[Doc] = without_private_state(run.live.log)
            for entry in logged:
                entry["time"] = _iso(entry["time"])
            return logged
        assert run.script is not None
        entries: list[Doc] = [
            {
                "code": "FlowStarted",
                "description": "The run was started",
                "time": run.start,
                "details": {"input": {k: v for k, v in run.body.items() if k != "_stub"}},
            }
        ]
        # Nothing but the cancellation itself is logged after a run was cancelled.
        stop = run.ended_at if run.ended_at is not None else run.terminated_at
        horizon = min(now, stop) if stop is not None else now
        active = run.script.active_s
        n = run.script.passes
        for i, (begun, outcome) in enumerate(run.phases):
            if i > 0:
                entries.append({"code": "FlowResumed", "description": "The run was resumed", "time": begun, "details": {}})
            for k in range(n):
                entries.append(
                    {
                        "code": "PassCompleted",
                        "description": f"State StubPass{k + 1} of type Pass completed",
                        "time": begun + active * (k + 1) / (n + 1),
                        "details": {"state_name": f"StubPass{k + 1}", "state_type": "Pass"},
                    }
                )
            code = {"SUCCEEDED": "FlowSucceeded", "FAILED": "FlowFailed", "INACTIVE": "FlowInactive"}[outcome]
            entries.append(
                {
                    "code": code,
                    "description": f"The run became {outcome}",
                    "time": begun + active,
                    "details": self._details(run, outcome),
                }
            )
        entries = [e for e in entries if e["time"] <= horizon]
        if run.ended_at is not None and run.ended_at <= now:
            entries.append({"code": "FlowCanceled", "description": "The run was canceled", "time": run.ended_at, "details": {}})
        if run.terminated_at is not None:
            details = self._terminated_details(run)
            entries.append({"code": "FlowFailed", "description": details["description"], "time": run.terminated_at,
                            "details": details})
        entries.sort(key=lambda e: e["time"])
        for entry in entries:
            entry["time"] = _iso(entry["time"])
        shown: list[Doc] = without_private_state(entries)
        return shown

    def _run_list(self, req: StubRequest, caller: Caller, now: float, flow_ids: list[str] | None) -> Reply:
        wanted = self._wanted_roles(
            req, ("filter_roles", "filter_role"), _RUN_ROLE_ALIASES, {*_RUN_ROLE_ORDER, "flow_run_manager", "flow_run_monitor"}
        )
        statuses = _comma_args(req, "filter_status")
        if statuses is not None:
            bad = [s for s in statuses if s.upper() not in _RUN_STATUSES]
            if bad:
                _unprocessable(["query", "filter_status"], f"unknown status(es) {bad}; use {list(_RUN_STATUSES)}")
            statuses = [s.upper() for s in statuses]
        labels = _comma_args(req, "filter_label")
        started = _time_range(req, "filter_start_time")
        completed = _time_range(req, "filter_completion_time")
        docs: list[Doc] = []
        for run in sorted(self.state.runs.values(), key=lambda r: -r.seq):  # newest first
            roles = self._run_roles(run, caller)
            if not roles or (wanted is not None and not roles.intersection(wanted)):
                continue
            if flow_ids is not None and run.flow_id not in flow_ids:
                continue
            doc = self._run_doc(run, caller, now)
            if statuses is not None and doc["status"] not in statuses:
                continue
            if labels is not None and run.label not in labels:
                continue
            if started is not None and not _in_range(run.start, started):
                continue
            if completed is not None and not _in_range(run.completion(now), completed):
                continue
            docs.append(doc)
        return Reply.json(_page(req, _order(req, docs), "runs"))

    def _list_flow_runs(self, req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
        self._visible_flow(flow_id, caller)
        return self._run_list(req, caller, now, [flow_id])

    def _log_page(self, req: StubRequest, run: RunRecord, now: float, marker_args: tuple[str, ...]) -> Reply:
        entries = self._log_entries(run, now)
        if _bool_arg(req, "reverse_order"):
            entries.reverse()
        return Reply.json(
            _page(
                req,
                entries,
                "entries",
                per_page_arg="limit",
                default=_LOG_LIMIT_DEFAULT,
                maximum=_LOG_LIMIT_MAX,
                marker_args=marker_args,
            )
        )

    def _cancel(self, run: RunRecord, now: float) -> None:
        status = run.status(now)
        if status in ("SUCCEEDED", "FAILED"):
            _conflict(f"Run {run.run_id} already completed ({status}); it cannot be canceled")
        if status != "ENDED":
            run.ended_at = now
            live = run.live
            if live is not None:
                live.log.append({"code": "FlowCanceled", "description": "The run was canceled", "time": now,
                                 "details": {"state_name": live.current_state}})
                live.status = "ENDED"
                live.completed_at = now
                live.details = {"code": "FlowCanceled", "description": "The run was canceled"}
                self.runner.cancel(live)

    def _release(self, run: RunRecord, now: float) -> None:
        status = run.status(now)
        if status in ("ACTIVE", "INACTIVE"):
            _conflict(f"Run {run.run_id} is {status}; only a completed run can be released")
        del self.state.runs[run.run_id]
        if run.request_id is not None:
            self.state.request_ids.pop((run.owner, run.flow_id, run.request_id), None)

    def _resume(self, run: RunRecord, now: float) -> None:
        if run.live is not None and run.ended_at is None:
            why = self.runner.resume(run.live)
            if why is not None:
                _conflict(why)
            return
        status = run.status(now)
        if status != "INACTIVE":
            _conflict(f"Run {run.run_id} is {status}; only an INACTIVE run can be resumed")
        assert run.script is not None
        run.phases.append((now, run.script.resume_outcome))

    def _register_run_routes(self) -> None:
        def list_runs(req: StubRequest, caller: Caller, now: float) -> Reply:
            return self._run_list(req, caller, now, _comma_args(req, "filter_flow_id", "filter_flow_ids"))

        def get_run(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller)
            doc = self._run_doc(run, caller, now)
            if _bool_arg(req, "include_flow_description"):
                flow = self.state.flows.get(run.flow_id)
                source = flow if flow is not None else run.flow_snapshot
                doc["flow_description"] = {k: source[k] for k in run.flow_snapshot}
            return Reply.json(doc)

        def get_definition(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller)
            self._check_flow_token(caller, run)
            definition = self._shown_definition(self.state.flows.get(run.flow_id), run.definition, caller)
            return Reply.json({"flow_id": run.flow_id, "definition": definition, "input_schema": run.input_schema})

        def get_log(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            return self._log_page(req, self._visible_run(run_id, caller), now, ("marker",))

        def update_run(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller, manage=True)
            data = _json_object(req)
            label = run.label
            if "label" in data:
                label = None if data["label"] is None else _str_field(data, "label", ["body"], max_len=64)
            # null, like an absent key, leaves a list as it is (globus-sdk drops MISSING).
            tags = run.tags
            if data.get("tags") is not None:
                tags = [" ".join(t.split()) for t in _str_list(data["tags"], ["body", "tags"])]
            managers, monitors = run.run_managers, run.run_monitors
            if data.get("run_managers") is not None:
                managers = _principals(data["run_managers"], ["body", "run_managers"], everyone=False)
            if data.get("run_monitors") is not None:
                monitors = _principals(data["run_monitors"], ["body", "run_monitors"], everyone=False)
            run.label, run.tags, run.run_managers, run.run_monitors = label, tags, managers, monitors
            return Reply.json(self._run_doc(run, caller, now))

        def batch_runs(req: StubRequest, caller: Caller, now: float) -> Reply:
            data = _json_object(req)
            filters = data.get("filters")
            if not isinstance(filters, dict) or "run_ids" not in filters:
                _unprocessable(["body", "filters", "run_ids"], "field required", "value_error.missing")
            run_ids = _str_list(filters["run_ids"], ["body", "filters", "run_ids"])
            changes: dict[str, dict[str, list[str]]] = {}
            for op in ("set", "add", "remove"):
                part = data.get(op) or {}
                if not isinstance(part, dict):
                    _unprocessable(["body", op], "must be an object", "type_error.dict")
                for key, value in part.items():
                    if key not in _BATCH_FIELDS:
                        _unprocessable(["body", op, key], f"only {list(_BATCH_FIELDS)} can be changed in a batch")
                    if key == "tags":
                        changes.setdefault(op, {})[key] = [" ".join(t.split()) for t in _str_list(value, ["body", op, key])]
                    else:
                        changes.setdefault(op, {})[key] = _principals(value, ["body", op, key], everyone=False)
            # All or nothing: check every run before changing any.
            runs = [self._visible_run(rid, caller, manage=True) for rid in dict.fromkeys(run_ids)]
            for run in runs:
                for key in _BATCH_FIELDS:
                    current: list[str] = list(getattr(run, key))
                    if key in changes.get("set", {}):
                        current = list(changes["set"][key])
                    for item in changes.get("add", {}).get(key, []):
                        if item not in current:
                            current.append(item)
                    removed = set(changes.get("remove", {}).get(key, []))
                    setattr(run, key, [x for x in current if x not in removed])
            return Reply.json({"runs": [self._run_doc(run, caller, now) for run in runs]})

        self._route("GET", "/runs", "service", list_runs)
        self._route("GET", "/runs/{run_id}", "service", get_run)
        self._route("PUT", "/runs/{run_id}", "service", update_run)
        # Also with the run's flow's own scope, as globus-automate-client 0.18 asked for it.
        self._route("GET", "/runs/{run_id}/definition", "either", get_definition)
        self._route("GET", "/runs/{run_id}/log", "service", get_log)
        self._route("POST", "/batch/runs", "service", batch_runs)
        for verb in _RUN_VERBS:
            # Resume also takes the run's flow's own scope, as globus-automate-client 0.18 sent it.
            self._route("POST", f"/runs/{{run_id}}/{verb}", "either" if verb == "resume" else "service",
                        functools.partial(self._run_verb, verb))

    def _run_verb(self, verb: str, req: StubRequest, caller: Caller, now: float, run_id: str,
                  flow_id: str | None = None) -> Reply:
        """``POST /runs/{id}/<verb>``, and the legacy ``/flows/{flow_id}/{id}/<verb>`` (with ``flow_id``)."""
        legacy = flow_id is not None
        run = self._visible_run(run_id, caller, manage=True)
        if legacy and run.flow_id != flow_id:
            _not_found("Run", run_id)
        if verb == "release":  # the answer is the run as it was before it is let go
            doc = self._run_doc(run, caller, now, legacy=legacy)
            self._release(run, now)
            return Reply.json(doc)
        if verb == "cancel":
            self._cancel(run, now)
        else:
            if not legacy:  # the legacy routes are behind the flow's own token already
                self._check_flow_token(caller, run)
            self._resume(run, now)
        return Reply.json(self._run_doc(run, caller, now, legacy=legacy))

    # -- legacy /flows/{fid}/{rid}/... ----------------------------------------------------

    def _register_legacy_routes(self) -> None:
        def legacy_run(caller: Caller, flow_id: str, run_id: str) -> RunRecord:
            run = self._visible_run(run_id, caller)
            if run.flow_id != flow_id:
                _not_found("Run", run_id)
            return run

        def status(req: StubRequest, caller: Caller, now: float, flow_id: str, run_id: str) -> Reply:
            return Reply.json(self._run_doc(legacy_run(caller, flow_id, run_id), caller, now, legacy=True))

        def log(req: StubRequest, caller: Caller, now: float, flow_id: str, run_id: str) -> Reply:
            return self._log_page(req, legacy_run(caller, flow_id, run_id), now, ("marker", "pagination_token"))

        # Registered after /flows/{flow_id}/run/dry-run etc.: those are 4 segments with
        # fixed words, these 4 segments end in a legacy verb, so they never collide.
        self._route("GET", "/flows/{flow_id}/{run_id}/status", "flow", status)
        self._route("GET", "/flows/{flow_id}/{run_id}/log", "flow", log)
        for verb in _RUN_VERBS:
            self._route("POST", f"/flows/{{flow_id}}/{{run_id}}/{verb}", "flow", functools.partial(self._run_verb, verb))

