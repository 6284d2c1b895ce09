"""One DEBUG record per request under ``automate_lite.http``: method, URL without query
values, status, elapsed time, request id, attempt; never a token, header value or body.

Real clients against the shipped Action Provider stand-in on 127.0.0.1, with the fault
server in front of it to make a request fail once and be retried.
"""

from __future__ import annotations

import logging
import pytest

import automate_lite as al
from automate_lite._core import http as core_http
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.faults import FaultServer, Respond, Reset

SECRET = "s3cr3t-L0G-TOKEN-91ab"
FAST = al.RetryPolicy(max_attempts=3, backoff_base=0.01)


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "automate_lite.http"]


def _assert_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.args)
        assert SECRET not in repr(record.__dict__)
    assert SECRET not in caplog.text


def test_one_debug_record_per_request_with_retries(caplog: pytest.LogCaptureFixture) -> None:
    tokens = {SECRET: "urn:globus:auth:identity:logger"}
    with ActionProviderStub(tokens=tokens) as ap, FaultServer(ap.url) as faults:
        with al.ActionClient.new_client(faults.url, al.BearerTokenAuthorizer(SECRET), 5, retry=FAST) as client:
            with caplog.at_level(logging.DEBUG, logger="automate_lite"):
                action_id = client.run({"echo_string": "hello " + SECRET})["action_id"]
                faults.script(Respond.json(503, {"code": "Unavailable", "description": "down"},
                                           headers={"X-Request-Id": "rid-503"}))
                client.status(action_id)
                faults.script(Reset(forward=False))
                client.status(action_id)
    records = _records(caplog)
    # run (1), status: 503 then 200 (2), status: reset then 200 (2)
    assert len(records) == 5, [r.getMessage() for r in records]
    assert all(r.levelno == logging.DEBUG for r in records)
    run, s503, s200, reset, again = records
    assert run.http_method == "POST" and run.http_status == 201 and run.attempt == 1  # type: ignore[attr-defined]
    assert run.http_url == faults.url + "/run"  # type: ignore[attr-defined]
    assert s503.http_status == 503 and s503.attempt == 1 and s503.request_id == "rid-503"  # type: ignore[attr-defined]
    assert "rid-503" in s503.getMessage() and "attempt 1" in s503.getMessage()
    assert s200.http_status == 200 and s200.attempt == 2 and "attempt 2" in s200.getMessage()  # type: ignore[attr-defined]
    assert f"GET {faults.url}/{action_id}/status -> 200" in s200.getMessage()
    assert reset.http_status is None and "failed (ConnectionLostError)" in reset.getMessage()  # type: ignore[attr-defined]
    assert again.attempt == 2 and again.http_status == 200  # type: ignore[attr-defined]
    for r in records:
        assert isinstance(r.elapsed_ms, float) and r.elapsed_ms >= 0  # type: ignore[attr-defined]
        assert " ms " in r.getMessage()
    _assert_no_secret(caplog)


def test_query_values_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    tokens = {SECRET: "urn:globus:auth:identity:logger"}
    with ActionProviderStub(tokens=tokens) as ap:
        with al.ActionClient.new_client(ap.url, al.BearerTokenAuthorizer(SECRET), 5) as client:
            with caplog.at_level(logging.DEBUG, logger="automate_lite"):
                with pytest.raises(al.AutomateAPIError):
                    client.get("/nowhere", query_params={"marker": SECRET, "per_page": 3})
    (record,) = _records(caplog)
    assert record.getMessage().startswith(f"GET {ap.url}/nowhere?marker=...&per_page=... -> 404")
    _assert_no_secret(caplog)


def test_async_client_logs_too(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    tokens = {SECRET: "urn:globus:auth:identity:logger"}

    async def calls(url: str) -> None:
        async with al.AsyncActionClient.new_client(url, al.BearerTokenAuthorizer(SECRET), 5) as client:
            await client.status((await client.run({"echo_string": "x"}))["action_id"])

    with ActionProviderStub(tokens=tokens) as ap:
        with caplog.at_level(logging.DEBUG, logger="automate_lite"):
            asyncio.run(calls(ap.url))
    assert [(r.http_method, r.http_status, r.attempt) for r in _records(caplog)] == [  # type: ignore[attr-defined]
        ("POST", 201, 1), ("GET", 200, 1)]
    _assert_no_secret(caplog)


def test_debug_off_asks_once_per_request_and_logs_nothing(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    real = core_http.request_log.isEnabledFor

    def counting(level: int) -> bool:
        asked.append(level)
        return real(level)

    monkeypatch.setattr(core_http.request_log, "isEnabledFor", counting)
    tokens = {SECRET: "urn:globus:auth:identity:logger"}
    with ActionProviderStub(tokens=tokens) as ap, FaultServer(ap.url) as faults:
        with al.ActionClient.new_client(faults.url, al.BearerTokenAuthorizer(SECRET), 5, retry=FAST) as client:
            with caplog.at_level(logging.INFO, logger="automate_lite"):
                faults.script(Respond.json(503, {"code": "Unavailable", "description": "down"}))
                client.introspect()
    assert asked == [logging.DEBUG]  # one call, two attempts: asked once
    assert _records(caplog) == []
    _assert_no_secret(caplog)

