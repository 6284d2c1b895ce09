"""Source compatibility with globus-automate-client 0.18: its constructor forms and
its methods called positionally, sync and async, against the loopback stand-ins."""

from __future__ import annotations

from typing import Any

import pytest

import automate_lite as al
from automate_lite.transports import AsyncioTransport, Urllib3Transport

CLIENTS = [al.ActionClient, al.AsyncActionClient, al.FlowsClient, al.AsyncFlowsClient]
IDS = ["ActionClient", "AsyncActionClient", "FlowsClient", "AsyncFlowsClient"]


def _make(cls: Any, **kwargs: Any) -> Any:
    if cls in (al.ActionClient, al.AsyncActionClient):
        return cls(base_url="https://actions.example.org/hello", authorizer=None, **kwargs)
    return cls("client-id", None, base_url="https://flows.example.org", authorizer=None, **kwargs)


def _new(cls: Any, **kwargs: Any) -> Any:
    if cls in (al.ActionClient, al.AsyncActionClient):
        return cls.new_client("https://actions.example.org/hello", None, **kwargs)
    return cls.new_client("client-id", None, None, "https://flows.example.org", **kwargs)


# -- constructor forms ---------------------------------------------------------------


@pytest.mark.parametrize("make", [_make, _new], ids=["constructor", "new_client"])
@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
def test_transport_params_map_to_settings(cls: Any, make: Any) -> None:
    client = make(cls, app_name="my portal",
                  transport_params={"http_timeout": 7, "verify_ssl": False, "max_retries": 2, "max_sleep": 3})
    assert client.http_timeout == 7.0
    assert client.retry.max_attempts == 3 and client.retry.backoff_max == 3.0
    assert client.transport.verify is False
    expected = AsyncioTransport if cls in (al.AsyncActionClient, al.AsyncFlowsClient) else Urllib3Transport
    assert isinstance(client.transport, expected)
    agent = client.ops.session.headers["User-Agent"]
    assert agent.startswith("automate-lite/") and agent.endswith(" my portal")
    # The mapped settings are fields: a replaced client keeps them.
    again = client.replace(extra_headers={"X-Test": "1"})
    assert again.http_timeout == 7.0 and again.retry.max_attempts == 3 and again.app_name == "my portal"
    assert again.ops.session.headers["User-Agent"] == agent


@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
def test_transport_params_no_timeout(cls: Any) -> None:
    assert _make(cls, transport_params={"http_timeout": -1}).http_timeout is None


