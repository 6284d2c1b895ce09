"""Following a run or an action live: each new status and each new log entry, as it happens.

:func:`follow_run` is the one place that knows how to wait for a run. It reports
through ``on_update(kind, data)`` (``"status"`` with the run document, ``"log"`` with
one entry), the callback shape ``FlowsClient.wait_for_run(on_update=...)`` takes, so it is
that one call.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, TextIO

from ..errors import WaitTimeout

if TYPE_CHECKING:
    from ..actions import ActionClient
    from ..flows import FlowsClient
    from .._core.response import APIResponse

__all__ = ["OnUpdate", "follow_run", "follow_action", "Progress"]

OnUpdate = Callable[[str, Mapping[str, Any]], object]

_FIRST_DELAY = 0.05


def _poll(fetch: Callable[[], APIResponse], report: Callable[[APIResponse], None], done: Callable[[APIResponse], bool],
          what: str, timeout: float | None, interval: float) -> APIResponse:
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = min(_FIRST_DELAY, interval)
    while True:
        doc = fetch()
        report(doc)
        if done(doc):
            return doc
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout(f"{what} was still {doc.get('status')} after {timeout:g} s", last=doc)
            delay = min(delay, left)
        time.sleep(delay)
        delay = min(delay * 1.5, interval)


def follow_run(client: FlowsClient, run_id: str, on_update: OnUpdate, *,
               timeout: float | None = None, interval: float = 1.0) -> APIResponse:
    """Poll ``GET /runs/{run_id}`` and ``GET /runs/{run_id}/log`` until the run leaves
    ACTIVE; report each new status and log entry; return the last run document."""
    return client.wait_for_run(run_id, timeout, min(_FIRST_DELAY, interval), interval, on_update=on_update)


def follow_action(client: ActionClient, action_id: str, on_update: OnUpdate, *,
                  timeout: float | None = None, interval: float = 1.0) -> APIResponse:
    """Poll the action's status until it is SUCCEEDED, FAILED or INACTIVE; report each change."""
    last: list[Any] = [None]

    def report(doc: APIResponse) -> None:
        key = (doc.get("status"), doc.get("display_status"))
        if key != last[0]:
            last[0] = key
            on_update("status", doc.data)

    return _poll(lambda: client.status(action_id), report, lambda d: d.get("status") != "ACTIVE",
                 f"action {action_id}", timeout, interval)


def _clock(stamp: Any) -> str:
    text = str(stamp or "")
    # ISO 8601 "2026-12-02T17:01:02.345678+00:00" -> "17:01:02"
    return text[11:19] if len(text) >= 19 and text[10] in "T " else time.strftime("%H:%M:%S")


class Progress:
    """An ``on_update`` that prints one line per status change and log entry.

    On a terminal (text output) it writes to stdout; with JSON output the result
    document owns stdout, so progress goes to stderr.
    """

    def __init__(self, stream: TextIO | None = None, *, json_output: bool = False) -> None:
        self.stream = stream
        self.json_output = json_output

    def _write(self, text: str) -> None:
        stream = self.stream or (sys.stderr if self.json_output else sys.stdout)
        print(text, file=stream, flush=True)

    def __call__(self, kind: str, data: Mapping[str, Any]) -> None:
        if kind == "status":
            status = data.get("status", "?")
            shown = data.get("display_status")
            extra = f" ({shown})" if shown and shown != status else ""
            ident = data.get("run_id") or data.get("action_id") or ""
            self._write(f"{_clock(None)}  {status}{extra}  {ident}")
            return
        details = data.get("details") if isinstance(data.get("details"), dict) else {}
        state = details.get("state_name") if isinstance(details, dict) else None
        where = f"  [{state}]" if state else ""
        self._write(f"{_clock(data.get('time'))}  {data.get('code', '?')}{where}  {data.get('description', '')}".rstrip())
