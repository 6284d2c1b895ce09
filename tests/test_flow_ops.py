"""Flows operations stepped by hand: the exact requests they build, before any I/O."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import automate_lite as al
from automate_lite._core.values import Call, Request, Response
from automate_lite.flows import FlowAuthorizers, FlowOps

FID = "3b6b1e9a-6b6f-4e3c-9c62-2a7f4d1c0e11"
RID = "9f3c1b8e-1111-4222-8333-444455556666"
BASE = "https://flows.example.org"


def ops(callback: Any = None) -> FlowOps:
    session = al.Session(BASE, authorizer=al.BearerTokenAuthorizer("svc"))
    return FlowOps(session, FlowAuthorizers(callback, "cid"))


def first_request(op: Any) -> Request:
    """Step the op to its first Request, answering authorizer Calls along the way."""
    instr = next(op)
    while isinstance(instr, Call):
        instr = op.send(instr.fn())
    assert isinstance(instr, Request)
    return instr


def body(req: Request) -> Any:
    assert req.body is not None
    return json.loads(req.body)


def query(req: Request) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(req.url).query, keep_blank_values=True)


def test_run_flow_request() -> None:
    req = first_request(ops().run_flow(FID, None, {"a": 1}, run_managers=["m"], label="L", tags=["t"], request_id="r1"))
    assert (req.method, req.url) == ("POST", f"{BASE}/flows/{FID}/run")
    assert body(req) == {"body": {"a": 1}, "request_id": "r1", "label": "L", "tags": ["t"], "run_managers": ["m"]}
    dry = first_request(ops().run_flow(FID, None, {}, dry_run=True))
    assert dry.url == f"{BASE}/flows/{FID}/run/dry-run"
    assert uuid.UUID(body(dry)["request_id"])


def test_run_flow_uses_callback_authorizer_once() -> None:
    calls: list[dict[str, Any]] = []

    def callback(**kw: Any) -> al.BearerTokenAuthorizer:
        calls.append(kw)
        return al.BearerTokenAuthorizer("flow-token")

    o = ops(callback)
    for _ in range(2):
        req = first_request(o.run_flow(FID, None, {}))
        assert req.headers["Authorization"] == "Bearer flow-token"
    assert calls == [{"flow_url": f"{BASE}/flows/{FID}", "flow_scope": al.flow_scope(FID), "client_id": "cid"}]
    # a given flow_scope is passed through as is
    first_request(o.run_flow(FID, "custom-scope", {}))
    assert calls[-1]["flow_scope"] == "custom-scope"


def test_activity_notification_policy_and_aliases() -> None:
    with pytest.warns(DeprecationWarning):
        req = first_request(
            ops().run_flow(FID, None, {}, manage_by=["x"], activity_notification_policy={"status": ["FAILED"]})
        )
    assert body(req)["run_managers"] == ["x"]
    assert body(req)["activity_notification_policy"] == {"status": ["FAILED"]}


def test_update_flow_partial_and_clearing() -> None:
    req = first_request(ops().update_flow(FID, title="T", keywords=[], description="", subscription_id="DEFAULT"))
    assert (req.method, req.url) == ("PUT", f"{BASE}/flows/{FID}")
    assert body(req) == {"title": "T", "keywords": [], "description": "", "subscription_id": "DEFAULT"}


def test_deploy_flow_body_leaves_out_empties() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    req = first_request(ops().deploy_flow(definition, "T", keywords=(), flow_starters=["all_authenticated_users"]))
    assert body(req) == {
        "title": "T",
        "definition": definition,
        "input_schema": {},
        "flow_starters": ["all_authenticated_users"],
    }


def test_list_flows_query() -> None:
    req = first_request(
        ops().list_flows(filter_roles=["flow_owner", "flow_viewer"], filter_fulltext="x y", orderby=["title ASC", "created_at DESC"], marker="m1")
    )
    assert query(req) == [
        ("filter_roles", "flow_owner,flow_viewer"),
        ("filter_fulltext", "x y"),
        ("marker", "m1"),
        ("orderby", "title ASC,created_at DESC"),
    ]
    legacy = first_request(ops().list_flows(role="flow_starter", per_page=5, orderings={"title": "ASC"}))
    assert query(legacy) == [("filter_role", "flow_starter"), ("per_page", "5"), ("orderby", "title ASC")]


def test_list_runs_query_time_ranges() -> None:
    req = first_request(
        ops().list_runs(
            filter_flow_id=[FID], filter_status=["ACTIVE", "FAILED"], filter_start_time=("2024-01-01T00:00:00", None)
        )
    )
    assert query(req) == [
        ("filter_flow_id", FID),
        ("filter_status", "ACTIVE,FAILED"),
        ("filter_start_time", "2024-01-01T00:00:00,"),
    ]


def test_legacy_run_routes() -> None:
    o = ops()
    assert first_request(o.flow_action_status(FID, None, RID)).url == f"{BASE}/flows/{FID}/{RID}/status"
    assert first_request(o.flow_action_cancel(FID, None, RID)).method == "POST"
    log = first_request(o.flow_action_log(FID, None, RID, limit=5, reverse_order=True, marker="p2"))
    assert log.url.startswith(f"{BASE}/flows/{FID}/{RID}/log?")
    assert query(log) == [("limit", "5"), ("reverse_order", "true"), ("pagination_token", "p2")]


def test_batch_update_body() -> None:
    req = first_request(ops().update_runs([RID], add_tags=["a"], set_run_monitors=[], status="ENDED"))
    assert body(req) == {
        "filters": {"run_ids": [RID]},
        "set": {"run_monitors": [], "status": "ENDED"},
        "add": {"tags": ["a"]},
        "remove": {},
    }


def test_respond_to_web_input_body() -> None:
    req = first_request(ops().respond_to_web_input(RID, "opt-1"))
    assert body(req) == {"response": {"value": "opt-1"}}


def test_wait_for_run_polls_until_not_active() -> None:
    op = ops().wait_for_run(RID, timeout=None, initial_delay=0.5, max_delay=1.0)
    sleeps: list[float] = []
    instr = next(op)
    answers = iter([b'{"status":"ACTIVE"}', b'{"status":"ACTIVE"}', b'{"status":"INACTIVE"}'])
    while True:
        if isinstance(instr, Request):
            value: Any = Response(200, {}, next(answers))
        elif isinstance(instr, Call):
            value = instr.fn()
        else:
            sleeps.append(instr.seconds)
            value = None
        try:
            instr = op.send(value)
        except StopIteration as stop:
            assert stop.value["status"] == "INACTIVE"
            break
    assert sleeps == [0.5, 1.0]


def test_flow_scope_derivation() -> None:
    assert al.flow_scope(FID) == f"https://auth.globus.org/scopes/{FID}/flow_{FID.replace('-', '_')}_user"
    with pytest.raises(al.UsageError):
        al.flow_scope("nope")
