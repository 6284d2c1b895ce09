"""The local Flows service keeps the Globus Flows "Limits" page (``FlowLimits``), over real HTTP.

Run state size, run duration, run retention, the free-tier flow limits and the
stand-in's own 10,000-state guard. Time is the stub's clock, moved by hand
(``FakeClock``): no test sleeps for a limit or asserts on time.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

import automate_lite as al
from automate_lite.errors import AutomateAPIError, NotFoundError, PermissionDeniedError, UsageError
from automate_lite.flows import FlowsClient
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import FlowLimits, FlowsStub, HostedCall

from _local_flows import FakeClock, afinish, async_flows_client, finish, flows_client, output, until

DAY = 86_400.0
PASS = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}
#: A run that stays INACTIVE (waiting for an answer nobody gives).
ASK = {"StartAt": "Ask", "States": {
    "Ask": {"Type": "CreateWebInput", "Parameters": {"InputType": "Text", "Context": {"Title": "Name?"}},
            "ResultPath": "$.ask", "Next": "Wait"},
    "Wait": {"Type": "AwaitWebInput", "Parameters": {"web_input_id.$": "$.ask.web_input_id"},
             "ResultPath": "$.answer", "End": True}}}
#: A run that stays ACTIVE (a Wait of an hour, real time).
SLEEP = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def size(doc: Any) -> int:
    """What the limit measures: compact UTF-8 JSON."""
    return len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())


def sized(n: int, key: str = "data") -> dict[str, str]:
    """An input object of exactly ``n`` bytes."""
    doc = {key: ""}
    doc[key] = "x" * (n - size(doc))
    assert size(doc) == n
    return doc


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def small(clock: FakeClock) -> Iterator[FlowsStub]:
    """A 1,000-byte run state limit; the other limits as documented."""
    def blob(call: HostedCall) -> Any:
        return {"blob": "y" * int(call.parameters["n"])}

    with FlowsStub(clock=clock, limits=FlowLimits(max_run_state_bytes=1_000)) as stub:
        stub.add_hosted_handler("test.blob", blob)
        yield stub


@pytest.fixture
def stub(clock: FakeClock) -> Iterator[FlowsStub]:
    """The documented limits."""
    with FlowsStub(clock=clock) as s:
        yield s


@pytest.fixture
def fc(stub: FlowsStub) -> Iterator[FlowsClient]:
    yield from flows_client(stub)


def deploy(fc: FlowsClient, definition: dict[str, Any], **kwargs: Any) -> str:
    return str(fc.deploy_flow(definition, "limits", **kwargs)["id"])


def start(fc: FlowsClient, definition: dict[str, Any], flow_input: Any = None) -> str:
    return str(fc.run_flow(deploy(fc, definition), None, flow_input or {})["run_id"])


def blob_flow(n: int, **catch: Any) -> dict[str, Any]:
    """Store a hosted handler's ``n``-character result at ``$.got``, with a Catch of every error."""
    return {"StartAt": "Get", "States": {
        "Get": {"Type": "Action", "Handler": "urn:globus:flows:handle:globus:test.blob", "Parameters": {"n": n},
                "ResultPath": "$.got", "Next": "Done",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}], **catch},
        "Done": {"Type": "Pass", "End": True},
        "Caught": {"Type": "Pass", "Result": "caught", "ResultPath": "$.caught", "End": True}}}


# ----------------------------------------------------------------------------- run state size


def test_documented_defaults() -> None:
    limits = FlowLimits()
    assert limits.max_run_state_bytes == 200_000  # "200KB" read as 200 * 1000
    assert limits.max_run_duration_s == 365 * DAY and limits.run_retention_s == 90 * DAY
    assert limits.free_tier is False and limits.max_free_tier_flows == 1
    assert limits.free_tier_flow_lifetime_s == 30 * DAY and limits.max_states_executed == 10_000


@pytest.mark.parametrize("bad", [{"max_run_state_bytes": 0}, {"run_retention_s": -1}, {"max_free_tier_flows": 0},
                                 {"max_states_executed": True}, {"max_run_duration_s": "1y"}])
def test_bad_limits_are_usage_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match=next(iter(bad))):
        FlowLimits(**bad)


def test_input_at_the_default_limit_runs_and_one_byte_more_is_refused(fc: FlowsClient) -> None:
    flow_id = deploy(fc, PASS)
    at_limit = sized(200_000)
    assert output(finish(fc, fc.run_flow(flow_id, None, at_limit)["run_id"])) == at_limit
    with pytest.raises(AutomateAPIError) as caught:
        fc.run_flow(flow_id, None, sized(200_001))
    err = caught.value
    assert err.http_status == 400 and err.code == "FLOW_INPUT_ERROR"
    assert "200001 bytes" in str(err) and "200000 bytes" in str(err)


