"""The Flows stand-in executing definitions (``automate_lite.testing.runner``), end to end.

Flows go through real HTTP: automate-lite's ``FlowsClient`` deploys and runs them on
``FlowsStub``, whose runner calls ``ActionProviderStub`` with ``AsyncActionClient``.
Unit tests of the JSONPath and expression modules close the file. No test asserts on
durations; waits poll with a deadline.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any, Iterator

import pytest

import automate_lite as al
from automate_lite.flows import AsyncFlowsClient, FlowsClient
from automate_lite.definitions import expressions, jsonpath
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import FlowsStub
from automate_lite.testing.runner import StateFailure, evaluate_parameters, rule_matches

from _local_flows import finish, flows_client, output, until

AP_TOKEN = "ap-token"
ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def ap() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={AP_TOKEN: ALICE}) as provider:
        yield provider


@pytest.fixture(scope="module")
def flows() -> Iterator[FlowsStub]:
    with FlowsStub(action_token=AP_TOKEN, action_poll=(0.01, 0.05)) as stub:
        yield stub


@pytest.fixture(scope="module")
def fc(flows: FlowsStub) -> Iterator[FlowsClient]:
    yield from flows_client(flows)


def deploy(fc: FlowsClient, definition: dict[str, Any]) -> str:
    return str(fc.deploy_flow(definition, "test flow")["id"])


def start(fc: FlowsClient, definition: dict[str, Any], flow_input: Any = None, **kwargs: Any) -> str:
    return str(fc.run_flow(deploy(fc, definition), None, flow_input or {}, **kwargs)["run_id"])


def execute(fc: FlowsClient, definition: dict[str, Any], flow_input: Any = None) -> dict[str, Any]:
    return finish(fc, start(fc, definition, flow_input))


def log_of(fc: FlowsClient, run_id: str) -> list[dict[str, Any]]:
    return list(fc.iter_run_logs(run_id))


def codes(fc: FlowsClient, run_id: str) -> list[str]:
    return [e["code"] for e in log_of(fc, run_id)]


def flow(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A definition from (name, state) pairs; the first starts, each runs into the next."""
    names = [n for n, _ in states]
    built: dict[str, Any] = {}
    for i, (name, state) in enumerate(states):
        state = dict(state)
        if state["Type"] not in ("Choice", "Fail") and "Next" not in state and "End" not in state:
            if i + 1 < len(states):
                state["Next"] = names[i + 1]
            else:
                state["End"] = True
        built[name] = state
    return {"StartAt": names[0], "States": built}


# ----------------------------------------------------------------------------- Pass and data rules


def test_pass_parameters_input_path_and_result_path(fc: FlowsClient) -> None:
    definition = flow(
        ("Shape", {"Type": "Pass", "Parameters": {
            "name.$": "$.user.name", "first.$": "$.items[0]", "last.$": "$.items[-1]",
            "spaced.$": "$['odd key']", "fixed": 42, "nested": {"copy.$": "$.user", "list": [{"n.$": "$.items[1]"}]},
            "run.$": "$._context.run_id", "flow.$": "$$.flow_id",
        }, "ResultPath": "$.shaped"}),
        ("Narrow", {"Type": "Pass", "InputPath": "$.user", "ResultPath": "$.user_copy"}),
        ("Constant", {"Type": "Pass", "Result": {"k": [1, 2]}, "ResultPath": "$.deep.down.here"}),
        ("Keep", {"Type": "Pass"}),
    )
    flow_input = {"user": {"name": "Ada"}, "items": [10, 20, 30], "odd key": "yes"}
    run_id = start(fc, definition, flow_input)
    out = output(finish(fc, run_id))
    shaped = out["shaped"]
    assert shaped == {
        "name": "Ada", "first": 10, "last": 30, "spaced": "yes", "fixed": 42,
        "nested": {"copy": {"name": "Ada"}, "list": [{"n": 20}]},
        "run": run_id, "flow": shaped["flow"],
    }
    assert out["user_copy"] == {"name": "Ada"} and out["deep"] == {"down": {"here": {"k": [1, 2]}}}
    assert out["user"] == {"name": "Ada"} and out["items"] == [10, 20, 30]
    assert "_context" not in out  # the run context is read, never stored
    assert codes(fc, run_id) == ["FlowStarted"] + ["PassStarted", "PassCompleted"] * 4 + ["FlowSucceeded"]


