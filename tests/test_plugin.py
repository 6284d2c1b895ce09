"""The pytest plugin, as a user's own test suite meets it (run by pytester), and the
canned-response transport.

The README's "Test your flows offline" example is read out of README.md and run
exactly as written.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import re
from pathlib import Path

import pytest

from automate_lite import ActionClient, AsyncActionClient, FlowsClient
from automate_lite.testing.canned import CannedTransport, NoCannedResponse, action_status, run_document
from automate_lite.errors import UsageError

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent


def _plugin_args() -> list[str]:
    # Installed (pip install -e .), the entry point loads the plugin already; loading it
    # again with -p would register it twice.
    installed = any(ep.value == "automate_lite.testing.plugin"
                    for ep in importlib.metadata.entry_points(group="pytest11"))
    return ["-p", "no:cacheprovider"] + ([] if installed else ["-p", "automate_lite.testing.plugin"])


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Test your flows offline", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the section has one complete example"
    return blocks[0]


def test_the_readme_example_passes_as_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_my_flow=readme_example())
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=1)


USER_TESTS = '''
import asyncio
import urllib.request

from automate_lite.testing.providers import ActionFailed


def test_fixtures_are_wired(automate_local, automate_flows, automate_providers):
    assert automate_flows.base_url == automate_local.flows_url
    assert automate_providers is automate_local.providers
    assert automate_flows.list_flows()["flows"] == []


def test_my_function_as_a_provider(automate_action_provider, automate_action_client, automate_flows):
    def grade(body):
        if body["score"] < 0:
            raise ActionFailed("BadScore", "scores are never negative")
        return {"grade": "pass" if body["score"] >= 50 else "fail"}

    url = automate_action_provider(grade, url="https://grader.example.org/grade")
    client = automate_action_client("https://grader.example.org/grade")
    assert client.action_url == url
    assert client.status(client.run({"score": 70})["action_id"])["details"] == {"grade": "pass"}

    definition = {"StartAt": "Grade", "States": {"Grade": {
        "Type": "Action", "ActionUrl": "https://grader.example.org/grade",
        "Parameters": {"score.$": "$.score"}, "ResultPath": "$.graded", "End": True}}}
    flow = automate_flows.deploy_flow(definition, title="grading")
    good = automate_flows.run_flow(flow["id"], None, {"score": 10})
    bad = automate_flows.run_flow(flow["id"], None, {"score": -1})
    good = automate_flows.wait_for_run(good["run_id"], timeout=30, initial_delay=0.05)
    bad = automate_flows.wait_for_run(bad["run_id"], timeout=30, initial_delay=0.05)
    assert good["details"]["output"]["graded"]["details"] == {"grade": "fail"}
    assert bad["status"] == "FAILED" and "BadScore" in bad["details"]["cause"]


def test_async_client(automate_async_flows, automate_collection, automate_providers):
    src = automate_collection("src", files={"one.txt": "1", "deep/two.txt": "22"})
    dst = automate_collection("dst")
    definition = {"StartAt": "Copy", "States": {"Copy": {
        "Type": "Action", "ActionUrl": "https://transfer.actions.globus.org/transfer",
        "Parameters": {"source_endpoint": src.id, "destination_endpoint": dst.id,
                       "DATA": [{"source_path": "/~/", "destination_path": "/~/", "recursive": True}]},
        "End": True}}}

    async def main():
        async with automate_async_flows() as flows:
            flow = await flows.deploy_flow(definition, title="async copy")
            run = await flows.run_flow(flow["id"], None, {})
            return await flows.wait_for_run(run["run_id"], timeout=30, initial_delay=0.05)

    assert asyncio.run(main())["status"] == "SUCCEEDED"
    assert (dst.path / "deep" / "two.txt").read_text() == "22"
    assert automate_providers.transfer.tasks[-1]["files"] == 2


def test_approval_through_the_option_url(automate_flows, automate_providers):
    definition = {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Action", "ActionUrl": "https://actions.globus.org/weboption/wait_for_option",
        "Parameters": {"options": [{"name": "approve", "url_suffix": "yes"},
                                   {"name": "deny", "url_suffix": "no"}]},
        "ResultPath": "$.answer", "End": True}}}
    flow = automate_flows.deploy_flow(definition, title="approval")
    run = automate_flows.run_flow(flow["id"], None, {})
    for _ in range(200):  # until the action is waiting
        try:
            urllib.request.urlopen(automate_providers.weboption.option_url("yes"))
            break
        except OSError:
            import time
            time.sleep(0.02)
    final = automate_flows.wait_for_run(run["run_id"], timeout=30, initial_delay=0.05)
    assert final["details"]["output"]["answer"]["details"]["name"] == "approve"


def test_canned(automate_canned):
    from automate_lite import FlowsClient
    from automate_lite.testing.canned import run_document

    automate_canned.add("GET", "https://flows.automate.globus.org/runs/{run_id}",
                        json=run_document(output={"answer": 42}))
    client = FlowsClient.new_client(None, None, None, transport=automate_canned)
    run = client.get_run("00000000-0000-4000-8000-000000000001")
    assert run["details"]["output"] == {"answer": 42}
    assert automate_canned.requests[0].url.endswith("/runs/00000000-0000-4000-8000-000000000001")
'''


def test_a_users_suite_uses_every_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_users_own=USER_TESTS)
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=5)


def test_fixtures_stop_their_servers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_leak='''
        import socket
        SEEN = {}

        def test_one(automate_local):
            SEEN["flows"] = automate_local.flows.port
            SEEN["providers"] = int(automate_local.providers.url.rsplit(":", 1)[1])

        def test_two():
            for port in SEEN.values():
                s = socket.socket()
                try:
                    assert s.connect_ex(("127.0.0.1", port)) != 0
                finally:
                    s.close()
    ''')
    pytester.runpytest(*_plugin_args()).assert_outcomes(passed=2)


# -- the canned-response transport ---------------------------------------------------------


def test_canned_answers_in_order_then_repeats_the_last() -> None:
    canned = CannedTransport(base_url="https://actions.globus.org/hello_world")
    canned.add("POST", "/run", json=action_status("ACTIVE", action_id="a1"), status=201)
    canned.add("GET", "/{action_id}/status", json=action_status("ACTIVE", action_id="a1"))
    canned.add("GET", "/{action_id}/status", json=action_status("SUCCEEDED", {"ok": 1}, action_id="a1"))
    client = ActionClient.new_client("https://actions.globus.org/hello_world", None, transport=canned)
    assert client.run({"echo_string": "hi"}, label="x")["status"] == "ACTIVE"
    assert canned.request_json()["body"] == {"echo_string": "hi"} and canned.request_json()["label"] == "x"
    assert [client.status("a1")["status"] for _ in range(3)] == ["ACTIVE", "SUCCEEDED", "SUCCEEDED"]
    assert [r.method for r in canned.requests] == ["POST", "GET", "GET", "GET"]


def test_canned_async_view_shares_the_registry() -> None:
    canned = CannedTransport().add("GET", "https://ap.example.org/x/a1/status", json=action_status(action_id="a1"))

    async def main() -> str:
        async with AsyncActionClient.new_client("https://ap.example.org/x", None, transport=canned.aio) as c:
            return str((await c.status("a1"))["status"])

    assert asyncio.run(main()) == "SUCCEEDED"
    assert len(canned.requests) == 1


def test_canned_errors_are_clear() -> None:
    canned = CannedTransport().add("GET", "https://flows.globus.org/runs/{r}", json=run_document())
    client = FlowsClient.new_client(None, None, None, transport=canned)
    with pytest.raises(NoCannedResponse) as err:
        client.get_run("00000000-0000-4000-8000-000000000001")
    assert "GET https://flows.automate.globus.org/runs/" in str(err.value)
    assert "registered: GET https://flows.globus.org/runs/{r}" in str(err.value)
    with pytest.raises(UsageError, match="base_url"):
        CannedTransport().add("GET", "/relative")
    with pytest.raises(UsageError, match="status"):
        CannedTransport().add("GET", "https://x.org/", status=42)


def test_canned_error_answers_reach_the_caller_as_api_errors() -> None:
    from automate_lite import NotFoundError

    canned = CannedTransport().add("GET", "https://ap.example.org/x/gone/status", status=404,
                                   json={"code": "NotFound", "description": "no such action"})
    with pytest.raises(NotFoundError) as err:
        ActionClient.new_client("https://ap.example.org/x", None, transport=canned).status("gone")
    assert err.value.code == "NotFound"
