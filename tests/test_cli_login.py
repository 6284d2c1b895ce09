"""``automate-lite login|tokens|whoami|logout`` end to end, in-process through ``main(argv)``,
against the Auth stand-in on 127.0.0.1 (the browser is a stub that follows the redirects)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from fauxbus_helpers import (  # noqa: F401  (fixtures are used by name)
    SCOPE_A,
    SCOPE_B,
    StubBrowser,
    auth,
    browser,
    isolated_home,
    query_of,
    token_path,
)

import automate_lite as al
from automate_lite.cli import main
from automate_lite.testing.auth import AuthStub


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AUTOMATE_LITE_TOKEN", "AUTOMATE_LITE_NO_LOGIN", "AUTOMATE_LITE_LOGIN", "GLOBUS_SDK_ENVIRONMENT",
                "GLOBUS_SDK_SERVICE_URL_AUTH"):
        monkeypatch.delenv(var, raising=False)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_login_tokens_whoami_logout(capsys: pytest.CaptureFixture[str], auth: AuthStub, browser: StubBrowser,
                                    token_path: str) -> None:
    where = ["--auth-url", auth.url, "--token-file", token_path]
    code, out, err = cli(capsys, "login", "--browser", "--scope", SCOPE_A, "--scope", SCOPE_B, *where,
                         "--format", "json")
    assert code == 0, err
    assert json.loads(out) == {"token_file": token_path, "scopes": [SCOPE_A, SCOPE_B]}
    assert len(browser.urls) == 1 and query_of(browser.urls[0])["scope"].split() == [SCOPE_A, SCOPE_B, "openid"]
    assert os.stat(token_path).st_mode & 0o777 == 0o600

    # Stored tokens are there: a second login asks nothing.
    code, _, err = cli(capsys, "login", "--browser", "--scope", SCOPE_A, *where)
    assert code == 0, err and len(browser.urls) == 1

    code, out, _ = cli(capsys, "tokens", *where, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["scope"] for r in rows] == [SCOPE_A, SCOPE_B]
    assert all(r["refreshable"] and not r["expired"] and r["identity_id"] == auth.state.identity for r in rows)
    access = {auth.state.latest_access_token(SCOPE_A), auth.state.latest_access_token(SCOPE_B)}
    code, text, _ = cli(capsys, "tokens", *where, "--format", "text")
    assert code == 0 and SCOPE_A in text and not any(t and t in text + out for t in access)  # never a token

    code, out, _ = cli(capsys, "whoami", *where, "--format", "text")
    assert code == 0 and out.strip() == f"urn:globus:auth:identity:{auth.state.identity}"
    code, out, _ = cli(capsys, "whoami", *where, "--format", "json")
    assert json.loads(out)["identities"] == [auth.state.identity]

    revoked_before = auth.state.revocations
    code, out, err = cli(capsys, "logout", SCOPE_A, *where, "--format", "text")
    assert code == 0 and out.strip() == f"logged out of {SCOPE_A}", err
    assert auth.state.revocations > revoked_before
    assert auth.state.latest_access_token(SCOPE_A) in auth.state.revoked
    code, out, _ = cli(capsys, "tokens", *where, "--format", "json")
    assert [r["scope"] for r in json.loads(out)] == [SCOPE_B]
    code, out, _ = cli(capsys, "logout", *where, "--format", "json")
    assert code == 0 and json.loads(out) == {"logged_out": [SCOPE_B]}
    code, _, err = cli(capsys, "whoami", *where)
    assert code == 2 and "not logged in" in err and len(err.splitlines()) == 1


def test_login_for_the_flows_service_and_a_flow(capsys: pytest.CaptureFixture[str], auth: AuthStub,
                                                browser: StubBrowser, token_path: str) -> None:
    flow_id = "0f0f0f0f-0000-4000-8000-000000000001"
    code, out, err = cli(capsys, "login", "--browser", "--flow", flow_id, "--auth-url", auth.url,
                         "--token-file", token_path, "--format", "json")
    assert code == 0, err
    wanted = [*al.ALL_FLOW_SCOPES, al.flow_scope(flow_id)]
    assert json.loads(out)["scopes"] == wanted
    code, out, _ = cli(capsys, "tokens", "--auth-url", auth.url, "--token-file", token_path, "--format", "json")
    assert sorted(r["scope"] for r in json.loads(out)) == sorted(wanted)


def test_a_refused_login_is_one_line(capsys: pytest.CaptureFixture[str], auth: AuthStub, browser: StubBrowser,
                                     token_path: str) -> None:
    auth.state.deny_next = ("access_denied", "the user said no")
    code, out, err = cli(capsys, "login", "--browser", "--scope", SCOPE_A, "--auth-url", auth.url,
                         "--token-file", token_path)
    errors = [ln for ln in err.splitlines() if ln.startswith("automate-lite: error:")]
    assert code == 3 and len(errors) == 1 and "access_denied" in errors[0] and "Traceback" not in err
    assert err.rstrip().endswith(errors[0])  # the error is the last line, after the URL shown
    assert not os.path.exists(token_path) or SCOPE_A not in open(token_path).read()


def test_paste_login_with_stdin_closed_names_the_scope(capsys: pytest.CaptureFixture[str], auth: AuthStub,
                                                       token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = cli(capsys, "login", "--paste", "--scope", SCOPE_A, "--auth-url", auth.url,
                       "--token-file", token_path)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("automate-lite: error:") and SCOPE_A in last and "standard input is closed" in last
    assert "/v2/oauth2/authorize?" in err  # the URL was shown to paste from


def test_whoami_reads_a_token_file_without_any_request(capsys: pytest.CaptureFixture[str], tmp_path: Any,
                                                       auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    cli(capsys, "login", "--browser", "--scope", SCOPE_A, "--auth-url", auth.url, "--token-file", token_path)
    auth.stop()  # Auth is gone: whoami and tokens still answer from the file
    code, out, _ = cli(capsys, "whoami", "--auth-url", auth.url, "--token-file", token_path, "--format", "text")
    assert code == 0 and auth.state.identity in out
    code, out, _ = cli(capsys, "tokens", "--auth-url", auth.url, "--token-file", token_path, "--format", "text")
    assert code == 0 and SCOPE_A in out