def test_result_without_result_path_replaces_the_document(fc: FlowsClient) -> None:
    definition = flow(("Replace", {"Type": "Pass", "Parameters": {"only.$": "$.a"}}), ("Then", {"Type": "Pass"}))
    assert output(execute(fc, definition, {"a": 1, "b": 2})) == {"only": 1}


def test_result_paths_do_not_alias(fc: FlowsClient) -> None:
    definition = flow(
        ("Copy", {"Type": "Pass", "Parameters": {"v.$": "$.src"}, "ResultPath": "$.dst"}),
        ("Change", {"Type": "Pass", "Result": 99, "ResultPath": "$.src.x"}),
    )
    out = output(execute(fc, definition, {"src": {"x": 1}}))
    assert out == {"src": {"x": 99}, "dst": {"v": {"x": 1}}}


def test_missing_path_fails_the_run_with_its_error(fc: FlowsClient) -> None:
    run_id = start(fc, flow(("Read", {"Type": "Pass", "Parameters": {"x.$": "$.nope"}})), {"a": 1})
    run = finish(fc, run_id)
    assert run["status"] == "FAILED"
    details = run["details"]
    assert details["code"] == "FlowFailed" and details["error"] == "States.ParameterPathFailure"
    assert details["state_name"] == "Read" and "nope" in details["cause"] and details["output"] == {"a": 1}
    assert codes(fc, run_id) == ["FlowStarted", "PassFailed", "FlowFailed"]


def test_result_path_into_a_string_fails(fc: FlowsClient) -> None:
    run = execute(fc, flow(("Write", {"Type": "Pass", "Result": 1, "ResultPath": "$.s.x"})), {"s": "text"})
    assert run["status"] == "FAILED" and run["details"]["error"] == "States.ResultPathMatchFailure"


# ----------------------------------------------------------------------------- ExpressionEval


def test_expression_eval_and_expression_parameters(fc: FlowsClient) -> None:
    definition = flow(
        ("Calc", {"Type": "ExpressionEval", "Parameters": {
            "sum.=": "a + b * 2",
            "greeting.=": "'Hello, ' + user.name + \"!\"",
            "count.=": "len(items)",
            "big.=": "max(items) > 25 and not flag",
            "path.=": "`$.user['name']` + str(len(`$.items`))",
            "pick.=": "items[1] if a < b else items[0]",
            "ratio.=": "round(b / a, 2)",
            "literal": "x",
            "ref.$": "$.a",
        }, "ResultPath": "$.calc"}),
        ("Inline", {"Type": "Pass", "Parameters": {"list": [{"double.=": "calc.sum * 2"}]}, "ResultPath": "$.inline"}),
    )
    out = output(execute(fc, definition, {"a": 3, "b": 4, "user": {"name": "Ada"}, "items": [10, 20, 30], "flag": False}))
    assert out["calc"] == {
        "sum": 11, "greeting": "Hello, Ada!", "count": 3, "big": True, "path": "Ada3",
        "pick": 20, "ratio": 1.33, "literal": "x", "ref": 3,
    }
    assert out["inline"] == {"list": [{"double": 22}]}


def test_expression_error_fails_the_state(fc: FlowsClient) -> None:
    run = execute(fc, flow(("Bad", {"Type": "ExpressionEval", "Parameters": {"x.=": "1 / zero"}})), {"zero": 0})
    assert run["status"] == "FAILED"
    assert run["details"]["error"] == "ExpressionEvaluationError" and "division by zero" in run["details"]["cause"]
    # An expression that cannot parse is refused when the flow is deployed, before any run.
    with pytest.raises(al.FlowValidationError, match="__import__"):
        execute(fc, flow(("Evil", {"Type": "ExpressionEval", "Parameters": {"x.=": "__import__('os')"}})))


# ----------------------------------------------------------------------------- Choice


