"""Flow routes of the local Flows service: create, get, update, delete, list, validate."""

from __future__ import annotations

from ...definitions.privacy import definition_for_viewer
from .._server import Reply, StubRequest
from .limits import ServiceLimits
from .store import (
    Caller, DEFAULT_SUBSCRIPTION_ID, Doc, Json, _EVERYONE, _FLOW_LIST_FIELDS, _FLOW_ROLE_ALIASES,
    _FLOW_ROLE_ORDER, _FLOW_TEXT_FIELDS, _Fail, _forbidden, _iso, _new_id, _not_found, _unprocessable,
    flow_scope,
)
from .parsing import _comma_args, _definition_problems, _json_object, _order, _page, _principals, _str_field, _str_list


class FlowRoutes(ServiceLimits):
    """The ``/flows`` routes, and the flow roles every other route checks."""

    # -- flows ---------------------------------------------------------------------------

    def _flow_roles(self, flow: Doc, caller: Caller) -> set[str]:
        p = caller.principals
        roles: set[str] = set()
        if flow["flow_owner"] in p:
            roles.update(_FLOW_ROLE_ORDER)
        if p.intersection(flow["flow_administrators"]):
            roles.update(("flow_administrator", "flow_starter", "flow_viewer"))
        if p.intersection(flow["flow_starters"]) or _EVERYONE.intersection(flow["flow_starters"]):
            roles.update(("flow_starter", "flow_viewer"))
        if p.intersection(flow["flow_viewers"]) or _EVERYONE.intersection(flow["flow_viewers"]):
            roles.add("flow_viewer")
        if p.intersection(flow["run_managers"]):
            roles.add("run_manager")
        if p.intersection(flow["run_monitors"]):
            roles.add("run_monitor")
        return roles

    def _visible_flow(self, flow_id: str, caller: Caller) -> tuple[Doc, set[str]]:
        """The flow and the caller's roles on it; 404 when it is not there for them."""
        flow = self.state.flows.get(flow_id)
        if flow is None:
            _not_found("Flow", flow_id)
        roles = self._flow_roles(flow, caller)
        if not roles.intersection(_FLOW_ROLE_ORDER):
            _not_found("Flow", flow_id)
        return flow, roles

    def _shown_definition(self, flow: Doc | None, definition: Json, caller: Caller) -> Json:
        """``definition`` as ``caller`` may see it: whole for the flow's owner and
        administrators (and with auth off), else without its private parameters."""
        if caller.kind == "any" or (flow is not None and "flow_administrator" in self._flow_roles(flow, caller)):
            return definition
        return definition_for_viewer(definition)

    def _flow_doc(self, flow: Doc, caller: Caller) -> Doc:
        doc = dict(flow)
        doc["definition"] = self._shown_definition(flow, flow["definition"], caller)
        roles = self._flow_roles(flow, caller)
        doc["user_role"] = next((r for r in _FLOW_ROLE_ORDER if r in roles), None)
        doc["action_url"] = f"{self.url}/flows/{flow['id']}"
        doc["globus_auth_scopes_by_RunAs"] = run_as_scopes(flow["id"], flow["definition"])
        return doc

    def _new_flow(self, data: Doc, caller: Caller, now: float) -> Doc:
        """Validate a create body and build the flow record (not stored)."""
        for key in ("title", "definition"):
            if key not in data:
                _unprocessable(["body", key], "field required", "value_error.missing")
        title = _str_field(data, "title", ["body"], max_len=128, allow_empty=False)
        self._check_definition(data["definition"], data.get("input_schema", {}))
        flow_id = _new_id()
        flow: Doc = {
            "id": flow_id,
            "title": title,
            "subtitle": "",
            "description": "",
            "keywords": [],
            "definition": data["definition"],
            "input_schema": data.get("input_schema", {}),
            "globus_auth_scope": flow_scope(flow_id),
            "globus_auth_username": f"{flow_id}@clients.auth.globus.org",
            "flow_owner": caller.identity,
            "flow_viewers": [],
            "flow_starters": [],
            "flow_administrators": [],
            "run_managers": [],
            "run_monitors": [],
            "subscription_id": None,
            "authentication_policy_id": None,
            "created_at": _iso(now),
            "updated_at": _iso(now),
            "deleted_at": None,
        }
        self._apply_flow_fields(flow, data, caller, creating=True)
        self._check_free_tier(flow, caller)
        return flow

    def _check_definition(self, definition: Json, input_schema: Json) -> None:
        problems = _definition_problems(definition, ["body", "definition"])
        if not isinstance(input_schema, dict):
            problems.append(
                {"loc": ["body", "input_schema"], "msg": "input_schema must be an object", "type": "type_error.dict"}
            )
        if problems:
            raise _Fail(422, "UNPROCESSABLE_ENTITY", problems)

    def _apply_flow_fields(self, flow: Doc, data: Doc, caller: Caller, *, creating: bool) -> None:
        for key in _FLOW_TEXT_FIELDS:
            if key in data:
                max_len = 4096 if key == "description" else 128
                flow[key] = "" if data[key] is None else _str_field(data, key, ["body"], max_len=max_len)
        for key in _FLOW_LIST_FIELDS:
            if key in data:
                value = [] if data[key] is None else data[key]
                if key == "keywords":
                    flow[key] = _str_list(value, ["body", key])
                else:
                    flow[key] = _principals(value, ["body", key], everyone=key in ("flow_viewers", "flow_starters"))
        if "subscription_id" in data:
            sub = data["subscription_id"]
            if sub is not None and not isinstance(sub, str):
                _unprocessable(["body", "subscription_id"], "str type expected", "type_error.str")
            flow["subscription_id"] = DEFAULT_SUBSCRIPTION_ID if sub == "DEFAULT" else (sub or None)
        if "authentication_policy_id" in data:
            pol = data["authentication_policy_id"]
            if pol is not None and not isinstance(pol, str):
                _unprocessable(["body", "authentication_policy_id"], "str type expected", "type_error.str")
            flow["authentication_policy_id"] = pol or None
        if not creating and "flow_owner" in data:
            owner = data["flow_owner"]
            if not isinstance(owner, str) or not owner.startswith("urn:globus:auth:identity:"):
                _unprocessable(["body", "flow_owner"], "must be a Globus identity URN")
            if owner != flow["flow_owner"] and flow["flow_owner"] not in caller.principals:
                _forbidden("Only the flow's owner may give the flow to someone else")
            flow["flow_owner"] = owner

    def _register_flow_routes(self) -> None:
        def create_flow(req: StubRequest, caller: Caller, now: float) -> Reply:
            flow = self._new_flow(_json_object(req), caller, now)
            self.state.flows[flow["id"]] = flow
            return Reply.json(self._flow_doc(flow, caller), 201)

        def dry_run_flow(req: StubRequest, caller: Caller, now: float) -> Reply:
            # Legacy "deploy, but do not keep": same checks and answer as create.
            return Reply.json(self._flow_doc(self._new_flow(_json_object(req), caller, now), caller))

        def validate_flow(req: StubRequest, caller: Caller, now: float) -> Reply:
            data = _json_object(req)
            if "definition" not in data:
                _unprocessable(["body", "definition"], "field required", "value_error.missing")
            self._check_definition(data["definition"], data.get("input_schema", {}))
            # What the service reports: the scopes the flow's actions need, per RunAs.
            scopes: dict[str, list[str]] = {}
            for state in data["definition"].get("States", {}).values():
                if state.get("Type") == "Action":
                    bucket = scopes.setdefault(str(state.get("RunAs", "User")), [])
                    scope = state.get("ActionScope")
                    if isinstance(scope, str) and scope not in bucket:
                        bucket.append(scope)
            return Reply.json({"scopes": scopes, "analysis": {"number_of_possibilities": 1}})

        def get_flow(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow, _ = self._visible_flow(flow_id, caller)
            return Reply.json(self._flow_doc(flow, caller))

        def update_flow(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow, roles = self._visible_flow(flow_id, caller)
            if "flow_administrator" not in roles:
                _forbidden(f"You must be an administrator or the owner of flow {flow_id} to update it")
            data = _json_object(req)
            updated = dict(flow)
            if "title" in data:
                updated["title"] = _str_field(data, "title", ["body"], max_len=128, allow_empty=False)
            if "definition" in data or "input_schema" in data:
                self._check_definition(
                    data.get("definition", flow["definition"]), data.get("input_schema", flow["input_schema"])
                )
                for key in ("definition", "input_schema"):
                    if key in data:
                        updated[key] = data[key]
            self._apply_flow_fields(updated, data, caller, creating=False)
            if flow["subscription_id"] is not None or flow["flow_owner"] != updated["flow_owner"]:
                self._check_free_tier(updated, caller)  # a subscription taken away, or a new owner
            updated["updated_at"] = _iso(now)
            self.state.flows[flow_id] = updated  # only now: a 422 half-way changes nothing
            return Reply.json(self._flow_doc(updated, caller))

        def delete_flow(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow, roles = self._visible_flow(flow_id, caller)
            if "flow_administrator" not in roles:
                _forbidden(f"You must be an administrator or the owner of flow {flow_id} to delete it")
            doc = self._flow_doc(flow, caller)
            del self.state.flows[flow_id]
            doc["deleted_at"] = _iso(now)
            return Reply.json(doc)

        def list_flows(req: StubRequest, caller: Caller, now: float) -> Reply:
            wanted = self._wanted_roles(
                req, ("filter_roles", "filter_role"), _FLOW_ROLE_ALIASES, {*_FLOW_ROLE_ORDER, "run_manager", "run_monitor"}
            )
            fulltext = (req.arg("filter_fulltext") or "").casefold()
            title = (req.arg("filter_title") or "").casefold()
            keywords = {k.casefold() for k in (_comma_args(req, "filter_keywords") or [])}
            docs: list[Doc] = []
            for flow in self.state.flows.values():
                roles = self._flow_roles(flow, caller)
                if not roles.intersection(_FLOW_ROLE_ORDER):
                    continue
                if wanted is not None and not roles.intersection(wanted):
                    continue
                if title and title not in flow["title"].casefold():
                    continue
                if keywords and not keywords.intersection(k.casefold() for k in flow["keywords"]):
                    continue
                if fulltext:
                    text = " ".join([flow["title"], flow["subtitle"], flow["description"], *flow["keywords"], flow["id"]])
                    if fulltext not in text.casefold():
                        continue
                docs.append(self._flow_doc(flow, caller))
            return Reply.json(_page(req, _order(req, docs), "flows"))

        self._route("GET", "/flows", "service", list_flows)
        self._route("POST", "/flows", "service", create_flow)
        # The fixed names come before /flows/{flow_id} so they are never taken for ids.
        self._route("POST", "/flows/validate", "service", validate_flow)
        self._route("POST", "/flows/dry-run", "service", dry_run_flow)
        self._route("GET", "/flows/{flow_id}", "service", get_flow)
        self._route("PUT", "/flows/{flow_id}", "service", update_flow)
        self._route("DELETE", "/flows/{flow_id}", "service", delete_flow)


def run_as_scopes(flow_id: str, definition: Json) -> dict[str, str]:
    """``globus_auth_scopes_by_RunAs``: a scope per role that a state's ``RunAs`` names.

    Documented (globus-automate-client's "Providing Role-Specific Tokens"): the flow
    description maps each role other than User and Flow to the scope its ``_tokens``
    entry is for. The scope strings' form is not documented; the stand-in's follow the
    flow's own (``.../flow_<id>_user``) with the role's name in place of ``user``.
    """
    states = definition.get("States") if isinstance(definition, dict) else None
    roles = sorted({str(st["RunAs"]) for st in (states or {}).values()
                    if isinstance(st, dict) and isinstance(st.get("RunAs"), str) and st["RunAs"] not in ("User", "Flow")})
    base = flow_scope(flow_id).rsplit("_", 1)[0]
    return {role: f"{base}_{role}" for role in roles}
