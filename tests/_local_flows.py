"""What the tests of the local Flows service share: a client on the stand-in, waiting for runs.

``fc`` fixtures are ``yield from flows_client(stub)``; ``finish`` / ``afinish`` wait for a
run to stop moving (SUCCEEDED, FAILED or INACTIVE) with a quick poll; ``output`` is the
output of a run that must have SUCCEEDED (the assertion shows the details otherwise);
``FakeClock`` is a service clock a test moves by hand; ``until`` polls a check.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import automate_lite as al
from automate_lite.flows import AsyncFlowsClient, FlowsClient
from automate_lite.testing.flows import FlowsStub

#: How the tests wait for a run: up to 30 s, polling from 10 ms to 50 ms.
WAIT = {"timeout": 30, "initial_delay": 0.01, "max_delay": 0.05}


def flows_client(stub: FlowsStub) -> Iterator[FlowsClient]:
    """A FlowsClient on ``stub`` (flow token ``flow-token``, service token ``svc``), closed after."""
    client = FlowsClient.new_client("client-id", lambda **kw: al.BearerTokenAuthorizer("flow-token"),
                                    al.BearerTokenAuthorizer("svc"), base_url=stub.url)
    try:
        yield client
    finally:
        client.close()


def async_flows_client(stub: FlowsStub) -> AsyncFlowsClient:
    """An AsyncFlowsClient on ``stub``, for ``async with`` (flow token ``flow``, service token ``svc``)."""
    return AsyncFlowsClient.new_client(None, lambda **kw: al.BearerTokenAuthorizer("flow"),
                                       al.BearerTokenAuthorizer("svc"), base_url=stub.url)


def finish(fc: FlowsClient, run_id: str) -> dict[str, Any]:
    """The run's document once it stops moving."""
    return dict(fc.wait_for_run(run_id, **WAIT).data)


async def afinish(client: AsyncFlowsClient, run_id: str) -> dict[str, Any]:
    """:func:`finish` for the async client."""
    return dict((await client.wait_for_run(run_id, **WAIT)).data)


def output(doc: dict[str, Any]) -> Any:
    """The output of a run that SUCCEEDED."""
    assert doc["status"] == "SUCCEEDED", doc["details"]
    return doc["details"]["output"]


class FakeClock:
    """A clock the test moves by hand (``FlowsStub(clock=...)``)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def until(check: Callable[[], Any], what: str = "the check") -> Any:
    """Poll ``check`` until it returns something truthy (10 s at most, real time)."""
    deadline = time.monotonic() + 10
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
    return value