CHOICE = {
    "StartAt": "Pick",
    "States": {
        "Pick": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.kind", "StringEquals": "tar", "Next": "Tar"},
                {"And": [{"Variable": "$.size", "IsNumeric": True}, {"Variable": "$.size", "NumericGreaterThanEquals": 100}],
                 "Next": "Big"},
                {"Or": [{"Variable": "$.urgent", "BooleanEquals": True},
                        {"Variable": "$.priority", "NumericLessThanPath": "$.threshold"}], "Next": "Urgent"},
                {"Not": {"Variable": "$.name", "IsPresent": True}, "Next": "Anonymous"},
                {"Variable": "$.name", "StringMatches": "tmp_*", "Next": "Temp"},
                {"Variable": "$.name", "StringLessThan": "m", "Next": "Early"},
                {"Variable": "$.note", "IsNull": True, "Next": "NoNote"},
                {"Variable": "$.when", "TimestampGreaterThan": "2020-01-01T00:00:00Z", "Next": "Recent"},
            ],
            "Default": "Other",
        },
        **{name: {"Type": "Pass", "Result": name, "ResultPath": "$.branch", "End": True}
           for name in ("Tar", "Big", "Urgent", "Anonymous", "Temp", "Early", "NoNote", "Recent", "Other")},
    },
}


@pytest.mark.parametrize(
    "flow_input, branch",
    [
        ({"kind": "tar", "name": "x"}, "Tar"),
        ({"size": 100, "name": "x"}, "Big"),
        ({"size": "100", "name": "zz"}, "Other"),  # a string is not numeric: no match, no error
        ({"urgent": True, "name": "x"}, "Urgent"),
        ({"priority": 1, "threshold": 5, "name": "x"}, "Urgent"),
        ({}, "Anonymous"),
        ({"name": "tmp_file"}, "Temp"),
        ({"name": "alpha"}, "Early"),
        ({"name": "zulu", "note": None}, "NoNote"),
        ({"name": "zulu", "note": 1, "when": "2024-05-01T10:00:00+00:00"}, "Recent"),
        ({"name": "zulu", "note": 1, "when": "2019-05-01T10:00:00Z"}, "Other"),
    ],
)
def test_choice_rules(fc: FlowsClient, flow_input: dict[str, Any], branch: str) -> None:
    defaults = {"kind": "zip", "size": 1, "urgent": False, "priority": 9, "threshold": 5, "note": "n", "when": "x"}
    full = {**{k: v for k, v in defaults.items() if k not in flow_input}, **flow_input}
    run_id = start(fc, CHOICE, full)
    assert output(finish(fc, run_id))["branch"] == branch
    entries = log_of(fc, run_id)
    chosen = [e for e in entries if e["code"] == "ChoiceCompleted"][0]
    assert chosen["details"]["next_state"] == branch and chosen["details"]["state_name"] == "Pick"


def test_choice_without_match_or_variable_fails(fc: FlowsClient) -> None:
    definition = {"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "One"}]},
        "One": {"Type": "Pass", "End": True},
    }}
    run = execute(fc, definition, {"x": 2})
    assert run["status"] == "FAILED" and run["details"]["error"] == "States.NoChoiceMatched"
    missing = execute(fc, definition, {})
    assert missing["status"] == "FAILED" and missing["details"]["error"] == "States.Runtime"
    assert "IsPresent" in missing["details"]["cause"]


def test_loop_runs_an_action_once_per_visit(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "Echo", "States": {
        "Echo": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string.=": "'round ' + str(n)"},
                 "ResultPath": "$.last", "Next": "Count"},
        "Count": {"Type": "ExpressionEval", "Parameters": {"n.=": "n + 1"}, "ResultPath": "$.counter", "Next": "Copy"},
        "Copy": {"Type": "Pass", "InputPath": "$.counter.n", "ResultPath": "$.n", "Next": "More?"},
        "More?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 3, "Next": "Echo"}], "Default": "Done"},
        "Done": {"Type": "Pass", "End": True},
    }}
    before = ap.state.created_count
    out = output(execute(fc, definition, {"n": 0}))
    assert out["n"] == 3 and out["last"]["details"]["echo_string"] == "round 2"
    assert ap.state.created_count == before + 3  # a new request_id per visit, not a replay


# ----------------------------------------------------------------------------- Wait and Fail


def test_wait_states(fc: FlowsClient) -> None:
    definition = flow(
        ("Short", {"Type": "Wait", "Seconds": 0.01}),
        ("FromInput", {"Type": "Wait", "SecondsPath": "$.pause"}),
        ("Past", {"Type": "Wait", "Timestamp": "2001-01-01T00:00:00Z"}),
        ("Done", {"Type": "Pass"}),
    )
    run_id = start(fc, definition, {"pause": 0.01})
    assert output(finish(fc, run_id)) == {"pause": 0.01}
    assert codes(fc, run_id) == ["FlowStarted"] + ["WaitStarted", "WaitCompleted"] * 3 + [
        "PassStarted", "PassCompleted", "FlowSucceeded"]
    bad = execute(fc, flow(("W", {"Type": "Wait", "SecondsPath": "$.pause"})), {"pause": "soon"})
    assert bad["status"] == "FAILED" and bad["details"]["error"] == "States.Runtime"


