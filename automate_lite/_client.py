"""What every client shares: the default transports, closing, replacing, pickling,
and the request escape hatch, once for the blocking and once for the async clients.

This is the client layer, so it (not the sans-IO core) chooses the default
transports: :class:`~automate_lite.transports.Urllib3Transport` for the blocking
clients, :class:`~automate_lite.transports.AsyncioTransport` for the async ones, each
imported when the first client that needs it is made.
"""

from __future__ import annotations

import sys
import contextlib
import dataclasses
from typing import TYPE_CHECKING, Any, Generic, Iterator, TypeVar

from ._core.baseops import BaseOps
from ._core.bind import AsyncDriven, SyncDriven, bound
from ._core.config import check_authorizer
from ._core.http import Authorizer
from ._core.ops import AsyncTransport, SyncTransport
from .errors import UsageError

if TYPE_CHECKING:
    from typing_extensions import Self
elif sys.version_info >= (3, 11):
    from typing import Self  # so typing.get_type_hints resolves ``Self`` at run time

__all__ = ["SyncClient", "AsyncClient", "default_sync_transport", "default_async_transport", "DEFAULT_TRANSPORT",
           "TransportT", "settle_transport"]

#: The transport type of a client family: :class:`SyncTransport` or :class:`AsyncTransport`.
TransportT = TypeVar("TransportT", SyncTransport, AsyncTransport)


def default_sync_transport(verify: bool | None = None, ca_certs: str | None = None) -> SyncTransport:
    """A new :class:`~automate_lite.transports.Urllib3Transport` (the blocking default)."""
    from .transports.urllib3 import Urllib3Transport

    return Urllib3Transport(verify=verify, ca_certs=ca_certs)


def default_async_transport(verify: bool | None = None, ca_certs: str | None = None) -> AsyncTransport:
    """A new :class:`~automate_lite.transports.AsyncioTransport` (the async default)."""
    from .transports.aio import AsyncioTransport

    return AsyncioTransport(verify=verify, ca_certs=ca_certs)


class _DefaultTransport:
    """The ``transport`` a caller did not give: each client makes its own default in
    ``__post_init__`` (so ``transport_params={"verify_ssl": ...}`` can shape it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFAULT_TRANSPORT"


#: The default of every client's ``transport`` field: "make the family's default transport".
DEFAULT_TRANSPORT: Any = _DefaultTransport()


def settle_transport(client: object, verify: bool | None, ca_certs: str | None) -> None:
    """Give ``client`` its default transport if it was given none (with ``verify``/``ca_certs``
    from the original SDK's ``transport_params``); refuse those beside the caller's own transport."""
    if getattr(client, "transport") is DEFAULT_TRANSPORT:
        make = default_async_transport if isinstance(client, AsyncClient) else default_sync_transport
        object.__setattr__(client, "transport", make(verify, ca_certs))
    elif verify is not None or ca_certs is not None:
        raise UsageError(
            "transport_params={'verify_ssl': ...} shapes the default transport, and a transport= was given too; "
            "pass verify= (or ca_certs=) to your transport instead, e.g. Urllib3Transport(verify=False)"
        )


def _rebuild(cls: type[Any], kwargs: dict[str, Any]) -> Any:
    return cls(**kwargs)


# The fields a user supplies that pickle may fail on; named in the error, so the
# caller knows which one to change (a transport pickles as a fresh pool).
_USER_OBJECTS = ("authorizer", "authorizer_callback", "auth_requirements_handler", "transport")


class _Client:
    """The part of every client that does no I/O (the dataclass fields live on each client)."""

    __slots__ = ()
    _ops: BaseOps
    http_timeout: float | None

    # The escape hatch, for routes not wrapped: bound once for both families.
    request = bound(BaseOps.request)
    get = bound(BaseOps.get)
    post = bound(BaseOps.post)
    put = bound(BaseOps.put)
    patch = bound(BaseOps.patch)
    delete = bound(BaseOps.delete)

    def replace(self, /, **changes: Any) -> Self:
        """A new client with ``changes`` to its fields, checked again (``dataclasses.replace``).

        It shares this client's transport (and so its connection pool) unless
        ``transport=`` is among the changes.
        """
        names = {f.name for f in dataclasses.fields(self) if f.init}  # type: ignore[arg-type]
        unknown = sorted(set(changes) - names)
        if unknown:
            raise UsageError(f"{type(self).__name__} has no field(s) {unknown}; it has {sorted(names)}")
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def __replace__(self, /, **changes: Any) -> Self:
        return self.replace(**changes)

    @contextlib.contextmanager
    def use_temporary_authorizer(self, authorizer: Authorizer) -> Iterator[Self]:
        """``with client.use_temporary_authorizer(a) as c:``: ``c`` is this client with ``a``.

        The original SDK swapped the authorizer of the shared client for the block;
        clients here are immutable, so the block gets a new client instead and this
        one (and every thread using it) keeps its own authorizer.
        """
        yield self.replace(authorizer=check_authorizer(authorizer))

    def _init_kwargs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}  # type: ignore[arg-type]

    def __reduce__(self) -> tuple[Any, ...]:
        import pickle

        kwargs = self._init_kwargs()
        for name in _USER_OBJECTS:
            value = kwargs.get(name)
            if value is None:
                continue
            try:
                pickle.dumps(value)
            except Exception as e:  # any failure of the user's object: say which one
                raise TypeError(
                    f"cannot pickle this {type(self).__name__}: its {name} ({type(value).__qualname__}) "
                    f"cannot be pickled ({type(e).__name__}); pass a picklable {name} (a globus_sdk "
                    "authorizer, automate_lite.BearerTokenAuthorizer, a module-level function), "
                    "or make the client in each process"
                ) from None
        return (_rebuild, (type(self), kwargs))


class SyncClient(_Client, SyncDriven):
    """Blocking driving: ``close()`` and ``with``; the escape hatch runs with :func:`run_sync`."""

    __slots__ = ()
    transport: SyncTransport

    def close(self) -> None:
        """Close the transport's connections (shared with clients made by ``replace``)."""
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Client, AsyncDriven):
    """Async driving: ``aclose()`` and ``async with``; the escape hatch is awaited."""

    __slots__ = ()
    transport: AsyncTransport

    async def aclose(self) -> None:
        """Close the transport (shared with clients made by ``replace``)."""
        aclose = getattr(self.transport, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
