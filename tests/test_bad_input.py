"""Bad input from the caller: a ``UsageError`` that names the argument, before anything is sent.

Every case runs against a live stand-in and checks that its request count did not move.
Action ids are the exception by design: providers choose them, so any non-empty string
is accepted and percent-encoded as exactly one path segment (shown below too).
"""

from __future__ import annotations

import decimal
import re
import uuid
from typing import Any, Callable, Iterator
from urllib.parse import quote

import pytest

import automate_lite as al
from automate_lite._core.scopes import actions_base_url, flows_base_url
from automate_lite.transports import ThreadedAsyncTransport, Urllib3Transport
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import FlowsStub
from _drive import Driver

TOKEN = "tok-bad-input"
FID = "3b6b1e9a-6b6f-4e3c-9c62-2a7f4d1c0e11"
RID = "0c4d6f2e-2b1a-4c3d-9e8f-7a6b5c4d3e2f"
BODY = {"echo_string": "hi"}
PASS_DEFINITION = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
SAYS_WHAT = re.compile(r"\b(must|should|such as|one of|use|expected|only|wrap|takes|accepts)\b", re.I)


@pytest.fixture(scope="module")
def provider() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={TOKEN: "urn:globus:auth:identity:bad-input"}, prefix="/hello") as ap:
        yield ap


@pytest.fixture(scope="module")
def flows_stub() -> Iterator[FlowsStub]:
    with FlowsStub() as stub:
        yield stub


@pytest.fixture(params=["sync", "async"])
def actions(request: pytest.FixtureRequest, provider: ActionProviderStub) -> Iterator[Driver]:
    cls = al.AsyncActionClient if request.param == "async" else al.ActionClient
    d = Driver(cls.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN)), request.param == "async")
    yield d
    d.close()


@pytest.fixture(params=["sync", "async"])
def flows(request: pytest.FixtureRequest, flows_stub: FlowsStub) -> Iterator[Driver]:
    cls = al.AsyncFlowsClient if request.param == "async" else al.FlowsClient
    d = Driver(cls.new_client(None, None, al.BearerTokenAuthorizer(TOKEN), flows_stub.url), request.param == "async")
    yield d
    d.close()


def expect_usage(call: Callable[[], Any], names: str | tuple[str, ...], sent: Callable[[], int]) -> al.UsageError:
    """``call()`` raises a UsageError naming one of ``names`` and what to pass; nothing is sent."""
    names = (names,) if isinstance(names, str) else names
    before = sent()
    with pytest.raises(al.UsageError) as info:
        call()
    msg = str(info.value)
    assert any(n in msg for n in names), f"the message should name {names}: {msg!r}"
    assert SAYS_WHAT.search(msg), f"the message should say what to pass: {msg!r}"
    assert isinstance(info.value, ValueError)
    assert sent() == before, "a request was sent"
    return info.value


def nothing() -> int:
    return 0


# --------------------------------------------------------------------------- URLs

BAD_URLS = [
    "",
    "not a url",
    "ftp://example.org/hello",
    "https://",
    "//example.org/hello",
    "example.org/hello",
    "https://exa mple.org/hello",
    "https://example.org/hel lo",
    "https://example.org:99999/hello",
    "https://example.org:port/hello",
    "https://example.org/hello?x=1",
    "https://example.org/hello#frag",
    "http://[::1/hello",
    "https://example.org/hello\n",
    None,
    42,
    b"https://example.org/hello",
]


@pytest.mark.parametrize("url", BAD_URLS, ids=repr)
@pytest.mark.parametrize("cls", [al.ActionClient, al.AsyncActionClient], ids=["sync", "async"])
def test_invalid_action_url(cls: Any, url: Any) -> None:
    expect_usage(lambda: cls.new_client(url, al.BearerTokenAuthorizer(TOKEN)), "action_url", nothing)