def test_fail_state(fc: FlowsClient) -> None:
    definition = flow(("Before", {"Type": "Pass", "Result": 1, "ResultPath": "$.r"}),
                      ("Stop", {"Type": "Fail", "Error": "TooBig", "Cause": "the input was too big"}))
    run_id = start(fc, definition, {"x": 1})
    run = finish(fc, run_id)
    assert run["status"] == "FAILED" and run["completion_time"] is not None
    details = run["details"]
    assert details["code"] == "FlowFailed" and details["error"] == "TooBig"
    assert details["cause"] == "the input was too big" and details["description"] == "the input was too big"
    assert details["state_name"] == "Stop" and details["output"] == {"x": 1, "r": 1}
    last = log_of(fc, run_id)[-1]
    assert last["code"] == "FlowFailed" and last["details"]["state_name"] == "Stop"


# ----------------------------------------------------------------------------- Action


def test_action_runs_with_the_run_as_token(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = flow(("Hello", {"Type": "Action", "ActionUrl": ap.url, "Parameters": {
        "echo_string.$": "$.msg", "secret": "s3cret", "__Private_Parameters": ["secret"]}, "ResultPath": "$.hello"}))
    run_id = start(fc, definition, {"msg": "hi"})
    out = output(finish(fc, run_id))
    result = out["hello"]
    assert result["status"] == "SUCCEEDED" and result["state_name"] == "Hello"
    assert result["creator_id"] == ALICE  # the provider saw the stub's action token
    assert result["details"]["result"] == {"echo_string": "hi", "secret": "s3cret"}  # sent, private only in the log
    entries = log_of(fc, run_id)
    assert [e["code"] for e in entries] == ["FlowStarted", "ActionStarted", "ActionCompleted", "FlowSucceeded"]
    started = entries[1]["details"]
    assert started["input"] == {"echo_string": "hi"}  # omitted, as the docs say, not masked
    assert started["action_id"] == result["action_id"] and started["state_name"] == "Hello"
    runs = [json.loads(r.body) for r in ap.state.requests if r.method == "POST" and r.path == "/run"]
    mine = [r for r in runs if r["request_id"].startswith(run_id + "_1_")]
    assert len(mine) == 1 and "__Private_Parameters" not in mine[0]["body"]


def test_failing_action_fails_the_run(fc: FlowsClient, ap: ActionProviderStub) -> None:
    run_id = start(fc, flow(("Boom", {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"fail": True}})), {"a": 1})
    run = finish(fc, run_id)
    assert run["status"] == "FAILED"
    assert run["details"]["error"] == "ActionFailedException" and "ActionFailed" in run["details"]["cause"]
    entries = log_of(fc, run_id)
    assert [e["code"] for e in entries] == ["FlowStarted", "ActionStarted", "ActionFailed", "FlowFailed"]
    assert entries[2]["details"]["output"]["status"] == "FAILED"


def test_catch_paths(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "Try", "States": {
        "Try": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"fail.$": "$.fail", "n.=": "1 / d"},
                "ResultPath": "$.result", "Next": "Fine",
                "Catch": [{"ErrorEquals": ["ActionFailedException"], "ResultPath": "$.failure", "Next": "Failed"},
                          {"ErrorEquals": ["States.ALL"], "Next": "Other"}]},
        "Fine": {"Type": "Pass", "Result": "fine", "ResultPath": "$.path", "End": True},
        "Failed": {"Type": "Pass", "Result": "failed", "ResultPath": "$.path", "End": True},
        "Other": {"Type": "Pass", "End": True},
    }}
    assert output(execute(fc, definition, {"fail": False, "d": 1}))["path"] == "fine"

    caught = output(execute(fc, definition, {"fail": True, "d": 1}))
    assert caught["path"] == "failed" and caught["failure"]["status"] == "FAILED"
    assert caught["failure"]["details"]["code"] == "ActionFailed" and "result" not in caught

    # an expression error is caught by States.ALL; with no ResultPath it replaces the document
    other = output(execute(fc, definition, {"fail": False, "d": 0}))
    assert other["Error"] == "ExpressionEvaluationError" and "division by zero" in other["Cause"]


