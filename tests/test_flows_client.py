"""FlowsClient and AsyncFlowsClient end to end against the loopback Flows stand-in.

Every test runs for the sync and the async client over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
import warnings
from typing import Any, Iterator

import pytest
from _drive import Driver

import automate_lite as al
from automate_lite.testing.flows import FlowsStub

SERVICE_TOKEN = "svc-alice"
FLOW_TOKEN = "flow-alice"
ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-0000-0000-000000000001"
BOB = "urn:globus:auth:identity:bbbbbbbb-0000-0000-0000-000000000002"

HELLO = {
    "Comment": "one Pass state",
    "StartAt": "Hello",
    "States": {"Hello": {"Type": "Pass", "Parameters": {"greeting.$": "$.echo_string"}, "ResultPath": "$.out", "End": True}},
}
SLOW = {
    "StartAt": "Sleep",
    "States": {"Sleep": {"Type": "Wait", "Seconds": 120, "Next": "Done"}, "Done": {"Type": "Pass", "End": True}},
}


class Callback:
    """An authorizer_callback that counts its calls, as a user's would (thread-safe)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, **kwargs: Any) -> al.BearerTokenAuthorizer:
        with self._lock:
            self.calls.append(kwargs)
        # A user's callback answers each scope with a token for it: a Flows service
        # scope (RUN_STATUS_SCOPE, RUN_MANAGE_SCOPE) gets a service token.
        if kwargs["flow_scope"].startswith(al.RUN_STATUS_SCOPE.rsplit("/", 1)[0] + "/"):
            return al.BearerTokenAuthorizer(SERVICE_TOKEN)
        return al.BearerTokenAuthorizer(FLOW_TOKEN)


@pytest.fixture(scope="module")
def service() -> Iterator[FlowsStub]:
    with FlowsStub(tokens={SERVICE_TOKEN: ALICE}, flow_tokens={FLOW_TOKEN: ALICE}) as stub:
        yield stub


@pytest.fixture(params=["sync", "async"])
def drive(request: pytest.FixtureRequest, service: FlowsStub) -> Iterator[Driver]:
    cls = al.AsyncFlowsClient if request.param == "async" else al.FlowsClient
    client = cls.new_client("client-id-123", Callback(), al.BearerTokenAuthorizer(SERVICE_TOKEN), base_url=service.url)
    d = Driver(client, request.param == "async")
    yield d
    d.close()


@pytest.fixture
def flow(drive: Driver) -> dict[str, Any]:
    return dict(drive("deploy_flow", HELLO, f"hello {uuid.uuid4()}", input_schema={}).data)


def test_deploy_get_update_delete(drive: Driver) -> None:
    created = drive("deploy_flow", HELLO, "Hello flow", subtitle="sub", keywords=["a", "b"], flow_viewers=[BOB])
    fid = created["id"]
    assert created["title"] == "Hello flow" and created["keywords"] == ["a", "b"]
    assert created["globus_auth_scope"] == al.flow_scope(fid)
    assert drive("get_flow", fid)["definition"] == HELLO
    updated = drive("update_flow", fid, title="Renamed", keywords=[])
    assert updated["title"] == "Renamed" and updated["keywords"] == [] and updated["subtitle"] == "sub"
    assert drive("scope_for_flow", fid) == al.flow_scope(fid)
    drive("delete_flow", fid)
    with pytest.raises(al.NotFoundError) as info:
        drive("get_flow", fid)
    assert info.value.code == "NOT_FOUND"


def test_create_flow_modern_and_dry_run(drive: Driver, service: FlowsStub) -> None:
    before = len(service.state.flows)
    dry = drive("create_flow", "Dry", HELLO, dry_run=True)
    assert dry.http_status < 300
    assert len(service.state.flows) == before
    doc = drive("create_flow", "Modern", HELLO, run_managers=[BOB], subscription_id=None)
    assert doc["run_managers"] == [BOB] and doc["input_schema"] == {}


