"""Call the same method on a sync or an async client, so one test covers both."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


class Driver:
    """``drive("name", *args)`` calls ``client.name(*args)``; awaited for async clients."""

    def __init__(self, client: Any, is_async: bool) -> None:
        self.client = client
        self.is_async = is_async

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        if self.is_async and inspect.isawaitable(result):
            return asyncio.run(_await(result))
        return result

    def collect(self, name: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Everything an ``iter_*`` method yields, as a list."""
        it = getattr(self.client, name)(*args, **kwargs)
        if not self.is_async:
            return list(it)

        async def gather() -> list[Any]:
            return [x async for x in it]

        return asyncio.run(gather())

    def close(self) -> None:
        if self.is_async:
            asyncio.run(self.client.aclose())
        else:
            self.client.close()


async def _await(awaitable: Any) -> Any:
    return await awaitable
