"""The README as a new user meets it: every ```python block runs, and does what it says.

Each block is taken from README.md as it stands and run, section by section (the blocks
of one section share one namespace, as a reader types them one after the other), against
stand-ins this test starts on 127.0.0.1. What is substituted, and nothing else:

* **URLs**: a production URL written in an example (``https://actions.globus.org/...``)
  is replaced, as text, by the loopback URL of the matching stand-in (``URLS`` below);
  the Flows and Auth base URLs come from the environment variables the SDK already reads
  (``GLOBUS_SDK_SERVICE_URL_FLOWS``, ``GLOBUS_SDK_SERVICE_URL_AUTH``).
* **Names the README leaves to the reader** (``token``, ``url``, ``CLIENT_ID``,
  ``definition``, ``flow_id``...): given in the namespace before the block runs, each
  listed per section below. An example that reads any other undefined name fails.
* **Environment variables an example reads** (``HELLO_WORLD_TOKEN``), and for the login
  helpers ``AUTOMATE_LITE_TOKEN_FILE`` (a temporary file) and ``AUTOMATE_LITE_LOGIN=browser``
  with ``webbrowser.open`` answered by a stub browser.

"The flow language, locally" and "Test your flows offline" are not run here: the latter's
block is run by tests/test_plugin.py, the former's commands by tests/test_local_*.py.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import inspect
import pydoc
import re
import typing
from pathlib import Path
from typing import Any, Iterator

import pytest
from fauxbus_helpers import StubBrowser, auth, browser, isolated_home, token_path  # noqa: F401

import automate_lite as al
from automate_lite.flows import FlowOps, FlowsClient
from automate_lite.testing.action_provider import DEFAULT_SCOPE, ActionProviderStub
from automate_lite.testing.auth import AuthStub
from automate_lite.testing.flows import FlowsStub

README = Path(__file__).resolve().parent.parent / "README.md"
NOT_HERE = {"The flow language, locally", "Test your flows offline"}
HELLO_URL = "https://actions.globus.org/hello_world"
TOKEN = "tok-alice"
SERVICE_TOKEN = "svc-alice"
FLOW_TOKEN = "flow-alice"
ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-0000-0000-000000000001"
CLIENT_ID = "4a5b6c7d-0000-4000-8000-00000000c11e"
DEFINITION = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": True}}}


@dataclasses.dataclass
class Block:
    section: str  # the nearest "## " or "### " heading
    top: str  # the "## " heading it is under
    line: int
    source: str


def python_blocks() -> list[Block]:
    """Every ```python block of README.md with the headings it stands under."""
    blocks: list[Block] = []
    top = section = ""
    fence: str | None = None
    start = 0
    body: list[str] = []
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if fence is None:
            if line.startswith("```"):
                fence, start, body = line[3:].strip(), number + 1, []
            elif m := re.match(r"(#{2,3}) (.+)", line):
                section = m.group(2).strip()
                if m.group(1) == "##":
                    top = section
        elif line.startswith("```"):
            if fence == "python":
                blocks.append(Block(section, top, start, "\n".join(body) + "\n"))
            fence = None
        else:
            body.append(line)
    return blocks


def run_section(section: str, given: dict[str, Any], urls: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the section's blocks in order in one namespace holding ``given``; return it."""
    blocks = [b for b in python_blocks() if b.section == section]
    assert blocks, f"README.md has no python block under {section!r}"
    namespace: dict[str, Any] = {"__name__": "__readme__", **given}
    for block in blocks:
        source = block.source
        for public, local in (urls or {}).items():
            source = source.replace(public, local)
        exec(compile(source, f"README.md:{block.line}", "exec"), namespace)
    return namespace


#: The sections this module runs (a new section with a python block must be added here).
RUN_HERE = {"Action Providers", "Without interactive login", "Flows", "Migrating", "Logging in"}


def test_every_readme_python_block_is_run_somewhere() -> None:
    sections = {b.section for b in python_blocks() if b.top not in NOT_HERE}
    assert sections == RUN_HERE


# -- Action Providers ---------------------------------------------------------------------


@pytest.fixture
def provider() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={TOKEN: ALICE}, prefix="/hello_world") as stub:
        yield stub


