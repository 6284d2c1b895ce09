"""``GLOBUS_SDK_HTTP_TIMEOUT`` and ``GLOBUS_SDK_VERIFY_SSL`` are honoured as globus-sdk
reads them, where automate-lite decides its defaults; an explicit argument wins; a bad
value is a UsageError naming the variable.

Real effects are checked over 127.0.0.1: a stalled server times out after the
variable's seconds, and a self-signed loopback TLS server is refused or trusted as the
variable says.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any, Callable

import pytest
from _tls import self_signed, server_context

import automate_lite as al
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.faults import FaultServer, StallBeforeHeaders
from automate_lite.transports import AsyncioTransport, Urllib3Transport

TIMEOUT = "GLOBUS_SDK_HTTP_TIMEOUT"
VERIFY = "GLOBUS_SDK_VERIFY_SSL"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (TIMEOUT, VERIFY, "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------- http timeout


@pytest.mark.parametrize(("raw", "expected"), [("2.5", 2.5), ("30", 30.0), ("-1", None), ("", 10.0), ("  ", 10.0)])
def test_http_timeout_from_the_environment(monkeypatch: pytest.MonkeyPatch, raw: str, expected: float | None) -> None:
    monkeypatch.setenv(TIMEOUT, raw)
    for cls in (al.ActionClient, al.AsyncActionClient):
        client = cls.new_client("https://example.org/ap", None)
        assert client.http_timeout == expected
        assert cls("https://example.org/ap").http_timeout == expected
        # An explicit value wins, as in globus-sdk.
        assert cls.new_client("https://example.org/ap", None, 3).http_timeout == 3.0
        assert cls.new_client("https://example.org/ap", None, None).http_timeout is None
    for fcls in (al.FlowsClient, al.AsyncFlowsClient):
        assert fcls.new_client(None, None, None).http_timeout == expected
        assert fcls().http_timeout == expected
        assert fcls.new_client(None, None, None, None, 4).http_timeout == 4.0


def test_http_timeout_unset_is_ten_seconds() -> None:
    client = al.ActionClient.new_client("https://example.org/ap", None)
    assert client.http_timeout == 10.0 and type(client.http_timeout) is float
    # The stored value is the resolved one: replace() and pickling keep it.
    assert client.replace(routes="actions").http_timeout == 10.0


@pytest.mark.parametrize("raw", ["abc", "0", "-2", "nan", "inf", "1e9", "10s"])
def test_a_bad_http_timeout_variable_is_a_usage_error_naming_it(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(TIMEOUT, raw)
    with pytest.raises(al.UsageError, match=TIMEOUT) as info:
        al.ActionClient.new_client("https://example.org/ap", None)
    assert "-1 for no limit" in str(info.value)
    # Given explicitly, the variable is not read at all.
    assert al.ActionClient.new_client("https://example.org/ap", None, 5).http_timeout == 5.0


def test_the_variable_really_bounds_a_stalled_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT, "0.3")
    with ActionProviderStub() as ap, FaultServer(ap.url) as faults:
        with al.ActionClient.new_client(faults.url, None, retry=al.RetryPolicy(max_attempts=1)) as client:
            faults.script(StallBeforeHeaders(seconds=10))
            with pytest.raises(al.ReadTimeout, match="0.3s"):
                client.introspect()


# ------------------------------------------------------------------- TLS verification


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("YES", True), ("on", True), ("false", False), ("0", False), ("No", False), ("", None)],
)
def test_verify_from_the_environment(raw: str, expected: bool | None) -> None:
    env = {VERIFY: raw}
    assert Urllib3Transport(environ=env).verify is expected
    assert AsyncioTransport(environ=env).verify is expected
    # An explicit verify= or ca_certs= wins.
    assert Urllib3Transport(verify=False, environ={VERIFY: "true"}).verify is False
    assert AsyncioTransport(verify=True, environ={VERIFY: "false"}).verify is True


def test_verify_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VERIFY, "false")
    assert Urllib3Transport().verify is False
    assert al.ActionClient.new_client("https://example.org/ap", None).transport.verify is False  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw", ["maybe", "/no/such/ca-bundle.pem", "2"])
def test_a_bad_verify_variable_is_a_usage_error_naming_it(raw: str) -> None:
    for cls in (Urllib3Transport, AsyncioTransport):
        with pytest.raises(al.UsageError, match=VERIFY):
            cls(environ={VERIFY: raw})


@pytest.fixture(scope="module")
def loopback_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1: untrusted unless named as the CA bundle."""
    return self_signed(tmp_path_factory.mktemp("loopback-tls"), dns=())


def _ok(req: Any, sock: socket.socket, server: Any) -> bool:
    body = json.dumps({"action_id": "a", "status": "SUCCEEDED"}).encode()
    sock.sendall(server.response(200, body, {"Content-Type": "application/json"}))
    return True


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # loopback, unset: on purpose
def test_verify_variable_against_a_self_signed_loopback_server(
    raw_server: Callable[..., Any], loopback_cert: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = server_context(loopback_cert)
    server = raw_server(_ok, ctx)
    url = f"https://127.0.0.1:{server.port}/ap"
    once = al.RetryPolicy(max_attempts=1)

    def status_sync() -> Any:
        with al.ActionClient.new_client(url, None, 5, retry=once) as client:
            return client.status("a")["status"]

    async def status_async() -> Any:
        async with al.AsyncActionClient.new_client(url, None, 5, retry=once) as client:
            return (await client.status("a"))["status"]

    calls: list[Callable[[], Any]] = [status_sync, lambda: asyncio.run(status_async())]
    # Unset: loopback is not verified (the transports' default).
    for call in calls:
        assert call() == "SUCCEEDED"
    # "true", as in globus-sdk: every host is verified, loopback too.
    monkeypatch.setenv(VERIFY, "true")
    for call in calls:
        with pytest.raises(al.TLSError):
            call()
    # A CA bundle path: verified, against that bundle.
    monkeypatch.setenv(VERIFY, loopback_cert[0])
    for call in calls:
        assert call() == "SUCCEEDED"