def test_action_unable_to_run(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "Try", "States": {
        "Try": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"error_status": 400}, "Next": "Ok",
                "Catch": [{"ErrorEquals": ["ActionUnableToRun"], "ResultPath": "$.why", "Next": "Handled"}]},
        "Ok": {"Type": "Pass", "End": True},
        "Handled": {"Type": "Pass", "End": True},
    }}
    run_id = start(fc, definition, {})
    out = output(finish(fc, run_id))
    assert out["why"]["code"] == "BadRequest"  # the provider's error body
    assert codes(fc, run_id) == ["FlowStarted", "ActionFailed", "PassStarted", "PassCompleted", "FlowSucceeded"]


def test_exception_on_action_failure_false_keeps_going(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = flow(
        ("Soft", {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"fail": True}, "ExceptionOnActionFailure": False,
                  "ResultPath": "$.soft"}),
        ("Check", {"Type": "Choice", "Choices": [{"Variable": "$.soft.status", "StringEquals": "FAILED", "Next": "Noted"}],
                   "Default": "Noted"}),
        ("Noted", {"Type": "Pass", "Result": True, "ResultPath": "$.noted"}),
    )
    run_id = start(fc, definition, {})
    out = output(finish(fc, run_id))
    assert out["soft"]["status"] == "FAILED" and out["noted"] is True
    assert "ActionFailed" in codes(fc, run_id)


def test_action_timeout(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "Slow", "States": {
        "Slow": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"sleep_s": 60}, "WaitTime": 1, "Next": "Ok",
                 "Catch": [{"ErrorEquals": ["ActionTimeout"], "ResultPath": "$.timeout", "Next": "TimedOut"}]},
        "Ok": {"Type": "Pass", "End": True},
        "TimedOut": {"Type": "Pass", "End": True},
    }}
    out = output(execute(fc, definition, {}))
    assert out["timeout"]["status"] == "ACTIVE"  # the last poll of the action


# ----------------------------------------------------------------------------- cancel, resume, web inputs


def test_cancel_mid_run_cancels_the_action(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = flow(("Long", {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"sleep_s": 60}, "WaitTime": 120}),
                      ("After", {"Type": "Pass"}))
    run_id = start(fc, definition, {})
    started = until(lambda: [e for e in log_of(fc, run_id) if e["code"] == "ActionStarted"], "the action to start")
    action_id = started[0]["details"]["action_id"]
    active = fc.get_run(run_id)
    assert active["status"] == "ACTIVE" and active["details"]["state_name"] == "Long"
    with pytest.raises(al.ConflictError):
        fc.release_run(run_id)  # only a finished run can be released

    cancelled = fc.cancel_run(run_id)
    assert cancelled["status"] == "ENDED" and cancelled["details"]["code"] == "FlowCanceled"
    status = until(lambda: (ap.state.status_of(action_id) or {}).get("status") == "FAILED" and ap.state.status_of(action_id),
                   "the provider to cancel the action")
    assert status["details"]["code"] == "Canceled"
    assert codes(fc, run_id) == ["FlowStarted", "ActionStarted", "FlowCanceled"]
    assert fc.get_run(run_id)["status"] == "ENDED"
    with pytest.raises(al.ConflictError):
        fc.resume_run(run_id)
    fc.release_run(run_id)


def test_resume_an_inactive_action(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = flow(("Consent", {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"require_resume": True},
                                   "ResultPath": "$.r"}), ("After", {"Type": "Pass"}))
    run_id = start(fc, definition, {})
    inactive = finish(fc, run_id)  # wait_for_run stops at INACTIVE
    assert inactive["status"] == "INACTIVE" and inactive["details"]["code"] == "ConsentRequired"
    action_id = inactive["details"]["action_id"]
    assert ap.state.status_of(action_id)["status"] == "INACTIVE"  # type: ignore[index]

    resumed = fc.resume_run(run_id)
    assert resumed["status"] == "ACTIVE"
    out = output(finish(fc, run_id))
    assert out["r"]["status"] == "SUCCEEDED" and out["r"]["action_id"] == action_id
    assert codes(fc, run_id) == ["FlowStarted", "ActionStarted", "FlowInactive", "FlowResumed", "ActionCompleted",
                                 "PassStarted", "PassCompleted", "FlowSucceeded"]
    with pytest.raises(al.ConflictError):
        fc.resume_run(run_id)
    with pytest.raises(al.ConflictError):
        fc.cancel_run(run_id)


