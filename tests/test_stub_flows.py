"""The Flows service stand-in (``automate_lite.testing.flows``), over real HTTP on 127.0.0.1.

No automate_lite client code here: plain ``http.client`` requests. Most lifecycle tests
drive the stub's clock by hand (``FakeClock``) so they never depend on timing; the one
that uses the real clock polls with a deadline and never asserts on durations.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any, Iterator
from urllib.parse import urlencode, urlsplit

import pytest

from automate_lite.testing.flows import DEFAULT_IDENTITY, DEFAULT_SUBSCRIPTION_ID, FlowsStub, flow_scope

from _local_flows import FakeClock

ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-4000-8000-000000000001"
BOB = "urn:globus:auth:identity:bbbbbbbb-0000-4000-8000-000000000002"
CAROL = "urn:globus:auth:identity:cccccccc-0000-4000-8000-000000000003"
DAVE = "urn:globus:auth:identity:dddddddd-0000-4000-8000-000000000004"
GROUP = "urn:globus:groups:id:99999999-0000-4000-8000-000000000009"
TOKENS = {"svc-alice": ALICE, "svc-bob": BOB, "svc-carol": CAROL, "svc-dave": DAVE}
FLOW_TOKENS = {"run-alice": ALICE, "run-bob": BOB, "run-carol": CAROL, "run-dave": DAVE}

PASS = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}


class Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str:
        """The Flows error code (``error.code``)."""
        return str(self.json["error"]["code"])


def call(
    url: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    query: dict[str, Any] | list[tuple[str, Any]] | None = None,
) -> Answer:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    target = path + ("?" + urlencode(query) if query else "")
    try:
        conn.request(method, target, body=data, headers=headers)
        resp = conn.getresponse()
        return Answer(resp.status, resp.read())
    finally:
        conn.close()


class Client:
    """Tiny helper bound to one stub and one default token."""

    def __init__(self, stub: FlowsStub, token: str | None = None, run_token: str | None = None) -> None:
        self.stub = stub
        self.token = token
        self.run_token = run_token

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = "",
        *,
        params: list[tuple[str, Any]] | None = None,
        **query: Any,
    ) -> Answer:
        """``token=""``: this client's service token; ``params``: repeated query args."""
        return call(self.stub.url, method, path, body, self.token if token == "" else token, params or query or None)

    def create(self, **fields: Any) -> dict[str, Any]:
        doc = {"title": "a flow", "definition": PASS, **fields}
        ans = self("POST", "/flows", doc)
        assert ans.status == 201, ans.body
        return dict(ans.json)

    def run(self, flow_id: str, expect: int = 201, token: str | None = "", **fields: Any) -> Answer:
        fields.setdefault("body", {})
        tok = self.run_token if token == "" else token
        ans = call(self.stub.url, "POST", f"/flows/{flow_id}/run", fields, tok)
        assert ans.status == expect, ans.body
        return ans


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def open_stub(clock: FakeClock) -> Iterator[FlowsStub]:
    """Auth off, clock by hand."""
    with FlowsStub(clock=clock) as stub:
        yield stub


@pytest.fixture
def api(open_stub: FlowsStub) -> Client:
    return Client(open_stub)


@pytest.fixture
def auth_stub(clock: FakeClock) -> Iterator[FlowsStub]:
    """Auth on: service and flow tokens for Alice, Bob, Carol and Dave; Dave is in GROUP."""
    with FlowsStub(tokens=TOKENS, flow_tokens=FLOW_TOKENS, groups={DAVE: [GROUP]}, clock=clock) as stub:
        yield stub


def as_(stub: FlowsStub, who: str) -> Client:
    return Client(stub, f"svc-{who}", f"run-{who}")