@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"transport_params": {"retry_backoff": 1}}, ["'retry_backoff'", "retry=automate_lite.RetryPolicy"]),
        ({"transport_params": {"max_retries": -1}}, ["max_retries", ">= 0"]),
        ({"transport_params": {"max_sleep": "long"}}, ["max_sleep", "seconds"]),
        ({"transport_params": {"verify_ssl": "/no/such/bundle.pem"}}, ["verify_ssl", "CA bundle"]),
        ({"transport_params": {"http_timeout": 0}}, ["http_timeout", "seconds"]),
        ({"transport_params": ["http_timeout"]}, ["transport_params must be a dict"]),
        ({"transport_params": {"http_timeout": 5}, "http_timeout": 9}, ["http_timeout", "once"]),
        ({"transport_params": {"max_retries": 1}, "retry": al.RetryPolicy(2)}, ["retry=", "only"]),
        ({"app_name": "two\nlines"}, ["app_name", "printable"]),
        ({"app_name": 42}, ["app_name"]),
    ],
)
def test_transport_params_errors(cls: Any, kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(al.UsageError) as info:
        _make(cls, **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("cls", CLIENTS, ids=IDS)
def test_verify_ssl_beside_own_transport(cls: Any) -> None:
    own = AsyncioTransport() if cls in (al.AsyncActionClient, al.AsyncFlowsClient) else Urllib3Transport()
    with pytest.raises(al.UsageError, match="pass verify="):
        _make(cls, transport=own, transport_params={"verify_ssl": False})
    assert _make(cls, transport=own, transport_params={"http_timeout": 3}).transport is own


@pytest.mark.parametrize("cls", [al.ActionClient, al.AsyncActionClient], ids=IDS[:2])
def test_action_client_base_url_form(cls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = cls(base_url="https://actions.example.org/hello/", authorizer=al.BearerTokenAuthorizer("t"))
    assert client.action_url == "https://actions.example.org/hello"
    assert cls(action_url="https://a.example.org/x", base_url="https://a.example.org/x").action_url == "https://a.example.org/x"
    with pytest.raises(al.UsageError, match="only one of action_url and base_url"):
        cls("https://a.example.org/x", base_url="https://b.example.org/y")
    with pytest.raises(al.UsageError, match="base_url"):
        cls(base_url="not a url")
    # As 0.18: no URL at all means the Globus Action Providers of the environment.
    monkeypatch.delenv("GLOBUS_SDK_ENVIRONMENT", raising=False)
    assert cls().action_url == "https://actions.globus.org"
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", "sandbox")
    assert cls().action_url == "https://sandbox.actions.automate.globus.org"


@pytest.mark.parametrize("cls", [al.FlowsClient, al.AsyncFlowsClient], ids=IDS[2:])
def test_flows_client_keyword_form(cls: Any) -> None:
    def callback(**kwargs: Any) -> None:
        return None

    auth = al.BearerTokenAuthorizer("t")
    client = cls("cid", callback, base_url="https://flows.example.org", authorizer=auth, app_name="x",
                 transport_params={"http_timeout": 4})
    assert (client.client_id, client.authorizer_callback, client.authorizer) == ("cid", callback, auth)
    assert client.base_url == "https://flows.example.org" and client.http_timeout == 4.0
    assert cls(client_id="cid", get_authorizer_callback=callback).authorizer_callback is callback


# -- the paging key each legacy listing sends ----------------------------------------

FID = "3b6b1e9a-6b6f-4e3c-9c62-2a7f4d1c0e11"
RID = "5c1f6a2e-0b8d-4f7e-9a41-6d2e8c3b7f90"


def _first_request(op: Any) -> al.Request:
    instruction = next(op)
    while isinstance(instruction, al.Call):
        instruction = op.send(instruction.fn())
    assert isinstance(instruction, al.Request)
    return instruction


def _query(op: Any) -> list[tuple[str, str]]:
    import urllib.parse

    return urllib.parse.parse_qsl(urllib.parse.urlsplit(_first_request(op).url).query)


def test_flows_listings_send_marker_as_the_flows_api_documents() -> None:
    # 0.18 sent pagination_token on these; the Flows API (and globus-sdk) name it marker,
    # and the stand-in, like the service, pages /flows and /runs by marker only.
    ops = al.FlowsClient(None, None, al.BearerTokenAuthorizer("t"), "https://flows.example.org").ops
    for op in (ops.list_flows(None, "m1", 5), ops.enumerate_runs(None, None, "m1", 5),
               ops.list_flow_runs(FID, None, None, None, "m1", 5, authorizer=None)):
        query = _query(op)
        assert ("marker", "m1") in query
        assert all(k not in ("pagination_token", "per_page") for k, _ in query)  # marker wins over per_page, as in 0.18
    assert ("per_page", "5") in _query(ops.list_flows(None, None, 5))


def test_provider_logs_send_pagination_token_on_the_legacy_routes() -> None:
    # 0.18's ActionClient.log (and flow_action_log, which is it) sent pagination_token;
    # the newer /actions/{id}/log route takes marker.
    ops = al.FlowsClient(None, None, al.BearerTokenAuthorizer("t"), "https://flows.example.org").ops
    assert ("pagination_token", "m2") in _query(ops.flow_action_log(FID, None, RID, 10, False, "m2", 3))
    legacy = al.ActionClient("https://actions.example.org/p").ops
    query = _query(legacy.log("a1", 10, False, "m3", 3))
    assert ("pagination_token", "m3") in query and not any(k == "per_page" for k, _ in query)
    assert ("per_page", "3") in _query(legacy.log("a1", 10, False, None, 3))
    newer = al.ActionClient("https://actions.example.org/p", routes="actions").ops
    assert ("marker", "m3") in _query(newer.log("a1", 10, False, "m3"))
    assert ("marker", "m4") in _query(ops.get_run_logs(RID, 10, False, "m4"))
