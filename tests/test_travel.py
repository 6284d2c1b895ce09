"""Clients that travel (issue 13): a FlowsClient pickled to worker processes arrives with
a fresh connection pool and works; 200 runs fanned out over the workers against the local
Flows service on 127.0.0.1 each start exactly once; the same over dask.distributed workers on loopback."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
from typing import Iterator

import pytest

from automate_lite import BearerTokenAuthorizer, FlowsClient
from automate_lite.testing.flows import FlowsStub

DEFINITION = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Parameters": {"n.$": "$.n"},
                                                     "ResultPath": "$.echo", "End": True}}}


@pytest.fixture(scope="module")
def flows() -> Iterator[FlowsStub]:
    with FlowsStub() as stub:
        yield stub


def start_runs(client: FlowsClient, flow_id: str, numbers: list[int]) -> list[tuple[int, str]]:
    """In a worker process: the unpickled client starts one run per number."""
    return [(n, str(client.run_flow(flow_id, None, {"n": n}, label=f"run {n}")["run_id"])) for n in numbers]


def test_200_runs_from_worker_processes_start_once_each(flows: FlowsStub) -> None:
    client = FlowsClient.new_client("client", None, BearerTokenAuthorizer("tok"), base_url=flows.url)
    flow_id = str(client.deploy_flow(DEFINITION, "travel")["id"])
    client.get_flow(flow_id)  # the parent's pool now holds a live connection; pickling must not carry it
    before = flows.state.runs_created
    chunks = [list(range(i, 200, 4)) for i in range(4)]
    # spawn, not fork: the worker really rebuilds the client from its pickle
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = [pair for part in pool.map(start_runs, [client] * 4, [flow_id] * 4, chunks) for pair in part]
    assert sorted(n for n, _ in results) == list(range(200))
    run_ids = [rid for _, rid in results]
    assert len(set(run_ids)) == 200
    assert flows.state.runs_created - before == 200
    for n, rid in results[:: 20]:
        final = client.wait_for_run(rid, timeout=30, initial_delay=0.01, max_delay=0.1)
        assert final["status"] == "SUCCEEDED" and final["details"]["output"]["echo"] == {"n": n}
    client.close()


def test_an_authorizer_that_cannot_travel_is_named() -> None:
    class LocalOnly:
        def __init__(self) -> None:
            self.hook = lambda: None  # a lambda cannot be pickled

        def get_authorization_header(self) -> str:
            return "Bearer x"

        def handle_missing_authorization(self) -> bool:
            return False

    client = FlowsClient.new_client("client", None, LocalOnly(), base_url="http://127.0.0.1:9")
    with pytest.raises(TypeError, match="make the client in each process") as info:
        pickle.dumps(client)
    assert "authorizer" in str(info.value) and "LocalOnly" in str(info.value)


def test_runs_fanned_out_over_dask_workers_are_each_found_once(flows: FlowsStub) -> None:
    """A real distributed engine: dask.distributed's LocalCluster on 127.0.0.1, two worker
    processes (spawned, one thread each). The client travels to them inside the tasks."""
    distributed = pytest.importorskip("distributed")
    client = FlowsClient.new_client("client", None, BearerTokenAuthorizer("tok"), base_url=flows.url)
    flow_id = str(client.deploy_flow(DEFINITION, "travel by dask")["id"])
    client.get_flow(flow_id)  # a live pooled connection the pickle must leave behind
    chunks = [list(range(i, 40, 8)) for i in range(8)]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, scheduler_port=0, silence_logs=40) as cluster, \
            distributed.Client(cluster) as dask_client:
        futures = dask_client.map(start_runs, [client] * len(chunks), [flow_id] * len(chunks), chunks, pure=False)
        results = [pair for part in dask_client.gather(futures) for pair in part]
        workers = set(dask_client.run(lambda: 1))
    assert len(workers) == 2
    assert sorted(n for n, _ in results) == list(range(40))
    started = {rid: n for n, rid in results}
    assert len(started) == 40
    listed = [str(r["run_id"]) for r in client.iter_runs(filter_flow_id=[flow_id])]
    assert sorted(listed) == sorted(started)  # each run exactly once, none lost, none doubled
    client.close()
