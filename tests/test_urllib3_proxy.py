"""Urllib3Transport end to end through an HTTP proxy, every byte on 127.0.0.1.

tests/test_transports.py only checks which PoolManager a URL picks; these tests make
real requests through ``FakeProxy`` (borrowed from tests/test_aio_transport.py with its
``tls_server``/``cert_files``/``proxy_factory`` fixtures) and look at what the proxy and
the origin server received:

* an ``https`` target is tunnelled: one ``CONNECT tunnel.example.test:443``, TLS inside
  it verified for the target's name, the request (Authorization header, body) reaching
  the origin, and the tunnel kept for the next request (and dropped by ``close()``);
* a plain ``http`` target is sent to the proxy in absolute form;
* credentials in the proxy URL go to the proxy only, never to the origin;
* a proxy answering 407, or not listening, is a ``ConnectError``; TLS failures inside
  the tunnel are a ``TLSError``; neither lets a urllib3 exception out;
* ``HTTPS_PROXY``/``ALL_PROXY`` are read from ``environ``, ``NO_PROXY`` (and any
  loopback host) sends the request directly;
* the proxy password never shows in ``repr(transport)``, exception messages,
  tracebacks or logs.

The target host names (``*.example.test``) are resolved by the proxy alone: an autouse
fixture makes ``socket.getaddrinfo`` refuse every name but loopback ones and the few a
test maps to 127.0.0.1 itself, so nothing can leave the machine and a request that
should have gone through the proxy cannot quietly go direct.

Two of these found bugs, since fixed: credentials in the proxy URL were never sent as
``Proxy-Authorization`` (urllib3 ignores them), and an invalid proxy URL escaped as
urllib3's own exception with the password in its message.

Runs with urllib3 1.26 and 2.x; where the two differ, only what they share is asserted.
"""

from __future__ import annotations

import base64
import logging
import socket
import traceback
from typing import Any, Callable, Iterator

import pytest
import urllib3

from automate_lite._core.http import is_loopback_host
from automate_lite._core.values import Request, Response
from automate_lite.errors import AutomateError, ConnectError, TLSError, UsageError
from automate_lite.transports.aio import AsyncioTransport
from automate_lite.transports.urllib3 import Urllib3Transport

# FakeProxy and the TLS fixtures live in the asyncio transport's tests; importing the
# fixtures here makes pytest offer them to this module too.
from tests.test_aio_transport import (  # noqa: F401  (fixtures are used by name)
    BINARY,
    FakeProxy,
    cert_files,
    handler,
    proxy_factory,
    tls_server,
)

TARGET = "tunnel.example.test"  # only the proxy "resolves" it (to tls_server's port)
PASSWORD = "hunter2-Sekret"


def get(url: str, **headers: str) -> Request:
    return Request("GET", url, headers, None)


def connect_lines(proxy: FakeProxy) -> list[str]:
    """The request lines the proxy saw, without the HTTP version: http.client writes the
    CONNECT line (for urllib3 1.26 and 2.x alike) and says HTTP/1.0 before Python 3.12,
    HTTP/1.1 from 3.12 on."""
    return [line.rsplit(" ", 1)[0] for line, _ in proxy.seen]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@pytest.fixture(autouse=True)