def test_input_size_counts_utf8_bytes_not_tokens_and_applies_to_validate_run(small: FlowsStub) -> None:
    for fc in flows_client(small):
        flow_id = deploy(fc, PASS)
        accented = {"t": "é" * 495}  # 495 characters, 990 bytes of UTF-8: 998 bytes in all
        assert size(accented) == 998
        assert output(finish(fc, fc.run_flow(flow_id, None, accented)["run_id"])) == accented
        with pytest.raises(AutomateAPIError, match="1006 bytes"):
            fc.run_flow(flow_id, None, {"t": "é" * 499})
        with pytest.raises(AutomateAPIError, match="at most 1000 bytes"):
            fc.validate_run(flow_id, {"t": "é" * 499})
        # _tokens is taken off the input: it is never state, so it does not count.
        with_tokens = {**sized(900), "_tokens": {"Admin": "t" * 500}}
        assert output(finish(fc, fc.run_flow(flow_id, None, with_tokens)["run_id"])) == sized(900)


def test_a_result_over_the_limit_fails_the_run_and_no_catch_takes_it(small: FlowsStub) -> None:
    for fc in flows_client(small):
        fits = output(finish(fc, start(fc, blob_flow(500))))
        assert len(fits["got"]["body"]["blob"]) == 500
        doc = finish(fc, start(fc, blob_flow(2_000), ), )
        assert doc["status"] == "FAILED"
        details = doc["details"]
        assert details["error"] == "States.DataLimitExceeded" and details["state_name"] == "Get"
        assert "limit is 1000 bytes" in details["cause"] and "ResultPath '$.got'" in details["cause"]
        assert details["output"] == {}  # the state as it was before the result: nothing half-written
        codes = [e["code"] for e in fc.get_run_logs(doc["run_id"], limit=100)["entries"]]
        assert codes[-1] == "FlowFailed" and "PassStarted" not in codes  # Caught never ran


def test_a_catch_whose_error_output_is_over_the_limit_fails_too(small: FlowsStub) -> None:
    for fc in flows_client(small):
        definition = {"StartAt": "Boom", "States": {
            "Boom": {"Type": "Action", "Handler": "urn:globus:flows:handle:globus:no.such.handle", "Parameters": {},
                     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "End"}], "End": True},
            "End": {"Type": "Pass", "End": True}}}
        assert finish(fc, start(fc, definition, sized(400)))["status"] == "SUCCEEDED"
        doc = finish(fc, start(fc, definition, sized(990)))
        assert doc["status"] == "FAILED" and doc["details"]["error"] == "States.DataLimitExceeded"
        assert "Catch ResultPath '$.error'" in doc["details"]["cause"]


def counting(expression: str, until: int) -> dict[str, Any]:
    """A loop: ``$.c`` = ``expression`` (of ``c``) while ``c.n`` < ``until``."""
    return {"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Result": {"n": 0, "items": []}, "ResultPath": "$.c", "Next": "Step"},
        "Step": {"Type": "ExpressionEval", "Parameters": {"n.=": "c.n + 1", "items.=": expression},
                 "ResultPath": "$.c", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.c.n", "NumericLessThan": until, "Next": "Step"}],
                  "Default": "Done"},
        "Done": {"Type": "Pass", "End": True}}}


def test_many_small_writes_stay_within_the_limit_and_growth_fails_at_the_exact_byte(small: FlowsStub) -> None:
    for fc in flows_client(small):
        # 300 writes of a small value: the state never nears 1,000 bytes, whatever it adds up to.
        assert output(finish(fc, start(fc, counting("c.items", 300))))["c"]["n"] == 300
        # A growing list: the run fails at the first write that would go over, and no sooner.
        doc = finish(fc, start(fc, counting("c.items + [c.n]", 10_000)))
        assert doc["status"] == "FAILED" and doc["details"]["error"] == "States.DataLimitExceeded"
        last = doc["details"]["output"]
        grown = {"c": {"n": last["c"]["n"] + 1, "items": last["c"]["items"] + [last["c"]["n"]]}}
        assert size(last) <= 1_000 < size(grown)
        assert f"would be {size(grown)} bytes" in doc["details"]["cause"]


def test_the_runaway_guard_stays_and_can_be_lowered(clock: FakeClock) -> None:
    loop = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}
    with FlowsStub(clock=clock, limits=FlowLimits(max_states_executed=50)) as s:
        for fc in flows_client(s):
            doc = finish(fc, start(fc, loop))
            assert doc["status"] == "FAILED" and doc["details"]["error"] == "States.Runtime"
            assert "more than 50 states" in doc["details"]["cause"]
    assert FlowsStub().runner.max_steps == 10_000


# ----------------------------------------------------------------------------- run duration


