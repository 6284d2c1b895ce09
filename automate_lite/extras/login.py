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

Every login also asks ``openid``: the ``id_token`` in the answer names the identity the
tokens belong to (``identity_id`` in the token file, kept across refreshes). The flows
themselves are globus-sdk login flow managers, with a checked ``state`` and a hardened
redirect server added (:mod:`.login_flows`, imported only when a login starts).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence
from urllib.parse import urlsplit

from ..errors import AutomateAPIError, UsageError
from ._responses import IDENTITY_SCOPES, Secret, forget_refresh_token, store_login, store_refresh
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
        held = Secret(tok.refresh_token)
        with self._refresh_lock(held.value):
            current = self.stored(scope)
            # Another thread or process may have refreshed while we waited.
            if current is not None and current.access_token != tok.access_token and not current.expired():
                return current
            if current is not None and not force and not current.expired():
                return current
            sdk = _sdk()
            try:
                response = Secret(self._client_for(tok.client_id).oauth2_refresh_token(held.value))
            except sdk.AuthAPIError as e:
                if e.http_status not in (400, 401, 403):
                    raise
                forget_refresh_token(self.tokens, self.environment, held)
                reason = f"Globus Auth refused the stored refresh token ({e.http_status} {e.code}: revoked or expired)"
                if self.login_mode == "never":
                    raise LoginRequired([scope], reason=reason + ", and logging in is turned off") from None
                log.info("%s; logging in again for %s", reason, scope)
                self.login([scope])
                return self._require(scope)
            store_refresh(self.tokens, self.environment, response, held)
        return self._require(scope)

    def _login(self, scopes: Sequence[str], params: Mapping[str, Any] | None) -> None:
        if self.login_mode == "never":
            raise LoginRequired(scopes, authorization_parameters=params)
        from . import login_flows as flows

        mode = self.login_mode
        if mode == "auto":
            mode = "browser" if can_open_browser() else "paste"
        asked = list(scopes) + [s for s in IDENTITY_SCOPES if s not in scopes]
        parameters = flows.authorization_parameters(asked, params)
        client = self._login_client()
        host = socket.gethostname().split(".")[0]
        options: dict[str, Any] = {
            "request_refresh_tokens": self.refresh_tokens,
            "native_prefill_named_grant": f"{self.app_name} on {host}" if host else self.app_name,
        }
        response = None
        if mode == "browser":
            browser = flows.RedirectServerLoginFlowManager(client, timeout=self.login_timeout, **options)
            try:
                response = self._run(browser, parameters)
            except flows.LocalServerEnvironmentalLoginError:
                if self.login_mode == "browser":
                    raise LoginFailed("no web browser could be opened to log in; use login='paste'") from None
                log.info("no web browser could be opened; asking for the code on stdin instead")
        if response is None:
            response = self._run(flows.PasteLoginFlowManager(client, scopes=scopes, requirements=params, **options), parameters)
        store_login(self.tokens, self.environment, self.client_id, response, scopes)
        log.info("logged in for %s", ", ".join(scopes))

    def _run(self, flow_manager: Any, parameters: Any) -> Secret:
        """One login flow of globus-sdk (see :mod:`.login_flows`); its answer held hidden."""
        sdk = _sdk()
        try:
            return Secret(flow_manager.run_login_flow(parameters))
        except sdk.GlobusAPIError as e:
            raise LoginFailed(
                f"Globus Auth did not accept the authorization code ({e.http_status} {e.code}); log in again"
            ) from None


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
