"""Source compatibility with globus-automate-client 0.18: its constructor forms and
its methods called positionally, sync and async, against the loopback stand-ins."""

from __future__ import annotations

import inspect
import uuid
from typing import Any

import pytest
from _scoped import ALICE, BOB, FLOW_TOKEN, HELLO, SERVICE_PREFIX, SERVICE_TOKEN, provider, service  # noqa: F401
from _drive import Driver

import automate_lite as al
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import FlowsStub
from automate_lite.transports import AsyncioTransport, Urllib3Transport

CLIENTS = [al.ActionClient, al.AsyncActionClient, al.FlowsClient, al.AsyncFlowsClient]
IDS = ["ActionClient", "AsyncActionClient", "FlowsClient", "AsyncFlowsClient"]


def _make(cls: Any, **kwargs: Any) -> Any:
    if cls in (al.ActionClient, al.AsyncActionClient):
        return cls(base_url="https://actions.example.org/hello", authorizer=None, **kwargs)
    return cls("client-id", None, base_url="https://flows.example.org", authorizer=None, **kwargs)


def _new(cls: Any, **kwargs: Any) -> Any:
    if cls in (al.ActionClient, al.AsyncActionClient):
        return cls.new_client("https://actions.example.org/hello", None, **kwargs)
    return cls.new_client("client-id", None, None, "https://flows.example.org", **kwargs)


# -- constructor forms ---------------------------------------------------------------


@pytest.mark.parametrize("make", [_make, _new], ids=["constructor", "new_client"])
@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
def test_transport_params_map_to_settings(cls: Any, make: Any) -> None:
    client = make(cls, app_name="my portal",
                  transport_params={"http_timeout": 7, "verify_ssl": False, "max_retries": 2, "max_sleep": 3})
    assert client.http_timeout == 7.0
    assert client.retry.max_attempts == 3 and client.retry.backoff_max == 3.0
    assert client.transport.verify is False
    expected = AsyncioTransport if cls in (al.AsyncActionClient, al.AsyncFlowsClient) else Urllib3Transport
    assert isinstance(client.transport, expected)
    agent = client.ops.session.headers["User-Agent"]
    assert agent.startswith("automate-lite/") and agent.endswith(" my portal")
    # The mapped settings are fields: a replaced client keeps them.
    again = client.replace(extra_headers={"X-Test": "1"})
    assert again.http_timeout == 7.0 and again.retry.max_attempts == 3 and again.app_name == "my portal"
    assert again.ops.session.headers["User-Agent"] == agent


@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
def test_transport_params_no_timeout(cls: Any) -> None:
    assert _make(cls, transport_params={"http_timeout": -1}).http_timeout is None