def test_action_provider_examples(provider: ActionProviderStub, capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_section("Action Providers", {"token": TOKEN, "url": provider.url}, {HELLO_URL: provider.url})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == DEFAULT_SCOPE  # print(client.action_scope)
    assert out[1].startswith("SUCCEEDED ") and "Hello" in out[1]  # print(final["status"], final["details"])
    assert "ActionSucceeded" in out[2:-1]  # the log's codes
    assert out[-1] == str(["SUCCEEDED"] * 10)  # the async block
    assert ns["final"]["status"] == "SUCCEEDED"
    assert [f["status"] for f in ns["finals"]] == ["SUCCEEDED"] * 10  # the async block
    # client.release(...) released it: the provider forgot the action.
    with pytest.raises(al.NotFoundError):
        ns["client"].status(ns["started"]["action_id"])


def test_without_interactive_login(provider: ActionProviderStub, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HELLO_WORLD_TOKEN", TOKEN)
    run_section("Without interactive login", {}, {HELLO_URL: provider.url})
    assert '"action_id": ' in capsys.readouterr().out  # print(client.run(...)): the action started
    assert provider.state.requests[-1].bearer_token == TOKEN


# -- Flows --------------------------------------------------------------------------------


@pytest.fixture
def flows_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlowsStub]:
    """Flows that tells the service token from a flow token, at GLOBUS_SDK_SERVICE_URL_FLOWS."""
    with FlowsStub(tokens={SERVICE_TOKEN: ALICE}, flow_tokens={FLOW_TOKEN: ALICE}) as stub:
        monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_FLOWS", stub.url)
        yield stub


def test_flows_examples(flows_service: FlowsStub, capsys: pytest.CaptureFixture[str]) -> None:
    tokens_by_scope = collections.defaultdict(lambda: FLOW_TOKEN)  # a token for any flow's scope
    tokens_by_scope.update({al.RUN_STATUS_SCOPE: SERVICE_TOKEN, al.RUN_MANAGE_SCOPE: SERVICE_TOKEN})
    given = {"CLIENT_ID": CLIENT_ID, "service_token": SERVICE_TOKEN, "tokens_by_scope": tokens_by_scope,
             "definition": DEFINITION}
    ns = run_section("Flows", given)
    assert ns["final"]["status"] == "SUCCEEDED"
    assert [f["status"] for f in ns["finals"]] == ["SUCCEEDED"] * 50  # the async block
    codes = capsys.readouterr().out.split()
    assert codes.count("FlowSucceeded") == 2  # one run's log from each block
    # release_run removed the first run.
    with pytest.raises(al.NotFoundError):
        ns["flows"].get_run(ns["run"]["run_id"])


# -- the login helpers (Logging in, and the 0.18 quick start in Migrating) -----------------


@pytest.fixture
def login_env(auth: AuthStub, browser: StubBrowser, token_path: str,  # noqa: F811
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AuthStub, StubBrowser, ActionProviderStub, FlowsStub]]:
    """Auth, a provider that takes only Auth's tokens, and Flows, found through the
    environment; logins answered by the stub browser."""
    monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_AUTH", auth.url)
    monkeypatch.setenv("AUTOMATE_LITE_TOKEN_FILE", token_path)
    monkeypatch.setenv("AUTOMATE_LITE_LOGIN", "browser")
    with ActionProviderStub(tokens={}, prefix="/hello_world") as ap, FlowsStub() as fs:
        auth.state.on_issue.append(lambda tok, scopes, identity: ap.state.tokens.__setitem__(tok, ALICE))  # type: ignore[union-attr]
        monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_FLOWS", fs.url)
        yield auth, browser, ap, fs


def _deployed(fs: FlowsStub) -> str:
    return str(FlowsClient.new_client(None, None, None, base_url=fs.url).deploy_flow(DEFINITION, "readme")["id"])


def test_logging_in_example(login_env: tuple[AuthStub, StubBrowser, ActionProviderStub, FlowsStub]) -> None:
    auth, browser, ap, fs = login_env
    flow_id = _deployed(fs)
    ns = run_section("Logging in", {"flow_id": flow_id}, {HELLO_URL: ap.url})
    # The action client's scope was found by introspection; one login for it.
    assert ns["client"].action_scope == DEFAULT_SCOPE
    assert browser.scopes[0] == f"{DEFAULT_SCOPE} openid"
    # create_flows_client(): one login for the Flows scopes...
    assert set(browser.scopes[1].split()) == {*al.ALL_FLOW_SCOPES, "openid"}
    # ...and the first run: a login for the flow's own scope.
    assert browser.scopes[2].split()[0] == al.flow_scope(flow_id)
    assert auth.state.authorize_count == 3
    assert ns["run"]["flow_id"] == flow_id


def test_the_018_quick_start_runs(login_env: tuple[AuthStub, StubBrowser, ActionProviderStub, FlowsStub]) -> None:
    auth, browser, ap, fs = login_env
    ns = run_section("Migrating", {"flow_definition": DEFINITION, "flow_input": {"echo_string": "hi"}},
                     {HELLO_URL: ap.url})
    assert ns["resp"].data["details"]["echo_string"] == "Hello from SDK"
    assert ns["flow_action"]["action_id"] == ns["flow_action_id"]
    assert ns["flow_action"]["status"] in ("ACTIVE", "SUCCEEDED")
    # Logins: the provider's scope, the Flows scopes, then the flow's own (for run_flow and
    # flow_action_status, remembered).
    assert [s.split()[0] for s in browser.scopes] == [DEFAULT_SCOPE, browser.scopes[1].split()[0], ns["flow_scope"]]
    assert auth.state.authorize_count == 3


