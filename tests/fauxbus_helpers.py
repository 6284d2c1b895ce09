"""Helpers for the login-extras tests: browsers driven over plain HTTP, fauxbus, scopes.

* :class:`StubBrowser` stands in for ``webbrowser.open`` against ``automate_lite.testing.auth``: it
  requests the authorize URL, reads the redirect, and makes the request to the one-shot
  server on 127.0.0.1, as a browser would.
* :func:`start_fauxbus` runs fauxbus (the third-party Globus Auth fake) in this process
  on a free loopback port, seeded with one confidential login client and one account;
  :class:`FauxbusBrowser` walks its account picker (GET the page, parse the form, POST
  it, follow the redirects) the way a person's browser would.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Callable

SCOPE_A = "https://auth.globus.org/scopes/aaaaaaaa-1111-4111-8111-111111111111/action_all"
SCOPE_B = "https://auth.globus.org/scopes/bbbbbbbb-2222-4222-8222-222222222222/all"
DEP_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"
SCOPE_B_DEP = f"{SCOPE_B}[{DEP_SCOPE}]"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Hop:
    """One HTTP answer seen by a browser."""

    status: int
    headers: dict[str, str]
    body: bytes


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Hop:
    """One request, redirects not followed."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=30) as resp:
            return Hop(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as e:
        with e:
            return Hop(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


@dataclass
class StubBrowser:
    """``webbrowser.open`` for logins against ``automate_lite.testing.auth.AuthStub``."""

    urls: list[str] = field(default_factory=list)
    landings: list[Hop] = field(default_factory=list)
    #: Called (in the login's thread) before the browser does anything.
    before: Callable[[], None] | None = None
    #: Rewrite the redirect before following it (to forge an answer).
    tamper: Callable[[str], str] | None = None

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        if self.before is not None:
            self.before()
        self.urls.append(url)
        hop = fetch(url)
        assert hop.status == 302, (hop.status, hop.body[:300])
        location = hop.headers["location"]
        if self.tamper is not None:
            location = self.tamper(location)
        # The one-shot server on 127.0.0.1 is the redirect target: land there.
        self.landings.append(fetch(location))
        return True

    @property
    def scopes(self) -> list[str]:
        """The ``scope`` parameter of each authorize URL opened."""
        return [query_of(u)["scope"] for u in self.urls]


# -- fauxbus -------------------------------------------------------------------------------

FAUXBUS_CLIENT_ID = str(uuid.UUID("5e1f0000-0000-4000-8000-00000000c11e"))
FAUXBUS_SECRET = "fauxbus-test-secret"
ALICE_ID = str(uuid.UUID("a11ce000-0000-4000-8000-0000000a11ce"))
IDP_ID = str(uuid.UUID("1d900000-0000-4000-8000-0000000001d9"))


@dataclass
class Fauxbus:
    """A running fauxbus server (in this process, in a thread)."""

    server: Any
    thread: threading.Thread
    url: str

    @property
    def world(self) -> Any:
        return self.server.world

    def allow_redirect_uri(self, uri: str) -> None:
        """Register ``uri`` for the login client (fauxbus matches redirect URIs exactly;
        the one-shot server's port is only known once the login starts)."""
        with self.server.lock:
            uris = self.world.clients[FAUXBUS_CLIENT_ID].redirect_uris
            if uri not in uris:
                uris.append(uri)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def start_fauxbus() -> Fauxbus:
    """fauxbus on 127.0.0.1 and a free port, seeded with a login client and alice."""
    from fauxbus.server import make_server
    from fauxbus.world import World

    world = World()
    server = make_server("127.0.0.1", 0, world=world)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    world.load(
        {
            # Token lifetimes count from the world's clock: start it at now.
            "clock": int(time.time()),
            "oidc": {"issuer": url},
            "identity_providers": {IDP_ID: {"name": "Example University"}},
            "accounts": {
                ALICE_ID: {
                    "identities": {
                        ALICE_ID: {
                            "username": "alice@example.edu",
                            "identity_provider": IDP_ID,
                            "name": "Alice Example",
                        }
                    }
                }
            },
            "clients": {
                FAUXBUS_CLIENT_ID: {
                    "secret": FAUXBUS_SECRET,
                    "name": "automate-lite tests",
                    "redirect_uris": [],
                }
            },
        }
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return Fauxbus(server, thread, url)


class _Forms(HTMLParser):
    """Collects each ``<form>``: its method, action, inputs and button label."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"method": a.get("method", "get").upper(), "action": a.get("action", ""), "fields": {}, "label": ""})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._in_button = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button and self.forms:
            self.forms[-1]["label"] += data.strip()


@dataclass
class FauxbusBrowser:
    """``webbrowser.open`` that signs in at fauxbus's account picker as ``account``."""

    fauxbus: Fauxbus
    account_label: str = "Alice Example"
    pages: list[str] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)

    def _absolute(self, location: str) -> str:
        return urllib.parse.urljoin(self.fauxbus.url + "/", location)

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep_cookie(self, hop: Hop) -> None:
        raw = hop.headers.get("set-cookie")
        if raw:
            name, _, rest = raw.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.urls.append(url)
        self.fauxbus.allow_redirect_uri(query_of(url)["redirect_uri"])
        hop = fetch(url, headers=self._cookie_header())
        assert hop.status == 302, (hop.status, hop.body[:500])
        location = self._absolute(hop.headers["location"])
        # No session yet: fauxbus sends the browser to its account picker.
        assert "/_fauxbus/auth/login" in location, location
        page = fetch(location, headers=self._cookie_header())
        assert page.status == 200, page.body[:500]
        html = page.body.decode()
        self.pages.append(html)
        forms = _Forms()
        forms.feed(html)
        chosen = [f for f in forms.forms if f["label"] == self.account_label]
        assert len(chosen) == 1, [f["label"] for f in forms.forms]
        form = chosen[0]
        assert form["method"] == "POST"
        body = urllib.parse.urlencode(form["fields"]).encode()
        answer = fetch(self._absolute(form["action"]), data=body,
                       headers={"Content-Type": "application/x-www-form-urlencoded", **self._cookie_header()})
        assert answer.status == 302, (answer.status, answer.body[:500])
        self._keep_cookie(answer)
        # Back to the application: the one-shot server on 127.0.0.1.
        landing = fetch(answer.headers["location"])
        assert landing.status == 200, landing.status
        return True


# -- fixtures shared by the tests/test_extras_*.py modules (imported by name there) ---------

import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Iterator  # noqa: E402

import pytest  # noqa: E402

from automate_lite.testing.auth import AuthStub  # noqa: E402

_ENV = (
    "AUTOMATE_LITE_NO_LOGIN", "AUTOMATE_LITE_LOGIN", "AUTOMATE_LITE_TOKEN_FILE",
    "GLOBUS_SDK_ENVIRONMENT", "GLOBUS_SDK_SERVICE_URL_AUTH", "SSH_TTY", "SSH_CONNECTION",
)


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and XDG_CONFIG_HOME in tmp_path; no automate-lite/Globus variables set."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def auth() -> Iterator[AuthStub]:
    """The Globus Auth stand-in on 127.0.0.1."""
    with AuthStub() as stub:
        yield stub


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> StubBrowser:
    """``webbrowser.open`` replaced by a :class:`StubBrowser`."""
    import webbrowser

    fake = StubBrowser()
    monkeypatch.setattr(webbrowser, "open", fake.open)
    return fake


@pytest.fixture
def token_path(isolated_home: Path) -> str:
    return os.path.join(str(isolated_home), "tokens", "tokens.json")
