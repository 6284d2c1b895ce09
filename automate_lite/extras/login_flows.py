"""The two interactive logins, as globus-sdk login flow managers with what they lack added.

Imported only when a login starts (it imports globus-sdk). What comes from globus-sdk:
the authorize URL (scopes, refresh tokens, PKCE S256 for a native app, the prefilled
grant name, and the session requirements of a
:class:`globus_sdk.gare.GlobusAuthorizationParameters`), the paste flow's default
``redirect_uri`` (Auth's ``/v2/web/auth-code`` page) and prompt, the browser flow's
server context and its environmental error, and the code exchange of a native app.

What is added here, and why:

* **A state per login, checked.** globus-sdk's managers always send the fixed state
  ``_default`` and its local server takes the first ``?code=`` it sees. Here every login
  has a fresh random ``state`` and only the redirect carrying it ends the wait
  (RFC 8252 §8.1, RFC 6749 §10.12).
* **A hardened redirect server** (:class:`RedirectServer`, plugged in as the local server
  of :class:`RedirectServerLoginFlowManager`): globus-sdk's is an ``http.server`` serving
  one connection at a time, so a browser's idle preconnect holds up the real callback,
  and its reads are unbounded. This one serves each connection on its own thread with a
  bounded, timed read, caps connections, and stops within a couple of seconds.
* **PKCE for a confidential client**: globus-sdk's confidential flow has none; the
  challenge is added to the URL and the verifier sent with the code.
* **The browser opened with** :func:`webbrowser.open` (redirectable by applications and
  tests); in ``auto`` mode only after the checks globus-sdk makes (not over SSH, no
  text-only browser: :func:`.login.can_open_browser`).
* **Messages on stderr, a pasted redirect URL accepted, EOF as LoginRequired**: the
  paste prompt prints on stderr (stdout stays the program's), takes the whole
  ``...?code=`` URL as well as the code, and a closed stdin says what to do.
* **A timeout** on the browser wait (globus-sdk's waits forever).
* ``session_required_mfa=true``, as Globus Auth documents it (globus-sdk writes ``True``).

The redirect server lives with the flows it serves (hence the module's length).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import sys
import threading
import time
from contextlib import contextmanager, suppress
from typing import Any, Iterator, Mapping, Sequence
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import globus_sdk
from globus_sdk.gare import GlobusAuthorizationParameters
from globus_sdk.login_flows import (
    CommandLineLoginFlowManager,
    LocalServerEnvironmentalLoginError,
    LocalServerLoginFlowManager,
)

from .errors import LoginFailed, LoginRequired

__all__ = [
    "PasteLoginFlowManager",
    "RedirectServer",
    "RedirectServerLoginFlowManager",
    "authorization_parameters",
    "code_from",
    "LocalServerEnvironmentalLoginError",
]

#: Fields of a Globus Auth requirements error that shape the authorize URL.
_PARAMETER_FIELDS = (
    "session_required_identities",
    "session_required_single_domain",
    "session_required_policies",
    "session_required_mfa",
    "session_message",
    "prompt",
)


def authorization_parameters(scopes: Sequence[str], params: Mapping[str, Any] | None) -> GlobusAuthorizationParameters:
    """globus-sdk's parameters for a login: ``scopes`` and a requirements error's fields."""
    fields: dict[str, Any] = {}
    for key in _PARAMETER_FIELDS:
        value = (params or {}).get(key)
        if value is None or value == "" or value == []:
            continue
        if key in ("session_required_identities", "session_required_single_domain", "session_required_policies"):
            value = [value] if isinstance(value, str) else [str(v) for v in value]
        fields[key] = value
    return GlobusAuthorizationParameters(required_scopes=list(scopes), **fields)


def _say(message: str) -> None:
    stream = sys.stderr
    if stream is not None:
        stream.write(message)
        stream.flush()


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _replace_query(url: str, **values: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qs(parts.query, keep_blank_values=True).items() if k not in values]
    flat = [(k, item) for k, v in query for item in v] + list(values.items())
    return urlunsplit(parts._replace(query=urlencode(flat)))


class _StateAndPKCE:
    """What both managers add to globus-sdk's: a fresh ``state``, PKCE for a confidential
    client, and the exchange that sends its verifier."""

    login_client: Any
    state: str
    _verifier: str | None = None
    _redirect_uri: str = ""

    def _get_authorize_url(self, auth_parameters: GlobusAuthorizationParameters, redirect_uri: str) -> str:
        url: str = super()._get_authorize_url(auth_parameters, redirect_uri)  # type: ignore[misc]
        self._redirect_uri = redirect_uri
        extra = {"state": self.state}
        if auth_parameters.session_required_mfa is not None:  # globus-sdk writes "True"; Auth documents "true"
            extra["session_required_mfa"] = "true" if auth_parameters.session_required_mfa else "false"
        if isinstance(self.login_client, globus_sdk.ConfidentialAppAuthClient):
            self._verifier, challenge = _pkce_pair()
            extra.update(code_challenge=challenge, code_challenge_method="S256")
        return _replace_query(url, **extra)

    def _exchange(self, code: str) -> Any:
        if self._verifier is None:  # a native app: globus-sdk's own exchange (sends its verifier)
            return self.login_client.oauth2_exchange_code_for_tokens(code)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri,
                "code_verifier": self._verifier}
        return self.login_client.oauth2_token(form)


def code_from(result: Mapping[str, str], state: str | None) -> str:
    """The authorization code of a redirect's query, or :class:`LoginFailed` saying why not."""
    if result.get("error"):
        detail = result.get("error_description") or ""
        raise LoginFailed(f"Globus Auth did not log you in: {result['error']}" + (f" ({detail})" if detail else ""))
    if state is not None and result.get("state") != state:
        raise LoginFailed("the login answer carried the wrong state (not the login this program started); try again")
    code = result.get("code", "").strip()
    if not code:
        raise LoginFailed("the login answer carried no authorization code")
    return code