@pytest.mark.parametrize("url", [u for u in BAD_URLS if u is not None], ids=repr)
@pytest.mark.parametrize("cls", [al.FlowsClient, al.AsyncFlowsClient], ids=["sync", "async"])
def test_invalid_flows_base_url(cls: Any, url: Any) -> None:
    expect_usage(lambda: cls.new_client(None, None, al.BearerTokenAuthorizer(TOKEN), url), "base_url", nothing)


@pytest.mark.parametrize("url", ["https://", "https://exa mple.org/run", "http://example.org:0x50/run"])
def test_invalid_force_path_url(actions: Driver, provider: ActionProviderStub, url: str) -> None:
    expect_usage(lambda: actions("run", BODY, force_path=url), "force_path", lambda: provider.state.request_count)


@pytest.mark.parametrize("variable", ["GLOBUS_SDK_SERVICE_URL_FLOWS", "GLOBUS_AUTOMATE_FLOWS_ENDPOINT"])
def test_invalid_flows_url_in_the_environment(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "flows.example.org")
    expect_usage(lambda: al.FlowsClient.new_client(None, None, None), variable, nothing)


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize("name", ["moon", "MOON", "prod-eu", "sandbox2"])
def test_unknown_environment_name(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", name)
    monkeypatch.delenv("GLOBUS_SDK_SERVICE_URL_FLOWS", raising=False)
    monkeypatch.delenv("GLOBUS_AUTOMATE_FLOWS_ENDPOINT", raising=False)
    for make in (
        lambda: al.FlowsClient.new_client(None, None, al.BearerTokenAuthorizer(TOKEN)),
        lambda: al.AsyncFlowsClient.new_client(None, None, al.BearerTokenAuthorizer(TOKEN)),
        lambda: flows_base_url(),
        lambda: actions_base_url(),
    ):
        err = expect_usage(make, "GLOBUS_SDK_ENVIRONMENT", nothing)
        assert name in str(err)
        assert "sandbox" in str(err) and "production" in str(err)  # lists what would work


def test_known_environment_names_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLOBUS_SDK_SERVICE_URL_FLOWS", raising=False)
    monkeypatch.delenv("GLOBUS_AUTOMATE_FLOWS_ENDPOINT", raising=False)
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", " Sandbox ")
    assert flows_base_url() == "https://sandbox.flows.automate.globus.org"
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", "production")
    assert flows_base_url() == "https://flows.automate.globus.org"


# --------------------------------------------------------------------------- ids

# Opaque action ids: anything non-empty is sent, percent-encoded as one path segment.
ODD_ACTION_IDS = ["a/b", "a b", "../x", "a?b=c", "a#b", "%2F", "a\\b", "ü/✓", "a;b"]


@pytest.mark.parametrize("action_id", ODD_ACTION_IDS)
def test_odd_action_ids_are_encoded_as_one_segment(actions: Driver, provider: ActionProviderStub, action_id: str) -> None:
    before = provider.state.request_count
    with pytest.raises(al.NotFoundError) as info:
        actions("status", action_id)
    assert provider.state.request_count == before + 1
    last = provider.state.requests[-1]
    assert last.path == f"/hello/{quote(action_id, safe='')}/status"
    assert repr(action_id) in str(info.value)  # the provider saw the id as given


@pytest.mark.parametrize("action_id", ["", ".", "..", None, 5, uuid.UUID(RID), ["a"]], ids=repr)
@pytest.mark.parametrize("method", ["status", "cancel", "release", "resume", "log"])
def test_unusable_action_ids(actions: Driver, provider: ActionProviderStub, method: str, action_id: Any) -> None:
    expect_usage(lambda: actions(method, action_id), "action_id", lambda: provider.state.request_count)


def test_unusable_action_id_for_wait_and_iter_log(actions: Driver, provider: ActionProviderStub) -> None:
    count = lambda: provider.state.request_count  # noqa: E731
    expect_usage(lambda: actions("wait", "..", timeout=1), "action_id", count)
    expect_usage(lambda: actions.collect("iter_log", ""), "action_id", count)


BAD_UUIDS = [
    "abc",
    "not-a-uuid",
    f"{FID}/../x",
    f"{FID}/runs",
    f"{FID} ",
    f" {FID}",
    FID.replace("-", " "),
    FID[:-1],
    f"{FID}?x=1",
    "",
    None,
    5,
]


@pytest.mark.parametrize("bad", BAD_UUIDS, ids=repr)
def test_flow_ids_must_be_uuids(flows: Driver, flows_stub: FlowsStub, bad: Any) -> None:
    count = lambda: len(flows_stub.state.requests)  # noqa: E731
    for call in (
        lambda: flows("get_flow", bad),
        lambda: flows("delete_flow", bad),
        lambda: flows("run_flow", bad, None, {}),
        lambda: flows("validate_run", bad, {}),
        # (flow_id=None is documented for list_flow_runs: every run)
        *([lambda: flows("list_flow_runs", flow_id=bad)] if bad is not None else []),
        lambda: flows("flow_action_status", bad, None, RID),
        lambda: flows("update_flow", bad, title="x"),
    ):
        expect_usage(call, "flow_id", count)


@pytest.mark.parametrize("bad", BAD_UUIDS, ids=repr)
def test_run_ids_must_be_uuids(flows: Driver, flows_stub: FlowsStub, bad: Any) -> None:
    count = lambda: len(flows_stub.state.requests)  # noqa: E731
    for call in (
        lambda: flows("get_run", bad),
        lambda: flows("get_run_definition", bad),
        lambda: flows("get_run_logs", bad),
        lambda: flows("cancel_run", bad),
        lambda: flows("release_run", bad),
        lambda: flows("resume_run", bad),
        lambda: flows("update_run", bad, label="x"),
        lambda: flows("wait_for_run", bad, timeout=1),
    ):
        expect_usage(call, "run_id", count)
    for call in (
        lambda: flows("flow_action_status", FID, None, bad),
        lambda: flows("flow_action_cancel", FID, None, bad),
        lambda: flows("flow_action_log", FID, None, bad),
    ):
        expect_usage(call, ("flow_action_id", "run_id"), count)


# --------------------------------------------------------------------------- bodies


def circular() -> dict[str, Any]:
    d: dict[str, Any] = {}
    d["self"] = d
    return d


def deep(depth: int = 100_000) -> dict[str, Any]:
    d: dict[str, Any] = {}
    cur = d
    for _ in range(depth):
        cur["a"] = {}
        cur = cur["a"]
    return d


NOT_JSON = [
    pytest.param({"x": object()}, id="object"),
    pytest.param({"x": {1, 2}}, id="set"),
    pytest.param({"x": b"bytes"}, id="bytes"),
    pytest.param({"x": decimal.Decimal("1.5")}, id="decimal"),
    pytest.param({"x": float("nan")}, id="nan"),
    pytest.param({"x": float("inf")}, id="infinity"),
    pytest.param({(1, 2): "tuple key"}, id="tuple-key"),
    pytest.param({"x": "\ud800"}, id="lone-surrogate"),
    pytest.param(circular(), id="circular"),
    pytest.param(deep(), id="too-deep"),
]


@pytest.mark.parametrize("body", NOT_JSON)
def test_action_body_must_be_json(actions: Driver, provider: ActionProviderStub, body: Any) -> None:
    expect_usage(lambda: actions("run", body), "body", lambda: provider.state.request_count)


@pytest.mark.parametrize("body", NOT_JSON)
def test_flow_input_must_be_json(flows: Driver, flows_stub: FlowsStub, body: Any) -> None:
    expect_usage(lambda: flows("run_flow", FID, None, body), "flow_input", lambda: len(flows_stub.state.requests))


@pytest.mark.parametrize("value", [object(), float("nan"), {1, 2}], ids=["object", "nan", "set"])
def test_flow_definition_must_be_json(flows: Driver, flows_stub: FlowsStub, value: Any) -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, "Result": value}}}
    count = lambda: len(flows_stub.state.requests)  # noqa: E731
    expect_usage(lambda: flows("create_flow", "t", definition), "definition", count)
    expect_usage(lambda: flows("create_flow", "t", definition, validate_definition=False), "definition", count)
    expect_usage(lambda: flows("validate_flow", definition), "definition", count)


