"""Paging and polling, sans-IO: the sync and async clients only loop over these.

Loaded with the clients (not by ``import automate_lite``), so :class:`PollSettings` is a
plain frozen dataclass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..errors import UnexpectedResponseError, UsageError, WaitTimeout
from .ops import Op
from .response import APIResponse
from .values import Sleep

__all__ = ["Pager", "poll_op", "check_poll_args"]


class Pager:
    """Walks a marker-paged listing one page at a time.

    ``page_op(marker)`` builds the operation for one page (``marker=None`` for the
    first). A page is ``{items_key: [...], "has_next_page": bool, "marker": str|null}``;
    the pager follows ``marker`` while ``has_next_page`` is true, or, for listings
    without ``has_next_page``, while the marker is not null. A marker seen twice
    stops the walk rather than looping forever on a misbehaving server, and so does a
    run of ``max_empty_pages`` pages with new markers but no items (an error saying so).
    """

    #: Consecutive item-less pages that still promise more before the walk gives up.
    max_empty_pages = 100

    def __init__(self, page_op: Callable[[str | None], Op[APIResponse]], items_key: str) -> None:
        self._page_op = page_op
        self.items_key = items_key
        self._marker: str | None = None
        self._seen: set[str] = set()
        self._empty = 0
        self.done = False

    def next_page(self) -> Op[APIResponse]:
        """The operation for the next page; feed its result to :meth:`items`."""
        if self.done:
            raise UsageError("this listing has no more pages")
        page = yield from self._page_op(self._marker)
        data = page.data if isinstance(page.data, dict) else {}
        marker = data.get("marker")
        if "has_next_page" in data:
            more = bool(data.get("has_next_page")) and isinstance(marker, str) and bool(marker)
        else:
            more = isinstance(marker, str) and bool(marker)
        self._empty = 0 if self.items(page) else self._empty + 1
        if more and self._empty >= self.max_empty_pages:
            self.done = True
            raise UnexpectedResponseError(
                page.http_status,
                "EndlessPaging",
                [f"{self._empty} pages in a row had no {self.items_key!r} but a new marker; stopped "
                 "paging (the service may be misbehaving): narrow the listing or try again later"],
                raw_json=page.data,
            )
        if more and isinstance(marker, str) and marker not in self._seen:
            self._seen.add(marker)
            self._marker = marker
        else:
            self.done = True
        return page

    def items(self, page: APIResponse) -> Sequence[Any]:
        """The items of ``page`` (a bare JSON list is its own items)."""
        data = page.data
        if isinstance(data, list):
            return data
        if isinstance(data, dict):
            found = data.get(self.items_key)
            if isinstance(found, list):
                return found
        return []


@dataclass(frozen=True, slots=True)
class PollSettings:
    """How :func:`poll_op` waits: the first delay doubles up to ``max_delay``."""

    timeout: float | None
    initial_delay: float
    max_delay: float


def check_poll_args(timeout: float | None, initial_delay: float, max_delay: float) -> PollSettings:
    """Validate polling arguments (before anything is sent)."""
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
        raise UsageError(f"timeout must be a number of seconds >= 0 or None (wait forever), got {timeout!r}")
    if not isinstance(initial_delay, (int, float)) or initial_delay <= 0:
        raise UsageError(f"initial_delay must be a number of seconds > 0, got {initial_delay!r}")
    if not isinstance(max_delay, (int, float)) or max_delay < initial_delay:
        raise UsageError(f"max_delay must be a number of seconds >= initial_delay, got {max_delay!r}")
    return PollSettings(None if timeout is None else float(timeout), float(initial_delay), float(max_delay))


def poll_op(
    fetch: Callable[[], Op[APIResponse]],
    finished: Callable[[APIResponse], bool],
    settings: PollSettings,
    what: str,
    clock: Callable[[], float] = time.monotonic,
) -> Op[APIResponse]:
    """Fetch until ``finished(doc)``, sleeping with back-off; return the last document.

    Raises :class:`WaitTimeout` (holding the last document) when ``settings.timeout``
    runs out first.
    """
    deadline = None if settings.timeout is None else clock() + settings.timeout
    delay = settings.initial_delay
    while True:
        doc = yield from fetch()
        if finished(doc):
            return doc
        now = clock()
        if deadline is not None and now >= deadline:
            status = doc.get("status") if isinstance(doc.data, dict) else None
            raise WaitTimeout(
                f"{what} was still {status or 'unfinished'} after {settings.timeout:g}s; "
                "wait longer (timeout=...) or check on it later",
                last=doc,
            )
        pause = delay if deadline is None else min(delay, max(0.0, deadline - now))
        yield Sleep(pause)
        delay = min(delay * 2, settings.max_delay)