def hosts(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Name resolution for this process: loopback names and literals as usual, the names
    a test puts in the returned dict to the address it gives, anything else refused."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode("ascii") if isinstance(host, bytes) else host
        if isinstance(name, str) and name.lower() in table:
            return real(table[name.lower()], port, *args, **kwargs)
        if name is None or (isinstance(name, str) and is_loopback_host(name)):
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"the tests resolve no name but loopback ones, not {name!r}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.fixture
def transports() -> Iterator[Callable[..., Urllib3Transport]]:
    """``transports(**kwargs)`` makes a Urllib3Transport that is closed after the test."""
    made: list[Urllib3Transport] = []

    def make(**kwargs: Any) -> Urllib3Transport:
        t = Urllib3Transport(**kwargs)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def assert_ours(e: BaseException) -> None:
    """``e`` is automate-lite's own exception, urllib3's hidden (``raise ... from None``)."""
    assert isinstance(e, AutomateError)
    assert not isinstance(e, urllib3.exceptions.HTTPError)
    assert e.__cause__ is None and e.__suppress_context__
    assert "urllib3" not in str(e)


# ------------------------------------------------------------------- tunnelling


@pytest.mark.parametrize("configured_by", ["proxy_url", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_https_is_tunnelled_and_the_tunnel_reused(
    tls_server: Any,
    cert_files: tuple[str, str],
    proxy_factory: Callable[..., FakeProxy],
    transports: Callable[..., Urllib3Transport],
    configured_by: str,
) -> None:
    proxy = proxy_factory(tunnel_to=tls_server.port)
    proxy_url = f"http://127.0.0.1:{proxy.port}"
    if configured_by == "proxy_url":
        t = transports(proxy_url=proxy_url, environ={}, ca_certs=cert_files[0])
    else:
        t = transports(environ={configured_by: proxy_url}, ca_certs=cert_files[0])
    assert t.proxy_url == proxy_url

    first = t.send(get(f"https://{TARGET}/status/200", Authorization="Bearer token-1"), 5)
    assert isinstance(first, Response)
    assert (first.status, first.body) == (200, BINARY + b"status 200")
    assert first.headers["content-type"] == "application/octet-stream"
    assert connect_lines(proxy) == [f"CONNECT {TARGET}:443"]

    # The second request, with a body, goes down the same tunnel: still one CONNECT.
    second = t.send(Request("POST", f"https://{TARGET}/echo", {"Content-Type": "application/json"}, b'{"n": 2}'), 5)
    assert (second.status, second.body) == (200, b'{"n": 2}')
    assert connect_lines(proxy) == [f"CONNECT {TARGET}:443"]
    assert tls_server.connections == 1

    sent = tls_server.requests
    assert [(r.method, r.target) for r in sent] == [("GET", "/status/200"), ("POST", "/echo")]
    assert sent[0].headers["authorization"] == "Bearer token-1"  # inside the tunnel, to the origin
    assert sent[0].headers["host"] == TARGET  # the target's Host, not the proxy's
    assert sent[1].body == b'{"n": 2}'

    # close() drops the tunnel; the transport stays usable and opens a new one.
    t.close()
    assert t.send(get(f"https://{TARGET}/status/201"), 5).status == 201
    assert connect_lines(proxy) == [f"CONNECT {TARGET}:443"] * 2
    assert tls_server.connections == 2


def test_plain_http_goes_to_the_proxy_in_absolute_form(
    proxy_factory: Callable[..., FakeProxy], transports: Callable[..., Urllib3Transport]
) -> None:
    proxy = proxy_factory()  # answers plain requests itself with "via proxy"
    t = transports(proxy_url=f"http://127.0.0.1:{proxy.port}", environ={})
    r = t.send(get("http://plain.example.test:8080/a/b?c=d", Authorization="Bearer t"), 5)
    assert (r.status, r.body) == (200, b"via proxy")
    [(line, headers)] = proxy.seen
    assert line == "GET http://plain.example.test:8080/a/b?c=d HTTP/1.1"
    assert headers["host"] == "plain.example.test:8080"
    assert headers["authorization"] == "Bearer t"  # no tunnel: the proxy sees the request as it is


# ------------------------------------------------------------------ credentials


def test_proxy_credentials_never_reach_the_origin(
    tls_server: Any,
    cert_files: tuple[str, str],
    proxy_factory: Callable[..., FakeProxy],
    transports: Callable[..., Urllib3Transport],
) -> None:
    proxy = proxy_factory(tunnel_to=tls_server.port)  # lets anyone in
    t = transports(proxy_url=f"http://user:{PASSWORD}@127.0.0.1:{proxy.port}", environ={}, ca_certs=cert_files[0])
    for i in range(2):
        assert t.send(get(f"https://{TARGET}/status/20{i}", Authorization="Bearer origin-token"), 5).status == 200 + i
    assert connect_lines(proxy) == [f"CONNECT {TARGET}:443"]
    for req in tls_server.requests:
        assert "proxy-authorization" not in req.headers
        assert req.headers["authorization"] == "Bearer origin-token"
        everything = repr(req.headers) + req.target
        assert PASSWORD not in everything and basic("user", PASSWORD) not in everything


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_proxy_credentials_are_sent_as_proxy_authorization(
    tls_server: Any,
    cert_files: tuple[str, str],
    proxy_factory: Callable[..., FakeProxy],
    transports: Callable[..., Urllib3Transport],
    scheme: str,
) -> None:
    proxy = proxy_factory(tunnel_to=tls_server.port, password="p@ss")  # FakeProxy wants user:p@ss
    t = transports(proxy_url=f"http://user:p%40ss@127.0.0.1:{proxy.port}", environ={}, ca_certs=cert_files[0])
    r = t.send(get(f"{scheme}://{TARGET}/status/200"), 5)
    assert r.status == 200
    assert proxy.seen[0][1].get("proxy-authorization") == basic("user", "p@ss")
    if scheme == "https":
        assert connect_lines(proxy) == [f"CONNECT {TARGET}:443"]
        assert "proxy-authorization" not in tls_server.requests[0].headers
    else:
        assert r.body == b"via proxy"


# -------------------------------------------------------------------------- TLS


def test_tls_inside_the_tunnel_is_verified(
    tls_server: Any,
    cert_files: tuple[str, str],
    proxy_factory: Callable[..., FakeProxy],
    transports: Callable[..., Urllib3Transport],
) -> None:
    proxy = proxy_factory(tunnel_to=tls_server.port)
    proxy_url = f"http://127.0.0.1:{proxy.port}"

    # System CAs only: the self-signed certificate is refused.
    with pytest.raises(TLSError) as info:
        transports(proxy_url=proxy_url, environ={}).send(get(f"https://{TARGET}/status/200"), 5)
    assert_ours(info.value)
    assert info.value.not_sent
    assert str(info.value).startswith("TLS failed: ")
    assert "certificate verify failed" in str(info.value)

    # The test CA, but a name the certificate is not for: the name checked is the
    # target's (the proxy is 127.0.0.1, which the certificate does cover). urllib3 1.26
    # and 2.x word this differently; both name the host.
    with pytest.raises(TLSError) as info:
        transports(proxy_url=proxy_url, environ={}, ca_certs=cert_files[0]).send(
            get("https://other.example.test/status/200"), 5
        )
    assert_ours(info.value)
    assert "other.example.test" in str(info.value)

    # The tunnel itself worked each time: the proxy connected, the origin got no request.
    assert connect_lines(proxy) == [f"CONNECT {TARGET}:443", "CONNECT other.example.test:443"]
    assert tls_server.requests == []

    # It is the verification that failed: verify=False gets through with no CA at all.
    lax = transports(proxy_url=proxy_url, environ={}, verify=False)
    with pytest.warns(urllib3.exceptions.InsecureRequestWarning):  # urllib3 1.26 and 2.x both warn
        assert lax.send(get(f"https://{TARGET}/status/202"), 5).status == 202
    assert len(tls_server.requests) == 1


# ----------------------------------------------------------------- proxy errors


def test_proxy_refusing_is_connect_error(
    tls_server: Any,
    cert_files: tuple[str, str],
    proxy_factory: Callable[..., FakeProxy],
    transports: Callable[..., Urllib3Transport],
) -> None:
    proxy = proxy_factory(tunnel_to=tls_server.port, password="right")
    t = transports(proxy_url=f"http://user:wrong-{PASSWORD}@127.0.0.1:{proxy.port}", environ={}, ca_certs=cert_files[0])

    with pytest.raises(ConnectError) as info:
        t.send(get(f"https://{TARGET}/status/200"), 5)
    assert_ours(info.value)
    assert info.value.not_sent  # so the core may retry it
    message = str(info.value)
    # "the proxy failed: Tunnel connection failed: 407 Proxy Authentication Required"
    assert message.startswith("the proxy failed: ")
    assert "407 Proxy Authentication Required" in message
    assert PASSWORD not in message
    assert connect_lines(proxy) == [f"CONNECT {TARGET}:443"]
    assert tls_server.requests == []

    # A plain http request is answered by the proxy itself: its 407 comes back as a
    # response like any other status (the transport leaves statuses to the core).
    r = t.send(get("http://plain.example.test/x"), 5)
    assert (r.status, r.body) == (407, b"auth")
    assert connect_lines(proxy)[-1] == "GET http://plain.example.test/x"


def test_proxy_not_listening_is_connect_error(free_port: int, transports: Callable[..., Urllib3Transport]) -> None:
    t = transports(proxy_url=f"http://user:{PASSWORD}@127.0.0.1:{free_port}", environ={})
    for url in (f"https://{TARGET}/x", "http://plain.example.test/x"):
        with pytest.raises(ConnectError) as info:
            t.send(get(url), 5)
        assert_ours(info.value)
        assert info.value.not_sent
        assert str(info.value).startswith("the proxy failed: "), url
        assert "refused" in str(info.value).lower(), url
        assert PASSWORD not in str(info.value)


# --------------------------------------------------------------------- NO_PROXY


def test_no_proxy_sends_matching_hosts_directly(
    tls_server: Any,
    cert_files: tuple[str, str],
    proxy_factory: Callable[..., FakeProxy],
    transports: Callable[..., Urllib3Transport],
    hosts: dict[str, str],
) -> None:
    hosts[TARGET] = "127.0.0.1"  # reachable directly, so that going direct can work
    proxy = proxy_factory()
    t = transports(
        environ={"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}", "NO_PROXY": "other.invalid, .Example.Test"},
        ca_certs=cert_files[0],
    )
    r = t.send(get(f"https://{TARGET}:{tls_server.port}/status/200", Authorization="Bearer direct"), 5)
    assert (r.status, r.body) == (200, BINARY + b"status 200")
    assert proxy.seen == []
    assert tls_server.requests[0].headers["host"] == f"{TARGET}:{tls_server.port}"
    assert tls_server.requests[0].headers["authorization"] == "Bearer direct"

    # A name that only ends with the same letters is no match: it goes through the proxy.
    assert t.send(get("http://plain.notexample.test/x"), 5).body == b"via proxy"
    assert connect_lines(proxy) == ["GET http://plain.notexample.test/x"]


def test_loopback_and_no_proxy_star_always_go_directly(
    raw_server: Callable[..., Any],
    proxy_factory: Callable[..., FakeProxy],
    transports: Callable[..., Urllib3Transport],
    hosts: dict[str, str],
) -> None:
    origin = raw_server(handler)
    proxy = proxy_factory()
    proxy_url = f"http://127.0.0.1:{proxy.port}"
    # No NO_PROXY at all: loopback hosts bypass the proxy anyway.
    t = transports(environ={"HTTPS_PROXY": proxy_url})
    for host in ("127.0.0.1", "localhost"):
        assert t.send(get(f"http://{host}:{origin.port}/status/200"), 5).status == 200, host
    # NO_PROXY=* sends everything directly.
    hosts["direct.example.test"] = "127.0.0.1"
    star = transports(environ={"https_proxy": proxy_url, "no_proxy": "*"})
    assert star.send(get(f"http://direct.example.test:{origin.port}/status/201"), 5).status == 201
    assert proxy.seen == []
    assert [r.target for r in origin.requests] == ["/status/200"] * 2 + ["/status/201"]


# ---------------------------------------------------------------------- secrets


def test_the_proxy_password_is_never_shown(
    tls_server: Any,
    free_port: int,
    proxy_factory: Callable[..., FakeProxy],
    transports: Callable[..., Urllib3Transport],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3's own connection logs too
    refusing = proxy_factory(tunnel_to=tls_server.port, password="right")
    tunnelling = proxy_factory(tunnel_to=tls_server.port)
    failures: list[BaseException] = []
    shown: list[str] = []
    for port, url in [
        (refusing.port, f"https://{TARGET}/x"),  # 407 on CONNECT
        (tunnelling.port, f"https://{TARGET}/x"),  # TLS verification fails inside the tunnel
        (free_port, f"https://{TARGET}/x"),  # nothing listening
        (free_port, "http://plain.example.test/x"),
    ]:
        for config in ({"proxy_url": f"http://user:{PASSWORD}@127.0.0.1:{port}", "environ": {}},
                       {"environ": {"HTTPS_PROXY": f"http://user:{PASSWORD}@127.0.0.1:{port}"}}):
            t = transports(**config)
            shown += [repr(t), str(t)]
            with pytest.raises((ConnectError, TLSError)) as info:
                t.send(get(url), 5)
            failures.append(info.value)
    assert {type(e) for e in failures} == {ConnectError, TLSError}
    for e in failures:
        assert_ours(e)
        shown += [str(e), repr(e), "".join(traceback.format_exception(e))]
    shown.append(caplog.text)
    for text in shown:
        assert PASSWORD not in text
        assert basic("user", PASSWORD) not in text


@pytest.mark.parametrize("transport_cls", [Urllib3Transport, AsyncioTransport])
@pytest.mark.parametrize(
    "url, says",
    [
        (f"http://user:{PASSWORD}@127.0.0.1:99999", "not valid"),
        (f"http://user:{PASSWORD}@127.0.0.1:notaport", "not valid"),
        (f"socks5://user:{PASSWORD}@127.0.0.1:1080", "uses socks5://"),
        (f"http://user:{PASSWORD}@:3128", "no host"),
        (f"http://user:pa/{PASSWORD}@127.0.0.1:3128", "not valid"),  # an unencoded "/" in the password
        (f"user:{PASSWORD}@127.0.0.1:99999", "not valid"),  # no scheme
    ],
)
def test_an_invalid_proxy_url_is_a_usage_error_that_hides_the_password(
    transport_cls: Any, url: str, says: str
) -> None:
    with pytest.raises(UsageError, match=says) as info:
        transport_cls(proxy_url=url, environ={})
    assert PASSWORD not in str(info.value) and "pa/" not in str(info.value) and "user:***@" in str(info.value)
