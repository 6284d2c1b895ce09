"""ActionClient and AsyncActionClient end to end against the loopback Action Provider.

Every test runs for the sync client and the async client, and for both route styles:
the same assertions hold for all four.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Callable, Iterator

import _drive
import pytest

import automate_lite as al
from automate_lite.testing.action_provider import ActionProviderStub

TOKEN = "tok-alice"
OTHER = "tok-bob"
ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-0000-0000-000000000001"
BOB = "urn:globus:auth:identity:bbbbbbbb-0000-0000-0000-000000000002"


class Driver(_drive.Driver):
    """:class:`_drive.Driver` plus the provider's scope, a property on the sync client."""

    def iter_log(self, action_id: str, **kwargs: Any) -> list[dict[str, Any]]:
        return self.collect("iter_log", action_id, **kwargs)

    def scope(self) -> str:
        return str(self("action_scope") if self.is_async else self.client.action_scope)


@pytest.fixture(scope="module")
def provider() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={TOKEN: ALICE, OTHER: BOB}, prefix="/hello_world") as stub:
        yield stub


@pytest.fixture(params=["sync-legacy", "sync-actions", "async-legacy", "async-actions"])
def drive(request: pytest.FixtureRequest, provider: ActionProviderStub) -> Iterator[Driver]:
    mode, routes = request.param.split("-")
    cls = al.AsyncActionClient if mode == "async" else al.ActionClient
    client = cls.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN), routes=routes)
    yield Driver(client, mode == "async")
    if mode == "async":
        asyncio.run(client.aclose())
    else:
        client.close()


def test_introspect_and_scope(drive: Driver, provider: ActionProviderStub) -> None:
    doc = drive("introspect")
    assert doc.http_status == 200
    assert doc["api_version"] == "1.0"
    assert drive.scope() == provider.state.scope


def test_run_wait_log_release(drive: Driver) -> None:
    started = drive("run", {"echo_string": "hi", "sleep_s": 0.05}, label="demo", tags=["t1"])
    assert started["status"] in ("ACTIVE", "SUCCEEDED")
    assert started["label"] == "demo"
    action_id = started["action_id"]
    final = drive("wait", action_id, timeout=30, initial_delay=0.01, max_delay=0.05)
    assert final["status"] == "SUCCEEDED"
    assert final["details"]["echo_string"] == "hi"
    page = drive("log", action_id, limit=1)
    assert len(page["entries"]) == 1 and page["has_next_page"] is True
    entries = drive.iter_log(action_id, per_page=1)
    codes = [e["code"] for e in entries]
    assert codes[0] == "ActionStarted" and codes[-1] == "ActionSucceeded"
    assert drive.iter_log(action_id, reverse_order=True)[0]["code"] == "ActionSucceeded"
    drive("release", action_id)
    with pytest.raises(al.NotFoundError) as info:
        drive("status", action_id)
    assert info.value.code == "NotFound"


def test_idempotent_rerun(drive: Driver, provider: ActionProviderStub) -> None:
    request_id = str(uuid.uuid4())
    before = provider.state.created_count
    first = drive("run", {"echo_string": "once"}, request_id=request_id)
    again = drive("run", {"echo_string": "once"}, request_id=request_id)
    assert first["action_id"] == again["action_id"]
    assert provider.state.created_count == before + 1
    with pytest.raises(al.ConflictError) as info:
        drive("run", {"echo_string": "different"}, request_id=request_id)
    assert info.value.http_status == 409 and info.value.code == "Conflict"


def test_cancel(drive: Driver) -> None:
    action_id = drive("run", {"sleep_s": 60})["action_id"]
    drive("cancel", action_id)
    final = drive("wait", action_id, timeout=30, initial_delay=0.01)
    assert final["status"] == "FAILED"
    assert final["details"]["code"] == "Canceled"


def test_inactive_then_resume(drive: Driver) -> None:
    action_id = drive("run", {"require_resume": True})["action_id"]
    inactive = drive("wait", action_id, timeout=30, initial_delay=0.01)
    assert inactive["status"] == "INACTIVE"
    assert inactive["details"]["code"] == "ConsentRequired"
    drive("resume", action_id)
    final = drive("wait", action_id, timeout=30, initial_delay=0.01)
    assert final["status"] == "SUCCEEDED"


def test_validation_error_is_422(drive: Driver) -> None:
    with pytest.raises(al.UnprocessableEntityError) as info:
        drive("run", {"sleep_s": "not a number"})
    err = info.value
    assert err.http_status == 422 and err.code == "ValidationError"
    assert "sleep_s" in err.message


