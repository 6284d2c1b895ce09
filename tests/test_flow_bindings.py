"""The Flows clients as bound from FlowOps: frozen dataclasses, signatures without Any or
**kwargs, the escape hatch, iterable listings, query_params, on_update, which token each
legacy method uses, and the original SDK's positional order (ActionClient too)."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import pickle
import typing
import urllib.parse
import uuid
from typing import Any

import pytest
from _scoped import ALICE, BOB, FLOW_TOKEN, HELLO, SERVICE_PREFIX, SERVICE_TOKEN, service  # noqa: F401

import automate_lite as al
from automate_lite.flows import AsyncFlowsClient, FlowOps, FlowsClient, flow_scope
from automate_lite.testing.flows import FlowsStub

FID = "3b6b1e9a-6b6f-4e3c-9c62-2a7f4d1c0e11"
RID = "5c1f6a2e-0b8d-4f7e-9a41-6d2e8c3b7f90"
CLIENTS = (FlowsClient, AsyncFlowsClient)


class Callback:
    """Answers each scope with a token for it, and remembers what it was asked."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def __call__(self, **kwargs: Any) -> al.BearerTokenAuthorizer:
        self.scopes.append(kwargs["flow_scope"])
        token = SERVICE_TOKEN if kwargs["flow_scope"].startswith(SERVICE_PREFIX) else FLOW_TOKEN
        return al.BearerTokenAuthorizer(f"{token}")


def _client(service: FlowsStub, callback: Any = None) -> FlowsClient:
    return FlowsClient.new_client("client-id", callback or Callback(), al.BearerTokenAuthorizer(SERVICE_TOKEN),
                                  base_url=service.url)


def _has_bare_any(hint: object) -> bool:
    if hint is Any:
        return True
    return typing.get_origin(hint) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and any(
        a is Any for a in typing.get_args(hint)
    )


OPERATIONS = [n for n in dir(FlowOps) if not n.startswith("_") and callable(getattr(FlowOps, n)) and n != "flow_url"]
ALIASES = {"enumerate_actions": "enumerate_runs", "list_flow_actions": "list_flow_runs", "delete_run": "release_run"}


@pytest.mark.parametrize("cls", CLIENTS)
def test_every_operation_is_bound_with_its_own_signature(cls: type) -> None:
    for name in [*OPERATIONS, *ALIASES, "request", "get", "post", "put", "patch", "delete"]:
        method = getattr(cls, name)
        op = getattr(FlowOps, ALIASES.get(name, name))
        assert list(inspect.signature(method).parameters) == list(inspect.signature(op).parameters), name
        assert method.__doc__ == op.__doc__ and method.__name__ == name
        hints = typing.get_type_hints(method)
        assert not [p for p, h in hints.items() if p != "value" and _has_bare_any(h)], name
        kinds = {p.kind for p in inspect.signature(method).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds and inspect.Parameter.VAR_POSITIONAL not in kinds, name
        if name not in ("request", "get", "post", "put", "patch", "delete", "scope_for_flow", "wait_for_run"):
            assert "query_params" in inspect.signature(method).parameters, name


def test_a_misspelt_keyword_is_a_type_error_and_nothing_is_sent(service: FlowsStub) -> None:
    before = len(service.state.requests)
    with _client(service) as fc:
        with pytest.raises(TypeError, match="filter_flw_id"):
            fc.list_runs(filter_flw_id=FID)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="bogus"):
            fc.run_flow(FID, None, {}, bogus=1)  # type: ignore[call-arg]
    assert len(service.state.requests) == before