@pytest.mark.parametrize("definition, status", [(ASK, "INACTIVE"), (SLEEP, "ACTIVE")])
def test_a_run_still_going_after_a_year_is_terminated(fc: FlowsClient, clock: FakeClock,
                                                      definition: dict[str, Any], status: str) -> None:
    run_id = start(fc, definition)
    if status == "INACTIVE":
        assert finish(fc, run_id)["status"] == "INACTIVE"
    clock.advance(364 * DAY)
    assert fc.get_run(run_id)["status"] == status
    clock.advance(2 * DAY)
    doc = dict(fc.get_run(run_id).data)
    assert doc["status"] == "FAILED" and doc["details"]["error"] == "Flows.RunDurationExceeded"
    assert "365 days" in doc["details"]["description"] and doc["completion_time"] is not None
    assert fc.get_run_logs(run_id, limit=100)["entries"][-1]["code"] == "FlowFailed"
    assert [r["run_id"] for r in fc.list_runs(filter_status="FAILED")["runs"]] == [run_id]
    with pytest.raises(AutomateAPIError) as caught:
        fc.resume_run(run_id)
    assert caught.value.http_status == 409


def test_terminating_a_run_cancels_its_action_at_the_provider(clock: FakeClock) -> None:
    with ActionProviderStub(tokens={"ap": ALICE}) as ap, \
            FlowsStub(clock=clock, action_token="ap", action_poll=(0.01, 0.05)) as s:
        for fc in flows_client(s):
            definition = {"StartAt": "Long", "States": {"Long": {
                "Type": "Action", "ActionUrl": ap.url, "Parameters": {"sleep_s": 60}, "WaitTime": 120, "End": True}}}
            run_id = start(fc, definition)
            started = until(lambda: [e for e in fc.get_run_logs(run_id, limit=100)["entries"]
                                     if e["code"] == "ActionStarted"])
            action_id = started[0]["details"]["action_id"]
            clock.advance(366 * DAY)
            doc = fc.get_run(run_id)
            assert doc["status"] == "FAILED" and doc["details"]["error"] == "Flows.RunDurationExceeded"
            assert doc["details"]["state_name"] == "Long"
            status = until(lambda: (ap.state.status_of(action_id) or {}).get("status") == "FAILED"
                           and ap.state.status_of(action_id))
            assert status["details"]["code"] == "Canceled"


def test_scripted_runs_are_terminated_at_the_year_and_finished_ones_are_not(fc: FlowsClient, clock: FakeClock) -> None:
    flow_id = deploy(fc, PASS)
    stuck = fc.run_flow(flow_id, None, {"_stub": {"outcome": "INACTIVE"}})["run_id"]
    done = fc.run_flow(flow_id, None, {"_stub": {"active_s": 300 * DAY}})["run_id"]
    # Its end would come after the deadline: the service ends it at the year even though
    # nobody looked between the year and its end.
    late = fc.run_flow(flow_id, None, {"_stub": {"active_s": 365.5 * DAY}})["run_id"]
    clock.advance(366 * DAY)
    assert fc.get_run(done)["status"] == "SUCCEEDED"
    for run_id in (stuck, late):
        doc = fc.get_run(run_id)
        assert doc["status"] == "FAILED" and doc["details"]["error"] == "Flows.RunDurationExceeded"
        assert fc.get_run_logs(run_id, limit=100)["entries"][-1]["code"] == "FlowFailed"


# ----------------------------------------------------------------------------- retention


def test_completed_runs_are_gone_after_ninety_days(fc: FlowsClient, stub: FlowsStub, clock: FakeClock) -> None:
    flow_id = deploy(fc, PASS)
    old = fc.run_flow(flow_id, None, {"n": 1})["run_id"]
    assert finish(fc, old)["status"] == "SUCCEEDED"
    going = fc.run_flow(flow_id, None, {"_stub": {"outcome": "INACTIVE"}})["run_id"]
    clock.advance(89 * DAY)
    assert fc.get_run(old)["status"] == "SUCCEEDED"
    newer = fc.run_flow(flow_id, None, {"n": 2})["run_id"]
    assert finish(fc, newer)["status"] == "SUCCEEDED"
    clock.advance(2 * DAY)
    for call in (fc.get_run, fc.get_run_logs, fc.get_run_definition):
        with pytest.raises(NotFoundError):
            call(old)
    listed = [r["run_id"] for r in fc.list_runs()["runs"]]
    assert old not in listed and newer in listed and going in listed  # a run still INACTIVE is kept
    assert old not in stub.state.runs


def test_apply_limits_without_a_request(stub: FlowsStub, fc: FlowsClient, clock: FakeClock) -> None:
    run_id = start(fc, PASS)
    assert finish(fc, run_id)["status"] == "SUCCEEDED"
    clock.advance(91 * DAY)
    assert run_id in stub.state.runs
    stub.apply_limits()
    assert run_id not in stub.state.runs