class PasteLoginFlowManager(_StateAndPKCE, CommandLineLoginFlowManager):
    """globus-sdk's command-line login: the URL on stderr, the code (or the whole redirect
    URL) read with :func:`input` (which Jupyter kernels answer too)."""

    def __init__(self, login_client: Any, *, request_refresh_tokens: bool, native_prefill_named_grant: str | None,
                 scopes: Sequence[str] = (), requirements: Mapping[str, Any] | None = None) -> None:
        # globus-sdk's default redirect_uri is base_url + "v2/web/auth-code", which loses
        # the slash when the base URL was given without one (a local Auth stand-in).
        redirect_uri = None
        if isinstance(login_client, globus_sdk.NativeAppAuthClient):
            redirect_uri = str(login_client.base_url).rstrip("/") + "/v2/web/auth-code"
        super().__init__(login_client, redirect_uri=redirect_uri, request_refresh_tokens=request_refresh_tokens,
                         native_prefill_named_grant=native_prefill_named_grant)
        self.state = secrets.token_urlsafe(16)
        self._scopes = list(scopes)
        self._requirements = requirements  # named again by LoginRequired if nobody answers

    def print_authorize_url(self, authorize_url: str) -> None:
        """The URL, on stderr."""
        _say(f"Please log in to Globus here:\n\n  {authorize_url}\n\n")

    def prompt_for_code(self) -> str:
        """The code typed or pasted; a pasted redirect URL gives its ``code``."""
        _say("Enter the resulting Authorization Code here: ")
        try:
            answer = input().strip() if sys.stdin is not None else None
        except EOFError:
            answer = None
        if answer is None:
            _say("\n")  # end the prompt's line: what follows is the error
            raise LoginRequired(self._scopes, reason="no authorization code was entered (standard input is closed)",
                                 authorization_parameters=self._requirements)
        if answer.startswith(("http://", "https://")):
            return code_from({k: v[0] for k, v in parse_qs(urlsplit(answer).query).items()}, None)
        if not answer:
            raise LoginFailed("no authorization code was entered")
        return answer

    def run_login_flow(self, auth_parameters: GlobusAuthorizationParameters) -> Any:
        """URL, code, exchange (globus-sdk's sequence, with :meth:`_exchange`)."""
        self.print_authorize_url(self._get_authorize_url(auth_parameters, self.redirect_uri))
        return self._exchange(self.prompt_for_code())