def test_local_validation_runs_before_sending(drive: Driver, service: FlowsStub) -> None:
    bad = {"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}}
    before = service.state.requests.__len__()
    with pytest.raises(al.FlowValidationError) as info:
        drive("deploy_flow", bad, "bad")
    assert any("Succeed" in msg for _, msg in info.value.problems)
    assert len(service.state.requests) == before
    # and the service refuses it in the Flows error shape when local checks are skipped
    with pytest.raises(al.UnprocessableEntityError) as err:
        drive("create_flow", "bad", bad, validate_definition=False)
    assert err.value.code == "UNPROCESSABLE_ENTITY" and err.value.messages
    with pytest.raises(al.UnprocessableEntityError):
        drive("validate_flow", bad)
    assert drive("validate_flow", HELLO).http_status == 200


def test_deprecated_aliases_warn(drive: Driver) -> None:
    with pytest.warns(DeprecationWarning, match="flow_viewers"):
        doc = drive("deploy_flow", HELLO, "aliases", visible_to=[BOB])
    assert doc["flow_viewers"] == [BOB]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(al.UsageError):
            drive("deploy_flow", HELLO, "both", flow_viewers=[BOB], viewers=[BOB])


def test_run_wait_logs_release(drive: Driver, flow: dict[str, Any]) -> None:
    run = drive("run_flow", flow["id"], None, {"echo_string": "hi"}, label="first", tags=["x"])
    rid = run["run_id"]
    assert run["flow_id"] == flow["id"] and run["label"] == "first"
    final = drive("wait_for_run", rid, timeout=60, initial_delay=0.01, max_delay=0.1)
    assert final["status"] == "SUCCEEDED"
    assert drive("get_run", rid, include_flow_description=True)["flow_description"]["title"] == flow["title"]
    assert drive("get_run_definition", rid)["definition"] == HELLO
    assert drive("get_flow_definition_for_run", flow["id"], None, rid)["flow_id"] == flow["id"]
    logs = drive.collect("iter_run_logs", rid, limit=1)
    assert logs[0]["code"] == "FlowStarted" and logs[-1]["code"] == "FlowSucceeded"
    page = drive("get_run_logs", rid, limit=1, reverse_order=True)
    assert page["entries"][0]["code"] == "FlowSucceeded"
    status = drive("flow_action_status", flow["id"], None, rid)
    assert status["status"] == "SUCCEEDED"
    legacy_log = drive("flow_action_log", flow["id"], None, rid, limit=100)
    assert [e["code"] for e in legacy_log["entries"]] == [e["code"] for e in logs]
    drive("release_run", rid)
    with pytest.raises(al.NotFoundError):
        drive("get_run", rid)


def test_callback_called_once_per_flow_scope(drive: Driver, flow: dict[str, Any]) -> None:
    callback: Callback = drive.client.authorizer_callback
    for _ in range(3):
        drive("run_flow", flow["id"], None, {"echo_string": "again"})
    scope = al.flow_scope(flow["id"])
    assert callback.calls == [{"flow_url": f"{drive.client.base_url}/flows/{flow['id']}", "flow_scope": scope, "client_id": "client-id-123"}]


def test_per_call_authorizer_overrides_callback(drive: Driver, flow: dict[str, Any]) -> None:
    callback: Callback = drive.client.authorizer_callback
    with pytest.raises(al.PermissionDeniedError) as info:
        drive("run_flow", flow["id"], None, {}, authorizer=al.BearerTokenAuthorizer(SERVICE_TOKEN))
    assert info.value.code == "MISSING_SCOPE"
    assert callback.calls == []


def test_idempotent_run_flow(drive: Driver, flow: dict[str, Any], service: FlowsStub) -> None:
    request_id = str(uuid.uuid4())
    before = service.state.runs_created
    a = drive("run_flow", flow["id"], None, {"echo_string": "1"}, request_id=request_id)
    b = drive("run_flow", flow["id"], None, {"echo_string": "1"}, request_id=request_id)
    assert a["run_id"] == b["run_id"]
    assert service.state.runs_created == before + 1
    with pytest.raises(al.ConflictError):
        drive("run_flow", flow["id"], None, {"echo_string": "2"}, request_id=request_id)


def test_cancel_and_legacy_cancel(drive: Driver) -> None:
    fid = drive("deploy_flow", SLOW, "slow")["id"]
    slow_input = {"_stub": {"active_s": 120}}
    rid = drive("run_flow", fid, None, slow_input)["run_id"]
    drive("cancel_run", rid)
    final = drive("wait_for_run", rid, timeout=60, initial_delay=0.01)
    assert final["status"] in ("ENDED", "FAILED")
    rid2 = drive("run_flow", fid, None, slow_input)["run_id"]
    drive("flow_action_cancel", fid, None, rid2)
    assert drive("wait_for_run", rid2, timeout=60, initial_delay=0.01)["status"] in ("ENDED", "FAILED")
    with pytest.raises(al.ConflictError):
        drive("flow_action_resume", fid, None, rid2)


def test_resume_inactive_run(drive: Driver, flow: dict[str, Any]) -> None:
    rid = drive("run_flow", flow["id"], None, {"_stub": {"outcome": "INACTIVE", "active_s": 0}})["run_id"]
    assert drive("wait_for_run", rid, timeout=60, initial_delay=0.01)["status"] == "INACTIVE"
    drive("resume_run", rid, flow_id=flow["id"])
    assert drive("wait_for_run", rid, timeout=60, initial_delay=0.01)["status"] == "SUCCEEDED"


def test_update_run_and_batch(drive: Driver, flow: dict[str, Any]) -> None:
    rids = [drive("run_flow", flow["id"], None, {"echo_string": str(i)})["run_id"] for i in range(2)]
    doc = drive("update_run", rids[0], label="relabelled", tags=["a"])
    assert doc["label"] == "relabelled" and doc["tags"] == ["a"]
    doc = drive("flow_action_update", rids[0], run_monitors=[BOB])
    assert doc["run_monitors"] == [BOB] and doc["label"] == "relabelled"
    batch = drive("update_runs", rids, add_tags=["batch"])
    assert all("batch" in r["tags"] for r in batch["runs"])
    with pytest.raises(al.UsageError):
        drive("update_runs", rids, add_tags=["x"], set_tags=["y"])


def test_listing_and_paging(drive: Driver) -> None:
    title = f"paged-{uuid.uuid4()}"
    fids = [drive("deploy_flow", HELLO, f"{title}-{i}")["id"] for i in range(5)]
    found = [f["id"] for f in drive.collect("iter_flows", filter_fulltext=title, per_page=2)]
    assert sorted(found) == sorted(fids)
    page = drive("list_flows", filter_fulltext=title, per_page=2)
    assert len(page["flows"]) == 2 and page["has_next_page"] is True
    legacy = drive("list_flows", roles=["flow_owner"], per_page=2)
    assert legacy["flows"]
    rids = {drive("run_flow", fids[0], None, {"echo_string": str(i)}, label="paging")["run_id"] for i in range(5)}
    for rid in rids:
        drive("wait_for_run", rid, timeout=60, initial_delay=0.01, max_delay=0.1)
    runs = drive.collect("iter_runs", filter_flow_id=fids[0], per_page=2)
    assert {r["run_id"] for r in runs} == rids
    assert {r["run_id"] for r in drive("list_flow_runs", fids[0], per_page=50)["runs"]} == rids
    assert drive("enumerate_runs", statuses=["SUCCEEDED", "ACTIVE"], per_page=50)["runs"]
    assert drive("list_runs", filter_label="paging", per_page=50)["runs"]


def test_registered_apis_and_web_inputs(drive: Driver, service: FlowsStub) -> None:
    apis = drive("list_registered_apis")["registered_apis"]
    assert apis
    assert drive("get_registered_api", apis[0]["id"])["id"] == apis[0]["id"]
    web_input = service.add_web_input(title="Approve?", options=["yes", "no"])
    wid = web_input["id"]
    listing = drive("list_web_inputs")
    assert wid in [w["id"] for w in listing["web_input_summaries"]]
    assert drive("get_web_input", wid)["id"] == wid
    yes = web_input["options"][0]["option_id"]
    drive("respond_to_web_input", wid, yes)
    assert drive("get_web_input", wid)["status"] == "closed"
    with pytest.raises(al.ConflictError):
        drive("respond_to_web_input", wid, yes)


def test_bad_ids_fail_before_sending(drive: Driver, service: FlowsStub) -> None:
    before = len(service.state.requests)
    for call in (
        lambda: drive("get_flow", "not-a-uuid"),
        lambda: drive("get_run", "a/b"),
        lambda: drive("run_flow", "with space", None, {}),
        lambda: drive("run_flow", str(uuid.uuid4()), None, "not a dict"),
        lambda: drive("list_runs", per_page=0),
        lambda: drive("get_run", str(uuid.uuid4()), include_flow_description="yes"),
    ):
        with pytest.raises(al.UsageError):
            call()
    assert len(service.state.requests) == before


def test_many_runs_awaited_at_once(service: FlowsStub) -> None:
    async def main() -> list[str]:
        async with al.AsyncFlowsClient.new_client(
            None, Callback(), al.BearerTokenAuthorizer(SERVICE_TOKEN), base_url=service.url
        ) as client:
            fid = (await client.deploy_flow(HELLO, "many"))["id"]
            runs = await asyncio.gather(*(client.run_flow(fid, None, {"echo_string": f"r{i}"}) for i in range(30)))
            finals = await asyncio.gather(
                *(client.wait_for_run(r["run_id"], timeout=60, initial_delay=0.01, max_delay=0.1) for r in runs)
            )
            assert len(client.authorizer_callback.calls) == 1  # type: ignore[union-attr]
            return [f["status"] for f in finals]

    assert asyncio.run(main()) == ["SUCCEEDED"] * 30


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GLOBUS_SDK_SERVICE_URL_FLOWS", "GLOBUS_AUTOMATE_FLOWS_ENDPOINT", "GLOBUS_SDK_ENVIRONMENT"):
        monkeypatch.delenv(var, raising=False)
    assert al.FlowsClient.new_client(None, None, None).base_url == "https://flows.automate.globus.org"
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", "sandbox")
    assert al.FlowsClient.new_client(None, None, None).base_url == "https://sandbox.flows.automate.globus.org"
    monkeypatch.setenv("GLOBUS_AUTOMATE_FLOWS_ENDPOINT", "http://127.0.0.1:9/")
    assert al.FlowsClient.new_client(None, None, None).base_url == "http://127.0.0.1:9"
    monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_FLOWS", "https://flows.example.org")
    assert al.FlowsClient.new_client(None, None, None).base_url == "https://flows.example.org"
    assert al.FlowsClient.new_client(None, None, None, base_url="https://x.example.org").base_url == "https://x.example.org"
    monkeypatch.delenv("GLOBUS_SDK_SERVICE_URL_FLOWS")
    monkeypatch.delenv("GLOBUS_AUTOMATE_FLOWS_ENDPOINT")
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", "moon")
    with pytest.raises(al.UsageError, match="GLOBUS_SDK_ENVIRONMENT"):
        al.FlowsClient.new_client(None, None, None)


def test_callback_from_original_docs_works_verbatim(service: FlowsStub, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shape of the callback in the original SDK's docs: keyword arguments, tokens
    # from environment variables, a globus_sdk authorizer returned.
    from globus_sdk import AccessTokenAuthorizer

    monkeypatch.setenv("FLOW_TOKEN", FLOW_TOKEN)
    monkeypatch.setenv("FLOWS_SERVICE_TOKEN", SERVICE_TOKEN)

    def authorizer_callback(**kwargs: Any) -> AccessTokenAuthorizer:
        import os

        return AccessTokenAuthorizer(os.environ["FLOW_TOKEN"])

    fc = al.FlowsClient.new_client(
        "client-id", authorizer_callback, AccessTokenAuthorizer(__import__("os").environ["FLOWS_SERVICE_TOKEN"]),
        base_url=service.url,
    )
    fid = fc.deploy_flow(HELLO, "docs")["id"]
    run = fc.run_flow(fid, None, {"echo_string": "docs"})
    assert fc.wait_for_run(run["run_id"], timeout=60, initial_delay=0.01)["status"] == "SUCCEEDED"