@pytest.mark.parametrize("cls", CLIENTS)
def test_clients_are_frozen_dataclasses(cls: Any, service: FlowsStub) -> None:
    client = cls.new_client("cid", None, al.BearerTokenAuthorizer(SERVICE_TOKEN), base_url=service.url)
    assert dataclasses.is_dataclass(client)
    assert [f.name for f in dataclasses.fields(client) if f.init][:5] == [
        "client_id", "authorizer_callback", "authorizer", "base_url", "http_timeout"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        client.http_timeout = 3
    other = dataclasses.replace(client, http_timeout=30)
    assert other.http_timeout == 30.0 and other.transport is client.transport and client.http_timeout == 10.0
    assert other.ops.authorizers is not client.ops.authorizers  # remembered flow tokens are not carried over
    assert client.replace(client_id="x").client_id == "x"
    with pytest.raises(al.UsageError, match="no field"):
        client.replace(action_url="x")
    with pytest.raises(al.UsageError, match="client_id"):
        client.replace(client_id=5)


class _PicklableTransport:
    def send(self, request: al.Request, timeout: float | None) -> al.Response:
        return al.Response(200, {}, b'{"ok": true, "url": "%s"}' % request.url.encode())


def _module_callback(**_: Any) -> al.BearerTokenAuthorizer:
    return al.BearerTokenAuthorizer(FLOW_TOKEN)


def test_pickle_and_an_unpicklable_callback_named() -> None:
    client = FlowsClient("cid", _module_callback, al.BearerTokenAuthorizer(SERVICE_TOKEN), transport=_PicklableTransport())
    copy = pickle.loads(pickle.dumps(client))
    assert (copy.base_url, copy.client_id) == (client.base_url, "cid") and copy.authorizer.access_token == SERVICE_TOKEN
    assert copy.get_flow(FID)["ok"] is True
    bad = client.replace(authorizer_callback=lambda **_: None)
    with pytest.raises(TypeError, match="authorizer_callback"):
        pickle.dumps(bad)


def test_escape_hatch_and_iterable_listings(service: FlowsStub) -> None:
    with _client(service) as fc:
        created = fc.post("/flows", data={"title": "raw", "definition": HELLO, "input_schema": {}})
        fid = created["id"]
        assert fc.get(f"/flows/{fid}")["title"] == "raw"
        assert fc.request("PUT", f"/flows/{fid}", data={"title": "raw2"})["title"] == "raw2"
        assert fid in [flow["id"] for flow in fc.list_flows(per_page=50)]
        assert fid in [flow["id"] for flow in fc.iter_flows(orderby=["title ASC", "created_at DESC"])]
        apis = list(fc.iter_registered_apis())
        assert len(apis) == len(fc.list_registered_apis()) >= 2
        service.add_web_input(title="Approve me?")
        assert "Approve me?" in [w["title"] for w in fc.iter_web_inputs()]
        assert [w["id"] for w in fc.list_web_inputs()] == [w["id"] for w in fc.iter_web_inputs()]
        fc.delete(f"/flows/{fid}")
        with pytest.raises(al.NotFoundError):
            fc.get(f"/flows/{fid}")


def test_async_escape_hatch_and_iterators(service: FlowsStub) -> None:
    async def main() -> tuple[int, int]:
        async with AsyncFlowsClient.new_client(None, None, al.BearerTokenAuthorizer(SERVICE_TOKEN), service.url) as fc:
            apis = [a async for a in fc.iter_registered_apis()]
            inputs = [w async for w in fc.iter_web_inputs()]
            assert (await fc.get("/registered_apis"))["registered_apis"]
            return len(apis), len(inputs)

    apis, _ = asyncio.run(main())
    assert apis >= 2


def _step(op: Any) -> al.Request:
    """Run ``op`` until its first request (calling what it asks the driver to call)."""
    instruction = next(op)
    while isinstance(instruction, al.Call):
        instruction = op.send(instruction.fn())
    assert isinstance(instruction, al.Request)
    return instruction


def _query(request: al.Request) -> list[tuple[str, str]]:
    return urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query)


def test_query_params_and_additional_fields_are_sent() -> None:
    import json

    ops = FlowsClient(None, None, al.BearerTokenAuthorizer(SERVICE_TOKEN), transport=_PicklableTransport()).ops
    for op in (ops.get_flow(FID, query_params={"x": "1"}), ops.get_run(RID, query_params={"x": "1"}),
               ops.flow_action_status(FID, None, RID, query_params={"x": "1"}),
               ops.list_runs(filter_status=["ACTIVE", "FAILED"], orderby="start_time DESC", query_params={"x": "1"})):
        assert ("x", "1") in _query(_step(op))
    listing = _query(_step(ops.list_runs(filter_status=["ACTIVE", "FAILED"], orderby=["a ASC", "b DESC"])))
    assert ("filter_status", "ACTIVE,FAILED") in listing and ("orderby", "a ASC,b DESC") in listing
    request = _step(ops.run_flow(FID, None, {"a": 1}, additional_fields={"extra": True}, authorizer=None))
    assert json.loads(request.body or b"")["extra"] is True
    request = _step(ops.update_runs([RID], add_tags=["t"], additional_fields={"dry": 1}))
    assert json.loads(request.body or b"")["dry"] == 1


def _auth(request: al.Request) -> str:
    return {k.lower(): v for k, v in dict(request.headers).items()}.get("authorization", "")


def test_legacy_methods_ask_the_callback_for_the_originals_scopes() -> None:
    callback = Callback()
    ops = FlowsClient(None, callback, al.BearerTokenAuthorizer("service-only"), transport=_PicklableTransport()).ops
    assert _auth(_step(ops.enumerate_runs())) == f"Bearer {SERVICE_TOKEN}"
    assert callback.scopes == [al.RUN_STATUS_SCOPE]
    # As the original: the flow's own scope for the runs of one flow and a run's definition.
    assert _auth(_step(ops.list_flow_runs(FID))) == f"Bearer {FLOW_TOKEN}"
    assert callback.scopes == [al.RUN_STATUS_SCOPE, flow_scope(FID)]
    assert _auth(_step(ops.get_flow_definition_for_run(FID, None, RID))) == f"Bearer {FLOW_TOKEN}"
    _step(ops.flow_action_update(RID, tags=["x"]))
    _step(ops.update_runs([RID], add_tags=["x"]))
    assert callback.scopes == [al.RUN_STATUS_SCOPE, flow_scope(FID), al.RUN_MANAGE_SCOPE]  # remembered per scope
    assert _auth(_step(ops.resume_run(RID, FID))) == f"Bearer {FLOW_TOKEN}"
    assert _auth(_step(ops.list_flow_runs(FID, authorizer=None))) == ""
    override = al.BearerTokenAuthorizer("per-call")
    for op in (ops.enumerate_runs(authorizer=override), ops.flow_action_update(RID, label="l", authorizer=override),
               ops.update_runs([RID], status="x", authorizer=override)):
        assert _auth(_step(op)) == "Bearer per-call"
    without = FlowsClient(None, None, al.BearerTokenAuthorizer("service-only"), transport=_PicklableTransport()).ops
    assert _auth(_step(without.enumerate_runs())) == "Bearer service-only"


