"""A complete browser-style login against fauxbus, a third-party wire-level fake of Globus Auth.

fauxbus registers confidential clients only (a public client's code exchange answers 501)
and issues no refresh tokens (``access_type=offline`` answers 501), so this login uses a
``globus_sdk.ConfidentialAppAuthClient`` with PKCE added by automate-lite, and asks for no
refresh tokens. The public-client exchange, refresh and revocation are covered against
``automate_lite.testing.auth`` in test_extras_login.py.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Iterator

import globus_sdk
import pytest
from fauxbus_helpers import (  # noqa: F401
    ALICE_ID,
    FAUXBUS_CLIENT_ID,
    FAUXBUS_SECRET,
    SCOPE_A,
    Fauxbus,
    FauxbusBrowser,
    fetch,
    isolated_home,
    query_of,
    start_fauxbus,
    token_path,
)

from automate_lite.extras import LoginManager, create_action_client
from automate_lite.testing._server import App, Reply, StubRequest, StubServer

GROUPS_SCOPE = "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships"


@pytest.fixture
def fauxbus() -> Iterator[Fauxbus]:
    fb = start_fauxbus()
    yield fb
    fb.stop()


def _confidential(fb: Fauxbus) -> globus_sdk.ConfidentialAppAuthClient:
    return globus_sdk.ConfidentialAppAuthClient(FAUXBUS_CLIENT_ID, FAUXBUS_SECRET, base_url=fb.url)


def _introspect(fb: Fauxbus, token: str) -> dict:
    basic = base64.b64encode(f"{FAUXBUS_CLIENT_ID}:{FAUXBUS_SECRET}".encode()).decode()
    hop = fetch(fb.url + "/v2/oauth2/token/introspect", data=urllib.parse.urlencode({"token": token}).encode(),
                headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
    assert hop.status == 200, hop.body
    return json.loads(hop.body)  # type: ignore[no-any-return]


def test_browser_login_through_the_account_picker(fauxbus: Fauxbus, token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    browser = FauxbusBrowser(fauxbus)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    m = LoginManager(auth_client=_confidential(fauxbus), token_file=token_path, login="browser",
                     refresh_tokens=False, legacy_token_file=False)
    assert m.client_id == FAUXBUS_CLIENT_ID and m.environment == fauxbus.url
    m.ensure([SCOPE_A, GROUPS_SCOPE])  # two resource servers, one login

    [url] = browser.urls
    q = query_of(url)
    assert q["client_id"] == FAUXBUS_CLIENT_ID and q["response_type"] == "code"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["redirect_uri"].startswith("http://127.0.0.1:") and q["state"]
    assert q["scope"].split() == [SCOPE_A, GROUPS_SCOPE, "openid"]
    assert q.get("access_type", "online") == "online"
    # The person saw fauxbus's account picker, naming what the client asked for.
    assert "Alice Example" in browser.pages[0] and SCOPE_A in browser.pages[0]

    a, g = m.stored(SCOPE_A), m.stored(GROUPS_SCOPE)
    assert a is not None and g is not None
    assert a.resource_server == SCOPE_A.split("/")[4] and g.resource_server == "groups.api.globus.org"
    assert a.refresh_token is None and not a.expired()
    # The tokens are real fauxbus tokens, acting as alice, for what was asked.
    info = _introspect(fauxbus, a.access_token)
    assert info["active"] is True and info["sub"] == ALICE_ID and info["scope"] == SCOPE_A
    assert _introspect(fauxbus, g.access_token)["scope"] == GROUPS_SCOPE
    # Stored: another program in no-login mode gets them without a prompt.
    again = LoginManager(auth_client=_confidential(fauxbus), token_file=token_path, login="never", legacy_token_file=False)
    assert again.access_token(SCOPE_A) == a.access_token
    # Revocation at fauxbus (confidential client, Basic auth) and removal from the file.
    assert again.logout() == sorted([SCOPE_A, GROUPS_SCOPE])
    assert _introspect(fauxbus, a.access_token)["active"] is False


def test_create_action_client_with_a_fauxbus_login(fauxbus: Fauxbus, token_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper as a new user would call it, with fauxbus as Globus Auth; the provider
    checks each bearer token by introspecting it at fauxbus."""
    import webbrowser

    browser = FauxbusBrowser(fauxbus)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    app = App()
    app.add("GET", "/", lambda req: Reply.json({"globus_auth_scope": SCOPE_A, "title": "fauxbus-backed"}))

    def run(req: StubRequest) -> Reply:
        info = _introspect(fauxbus, req.bearer_token or "")
        if not info.get("active") or SCOPE_A not in info.get("scope", "").split():
            return Reply.json({"code": "AuthenticationFailed", "description": "bad token"}, 401)
        return Reply.json({"action_id": "a-1", "status": "SUCCEEDED", "creator_id": info["sub"], "details": {}}, 202)

    app.add("POST", "/run", run)
    manager = LoginManager(auth_client=_confidential(fauxbus), token_file=token_path, login="browser",
                           refresh_tokens=False, legacy_token_file=False)
    with StubServer(app) as provider:
        client = create_action_client(provider.url, manager=manager)
        assert client.action_scope == SCOPE_A
        assert client.run({})["creator_id"] == ALICE_ID
    assert len(browser.urls) == 1
