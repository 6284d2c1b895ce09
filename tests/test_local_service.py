"""The local Flows service runs what the Globus Flows docs describe, over real HTTP.

Run context fields, the documented web-input Parameters and results, Handler states
(action providers and registered APIs created through the service's API), RunAs role
tokens, Fail ErrorPath/CausePath, input schemas checked with JSON Schema, and
hypothesis-generated definitions that never crash the runner. The flows here are
written for these tests from the docs' field lists.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Iterator

import pytest
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import automate_lite as al
from automate_lite.flows import AsyncFlowsClient, FlowsClient
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import DEFAULT_IDENTITY, FlowsStub
from automate_lite.testing.runner import FlowRunner, LiveRun

from _local_flows import finish, flows_client, output

USER_TOKEN = "user-ap-token"
ADMIN_TOKEN = "admin-ap-token"
ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-4000-8000-000000000001"
ADMIN = "urn:globus:auth:identity:bbbbbbbb-0000-4000-8000-000000000002"
LINKED = "urn:globus:auth:identity:cccccccc-0000-4000-8000-000000000003"
CURATOR = "urn:globus:auth:identity:dddddddd-0000-4000-8000-000000000004"
CURATOR_TOKEN = "curator-ap-token"


@pytest.fixture(scope="module")
def ap() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={USER_TOKEN: ALICE, ADMIN_TOKEN: ADMIN, CURATOR_TOKEN: CURATOR}) as provider:
        yield provider


@pytest.fixture(scope="module")
def flows() -> Iterator[FlowsStub]:
    with FlowsStub(action_token=USER_TOKEN, action_poll=(0.01, 0.05)) as stub:
        stub.set_user(DEFAULT_IDENTITY, username="dana@example.org", email="dana@example.org", identities=[LINKED])
        stub.add_run_as_token("Admin", ADMIN_TOKEN)
        yield stub


@pytest.fixture(scope="module")
def fc(flows: FlowsStub) -> Iterator[FlowsClient]:
    yield from flows_client(flows)


def run(fc: FlowsClient, definition: dict[str, Any], flow_input: Any = None, schema: Any = None) -> str:
    # Deployed as written, through the local validator and the service's own check.
    fid = fc.deploy_flow(definition, "local service test", input_schema=schema or {})["id"]
    return str(fc.run_flow(fid, None, flow_input or {})["run_id"])


def one(name: str, state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {**state, "End": True}}}


# ----------------------------------------------------------------------------- run context


def test_every_documented_context_field(fc: FlowsClient) -> None:
    definition = one("Ctx", {"Type": "Pass", "Parameters": {"ctx.$": "$._context"}, "ResultPath": "$.c"})
    run_id = run(fc, definition)
    ctx = output(finish(fc, run_id))["c"]["ctx"]
    assert ctx["run_id"] == run_id and ctx["action_id"] == run_id  # action_id: what older flows read
    assert ctx["flow_id"] == fc.get_run(run_id)["flow_id"]
    assert ctx["user_id"] == DEFAULT_IDENTITY and ctx["user_id"].startswith("urn:globus:auth:identity:")
    assert ctx["username"] == "dana@example.org" and ctx["email"] == "dana@example.org"
    assert ctx["identities"] == [DEFAULT_IDENTITY, LINKED]
    info = ctx["token_info"]
    assert set(info) == {"exp", "iat", "nbf"} and info["iat"] <= info["exp"] and info["nbf"] == info["iat"]
    assert all(isinstance(v, int) for v in info.values())


def test_context_in_expressions_as_the_examples_use_it(fc: FlowsClient) -> None:
    definition = one("E", {"Type": "ExpressionEval", "Parameters": {
        "who.=": "(`$._context.email` or `$._context.username`) + ' (' + `$._context.user_id` + ')'",
        "dir.=": "'/' + _context.run_id + '/'",
    }, "ResultPath": "$.e"})
    run_id = run(fc, definition)
    out = output(finish(fc, run_id))["e"]
    assert out == {"who": f"dana@example.org ({DEFAULT_IDENTITY})", "dir": f"/{run_id}/"}


# ----------------------------------------------------------------------------- web inputs


def approval_flow(options_state: bool = False) -> dict[str, Any]:
    options = [
        {"Value": "approve", "Label": "Approve", "Description": "Go ahead."},
        {"Value": "deny", "Label": "Deny", "Description": "Stop here."},
    ]
    params: dict[str, Any] = {
        "InputType": "Selection",
        "Context": {"PresentationStyle": "Table", "Title.=": "'Ship ' + name + '?'", "Rows": [
            {"Field": "Requested by", "Value.$": "$._context.username"},
        ]},
        "RespondentUrns": [DEFAULT_IDENTITY],
        "ViewerUrns": [ALICE],
    }
    if options_state:
        params["Options.$"] = "$.opts"
    else:
        params["Options"] = options
    return {"StartAt": "Create", "States": {
        "Create": {"Type": "CreateWebInput", "Parameters": params, "ResultPath": "$.web_input_info", "Next": "Await"},
        "Await": {"Type": "AwaitWebInput", "Parameters": {"web_input_id.$": "$.web_input_info.web_input_id"},
                  "ResultPath": "$.response_info", "Next": "Decide"},
        "Decide": {"Type": "Choice", "Choices": [
            {"Variable": "$.response_info.response", "StringEquals": "approve", "Next": "Ship"}], "Default": "Refused"},
        "Ship": {"Type": "Pass", "End": True},
        "Refused": {"Type": "Fail", "Error": "NotApproved", "Cause": "The request was not approved."},
    }, "_options": options}


def answer(fc: FlowsClient, run_id: str, label: str | None = None, value: Any = None) -> dict[str, Any]:
    waiting = finish(fc, run_id)
    assert waiting["status"] == "INACTIVE" and waiting["details"]["code"] == "WaitingForWebInput"
    wid = waiting["details"]["web_input_id"]
    doc = dict(fc.get_web_input(wid).data)
    if label is not None:
        value = [o for o in doc["options"] if o["label"] == label][0]["option_id"]
    fc.respond_to_web_input(wid, value)
    return doc


@pytest.mark.parametrize("options_state", [False, True])
def test_selection_web_input_documented_shapes(fc: FlowsClient, options_state: bool) -> None:
    definition = approval_flow(options_state)
    options = definition.pop("_options")
    run_id = run(fc, definition, {"name": "v1", "opts": options})
    doc = answer(fc, run_id, label="Approve")
    assert doc["input_type"] == "selection"
    assert doc["context"] == {"title": "Ship v1?", "presentation_style": "table",
                              "rows": [{"field": "Requested by", "value": "dana@example.org"}]}
    assert [(o["label"], o["description"]) for o in doc["options"]] == [("Approve", "Go ahead."), ("Deny", "Stop here.")]
    assert doc["roles"] == {"viewer_urns": [ALICE], "respondent_urns": [DEFAULT_IDENTITY]}
    assert doc["creator_urn"] == DEFAULT_IDENTITY
    assert [c["const"] for c in doc["input_schema"]["oneOf"]] == [o["option_id"] for o in doc["options"]]
    out = output(finish(fc, run_id))
    assert out["web_input_info"]["web_input_id"] == doc["id"]
    assert out["response_info"]["response"] == "approve"  # the option's Value, as the flow reads it


def test_selection_denied_reaches_the_fail_state(fc: FlowsClient) -> None:
    definition = approval_flow()
    definition.pop("_options")
    run_id = run(fc, definition, {"name": "v2"})
    answer(fc, run_id, label="Deny")
    final = finish(fc, run_id)
    assert final["status"] == "FAILED" and final["details"]["error"] == "NotApproved"


def test_text_web_input_answers_with_the_text(fc: FlowsClient) -> None:
    definition = {"StartAt": "Create", "States": {
        "Create": {"Type": "CreateWebInput", "Parameters": {
            "InputType": "Text", "Context": {"Title": "Why?", "PresentationStyle": "Text", "Text": "Say why."}},
            "ResultPath": "$.wi", "Next": "Await"},
        "Await": {"Type": "AwaitWebInput", "Parameters": {"web_input_id.$": "$.wi.web_input_id"},
                  "ResultPath": "$.r", "End": True},
    }}
    run_id = run(fc, definition)
    doc = answer(fc, run_id, value="because")
    assert doc["input_type"] == "text" and doc["context"]["text"] == "Say why." and doc["options"] == []
    assert output(finish(fc, run_id))["r"]["response"] == "because"


@pytest.mark.parametrize("params, value, why", [
    ({"InputType": "Checkbox"}, None, "InputType"),
    ({"InputType": "Selection"}, None, "needs Options"),
    # Values the validator cannot see before the run (they come from the input through
    # ".$"), so the state itself must refuse them; written literally, deploy refuses them.
    ({"InputType": "Selection", "Options.$": "$.v"}, [{"Label": "no value"}], "Options"),
    ({"InputType": "Text", "Context.$": "$.v"}, "not an object", "Context"),
    ({"InputType": "Text", "RespondentUrns.$": "$.v"}, "urn:x", "RespondentUrns"),
])
def test_bad_web_input_parameters_fail_the_state(fc: FlowsClient, params: dict[str, Any], value: Any,
                                                 why: str) -> None:
    final = finish(fc, run(fc, one("Create", {"Type": "CreateWebInput", "Parameters": params}), {"v": value}))
    assert final["status"] == "FAILED" and final["details"]["error"] == "States.Runtime"
    assert why in final["details"]["cause"]


def test_literal_bad_web_input_parameters_are_refused_at_deploy(fc: FlowsClient) -> None:
    with pytest.raises(al.FlowValidationError, match="RespondentUrns"):
        run(fc, one("Create", {"Type": "CreateWebInput", "Parameters": {"InputType": "Text", "RespondentUrns": "urn:x"}}))


# ----------------------------------------------------------------------------- Handler states


def test_handler_action_provider_form(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = one("Hi", {"Type": "Action", "Handler": {"Type": "ActionProvider", "Url": ap.url},
                            "Parameters": {"echo_string": "x"}, "ResultPath": "$.r"})
    result = output(finish(fc, run(fc, definition)))["r"]
    assert result["status"] == "SUCCEEDED" and result["creator_id"] == ALICE


def create_registered_api(flows: FlowsStub, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    # a PoolManager, not urllib3.request(): the suite also runs on urllib3 1.26
    resp = urllib3.PoolManager().request("POST", f"{flows.url}/registered_apis", body=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": "Bearer svc"})
    return resp.status, json.loads(resp.data)


def test_registered_api_created_listed_and_executed(fc: FlowsClient, flows: FlowsStub, ap: ActionProviderStub) -> None:
    status, api = create_registered_api(flows, {
        "name": "introspect", "description": "the provider's document",
        "target": {"type": "openapi", "destination": {"method": "get", "url": ap.url + "/"}},
    })
    assert status == 201 and api["roles"]["owners"] == [DEFAULT_IDENTITY]
    assert fc.get_registered_api(api["id"])["name"] == "introspect"
    assert api["id"] in [a["id"] for a in fc.list_registered_apis()["registered_apis"]]

    _, status_api = create_registered_api(flows, {
        "name": "status", "target": {"destination": {"method": "get", "url": ap.url + "/{action_id}/status"}}})
    definition = {"StartAt": "Start", "States": {
        "Start": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string": "y"},
                  "ResultPath": "$.action", "Next": "Intro"},
        "Intro": {"Type": "Action", "Handler": {"Type": "RegisteredAPI", "Id": api["id"]}, "Parameters": {},
                  "ResultPath": "$.intro", "Next": "Status"},
        "Status": {"Type": "Action", "Handler": {"Type": "RegisteredAPI", "Id": status_api["id"]},
                   "Parameters": {"action_id.$": "$.action.action_id"}, "ResultPath": "$.status", "End": True},
    }}
    out = output(finish(fc, run(fc, definition)))
    assert out["intro"]["status_code"] == 200 and "globus_auth_scope" in out["intro"]["body"]
    assert out["status"]["body"]["action_id"] == out["action"]["action_id"]  # path parameter filled, token sent


def test_registered_api_errors(fc: FlowsClient, flows: FlowsStub, ap: ActionProviderStub) -> None:
    status, body = create_registered_api(flows, {"name": "no target"})
    assert status == 422 and body["error"]["code"] == "UNPROCESSABLE_ENTITY"
    missing = finish(fc, run(fc, one("R", {"Type": "Action", "Handler": {"Type": "RegisteredAPI", "Id": "nope"}})))
    assert missing["status"] == "FAILED" and missing["details"]["error"] == "ActionUnableToRun"
    _, api = create_registered_api(flows, {"name": "gone", "target": {
        "destination": {"method": "get", "url": ap.url + "/{action_id}/status"}}})
    caught = {"StartAt": "R", "States": {
        "R": {"Type": "Action", "Handler": {"Type": "RegisteredAPI", "Id": api["id"]},
              "Parameters": {"action_id": "no-such-action"}, "Catch": [
                  {"ErrorEquals": ["ActionFailedException"], "ResultPath": "$.err", "Next": "Done"}], "End": True},
        "Done": {"Type": "Pass", "End": True}}}
    out = output(finish(fc, run(fc, caught)))
    assert out["err"]["status_code"] == 404


# ----------------------------------------------------------------------------- RunAs


def test_run_as_uses_each_roles_token(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "AsUser", "States": {
        "AsUser": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string": "u"}, "RunAs": "User",
                   "ResultPath": "$.user", "Next": "AsAdmin"},
        "AsAdmin": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string": "a"}, "RunAs": "Admin",
                    "ResultPath": "$.admin", "End": True},
    }}
    out = output(finish(fc, run(fc, definition)))
    assert out["user"]["creator_id"] == ALICE and out["admin"]["creator_id"] == ADMIN


def test_run_as_a_role_without_a_token_fails_catchably(fc: FlowsClient, ap: ActionProviderStub) -> None:
    state = {"Type": "Action", "ActionUrl": ap.url, "Parameters": {}, "RunAs": "Auditor"}
    final = finish(fc, run(fc, one("A", state)))
    assert final["status"] == "FAILED" and final["details"]["error"] == "ActionUnableToRun"
    assert "Auditor" in final["details"]["cause"]
    caught = {"StartAt": "A", "States": {
        "A": {**state, "Catch": [{"ErrorEquals": ["ActionUnableToRun"], "ResultPath": "$.e", "Next": "B"}], "End": True},
        "B": {"Type": "Pass", "End": True}}}
    assert output(finish(fc, run(fc, caught)))["e"]["code"] == "MissingRunAsToken"


def test_run_as_tokens_given_in_the_run_input(fc: FlowsClient, ap: ActionProviderStub) -> None:
    # The documented convention: the input's "_tokens" maps each RunAs role to a token, for
    # the scope the flow description lists under globus_auth_scopes_by_RunAs.
    definition = {"StartAt": "AsCurator", "States": {
        "AsCurator": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string": "c"}, "RunAs": "Curator",
                      "ResultPath": "$.curator", "Next": "AsAdmin"},
        "AsAdmin": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string": "a"}, "RunAs": "Admin",
                    "ResultPath": "$.admin", "Next": "AsFlow"},
        "AsFlow": {"Type": "Pass", "End": True},
    }}
    schema = {"type": "object", "required": ["_tokens"], "properties": {"_tokens": {"type": "object"}}}
    flow = fc.deploy_flow(definition, "role tokens", input_schema=schema)
    scopes = flow["globus_auth_scopes_by_RunAs"]
    assert sorted(scopes) == ["Admin", "Curator"] and all(flow["id"] in v for v in scopes.values())
    assert fc.get_flow(flow["id"])["globus_auth_scopes_by_RunAs"] == scopes
    # "Admin" from the input wins over the service-wide add_run_as_token one.
    run_id = fc.run_flow(flow["id"], None, {"_tokens": {"Curator": CURATOR_TOKEN, "Admin": USER_TOKEN}, "x": 1})["run_id"]
    final = finish(fc, run_id)
    out = output(final)
    assert out["curator"]["creator_id"] == CURATOR and out["admin"]["creator_id"] == ALICE
    assert "_tokens" not in out and out["x"] == 1
    # The tokens are taken out of the input: no run document or log entry shows them.
    shown = json.dumps([dict(fc.get_run(run_id).data), list(fc.iter_run_logs(run_id))])
    assert CURATOR_TOKEN not in shown and USER_TOKEN not in shown
    # The schema is checked with them (the docs: it must allow "_tokens").
    with pytest.raises(al.errors.AutomateAPIError) as missing:
        fc.run_flow(flow["id"], None, {"x": 1})
    assert missing.value.http_status == 400 and missing.value.code == "FLOW_INPUT_ERROR"


@pytest.mark.parametrize("tokens", [["t"], {"Curator": 7}, {"Curator": ""}, {"User": "t"}])
def test_bad_run_as_tokens_are_refused(fc: FlowsClient, tokens: Any) -> None:
    fid = fc.deploy_flow(one("P", {"Type": "Pass"}), "bad role tokens")["id"]
    with pytest.raises(al.errors.AutomateAPIError) as info:
        fc.run_flow(fid, None, {"_tokens": tokens})
    assert info.value.http_status == 400 and info.value.code == "FLOW_INPUT_ERROR"
    assert "_tokens" in str(info.value) and "'t'" not in str(info.value)


# ----------------------------------------------------------------------------- Fail, expression errors


def test_fail_error_path_and_cause_path(fc: FlowsClient) -> None:
    definition = one("F", {"Type": "Fail", "ErrorPath": "$.why.code", "CausePath": "$.why.text"})
    definition["States"]["F"].pop("End")
    final = finish(fc, run(fc, definition, {"why": {"code": "Broken", "text": "it broke"}}))
    assert final["status"] == "FAILED"
    assert (final["details"]["error"], final["details"]["cause"]) == ("Broken", "it broke")


def test_expression_error_is_caught_by_catch(fc: FlowsClient, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"x.=": "1 / 0"}, "ResultPath": "$.x",
              "Catch": [{"ErrorEquals": ["ExpressionEvaluationError"], "ResultPath": "$.err", "Next": "Ok"}],
              "End": True},
        "Ok": {"Type": "Pass", "End": True}}}
    err = output(finish(fc, run(fc, definition)))["err"]
    assert err["Error"] == "ExpressionEvaluationError" and "1 / 0" in err["Cause"]


# ----------------------------------------------------------------------------- input schema


SCHEMA = {"type": "object", "required": ["n"], "properties": {
    "n": {"type": "integer", "minimum": 1}, "tag": {"type": "string", "enum": ["a", "b"]}},
    "additionalProperties": False}


@pytest.mark.parametrize("body, where", [
    ({}, "'n' is a required property"),
    ({"n": 0}, "n: 0 is less than the minimum"),
    ({"n": "1"}, "is not of type 'integer'"),
    ({"n": 1, "tag": "c"}, "tag: 'c' is not one of"),
    ({"n": 1, "extra": 1}, "Additional properties"),
])
def test_input_schema_checked_for_real(fc: FlowsClient, body: dict[str, Any], where: str) -> None:
    fid = fc.deploy_flow(one("P", {"Type": "Pass"}), "schema", input_schema=SCHEMA)["id"]
    with pytest.raises(al.AutomateAPIError) as info:
        fc.run_flow(fid, None, body)
    assert info.value.http_status == 400 and info.value.code == "FLOW_INPUT_ERROR"
    assert where in str(info.value)
    ok = fc.run_flow(fid, None, {"n": 2, "tag": "a"})
    assert output(finish(fc, ok["run_id"])) == {"n": 2, "tag": "a"}


# ----------------------------------------------------------------------------- async client


def test_async_client_runs_context_and_web_input(flows: FlowsStub) -> None:
    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        async with AsyncFlowsClient.new_client(
            None, lambda **kw: al.BearerTokenAuthorizer("f"), al.BearerTokenAuthorizer("s"), base_url=flows.url
        ) as client:
            definition = approval_flow()
            definition.pop("_options")
            fid = (await client.deploy_flow(definition, "async"))["id"]
            run_id = (await client.run_flow(fid, None, {"name": "a"}))["run_id"]
            waiting = await client.wait_for_run(run_id, timeout=30, initial_delay=0.01, max_delay=0.05)
            wid = waiting["details"]["web_input_id"]
            doc = dict((await client.get_web_input(wid)).data)
            await client.respond_to_web_input(wid, doc["options"][0]["option_id"])
            final = await client.wait_for_run(run_id, timeout=30, initial_delay=0.01, max_delay=0.05)
            return doc, dict(final.data)

    doc, final = asyncio.run(main())
    assert doc["context"]["rows"][0]["value"] == "dana@example.org"
    assert output(final)["response_info"]["response"] == "approve"


# ----------------------------------------------------------------------------- never crash


class _Host:
    """The least a FlowRunner needs, so generated definitions run without HTTP."""

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def now(self) -> float:
        return time.time()

    def open_web_input(self, run: LiveRun, state_name: str, spec: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("no web inputs here")

    def web_input_record(self, web_input_id: str) -> dict[str, Any] | None:
        return None

    def registered_api(self, api_id: str) -> dict[str, Any] | None:
        return None


_json = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                     max_leaves=6)
_paths = st.sampled_from(["$", "$.a", "$.a.b", "$.l[0]", "$.l[1:]", "$._context.run_id", "$.missing", "$$.flow_id"])
_exprs = st.sampled_from(["a", "a + 1", "len(l)", "l[0]", "1 / 0", "a.b", "[i for i in l]", "{'k': a}",
                          "str(a) + 'x'", "not a", "_context.user_id", "(", "getattr(a, 'b', 3)"])


@st.composite
def _definitions(draw: st.DrawFn) -> dict[str, Any]:
    names = [f"S{i}" for i in range(draw(st.integers(1, 5)))]
    states: dict[str, Any] = {}
    for i, name in enumerate(names):
        kind = draw(st.sampled_from(["Pass", "ExpressionEval", "Choice", "Fail", "Wait"]))
        nxt = names[i + 1] if i + 1 < len(names) else None
        end: dict[str, Any] = {"Next": nxt} if nxt else {"End": True}
        if kind == "Pass":
            state: dict[str, Any] = {"Type": "Pass", **end}
            if draw(st.booleans()):
                state["Parameters"] = {"x.$": draw(_paths), "y": draw(_json), "z.=": draw(_exprs)}
            if draw(st.booleans()):
                state["ResultPath"] = draw(_paths)
            if draw(st.booleans()):
                state["InputPath"] = draw(_paths)
        elif kind == "ExpressionEval":
            state = {"Type": "ExpressionEval", "Parameters": {"v.=": draw(_exprs)}, "ResultPath": "$.v", **end}
        elif kind == "Choice":
            op = draw(st.sampled_from(["StringEquals", "NumericGreaterThan", "BooleanEquals", "IsPresent", "IsNull"]))
            state = {"Type": "Choice", "Choices": [{"Variable": draw(_paths), op: draw(_json), "Next": draw(st.sampled_from(names))}]}
            if draw(st.booleans()):
                state["Default"] = nxt or names[0]
        elif kind == "Wait":
            state = {"Type": "Wait", "SecondsPath": draw(_paths), **end}
        else:
            state = {"Type": "Fail", "ErrorPath": draw(_paths), "Cause": draw(st.text(max_size=5))}
        if kind in ("Pass", "ExpressionEval") and draw(st.booleans()):
            state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": names[0] if not nxt else nxt, "ResultPath": "$.err"}]
        states[name] = state
    return {"StartAt": names[0], "States": states}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definition=_definitions(), flow_input=st.dictionaries(st.sampled_from(["a", "l", "b"]), _json, max_size=3))
def test_generated_definitions_never_crash_the_runner(definition: dict[str, Any], flow_input: dict[str, Any]) -> None:
    host = _Host()
    runner = FlowRunner(host, max_steps=50)  # type: ignore[arg-type]
    live = LiveRun(run_id="r", flow_id="f", flow_title="t", definition=definition, input=flow_input, owner=DEFAULT_IDENTITY)

    async def main() -> None:
        live.wake_event = asyncio.Event()
        await asyncio.wait_for(runner._execute(live), 10)

    asyncio.run(main())
    assert live.status in ("SUCCEEDED", "FAILED"), live.status
    assert "runner failed" not in str(live.details.get("description")), live.details


# ----------------------------------------------------------------------------- per-route scopes


def test_routes_take_the_scope_the_service_requires() -> None:
    with FlowsStub(tokens={"all": ALICE}) as stub:
        stub.add_scoped_token("manage", ALICE, ["manage_flows"])
        stub.add_scoped_token("status", ALICE, ["https://auth.globus.org/scopes/eec9b274-0c81-4334-bdc2-54e90e689b9a/run_status"])
        stub.add_scoped_token("runmanage", ALICE, ["run_manage"])

        def client(token: str) -> FlowsClient:
            return FlowsClient.new_client("c", lambda **kw: al.BearerTokenAuthorizer("f"),
                                          al.BearerTokenAuthorizer(token), base_url=stub.url)

        with client("all") as everything, client("manage") as manage, client("status") as status, \
                client("runmanage") as runmanage:
            fid = manage.deploy_flow(one("P", {"Type": "Pass"}), "scoped")["id"]
            assert manage.get_flow(fid)["id"] == fid  # manage_flows covers view_flows
            with pytest.raises(al.AutomateAPIError) as info:
                manage.list_runs()
            assert info.value.http_status == 403 and info.value.code == "MISSING_SCOPE"
            assert "run_status" in str(info.value)
            assert "runs" in status.list_runs().data and "runs" in runmanage.list_runs().data
            with pytest.raises(al.AutomateAPIError) as info:
                status.deploy_flow(one("P", {"Type": "Pass"}), "nope")
            assert info.value.code == "MISSING_SCOPE" and "manage_flows" in str(info.value)
            assert everything.list_flows().data["flows"]  # the permissive default still works
