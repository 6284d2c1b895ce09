"""Local flow-definition validation (automate_lite.definitions.validation)."""

from __future__ import annotations

import ast
import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automate_lite.errors import FlowValidationError, UsageError
from automate_lite.definitions.rules import RULES, RuleError, action_target, describe_rule, rule_matches
from automate_lite.definitions.validation import (
    MAX_NESTING,
    STATE_TYPES,
    Problem,
    _format,
    flow_definition_problems,
    validate_flow_definition,
)

# A realistic flow that uses every state type and most optional fields.
VALID_FLOW: dict[str, Any] = {
    "Comment": "Ask for approval, transfer, summarize, notify",
    "StartAt": "MakeForm",
    "States": {
        "MakeForm": {
            "Type": "CreateWebInput",
            "Comment": "a form the approver fills in",
            "Parameters": {
                "InputType": "Selection",
                "Context": {"PresentationStyle": "Table", "Title.=": "'Approve ' + input.name + '?'"},
                "Options": [{"Value": "yes", "Label": "Approve"}, {"Value": "no", "Label": "Reject"}],
                "RespondentUrns.$": "$.input.approvers",
            },
            "ResultPath": "$.form",
            "Next": "AwaitForm",
        },
        "AwaitForm": {
            "Type": "AwaitWebInput",
            "Comment": None,
            "Parameters": {"web_input_id.$": "$.form.web_input_id"},
            "ResultPath": "$.answer",
            "Catch": [{"ErrorEquals": ["Flows.WebInputExpired"], "Next": "Rejected", "ResultPath": "$.answer"}],
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Comment": "big transfers need an explicit yes",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.answer.approved", "BooleanEquals": True},
                        {"Not": {"Variable": "$.input.size", "NumericGreaterThan": 1e12}},
                        {"Variable": "$.input.label", "IsPresent": True},
                    ],
                    "Next": "Transfer",
                },
                {
                    "Or": [
                        {"Variable": "$.answer.reason", "StringMatches": "*spam*"},
                        {"Variable": "$.answer.when", "TimestampLessThan": "2020-01-01T00:00:00Z"},
                        {"Variable": "$.input.size", "NumericLessThanEqualsPath": "$.input.limit"},
                    ],
                    "Next": "Rejected",
                },
            ],
            "Default": "Rejected",
        },
        "Transfer": {
            "Type": "Action",
            "Comment": "copy the files",
            "ActionUrl": "https://actions.globus.org/transfer/transfer",
            "ActionScope": "https://auth.globus.org/scopes/actions.globus.org/transfer/transfer",
            "Parameters": {
                "source_endpoint.$": "$.input.source.id",
                "destination_endpoint.$": "$.input.destination.id",
                "label.=": "'Approved copy of ' + input.name",
                "DATA": [
                    {
                        "source_path.$": "$.input.source.path",
                        "destination_path.=": "'/archive/' + (input.name or 'unnamed')",
                        "recursive": True,
                    }
                ],
                "notify": {"run_id.$": "$$.run_id", "whole_input.$": "$"},
                "__Private_Parameters": ["label"],
            },
            "ResultPath": "$.transfer",
            "WaitTime": 3600,
            "RunAs": "User",
            "ExceptionOnActionFailure": True,
            "Catch": [
                {"ErrorEquals": ["ActionFailedException", "States.ALL"], "Next": "Cleanup", "ResultPath": "$.error"}
            ],
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Summarize"},
        "Summarize": {
            "Type": "ExpressionEval",
            "Parameters": {"message.=": "'copied ' + str(transfer.details.files_transferred) + ' files'"},
            "ResultPath": "$.summary",
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Action",
            "Handler": "urn:globus:flows:handle:globus:notify.email",
            "InputPath": "$.summary",
            "ResultPath": "$.notified",
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.status", "End": True},
        "Cleanup": {
            "Type": "Pass",
            "Parameters": {"error.$": "$.error"},
            "ResultPath": "$.cleanup",
            "Next": "Failed",
        },
        "Rejected": {"Type": "Fail", "Error": "NotApproved", "CausePath": "$.answer.response"},
        "Failed": {"Type": "Fail", "Error": "TransferFailed"},
    },
}


def flow(**states: Any) -> dict[str, Any]:
    """A flow starting at the first of ``states``."""
    return {"StartAt": next(iter(states)), "States": states}


def only_problem(definition: Any) -> tuple[str, str]:
    problems = flow_definition_problems(definition)
    assert len(problems) == 1, problems
    return problems[0]


END = {"End": True}


# ----------------------------------------------------------------------------- valid input


def test_realistic_flow_with_every_state_type_is_valid() -> None:
    assert {s["Type"] for s in VALID_FLOW["States"].values()} == set(STATE_TYPES)
    assert flow_definition_problems(VALID_FLOW) == []
    validate_flow_definition(VALID_FLOW)  # does not raise


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Pass", "End": True},
        {"Type": "Pass", "Next": "A", "End": False},  # End: false beside Next is harmless
        {"Type": "Pass", "InputPath": "$", "End": True},
        {"Type": "Pass", "Parameters": {"a": [1, {"b.$": "$[0]"}]}, "End": True},
        {"Type": "Wait", "Seconds": 0, "End": True},
        {"Type": "Wait", "Seconds": 1.5, "End": True},
        {"Type": "Wait", "SecondsPath": "$.delay", "End": True},
        {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z", "End": True},
        {"Type": "Wait", "TimestampPath": "$.when", "End": True},
        {"Type": "Action", "ActionUrl": "http://localhost:8080/ap", "End": True},
        {"Type": "Action", "ActionUrl": "https://x.org", "Catch": [], "End": True},
        {"Type": "ExpressionEval", "Parameters": {}, "End": True},
        {"Type": "Fail"},
        {"Type": "Fail", "Comment": "stop", "Error": "E", "Cause": "C"},
        {"Type": "Pass", "Comment": None, "End": True},  # gladier writes null comments
        {"Type": "Pass", "InputPath": "$.x", "Parameters": {"y.$": "$.z"}, "End": True},
        {"Type": "Action", "Handler": {"Type": "ActionProvider", "Url": "https://x.org/ap"}, "End": True},
        {"Type": "Action", "Handler": {"Type": "RegisteredAPI", "Id": "6f1e"}, "Parameters": {}, "End": True},
        {"Type": "Action", "Handler": "urn:globus:flows:handle:globus:groups.get_group", "End": True},
        {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"},
        {"Type": "AwaitWebInput", "Parameters": {"web_input_id": "abc"}, "End": True},
        {"Type": "CreateWebInput", "Parameters": {"InputType": "Selection", "Options.$": "$.o"}, "End": True},
    ],
)
def test_valid_states(state: dict[str, Any]) -> None:
    assert flow_definition_problems(flow(A=state)) == []


