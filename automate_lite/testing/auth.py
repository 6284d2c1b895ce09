"""A loopback stand-in for Globus Auth's OAuth2 endpoints (standard library only).

It covers what a native (public) app does, and a confidential one when registered::

    with AuthStub() as auth:                 # any client id is a public client
        auth.url                             # http://127.0.0.1:PORT
        auth.state.refresh_count             # what tests read

| route                              | what it does                                          |
|------------------------------------|-------------------------------------------------------|
| ``GET /v2/oauth2/authorize``       | approves at once: 302 to ``redirect_uri?code=&state=`` |
| ``GET /v2/web/auth-code``          | the page showing the code to paste (native apps)      |
| ``POST /v2/oauth2/token``          | ``authorization_code`` (PKCE S256 checked) and        |
|                                    | ``refresh_token`` grants                              |
| ``POST /v2/oauth2/token/revoke``   | revokes an access or refresh token (RFC 7009)         |
| ``POST /v2/oauth2/token/introspect`` | ``{"active", "scope", "client_id", "sub", ...}``    |
| ``GET /v2/oauth2/userinfo``        | OpenID Connect claims for a token granted ``openid``  |

Choices
    * A scope's resource server is read from its shape, as Globus names them:
      ``https://auth.globus.org/scopes/{rs}/{name}``, ``urn:globus:auth:scope:{rs}:{name}``;
      ``openid``/``email``/``profile`` belong to ``auth.globus.org``. Dependent scopes
      (``A[B]``) are accepted and recorded; the token's ``scope`` field names ``A``.
    * One token per resource server: the first requested is the top-level token, the
      others are in ``other_tokens`` (Globus's shape). ``access_type=offline`` adds a
      refresh token to each; a refresh returns a new access token and the same refresh
      token, ``other_tokens: []``.
    * ``redirect_uri`` must be a loopback ``http://127.0.0.1:PORT/...`` or
      ``http://localhost:PORT/...`` (Globus allows any port for native apps) or this
      server's ``/v2/web/auth-code``; else a 400 page, never a redirect.
    * Public clients (``client_id`` in the form, no secret) must use PKCE S256;
      confidential ones (``clients={id: secret}``, HTTP Basic) may add it.
    * When ``openid`` is granted, the code exchange's answer carries an ``id_token``: a
      JWT (HS256, this stand-in's own random key, exposed as ``state.id_token_key``) whose
      claims are ``iss`` (this server), ``sub`` (the identity), ``aud`` (the client),
      ``iat``, ``exp``, ``preferred_username``, ``name`` and ``email``. A refresh brings
      none (the identity does not change).
    * Revoking a refresh token also revokes the access tokens issued from it.
    * Errors are OAuth-shaped: ``{"error": "invalid_grant", "error_description": ...}``,
      400 (401 for ``invalid_client``).

Tests read and steer :class:`AuthState`: ``refresh_count``, ``revoked``, ``authorize_requests``
(the query parameters of each authorization, e.g. ``session_required_policies``),
``expires_in`` (seconds the next access tokens live; 0 makes them expire at once),
``deny_next``, ``revoke_error`` and ``on_issue`` (called with ``(access_token, scopes, identity)`` for every
access token issued, so a resource stand-in can be told to accept it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from typing import Callable, Mapping, Sequence
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ._server import App, Reply, Served, StubRequest, StubServer

__all__ = ["AuthStub", "AuthState", "Grant", "make_auth_app", "resource_server_of", "DEFAULT_IDENTITY"]

#: The identity every token acts as unless ``identity=`` says otherwise.
DEFAULT_IDENTITY = "a11ce000-0000-4000-8000-000000000001"

_URL_PREFIX = "https://auth.globus.org/scopes/"
_URN_PREFIX = "urn:globus:auth:scope:"
_OIDC = frozenset({"openid", "email", "profile"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

#: ``on_issue`` callbacks: ``(access_token, requested scopes, identity)``.
IssueHook = Callable[[str, Sequence[str], str], None]


def _base(scope: str) -> str:
    return scope.split("[", 1)[0].strip()


def resource_server_of(scope: str) -> str | None:
    """The resource server a scope string belongs to, or ``None`` if its shape is unknown."""
    base = _base(scope).lstrip("*")
    if base.startswith(_URL_PREFIX):
        rs, _, name = base[len(_URL_PREFIX):].partition("/")
        return rs if rs and name else None
    if base.startswith(_URN_PREFIX):
        rs, _, name = base[len(_URN_PREFIX):].partition(":")
        return rs if rs and name else None
    if base in _OIDC:
        return "auth.globus.org"
    return None


@dataclass
class Grant:
    """Tokens issued for one resource server by one authorization."""

    client_id: str
    resource_server: str
    scopes: list[str]  # as requested, dependent scopes included
    identity: str
    refresh_token: str | None
    access_tokens: list[str] = field(default_factory=list)

    @property
    def scope_field(self) -> str:
        return " ".join(dict.fromkeys(_base(s) for s in self.scopes))


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    offline: bool
    state: str | None
    used: bool = False


class _OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def reply(self) -> Reply:
        return Reply.json({"error": self.error, "error_description": self.description}, self.status)


class AuthState:
    """Everything the stand-in issued and saw; thread-safe; read and steered by tests."""

    def __init__(self, clients: Mapping[str, str | None] | None, identity: str, expires_in: int) -> None:
        #: client id -> secret (``None``: a public client). ``None``: any id is public.
        self.clients = dict(clients) if clients is not None else None
        self.identity = identity
        #: Seconds the next access tokens live (0 or less: already expired).
        self.expires_in = expires_in
        #: ``(error, description)`` for the next authorization, instead of a code.
        self.deny_next: tuple[str, str] | None = None
        #: ``(status, error)`` answered by every revocation while set.
        self.revoke_error: tuple[int, str] | None = None
        self.on_issue: list[IssueHook] = []
        self.lock = threading.RLock()
        self.codes: dict[str, _Code] = {}
        self.grants: list[Grant] = []
        self.by_access: dict[str, Grant] = {}
        self.by_refresh: dict[str, Grant] = {}
        self.expiry: dict[str, float] = {}
        self.revoked: set[str] = set()
        self.authorize_requests: list[dict[str, str]] = []
        self.refreshes: list[str] = []  # resource server of each refresh
        self.exchanges = 0
        self.revocations = 0
        #: The HS256 key the ``id_token`` JWTs are signed with.
        self.id_token_key = secrets.token_bytes(32)
        self.userinfo_requests = 0

    def claims(self, identity: str) -> dict[str, object]:
        """The OpenID Connect claims of ``identity`` (the ``id_token``'s and ``userinfo``'s)."""
        return {"sub": identity, "preferred_username": f"{identity}@stub.example",
                "name": "Stand-in User", "email": f"{identity}@stub.example"}

    def id_token(self, identity: str, client_id: str, issuer: str) -> str:
        """A signed JWT naming ``identity`` for ``client_id``."""
        now = int(time.time())
        claims = dict(self.claims(identity), iss=issuer, aud=client_id, iat=now, exp=now + 172800)

        def part(doc: object) -> bytes:
            return base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode()).rstrip(b"=")

        signing_input = part({"alg": "HS256", "typ": "JWT"}) + b"." + part(claims)
        signature = hmac.new(self.id_token_key, signing_input, hashlib.sha256).digest()
        return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()

    @property
    def refresh_count(self) -> int:
        """How many refresh grants succeeded."""
        with self.lock:
            return len(self.refreshes)

    @property
    def authorize_count(self) -> int:
        """How many authorizations were approved or denied."""
        with self.lock:
            return len(self.authorize_requests)

    def is_active(self, token: str) -> bool:
        """True for an issued, unrevoked, unexpired access or refresh token."""
        with self.lock:
            if token in self.revoked:
                return False
            if token in self.by_refresh:
                return True
            return token in self.by_access and self.expiry.get(token, 0) > time.time()

    def latest_access_token(self, scope: str) -> str | None:
        """The last access token issued whose grant includes ``scope``'s base scope."""
        with self.lock:
            for grant in reversed(self.grants):
                if _base(scope) in grant.scope_field.split() and grant.access_tokens:
                    return grant.access_tokens[-1]
        return None

    def add_refresh_token(self, refresh_token: str, scopes: Sequence[str], client_id: str, identity: str | None = None) -> None:
        """Accept a refresh token issued elsewhere (e.g. one in a legacy token file)."""
        rs = resource_server_of(scopes[0]) or "unknown"
        grant = Grant(client_id, rs, list(scopes), identity or self.identity, refresh_token)
        with self.lock:
            self.grants.append(grant)
            self.by_refresh[refresh_token] = grant

    def _issue_access(self, grant: Grant) -> dict[str, object]:
        token = "AT-" + secrets.token_urlsafe(24)
        with self.lock:
            grant.access_tokens.append(token)
            self.by_access[token] = grant
            self.expiry[token] = time.time() + self.expires_in
            expires_in = self.expires_in
            hooks = list(self.on_issue)
        for hook in hooks:
            hook(token, list(grant.scopes), grant.identity)
        doc: dict[str, object] = {
            "access_token": token,
            "expires_in": expires_in,
            "resource_server": grant.resource_server,
            "scope": grant.scope_field,
            "token_type": "Bearer",
        }
        if grant.refresh_token is not None:
            doc["refresh_token"] = grant.refresh_token
        return doc


