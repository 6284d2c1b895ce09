"""create_action_client / create_flows_client (and async twins) end to end on 127.0.0.1:
the Auth stand-in, the Action Provider and Flows stand-ins, and a service asking for consent."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Iterator

import pytest
from fauxbus_helpers import DEP_SCOPE, StubBrowser, auth, browser, isolated_home, query_of, token_path  # noqa: F401

import automate_lite as al
from automate_lite.extras import (
    LoginFailed,
    LoginManager,
    LoginRequired,
    create_action_client,
    create_async_action_client,
    create_async_flows_client,
    create_flows_client,
)
from automate_lite.testing._server import App, Reply, StubRequest, StubServer
from automate_lite.testing.action_provider import DEFAULT_SCOPE, ActionProviderStub
from automate_lite.testing.auth import AuthStub
from automate_lite.testing.flows import FlowsStub

ALICE = "urn:globus:auth:identity:a11ce000-0000-4000-8000-000000000001"
HELLO = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": True}}}


@pytest.fixture
def provider(auth: AuthStub) -> Iterator[ActionProviderStub]:
    """The Action Provider stand-in, accepting every token the Auth stand-in issues."""
    with ActionProviderStub(tokens={}, prefix="/hello_world") as ap:
        auth.state.on_issue.append(lambda tok, scopes, identity: ap.state.tokens.__setitem__(tok, ALICE))  # type: ignore[union-attr]
        yield ap


def opts(auth: AuthStub, token_path: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("login", "browser")
    return dict(token_file=token_path, auth_base_url=auth.url, **kw)


# -- Action Providers ---------------------------------------------------------------------


def test_create_action_client_introspects_logs_in_and_runs(auth: AuthStub, browser: StubBrowser, token_path: str,
                                                           provider: ActionProviderStub) -> None:
    client = create_action_client(provider.url, **opts(auth, token_path))
    assert isinstance(client, al.ActionClient)
    # The scope came from introspection, asked without a token.
    intro = provider.state.requests[0]
    assert intro.method == "GET" and "authorization" not in intro.headers
    assert client.action_scope == DEFAULT_SCOPE
    assert browser.scopes == [DEFAULT_SCOPE + " openid"]
    started = client.run({"echo_string": "hi"})
    final = client.wait(started["action_id"], timeout=30, initial_delay=0.01)
    assert final["status"] == "SUCCEEDED" and final["details"]["echo_string"] == "hi"
    assert provider.state.requests[-1].bearer_token == auth.state.latest_access_token(DEFAULT_SCOPE)
    # A second client (another program) uses the stored tokens: no login, no prompt.
    again = create_action_client(provider.url, DEFAULT_SCOPE, **opts(auth, token_path, login="never"))
    assert again.status(started["action_id"])["status"] == "SUCCEEDED"
    assert auth.state.authorize_count == 1


def test_action_client_refreshes_expired_and_rejected_tokens(auth: AuthStub, browser: StubBrowser, token_path: str,
                                                             provider: ActionProviderStub) -> None:
    auth.state.expires_in = 0
    client = create_action_client(provider.url, DEFAULT_SCOPE, **opts(auth, token_path))
    auth.state.expires_in = 3600
    action_id = client.run({})["action_id"]
    assert auth.state.refresh_count == 1  # refreshed before the request, not after a 401
    # The provider stops accepting the token (revoked): 401, one refresh, one retry.
    provider.state.tokens.clear()  # type: ignore[union-attr]
    assert client.status(action_id)["action_id"] == action_id
    assert auth.state.refresh_count == 2
    assert [r.bearer_token for r in provider.state.requests[-2:]] != [None, None]


def test_introspection_failure_says_to_pass_the_scope(auth: AuthStub, token_path: str) -> None:
    app = App()
    app.add("GET", "/", lambda req: Reply.json({"code": "AuthenticationRequired", "description": "no"}, 401))
    with StubServer(app) as server:
        with pytest.raises(al.UsageError, match="action_scope=") as info:
            create_action_client(server.url, **opts(auth, token_path))
    assert "401" in str(info.value)
    assert auth.state.authorize_count == 0


class ConsentService:
    """A tiny provider that wants ``SCOPE[DEP]``: a token for plain ``SCOPE`` gets a
    ConsentRequired (once per token), or a session-policy error when told to."""

    SCOPE = "https://auth.globus.org/scopes/c0c0c0c0-0000-4000-8000-000000000000/action_all"
    FULL = f"{SCOPE}[{DEP_SCOPE}]"

    def __init__(self, auth: AuthStub, policy: bool = False) -> None:
        self.tokens: dict[str, list[str]] = {}
        self.seen: list[str | None] = []
        self.policy = policy
        self.policy_answered = False
        auth.state.on_issue.append(lambda tok, scopes, identity: self.tokens.__setitem__(tok, list(scopes)))
        app = App()
        app.add("GET", "/", lambda req: Reply.json({"globus_auth_scope": self.SCOPE, "title": "consent"}))
        app.add("POST", "/run", self.run)
        self.server = StubServer(app).start()

    def run(self, req: StubRequest) -> Reply:
        self.seen.append(req.bearer_token)
        scopes = self.tokens.get(req.bearer_token or "")
        if scopes is None:
            return Reply.json({"code": "AuthenticationFailed", "description": "bad token"}, 401)
        if self.policy and not self.policy_answered:
            self.policy_answered = True
            return Reply.json({
                "code": "AuthenticationPolicyRequired",
                "description": "a session meeting policy pol-1 is required",
                "authorization_parameters": {"session_required_policies": ["pol-1"], "session_message": "MFA please"},
            }, 403)
        if not self.policy and self.FULL not in scopes:
            return Reply.json({
                "code": "ConsentRequired",
                "description": "Missing required consent for a dependent scope",
                "authorization_parameters": {"required_scopes": [self.FULL], "session_message": "consent please"},
                "error": {"code": "CONSENT_REQUIRED", "detail": "more consent is needed"},
            }, 403)
        return Reply.json({"action_id": "a-1", "status": "SUCCEEDED", "details": {}}, 202)


@pytest.fixture
def consent(auth: AuthStub) -> Iterator[ConsentService]:
    svc = ConsentService(auth)
    yield svc
    svc.server.stop()


def test_consent_required_logs_in_for_exactly_what_it_names_and_retries(
    auth: AuthStub, browser: StubBrowser, token_path: str, consent: ConsentService
) -> None:
    client = create_action_client(consent.server.url, **opts(auth, token_path))
    assert browser.scopes == [consent.SCOPE + " openid"]
    result = client.run({"x": 1})
    assert result["status"] == "SUCCEEDED"
    # One more login, for exactly the scope the service named; then one retry.
    assert browser.scopes == [consent.SCOPE + " openid", consent.FULL + " openid"]
    assert auth.state.authorize_count == 2
    assert len(consent.seen) == 2 and consent.seen[0] != consent.seen[1]
    assert consent.seen[1] == auth.state.latest_access_token(consent.SCOPE)
    # The consent is remembered: other programs get the new token from the file.
    later = create_action_client(consent.server.url, consent.FULL, **opts(auth, token_path, login="never"))
    assert later.run({})["status"] == "SUCCEEDED"
    assert auth.state.authorize_count == 2


def test_consent_required_in_no_login_mode_reaches_the_caller(
    auth: AuthStub, browser: StubBrowser, token_path: str, consent: ConsentService
) -> None:
    create_action_client(consent.server.url, **opts(auth, token_path))  # logged in once, interactively
    strict = create_action_client(consent.server.url, **opts(auth, token_path, login="never"))
    with pytest.raises(al.PermissionDeniedError) as info:
        strict.run({})
    err = info.value
    assert err.code == "ConsentRequired" and err.is_consent_required
    assert err.required_scopes == [consent.FULL]
    assert auth.state.authorize_count == 1 and len(consent.seen) == 1


def test_session_policy_error_logs_in_with_the_policy(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    svc = ConsentService(auth, policy=True)
    try:
        client = create_action_client(svc.server.url, **opts(auth, token_path))
        assert client.run({})["status"] == "SUCCEEDED"
    finally:
        svc.server.stop()
    q = auth.state.authorize_requests[-1]
    assert auth.state.authorize_count == 2
    assert q["scope"] == svc.SCOPE + " openid"  # the error named no scope: the client's own
    assert q["session_required_policies"] == "pol-1" and q["session_message"] == "MFA please"


def test_a_failed_consent_login_reaches_the_caller(auth: AuthStub, browser: StubBrowser, token_path: str,
                                                   consent: ConsentService) -> None:
    client = create_action_client(consent.server.url, **opts(auth, token_path))
    auth.state.deny_next = ("access_denied", "no consent today")
    with pytest.raises(LoginFailed) as info:
        client.run({})
    assert isinstance(info.value.__cause__, al.PermissionDeniedError)
    assert info.value.__cause__.required_scopes == [consent.FULL]


# -- Flows -------------------------------------------------------------------------------------


@pytest.fixture
def flows(auth: AuthStub) -> Iterator[FlowsStub]:
    """The Flows stand-in, told about every token the Auth stand-in issues."""
    with FlowsStub(tokens={}, flow_tokens={}, consent_required_once=False) as stub:

        def accept(tok: str, scopes: Any, identity: str) -> None:
            for scope in scopes:
                if scope.endswith("_user"):  # a flow's own scope
                    stub.issue_flow_token(scope.split("/")[4], identity, tok)
                else:  # a Flows service scope: there is no public hook for service tokens
                    stub.add_token(tok, "urn:globus:auth:identity:" + identity)

        auth.state.on_issue.append(accept)
        yield stub


def test_create_flows_client_end_to_end(auth: AuthStub, browser: StubBrowser, token_path: str, flows: FlowsStub) -> None:
    fc = create_flows_client(base_url=flows.url, **opts(auth, token_path))
    # One login for all five service scopes together.
    assert auth.state.authorize_count == 1
    assert browser.scopes[0].split() == [*al.ALL_FLOW_SCOPES, "openid"]
    flow = fc.deploy_flow(HELLO, "hello", input_schema={})
    assert fc.get_flow(flow["id"])["id"] == flow["id"]
    # Running a flow never run before: the default callback logs in for its own scope.
    run = fc.run_flow(flow["id"], None, {"echo_string": "hi"}, label="first")
    assert browser.scopes[-1] == al.flow_scope(flow["id"]) + " openid"
    assert auth.state.authorize_count == 2
    final = fc.wait_for_run(run["run_id"], timeout=30, initial_delay=0.01)
    assert final["status"] == "SUCCEEDED"
    fc.run_flow(flow["id"], None, {}, label="second")  # the flow's token is remembered
    assert auth.state.authorize_count == 2
    # The service asks for consent on the next run: one login for what it names, one retry.
    flows.require_consent(flow["id"])
    third = fc.run_flow(flow["id"], None, {}, label="third")
    assert third["status"] in ("ACTIVE", "SUCCEEDED")
    assert auth.state.authorize_count == 3 and browser.scopes[-1] == al.flow_scope(flow["id"]) + " openid"
    # Another program, in no-login mode, runs it with what is stored.
    other = create_flows_client(base_url=flows.url, **opts(auth, token_path, login="never"))
    assert other.run_flow(flow["id"], None, {}, label="fourth")["label"] == "fourth"
    assert auth.state.authorize_count == 3
    # In no-login mode a consent requirement reaches the caller.
    flows.require_consent(flow["id"])
    with pytest.raises(al.PermissionDeniedError) as info:
        other.run_flow(flow["id"], None, {})
    assert info.value.required_scopes == [al.flow_scope(flow["id"])]
    # And a flow never logged in for names its scope.
    second = fc.deploy_flow(HELLO, "second", input_schema={})
    with pytest.raises(LoginRequired) as missing:
        other.run_flow(second["id"], None, {})
    assert missing.value.scopes == [al.flow_scope(second["id"])]


def test_create_flows_client_keeps_given_authorizers(auth: AuthStub, browser: StubBrowser, token_path: str,
                                                     flows: FlowsStub) -> None:
    flows.add_token("svc-given", ALICE)
    calls: list[dict[str, Any]] = []

    def callback(**kw: Any) -> al.BearerTokenAuthorizer:
        calls.append(kw)
        return al.BearerTokenAuthorizer(flows.issue_flow_token(kw["flow_scope"].split("/")[4], ALICE))

    fc = create_flows_client("my-client", flows.url, authorizer=al.BearerTokenAuthorizer("svc-given"),
                             authorizer_callback=callback, **opts(auth, token_path))
    flow = fc.deploy_flow(HELLO, "given", input_schema={})
    fc.run_flow(flow["id"], None, {})
    assert auth.state.authorize_count == 0
    assert calls[0]["client_id"] == "my-client" and calls[0]["flow_scope"] == al.flow_scope(flow["id"])


# -- async twins --------------------------------------------------------------------------------


def _loop_must_answer(browser: StubBrowser, loop_box: list[asyncio.AbstractEventLoop]) -> list[bool]:
    """Make the browser (which runs inside the login) need the event loop to answer:
    if the login ran on the loop's thread, the loop could not, and this would fail."""
    answered: list[bool] = []

    def before() -> None:
        done = threading.Event()
        loop_box[0].call_soon_threadsafe(done.set)
        answered.append(done.wait(30))

    browser.before = before
    return answered


