"""A token stays out of exception messages and out of tracebacks that print local
variables (``pytest --showlocals``, rich, Sentry).

- An ``Authorization`` value with a line break, another control character or a
  non-ASCII character is refused before anything is sent, with a UsageError that names
  the authorizer's class and never the value.
- On the request path the value is held in a str whose ``repr`` is ``'***'``, so
  ``traceback.TracebackException(..., capture_locals=True)`` of a failure inside a
  transport (ours or the caller's) does not show it.
"""

from __future__ import annotations

import asyncio
import traceback
from pathlib import Path
from typing import Any, Callable

import pytest

import automate_lite as al
from automate_lite._core.auth import SecretStr
from automate_lite._core.values import Request, Response
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.faults import FaultServer, Reset, StallBeforeHeaders
from automate_lite.transports import AsyncioTransport, Urllib3Transport

SECRET = "hyg1ene-T0KEN-5e6f7a8b"
TESTS = str(Path(__file__).parent)
ONCE = al.RetryPolicy(max_attempts=1)
TWICE = al.RetryPolicy(max_attempts=2, backoff_base=0.01)


class HeaderAuthorizer:
    """Returns whatever header it is given; ``may_block`` chooses the driver's path."""

    def __init__(self, header: object, may_block: bool = False) -> None:
        self._header = header
        self.may_block = may_block

    def get_authorization_header(self) -> Any:
        return self._header

    def handle_missing_authorization(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "HeaderAuthorizer(...)"


def all_text(exc: BaseException) -> str:
    """What a traceback printer capturing locals would show of the library's frames
    (the test's own frames hold the header on purpose), through the whole chain."""
    texts = [str(exc), repr(exc), repr(exc.args)]
    shown: traceback.TracebackException | None = traceback.TracebackException.from_exception(
        exc, capture_locals=True
    )
    captured = 0
    while shown is not None:
        texts.extend(shown.format_exception_only())
        for frame in shown.stack:
            if frame.filename.startswith(TESTS) and frame.name != "send":  # the test's transports count
                continue
            captured += 1
            texts.append(f"{frame.filename}:{frame.lineno} {frame.name}")
            texts.extend(f"{name} = {value}" for name, value in (frame.locals or {}).items())
        shown = shown.__cause__ or shown.__context__
    assert captured, "no library frame in the traceback"
    return "\n".join(texts)


def _sync_call(url: str, auth: Any, **kw: Any) -> Callable[[], Any]:
    def call() -> Any:
        with al.ActionClient.new_client(url, auth, 0.5, retry=kw.pop("retry", ONCE), **kw) as client:
            return client.status("abc")

    return call


def _async_call(url: str, auth: Any, **kw: Any) -> Callable[[], Any]:
    async def go() -> Any:
        async with al.AsyncActionClient.new_client(url, auth, 0.5, retry=kw.pop("retry", ONCE), **kw) as client:
            return await client.status("abc")

    return lambda: asyncio.run(go())


BAD_VALUES = [
    f"Bearer {SECRET}\n",
    f"Bearer {SECRET}\r\nX-Injected: 1",
    f"Bearer {SECRET}\x00",
    f"Bearer {SECRET}\t",
    f"Bearer {SECRET}\x7f",
    f"Bearer {SECRET}\u00e9",
    f"Bearer {SECRET}\u2028",
]


@pytest.mark.parametrize("header", BAD_VALUES)
@pytest.mark.parametrize("may_block", [False, True])
def test_an_unsendable_header_is_a_usage_error_naming_the_authorizer(header: str, may_block: bool) -> None:
    with ActionProviderStub() as ap, FaultServer(ap.url) as faults:
        for make in (_sync_call, _async_call):
            with pytest.raises(al.UsageError) as info:
                make(faults.url, HeaderAuthorizer(header, may_block))()
            assert "HeaderAuthorizer" in str(info.value)
            assert SECRET not in all_text(info.value)
            assert isinstance(info.value, al.AutomateError)
        assert faults.seen == [], "a request with that header was sent"


def test_a_globus_sdk_authorizer_holding_a_newline_is_named_not_shown() -> None:
    globus_sdk = pytest.importorskip("globus_sdk")
    auth = globus_sdk.AccessTokenAuthorizer(SECRET + "\n")
    with ActionProviderStub() as ap:
        for make in (_sync_call, _async_call):
            with pytest.raises(al.UsageError, match="AccessTokenAuthorizer") as info:
                make(ap.url, auth)()
            assert SECRET not in all_text(info.value)


def test_a_header_that_is_not_a_string_is_a_usage_error() -> None:
    with ActionProviderStub() as ap:
        with pytest.raises(al.UsageError, match=r"HeaderAuthorizer returned a bytes"):
            _sync_call(ap.url, HeaderAuthorizer(b"Bearer x"))()


@pytest.mark.parametrize("token", [SECRET + "\x00", SECRET + "\tx", "t\u00f6ken-" + SECRET, SECRET + "\n"])
def test_bearer_token_authorizer_refuses_unsendable_tokens(token: str) -> None:
    with pytest.raises(al.UsageError) as info:
        al.BearerTokenAuthorizer(token)
    assert SECRET not in all_text(info.value)


def test_the_secret_str_is_the_string_it_holds() -> None:
    s = SecretStr("Bearer " + SECRET)
    assert s == "Bearer " + SECRET and str(s) == "Bearer " + SECRET and f"{s}" == "Bearer " + SECRET
    assert s.encode("latin-1") == ("Bearer " + SECRET).encode()
    assert SECRET not in repr(s) and SECRET not in repr({"Authorization": s})


# ----------------------------------------------------------------- tracebacks with locals


class RaisingTransport:
    """A caller's transport that fails while it holds the request (and the header)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.seen: list[bool] = []

    def send(self, request: Request, timeout: float | None) -> Response:
        header = request.headers["Authorization"]
        headers = dict(request.headers)
        self.seen.append(header == f"Bearer {SECRET}" == headers["Authorization"])
        raise self.error


class AsyncRaisingTransport(RaisingTransport):
    async def send(self, request: Request, timeout: float | None) -> Response:  # type: ignore[override]
        return RaisingTransport.send(self, request, timeout)

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize("may_block", [False, True])
@pytest.mark.parametrize("error", [al.ConnectionLostError("lost"), RuntimeError("a bug in a transport")])
def test_a_failure_inside_a_callers_transport_shows_no_token(may_block: bool, error: BaseException) -> None:
    auth = HeaderAuthorizer(f"Bearer {SECRET}", may_block)
    sync_t = RaisingTransport(error)
    with pytest.raises(type(error)) as info:
        with al.ActionClient.new_client("https://example.org/ap", auth, 2, retry=TWICE, transport=sync_t) as c:
            c.status("abc")
    assert sync_t.seen and all(sync_t.seen), "the transport did not get the real header"
    text = all_text(info.value)
    assert "header = '***'" in text and "'Authorization': '***'" in text  # locals were captured
    assert SECRET not in text

    async_t = AsyncRaisingTransport(error)

    async def go() -> None:
        async with al.AsyncActionClient.new_client("https://example.org/ap", auth, 2, retry=TWICE,
                                                   transport=async_t) as ac:
            await ac.status("abc")

    with pytest.raises(type(error)) as ainfo:
        asyncio.run(go())
    assert async_t.seen and all(async_t.seen)
    assert SECRET not in all_text(ainfo.value)


@pytest.mark.parametrize("kind", ["urllib3", "asyncio"])
@pytest.mark.parametrize("may_block", [False, True])
def test_failures_in_the_built_in_transports_show_no_token(kind: str, may_block: bool) -> None:
    auth = HeaderAuthorizer(f"Bearer {SECRET}", may_block)
    tokens = {SECRET: "urn:globus:auth:identity:x"}
    with ActionProviderStub(tokens=tokens) as ap, FaultServer(ap.url) as faults:
        for fault, error in ((Reset(), al.ConnectionLostError), (StallBeforeHeaders(seconds=5), al.ReadTimeout)):
            faults.script(fault)
            if kind == "urllib3":
                call = _sync_call(faults.url, auth, transport=Urllib3Transport())
            else:
                call = _async_call(faults.url, auth, transport=AsyncioTransport())
            with pytest.raises(error) as info:
                call()
            text = all_text(info.value)
            assert SECRET not in text, text[text.index(SECRET) - 300:text.index(SECRET) + 50]
        assert faults.seen and all(r.headers.get("authorization") == f"Bearer {SECRET}" for r in faults.seen)
