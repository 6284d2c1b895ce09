"""The stand-ins for the providers real flows call, over real HTTP on 127.0.0.1.

Each provider is driven with automate-lite's own ActionClient at its local URL (found
through the public-URL mapping), then whole flows with unmodified public ActionUrls
run through the local Flows service, sync and async.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from automate_lite import ActionClient, AutomateAPIError
from automate_lite.testing import LocalGlobus, LocalProviders
from automate_lite.testing.providers import ActionFailed, Pending

TRANSFER = "https://transfer.actions.globus.org/transfer"


@pytest.fixture
def providers() -> Iterator[LocalProviders]:
    with LocalProviders() as p:
        yield p


def client(providers: LocalProviders, public_url: str) -> ActionClient:
    return ActionClient.new_client(providers.url_for(public_url), None)


def run(providers: LocalProviders, public_url: str, body: dict[str, Any]) -> dict[str, Any]:
    """Start an action and return its status as a fresh read gives it."""
    c = client(providers, public_url)
    started = c.run(body)
    return dict(c.status(started["action_id"]).data)


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def collections(providers: LocalProviders, tmp_path: Path) -> tuple[str, str, Path, Path]:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.txt").write_text("beta!")
    return providers.transfer.add_collection(src), providers.transfer.add_collection(dst, "dst-id"), src, dst


# -- the URL mapping -----------------------------------------------------------------------


def test_public_urls_map_below_the_local_base_and_others_stay(providers: LocalProviders) -> None:
    assert providers.url_for(TRANSFER) == f"{providers.url}/transfer.actions.globus.org/transfer"
    assert providers.url_for("https://compute.actions.globus.org/") == f"{providers.url}/compute.actions.globus.org"
    assert providers.url_for("https://actions.globus.org/search/ingest") == \
        f"{providers.url}/actions.globus.org/search/ingest"
    assert providers.url_for("https://example.org/my_ap") == "https://example.org/my_ap"
    assert providers.map_url("http://actions.globus.org/x") == "http://actions.globus.org/x"  # only https is public
    local = providers.register(lambda body: {"mine": True}, name="mine", url="https://example.org/my_ap/")
    assert providers.url_for("https://example.org/my_ap") == local == f"{providers.url}/custom/mine"


def test_introspection_describes_each_provider(providers: LocalProviders) -> None:
    doc = ActionClient.new_client(providers.url_for(TRANSFER), None).introspect()
    assert doc["synchronous"] is False
    assert doc["globus_auth_scope"] == "urn:globus:auth:scope:transfer.api.globus.org:all"
    assert "DATA" in doc["input_schema"]["required"]
    assert client(providers, "https://transfer.actions.globus.org/ls").introspect()["synchronous"] is True


# -- Transfer ------------------------------------------------------------------------------


def test_transfer_really_copies_files_and_directories(providers: LocalProviders, collections: Any) -> None:
    src_id, dst_id, src, dst = collections
    status = run(providers, TRANSFER, {
        "source_endpoint": src_id, "destination_endpoint": dst_id, "label": "copy",
        "DATA": [{"source_path": "/~/sub/", "destination_path": "/~/copied/", "recursive": True},
                 {"source_path": "/~/a.txt", "destination_path": "~/renamed.txt"},
                 {"source_path": "a.txt", "destination_path": "/into/"}],
    })
    assert status["status"] == "SUCCEEDED"
    assert tree(dst) == {"copied/b.txt": "beta!", "renamed.txt": "alpha", "into/a.txt": "alpha"}
    details = status["details"]
    assert details["DATA_TYPE"] == "task" and details["status"] == "SUCCEEDED" and details["label"] == "copy"
    assert (details["files"], details["files_transferred"], details["bytes_transferred"]) == (3, 3, 15)
    assert tree(src) == {"a.txt": "alpha", "sub/b.txt": "beta!"}  # a copy, not a move


def test_deprecated_transfer_fields_work_too(providers: LocalProviders, collections: Any) -> None:
    src_id, dst_id, _, dst = collections
    status = run(providers, "https://actions.globus.org/transfer/transfer", {
        "source_endpoint_id": src_id, "destination_endpoint_id": dst_id,
        "transfer_items": [{"source_path": "/~/a.txt", "destination_path": "/~/old.txt"}],
    })
    assert status["status"] == "SUCCEEDED"
    assert tree(dst) == {"old.txt": "alpha"}


@pytest.mark.parametrize("item, code", [
    ({"source_path": "/~/missing", "destination_path": "/~/x"}, "ClientError.NotFound"),
    ({"source_path": "/~/sub", "destination_path": "/~/x"}, "ClientError.BadRequest"),
    ({"source_path": "/~/../../etc/passwd", "destination_path": "/~/x"}, "PermissionDenied"),
])
def test_transfer_failures_fail_the_action_and_copy_nothing(providers: LocalProviders, collections: Any,
                                                             item: dict[str, Any], code: str) -> None:
    src_id, dst_id, _, dst = collections
    status = run(providers, TRANSFER, {"source_endpoint": src_id, "destination_endpoint": dst_id,
                                       "DATA": [{"source_path": "/~/a.txt", "destination_path": "/~/first"}, item]})
    assert status["status"] == "FAILED"
    assert status["details"]["code"] == code
    assert tree(dst) == {}  # every item is checked before anything is copied


def test_unknown_collection_and_bad_input(providers: LocalProviders, collections: Any) -> None:
    src_id, _, _, _ = collections
    status = run(providers, TRANSFER, {"source_endpoint": src_id, "destination_endpoint": "nope",
                                       "DATA": [{"source_path": "/~/a.txt", "destination_path": "/~/a"}]})
    assert status["details"]["code"] == "EndpointNotFound"
    with pytest.raises(AutomateAPIError) as err:
        client(providers, TRANSFER).run({"source_endpoint": src_id, "DATA": []})
    assert err.value.http_status == 400 and err.value.code == "BadRequest"
    assert "destination_endpoint" in err.value.message


def test_ls_stat_mkdir_delete(providers: LocalProviders, collections: Any) -> None:
    src_id, _, src, _ = collections
    listing = run(providers, "https://transfer.actions.globus.org/ls", {"endpoint_id": src_id, "path": "/~/"})
    assert listing["status"] == "SUCCEEDED"
    entries = {e["name"]: (e["type"], e["size"]) for e in listing["details"]["DATA"]}
    assert entries == {"a.txt": ("file", 5), "sub": ("dir", entries["sub"][1])}
    assert listing["details"]["has_next_page"] is False and listing["details"]["total"] == 2
    first = run(providers, "https://transfer.actions.globus.org/ls",
                {"endpoint_id": src_id, "path": "/~/", "limit": 1})["details"]
    second = run(providers, "https://transfer.actions.globus.org/ls",
                 {"endpoint_id": src_id, "path": "/~/", "limit": 1, "offset": 1})["details"]
    assert [e["name"] for e in first["DATA"]] == ["a.txt"] and first["has_next_page"] is True
    assert [e["name"] for e in second["DATA"]] == ["sub"] and second["has_next_page"] is False
    bad = run(providers, "https://transfer.actions.globus.org/ls", {"endpoint_id": src_id, "path": "/~/", "limit": 0})
    assert bad["status"] == "FAILED" and "limit" in str(bad["details"])
    stat = run(providers, "https://transfer.actions.globus.org/stat", {"endpoint_id": src_id, "path": "/~/sub"})
    assert stat["details"]["type"] == "dir" and stat["details"]["name"] == "sub"
    made = run(providers, "https://transfer.actions.globus.org/mkdir", {"endpoint_id": src_id, "path": "/~/new"})
    assert made["details"]["code"] == "DirectoryCreated" and (src / "new").is_dir()
    again = run(providers, "https://transfer.actions.globus.org/mkdir", {"endpoint_id": src_id, "path": "/~/new"})
    assert again["status"] == "FAILED" and again["details"]["code"] == "ExternalError.MkdirFailed.Exists"
    delete = "https://transfer.actions.globus.org/delete"
    refused = run(providers, delete, {"endpoint": src_id, "DATA": [{"path": "/~/sub"}]})
    assert refused["details"]["code"] == "ClientError.BadRequest" and (src / "sub").is_dir()
    gone = run(providers, delete, {"endpoint": src_id, "recursive": True,
                                   "DATA": [{"path": "/~/sub"}, {"path": "/~/a.txt"}]})
    assert gone["status"] == "SUCCEEDED" and gone["details"]["files"] == 2
    assert sorted(p.name for p in src.iterdir()) == ["new"]
    missing = run(providers, "https://transfer.actions.globus.org/stat", {"endpoint_id": src_id, "path": "/~/a.txt"})
    assert missing["details"]["code"] == "ClientError.NotFound"


# -- Compute -------------------------------------------------------------------------------


def test_compute_runs_registered_functions_v2_and_v3(providers: LocalProviders) -> None:
    add = providers.compute.register(lambda a, b=0: a + b)
    shout = providers.compute.register(lambda text: text.upper(), function_id="11111111-2222-3333-4444-555555555555")
    v2 = run(providers, "https://compute.actions.globus.org", {
        "endpoint": "any-endpoint", "function": add, "args": [2], "kwargs": {"b": 3},
        "tasks": [{"endpoint": "e", "function": shout, "payload": {"text": "hi"}},
                  {"endpoint": "e", "function": add, "args": 7}],
    })
    assert v2["status"] == "SUCCEEDED"
    assert v2["details"]["result"] == [5, "HI", 7]
    assert [r["status"] for r in v2["details"]["results"]] == ["success"] * 3
    v3 = run(providers, "https://compute.actions.globus.org/v3", {
        "endpoint_id": "e", "tasks": [{"function_id": shout, "args": ["v3"]}]})
    assert v3["details"]["result"] == ["V3"]
    assert [t["function_id"] for t in providers.compute.tasks] == [add, shout, add, shout]


def test_compute_failures(providers: LocalProviders) -> None:
    def boom() -> None:
        raise RuntimeError("disk full")

    fid = providers.compute.register(boom)
    failed = run(providers, "https://compute.actions.globus.org", {"endpoint": "e", "function": fid})
    assert failed["status"] == "FAILED"
    assert failed["details"]["code"] == "TaskExecutionFailed"
    assert "RuntimeError: disk full" in failed["details"]["description"]
    unknown = run(providers, "https://compute.actions.globus.org", {"endpoint": "e", "function": "nope"})
    assert unknown["details"]["code"] == "FunctionNotFound"


def test_a_replayed_request_id_does_not_run_the_function_twice(providers: LocalProviders) -> None:
    calls: list[int] = []
    fid = providers.compute.register(lambda: calls.append(1) or len(calls))
    c = client(providers, "https://compute.actions.globus.org")
    first = c.run({"endpoint": "e", "function": fid}, request_id="same")
    second = c.run({"endpoint": "e", "function": fid}, request_id="same")
    assert first["action_id"] == second["action_id"] and calls == [1]
    with pytest.raises(AutomateAPIError) as err:
        c.run({"endpoint": "e", "function": fid, "args": [1]}, request_id="same")
    assert err.value.http_status == 409


# -- Search, notification, expressions, web options ---------------------------------------


def test_search_ingest_and_delete(providers: LocalProviders) -> None:
    ingest = "https://actions.globus.org/search/ingest"
    for subject, term in (("s1", "numerator"), ("s2", "denominator")):
        status = run(providers, ingest, {"search_index": "idx", "subject": subject, "visible_to": ["public"],
                                         "content": {"term": term}})
        assert status["status"] == "SUCCEEDED"
    assert sorted(e["content"]["term"] for e in providers.search.entries("idx")) == ["denominator", "numerator"]
    delete = "https://actions.globus.org/search/delete"
    run(providers, delete, {"search_index": "idx", "delete_by": "subject", "subject": "s1"})
    assert [e["subject"] for e in providers.search.entries("idx")] == ["s2"]
    done = run(providers, delete, {"search_index": "idx", "delete_by": "query", "q": "denominator"})
    assert done["details"]["num_entries_deleted"] == 1 and providers.search.entries("idx") == []


def test_notification_is_recorded_with_its_template_filled_and_no_credentials(providers: LocalProviders) -> None:
    status = run(providers, "https://actions.globus.org/notification/notify", {
        "destination": "ada@example.org", "sender": "flows@example.org", "subject": "Done",
        "body_template": "Hello $name, ${count} files", "body_variables": {"name": "Ada", "count": 3},
        "send_credentials": [{"credential_method": "smtp", "credential_value": {"password": "s3cret"}}],
    })
    assert status["status"] == "SUCCEEDED"
    (message,) = providers.notifications.messages
    assert message["destination"] == ["ada@example.org"] and message["body"] == "Hello Ada, 3 files"
    assert "s3cret" not in json.dumps(message)


def test_expression_eval_one_and_many(providers: LocalProviders) -> None:
    url = "https://actions.globus.org/expression_eval"
    assert run(providers, url, {"expression": "x + 5", "arguments": {"x": 6}})["details"] == {"result": 11}
    many = run(providers, url, {"expressions": [
        {"expression": "'foo' + bar", "arguments": {"bar": "bar"}, "result_path": "joined"},
        {"expression": "n * 2", "arguments": {"n": 21}, "result_path": "$.doubled"}]})
    assert many["details"] == {"joined": "foobar", "doubled": 42}
    bad = run(providers, url, {"expression": "1 +"})
    assert bad["status"] == "FAILED" and bad["details"]["code"] == "ExpressionEvaluationError"


def test_weboption_waits_until_an_option_url_is_visited(providers: LocalProviders) -> None:
    c = client(providers, "https://actions.globus.org/weboption/wait_for_option")
    started = c.run({"options": [{"name": "approve", "url_suffix": "ok-1", "completed_message": "Approved"},
                                 {"name": "reject", "url_suffix": "no-1"}],
                     "landing_page": {"url_suffix": "page-1"}})
    assert c.status(started["action_id"])["status"] == "ACTIVE"
    page = urllib.request.urlopen(f"{providers.url}/actions.globus.org/weboption/landing_page/page-1").read()
    assert b"approve" in page and b"/weboption/option/no-1" in page
    answer = urllib.request.urlopen(providers.weboption.option_url("ok-1")).read()
    assert answer == b"Approved"
    final = c.status(started["action_id"])
    assert final["status"] == "SUCCEEDED" and final["details"]["name"] == "approve"
    with pytest.raises(KeyError):
        providers.weboption.select("no-1")  # the other option went with the action


# -- your own functions as providers -------------------------------------------------------


def test_registered_functions_succeed_fail_or_wait(providers: LocalProviders) -> None:
    ok = providers.register(lambda body: {"doubled": body["n"] * 2})
    c = ActionClient.new_client(ok, None)
    assert c.status(c.run({"n": 4})["action_id"])["details"] == {"doubled": 8}

    def strict(body: dict[str, Any]) -> Any:
        raise ActionFailed("TooBig", "n is too big", {"limit": 3})

    failed = ActionClient.new_client(providers.register(strict), None)
    status = failed.status(failed.run({"n": 9})["action_id"])
    assert status["status"] == "FAILED" and status["details"] == {"code": "TooBig", "description": "n is too big",
                                                                   "limit": 3}
    crash = ActionClient.new_client(providers.register(lambda body: 1 / 0, name="crash"), None)
    assert crash.status(crash.run({})["action_id"])["details"]["code"] == "UnhandledException"
    waiting = ActionClient.new_client(providers.register(lambda body: Pending({"step": 1}), name="later"), None)
    action_id = waiting.run({})["action_id"]
    assert waiting.status(action_id)["details"]["step"] == 1
    providers.host.complete(action_id, {"done": True})
    assert waiting.wait(action_id, timeout=5, initial_delay=0.01)["details"] == {"done": True}
    assert ok.endswith("/custom/lambda") and providers.register(lambda b: 1).endswith("/custom/lambda-2")


def test_register_refuses_what_cannot_work(providers: LocalProviders) -> None:
    with pytest.raises(ValueError, match="name"):
        providers.register(lambda body: 1, name="has space")
    providers.register(lambda body: 1, name="dup")
    with pytest.raises(ValueError, match="already mounted"):
        providers.register(lambda body: 1, name="dup")
    with pytest.raises(TypeError):
        providers.register("not callable")  # type: ignore[arg-type]


# -- whole flows, unmodified public URLs -------------------------------------------------------


FLOW = {
    "StartAt": "Copy",
    "States": {
        "Copy": {"Type": "Action", "ActionUrl": TRANSFER, "ResultPath": "$.copy", "Next": "List",
                 "Parameters": {"source_endpoint.$": "$.src", "destination_endpoint.$": "$.dst",
                                "DATA": [{"source_path": "/~/", "destination_path": "/~/in/", "recursive": True}]}},
        "List": {"Type": "Action", "ActionUrl": "https://transfer.actions.globus.org/ls", "ResultPath": "$.ls",
                 "Next": "Sum", "Parameters": {"endpoint_id.$": "$.dst", "path": "/~/in"}},
        "Sum": {"Type": "Action", "ActionUrl": "https://compute.actions.globus.org", "ResultPath": "$.sum",
                "Next": "Index",
                "Parameters": {"endpoint": "local", "function.$": "$.fn", "kwargs": {"entries.$": "$.ls.details.DATA"}}},
        "Index": {"Type": "Action", "ActionUrl": "https://actions.globus.org/search/ingest", "ResultPath": "$.ingest",
                  "Next": "Say", "Parameters": {"search_index": "idx", "subject.$": "$._context.run_id",
                                                 "visible_to": ["public"], "content": {"total.$": "$.sum.details.result[0]"}}},
        "Say": {"Type": "Action", "ActionUrl": "https://actions.globus.org/notification/notify", "ResultPath": "$.said",
                "End": True, "Parameters": {"destination": "me@example.org", "body_template": "total $t",
                                            "body_variables": {"t.$": "$.sum.details.result[0]"}}},
    },
}


def _sizes(entries: list[dict[str, Any]]) -> int:
    return sum(e["size"] for e in entries if e["type"] == "file")


def test_a_real_flow_runs_offline_with_its_public_urls(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.dat").write_bytes(b"12345678")
    (tmp_path / "src" / "y.dat").write_bytes(b"1234")
    with LocalGlobus(collections={"src-c": tmp_path / "src", "dst-c": tmp_path / "dst"}) as local:
        fid = local.providers.compute.register(_sizes)
        with local.flows_client() as flows:
            flow = flows.deploy_flow(FLOW, title="copy, list, sum, index, say")
            started = flows.run_flow(flow["id"], None, {"src": "src-c", "dst": "dst-c", "fn": fid})
            final = flows.wait_for_run(started["run_id"], timeout=30, initial_delay=0.02, max_delay=0.2)
        assert final["status"] == "SUCCEEDED", final["details"]
        output = final["details"]["output"]
        assert output["sum"]["details"]["result"] == [12]
        assert (tmp_path / "dst" / "in" / "x.dat").read_bytes() == b"12345678"
        assert [e["content"] for e in local.providers.search.entries("idx")] == [{"total": 12}]
        assert local.providers.notifications.messages[0]["body"] == "total 12"


def test_the_same_flow_from_async_code() -> None:
    async def main(tmp: Path) -> Any:
        # one destination per run: concurrent copies into one folder would race with each listing
        dirs = {"src-c": tmp / "src", **{f"dst-{i}": tmp / f"dst{i}" for i in range(3)}}
        async with LocalGlobus(collections=dirs) as local:
            (tmp / "src" / "f").write_text("abc")
            fid = local.providers.compute.register(_sizes)
            async with local.async_flows_client() as flows:
                flow = await flows.deploy_flow(FLOW, title="async")
                runs = await asyncio.gather(*(flows.run_flow(flow["id"], None, {"src": "src-c", "dst": f"dst-{i}",
                                                                                "fn": fid}) for i in range(3)))
                return await asyncio.gather(*(flows.wait_for_run(r["run_id"], timeout=30, initial_delay=0.02)
                                              for r in runs))

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        finals = asyncio.run(main(Path(tmp)))
    assert [f["details"]["output"]["sum"]["details"]["result"] for f in finals] == [[3]] * 3


def test_a_failing_provider_is_caught_by_the_flow(tmp_path: Path) -> None:
    definition = {"StartAt": "Copy", "States": {
        "Copy": {"Type": "Action", "ActionUrl": TRANSFER, "End": True,
                 "Parameters": {"source_endpoint": "c", "destination_endpoint": "c",
                                "DATA": [{"source_path": "/~/missing", "destination_path": "/~/x"}]},
                 "Catch": [{"ErrorEquals": ["ActionFailedException"], "ResultPath": "$.error", "Next": "Noted"}]},
        "Noted": {"Type": "Pass", "End": True}}}
    with LocalGlobus(collections={"c": tmp_path}) as local, local.flows_client() as flows:
        flow = flows.deploy_flow(definition, title="catch")
        run_ = flows.run_flow(flow["id"], None, {})
        final = flows.wait_for_run(run_["run_id"], timeout=30, initial_delay=0.02)
    assert final["status"] == "SUCCEEDED"
    assert final["details"]["output"]["error"]["details"]["code"] == "ClientError.NotFound"


def test_command_line_serves_flows_with_providers(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "automate_lite.testing", "flows", "--collection",
                             f"c={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        flows_url = proc.stdout.readline().strip()
        providers_line = proc.stderr.readline().split()
        assert flows_url.startswith("http://127.0.0.1:") and providers_line[0] == "providers"
        with urllib.request.urlopen(f"{providers_line[1]}/transfer.actions.globus.org/ls") as resp:
            assert json.load(resp)["title"].startswith("Transfer ls")
        with urllib.request.urlopen(f"{flows_url}/flows") as resp:
            assert json.load(resp)["flows"] == []
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_the_corpus_ls_loop_takes_its_normal_path(tmp_path: Path) -> None:
    # tests/flows/loop_and_names.json loops while the listing has_next_page; with a real
    # listing it leaves the loop by its Choice Default (Wait), not by its Catch.
    import json

    definition = json.loads((Path(__file__).parent / "flows" / "loop_and_names.json").read_text())
    definition["States"]["pause"]["Seconds"] = 0  # the same path, without the half-second pause
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "f.txt").write_text("x")
    with LocalGlobus(collections={"coll": tmp_path / "c"}) as local:
        with local.flows_client() as flows:
            flow = flows.deploy_flow(definition, title="ls loop")
            started = flows.run_flow(flow["id"], None, {"collection": "coll", "path": "/~/"})
            final = flows.wait_for_run(started["run_id"], timeout=30, initial_delay=0.02, max_delay=0.2)
            names = [e["details"].get("state_name") for e in flows.get_run_logs(started["run_id"], limit=100)["entries"]]
    assert final["status"] == "SUCCEEDED", final["details"]
    assert final["details"]["output"]["ls"]["details"]["has_next_page"] is False
    assert "pause" in names and "it's done" not in names
