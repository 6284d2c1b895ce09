"""The local Flows service's runner: 1,000 concurrent runs of a 10-state flow on one loop.

Run with ``python -m benchmarks.local_service_bench``. There is no peer (neither
globus-automate-client nor globus-sdk runs flows locally), so it prints absolute
figures and per-run ratios: runs per second, peak traced memory per active run, and
the time from a run's submission to its first state's log entry.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import tracemalloc
from typing import Any

from automate_lite.testing.runner import FlowRunner, LiveRun

RUNS = 1000
OWNER = "urn:globus:auth:identity:11111111-1111-4111-8111-111111111111"


def ten_states() -> dict[str, Any]:
    """Pass, ExpressionEval and Choice states, as a typical small flow mixes them."""
    states: dict[str, Any] = {}
    for i in range(10):
        name, nxt = f"S{i}", f"S{i + 1}"
        if i % 3 == 0:
            state: dict[str, Any] = {"Type": "Pass", "Parameters": {"n.$": "$.n", "who.$": "$._context.user_id"},
                                     "ResultPath": f"$.p{i}"}
        elif i % 3 == 1:
            state = {"Type": "ExpressionEval", "Parameters": {"v.=": "n * 2 + 1"}, "ResultPath": f"$.e{i}"}
        else:
            state = {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 0, "Next": nxt}],
                     "Default": nxt}
        if i == 9:
            state.pop("Choices", None)
            state.pop("Default", None)
            state = {"Type": "Pass", "End": True}
        elif state["Type"] != "Choice":
            state["Next"] = nxt
        states[name] = state
    return {"StartAt": "S0", "States": states}


class _Host:
    def __init__(self) -> None:
        self.lock = threading.RLock()

    def now(self) -> float:
        return time.perf_counter()

    def open_web_input(self, run: LiveRun, state_name: str, spec: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("not used")

    def web_input_record(self, web_input_id: str) -> dict[str, Any] | None:
        return None

    def expire_web_input(self, web_input_id: str) -> bool:
        return False

    def hosted_handler(self, handle: str) -> None:
        return None

    def registered_api(self, api_id: str) -> dict[str, Any] | None:
        return None


async def _all(runner: FlowRunner, runs: list[LiveRun]) -> float:
    for r in runs:
        r.wake_event = asyncio.Event()
    started = time.perf_counter()
    tasks = [asyncio.get_running_loop().create_task(runner._execute(r)) for r in runs]
    await asyncio.gather(*tasks)
    return started


def _fresh(definition: dict[str, Any]) -> list[LiveRun]:
    return [LiveRun(run_id=f"r{i}", flow_id="f", flow_title="bench", definition=definition, input={"n": i},
                    owner=OWNER) for i in range(RUNS)]


def main() -> None:
    definition = ten_states()
    runner = FlowRunner(_Host())
    # Timed pass without tracemalloc (it slows allocation several-fold), then a traced one.
    runs = _fresh(definition)
    t0 = time.perf_counter()
    started = asyncio.run(_all(runner, runs))
    elapsed = time.perf_counter() - t0
    ok = sum(r.status == "SUCCEEDED" for r in runs)
    first = sorted(r.log[1]["time"] - started for r in runs)  # log[0] is FlowStarted, log[1] the first state
    traced = _fresh(definition)
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    asyncio.run(_all(runner, traced))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{RUNS} concurrent runs of a 10-state flow on one loop: {ok} SUCCEEDED in {elapsed:.3f} s")
    print(f"  runs per second:              {RUNS / elapsed:,.0f}  (states per second: {10 * RUNS / elapsed:,.0f})")
    print(f"  per run:                      {elapsed / RUNS * 1e6:.0f} us of loop time for 10 states")
    print(f"  peak traced memory:           {(peak - base) / 1e6:.1f} MB = {(peak - base) / RUNS / 1024:.1f} KiB per active run")
    print(f"  start -> first state:         median {statistics.median(first) * 1e3:.2f} ms, "
          f"p99 {first[int(0.99 * RUNS) - 1] * 1e3:.2f} ms, max {first[-1] * 1e3:.2f} ms (all {RUNS} started at once)")
    print("  no peer: neither globus-automate-client nor globus-sdk executes flows locally")


if __name__ == "__main__":
    main()