# ----------------------------------------------------------------------------- top level


@pytest.mark.parametrize("value", [None, [], [1], "flow", 3, 2.5, True])
def test_non_object_definition_is_one_problem(value: Any) -> None:
    path, msg = only_problem(value)
    assert path == "$"
    assert "must be a JSON object" in msg


def test_empty_object() -> None:
    assert flow_definition_problems({}) == [
        ("$.StartAt", "StartAt is missing; it must name the state the flow starts with"),
        ("$.States", "States is missing; it must be an object of state name -> state"),
    ]


def test_unknown_top_level_field_suggests_the_right_one() -> None:
    d = flow(A={"Type": "Pass", "End": True})
    d["Comments"] = "oops"
    path, msg = only_problem(d)
    assert path == "$.Comments"
    assert 'unknown top-level field "Comments"' in msg and 'did you mean "Comment"?' in msg


def test_comment_must_be_string() -> None:
    d = flow(A={"Type": "Pass", "End": True})
    d["Comment"] = 7
    assert only_problem(d) == ("$.Comment", "Comment must be a string (found 7)")


def test_start_at_not_string() -> None:
    d = {"StartAt": ["A"], "States": {"A": {"Type": "Pass", "End": True}}}
    assert only_problem(d) == ("$.StartAt", "StartAt must be a string naming the first state (found a list)")


def test_start_at_names_missing_state() -> None:
    d = {"StartAt": "Stat", "States": {"Start": {"Type": "Pass", "End": True}}}
    path, msg = only_problem(d)
    assert path == "$.StartAt"
    assert 'names a state "Stat" that does not exist; did you mean "Start"?' in msg


@pytest.mark.parametrize("states, found", [([], "an empty list"), ("A", '"A"'), (None, "null")])
def test_states_must_be_object(states: Any, found: str) -> None:
    assert only_problem({"StartAt": "A", "States": states}) == (
        "$.States",
        f"States must be an object of state name -> state (found {found})",
    )


def test_states_must_not_be_empty() -> None:
    assert only_problem({"StartAt": "A", "States": {}}) == (
        "$.States",
        "States is empty; a flow needs at least one state",
    )


# ----------------------------------------------------------------------------- state basics


def test_state_must_be_object() -> None:
    assert only_problem(flow(A=[1])) == ("$.States.A", "a state must be an object with a Type (found a list)")


def test_succeed_state_has_its_own_message() -> None:
    assert only_problem(flow(A={"Type": "Succeed"})) == (
        "$.States.A.Type",
        'Globus Flows has no Succeed state; use a Pass state with "End": true',
    )


def test_unknown_type_lists_valid_types() -> None:
    path, msg = only_problem(flow(A={"Type": "Task", "End": True}))
    assert path == "$.States.A.Type"
    assert msg.startswith(
        "Type must be one of Action, Pass, Choice, Wait, ExpressionEval, Fail, CreateWebInput, AwaitWebInput"
    )
    assert '(found "Task")' in msg


def test_misspelt_type_gets_a_suggestion() -> None:
    _, msg = only_problem(flow(A={"Type": "Acton", "End": True}))
    assert 'did you mean "Action"?' in msg


def test_missing_type() -> None:
    path, msg = only_problem(flow(A={"End": True}))
    assert path == "$.States.A.Type" and msg.startswith("Type is missing")


def test_unknown_type_state_still_leads_to_its_successors() -> None:
    # B is reached through the Task state, so only the Type is reported.
    d = flow(A={"Type": "Task", "Next": "B"}, B={"Type": "Pass", "End": True})
    assert [p for p, _ in flow_definition_problems(d)] == ["$.States.A.Type"]


def test_unknown_type_state_follows_choices_and_catch_too() -> None:
    d = flow(
        A={"Type": "Parallel", "Choices": [{"Next": "B"}, "junk"], "Catch": [{"Next": "C"}]},
        B={"Type": "Pass", "End": True},
        C={"Type": "Pass", "End": True},
    )
    assert [p for p, _ in flow_definition_problems(d)] == ["$.States.A.Type"]


def test_python_values_that_json_cannot_hold_are_problems_not_crashes() -> None:
    d: dict[Any, Any] = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Comment": {1}, "End": True}, 7: {"Type": "Pass", "End": True}},
        2: 3,
    }
    assert flow_definition_problems(d) == [
        ("$[2]", "unknown top-level field 2; a flow definition has only Comment, StartAt and States"),
        ("$.States.A.Comment", "Comment must be a string (found a set)"),
        ("$.States[7]", "state names must be strings (found 7)"),
    ]
    assert only_problem(flow(A=action(Parameters={10**5000: {"x.$": 1}})))[0] == (
        "$.States.A.Parameters[<a large number>]['x.$']"
    )
    long_type = "T" * 500
    _, msg = only_problem(flow(A={"Type": long_type, "End": True}))
    assert "did you mean" not in msg and len(msg) < 300


def test_state_comment_must_be_string_or_null() -> None:
    problem = only_problem(flow(A={"Type": "Pass", "Comment": 5, "End": True}))
    assert problem == ("$.States.A.Comment", "Comment must be a string (found 5)")
    assert problem.rule == "field-type" and problem.loc == ("States", "A", "Comment")


def test_names_that_are_not_identifiers_use_brackets() -> None:
    path, _ = only_problem(flow(**{"Copy files": {"Type": "Pass", "End": "yes"}}))
    assert path == "$.States['Copy files'].End"
    path, _ = only_problem(flow(**{"it's": {"Type": "Pass"}}))
    assert path == "$.States['it\\'s']"