def _form(req: StubRequest) -> dict[str, str]:
    if "application/x-www-form-urlencoded" not in req.headers.get("content-type", ""):
        raise _OAuthError("invalid_request", "the token endpoints take an application/x-www-form-urlencoded body")
    return {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _client(state: AuthState, req: StubRequest, form: Mapping[str, str]) -> tuple[str, bool]:
    """Who is calling: ``(client_id, confidential)``."""
    auth = req.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise _OAuthError("invalid_client", "malformed Basic credentials", 401) from None
        if "client_secret" in form:
            raise _OAuthError("invalid_request", "client credentials sent twice")
        known = state.clients or {}
        if known.get(client_id) is None or known[client_id] != secret:
            raise _OAuthError("invalid_client", "unknown client or wrong secret", 401)
        return client_id, True
    client_id = form.get("client_id", "")
    if not client_id:
        raise _OAuthError("invalid_client", "no client_id and no Basic credentials", 401)
    if state.clients is not None:
        if client_id not in state.clients:
            raise _OAuthError("invalid_client", f"no client {client_id}", 401)
        if state.clients[client_id] is not None:
            raise _OAuthError("invalid_client", "a confidential client must authenticate with its secret", 401)
    return client_id, False


def _redirect_ok(uri: str, own_url: str) -> bool:
    if uri == own_url + "/v2/web/auth-code":
        return True
    try:
        parts = urlsplit(uri)
        parts.port
    except ValueError:
        return False
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS and parts.port is not None


def _with_query(uri: str, params: Mapping[str, str | None]) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).decode().rstrip("=")


