"""Turn an operation into a client method, once, keeping its signature.

A route is written once, as an operation method of an ops class
(``ActionOps.status(self, action_id) -> Op[APIResponse]``), and bound once, for both
families, in a line of the class both clients share::

    class _ActionFields(...):
        status = bound(ActionOps.status)

    class ActionClient(SyncClient, _ActionFields): ...        # def status(self, action_id) -> APIResponse
    class AsyncActionClient(AsyncClient, _ActionFields): ...  # async def status(self, action_id) -> APIResponse

:class:`bound` (and :class:`bound_iter` for the ``iter_*`` walks) is a descriptor
whose ``__get__`` is overloaded on the family (:class:`SyncDriven` or
:class:`AsyncDriven`), so a type checker sees the blocking method on one client and
the awaitable one on the other. At run time no descriptor is left on a client: when a
client class is made, :meth:`SyncDriven.__init_subclass__` (or the async one) puts the
family's plain function in its place (made by :func:`sync_method` / :func:`async_method`),
so a call costs what a plain method call costs and ``inspect`` sees a function.

The binders are typed with :class:`typing.ParamSpec`, so a type checker sees the
operation's exact parameters on the client (a misspelt keyword is an error), and they
give the made function the operation's ``__signature__``, ``__doc__`` and annotations,
so ``help()``, ``inspect.signature`` and ``typing.get_type_hints`` show the same.

A bound method calls ``self._ops.<operation>(...)`` and drives the result with the
client's ``transport`` and ``http_timeout``: nothing here knows a transport or a client
class, only those three attributes.
"""

from __future__ import annotations

import inspect
from typing import (Any, AsyncIterator, Callable, Concatenate, Coroutine, Generic, Iterator, ParamSpec, TypeVar,
                    overload)

from .ops import Op, run_async, run_sync
from .paging import Pager

__all__ = ["sync_method", "async_method", "sync_iter", "async_iter", "paged", "BOUND_OP", "bound", "bound_iter",
           "SyncDriven", "AsyncDriven"]

P = ParamSpec("P")
T = TypeVar("T")

#: The attribute of a made method naming the operation it runs.
BOUND_OP = "__bound_op__"


def _result_annotation(annotation: Any) -> Any:
    """``Op[X]`` becomes ``X`` (string annotations, as ``from __future__`` makes them)."""
    if isinstance(annotation, str) and annotation.startswith("Op[") and annotation.endswith("]"):
        return annotation[3:-1]
    return annotation


_SIGNATURES: dict[Callable[..., Any], inspect.Signature] = {}


def _signature(op: Callable[..., Any]) -> inspect.Signature:
    """``inspect.signature(op)``, worked out once per operation: each operation is bound
    for both families (and some for two clients), and building a signature is most of
    what binding costs at import."""
    sig = _SIGNATURES.get(op)
    if sig is None:
        sig = _SIGNATURES[op] = inspect.signature(op)
    return sig


def _dress(method: Callable[..., Any], op: Callable[..., Any], returns: Any) -> None:
    sig = _signature(op)
    returns = _result_annotation(sig.return_annotation) if returns is None else returns
    for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
        # __qualname__ is the operation's until the owning class fixes it (dress_class).
        setattr(method, attr, getattr(op, attr))
    setattr(method, "__annotations__", {**getattr(op, "__annotations__", {}), "return": returns})
    setattr(method, "__signature__", sig.replace(return_annotation=returns))
    # typing.get_type_hints follows __wrapped__ to find the globals the annotations
    # name; inspect.signature stops at __signature__ first.
    setattr(method, "__wrapped__", op)
    setattr(method, BOUND_OP, op)


C = TypeVar("C", bound=type)


def dress_class(cls: C) -> C:
    """Class decorator: give the methods made by the binders their name in ``cls``."""
    for name, member in vars(cls).items():
        if hasattr(member, BOUND_OP):
            setattr(member, "__name__", name)
            setattr(member, "__qualname__", f"{cls.__qualname__}.{name}")
    return cls


def sync_method(op: Callable[Concatenate[Any, P], Op[T]]) -> Callable[Concatenate[Any, P], T]:
    """A blocking client method that runs ``op`` with :func:`run_sync`."""

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(op(self._ops, *args, **kwargs), self.transport, self.http_timeout)

    _dress(method, op, None)
    return method


def async_method(op: Callable[Concatenate[Any, P], Op[T]]) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """An async client method that runs ``op`` with :func:`run_async`."""

    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await run_async(op(self._ops, *args, **kwargs), self.transport, self.http_timeout)

    _dress(method, op, None)
    return method


def sync_iter(pager_op: Callable[Concatenate[Any, P], Pager]) -> Callable[Concatenate[Any, P], Iterator[dict[str, Any]]]:
    """A blocking client method yielding every item of the pages ``pager_op`` walks.

    The arguments are checked when the method is called, before the first page is
    fetched (the pager is made eagerly; the pages lazily).
    """

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[dict[str, Any]]:
        return _walk(pager_op(self._ops, *args, **kwargs), self)

    _dress(method, pager_op, Iterator[dict[str, Any]])
    return method


