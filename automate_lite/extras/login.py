"""Interactive Globus login and the token manager behind the ``create_*_client`` helpers.

:class:`LoginManager` gets tokens for scopes: from the token file (see
:mod:`automate_lite.extras.storage`), by refreshing them, or by one interactive login
that asks for every missing scope at once. The login is the OAuth2 authorization-code
flow with PKCE (S256) of a native app, run with globus-sdk (imported here, lazily, and
nowhere on the path of ``import automate_lite``):

* ``"browser"``: a one-shot HTTP server on ``127.0.0.1`` (a free port) is the
  ``redirect_uri``; the authorize URL is opened with :func:`webbrowser.open` and also
  printed on stderr.
* ``"paste"``: the URL is printed on stderr and the code read from stdin (Globus Auth's
  ``/v2/web/auth-code`` page shows it).
* ``"auto"`` (default): the browser when one can be opened (not over SSH, not a text
  browser), else paste.
* ``"never"``: no login at all; :class:`~automate_lite.extras.errors.LoginRequired` names
  the scopes to obtain. Also chosen by ``AUTOMATE_LITE_NO_LOGIN=1``.

Globus Auth is ``https://auth.globus.org`` unless ``auth_base_url=`` or
``GLOBUS_SDK_SERVICE_URL_AUTH`` (or ``GLOBUS_SDK_ENVIRONMENT``) says otherwise.

The redirect server lives here with the flow it serves (hence the module's length): it
knows the login's ``state`` and ends the wait only for the answer that carries it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import socket
import sys
import threading
import time
from contextlib import suppress
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

from ..errors import AutomateAPIError, UsageError
from .errors import LoginFailed, LoginRequired
from .storage import LEGACY_CLIENT_ID, StoredToken, TokenFile, base_scope, environment_name

__all__ = [
    "DEFAULT_CLIENT_ID",
    "LoginManager",
    "LoginMode",
    "StoredTokenAuthorizer",
]

log = logging.getLogger("automate_lite.extras")

#: The native-app client the original globus-automate-client logged in with. Using it
#: by default keeps the tokens of existing users refreshable and the consent screen
#: familiar; pass your own registered native client's id as ``client_id`` to use yours.
DEFAULT_CLIENT_ID = LEGACY_CLIENT_ID

LoginMode = Literal["auto", "browser", "paste", "never"]
_MODES = ("auto", "browser", "paste", "never")
_TRUE = frozenset({"1", "true", "yes", "on"})
_TEXT_BROWSERS = frozenset({"lynx", "www-browser", "links", "elinks", "w3m"})
#: Globus Auth requirement fields that become query parameters of the authorize URL.
_AUTHORIZE_PARAMS = (
    "session_required_identities",
    "session_required_single_domain",
    "session_required_policies",
    "session_required_mfa",
    "session_message",
    "prompt",
)


def _sdk() -> Any:
    try:
        import globus_sdk
    except ImportError:  # pragma: no cover - the login extra is not installed
        raise UsageError(
            "logging in needs globus-sdk: pip install 'automate-lite[login]' "
            "(or build an authorizer from a token you hold: automate_lite.BearerTokenAuthorizer)"
        ) from None
    return globus_sdk


def resolve_login_mode(login: LoginMode | bool | None, environ: Mapping[str, str] | None = None) -> LoginMode:
    """``login=`` as given, else ``never`` when ``AUTOMATE_LITE_NO_LOGIN`` is set, else
    ``AUTOMATE_LITE_LOGIN`` (auto/browser/paste/never), else ``auto``."""
    if login is True:
        return "auto"
    if login is False:
        return "never"
    if login is not None:
        if login not in _MODES:
            raise UsageError(f"login must be one of {', '.join(_MODES)} (or True/False), got {login!r}")
        return login
    env = os.environ if environ is None else environ
    if env.get("AUTOMATE_LITE_NO_LOGIN", "").strip().lower() in _TRUE:
        return "never"
    chosen = env.get("AUTOMATE_LITE_LOGIN", "").strip().lower()
    if chosen:
        if chosen not in _MODES:
            raise UsageError(f"AUTOMATE_LITE_LOGIN must be one of {', '.join(_MODES)}, got {chosen!r}")
        return chosen  # type: ignore[return-value]
    return "auto"


def _is_globus_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith((".globus.org", ".globuscs.info"))


def _check_scopes(scopes: Iterable[str] | str, argument: str = "scopes") -> list[str]:
    items = [scopes] if isinstance(scopes, str) else list(scopes)
    if not items or not all(isinstance(s, str) and s.strip() for s in items):
        raise UsageError(f"{argument} must be a non-empty list of Globus scope strings, got {scopes!r}")
    return list(dict.fromkeys(s.strip() for s in items))


def _query_value(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _authorize_query(params: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in _AUTHORIZE_PARAMS:
        value = _query_value((params or {}).get(key))
        if value is not None:
            out[key] = value
    return out


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _say(message: str) -> None:
    stream = sys.stderr
    if stream is not None:
        stream.write(message)
        stream.flush()


def can_open_browser() -> bool:
    """True when a graphical browser is likely to reach this machine's 127.0.0.1."""
    if os.environ.get("SSH_TTY") or os.environ.get("SSH_CONNECTION"):
        return False
    import webbrowser

    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    name = getattr(browser, "name", None) or getattr(browser, "_name", "")
    return name not in _TEXT_BROWSERS