# ----------------------------------------------------------------------------- Next / End


def test_needs_next_or_end() -> None:
    assert only_problem(flow(A={"Type": "Pass"})) == (
        "$.States.A",
        'a Pass state needs exactly one of Next (the state to run after it) or "End": true (found neither)',
    )


def test_end_false_alone() -> None:
    path, msg = only_problem(flow(A={"Type": "Pass", "End": False}))
    assert path == "$.States.A" and '(found "End": false)' in msg


def test_next_and_end_both() -> None:
    d = flow(A={"Type": "Pass", "Next": "B", "End": True}, B={"Type": "Pass", "End": True})
    path, msg = only_problem(d)
    assert path == "$.States.A" and "(found both)" in msg


def test_end_must_be_boolean() -> None:
    assert only_problem(flow(A={"Type": "Pass", "End": "true"})) == (
        "$.States.A.End",
        'End must be true or false (found "true")',
    )


def test_next_names_missing_state_lists_states() -> None:
    d = flow(A={"Type": "Pass", "Next": "Zed"}, B={"Type": "Pass", "End": True})
    problems = flow_definition_problems(d)
    assert problems[0] == (
        "$.States.A.Next",
        'Next names a state "Zed" that does not exist; the states are "A" and "B"',
    )
    assert problems[1][0] == "$.States.B"  # and B is now unreachable


def test_next_must_be_string() -> None:
    path, msg = only_problem(flow(A={"Type": "Pass", "Next": 1}))
    assert path == "$.States.A.Next" and "must be a string naming a state (found 1)" in msg


@pytest.mark.parametrize("stype", ["Choice", "Fail"])
def test_choice_and_fail_have_no_next_or_end(stype: str) -> None:
    state: dict[str, Any] = {"Type": stype, "Next": "A", "End": True}
    if stype == "Choice":
        state["Choices"] = [{"Variable": "$.x", "IsNull": True, "Next": "A"}]
    paths = [p for p, _ in flow_definition_problems(flow(A=state))]
    assert paths == ["$.States.A.Next", "$.States.A.End"]


# ----------------------------------------------------------------------------- Action


def action(**fields: Any) -> dict[str, Any]:
    return {"Type": "Action", "ActionUrl": "https://actions.globus.org/hello_world", "End": True} | fields


@pytest.mark.parametrize(
    "state, path, fragment",
    [
        (
            {"Type": "Action", "End": True},
            "$.States.A",
            "an Action state needs exactly one of ActionUrl, Handler (found none)",
        ),
        (action(Handler="h"), "$.States.A", "(found ActionUrl and Handler)"),
        (action(ActionUrl="ftp://x.org/a"), "$.States.A.ActionUrl", 'must be an http:// or https:// URL'),
        (action(ActionUrl="https://"), "$.States.A.ActionUrl", "http:// or https:// URL"),
        (action(ActionUrl="http://[::1"), "$.States.A.ActionUrl", "http:// or https:// URL"),
        (action(ActionUrl=None), "$.States.A.ActionUrl", "(found null)"),
        ({"Type": "Action", "Handler": "", "End": True}, "$.States.A.Handler", "must not be empty"),
        ({"Type": "Action", "Handler": 3, "End": True}, "$.States.A.Handler", "a handle string or an object"),
        ({"Type": "Action", "Handler": {"Type": "AP", "Url": "https://x"}, "End": True}, "$.States.A.Handler.Type",
         "ActionProvider or RegisteredAPI"),
        ({"Type": "Action", "Handler": {"Type": "ActionProvider"}, "End": True}, "$.States.A.Handler.Url",
         "needs Url"),
        ({"Type": "Action", "Handler": {"Type": "ActionProvider", "Url": "x"}, "End": True}, "$.States.A.Handler.Url",
         "http:// or https:// URL"),
        ({"Type": "Action", "Handler": {"Type": "RegisteredAPI", "Id": ""}, "End": True}, "$.States.A.Handler.Id",
         "registered API's id"),
        ({"Type": "Action", "Handler": {"Type": "RegisteredAPI", "Id": "x", "Url": "https://x"}, "End": True},
         "$.States.A.Handler.Url", "has only Type and Id"),
        (action(Parameters=[]), "$.States.A.Parameters", "Parameters must be an object (found an empty list)"),
        (action(InputPath="input.x"), "$.States.A.InputPath", 'InputPath must be a JSONPath string starting with "$"'),
        (action(ResultPath="$.a[*]"), "$.States.A.ResultPath", "wildcard"),
        (action(ResultPath="$.a b"), "$.States.A.ResultPath", "naming one place"),
        (action(ResultPath="$"), "$.States.A.ResultPath", 'starting with "$."'),
        (action(ResultPath="result"), "$.States.A.ResultPath", 'starting with "$."'),
        (action(ResultPath="$._context.x"), "$.States.A.ResultPath", "read-only"),
        (action(WaitTime=0), "$.States.A.WaitTime", "positive whole number of seconds (found 0)"),
        (action(WaitTime=1.5), "$.States.A.WaitTime", "positive whole number"),
        (action(WaitTime=True), "$.States.A.WaitTime", "(found true)"),
        (action(RunAs=3), "$.States.A.RunAs", "RunAs must be a string (found 3)"),
        (action(ActionScope=[]), "$.States.A.ActionScope", "ActionScope must be a string"),
        (action(ExceptionOnActionFailure="yes"), "$.States.A.ExceptionOnActionFailure", "true or false"),
        (action(Catch={}), "$.States.A.Catch", "Catch must be a list of catchers (found an empty object)"),
        (action(Catch=["B"]), "$.States.A.Catch[0]", "a catcher must be an object"),
        (action(Catch=[{"Next": "A"}]), "$.States.A.Catch[0].ErrorEquals", "a catcher needs ErrorEquals"),
        (action(Catch=[{"ErrorEquals": [], "Next": "A"}]), "$.States.A.Catch[0].ErrorEquals", "non-empty list"),
        (action(Catch=[{"ErrorEquals": [1], "Next": "A"}]), "$.States.A.Catch[0].ErrorEquals", "(strings)"),
        (action(Catch=[{"ErrorEquals": ["States.ALL"]}]), "$.States.A.Catch[0].Next", "a catcher needs Next"),
        (
            action(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Nowhere"}]),
            "$.States.A.Catch[0].Next",
            'Next names a state "Nowhere" that does not exist',
        ),
        (
            action(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "A", "ResultPath": "x"}]),
            "$.States.A.Catch[0].ResultPath",
            'starting with "$."',
        ),
        (
            action(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "A", "Nxt": "A"}]),
            "$.States.A.Catch[0].Nxt",
            'a catcher has no field "Nxt"; its fields are ErrorEquals, Next, ResultPath and Comment; did you mean "Next"?',
        ),
        (
            action(ResultPth="$.x"),
            "$.States.A.ResultPth",
            'an Action state has no field "ResultPth"; its fields are Type, Comment, ActionUrl, Handler, '
            "InputPath, Parameters, ResultPath, WaitTime, ExceptionOnActionFailure, RunAs, ActionScope, "
            'Catch, Next and End; did you mean "ResultPath"?',
        ),
        (action(OutputPath="$.x"), "$.States.A.OutputPath", "does not support OutputPath; use ResultPath"),
    ],
)
def test_action_rules(state: dict[str, Any], path: str, fragment: str) -> None:
    got_path, msg = only_problem(flow(A=state))
    assert got_path == path
    assert fragment in msg, msg


