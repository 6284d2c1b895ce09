"""The local Flows service end to end through AsyncFlowsClient over real HTTP on 127.0.0.1.

The same service as tests/test_local_service.py, driven by the async client: every
state type, Action and Handler states (ActionProvider object, registered API, hosted
handle), RunAs roles (a named role and "Flow"), the run context, web inputs answered,
expired and refused, the corpus in tests/flows deployed as written, and many runs at
once on one event loop.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator, TypeVar

import pytest

from automate_lite.errors import ConflictError
from automate_lite.flows import AsyncFlowsClient
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import DEFAULT_IDENTITY, FlowsStub, HostedCall

from _local_flows import afinish as finish, async_flows_client, output

USER_TOKEN = "async-user-token"
ADMIN_TOKEN = "async-admin-token"
ADMIN = "urn:globus:auth:identity:bbbbbbbb-0000-4000-8000-00000000000a"
GROUP = "0d6f5a1e-0000-4000-8000-00000000beef"
CORPUS = sorted((Path(__file__).parent / "flows").glob("*.json"))
T = TypeVar("T")


@pytest.fixture(scope="module")
def ap() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={USER_TOKEN: DEFAULT_IDENTITY, ADMIN_TOKEN: ADMIN}) as provider:
        yield provider


@pytest.fixture(scope="module")
def flows() -> Iterator[FlowsStub]:
    with FlowsStub(action_token=USER_TOKEN, action_poll=(0.01, 0.05)) as stub:
        stub.set_user(DEFAULT_IDENTITY, username="erin@example.org", email="erin@example.org")
        stub.add_run_as_token("Admin", ADMIN_TOKEN)
        stub.add_group(GROUP, "Operators", members=[DEFAULT_IDENTITY])
        yield stub


def drive(flows: FlowsStub, body: Callable[[AsyncFlowsClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with async_flows_client(flows) as client:
            return await body(client)

    return asyncio.run(main())


async def start(client: AsyncFlowsClient, definition: dict[str, Any], flow_input: Any = None) -> str:
    fid = (await client.deploy_flow(definition, "async e2e"))["id"]
    return str((await client.run_flow(fid, None, flow_input or {}))["run_id"])


async def run_to_end(client: AsyncFlowsClient, definition: dict[str, Any], flow_input: Any = None) -> dict[str, Any]:
    return await finish(client, await start(client, definition, flow_input))


# ----------------------------------------------------------------------------- state types


EVERY_STATE = {"StartAt": "Seed", "States": {
    "Seed": {"Type": "Pass", "Parameters": {"n.$": "$.n", "items": [{"name": "a"}, {"name": "b"}]},
             "ResultPath": "$.seed", "Next": "Compute"},
    "Compute": {"Type": "ExpressionEval", "Parameters": {
        "double.=": "seed.n * 2", "names.=": "[i.name for i in seed.items]", "tail.=": "seed.items[1:]"},
        "ResultPath": "$.calc", "Next": "Branch"},
    "Branch": {"Type": "Choice", "Choices": [
        {"And": [{"Variable": "$.calc.double", "NumericGreaterThan": 5},
                 {"Not": {"Variable": "$.calc.names[0]", "StringEquals": "z"}}], "Next": "Pause"}],
        "Default": "Stop"},
    "Pause": {"Type": "Wait", "Seconds": 0, "Next": "Done"},
    "Done": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
    "Stop": {"Type": "Fail", "ErrorPath": "$.calc.names[0]", "CausePath": "$.seed.items[1].name"},
}}


def test_every_state_type_both_ways(flows: FlowsStub) -> None:
    async def body(client: AsyncFlowsClient) -> tuple[dict[str, Any], dict[str, Any]]:
        return await run_to_end(client, EVERY_STATE, {"n": 3}), await run_to_end(client, EVERY_STATE, {"n": 1})

    big, small = drive(flows, body)
    out = output(big)
    assert out["calc"] == {"double": 6, "names": ["a", "b"], "tail": [{"name": "b"}]} and out["size"] == "big"
    assert small["status"] == "FAILED" and small["details"]["error"] == "a" and small["details"]["cause"] == "b"


def test_wait_timestamp_path_and_context(flows: FlowsStub) -> None:
    definition = {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "TimestampPath": "$.when", "Next": "C"},
        "C": {"Type": "Pass", "Parameters": {"ctx.$": "$._context"}, "ResultPath": "$.c", "End": True}}}

    async def body(client: AsyncFlowsClient) -> tuple[str, dict[str, Any]]:
        rid = await start(client, definition, {"when": "2000-01-01T00:00:00Z"})
        return rid, await finish(client, rid)

    rid, doc = drive(flows, body)
    ctx = output(doc)["c"]["ctx"]
    assert ctx["run_id"] == rid and ctx["user_id"] == DEFAULT_IDENTITY and ctx["username"] == "erin@example.org"


def test_expression_error_is_caught(flows: FlowsStub, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "E", "States": {
        "E": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string.=": "1 / zero"}, "ResultPath": "$.v",
              "End": True, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "End": True}}}
    out = output(drive(flows, lambda c: run_to_end(c, definition, {"zero": 0})))
    assert out["err"]["Error"] == "ExpressionEvaluationError"


# ----------------------------------------------------------------------------- actions and handlers


def test_action_url_and_handler_provider_with_run_as(flows: FlowsStub, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "Plain", "States": {
        "Plain": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string": "p"}, "ResultPath": "$.plain",
                  "Next": "Object"},
        "Object": {"Type": "Action", "Handler": {"Type": "ActionProvider", "Url": ap.url}, "RunAs": "Admin",
                   "Parameters": {"echo_string": "o", "sleep_s": 0.02}, "ResultPath": "$.obj", "End": True}}}
    out = output(drive(flows, lambda c: run_to_end(c, definition)))
    assert out["plain"]["creator_id"] == DEFAULT_IDENTITY and out["plain"]["details"]["echo_string"] == "p"
    assert out["obj"]["creator_id"] == ADMIN and out["obj"]["status"] == "SUCCEEDED"


def test_failed_action_is_caught_and_missing_role_fails(flows: FlowsStub, ap: ActionProviderStub) -> None:
    caught = {"StartAt": "A", "States": {
        "A": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"fail": True}, "ResultPath": "$.a", "End": True,
              "Catch": [{"ErrorEquals": ["ActionFailedException"], "ResultPath": "$.err", "Next": "Ok"}]},
        "Ok": {"Type": "Pass", "End": True}}}
    no_role = {"StartAt": "A", "States": {"A": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {},
                                                "RunAs": "Nobody", "End": True}}}

    async def body(client: AsyncFlowsClient) -> tuple[dict[str, Any], dict[str, Any]]:
        return await run_to_end(client, caught), await run_to_end(client, no_role)

    one, two = drive(flows, body)
    assert output(one)["err"]["status"] == "FAILED"
    assert two["status"] == "FAILED" and two["details"]["error"] == "ActionUnableToRun"


def test_run_as_token_given_in_the_run_input(flows: FlowsStub, ap: ActionProviderStub) -> None:
    # "_tokens" in the input names each RunAs role's token (the documented convention).
    definition = {"StartAt": "A", "States": {"A": {"Type": "Action", "ActionUrl": ap.url, "RunAs": "Operator",
                                                   "Parameters": {}, "ResultPath": "$.a", "End": True}}}

    async def body(client: AsyncFlowsClient) -> tuple[dict[str, Any], dict[str, Any]]:
        flow = await client.deploy_flow(definition, "role token in the input")
        assert list(flow["globus_auth_scopes_by_RunAs"]) == ["Operator"]
        rid = (await client.run_flow(flow["id"], None, {"_tokens": {"Operator": ADMIN_TOKEN}}))["run_id"]
        return await finish(client, rid), dict((await client.get_run(rid)).data)

    doc, run = drive(flows, body)
    assert output(doc)["a"]["creator_id"] == ADMIN
    assert ADMIN_TOKEN not in json.dumps([doc, run])


def test_run_as_flow(flows: FlowsStub, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "F", "States": {"F": {"Type": "Action", "ActionUrl": ap.url, "RunAs": "Flow",
                                                   "Parameters": {}, "ResultPath": "$.f", "End": True}}}

    async def body(client: AsyncFlowsClient) -> tuple[str, dict[str, Any]]:
        fid = (await client.deploy_flow(definition, "as the flow"))["id"]
        assert ap.state.tokens is not None
        ap.state.tokens[flows.flow_identity_token(fid)] = f"urn:globus:auth:identity:{fid}"
        rid = (await client.run_flow(fid, None, {}))["run_id"]
        return fid, await finish(client, rid)

    fid, doc = drive(flows, body)
    assert output(doc)["f"]["creator_id"] == f"urn:globus:auth:identity:{fid}"


def test_registered_api_and_hosted_handles(flows: FlowsStub, ap: ActionProviderStub) -> None:
    api = flows.add_registered_api("introspect", url=ap.url + "/")

    async def lookup(call: HostedCall) -> Any:
        return {"asked": call.parameters["q"], "state": call.state_name}

    flows.add_hosted_handler("async.lookup", lookup)
    definition = {"StartAt": "Api", "States": {
        "Api": {"Type": "Action", "Handler": {"Type": "RegisteredAPI", "Id": api["id"]}, "Parameters": {},
                "ResultPath": "$.api", "Next": "Group"},
        "Group": {"Type": "Action", "Handler": "urn:globus:flows:handle:globus:groups.get_group",
                  "Parameters": {"group_id": GROUP, "include": ["my_memberships"]}, "ResultPath": "$.group",
                  "Next": "Mine"},
        "Mine": {"Type": "Action", "Handler": "urn:globus:flows:handle:globus:async.lookup", "Parameters": {"q": 1},
                 "ResultPath": "$.mine", "End": True}}}

    async def body(client: AsyncFlowsClient) -> tuple[dict[str, Any], list[str]]:
        doc = await run_to_end(client, definition)
        listed = [a["id"] for a in (await client.list_registered_apis())["registered_apis"]]
        return doc, listed

    doc, listed = drive(flows, body)
    out = output(doc)
    assert api["id"] in listed and out["api"]["status_code"] == 200 and "globus_auth_scope" in out["api"]["body"]
    assert out["group"]["body"]["name"] == "Operators" and len(out["group"]["body"]["my_memberships"]) == 1
    assert out["mine"]["body"] == {"asked": 1, "state": "Mine"}


# ----------------------------------------------------------------------------- web inputs


def web_input_flow(expires_in: float | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"InputType": "Selection", "Context": {"Title": "Go?"},
                              "Options": [{"Value": "go", "Label": "Go"}, {"Value": "stop", "Label": "Stop"}]}
    if expires_in is not None:
        params["ExpiresIn"] = expires_in
    return {"StartAt": "Ask", "States": {
        "Ask": {"Type": "CreateWebInput", "Parameters": params, "ResultPath": "$.ask", "Next": "Await"},
        "Await": {"Type": "AwaitWebInput", "Parameters": {"web_input_id.$": "$.ask.web_input_id"},
                  "ResultPath": "$.answer", "End": True,
                  "Catch": [{"ErrorEquals": ["Flows.WebInputExpired"], "ResultPath": "$.answer", "Next": "Late"}]},
        "Late": {"Type": "Pass", "Result": True, "ResultPath": "$.late", "End": True}}}


def test_web_input_answered_through_the_async_client(flows: FlowsStub) -> None:
    async def body(client: AsyncFlowsClient) -> dict[str, Any]:
        rid = await start(client, web_input_flow())
        waiting = await finish(client, rid)
        assert waiting["status"] == "INACTIVE"
        wid = waiting["details"]["web_input_id"]
        summaries = (await client.list_web_inputs())["web_input_summaries"]
        assert wid in [s["id"] for s in summaries]
        doc = await client.get_web_input(wid)
        await client.respond_to_web_input(wid, [o for o in doc["options"] if o["label"] == "Go"][0]["option_id"])
        with pytest.raises(ConflictError):
            await client.respond_to_web_input(wid, doc["options"][0]["option_id"])  # already closed
        return await finish(client, rid)

    answer = output(drive(flows, body))["answer"]
    assert answer["response"] == "go" and answer["respondent"] == DEFAULT_IDENTITY


def test_web_input_expiry_through_the_async_client(flows: FlowsStub) -> None:
    async def body(client: AsyncFlowsClient) -> tuple[dict[str, Any], dict[str, Any]]:
        rid = await start(client, web_input_flow(expires_in=3600))
        wid = (await finish(client, rid))["details"]["web_input_id"]
        doc = await client.get_web_input(wid)
        flows.expire_web_input(wid)
        with pytest.raises(ConflictError):
            await client.respond_to_web_input(wid, doc["options"][0]["option_id"])
        expired = await finish(client, rid)
        timed_out = await finish(client, await start(client, web_input_flow(expires_in=0.02)))
        while timed_out["status"] == "INACTIVE":
            timed_out = await finish(client, timed_out["run_id"])
        return expired, timed_out

    expired, timed_out = drive(flows, body)
    for doc in (expired, timed_out):
        out = output(doc)
        assert out["late"] is True and out["answer"]["Error"] == "Flows.WebInputExpired"


def test_choice_on_a_missing_variable_through_the_async_client(flows: FlowsStub) -> None:
    # Only IsPresent may read a Variable that names nothing (definitions/rules.py says why).
    definition = {"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Choices": [
            {"Variable": "$.answer.response", "StringEquals": "go", "Next": "Go"}], "Default": "Stop"},
        "Go": {"Type": "Pass", "End": True}, "Stop": {"Type": "Pass", "End": True}}}
    guarded = {"StartAt": "Pick", "States": {**definition["States"], "Pick": {"Type": "Choice", "Choices": [
        {"Not": {"Variable": "$.answer.response", "IsPresent": True}, "Next": "Stop"},
        {"Variable": "$.answer.response", "StringEquals": "go", "Next": "Go"}], "Default": "Stop"}}}

    async def body(client: AsyncFlowsClient) -> list[dict[str, Any]]:
        return [await run_to_end(client, definition, {"answer": {}}),
                await run_to_end(client, guarded, {"answer": {}}),
                await run_to_end(client, definition, {"answer": {"response": "go"}})]

    missing, guarded_run, present = drive(flows, body)
    assert missing["status"] == "FAILED" and missing["details"]["error"] == "States.Runtime"
    assert missing["details"]["state_name"] == "Pick" and "IsPresent" in missing["details"]["cause"]
    assert guarded_run["status"] == "SUCCEEDED" and present["status"] == "SUCCEEDED"


# ----------------------------------------------------------------------------- corpus and load


def test_the_corpus_deploys_as_written(flows: FlowsStub) -> None:
    async def body(client: AsyncFlowsClient) -> list[str]:
        made = [await client.deploy_flow(json.loads(p.read_text()), p.stem) for p in CORPUS]
        return [m["definition"]["StartAt"] for m in made]

    assert len(drive(flows, body)) == len(CORPUS) > 0


def test_many_runs_at_once_each_exactly_once(flows: FlowsStub, ap: ActionProviderStub) -> None:
    definition = {"StartAt": "Hi", "States": {
        "Hi": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string.$": "$.i"}, "ResultPath": "$.hi",
               "Next": "Twice"},
        "Twice": {"Type": "ExpressionEval", "Parameters": {"v.=": "i + i"}, "ResultPath": "$.t", "End": True}}}

    async def body(client: AsyncFlowsClient) -> list[dict[str, Any]]:
        fid = (await client.deploy_flow(definition, "many"))["id"]
        runs = await asyncio.gather(*(client.run_flow(fid, None, {"i": str(i)}) for i in range(40)))
        return list(await asyncio.gather(*(finish(client, r["run_id"]) for r in runs)))

    before = ap.state.created_count
    docs = drive(flows, body)
    assert sorted(output(d)["t"]["v"] for d in docs) == sorted(str(i) * 2 for i in range(40))
    assert ap.state.created_count - before == 40