class _ServerHandle:
    """What globus-sdk's local-server flow reads of its server: ``socket`` and ``wait_for_code``."""

    def __init__(self, server: "RedirectServer", timeout: float | None) -> None:
        self.server = server
        self.socket = server.listener
        self._timeout = timeout

    def wait_for_code(self) -> str:
        result = self.server.wait(self._timeout)
        if result is None:
            refused = self.server.refused
            why = f" ({refused} answer(s) with a missing or wrong state were refused)" if refused else ""
            raise LoginFailed(f"no login answer reached {self.server.redirect_uri} within {self._timeout} seconds{why}")
        return code_from(result, self.server.state)


class RedirectServerLoginFlowManager(_StateAndPKCE, LocalServerLoginFlowManager):
    """globus-sdk's local-server login with :class:`RedirectServer` as its server.

    Raises :class:`globus_sdk.login_flows.LocalServerEnvironmentalLoginError` when no
    browser can be used (over SSH, a text-only browser, opening failed), as globus-sdk
    does; the caller falls back to pasting.
    """

    def __init__(self, login_client: Any, *, request_refresh_tokens: bool, native_prefill_named_grant: str | None,
                 timeout: float | None) -> None:
        super().__init__(login_client, request_refresh_tokens=request_refresh_tokens,
                         native_prefill_named_grant=native_prefill_named_grant, server_address=("127.0.0.1", 0))
        self.state = secrets.token_urlsafe(16)
        self.timeout = timeout
        self.server: RedirectServer | None = None

    @contextmanager
    def background_local_server(self) -> Iterator[Any]:
        """A :class:`RedirectServer` for this login's state, closed afterwards."""
        server = RedirectServer(self.state)
        self.server = server
        try:
            yield _ServerHandle(server, self.timeout)
        finally:
            server.close()

    def run_login_flow(self, auth_parameters: GlobusAuthorizationParameters) -> Any:
        """globus-sdk's local-server sequence: start the server, open the authorize URL,
        wait for the code, exchange it. (Whether a browser is worth trying, in ``auto``
        mode, the caller decides first with :func:`.login.can_open_browser`.)

        The steps are spelt out here rather than inherited because the browser is opened
        with :func:`webbrowser.open` (which an application or a test may redirect;
        globus-sdk calls ``webbrowser.get().open``) and the exchange is :meth:`_exchange`
        (a confidential client sends its PKCE verifier)."""
        import webbrowser

        with self.background_local_server() as handle:
            host, port = handle.socket.getsockname()
            url = self._get_authorize_url(auth_parameters, f"http://{host}:{port}")
            try:
                opened = webbrowser.open(url, new=1)
            except webbrowser.Error:
                opened = False
            if not opened:
                raise LocalServerEnvironmentalLoginError("the web browser could not be opened")
            _say(f"A browser window was opened to log in to Globus. If none appeared, visit:\n\n  {url}\n\n")
            code = handle.wait_for_code()
        return self._exchange(code)


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


class RedirectServer:
    """A one-shot HTTP server on 127.0.0.1 that waits for Globus Auth's redirect.

    It accepts on its own thread and serves each connection on another, with a bounded
    read, so an idle or slow connection (a browser preconnect) cannot hold up the real
    callback. Only ``GET /`` carrying the ``state`` of this login ends the wait; any
    other request gets an error page and the server keeps waiting (RFC 8252 §8.1,
    RFC 6749 §10.12).
    """

    def __init__(self, state: str, read_timeout: float = _READ_TIMEOUT) -> None:
        self.state = state
        self._read_timeout = read_timeout
        self._done = threading.Event()
        self._closing = threading.Event()
        self._result: dict[str, str] | None = None
        self._guard = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        self.refused = 0  # callbacks answered 400 for a missing or wrong state
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.listener.bind(("127.0.0.1", 0))
            self.listener.listen(16)
            # A timeout on accept so the loop sees close() even on platforms where closing
            # a listening socket does not wake a blocked accept().
            self.listener.settimeout(0.2)
        except OSError:
            self.listener.close()
            raise
        port = self.listener.getsockname()[1]
        # The form globus-sdk's own local-server login uses with Globus Auth (no path).
        self.redirect_uri = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="automate-lite-login")
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self.listener.accept()
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
        if not secrets.compare_digest(given.encode(), self.state.encode()):
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
            self.listener.close()
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