def test_catch_next_makes_a_state_reachable() -> None:
    d = flow(
        A=action(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handle"}]),
        Handle={"Type": "Fail"},
    )
    assert flow_definition_problems(d) == []


# ----------------------------------------------------------------------------- Parameters


@pytest.mark.parametrize(
    "params, path, fragment",
    [
        ({"x.$": "input.x"}, "$.States.A.Parameters['x.$']", 'takes a JSONPath string starting with "$"'),
        ({"x.$": 5}, "$.States.A.Parameters['x.$']", "(found 5)"),
        ({"x.$": "$."}, "$.States.A.Parameters['x.$']", "JSONPath"),
        ({"x.$": "$x"}, "$.States.A.Parameters['x.$']", "JSONPath"),
        ({"deep": {"list": [{}, {"y.$": "nope"}]}}, "$.States.A.Parameters.deep.list[1]['y.$']", "JSONPath"),
        ({"deep": [[{"y.$": None}]]}, "$.States.A.Parameters.deep[0][0]['y.$']", "(found null)"),
        ({"e.=": ""}, "$.States.A.Parameters['e.=']", "non-empty expression string"),
        ({"e.=": 3}, "$.States.A.Parameters['e.=']", "non-empty expression string (found 3)"),
        ({"e.=": "len(x"}, "$.States.A.Parameters['e.=']", "does not parse"),
        ({"e.=": "x)"}, "$.States.A.Parameters['e.=']", "does not parse"),
        ({"e.=": "[a)"}, "$.States.A.Parameters['e.=']", "does not parse"),
        ({"e.=": "'abc"}, "$.States.A.Parameters['e.=']", "does not parse"),
        ({"e.=": "a +* b"}, "$.States.A.Parameters['e.=']", "the expression \"a +* b\" does not parse: "),
        ({"__Private_Parameters": "secret"}, "$.States.A.Parameters.__Private_Parameters", "list of field names"),
    ],
)
def test_parameters_rules(params: dict[str, Any], path: str, fragment: str) -> None:
    got_path, msg = only_problem(flow(A=action(Parameters=params)))
    assert got_path == path
    assert fragment in msg, msg


@pytest.mark.parametrize(
    "value",
    ["$", "$.a", "$.a.b[0]", "$['a b']", "$[0]", "$$", "$$.run_id", "$._context.user_id"],
)
def test_parameters_accept_paths(value: str) -> None:
    assert flow_definition_problems(flow(A=action(Parameters={"x.$": value}))) == []


@pytest.mark.parametrize(
    "expr", ["a + b", "max(x, len([1, (2)]))", "'it\\'s' + \")\"", "len(input.files) > 0", "`$.a.b` + 1"]
)
def test_parameters_accept_expressions(expr: str) -> None:
    assert flow_definition_problems(flow(A=action(Parameters={"x.=": expr}))) == []


def test_parameters_checked_on_every_state_type_that_has_them() -> None:
    bad = {"x.$": "oops"}
    d = flow(
        A={"Type": "Pass", "Parameters": bad, "Next": "B"},
        B={"Type": "ExpressionEval", "Parameters": bad, "Next": "C"},
        C={"Type": "CreateWebInput", "Parameters": bad, "End": True},
    )
    assert [p for p, _ in flow_definition_problems(d)] == [
        "$.States.A.Parameters['x.$']",
        "$.States.B.Parameters['x.$']",
        "$.States.C.Parameters['x.$']",
    ]


def test_parameters_that_contain_themselves_do_not_loop() -> None:
    params: dict[str, Any] = {"a": 1}
    params["me"] = params
    path, msg = only_problem(flow(A=action(Parameters=params)))
    assert path == "$.States.A.Parameters.me" and "contains itself" in msg


def test_deeply_nested_parameters_do_not_hit_the_recursion_limit() -> None:
    node: dict[str, Any] = {"leaf.$": "bad"}
    for _ in range(5 * sys.getrecursionlimit()):
        node = {"n": node}
    path, msg = only_problem(flow(A=action(Parameters=node)))
    # Deeper than MAX_NESTING is one problem at the bound (JSON that deep cannot be sent
    # anyway); within it, a bad leaf is still found (test_argument_edges.py).
    assert "levels deep" in msg and path.count(".n") == MAX_NESTING + 1


# ----------------------------------------------------------------------------- Pass / ExpressionEval / web input


def test_pass_rules() -> None:
    assert only_problem(flow(A={"Type": "Pass", "ResultPath": 1, "End": True}))[0] == "$.States.A.ResultPath"
    path, msg = only_problem(flow(A={"Type": "Pass", "Seconds": 1, "End": True}))
    assert path == "$.States.A.Seconds" and msg.startswith('a Pass state has no field "Seconds"')
    # Result is accepted whatever it holds
    assert flow_definition_problems(flow(A={"Type": "Pass", "Result": None, "End": True})) == []


def test_expression_eval_needs_parameters() -> None:
    assert only_problem(flow(A={"Type": "ExpressionEval", "End": True})) == (
        "$.States.A.Parameters",
        "an ExpressionEval state needs Parameters",
    )
    path, _ = only_problem(flow(A={"Type": "ExpressionEval", "Parameters": {}, "InputPath": "$", "End": True}))
    assert path == "$.States.A.InputPath"


@pytest.mark.parametrize("stype", ["CreateWebInput", "AwaitWebInput"])
def test_web_input_states_have_the_documented_fields(stype: str) -> None:
    assert only_problem(flow(A={"Type": stype, "WebInputId": "x", "End": True}))[0] == "$.States.A.WebInputId"
    assert only_problem(flow(A={"Type": stype}))[0] == "$.States.A"
    assert only_problem(flow(A={"Type": stype, "ResultPath": "x", "End": True}))[0] == "$.States.A.ResultPath"
    assert only_problem(flow(A={"Type": stype, "InputPath": "x", "End": True}))[0] == "$.States.A.InputPath"


# ----------------------------------------------------------------------------- Wait


def test_wait_needs_one_of_four() -> None:
    assert only_problem(flow(Wait1={"Type": "Wait", "End": True})) == (
        "$.States.Wait1",
        "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath (found none)",
    )
    path, msg = only_problem(flow(W={"Type": "Wait", "Seconds": 1, "Timestamp": "2030-01-01T00:00:00Z", "End": True}))
    assert path == "$.States.W" and msg.endswith("(found Seconds and Timestamp)")


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("Seconds", -1, "0 or more (found -1)"),
        ("Seconds", "5", '(found "5")'),
        ("Seconds", True, "(found true)"),
        ("Seconds", float("nan"), "(found nan)"),
        ("Seconds", float("inf"), "(found inf)"),
        ("SecondsPath", "delay", "SecondsPath must be a JSONPath"),
        ("Timestamp", 1700000000, "Timestamp must be a timestamp string"),
        ("TimestampPath", 1, "TimestampPath must be a JSONPath"),
    ],
)
def test_wait_field_types(field: str, value: Any, fragment: str) -> None:
    path, msg = only_problem(flow(A={"Type": "Wait", field: value, "End": True}))
    assert path == f"$.States.A.{field}"
    assert fragment in msg, msg