def test_web_input_holds_the_run_inactive_until_answered(fc: FlowsClient) -> None:
    definition = {"StartAt": "Ask", "States": {
        "Ask": {"Type": "CreateWebInput", "Parameters": {"title.=": "'Ship ' + name + '?'", "options": ["Approve", "Reject"]},
                "ResultPath": "$.question", "Next": "Wait"},
        "Wait": {"Type": "AwaitWebInput", "Parameters": {"web_input_id.$": "$.question.id"}, "ResultPath": "$.answer",
                 "Next": "Decide"},
        "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.answer.label", "StringEquals": "Approve", "Next": "Ship"}],
                   "Default": "Drop"},
        "Ship": {"Type": "Pass", "Result": "shipped", "ResultPath": "$.outcome", "End": True},
        "Drop": {"Type": "Pass", "Result": "dropped", "ResultPath": "$.outcome", "End": True},
    }}
    run_id = start(fc, definition, {"name": "v1"})
    waiting = finish(fc, run_id)
    assert waiting["status"] == "INACTIVE" and waiting["details"]["code"] == "WaitingForWebInput"
    web_input_id = waiting["details"]["web_input_id"]

    listed = fc.list_web_inputs(filter_run_ids=[run_id])["web_input_summaries"]
    assert [w["id"] for w in listed] == [web_input_id] and listed[0]["title"] == "Ship v1?"
    with pytest.raises(al.ConflictError):
        fc.resume_run(run_id)  # it waits for an answer, not for a resume
    approve = [o for o in fc.get_web_input(web_input_id)["options"] if o["label"] == "Approve"][0]["option_id"]
    fc.respond_to_web_input(web_input_id, approve)

    out = output(finish(fc, run_id))
    assert out["outcome"] == "shipped" and out["answer"]["label"] == "Approve" and out["answer"]["value"] == approve
    assert out["question"]["id"] == web_input_id
    assert codes(fc, run_id) == ["FlowStarted", "CreateWebInputStarted", "CreateWebInputCompleted",
                                 "AwaitWebInputStarted", "FlowInactive", "FlowResumed", "AwaitWebInputCompleted",
                                 "ChoiceStarted", "ChoiceCompleted", "PassStarted", "PassCompleted", "FlowSucceeded"]


def test_invalid_flow_refused_with_the_local_messages(fc: FlowsClient) -> None:
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    with pytest.raises(al.UnprocessableEntityError) as info:
        fc.create_flow("bad", bad, validate_definition=False)
    local = [msg for _, msg in al.flow_definition_problems(bad)]
    assert local and len(info.value.messages) == len(local)
    assert all(got.endswith(": " + want) for got, want in zip(info.value.messages, local))


def test_scripted_runs_still_available(fc: FlowsClient) -> None:
    run_id = start(fc, flow(("Never", {"Type": "Fail"})), {"_stub": {"active_s": 0, "outcome": "SUCCEEDED"}, "k": 1})
    assert finish(fc, run_id)["details"]["output"] == {"k": 1}  # the Fail state was not executed


def test_stop_cancels_runs_still_going() -> None:
    stub = FlowsStub(action_token=AP_TOKEN).start()
    client = FlowsClient.new_client(None, lambda **kw: al.BearerTokenAuthorizer("f"), al.BearerTokenAuthorizer("s"),
                                    base_url=stub.url)
    run_id = start(client, flow(("Sleep", {"Type": "Wait", "Seconds": 600})), {})
    until(lambda: "WaitStarted" in codes(client, run_id), "the wait to begin")
    client.close()
    stub.stop()
    assert not stub.runner.running


# ----------------------------------------------------------------------------- many at once


def test_200_concurrent_runs(flows: FlowsStub, ap: ActionProviderStub) -> None:
    definition = flow(
        ("Echo", {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string.=": "'n=' + str(n)"},
                  "ResultPath": "$.echo"}),
        ("Double", {"Type": "ExpressionEval", "Parameters": {"value.=": "n * 2", "said.$": "$.echo.details.echo_string"},
                    "ResultPath": "$.out"}),
    )

    async def main() -> list[dict[str, Any]]:
        async with AsyncFlowsClient.new_client(
            None, lambda **kw: al.BearerTokenAuthorizer("f"), al.BearerTokenAuthorizer("s"), base_url=flows.url
        ) as client:
            fid = (await client.deploy_flow(definition, "many"))["id"]
            runs = await asyncio.gather(*(client.run_flow(fid, None, {"n": i}) for i in range(200)))
            finals = await asyncio.gather(
                *(client.wait_for_run(r["run_id"], timeout=60, initial_delay=0.05, max_delay=0.2) for r in runs)
            )
            return [dict(f.data) for f in finals]

    finals = asyncio.run(main())
    assert [f["status"] for f in finals] == ["SUCCEEDED"] * 200
    assert [f["details"]["output"]["out"] for f in finals] == [{"value": 2 * i, "said": f"n={i}"} for i in range(200)]