def test_someone_elses_action_is_not_found(drive: Driver, provider: ActionProviderStub) -> None:
    bob = al.ActionClient.new_client(provider.url, al.BearerTokenAuthorizer(OTHER))
    theirs = bob.run({"echo_string": "private"})["action_id"]
    with pytest.raises(al.NotFoundError):
        drive("status", theirs)


def test_bad_token_is_401(drive: Driver) -> None:
    client = drive.client.replace(authorizer=al.BearerTokenAuthorizer("wrong"))
    with pytest.raises(al.AuthenticationError) as info:
        Driver(client, drive.is_async)("status", "anything")
    assert info.value.http_status == 401
    assert "wrong" not in str(info.value)


def test_list_actions(drive: Driver) -> None:
    action_id = drive("run", {"require_resume": True})["action_id"]
    listed = drive("list_actions", statuses=["INACTIVE"])
    assert isinstance(listed.data, list)
    assert action_id in [a["action_id"] for a in listed.data]
    assert all(a["status"] == "INACTIVE" for a in listed.data)


def test_aliases_and_force_path(drive: Driver, provider: ActionProviderStub) -> None:
    doc = drive("run", {"echo_string": "x"}, run_monitors=[BOB], run_managers=[BOB])
    assert doc["monitor_by"] == [BOB] and doc["manage_by"] == [BOB]
    forced = drive("run", {"echo_string": "y"}, force_path=provider.url + "/actions")
    assert forced["status"] in ("ACTIVE", "SUCCEEDED")


def test_unknown_route_html_404(provider: ActionProviderStub) -> None:
    client = al.ActionClient.new_client(provider.url + "/nope/deeper", None)
    with pytest.raises(al.NotFoundError) as info:
        client.introspect()
    assert "HTML" in info.value.message


def test_replace_shares_transport_and_rechecks(provider: ActionProviderStub) -> None:
    client = al.ActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN))
    other = client.replace(routes="actions")
    assert other.transport is client.transport
    assert other.ops.routes == "actions"
    with pytest.raises(al.UsageError):
        client.replace(routes="sideways")
    with pytest.raises(AttributeError):
        client.routes = "actions"  # type: ignore[misc]


def test_many_async_actions_at_once(provider: ActionProviderStub) -> None:
    async def main() -> list[str]:
        async with al.AsyncActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN)) as client:
            started = await asyncio.gather(*(client.run({"echo_string": f"n{i}", "sleep_s": 0.05}) for i in range(20)))
            finals = await asyncio.gather(
                *(client.wait(s["action_id"], timeout=30, initial_delay=0.01) for s in started)
            )
            return [f["details"]["echo_string"] for f in finals]

    assert asyncio.run(main()) == [f"n{i}" for i in range(20)]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.status(""),
        lambda c: c.status(".."),
        lambda c: c.status(42),
        lambda c: c.run("not a dict"),
        lambda c: c.run({}, tags="not-a-list"),
        lambda c: c.run({}, manage_by="urn:globus:auth:identity:not-a-list"),
        lambda c: c.run({"x": object()}),
        lambda c: c.log("a", limit=0),
        lambda c: c.wait("a", timeout=-1),
    ],
)
def test_bad_input_fails_before_sending(call: Callable[[al.ActionClient], Any], provider: ActionProviderStub) -> None:
    client = al.ActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN))
    before = provider.state.request_count
    with pytest.raises(al.UsageError) as info:
        call(client)
    assert str(info.value)
    assert provider.state.request_count == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action_url": "not a url"},
        {"action_url": "ftp://example.org/x"},
        {"action_url": "https://example.org/x?q=1"},
        {"action_url": "https://example.org/x", "authorizer": "a-raw-token"},
        {"action_url": "https://example.org/x", "http_timeout": -1},
        {"action_url": "https://example.org/x", "routes": "other"},
    ],
)
def test_bad_construction(kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("authorizer", None)
    with pytest.raises(al.UsageError):
        al.ActionClient(**kwargs)


def test_token_never_over_plain_http_to_remote_host() -> None:
    client = al.ActionClient.new_client("http://example.org/x", al.BearerTokenAuthorizer(TOKEN))
    with pytest.raises(al.UsageError) as info:
        client.status("abc")
    assert "https" in str(info.value) and TOKEN not in str(info.value)


def test_repr_hides_token(provider: ActionProviderStub) -> None:
    client = al.ActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN))
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client.authorizer)
    assert TOKEN not in repr(client.ops.session)
