"""Interactive login, refresh, revocation and no-login mode against automate_lite.testing.auth (127.0.0.1)."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import subprocess
import sys
import webbrowser

import pytest
from fauxbus_helpers import (  # noqa: F401  (fixtures are used by name)
    DEP_SCOPE,
    SCOPE_A,
    SCOPE_B,
    SCOPE_B_DEP,
    StubBrowser,
    auth,
    browser,
    fetch,
    isolated_home,
    query_of,
    token_path,
)

import automate_lite as al
from automate_lite.extras import LoginFailed, LoginManager, LoginRequired, StoredTokenAuthorizer, TokenFile
from automate_lite.extras.login import resolve_login_mode
from automate_lite.testing.auth import AuthStub

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def manager(auth: AuthStub, path: str, **kw: object) -> LoginManager:
    kw.setdefault("login", "browser")
    kw.setdefault("legacy_token_file", False)
    return LoginManager(token_file=path, auth_base_url=auth.url, **kw)  # type: ignore[arg-type]


def file_doc(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def test_browser_login_asks_once_for_every_missing_scope(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    m = manager(auth, token_path)
    m.ensure([SCOPE_A, SCOPE_B_DEP])
    assert auth.state.authorize_count == 1
    [url] = browser.urls
    q = query_of(url)
    # The authorize request: PKCE S256, a loopback one-shot redirect, refresh tokens.
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", q["redirect_uri"])
    assert q["access_type"] == "offline" and q["response_type"] == "code" and q["state"]
    assert q["scope"].split(" ", 1) == [SCOPE_A, SCOPE_B_DEP + " openid"]  # openid: the id_token names who
    assert browser.landings[0].status == 200 and b"Login complete" in browser.landings[0].body
    # Both tokens are stored, with the dependent scope remembered.
    a, b = m.stored(SCOPE_A), m.stored(SCOPE_B_DEP)
    assert a is not None and b is not None
    assert a.access_token == auth.state.latest_access_token(SCOPE_A)
    assert b.access_token == auth.state.latest_access_token(SCOPE_B)
    assert a.refresh_token and b.refresh_token and a.resource_server != b.resource_server
    assert b.dependent_scopes == (SCOPE_B_DEP,)
    entries = file_doc(token_path)["environments"][auth.url]
    assert set(entries) == {SCOPE_A, SCOPE_B}
    # Nothing missing any more: no second login.
    m.ensure([SCOPE_A, SCOPE_B_DEP, SCOPE_B])
    assert auth.state.authorize_count == 1
    # A dependent scope never consented to is missing, and only it is asked for.
    other = f"{SCOPE_A}[{DEP_SCOPE}]"
    assert m.missing([SCOPE_A, other]) == [other]
    m.ensure([SCOPE_A, other])
    assert browser.scopes[-1] == other + " openid"
    assert set(m.stored(SCOPE_A).dependent_scopes) == {other}  # type: ignore[union-attr]


def test_paste_login_reads_the_code_from_stdin(auth: AuthStub, token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()

    class Stdin:
        """Reads what the program printed, logs in at that URL, types the code."""

        def readline(self) -> str:
            printed = err.getvalue()
            assert printed.endswith("Enter the resulting Authorization Code here: ")
            url = re.search(r"(http://\S+/v2/oauth2/authorize\?\S+)", printed).group(1)  # type: ignore[union-attr]
            q = query_of(url)
            assert q["redirect_uri"] == auth.url + "/v2/web/auth-code"
            hop = fetch(url)
            page = fetch(hop.headers["location"])  # the page showing the code
            code = re.search(rb"<code id='code'>([^<]+)</code>", page.body).group(1).decode()  # type: ignore[union-attr]
            return code + "\n"

    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdin", Stdin())
    m = manager(auth, token_path, login="paste")
    assert m.access_token(SCOPE_A) == auth.state.latest_access_token(SCOPE_A)
    assert auth.state.exchanges == 1


def test_paste_login_accepts_the_whole_redirect_url(auth: AuthStub, token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()

    class Stdin:
        def readline(self) -> str:
            url = re.search(r"(http://\S+/v2/oauth2/authorize\?\S+)", err.getvalue()).group(1)  # type: ignore[union-attr]
            return fetch(url).headers["location"] + "\n"

    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdin", Stdin())
    m = manager(auth, token_path, login="paste")
    m.ensure([SCOPE_A])
    assert m.stored(SCOPE_A) is not None


def test_paste_login_in_a_subprocess_over_pipes(auth: AuthStub, token_path: str) -> None:
    """A real program: the URL on its stderr, the code typed into its stdin."""
    script = (
        "import sys\n"
        "from automate_lite.extras import LoginManager\n"
        "m = LoginManager(token_file=sys.argv[1], auth_base_url=sys.argv[2], login='auto', legacy_token_file=False)\n"
        "print('token', m.access_token(sys.argv[3]) is not None, flush=True)\n"
    )
    env = dict(os.environ, BROWSER="", SSH_CONNECTION="10.0.0.1 1 10.0.0.2 22")  # auto -> paste over SSH
    proc = subprocess.Popen(
        [sys.executable, "-c", script, token_path, auth.url, SCOPE_A],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env,
    )
    assert proc.stderr is not None and proc.stdin is not None
    printed = b""
    while not printed.endswith(b"Enter the resulting Authorization Code here: "):
        chunk = proc.stderr.read1(4096)  # type: ignore[attr-defined]
        assert chunk, printed.decode(errors="replace")
        printed += chunk
    url = re.search(rb"(http://\S+/v2/oauth2/authorize\?\S+)", printed).group(1).decode()  # type: ignore[union-attr]
    code = query_of(fetch(url).headers["location"])["code"]
    out, rest = proc.communicate(code.encode() + b"\n", timeout=60)
    assert proc.returncode == 0, rest.decode()
    assert out.decode().strip() == "token True"
    stored = TokenFile(token_path, legacy_path=False).entries(auth.url)
    assert stored[SCOPE_A].access_token == auth.state.latest_access_token(SCOPE_A)


def test_closed_stdin_is_login_required(auth: AuthStub, token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(LoginRequired) as info:
        manager(auth, token_path, login="paste").ensure([SCOPE_A])
    assert SCOPE_A in str(info.value) and "standard input is closed" in str(info.value)


@pytest.mark.parametrize("how", ["argument", "false", "env"])
def test_no_login_mode_names_the_scopes(how: str, auth: AuthStub, browser: StubBrowser, token_path: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    kw: dict[str, object] = {"login": "never"} if how == "argument" else {"login": False} if how == "false" else {"login": None}
    if how == "env":
        monkeypatch.setenv("AUTOMATE_LITE_NO_LOGIN", "1")
    m = manager(auth, token_path, **kw)
    assert m.login_mode == "never"
    with pytest.raises(LoginRequired) as info:
        m.ensure([SCOPE_A, SCOPE_B_DEP])
    err = info.value
    assert isinstance(err, al.AutomateError)
    assert err.scopes == [SCOPE_A, SCOPE_B_DEP]
    assert SCOPE_A in str(err) and SCOPE_B_DEP in str(err) and "login" in str(err)
    assert auth.state.authorize_count == 0 and browser.urls == []
    assert not os.path.exists(token_path)  # nothing written either


def test_login_mode_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_login_mode(None, {}) == "auto"
    assert resolve_login_mode(None, {"AUTOMATE_LITE_NO_LOGIN": "yes"}) == "never"
    assert resolve_login_mode(None, {"AUTOMATE_LITE_LOGIN": "paste"}) == "paste"
    assert resolve_login_mode("browser", {"AUTOMATE_LITE_NO_LOGIN": "1"}) == "browser"
    with pytest.raises(al.UsageError):
        resolve_login_mode("sometimes", {})  # type: ignore[arg-type]


def test_refused_login_is_login_failed(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    auth.state.deny_next = ("access_denied", "the user said no")
    with pytest.raises(LoginFailed, match="access_denied.*the user said no"):
        manager(auth, token_path).ensure([SCOPE_A])
    assert not os.path.exists(token_path)


def test_forged_state_is_refused(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    # A forged answer is turned away (400) and the login keeps waiting, here until its timeout.
    browser.tamper = lambda location: re.sub(r"state=[^&]+", "state=forged", location)
    with pytest.raises(LoginFailed, match="wrong state were refused"):
        manager(auth, token_path, login_timeout=0.5).ensure([SCOPE_A])
    assert browser.landings[-1].status == 400
    assert auth.state.exchanges == 0


def test_browser_that_cannot_open_falls_back_to_paste(auth: AuthStub, token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda url, new=0, autoraise=True: False)
    monkeypatch.setattr("automate_lite.extras.login.can_open_browser", lambda: True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(LoginRequired, match="standard input is closed"):  # it reached the paste prompt
        manager(auth, token_path, login="auto").ensure([SCOPE_A])
    with pytest.raises(LoginFailed, match="no web browser"):
        manager(auth, token_path, login="browser").ensure([SCOPE_A])


def test_expired_tokens_are_refreshed_and_written_back(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    auth.state.expires_in = 0  # the login's tokens are born expired
    m = manager(auth, token_path)
    m.ensure([SCOPE_A])
    first = m.stored(SCOPE_A)
    assert first is not None and first.expired()
    auth.state.expires_in = 3600
    authorizer = m.authorizer(SCOPE_A)
    header = authorizer.get_authorization_header()
    assert auth.state.refresh_count == 1
    new = auth.state.latest_access_token(SCOPE_A)
    assert header == f"Bearer {new}" and new != first.access_token
    # Written back: another process (a fresh manager) reads the refreshed token.
    again = manager(auth, token_path, login="never")
    assert again.access_token(SCOPE_A) == new
    assert again.stored(SCOPE_A).refresh_token == first.refresh_token  # type: ignore[union-attr]
    # Still valid: no more refreshes.
    authorizer.get_authorization_header()
    assert auth.state.refresh_count == 1
    # After a 401 the authorizer refreshes and asks for one retry.
    assert authorizer.handle_missing_authorization() is True
    assert auth.state.refresh_count == 2
    assert authorizer.get_authorization_header() == f"Bearer {auth.state.latest_access_token(SCOPE_A)}"


def test_one_refresh_updates_every_scope_sharing_the_token(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    scopes = [f"https://auth.globus.org/scopes/cccccccc-3333-4333-8333-333333333333/{name}" for name in ("one", "two")]
    auth.state.expires_in = 0
    m = manager(auth, token_path)
    m.ensure(scopes)
    auth.state.expires_in = 3600
    m.access_token(scopes[0])
    assert auth.state.refresh_count == 1
    assert m.stored(scopes[1]).access_token == m.stored(scopes[0]).access_token  # type: ignore[union-attr]
    m.access_token(scopes[1])
    assert auth.state.refresh_count == 1


def test_rejected_refresh_token_logs_in_again_or_says_so(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    auth.state.expires_in = 0
    m = manager(auth, token_path)
    m.ensure([SCOPE_A])
    auth.state.revoked.add(m.stored(SCOPE_A).refresh_token)  # type: ignore[arg-type, union-attr]
    auth.state.expires_in = 3600
    strict = manager(auth, token_path, login="never")
    with pytest.raises(LoginRequired, match="refused the stored refresh token"):
        strict.access_token(SCOPE_A)
    assert strict.stored(SCOPE_A) is None  # the dead token is gone from the file
    m.access_token(SCOPE_A)  # the interactive one logs in again
    assert auth.state.authorize_count == 2


def test_logout_revokes_and_removes(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    m = manager(auth, token_path)
    m.ensure([SCOPE_A, SCOPE_B])
    a, b = m.stored(SCOPE_A), m.stored(SCOPE_B)
    assert a and b and auth.state.is_active(a.access_token)
    assert m.logout([SCOPE_A]) == [SCOPE_A]
    assert {a.access_token, a.refresh_token} <= auth.state.revoked
    assert not auth.state.is_active(a.access_token) and auth.state.is_active(b.access_token)
    assert set(file_doc(token_path)["environments"][auth.url]) == {SCOPE_B}
    from automate_lite.extras import logout

    assert logout(token_file=token_path, auth_base_url=auth.url) == [SCOPE_B]
    assert {b.access_token, b.refresh_token} <= auth.state.revoked
    assert file_doc(token_path)["environments"] == {}


def test_logout_removes_even_when_revocation_fails(auth: AuthStub, browser: StubBrowser, token_path: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    m = manager(auth, token_path)
    m.ensure([SCOPE_A])
    tok = m.stored(SCOPE_A)
    auth.state.revoke_error = (400, "invalid_request")
    with caplog.at_level(logging.WARNING, logger="automate_lite"):
        assert m.logout() == [SCOPE_A]
    assert "could not revoke" in caplog.text and SCOPE_A in caplog.text
    assert tok is not None and tok.access_token not in caplog.text
    assert m.stored(SCOPE_A) is None


def test_tokens_never_in_reprs_logs_or_errors(auth: AuthStub, browser: StubBrowser, token_path: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    auth.state.expires_in = 0
    with caplog.at_level(logging.DEBUG, logger="automate_lite"):
        m = manager(auth, token_path)
        m.ensure([SCOPE_A])
        auth.state.expires_in = 3600
        m.access_token(SCOPE_A)
        tok = m.stored(SCOPE_A)
        assert tok is not None
        secrets = {tok.access_token, tok.refresh_token}
        shown = " ".join([repr(m), repr(tok), str(tok), repr(m.authorizer(SCOPE_A)), repr(m.tokens), caplog.text])
        auth.state.revoked.add(tok.refresh_token)  # type: ignore[arg-type]
        with pytest.raises(LoginRequired) as info:
            manager(auth, token_path, login="never").renew(SCOPE_A)
    shown += str(info.value) + repr(info.value) + caplog.text
    for secret in secrets:
        assert secret and secret not in shown


def test_the_authorizer_is_blocking_and_follows_the_store(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    m = manager(auth, token_path)
    a = m.authorizer(SCOPE_A)
    assert isinstance(a, StoredTokenAuthorizer) and a.may_block is True
    assert isinstance(a, al.Authorizer)
    first = a.get_authorization_header()  # logs in on first use
    m.login([SCOPE_A])  # e.g. a consent login elsewhere
    assert a.get_authorization_header() != first
    assert a.get_authorization_header() == f"Bearer {auth.state.latest_access_token(SCOPE_A)}"


def test_session_requirements_go_into_the_authorize_url(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    m = manager(auth, token_path)
    m.login([SCOPE_A], authorization_parameters={
        "session_required_policies": ["p-1", "p-2"], "session_required_mfa": True,
        "session_message": "needs MFA", "required_scopes": [SCOPE_A], "prompt": "login",
    })
    q = auth.state.authorize_requests[-1]
    assert q["session_required_policies"] == "p-1,p-2" and q["session_required_mfa"] == "true"
    assert q["session_message"] == "needs MFA" and q["prompt"] == "login"


def test_command_line_login_list_logout(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    """``python -m automate_lite.extras``: login (no one to answer), list, logout."""
    env = dict(os.environ, SSH_CONNECTION="10.0.0.1 1 10.0.0.2 22")  # auto -> paste
    run = [sys.executable, "-m", "automate_lite.extras", "--token-file", token_path, "--auth-url", auth.url]
    proc = subprocess.run(run + ["login", SCOPE_A], capture_output=True, text=True, cwd=REPO, env=env, input="", timeout=60)
    assert proc.returncode == 1 and "standard input is closed" in proc.stderr and SCOPE_A in proc.stderr
    manager(auth, token_path).ensure([SCOPE_A, SCOPE_B])
    tok = manager(auth, token_path).stored(SCOPE_A)
    assert tok is not None
    proc = subprocess.run(run + ["list"], capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert proc.returncode == 0
    assert [line.split("\t")[0] for line in proc.stdout.splitlines()] == [SCOPE_A, SCOPE_B]
    assert "refreshable" in proc.stdout and tok.access_token not in proc.stdout
    proc = subprocess.run(run + ["logout", SCOPE_A], capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"logged out of {SCOPE_A}"
    assert {tok.access_token, tok.refresh_token} <= auth.state.revoked
    assert set(file_doc(token_path)["environments"][auth.url]) == {SCOPE_B}


def test_token_file_sections_follow_the_environment(isolated_home: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert LoginManager(login="never").environment == "production"
    assert LoginManager(login="never", auth_base_url="https://auth.globus.org").environment == "production"
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", "sandbox")
    assert LoginManager(login="never").environment == "sandbox"
    assert LoginManager(login="never", auth_base_url="https://auth.sandbox.globuscs.info").environment == "sandbox"
    # A stand-in Auth on loopback gets a section of its own: its tokens never mix with real ones.
    monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_AUTH", "http://127.0.0.1:9/")
    m = LoginManager(login="never")
    assert m.environment == "http://127.0.0.1:9" and m.auth_base_url == "http://127.0.0.1:9"
    assert LoginManager(login="never", environment="mine").environment == "mine"
    with pytest.raises(al.UsageError):
        LoginManager(login="never", auth_base_url="auth.globus.org")


def test_the_login_records_who_from_the_id_token_and_a_refresh_keeps_it(auth: AuthStub, browser: StubBrowser,
                                                                        token_path: str) -> None:
    m = manager(auth, token_path)
    m.ensure([SCOPE_A, SCOPE_B])
    assert "openid" in query_of(browser.urls[0])["scope"].split()
    doc = file_doc(token_path)["environments"][auth.url]
    assert set(doc) == {SCOPE_A, SCOPE_B}  # the id_token's own token is not kept
    assert {entry["identity_id"] for entry in doc.values()} == {auth.state.identity}
    auth.state.expires_in = 0
    m.login([SCOPE_A], authorization_parameters={"prompt": "login"})
    auth.state.expires_in = 3600
    before = m.stored(SCOPE_A)
    assert before is not None and before.expired()
    m.access_token(SCOPE_A)  # refreshed: a refresh brings no id_token
    after = m.stored(SCOPE_A)
    assert auth.state.refresh_count == 1 and after is not None and after.access_token != before.access_token
    assert after.identity_id == auth.state.identity


def test_an_id_token_for_another_client_is_not_believed() -> None:
    from automate_lite.extras._responses import identity_from_id_token

    def token(claims: dict) -> str:
        part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"e30.{part}.sig"

    assert identity_from_id_token(token({"sub": "me", "aud": "client-1"}), "client-1") == "me"
    assert identity_from_id_token(token({"sub": "me", "aud": ["x", "client-1"]}), "client-1") == "me"
    assert identity_from_id_token(token({"sub": "me", "aud": "other"}), "client-1") is None
    assert identity_from_id_token("not a jwt", "client-1") is None
    assert identity_from_id_token(None, "client-1") is None