@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"transport_params": {"retry_backoff": 1}}, ["'retry_backoff'", "retry=automate_lite.RetryPolicy"]),
        ({"transport_params": {"max_retries": -1}}, ["max_retries", ">= 0"]),
        ({"transport_params": {"max_sleep": "long"}}, ["max_sleep", "seconds"]),
        ({"transport_params": {"verify_ssl": "/no/such/bundle.pem"}}, ["verify_ssl", "CA bundle"]),
        ({"transport_params": {"http_timeout": 0}}, ["http_timeout", "seconds"]),
        ({"transport_params": ["http_timeout"]}, ["transport_params must be a dict"]),
        ({"transport_params": {"http_timeout": 5}, "http_timeout": 9}, ["http_timeout", "once"]),
        ({"transport_params": {"max_retries": 1}, "retry": al.RetryPolicy(2)}, ["retry=", "only"]),
        ({"app_name": "two\nlines"}, ["app_name", "printable"]),
        ({"app_name": 42}, ["app_name"]),
    ],
)
def test_transport_params_errors(cls: Any, kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(al.UsageError) as info:
        _make(cls, **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
def test_verify_ssl_beside_own_transport(cls: Any) -> None:
    own = AsyncioTransport() if cls in (al.AsyncActionClient, al.AsyncFlowsClient) else Urllib3Transport()
    with pytest.raises(al.UsageError, match="pass verify="):
        _make(cls, transport=own, transport_params={"verify_ssl": False})
    assert _make(cls, transport=own, transport_params={"http_timeout": 3}).transport is own


@pytest.mark.parametrize("cls", [al.ActionClient, al.AsyncActionClient], ids=IDS[:2])
def test_action_client_base_url_form(cls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = cls(base_url="https://actions.example.org/hello/", authorizer=al.BearerTokenAuthorizer("t"))
    assert client.action_url == "https://actions.example.org/hello"
    assert cls(action_url="https://a.example.org/x", base_url="https://a.example.org/x").action_url == "https://a.example.org/x"
    with pytest.raises(al.UsageError, match="only one of action_url and base_url"):
        cls("https://a.example.org/x", base_url="https://b.example.org/y")
    with pytest.raises(al.UsageError, match="base_url"):
        cls(base_url="not a url")
    # As 0.18: no URL at all means the Globus Action Providers of the environment.
    monkeypatch.delenv("GLOBUS_SDK_ENVIRONMENT", raising=False)
    assert cls().action_url == "https://actions.globus.org"
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", "sandbox")
    assert cls().action_url == "https://sandbox.actions.automate.globus.org"


@pytest.mark.parametrize("cls", [al.FlowsClient, al.AsyncFlowsClient], ids=IDS[2:])
def test_flows_client_keyword_form(cls: Any) -> None:
    def callback(**kwargs: Any) -> None:
        return None

    auth = al.BearerTokenAuthorizer("t")
    client = cls("cid", callback, base_url="https://flows.example.org", authorizer=auth, app_name="x",
                 transport_params={"http_timeout": 4})
    assert (client.client_id, client.authorizer_callback, client.authorizer) == ("cid", callback, auth)
    assert client.base_url == "https://flows.example.org" and client.http_timeout == 4.0
    assert cls(client_id="cid", get_authorizer_callback=callback).authorizer_callback is callback


# -- the paging key each legacy listing sends ----------------------------------------

FID = "3b6b1e9a-6b6f-4e3c-9c62-2a7f4d1c0e11"
RID = "5c1f6a2e-0b8d-4f7e-9a41-6d2e8c3b7f90"


def _first_request(op: Any) -> al.Request:
    instruction = next(op)
    while isinstance(instruction, al.Call):
        instruction = op.send(instruction.fn())
    assert isinstance(instruction, al.Request)
    return instruction


def _query(op: Any) -> list[tuple[str, str]]:
    import urllib.parse

    return urllib.parse.parse_qsl(urllib.parse.urlsplit(_first_request(op).url).query)


def test_flows_listings_send_marker_as_the_flows_api_documents() -> None:
    # 0.18 sent pagination_token on these; the Flows API (and globus-sdk) name it marker,
    # and the stand-in, like the service, pages /flows and /runs by marker only.
    ops = al.FlowsClient(None, None, al.BearerTokenAuthorizer("t"), "https://flows.example.org").ops
    for op in (ops.list_flows(None, "m1", 5), ops.enumerate_runs(None, None, "m1", 5),
               ops.list_flow_runs(FID, None, None, None, "m1", 5, authorizer=None)):
        query = _query(op)
        assert ("marker", "m1") in query
        assert all(k not in ("pagination_token", "per_page") for k, _ in query)  # marker wins over per_page, as in 0.18
    assert ("per_page", "5") in _query(ops.list_flows(None, None, 5))


def test_provider_logs_send_pagination_token_on_the_legacy_routes() -> None:
    # 0.18's ActionClient.log (and flow_action_log, which is it) sent pagination_token;
    # the newer /actions/{id}/log route takes marker.
    ops = al.FlowsClient(None, None, al.BearerTokenAuthorizer("t"), "https://flows.example.org").ops
    assert ("pagination_token", "m2") in _query(ops.flow_action_log(FID, None, RID, 10, False, "m2", 3))
    legacy = al.ActionClient("https://actions.example.org/p").ops
    query = _query(legacy.log("a1", 10, False, "m3", 3))
    assert ("pagination_token", "m3") in query and not any(k == "per_page" for k, _ in query)
    assert ("per_page", "3") in _query(legacy.log("a1", 10, False, None, 3))
    newer = al.ActionClient("https://actions.example.org/p", routes="actions").ops
    assert ("marker", "m3") in _query(newer.log("a1", 10, False, "m3"))
    assert ("marker", "m4") in _query(ops.get_run_logs(RID, 10, False, "m4"))


# -- each original method, called positionally, sync and async -------------------------



def _callback(**kwargs: Any) -> al.BearerTokenAuthorizer:
    """A user's callback: a service-scope token for a Flows scope, else the flow's."""
    return al.BearerTokenAuthorizer(SERVICE_TOKEN if kwargs["flow_scope"].startswith(SERVICE_PREFIX) else FLOW_TOKEN)


# The original SDK's positional parameters (globus-automate-client 0.18), method by method.
ORIGINAL_ACTION = {
    "introspect": [], "run": ["body", "request_id", "manage_by", "monitor_by", "label", "tags", "force_path"],
    "status": ["action_id"], "get_definition": ["action_id"], "resume": ["action_id"], "cancel": ["action_id"],
    "release": ["action_id"], "log": ["action_id", "limit", "reverse_order", "marker", "per_page"],
}
_LEGACY = ["flow_id", "flow_scope", "flow_action_id"]
ORIGINAL_FLOWS = {
    "deploy_flow": ["flow_definition", "title", "subtitle", "description", "keywords", "flow_viewers", "flow_starters",
                    "flow_administrators", "subscription_id", "input_schema", "validate_definition", "validate_schema",
                    "dry_run"],
    "update_flow": ["flow_id", "flow_definition", "title", "subtitle", "description", "keywords", "flow_viewers",
                    "flow_starters", "flow_administrators", "subscription_id", "input_schema", "validate_definition",
                    "validate_schema"],
    "get_flow": ["flow_id"], "delete_flow": ["flow_id"], "scope_for_flow": ["flow_id"],
    "list_flows": ["roles", "marker", "per_page", "filters", "orderings", "role"],
    "run_flow": ["flow_id", "flow_scope", "flow_input", "run_managers", "run_monitors", "dry_run", "label", "tags"],
    "flow_action_status": _LEGACY, "get_flow_definition_for_run": _LEGACY, "flow_action_resume": _LEGACY,
    "flow_action_release": _LEGACY, "flow_action_cancel": _LEGACY,
    "flow_action_log": [*_LEGACY, "limit", "reverse_order", "marker", "per_page"],
    "enumerate_runs": ["roles", "statuses", "marker", "per_page", "filters", "orderings", "role"],
    "list_flow_runs": ["flow_id", "flow_scope", "statuses", "roles", "marker", "per_page", "filters", "orderings", "role"],
    "flow_action_update": ["action_id", "run_managers", "run_monitors", "tags", "label"],
    "update_runs": ["run_ids", "add_tags", "remove_tags", "set_tags", "add_run_managers", "remove_run_managers",
                    "set_run_managers", "add_run_monitors", "remove_run_monitors", "set_run_monitors", "status"],
}


@pytest.mark.parametrize("cls, table", [(al.ActionClient, ORIGINAL_ACTION), (al.AsyncActionClient, ORIGINAL_ACTION),
                                        (al.FlowsClient, ORIGINAL_FLOWS), (al.AsyncFlowsClient, ORIGINAL_FLOWS)])
def test_original_positional_order(cls: type, table: dict[str, list[str]]) -> None:
    for name, params in table.items():
        positional = [p.name for p in inspect.signature(getattr(cls, name)).parameters.values()
                      if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD][1:]
        assert positional[:len(params)] == params, name
    new_client = [p for p in inspect.signature(cls.new_client).parameters  # type: ignore[attr-defined]
                  ][:5 if table is ORIGINAL_FLOWS else 3]
    assert new_client == (["client_id", "authorizer_callback", "authorizer", "base_url", "http_timeout"]
                          if table is ORIGINAL_FLOWS else ["action_url", "authorizer", "http_timeout"])


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_every_original_method_called_positionally(service: FlowsStub, provider: ActionProviderStub,
                                                   is_async: bool) -> None:
    """Each method of the original ActionClient and FlowsClient, called as its signature allowed."""
    auth = al.BearerTokenAuthorizer(SERVICE_TOKEN)
    called: set[str] = set()
    action_cls: Any = al.AsyncActionClient if is_async else al.ActionClient
    flows_cls: Any = al.AsyncFlowsClient if is_async else al.FlowsClient
    ac = Driver(action_cls.new_client(provider.url, auth, 10), is_async)
    ac("introspect")
    aid = ac("run", {"echo_string": "x"}, str(uuid.uuid4()), [ALICE], [BOB], "label", ["t"], None)["action_id"]
    ac("status", aid)
    assert ac("log", aid, 10, False, None, None)["entries"]
    ac("wait", aid, 30, 0.01)
    ac("release", aid)
    aid = ac("run", {"echo_string": "y", "sleep_time": 60}, None, None, None, "slow")["action_id"]
    ac("cancel", aid)
    with pytest.raises(al.AutomateAPIError):
        ac("resume", aid)  # a cancelled action cannot resume: the provider says so
    ac.close()
    called |= {"introspect", "run", "status", "log", "release", "cancel", "resume"}
    flows_ac = Driver(action_cls.new_client(service.url + "/flows/" + str(uuid.uuid4()), auth, 10), is_async)
    with pytest.raises(al.NotFoundError):
        flows_ac("get_definition", str(uuid.uuid4()))
    flows_ac.close()
    called.add("get_definition")
    fc = Driver(flows_cls.new_client("cid", _callback, auth, service.url, 10), is_async)
    fid = fc("deploy_flow", HELLO, "positional", "sub", "desc", ["k"], [BOB], [ALICE], [ALICE], None, {}, True,
             True, False)["id"]
    fc("update_flow", fid, HELLO, "renamed", None, None, None, None, None, None, None, None, True, True)
    assert fc("get_flow", fid)["title"] == "renamed"
    assert fc("scope_for_flow", fid) == al.flow_scope(fid)
    assert fid in [f["id"] for f in fc("list_flows", None, None, 50, None, {"title": "ASC"}, None)]
    rid = fc("run_flow", fid, None, {"echo_string": "hi"}, [ALICE], [BOB], False, "lbl", ["t"])["run_id"]
    fc("flow_action_status", fid, None, rid)
    fc("flow_action_log", fid, None, rid, 10, False, None, None)
    fc("wait_for_run", rid, 30, 0.01)
    assert fc("get_flow_definition_for_run", fid, None, rid)["definition"] == HELLO
    assert rid in [r["run_id"] for r in fc("enumerate_runs", None, ["SUCCEEDED"], None, 50, None, None, None)]
    assert rid in [r["run_id"] for r in fc("list_flow_runs", fid, None, None, None, None, 50, None, None, None)]
    assert fc("flow_action_update", rid, None, [BOB], ["new"], "relabelled")["label"] == "relabelled"
    fc("update_runs", [rid], ["more"], None, None, None, None, None, None, None, None, None)
    with pytest.raises(al.AutomateAPIError):
        fc("flow_action_resume", fid, None, rid)  # a finished run cannot resume
    with pytest.raises(al.AutomateAPIError):
        fc("flow_action_cancel", fid, None, rid)  # nor be cancelled
    fc("flow_action_release", fid, None, rid)
    fc("delete_flow", fid)
    fc.close()
    called |= set(ORIGINAL_FLOWS)
    assert called == set(ORIGINAL_ACTION) | set(ORIGINAL_FLOWS)


def test_use_temporary_authorizer_yields_a_new_client(service: FlowsStub) -> None:
    client = al.FlowsClient.new_client("cid", None, al.BearerTokenAuthorizer("nobody"), service.url)
    with client.use_temporary_authorizer(al.BearerTokenAuthorizer(SERVICE_TOKEN)) as temporary:
        assert temporary is not client and temporary.transport is client.transport
        assert isinstance(temporary.list_flows(), al.APIResponse)
    with pytest.raises(al.AutomateAPIError):
        client.list_flows()  # the shared client kept its own authorizer
    with pytest.raises(al.UsageError, match="authorizer"):
        with client.use_temporary_authorizer("a token"):  # type: ignore[arg-type]
            pass


# -- new_client, written once per family, keeps exact types for mypy --------------------

_TYPES_SNIPPET = """\
from typing import Any, AsyncIterator, Coroutine, Iterator

from typing_extensions import assert_type

import automate_lite as al
from automate_lite.transports import AsyncioTransport, Urllib3Transport

fc = al.FlowsClient.new_client(None, None, None)
assert_type(fc, al.FlowsClient)
assert_type(fc.transport, al.SyncTransport)
afc = al.AsyncFlowsClient.new_client(None, None, None, transport=AsyncioTransport())
assert_type(afc, al.AsyncFlowsClient)
assert_type(afc.transport, al.AsyncTransport)
ac = al.ActionClient.new_client("https://a.example.org", None)
assert_type(ac, al.ActionClient)
assert_type(ac.transport, al.SyncTransport)
aac = al.AsyncActionClient.new_client("https://a.example.org", None)
assert_type(aac, al.AsyncActionClient)
assert_type(aac.transport, al.AsyncTransport)
assert_type(al.FlowsClient(transport=Urllib3Transport()).transport, al.SyncTransport)
assert_type(fc.replace(http_timeout=3), al.FlowsClient)
# One binding per route serves both families: blocking on one, awaitable on the other.
assert_type(fc.get_run("r"), al.APIResponse)
pending = assert_type(afc.get_run("r"), Coroutine[Any, Any, al.APIResponse])
assert_type(fc.iter_runs(per_page=5), Iterator[dict[str, Any]])
assert_type(afc.iter_runs(per_page=5), AsyncIterator[dict[str, Any]])
assert_type(ac.get("/x"), al.APIResponse)
pending = assert_type(aac.status("a"), Coroutine[Any, Any, al.APIResponse])
al.FlowsClient.new_client(None, None, None, transport=AsyncioTransport())  # E
al.ActionClient(transport=AsyncioTransport())  # E
al.AsyncActionClient.new_client("https://a.example.org", None, transport=Urllib3Transport())  # E
fc.list_runs(filter_flw_id="x")  # E
"""


def test_new_client_and_transport_types_for_mypy(tmp_path: Any) -> None:
    """mypy --strict sees each client's own type from new_client/replace and its family's
    transport type; a transport of the other family or a misspelt keyword is an error."""
    import os

    api = pytest.importorskip("mypy.api")
    path = tmp_path / "snippet.py"
    path.write_text(_TYPES_SNIPPET)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    old = os.getcwd()
    os.chdir(root)  # the worktree's package and its mypy settings
    try:
        out, err, _ = api.run(["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(path)])
    finally:
        os.chdir(old)
    errors = sorted({int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line})
    expected = [n for n, line in enumerate(_TYPES_SNIPPET.splitlines(), 1) if line.endswith("# E")]
    assert errors == expected, out + err


# -- one set of argument checks for both families ------------------------------------


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda ops: ops.run_flow(FID, None, {}, "urn:x", authorizer=None), "run_managers"),
        (lambda ops: ops.run_flow(FID, None, {}, None, None, False, None, "tag", authorizer=None), "tags"),
        (lambda ops: ops.flow_action_update(RID, "urn:x", authorizer=None), "run_managers"),
        (lambda ops: ops.flow_action_update(RID, None, "urn:x", authorizer=None), "run_monitors"),
        (lambda ops: ops.flow_action_update(RID, None, None, "tag", authorizer=None), "tags"),
        (lambda ops: ops.update_run(RID, tags="tag"), "tags"),
        (lambda ops: ops.update_runs([RID], "tag", authorizer=None), "add_tags"),
        (lambda ops: ops.update_runs([RID], None, None, None, "urn:x", authorizer=None), "add_run_managers"),
        (lambda ops: ops.deploy_flow(HELLO, "t", None, None, "keyword"), "keywords"),
        (lambda ops: ops.deploy_flow(HELLO, "t", None, None, (), "urn:x"), "flow_viewers"),
        (lambda ops: ops.deploy_flow(HELLO, "t", None, None, None), "keywords"),
        (lambda ops: ops.deploy_flow(HELLO, "t", flow_starters=None), "flow_starters"),
        (lambda ops: ops.update_flow(FID, None, None, None, None, None, None, "urn:x"), "flow_starters"),
        (lambda ops: ops.create_flow("t", HELLO, run_monitors="urn:x"), "run_monitors"),
    ],
)
def test_a_bare_string_for_a_list_is_refused_on_every_route(call: Any, argument: str) -> None:
    # As ActionClient.run(manage_by="urn:...") always was: one principal or tag, not a
    # list of them, is a mistake the service would read two ways.
    ops = al.FlowsClient(None, None, al.BearerTokenAuthorizer("t"), "https://flows.example.org").ops
    with pytest.raises(al.UsageError) as info:
        op = call(ops)
        _first_request(op)
    assert argument in str(info.value) and "list of strings" in str(info.value)
    action = al.ActionClient("https://actions.example.org/p").ops
    with pytest.raises(al.UsageError, match="manage_by must be a list of strings"):
        action.run({}, None, "urn:x")


@pytest.mark.skipif(__import__("sys").version_info < (3, 11), reason="typing.Self is resolvable from 3.11")
@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
def test_type_hints_of_the_shared_methods_resolve(cls: Any) -> None:
    import typing

    for name in ("new_client", "replace", "use_temporary_authorizer"):
        hints = typing.get_type_hints(getattr(cls, name))
        assert "return" in hints, name
    assert list(inspect.signature(cls.new_client).parameters)[-2:] == ["app_name", "transport_params"]
