"""Transports: how requests reach the network.

A sync transport has ``send(request, timeout) -> Response``; an async one has
``async send(request, timeout) -> Response``. Both turn their library's exceptions
into :class:`~automate_lite.errors.TransportError` subclasses and never look at a status
code: retry policy lives in the sans-IO core.

- :class:`Urllib3Transport` (sync, built in): one shared, thread-safe urllib3 pool.
- :class:`AsyncioTransport` (the async default, built in, stdlib only): HTTP/1.1
  keep-alive over asyncio itself, with no threads, bounded per host.
- :class:`ThreadedAsyncTransport` (built in): a :class:`Urllib3Transport` in a bounded
  pool of worker threads, for code that wants urllib3's behaviour under asyncio.
- ``automate_lite.transports.aiohttp.AiohttpTransport`` and
  ``automate_lite.transports.httpx.HttpxTransport`` wrap the caller's own session
  (extras ``aiohttp`` / ``httpx``); they are imported only from their own modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .urllib3 import Urllib3Transport

if TYPE_CHECKING:
    from .aio import AsyncioTransport
    from .threaded import ThreadedAsyncTransport

__all__ = ["Urllib3Transport", "AsyncioTransport", "ThreadedAsyncTransport"]


def __getattr__(name: str) -> Any:
    # The async transports import asyncio (and concurrent.futures); keep that off the
    # path of `import automate_lite` until someone asks for them.
    if name == "AsyncioTransport":
        from .aio import AsyncioTransport

        return AsyncioTransport
    if name == "ThreadedAsyncTransport":
        from .threaded import ThreadedAsyncTransport

        return ThreadedAsyncTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