def all_pages(api: Client, path: str, key: str, **query: Any) -> tuple[list[dict[str, Any]], int]:
    """Follow markers to the end; returns the items and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    marker = None
    while True:
        q = dict(query, **({"marker": marker} if marker else {}))
        ans = api("GET", path, **q)
        assert ans.status == 200, ans.body
        page = ans.json
        pages += 1
        items.extend(page[key])
        marker = page["marker"]
        if "has_next_page" in page:
            assert page["has_next_page"] == (marker is not None)
        if marker is None:
            return items, pages
        assert pages < 50


# ----------------------------------------------------------------------------- flows CRUD


def test_create_get_update_delete_flow(api: Client) -> None:
    flow = api.create(
        title="Copy",
        subtitle="sub",
        description="desc",
        keywords=["a", "b"],
        input_schema={"type": "object"},
        run_managers=[BOB],
    )
    fid = flow["id"]
    assert flow["globus_auth_scope"] == f"https://auth.globus.org/scopes/{fid}/flow_{fid.replace('-', '_')}_user"
    assert flow["globus_auth_scope"] == flow_scope(fid)
    assert flow["flow_owner"] == DEFAULT_IDENTITY and flow["user_role"] == "flow_owner"
    for key in ("flow_viewers", "flow_starters", "flow_administrators", "run_monitors"):
        assert flow[key] == []
    assert flow["run_managers"] == [BOB] and flow["keywords"] == ["a", "b"]
    assert flow["subscription_id"] is None and flow["created_at"] and flow["updated_at"]

    assert api("GET", f"/flows/{fid}").json == flow

    # Partial update: only the given keys change; [] and "" clear.
    upd = api("PUT", f"/flows/{fid}", {"keywords": [], "description": "", "subscription_id": "DEFAULT"})
    assert upd.status == 200, upd.body
    doc = upd.json
    assert doc["keywords"] == [] and doc["description"] == ""
    assert doc["subscription_id"] == DEFAULT_SUBSCRIPTION_ID
    assert doc["title"] == "Copy" and doc["subtitle"] == "sub" and doc["run_managers"] == [BOB]
    assert doc["definition"] == PASS and doc["input_schema"] == {"type": "object"}

    doc = api("PUT", f"/flows/{fid}", {"flow_owner": ALICE, "title": "Renamed"}).json
    assert doc["flow_owner"] == ALICE and doc["title"] == "Renamed"

    # No longer the owner and on no list: the flow is gone for us.
    assert api("GET", f"/flows/{fid}").status == 404


def test_delete_returns_the_document(api: Client) -> None:
    flow = api.create(title="Doomed")
    ans = api("DELETE", f"/flows/{flow['id']}")
    assert ans.status == 200 and ans.json["id"] == flow["id"] and ans.json["title"] == "Doomed"
    gone = api("GET", f"/flows/{flow['id']}")
    assert gone.status == 404 and gone.code == "NOT_FOUND" and "debug_id" in gone.json
    assert api("DELETE", f"/flows/{flow['id']}").status == 404


def test_create_needs_title_and_definition(api: Client) -> None:
    ans = api("POST", "/flows", {"definition": PASS})
    assert ans.status == 422 and ans.code == "UNPROCESSABLE_ENTITY"
    assert ans.json["error"]["detail"][0]["loc"] == ["body", "title"]
    assert api("POST", "/flows", {"title": "x"}).status == 422
    bad_schema = api("POST", "/flows", {"title": "x", "definition": PASS, "input_schema": []})
    assert bad_schema.status == 422 and bad_schema.json["error"]["detail"][0]["loc"] == ["body", "input_schema"]
    assert api("POST", "/flows", b"{not json").status == 422
    assert api("POST", "/flows", {"title": "x", "definition": PASS, "flow_viewers": ["bob"]}).status == 422
    assert api.stub.state.flows == {}


def test_malformed_and_unknown_ids_are_404(api: Client) -> None:
    for path in ("/flows/not-a-uuid", "/flows/%20%2F", "/runs/nope", "/runs/00000000-0000-4000-8000-000000000000",
                 "/flows/x/y/status", "/web_inputs/x", "/registered_apis/x"):
        ans = api("GET", path)
        assert ans.status == 404 and ans.code == "NOT_FOUND", path


# ----------------------------------------------------------------------------- validation


def test_validate_reports_every_problem_as_a_detail_list(api: Client) -> None:
    bad = {"StartAt": "Missing", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Pass", "Next": "Nowhere"}}}
    ans = api("POST", "/flows/validate", {"definition": bad, "input_schema": {}})
    assert ans.status == 422 and ans.code == "UNPROCESSABLE_ENTITY"
    detail = ans.json["error"]["detail"]
    assert isinstance(detail, list) and len(detail) >= 3
    for item in detail:
        assert set(item) == {"loc", "msg", "type"} and item["loc"][:2] == ["body", "definition"]
        assert isinstance(item["msg"], str) and item["type"] == "value_error"
    assert ["body", "definition", "StartAt"] in [d["loc"] for d in detail]
    assert ["body", "definition", "States", "A", "Type"] in [d["loc"] for d in detail]

    ok = api("POST", "/flows/validate", {"definition": PASS, "input_schema": {}})
    assert ok.status == 200 and "scopes" in ok.json

    # Same checks on create and update; nothing is stored.
    assert api("POST", "/flows", {"title": "t", "definition": bad}).status == 422
    flow = api.create()
    assert api("PUT", f"/flows/{flow['id']}", {"definition": bad, "title": "changed"}).status == 422
    assert api("GET", f"/flows/{flow['id']}").json["title"] == "a flow"


def test_definition_paths_with_odd_names_split_into_parts(api: Client) -> None:
    bad = {"StartAt": "copy files", "States": {"copy files": {"Type": "Pass", "Next": "x.y"}}}
    detail = api("POST", "/flows/validate", {"definition": bad}).json["error"]["detail"]
    assert ["body", "definition", "States", "copy files", "Next"] in [d["loc"] for d in detail]


def test_dry_run_deploy_stores_nothing(api: Client) -> None:
    ans = api("POST", "/flows/dry-run", {"title": "t", "definition": PASS})
    assert ans.status == 200 and ans.json["title"] == "t"
    assert api.stub.state.flows == {}


# ----------------------------------------------------------------------------- auth


def test_auth_errors(auth_stub: FlowsStub) -> None:
    alice = as_(auth_stub, "alice")
    flow = alice.create(flow_starters=["all_authenticated_users"])
    fid = flow["id"]

    for token in (None, "bogus"):
        ans = call(auth_stub.url, "GET", "/flows", token=token)
        assert ans.status == 401 and ans.code == "AUTHENTICATION_ERROR" and ans.json["error"]["detail"]
        assert call(auth_stub.url, "POST", f"/flows/{fid}/run", {"body": {}}, token).status == 401

    # A service token cannot run a flow; a flow token cannot manage flows.
    wrong = alice.run(fid, expect=403, token="svc-alice")
    assert wrong.code == "MISSING_SCOPE" and flow_scope(fid) in wrong.json["error"]["detail"]
    assert alice("GET", f"/flows/{fid}", token="run-alice").code == "MISSING_SCOPE"
    assert alice("GET", "/runs", token="run-alice").status == 403

    run = alice.run(fid).json
    assert run["run_owner"] == ALICE
    # Modern run routes take the service token, legacy ones the flow token.
    assert alice("GET", f"/runs/{run['run_id']}").status == 200
    assert alice("GET", f"/flows/{fid}/{run['run_id']}/status", token="svc-alice").code == "MISSING_SCOPE"
    assert alice("GET", f"/flows/{fid}/{run['run_id']}/status", token="run-alice").status == 200


def test_flow_token_bound_to_one_flow(auth_stub: FlowsStub) -> None:
    alice = as_(auth_stub, "alice")
    one, two = alice.create(), alice.create()
    token = auth_stub.issue_flow_token(one["id"], ALICE)
    assert alice.run(one["id"], token=token).json["flow_id"] == one["id"]
    assert alice.run(two["id"], expect=403, token=token).code == "MISSING_SCOPE"


def test_flow_runs_and_run_definition_take_the_flows_own_scope(auth_stub: FlowsStub) -> None:
    # globus-automate-client 0.18 asked its authorizer_callback for the flow's scope for
    # these two routes, so a token for that flow's own scope must work there too.
    alice = as_(auth_stub, "alice")
    one, two = alice.create(), alice.create()
    run = alice.run(one["id"]).json
    token = auth_stub.issue_flow_token(one["id"], ALICE)
    for tok in ("svc-alice", token, "run-alice"):  # service, one-flow and every-flow tokens
        listed = alice("GET", f"/flows/{one['id']}/runs", token=tok)
        assert listed.status == 200 and [r["run_id"] for r in listed.json["runs"]] == [run["run_id"]]
        got = alice("GET", f"/runs/{run['run_id']}/definition", token=tok)
        assert got.status == 200 and got.json["flow_id"] == one["id"] and got.json["definition"] == PASS
    # A token for one flow's scope is not good for another flow, nor for another flow's run.
    other = alice.run(two["id"]).json
    assert alice("GET", f"/flows/{two['id']}/runs", token=token).code == "MISSING_SCOPE"
    denied = alice("GET", f"/runs/{other['run_id']}/definition", token=token)
    assert denied.status == 403 and denied.code == "MISSING_SCOPE" and flow_scope(two["id"]) in denied.body.decode()
    # The other run routes still want the service scope.
    assert alice("GET", f"/runs/{run['run_id']}", token=token).code == "MISSING_SCOPE"
    assert alice("GET", f"/runs/{run['run_id']}/log", token=token).code == "MISSING_SCOPE"
    # Someone else's flow token does not make the flow visible.
    bob_token = auth_stub.issue_flow_token(one["id"], BOB)
    assert alice("GET", f"/flows/{one['id']}/runs", token=bob_token).status == 404
    assert alice("GET", f"/runs/{run['run_id']}/definition", token=bob_token).status == 404


def test_auth_off_means_one_default_caller(api: Client) -> None:
    flow = api.create()
    run = api.run(flow["id"], token="anything").json
    assert run["run_owner"] == DEFAULT_IDENTITY
    assert api("GET", "/flows", token=None).status == 200


# ----------------------------------------------------------------------------- roles


def test_roles_and_visibility(auth_stub: FlowsStub) -> None:
    alice, bob, carol, dave = (as_(auth_stub, w) for w in ("alice", "bob", "carol", "dave"))
    flow = alice.create(flow_viewers=[BOB], flow_administrators=[CAROL], flow_starters=[GROUP])
    fid = flow["id"]
    private = alice.create(title="private")

    assert bob("GET", f"/flows/{fid}").json["user_role"] == "flow_viewer"
    assert carol("GET", f"/flows/{fid}").json["user_role"] == "flow_administrator"
    assert dave("GET", f"/flows/{fid}").json["user_role"] == "flow_starter"  # through GROUP
    assert bob("GET", f"/flows/{private['id']}").status == 404

    # Visible but not an administrator: 403; not visible: 404.
    assert bob("PUT", f"/flows/{fid}", {"title": "mine"}).code == "FORBIDDEN"
    assert bob("DELETE", f"/flows/{fid}").code == "FORBIDDEN"
    assert bob("PUT", f"/flows/{private['id']}", {"title": "mine"}).status == 404
    assert carol("PUT", f"/flows/{fid}", {"subtitle": "by carol"}).status == 200
    assert carol("PUT", f"/flows/{fid}", {"flow_owner": CAROL}).code == "FORBIDDEN"

    # Starting: starters (here via a group) may; viewers may not.
    assert bob.run(fid, expect=403).code == "FORBIDDEN"
    assert dave.run(fid).json["run_owner"] == DAVE

    def ids(c: Client, **q: Any) -> list[str]:
        return sorted(f["id"] for f in all_pages(c, "/flows", "flows", **q)[0])

    assert ids(alice) == sorted([fid, private["id"]])
    assert ids(bob) == [fid]
    assert ids(alice, filter_roles="flow_owner") == sorted([fid, private["id"]])
    assert ids(carol, filter_roles="flow_owner") == []
    assert ids(carol, filter_role="flow_starter") == [fid]  # legacy: "at least" this role
    assert ids(bob, filter_roles="flow_administrator,flow_owner") == []
    assert ids(bob, filter_roles="viewer") == [fid]
    assert bob("GET", "/flows", filter_roles="emperor").status == 422

    alice("PUT", f"/flows/{private['id']}", {"flow_viewers": ["public"]})
    assert carol("GET", f"/flows/{private['id']}").json["user_role"] == "flow_viewer"


# ----------------------------------------------------------------------------- listing


def test_list_flows_pages_filters_and_order(api: Client) -> None:
    titles = ["delta", "alpha", "echo", "charlie", "bravo", "foxtrot", "golf"]
    for i, title in enumerate(titles):
        api.create(title=title, keywords=["even" if i % 2 == 0 else "odd"], description=f"number {i}")

    first = api("GET", "/flows", per_page=3).json
    assert len(first["flows"]) == 3 and first["limit"] == 3 and first["has_next_page"] and first["marker"]
    items, pages = all_pages(api, "/flows", "flows", per_page=3)
    assert pages == 3 and [f["title"] for f in items] == titles  # creation order by default

    items, _ = all_pages(api, "/flows", "flows", per_page=2, orderby="title DESC")
    assert [f["title"] for f in items] == sorted(titles, reverse=True)
    both = api("GET", "/flows", params=[("orderby", "keywords DESC"), ("orderby", "title ASC")]).json
    assert [f["title"] for f in both["flows"]] == ["alpha", "charlie", "foxtrot", "bravo", "delta", "echo", "golf"]
    assert api("GET", "/flows", orderby="color ASC").status == 422

    assert len(api("GET", "/flows").json["flows"]) == 7  # default page size is 20
    assert api("GET", "/flows", per_page=51).status == 422
    assert api("GET", "/flows", per_page=0).status == 422
    assert api("GET", "/flows", marker="garbage!").status == 422

    assert [f["title"] for f in api("GET", "/flows", filter_title="ALP").json["flows"]] == ["alpha"]
    assert {f["title"] for f in api("GET", "/flows", filter_fulltext="number 3").json["flows"]} == {"charlie"}
    odd = {f["title"] for f in api("GET", "/flows", filter_keywords="odd").json["flows"]}
    assert odd == {"alpha", "charlie", "foxtrot"}


# ----------------------------------------------------------------------------- runs


def test_run_lifecycle_on_the_real_clock() -> None:
    with FlowsStub() as stub:
        api = Client(stub)
        flow = api.create()
        run = api.run(flow["id"], body={"x": 1}, label="L", tags=["a  b"]).json
        assert run["status"] in ("ACTIVE", "SUCCEEDED")
        assert run["run_id"] == run["action_id"] and run["flow_title"] == "a flow"
        assert run["label"] == "L" and run["tags"] == ["a b"] and run["user_role"] == "run_owner"
        deadline = time.monotonic() + 5
        while True:
            doc = api("GET", f"/runs/{run['run_id']}").json
            if doc["status"] != "ACTIVE" or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert doc["status"] == "SUCCEEDED" and doc["details"]["output"] == {"x": 1}
        assert doc["completion_time"] is not None
        codes = [e["code"] for e in api("GET", f"/runs/{run['run_id']}/log").json["entries"]]
        assert codes == ["FlowStarted", "PassStarted", "PassCompleted", "FlowSucceeded"]


def test_scripted_outcomes(api: Client, clock: FakeClock) -> None:
    fid = api.create()["id"]
    ok = api.run(fid, body={"n": 1, "_stub": {}}).json  # "_stub": scripted, not executed
    failed = api.run(fid, body={"_stub": {"active_s": 1, "outcome": "FAILED", "details": {"code": "Boom"}}}).json
    inactive = api.run(fid, body={"_stub": {"active_s": 1, "outcome": "INACTIVE"}}).json
    assert all(r["status"] == "ACTIVE" and r["completion_time"] is None for r in (ok, failed, inactive))

    clock.advance(2)
    def get(r: dict[str, Any]) -> Any:
        return api("GET", f"/runs/{r['run_id']}").json

    assert get(ok)["status"] == "SUCCEEDED"
    assert get(failed)["status"] == "FAILED" and get(failed)["details"]["code"] == "Boom"
    doc = get(inactive)
    assert doc["status"] == "INACTIVE" and doc["completion_time"] is None
    assert doc["details"]["code"] == "ConsentRequired"

    assert api("POST", f"/flows/{fid}/run", {"body": {"_stub": {"outcome": "MAYBE"}}}).status == 422
    assert api("POST", f"/flows/{fid}/run", {"body": {"_stub": {"colour": 1}}}).status == 422


def test_resume_cancel_release_rules(api: Client, clock: FakeClock) -> None:
    fid = api.create()["id"]
    run = api.run(fid, body={"_stub": {"active_s": 1, "outcome": "INACTIVE", "resume_outcome": "SUCCEEDED"}}).json
    rid = run["run_id"]

    assert api("POST", f"/runs/{rid}/resume").code == "STATE_CONFLICT"  # still ACTIVE
    assert api("POST", f"/runs/{rid}/release").code == "STATE_CONFLICT"
    clock.advance(1)
    assert api("GET", f"/runs/{rid}").json["status"] == "INACTIVE"
    resumed = api("POST", f"/runs/{rid}/resume")
    assert resumed.status == 200 and resumed.json["status"] == "ACTIVE"
    clock.advance(1)
    assert api("GET", f"/runs/{rid}").json["status"] == "SUCCEEDED"
    assert api("POST", f"/runs/{rid}/resume").status == 409
    assert api("POST", f"/runs/{rid}/cancel").code == "STATE_CONFLICT"  # already finished

    released = api("POST", f"/runs/{rid}/release")
    assert released.status == 200 and released.json["run_id"] == rid
    assert api("GET", f"/runs/{rid}").status == 404
    assert api("POST", f"/runs/{rid}/release").status == 404

    # Cancelling an ACTIVE run ends it; cancelling again answers the same.
    other = api.run(fid, body={"_stub": {"active_s": 10}}).json["run_id"]
    clock.advance(1)
    cancelled = api("POST", f"/runs/{other}/cancel").json
    assert cancelled["status"] == "ENDED" and cancelled["details"]["code"] == "FlowCanceled"
    assert cancelled["completion_time"] is not None
    assert api("POST", f"/runs/{other}/cancel").json["status"] == "ENDED"
    clock.advance(20)  # the script's outcome never comes after a cancel
    assert api("GET", f"/runs/{other}").json["status"] == "ENDED"
    codes = [e["code"] for e in api("GET", f"/runs/{other}/log").json["entries"]]
    assert codes == ["FlowStarted", "FlowCanceled"]
    assert api("POST", f"/runs/{other}/release").status == 200


def test_cancel_status_can_be_failed(clock: FakeClock) -> None:
    with FlowsStub(cancel_status="FAILED", clock=clock) as stub:
        api = Client(stub)
        rid = api.run(api.create()["id"], body={"_stub": {"active_s": 5}}).json["run_id"]
        assert api("POST", f"/runs/{rid}/cancel").json["status"] == "FAILED"
        assert api("GET", "/runs", filter_status="FAILED").json["runs"][0]["run_id"] == rid


def test_request_id_makes_run_idempotent(api: Client) -> None:
    fid = api.create()["id"]
    first = api.run(fid, request_id="req-1", body={"a": 1}, label="x")
    again = api.run(fid, expect=200, request_id="req-1", body={"a": 1}, label="x")
    assert first.json["run_id"] == again.json["run_id"]
    assert api.stub.state.runs_created == 1

    conflict = api.run(fid, expect=409, request_id="req-1", body={"a": 2}, label="x")
    assert conflict.code == "STATE_CONFLICT"
    api.run(fid, request_id="req-2", body={"a": 1}, label="x")  # another request_id: another run
    assert api.stub.state.runs_created == 2


def test_concurrent_retries_create_exactly_one_run(api: Client) -> None:
    fid = api.create()["id"]
    statuses: list[int] = []
    run_ids: set[str] = set()
    lock = threading.Lock()

    def attempt() -> None:
        ans = call(api.stub.url, "POST", f"/flows/{fid}/run", {"body": {"k": "v"}, "request_id": "same"})
        with lock:
            statuses.append(ans.status)
            run_ids.add(ans.json["run_id"])

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 7 + [201]
    assert len(run_ids) == 1 and api.stub.state.runs_created == 1
    assert api.stub.state.run_attempts == 8


def test_legacy_run_aliases_and_input_checks(api: Client) -> None:
    fid = api.create(input_schema={"type": "object", "required": ["src", "dst"]})["id"]
    missing = api.run(fid, expect=400, body={"src": "/a"})
    assert missing.code == "FLOW_INPUT_ERROR" and "dst" in missing.json["error"]["detail"]
    assert api.run(fid, expect=422, body=[1]).code == "UNPROCESSABLE_ENTITY"
    assert api("POST", f"/flows/{fid}/run", {"label": "no body"}).status == 422
    assert api.run(fid, expect=422, body={"src": 1, "dst": 2}, tags="nope").status == 422

    run = api.run(fid, body={"src": 1, "dst": 2}, manage_by=[BOB], monitor_by=[CAROL],
                  activity_notification_policy={"status": ["SUCCEEDED", "FAILED"]}).json
    assert run["run_managers"] == [BOB] and run["run_monitors"] == [CAROL]
    assert run["activity_notification_policy"] == {"status": ["SUCCEEDED", "FAILED"]}
    assert api.run(fid, expect=422, body={"src": 1, "dst": 2},
                   activity_notification_policy={"status": ["BORED"]}).status == 422


def test_validate_run_and_dry_run_create_nothing(api: Client) -> None:
    fid = api.create(input_schema={"required": ["x"]})["id"]
    assert api("POST", f"/flows/{fid}/validate_run", {"body": {"x": 1}}).status == 200
    assert api("POST", f"/flows/{fid}/validate_run", {"body": {}}).code == "FLOW_INPUT_ERROR"
    dry = api("POST", f"/flows/{fid}/run/dry-run", {"body": {"x": 1}})
    assert dry.status == 200 and dry.json["flow_id"] == fid
    assert api.stub.state.runs_created == 0 and api.stub.state.runs == {}
    assert api("POST", "/flows/not-a-flow/validate_run", {"body": {}}).status == 404


def test_run_definition_and_flow_description(api: Client) -> None:
    flow = api.create(title="Described", input_schema={"type": "object"})
    rid = api.run(flow["id"]).json["run_id"]
    api("PUT", f"/flows/{flow['id']}", {"definition": {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}})
    # The run keeps the definition it started with.
    assert api("GET", f"/runs/{rid}/definition").json == {"flow_id": flow["id"], "definition": PASS, "input_schema": {"type": "object"}}
    plain = api("GET", f"/runs/{rid}").json
    assert "flow_description" not in plain
    described = api("GET", f"/runs/{rid}", include_flow_description="true").json
    assert described["flow_description"]["title"] == "Described"
    assert described["flow_description"]["id"] == flow["id"]


def test_update_run_and_who_may(auth_stub: FlowsStub) -> None:
    alice, bob, carol = (as_(auth_stub, w) for w in ("alice", "bob", "carol"))
    fid = alice.create(flow_starters=["all_authenticated_users"])["id"]
    rid = alice.run(fid, run_managers=[BOB], run_monitors=[CAROL]).json["run_id"]

    assert carol("GET", f"/runs/{rid}").json["user_role"] == "run_monitor"
    assert carol("GET", f"/runs/{rid}").json["run_managers"] == []  # hidden from monitors
    assert carol("PUT", f"/runs/{rid}", {"label": "carol's"}).code == "FORBIDDEN"
    assert carol("POST", f"/runs/{rid}/cancel").code == "FORBIDDEN"
    assert as_(auth_stub, "dave")("GET", f"/runs/{rid}").status == 404

    doc = bob("PUT", f"/runs/{rid}", {"label": "by bob", "tags": ["t1"]}).json
    assert doc["label"] == "by bob" and doc["tags"] == ["t1"] and doc["user_role"] == "run_manager"
    doc = alice("PUT", f"/runs/{rid}", {"run_monitors": []}).json
    assert doc["label"] == "by bob" and doc["run_monitors"] == [] and doc["run_managers"] == [BOB]
    assert carol("GET", f"/runs/{rid}").status == 404


def test_list_runs_filters_and_pages(api: Client, clock: FakeClock) -> None:
    f1, f2 = api.create(title="one")["id"], api.create(title="two")["id"]
    t0 = clock.now
    made = []
    for i in range(5):
        clock.advance(10)
        made.append(api.run(f1 if i < 3 else f2, label=f"L{i % 2}", body={"_stub": {"active_s": 1 if i != 4 else 100}}).json["run_id"])
    clock.advance(5)  # all but the last have SUCCEEDED

    runs, pages = all_pages(api, "/runs", "runs", per_page=2)
    assert pages == 3 and [r["run_id"] for r in runs] == list(reversed(made))  # newest first

    def ids(path: str = "/runs", **q: Any) -> list[str]:
        return sorted(r["run_id"] for r in api("GET", path, **q).json["runs"])

    assert ids(filter_flow_id=f2) == sorted(made[3:])
    assert ids(filter_flow_id=f"{f1},{f2}") == sorted(made)
    assert ids(f"/flows/{f1}/runs") == sorted(made[:3])
    assert ids(filter_status="ACTIVE") == [made[4]]
    assert ids(filter_status="SUCCEEDED,FAILED") == sorted(made[:4])
    assert ids(filter_label="L1") == sorted([made[1], made[3]])
    assert ids(filter_roles="run_owner") == sorted(made)
    assert ids(filter_roles="run_monitor") == sorted(made)  # the owner is also a monitor

    def iso(ts: float) -> str:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()

    assert ids(filter_start_time=f"{iso(t0 + 15)},{iso(t0 + 35)}") == sorted(made[1:3])
    assert ids(filter_start_time=f",{iso(t0 + 15)}") == [made[0]]
    assert ids(filter_start_time=iso(t0 + 45)) == [made[4]]
    assert ids(filter_completion_time=f"{iso(t0)},") == sorted(made[:4])  # not the ACTIVE one
    assert api("GET", "/runs", filter_start_time="yesterday").status == 422
    assert api("GET", "/runs", filter_status="BORED").status == 422

    ordered = api("GET", "/runs", orderby="label ASC,start_time ASC").json["runs"]
    assert [r["run_id"] for r in ordered] == [made[0], made[2], made[4], made[1], made[3]]
    assert api("GET", f"/flows/{f2}/runs", per_page=1).json["has_next_page"] is True


def test_run_log_paging(api: Client, clock: FakeClock) -> None:
    fid = api.create()["id"]
    rid = api.run(fid, body={"_stub": {"active_s": 1, "passes": 25}}).json["run_id"]
    clock.advance(0.5)
    partial = api("GET", f"/runs/{rid}/log", limit=100).json["entries"]
    assert 1 < len(partial) < 27 and partial[-1]["code"] == "PassCompleted"
    clock.advance(1)

    first = api("GET", f"/runs/{rid}/log").json
    assert len(first["entries"]) == 10 and first["limit"] == 10 and first["has_next_page"]
    entries, pages = all_pages(api, f"/runs/{rid}/log", "entries")
    assert pages == 3 and len(entries) == 27
    assert entries[0]["code"] == "FlowStarted" and entries[-1]["code"] == "FlowSucceeded"
    assert all(set(e) == {"code", "description", "time", "details"} for e in entries)
    assert [e["time"] for e in entries] == sorted(e["time"] for e in entries)

    backwards, _ = all_pages(api, f"/runs/{rid}/log", "entries", limit=7, reverse_order="true")
    assert backwards == list(reversed(entries))
    assert api("GET", f"/runs/{rid}/log", limit=101).status == 422


def test_legacy_routes(auth_stub: FlowsStub, clock: FakeClock) -> None:
    alice = as_(auth_stub, "alice")
    fid = alice.create()["id"]
    other_fid = alice.create()["id"]
    rid = alice.run(fid, body={"_stub": {"active_s": 1, "outcome": "INACTIVE", "passes": 12}}).json["run_id"]

    def legacy(method: str, verb: str, **q: Any) -> Answer:
        return alice(method, f"/flows/{fid}/{rid}/{verb}", token="run-alice", **q)


    status = legacy("GET", "status").json
    assert status["action_id"] == rid and status["status"] == "ACTIVE"
    assert status["creator_id"] == ALICE and status["manage_by"] == [] and status["monitor_by"] == []
    assert alice("GET", f"/flows/{other_fid}/{rid}/status", token="run-alice").status == 404

    clock.advance(1)
    assert legacy("POST", "resume").json["status"] == "ACTIVE"
    assert legacy("POST", "release").code == "STATE_CONFLICT"
    clock.advance(1)
    assert legacy("GET", "status").json["status"] == "SUCCEEDED"

    page = legacy("GET", "log", limit=10).json
    assert len(page["entries"]) == 10 and page["has_next_page"]
    rest = legacy("GET", "log", limit=100, pagination_token=page["marker"]).json
    codes = [e["code"] for e in page["entries"] + rest["entries"]]
    assert codes[0] == "FlowStarted" and "FlowInactive" in codes and "FlowResumed" in codes
    assert codes[-1] == "FlowSucceeded" and not rest["has_next_page"]

    assert legacy("POST", "cancel").status == 409
    assert legacy("POST", "release").status == 200
    assert legacy("GET", "status").status == 404

    rid2 = alice.run(fid, body={"_stub": {"active_s": 5}}).json["run_id"]
    assert alice("POST", f"/flows/{fid}/{rid2}/cancel", token="run-alice").json["status"] == "ENDED"


def test_resume_takes_either_token(auth_stub: FlowsStub, clock: FakeClock) -> None:
    alice = as_(auth_stub, "alice")
    fid = alice.create()["id"]
    script = {"_stub": {"active_s": 1, "outcome": "INACTIVE", "resume_outcome": "INACTIVE"}}
    rid = alice.run(fid, body=script).json["run_id"]
    clock.advance(1)
    assert alice("POST", f"/runs/{rid}/resume", token="run-alice").status == 200
    clock.advance(1)
    assert alice("GET", f"/runs/{rid}").json["status"] == "INACTIVE"  # it waits again
    assert alice("POST", f"/runs/{rid}/resume").status == 200


def test_batch_update(auth_stub: FlowsStub) -> None:
    alice, bob = as_(auth_stub, "alice"), as_(auth_stub, "bob")
    fid = alice.create(flow_starters=["all_authenticated_users"])["id"]
    r1 = alice.run(fid, tags=["keep", "drop"], run_monitors=[CAROL]).json["run_id"]
    r2 = alice.run(fid, tags=["drop"]).json["run_id"]
    bobs = bob.run(fid).json["run_id"]

    body = {
        "filters": {"run_ids": [r1, r2]},
        "set": {"run_managers": [BOB]},
        "add": {"tags": ["new"], "run_monitors": [DAVE]},
        "remove": {"tags": ["drop"]},
    }
    ans = alice("POST", "/batch/runs", body)
    assert ans.status == 200, ans.body
    docs = {d["run_id"]: d for d in ans.json["runs"]}
    assert docs[r1]["tags"] == ["keep", "new"] and docs[r2]["tags"] == ["new"]
    assert docs[r1]["run_monitors"] == [CAROL, DAVE] and docs[r2]["run_monitors"] == [DAVE]
    assert docs[r1]["run_managers"] == [BOB] == docs[r2]["run_managers"]
    assert alice("GET", f"/runs/{r1}").json["tags"] == ["keep", "new"]

    # All or nothing: a run Alice cannot see fails the batch and changes nothing.
    failed = alice("POST", "/batch/runs", {"filters": {"run_ids": [r1, bobs]}, "set": {"tags": []}})
    assert failed.status == 404
    assert alice("GET", f"/runs/{r1}").json["tags"] == ["keep", "new"]
    assert alice("POST", "/batch/runs", {"filters": {"run_ids": [r1]}, "set": {"label": "x"}}).status == 422
    assert alice("POST", "/batch/runs", {"set": {"tags": []}}).status == 422


# ----------------------------------------------------------------------------- consent


def test_consent_required_once(clock: FakeClock) -> None:
    with FlowsStub(tokens=TOKENS, flow_tokens=FLOW_TOKENS, consent_required_once=True, clock=clock) as stub:
        alice = as_(stub, "alice")
        flow = alice.create()
        first = alice.run(flow["id"], expect=403)
        body = first.json
        assert body["code"] == "ConsentRequired"
        assert body["authorization_parameters"]["required_scopes"] == [flow["globus_auth_scope"]]
        assert body["authorization_parameters"]["session_message"]
        assert body["error"]["code"] and body["error"]["detail"]
        assert stub.state.runs_created == 0
        alice.run(flow["id"])
        assert stub.state.runs_created == 1

        # Forced again for one flow, by hand.
        stub.require_consent(flow["id"])
        assert alice.run(flow["id"], expect=403).json["code"] == "ConsentRequired"
        alice.run(flow["id"])


# ----------------------------------------------------------------------------- extras


def test_web_inputs(auth_stub: FlowsStub) -> None:
    alice, bob, carol = (as_(auth_stub, w) for w in ("alice", "bob", "carol"))
    fid = alice.create(title="Approvals")["id"]
    rid = alice.run(fid, label="deploy").json["run_id"]
    wi = auth_stub.add_web_input(title="Ship it?", run_id=rid, respondents=[ALICE], viewers=[BOB])
    for i in range(4):
        auth_stub.add_web_input(title=f"other {i}", input_type="text", respondents=[ALICE])

    items, pages = all_pages(alice, "/web_inputs", "web_input_summaries", per_page=2)
    assert pages == 3 and len(items) == 5
    page = alice("GET", "/web_inputs", per_page=2).json
    assert set(page) == {"web_input_summaries", "marker"}  # a nullable-marker listing
    mine = alice("GET", f"/web_inputs/{wi['id']}").json
    assert mine["flow"] == {"id": fid, "title": "Approvals"} and mine["run"] == {"id": rid, "label": "deploy"}
    assert mine["user_roles"] == ["viewer", "respondent"] and mine["status"] == "open"
    assert [w["id"] for w in bob("GET", "/web_inputs").json["web_input_summaries"]] == [wi["id"]]
    assert bob("GET", "/web_inputs", filter_roles="respondent").json["web_input_summaries"] == []
    assert carol("GET", f"/web_inputs/{wi['id']}").status == 404
    assert len(alice("GET", "/web_inputs", filter_run_ids=rid).json["web_input_summaries"]) == 1

    path = f"/web_inputs/{wi['id']}/respond"
    assert bob("POST", path, {"response": {"value": "x"}}).code == "FORBIDDEN"
    assert alice("POST", path, {"response": {"value": "not-an-option"}}).status == 422
    assert alice("POST", path, {"answer": 1}).status == 422
    option = mine["options"][0]["option_id"]
    ok = alice("POST", path, {"response": {"value": option}})
    assert ok.status == 200 and ok.json == {"status": "ok"}
    assert alice("POST", path, {"response": {"value": option}}).code == "STATE_CONFLICT"
    closed = alice("GET", f"/web_inputs/{wi['id']}").json
    assert closed["status"] == "closed" and closed["closed_timestamp"] and closed["response"]["value"] == option
    assert alice("GET", "/web_inputs", filter_states="closed").json["web_input_summaries"][0]["id"] == wi["id"]


def test_registered_apis(api: Client) -> None:
    extra = api.stub.add_registered_api("third", viewers=[BOB], owners=[ALICE])
    first = api("GET", "/registered_apis", per_page=1).json
    assert len(first["registered_apis"]) == 1 and first["has_next_page"] and first["limit"] == 1
    items, pages = all_pages(api, "/registered_apis", "registered_apis", per_page=1)
    assert pages == 2 and {i["name"] for i in items} == {"example-get-item", "example-create-item"}
    one = api("GET", f"/registered_apis/{items[0]['id']}").json
    assert one["id"] == items[0]["id"] and one["target"]["type"] == "openapi" and "roles" in one
    assert api("GET", f"/registered_apis/{extra['id']}").status == 404  # not ours to see
    assert len(api("GET", "/registered_apis", filter_roles="owner").json["registered_apis"]) == 2
    assert api("GET", "/registered_apis", filter_roles="janitor").status == 422


def test_state_records_requests(api: Client) -> None:
    api("GET", "/flows", per_page=5)
    api("GET", "/nowhere")  # not a route: not recorded (the gateway's HTML 404)
    seen = [(r.method, r.path) for r in api.stub.state.requests]
    assert seen == [("GET", "/flows")]
    assert api.stub.state.requests[0].query == {"per_page": ["5"]}
    unknown = api("GET", "/nowhere")
    assert unknown.status == 404 and unknown.body.startswith(b"<!DOCTYPE html>")