# ----------------------------------------------------------------------------- JSONPath units


DOC = {"a": {"b": [1, {"c": "deep"}]}, "x y": 5, "list": [{"v": 1}, {"v": 2}, {"w": 3}], "s": "text", "n": None}


@pytest.mark.parametrize(
    "path, value",
    [
        ("$", DOC),
        ("$.a.b[0]", 1),
        ("$.a.b[1].c", "deep"),
        ("$.a['b'][-1]['c']", "deep"),
        ("$['x y']", 5),
        ('$["x y"]', 5),
        ("$.list[*].v", [1, 2]),
        ("$.a.*", [[1, {"c": "deep"}]]),
        ("$.n", None),
        ("$$.run_id", "R"),
        ("$._context.run_id", "R"),
    ],
)
def test_jsonpath_get(path: str, value: Any) -> None:
    assert jsonpath.get(DOC, path, {"run_id": "R"}) == value


@pytest.mark.parametrize("path", ["$.missing", "$.a.b[5]", "$.s.x", "$.a.b.c", "$.list[0].w", "$$.run_id"])
def test_jsonpath_not_found(path: str) -> None:
    with pytest.raises(jsonpath.PathNotFound):
        jsonpath.get(DOC, path)
    assert not jsonpath.exists(DOC, path)


@pytest.mark.parametrize("path", ["a.b", "$.", "$..a", "$[abc]", "$['open", "$[1", "$.a b", "$a"])
def test_jsonpath_syntax_errors(path: str) -> None:
    with pytest.raises(jsonpath.JSONPathError):
        jsonpath.parse(path)


def test_jsonpath_put() -> None:
    doc: Any = {"a": {"b": 1}, "l": [1, 2]}
    doc = jsonpath.put(doc, "$.a.c.d", "new")
    doc = jsonpath.put(doc, "$.l[1]", 20)
    doc = jsonpath.put(doc, "$['a key']", True)
    assert doc == {"a": {"b": 1, "c": {"d": "new"}}, "l": [1, 20], "a key": True}
    assert jsonpath.put(doc, "$", [1]) == [1]
    for bad in ("$.a.b.c", "$.l[5]"):
        with pytest.raises(jsonpath.PathNotFound):
            jsonpath.put(copy.deepcopy(doc), bad, 0)
    for bad in ("$.l[*]", "$._context.x", "$$.x"):
        with pytest.raises(jsonpath.JSONPathError):
            jsonpath.put(copy.deepcopy(doc), bad, 0)
    assert jsonpath.format_path(jsonpath.parse("$.a['b c'][0][*]")) == "$.a['b c'][0][*]"


# ----------------------------------------------------------------------------- expression units


EXPR_DOC = {"x": 3, "s": "ab", "user": {"name": "Ada", "tags": ["a", "b"]}, "flag": True, "nothing": None, "f": 2.5}


