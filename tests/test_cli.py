"""The automate-lite command line, in-process (main(argv)) and as ``python -m automate_lite``,
against FlowsStub / ActionProviderStub on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Iterator

import pytest

from automate_lite.cli import main
from automate_lite.testing import ActionProviderStub, FlowsStub

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOMATE_LITE_TOKEN_FILE", str(tmp_path / "tokens.json"))
    for var in ("AUTOMATE_LITE_TOKEN", "AUTOMATE_LITE_FLOWS_TOKEN", "AUTOMATE_LITE_FLOW_TOKEN",
                "AUTOMATE_LITE_ACTION_TOKEN", "GLOBUS_SDK_SERVICE_URL_FLOWS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def provider() -> Iterator[ActionProviderStub]:
    with ActionProviderStub() as ap:
        yield ap


@pytest.fixture(scope="module")
def flows() -> Iterator[FlowsStub]:
    with FlowsStub() as f:
        yield f


def definition(provider_url: str, sleep_s: float = 0.2, fail: bool = False) -> dict[str, Any]:
    return {"StartAt": "Hello", "States": {
        "Hello": {"Type": "Action", "ActionUrl": provider_url,
                  "Parameters": {"echo_string.$": "$.msg", "sleep_s": sleep_s, "fail": fail},
                  "ResultPath": "$.hello", "Next": "Done"},
        "Done": {"Type": "Pass", "End": True}}}


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def deploy(capsys: pytest.CaptureFixture[str], flows: FlowsStub, provider: ActionProviderStub, tmp_path: Any,
           **kw: Any) -> str:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(definition(provider.url, **kw)))
    code, out, err = cli(capsys, "flow", "deploy", str(path), "--title", "CLI flow", "--flows-url", flows.url)
    assert code == 0, err
    return str(json.loads(out)["id"])


def test_deploy_run_watch_list_get_logs(capsys: pytest.CaptureFixture[str], flows: FlowsStub,
                                        provider: ActionProviderStub, tmp_path: Any) -> None:
    flow_id = deploy(capsys, flows, provider, tmp_path)
    code, out, err = cli(capsys, "flow", "run", flow_id, "--input", '{"msg": "hi"}', "--watch",
                         "--flows-url", flows.url, "--format", "text", "--interval", "0.1")
    assert code == 0, err
    lines = out.splitlines()
    # Live progress, state by state, then the final document.
    assert any("ActionStarted" in ln and "[Hello]" in ln for ln in lines)
    assert any("PassCompleted" in ln and "[Done]" in ln for ln in lines)
    assert any(ln.startswith("status") and "SUCCEEDED" in ln for ln in lines)
    run_id = next(ln.split()[1] for ln in lines if ln.startswith("run_id"))

    code, out, _ = cli(capsys, "run", "list", "--flows-url", flows.url, "--flow", flow_id)
    assert code == 0 and [r["run_id"] for r in json.loads(out)] == [run_id]
    code, out, _ = cli(capsys, "run", "get", run_id, "--flows-url", flows.url)
    doc = json.loads(out)
    assert doc["status"] == "SUCCEEDED" and doc["details"]["output"]["hello"]["details"]["echo_string"] == "hi"
    code, out, _ = cli(capsys, "run", "logs", run_id, "--flows-url", flows.url)
    codes = [e["code"] for e in json.loads(out)]
    assert codes[0] == "FlowStarted" and codes[-1] == "FlowSucceeded"
    code, out, _ = cli(capsys, "flow", "list", "--flows-url", flows.url, "--format", "text")
    assert code == 0 and flow_id in out and out.splitlines()[0].split()[:2] == ["ID", "TITLE"]
    code, out, _ = cli(capsys, "flow", "get", flow_id, "--flows-url", flows.url)
    assert json.loads(out)["title"] == "CLI flow"
    code, out, _ = cli(capsys, "flow", "render", flow_id, "--as", "dot", "--run", run_id, "--flows-url", flows.url)
    assert code == 0 and out.startswith("digraph flow {")


def test_failed_run_and_cancel_exit_non_zero(capsys: pytest.CaptureFixture[str], flows: FlowsStub,
                                             provider: ActionProviderStub, tmp_path: Any) -> None:
    failing = deploy(capsys, flows, provider, tmp_path, fail=True)
    code, out, err = cli(capsys, "flow", "run", failing, "--input", '{"msg": "x"}', "--watch",
                         "--flows-url", flows.url, "--interval", "0.1")
    assert code == 1 and json.loads(out)["status"] == "FAILED"
    slow = deploy(capsys, flows, provider, tmp_path, sleep_s=30)
    code, out, _ = cli(capsys, "flow", "run", slow, "--input", '{"msg": "x"}', "--flows-url", flows.url)
    run_id = json.loads(out)["run_id"]
    code, out, err = cli(capsys, "run", "cancel", run_id, "--flows-url", flows.url)
    assert code == 0, err
    code, out, _ = cli(capsys, "run", "watch", run_id, "--flows-url", flows.url, "--interval", "0.1")
    assert code == 1 and json.loads(out)["status"] in ("ENDED", "FAILED")


def test_errors_are_one_line_with_exit_codes(capsys: pytest.CaptureFixture[str], flows: FlowsStub,
                                             tmp_path: Any) -> None:
    code, out, err = cli(capsys, "run", "get", "00000000-0000-4000-8000-000000000000", "--flows-url", flows.url)
    assert code == 3 and out == "" and len(err.splitlines()) == 1 and "404" in err
    code, _, err = cli(capsys, "flow", "frobnicate")
    assert code == 2 and len(err.splitlines()) == 1 and "flow --help" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}}')
    code, _, err = cli(capsys, "flow", "deploy", str(bad), "--title", "t", "--flows-url", flows.url)
    assert code == 2 and len(err.splitlines()) == 1 and "problem" in err
    code, _, err = cli(capsys, "flow", "run", "not-a-uuid", "--flows-url", flows.url)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    code, _, err = cli(capsys, "flow", "list", "--flows-url", "http://127.0.0.1:9")
    assert code == 3 and len(err.splitlines()) == 1
    code, _, err = cli(capsys, "action", "run", "http://127.0.0.1:9", "--body", "{not json")
    assert code == 2 and "not valid JSON" in err


def test_missing_token_names_the_scopes(capsys: pytest.CaptureFixture[str]) -> None:
    with FlowsStub(tokens={"svc": "urn:globus:auth:identity:aaaaaaaa-0000-4000-8000-000000000000"}) as locked:
        code, _, err = cli(capsys, "flow", "list", "--flows-url", locked.url)
        assert code == 3 and "401" in err and "manage_flows" in err and "--token" in err
        assert len(err.splitlines()) == 1
        code, out, err = cli(capsys, "flow", "list", "--flows-url", locked.url, "--token", "svc")
        assert code == 0 and json.loads(out) == []
        assert "svc" not in err


def test_action_commands(capsys: pytest.CaptureFixture[str], provider: ActionProviderStub) -> None:
    code, out, _ = cli(capsys, "action", "introspect", provider.url)
    assert code == 0 and "globus_auth_scope" in json.loads(out)
    code, out, err = cli(capsys, "action", "run", provider.url, "--body", '{"echo_string": "yo", "sleep_s": 0.1}',
                         "--wait", "--interval", "0.05")
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "SUCCEEDED" and doc["details"]["echo_string"] == "yo"
    action_id = doc["action_id"]
    code, out, _ = cli(capsys, "action", "log", provider.url, action_id)
    assert code == 0 and isinstance(json.loads(out), list)
    code, out, _ = cli(capsys, "action", "release", provider.url, action_id)
    assert code == 0
    code, out, _ = cli(capsys, "action", "run", provider.url, "--body", '{"fail": true}', "--wait", "--interval", "0.05")
    assert code == 1 and json.loads(out)["status"] == "FAILED"


def test_validate_and_scope(capsys: pytest.CaptureFixture[str], flows: FlowsStub, provider: ActionProviderStub) -> None:
    text = json.dumps(definition(provider.url))
    code, out, _ = cli(capsys, "flow", "validate", text, "--local")
    assert code == 0 and json.loads(out)["valid"] is True
    code, out, err = cli(capsys, "flow", "validate", text, "--flows-url", flows.url)
    assert code == 0, err
    fid = "5e97017b-3a59-44bb-8a33-ff583ba4f491"
    code, out, _ = cli(capsys, "flow", "scope", fid, "--format", "text")
    assert out.strip() == f"https://auth.globus.org/scopes/{fid}/flow_{fid.replace('-', '_')}_user"


def test_login_commands_without_the_extra(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "globus_sdk" else real(name, *a))
    code, _, err = cli(capsys, "login")
    assert code == 2 and "automate-lite[login]" in err and len(err.splitlines()) == 1
    code, _, err = cli(capsys, "whoami")
    assert code == 2 and "not logged in" in err


def test_tokens_and_whoami_read_the_token_file(capsys: pytest.CaptureFixture[str], tmp_path: Any,
                                               flows: FlowsStub) -> None:
    from automate_lite import ALL_FLOW_SCOPES
    from automate_lite.extras import StoredToken, TokenFile

    path = str(tmp_path / "tokens.json")
    TokenFile(path, legacy_path=False).store("production", [
        StoredToken(s, "secret-token-value", None, 4102444800, identity_id="aaaaaaaa-0000-4000-8000-000000000000")
        for s in ALL_FLOW_SCOPES])
    code, out, _ = cli(capsys, "tokens")
    rows = json.loads(out)
    assert code == 0 and {r["scope"] for r in rows} == set(ALL_FLOW_SCOPES) and "secret-token-value" not in out
    code, out, _ = cli(capsys, "whoami", "--format", "text")
    assert code == 0 and "aaaaaaaa-0000-4000-8000-000000000000" in out
    # The stored token is what the Flows commands then send.
    with FlowsStub(tokens={"secret-token-value": "urn:globus:auth:identity:aaaaaaaa-0000-4000-8000-000000000000"}) as f:
        code, out, err = cli(capsys, "flow", "list", "--flows-url", f.url)
        assert code == 0, err


def run_module(*argv: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([sys.executable, "-m", "automate_lite", *argv], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=60, **kw)


def test_subprocess_local_then_deploy_and_watch(tmp_path: Any) -> None:
    env = dict(os.environ, PYTHONPATH=REPO)
    local = subprocess.Popen([sys.executable, "-m", "automate_lite", "local", "--format", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
    try:
        assert local.stdout is not None
        text = ""
        while not text.rstrip().endswith("}"):
            line = local.stdout.readline()
            assert line, local.stderr.read() if local.stderr else ""
            text += line
        urls = json.loads(text)
        path = tmp_path / "flow.json"
        path.write_text(json.dumps({"definition": definition(urls["action_provider"]), "title": "from a file"}))
        deployed = run_module("flow", "deploy", str(path), "--flows-url", urls["flows"])
        assert deployed.returncode == 0, deployed.stderr
        flow_id = json.loads(deployed.stdout)["id"]
        watched = run_module("flow", "run", flow_id, "--input", '{"msg": "sub"}', "--watch",
                             "--flows-url", urls["flows"], "--interval", "0.1")
        assert watched.returncode == 0, watched.stderr
        assert json.loads(watched.stdout)["status"] == "SUCCEEDED"
        assert "ActionCompleted" in watched.stderr  # progress goes to stderr when stdout is JSON
        missing = run_module("run", "get", "00000000-0000-4000-8000-000000000000", "--flows-url", urls["flows"])
        assert missing.returncode == 3 and len(missing.stderr.splitlines()) == 1
        helped = run_module("--help")
        assert helped.returncode == 0 and "flow" in helped.stdout
    finally:
        local.terminate()
        local.wait(timeout=30)
    assert local.returncode == 0


def test_help_imports_no_transport() -> None:
    script = ("import sys\nfrom automate_lite.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "bad = [m for m in sys.modules if m.split('.')[0] in ('urllib3', 'asyncio', 'globus_sdk', 'jsonschema')"
              " or m.startswith('automate_lite.cli.') and m.rsplit('.', 1)[1] not in ('_parser',)]\n"
              "print(bad, file=sys.stderr)\nsys.exit(1 if bad else 0)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=REPO), timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_command_without_a_token_file_loads_no_login_code(flows: FlowsStub, tmp_path: Any) -> None:
    # The CLI looks for the token file through the lazy automate_lite.extras: the path
    # rule alone is imported, never the login extra, its file locking or globus-sdk.
    script = ("import sys\nfrom automate_lite.cli import main\n"
              f"code = main(['flow', 'list', '--flows-url', {flows.url!r}])\n"
              "loaded = sorted(m for m in sys.modules if m.startswith(('automate_lite.extras', 'globus_sdk')))\n"
              "print(loaded, file=sys.stderr)\n"
              "sys.exit(code or (0 if loaded == ['automate_lite.extras', 'automate_lite.extras._paths'] else 9))\n")
    env = dict(os.environ, PYTHONPATH=REPO, AUTOMATE_LITE_TOKEN_FILE=str(tmp_path / "absent.json"))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("argv, says", [
    (["--function", "f=no_such_module_here:fn"], "cannot import 'no_such_module_here'"),
    (["--function", "f=json"], "is not MODULE:NAME"),
    (["--function", "f=json:no_such_name"], "has no 'no_such_name'"),
    (["--function", "json:dumps"], "takes ID=MODULE:NAME"),
    (["--collection", "nodir"], "takes ID=DIR"),
])
def test_local_names_a_bad_collection_or_function(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                   says: str) -> None:
    code, out, err = cli(capsys, "local", *argv)
    assert code == 2 and says in err and len(err.splitlines()) == 1