# --------------------------------------------------------------------------- wrong types


def test_client_constructor_arguments(provider: ActionProviderStub) -> None:
    url, auth = provider.url, al.BearerTokenAuthorizer(TOKEN)
    for cls in (al.ActionClient, al.AsyncActionClient):
        expect_usage(lambda: cls.new_client(url, TOKEN), "authorizer", nothing)  # type: ignore[arg-type]
        expect_usage(lambda: cls.new_client(url, object()), "authorizer", nothing)  # type: ignore[arg-type]
        for timeout in ("10", -1, 0, True, [10]):
            expect_usage(lambda: cls.new_client(url, auth, timeout), "http_timeout", nothing)  # type: ignore[arg-type]
        expect_usage(lambda: cls.new_client(url, auth, routes="new"), "routes", nothing)  # type: ignore[arg-type]
        expect_usage(lambda: cls.new_client(url, auth, retry=3), "retry", nothing)  # type: ignore[arg-type]
        expect_usage(lambda: cls(url, auth, extra_headers={"X-Count": 3}), "extra_headers", nothing)  # type: ignore[dict-item]
    for fcls in (al.FlowsClient, al.AsyncFlowsClient):
        expect_usage(lambda: fcls.new_client(5, None, auth, provider.url), "client_id", nothing)  # type: ignore[arg-type]
        expect_usage(lambda: fcls.new_client(None, "callback", auth, provider.url), "authorizer_callback", nothing)  # type: ignore[arg-type]
        expect_usage(lambda: fcls.new_client(None, None, TOKEN, provider.url), "authorizer", nothing)  # type: ignore[arg-type]
        expect_usage(lambda: fcls.new_client(None, None, auth, provider.url, "10"), "http_timeout", nothing)  # type: ignore[arg-type]
        expect_usage(lambda: fcls.new_client(None, None, auth, provider.url, retry=None), "retry", nothing)  # type: ignore[arg-type]