@pytest.mark.parametrize(
    "text, value",
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("7 % 4", 3),
        ("-x + +1", -2),
        ("2e2", 200.0),
        ("'it\\'s' + \" ok\"", "it's ok"),
        ("s + 'c'", "abc"),
        ("s * 2", "abab"),
        ("user.name", "Ada"),
        ("user.tags[1]", "b"),
        ("user['tags'][-1]", "b"),
        ("`$.user.name`", "Ada"),
        ("`$.user.tags`[0]", "a"),
        ("x == 3 and s != 'x'", True),
        ("x > 5 or 'fallback'", "fallback"),
        ("not flag", False),
        ("1 < x <= 3", True),
        ("'a' in user.tags", True),
        ("'z' not in s", True),
        ("nothing == null", True),
        ("true == 1", False),
        ("[x, s, [1]]", [3, "ab", [1]]),
        ("x if flag else 0", 3),
        ("len(s) + len(user.tags) + len(user)", 6),
        ("str(x) + str(flag) + str(nothing)", "3truenull"),
        ("int('42') + int(f) + int(' 7 ')", 51),
        ("float('1.5') + float(1)", 2.5),
        ("abs(-x)", 3),
        ("min(4, x, 9)", 3),
        ("max(user.tags)", "b"),
        ("round(f)", 2),
        ("round(3.14159, 2)", 3.14),
        ("upper(s) + lower('CD') + strip('  e ')", "ABcde"),
        ("sum([1, 2, x])", 6),
        ("bool(0) or bool('x')", True),
        ("_context.run_id", "R"),
    ],
)
def test_expressions_evaluate(text: str, value: Any) -> None:
    assert expressions.evaluate(text, EXPR_DOC, {"run_id": "R"}) == value


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os')", "'__'"),
        ("x.__class__", "'__'"),
        ("(1).real", "attribute access"),
        ("'abc'.format(1)", "attribute access"),
        ("user.tags[0].x", "attribute access"),
        ("user.name()", "attribute access"),
        ("eval('1')", "unknown function 'eval'"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("globals()", "unknown function"),
        ("(lambda: 1)()", "'lambda' is not supported"),
        ("x ** 2000", "power"),
        ("x = 1", "assignment"),
        ("1 / 0", "division by zero"),
        ("s + 1", "cannot add string and integer"),
        ("true + 1", "cannot add"),
        ("s < 1", "cannot order"),
        ("missing + 1", "name 'missing' is not defined"),
        ("user.age", "no key 'age'"),
        ("`$.nope`", "matched nothing"),
        ("`nope`", "must start with '$'"),
        ("user.tags[9]", "out of range"),
        ("'ab' * 10000000", "more than"),
        ("len(1)", "len() takes"),
        ("round(1, 2, 3)", "takes 1 to 2 argument"),
        ("int('x')", "cannot read"),
        ("", "empty"),
        ("1 +", "ends too early"),
        ("'open", "unterminated"),
        ("1 2", "unexpected text"),
        ("(" * 100 + "1" + ")" * 100, "nests deeper"),
        ("x $ 1", "unexpected character"),
    ],
)
def test_expression_errors(text: str, message: str) -> None:
    with pytest.raises(expressions.ExpressionError) as info:
        expressions.evaluate(text, EXPR_DOC)
    assert message in str(info.value)


def test_expression_results_are_fresh_values() -> None:
    doc = {"l": [1, 2]}
    result = expressions.evaluate("l", doc)
    result.append(3)
    assert doc == {"l": [1, 2]}


def test_parameters_and_rules_units() -> None:
    built = evaluate_parameters({"a.$": "$.x", "b.=": "x + 1", "c": [{"d.$": "$.x"}], "e": "$.x"}, {"x": 1})
    assert built == {"a": 1, "b": 2, "c": [{"d": 1}], "e": "$.x"}
    with pytest.raises(StateFailure) as info:
        evaluate_parameters({"a.$": "$.y"}, {"x": 1})
    assert info.value.error == "States.ParameterPathFailure"
    with pytest.raises(StateFailure) as info:
        evaluate_parameters({"nested": {"a.=": "nope"}}, {"x": 1})
    assert info.value.error == "ExpressionEvaluationError" and "nested" in info.value.cause

    doc = {"n": 5, "s": "file.tar", "b": True, "t": "2024-01-02T00:00:00Z", "limit": 4}
    assert rule_matches({"Variable": "$.n", "NumericGreaterThanPath": "$.limit"}, doc)
    assert rule_matches({"Variable": "$.s", "StringMatches": "*.tar"}, doc)
    assert not rule_matches({"Variable": "$.s", "StringMatches": "\\*.tar"}, doc)
    assert rule_matches({"Variable": "$.b", "IsBoolean": True}, doc)
    assert rule_matches({"Variable": "$.s", "IsNumeric": False}, doc)
    assert rule_matches({"Variable": "$.t", "IsTimestamp": True}, doc)
    assert rule_matches({"Variable": "$.t", "TimestampLessThan": "2025-01-01T00:00:00+00:00"}, doc)
    assert not rule_matches({"Variable": "$.n", "StringEquals": "5"}, doc)  # type mismatch: no match
    assert rule_matches({"Not": {"Or": [{"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.b", "BooleanEquals": False}]}}, doc)
    assert rule_matches({"Variable": "$$.run_id", "StringEquals": "R"}, doc, {"run_id": "R"})