def _walk(pager: Pager, client: Any) -> Iterator[Any]:
    while not pager.done:
        yield from pager.items(run_sync(pager.next_page(), client.transport, client.http_timeout))


def async_iter(pager_op: Callable[Concatenate[Any, P], Pager]) -> Callable[Concatenate[Any, P], AsyncIterator[dict[str, Any]]]:
    """The async twin of :func:`sync_iter` (``async for item in client.iter_...()``)."""

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[dict[str, Any]]:
        return _awalk(pager_op(self._ops, *args, **kwargs), self)

    _dress(method, pager_op, AsyncIterator[dict[str, Any]])
    return method


async def _awalk(pager: Pager, client: Any) -> AsyncIterator[Any]:
    while not pager.done:
        for item in pager.items(await run_async(pager.next_page(), client.transport, client.http_timeout)):
            yield item


def paged(list_op: Callable[Concatenate[Any, P], Op[Any]], items_key: str) -> Callable[Concatenate[Any, P], Pager]:
    """An ops method making a :class:`Pager` over ``list_op``, with ``list_op``'s signature.

    ``list_op`` must take ``marker``; a ``marker`` the caller gives is where the walk
    starts, and each later page asks for the marker the previous page returned.
    """
    sig = _signature(list_op)
    if "marker" not in sig.parameters:  # pragma: no cover - a bug in an ops class
        raise TypeError(f"{list_op.__qualname__} takes no marker; it cannot be paged")

    def pager(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> Pager:
        # Build the first page's operation now: it checks every argument before
        # anything is sent, and raises here rather than on the first next().
        list_op(self, *args, **kwargs).close()
        bound = sig.bind(self, *args, **kwargs)
        start = bound.arguments.get("marker")

        def page(marker: str | None) -> Op[Any]:
            bound.arguments["marker"] = marker if marker is not None else start
            return list_op(*bound.args, **bound.kwargs)

        return Pager(page, items_key)

    _dress(pager, list_op, Pager)
    setattr(pager, "__doc__", f"Every item of the pages of :meth:`{list_op.__name__}` (same arguments), page after page; "
            f"the page key is ``{items_key}``. {list_op.__doc__ or ''}".strip())
    return pager


class bound(Generic[P, T]):
    """One operation bound for both client families (see the module docstring)."""

    __slots__ = ("op", "sync", "async_")

    def __init__(self, op: Callable[Concatenate[Any, P], Op[T]]) -> None:
        self.op = op
        self.sync: Callable[..., Any] = sync_method(op)
        self.async_: Callable[..., Any] = async_method(op)

    @overload
    def __get__(self, obj: SyncDriven, owner: type[Any] | None = None) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: AsyncDriven, owner: type[Any] | None = None) -> Callable[P, Coroutine[Any, Any, T]]: ...
    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> bound[P, T]: ...

    def __get__(self, obj: object, owner: type[Any] | None = None) -> Any:
        # Reached only on a class that is neither family (the shared base itself).
        return self


class bound_iter(Generic[P]):
    """A pager operation bound for both families: an iterator, or an async iterator."""

    __slots__ = ("op", "sync", "async_")

    def __init__(self, pager_op: Callable[Concatenate[Any, P], Pager]) -> None:
        self.op = pager_op
        self.sync: Callable[..., Any] = sync_iter(pager_op)
        self.async_: Callable[..., Any] = async_iter(pager_op)

    @overload
    def __get__(self, obj: SyncDriven, owner: type[Any] | None = None) -> Callable[P, Iterator[dict[str, Any]]]: ...
    @overload
    def __get__(self, obj: AsyncDriven,
                owner: type[Any] | None = None) -> Callable[P, AsyncIterator[dict[str, Any]]]: ...
    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> bound_iter[P]: ...

    def __get__(self, obj: object, owner: type[Any] | None = None) -> Any:
        return self


def _install(cls: type, family: str) -> None:
    """Replace each :class:`bound`/:class:`bound_iter` ``cls`` reaches by ``family``'s function."""
    # The class dicts along the MRO, nearest first (no dir()/getattr_static: this runs
    # for every client class made, on the import path of the clients).
    resolved: set[str] = set()
    for klass in cls.__mro__:
        for name, member in vars(klass).items():
            if name in resolved:
                continue
            resolved.add(name)
            if isinstance(member, (bound, bound_iter)):
                method = getattr(member, family)
                method.__name__ = name
                method.__qualname__ = f"{cls.__qualname__}.{name}"
                setattr(cls, name, method)


class SyncDriven:
    """Marks the blocking clients: their bound operations run with :func:`run_sync`."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _install(cls, "sync")


class AsyncDriven:
    """Marks the async clients: their bound operations run with :func:`run_async`."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _install(cls, "async_")