class _NoBrowser(Exception):
    pass


class _Secret:
    """A token, or a token response, held so that ``repr`` hides it: a traceback printer
    that shows local variables (Sentry, rich, ``pytest --showlocals``) then shows no
    token. (globus-sdk's token responses print their whole body in ``repr``.)"""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret, hidden>"


_DONE_PAGE = (
    b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>automate-lite login</title></head>"
    b"<body><h1>Login complete</h1><p>You may close this window and return to your program.</p>"
    b"</body></html>"
)
_BAD_STATE_PAGE = (
    b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>automate-lite login</title></head>"
    b"<body><h1>Not this login</h1><p>This answer does not belong to the login your program "
    b"started (its state is missing or wrong), so it was ignored. The program is still waiting: "
    b"use the link it printed.</p></body></html>"
)
#: The longest request head the redirect server reads (the callback's query is short).
_MAX_HEAD = 16 * 1024
#: How long one connection may take to send its request head. A browser preconnect that
#: never sends anything is dropped after this, and never delays another connection.
_READ_TIMEOUT = 10.0
#: Connections served at once; a browser opens a few, more is a flood.
_MAX_CONNECTIONS = 64
#: How long close() waits for the server's threads.
_CLOSE_TIMEOUT = 2.0


class _RedirectServer:
    """A one-shot HTTP server on 127.0.0.1 that waits for Globus Auth's redirect.

    It accepts on its own thread and serves each connection on another, with a bounded
    read, so an idle or slow connection (a browser preconnect) cannot hold up the real
    callback. Only ``GET /`` carrying the ``state`` of this login ends the wait; any
    other request gets an error page and the server keeps waiting (RFC 8252 §8.1,
    RFC 6749 §10.12).
    """

    def __init__(self, state: str, read_timeout: float = _READ_TIMEOUT) -> None:
        self._state = state
        self._read_timeout = read_timeout
        self._done = threading.Event()
        self._closing = threading.Event()
        self._result: dict[str, str] | None = None
        self._guard = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        self.refused = 0  # callbacks answered 400 for a missing or wrong state
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.bind(("127.0.0.1", 0))
            self._listener.listen(16)
            # A timeout on accept so the loop sees close() even on platforms where closing
            # a listening socket does not wake a blocked accept().
            self._listener.settimeout(0.2)
        except OSError:
            self._listener.close()
            raise
        port = self._listener.getsockname()[1]
        # The form globus-sdk's own local-server login uses with Globus Auth (no path).
        self.redirect_uri = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="automate-lite-login")
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # the listener was closed
            with self._guard:
                if self._closing.is_set():
                    conn.close()
                    return
                if len(self._conns) >= _MAX_CONNECTIONS:  # a flood: drop, never queue threads
                    conn.close()
                    continue
                self._conns.add(conn)
                self._workers = [w for w in self._workers if w.is_alive()]
                worker = threading.Thread(target=self._serve, args=(conn,), daemon=True, name="automate-lite-login-conn")
                self._workers.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(self._read_timeout)
            target = self._read_target(conn)
            if target is None:
                return
            status, body, content_type = self._handle(target)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
            )
            conn.sendall(head.encode("ascii") + body)
        except OSError:
            pass  # a client that went away or timed out is just dropped
        finally:
            with self._guard:
                self._conns.discard(conn)
            conn.close()

    def _read_target(self, conn: socket.socket) -> str | None:
        """The request target of a GET, or None (after answering) for anything else."""
        buf = b""
        while b"\r\n\r\n" not in buf and b"\n\n" not in buf:
            if len(buf) > _MAX_HEAD:
                conn.sendall(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return None
            chunk = conn.recv(4096)
            if not chunk:
                return None
            buf += chunk
        line = buf.split(b"\n", 1)[0].rstrip(b"\r")
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return None
        if parts[0] != b"GET":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return None
        return parts[1].decode("latin-1")

    def _handle(self, target: str) -> tuple[str, bytes, str]:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path not in ("", "/") or ("code" not in query and "error" not in query):
            return "404 Not Found", b"Not found", "text/plain"  # a favicon, a probe
        given = query.get("state", "")
        if not secrets.compare_digest(given.encode(), self._state.encode()):
            with self._guard:
                self.refused += 1
            return "400 Bad Request", _BAD_STATE_PAGE, "text/html; charset=utf-8"
        with self._guard:
            if self._result is None:
                self._result = query
        self._done.set()
        return "200 OK", _DONE_PAGE, "text/html; charset=utf-8"

    def wait(self, timeout: float | None) -> dict[str, str] | None:
        self._done.wait(timeout)
        with self._guard:
            return self._result

    def close(self) -> None:
        """Stop serving, drop open connections; waits at most a couple of seconds."""
        self._closing.set()
        with suppress(OSError):
            self._listener.close()
        with self._guard:
            conns = list(self._conns)
            workers = list(self._workers)
        for conn in conns:
            # shutdown wakes a thread blocked in recv() on this socket; close alone may not.
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + _CLOSE_TIMEOUT
        for thread in [self._thread, *workers]:
            thread.join(max(0.0, deadline - time.monotonic()))


def _code_from(result: Mapping[str, str], state: str | None) -> str:
    if result.get("error"):
        detail = result.get("error_description") or ""
        raise LoginFailed(f"Globus Auth did not log you in: {result['error']}" + (f" ({detail})" if detail else ""))
    if state is not None and result.get("state") != state:
        raise LoginFailed("the login answer carried the wrong state (not the login this program started); try again")
    code = result.get("code", "").strip()
    if not code:
        raise LoginFailed("the login answer carried no authorization code")
    return code


class LoginManager:
    """Gets, keeps, refreshes and revokes the Globus tokens of one user.

    Thread-safe; share one between clients. Arguments:

    - ``client_id``: the native-app client to log in with (default
      :data:`DEFAULT_CLIENT_ID`); ignored when ``auth_client`` is given.
    - ``token_file``: a path or a :class:`~automate_lite.extras.storage.TokenFile`
      (default: ``$AUTOMATE_LITE_TOKEN_FILE`` or ``~/.config/automate-lite/tokens.json``).
    - ``login``: ``"auto"``, ``"browser"``, ``"paste"``, ``"never"`` (or True/False);
      default from ``AUTOMATE_LITE_NO_LOGIN`` / ``AUTOMATE_LITE_LOGIN``, else ``"auto"``.
    - ``auth_base_url``: Globus Auth's URL (default: ``GLOBUS_SDK_SERVICE_URL_AUTH`` or
      the ``GLOBUS_SDK_ENVIRONMENT``'s Auth, as globus-sdk decides).
    - ``environment``: the token file's section; default the ``GLOBUS_SDK_ENVIRONMENT``
      name (``production``), or the Auth URL when one outside Globus's domains is in use
      (a local stand-in), so its tokens never mix with real ones.
    - ``auth_client``: a globus-sdk ``NativeAppAuthClient`` or
      ``ConfidentialAppAuthClient`` to log in with (a confidential client sends its
      secret and PKCE).
    - ``refresh_tokens``: ask for refresh tokens (default True).
    - ``legacy_token_file``: the original client's file to import once (True: the
      default path; False: none).
    - ``login_timeout``: seconds to wait for the browser's redirect.
    """

    def __init__(
        self,
        client_id: str | None = None,
        *,
        token_file: str | os.PathLike[str] | TokenFile | None = None,
        login: LoginMode | bool | None = None,
        auth_base_url: str | None = None,
        environment: str | None = None,
        auth_client: Any = None,
        refresh_tokens: bool = True,
        legacy_token_file: str | os.PathLike[str] | bool = True,
        app_name: str = "automate-lite",
        login_timeout: float | None = 600.0,
    ) -> None:
        if auth_client is not None:
            client_id = str(getattr(auth_client, "client_id", "") or "") or client_id
        if client_id is None:
            client_id = DEFAULT_CLIENT_ID
        if not isinstance(client_id, str) or not client_id.strip():
            raise UsageError(f"client_id must be a Globus Auth client id (a UUID string), got {client_id!r}")
        self.client_id = client_id.strip()
        self.login_mode: LoginMode = resolve_login_mode(login)
        if auth_base_url is None:
            auth_base_url = os.environ.get("GLOBUS_SDK_SERVICE_URL_AUTH") or None
        if auth_base_url is None and auth_client is not None:
            base = str(getattr(auth_client, "base_url", "") or "")
            if base and not _is_globus_host(base):
                auth_base_url = base
        if auth_base_url is not None and (not isinstance(auth_base_url, str) or not auth_base_url.startswith(("http://", "https://"))):
            raise UsageError(f"auth_base_url must be an http(s) URL such as 'https://auth.globus.org', got {auth_base_url!r}")
        self.auth_base_url = auth_base_url.rstrip("/") if auth_base_url else None
        if environment is None:
            environment = environment_name()
            if self.auth_base_url and not _is_globus_host(self.auth_base_url):
                environment = self.auth_base_url
        self.environment = environment
        self.tokens = token_file if isinstance(token_file, TokenFile) else TokenFile(token_file, legacy_path=legacy_token_file)
        self.refresh_tokens = bool(refresh_tokens)
        self.app_name = app_name
        self.login_timeout = login_timeout
        self._auth_client = auth_client
        self._clients: dict[str, Any] = {}
        self._login_lock = threading.RLock()
        self._refresh_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"LoginManager(client_id={self.client_id!r}, environment={self.environment!r}, "
            f"login={self.login_mode!r}, token_file={self.tokens.path!r})"
        )

    # -- what is stored ---------------------------------------------------------------------

    def stored(self, scope: str) -> StoredToken | None:
        """The stored token serving ``scope`` (dependent scopes included), if any."""
        tok = self.tokens.get(self.environment, scope)
        return tok if tok is not None and tok.covers(scope) else None

    def missing(self, scopes: Iterable[str]) -> list[str]:
        """The scopes with no stored token that works now or after a refresh."""
        out = []
        for scope in _check_scopes(scopes):
            tok = self.stored(scope)
            if tok is None or not tok.usable(scope):
                out.append(scope)
        return out

    # -- getting tokens ---------------------------------------------------------------------

    def ensure(self, scopes: Iterable[str] | str, *, together: bool = False) -> None:
        """Make sure tokens for ``scopes`` are stored, logging in once if some are missing.

        ``together``: when any is missing, log in for all of them, so they share one
        token (the Flows service scopes must).
        """
        wanted = _check_scopes(scopes)
        if not self.missing(wanted):
            return
        with self._login_lock:
            missing = self.missing(wanted)  # another thread may have logged in meanwhile
            if missing:
                self._login(wanted if together else missing, None)

    def login(self, scopes: Iterable[str] | str, *, authorization_parameters: Mapping[str, Any] | None = None) -> None:
        """Run one interactive login for ``scopes`` and store what it grants.

        ``authorization_parameters`` (from a Globus Auth requirements error:
        ``session_required_policies``, ``session_required_identities``, ``prompt``...) go
        into the authorize URL. Raises :class:`LoginRequired` in no-login mode.
        """
        wanted = _check_scopes(scopes)
        with self._login_lock:
            self._login(wanted, authorization_parameters)

    def access_token(self, scope: str) -> str:
        """A valid access token for ``scope``: stored, refreshed, or from a login."""
        tok = self.stored(scope)
        if tok is None or not tok.usable(scope):
            self.ensure([scope])
            tok = self._require(scope)
        if tok.expired():
            tok = self._refresh(scope, force=False)
        return tok.access_token

    def renew(self, scope: str) -> bool:
        """After a 401: refresh (or log in again) for ``scope``; True if worth a retry."""
        tok = self.stored(scope)
        if tok is not None and tok.refresh_token is not None:
            self._refresh(scope, force=True)
            return True
        if self.login_mode == "never":
            return False
        self.login([scope])
        return True

    def authorizer(self, scope: str) -> "StoredTokenAuthorizer":
        """An authorizer that sends the current token for ``scope`` on every request."""
        return StoredTokenAuthorizer(self, _check_scopes([scope], "scope")[0])

    def auth_requirements_handler(
        self, default_scopes: Sequence[str] | Callable[[AutomateAPIError], Sequence[str]]
    ) -> Callable[[AutomateAPIError], bool]:
        """The ``auth_requirements_handler`` for a client (see ``Session``).

        For a consent or session-policy error it runs one login for exactly the scopes
        the error names (or ``default_scopes`` when it names none, e.g. a session policy
        only), with the error's session requirements, and returns True so the call is
        retried once. In no-login mode it returns False: the error reaches the caller.
        """

        def handle(error: AutomateAPIError) -> bool:
            if self.login_mode == "never":
                return False
            scopes = list(error.required_scopes)
            if not scopes:
                scopes = list(default_scopes(error) if callable(default_scopes) else default_scopes)
            if not scopes:
                return False
            try:
                self.login(scopes, authorization_parameters=error.authorization_parameters)
            except (LoginRequired, LoginFailed) as exc:
                raise exc from error
            return True

        return handle

    def flow_authorizer_callback(self) -> Callable[..., "StoredTokenAuthorizer"]:
        """An ``authorizer_callback`` for FlowsClient: the token of each flow's own scope
        (logging in for it the first time)."""

        def callback(*, flow_scope: str, flow_url: str | None = None, client_id: str | None = None, **_: Any) -> StoredTokenAuthorizer:
            self.ensure([flow_scope])
            return self.authorizer(flow_scope)

        return callback

    def logout(self, scopes: Iterable[str] | None = None) -> list[str]:
        """Revoke the stored tokens (of ``scopes``, or all of this environment) at Globus
        Auth (``POST /v2/oauth2/token/revoke``) and remove them from the file.

        Returns the scopes removed. A token that cannot be revoked (network down) is
        still removed; a warning is logged naming its scope.
        """
        wanted = None if scopes is None else {base_scope(s) for s in _check_scopes(scopes)}
        chosen = [t for s, t in self.tokens.entries(self.environment).items() if wanted is None or s in wanted]
        self._revoke(chosen)
        gone = self.tokens.remove(self.environment, [t.scope for t in chosen])
        return sorted(t.scope for t in gone)

    # -- internals ----------------------------------------------------------------------------

    def _revoke(self, chosen: Sequence[StoredToken]) -> None:
        # Its own frame, gone before the file is written: no raw token stays in a local
        # a traceback of a failed write would show.
        done: set[str] = set()
        for tok in chosen:
            for secret in (tok.refresh_token, tok.access_token):
                if not secret or secret in done:
                    continue
                try:
                    self._client_for(tok.client_id).oauth2_revoke_token(secret)
                    done.add(secret)
                except Exception as e:  # revocation is best effort; the file entry goes regardless
                    log.warning("could not revoke a token for %s (%s)", tok.scope, type(e).__name__)

    def _require(self, scope: str) -> StoredToken:
        tok = self.stored(scope)
        if tok is None:
            raise LoginFailed(f"the login did not produce a token for {scope}")
        return tok

    def _login_client(self) -> Any:
        if self._auth_client is not None:
            return self._auth_client
        return self._client_for(self.client_id)

    def _client_for(self, client_id: str | None) -> Any:
        client_id = client_id or self.client_id
        if client_id == self.client_id and self._auth_client is not None:
            return self._auth_client
        with self._guard:
            client = self._clients.get(client_id)
            if client is None:
                client = _sdk().NativeAppAuthClient(client_id, base_url=self.auth_base_url, app_name=self.app_name)
                self._clients[client_id] = client
            return client

    def _refresh_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._refresh_locks.setdefault(hashlib.sha256(key.encode()).hexdigest(), threading.Lock())

    def _refresh(self, scope: str, *, force: bool) -> StoredToken:
        tok = self.stored(scope)
        if tok is None or tok.refresh_token is None:
            if tok is not None and not force and not tok.expired():
                return tok
            if self.login_mode == "never":
                raise LoginRequired([scope], reason="the stored token has expired and cannot be refreshed, and logging in is turned off")
            self.login([scope])
            return self._require(scope)
        held = _Secret(tok.refresh_token)
        with self._refresh_lock(held.value):
            current = self.stored(scope)
            # Another thread or process may have refreshed while we waited.
            if current is not None and current.access_token != tok.access_token and not current.expired():
                return current
            if current is not None and not force and not current.expired():
                return current
            sdk = _sdk()
            try:
                response = _Secret(self._client_for(tok.client_id).oauth2_refresh_token(held.value))
            except sdk.AuthAPIError as e:
                if e.http_status not in (400, 401, 403):
                    raise
                self._forget_refresh_token(held)
                reason = f"Globus Auth refused the stored refresh token ({e.http_status} {e.code}: revoked or expired)"
                if self.login_mode == "never":
                    raise LoginRequired([scope], reason=reason + ", and logging in is turned off") from None
                log.info("%s; logging in again for %s", reason, scope)
                self.login([scope])
                return self._require(scope)
            self._store_refresh(response, held)
        return self._require(scope)

    def _forget_refresh_token(self, held: _Secret) -> None:
        def change(contents: Any) -> None:
            entries = contents.environment(self.environment)
            for scope in [s for s, t in entries.items() if t.refresh_token == held.value]:
                del entries[scope]

        self.tokens.update(change)

    def _store_refresh(self, response: _Secret, held: _Secret) -> None:
        by_rs = _Secret(dict(response.value.by_resource_server))
        del response  # only the hidden copy stays in this frame

        def change(contents: Any) -> None:
            entries: dict[str, StoredToken] = contents.environment(self.environment)
            for scope, tok in list(entries.items()):
                if tok.refresh_token != held.value:
                    continue
                data = by_rs.value.get(tok.resource_server or "") or (
                    next(iter(by_rs.value.values())) if len(by_rs.value) == 1 else None
                )
                if data is None:
                    continue
                granted = tuple(str(data.get("scope") or "").split()) or tok.granted_scopes
                entries[scope] = StoredToken(
                    scope=scope,
                    access_token=data["access_token"],
                    refresh_token=data.get("refresh_token") or held.value,
                    expires_at_seconds=data.get("expires_at_seconds"),
                    resource_server=data.get("resource_server") or tok.resource_server,
                    granted_scopes=granted,
                    dependent_scopes=tok.dependent_scopes,
                    token_type=data.get("token_type") or tok.token_type,
                    client_id=tok.client_id,
                )

        self.tokens.update(change)

    def _store_login(self, response: _Secret, requested: Sequence[str]) -> None:
        by_rs = _Secret(dict(response.value.by_resource_server))
        del response  # only the hidden copy stays in this frame

        def change(contents: Any) -> list[str]:
            entries: dict[str, StoredToken] = contents.environment(self.environment)
            placed: list[tuple[str, str, Any]] = []  # (base scope, resource server, data)
            for rs, data in by_rs.value.items():
                for granted in str(data.get("scope") or "").split():
                    placed.append((granted, rs, data))
            granted_bases = {p[0] for p in placed}
            if len(by_rs.value) == 1:  # one token: it serves every requested scope, however spelt
                rs, data = next(iter(by_rs.value.items()))
                placed.extend((base_scope(s), rs, data) for s in requested if base_scope(s) not in granted_bases)
            for base, rs, data in placed:
                old = entries.get(base)
                deps = list(old.dependent_scopes) if old is not None and old.resource_server in (None, rs) else []
                deps += [s for s in requested if "[" in s and base_scope(s) == base]
                entries[base] = StoredToken(
                    scope=base,
                    access_token=data["access_token"],
                    refresh_token=data.get("refresh_token"),
                    expires_at_seconds=data.get("expires_at_seconds"),
                    resource_server=rs,
                    granted_scopes=tuple(str(data.get("scope") or "").split()),
                    dependent_scopes=tuple(dict.fromkeys(deps)),
                    token_type=data.get("token_type") or "Bearer",
                    client_id=self.client_id,
                )
            return [s for s in requested if base_scope(s) not in entries or not entries[base_scope(s)].covers(s)]

        not_granted = self.tokens.update(change)
        if not_granted:
            raise LoginFailed(f"Globus Auth did not grant: {', '.join(not_granted)}")

    def _login(self, scopes: Sequence[str], params: Mapping[str, Any] | None) -> None:
        if self.login_mode == "never":
            raise LoginRequired(scopes, authorization_parameters=params)
        mode = self.login_mode
        if mode == "auto":
            mode = "browser" if can_open_browser() else "paste"
        response = None
        if mode == "browser":
            try:
                response = self._browser_login(scopes, params)
            except _NoBrowser:
                if self.login_mode == "browser":
                    raise LoginFailed("no web browser could be opened to log in; use login='paste'") from None
                log.info("no web browser could be opened; asking for the code on stdin instead")
        if response is None:
            response = self._paste_login(scopes, params)
        self._store_login(response, scopes)
        log.info("logged in for %s", ", ".join(scopes))

    def _start(self, scopes: Sequence[str], redirect_uri: str, state: str, params: Mapping[str, Any] | None) -> tuple[str, Callable[[str], Any]]:
        """Start a flow: the authorize URL, and a function exchanging a code for tokens."""
        sdk = _sdk()
        client = self._login_client()
        query = _authorize_query(params)
        if isinstance(client, sdk.ConfidentialAppAuthClient):
            # globus-sdk's confidential flow has no PKCE: add it, and send the verifier.
            verifier, challenge = _pkce_pair()
            flow = client.oauth2_start_flow(redirect_uri, list(scopes), state=state, refresh_tokens=self.refresh_tokens)
            query.update(code_challenge=challenge, code_challenge_method="S256")

            def exchange(code: str) -> Any:
                form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
                return client.oauth2_token(form)

        else:
            verifier, _ = _pkce_pair()
            host = socket.gethostname().split(".")[0]
            flow = client.oauth2_start_flow(
                list(scopes),
                redirect_uri=redirect_uri,
                state=state,
                verifier=verifier,
                refresh_tokens=self.refresh_tokens,
                prefill_named_grant=f"{self.app_name} on {host}" if host else self.app_name,
            )

            def exchange(code: str) -> Any:
                return flow.exchange_code_for_tokens(code)

        return str(flow.get_authorize_url(query_params=query or None)), exchange

    def _exchange(self, exchange: Callable[[str], Any], code: str) -> _Secret:
        sdk = _sdk()
        try:
            return _Secret(exchange(code))
        except sdk.GlobusAPIError as e:
            raise LoginFailed(
                f"Globus Auth did not accept the authorization code ({e.http_status} {e.code}); log in again"
            ) from None

    def _browser_login(self, scopes: Sequence[str], params: Mapping[str, Any] | None) -> _Secret:
        import webbrowser

        state = secrets.token_urlsafe(16)
        server = _RedirectServer(state)
        try:
            url, exchange = self._start(scopes, server.redirect_uri, state, params)
            try:
                opened = webbrowser.open(url, new=1)
            except webbrowser.Error:
                opened = False
            if not opened:
                raise _NoBrowser
            _say(f"A browser window was opened to log in to Globus. If none appeared, visit:\n\n  {url}\n\n")
            result = server.wait(self.login_timeout)
        finally:
            server.close()
        if result is None:
            refused = f" ({server.refused} answer(s) with a missing or wrong state were refused)" if server.refused else ""
            raise LoginFailed(f"no login answer reached {server.redirect_uri} within {self.login_timeout} seconds{refused}")
        return self._exchange(exchange, _code_from(result, state))

    def _paste_login(self, scopes: Sequence[str], params: Mapping[str, Any] | None) -> _Secret:
        base = str(self._login_client().base_url).rstrip("/")
        redirect_uri = base + "/v2/web/auth-code"
        state = secrets.token_urlsafe(16)
        url, exchange = self._start(scopes, redirect_uri, state, params)
        _say(f"Please log in to Globus here:\n\n  {url}\n\nEnter the resulting Authorization Code here: ")
        try:
            # input(), not sys.stdin.readline(): Jupyter kernels answer input() only.
            answer = input().strip() if sys.stdin is not None else None
        except EOFError:
            answer = None
        if answer is None:
            raise LoginRequired(scopes, reason="no authorization code was entered (standard input is closed)", authorization_parameters=params)
        if answer.startswith(("http://", "https://")):  # the whole redirect URL was pasted
            query = {k: v[0] for k, v in parse_qs(urlsplit(answer).query).items()}
            return self._exchange(exchange, _code_from(query, None))
        if not answer:
            raise LoginFailed("no authorization code was entered")
        return self._exchange(exchange, answer)


class StoredTokenAuthorizer:
    """Sends the current stored token for one scope; refreshes, writes back, logs in.

    It reads the token through its :class:`LoginManager` on every request (the file is
    re-read only when it changed), so a token refreshed by another process, or obtained
    by a consent login, is used at once. It may do network I/O, so the async clients call
    it from a worker thread. The token never appears in ``repr``.
    """

    #: It may refresh over the network or log in: never call it on the event loop.
    may_block = True

    def __init__(self, manager: LoginManager, scope: str) -> None:
        self.manager = manager
        self.scope = scope

    @property
    def access_token(self) -> str:
        """The current access token (refreshed first if it expired)."""
        return self.manager.access_token(self.scope)

    def get_authorization_header(self) -> str:
        """``"Bearer <the current token>"``."""
        return "Bearer " + self.manager.access_token(self.scope)

    def handle_missing_authorization(self) -> bool:
        """After a 401: refresh (or log in again, unless in no-login mode)."""
        return self.manager.renew(self.scope)

    def __repr__(self) -> str:
        return f"StoredTokenAuthorizer(scope={self.scope!r})"
