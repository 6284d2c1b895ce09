"""The Action Provider clients as bound from their operations: frozen dataclasses,
signatures without Any or **kwargs, the escape hatch, listings, on_update, pickling."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import pickle
import typing
from typing import Any, Iterator

import pytest

import automate_lite as al
from automate_lite.testing.action_provider import ActionProviderStub

TOKEN = "tok-alice"
ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-0000-0000-000000000001"
CLIENTS = (al.ActionClient, al.AsyncActionClient)


@pytest.fixture(scope="module")
def provider() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={TOKEN: ALICE}, prefix="/hello_world") as stub:
        yield stub


def _has_bare_any(hint: object) -> bool:
    if hint is Any:
        return True
    return typing.get_origin(hint) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and any(
        a is Any for a in typing.get_args(hint)
    )


@pytest.mark.parametrize("cls", CLIENTS)
def test_every_operation_is_bound_with_its_own_signature(cls: type) -> None:
    ops = [n for n, f in vars(al.ActionOps).items() if callable(f) and not n.startswith("_")]
    for name in ops + ["request", "get", "post", "put", "patch", "delete"]:
        method = getattr(cls, name)
        op = getattr(al.ActionOps, name)
        assert list(inspect.signature(method).parameters) == list(inspect.signature(op).parameters), name
        assert method.__doc__ == op.__doc__ and method.__name__ == name
        hints = typing.get_type_hints(method)
        assert not [p for p, h in hints.items() if _has_bare_any(h)], name
        kinds = {p.kind for p in inspect.signature(method).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds and inspect.Parameter.VAR_POSITIONAL not in kinds, name


def test_original_positional_order_of_run() -> None:
    params = list(inspect.signature(al.ActionClient.run).parameters)
    assert params[:8] == ["self", "body", "request_id", "manage_by", "monitor_by", "label", "tags", "force_path"]


@pytest.mark.parametrize("cls", CLIENTS)
def test_clients_are_frozen_dataclasses(cls: Any, provider: ActionProviderStub) -> None:
    client = cls.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN))
    assert dataclasses.is_dataclass(client)
    assert [f.name for f in dataclasses.fields(client) if f.init][:3] == ["action_url", "authorizer", "http_timeout"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        client.http_timeout = 3
    other = dataclasses.replace(client, http_timeout=30)
    assert other.http_timeout == 30.0 and other.transport is client.transport and client.http_timeout == 10.0
    with pytest.raises(al.UsageError):
        client.replace(routes="sideways")
    with pytest.raises(al.UsageError, match="no field"):
        client.replace(base_url="x")


def test_escape_hatch_listing_and_on_update(provider: ActionProviderStub) -> None:
    with al.ActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN), routes="actions") as client:
        assert client.get("/")["api_version"] == "1.0"
        started = client.post("/actions", data={"request_id": "r-1", "body": {"echo_string": "raw"}})
        aid = started["action_id"]
        assert client.request("GET", f"/actions/{aid}")["action_id"] == aid
        with pytest.raises(al.NotFoundError):
            client.get("/actions/no-such-action")
        seen: list[tuple[str, Any]] = []
        final = client.wait(aid, timeout=30, initial_delay=0.01, max_delay=0.05, on_update=lambda k, d: seen.append((k, d)))
        assert final["status"] == "SUCCEEDED"
        assert seen[0][0] == "status" and seen[-1] == ("status", final.data) or seen[-1][0] == "log"
        codes = [d["code"] for k, d in seen if k == "log"]
        assert codes[0] == "ActionStarted" and codes[-1] == "ActionSucceeded" and len(codes) == len(set(codes))
        assert [e["code"] for e in client.log(aid, limit=100)] == codes
        assert aid in [a["action_id"] for a in client.list_actions()]


def test_async_on_update_may_be_async(provider: ActionProviderStub) -> None:
    seen: list[str] = []

    async def on_update(kind: str, data: Any) -> None:
        await asyncio.sleep(0)
        seen.append(kind)

    async def main() -> str:
        async with al.AsyncActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN)) as client:
            aid = (await client.run({"echo_string": "a"}))["action_id"]
            done = await client.wait(aid, timeout=30, initial_delay=0.01, on_update=on_update)
            assert (await client.get("/"))["api_version"] == "1.0"
            return str(done["status"])

    assert asyncio.run(main()) == "SUCCEEDED"
    assert "status" in seen and "log" in seen


class _PicklableTransport:
    def send(self, request: al.Request, timeout: float | None) -> al.Response:
        return al.Response(200, {}, b'{"ok": true}')


def test_pickle_and_unpicklable_authorizer_named() -> None:
    client = al.ActionClient("https://actions.example.org/x", al.BearerTokenAuthorizer(TOKEN), transport=_PicklableTransport())
    copy = pickle.loads(pickle.dumps(client))
    assert copy.action_url == client.action_url and copy.authorizer.access_token == TOKEN
    assert copy.status("a")["ok"] is True

    class Local:
        def get_authorization_header(self) -> str:
            return "Bearer x"

        def handle_missing_authorization(self) -> bool:
            return False

    bad = client.replace(authorizer=Local())
    with pytest.raises(TypeError, match="authorizer"):
        pickle.dumps(bad)


def test_use_temporary_authorizer_yields_a_new_client() -> None:
    client = al.ActionClient("https://actions.example.org/x", None, transport=_PicklableTransport())
    auth = al.BearerTokenAuthorizer(TOKEN)
    with client.use_temporary_authorizer(auth) as temp:
        assert temp.authorizer is auth and client.authorizer is None


def test_identity_lists_checked_alike_for_actions_and_flows() -> None:
    fc = al.FlowsClient(authorizer=None, transport=_PicklableTransport())
    ac = al.ActionClient("https://actions.example.org/x", None, transport=_PicklableTransport())
    fid = "3b6b1e9a-6b6f-4e3c-9c62-2a7f4d1c0e11"
    with pytest.raises(al.UsageError, match="list of strings") as flows_error:
        fc.run_flow(fid, None, {}, run_managers="urn:globus:auth:identity:x")
    with pytest.raises(al.UsageError, match="list of strings") as action_error:
        ac.run({}, manage_by="urn:globus:auth:identity:x")
    assert str(flows_error.value).split(" must")[1] == str(action_error.value).split(" must")[1]


def test_login_default_scopes_drop_run() -> None:
    assert al.RUN_FLOWS_SCOPE not in al.ALL_FLOW_SCOPES
