"""Hosted handles and registered-API parameter placement in the local Flows service.

Over real HTTP: flows deployed and run with FlowsClient against FlowsStub on 127.0.0.1;
registered APIs call an echo server the test starts on 127.0.0.1 (reached through
``FlowsStub(api_urls=...)``, so the definitions keep their public-looking URLs).
"""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3

from automate_lite.flows import FlowsClient
from automate_lite.testing.flows import DEFAULT_IDENTITY, FlowsStub, HandlerError, HostedCall

from _local_flows import finish, flows_client, output

GROUP = "6c3d3a3e-0000-4000-8000-00000000cafe"
PUBLIC_API = "https://api.example.org"
USER_TOKEN = "user-token-for-apis"


class _Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status = 418 if parts.path.endswith("/teapot") else 200
        doc = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": json.loads(raw) if raw else None}
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def flows(echo: str) -> Iterator[FlowsStub]:
    with FlowsStub(action_token=USER_TOKEN, api_urls={PUBLIC_API: echo}) as stub:
        stub.set_user(DEFAULT_IDENTITY, username="dana@example.org")
        stub.add_group(GROUP, "Beamline staff", members=[DEFAULT_IDENTITY], description="who may approve")
        yield stub


@pytest.fixture(scope="module")
def fc(flows: FlowsStub) -> Iterator[FlowsClient]:
    yield from flows_client(flows)


def run_to_end(fc: FlowsClient, definition: dict[str, Any], flow_input: Any = None) -> dict[str, Any]:
    fid = fc.deploy_flow(definition, "handler test")["id"]
    return finish(fc, fc.run_flow(fid, None, flow_input or {})["run_id"])


def action(handler: Any, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"StartAt": "A", "States": {"A": {"Type": "Action", "Handler": handler, "Parameters": params,
                                             "ResultPath": "$.r", "End": True, **extra}}}


# ----------------------------------------------------------------------------- hosted handles


def test_builtin_groups_get_group_as_the_docs_write_it(fc: FlowsClient) -> None:
    definition = action("urn:globus:flows:handle:globus:groups.get_group",
                        {"group_id.$": "$.group", "include": ["my_memberships"]})
    result = output(run_to_end(fc, definition, {"group": GROUP}))["r"]
    assert result["status_code"] == 200 and result["state_name"] == "A"
    group = result["body"]
    assert group["id"] == GROUP and group["name"] == "Beamline staff" and group["description"] == "who may approve"
    assert [m["identity_id"] for m in group["my_memberships"]] == [DEFAULT_IDENTITY.rsplit(":", 1)[-1]]
    assert group["my_memberships"][0]["username"] == "dana@example.org"


def test_builtin_get_my_groups_and_unknown_group(fc: FlowsClient) -> None:
    mine = output(run_to_end(fc, action("urn:globus:flows:handle:globus:groups.get_my_groups", {})))["r"]
    assert [g["id"] for g in mine["body"]] == [GROUP]
    caught = action("urn:globus:flows:handle:globus:groups.get_group", {"group_id": "no-such-group"},
                    Catch=[{"ErrorEquals": ["ActionFailedException"], "ResultPath": "$.err", "Next": "Done"}])
    caught["States"]["Done"] = {"Type": "Pass", "End": True}
    err = output(run_to_end(fc, caught))["err"]
    assert err["status_code"] == 404 and err["body"]["code"] == "NOT_FOUND"


def test_add_hosted_handler_sync_and_async(fc: FlowsClient, flows: FlowsStub) -> None:
    seen: list[HostedCall] = []

    def lookup(call: HostedCall) -> Any:
        seen.append(call)
        return {"item": call.parameters["item_id"], "who": call.context["username"]}

    async def slow_double(call: HostedCall) -> Any:
        await asyncio.sleep(0)
        return {"twice": call.parameters["n"] * 2}

    assert flows.add_hosted_handler("acme.lookup", lookup) == "urn:globus:flows:handle:globus:acme.lookup"
    full = flows.add_hosted_handler("urn:globus:flows:handle:acme:math.double", slow_double)
    definition = {"StartAt": "Look", "States": {
        "Look": {"Type": "Action", "Handler": "urn:globus:flows:handle:globus:acme.lookup",
                 "Parameters": {"item_id.$": "$.id", "__Private_Parameters": ["item_id"]},
                 "ResultPath": "$.look", "Next": "Double"},
        "Double": {"Type": "Action", "Handler": full, "Parameters": {"n": 21}, "ResultPath": "$.d", "End": True},
    }}
    doc = run_to_end(fc, definition, {"id": "it-7"})
    out = output(doc)
    assert out["look"]["body"] == {"item": "it-7", "who": "dana@example.org"}
    assert out["d"]["body"] == {"twice": 42}
    call = seen[-1]
    assert call.run_id == doc["run_id"] and call.flow_id == doc["flow_id"] and call.owner == DEFAULT_IDENTITY
    assert call.token == USER_TOKEN and USER_TOKEN not in repr(call)  # the RunAs token, kept out of reprs
    started = [e for e in fc.get_run_logs(doc["run_id"], limit=100)["entries"] if e["code"] == "ActionStarted"]
    assert started[0]["details"]["input"] == {}  # the private field is omitted from the log