# ----------------------------------------------------------------------------- Choice


def choice(*rules: Any, **fields: Any) -> dict[str, Any]:
    return {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": list(rules), "Default": "Yes"} | fields,
        "Yes": {"Type": "Pass", "End": True},
    }}


@pytest.mark.parametrize(
    "definition, path, fragment",
    [
        ({"StartAt": "C", "States": {"C": {"Type": "Choice"}}}, "$.States.C.Choices", "needs Choices"),
        (choice(), "$.States.C.Choices", "non-empty list of rules (found an empty list)"),
        (choice("x"), "$.States.C.Choices[0]", "a choice rule must be an object"),
        (choice({"Variable": "$.x", "IsNull": True}), "$.States.C.Choices[0].Next", "each rule in Choices needs Next"),
        (choice({"Variable": "$.x", "IsNull": True, "Next": "No"}), "$.States.C.Choices[0].Next", '"No" that does not exist'),
        (choice({"Variable": "x", "IsNull": True, "Next": "Yes"}), "$.States.C.Choices[0].Variable", "Variable must be a JSONPath"),
        (choice({"IsNull": True, "Next": "Yes"}), "$.States.C.Choices[0].Variable", "needs Variable"),
        (choice({"Variable": "$.x", "Next": "Yes"}), "$.States.C.Choices[0]", "exactly one comparison operator such as StringEquals, NumericGreaterThan, BooleanEquals or IsPresent (found none)"),
        (choice({"Variable": "$.x", "IsNull": True, "IsPresent": True, "Next": "Yes"}), "$.States.C.Choices[0]", "(found IsNull and IsPresent)"),
        (choice({"Variable": "$.x", "StringEquals": 1, "Next": "Yes"}), "$.States.C.Choices[0].StringEquals", "StringEquals takes a string (found 1)"),
        (choice({"Variable": "$.x", "StringMatches": None, "Next": "Yes"}), "$.States.C.Choices[0].StringMatches", "takes a string"),
        (choice({"Variable": "$.x", "NumericEquals": "1", "Next": "Yes"}), "$.States.C.Choices[0].NumericEquals", "takes a number"),
        (choice({"Variable": "$.x", "NumericLessThan": True, "Next": "Yes"}), "$.States.C.Choices[0].NumericLessThan", "takes a number (found true)"),
        (choice({"Variable": "$.x", "BooleanEquals": "true", "Next": "Yes"}), "$.States.C.Choices[0].BooleanEquals", "takes true or false"),
        (choice({"Variable": "$.x", "IsPresent": 1, "Next": "Yes"}), "$.States.C.Choices[0].IsPresent", "takes true or false"),
        (choice({"Variable": "$.x", "TimestampEquals": 5, "Next": "Yes"}), "$.States.C.Choices[0].TimestampEquals", "takes a timestamp string"),
        (choice({"Variable": "$.x", "StringEqualsPath": "y", "Next": "Yes"}), "$.States.C.Choices[0].StringEqualsPath", 'takes a JSONPath string starting with "$"'),
        (choice({"And": [], "Next": "Yes"}), "$.States.C.Choices[0].And", "And takes a non-empty list of rules"),
        (choice({"Or": {"Variable": "$.x", "IsNull": True}, "Next": "Yes"}), "$.States.C.Choices[0].Or", "Or takes a non-empty list"),
        (choice({"Not": [{"Variable": "$.x", "IsNull": True}], "Next": "Yes"}), "$.States.C.Choices[0].Not", "Not takes one rule"),
        (choice({"And": [{"Variable": "$.x", "IsNull": True, "Next": "Yes"}], "Next": "Yes"}), "$.States.C.Choices[0].And[0].Next", "only the rules directly in Choices have Next"),
        (choice({"Not": {"Variable": "$.x", "NumericEquals": "1"}, "Next": "Yes"}), "$.States.C.Choices[0].Not.NumericEquals", "takes a number"),
        (choice({"Or": [{"Variable": "$.x", "IsNull": True}, {"And": [{"Variable": "$.y"}]}], "Next": "Yes"}), "$.States.C.Choices[0].Or[1].And[0]", "(found none)"),
        (choice({"And": [{"Variable": "$.x", "IsNull": True}], "Variable": "$.y", "Next": "Yes"}), "$.States.C.Choices[0]", "either a combinator (And, Or, Not) or a comparison"),
        (choice({"And": [{"Variable": "$.x", "IsNull": True}], "Not": {"Variable": "$.x", "IsNull": True}, "Next": "Yes"}), "$.States.C.Choices[0]", "only one of And, Or, Not (found And and Not)"),
        (choice({"Variable": "$.x", "IsNull": True, "Next": "Yes"}, Default="Nope"), "$.States.C.Default", 'Default names a state "Nope"'),
        (choice({"Variable": "$.x", "IsNull": True, "Next": "Yes"}, OutputPath="$"), "$.States.C.OutputPath", "OutputPath"),
    ],
)
def test_choice_rules(definition: dict[str, Any], path: str, fragment: str) -> None:
    got_path, msg = only_problem(definition)
    assert got_path == path
    assert fragment in msg, msg