def test_async_action_client_logs_in_off_the_event_loop(auth: AuthStub, browser: StubBrowser, token_path: str,
                                                        provider: ActionProviderStub) -> None:
    loop_box: list[asyncio.AbstractEventLoop] = []
    answered = _loop_must_answer(browser, loop_box)

    async def main() -> str:
        loop_box.append(asyncio.get_running_loop())
        async with await create_async_action_client(provider.url, **opts(auth, token_path)) as client:
            assert isinstance(client, al.AsyncActionClient)
            assert await client.action_scope() == DEFAULT_SCOPE
            started = await asyncio.gather(*(client.run({"echo_string": str(i)}) for i in range(5)))
            finals = await asyncio.gather(*(client.wait(s["action_id"], timeout=30, initial_delay=0.01) for s in started))
            return ",".join(f["status"] for f in finals)

    assert asyncio.run(main()) == ",".join(["SUCCEEDED"] * 5)
    assert answered == [True]
    assert auth.state.authorize_count == 1


def test_async_flows_client_end_to_end(auth: AuthStub, browser: StubBrowser, token_path: str, flows: FlowsStub) -> None:
    loop_box: list[asyncio.AbstractEventLoop] = []
    answered = _loop_must_answer(browser, loop_box)

    async def main() -> str:
        loop_box.append(asyncio.get_running_loop())
        async with await create_async_flows_client(base_url=flows.url, **opts(auth, token_path)) as fc:
            assert isinstance(fc, al.AsyncFlowsClient)
            flow = await fc.deploy_flow(HELLO, "async hello", input_schema={})
            run = await fc.run_flow(flow["id"], None, {}, label="async")
            final = await fc.wait_for_run(run["run_id"], timeout=30, initial_delay=0.01)
            return str(final["status"])

    assert asyncio.run(main()) == "SUCCEEDED"
    assert answered == [True, True]  # the service login and the flow's own
    assert auth.state.authorize_count == 2


def test_one_manager_shared_by_clients(auth: AuthStub, browser: StubBrowser, token_path: str,
                                       provider: ActionProviderStub, flows: FlowsStub) -> None:
    manager = LoginManager(token_file=token_path, auth_base_url=auth.url, login="browser")
    a = create_action_client(provider.url, manager=manager)
    f = create_flows_client(base_url=flows.url, manager=manager)
    assert a.action_scope == DEFAULT_SCOPE and f.list_flows()["flows"] == []
    assert auth.state.authorize_count == 2
    with pytest.raises(al.UsageError):
        create_action_client(provider.url, manager="nope")  # type: ignore[arg-type]
