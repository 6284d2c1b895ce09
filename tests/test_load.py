"""Load: one shared client, many threads or tasks, against the Action Provider stand-in.

- 10,000 ``status`` calls through one ``ActionClient`` from 32 threads, three rounds;
- 10,000 ``status`` calls through one ``AsyncActionClient`` from 1,000 tasks, three
  rounds on one event loop.

Every request must be answered (with the right action's document: answers must never
cross between threads) or fail with an ``automate_lite`` error; none may be lost, and
the provider must have served exactly as many requests as were made. Between the second
and the third round neither open file descriptors nor resident memory may grow (the
first round warms pools and caches up).

Nothing asserts on time. The figures (wall time, requests per second, failures, file
descriptors, memory) are printed per round: ``pytest -s tests/test_load.py``.
``AUTOMATE_LITE_LOAD_REQUESTS`` changes the number of requests per round.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

import automate_lite as al
from automate_lite.testing.action_provider import ActionProviderStub

TOKEN = "tok-load"
REQUESTS = int(os.environ.get("AUTOMATE_LITE_LOAD_REQUESTS", "10000"))
THREADS = 32
TASKS = 1000
ROUNDS = 3
ACTIONS = 50
FD_TOLERANCE = 2
RSS_TOLERANCE_MB = 8.0


@dataclass
class Round:
    number: int
    requests: int
    ok: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)
    wrong: int = 0  # answered, but with another action's document
    unexpected: list[str] = field(default_factory=list)  # anything not from automate_lite
    served: int = 0  # what the provider counted
    wall_s: float = 0.0
    fds: int = 0
    rss_mb: float = 0.0
    maxrss_mb: float = 0.0
    threads: int = 0

    def line(self, what: str) -> str:
        return (
            f"LOAD {what} round {self.number}: {self.requests} requests, {self.ok} ok, "
            f"{sum(self.failed.values())} failed {dict(self.failed)}, {self.wrong} wrong, "
            f"{len(self.unexpected)} unexpected, served {self.served}, {self.wall_s:.2f}s "
            f"({self.requests / self.wall_s:.0f} req/s), fds {self.fds}, rss {self.rss_mb:.1f} MB, "
            f"maxrss {self.maxrss_mb:.1f} MB, threads {self.threads}"
        )


def rss_mb() -> float:
    """Resident memory now (Linux /proc), else the high-water mark."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return maxrss_mb()


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def finish(r: Round, provider: ActionProviderStub, served_before: int, started: float) -> None:
    r.wall_s = time.perf_counter() - started
    gc.collect()
    r.served = provider.state.request_count - served_before
    r.fds = open_fds()
    r.rss_mb = rss_mb()
    r.maxrss_mb = maxrss_mb()
    r.threads = threading.active_count()


def check(rounds: list[Round], what: str) -> None:
    for r in rounds:
        print(r.line(what))
    for r in rounds:
        assert r.unexpected == [], f"round {r.number}: errors from outside automate_lite: {r.unexpected[:5]}"
        assert r.wrong == 0, f"round {r.number}: {r.wrong} answers belonged to another request"
        assert r.ok + sum(r.failed.values()) == r.requests, f"round {r.number}: requests lost"
        # Each request reached the provider at least once; exactly once when none failed.
        assert r.served >= r.requests
        if not r.failed:
            assert r.served == r.requests
    second, third = rounds[1], rounds[2]
    assert third.fds - second.fds <= FD_TOLERANCE, f"file descriptors grew: {second.fds} -> {third.fds}"
    assert third.rss_mb - second.rss_mb <= RSS_TOLERANCE_MB, f"memory grew: {second.rss_mb:.1f} -> {third.rss_mb:.1f} MB"
    assert third.threads <= second.threads, f"threads grew: {second.threads} -> {third.threads}"


@pytest.fixture(scope="module")
def provider() -> Iterator[ActionProviderStub]:
    with ActionProviderStub(tokens={TOKEN: "urn:globus:auth:identity:load"}, prefix="/load") as ap:
        yield ap


@pytest.fixture(scope="module")
def action_ids(provider: ActionProviderStub) -> list[str]:
    with al.ActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN)) as c:
        return [str(c.run({"echo_string": str(i)})["action_id"]) for i in range(ACTIONS)]


def shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def test_one_sync_client_shared_by_32_threads(provider: ActionProviderStub, action_ids: list[str]) -> None:
    client = al.ActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN))
    rounds: list[Round] = []
    lock = threading.Lock()
    try:
        for number in range(1, ROUNDS + 1):
            r = Round(number, REQUESTS)

            def worker(k: int, count: int) -> None:
                ok = wrong = 0
                failed: collections.Counter[str] = collections.Counter()
                unexpected: list[str] = []
                for i in range(count):
                    aid = action_ids[(k * 7 + i) % len(action_ids)]
                    try:
                        doc = client.status(aid)
                    except al.AutomateError as e:
                        failed[type(e).__name__] += 1
                    except BaseException as e:  # noqa: BLE001 - counted, then asserted on
                        unexpected.append(repr(e))
                    else:
                        if doc.http_status == 200 and doc["action_id"] == aid:
                            ok += 1
                        else:
                            wrong += 1
                with lock:
                    r.ok += ok
                    r.wrong += wrong
                    r.failed.update(failed)
                    r.unexpected.extend(unexpected)

            before = provider.state.request_count
            started = time.perf_counter()
            with ThreadPoolExecutor(THREADS) as pool:
                for future in [pool.submit(worker, k, n) for k, n in enumerate(shares(REQUESTS, THREADS))]:
                    future.result()
            finish(r, provider, before, started)
            rounds.append(r)
    finally:
        client.close()
    check(rounds, f"sync {THREADS} threads")


def test_one_async_client_shared_by_1000_tasks(provider: ActionProviderStub, action_ids: list[str]) -> None:
    rounds: list[Round] = []

    async def main() -> None:
        async with al.AsyncActionClient.new_client(provider.url, al.BearerTokenAuthorizer(TOKEN)) as client:
            for number in range(1, ROUNDS + 1):
                r = Round(number, REQUESTS)

                async def task(k: int, count: int) -> None:
                    for i in range(count):
                        aid = action_ids[(k * 7 + i) % len(action_ids)]
                        try:
                            doc = await client.status(aid)
                        except al.AutomateError as e:
                            r.failed[type(e).__name__] += 1
                        except Exception as e:  # noqa: BLE001 - counted, then asserted on
                            r.unexpected.append(repr(e))
                        else:
                            if doc.http_status == 200 and doc["action_id"] == aid:
                                r.ok += 1
                            else:
                                r.wrong += 1

                before = provider.state.request_count
                started = time.perf_counter()
                results: list[Any] = await asyncio.gather(
                    *(task(k, n) for k, n in enumerate(shares(REQUESTS, TASKS))), return_exceptions=True
                )
                r.unexpected.extend(repr(x) for x in results if isinstance(x, BaseException))
                finish(r, provider, before, started)
                rounds.append(r)

    asyncio.run(main())
    check(rounds, f"async {TASKS} tasks")
