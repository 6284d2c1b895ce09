"""Waiting with progress: :func:`watch_op` polls a status and reports what is new.

``on_update(kind, data)`` is called with ``("status", document)`` for the first status
and each one whose ``status``/``display_status`` differs from the last, and with
``("log", entry)`` for each log entry not reported before (the log is read after each
status, so a run's last entries arrive before ``wait`` returns). Under the async
driver an ``async def`` callback is awaited; a plain one is called inline, so it
should be quick (it runs on the event loop thread).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Literal, Mapping, Union

from ..errors import AutomateAPIError, UsageError
from .ops import Op
from .paging import Pager, PollSettings, poll_op
from .response import APIResponse
from .values import Call

__all__ = ["OnUpdate", "watch_op", "check_on_update"]

#: ``on_update(kind, data)``: ``kind`` is ``"status"`` (``data`` the status document)
#: or ``"log"`` (``data`` one log entry). May be ``async def`` for the async clients.
OnUpdate = Callable[[Literal["status", "log"], Mapping[str, Any]], Union[object, Awaitable[object]]]


def check_on_update(on_update: object) -> None:
    """``None`` or a callable."""
    if on_update is not None and not callable(on_update):
        raise UsageError(
            "on_update must be a callable taking (kind, data), kind 'status' or 'log', "
            f"or None; got {type(on_update).__name__}"
        )


def watch_op(
    fetch: Callable[[], Op[APIResponse]],
    finished: Callable[[APIResponse], bool],
    settings: PollSettings,
    what: str,
    on_update: OnUpdate | None,
    log_pager: Callable[[], Pager] | None,
) -> Op[APIResponse]:
    """:func:`~automate_lite._core.paging.poll_op`, reporting new statuses and log entries."""
    if on_update is None:
        return poll_op(fetch, finished, settings, what)
    report = on_update
    last: list[tuple[object, object]] = []
    seen = [0]
    logs = [log_pager]

    def tell(kind: Literal["status", "log"], data: Mapping[str, Any]) -> Op[None]:
        yield Call(lambda: report(kind, data), False)

    def fetch_and_report() -> Op[APIResponse]:
        # The first status is told first; after it, new log entries come before a status
        # change, so the entries that led to it (above all the final one) precede it.
        doc = yield from fetch()
        data = doc.data if isinstance(doc.data, dict) else {}
        key = (data.get("status"), data.get("display_status"))
        if not last:
            last[:] = [key]
            yield from tell("status", data)
        make_pager = logs[0]
        if make_pager is not None:
            entries: list[Any] = []
            pager = make_pager()
            try:
                while not pager.done:
                    entries.extend(pager.items((yield from pager.next_page())))
            except AutomateAPIError:
                # No log here (a provider without log support, or no right to it):
                # keep reporting statuses and stop asking.
                logs[0] = None
                entries = []
            for entry in entries[seen[0]:]:
                if isinstance(entry, dict):
                    yield from tell("log", entry)
            seen[0] = max(seen[0], len(entries))
        if last[0] != key:
            last[:] = [key]
            yield from tell("status", data)
        return doc

    return poll_op(fetch_and_report, finished, settings, what)
