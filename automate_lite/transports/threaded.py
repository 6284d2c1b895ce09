"""The async default transport: urllib3 in a bounded pool of worker threads.

It needs no package beyond the runtime requirements and never blocks the event loop.
At most ``max_concurrency`` requests are on the wire at once; more simply wait their
turn. Cancelling the awaiting task does not tear the connection down mid-request:
the worker finishes, the connection goes back to the pool, the result is dropped.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from .._core.values import Request, Response
from ..errors import UsageError
from ._network import rebuild
from .urllib3 import Urllib3Transport

__all__ = ["ThreadedAsyncTransport"]


class ThreadedAsyncTransport:
    """Async transport that runs a :class:`Urllib3Transport` in worker threads.

    ``max_concurrency`` bounds the threads and the pool size alike, so no request
    waits for a connection while holding a thread. Pass ``sync_transport`` to share
    an existing pool (its ``maxsize`` should then be at least ``max_concurrency``).
    Other keyword arguments (``verify``, ``max_response_bytes``...) go to the
    :class:`Urllib3Transport`. Pickles like it: the copy has fresh pools and no threads.
    """

    def __init__(self, *, max_concurrency: int = 32, sync_transport: Urllib3Transport | None = None, **urllib3_options: object) -> None:
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise UsageError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
        self.max_concurrency = max_concurrency
        if sync_transport is None:
            urllib3_options.setdefault("maxsize", max_concurrency)
            sync_transport = Urllib3Transport(**urllib3_options)  # type: ignore[arg-type]
        self.sync_transport = sync_transport
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[object, ...]:
        # The worker threads stay behind; the copy makes its own on first use.
        return rebuild, (type(self), {"max_concurrency": self.max_concurrency, "sync_transport": self.sync_transport})

    def __repr__(self) -> str:
        return f"ThreadedAsyncTransport(max_concurrency={self.max_concurrency})"

    def _pool(self) -> ThreadPoolExecutor:
        # Made on first use so that building a client starts no threads.
        ex = self._executor
        if ex is None:
            with self._lock:
                ex = self._executor
                if ex is None:
                    ex = self._executor = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="automate-lite")
        return ex

    async def send(self, request: Request, timeout: float | None) -> Response:
        """Send ``request`` in a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), self.sync_transport.send, request, timeout)

    def close(self) -> None:
        """Stop the worker threads (after in-flight requests) and close connections."""
        with self._lock:
            ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=True)
        self.sync_transport.close()

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop."""
        await asyncio.to_thread(self.close)