def _json_response(doc: Any) -> al.Response:
    import json

    return al.Response(200, {"content-type": "application/json"}, json.dumps(doc).encode())


def test_resume_run_finds_the_runs_flow_and_uses_its_token() -> None:
    callback = Callback()
    ops = FlowsClient(None, callback, al.BearerTokenAuthorizer("service-only"), transport=_PicklableTransport()).ops
    op = ops.resume_run(RID)
    lookup = _step(op)  # no flow_id: the run is looked up (service token) for its flow
    assert (lookup.method, urllib.parse.urlsplit(lookup.url).path) == ("GET", f"/runs/{RID}")
    assert _auth(lookup) == "Bearer service-only"
    instruction = op.send(_json_response({"run_id": RID, "flow_id": FID, "status": "INACTIVE"}))
    while isinstance(instruction, al.Call):
        instruction = op.send(instruction.fn())
    assert isinstance(instruction, al.Request)
    assert (instruction.method, urllib.parse.urlsplit(instruction.url).path) == ("POST", f"/runs/{RID}/resume")
    assert _auth(instruction) == f"Bearer {FLOW_TOKEN}" and callback.scopes == [flow_scope(FID)]
    # A run document naming no flow: the service token.
    op = ops.resume_run(RID)
    _step(op)
    assert _auth(op.send(_json_response({"run_id": RID}))) == "Bearer service-only"
    # A per-call authorizer, or no callback: nothing is looked up.
    first = _step(ops.resume_run(RID, authorizer=al.BearerTokenAuthorizer("per-call")))
    assert first.method == "POST" and _auth(first) == "Bearer per-call"
    without = FlowsClient(None, None, al.BearerTokenAuthorizer("service-only"), transport=_PicklableTransport()).ops
    first = _step(without.resume_run(RID))
    assert first.method == "POST" and _auth(first) == "Bearer service-only"
    with pytest.raises(al.UsageError, match="flow_scope"):
        ops.resume_run(RID, FID, 42)  # type: ignore[arg-type]


@pytest.mark.parametrize("is_async", [False, True])
def test_wait_for_run_reports_statuses_and_log_entries(service: FlowsStub, is_async: bool) -> None:
    seen: list[tuple[str, Any]] = []

    async def on_update_async(kind: str, data: Any) -> None:
        await asyncio.sleep(0)
        seen.append((kind, data))

    def on_update(kind: str, data: Any) -> None:
        seen.append((kind, data))

    with _client(service) as fc:
        fid = fc.deploy_flow(HELLO, f"watched {uuid.uuid4()}", input_schema={})["id"]
        rid = fc.run_flow(fid, None, {"echo_string": "hi"})["run_id"]
        if is_async:
            async def main() -> Any:
                async with AsyncFlowsClient.new_client("c", Callback(), al.BearerTokenAuthorizer(SERVICE_TOKEN),
                                                       service.url) as afc:
                    return await afc.wait_for_run(rid, timeout=30, initial_delay=0.01, on_update=on_update_async)

            final = asyncio.run(main())
        else:
            final = fc.wait_for_run(rid, timeout=30, initial_delay=0.01, max_delay=0.05, on_update=on_update)
        assert final["status"] == "SUCCEEDED"
        assert seen[0][0] == "status"
        assert [d for k, d in seen if k == "status"][-1]["status"] == "SUCCEEDED"
        logged = [d for k, d in seen if k == "log"]
        assert logged and logged == list(fc.iter_run_logs(rid))
    with pytest.raises(al.UsageError, match="on_update"):
        fc.wait_for_run(rid, on_update="print")  # type: ignore[arg-type]


# The original SDK's signatures and positional calls: tests/test_compat_018.py.


def test_the_original_constructor_forms(service: FlowsStub) -> None:
    callback = Callback()
    auth = al.BearerTokenAuthorizer(SERVICE_TOKEN)
    forms = [
        FlowsClient("cid", callback, base_url=service.url, authorizer=auth),  # FlowsClient(client_id, cb, **kwargs)
        FlowsClient("cid", get_authorizer_callback=callback, base_url=service.url, authorizer=auth),
        FlowsClient.new_client("cid", callback, auth, service.url, 10),
        FlowsClient.new_client("cid", callback, auth, base_url=service.url, http_timeout=10),
    ]
    for fc in forms:
        with fc:
            assert fc.authorizer_callback is callback and fc.base_url == service.url
            assert isinstance(fc.list_flows(), al.APIResponse)
    with pytest.raises(al.UsageError, match="only one of authorizer_callback and get_authorizer_callback"):
        FlowsClient("cid", callback, get_authorizer_callback=callback)
