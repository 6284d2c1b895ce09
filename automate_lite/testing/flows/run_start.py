"""Starting runs in the local Flows service: run, dry-run, validate_run, input checks, consent."""

from __future__ import annotations

import copy
import hashlib
import json

from .._server import Reply, StubRequest
from ..runner import LiveRun
from ..runner.model import state_size
from .run_routes import RunRoutes
from .store import (
    Caller, Doc, Json, RunRecord, RunScript, _Fail, _NOTIFY_STATUSES, _SNAPSHOT_FIELDS, _conflict, _forbidden,
    _new_id, _unprocessable,
)
from .parsing import _json_object, _parse_script, _principals, _str_field, _str_list


class RunStart(RunRoutes):
    """``POST /flows/{id}/run`` and its dry-run and validation forms."""

    # -- starting runs -----------------------------------------------------------------

    def _parse_run_request(self, req: StubRequest, flow: Doc) -> Doc:
        """Validate a run body (422 shape, 400 input); returns the normalized request."""
        data = _json_object(req)
        if "body" not in data:
            _unprocessable(["body", "body"], "field required", "value_error.missing")
        body = data["body"]
        if not isinstance(body, dict):
            _unprocessable(["body", "body"], "value is not a valid dict", "type_error.dict")
        label = None
        if data.get("label") is not None:
            label = _str_field(data, "label", ["body"], max_len=64)
        tags = _str_list(data.get("tags") or [], ["body", "tags"])
        managers_raw = data["run_managers"] if data.get("run_managers") is not None else data.get("manage_by")
        monitors_raw = data["run_monitors"] if data.get("run_monitors") is not None else data.get("monitor_by")
        managers = _principals(managers_raw or [], ["body", "run_managers"], everyone=False)
        monitors = _principals(monitors_raw or [], ["body", "run_monitors"], everyone=False)
        policy = data.get("activity_notification_policy") or {"status": ["INACTIVE"]}
        if not isinstance(policy, dict) or not isinstance(policy.get("status", []), list):
            _unprocessable(["body", "activity_notification_policy"], "must be {\"status\": [...]}")
        statuses = policy.get("status", [])
        for i, status in enumerate(statuses):
            if status not in _NOTIFY_STATUSES:
                _unprocessable(["body", "activity_notification_policy", "status", i], f"must be one of {list(_NOTIFY_STATUSES)}")
        request_id = data.get("request_id")
        if request_id is not None and not isinstance(request_id, str):
            _unprocessable(["body", "request_id"], "str type expected", "type_error.str")
        self._check_input_size(body)
        self._check_input(body, flow["input_schema"])  # with "_tokens": the docs say the schema must allow it
        body, role_tokens = _take_role_tokens(body)
        script = _parse_script(body, self.default_active_s) if "_stub" in body or not self.execute else None
        normalized: Doc = {
            "body": body,
            "label": label,
            "tags": [" ".join(t.split()) for t in tags],  # as the service normalizes tags
            "run_managers": managers,
            "run_monitors": monitors,
            "activity_notification_policy": {"status": list(dict.fromkeys(statuses))},
        }
        # The role tokens are part of what a retried request must repeat, but only as a digest.
        normalized["fingerprint"] = json.dumps(
            {**normalized, "role_tokens": hashlib.sha256(json.dumps(role_tokens, sort_keys=True).encode()).hexdigest()},
            sort_keys=True)
        normalized["role_tokens"] = role_tokens
        normalized["request_id"] = request_id
        normalized["script"] = script
        return normalized

    def _check_input_size(self, body: Doc) -> None:
        """400 when the run's input, its first state, is over the run state limit.

        ``_tokens`` is not counted: it is taken off the input and never part of the state.
        """
        limit = self.limits.max_run_state_bytes
        if limit is None:
            return
        size = state_size({k: v for k, v in body.items() if k != "_tokens"})
        if size > limit:
            raise _Fail(400, "FLOW_INPUT_ERROR",
                        f"The run input is {size} bytes (as compact UTF-8 JSON); a run's state may be at most "
                        f"{limit} bytes (Globus Flows: Maximum Run State Size 200KB). Pass references "
                        "(paths, ids) rather than the data itself")

    @staticmethod
    def _check_input(body: Doc, schema: Json) -> None:
        """Check the run's body against the flow's input schema (a real JSON Schema check)."""
        if not isinstance(schema, dict) or not schema:
            return
        try:
            import jsonschema  # type: ignore[import-untyped,unused-ignore]
        except ImportError:  # pragma: no cover - the testing extra brings it
            raise _Fail(500, "INTERNAL_ERROR",
                        "Checking run input needs jsonschema: pip install 'automate-lite[testing]'") from None
        try:
            validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            errors = sorted(validator_cls(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
        except jsonschema.exceptions.SchemaError as exc:
            raise _Fail(400, "FLOW_INPUT_ERROR", f"The flow's input schema is not valid: {exc.message}") from None
        if errors:
            where = [f"{'.'.join(str(p) for p in e.absolute_path) or '(the input)'}: {e.message}" for e in errors[:10]]
            raise _Fail(400, "FLOW_INPUT_ERROR",
                        "The input does not conform to the flow's input schema: " + "; ".join(where))

    def _starter_flow(self, flow_id: str, caller: Caller) -> Doc:
        flow, roles = self._visible_flow(flow_id, caller)
        if "flow_starter" not in roles:
            _forbidden(f"You are not allowed to run flow {flow_id} (you are not one of its flow_starters)")
        return flow

    def _make_run(self, flow: Doc, caller: Caller, request: Doc, now: float) -> RunRecord:
        script: RunScript | None = request["script"]
        run_id = _new_id()
        live = None
        if script is None:
            live = LiveRun(
                run_id=run_id,
                flow_id=flow["id"],
                flow_title=flow["title"],
                definition=copy.deepcopy(flow["definition"]),
                input=copy.deepcopy(request["body"]),
                owner=caller.identity,
                label=request["label"],
                tags=list(request["tags"]),
                user_info={**self._users.get(caller.identity, {}), "iat": int(now)},
                # RunAs "Flow" (documented): the flow's own identity, whose id is the flow's id.
                # Named roles: the run's "_tokens", else the service's add_run_as_token ones.
                role_tokens={"Flow": self.flow_identity_token(flow["id"]), **self._role_tokens,
                             **request["role_tokens"]},
            )
        return RunRecord(
            run_id=run_id,
            seq=self.state.next_seq(),
            flow_id=flow["id"],
            flow_title=flow["title"],
            flow_snapshot={k: flow[k] for k in _SNAPSHOT_FIELDS},
            definition=flow["definition"],
            input_schema=flow["input_schema"],
            owner=caller.identity,
            body=request["body"],
            label=request["label"],
            tags=request["tags"],
            run_managers=request["run_managers"],
            run_monitors=request["run_monitors"],
            notification_policy=request["activity_notification_policy"],
            request_id=request["request_id"],
            fingerprint=request["fingerprint"],
            script=script,
            start=now,
            phases=[(now, script.outcome)] if script is not None else [],
            live=live,
        )

    def _register_start_routes(self) -> None:
        def run_flow(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            self.state.run_attempts += 1
            flow = self._starter_flow(flow_id, caller)
            self._maybe_require_consent(flow, caller)
            request = self._parse_run_request(req, flow)
            key = (caller.identity, flow_id, request["request_id"]) if request["request_id"] else None
            if key is not None and key in self.state.request_ids:
                existing = self.state.runs.get(self.state.request_ids[key])
                if existing is not None:
                    if existing.fingerprint != request["fingerprint"]:
                        _conflict(
                            f"request_id {request['request_id']!r} was already used to start run "
                            f"{existing.run_id} with a different request"
                        )
                    return Reply.json(self._run_doc(existing, caller, now))
            run = self._make_run(flow, caller, request, now)
            self.state.runs[run.run_id] = run
            self.state.runs_created += 1
            if key is not None:
                self.state.request_ids[key] = run.run_id
            doc = self._run_doc(run, caller, now)  # before the runner can move it on
            if run.live is not None:
                self.runner.submit(run.live)
            return Reply.json(doc, 201)

        def dry_run_run(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow = self._starter_flow(flow_id, caller)
            run = self._make_run(flow, caller, self._parse_run_request(req, flow), now)
            return Reply.json(self._run_doc(run, caller, now))  # kept nowhere, counted nowhere

        def validate_run(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow = self._starter_flow(flow_id, caller)
            self._parse_run_request(req, flow)
            return Reply.json({"message": "The run request is valid", "flow_id": flow_id})

        self._route("POST", "/flows/{flow_id}/run", "flow", run_flow)
        self._route("POST", "/flows/{flow_id}/run/dry-run", "either", dry_run_run)
        self._route("POST", "/flows/{flow_id}/validate_run", "either", validate_run)
        # globus-automate-client 0.18 listed a flow's runs with a token for that flow's own
        # scope (its authorizer_callback was asked for the flow's scope): both kinds work.
        self._route("GET", "/flows/{flow_id}/runs", "either", self._list_flow_runs)

    def _maybe_require_consent(self, flow: Doc, caller: Caller) -> None:
        key = (caller.identity, flow["id"])
        forced = flow["id"] in self.state.consent_required
        once = self.consent_required_once and key not in self.state.consented
        if not (forced or once):
            return
        self.state.consent_required.discard(flow["id"])
        self.state.consented.add(key)
        scope = flow["globus_auth_scope"]
        raise _Fail(
            403,
            "CONSENT_REQUIRED",
            f"Missing required consent for the scope {scope}",
            {
                "code": "ConsentRequired",
                "authorization_parameters": {
                    "session_message": "Running this flow requires additional consent",
                    "session_required_policies": [],
                    "required_scopes": [scope],
                },
            },
        )

    # -- runs ---------------------------------------------------------------------------


def _take_role_tokens(body: Doc) -> tuple[Doc, dict[str, str]]:
    """Split a run's ``_tokens`` (RunAs role -> access token) off its input.

    The documented way to give a run its role tokens (globus-automate-client's "Authoring
    Flows", "Providing Role-Specific Tokens"; docs.globus.org's "Performing Actions as
    Different Users" says the same in prose): the input carries ``{"_tokens": {"Admin":
    "<token>"}}``, one per role the flow's ``RunAs`` names. The tokens are taken out of the
    input, so no state, log entry or run document ever shows them.
    """
    if "_tokens" not in body:
        return body, {}
    tokens = body["_tokens"]
    if not isinstance(tokens, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                               for k, v in tokens.items()):
        raise _Fail(400, "FLOW_INPUT_ERROR",
                    "_tokens must be an object of RunAs role name -> access token (a non-empty string)")
    for role in ("User", "Flow"):
        if role in tokens:
            raise _Fail(400, "FLOW_INPUT_ERROR",
                        f"_tokens cannot name the role {role!r}: it is the run's own (User) or the flow's (Flow)")
    return {k: v for k, v in body.items() if k != "_tokens"}, dict(tokens)
