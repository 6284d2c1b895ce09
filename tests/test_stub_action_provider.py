"""The Action Provider stand-in, over real HTTP on 127.0.0.1 (no automate_lite code)."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from automate_lite.testing.action_provider import ANONYMOUS_IDENTITY, DEFAULT_SCOPE, ActionProviderStub

ALICE = "urn:globus:auth:identity:alice-uuid"
BOB = "urn:globus:auth:identity:bob-uuid"
CAROL = "urn:globus:auth:identity:carol-uuid"
TOKENS = {"tok-alice": ALICE, "tok-bob": BOB, "tok-carol": CAROL}


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self) -> Any:
        assert self.headers.get("content-type") == "application/json", self.body
        return json.loads(self.body)


def call(url: str, method: str, path: str, body: Any = None, token: str | None = "tok-alice",
         conn: http.client.HTTPConnection | None = None) -> Answer:
    parts = urlsplit(url)
    own = conn is None
    c = conn or http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        c.request(method, parts.path + path, body=data, headers=headers)
        r = c.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        if own:
            c.close()


def wait_status(url: str, path: str, until: set[str], token: str = "tok-alice") -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        doc: dict[str, Any] = call(url, "GET", path, token=token).json
        if doc["status"] in until or time.monotonic() > deadline:
            return doc
        time.sleep(0.01)


@pytest.fixture(scope="module")
def ap() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens=TOKENS) as stub:
        yield stub


STYLES = {
    "legacy": {"run": ("POST", "/run"), "status": ("GET", "/{}/status"),
               "cancel": ("POST", "/{}/cancel"), "release": ("POST", "/{}/release"),
               "resume": ("POST", "/{}/resume"), "log": ("GET", "/{}/log")},
    "newer": {"run": ("POST", "/actions"), "status": ("GET", "/actions/{}"),
              "cancel": ("POST", "/actions/{}/cancel"), "release": ("DELETE", "/actions/{}"),
              "resume": ("POST", "/actions/{}/resume"), "log": ("GET", "/actions/{}/log")},
}


@pytest.fixture(params=sorted(STYLES))
def style(request: pytest.FixtureRequest) -> dict[str, tuple[str, str]]:
    routes: dict[str, tuple[str, str]] = STYLES[request.param]
    return routes


def op(ap: ActionProviderStub, style: dict[str, tuple[str, str]], name: str,
       action_id: str = "", body: Any = None, token: str | None = "tok-alice",
       query: str = "") -> Answer:
    method, path = style[name]
    return call(ap.url, method, path.format(action_id) + query, body, token)


def test_introspect_needs_no_token(ap: ActionProviderStub) -> None:
    doc = call(ap.url, "GET", "/", token=None).json
    assert doc["globus_auth_scope"] == DEFAULT_SCOPE
    assert doc["api_version"] == "1.0"
    assert doc["synchronous"] is False and doc["log_supported"] is True
    assert doc["runnable_by"] == ["all_authenticated_users"]
    assert doc["visible_to"] == ["public"] and doc["types"] == ["Action"]
    assert set(doc["input_schema"]["properties"]) >= {"echo_string", "sleep_s", "fail",
                                                      "require_resume", "error_status"}
    assert {"title", "subtitle", "admin_contact"} <= set(doc)


def test_run_then_succeeds(ap: ActionProviderStub, style: dict[str, tuple[str, str]]) -> None:
    r = op(ap, style, "run", body={"body": {"echo_string": "hi", "sleep_s": 0.05},
                                   "label": "L", "monitor_by": [BOB]})
    assert r.status == 201
    doc = r.json
    assert doc["status"] == "ACTIVE" and doc["creator_id"] == ALICE
    assert doc["label"] == "L" and doc["monitor_by"] == [BOB] and doc["manage_by"] is None
    assert doc["completion_time"] is None and doc["release_after"] is None
    assert doc["start_time"].endswith("+00:00")
    assert set(doc) == {"action_id", "status", "display_status", "creator_id", "label",
                        "monitor_by", "manage_by", "start_time", "completion_time",
                        "release_after", "details"}
    done = wait_status(ap.url, style["status"][1].format(doc["action_id"]), {"SUCCEEDED"})
    assert done["status"] == "SUCCEEDED"
    assert done["details"] == {"echo_string": "hi",
                               "result": {"echo_string": "hi", "sleep_s": 0.05}}
    assert done["completion_time"] is not None
    # a monitor may read but not manage
    assert op(ap, style, "status", doc["action_id"], token="tok-bob").status == 200
    assert op(ap, style, "release", doc["action_id"], token="tok-bob").json["code"] == "Forbidden"


def test_default_echo_string_and_route_styles_share_actions(ap: ActionProviderStub) -> None:
    doc = call(ap.url, "POST", "/run", {"body": {}}).json
    other = wait_status(ap.url, f"/actions/{doc['action_id']}", {"SUCCEEDED"})
    assert other["details"]["echo_string"] == "hello"
    assert call(ap.url, "GET", f"/{doc['action_id']}/status").json == other


def test_fail(ap: ActionProviderStub, style: dict[str, tuple[str, str]]) -> None:
    doc = op(ap, style, "run", body={"body": {"fail": True}}).json
    done = wait_status(ap.url, style["status"][1].format(doc["action_id"]), {"FAILED"})
    assert done["status"] == "FAILED" and done["details"]["code"] == "ActionFailed"
    assert "description" in done["details"]


def test_require_resume(ap: ActionProviderStub, style: dict[str, tuple[str, str]]) -> None:
    doc = op(ap, style, "run", body={"body": {"require_resume": True}}).json
    aid = doc["action_id"]
    assert doc["status"] == "INACTIVE"
    assert doc["details"]["code"] == "ConsentRequired"
    assert doc["details"]["required_scope"] == DEFAULT_SCOPE
    assert op(ap, style, "status", aid).json["status"] == "INACTIVE"
    assert op(ap, style, "release", aid).json["code"] == "ActionNotComplete"
    resumed = op(ap, style, "resume", aid)
    assert resumed.status == 200 and resumed.json["status"] == "ACTIVE"
    assert wait_status(ap.url, style["status"][1].format(aid), {"SUCCEEDED"})["status"] == \
        "SUCCEEDED"
    again = op(ap, style, "resume", aid)
    assert again.status == 409 and again.json["code"] == "ActionNotInactive"
    codes = [e["code"] for e in op(ap, style, "log", aid).json["entries"]]
    assert codes == ["ActionStarted", "ActionInactive", "ActionResumed", "ActionSucceeded"]


def test_cancel_and_release(ap: ActionProviderStub, style: dict[str, tuple[str, str]]) -> None:
    aid = op(ap, style, "run", body={"body": {"sleep_s": 60}}).json["action_id"]
    r = op(ap, style, "release", aid)
    assert r.status == 409 and r.json["code"] == "ActionNotComplete"
    assert "description" in r.json
    canceled = op(ap, style, "cancel", aid).json
    assert canceled["status"] == "FAILED" and canceled["details"]["code"] == "Canceled"
    assert canceled["completion_time"] is not None
    assert op(ap, style, "cancel", aid).json == canceled  # finished: unchanged
    assert op(ap, style, "log", aid).json["entries"][-1]["code"] == "ActionCanceled"
    released = op(ap, style, "release", aid)
    assert released.status == 200 and released.json["action_id"] == aid
    for name in ("status", "release", "cancel", "log"):
        gone = op(ap, style, name, aid)
        assert gone.status == 404 and gone.json["code"] == "NotFound"


def test_other_identity_sees_404(ap: ActionProviderStub, style: dict[str, tuple[str, str]]) -> None:
    aid = op(ap, style, "run", body={"body": {"sleep_s": 60}}).json["action_id"]
    for name in ("status", "cancel", "resume", "release", "log"):
        r = op(ap, style, name, aid, token="tok-carol")
        assert r.status == 404 and r.json["code"] == "NotFound"
    assert op(ap, style, "status", aid).json["status"] == "ACTIVE"


def test_idempotent_request_id(ap: ActionProviderStub, style: dict[str, tuple[str, str]]) -> None:
    rid = str(uuid.uuid4())
    req = {"request_id": rid, "body": {"echo_string": "x", "sleep_s": 60}, "label": "same"}
    before = ap.state.created_count
    first = op(ap, style, "run", body=req)
    again = op(ap, style, "run", body=dict(req, label=None, tags=None) | {"label": "same"})
    assert first.status == 201 and again.status == 200
    assert again.json["action_id"] == first.json["action_id"]
    clash = op(ap, style, "run", body=dict(req, body={"echo_string": "y"}))
    assert clash.status == 409 and clash.json["code"] == "Conflict"
    # the same request_id from someone else is their own action
    bobs = op(ap, style, "run", body=req, token="tok-bob")
    assert bobs.status == 201 and bobs.json["action_id"] != first.json["action_id"]
    assert ap.state.created_count == before + 2


def test_concurrent_retries_create_one_action(ap: ActionProviderStub) -> None:
    req = {"request_id": str(uuid.uuid4()), "body": {"sleep_s": 60}}
    before = ap.state.created_count
    answers: list[Answer] = []
    lock = threading.Lock()

    def worker() -> None:
        a = call(ap.url, "POST", "/actions", req)
        with lock:
            answers.append(a)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status for a in answers) == [200] * 15 + [201]
    assert len({a.json["action_id"] for a in answers}) == 1
    assert ap.state.created_count == before + 1


def test_missing_request_id_makes_new_actions(ap: ActionProviderStub) -> None:
    a = call(ap.url, "POST", "/run", {"body": {"sleep_s": 60}}).json
    b = call(ap.url, "POST", "/run", {"body": {"sleep_s": 60}}).json
    assert a["action_id"] != b["action_id"]


def test_paged_log_both_param_styles(ap: ActionProviderStub) -> None:
    aid = call(ap.url, "POST", "/run", {"body": {"require_resume": True}}).json["action_id"]
    call(ap.url, "POST", f"/{aid}/resume")
    wait_status(ap.url, f"/{aid}/status", {"SUCCEEDED"})
    everything = ["ActionStarted", "ActionInactive", "ActionResumed", "ActionSucceeded"]

    def walk(path: str, first_query: str, marker_name: str) -> tuple[list[str], list[bool]]:
        codes: list[str] = []
        flags: list[bool] = []
        query = first_query
        for _ in range(10):
            page = call(ap.url, "GET", path + query).json
            assert page["limit"] == 3 and len(page["entries"]) <= 3
            assert {"time", "code", "description", "details"} == set(page["entries"][0])
            codes += [e["code"] for e in page["entries"]]
            flags.append(page["has_next_page"])
            if not page["has_next_page"]:
                assert page["marker"] is None
                return codes, flags
            query = f"?limit=3&{marker_name}={page['marker']}"
        raise AssertionError("paging did not end")

    assert walk(f"/actions/{aid}/log", "?limit=3", "marker") == (everything, [True, False])
    assert walk(f"/{aid}/log", "?limit=3", "pagination_token") == (everything, [True, False])
    reverse = walk(f"/{aid}/log", "?limit=3&reverse_order=true", "pagination_token")
    assert reverse == (everything[::-1], [True, False])
    assert [e["code"] for e in call(ap.url, "GET", f"/{aid}/log?reverse_order=false")
            .json["entries"]] == everything
    default = call(ap.url, "GET", f"/actions/{aid}/log").json
    assert default["limit"] == 10 and default["has_next_page"] is False
    for bad in ("?limit=0", "?limit=x", "?marker=!!!", "?pagination_token=bm9wZQ"):
        r = call(ap.url, "GET", f"/{aid}/log{bad}")
        assert r.status == 422 and r.json["code"] == "ValidationError"


def test_401s(ap: ActionProviderStub, style: dict[str, tuple[str, str]]) -> None:
    for token, code in ((None, "AuthenticationRequired"), ("nope", "InvalidToken")):
        r = op(ap, style, "run", body={"body": {}}, token=token)
        assert r.status == 401 and r.json["code"] == code and r.json["description"]
        assert op(ap, style, "status", "x", token=token).status == 401
    assert call(ap.url, "GET", "/actions", token=None).status == 401


@pytest.mark.parametrize("request_doc, needle", [
    ({"body": []}, "body"),
    ({}, "body"),
    ({"body": {}, "bogus": 1}, "bogus"),
    ({"body": {}, "run_monitors": []}, "run_monitors"),
    ({"body": {"echo_string": 3}}, "echo_string"),
    ({"body": {"sleep_s": -1}}, "sleep_s"),
    ({"body": {"sleep_s": "1"}}, "sleep_s"),
    ({"body": {"sleep_s": True}}, "sleep_s"),
    ({"body": {"fail": "yes"}}, "fail"),
    ({"body": {"require_resume": 1}}, "require_resume"),
    ({"body": {"error_status": 200}}, "error_status"),
    ({"body": {}, "label": 5}, "label"),
    ({"body": {}, "tags": "a"}, "tags"),
    ({"body": {}, "manage_by": [1]}, "manage_by"),
    ({"body": {}, "request_id": 7}, "request_id"),
    ({"body": {}, "release_after": -5}, "release_after"),
    ([], "object"),
])
def test_422s(ap: ActionProviderStub, request_doc: Any, needle: str) -> None:
    before = ap.state.created_count
    r = call(ap.url, "POST", "/actions", request_doc)
    assert r.status == 422 and r.json["code"] == "ValidationError"
    assert needle in r.json["description"]
    assert ap.state.created_count == before


def test_bad_json_is_400(ap: ActionProviderStub) -> None:
    r = call(ap.url, "POST", "/run", b"{not json")
    assert r.status == 400 and r.json["code"] == "BadRequest"


@pytest.mark.parametrize("status, code", [(400, "BadRequest"), (403, "Forbidden"),
                                          (503, "ServiceUnavailable"), (499, "Error499")])
def test_error_status(ap: ActionProviderStub, status: int, code: str) -> None:
    before = ap.state.created_count
    r = call(ap.url, "POST", "/run", {"body": {"error_status": status}})
    assert r.status == status and r.json["code"] == code and r.json["description"]
    assert ap.state.created_count == before


def test_list_with_filters() -> None:
    with ActionProviderStub(tokens=TOKENS) as ap:
        running = call(ap.url, "POST", "/actions", {"body": {"sleep_s": 60}}).json
        done = call(ap.url, "POST", "/actions", {"body": {}, "manage_by": [BOB]}).json
        waiting = call(ap.url, "POST", "/actions", {"body": {"require_resume": True},
                                                    "monitor_by": [BOB]}).json
        wait_status(ap.url, f"/actions/{done['action_id']}", {"SUCCEEDED"})

        def ids(query: str, token: str = "tok-alice") -> list[str]:
            page = call(ap.url, "GET", "/actions" + query, token=token).json
            assert isinstance(page, list)
            return [d["action_id"] for d in page]

        everyone = [running["action_id"], done["action_id"], waiting["action_id"]]
        assert ids("") == everyone
        assert ids("?status=ACTIVE,INACTIVE") == [running["action_id"], waiting["action_id"]]
        assert ids("?status=succeeded") == [done["action_id"]]
        assert ids("", token="tok-bob") == []
        assert ids("?roles=manage_by", token="tok-bob") == [done["action_id"]]
        assert ids("?roles=monitor_by,manage_by", token="tok-bob") == everyone[1:]
        assert ids("?roles=creator_id&roles=monitor_by", token="tok-bob") == [waiting["action_id"]]
        assert call(ap.url, "GET", "/actions?status=DONE").status == 422
        assert call(ap.url, "GET", "/actions?roles=owner").status == 422


def test_unknown_routes_answer_html_404(ap: ActionProviderStub) -> None:
    for method, path in (("GET", "/no/such/route"), ("GET", "/actions/x/status"),
                         ("POST", "/actions/x/y/z")):
        r = call(ap.url, method, path)
        assert r.status == 404 and r.headers["content-type"] == "text/html"
    # "/actions/status" is the newer status route with id "status": a JSON 404
    r = call(ap.url, "GET", "/actions/status")
    assert r.status == 404 and r.json["code"] == "NotFound"


def test_no_tokens_prefix_and_hooks() -> None:
    with ActionProviderStub(prefix="/hello_world/") as ap:
        assert ap.url.endswith("/hello_world")
        assert call(ap.url, "GET", "/", token=None).json["title"]
        doc = call(ap.url, "POST", "/actions", {"body": {}}, token=None).json
        assert doc["creator_id"] == ANONYMOUS_IDENTITY
        assert call(ap.url, "GET", f"/{doc['action_id']}/status", token="anything").status == 200
        assert call(ap.url.rsplit("/", 1)[0], "GET", "/run", token=None).status == 404
        assert ap.state.created_count == 1 and ap.state.action_ids() == [doc["action_id"]]
        assert ap.state.request_count == 4
        assert [r.method for r in ap.state.requests] == ["GET", "POST", "GET", "GET"]
        ap.state.fail_next(2, 503)
        assert [call(ap.url, "GET", "/").status for _ in range(3)] == [503, 503, 200]
        ap.state.reset_counters()
        assert ap.state.request_count == 0 and ap.state.created_count == 0


def test_fake_clock_moves_lifecycle() -> None:
    now = [1_700_000_000.0]
    with ActionProviderStub(clock=lambda: now[0]) as ap:
        doc = call(ap.url, "POST", "/run", {"body": {"sleep_s": 30}}, token=None).json
        assert doc["start_time"] == "2023-11-14T22:13:20+00:00"
        now[0] += 29
        assert ap.state.status_of(doc["action_id"])["status"] == "ACTIVE"  # type: ignore[index]
        now[0] += 100
        done = call(ap.url, "GET", f"/{doc['action_id']}/status", token=None).json
        assert done["status"] == "SUCCEEDED"
        assert done["completion_time"] == "2023-11-14T22:13:50+00:00"  # when it happened


def test_many_keep_alive_connections(ap: ActionProviderStub) -> None:
    errors: list[object] = []
    parts = urlsplit(ap.url)

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        try:
            for _ in range(10):
                r = call(ap.url, "GET", "/", conn=conn)
                if r.status != 200:
                    errors.append(r.status)
        except Exception as exc:  # collected: a failure in a thread must fail the test
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_command_line_prints_url_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "automate_lite.testing", "action-provider",
                             "--token", "tok-alice=" + ALICE, "tok-bob", "--prefix", "/hw"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/hw")
        assert call(url, "GET", "/", token=None).status == 200
        assert call(url, "POST", "/run", {"body": {}}, token="nope").status == 401
        assert call(url, "POST", "/run", {"body": {}}, token="tok-bob").status == 201
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
