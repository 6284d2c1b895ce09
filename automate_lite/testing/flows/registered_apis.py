"""Registered APIs kept by the local Flows service (for Handler {Type: RegisteredAPI} states)."""

from __future__ import annotations

import copy
from typing import Sequence

from .._server import Reply, StubRequest
from .web_inputs import WebInputs
from .store import Caller, DEFAULT_IDENTITY, Doc, _EVERYONE, _as_urn, _iso, _new_id, _not_found, _unprocessable
from .parsing import _json_object, _order, _page, _str_field, _str_list


class RegisteredApis(WebInputs):
    """The ``/registered_apis`` routes."""

    def registered_api(self, api_id: str) -> Doc | None:
        """The registered API ``api_id`` (for Handler {Type: RegisteredAPI} states), or None."""
        with self.state.lock:
            doc = self.state.registered_apis.get(api_id)
            return None if doc is None else copy.deepcopy(doc)

    def add_registered_api(
        self,
        name: str,
        *,
        description: str = "",
        owners: Sequence[str] = (DEFAULT_IDENTITY,),
        administrators: Sequence[str] = (),
        viewers: Sequence[str] = ("public",),
        url: str = "https://api.example.org/v1/items/{item_id}",
        method: str = "get",
    ) -> Doc:
        """Seed a registered API (shaped like globus-sdk's test fixture) and return it."""
        stamp = _iso(self._clock())
        doc: Doc = {
            "id": _new_id(),
            "name": name,
            "description": description,
            "roles": {
                "owners": [_as_urn(o) for o in owners],
                "administrators": [_as_urn(a) for a in administrators],
                "viewers": [v if v in _EVERYONE else _as_urn(v) for v in viewers],
            },
            "target": {
                "type": "openapi",
                "openapi_version": "3.1",
                "destination": {"method": method, "url": url},
                "specification": {"summary": name, "responses": {"200": {"description": "OK"}}},
                "transforms": None,
                "components": {},
            },
            "state_input_schema": {"type": "object", "properties": {}},
            "status": "ACTIVE",
            "subscription_id": None,
            "created_timestamp": stamp,
            "edited_timestamp": None,
            "updated_timestamp": stamp,
            "scheduled_deletion_timestamp": None,
        }
        with self.state.lock:
            self.state.registered_apis[doc["id"]] = doc
        return doc

    def _seed_registered_apis(self) -> None:
        self.add_registered_api("example-get-item", description="Fetch one item by id")
        self.add_registered_api(
            "example-create-item",
            description="Create an item",
            url="https://api.example.org/v1/items",
            method="post",
        )

    def _register_registered_api_routes(self) -> None:
        def api_roles(doc: Doc, caller: Caller) -> set[str]:
            p = caller.principals
            r = doc["roles"]
            roles: set[str] = set()
            if p & set(r["owners"]):
                roles.update(("owner", "administrator", "viewer"))
            if p & set(r["administrators"]):
                roles.update(("administrator", "viewer"))
            if p & set(r["viewers"]) or _EVERYONE & set(r["viewers"]):
                roles.add("viewer")
            return roles

        def list_registered_apis(req: StubRequest, caller: Caller, now: float) -> Reply:
            wanted = self._wanted_roles(req, ("filter_roles",), {}, {"owner", "administrator", "viewer"})
            docs = [
                dict(doc)
                for doc in self.state.registered_apis.values()
                if api_roles(doc, caller) and (wanted is None or api_roles(doc, caller) & wanted)
            ]
            return Reply.json(_page(req, _order(req, docs), "registered_apis"))

        def get_registered_api(req: StubRequest, caller: Caller, now: float, api_id: str) -> Reply:
            doc = self.state.registered_apis.get(api_id)
            if doc is None or not api_roles(doc, caller):
                _not_found("Registered API", api_id)
            return Reply.json(doc)
        def create_registered_api(req: StubRequest, caller: Caller, now: float) -> Reply:
            data = _json_object(req)
            if "name" not in data:
                _unprocessable(["body", "name"], "field required", "value_error.missing")
            name = _str_field(data, "name", ["body"], max_len=100, allow_empty=False)
            target = data.get("target")
            dest = target.get("destination") if isinstance(target, dict) else None
            if not isinstance(dest, dict) or not isinstance(dest.get("url"), str) or not isinstance(dest.get("method"), str):
                _unprocessable(["body", "target", "destination"], "a destination {method, url} is required")
            raw_roles = data.get("roles")
            roles: Doc = raw_roles if isinstance(raw_roles, dict) else {}
            doc = self.add_registered_api(
                name,
                description=str(data.get("description") or ""),
                owners=[caller.identity, *_str_list(roles.get("owners", []), ["body", "roles", "owners"])],
                administrators=_str_list(roles.get("administrators", []), ["body", "roles", "administrators"]),
                viewers=_str_list(roles.get("viewers", []), ["body", "roles", "viewers"]),
                url=dest["url"],
                method=str(dest["method"]).lower(),
            )
            if isinstance(data.get("state_input_schema"), dict):
                doc["state_input_schema"] = data["state_input_schema"]
            # Kept as given (and shown back), but not applied when a state calls the API:
            # the stand-in places Parameters itself (see automate_lite.testing.runner.apis).
            assert isinstance(target, dict)
            for key in ("type", "openapi_version", "specification", "transforms", "components"):
                if key in target:
                    doc["target"][key] = target[key]
            for key, value in data.items():
                if key not in doc and key not in ("roles", "target"):
                    doc[key] = value  # e.g. data_templates: stored, not applied
            self.state.registered_apis[doc["id"]] = doc
            return Reply.json(doc, 201)

        self._route("POST", "/registered_apis", "service", create_registered_api)
        self._route("GET", "/registered_apis", "service", list_registered_apis)
        self._route("GET", "/registered_apis/{api_id}", "service", get_registered_api)