def test_misspelt_operator() -> None:
    problems = flow_definition_problems(choice({"Variable": "$.x", "StringEqual": "a", "Next": "Yes"}))
    assert [p for p, _ in problems] == ["$.States.C.Choices[0].StringEqual", "$.States.C.Choices[0]"]
    assert 'did you mean "StringEquals"' in problems[0][1]
    assert problems[1][1].endswith("(found none)")


def test_every_operator_accepts_its_operand() -> None:
    from automate_lite.definitions.rules import OPERATORS as _OPERATORS

    good = {"string": "a", "number": 1.5, "boolean": True, "timestamp": "2030-01-01T00:00:00Z", "path": "$.y"}
    rules = [{"Variable": "$.x", op: good[o.operand], "Next": "Yes"} for op, o in _OPERATORS.items()]
    assert flow_definition_problems(choice(*rules)) == []
    # String, Numeric, Timestamp: 5 each plus Path variants; BooleanEquals(Path);
    # StringMatches; six Is* tests.
    assert len(_OPERATORS) == 3 * 10 + 2 + 1 + 6


def test_choice_default_makes_a_state_reachable() -> None:
    d = choice({"Variable": "$.x", "IsNull": True, "Next": "Yes"}, Default="No")
    d["States"]["No"] = {"Type": "Fail"}
    assert flow_definition_problems(d) == []


def test_deeply_nested_rules_are_reported_not_followed() -> None:
    rule: dict[str, Any] = {"Variable": "$.x", "IsNull": True}
    for _ in range(200):
        rule = {"Not": rule}
    path, msg = only_problem(choice(rule | {"Next": "Yes"}))
    assert "nested more than" in msg and path.startswith("$.States.C.Choices[0].Not.Not")


def test_rule_that_contains_itself_does_not_loop() -> None:
    rule: dict[str, Any] = {"Variable": "$.x", "IsNull": True}
    rule["Not"] = rule
    problems = flow_definition_problems(choice(rule | {"Next": "Yes"}))
    assert problems  # reported (combinator and comparison, nesting), and it terminated


# ----------------------------------------------------------------------------- Fail