def test_helper_object_arguments() -> None:
    expect_usage(lambda: al.BearerTokenAuthorizer(""), "access_token", nothing)
    expect_usage(lambda: al.BearerTokenAuthorizer(None), "access_token", nothing)  # type: ignore[arg-type]
    expect_usage(lambda: al.RetryPolicy(max_attempts=0), "max_attempts", nothing)
    expect_usage(lambda: al.RetryPolicy(max_attempts=2.5), "max_attempts", nothing)  # type: ignore[arg-type]
    expect_usage(lambda: al.RetryPolicy(backoff_base=-1), "backoff_base", nothing)
    expect_usage(lambda: al.RetryPolicy(retry_after_max="60"), "retry_after_max", nothing)  # type: ignore[arg-type]
    expect_usage(lambda: Urllib3Transport(maxsize=0), "maxsize", nothing)
    expect_usage(lambda: Urllib3Transport(ca_certs="/no/such/bundle.pem"), "ca_certs", nothing)
    expect_usage(lambda: ThreadedAsyncTransport(max_concurrency=0), "max_concurrency", nothing)


ACTION_CALLS: list[tuple[str, Callable[[Driver], Any]]] = [
    ("body", lambda d: d("run", [1, 2])),
    ("body", lambda d: d("run", "echo")),
    ("request_id", lambda d: d("run", BODY, request_id=5)),
    ("request_id", lambda d: d("run", BODY, request_id="")),
    ("label", lambda d: d("run", BODY, label=5)),
    ("tags", lambda d: d("run", BODY, tags="one-tag")),
    ("tags", lambda d: d("run", BODY, tags=[1])),
    ("manage_by", lambda d: d("run", BODY, manage_by="urn:globus:auth:identity:x")),
    ("monitor_by", lambda d: d("run", BODY, monitor_by=[None])),
    ("run_managers", lambda d: d("run", BODY, run_managers=5)),
    ("release_after", lambda d: d("run", BODY, release_after=1.5)),
    ("force_path", lambda d: d("run", BODY, force_path=5)),
    ("additional_fields", lambda d: d("run", BODY, additional_fields=[1])),
    ("limit", lambda d: d("log", "abc", limit="10")),
    ("limit", lambda d: d("log", "abc", limit=0)),
    ("limit", lambda d: d("log", "abc", limit=True)),
    ("per_page", lambda d: d("log", "abc", per_page=0)),
    ("marker", lambda d: d("log", "abc", marker=5)),
    ("timeout", lambda d: d("wait", "abc", timeout="soon")),
    ("timeout", lambda d: d("wait", "abc", timeout=-1)),
    ("initial_delay", lambda d: d("wait", "abc", initial_delay=0)),
    ("max_delay", lambda d: d("wait", "abc", initial_delay=5, max_delay=1)),
    ("statuses", lambda d: d("list_actions", statuses="ACTIVE")),
    ("roles", lambda d: d("list_actions", roles=5)),
]


