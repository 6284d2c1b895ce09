"""watch_op (wait_for_run / ActionClient.wait with on_update) reads the log from the
last page it read, and tells each entry exactly once, however long the log grows.

The service here is scripted in memory behind a transport (so each poll's growth of the
log is exact); the sync and async clients drive the same operation.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

import pytest

import automate_lite as al

RID = "5c1f6a2e-0b8d-4f7e-9a41-6d2e8c3b7f90"
GROWTH = [0, 40, 130, 250, 251, 275]  # log length seen by each status poll; the last is final


class GrowingRun:
    """``GET /runs/{id}`` (or an action's status) grows the log; the log pages by offset."""

    def __init__(self, flows: bool) -> None:
        self.flows = flows
        self.polls = 0
        self.length = 0
        self.served = 0  # log entries sent, over all pages
        self.markers: list[str | None] = []

    def respond(self, request: al.Request) -> al.Response:
        url = urllib.parse.urlsplit(request.url)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path.endswith("/log"):
            marker = query.get("marker") if self.flows else query.get("pagination_token")
            self.markers.append(marker)
            offset = int(marker or 0)
            limit = int(query["limit"])
            entries = [{"code": "Step", "n": n} for n in range(offset, min(self.length, offset + limit))]
            self.served += len(entries)
            more = offset + limit < self.length
            doc: Any = {"entries": entries, "limit": limit, "has_next_page": more,
                        "marker": str(offset + limit) if more else None}
        else:
            self.length = GROWTH[min(self.polls, len(GROWTH) - 1)]
            self.polls += 1
            final = self.polls >= len(GROWTH)
            doc = {"status": "SUCCEEDED" if final else "ACTIVE", "display_status": str(self.polls),
                   "run_id": RID, "action_id": RID}
        return al.Response(200, {"content-type": "application/json"}, json.dumps(doc).encode())


class SyncScripted:
    def __init__(self, run: GrowingRun) -> None:
        self.run = run

    def send(self, request: al.Request, timeout: float | None) -> al.Response:
        return self.run.respond(request)


class AsyncScripted(SyncScripted):
    async def send(self, request: al.Request, timeout: float | None) -> al.Response:  # type: ignore[override]
        return self.run.respond(request)


def _wait(kind: str, is_async: bool, run: GrowingRun, on_update: Any) -> Any:
    auth = al.BearerTokenAuthorizer("t")
    transport: Any = AsyncScripted(run) if is_async else SyncScripted(run)
    if kind == "flows":
        cls: Any = al.AsyncFlowsClient if is_async else al.FlowsClient
        client = cls.new_client(None, None, auth, "https://flows.example.org", transport=transport)
        call = lambda: client.wait_for_run(RID, 60, 0.001, 0.002, on_update=on_update)  # noqa: E731
    else:
        cls = al.AsyncActionClient if is_async else al.ActionClient
        client = cls.new_client("https://actions.example.org/p", auth, transport=transport)
        call = lambda: client.wait(RID, 60, 0.001, 0.002, on_update=on_update)  # noqa: E731
    if is_async:
        async def main() -> Any:
            return await call()

        return asyncio.run(main())
    return call()


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("kind", ["flows", "actions"])
def test_each_entry_told_once_and_the_log_not_reread(kind: str, is_async: bool) -> None:
    run = GrowingRun(flows=kind == "flows")
    told: list[tuple[str, Any]] = []
    final = _wait(kind, is_async, run, lambda k, data: told.append((k, data)))
    assert final["status"] == "SUCCEEDED"
    numbers = [data["n"] for k, data in told if k == "log"]
    assert numbers == list(range(GROWTH[-1])), "each entry exactly once, in order"
    assert [data["display_status"] for k, data in told if k == "status"] == [str(i) for i in range(1, len(GROWTH) + 1)]
    # Read from the last page's marker each poll: at most one page (100) re-read per poll,
    # where reading from the start would send sum(GROWTH) = 946 entries.
    assert run.served <= GROWTH[-1] + 100 * (len(GROWTH) - 1)
    assert run.served < sum(GROWTH)
    offsets = [int(m or 0) for m in run.markers]
    assert offsets == sorted(offsets), "no poll goes back to an earlier page"
    assert offsets[-1] == 200


def test_a_log_that_fails_is_left_alone() -> None:
    class NoLog(GrowingRun):
        def respond(self, request: al.Request) -> al.Response:
            if urllib.parse.urlsplit(request.url).path.endswith("/log"):
                self.markers.append("refused")
                return al.Response(404, {"content-type": "application/json"},
                                   b'{"code": "NotFound", "description": "no log here"}')
            return super().respond(request)

    run = NoLog(flows=False)
    told: list[str] = []
    assert _wait("actions", False, run, lambda k, data: told.append(k))["status"] == "SUCCEEDED"
    assert run.markers == ["refused"] and set(told) == {"status"}