# ----------------------------------------------------------------------------- free tier


def test_free_tier_is_off_by_default(fc: FlowsClient) -> None:
    assert len({deploy(fc, PASS) for _ in range(3)}) == 3


def test_free_tier_one_flow_without_a_subscription_that_expires_in_thirty_days(clock: FakeClock) -> None:
    with FlowsStub(clock=clock, limits=FlowLimits(free_tier=True)) as s:
        for fc in flows_client(s):
            free = deploy(fc, PASS)
            with pytest.raises(PermissionDeniedError) as caught:
                deploy(fc, PASS)
            err = caught.value
            assert err.http_status == 403 and err.code == "FORBIDDEN"
            assert free in str(err) and "subscription_id" in str(err)
            with pytest.raises(PermissionDeniedError):
                fc.deploy_flow(PASS, "dry", dry_run=True)  # the same checks as a create
            paid = deploy(fc, PASS, subscription_id="DEFAULT")
            clock.advance(29 * DAY)
            assert fc.get_flow(free)["id"] == free
            clock.advance(2 * DAY)
            with pytest.raises(NotFoundError):
                fc.get_flow(free)
            assert [f["id"] for f in fc.list_flows()["flows"]] == [paid]
            again = deploy(fc, PASS)  # the expired one no longer counts
            assert fc.get_flow(again)["subscription_id"] is None
            clock.advance(365 * DAY)
            assert fc.get_flow(paid)["id"] == paid  # a flow with a subscription does not expire


ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-4000-8000-000000000001"
BOB = "urn:globus:auth:identity:bbbbbbbb-0000-4000-8000-000000000002"


def client_of(stub: FlowsStub, who: str) -> FlowsClient:
    return FlowsClient.new_client("client-id", lambda **kw: al.BearerTokenAuthorizer(f"run-{who}"),
                                  al.BearerTokenAuthorizer(f"svc-{who}"), base_url=stub.url)


def test_free_tier_counts_per_owner_and_updates_cannot_get_around_it(clock: FakeClock) -> None:
    limits = FlowLimits(free_tier=True)
    with FlowsStub(tokens={"svc-a": ALICE, "svc-b": BOB}, flow_tokens={"run-a": ALICE, "run-b": BOB},
                   clock=clock, limits=limits) as s:
        alice, bob = client_of(s, "a"), client_of(s, "b")
        try:
            free = deploy(alice, PASS)
            bobs = deploy(bob, PASS)  # one each
            paid = deploy(alice, PASS, subscription_id="DEFAULT", flow_administrators=[BOB])
            with pytest.raises(PermissionDeniedError, match=free):
                alice.update_flow(paid, subscription_id="")  # "" clears it: a second free flow
            with pytest.raises(PermissionDeniedError) as caught:
                bob.update_flow(paid, subscription_id="")  # an administrator is not told which flow
            assert free not in str(caught.value) and "1 such flow" in str(caught.value)
            with pytest.raises(PermissionDeniedError):
                alice.update_flow(free, flow_owner=BOB)  # Bob has his free flow already
            assert alice.update_flow(free, title="renamed")["title"] == "renamed"
            assert alice.get_flow(paid)["subscription_id"] is not None
            bob.delete_flow(bobs)
            assert alice.update_flow(free, flow_owner=BOB)["flow_owner"] == BOB
        finally:
            alice.close()
            bob.close()


def test_the_command_line_takes_free_tier() -> None:
    code = "import sys; from automate_lite.testing.__main__ import main; sys.exit(main(['flows', '--free-tier']))"
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        fc = FlowsClient.new_client(None, None, None, base_url=url)
        try:
            deploy(fc, PASS)
            with pytest.raises(PermissionDeniedError):
                deploy(fc, PASS)
        finally:
            fc.close()
    finally:
        proc.terminate()
        proc.wait(30)


# ----------------------------------------------------------------------------- async


def test_async_client_sees_the_state_limit_and_retention(small: FlowsStub, clock: FakeClock) -> None:
    async def main() -> None:
        async with async_flows_client(small) as client:
            flow_id = (await client.deploy_flow(blob_flow(2_000), "async limits"))["id"]
            with pytest.raises(AutomateAPIError) as caught:
                await client.run_flow(flow_id, None, sized(1_001))
            assert caught.value.code == "FLOW_INPUT_ERROR"
            run_id = (await client.run_flow(flow_id, None, {}))["run_id"]
            doc = await afinish(client, run_id)
            assert doc["status"] == "FAILED" and doc["details"]["error"] == "States.DataLimitExceeded"
            clock.advance(91 * DAY)
            with pytest.raises(NotFoundError):
                await client.get_run(run_id)

    asyncio.run(main())