# -- what a new user tries at the prompt ---------------------------------------------------


def test_help_shows_the_full_typed_parameter_list() -> None:
    text = pydoc.render_doc(FlowsClient.list_runs, renderer=pydoc.plaintext)
    op = inspect.signature(FlowOps.list_runs)
    hints = typing.get_type_hints(FlowOps.list_runs)
    params = [p for p in op.parameters.values() if p.name != "self"]
    assert params and "**kwargs" not in text and "*args" not in text
    for p in params:
        assert re.search(rf"\b{p.name}: ", text), (p.name, text)
        assert hints[p.name] is not Any
    assert inspect.signature(FlowsClient.list_runs) == op.replace(return_annotation=inspect.signature(
        FlowsClient.list_runs).return_annotation)
    with pytest.raises(TypeError):
        FlowsClient.new_client(None, None, None, base_url="http://127.0.0.1:9").list_runs(filter_flw_id="x")  # type: ignore[call-arg]


def test_dataclasses_replace_a_client(flows_service: FlowsStub) -> None:
    client = FlowsClient.new_client(CLIENT_ID, None, al.BearerTokenAuthorizer(SERVICE_TOKEN))
    faster = dataclasses.replace(client, http_timeout=30)
    assert faster.http_timeout == 30 and client.http_timeout != 30
    assert faster.list_flows().http_status == 200
    with pytest.raises(dataclasses.FrozenInstanceError):
        faster.http_timeout = 5  # type: ignore[misc]



# -- the Migrating table, row by row, against the code ---------------------------------------


def _first_request(op: Any) -> al.Request:
    instr = next(op)
    while not isinstance(instr, al.Request):
        instr = op.send(None)
    return instr


def test_migrating_table_rows_hold() -> None:
    auth = al.BearerTokenAuthorizer(SERVICE_TOKEN)
    # ac.run(body, request_id, manage_by, monitor_by, label, tags, force_path): that order.
    run_params = list(inspect.signature(al.ActionClient.run).parameters)[1:8]
    assert run_params == ["body", "request_id", "manage_by", "monitor_by", "label", "tags", "force_path"]
    # ActionClient(base_url=, authorizer=); no URL: the Action Providers' URL.
    assert al.ActionClient(base_url="https://ap.example.org/x", authorizer=auth).action_url == "https://ap.example.org/x"
    assert al.ActionClient().action_url == "https://actions.globus.org"
    # app_name and transport_params, on all four constructors.
    for cls in (al.ActionClient, al.AsyncActionClient, al.FlowsClient, al.AsyncFlowsClient):
        c = cls(authorizer=auth, app_name="my portal",
                transport_params={"http_timeout": -1, "max_retries": 2, "max_sleep": 3, "verify_ssl": False})
        assert c.http_timeout is None and c.retry.max_attempts == 3 and c.retry.backoff_max == 3
        assert c.ops.session.headers["User-Agent"].endswith(" my portal")
        with pytest.raises(al.UsageError, match="retry=automate_lite.RetryPolicy"):
            cls(authorizer=auth, transport_params={"pool_maxsize": 4})
        # use_temporary_authorizer yields a new client; the original is unchanged.
        other = al.BearerTokenAuthorizer("other")
        with c.use_temporary_authorizer(other) as temp:
            assert temp is not c and temp.authorizer is other and c.authorizer is auth
    # Unknown keywords: a TypeError, not passed on.
    with pytest.raises(TypeError):
        al.ActionClient("https://ap.example.org/x", auth).run({}, bogus=1)  # type: ignore[call-arg]
    fc = al.FlowsClient(authorizer=auth)  # FlowsClient(authorizer=...) as in globus-sdk
    with pytest.raises(al.UsageError, match=r"pass \(\)"):
        fc.deploy_flow(DEFINITION, "t", keywords=None)  # type: ignore[arg-type]
    # marker= is sent as marker on /flows and /runs, as pagination_token on a legacy provider log.
    assert "marker=m1" in _first_request(fc.ops.list_flows(marker="m1")).url
    assert "marker=m2" in _first_request(fc.ops.enumerate_runs(marker="m2")).url
    legacy = al.ActionClient("https://ap.example.org/x", auth).ops
    assert "pagination_token=m3" in _first_request(legacy.log("a1", 10, False, "m3")).url
    # orderby: comma-separated.
    assert "orderby=title%20ASC,updated_at%20DESC" in _first_request(
        fc.ops.list_flows(orderby=["title ASC", "updated_at DESC"])).url.replace("+", "%20")
    # create_flow(title, definition, input_schema): positional as in globus-sdk; left out, {}.
    body = _first_request(fc.ops.create_flow("t", DEFINITION, validate_definition=False)).body
    assert body is not None and b'"input_schema":{}' in body.replace(b" ", b"")
