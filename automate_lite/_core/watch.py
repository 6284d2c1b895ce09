"""Waiting with progress: :func:`watch_op` polls a status and reports what is new.

``on_update(kind, data)`` is called with ``("status", document)`` for the first status
and each one whose ``status``/``display_status`` differs from the last, and with
``("log", entry)`` for each log entry not reported before (the log is read after each
status, so a run's last entries arrive before ``wait`` returns). Each poll reads the
log from the marker of the last page the previous poll read, skipping the entries of
that page already told, so a long log is not read again from its start every poll. Under the async
driver an ``async def`` callback is awaited; a plain one is called inline, so it
should be quick (it runs on the event loop thread).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Literal, Mapping, Union

from ..errors import AutomateAPIError, UsageError
from .ops import Op
from .paging import PollSettings, poll_op
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
    log_page: Callable[[str | None], Op[APIResponse]] | None,
    items_key: str = "entries",
) -> Op[APIResponse]:
    """:func:`~automate_lite._core.paging.poll_op`, reporting new statuses and log entries.

    ``log_page(marker)`` is the operation for one page of the log (``None``: the first).
    """
    if on_update is None:
        return poll_op(fetch, finished, settings, what)
    report = on_update
    last: list[tuple[object, object]] = []
    logs = [log_page]
    # Where the next poll starts: the marker of the last page read, and how many
    # entries of that page were told already.
    resume: list[Any] = [None, 0]

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
        page_op = logs[0]
        if page_op is not None:
            try:
                entries = yield from _new_entries(page_op, items_key, resume)
            except AutomateAPIError:
                # No log here (a provider without log support, or no right to it):
                # keep reporting statuses and stop asking.
                logs[0] = None
                entries = []
            for entry in entries:
                if isinstance(entry, dict):
                    yield from tell("log", entry)
        if last[0] != key:
            last[:] = [key]
            yield from tell("status", data)
        return doc

    return poll_op(fetch_and_report, finished, settings, what)


def _new_entries(page_op: Callable[[str | None], Op[APIResponse]], items_key: str,
                 resume: list[Any]) -> Op[list[Any]]:
    """The entries after those already told, reading from ``resume = [marker, told]``
    (updated to the last page read). A marker seen twice ends the walk."""
    marker, told = resume
    found: list[Any] = []
    seen: set[str] = set()
    while True:
        page = yield from page_op(marker)
        data = page.data if isinstance(page.data, dict) else {}
        items = data.get(items_key)
        items = items if isinstance(items, list) else []
        found.extend(items[told:])
        nxt = data.get("marker")
        more = isinstance(nxt, str) and bool(nxt) and nxt not in seen and nxt != marker
        if "has_next_page" in data:
            more = more and bool(data.get("has_next_page"))
        if not more or not isinstance(nxt, str):
            resume[:] = [marker, max(told, len(items))]
            return found
        seen.add(nxt)
        marker, told = nxt, 0
