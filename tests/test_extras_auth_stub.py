"""automate_lite.testing.auth on its own: the public-client exchange with PKCE, refresh, revoke,
introspect, and the refusals a real Globus Auth makes."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse

import globus_sdk
import pytest
from fauxbus_helpers import SCOPE_A, SCOPE_B, SCOPE_B_DEP, auth, fetch, query_of  # noqa: F401

from automate_lite.testing.auth import AuthStub, resource_server_of

VERIFIER = "v" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
REDIRECT = "http://127.0.0.1:8765/"


def authorize(auth: AuthStub, **params: str) -> dict[str, str]:
    q = {"client_id": "c-1", "redirect_uri": REDIRECT, "scope": f"{SCOPE_A} {SCOPE_B_DEP}", "response_type": "code",
         "code_challenge": CHALLENGE, "code_challenge_method": "S256", "access_type": "offline", "state": "s-1"}
    q.update(params)
    q = {k: v for k, v in q.items() if v}  # an empty value: leave the parameter out
    hop = fetch(auth.url + "/v2/oauth2/authorize?" + urllib.parse.urlencode(q))
    assert hop.status == 302, hop.body
    location = hop.headers["location"]
    assert location.startswith(q["redirect_uri"])
    return query_of(location)


def post(auth: AuthStub, path: str, form: dict[str, str], basic: tuple[str, str] | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
    hop = fetch(auth.url + path, data=urllib.parse.urlencode(form).encode(), headers=headers)
    return hop.status, json.loads(hop.body)


def exchange(auth: AuthStub, code: str, **extra: str) -> tuple[int, dict]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER, "client_id": "c-1"}
    form.update(extra)
    return post(auth, "/v2/oauth2/token", form)


def test_public_client_exchange_refresh_revoke_introspect(auth: AuthStub) -> None:
    answer = authorize(auth)
    assert answer["state"] == "s-1"
    status, doc = exchange(auth, answer["code"])
    assert status == 200
    # Globus's shape: one token per resource server, the others in other_tokens.
    assert doc["resource_server"] == resource_server_of(SCOPE_A) and doc["scope"] == SCOPE_A
    [other] = doc["other_tokens"]
    assert other["scope"] == SCOPE_B and other["refresh_token"] and doc["token_type"] == "Bearer"
    assert exchange(auth, answer["code"])[1]["error"] == "invalid_grant"  # codes are one-use
    # Refresh (with globus-sdk's own native client).
    client = globus_sdk.NativeAppAuthClient("c-1", base_url=auth.url)
    refreshed = client.oauth2_refresh_token(doc["refresh_token"]).by_resource_server[doc["resource_server"]]
    assert refreshed["access_token"] != doc["access_token"] and auth.state.refresh_count == 1
    assert post(auth, "/v2/oauth2/token/introspect", {"token": refreshed["access_token"]})[1]["active"] is True
    # Revoking the refresh token revokes the access tokens issued from it.
    client.oauth2_revoke_token(doc["refresh_token"])
    assert not auth.state.is_active(refreshed["access_token"]) and not auth.state.is_active(doc["access_token"])
    assert post(auth, "/v2/oauth2/token/introspect", {"token": doc["access_token"]})[1] == {"active": False}
    with pytest.raises(globus_sdk.AuthAPIError) as info:
        client.oauth2_refresh_token(doc["refresh_token"])
    assert info.value.http_status == 400 and info.value.raw_json == {
        "error": "invalid_grant", "error_description": "unknown or revoked refresh token"}


def test_refusals(auth: AuthStub) -> None:
    code = authorize(auth)["code"]
    assert exchange(auth, code, code_verifier="w" * 50)[1]["error"] == "invalid_grant"  # wrong verifier
    assert exchange(auth, code, redirect_uri="http://127.0.0.1:1/")[1]["error"] == "invalid_grant"
    assert exchange(auth, code, client_id="c-2")[1]["error"] == "invalid_grant"
    assert exchange(auth, code)[0] == 200  # a failed exchange does not spend the code
    # A native app must use PKCE; a redirect must be loopback (else a page, not a redirect).
    assert authorize(auth, code_challenge="", code_challenge_method="")["error"] == "invalid_request"
    hop = fetch(auth.url + "/v2/oauth2/authorize?" + urllib.parse.urlencode(
        {"client_id": "c", "redirect_uri": "https://evil.example/", "scope": SCOPE_A, "response_type": "code"}))
    assert hop.status == 400 and "location" not in hop.headers
    assert authorize(auth, scope="nonsense")["error"] == "invalid_scope"
    assert post(auth, "/v2/oauth2/token", {"grant_type": "password", "client_id": "c"})[1]["error"] == "unsupported_grant_type"
    # No refresh token without access_type=offline.
    status, doc = exchange(auth, authorize(auth, access_type="online")["code"])
    assert status == 200 and "refresh_token" not in doc


def test_confidential_clients_authenticate_with_basic() -> None:
    with AuthStub(clients={"conf": "s3cret", "pub": None}) as auth:
        code = authorize(auth, client_id="conf", code_challenge="", code_challenge_method="")  # PKCE optional here
        form = {"grant_type": "authorization_code", "code": code["code"], "redirect_uri": REDIRECT}
        assert post(auth, "/v2/oauth2/token", form, basic=("conf", "wrong"))[0] == 401
        assert post(auth, "/v2/oauth2/token", dict(form, client_id="conf"))[0] == 401  # no secret
        status, doc = post(auth, "/v2/oauth2/token", form, basic=("conf", "s3cret"))
        assert status == 200 and doc["access_token"]
        assert post(auth, "/v2/oauth2/token", {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "who"})[0] == 401


def _jwt_claims(token: str, key: bytes) -> dict:
    import hmac

    head, payload, signature = token.split(".")
    expected = hmac.new(key, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
    assert json.loads(base64.urlsafe_b64decode(head + "==="))["alg"] == "HS256"
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_openid_brings_an_id_token_and_userinfo_answers_for_its_token(auth: AuthStub) -> None:
    answer = authorize(auth, scope=f"{SCOPE_A} openid")
    status, doc = exchange(auth, answer["code"])
    assert status == 200
    claims = _jwt_claims(doc["id_token"], auth.state.id_token_key)
    assert claims["sub"] == auth.state.identity and claims["aud"] == "c-1" and claims["iss"] == auth.url
    assert claims["preferred_username"] == f"{auth.state.identity}@stub.example" and claims["exp"] > claims["iat"]
    [openid_doc] = [d for d in [doc, *doc["other_tokens"]] if d["scope"] == "openid"]
    service_doc = next(d for d in [doc, *doc["other_tokens"]] if d["scope"] == SCOPE_A)

    def userinfo(token: str) -> tuple[int, dict]:
        hop = fetch(auth.url + "/v2/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"})
        return hop.status, json.loads(hop.body)

    status, info = userinfo(openid_doc["access_token"])
    assert status == 200 and info["sub"] == auth.state.identity and info["email"].endswith("@stub.example")
    assert userinfo(service_doc["access_token"])[0] == 403  # a token without openid
    assert userinfo("not-a-token")[0] == 401
    # globus-sdk's own client reads it too
    sdk_info = globus_sdk.AuthClient(base_url=auth.url,
                                     authorizer=globus_sdk.AccessTokenAuthorizer(openid_doc["access_token"])).userinfo()
    assert sdk_info["sub"] == auth.state.identity
    # no openid, no id_token
    plain = exchange(auth, authorize(auth)["code"])[1]
    assert "id_token" not in plain
