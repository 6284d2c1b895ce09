"""Protecting secrets in the local Flows service: private parameters and private run state.

What the Flows docs ("Protecting Secrets") and globus-automate-client 0.18's longer text
("Protecting Action and Flow State") say, over real HTTP to FlowsStub and an
ActionProviderStub on 127.0.0.1, with the sync and the async client:

- a ``__Private_Parameters`` list, at any level of ``Parameters``, names fields (by
  their natural names, without ``.$``/``.=``) that the action receives but the run's
  status and log omit, and that the definition omits for users who are neither the
  flow's owner nor an administrator;
- properties of the run's state named ``_private*`` are never shown, but paths read them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterator

import pytest

import automate_lite as al
from automate_lite.definitions.privacy import (
    definition_for_viewer,
    natural_name,
    without_private_markers,
    without_private_parameters,
    without_private_state,
)
from automate_lite.flows import AsyncFlowsClient, FlowsClient
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import FlowsStub

from _local_flows import afinish, finish, output

ALICE = "urn:globus:auth:identity:a1a1a1a1-0000-4000-8000-000000000001"
BOB = "urn:globus:auth:identity:b0b0b0b0-0000-4000-8000-000000000002"
CAROL = "urn:globus:auth:identity:ca401ca4-0000-4000-8000-000000000003"
AP_TOKEN = "ap-token-secrets"
PASSWORD = "correct-horse-battery"
API_KEY = "key-0f9e8d7c"


def secret_flow(ap_url: str) -> dict[str, Any]:
    """Secrets come in as ``$._private``; a copy is kept deeper in private state, then an
    action gets them as private parameters, and its result is kept private too."""
    return {
        "Comment": "a flow that must not show its secrets",
        "StartAt": "Stash",
        "States": {
            "Stash": {
                "Type": "Pass",
                "Parameters": {"_private_copy.$": "$._private.password", "note": "kept"},
                "ResultPath": "$.stash",
                "Next": "Login",
            },
            "Login": {
                "Type": "Action",
                "ActionUrl": ap_url,
                "Parameters": {
                    "echo_string": "logging in",
                    "server": {
                        "url": "https://data.example.org",
                        "user.$": "$.user",
                        "password.$": "$.stash._private_copy",
                        "__Private_Parameters": ["password"],
                    },
                    "api_key.=": "_private.api_key",
                    "__Private_Parameters": ["api_key"],
                },
                # The action's output is not covered by __Private_Parameters (the docs
                # say so); stored under _private_login, it stays out of the run's output.
                "ResultPath": "$._private_login",
                "Next": "Done",
            },
            "Done": {
                "Type": "ExpressionEval",
                "Parameters": {"login_status.=": "_private_login.status"},
                "ResultPath": "$.done",
                "End": True,
            },
        },
    }


SECRET_INPUT = {"user": "flowuser", "_private": {"password": PASSWORD, "api_key": API_KEY}}


@pytest.fixture(scope="module")
def ap() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={AP_TOKEN: ALICE}) as provider:
        yield provider


@pytest.fixture(scope="module")
def stub() -> Iterator[FlowsStub]:
    people = {"alice": ALICE, "bob": BOB, "carol": CAROL}
    with FlowsStub(
        tokens={f"svc-{k}": v for k, v in people.items()},
        flow_tokens={f"run-{k}": v for k, v in people.items()},
        action_token=AP_TOKEN,
        action_poll=(0.01, 0.05),
    ) as s:
        yield s


def client_for(stub: FlowsStub, who: str) -> FlowsClient:
    return FlowsClient.new_client(None, lambda **kw: al.BearerTokenAuthorizer(f"run-{who}"),
                                  al.BearerTokenAuthorizer(f"svc-{who}"), base_url=stub.url)


def private_keys(value: Any) -> list[str]:
    """Every ``_private*`` or ``__Private_Parameters`` key anywhere in ``value``."""
    if isinstance(value, dict):
        found = [k for k in value if k.startswith("_private") or k == "__Private_Parameters"]
        return found + [k for v in value.values() for k in private_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in private_keys(v)]
    return []


def no_secret_in(value: Any) -> None:
    text = json.dumps(value)
    assert PASSWORD not in text and API_KEY not in text, text
    assert private_keys(value) == [], text


def sent_body(ap: ActionProviderStub, run_id: str) -> dict[str, Any]:
    runs = [json.loads(r.body) for r in ap.state.requests if r.method == "POST" and r.path == "/run"]
    mine = [r for r in runs if str(r.get("request_id", "")).startswith(run_id + "_")]
    assert len(mine) == 1
    body: dict[str, Any] = mine[0]["body"]
    return body


def test_secrets_reach_the_action_but_no_run_document_or_log_shows_them(stub: FlowsStub, ap: ActionProviderStub) -> None:
    with client_for(stub, "alice") as alice, client_for(stub, "bob") as bob:
        fid = alice.deploy_flow(secret_flow(ap.url), "secrets")["id"]
        run_id = alice.run_flow(fid, None, SECRET_INPUT, run_monitors=[BOB])["run_id"]
        doc = finish(alice, run_id)

        # The action got every field, the private ones included, and no marker lists.
        assert sent_body(ap, run_id) == {
            "echo_string": "logging in",
            "server": {"url": "https://data.example.org", "user": "flowuser", "password": PASSWORD},
            "api_key": API_KEY,
        }
        # The run's output: what the flow kept in _private* state is not there.
        assert output(doc) == {"user": "flowuser", "stash": {"note": "kept"}, "done": {"login_status": "SUCCEEDED"}}

        entries = list(alice.iter_run_logs(run_id))
        assert [e["code"] for e in entries] == [
            "FlowStarted", "PassStarted", "PassCompleted", "ActionStarted", "ActionCompleted",
            "ExpressionEvalStarted", "ExpressionEvalCompleted", "FlowSucceeded",
        ]
        assert entries[0]["details"]["input"] == {"user": "flowuser"}
        started = entries[3]["details"]
        assert started["input"] == {"echo_string": "logging in",
                                    "server": {"url": "https://data.example.org", "user": "flowuser"}}
        # ActionCompleted shows the action's own status: this provider echoes its input,
        # and private parameters do not cover an action's output (as the docs say).
        assert entries[4]["details"]["output"]["details"]["result"]["api_key"] == API_KEY
        shown_log = entries[:4] + entries[5:]
        for who in (alice, bob):  # the owner and a run monitor see the same
            no_secret_in(dict(who.get_run(run_id).data))
            log = list(who.iter_run_logs(run_id))
            assert log == entries
        no_secret_in(shown_log)


def test_private_run_state_is_hidden_at_any_depth_and_still_read_by_paths(stub: FlowsStub) -> None:
    definition = {
        "StartAt": "Keep",
        "States": {
            "Keep": {"Type": "Pass", "Result": {"open": 1, "_private_pin": "4321", "inner": {"_private": {"x": 1}}},
                     "ResultPath": "$.kept", "Next": "Use"},
            "Use": {"Type": "ExpressionEval", "Parameters": {"pin_length.=": "len(kept._private_pin)"},
                    "ResultPath": "$.used", "End": True},
        },
    }
    with client_for(stub, "alice") as alice:
        fid = alice.deploy_flow(definition, "deep private state")["id"]
        run_id = alice.run_flow(fid, None, {"_private_input": "hidden", "plain": "shown"})["run_id"]
        out = output(finish(alice, run_id))
        assert out == {"plain": "shown", "kept": {"open": 1, "inner": {}}, "used": {"pin_length": 4}}
        log = list(alice.iter_run_logs(run_id))
        assert log[0]["code"] == "FlowStarted" and log[0]["details"]["input"] == {"plain": "shown"}
        assert "4321" not in json.dumps(log) and "hidden" not in json.dumps(log)


def test_definition_omits_private_parameters_for_viewers_only(stub: FlowsStub, ap: ActionProviderStub) -> None:
    definition = secret_flow(ap.url)
    with client_for(stub, "alice") as alice, client_for(stub, "bob") as bob, client_for(stub, "carol") as carol:
        fid = alice.deploy_flow(definition, "secrets", flow_viewers=[BOB], flow_administrators=[CAROL])["id"]
        # The owner and an administrator see the definition as written.
        assert alice.get_flow(fid)["definition"] == definition
        assert carol.get_flow(fid)["definition"] == definition
        # A viewer sees it without the private fields and the lists that name them.
        seen = bob.get_flow(fid)["definition"]
        login = seen["States"]["Login"]["Parameters"]
        assert login == {"echo_string": "logging in",
                         "server": {"url": "https://data.example.org", "user.$": "$.user"}}
        assert seen["States"]["Stash"] == definition["States"]["Stash"]  # nothing private there
        listed = [f for f in bob.list_flows(roles=["flow_viewer"])["flows"] if f["id"] == fid]
        assert listed and listed[0]["definition"] == seen

        # The run's definition route follows the caller's role on the flow, too.
        run_id = alice.run_flow(fid, None, SECRET_INPUT, run_monitors=[BOB])["run_id"]
        finish(alice, run_id)
        assert alice.get_run_definition(run_id)["definition"] == definition
        assert bob.get_run_definition(run_id)["definition"] == seen


def test_the_async_client_sees_the_same(stub: FlowsStub, ap: ActionProviderStub) -> None:
    async def go() -> None:
        client = AsyncFlowsClient.new_client(None, lambda **kw: al.BearerTokenAuthorizer("run-alice"),
                                             al.BearerTokenAuthorizer("svc-alice"), base_url=stub.url)
        async with client:
            fid = (await client.deploy_flow(secret_flow(ap.url), "async secrets"))["id"]
            run_id = (await client.run_flow(fid, None, SECRET_INPUT))["run_id"]
            doc = await afinish(client, run_id)
            assert doc["status"] == "SUCCEEDED"
            no_secret_in(doc)
            logs = (await client.get_run_logs(run_id, limit=100))["entries"]
            started = [e for e in logs if e["code"] == "ActionStarted"]
            no_secret_in(started)
            no_secret_in([e for e in logs if e["code"] != "ActionCompleted"])
            assert sent_body(ap, run_id)["server"]["password"] == PASSWORD

    asyncio.run(go())


# ----------------------------------------------------------------------------- the rules themselves


def test_natural_names_and_nested_lists() -> None:
    assert [natural_name(k) for k in ("a.$", "a.=", "a", ".$", "a.b")] == ["a", "a", "a", ".$", "a.b"]
    params = {
        "keep": 1,
        "drop.$": "$.x",
        "items": [{"token.=": "t", "name": "n", "__Private_Parameters": ["token"]}],
        "__Private_Parameters": ["drop", 7],  # a non-string entry names nothing
    }
    assert without_private_parameters(params) == {"keep": 1, "items": [{"name": "n"}]}
    assert without_private_markers(params) == {"keep": 1, "drop.$": "$.x", "items": [{"token.=": "t", "name": "n"}]}
    assert params["__Private_Parameters"] == ["drop", 7]  # the input is left alone
    assert without_private_state([{"_privateX": 1, "x_private": 2}, "_private"]) == [{"x_private": 2}, "_private"]
    assert definition_for_viewer("not a definition") == "not a definition"
    assert definition_for_viewer({"States": {"P": {"Type": "Pass"}}}) == {"States": {"P": {"Type": "Pass"}}}