def make_auth_app(state: AuthState, own_url: Callable[[], str]) -> App:
    """The routes, over ``state``; ``own_url()`` is this server's URL."""
    app = App()

    def authorize(req: StubRequest) -> Reply:
        q = {k: v[0] for k, v in req.query.items()}
        client_id = q.get("client_id", "")
        redirect_uri = q.get("redirect_uri", "")
        if not client_id or (state.clients is not None and client_id not in state.clients):
            return Reply.text(f"<p>Unknown client {escape(client_id)!s}</p>", 400, "text/html")
        if not _redirect_ok(redirect_uri, own_url()):
            return Reply.text(f"<p>redirect_uri {escape(redirect_uri)} is not allowed</p>", 400, "text/html")
        with state.lock:
            state.authorize_requests.append(dict(q))
            denied, state.deny_next = state.deny_next, None
        st = q.get("state")

        def refuse(error: str, description: str) -> Reply:
            return Reply(302, b"", {"Location": _with_query(redirect_uri, {"error": error, "error_description": description, "state": st})})

        if denied is not None:
            return refuse(*denied)
        if q.get("response_type") != "code":
            return refuse("unsupported_response_type", "only response_type=code")
        scopes = q.get("scope", "").split()
        # Dependent scopes hold spaces inside brackets: re-join the split pieces.
        joined: list[str] = []
        depth = 0
        for piece in scopes:
            if depth > 0:
                joined[-1] += " " + piece
            else:
                joined.append(piece)
            depth += piece.count("[") - piece.count("]")
        if not joined:
            return refuse("invalid_scope", "scope is required")
        unknown = [s for s in joined if resource_server_of(s) is None]
        if unknown:
            return refuse("invalid_scope", f"unknown scope(s): {' '.join(unknown)}")
        challenge = q.get("code_challenge")
        method = q.get("code_challenge_method")
        public = state.clients is None or state.clients.get(client_id) is None
        if challenge is None and public:
            return refuse("invalid_request", "a native app must use PKCE (code_challenge, S256)")
        if challenge is not None and (method != "S256" or len(challenge) != 43):
            return refuse("invalid_request", "code_challenge must be S256: 43 base64url characters")
        code = "code-" + secrets.token_urlsafe(18)
        with state.lock:
            state.codes[code] = _Code(client_id, redirect_uri, joined, challenge, q.get("access_type") == "offline", st)
        return Reply(302, b"", {"Location": _with_query(redirect_uri, {"code": code, "state": st})})

    def auth_code_page(req: StubRequest) -> Reply:
        code = req.arg("code") or ""
        return Reply.text(
            "<!DOCTYPE html><html><body><p>Your authorization code:</p>"
            f"<p><code id='code'>{escape(code)}</code></p></body></html>", 200, "text/html"
        )

    def token(req: StubRequest) -> Reply:
        try:
            form = _form(req)
            client_id, _ = _client(state, req, form)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                return Reply.json(_exchange(form, client_id))
            if grant_type == "refresh_token":
                return Reply.json(_refresh(form, client_id))
            raise _OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        except _OAuthError as e:
            return e.reply()

    def _exchange(form: Mapping[str, str], client_id: str) -> dict[str, object]:
        with state.lock:
            code = state.codes.get(form.get("code", ""))
            if code is None or code.used:
                raise _OAuthError("invalid_grant", "unknown or already used authorization code")
            if code.client_id != client_id:
                raise _OAuthError("invalid_grant", "the code was issued to another client")
            if code.redirect_uri != form.get("redirect_uri"):
                raise _OAuthError("invalid_grant", "redirect_uri differs from the authorization's")
            verifier = form.get("code_verifier")
            if code.challenge is not None and (not verifier or _s256(verifier) != code.challenge):
                raise _OAuthError("invalid_grant", "code_verifier does not match the code_challenge (S256)")
            code.used = True
            state.exchanges += 1
        by_rs: dict[str, list[str]] = {}
        for scope in code.scopes:
            by_rs.setdefault(resource_server_of(scope) or "unknown", []).append(scope)
        docs = []
        for rs, scopes in by_rs.items():
            grant = Grant(client_id, rs, scopes, state.identity,
                          "RT-" + secrets.token_urlsafe(24) if code.offline else None)
            with state.lock:
                state.grants.append(grant)
                if grant.refresh_token is not None:
                    state.by_refresh[grant.refresh_token] = grant
            docs.append(state._issue_access(grant))
        top = dict(docs[0])
        top["other_tokens"] = docs[1:]
        if "openid" in {_base(s) for s in code.scopes}:
            top["id_token"] = state.id_token(state.identity, client_id, own_url())
        if code.state is not None:
            top["state"] = code.state
        return top

    def _refresh(form: Mapping[str, str], client_id: str) -> dict[str, object]:
        refresh_token = form.get("refresh_token", "")
        with state.lock:
            grant = state.by_refresh.get(refresh_token)
            if grant is None or refresh_token in state.revoked:
                raise _OAuthError("invalid_grant", "unknown or revoked refresh token")
            if grant.client_id != client_id:
                raise _OAuthError("invalid_grant", "the refresh token was issued to another client")
            state.refreshes.append(grant.resource_server)
        doc = state._issue_access(grant)
        doc["other_tokens"] = []
        return doc

    def revoke(req: StubRequest) -> Reply:
        try:
            form = _form(req)
            _client(state, req, form)
        except _OAuthError as e:
            return e.reply()
        tok = form.get("token", "")
        if state.revoke_error is not None:
            status, error = state.revoke_error
            return _OAuthError(error, "revocation failed (injected)", status).reply()
        with state.lock:
            state.revocations += 1
            state.revoked.add(tok)
            grant = state.by_refresh.get(tok)
            if grant is not None:
                state.revoked.update(grant.access_tokens)
        return Reply.json({"active": False})

    def introspect(req: StubRequest) -> Reply:
        try:
            form = _form(req)
        except _OAuthError as e:
            return e.reply()
        tok = form.get("token", "")
        with state.lock:
            grant = state.by_access.get(tok) or state.by_refresh.get(tok)
            active = state.is_active(tok)
            expiry = state.expiry.get(tok)
        if grant is None or not active:
            return Reply.json({"active": False})
        doc: dict[str, object] = {
            "active": True,
            "scope": grant.scope_field,
            "client_id": grant.client_id,
            "sub": grant.identity,
            "username": f"{grant.identity}@stub.example",
            "aud": [grant.resource_server],
            "token_type": "Bearer",
        }
        if expiry is not None:
            doc["exp"] = int(expiry)
        return Reply.json(doc)

    def userinfo(req: StubRequest) -> Reply:
        tok = req.bearer_token or ""
        with state.lock:
            state.userinfo_requests += 1
            grant = state.by_access.get(tok)
            active = state.is_active(tok)
        if grant is None or not active:
            return Reply.json({"error": "invalid_token", "error_description": "no valid bearer token"}, 401,
                              {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if "openid" not in grant.scope_field.split():
            return Reply.json({"error": "insufficient_scope", "error_description": "the token lacks openid"}, 403)
        return Reply.json(state.claims(grant.identity))

    app.add("GET", "/v2/oauth2/authorize", authorize)
    app.add("GET", "/v2/oauth2/userinfo", userinfo)
    app.add("GET", "/v2/web/auth-code", auth_code_page)
    app.add("POST", "/v2/oauth2/token", token)
    app.add("POST", "/v2/oauth2/token/revoke", revoke)
    app.add("POST", "/v2/oauth2/token/introspect", introspect)
    return app


class AuthStub(Served):
    """Globus Auth's OAuth2 endpoints on ``host:port`` (port 0: a free one).

    Args:
        clients: client id -> secret (``None`` for a public client); default: any
            client id is accepted as a public client.
        identity: the identity id every token acts as.
        expires_in: seconds access tokens live (``state.expires_in`` changes it later).
    """

    def __init__(
        self,
        *,
        clients: Mapping[str, str | None] | None = None,
        identity: str = DEFAULT_IDENTITY,
        expires_in: int = 172800,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = AuthState(clients, identity, expires_in)
        self.app = make_auth_app(self.state, lambda: self.url)
        self.server = StubServer(self.app, host, port)