def test_handler_errors_and_unknown_handles_fail_catchably(fc: FlowsClient, flows: FlowsStub) -> None:
    def refuse(call: HostedCall) -> Any:
        raise HandlerError(403, {"code": "FORBIDDEN"})

    def broken(call: HostedCall) -> Any:
        raise RuntimeError("bug in the test's handler")

    flows.add_hosted_handler("acme.refuse", refuse)
    flows.add_hosted_handler("acme.broken", broken)
    for handle, code in (("acme.refuse", 403), ("acme.broken", 500)):
        doc = run_to_end(fc, action(f"urn:globus:flows:handle:globus:{handle}", {}))
        assert doc["status"] == "FAILED" and doc["details"]["error"] == "ActionFailedException"
        assert str(code) in doc["details"]["cause"]
    unknown = run_to_end(fc, action("urn:globus:flows:handle:globus:nobody.nothing", {}))
    assert unknown["status"] == "FAILED" and unknown["details"]["error"] == "ActionUnableToRun"
    assert "add_hosted_handler" in unknown["details"]["cause"]


def test_add_hosted_handler_refuses_bad_arguments(flows: FlowsStub) -> None:
    with pytest.raises(ValueError, match="needs a name"):
        flows.add_hosted_handler(" ", lambda call: None)
    with pytest.raises(TypeError, match="must be callable"):
        flows.add_hosted_handler("acme.x", "not a function")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- registered APIs


def create_api(flows: FlowsStub, method: str, path: str) -> str:
    body = {"name": f"{method} {path}", "target": {"type": "openapi",
                                                    "destination": {"method": method, "url": PUBLIC_API + path}}}
    resp = urllib3.PoolManager().request("POST", f"{flows.url}/registered_apis", body=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": "Bearer svc"})
    assert resp.status == 201, resp.data
    return str(json.loads(resp.data)["id"])


def test_registered_api_nested_parameters_are_placed(fc: FlowsClient, flows: FlowsStub) -> None:
    api = create_api(flows, "post", "/v1/things/{thing_id}/notes")
    params = {"path": {"thing_id": "t 1"}, "query": {"page": 2}, "headers": {"X-Request-Tag": "abc"},
              "body": {"text.$": "$.note"}}
    echoed = output(run_to_end(fc, action({"Type": "RegisteredAPI", "Id": api}, params), {"note": "hi"}))["r"]["body"]
    assert echoed["method"] == "POST" and echoed["path"] == "/v1/things/t%201/notes"
    assert echoed["query"] == {"page": ["2"]} and echoed["headers"]["x-request-tag"] == "abc"
    assert echoed["body"] == {"text": "hi"} and echoed["headers"]["authorization"] == f"Bearer {USER_TOKEN}"


def test_registered_api_flat_parameters_and_errors(fc: FlowsClient, flows: FlowsStub) -> None:
    get_api = create_api(flows, "get", "/v1/things/{thing_id}")
    echoed = output(run_to_end(fc, action({"Type": "RegisteredAPI", "Id": get_api},
                                          {"thing_id": "t2", "include": ["a", "b"]})))["r"]["body"]
    assert echoed["path"] == "/v1/things/t2" and echoed["query"] == {"include": ["a", "b"]} and echoed["body"] is None
    post_api = create_api(flows, "post", "/v1/things")
    echoed = output(run_to_end(fc, action({"Type": "RegisteredAPI", "Id": post_api}, {"name": "n"})))["r"]["body"]
    assert echoed["body"] == {"name": "n"} and echoed["query"] == {}
    teapot = create_api(flows, "get", "/v1/teapot")
    failed = run_to_end(fc, action({"Type": "RegisteredAPI", "Id": teapot}, {}))
    assert failed["status"] == "FAILED" and failed["details"]["error"] == "ActionFailedException"
    missing = run_to_end(fc, action({"Type": "RegisteredAPI", "Id": get_api}, {"path": {}}))
    assert missing["status"] == "FAILED" and "thing_id" in missing["details"]["cause"]


def test_registered_api_keeps_what_it_does_not_apply(flows: FlowsStub, fc: FlowsClient) -> None:
    body = {"name": "kept", "target": {"type": "openapi", "destination": {"method": "get", "url": PUBLIC_API + "/v1"},
                                       "transforms": {"input": "x"}, "specification": {"summary": "s"}},
            "data_templates": {"greeting": "hello"}}
    resp = urllib3.PoolManager().request("POST", f"{flows.url}/registered_apis", body=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": "Bearer svc"})
    api = json.loads(resp.data)
    assert resp.status == 201 and api["target"]["transforms"] == {"input": "x"}
    got = fc.get_registered_api(api["id"])
    assert got["data_templates"] == {"greeting": "hello"} and got["target"]["specification"] == {"summary": "s"}


# ----------------------------------------------------------------------------- RunAs "Flow"


def test_run_as_flow_presents_the_flows_own_identity(fc: FlowsClient, flows: FlowsStub) -> None:
    from automate_lite.testing.action_provider import ActionProviderStub

    with ActionProviderStub(tokens={USER_TOKEN: DEFAULT_IDENTITY}) as ap:
        definition = {"StartAt": "AsFlow", "States": {
            "AsFlow": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string": "f"}, "RunAs": "Flow",
                       "ResultPath": "$.flow", "Next": "AsUser"},
            "AsUser": {"Type": "Action", "ActionUrl": ap.url, "Parameters": {"echo_string": "u"},
                       "ResultPath": "$.user", "End": True}}}
        fid = fc.deploy_flow(definition, "run as the flow")["id"]
        flow_identity = f"urn:globus:auth:identity:{fid}"  # "Every flow's identity matches its id"
        assert ap.state.tokens is not None
        ap.state.tokens[flows.flow_identity_token(fid)] = flow_identity
        rid = fc.run_flow(fid, None, {})["run_id"]
        out = output(dict(fc.wait_for_run(rid, timeout=30, initial_delay=0.01, max_delay=0.05).data))
    assert out["flow"]["creator_id"] == flow_identity and out["user"]["creator_id"] == DEFAULT_IDENTITY
