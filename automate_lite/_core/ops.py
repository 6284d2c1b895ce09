"""Operations as generators, and the two drivers that run them.

An operation (``Op[T]``) is a generator that yields :class:`Request`, :class:`Sleep` or
:class:`Call` instructions, receives what they produce (a :class:`Response`, ``None``,
the call's result), and finally returns a ``T``. It never touches a socket or a clock
itself, so the same code serves the sync and the async clients, and a test can step it
by hand::

    op = status_op(ctx, "abc")
    req = next(op)                        # the Request it wants sent
    op.send(Response(200, {}, b"{...}"))  # StopIteration.value is the result

A transport failure is thrown into the operation (``op.throw(exc)``) so that retry
policy lives here, once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Awaitable, Coroutine, Generator, Protocol, TypeVar

from ..errors import TransportError
from .values import Call, Instruction, Request, Response, Sleep

if TYPE_CHECKING:
    from typing_extensions import Self, TypeAlias

T = TypeVar("T")

#: An operation that, once driven, produces a ``T``.
Op: TypeAlias = Generator[Instruction, Any, T]


class SyncTransport(Protocol):
    """Sends one request and returns the response; raises ``TransportError`` subclasses."""

    def send(self, request: Request, timeout: float | None) -> Response:
        """Send ``request``, waiting at most ``timeout`` seconds for each network step."""
        ...


class AsyncTransport(Protocol):
    """The async twin of :class:`SyncTransport`."""

    def send(self, request: Request, timeout: float | None) -> Awaitable[Response]:
        """Send ``request``, waiting at most ``timeout`` seconds for each network step."""
        ...


def run_sync(op: Op[T], transport: SyncTransport, timeout: float | None = None) -> T:
    """Drive ``op`` to completion with a blocking ``transport``."""
    send = transport.send
    value: Any = None
    exc: BaseException | None = None
    try:
        while True:
            # Only the operation's own StopIteration means "done": one escaping a
            # transport or an authorizer must not pass for a result of None.
            try:
                instr = op.send(value) if exc is None else op.throw(exc)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            exc = None
            if type(instr) is Request:
                try:
                    value = send(instr, timeout)
                except TransportError as e:
                    exc, value = e, None
            elif type(instr) is Call:
                value = instr.fn()
            elif type(instr) is Sleep:
                time.sleep(instr.seconds)
                value = None
            else:  # pragma: no cover - a bug in an operation
                raise TypeError(f"an operation yielded {instr!r}")
    finally:
        op.close()


async def run_async(op: Op[T], transport: AsyncTransport, timeout: float | None = None) -> T:
    """Drive ``op`` to completion with an async ``transport``.

    A blocking :class:`Call` (an authorizer that may refresh a token over the network)
    runs in a worker thread so the event loop never blocks.
    """
    send = transport.send
    value: Any = None
    exc: BaseException | None = None
    try:
        while True:
            # Only the operation's own StopIteration means "done": one escaping a
            # transport or an authorizer must not pass for a result of None.
            try:
                instr = op.send(value) if exc is None else op.throw(exc)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            exc = None
            if type(instr) is Request:
                try:
                    value = await send(instr, timeout)
                except TransportError as e:
                    exc, value = e, None
            elif type(instr) is Call:
                if instr.blocking:
                    import asyncio  # not on the import path of `import automate_lite`

                    value = await asyncio.to_thread(instr.fn)
                else:
                    value = instr.fn()
            elif type(instr) is Sleep:
                import asyncio

                await asyncio.sleep(instr.seconds)
                value = None
            else:  # pragma: no cover - a bug in an operation
                raise TypeError(f"an operation yielded {instr!r}")
    finally:
        op.close()



class SyncDriven:
    """What every blocking client does with its ``transport``: make the default one,
    drive operations with :func:`run_sync`, and close it (also as a context manager)."""

    __slots__ = ()
    transport: SyncTransport
    http_timeout: float | None

    @staticmethod
    def _default_transport() -> SyncTransport:
        from ..transports.urllib3 import Urllib3Transport

        return Urllib3Transport()

    def _run(self, op: Op[Any]) -> Any:
        return run_sync(op, self.transport, self.http_timeout)

    def close(self) -> None:
        """Close the transport's connections (shared with clients made by ``replace``)."""
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncDriven:
    """The async twin of :class:`SyncDriven`: :func:`run_async`, ``aclose`` and
    ``async with``."""

    __slots__ = ()
    transport: AsyncTransport
    http_timeout: float | None

    @staticmethod
    def _default_transport() -> AsyncTransport:
        from ..transports.aio import AsyncioTransport

        return AsyncioTransport()

    def _run(self, op: Op[Any]) -> Coroutine[Any, Any, Any]:
        # A plain function handing back the driver's coroutine: the method awaits it
        # directly, one coroutine frame fewer on every resumption of every request.
        return run_async(op, self.transport, self.http_timeout)

    async def aclose(self) -> None:
        """Close the transport (shared with clients made by ``replace``)."""
        aclose = getattr(self.transport, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