def test_fail_fields() -> None:
    assert flow_definition_problems(flow(A={"Type": "Fail", "Error": 1, "Cause": ["x"]})) == [
        ("$.States.A.Error", "Error must be a string (found 1)"),
        ("$.States.A.Cause", "Cause must be a string (found a list)"),
    ]
    assert only_problem(flow(A={"Type": "Fail", "ErrorPath": "e"}))[0] == "$.States.A.ErrorPath"
    assert only_problem(flow(A={"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})) == (
        "$.States.A", "Error and ErrorPath exclude each other; give one")
    assert only_problem(flow(A={"Type": "Fail", "Cause": "C", "CausePath": "$.c"}))[1].startswith("Cause and CausePath")


# ----------------------------------------------------------------------------- reachability


def test_unreachable_states_reported_in_document_order() -> None:
    d = flow(
        A={"Type": "Pass", "End": True},
        Orphan2={"Type": "Pass", "Next": "Orphan1"},
        Orphan1={"Type": "Pass", "End": True},
    )
    assert flow_definition_problems(d) == [
        (
            "$.States.Orphan2",
            'state "Orphan2" can never run: no Next, Choices, Default or Catch leads to it from '
            'StartAt ("A"); link to it or remove it',
        ),
        (
            "$.States.Orphan1",
            'state "Orphan1" can never run: no Next, Choices, Default or Catch leads to it from '
            'StartAt ("A"); link to it or remove it',
        ),
    ]


def test_loops_are_fine() -> None:
    d = flow(
        A={"Type": "Pass", "Next": "B"},
        B={"Type": "Choice", "Choices": [{"Variable": "$.again", "BooleanEquals": True, "Next": "A"}], "Default": "C"},
        C={"Type": "Pass", "End": True},
    )
    assert flow_definition_problems(d) == []


def test_no_reachability_report_when_start_at_is_broken() -> None:
    d = {"StartAt": "X", "States": {"A": {"Type": "Pass", "End": True}, "B": {"Type": "Pass", "End": True}}}
    assert [p for p, _ in flow_definition_problems(d)] == ["$.StartAt"]


# ----------------------------------------------------------------------------- several problems, order


def test_many_problems_reported_together_in_stable_order() -> None:
    d = {
        "Version": "1.0",
        "StartAt": "Transfer",
        "States": {
            "Transfer": {
                "Type": "Action",
                "ActionUrl": "ftp://example.org",
                "Parameters": {"src.$": "input.src", "n.=": "len(x"},
                "ResultPath": "result",
                "Next": "Wiat",
                "Retry": [],
            },
            "Wait": {"Type": "Wait", "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "Lost": {"Type": "Pass", "End": True},
        },
    }
    expected_paths = [
        "$.Version",  # top level first
        "$.States.Transfer.Retry",  # then each state: unknown fields,
        "$.States.Transfer.Next",  # Next/End,
        "$.States.Transfer.ActionUrl",  # then the type's own fields in order
        "$.States.Transfer.Parameters['src.$']",
        "$.States.Transfer.Parameters['n.=']",
        "$.States.Transfer.ResultPath",
        "$.States.Wait",
        "$.States.Done.Type",
        "$.States.Wait",  # finally unreachable states, in document order
        "$.States.Done",
        "$.States.Lost",
    ]
    problems = flow_definition_problems(d)
    assert [p for p, _ in problems] == expected_paths
    assert 'did you mean "Wait"?' in problems[2][1]
    assert problems == flow_definition_problems(copy.deepcopy(d))

    with pytest.raises(FlowValidationError) as info:
        validate_flow_definition(d)
    assert info.value.problems == problems
    assert isinstance(info.value, UsageError) and isinstance(info.value, ValueError)
    text = str(info.value)
    assert text.startswith("the flow definition has 12 problems:")
    assert "  $.States.Wait: a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath (found none)" in text


# ----------------------------------------------------------------------------- purity


def test_input_is_not_modified() -> None:
    bad = copy.deepcopy(VALID_FLOW)
    bad["States"]["Transfer"]["Parameters"]["x.$"] = "nope"
    bad["States"]["Decide"]["Choices"].append({"Variable": "x"})
    for d in (VALID_FLOW, bad):
        before = copy.deepcopy(d)
        flow_definition_problems(d)
        try:
            validate_flow_definition(d)
        except FlowValidationError:
            pass
        assert d == before


def test_module_imports_only_the_standard_library() -> None:
    import automate_lite.definitions.validation as mod

    tree = ast.parse(Path(mod.__file__).read_text())
    top: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            top.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top.add(node.module.split(".")[0])
    assert top <= set(sys.stdlib_module_names) | {"__future__"}, top


# ----------------------------------------------------------------------------- the corpus

CORPUS = sorted((Path(__file__).parent / "flows").glob("*.json"))


def test_the_corpus_covers_every_state_type_field_and_operator() -> None:
    from automate_lite.definitions.rules import OPERATORS, STATE_TABLE

    seen_fields: dict[str, set[str]] = {t: set() for t in STATE_TABLE}
    seen_ops: set[str] = set()

    def walk_rules(rules: Any) -> None:
        for rule in rules:
            seen_ops.update(k for k in rule if k in OPERATORS)
            walk_rules(rule.get("And", []) + rule.get("Or", []) + ([rule["Not"]] if "Not" in rule else []))

    for path in CORPUS:
        for state in json.loads(path.read_text())["States"].values():
            seen_fields[state["Type"]].update(state)
            walk_rules(state.get("Choices", []))
    for stype, spec in STATE_TABLE.items():
        assert set(spec.fields) | {"Type", "Comment"} <= seen_fields[stype] | ({"Next", "End"} - set(spec.fields)), stype
    assert seen_ops == set(OPERATORS)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_every_corpus_definition_validates(path: Path) -> None:
    definition = json.loads(path.read_text())
    assert flow_definition_problems(definition) == []


def test_the_local_service_takes_the_corpus_and_refuses_with_the_same_locations() -> None:
    """Over real HTTP on 127.0.0.1: the stand-in Flows service validates with the same table."""
    import automate_lite as al
    from automate_lite.flows import FlowsClient
    from automate_lite.testing.flows import FlowsStub

    with FlowsStub() as stub:
        fc = FlowsClient.new_client(None, lambda **kw: al.BearerTokenAuthorizer("f"), al.BearerTokenAuthorizer("s"),
                                    base_url=stub.url)
        try:
            for path in CORPUS:
                created = fc.deploy_flow(json.loads(path.read_text()), path.stem)
                assert created.http_status == 201 and created["definition"]["StartAt"]
            bad = flow(**{"Copy files": action(Parameters={"n.=": "len(x"})})
            with pytest.raises(al.errors.UnprocessableEntityError) as info:
                fc.deploy_flow(bad, "bad", validate_definition=False)  # the service's own check
            assert info.value.http_status == 422
            (detail,) = info.value.raw_json["error"]["detail"]
            (problem,) = flow_definition_problems(bad)
            assert detail["loc"] == ["body", "definition", *problem.loc] and detail["msg"] == problem.message
        finally:
            fc.close()


# ----------------------------------------------------------------------------- problems, the rule table


def test_problems_carry_their_rule_and_location_and_pickle() -> None:
    import pickle

    d = flow(**{"Copy files": action(Parameters={"DATA": [{"p.$": "nope"}]})})
    (problem,) = flow_definition_problems(d)
    assert problem == ("$.States['Copy files'].Parameters.DATA[0]['p.$']", problem.message)
    assert problem.rule == "dollar-key" and problem.loc == ("States", "Copy files", "Parameters", "DATA", 0, "p.$")
    assert problem.path == problem[0] and isinstance(problem, tuple)
    again = pickle.loads(pickle.dumps(problem))
    assert isinstance(again, Problem) and again == problem and again.rule == problem.rule and again.loc == problem.loc
    with pytest.raises(FlowValidationError) as info:
        validate_flow_definition(d)
    assert info.value.problems[0].rule == "dollar-key"


def test_action_target_reads_every_form() -> None:
    assert action_target({"ActionUrl": "https://a.org/x"}) == ("url", "https://a.org/x")
    assert action_target({"Handler": {"Type": "ActionProvider", "Url": "https://b.org"}}) == ("url", "https://b.org")
    assert action_target({"Handler": {"Type": "RegisteredAPI", "Id": "r1"}}) == ("registered_api", "r1")
    assert action_target({"Handler": "urn:globus:flows:handle:globus:search.get"}) == (
        "handle", "urn:globus:flows:handle:globus:search.get")
    for nothing in ({}, {"Handler": {"Type": "Other", "Url": "x"}}, {"Handler": ""}, {"Handler": {"Type": "RegisteredAPI"}}):
        assert action_target(nothing) is None


def test_rule_evaluation_is_the_table_s() -> None:
    doc = {"n": 5, "s": "log-1.txt", "t": "2024-05-01T00:00:00Z", "limit": 3, "b": False, "none": None}
    assert rule_matches({"Variable": "$.n", "NumericGreaterThanPath": "$.limit"}, doc)
    assert rule_matches({"Variable": "$.s", "StringMatches": "log-*.txt"}, doc)
    assert not rule_matches({"Variable": "$.s", "StringMatches": "log-\\*.txt"}, doc)
    assert rule_matches({"Variable": "$.t", "TimestampLessThan": "2025-01-01T00:00:00+00:00"}, doc)
    assert not rule_matches({"Variable": "$.n", "StringEquals": "5"}, doc)  # wrong type: no match
    assert rule_matches({"Variable": "$.none", "IsNull": True}, doc)
    assert rule_matches({"Not": {"Variable": "$.missing", "IsPresent": True}}, doc)
    assert rule_matches({"Variable": "$$.run_id", "StringEquals": "R"}, doc, {"run_id": "R"})
    for bad in ({"Variable": "$.missing", "NumericEquals": 1}, {"Variable": "$.n"}, {"And": "x"}, {"Variable": "x y", "IsPresent": True}):
        with pytest.raises(RuleError) as info:
            rule_matches(bad, doc)
        assert info.value.error == "States.Runtime"
    assert describe_rule({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.limit"}) == "$.n >= $.limit"


# ----------------------------------------------------------------------------- hypothesis

KEYWORDS = [
    "StartAt", "States", "Comment", "Type", "Next", "End", "Parameters", "InputPath", "ResultPath",
    "ActionUrl", "Handler", "Catch", "ErrorEquals", "WaitTime", "Seconds", "Timestamp", "Choices",
    "Default", "Variable", "And", "Or", "Not", "StringEquals", "IsNull", "x.$", "y.=",
    "__Private_Parameters", "A", "B",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["$", "$.a", "$$.x", "A", "B", "Pass", "Action", "Succeed", "https://x.org", "f((", "'"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYWORDS) | st.text(max_size=6), children, max_size=5),
    max_leaves=25,
)

NAMES = ["A", "B", "C", "Copy files"]
targets = st.sampled_from(NAMES + ["Missing"]) | json_scalars


def rules(top: bool) -> st.SearchStrategy[Any]:
    from automate_lite.definitions.rules import OPERATORS as _OPERATORS

    keys = st.sampled_from(["Variable", "Comment", "Next", "Foo", *sorted(_OPERATORS)])
    comparison = st.dictionaries(keys, st.sampled_from(["$.x", "x", "$$.c"]) | json_scalars, max_size=3)
    inner = st.recursive(
        comparison,
        lambda c: st.fixed_dictionaries({}, optional={"And": st.lists(c, max_size=3), "Not": c, "Or": c | st.lists(c, max_size=2)}),
        max_leaves=6,
    )
    if not top:
        return inner
    return st.tuples(inner, st.fixed_dictionaries({}, optional={"Next": targets, "Comment": json_scalars})).map(
        lambda pair: pair[0] | pair[1]
    )


state_strategy = st.fixed_dictionaries(
    {"Type": st.sampled_from(list(STATE_TYPES) + ["Succeed", "Task"]) | json_scalars},
    optional={
        "Next": targets,
        "End": st.booleans() | json_scalars,
        "Comment": json_scalars,
        "ActionUrl": st.sampled_from(["https://a.org/x", "ftp://x", ""]) | json_scalars,
        "Handler": json_scalars,
        "Parameters": json_values,
        "InputPath": st.sampled_from(["$", "$.x", "x"]),
        "ResultPath": st.sampled_from(["$.r", "$", "$._context", "r"]) | json_scalars,
        "Catch": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "ErrorEquals": st.lists(json_scalars, max_size=2) | json_scalars,
                    "Next": targets,
                    "ResultPath": json_scalars,
                },
            )
            | json_scalars,
            max_size=2,
        )
        | json_scalars,
        "WaitTime": json_scalars,
        "Seconds": json_scalars,
        "SecondsPath": json_scalars,
        "Timestamp": json_scalars,
        "Choices": st.lists(rules(top=True), max_size=3) | json_scalars,
        "Default": targets,
        "Error": json_scalars,
        "Unknown": json_values,
    },
)

flow_strategy = st.fixed_dictionaries(
    {
        "StartAt": targets,
        "States": st.dictionaries(st.sampled_from(NAMES), state_strategy | json_scalars, max_size=4),
    },
    optional={"Comment": json_scalars, "Extra": json_values},
)

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_contract(value: Any) -> None:
    before = repr(value)
    problems = flow_definition_problems(value)
    assert isinstance(problems, list)
    for problem in problems:
        path, msg = problem
        assert isinstance(path, str) and path.startswith("$")
        assert isinstance(msg, str) and msg
        assert problem.rule in RULES and _format(problem.loc) == path
    assert flow_definition_problems(value) == problems  # deterministic...
    assert flow_definition_problems(copy.deepcopy(value)) == problems  # ...and by value
    try:
        validate_flow_definition(value)
    except FlowValidationError as e:
        assert e.problems == problems
    else:
        assert problems == []
    assert repr(value) == before  # not modified


@FAST
@given(json_values)
def test_arbitrary_json_never_crashes(value: Any) -> None:
    check_contract(value)


@FAST
@given(flow_strategy)
def test_generated_flows_never_crash(definition: dict[str, Any]) -> None:
    check_contract(definition)


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(VALID_FLOW["States"])))
def test_valid_flow_stays_valid_whatever_the_state_order(order: list[str]) -> None:
    reordered = {"StartAt": VALID_FLOW["StartAt"], "States": {n: VALID_FLOW["States"][n] for n in order}}
    assert flow_definition_problems(reordered) == []

