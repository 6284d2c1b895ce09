"""Web input expiry in the local Flows service, over real HTTP with FlowsClient.

The expiry parameter is not in the Flows docs (the official examples only Catch
``Flows.WebInputExpired``), so ``ExpiresIn`` (seconds) is the stand-in's own name; the
tests expire inputs with ``FlowsStub.expire_web_input`` or by a short ``ExpiresIn``,
and never assert on time.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from automate_lite.errors import ConflictError
from automate_lite.flows import FlowsClient
from automate_lite.testing.flows import FlowsStub

from _local_flows import finish as wait, flows_client


@pytest.fixture(scope="module")
def flows() -> Iterator[FlowsStub]:
    with FlowsStub(action_poll=(0.01, 0.05)) as stub:
        yield stub


@pytest.fixture(scope="module")
def fc(flows: FlowsStub) -> Iterator[FlowsClient]:
    yield from flows_client(flows)


def approval(expires_in: Any = None, catch: bool = True, guard: bool = True) -> dict[str, Any]:
    params: dict[str, Any] = {"InputType": "Selection", "Context": {"Title": "Approve?"},
                              "Options": [{"Value": "yes", "Label": "Yes"}, {"Value": "no", "Label": "No"}]}
    if expires_in is not None:
        params["ExpiresIn"] = expires_in
    wait: dict[str, Any] = {"Type": "AwaitWebInput", "Parameters": {"web_input_id.$": "$.ask.web_input_id"},
                            "ResultPath": "$.answer", "Next": "Decide"}
    if catch:  # as the official web-input examples write it
        wait["Catch"] = [{"ErrorEquals": ["Flows.WebInputExpired"], "ResultPath": "$.answer", "Next": "Decide"}]
    is_yes = {"Variable": "$.answer.response", "StringEquals": "yes"}
    guarded = {"And": [{"Variable": "$.answer.response", "IsPresent": True}, is_yes]}
    return {"StartAt": "Ask", "States": {
        "Ask": {"Type": "CreateWebInput", "Parameters": params, "ResultPath": "$.ask", "Next": "Wait"},
        "Wait": wait,
        # A missing Variable is a States.Runtime error (see definitions/rules.py for why),
        # so the rule is guarded with IsPresent.
        "Decide": {"Type": "Choice", "Choices": [{**(guarded if guard else is_yes), "Next": "Approved"}], "Default": "NotApproved"},
        "Approved": {"Type": "Pass", "Result": "approved", "ResultPath": "$.outcome", "End": True},
        "NotApproved": {"Type": "Pass", "Result": "not approved", "ResultPath": "$.outcome", "End": True},
    }}


def start(fc: FlowsClient, definition: dict[str, Any]) -> str:
    fid = fc.deploy_flow(definition, "web input expiry")["id"]
    return str(fc.run_flow(fid, None, {})["run_id"])


def test_expired_input_is_caught_and_a_late_answer_gets_409(fc: FlowsClient, flows: FlowsStub) -> None:
    run_id = start(fc, approval(expires_in=3600))
    waiting = wait(fc, run_id)
    assert waiting["status"] == "INACTIVE" and waiting["details"]["code"] == "WaitingForWebInput"
    wid = waiting["details"]["web_input_id"]
    doc = dict(fc.get_web_input(wid).data)
    assert doc["status"] == "open" and doc["expiration_timestamp"]
    assert flows.expire_web_input(wid) is True
    final = wait(fc, run_id)
    assert final["status"] == "SUCCEEDED", final["details"]
    out = final["details"]["output"]
    assert out["outcome"] == "not approved" and out["answer"]["Error"] == "Flows.WebInputExpired"
    assert fc.get_web_input(wid)["status"] == "expired"
    with pytest.raises(ConflictError) as late:
        fc.respond_to_web_input(wid, doc["options"][0]["option_id"])
    assert late.value.http_status == 409 and "expired" in str(late.value)
    assert flows.expire_web_input(wid) is False  # already expired
    codes = [e["code"] for e in fc.get_run_logs(run_id, limit=100)["entries"]]
    assert codes.index("FlowInactive") < codes.index("FlowResumed") < codes.index("AwaitWebInputFailed")


def test_uncaught_expiry_fails_the_run_with_the_documented_error(fc: FlowsClient, flows: FlowsStub) -> None:
    run_id = start(fc, approval(expires_in=3600, catch=False))
    wid = wait(fc, run_id)["details"]["web_input_id"]
    flows.expire_web_input(wid)
    final = wait(fc, run_id)
    assert final["status"] == "FAILED" and final["details"]["error"] == "Flows.WebInputExpired"
    assert final["details"]["state_name"] == "Wait"


def test_unguarded_choice_on_an_expired_answer_fails_with_states_runtime(fc: FlowsClient, flows: FlowsStub) -> None:
    # After the expiry is caught, $.answer is {Error, Cause}: $.answer.response names
    # nothing. Only IsPresent may read a missing Variable; any other rule is an error.
    run_id = start(fc, approval(expires_in=3600, guard=False))
    flows.expire_web_input(wait(fc, run_id)["details"]["web_input_id"])
    final = wait(fc, run_id)
    assert final["status"] == "FAILED", final["details"]
    details = final["details"]
    assert details["error"] == "States.Runtime" and details["state_name"] == "Decide"
    assert "$.answer.response" in details["cause"] and "IsPresent" in details["cause"]
    # The same flow with the guard takes the Default.
    guarded = start(fc, approval(expires_in=3600))
    flows.expire_web_input(wait(fc, guarded)["details"]["web_input_id"])
    assert wait(fc, guarded)["details"]["output"]["outcome"] == "not approved"


def test_expires_in_runs_out_on_its_own(fc: FlowsClient) -> None:
    final = wait(fc, start(fc, approval(expires_in=0.05)))
    while final["status"] == "INACTIVE":  # the expiry wakes it; waiting longer is allowed
        final = wait(fc, final["run_id"])
    assert final["status"] == "SUCCEEDED" and final["details"]["output"]["answer"]["Error"] == "Flows.WebInputExpired"


def test_an_answer_in_time_still_wins(fc: FlowsClient) -> None:
    run_id = start(fc, approval(expires_in=3600))
    wid = wait(fc, run_id)["details"]["web_input_id"]
    doc = fc.get_web_input(wid)
    fc.respond_to_web_input(wid, doc["options"][0]["option_id"])
    assert wait(fc, run_id)["details"]["output"]["outcome"] == "approved"


@pytest.mark.parametrize("bad", [0, -1, "soon", True])
def test_bad_expires_in_fails_the_create_state(fc: FlowsClient, bad: Any) -> None:
    final = wait(fc, start(fc, approval(expires_in=bad)))
    assert final["status"] == "FAILED" and final["details"]["state_name"] == "Ask"
    assert "ExpiresIn" in final["details"]["cause"]


def test_expire_web_input_of_an_unknown_input(flows: FlowsStub) -> None:
    with pytest.raises(KeyError, match="no web input"):
        flows.expire_web_input("00000000-0000-4000-8000-000000000000")
