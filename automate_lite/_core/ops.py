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
from typing import TYPE_CHECKING, Any, Awaitable, Generator, Protocol, TypeVar

from ..errors import DeadlineExceeded, TransportError
from .values import Call, Instruction, Request, Response, Sleep

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

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


def _cut(timeout: float | None, deadline: float) -> float:
    """``timeout`` cut to what remains before ``deadline``; DeadlineExceeded if nothing does."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("the deadline passed before the request was sent")
    return remaining if timeout is None or remaining < timeout else timeout


def run_sync(op: Op[T], transport: SyncTransport, timeout: float | None = None) -> T:
    """Drive ``op`` to completion with a blocking ``transport``.

    A :class:`Request` with a ``deadline`` is sent with ``timeout`` cut to what remains
    of it (the transport may cut each read too); past it, ``DeadlineExceeded`` is thrown
    into the operation instead.
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
                result: T = stop.value
                return result
            # The value sent is dropped at once: it may be a token an authorizer returned,
            # which a traceback printing locals would otherwise show.
            exc = value = None
            if type(instr) is Request:
                try:
                    deadline = instr.deadline
                    value = send(instr, timeout if deadline is None else _cut(timeout, deadline))
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
    runs in a worker thread so the event loop never blocks. A :class:`Request` with a
    ``deadline`` is cancelled if it is still under way when the deadline passes.
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
                result: T = stop.value
                return result
            exc = value = None  # as in run_sync
            if type(instr) is Request:
                try:
                    deadline = instr.deadline
                    if deadline is None:
                        value = await send(instr, timeout)
                    else:
                        # An overlong send is cancelled at the deadline, whatever the
                        # transport's own timeouts (a server may trickle bytes).
                        import asyncio

                        limit = _cut(timeout, deadline)
                        try:
                            value = await asyncio.wait_for(send(instr, limit), deadline - time.monotonic())
                        except asyncio.TimeoutError:
                            raise DeadlineExceeded("the request was cancelled at the deadline") from None
                except TransportError as e:
                    exc, value = e, None
            elif type(instr) is Call:
                if instr.blocking:
                    import asyncio  # not on the import path of `import automate_lite`

                    value = await asyncio.to_thread(instr.fn)
                else:
                    value = instr.fn()
                    # An inline call may be a caller's async callback (wait's on_update).
                    if hasattr(value, "__await__"):
                        value = await value
            elif type(instr) is Sleep:
                import asyncio

                await asyncio.sleep(instr.seconds)
                value = None
            else:  # pragma: no cover - a bug in an operation
                raise TypeError(f"an operation yielded {instr!r}")
    finally:
        op.close()
