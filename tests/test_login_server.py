"""The browser login's one-shot redirect server, driven over real sockets on 127.0.0.1.

A browser may open spare connections it never uses (a preconnect), a page may request
``/favicon.ico``, and anyone on the machine may send a forged answer: none of these may
end the login, hold up the real answer, or make ``close()`` hang.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import urllib.parse
import webbrowser
from typing import Callable, Iterator

import pytest
from fauxbus_helpers import SCOPE_A, StubBrowser, auth, browser, fetch, isolated_home, token_path  # noqa: F401

from automate_lite.extras import LoginFailed, LoginManager
from automate_lite.extras.login_flows import RedirectServer as _RedirectServer
from automate_lite.testing.auth import AuthStub

STATE = "the-state-of-this-login"
#: Only a bound against hanging forever, never a measure of speed.
HANG = 60.0


@pytest.fixture
def server() -> Iterator[_RedirectServer]:
    srv = _RedirectServer(STATE)
    try:
        yield srv
    finally:
        closes_soon(srv)


def closes_soon(srv: _RedirectServer) -> None:
    t = threading.Thread(target=srv.close, daemon=True)
    t.start()
    t.join(HANG)
    assert not t.is_alive(), "close() hung"


def port_of(uri: str) -> int:
    port = urllib.parse.urlsplit(uri).port
    assert port is not None
    return port


def get(srv: _RedirectServer, target: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port_of(srv.redirect_uri), timeout=HANG)
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def idle(srv: _RedirectServer, send: bytes = b"") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port_of(srv.redirect_uri)), timeout=HANG)
    if send:
        s.sendall(send)
    return s


def dropped(s: socket.socket) -> bool:
    """True once the server closed ``s`` (a reset when it left unread bytes behind)."""
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True


def run_in_thread(fn: Callable[[], object]) -> list[object]:
    """Run ``fn`` in a thread; return [result] or [exception], failing if it hangs."""
    out: list[object] = []

    def body() -> None:
        try:
            out.append(fn())
        except BaseException as e:  # handed to the test to re-raise
            out.append(e)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(HANG)
    assert not t.is_alive(), "hung"
    return out


def test_idle_and_partial_connections_do_not_block_the_callback(server: _RedirectServer) -> None:
    silent = idle(server)
    partial = idle(server, b"GET /?code=")
    try:
        status, body = get(server, f"/?code=the-code&state={STATE}")
        assert status == 200 and b"Login complete" in body
        assert server.wait(HANG) == {"code": "the-code", "state": STATE}
    finally:
        silent.close()
        partial.close()


def test_close_is_bounded_with_a_connection_still_open(server: _RedirectServer) -> None:
    silent = idle(server)
    partial = idle(server, b"GET / HT")
    try:
        closes_soon(server)
        # The server dropped both connections rather than leaving them dangling.
        for s in (silent, partial):
            assert dropped(s)
        assert server.wait(0) is None
    finally:
        silent.close()
        partial.close()


def test_a_connection_that_never_sends_is_dropped_after_the_read_timeout() -> None:
    srv = _RedirectServer(STATE, read_timeout=0.2)
    try:
        silent = idle(srv)
        try:
            assert dropped(silent)  # by the server, not by close()
        finally:
            silent.close()
        assert get(srv, f"/?code=c&state={STATE}")[0] == 200
    finally:
        closes_soon(srv)


@pytest.mark.parametrize(
    "target, status",
    [
        ("/?code=stolen", 400),  # no state
        ("/?code=stolen&state=forged", 400),
        (f"/?code=stolen&state={STATE}x", 400),
        ("/?error=access_denied&state=forged", 400),  # a forged refusal ends nothing either
        (f"/elsewhere?code=stolen&state={STATE}", 404),
        ("/favicon.ico", 404),
    ],
)
def test_wrong_answers_get_an_error_page_and_the_wait_goes_on(server: _RedirectServer, target: str, status: int) -> None:
    assert get(server, target)[0] == status
    assert server.wait(0) is None
    assert get(server, f"/?code=the-code&state={STATE}")[0] == 200
    assert server.wait(HANG) == {"code": "the-code", "state": STATE}


def test_not_http_is_answered_and_ignored(server: _RedirectServer) -> None:
    s = idle(server, b"\x16\x03\x01 not http at all\r\n\r\n")
    try:
        assert s.recv(100).startswith(b"HTTP/1.1 400")
    finally:
        s.close()
    assert get(server, f"/?code=c&state={STATE}")[0] == 200


def test_login_completes_despite_a_browser_preconnect(auth: AuthStub, browser: StubBrowser, token_path: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    spare: list[socket.socket] = []

    def open_like_a_browser(url: str, new: int = 0, autoraise: bool = True) -> bool:
        redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0]
        port = port_of(redirect)
        spare.append(socket.create_connection(("127.0.0.1", port)))  # a preconnect: sends nothing
        spare.append(socket.create_connection(("127.0.0.1", port)))
        spare[-1].sendall(b"GET /?co")
        return browser.open(url, new, autoraise)

    monkeypatch.setattr(webbrowser, "open", open_like_a_browser)
    mgr = LoginManager(auth_base_url=auth.url, token_file=token_path, login="browser",
                       legacy_token_file=False, login_timeout=HANG)
    try:
        out = run_in_thread(lambda: mgr.ensure([SCOPE_A]))
    finally:
        for s in spare:
            s.close()
    assert out == [None]
    assert browser.landings[-1].status == 200
    assert mgr.stored(SCOPE_A) is not None


def test_a_forged_answer_first_does_not_end_the_login(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    forged: list[int] = []

    def forge_then_follow(location: str) -> str:
        forged.append(fetch(re.sub(r"state=[^&]+", "state=forged", location)).status)
        forged.append(fetch(re.sub(r"[?&]state=[^&]+", "", location)).status)
        return location

    browser.tamper = forge_then_follow
    mgr = LoginManager(auth_base_url=auth.url, token_file=token_path, login="browser",
                       legacy_token_file=False, login_timeout=HANG)
    assert run_in_thread(lambda: mgr.ensure([SCOPE_A])) == [None]
    assert forged == [400, 400]
    assert browser.landings[-1].status == 200
    assert auth.state.exchanges == 1


def test_only_forged_answers_time_out_and_say_so(auth: AuthStub, browser: StubBrowser, token_path: str) -> None:
    browser.tamper = lambda location: re.sub(r"state=[^&]+", "state=forged", location)
    mgr = LoginManager(auth_base_url=auth.url, token_file=token_path, login="browser",
                       legacy_token_file=False, login_timeout=0.5)
    [err] = run_in_thread(lambda: mgr.ensure([SCOPE_A]))
    assert isinstance(err, LoginFailed)
    assert "1 answer(s) with a missing or wrong state were refused" in str(err)
    assert browser.landings[-1].status == 400
    assert auth.state.exchanges == 0


def test_the_managers_are_globus_sdk_login_flow_managers(auth: AuthStub, browser: StubBrowser) -> None:
    """Usable wherever globus-sdk takes a LoginFlowManager (a GlobusApp, say): the
    redirect server and the state check come with them."""
    import globus_sdk
    from globus_sdk.gare import GlobusAuthorizationParameters
    from globus_sdk.login_flows import CommandLineLoginFlowManager, LocalServerLoginFlowManager

    from automate_lite.extras.login_flows import PasteLoginFlowManager, RedirectServerLoginFlowManager

    assert issubclass(RedirectServerLoginFlowManager, LocalServerLoginFlowManager)
    assert issubclass(PasteLoginFlowManager, CommandLineLoginFlowManager)
    client = globus_sdk.NativeAppAuthClient("c-direct", base_url=auth.url)
    flow = RedirectServerLoginFlowManager(client, request_refresh_tokens=True, native_prefill_named_grant="t",
                                          timeout=HANG)
    tokens = flow.run_login_flow(GlobusAuthorizationParameters(required_scopes=[SCOPE_A], prompt="login"))
    assert tokens.by_resource_server[SCOPE_A.split("/")[4]]["refresh_token"]
    [url] = browser.urls
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["state"] == flow.state and q["state"] != "_default" and q["prompt"] == "login"
    assert q["prefill_named_grant"] == "t" and q["code_challenge_method"] == "S256"
    assert flow.server is not None and browser.landings[0].status == 200