@pytest.mark.parametrize(("name", "call"), ACTION_CALLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ACTION_CALLS)])
def test_action_method_arguments(actions: Driver, provider: ActionProviderStub, name: str, call: Callable[[Driver], Any]) -> None:
    expect_usage(lambda: call(actions), name, lambda: provider.state.request_count)


FLOW_CALLS: list[tuple[str, Callable[[Driver], Any]]] = [
    ("flow_input", lambda d: d("run_flow", FID, None, "input")),
    ("flow_input", lambda d: d("run_flow", FID, None, [1])),
    ("flow_scope", lambda d: d("run_flow", FID, 5, {})),
    ("label", lambda d: d("run_flow", FID, None, {}, label=5)),
    ("tags", lambda d: d("run_flow", FID, None, {}, tags=5)),
    ("run_managers", lambda d: d("run_flow", FID, None, {}, run_managers=[5])),
    ("activity_notification_policy", lambda d: d("run_flow", FID, None, {}, activity_notification_policy="INACTIVE")),
    ("additional_fields", lambda d: d("run_flow", FID, None, {}, additional_fields=[1])),
    ("title", lambda d: d("create_flow", "", PASS_DEFINITION)),
    ("title", lambda d: d("create_flow", None, PASS_DEFINITION)),
    ("definition", lambda d: d("create_flow", "t", "definition")),
    ("input_schema", lambda d: d("create_flow", "t", PASS_DEFINITION, input_schema="schema")),
    ("flow_viewers", lambda d: d("create_flow", "t", PASS_DEFINITION, flow_viewers=[5])),
    ("include_flow_description", lambda d: d("get_run", RID, include_flow_description="yes")),
    ("limit", lambda d: d("get_run_logs", RID, limit=0)),
    ("marker", lambda d: d("get_run_logs", RID, marker=5)),
    ("label", lambda d: d("update_run", RID, label=5)),
    ("timeout", lambda d: d("wait_for_run", RID, timeout=-1)),
    ("per_page", lambda d: d("list_flows", per_page=0)),
    ("per_page", lambda d: d("list_runs", per_page="10")),
]


@pytest.mark.parametrize(("name", "call"), FLOW_CALLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FLOW_CALLS)])
def test_flow_method_arguments(flows: Driver, flows_stub: FlowsStub, name: str, call: Callable[[Driver], Any]) -> None:
    expect_usage(lambda: call(flows), name, lambda: len(flows_stub.state.requests))


def test_authorizer_callback_returning_a_token_string(flows_stub: FlowsStub) -> None:
    def callback(**_: Any) -> Any:
        return TOKEN  # a token, not an authorizer

    client = al.FlowsClient.new_client(None, callback, al.BearerTokenAuthorizer(TOKEN), flows_stub.url)
    with client:
        err = expect_usage(lambda: client.run_flow(FID, None, {}), "authorizer_callback", lambda: len(flows_stub.state.requests))
    assert TOKEN not in str(err)
